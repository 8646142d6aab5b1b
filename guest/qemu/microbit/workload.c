/*
 * microbit workload (nRF51822, Cortex-M0): drives the devices of QEMU's
 * microbit a guest can reach without external input: the UART (transmit),
 * TIMER0..2 with compare interrupts (the handler moves CC[0] one period on),
 * the RNG with its VALRDY interrupt (QEMU draws from the -seed'ed guest
 * random source, so twins agree), and GPIO outputs. No SysTick: QEMU's
 * nRF51 gives the core no SysTick clock.
 *
 * Layout (nRF51 reference manual; checked against QEMU's `info mtree`):
 * UART 0x40002000, TIMER0 0x40008000 (IRQ 8), TIMER1 0x40009000 (IRQ 9),
 * TIMER2 0x4000A000 (IRQ 10), RNG 0x4000D000 (IRQ 13), GPIO 0x50000000.
 */
#include "qrt.h"

#define UART   0x40002000u
#define TIMER0 0x40008000u
#define TIMER1 0x40009000u
#define TIMER2 0x4000A000u
#define RNG    0x4000D000u
#define GPIO   0x50000000u

#define IRQ_TIMER0 8
#define IRQ_RNG    13

static volatile uint32_t ticks[4];   /* timer 0, timer 1, timer 2, RNG bytes (xor) */
static const uint32_t period[3] = { 700, 1900, 300 };

static void uart_putc(char c)
{
    REG32(UART + 0x51C) = (uint8_t)c;       /* TXD */
    while (!REG32(UART + 0x11C))            /* EVENTS_TXDRDY */
        ;
    REG32(UART + 0x11C) = 0;
}

static void uart_puthex(uint32_t v)
{
    for (int s = 28; s >= 0; s -= 4)
        uart_putc("0123456789abcdef"[(v >> s) & 15]);
}

static void timer_start(uint32_t base, uint32_t prescaler, uint32_t cc0)
{
    REG32(base + 0x504) = 0;            /* MODE: timer */
    REG32(base + 0x508) = 3;            /* BITMODE: 32 bit */
    REG32(base + 0x510) = prescaler;    /* PRESCALER */
    REG32(base + 0x540) = cc0;          /* CC[0] */
    REG32(base + 0x304) = 1u << 16;     /* INTENSET: COMPARE0 */
    REG32(base + 0x00C) = 1;            /* TASKS_CLEAR */
    REG32(base + 0x000) = 1;            /* TASKS_START */
}

void board_systick(void) {}

void board_irq(unsigned irq)
{
    if (irq >= IRQ_TIMER0 && irq < IRQ_TIMER0 + 3) {
        uint32_t base = TIMER0 + 0x1000u * (irq - IRQ_TIMER0);
        REG32(base + 0x140) = 0;        /* EVENTS_COMPARE[0] */
        REG32(base + 0x540) += period[irq - IRQ_TIMER0];   /* CC[0]: the next period */
        ticks[irq - IRQ_TIMER0]++;
    } else if (irq == IRQ_RNG) {
        REG32(RNG + 0x100) = 0;         /* EVENTS_VALRDY */
        ticks[3] = ticks[3] << 1 ^ REG32(RNG + 0x508);
    }
}

void board_main(void)
{
    REG32(UART + 0x500) = 4;            /* ENABLE */
    REG32(UART + 0x008) = 1;            /* TASKS_STARTTX */
    REG32(GPIO + 0x518) = 0xffff;       /* DIRSET: pins 0-15 outputs */
    timer_start(TIMER0, 4, period[0]);
    timer_start(TIMER1, 4, period[1]);
    timer_start(TIMER2, 9, period[2]);
    REG32(RNG + 0x304) = 1;             /* INTENSET: VALRDY */
    REG32(RNG + 0x000) = 1;             /* TASKS_START: runs until stopped */
    for (unsigned irq = IRQ_TIMER0; irq < IRQ_TIMER0 + 3; irq++)
        qrt_nvic_enable(irq);
    qrt_nvic_enable(IRQ_RNG);

    uint32_t x = 1;
    for (uint32_t n = 0;; n++) {
        for (int i = 0; i < 200; i++)
            x = x * 1103515245u + 12345u;
        REG32(GPIO + 0x504) = (n ^ x >> 16) & 0xffff;   /* OUT */
        if ((n & 15) == 0) {
            uart_puthex(n);
            uart_putc(' ');
            uart_puthex(ticks[0] ^ ticks[1] << 8 ^ ticks[2] << 16);
            uart_putc(' ');
            uart_puthex(ticks[3]);
            uart_putc('\n');
        }
        checkpoint();
    }
}
