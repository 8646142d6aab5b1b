/*
 * machine.h - an ARMv6-M machine: core, memory, bus, clock, devices, sections
 * (prefix mach_).
 *
 * A machine is built from a board (devices/boards.c lists them): flash at
 * 0x00000000, SRAM at 0x20000000, the devices' MMIO in the peripheral window
 * at 0x40000000, the core's SCS at 0xE000E000. Everything that is guest
 * state is registered as a section, in a fixed order: the clock, the core's
 * components, SRAM, then devices in board order; that order is save and
 * load order.
 *
 * Loading is all or nothing: mach_load resets the machine to power-on
 * before loading, and again if the load fails, so a failed load leaves the
 * machine exactly in its power-on state, never half-loaded.
 */
#ifndef VMSTRESS_MACHINE_H
#define VMSTRESS_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu.h"
#include "device.h"
#include "savevm.h"

#define MACH_FLASH_BASE 0x00000000u
#define MACH_SRAM_BASE 0x20000000u
#define MACH_PERIPH_BASE 0x40000000u
#define MACH_PERIPH_SIZE 0x20000000u

/* A machine version number: MACH_VERSION(1, 2) is release 1.2's. */
#define MACH_VERSION(major, minor) ((major) * 1000u + (minor))

/* A compat property: a default for property `prop` of every device of type
 * `type` on machine types of one version and older (QEMU's hw_compat_X_Y
 * arrays). The table of version X.Y lists what changed after X.Y, so that
 * machine type X.Y keeps behaving and migrating as release X.Y did. */
typedef struct MachCompat {
    const char *type;
    const char *prop;
    uint32_t value;
} MachCompat;

typedef struct Board {
    const char *name;           /* the machine type sent in the configuration section */
    const char *summary;
    uint32_t flash_size;
    uint32_t sram_size;
    const DevConfig *devices;   /* {NULL}-terminated; a device whose `since` is
                                 * later than `version` is left out */
    /* Versioned machine types (docs/compat.md). `alias` is the unversioned
     * name that resolves to the newest type carrying it; `version` is a
     * MACH_VERSION (0: not versioned, every device of the layout); `compat`
     * lists compat tables, newest first, each {NULL}-terminated; a later
     * entry for the same type and property wins. A property set in the
     * layout (DevConfig.props) wins over all of them. */
    const char *alias;
    unsigned version;
    const MachCompat *const *compat;   /* NULL-terminated, or NULL */
} Board;

extern const Board *const mach_boards[];   /* devices/boards.c, NULL-terminated */
/* The board of a machine type name, or of an alias: the newest versioned
 * type carrying it (a stream then names that type, as QEMU's names
 * "pc-i440fx-7.2" for -M pc). NULL if unknown. */
const Board *mach_board_find(const char *name);
/* Planted bugs (tests/planted): *out is `base` with every device of type
 * BASE replaced by the test-only variant VARIANT, for each "BASE=VARIANT"
 * in overrides, its device list in *devs (caller frees, also on failure).
 * Description variants of core sections are left to mach_desc_overrides,
 * for a machine once built. False with a one-line why. */
bool mach_board_override(const Board *base, const char *const *overrides, size_t n_overrides,
                         Board *out, DevConfig **devs, VmsMsg *why);
/* The default for property `prop` of device type `type` that b's compat
 * tables give; false if they give none. */
bool mach_compat_prop(const Board *b, const char *type, const char *prop, uint32_t *value);

/* One event of guest-visible behaviour, compared between twins as it happens. */
typedef enum MachEventKind {
    MACH_EV_DATA = DEV_OUT_DATA,
    MACH_EV_PINS = DEV_OUT_PINS,
    MACH_EV_RESET = DEV_OUT_RESET,
    MACH_EV_IRQ,                /* an IRQ line changed level (value = level) */
    MACH_EV_CONSOLE,            /* semihosting console byte */
    MACH_EV_EXIT,               /* semihosting exit (value = code) */
} MachEventKind;

typedef struct MachEvent {
    uint64_t cycle;
    uint16_t source;            /* device index (board order), or 0xffff for the core */
    uint8_t kind;               /* MachEventKind */
    uint8_t channel;            /* device output channel or IRQ number */
    uint32_t value;
} MachEvent;

typedef void MachEventSink(void *opaque, const MachEvent *ev);

/* A compared part of the machine: a section's object and its member table. */
typedef struct MachShadow {
    char name[48];              /* "pl011.0", "cpu", "arm_timer.1" */
    void *state;
    size_t size;
    const DevMember *members;
    const VmsDesc *vmsd;        /* the description that should cover the members */
} MachShadow;

typedef struct Machine Machine;

Machine *mach_new(const Board *board, VmsMsg *why);
void mach_free(Machine *m);
/* Load an ELF32 (ARM) image into flash; SRAM segments are copied at reset by
 * the firmware itself. False with why set on a bad file. */
bool mach_load_elf(Machine *m, const char *path, VmsMsg *why);
bool mach_load_image(Machine *m, const void *data, size_t len, VmsMsg *why);

/* Power-on reset: SRAM and device memory (dev_track_memory) zeroed (only
 * the pages written since each was last zeroed), clock to 0, core and
 * devices to reset state. */
void mach_reset(Machine *m);
/* The same power-on reset of everything but tracked memory (SRAM and device
 * memory), which keeps its bytes and marks no page dirty: a destination
 * that already holds guest memory and disk images (as after a pre-copy),
 * about to receive device state. */
void mach_reset_keep_ram(Machine *m);

/* Run for up to `cycles` virtual cycles (stops early on halt or lockup).
 * Returns cycles elapsed. */
uint64_t mach_run(Machine *m, uint64_t cycles);
uint64_t mach_cycles(const Machine *m);
CpuRunState mach_state(const Machine *m);
int mach_exit_code(const Machine *m);
Cpu *mach_cpu(Machine *m);
VClock *mach_clock(Machine *m);

/* Host-side bus access, as the core would make it (tests, fuzz programs).
 * False on a bus error. Reaches flash, SRAM, devices and the SCS. */
bool mach_bus_read(Machine *m, uint32_t addr, unsigned size, uint32_t *val);
bool mach_bus_write(Machine *m, uint32_t addr, unsigned size, uint32_t val);
/* Advance virtual time by `cycles` without executing instructions, firing
 * timers as they fall due (device tests, fuzz programs). */
void mach_idle(Machine *m, uint64_t cycles);

/* Host-side input to a device (board index, channel). False if it has none. */
bool mach_input(Machine *m, unsigned dev_index, unsigned channel, uint32_t value);

/* Devices in board order. */
size_t mach_n_devices(const Machine *m);
Device *mach_device(Machine *m, size_t i);
const DevType *mach_device_type(const Machine *m, size_t i);
void *mach_device_state(Machine *m, size_t i);
uint32_t mach_device_base(const Machine *m, size_t i);     /* its MMIO base address */
/* The device (board index) whose output line *line drives external IRQ
 * irq, or -1 when no device does. */
int mach_irq_driver(const Machine *m, unsigned irq, unsigned *line);

/* Sections and shadow-compared parts, in registration order. */
VmsRegistry *mach_registry(Machine *m);
size_t mach_n_shadows(const Machine *m);
const MachShadow *mach_shadow(Machine *m, size_t i);     /* counts as touching the state */
/* How many sections, from the first, must load before any device section:
 * the clock (timers arm against the loaded time), the core (devices'
 * post_load drive their lines into the loaded NVIC) and SRAM (memory comes
 * before device state). Device sections follow, in any order a stream
 * chooses. Sections and shadows share indices. */
size_t mach_n_fixed_sections(const Machine *m);

/* Use `d` instead of the description registered for every section named
 * `idstr` (test-only variants of core components). Returns how many were
 * replaced. */
size_t mach_replace_desc(Machine *m, const char *idstr, const VmsDesc *d);
/* The core-section description variants among "BASE=VARIANT" overrides,
 * applied with mach_replace_desc; others are skipped (see
 * mach_board_override). False with a one-line why. */
bool mach_desc_overrides(Machine *m, const char *const *overrides, size_t n_overrides, VmsMsg *why);

/* Whole-machine save and load. A load starts from power-on (it resets first,
 * unless nothing has touched the machine since the last reset) and returns
 * there on failure. It counts as writing (dirty log, next zeroing) all of
 * each piece of tracked memory whose section it began to load, even if
 * it failed there, and no other. */
bool mach_save(Machine *m, VmsOut *out, const VmsSaveOpts *opts, VmsError *err);
bool mach_load(Machine *m, const void *buf, size_t len, VmsError *err);
/* Load a stream that carries no tracked memory (saved with the sections of
 * SRAM and of every device buffer with a part, mach_tracked_part, left out:
 * VmsSaveOpts.omit_set) onto that memory as it is: mach_reset_keep_ram
 * (unless nothing touched the machine since its last reset), then the
 * load; pages are marked only where a hook wrote them (or, for a stream
 * that carries tracked memory after all, all of what it reached). On failure
 * the machine goes to power-on (memory zeroed), as mach_load's does. */
bool mach_load_keep_ram(Machine *m, const void *buf, size_t len, VmsError *err);
/* The index of the SRAM section (and shadow part) in registration order. */
size_t mach_sram_section(const Machine *m);
/* A VmsSaveOpts.omit_set with only the SRAM section set: a stream of
 * everything but SRAM (pre-copy's device half, a mach_load_keep_ram). */
const bool *mach_omit_sram(const Machine *m);

/* Guest-visible behaviour goes to the sink as it happens (NULL to stop). */
void mach_set_event_sink(Machine *m, MachEventSink *sink, void *opaque);
/* Called before (after = false) and after each reset hook a reset runs:
 * the core's (part "cpu") and each device's (its name, "pl061.0"), so what
 * a reset hook changed, or left as it was, can be named. NULL to stop. */
typedef void MachResetObserver(void *opaque, const char *part, bool after);
void mach_set_reset_observer(Machine *m, MachResetObserver *fn, void *opaque);
/* Console output (semihosting and, for convenience, nothing else) also goes here. */
void mach_set_console(Machine *m, FILE *f);

/*
 * Dirty-page log. SRAM is divided into MACH_PAGE_SIZE pages (1 KiB, QEMU
 * 7.2's target page size for an M-profile Arm; see CPU_PAGE_BITS), and the
 * machine keeps one dirty flag per page. Every change to SRAM marks its
 * page, through one path per kind of writer: CPU stores (the core sets the
 * flag itself, unconditionally), mach_bus_write (host code), mach_mem_write
 * (devices, through dev_mem_write: a device has no other way to write guest
 * memory). Wholesale changes mark every page: a power-on reset (SRAM
 * zeroed) and every successful mach_load (whatever carried SRAM). A system reset keeps SRAM and
 * marks nothing. The log is always on; it is host state, never migrated.
 */
#define MACH_PAGE_BITS CPU_PAGE_BITS
#define MACH_PAGE_SIZE (1u << MACH_PAGE_BITS)
/* Pages of SRAM (the last one may be partial). */
size_t mach_n_pages(const Machine *m);
/* Copy and clear: bit p of bitmap[p / 8] (least significant bit first) is
 * set when page p was written since the previous sync, or cleared when it
 * was not; n is the bitmap's size in bytes, and pages beyond n * 8 are
 * counted and cleared but not reported (bitmap may be NULL with n = 0 to
 * just clear). Returns the number of dirty pages. */
size_t mach_dirty_sync(Machine *m, uint8_t *bitmap, size_t n);
/* More readers of the same log, one per consumer (the loop's incremental
 * checkpoints beside live pre-copy and --dirty-log): a page written once
 * is reported once to every reader, whichever syncs first. Reader 0 is
 * mach_dirty_sync's; mach_dirty_reader_new returns a new one (1 ..
 * MACH_DIRTY_READERS - 1), or -1 when all are taken. A new reader starts
 * with no page dirty. */
#define MACH_DIRTY_READERS 4
int mach_dirty_reader_new(Machine *m);
/* mach_dirty_sync for one reader (a bad reader reports nothing, returns 0).
 * mach_dirty_pages_total counts reader 0's syncs only. */
size_t mach_dirty_sync_reader(Machine *m, int reader, uint8_t *bitmap, size_t n);
/* Tracked memory: SRAM is number 0, then each buffer a device registered
 * with dev_track_memory (device.h), each with a log like SRAM's, the same
 * readers, and pages of MACH_PAGE_SIZE bytes (the last may be partial). A
 * reset zeroes device memory and marks it all (a system reset too: it is
 * device state), writing only the pages written since it was last zeroed;
 * a load marks all of each piece whose section it reached (mach_load); the
 * device marks what it writes. */
size_t mach_n_tracked(const Machine *m);
/* The part (shadow and section index) whose state is exactly tracked
 * memory k, or SIZE_MAX (then it travels inside a larger part). */
size_t mach_tracked_part(const Machine *m, size_t k);
size_t mach_tracked_pages(const Machine *m, size_t k);
/* mach_dirty_sync_reader for tracked memory k (0: SRAM). */
size_t mach_dirty_sync_tracked(Machine *m, int reader, size_t k, uint8_t *bitmap, size_t n);
/* The sum of every mach_dirty_sync's count since mach_new. */
uint64_t mach_dirty_pages_total(const Machine *m);
/* The device (board index) that last wrote page p through dev_mem_write
 * since power-on, or -1 when none did (CPU stores are not recorded). */
int mach_page_writer(const Machine *m, size_t page);
/* SRAM as QEMU's iterative "ram" section (block "sram"), which mach_load
 * also accepts in place of the "sram" section; NULL when SRAM is not a
 * whole number of pages. */
VmsRam *mach_ram(Machine *m);

/* A digest of all guest state (sections' bytes): for determinism tests. */
uint64_t mach_digest(Machine *m);

/* The descriptions this machine sends, in QEMU's -dump-vmstate shape (a
 * jansson json_t *, caller decrefs): one entry per device type on the board
 * (key: the type name), per extra section a device registers and per core
 * component (key: the section name); each as this machine type saves it
 * (the version its compat properties keep, subsections they switch off left
 * out). vmschkmachine.Name is the machine type. */
void *mach_dump_vmstate(Machine *m);

#endif
