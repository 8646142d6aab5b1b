/*
 * hello.c - the smallest program: one line on the console, exit 0.
 *
 * It targets the default board. HELLO_CONSOLE_UART=1 (the default) prints through the
 * PL011 UART0, the board's console; 0 prints by semihosting
 * so that it also runs before the UART model exists and on the core-only
 * board.
 */
#include "rt.h"

#ifndef HELLO_CONSOLE_UART
#define HELLO_CONSOLE_UART 1
#endif

int main(void)
{
    if (!HELLO_CONSOLE_UART)
        rt_console_semihost();
    rt_puts("Hello from vmstress\n");
    return 0;
}
