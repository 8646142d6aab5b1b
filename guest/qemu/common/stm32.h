/*
 * stm32.h - the STM32F2/F4 peripherals the netduino boards share (USART,
 * general-purpose timers TIM2-TIM5), for workloads that include it after
 * qrt.h. Each board defines USART1 (its console's USART base) and TIM(i)
 * (the base of TIM2+i) before including this; the functions are the
 * board_* hooks qrt.h asks for, plus the common start of board_init.
 */
#ifndef VMSTRESS_QEMU_STM32_H
#define VMSTRESS_QEMU_STM32_H

#include "qrt.h"

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

/* The USART both ways, and TIM2-TIM5 periodic with update interrupts. */
static inline void stm32_usart_and_timers_start(void)
{
    REG32(USART1 + 0x0C) = (1u << 13) | (1u << 3) | (1u << 2);  /* CR1: UE, TE, RE */
    static const uint32_t reload[4] = { 3000, 7777, 12000, 40000 };
    for (unsigned i = 0; i < 4; i++) {
        REG32(TIM(i) + 0x28) = 1;           /* PSC: divide by 2 */
        REG32(TIM(i) + 0x2C) = reload[i];   /* ARR */
        REG32(TIM(i) + 0x0C) = 1;           /* DIER: UIE */
        REG32(TIM(i) + 0x00) = 1;           /* CR1: CEN */
    }
}

#endif
