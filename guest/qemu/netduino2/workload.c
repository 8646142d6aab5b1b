/*
 * netduino2 workload (STM32F205, Cortex-M3): USART1 transmit and receive (the first serial port), the
 * general-purpose timers TIM2..TIM5 with update interrupts, and SysTick.
 * QEMU 7.2 models no GPIO or watchdog on this SoC.
 *
 * Layout (STM32F20x reference manual; checked against QEMU's `info mtree`):
 * TIM2 0x40000000 (IRQ 28), TIM3 0x40000400 (IRQ 29), TIM4 0x40000800
 * (IRQ 30), TIM5 0x40000C00 (IRQ 50), USART1 0x40011000.
 */
#include "qrt.h"

#define TIM(i)  (0x40000000u + 0x400u * (i))
#define USART1  0x40011000u

const QrtIrq board_irqs[] = {
    { 28, TIM(0) + 0x10, 0, 1 },   /* TIM2: SR, clearing UIF */
    { 29, TIM(1) + 0x10, 0, 2 },
    { 30, TIM(2) + 0x10, 0, 3 },
    { 50, TIM(3) + 0x10, 0, 3 },
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

const QrtRx board_rx = { USART1 + 0x00, 1u << 5, 1u << 5 };   /* SR.RXNE */

int board_getc(void)
{
    return qrt_rx_ready() ? (int)(REG32(USART1 + 0x04) & 0xff) : -1;
}

void board_putc(char c)
{
    while (!(REG32(USART1 + 0x00) & (1u << 7)))   /* SR.TXE */
        ;
    REG32(USART1 + 0x04) = (uint8_t)c;            /* DR */
}

void board_init(void)
{
    REG32(USART1 + 0x0C) = (1u << 13) | (1u << 3) | (1u << 2);  /* CR1: UE, TE, RE */
    static const uint32_t reload[4] = { 3000, 7777, 12000, 40000 };
    for (unsigned i = 0; i < 4; i++) {
        REG32(TIM(i) + 0x28) = 1;           /* PSC: divide by 2 */
        REG32(TIM(i) + 0x2C) = reload[i];   /* ARR */
        REG32(TIM(i) + 0x0C) = 1;           /* DIER: UIE */
        REG32(TIM(i) + 0x00) = 1;           /* CR1: CEN */
    }
    qrt_enable_irqs();
    qrt_systick_start(4000);
}

void board_step(uint32_t n, uint32_t x)
{
    (void)n;
    (void)x;
}
