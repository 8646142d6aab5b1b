/*
 * netduinoplus2 workload (STM32F405, Cortex-M4): every device QEMU 7.2
 * models on this SoC (common/stm32.h): the seven USARTs/UARTs (USART1
 * transmit and receive, the others transmit with no chardev behind them),
 * TIM2..TIM5 with update interrupts, ADC1..ADC6, SPI1..SPI6, SYSCFG, EXTI;
 * SysTick and the SRAM and peripheral bit-band aliases. The
 * rest of the SoC (GPIO, DMA, RCC, RNG, watchdogs, the other timers, I2C,
 * CAN...) is QEMU's unimplemented-device stub: reads 0, writes ignored,
 * nothing to migrate. QEMU 7.2 maps no CCM RAM and no UART8 (its
 * STM_NUM_USARTS is 7; an access to 0x40007C00 is a bus fault).
 *
 * Layout (QEMU 7.2 hw/arm/stm32f405_soc.c; checked with `info mtree`):
 * TIM2-5 0x40000000-0x40000C00 (IRQ 28, 29, 30, 50), USART1 0x40011000,
 * USART2-5 0x40004400-0x40005000, USART6 0x40011400, UART7 0x40007800,
 * ADC1-6 0x40012000-0x40012500, SPI1 0x40013000,
 * SPI2/3 0x40003800/0x40003C00, SPI4 0x40013400, SPI5/6
 * 0x40015000/0x40015400, SYSCFG 0x40013800, EXTI 0x40013C00.
 */
#include "qrt.h"

static const uint32_t stm32_usarts[] = { 0x40011000u, 0x40004400u, 0x40004800u, 0x40004C00u,
                                         0x40005000u, 0x40011400u, 0x40007800u };
static const uint32_t stm32_adcs[] = { 0x40012000u, 0x40012100u, 0x40012200u,
                                       0x40012300u, 0x40012400u, 0x40012500u };
static const uint32_t stm32_spis[] = { 0x40013000u, 0x40003800u, 0x40003C00u,
                                       0x40013400u, 0x40015000u, 0x40015400u };
#define STM32_SYSCFG 0x40013800u
#define STM32_TIMER_PSC 15
#define STM32_EXTI   0x40013C00u

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
