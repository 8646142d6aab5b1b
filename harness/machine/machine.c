/*
 * machine.c - an ARMv6-M machine built from a board. See machine.h.
 *
 * Sections, in registration order (also save and load order):
 *   1. "vmstress-machine": the virtual clock's cycle count and a pending
 *      system-reset request (both guest-observable, neither owned by a device);
 *   2. the core's components, as cpu_components lists them;
 *   3. "sram": all of SRAM as one buffer;
 *   4. devices in board order, each device's extra sections (registered by
 *      its realize) before its own.
 * The clock comes first so that timers loaded later are armed against the
 * loaded time. Sections 1-3 must precede any device's in a stream
 * (mach_n_fixed_sections): devices' post_load arm timers against the loaded
 * clock and drive their lines into the loaded NVIC, and RAM precedes device
 * state in QEMU's streams too. Device sections may come in any order; the
 * loop's load-order oracle permutes them.
 *
 * Time: the clock counts cycles; the core adds them while executing and
 * sleeping; mach_run fires due timers between cpu_exec slices (the core
 * returns at every timer deadline, so a timer fires at exactly its cycle).
 */
#include <stdlib.h>
#include <string.h>

#include "machine_int.h"

/* --------------------------------------------------------- the section */

static bool clock_in_range(void *opaque, int version_id, VmsMsg *why)
{
    uint64_t c = ((const MachState *)opaque)->clock.cycles;
    if (c > VCLOCK_MAX_CYCLES)
        return vms_fail(why, "cycles %llu exceeds the clock's range (%llu)", (unsigned long long)c,
                        (unsigned long long)VCLOCK_MAX_CYCLES);
    return true;
}

static bool machine_post_load(void *opaque, int version_id, VmsMsg *why)
{
    MachState *ms = opaque;
    /* next_cycle is derived: recompute it for the loaded time. */
    vclock_set_cycles(&ms->clock, ms->clock.cycles);
    return true;
}

static const VmsField machine_fields[] = {
    { .name = "cycles", .offset = offsetof(MachState, clock.cycles), .size = sizeof(uint64_t),
      .info = &vms_info_uint64, .flags = VMS_SINGLE },
    VMS_VALIDATE_WHY("cycles within the clock's range", clock_in_range),
    VMS_BOOL(reset_pending, MachState),
    VMS_END_OF_LIST(),
};

static const VmsDesc machine_vmsd = {
    .name = "vmstress-machine",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = machine_fields,
    .post_load = machine_post_load,
};

static const DevMember machine_members[] = {
    DEV_MEMBER(MachState, clock.cycles),
    DEV_VOLATILE(MachState, clock.next_cycle, "derived from the armed timers; recomputed on load"),
    DEV_HOST(MachState, clock.armed, "list links of armed timers; each timer's deadline is its owner's state"),
    DEV_HOST(MachState, clock.n_timers, "timers initialised at realize: configuration, not guest state"),
    DEV_HOST(MachState, clock.kick, "host pointer to the core's wake-up flag"),
    DEV_MEMBER(MachState, reset_pending),
    DEV_MEMBERS_END,
};

/* ------------------------------------------------------------- events */

void mach_emit(Machine *m, uint16_t source, MachEventKind kind, unsigned channel, uint32_t value)
{
    if (!m->sink || m->quiet)
        return;
    MachEvent ev = {
        .cycle = m->ms.clock.cycles,
        .source = source,
        .kind = (uint8_t)kind,
        .channel = (uint8_t)channel,
        .value = value,
    };
    m->sink(m->sink_opaque, &ev);
}

void mach_set_event_sink(Machine *m, MachEventSink *sink, void *opaque)
{
    m->sink = sink;
    m->sink_opaque = opaque;
}

void mach_set_console(Machine *m, FILE *f) { m->console = f; }

/* ----------------------------------------------------------------- bus */

static MachMmio *find_mmio(Machine *m, uint32_t addr)
{
    size_t lo = 0, hi = m->n_mmio;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        MachMmio *r = &m->mmio[mid];
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->size)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static bool in_range(uint32_t addr, unsigned size, uint32_t base, uint32_t len)
{
    return addr >= base && addr - base < len && len - (addr - base) >= size;
}

static uint32_t load_le(const uint8_t *p, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Everything but flash and SRAM, which the core reaches directly. */
static bool bus_read(void *opaque, uint32_t addr, unsigned size, uint32_t *val)
{
    Machine *m = opaque;
    MachMmio *r = find_mmio(m, addr);
    if (!r || !in_range(addr, size, r->base, r->size))
        return false;
    *val = r->ops->read ? r->ops->read(r->s, addr - r->base, size) : 0;
    return true;
}

static bool bus_write(void *opaque, uint32_t addr, unsigned size, uint32_t val)
{
    Machine *m = opaque;
    MachMmio *r = find_mmio(m, addr);
    if (!r || !in_range(addr, size, r->base, r->size))
        return false;
    if (r->ops->write)
        r->ops->write(r->s, addr - r->base, val, size);
    return true;
}

bool mach_bus_read(Machine *m, uint32_t addr, unsigned size, uint32_t *val)
{
    mach_touch(m);      /* device reads have side effects (FIFOs, clear-on-read) */
    if (size != 1 && size != 2 && size != 4)
        return false;
    if (in_range(addr, size, MACH_FLASH_BASE, m->board->flash_size)) {
        *val = load_le(m->flash + (addr - MACH_FLASH_BASE), size);
        return true;
    }
    if (in_range(addr, size, MACH_SRAM_BASE, m->board->sram_size)) {
        *val = load_le(m->sram + (addr - MACH_SRAM_BASE), size);
        return true;
    }
    return bus_read(m, addr, size, val);
}

bool mach_bus_write(Machine *m, uint32_t addr, unsigned size, uint32_t val)
{
    mach_touch(m);
    if (size != 1 && size != 2 && size != 4)
        return false;
    if (in_range(addr, size, MACH_FLASH_BASE, m->board->flash_size))
        return false;   /* flash is read-only to the guest */
    if (in_range(addr, size, MACH_SRAM_BASE, m->board->sram_size)) {
        uint8_t *p = m->sram + (addr - MACH_SRAM_BASE);
        for (unsigned i = 0; i < size; i++)
            p[i] = (uint8_t)(val >> (8 * i));
        mach_mark_dirty(m, addr - MACH_SRAM_BASE, size);
        return true;
    }
    return bus_write(m, addr, size, val);
}

/* The range [addr, addr+len) inside [base, base+size), without overflow. */
static bool block_in(uint32_t addr, size_t len, uint32_t base, uint32_t size)
{
    return addr >= base && addr - base <= size && len <= size - (addr - base);
}

bool mach_mem_read(Machine *m, uint32_t addr, void *buf, size_t len)
{
    mach_touch(m);
    if (block_in(addr, len, MACH_FLASH_BASE, m->board->flash_size)) {
        memcpy(buf, m->flash + (addr - MACH_FLASH_BASE), len);
        return true;
    }
    if (block_in(addr, len, MACH_SRAM_BASE, m->board->sram_size)) {
        memcpy(buf, m->sram + (addr - MACH_SRAM_BASE), len);
        return true;
    }
    return false;
}

bool mach_mem_write(Machine *m, unsigned writer, uint32_t addr, const void *buf, size_t len)
{
    mach_touch(m);
    if (!block_in(addr, len, MACH_SRAM_BASE, m->board->sram_size))
        return false;   /* flash is read-only, MMIO is not memory */
    if (len == 0)
        return true;
    uint32_t off = addr - MACH_SRAM_BASE;
    memcpy(m->sram + off, buf, len);
    mach_mark_dirty(m, off, len);
    for (size_t p = off >> MACH_PAGE_BITS; p <= (off + len - 1) >> MACH_PAGE_BITS; p++)
        m->page_writer[p] = (uint16_t)writer;
    return true;
}

/* ------------------------------------------------------ dirty-page log */

void mach_mark_tracked(Machine *m, size_t k, size_t off, size_t len)
{
    size_t first = off >> MACH_PAGE_BITS, last = (off + len - 1) >> MACH_PAGE_BITS;
    memset(m->mem[k].dirty + first, 1, last - first + 1);
}

void mach_mark_dirty(Machine *m, uint32_t off, size_t len) { mach_mark_tracked(m, 0, off, len); }


/* Tracked memory may change where its log cannot see it: the next zeroing
 * zeroes all of it. */
static void mem_escapes(MachMemLog *l) { memset(l->unzeroed, 1, l->n_pages); }

/* Every log of memory that may change through the state of shadow part
 * `part` or device `dev` (SIZE_MAX: none) handed out as a pointer. */
static void escapes_through(Machine *m, size_t part, size_t dev)
{
    for (size_t k = 0; k < m->n_mem; k++)
        if ((part != SIZE_MAX && m->mem[k].part == part) || (dev != SIZE_MAX && m->mem[k].owner == dev))
            mem_escapes(&m->mem[k]);
}


size_t mach_n_pages(const Machine *m) { return m->n_pages; }

int mach_page_writer(const Machine *m, size_t page)
{
    return page < m->n_pages && m->page_writer[page] != MACH_SRC_CORE ? m->page_writer[page] : -1;
}

VmsRam *mach_ram(Machine *m)
{
    mem_escapes(&m->mem[0]);    /* loads through it bypass the log */
    return mach_touch(m)->reg.ram;
}
uint64_t mach_dirty_pages_total(const Machine *m) { return m->dirty_total; }

/* The first page at or after p whose byte is set in `a` or in `b` (want
 * set) or clear in both (want clear), or n_pages; eight pages at a time
 * where they all go the other way (a word of the two maps OR'ed has no
 * zero byte, or is zero). */
MACH_NO_COVERAGE static size_t next_either(const uint8_t *a, const uint8_t *b, size_t n_pages, size_t p,
                                           bool want_set)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; p + 8 <= n_pages; p += 8) {
        uint64_t wa, wb;
        memcpy(&wa, a + p, sizeof(wa));
        memcpy(&wb, b + p, sizeof(wb));
        uint64_t w = wa | wb;
        if (want_set ? w != 0 : ((w - ones) & ~w & highs) != 0)
            break;
    }
    while (p < n_pages && (a[p] || b[p]) != want_set)
        p++;
    return p;
}

/* The first page at or after p whose byte in map (n_pages bytes) is set,
 * or n_pages: eight clear bytes are skipped at once. The dirty logs' scan,
 * at every sync: next_either(map, map, ...) would read each word twice. */
MACH_NO_COVERAGE static size_t next_set(const uint8_t *map, size_t n_pages, size_t p)
{
    for (; p + 8 <= n_pages; p += 8) {
        uint64_t w;
        memcpy(&w, map + p, sizeof(w));
        if (w)
            break;
    }
    while (p < n_pages && !map[p])
        p++;
    return p;
}

/* Every reader gets the pages written since any reader last synced; so
 * does the next zeroing (`unzeroed`). */
MACH_NO_COVERAGE static void fold_dirty(Machine *m, MachMemLog *l)
{
    for (size_t p = 0; (p = next_set(l->dirty, l->n_pages, p)) < l->n_pages; p++) {
        l->dirty[p] = 0;
        l->unzeroed[p] = 1;
        for (unsigned r = 0; r < m->n_readers; r++)
            l->reader_map[r][p] = 1;
    }
}

/* A reader's map (all clear) for every log from `from` on. */
static bool add_reader_maps(Machine *m, unsigned reader, size_t from)
{
    for (size_t k = from; k < m->n_mem; k++) {
        MachMemLog *l = &m->mem[k];
        fold_dirty(m, l);       /* what was written before it is the others' */
        if (!l->reader_map[reader] && !(l->reader_map[reader] = calloc(l->n_pages ? l->n_pages : 1, 1)))
            return false;
    }
    return true;
}

int mach_dirty_reader_new(Machine *m)
{
    if (m->n_readers >= MACH_DIRTY_READERS || !add_reader_maps(m, m->n_readers, 0))
        return -1;
    return (int)m->n_readers++;
}

/* A buffer of `size` bytes of device `owner` (SIZE_MAX: SRAM), its log
 * and a map per reader; every page counts as possibly non-zero until the
 * first zeroing. */
static bool mem_add(Machine *m, size_t owner, void *buf, size_t size)
{
    if (!vms_grow((void **)&m->mem, &m->cap_mem, m->n_mem, sizeof(*m->mem)))
        return false;
    MachMemLog *l = &m->mem[m->n_mem];
    *l = (MachMemLog){ .buf = buf, .size = size, .part = SIZE_MAX, .owner = owner };
    l->n_pages = (size + MACH_PAGE_SIZE - 1) >> MACH_PAGE_BITS;
    l->dirty = calloc(l->n_pages ? l->n_pages : 1, 1);
    l->unzeroed = malloc(l->n_pages ? l->n_pages : 1);
    if (!l->dirty || !l->unzeroed) {
        free(l->dirty);
        free(l->unzeroed);
        return false;
    }
    mem_escapes(l);
    m->n_mem++;
    for (unsigned r = 0; r < m->n_readers; r++)
        if (!add_reader_maps(m, r, m->n_mem - 1))
            return false;
    return true;
}

bool mach_track_memory(Machine *m, size_t owner, void *buf, size_t size)
{
    for (size_t k = 0; k < m->n_mem; k++)
        if ((uint8_t *)buf < m->mem[k].buf + m->mem[k].size && m->mem[k].buf < (uint8_t *)buf + size)
            return false;       /* overlaps tracked memory */
    return size && mem_add(m, owner, buf, size);
}

size_t mach_n_tracked(const Machine *m) { return m->n_mem; }
size_t mach_tracked_part(const Machine *m, size_t k) { return k < m->n_mem ? m->mem[k].part : SIZE_MAX; }
size_t mach_tracked_pages(const Machine *m, size_t k) { return k < m->n_mem ? m->mem[k].n_pages : 0; }

size_t mach_dirty_sync_tracked(Machine *m, int reader, size_t k, uint8_t *bitmap, size_t n)
{
    size_t count = 0;
    if (n)
        memset(bitmap, 0, n);
    if (reader < 0 || (unsigned)reader >= m->n_readers || k >= m->n_mem)
        return 0;
    MachMemLog *l = &m->mem[k];
    fold_dirty(m, l);
    uint8_t *map = l->reader_map[reader];
    for (size_t p = 0; (p = next_set(map, l->n_pages, p)) < l->n_pages; p++) {
        map[p] = 0;
        count++;
        if (p / 8 < n)
            bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
    }
    return count;
}

size_t mach_dirty_sync_reader(Machine *m, int reader, uint8_t *bitmap, size_t n)
{
    return mach_dirty_sync_tracked(m, reader, 0, bitmap, n);
}

size_t mach_dirty_sync(Machine *m, uint8_t *bitmap, size_t n)
{
    size_t count = mach_dirty_sync_reader(m, 0, bitmap, n);
    m->dirty_total += count;
    return count;
}

bool mach_map(Machine *m, uint32_t base, uint32_t size, const DevMmioOps *ops, void *s)
{
    if (size == 0 || (uint64_t)base + size > (uint64_t)MACH_PERIPH_BASE + MACH_PERIPH_SIZE ||
        base < MACH_PERIPH_BASE)
        return false;
    size_t at = 0;
    while (at < m->n_mmio && m->mmio[at].base < base)
        at++;
    if (at > 0 && m->mmio[at - 1].base + m->mmio[at - 1].size > base)
        return false;
    if (at < m->n_mmio && base + size > m->mmio[at].base)
        return false;
    if (!vms_grow((void **)&m->mmio, &m->cap_mmio, m->n_mmio, sizeof(*m->mmio)))
        return false;
    memmove(&m->mmio[at + 1], &m->mmio[at], (m->n_mmio - at) * sizeof(*m->mmio));
    m->mmio[at] = (MachMmio){ base, size, ops, s };
    m->n_mmio++;
    return true;
}

/* -------------------------------------------------------- semihosting */

#define SH_SYS_WRITEC 0x03
#define SH_SYS_WRITE0 0x04
#define SH_SYS_EXIT 0x18
#define SH_SYS_EXIT_EXTENDED 0x20
#define SH_ADP_APPLICATION_EXIT 0x20026u
#define SH_WRITE0_MAX 4096u     /* a runaway string stops here */

static void console_byte(Machine *m, uint8_t c)
{
    if (m->console)
        fputc(c, m->console);
    mach_emit(m, MACH_SRC_CORE, MACH_EV_CONSOLE, 0, c);
}

static void guest_exit(Machine *m, Cpu *cpu, int code)
{
    if (m->console)
        fflush(m->console);
    mach_emit(m, MACH_SRC_CORE, MACH_EV_EXIT, 0, (uint32_t)code);
    cpu_halt(cpu, code);
}

static bool semihost(void *opaque, Cpu *cpu)
{
    Machine *m = opaque;
    uint32_t op = cpu_reg(cpu, 0), arg = cpu_reg(cpu, 1), v;
    switch (op) {
    case SH_SYS_WRITEC:
        if (mach_bus_read(m, arg, 1, &v))
            console_byte(m, (uint8_t)v);
        return true;
    case SH_SYS_WRITE0:
        for (uint32_t i = 0; i < SH_WRITE0_MAX && mach_bus_read(m, arg + i, 1, &v) && v; i++)
            console_byte(m, (uint8_t)v);
        return true;
    case SH_SYS_EXIT:
        /* AArch32: r1 is the reason itself; anything but a normal exit fails. */
        guest_exit(m, cpu, arg == SH_ADP_APPLICATION_EXIT ? 0 : 1);
        return true;
    case SH_SYS_EXIT_EXTENDED: {
        uint32_t reason, code;
        if (!mach_bus_read(m, arg, 4, &reason) || !mach_bus_read(m, arg + 4, 4, &code))
            guest_exit(m, cpu, 1);
        else
            guest_exit(m, cpu, reason == SH_ADP_APPLICATION_EXIT ? (int)code : 1);
        return true;
    }
    default:
        cpu_set_reg(cpu, 0, 0xffffffffu);   /* unsupported: the call fails */
        return true;
    }
}

static void sysreset(void *opaque)
{
    mach_request_reset(opaque);
}

/* ------------------------------------------------------------- resets */

void mach_request_reset(Machine *m)
{
    m->ms.reset_pending = true;
    if (m->cpu)
        cpu_stop(m->cpu);
}

static void disarm_all_timers(VClock *c)
{
    while (c->armed)
        vtimer_del(c->armed);
}

void mach_set_reset_observer(Machine *m, MachResetObserver *fn, void *opaque)
{
    m->reset_obs = fn;
    m->reset_obs_opaque = opaque;
}

MACH_NO_COVERAGE static void observe_reset(Machine *m, const char *part, bool after)
{
    if (m->reset_obs)
        m->reset_obs(m->reset_obs_opaque, part, after);
}

/* Core and devices to their reset state; memory and time are left alone. */
MACH_NO_COVERAGE static void reset_core_and_devices(Machine *m)
{
    m->quiet = true;
    disarm_all_timers(&m->ms.clock);
    /* The core first: its reset clears the NVIC, line levels included, so
     * devices that raise their lines while resetting land in a fresh one. */
    observe_reset(m, "cpu", false);
    cpu_reset(m->cpu);
    observe_reset(m, "cpu", true);
    for (size_t i = 0; i < m->n_devs; i++) {
        if (!m->devs[i].type->reset)
            continue;
        observe_reset(m, m->devs[i].name, false);
        m->devs[i].type->reset(m->devs[i].state);
        observe_reset(m, m->devs[i].name, true);
    }
    m->ms.reset_pending = false;
    m->quiet = false;
}

/* Zero tracked memory from `from` on, but only the pages written since
 * each was last zeroed: the rest are zero already. Then every page counts
 * as written for the logs' readers (the memory was replaced), but not for
 * the next zeroing. */
MACH_NO_COVERAGE static void zero_tracked(Machine *m, size_t from)
{
    for (size_t k = from; k < m->n_mem; k++) {
        MachMemLog *l = &m->mem[k];
        size_t p = 0;
        while ((p = next_either(l->dirty, l->unzeroed, l->n_pages, p, true)) < l->n_pages) {
            size_t end = next_either(l->dirty, l->unzeroed, l->n_pages, p, false);
            size_t off = p << MACH_PAGE_BITS, to = end << MACH_PAGE_BITS;
            memset(l->buf + off, 0, (to < l->size ? to : l->size) - off);   /* a run: one memset */
            p = end;
        }
        for (unsigned r = 0; r < m->n_readers; r++)
            memset(l->reader_map[r], 1, l->n_pages);
        memset(l->dirty, 0, l->n_pages);
        memset(l->unzeroed, 0, l->n_pages);
    }
}

void mach_reset(Machine *m)
{
    zero_tracked(m, 0);     /* SRAM and device memory */
    memset(m->page_writer, 0xff, m->n_pages * sizeof(*m->page_writer));
    mach_reset_keep_ram(m);
    m->at_power_on = true;
}

/* Not at power-on afterwards: SRAM and device memory still hold what they
 * held. */
void mach_reset_keep_ram(Machine *m)
{
    disarm_all_timers(&m->ms.clock);
    vclock_set_cycles(&m->ms.clock, 0);
    reset_core_and_devices(m);
    m->at_power_on = false;
    m->at_reset = true;
}

/* A system reset (AIRCR.SYSRESETREQ, watchdog) resets what a real chip's
 * reset line reaches: the core and the peripherals. SRAM keeps its
 * contents (a warm reset does not clear RAM) and time keeps running (the
 * clock is the host's view of elapsed cycles, not a register of the chip). */
static void system_reset(Machine *m)
{
    zero_tracked(m, 1);     /* device memory is the devices' state */
    reset_core_and_devices(m);
    mach_emit(m, MACH_SRC_CORE, MACH_EV_RESET, 0, 0);
}

/* --------------------------------------------------------------- run */

static bool stopped(const Machine *m)
{
    CpuRunState s = cpu_run_state(m->cpu);
    return s == CPU_HALTED || s == CPU_LOCKUP;
}

uint64_t mach_run(Machine *m, uint64_t cycles)
{
    VClock *c = &mach_touch(m)->ms.clock;
    uint64_t start = c->cycles, target = start + cycles;
    while (c->cycles < target) {
        if (m->ms.reset_pending)
            system_reset(m);
        if (stopped(m))
            break;
        vclock_run_due(c);
        if (m->ms.reset_pending)
            continue;
        cpu_exec(m->cpu, target - c->cycles);
        vclock_run_due(c);
    }
    /* A reset requested in the last slice stays pending (it is in the machine
     * section) and happens at the start of the next run. */
    return c->cycles - start;
}

void mach_idle(Machine *m, uint64_t cycles)
{
    VClock *c = &mach_touch(m)->ms.clock;
    uint64_t target = c->cycles + cycles;
    vclock_run_due(c);
    while (c->next_cycle <= target) {
        if (c->next_cycle > c->cycles)
            vclock_set_cycles(c, c->next_cycle);
        vclock_run_due(c);
    }
    vclock_set_cycles(c, target);
}

uint64_t mach_cycles(const Machine *m) { return m->ms.clock.cycles; }
CpuRunState mach_state(const Machine *m) { return cpu_run_state(m->cpu); }
int mach_exit_code(const Machine *m) { return cpu_exit_code(m->cpu); }
Cpu *mach_cpu(Machine *m) { return mach_touch(m)->cpu; }
VClock *mach_clock(Machine *m) { return &mach_touch(m)->ms.clock; }

bool mach_input(Machine *m, unsigned dev_index, unsigned channel, uint32_t value)
{
    if (dev_index >= mach_touch(m)->n_devs)
        return false;
    Device *d = &m->devs[dev_index];
    if (!d->type->input)
        return false;
    if (d->type->inputs) {
        unsigned n = 0;
        while (d->type->inputs[n])
            n++;
        if (channel >= n)
            return false;
    }
    d->type->input(d->state, channel, value);
    return true;
}

/* ------------------------------------------------------- construction */

bool mach_add_section(Machine *m, const VmsDesc *vmsd, void *opaque, const DevMember *members,
                      size_t size, const char *shadow_name, VmsMsg *why)
{
    if (members && !dev_members_check(members, size, why))
        return false;
    VmsSection *sec = vms_register(&m->reg, vmsd->name, -1, vmsd, opaque);
    if (!sec)
        return vms_fail(why, "cannot register section '%s'", vmsd->name);
    /* A refused load names a member outside its declared range (VmsCtx.members). */
    sec->members = members;
    if (!vms_grow((void **)&m->shadows, &m->cap_shadows, m->n_shadows, sizeof(*m->shadows)))
        return vms_fail(why, "out of memory");
    MachShadow *sh = &m->shadows[m->n_shadows++];
    memset(sh, 0, sizeof(*sh));
    snprintf(sh->name, sizeof(sh->name), "%s", shadow_name ? shadow_name : vmsd->name);
    sh->state = opaque;
    sh->size = size;
    sh->members = members;
    sh->vmsd = vmsd;
    return true;
}

size_t mach_replace_desc(Machine *m, const char *idstr, const VmsDesc *d)
{
    size_t n = 0;
    mach_touch(m);
    for (size_t i = 0; i < m->reg.n; i++) {
        if (strcmp(m->reg.sec[i].idstr, idstr) != 0)
            continue;
        /* Shadows and sections are added together, so they share the object. */
        for (size_t k = 0; k < m->n_shadows; k++)
            if (m->shadows[k].state == m->reg.sec[i].opaque && m->shadows[k].vmsd == m->reg.sec[i].vmsd)
                m->shadows[k].vmsd = d;
        m->reg.sec[i].vmsd = d;
        n++;
    }
    return n;
}

/* SRAM as a section: the buffer itself is the object, one field covers it,
 * so the shadow compare and the description agree byte for byte. */
static bool add_sram_section(Machine *m, VmsMsg *why)
{
    uint32_t n = m->board->sram_size;
    m->sram_fields[0] = (VmsField){ .name = "sram", .offset = 0, .size = n,
                                    .info = &vms_info_buffer, .flags = VMS_BUFFER };
    m->sram_fields[1] = (VmsField)VMS_END_OF_LIST();
    m->sram_vmsd = (VmsDesc){ .name = "sram", .version_id = 1, .minimum_version_id = 1,
                              .fields = m->sram_fields };
    m->sram_members[0] = (DevMember){ .name = "sram", .offset = 0, .size = n, .kind = DEV_M_STATE,
                                      .elem = DEV_E_U8 };
    m->sram_members[1] = (DevMember)DEV_MEMBERS_END;
    m->sram_sec = m->reg.n;
    return mach_add_section(m, &m->sram_vmsd, m->sram, m->sram_members, n, "sram", why);
}

static bool add_devices(Machine *m, VmsMsg *why)
{
    const DevConfig *cfg = m->board->devices;
    size_t n_cfg = 0;
    m->n_fixed = m->reg.n;      /* everything registered so far precedes devices */
    while (cfg && cfg[n_cfg].type)
        n_cfg++;
    m->devs = calloc(n_cfg ? n_cfg : 1, sizeof(*m->devs));
    if (!m->devs)
        return vms_fail(why, "out of memory");
    for (size_t c = 0; c < n_cfg; c++) {
        /* A versioned machine type has the devices its version had. */
        if (m->board->version && cfg[c].since > m->board->version)
            continue;
        size_t i = m->n_devs;
        const DevType *t = dev_type_find(cfg[c].type);
        if (!t)
            return vms_fail(why, "board '%s' device %zu: unknown device type '%s'",
                            m->board->name, i, cfg[c].type);
        unsigned k = 0;
        for (size_t j = 0; j < i; j++)
            k += m->devs[j].type == t;
        Device *d = &m->devs[i];
        d->m = m;
        d->type = t;
        d->cfg = &cfg[c];
        d->index = (unsigned)i;
        snprintf(d->name, sizeof(d->name), "%s.%u", t->name, k);
        d->state = calloc(1, t->state_size ? t->state_size : 1);
        if (!d->state)
            return vms_fail(why, "out of memory");
        m->n_devs = i + 1;
        VmsMsg sub = { "" };
        if (!dev_members_check(t->members, t->state_size, &sub))
            return vms_fail(why, "%s: member table: %s", d->name, sub.text);
        if (t->realize && !t->realize(d, d->state, &sub))
            return vms_fail(why, "%s: realize failed: %s", d->name, sub.text);
        if (t->vmsd && !mach_add_section(m, t->vmsd, d->state, t->members, t->state_size,
                                         d->name, &sub))
            return vms_fail(why, "%s: %s", d->name, sub.text);
        if (t->vmsd)
            m->reg.sec[m->reg.n - 1].version_id = d->save_version;
    }
    return true;
}

static bool add_core_sections(Machine *m, VmsMsg *why)
{
    CpuComponent comps[16];
    size_t n = cpu_components(m->cpu, comps, 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        VmsMsg sub = { "" };
        if (!mach_add_section(m, comps[i].vmsd, comps[i].opaque, comps[i].members,
                              comps[i].size, comps[i].idstr, &sub))
            return vms_fail(why, "core component '%s': %s", comps[i].idstr, sub.text);
    }
    return true;
}

/* Each tracked buffer's part: the one whose state is exactly the buffer
 * (a section of its own, which a stream can leave out), if any. */
static void find_tracked_parts(Machine *m)
{
    for (size_t k = 0; k < m->n_mem; k++)
        for (size_t i = 0; i < m->n_shadows && m->mem[k].part == SIZE_MAX; i++)
            if (m->shadows[i].state == m->mem[k].buf && m->shadows[i].size == m->mem[k].size)
                m->mem[k].part = i;
}

Machine *mach_new(const Board *board, VmsMsg *why)
{
    Machine *m = calloc(1, sizeof(*m));
    if (!m) {
        vms_fail(why, "out of memory");
        return NULL;
    }
    m->board = board;
    vms_registry_init(&m->reg, board->name);
    vms_out_init(&m->scratch, 0);
    vclock_init(&m->ms.clock);
    m->flash = malloc(board->flash_size ? board->flash_size : 1);
    m->sram = calloc(1, board->sram_size ? board->sram_size : 1);
    m->n_pages = ((size_t)board->sram_size + MACH_PAGE_SIZE - 1) >> MACH_PAGE_BITS;
    m->page_writer = calloc(m->n_pages ? m->n_pages : 1, sizeof(*m->page_writer));
    if (!m->flash || !m->sram || !m->page_writer || !mem_add(m, SIZE_MAX, m->sram, board->sram_size)) {
        vms_fail(why, "out of memory for %u + %u bytes of memory", board->flash_size,
                 board->sram_size);
        mach_free(m);
        return NULL;
    }
    memset(m->flash, 0xff, board->flash_size);     /* erased flash */
    m->bus = (CpuBus){
        .opaque = m,
        .flash = m->flash,
        .flash_size = board->flash_size,
        .sram = m->sram,
        .sram_base = MACH_SRAM_BASE,
        .sram_size = board->sram_size,
        .sram_dirty = m->mem[0].dirty,
        .read = bus_read,
        .write = bus_write,
        .sysreset = sysreset,
        .semihost = semihost,
        .clock = &m->ms.clock,
    };
    if (mach_dirty_reader_new(m) != 0) {     /* reader 0: mach_dirty_sync's */
        vms_fail(why, "out of memory for the dirty log");
        mach_free(m);
        return NULL;
    }
    m->cpu = cpu_new(&m->bus);
    if (!m->cpu) {
        vms_fail(why, "cannot create the core");
        mach_free(m);
        return NULL;
    }
    if (!mach_add_section(m, &machine_vmsd, &m->ms, machine_members, sizeof(MachState),
                          "machine", why) ||
        !add_core_sections(m, why) || !add_sram_section(m, why) || !add_devices(m, why)) {
        mach_free(m);
        return NULL;
    }
    find_tracked_parts(m);
    if (!(m->omit_sram = calloc(m->reg.n, sizeof(*m->omit_sram)))) {
        vms_fail(why, "out of memory");
        mach_free(m);
        return NULL;
    }
    m->omit_sram[m->sram_sec] = true;
    /* SRAM may also travel as QEMU's iterative RAM section (live migration),
     * in whole pages, under an id no device section has. */
    if (board->sram_size && board->sram_size % MACH_PAGE_SIZE == 0) {
        m->ram = (VmsRam){ .block = "sram", .mem = m->sram, .size = board->sram_size,
                           .page_size = MACH_PAGE_SIZE, .section_id = (uint32_t)m->reg.n };
        m->reg.ram = &m->ram;
    }
    mach_reset(m);
    return m;
}

void mach_free(Machine *m)
{
    if (!m)
        return;
    if (m->cpu)
        cpu_free(m->cpu);
    for (size_t i = 0; i < m->n_devs; i++)
        free(m->devs[i].state);
    free(m->devs);
    free(m->mmio);
    free(m->shadows);
    vms_registry_free(&m->reg);
    vms_out_free(&m->scratch);
    free(m->flash);
    free(m->sram);
    for (size_t k = 0; k < m->n_mem; k++) {
        free(m->mem[k].dirty);
        free(m->mem[k].unzeroed);
        for (unsigned r = 0; r < MACH_DIRTY_READERS; r++)
            free(m->mem[k].reader_map[r]);
    }
    free(m->mem);
    free(m->page_writer);
    free(m->omit_sram);
    free(m);
}

/* -------------------------------------------------------- accessors */

size_t mach_n_devices(const Machine *m) { return m->n_devs; }
Device *mach_device(Machine *m, size_t i) { return i < mach_touch(m)->n_devs ? &m->devs[i] : NULL; }
const DevType *mach_device_type(const Machine *m, size_t i) { return i < m->n_devs ? m->devs[i].type : NULL; }
/* A device's state pointer is writable, tracked memory inside it too. */
void *mach_device_state(Machine *m, size_t i)
{
    if (i >= mach_touch(m)->n_devs)
        return NULL;
    escapes_through(m, SIZE_MAX, i);
    return m->devs[i].state;
}
/* Loads through the registry write any state, tracked memory included. */
VmsRegistry *mach_registry(Machine *m)
{
    for (size_t k = 0; k < m->n_mem; k++)
        mem_escapes(&m->mem[k]);
    return &mach_touch(m)->reg;
}
size_t mach_n_shadows(const Machine *m) { return m->n_shadows; }
size_t mach_n_fixed_sections(const Machine *m) { return m->n_fixed; }
/* A shadow's state pointer is writable: it counts as touching. */
const MachShadow *mach_shadow(Machine *m, size_t i)
{
    escapes_through(m, i, SIZE_MAX);
    return i < mach_touch(m)->n_shadows ? &m->shadows[i] : NULL;
}

/* ------------------------------------------------------ firmware */

/* The reset vector is read from flash, so new firmware changes power-on. */
bool mach_load_image(Machine *m, const void *data, size_t len, VmsMsg *why)
{
    return elf_load_flash(data, len, mach_touch(m)->flash, MACH_FLASH_BASE, m->board->flash_size, why);
}

uint32_t mach_device_base(const Machine *m, size_t i)
{
    return i < m->n_devs ? m->devs[i].cfg->base : 0;
}

int mach_irq_driver(const Machine *m, unsigned irq, unsigned *line)
{
    for (size_t i = 0; i < m->n_devs; i++)
        for (unsigned n = 0; n < DEV_MAX_IRQS; n++)
            if (m->devs[i].cfg->irq[n] == (int)irq) {
                *line = n;
                return (int)i;
            }
    return -1;
}

#define MACH_ELF_MAX (16u << 20)

bool mach_load_elf(Machine *m, const char *path, VmsMsg *why)
{
    uint8_t *buf;
    size_t len;
    if (!vms_read_input(path, MACH_ELF_MAX, &buf, &len, why))
        return false;
    bool ok = mach_load_image(m, buf, len, why);
    if (!ok) {
        /* Prefix the file name to the loader's message. */
        char tmp[sizeof(why->text)];
        snprintf(tmp, sizeof(tmp), "%s", why->text);
        if (strncmp(tmp, path, strlen(path)) != 0)
            vms_fail(why, "%s: %s", path, tmp);
    }
    free(buf);
    return ok;
}

/* --------------------------------------------------------- save/load */

/* Saving runs pre_save and post_save hooks, which may write state. */
bool mach_save(Machine *m, VmsOut *out, const VmsSaveOpts *opts, VmsError *err)
{
    return vms_save(&mach_touch(m)->reg, out, opts, err);
}

/* After a load, however it ended: all of every tracked buffer the walk of
 * a section it began may have written counts as written (marked dirty:
 * the readers see it, the next zeroing zeroes it). A buffer that is a part
 * of its own is written only by its section's walk, a buffer inside a
 * larger part by that part's, SRAM also by the RAM section. Hooks write
 * tracked memory only through paths that mark it (dev_mark_dirty,
 * mach_mem_write), so a section the load never reached leaves its buffer
 * alone: a fuzz input without the disk image does not cost a zeroing of
 * the image at the next reset. The marks are cleared for the next load. */
MACH_NO_COVERAGE static void mark_loaded_tracked(Machine *m)
{
    for (size_t i = 0; i < m->reg.n; i++) {
        if (!m->reg.sec[i].loaded)
            continue;
        m->reg.sec[i].loaded = false;
        const uint8_t *st = m->shadows[i].state;        /* sections and shadows share indices */
        for (size_t k = 0; k < m->n_mem; k++) {
            MachMemLog *l = &m->mem[k];
            if (l->part == i ||
                (l->part == SIZE_MAX && st < l->buf + l->size && l->buf < st + m->shadows[i].size))
                memset(l->dirty, 1, l->n_pages);
        }
    }
    if (m->ram.loaded) {
        m->ram.loaded = false;
        memset(m->mem[0].dirty, 1, m->mem[0].n_pages);
    }
}

/* The load itself, onto a machine at power-on (tracked memory zeroed or
 * kept); every failure ends at power-on. */
static bool load_from_power_on(Machine *m, const void *buf, size_t len, VmsError *err)
{
    /* Not through mach_registry, which counts as writing all tracked
     * memory: mark_loaded_tracked counts what the load reached. */
    bool loaded = vms_load(&mach_touch(m)->reg, buf, len, err);
    mark_loaded_tracked(m);
    if (loaded) {
        /* Sections a stream leaves out keep their reset state, so checks
         * that span sections run again once everything is in. */
        VmsMsg why = { "" };
        if (cpu_loaded_state_ok(m->cpu, &why))
            return true;
        vms_error_clear(err);
        err->cls = VMS_ERR_VALIDATE;
        err->offset = len;
        snprintf(err->section, sizeof(err->section), "armv6m-nvic");
        err->instance = 0;
        snprintf(err->field, sizeof(err->field), "active");
        snprintf(err->msg, sizeof(err->msg), "after the whole stream: %s", why.text);
    }
    mach_reset(m);
    return false;
}

/* All or nothing: the load starts from power-on and returns there on failure,
 * so no caller ever sees a machine with some sections loaded and others not. */
bool mach_load(Machine *m, const void *buf, size_t len, VmsError *err)
{
    if (!m->at_power_on)
        mach_reset(m);
    return load_from_power_on(m, buf, len, err);
}

bool mach_load_keep_ram(Machine *m, const void *buf, size_t len, VmsError *err)
{
    if (!m->at_reset)
        mach_reset_keep_ram(m);
    return load_from_power_on(m, buf, len, err);
}

size_t mach_sram_section(const Machine *m) { return m->sram_sec; }
const bool *mach_omit_sram(const Machine *m) { return m->omit_sram; }

/* FNV-1a over the stream without its JSON trailer: every section's bytes. */
uint64_t mach_digest(Machine *m)
{
    VmsSaveOpts opts = { .no_vmdesc = true };
    VmsError err;
    vms_out_reset(&m->scratch);
    if (!vms_save(&mach_touch(m)->reg, &m->scratch, &opts, &err))
        return 0;
    return vms_fnv1a64(VMS_FNV1A64_INIT, m->scratch.buf, m->scratch.len);
}
