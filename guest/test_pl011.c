/* test_pl011.c - runs the pl011 driver's self-test; exit code 0 on pass. */
#include "pl011.h"
#include "rt.h"

int main(void)
{
    /* The console is this UART: the self-test enables it, then prints. */
    return pl011_selftest();
}
