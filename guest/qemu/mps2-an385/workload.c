/*
 * mps2-an385 workload: CMSDK APB UART0 transmit and receive, CMSDK timers 0 and 1 with
 * interrupts, the dual timer (both halves, periodic, with interrupts), the
 * watchdog (counting, fed every iteration; its interrupt would be the NMI),
 * the FPGA I/O LEDs, and SysTick.
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

const QrtIrq board_irqs[] = {
    { 8, TIMER0 + 0x0C, 1, 1 },   /* timer 0: INTCLEAR */
    { 9, TIMER1 + 0x0C, 1, 2 },   /* timer 1 */
    { 10, DUALT + 0x0C, 1, 3 },   /* dual timer: Timer1IntClr */
    { 10, DUALT + 0x2C, 1, 3 },   /* and Timer2IntClr */
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

#include "cmsdk.h"     /* board_rx, board_getc, board_putc, the timers */

void board_init(void)
{
    REG32(UART0 + 0x10) = 16;         /* BAUDDIV */
    REG32(UART0 + 0x08) = 3;          /* CTRL: TX and RX enable */
    cmsdk_timer_start(TIMER0, 4000);
    cmsdk_timer_start(TIMER1, 11111);
    cmsdk_dualtimer_start(DUALT, 7000);
    cmsdk_dualtimer_start(DUALT + 0x20, 23456);
    REG32(WDOG + 0xC00) = 0x1ACCE551; /* unlock */
    REG32(WDOG + 0x00) = 200000;      /* LOAD */
    REG32(WDOG + 0x08) = 0;           /* CTRL: counting, no interrupt, no reset */
    qrt_enable_irqs();
    qrt_systick_start(2500);
}

void board_step(uint32_t n, uint32_t x)
{
    REG32(FPGAIO + 0x00) = (n ^ x) & 3;   /* the two LEDs */
    REG32(WDOG + 0x00) = 200000;          /* feed */
}
