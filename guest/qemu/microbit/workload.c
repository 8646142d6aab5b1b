/*
 * microbit workload (nRF51822, Cortex-M0): the UART (transmit and receive), TIMER0..2
 * with compare interrupts (the extra handler moves CC[0] one period on),
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
#define RNG    0x4000D000u
#define GPIO   0x50000000u

#define TIMER(i) (TIMER0 + 0x1000u * (i))

const QrtIrq board_irqs[] = {
    { 8, TIMER(0) + 0x140, 0, 0 },   /* EVENTS_COMPARE[0] (no SysTick: counter 0 is free) */
    { 9, TIMER(1) + 0x140, 0, 1 },
    { 10, TIMER(2) + 0x140, 0, 2 },
    { 13, RNG + 0x100, 0, 3 },       /* EVENTS_VALRDY */
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

static const uint32_t period[3] = { 700, 1900, 300 };

void board_irq_extra(unsigned irq)
{
    if (irq >= 8 && irq < 11)
        REG32(TIMER(irq - 8) + 0x540) += period[irq - 8];   /* CC[0]: the next period */
    else if (irq == 13)
        qrt_ticks[3] += REG32(RNG + 0x508) << 8;            /* VALUE: the bytes reach the UART */
}

const QrtRx board_rx = { UART + 0x108, 1, 1 };   /* EVENTS_RXDRDY */

int board_getc(void)
{
    if (!qrt_rx_ready())
        return -1;
    REG32(UART + 0x108) = 0;                /* the event first, then RXD */
    return (int)(REG32(UART + 0x518) & 0xff);
}

void board_putc(char c)
{
    REG32(UART + 0x51C) = (uint8_t)c;       /* TXD */
    while (!REG32(UART + 0x11C))            /* EVENTS_TXDRDY */
        ;
    REG32(UART + 0x11C) = 0;
}

void board_init(void)
{
    REG32(UART + 0x500) = 4;                /* ENABLE */
    REG32(UART + 0x008) = 1;                /* TASKS_STARTTX */
    REG32(UART + 0x000) = 1;                /* TASKS_STARTRX */
    REG32(GPIO + 0x518) = 0xffff;           /* DIRSET: pins 0-15 outputs */
    static const uint32_t prescaler[3] = { 4, 4, 9 };
    for (unsigned i = 0; i < 3; i++) {
        REG32(TIMER(i) + 0x504) = 0;        /* MODE: timer */
        REG32(TIMER(i) + 0x508) = 3;        /* BITMODE: 32 bit */
        REG32(TIMER(i) + 0x510) = prescaler[i];
        REG32(TIMER(i) + 0x540) = period[i];   /* CC[0] */
        REG32(TIMER(i) + 0x304) = 1u << 16;    /* INTENSET: COMPARE0 */
        REG32(TIMER(i) + 0x00C) = 1;        /* TASKS_CLEAR */
        REG32(TIMER(i) + 0x000) = 1;        /* TASKS_START */
    }
    REG32(RNG + 0x304) = 1;                 /* INTENSET: VALRDY */
    REG32(RNG + 0x000) = 1;                 /* TASKS_START: runs until stopped */
    qrt_enable_irqs();
}

void board_step(uint32_t n, uint32_t x)
{
    REG32(GPIO + 0x504) = (n ^ x >> 16) & 0xffff;   /* OUT */
}
