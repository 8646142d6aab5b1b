/*
 * cmsdk.h - the ARM CMSDK APB peripherals the MPS2 boards share (UART,
 * timer, SP804-style dual timer), for workloads that include it after
 * qrt.h. Each board defines UART0 (the base of the UART its console uses)
 * before including this; the functions are the board_* hooks qrt.h asks
 * for, so a CMSDK board's workload only lists its own devices and IRQs.
 */
#ifndef VMSTRESS_QEMU_CMSDK_H
#define VMSTRESS_QEMU_CMSDK_H

#include "qrt.h"

const QrtRx board_rx = { UART0 + 0x04, 1u << 1, 1u << 1 };   /* STATE.RXFULL */

int board_getc(void)
{
    return qrt_rx_ready() ? (int)(REG32(UART0) & 0xff) : -1;
}

void board_putc(char c)
{
    while (REG32(UART0 + 0x04) & 1)   /* STATE.TXFULL */
        ;
    REG32(UART0) = (uint8_t)c;
}

/* A CMSDK timer: periodic from `reload`, interrupting. */
static inline void cmsdk_timer_start(uint32_t base, uint32_t reload)
{
    REG32(base + 0x08) = reload;     /* RELOAD */
    REG32(base + 0x04) = reload;     /* VALUE */
    REG32(base + 0x00) = 1 | 8;      /* CTRL: enable, interrupt enable */
}

/* One half of the SP804-style dual timer: periodic, 32-bit, interrupting. */
static inline void cmsdk_dualtimer_start(uint32_t half, uint32_t load)
{
    REG32(half + 0x00) = load;                            /* LOAD */
    REG32(half + 0x08) = (1u << 7) | (1u << 6) | (1u << 5) | (1u << 1);
}

#endif
