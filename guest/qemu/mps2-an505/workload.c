/*
 * mps2-an505 workload (IoT kit / SSE-200 subsystem, Cortex-M33, running
 * Secure as it boots): CMSDK APB UART0 transmit and receive, the kit's
 * timers 0 and 1, its dual timer (both halves) and its 32 kHz timer, all
 * periodic with interrupts; the Non-secure watchdog with its interrupt (no
 * reset); the Secure and 32 kHz watchdogs counting (their interrupt would
 * be the NMI, left off); a PL081 DMA controller copying memory; a PL022
 * SPI controller in loopback; the SBCon I2C lines; the FPGA I/O LEDs; and
 * SysTick. QEMU 7.2 models no GPIO on this board (unimplemented devices).
 *
 * Layout (AN505 and SSE-200 documentation; checked against QEMU's
 * `info mtree`): every device is reached at its Secure alias (bit 28 set;
 * see memory.ld): timer 0 0x50000000 (IRQ 3), timer 1 0x50001000 (IRQ 4),
 * dual timer 0x50002000 (IRQ 5), S32K timer 0x5002F000 (IRQ 2), S32K
 * watchdog 0x5002E000, Secure watchdog 0x50081000; the Non-secure watchdog
 * 0x40081000 (IRQ 1) is reached Non-secure, as it has no PPC; DMA 0
 * 0x50110000, UART0 0x50200000, SPI 0 0x50205000, I2C 0 0x50207000, FPGA
 * I/O 0x50302000. The expansion IRQs start at 32, above the vector table's
 * 64 entries for the DMA and SPI lines, so those two are polled.
 */
#include "qrt.h"

#define TIMER0  0x50000000u
#define TIMER1  0x50001000u
#define DUALT   0x50002000u
#define S32KT   0x5002F000u
#define S32KWD  0x5002E000u
#define SWDOG   0x50081000u
#define NSWDOG  0x40081000u
#define DMA0    0x50110000u
#define UART0   0x50200000u
#define SPI0    0x50205000u
#define I2C0    0x50207000u
#define FPGAIO  0x50302000u

const QrtIrq board_irqs[] = {
    { 3, TIMER0 + 0x0C, 1, 1 },   /* timer 0: INTCLEAR */
    { 4, TIMER1 + 0x0C, 1, 2 },   /* timer 1 */
    { 2, S32KT + 0x0C, 1, 2 },    /* S32K timer */
    { 5, DUALT + 0x0C, 1, 3 },    /* dual timer: Timer1IntClr */
    { 5, DUALT + 0x2C, 1, 3 },    /* and Timer2IntClr */
    { 1, NSWDOG + 0x0C, 1, 3 },   /* Non-secure watchdog: WDOGINTCLR reloads */
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

#include "cmsdk.h"     /* board_rx, board_getc, board_putc, the timers */

static void watchdog_start(uint32_t base, uint32_t load, uint32_t ctrl)
{
    REG32(base + 0xC00) = 0x1ACCE551; /* LOCK: unlock */
    REG32(base + 0x00) = load;        /* LOAD */
    REG32(base + 0x08) = ctrl;        /* CTRL: bit 0 interrupt, bit 1 reset */
}

/* DMA channel 0 copies src to dst, 16 words, memory to memory. QEMU's PL081
 * runs the whole transfer when the channel is enabled; its master is
 * Secure (the MSC in front of it comes out of reset that way), so it
 * reaches the Secure alias of SRAM like the core. */
static uint32_t dma_src[16], dma_dst[16];

static uint32_t dma_copy(uint32_t seed)
{
    for (unsigned i = 0; i < 16; i++)
        dma_src[i] = seed + i;
    REG32(DMA0 + 0x008) = 1;                          /* IntTCClear */
    REG32(DMA0 + 0x100) = (uint32_t)(uintptr_t)dma_src;
    REG32(DMA0 + 0x104) = (uint32_t)(uintptr_t)dma_dst;
    REG32(DMA0 + 0x108) = 0;                          /* no linked list */
    REG32(DMA0 + 0x10C) = 16u | (2u << 18) | (2u << 21) | (1u << 26) | (1u << 27) | (1u << 31);
    REG32(DMA0 + 0x110) = 1u | (1u << 15);            /* enable, TC interrupt unmasked */
    uint32_t sum = REG32(DMA0 + 0x004);               /* IntTCStatus */
    for (unsigned i = 0; i < 16; i++)
        sum += dma_dst[i];
    return sum;
}

/* One frame through SPI 0 in loopback: the byte comes back in the RX FIFO. */
static uint32_t spi_loop(uint32_t v)
{
    REG32(SPI0 + 0x08) = v & 0xff;                    /* DR */
    while (!(REG32(SPI0 + 0x0C) & (1u << 2)))         /* SR.RNE */
        ;
    return REG32(SPI0 + 0x08);
}

void board_init(void)
{
    REG32(UART0 + 0x10) = 16;         /* BAUDDIV */
    REG32(UART0 + 0x08) = 3;          /* CTRL: TX and RX enable */
    cmsdk_timer_start(TIMER0, 4000);
    cmsdk_timer_start(TIMER1, 11111);
    cmsdk_timer_start(S32KT, 3);            /* 32 kHz: every ~92 us */
    cmsdk_dualtimer_start(DUALT, 7000);
    cmsdk_dualtimer_start(DUALT + 0x20, 23456);
    watchdog_start(NSWDOG, 30000, 1);
    watchdog_start(SWDOG, 200000, 0);
    watchdog_start(S32KWD, 5000, 0);
    REG32(DMA0 + 0x030) = 1;          /* DMACConfiguration: enable */
    REG32(SPI0 + 0x00) = 7;           /* CR0: 8-bit frames */
    REG32(SPI0 + 0x04) = 1 | 2;       /* CR1: loopback, enable */
    qrt_enable_irqs();
    qrt_systick_start(2500);
}

void board_step(uint32_t n, uint32_t x)
{
    REG32(FPGAIO + 0x00) = (n ^ x) & 3;   /* the two LEDs */
    REG32(SWDOG + 0x00) = 200000;         /* feed */
    REG32(S32KWD + 0x00) = 5000;
    REG32(I2C0 + ((n & 1) ? 0x00 : 0x04)) = (x >> 8) & 3;   /* SB_CONTROLS set / clear */
    if ((n & 7) == 0)
        qrt_ticks[3] += dma_copy(x) + spi_loop(x);
}
