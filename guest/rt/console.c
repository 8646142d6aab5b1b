/*
 * console.c - console output (UART0 or semihosting), rt_printf, rt_exit.
 */
#include <stdarg.h>

#include "rt.h"

#define PL011_DR 0x000u
#define PL011_FR 0x018u
#define PL011_FR_TXFF (1u << 5)
#define PL011_CR 0x030u
#define PL011_CR_ON 0x301u     /* UARTEN | TXE | RXE */

/* Zero (UART) after start-up clears .bss; programs switch in main. */
static int rt_use_semihost;
/* The UART is switched on at its first use, not at start-up, so programs
 * for the core-only board (no UART there) never touch its address. */
static int rt_uart_on;

void rt_console_semihost(void) { rt_use_semihost = 1; }
void rt_console_uart(void) { rt_use_semihost = 0; }

void rt_putc(char c)
{
    if (rt_use_semihost) {
        char ch = c;
        rt_semihost(SEMIHOST_SYS_WRITEC, (uint32_t)&ch);
        return;
    }
    if (!rt_uart_on) {
        mmio_write32(UART0_BASE + PL011_CR, PL011_CR_ON);
        rt_uart_on = 1;
    }
    while (mmio_read32(UART0_BASE + PL011_FR) & PL011_FR_TXFF)
        ;
    mmio_write32(UART0_BASE + PL011_DR, (uint8_t)c);
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

/* Digits of v in `base`, at least `width` of them (zero-padded). */
static void put_unsigned(uint32_t v, unsigned base, unsigned width)
{
    char buf[12];
    unsigned n = 0;
    do {
        unsigned d = v % base;
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v && n < sizeof(buf));
    while (n < width && n < sizeof(buf))
        buf[n++] = '0';
    while (n)
        rt_putc(buf[--n]);
}

void rt_print_hex(uint32_t v) { put_unsigned(v, 16, 8); }
void rt_print_udec(uint32_t v) { put_unsigned(v, 10, 1); }

void rt_print_dec(int32_t v)
{
    if (v < 0) {
        rt_putc('-');
        put_unsigned(0u - (uint32_t)v, 10, 1);
    } else {
        put_unsigned((uint32_t)v, 10, 1);
    }
}

int rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            rt_putc(*p);
            continue;
        }
        unsigned width = 0;
        p++;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (unsigned)(*p++ - '0');
        switch (*p) {
        case 'd': {
            int32_t v = va_arg(ap, int);
            if (v < 0) {
                rt_putc('-');
                put_unsigned(0u - (uint32_t)v, 10, width ? width - 1 : 1);
            } else {
                put_unsigned((uint32_t)v, 10, width);
            }
            break;
        }
        case 'u': put_unsigned(va_arg(ap, unsigned), 10, width); break;
        case 'x': put_unsigned(va_arg(ap, unsigned), 16, width); break;
        case 's': rt_puts(va_arg(ap, const char *)); break;
        case 'c': rt_putc((char)va_arg(ap, int)); break;
        case '%': rt_putc('%'); break;
        case '\0': p--; break;      /* lone '%' at the end */
        default: rt_putc('%'); rt_putc(*p); break;
        }
    }
    va_end(ap);
    return 0;
}

void rt_exit(int code)
{
    if (code == 0) {
        rt_semihost(SEMIHOST_SYS_EXIT, SEMIHOST_ADP_APPLICATION_EXIT);
    } else {
        /* Extended form: r1 points at {reason, subcode}; subcode is the status. */
        volatile uint32_t block[2] = { SEMIHOST_ADP_APPLICATION_EXIT, (uint32_t)code };
        rt_semihost(SEMIHOST_SYS_EXIT_EXTENDED, (uint32_t)block);
    }
    /* A host without semihosting treats BKPT as a debug event; stay put. */
    for (;;)
        __asm__ volatile("wfi");
}
