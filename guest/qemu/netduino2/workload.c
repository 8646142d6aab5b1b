/*
 * netduino2 workload (STM32F205, Cortex-M3): every device QEMU 7.2 models
 * on this SoC (common/stm32.h): the six USARTs (USART1 transmit and
 * receive, the others transmit with no chardev behind them), TIM2..TIM5
 * with update interrupts, ADC1..ADC3, SPI1..SPI3, SYSCFG; SysTick and the
 * SRAM and peripheral bit-band aliases. QEMU 7.2 models nothing else here
 * (no GPIO, DMA, RCC, watchdog, EXTI: `info mtree` shows no other device).
 *
 * Layout (QEMU 7.2 hw/arm/stm32f205_soc.c; checked with `info mtree`):
 * TIM2-5 0x40000000-0x40000C00 (IRQ 28, 29, 30, 50), USART1 0x40011000,
 * USART2-5 0x40004400-0x40005000, USART6 0x40011400, ADC1-3
 * 0x40012000-0x40012200, SPI1 0x40013000, SPI2 0x40003800, SPI3
 * 0x40003C00, SYSCFG 0x40013800.
 */
#include "qrt.h"

static const uint32_t stm32_usarts[] = { 0x40011000u, 0x40004400u, 0x40004800u,
                                         0x40004C00u, 0x40005000u, 0x40011400u };
static const uint32_t stm32_adcs[] = { 0x40012000u, 0x40012100u, 0x40012200u };
static const uint32_t stm32_spis[] = { 0x40013000u, 0x40003800u, 0x40003C00u };
#define STM32_SYSCFG 0x40013800u
#define STM32_TIMER_PSC 255

#include "stm32.h"

void board_init(void)
{
    stm32_start();
    qrt_enable_irqs();
    qrt_systick_start(4000);
}

void board_step(uint32_t n, uint32_t x)
{
    stm32_step(n, x);
}
