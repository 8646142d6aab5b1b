/*
 * microbit workload (nRF51822, Cortex-M0): every device QEMU models on the
 * board that a guest can reach: the UART (transmit and receive), TIMER0..2
 * with compare interrupts (the extra handler moves CC[0] one period on),
 * the RNG with its VALRDY interrupt (QEMU draws from the -seed'ed guest
 * random source, so twins agree), GPIO (pins 0-15 outputs, 16-23 inputs
 * with pull-ups and pull-downs, read back), the NVMC (flash page erase,
 * flash word writes, UICR writes, read back) and the micro:bit's TWI stub
 * (the accelerometer probe's three reads, then register writes). No
 * SysTick: QEMU's nRF51 gives the core no SysTick clock.
 *
 * Variants (guest/qemu/CMakeLists.txt; docs/qemu.md says which finding
 * each steps around):
 *   WORKLOAD_NO_TIMER_MODE  the three TIMERs run in counter mode (counted by
 *                           TASKS_COUNT from the main loop, no QEMU timer),
 *                           leaving out timer mode ("a loaded nRF51 timer
 *                           fires later");
 *   WORKLOAD_NO_RNG         the RNG is never started ("the nRF51 RNG stops
 *                           after a round trip").
 *
 * Layout (nRF51 reference manual; checked against QEMU's `info mtree`):
 * UART 0x40002000, TWI 0x40003000, TIMER0 0x40008000 (IRQ 8), TIMER1
 * 0x40009000 (IRQ 9), TIMER2 0x4000A000 (IRQ 10), RNG 0x4000D000 (IRQ 13),
 * NVMC 0x4001E000, UICR 0x10001000, GPIO 0x50000000.
 */
#include "qrt.h"

#define UART   0x40002000u
#define TWI    0x40003000u
#define TIMER0 0x40008000u
#define RNG    0x4000D000u
#define NVMC   0x4001E000u
#define UICR   0x10001000u
#define GPIO   0x50000000u

#define TIMER(i) (TIMER0 + 0x1000u * (i))
#define SCRATCH_PAGE 0x3F000u   /* a flash page far above the firmware */

const QrtIrq board_irqs[] = {
    { 8, TIMER(0) + 0x140, 0, 0 },   /* EVENTS_COMPARE[0] (no SysTick: counter 0 is free) */
    { 9, TIMER(1) + 0x140, 0, 1 },
    { 10, TIMER(2) + 0x140, 0, 2 },
#ifndef WORKLOAD_NO_RNG
    { 13, RNG + 0x100, 0, 3 },       /* EVENTS_VALRDY */
#endif
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

#ifdef WORKLOAD_NO_TIMER_MODE
static const uint32_t period[3] = { 7, 19, 3 };      /* TASKS_COUNT triggers */
#else
static const uint32_t period[3] = { 700, 1900, 300 };
#endif

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

/* The TWI stub answers the accelerometer probe with three fixed bytes;
 * QEMU 7.2 indexes past its table on a fourth read, so read three only. */
static void twi_probe(void)
{
    REG32(TWI + 0x500) = 5;                 /* ENABLE */
    REG32(TWI + 0x588) = 0x1d;              /* ADDRESS: the accelerometer */
    REG32(TWI + 0x000) = 1;                 /* TASKS_STARTRX */
    for (unsigned i = 0; i < 3; i++)
        qrt_ticks[2] += REG32(TWI + 0x518) << 16;   /* RXD */
    REG32(TWI + 0x014) = 1;                 /* TASKS_STOP */
}

void board_init(void)
{
    REG32(UART + 0x500) = 4;                /* ENABLE */
    REG32(UART + 0x008) = 1;                /* TASKS_STARTTX */
    REG32(UART + 0x000) = 1;                /* TASKS_STARTRX */
    REG32(GPIO + 0x518) = 0xffff;           /* DIRSET: pins 0-15 outputs */
    for (unsigned pin = 16; pin < 24; pin++)
        REG32(GPIO + 0x700 + 4 * pin) = (pin & 1 ? 3u : 1u) << 2;   /* PIN_CNF: input, pull-up / pull-down */
    static const uint32_t prescaler[3] = { 4, 4, 9 };
    for (unsigned i = 0; i < 3; i++) {
#ifdef WORKLOAD_NO_TIMER_MODE
        REG32(TIMER(i) + 0x504) = 1;        /* MODE: counter */
#else
        REG32(TIMER(i) + 0x504) = 0;        /* MODE: timer */
#endif
        REG32(TIMER(i) + 0x508) = 3;        /* BITMODE: 32 bit */
        REG32(TIMER(i) + 0x510) = prescaler[i];
        REG32(TIMER(i) + 0x540) = period[i];   /* CC[0] */
        REG32(TIMER(i) + 0x304) = 1u << 16;    /* INTENSET: COMPARE0 */
        REG32(TIMER(i) + 0x00C) = 1;        /* TASKS_CLEAR */
        REG32(TIMER(i) + 0x000) = 1;        /* TASKS_START */
    }
#ifndef WORKLOAD_NO_RNG
    REG32(RNG + 0x304) = 1;                 /* INTENSET: VALRDY */
    REG32(RNG + 0x000) = 1;                 /* TASKS_START: runs until stopped */
#endif
    twi_probe();
    qrt_enable_irqs();
}

/* Every 16th iteration: a flash word written (erasing the page first when
 * the walk wraps), a UICR customer word, both read back. */
static void nvmc_step(uint32_t n, uint32_t x)
{
    uint32_t word = (n >> 4) & 0xff;
    if (word == 0) {
        REG32(NVMC + 0x504) = 2;            /* CONFIG: EEN */
        REG32(NVMC + 0x508) = SCRATCH_PAGE; /* ERASEPAGE */
    }
    REG32(NVMC + 0x504) = 1;                /* CONFIG: WEN */
    REG32(SCRATCH_PAGE + 4 * word) = x;
    REG32(NVMC + 0x504) = 0;
    REG32(UICR + 0x80 + 4 * (word & 31)) = x ^ n;   /* CUSTOMER[] */
    qrt_ticks[1] += (REG32(SCRATCH_PAGE + 4 * word) ^ REG32(UICR + 0x80 + 4 * (word & 31))) << 16;
}

void board_step(uint32_t n, uint32_t x)
{
    REG32(GPIO + 0x504) = (n ^ x >> 16) & 0xffff;   /* OUT */
    REG32(GPIO + ((n & 1) ? 0x508 : 0x50C)) = 1u << (n & 15);   /* OUTSET / OUTCLR */
    qrt_ticks[3] += REG32(GPIO + 0x510) >> 16 & 0xff;           /* IN: the pulled inputs */
    REG32(TWI + 0x51C) = x & 0xff;          /* TXD: the stub keeps what is written */
#ifdef WORKLOAD_NO_TIMER_MODE
    for (unsigned i = 0; i < 3; i++)
        REG32(TIMER(i) + 0x008) = 1;        /* TASKS_COUNT */
#endif
    if ((n & 15) == 0)
        nvmc_step(n, x);
}
