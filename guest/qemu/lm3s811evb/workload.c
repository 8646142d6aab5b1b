/*
 * lm3s811evb workload (also run on lm3s6965evb, whose devices at these
 * addresses are the same): UART0 transmit and receive (PL011, Luminary variant),
 * general-purpose timers 0 and 1 periodic with interrupts, GPIO ports A and
 * B (PL061, Luminary variant) as outputs, the watchdog with its interrupt
 * (reset disabled, fed by the acknowledgement), and SysTick.
 *
 * Layout (Stellaris LM3S811 datasheet; checked against QEMU's `info mtree`):
 * watchdog 0x40000000 (IRQ 18), GPIO A 0x40004000 (IRQ 0), GPIO B
 * 0x40005000 (IRQ 1), UART0 0x4000C000 (IRQ 5), timer 0 0x40030000 (IRQ 19),
 * timer 1 0x40031000 (IRQ 21).
 */
#include "qrt.h"

#define WDT     0x40000000u
#define GPIOA   0x40004000u
#define GPIOB   0x40005000u
#define UART0   0x4000C000u
#define GPTM0   0x40030000u
#define GPTM1   0x40031000u

const QrtIrq board_irqs[] = {
    { 19, GPTM0 + 0x24, 1, 1 },   /* timer 0: ICR.TATOCINT */
    { 21, GPTM1 + 0x24, 1, 2 },   /* timer 1 */
    { 18, WDT + 0x0C, 1, 3 },     /* watchdog: WDTICR clears and reloads */
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

const QrtRx board_rx = { UART0 + 0x18, 1u << 4, 0 };   /* FR.RXFE clear */

int board_getc(void)
{
    return qrt_rx_ready() ? (int)(REG32(UART0) & 0xff) : -1;
}

void board_putc(char c)
{
    while (REG32(UART0 + 0x18) & (1u << 5))   /* FR.TXFF */
        ;
    REG32(UART0) = (uint8_t)c;
}

/* A periodic 32-bit timer with its time-out interrupt. */
static void gptm_start(uint32_t base, uint32_t period)
{
    REG32(base + 0x0C) = 0;          /* CTL: disabled while configuring */
    REG32(base + 0x00) = 0;          /* CFG: one 32-bit timer */
    REG32(base + 0x04) = 2;          /* TAMR: periodic */
    REG32(base + 0x28) = period;     /* TAILR */
    REG32(base + 0x18) = 1;          /* IMR: TATOIM */
    REG32(base + 0x0C) = 1;          /* CTL: TAEN */
}

void board_init(void)
{
    REG32(UART0 + 0x30) = 0x301;     /* CR: UARTEN, TXE, RXE */
    for (uint32_t port = GPIOA; port <= GPIOB; port += 0x1000) {
        REG32(port + 0x400) = 0xff;  /* DIR: all outputs */
        REG32(port + 0x51C) = 0xff;  /* DEN (Luminary) */
    }
    gptm_start(GPTM0, 5000);
    gptm_start(GPTM1, 12345);
    REG32(WDT + 0x00) = 40000;       /* WDTLOAD */
    REG32(WDT + 0x08) = 1;           /* WDTCTL: INTEN, no reset */
    qrt_enable_irqs();
    qrt_systick_start(3000);
}

void board_step(uint32_t n, uint32_t x)
{
    REG32(GPIOA + 0x3FC) = n;               /* all eight pins */
    REG32(GPIOB + (0x0F << 2)) = x >> 24;   /* masked write: pins 0-3 */
}
