/*
 * boards.c - machine layouts. Each board is data: memory sizes and a list of
 * devices with base address, IRQ lines and properties. The default board
 * must match guest/include/board.h, which the firmware is built against.
 */
#include "../guest/include/board.h"
#include "machine.h"

#define IRQ1(a) { (a), -1, -1, -1 }
#define NO_IRQ { -1, -1, -1, -1 }

static const DevConfig default_devices[] = {
    { "pl011", UART0_BASE, IRQ1(UART0_IRQ), { { "clk-hz", UART_HZ } } },
    { "sp804", TIMER0_BASE, IRQ1(TIMER0_IRQ), { { "freq0", TIMER_HZ }, { "freq1", TIMER_HZ } } },
    { "sp804", TIMER1_BASE, IRQ1(TIMER1_IRQ), { { "freq0", TIMER_HZ }, { "freq1", TIMER_HZ } } },
    { "pl031", RTC_BASE, IRQ1(RTC_IRQ), { { "start-time", RTC_EPOCH } } },
    { "pl061", GPIO0_BASE, IRQ1(GPIO0_IRQ), { { NULL, 0 } } },
    { "pl061_luminary", GPIO1_BASE, IRQ1(GPIO1_IRQ), { { NULL, 0 } } },
    { "cmsdk-apb-watchdog", WDOG_BASE, IRQ1(WDOG_IRQ), { { "clk-hz", WDOG_HZ } } },
    { NULL, 0, NO_IRQ, { { NULL, 0 } } },
};

static const DevConfig no_devices[] = {
    { NULL, 0, NO_IRQ, { { NULL, 0 } } },
};

static const Board board_default = {
    .name = "vmstress-m0",
    .summary = "Cortex-M0 with PL011, 2x SP804, PL031, PL061, Luminary PL061, CMSDK watchdog",
    .flash_size = BOARD_FLASH_SIZE,
    .sram_size = BOARD_SRAM_SIZE,
    .devices = default_devices,
};

static const Board board_core = {
    .name = "vmstress-m0-core",
    .summary = "Cortex-M0 with memory only (CPU and firmware tests)",
    .flash_size = BOARD_FLASH_SIZE,
    .sram_size = BOARD_SRAM_SIZE,
    .devices = no_devices,
};

/* The default board with 2 KiB of SRAM, for fuzzing: a stream is then
 * mostly device state (a 64 KiB SRAM section would take 98% of every input
 * and of every load), so byte mutations and load time go where validators
 * are. Runs the programs built for it (the programs in <build>/guest/small/). */
static const Board board_small = {
    .name = "vmstress-m0-small",
    .summary = "the default board with 2 KiB of SRAM (fuzzing; firmware from guest/small/)",
    .flash_size = BOARD_FLASH_SIZE,
    .sram_size = BOARD_SMALL_SRAM_SIZE,
    .devices = default_devices,
};

const Board *const mach_boards[] = { &board_default, &board_core, &board_small, NULL };
