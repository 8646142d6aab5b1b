/*
 * lm3s811evb workload: drives every device of QEMU's lm3s811evb a guest can
 * reach without external input: UART0 transmit (PL011, Luminary variant),
 * general-purpose timers 0 and 1 in periodic mode with interrupts, GPIO
 * ports A and B (PL061, Luminary variant) as outputs, the watchdog with its
 * interrupt (reset disabled, fed from the handler), and SysTick.
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

#define IRQ_WDT   18
#define IRQ_GPTM0 19
#define IRQ_GPTM1 21

static volatile uint32_t ticks[4];   /* systick, timer 0, timer 1, watchdog */

static void uart_putc(char c)
{
    while (REG32(UART0 + 0x18) & (1u << 5))   /* FR.TXFF */
        ;
    REG32(UART0) = (uint8_t)c;
}

static void uart_puthex(uint32_t v)
{
    for (int s = 28; s >= 0; s -= 4)
        uart_putc("0123456789abcdef"[(v >> s) & 15]);
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

static void gpio_outputs(uint32_t base)
{
    REG32(base + 0x400) = 0xff;      /* DIR: all outputs */
    REG32(base + 0x51C) = 0xff;      /* DEN (Luminary) */
}

void board_systick(void) { ticks[0]++; }

void board_irq(unsigned irq)
{
    if (irq == IRQ_GPTM0) {
        REG32(GPTM0 + 0x24) = 1;     /* ICR */
        ticks[1]++;
    } else if (irq == IRQ_GPTM1) {
        REG32(GPTM1 + 0x24) = 1;
        ticks[2]++;
    } else if (irq == IRQ_WDT) {
        REG32(WDT + 0x0C) = 1;       /* WDTICR: clear and reload */
        ticks[3]++;
    }
}

void board_main(void)
{
    REG32(UART0 + 0x30) = 0x301;     /* CR: UARTEN, TXE, RXE */
    gpio_outputs(GPIOA);
    gpio_outputs(GPIOB);
    gptm_start(GPTM0, 5000);
    gptm_start(GPTM1, 12345);
    REG32(WDT + 0x00) = 40000;       /* WDTLOAD */
    REG32(WDT + 0x08) = 1;           /* WDTCTL: INTEN, no reset */
    qrt_nvic_enable(IRQ_GPTM0);
    qrt_nvic_enable(IRQ_GPTM1);
    qrt_nvic_enable(IRQ_WDT);
    qrt_systick_start(3000);

    uint32_t x = 1;
    for (uint32_t n = 0;; n++) {
        for (int i = 0; i < 200; i++)   /* some work between checkpoints */
            x = x * 1103515245u + 12345u;
        REG32(GPIOA + 0x3FC) = n;               /* all eight pins */
        REG32(GPIOB + (0x0F << 2)) = x >> 24;   /* masked write: pins 0-3 */
        if ((n & 15) == 0) {
            uart_puthex(n);
            uart_putc(' ');
            uart_puthex(ticks[0] ^ ticks[1] << 8 ^ ticks[2] << 16 ^ ticks[3] << 24);
            uart_putc('\n');
        }
        checkpoint();
    }
}
