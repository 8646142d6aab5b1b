/*
 * netduinoplus2 workload (STM32F405, Cortex-M4): USART1 transmit and
 * receive, the general-purpose timers TIM2..TIM5 with update interrupts,
 * the EXTI controller (a software interrupt on line 0 each iteration,
 * routed by SYSCFG), ADC1 (software-started conversions), SPI1 (one frame
 * a pass; no device behind it), and SysTick. QEMU 7.2 models no GPIO, DMA,
 * RNG or watchdog on this SoC (unimplemented devices).
 *
 * Layout (STM32F405 reference manual; checked against QEMU's `info mtree`):
 * TIM2 0x40000000 (IRQ 28), TIM3 0x40000400 (IRQ 29), TIM4 0x40000800
 * (IRQ 30), TIM5 0x40000C00 (IRQ 50), USART1 0x40011000, ADC1 0x40012000,
 * SPI1 0x40013000, SYSCFG 0x40013800, EXTI 0x40013C00 (line 0: IRQ 6).
 */
#include "qrt.h"

#define TIM(i)  (0x40000000u + 0x400u * (i))
#define USART1  0x40011000u
#define ADC1    0x40012000u
#define SPI1    0x40013000u
#define SYSCFG  0x40013800u
#define EXTI    0x40013C00u

const QrtIrq board_irqs[] = {
    { 28, TIM(0) + 0x10, 0, 1 },   /* TIM2: SR, clearing UIF */
    { 29, TIM(1) + 0x10, 0, 2 },
    { 30, TIM(2) + 0x10, 0, 3 },
    { 50, TIM(3) + 0x10, 0, 3 },
    { 6, EXTI + 0x14, 1, 2 },      /* EXTI line 0: PR, write 1 to clear */
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

#include "stm32.h"     /* board_rx, board_getc, board_putc, the USART and timers */

void board_init(void)
{
    stm32_usart_and_timers_start();
    REG32(SYSCFG + 0x08) = 0;               /* EXTICR1: line 0 from port A */
    REG32(EXTI + 0x00) = 1;                 /* IMR: line 0 */
    REG32(EXTI + 0x08) = 1;                 /* RTSR: rising edge */
    REG32(ADC1 + 0x08) = 1;                 /* CR2: ADON */
    REG32(SPI1 + 0x00) = (1u << 6) | (1u << 2) | (1u << 9) | (1u << 8);   /* CR1: SPE, MSTR, SSM, SSI */
    qrt_enable_irqs();
    qrt_systick_start(4000);
}

void board_step(uint32_t n, uint32_t x)
{
    REG32(EXTI + 0x10) = 1;                 /* SWIER: software interrupt, line 0 */
    if ((n & 7) == 0) {
        /* QEMU's ADC converts when DR is read after SWSTART (it never
         * sets SR.EOC), so DR is read without waiting. */
        REG32(ADC1 + 0x08) = 1 | (1u << 30);   /* CR2: ADON, SWSTART */
        REG32(SPI1 + 0x0C) = x & 0xff;         /* DR: one frame out */
        while (!(REG32(SPI1 + 0x08) & 1))      /* SR.RXNE */
            ;
        qrt_ticks[3] += REG32(ADC1 + 0x4C) + REG32(SPI1 + 0x0C);   /* DR of each */
    }
}
