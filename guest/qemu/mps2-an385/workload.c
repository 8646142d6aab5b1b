/*
 * mps2-an385 workload: drives the devices of QEMU's mps2-an385 a guest can
 * reach without external input: CMSDK APB UART0 transmit, CMSDK timers 0
 * and 1 with interrupts, the dual timer (both halves, periodic, with
 * interrupts), the watchdog (interrupt only, fed), the FPGA I/O LEDs, and
 * SysTick.
 *
 * Layout (ARM AN385 application note; checked against QEMU's `info mtree`):
 * timer 0 0x40000000 (IRQ 8), timer 1 0x40001000 (IRQ 9), dual timer
 * 0x40002000 (IRQ 10), UART0 0x40004000, watchdog 0x40008000 (NMI),
 * FPGA I/O 0x40028000.
 */
#include "qrt.h"

#define TIMER0  0x40000000u
#define TIMER1  0x40001000u
#define DUALT   0x40002000u
#define UART0   0x40004000u
#define WDOG    0x40008000u
#define FPGAIO  0x40028000u

#define IRQ_TIMER0 8
#define IRQ_TIMER1 9
#define IRQ_DUALT  10

static volatile uint32_t ticks[4];   /* systick, timer 0, timer 1, dual timer */

static void uart_putc(char c)
{
    while (REG32(UART0 + 0x04) & 1)   /* STATE.TXFULL */
        ;
    REG32(UART0) = (uint8_t)c;
}

static void uart_puthex(uint32_t v)
{
    for (int s = 28; s >= 0; s -= 4)
        uart_putc("0123456789abcdef"[(v >> s) & 15]);
}

static void timer_start(uint32_t base, uint32_t reload)
{
    REG32(base + 0x08) = reload;     /* RELOAD */
    REG32(base + 0x04) = reload;     /* VALUE */
    REG32(base + 0x00) = 1 | 8;      /* CTRL: enable, interrupt enable */
}

/* One half of the SP804-style dual timer: periodic, 32-bit, interrupting. */
static void dualtimer_start(uint32_t half, uint32_t load)
{
    REG32(half + 0x00) = load;                            /* LOAD */
    REG32(half + 0x08) = (1u << 7) | (1u << 6) | (1u << 5) | (1u << 1);
}

void board_systick(void) { ticks[0]++; }

void board_irq(unsigned irq)
{
    if (irq == IRQ_TIMER0) {
        REG32(TIMER0 + 0x0C) = 1;    /* INTCLEAR */
        ticks[1]++;
    } else if (irq == IRQ_TIMER1) {
        REG32(TIMER1 + 0x0C) = 1;
        ticks[2]++;
    } else if (irq == IRQ_DUALT) {
        REG32(DUALT + 0x0C) = 1;     /* Timer1IntClr */
        REG32(DUALT + 0x2C) = 1;     /* Timer2IntClr */
        ticks[3]++;
    }
}

/* The watchdog's interrupt is the NMI on this board; the workload feeds
 * the watchdog from the main loop so it only counts down. */
static void wdog_start(void)
{
    REG32(WDOG + 0xC00) = 0x1ACCE551; /* unlock */
    REG32(WDOG + 0x00) = 200000;      /* LOAD */
    REG32(WDOG + 0x08) = 0;           /* CTRL: counting, no interrupt, no reset */
}

void board_main(void)
{
    REG32(UART0 + 0x10) = 16;         /* BAUDDIV */
    REG32(UART0 + 0x08) = 1;          /* CTRL: TX enable */
    timer_start(TIMER0, 4000);
    timer_start(TIMER1, 11111);
    dualtimer_start(DUALT, 7000);
    dualtimer_start(DUALT + 0x20, 23456);
    wdog_start();
    qrt_nvic_enable(IRQ_TIMER0);
    qrt_nvic_enable(IRQ_TIMER1);
    qrt_nvic_enable(IRQ_DUALT);
    qrt_systick_start(2500);

    uint32_t x = 1;
    for (uint32_t n = 0;; n++) {
        for (int i = 0; i < 200; i++)
            x = x * 1103515245u + 12345u;
        REG32(FPGAIO + 0x00) = n & 3;    /* the two LEDs */
        REG32(WDOG + 0x00) = 200000;     /* feed */
        if ((n & 15) == 0) {
            uart_puthex(n);
            uart_putc(' ');
            uart_puthex(ticks[0] ^ ticks[1] << 8 ^ ticks[2] << 16 ^ ticks[3] << 24);
            uart_putc('\n');
        }
        checkpoint();
    }
}
