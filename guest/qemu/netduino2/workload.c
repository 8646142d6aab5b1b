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

#include "stm32.h"     /* board_rx, board_getc, board_putc, the USART and timers */

void board_init(void)
{
    stm32_usart_and_timers_start();
    qrt_enable_irqs();
    qrt_systick_start(4000);
}

void board_step(uint32_t n, uint32_t x)
{
    (void)n;
    (void)x;
}
