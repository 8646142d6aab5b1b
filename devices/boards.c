/*
 * boards.c - machine layouts and machine types. Each board is data: memory
 * sizes and a list of devices with base address, IRQ lines, properties and
 * the first machine version that has the device. The default layout must
 * match guest/include/board.h, which the firmware is built against.
 *
 * A later machine version adds devices at the end of the layout, one line
 * each with its first version (since), e.g.
 *     { "pl080", DMA_BASE, IRQ1(DMA_IRQ), { { NULL, 0 } }, MACH_VERSION(1, 2) },
 * (V1_0 below: the devices every version has) and a new M0_TYPE line
 * below; see docs/compat.md.
 */
#include "../guest/include/board.h"
#include "machine.h"

#define IRQ1(a) { (a), -1, -1, -1 }
#define NO_IRQ { -1, -1, -1, -1 }
#define V1_0 MACH_VERSION(1, 0)
#define V1_2 MACH_VERSION(1, 2)   /* release 1.2: devices that touch guest memory */

static const DevConfig default_devices[] = {
    { "pl011", UART0_BASE, IRQ1(UART0_IRQ), { { "clk-hz", UART_HZ } }, V1_0 },
    { "sp804", TIMER0_BASE, IRQ1(TIMER0_IRQ), { { "freq0", TIMER_HZ }, { "freq1", TIMER_HZ } }, V1_0 },
    { "sp804", TIMER1_BASE, IRQ1(TIMER1_IRQ), { { "freq0", TIMER_HZ }, { "freq1", TIMER_HZ } }, V1_0 },
    { "pl031", RTC_BASE, IRQ1(RTC_IRQ), { { "start-time", RTC_EPOCH } }, V1_0 },
    { "pl061", GPIO0_BASE, IRQ1(GPIO0_IRQ), { { NULL, 0 } }, V1_0 },
    { "pl061_luminary", GPIO1_BASE, IRQ1(GPIO1_IRQ), { { NULL, 0 } }, V1_0 },
    { "cmsdk-apb-watchdog", WDOG_BASE, IRQ1(WDOG_IRQ), { { "clk-hz", WDOG_HZ } }, V1_0 },
    { "pl080", DMA0_BASE, IRQ1(DMA0_IRQ), { { "tick-ns", DMA_TICK_NS } }, V1_2 },
    { "pl022", SSP0_BASE, IRQ1(SSP0_IRQ), { { NULL, 0 } }, V1_2 },
    /* No MMIO: a slave on the PL022's SSI bus (device.h, dev_ssi_transfer). */
    { "spi-nor", 0, NO_IRQ, { { "ssi-bus", SSP0_BASE } }, V1_2 },
    { "vmstress-virtblk", VIRTBLK_BASE, IRQ1(VIRTBLK_IRQ), { { NULL, 0 } }, V1_2 },
    { NULL, 0, NO_IRQ, { { NULL, 0 } }, 0 },
};

static const DevConfig no_devices[] = {
    { NULL, 0, NO_IRQ, { { NULL, 0 } }, 0 },
};

/*
 * The versioned machine types of this layout (docs/compat.md, "Adding a
 * machine type"). compat_X_Y lists what changed after release X.Y, so that
 * vmstress-m0-X.Y keeps behaving and migrating as X.Y did; a type gets the
 * tables of its own version and of every later one, newest first.
 */
static const MachCompat compat_1_0[] = {
    { "pl011", "test-registers", 0 },       /* 1.1: UARTTCR/UARTITOP, subsection */
    { "sp804", "integration-test", 0 },     /* 1.1: TimerITCR/TimerITOP, sp804 v2 */
    { NULL, NULL, 0 },
};

static const MachCompat *const compat_for_1_0[] = { compat_1_0, NULL };

#define M0_SUMMARY "Cortex-M0 with PL011, 2x SP804, PL031, PL061, Luminary PL061, CMSDK watchdog; " \
    "from 1.2 also PL080 DMA, PL022 with SPI NOR flash, virtqueue block device"
#define M0_TYPE(major, minor, compat_tables)                                                \
    {                                                                                       \
        .name = "vmstress-m0-" #major "." #minor, .summary = M0_SUMMARY " (release "        \
        #major "." #minor ")", .flash_size = BOARD_FLASH_SIZE, .sram_size = BOARD_SRAM_SIZE, \
        .devices = default_devices, .alias = "vmstress-m0",                                  \
        .version = MACH_VERSION(major, minor), .compat = (compat_tables),                  \
    }

static const Board board_m0_1_2 = M0_TYPE(1, 2, NULL);
static const Board board_m0_1_1 = M0_TYPE(1, 1, NULL);
static const Board board_m0_1_0 = M0_TYPE(1, 0, compat_for_1_0);

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
 * are. Runs the programs built for it (the programs in <build>/guest/small/).
 * Like vmstress-m0-core, a test tool, not versioned: it has every device of
 * the layout and the newest devices' behaviour, and its streams promise
 * nothing across releases. */
static const Board board_small = {
    .name = "vmstress-m0-small",
    .summary = "the default board with 2 KiB of SRAM (fuzzing; firmware from guest/small/)",
    .flash_size = BOARD_FLASH_SIZE,
    .sram_size = BOARD_SMALL_SRAM_SIZE,
    .devices = default_devices,
};

const Board *const mach_boards[] = { &board_m0_1_2, &board_m0_1_1, &board_m0_1_0, &board_core, &board_small, NULL };
