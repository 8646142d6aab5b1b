/*
 * mps2-an385 workload: CMSDK APB UART0 transmit and receive, CMSDK timers 0 and 1 with
 * interrupts, the dual timer (both halves, periodic, with interrupts), the
 * watchdog (counting, fed every iteration; its interrupt would be the NMI),
 * the FPGA I/O (LEDs, prescaler, MISC, its counters read), UARTs 1-4
 * transmitting (no chardev behind them), the five PL022 SPI controllers
 * in loopback, the four SBCon I2C controllers' lines, the SCC (CFG1 LEDs,
 * CFGDATA_OUT, a CFGCTRL read of OSCCLK 0, the DLL mask), and SysTick.
 *
 * Layout (ARM AN385 application note; QEMU 7.2 hw/arm/mps2.c; checked
 * against QEMU's `info mtree`): timer 0 0x40000000 (IRQ 8), timer 1
 * 0x40001000 (IRQ 9), dual timer 0x40002000 (IRQ 10), UART0-3
 * 0x40004000-0x40007000, UART4 0x40009000, watchdog 0x40008000 (NMI),
 * PL022 0x40025000, 0x40020000, 0x40021000, 0x40026000, 0x40027000,
 * SBCon I2C 0x40022000, 0x40023000, 0x40029000, 0x4002A000, FPGA I/O
 * 0x40028000, SCC 0x4002F000. Not driven: the LAN9118 Ethernet controller
 * (0x40200000), the GPIO blocks (unimplemented in QEMU), the watchdog's
 * interrupt (the NMI).
 */
#include "qrt.h"

#define TIMER0  0x40000000u
#define TIMER1  0x40001000u
#define DUALT   0x40002000u
#define UART0   0x40004000u
#define WDOG    0x40008000u
#define FPGAIO  0x40028000u
#define SCC     0x4002F000u

static const uint32_t more_uarts[] = { 0x40005000u, 0x40006000u, 0x40007000u, 0x40009000u };
static const uint32_t pl022s[] = { 0x40025000u, 0x40020000u, 0x40021000u, 0x40026000u, 0x40027000u };
static const uint32_t sbcons[] = { 0x40022000u, 0x40023000u, 0x40029000u, 0x4002A000u };
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
volatile uint32_t an385_data;   /* SPI frames and FPGA counters read back, summed */

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
    for (unsigned u = 0; u < NELEMS(more_uarts); u++) {
        REG32(more_uarts[u] + 0x10) = 16 + u;   /* BAUDDIV */
        REG32(more_uarts[u] + 0x08) = 1;        /* CTRL: TX enable */
    }
    for (unsigned p = 0; p < NELEMS(pl022s); p++) {
        REG32(pl022s[p] + 0x10) = 2 + 2 * p;    /* CPSR */
        REG32(pl022s[p] + 0x00) = 7;            /* CR0: 8-bit frames */
        REG32(pl022s[p] + 0x04) = 1 | 2;        /* CR1: loopback, enable */
    }
    REG32(FPGAIO + 0x1C) = 2500;      /* PRESCALE */
    REG32(FPGAIO + 0x4C) = 0x5;       /* MISC */
    REG32(SCC + 0x04) = 0x2;          /* CFG1: the SCC's LEDs */
    REG32(SCC + 0xA4) = 0x12345678;   /* CFGDATA_OUT */
    REG32(SCC + 0xA8) = (1u << 31) | (1u << 20);   /* CFGCTRL: start a read of OSCCLK 0 */
    REG32(SCC + 0x100) = 0xff000000u; /* DLL: lock mask */
    qrt_enable_irqs();
    qrt_systick_start(2500);
}

void board_step(uint32_t n, uint32_t x)
{
    REG32(FPGAIO + 0x00) = (n ^ x) & 3;   /* the two LEDs */
    REG32(WDOG + 0x00) = 200000;          /* feed */
    REG32(sbcons[n & 3] + ((n & 4) ? 0x00 : 0x04)) = (x >> 8) & 3;   /* SB_CONTROLS set / clear */
    if ((n & 7) != 0)
        return;
    uint32_t sum = REG32(SCC + 0xA0) + REG32(FPGAIO + 0x18) + REG32(FPGAIO + 0x20)
                 + REG32(FPGAIO + 0x14);   /* CFGDATA_RTN, COUNTER, PSCNTR, CLK100HZ */
    for (unsigned p = 0; p < NELEMS(pl022s); p++) {
        REG32(pl022s[p] + 0x08) = (x >> p) & 0xff;    /* DR: one frame, looped back */
        while (!(REG32(pl022s[p] + 0x0C) & (1u << 2)))   /* SR.RNE */
            ;
        sum += REG32(pl022s[p] + 0x08);
    }
    for (unsigned u = 0; u < NELEMS(more_uarts); u++)
        if (!(REG32(more_uarts[u] + 0x04) & 1))        /* STATE.TXFULL clear */
            REG32(more_uarts[u]) = '1' + u;
    an385_data += sum;
}
