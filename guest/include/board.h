/*
 * board.h - the default vmstress machine as the firmware sees it.
 * Must match devices/boards.c (a test checks both against each other).
 */
#ifndef VMSTRESS_GUEST_BOARD_H
#define VMSTRESS_GUEST_BOARD_H

#define BOARD_FLASH_BASE   0x00000000u
#define BOARD_FLASH_SIZE   0x00040000u /* 256 KiB */
#define BOARD_SRAM_BASE    0x20000000u
#define BOARD_SRAM_SIZE    0x00010000u /* 64 KiB */
/* The small board (vmstress-m0-small) differs only in SRAM; programs built
 * for it (<build>/guest/small/) put their stack at the top of this. */
#define BOARD_SMALL_SRAM_SIZE 0x00000800u /* 2 KiB */
#define BOARD_CPU_HZ       100000000u  /* virtual: one cycle per 10 ns */

#define UART0_BASE   0x40000000u  /* pl011 */
#define TIMER0_BASE  0x40001000u  /* sp804 */
#define TIMER1_BASE  0x40002000u  /* sp804 */
#define RTC_BASE     0x40003000u  /* pl031 */
#define GPIO0_BASE   0x40004000u  /* pl061 */
#define GPIO1_BASE   0x40005000u  /* pl061_luminary */
#define WDOG_BASE    0x40006000u  /* cmsdk-apb-watchdog */
#define DMA0_BASE    0x40007000u  /* pl080 */
#define SSP0_BASE    0x40008000u  /* pl022, with a spi-nor flash on its SSI bus */
#define VIRTBLK_BASE 0x40009000u  /* vmstress-virtblk */

#define UART0_IRQ    0
#define TIMER0_IRQ   1
#define TIMER1_IRQ   2
#define RTC_IRQ      3
#define GPIO0_IRQ    4
#define GPIO1_IRQ    5
#define WDOG_IRQ     6
#define DMA0_IRQ     7
#define SSP0_IRQ     8
#define VIRTBLK_IRQ  9

#define TIMER_HZ     1000000u      /* SP804 clock (freq0 = freq1) */
#define WDOG_HZ      1000000u      /* watchdog clock */
#define UART_HZ      24000000u     /* PL011 reference clock */
#define DMA_TICK_NS  1000u         /* PL080: one burst per channel every microsecond */
#define RTC_EPOCH    1700000000u   /* PL031 counter at power-on (the board's "start-time") */

#endif
