/*
 * machine_int.h - the machine's internals shared by machine.c, device.c and
 * elf.c. Not a public interface: everything outside harness/ goes through
 * machine.h and device.h.
 */
#ifndef VMSTRESS_MACHINE_INT_H
#define VMSTRESS_MACHINE_INT_H

#include "machine.h"

#define MACH_SRC_CORE 0xffffu

/* Bookkeeping whose branches tell nothing about the input (which pages a
 * reset zeroes, which logs a load reached, the walk over every device's
 * reset hook, which stay instrumented themselves): left out of a fuzzing build's
 * coverage feedback, so libFuzzer neither counts their edges nor traces
 * their comparisons, page by page, at every reset. ASan still checks them. */
#if defined(__clang__)
/* noinline: inlined into an instrumented caller, the body would be
 * instrumented after all. */
#define MACH_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define MACH_NO_COVERAGE
#endif

struct Device {
    Machine *m;
    const DevType *type;
    const DevConfig *cfg;
    void *state;
    unsigned index;             /* board order */
    int save_version;           /* its section's save version (0: newest); dev_set_save_version */
    char name[48];              /* "<type>.<k>" */
};

typedef struct MachMmio {
    uint32_t base, size;
    const DevMmioOps *ops;
    void *s;
} MachMmio;

/* One piece of tracked memory and its dirty log: one byte per page, set
 * by writers; readers (mach_dirty_reader_new) each get a map of their own,
 * into which a sync folds `dirty` before clearing it, so one reader never
 * takes another's pages. Reader 0 is mach_dirty_sync's. */
typedef struct MachMemLog {
    uint8_t *buf;
    size_t size, n_pages;
    uint8_t *dirty;
    uint8_t *reader_map[MACH_DIRTY_READERS];
    size_t part;                /* the shadow part whose state is exactly buf, or SIZE_MAX */
    size_t owner;               /* the device that registered it (board index), or SIZE_MAX (SRAM) */
    /* Per page: possibly non-zero since the memory was last zeroed (every
     * power-on reset; device memory also at a system reset), which zeroes
     * only these and the pages `dirty` still holds. Set by every fold of
     * `dirty` (a load marks `dirty` for the memory of the sections it
     * reached), and for all pages wherever the memory can change outside
     * the log: a pointer handed out to it (mach_registry, mach_ram, its
     * part's shadow, its owner's mach_device_state). */
    uint8_t *unzeroed;
} MachMemLog;

/* The machine's own section: the clock and a pending system reset. */
typedef struct MachState {
    VClock clock;
    bool reset_pending;
} MachState;

struct Machine {
    const Board *board;
    uint8_t *flash, *sram;
    MachState ms;
    Cpu *cpu;
    CpuBus bus;

    Device *devs;
    size_t n_devs;

    MachMmio *mmio;             /* sorted by base, non-overlapping */
    size_t n_mmio, cap_mmio;

    /* Tracked memory (machine.h): mem[0] is SRAM, whose dirty bytes the
     * core shares and sets on its stores; the others are device buffers
     * (dev_track_memory). mach_dirty_sync clears SRAM's. */
    MachMemLog *mem;
    size_t n_mem, cap_mem;
    size_t n_pages;             /* SRAM's */
    uint64_t dirty_total;
    unsigned n_readers;         /* readers of every log (mach_dirty_reader_new) */
    uint16_t *page_writer;      /* per page: last device writer (board index), or MACH_SRC_CORE */
    VmsRam ram;                 /* SRAM as the iterative "ram" section */

    VmsRegistry reg;
    MachShadow *shadows;
    size_t n_shadows, cap_shadows;
    size_t n_fixed;             /* sections before the first device's (mach_n_fixed_sections) */
    size_t sram_sec;            /* the SRAM section's index (mach_sram_section) */
    bool *omit_sram;            /* per section: only sram_sec set (mach_omit_sram) */

    /* The SRAM section: one buffer field covering all of SRAM. */
    VmsField sram_fields[2];
    VmsDesc sram_vmsd;
    DevMember sram_members[2];

    MachEventSink *sink;
    void *sink_opaque;
    MachResetObserver *reset_obs;   /* mach_set_reset_observer */
    void *reset_obs_opaque;
    FILE *console;
    bool quiet;                 /* resetting: no events */
    /* Nothing has been able to touch the state since mach_reset, so
     * mach_load need not reset first. Every entry point that runs guest or
     * device code (hooks included) or hands out a pointer into the state
     * clears it (mach_touch); only mach_reset sets it. */
    bool at_power_on;
    /* The same since mach_reset or mach_reset_keep_ram: mach_load_keep_ram
     * need not reset first. */
    bool at_reset;
    VmsOut scratch;             /* mach_digest's buffer */
};

/* machine.c */
void mach_emit(Machine *m, uint16_t source, MachEventKind kind, unsigned channel, uint32_t value);
bool mach_add_section(Machine *m, const VmsDesc *vmsd, void *opaque, const DevMember *members,
                      size_t size, const char *shadow_name, VmsMsg *why);
void mach_request_reset(Machine *m);
/* Block access to guest memory for bus masters other than the CPU (see
 * dev_mem_read/dev_mem_write). mach_mem_write is the single path by which
 * anything but a CPU store changes SRAM; `writer` (the device's board index)
 * is recorded as the last device writer of each page it writes. */
bool mach_mem_read(Machine *m, uint32_t addr, void *buf, size_t len);
bool mach_mem_write(Machine *m, unsigned writer, uint32_t addr, const void *buf, size_t len);
static inline Machine *mach_touch(Machine *m)
{
    m->at_power_on = m->at_reset = false;
    return m;
}
/* Mark the pages of SRAM bytes [off, off + len) dirty (len > 0). */
void mach_mark_dirty(Machine *m, uint32_t off, size_t len);
/* Mark bytes [off, off + len) of tracked memory k dirty (len > 0). */
void mach_mark_tracked(Machine *m, size_t k, size_t off, size_t len);
/* Add a device buffer to the tracked memory (dev_track_memory). */
bool mach_track_memory(Machine *m, size_t owner, void *buf, size_t size);
bool mach_map(Machine *m, uint32_t base, uint32_t size, const DevMmioOps *ops, void *s);

/* elf.c: validate a whole ELF32 ARM image, then copy its loadable bytes into
 * flash (erased to 0xff first). Nothing is written unless all of it is valid. */
bool elf_load_flash(const void *data, size_t len, uint8_t *flash, uint32_t flash_base,
                    uint32_t flash_size, VmsMsg *why);

#endif
