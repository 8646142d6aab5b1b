/*
 * test_machine.c - the machine's specification: behaviour of whole machines
 * running the guest programs, whole-machine save/load, and the loaders and
 * checks the machine applies to its inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../guest/include/board.h"
#include "machine.h"

#define BOARD_DEFAULT "vmstress-m0"
#define BOARD_CORE "vmstress-m0-core"
#define BOARD_SMALL "vmstress-m0-small"
#define RUN_LIMIT 50000000ull

/* ---------------------------------------------------------- helpers */

static const char *guest(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/%s.elf", VMSTRESS_GUEST_DIR, name);
    return path;
}

static Machine *boot(const char *board, const char *program)
{
    VmsMsg why = { "" };
    const Board *b = mach_board_find(board);
    assert_non_null(b);
    Machine *m = mach_new(b, &why);
    if (!m)
        fail_msg("mach_new(%s): %s", board, why.text);
    if (program && !mach_load_elf(m, guest(program), &why))
        fail_msg("loading %s: %s", program, why.text);
    mach_reset(m);
    return m;
}

typedef struct Events {
    char console[256];
    size_t n_console;
    unsigned n_irq, n_reset, n_exit;
    int exit_code;
} Events;

static void record(void *opaque, const MachEvent *ev)
{
    Events *e = opaque;
    switch (ev->kind) {
    case MACH_EV_CONSOLE:
    case MACH_EV_DATA:
        if (e->n_console + 1 < sizeof(e->console))
            e->console[e->n_console++] = (char)ev->value;
        break;
    case MACH_EV_IRQ: e->n_irq++; break;
    case MACH_EV_RESET: e->n_reset++; break;
    case MACH_EV_EXIT: e->n_exit++; e->exit_code = (int)ev->value; break;
    default: break;
    }
}

static void run_to_exit(Machine *m)
{
    mach_run(m, RUN_LIMIT);
    assert_int_equal(mach_state(m), CPU_HALTED);
}

static void save(Machine *m, VmsOut *out, bool vmdesc)
{
    VmsSaveOpts o = { .no_vmdesc = !vmdesc };
    VmsError err;
    vms_out_init(out, 0);
    if (!mach_save(m, out, &o, &err)) {
        char line[400];
        vms_error_format(&err, line, sizeof(line));
        fail_msg("save: %s", line);
    }
}

/* ------------------------------------------------------- guest programs */

/* Boot `program` on `board`, run it to its exit; it must print hello. */
static Machine *hello_on(const char *board, const char *program)
{
    Machine *m = boot(board, program);
    Events ev = { .n_console = 0 };
    mach_set_event_sink(m, record, &ev);
    run_to_exit(m);
    assert_int_equal(mach_exit_code(m), 0);
    assert_int_equal(ev.n_exit, 1);
    assert_int_equal(ev.exit_code, 0);
    assert_int_equal(ev.n_console, strlen("Hello from vmstress\n"));
    assert_memory_equal(ev.console, "Hello from vmstress\n", ev.n_console);
    mach_set_event_sink(m, NULL, NULL);
    return m;
}

static void machine_hello_console(void **state)
{
    mach_free(hello_on(BOARD_DEFAULT, "hello"));
}

/* The small board (fuzzing) is the default board with less SRAM, and the
 * programs linked for it (guest/small/) run there; both boards match what
 * the firmware is built against (guest/include/board.h). */
static void machine_small_board(void **state)
{
    const Board *d = mach_board_find(BOARD_DEFAULT), *s = mach_board_find(BOARD_SMALL);
    assert_non_null(d);
    assert_non_null(s);
    assert_int_equal(d->flash_size, BOARD_FLASH_SIZE);
    assert_int_equal(d->sram_size, BOARD_SRAM_SIZE);
    assert_int_equal(s->flash_size, BOARD_FLASH_SIZE);
    assert_int_equal(s->sram_size, BOARD_SMALL_SRAM_SIZE);
    size_t i = 0;
    for (; d->devices[i].type; i++) {
        assert_non_null(s->devices[i].type);
        assert_string_equal(s->devices[i].type, d->devices[i].type);
        assert_int_equal(s->devices[i].base, d->devices[i].base);
        assert_memory_equal(s->devices[i].irq, d->devices[i].irq, sizeof(d->devices[i].irq));
    }
    assert_null(s->devices[i].type);

    Machine *m = hello_on(BOARD_SMALL, "small/hello");
    VmsOut big, small;
    save(m, &small, false);
    mach_free(m);
    m = boot(BOARD_DEFAULT, "hello");
    save(m, &big, false);
    mach_free(m);
    /* Only the SRAM section differs in size. */
    assert_int_equal(big.len - small.len, (BOARD_SRAM_SIZE - BOARD_SMALL_SRAM_SIZE) +
                                              strlen(mach_board_find(BOARD_DEFAULT)->name) -
                                              strlen(BOARD_SMALL));
    vms_out_free(&big);
    vms_out_free(&small);
}

static void machine_systick_output(void **state)
{
    /* SysTick is part of the core, so the core-only board is enough. */
    Machine *m = boot(BOARD_CORE, "systick");
    Events ev = { .n_console = 0 };
    mach_set_event_sink(m, record, &ev);
    run_to_exit(m);
    assert_int_equal(mach_exit_code(m), 0);
    assert_int_equal(ev.n_console, strlen("systick: 20 ticks\n"));
    assert_memory_equal(ev.console, "systick: 20 ticks\n", ev.n_console);
    /* 20 ticks of 5000 cycles: the program cannot finish sooner. */
    assert_true(mach_cycles(m) >= 20 * 5000);
    mach_free(m);
}

static void machine_semihost_exit_code(void **state)
{
    /* compute exits 0 and prints a checksum line by semihosting. */
    Machine *m = boot(BOARD_CORE, "compute");
    Events ev = { .n_console = 0 };
    mach_set_event_sink(m, record, &ev);
    mach_run(m, 400000000ull);
    assert_int_equal(mach_state(m), CPU_HALTED);
    assert_int_equal(mach_exit_code(m), 0);
    assert_true(ev.n_console > strlen("compute: rounds="));
    assert_memory_equal(ev.console, "compute: rounds=", strlen("compute: rounds="));
    mach_free(m);
}

/* --------------------------------------------------------- determinism */

static void machine_determinism_digest(void **state)
{
    /* Two runs of the interrupt-driven program agree at every 1000-cycle
     * step (one cycle per instruction while running). */
    Machine *a = boot(BOARD_DEFAULT, "systick");
    Machine *b = boot(BOARD_DEFAULT, "systick");
    unsigned steps = 0;
    while (mach_state(a) != CPU_HALTED && steps < 1000) {
        mach_run(a, 1000);
        mach_run(b, 1000);
        assert_int_equal(mach_cycles(a), mach_cycles(b));
        uint64_t da = mach_digest(a), db = mach_digest(b);
        assert_true(da != 0);
        assert_true(da == db);
        steps++;
    }
    assert_int_equal(mach_state(a), CPU_HALTED);
    assert_int_equal(mach_state(b), CPU_HALTED);
    assert_true(steps >= 100);
    /* The digest does follow the state: a changed SRAM byte changes it. */
    uint64_t before = mach_digest(a);
    assert_true(mach_bus_write(a, MACH_SRAM_BASE + 0x100, 1, 0x5a));
    assert_true(mach_digest(a) != before);
    mach_free(a);
    mach_free(b);
}

/* ------------------------------------------------------------ save/load */

static void machine_save_reset_load_save(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "systick");
    Machine *twin = boot(BOARD_DEFAULT, "systick");
    mach_run(m, 30000);
    mach_run(twin, 30000);
    VmsOut s1, s2;
    save(m, &s1, true);
    mach_reset(m);
    assert_int_equal(mach_cycles(m), 0);
    VmsError err;
    assert_true(mach_load(m, s1.buf, s1.len, &err));
    assert_int_equal(mach_cycles(m), 30000);
    save(m, &s2, true);
    assert_int_equal(s1.len, s2.len);
    assert_memory_equal(s1.buf, s2.buf, s1.len);
    /* And the loaded machine carries on exactly as its twin. */
    Events ea = { .n_console = 0 }, eb = { .n_console = 0 };
    mach_set_event_sink(twin, record, &ea);
    mach_set_event_sink(m, record, &eb);
    run_to_exit(twin);
    run_to_exit(m);
    assert_int_equal(mach_cycles(m), mach_cycles(twin));
    assert_true(mach_digest(m) == mach_digest(twin));
    assert_int_equal(ea.n_console, eb.n_console);
    assert_memory_equal(ea.console, eb.console, ea.n_console);
    vms_out_free(&s1);
    vms_out_free(&s2);
    mach_free(m);
    mach_free(twin);
}

/* Ways to move a machine away from power-on, each through a different
 * entry point. None may leave mach_load thinking no reset is needed. */
static void touch_run(Machine *m) { mach_run(m, 30000); }
static void touch_idle(Machine *m) { mach_idle(m, 5000); }
static void touch_bus_write(Machine *m) { mach_bus_write(m, GPIO0_BASE + 0x400, 4, 0xff); }
static void touch_bus_read(Machine *m)
{
    uint32_t v;
    mach_bus_write(m, 0x20000000u, 4, 0x5a5a5a5au);  /* SRAM, by the bus */
    mach_bus_read(m, UART0_BASE, 4, &v);
}
static void touch_input(Machine *m)
{
    for (unsigned i = 0; i < mach_n_devices(m); i++)   /* a GPIO pin goes high */
        if (!strcmp(mach_device_type(m, i)->name, "pl061"))
            mach_input(m, i, 0, 0x08);
}
static void touch_cpu(Machine *m) { cpu_set_reg(mach_cpu(m), 0, 0x1234u); }
static void poke_field(void *obj, const VmsDesc *d, const char *name)
{
    for (const VmsField *f = d->fields; !(f->flags & VMS_END); f++)
        if (!strcmp(f->name, name)) {
            ((uint8_t *)obj)[f->offset] ^= 0x5a;
            return;
        }
    fail_msg("'%s' has no field '%s'", d->name, name);
}
static void touch_device_state(Machine *m)
{
    poke_field(mach_device_state(m, 0), mach_device_type(m, 0)->vmsd, "cr");
}
static void touch_registry(Machine *m)
{
    VmsSection *s = vms_registry_find(mach_registry(m), "vmstress-machine", 0);
    poke_field(s->opaque, s->vmsd, "cycles");
}

/* A load that leaves sections out keeps their power-on state, also when
 * the machine was at power-on a moment earlier and then touched: the
 * load's own reset may be skipped only when nothing happened in between. */
static void machine_load_starts_at_power_on(void **state)
{
    void (*const touch[])(Machine *) = { touch_run, touch_idle, touch_bus_write, touch_bus_read,
                                          touch_input, touch_cpu, touch_device_state,
                                          touch_registry };
    Machine *m = boot(BOARD_DEFAULT, "systick");
    Machine *twin = boot(BOARD_DEFAULT, "systick");
    uint64_t power_on = mach_digest(twin);
    /* A stream with no sections at all: header, configuration, EOF. */
    VmsRegistry none;
    vms_registry_init(&none, mach_board_find(BOARD_DEFAULT)->name);   /* the alias resolved */
    VmsOut empty;
    vms_out_init(&empty, 0);
    VmsSaveOpts o = { .no_vmdesc = true };
    VmsError err;
    assert_true(vms_save(&none, &empty, &o, &err));
    for (size_t i = 0; i < sizeof(touch) / sizeof(touch[0]); i++) {
        mach_reset(twin);
        touch[i](twin);
        if (mach_digest(twin) == power_on)
            fail_msg("touch %zu leaves no trace in the state", i);
        for (int after_failure = 0; after_failure < 2; after_failure++) {
            if (after_failure)
                assert_false(mach_load(m, empty.buf, 3, &err));   /* back at power-on */
            else
                mach_reset(m);
            touch[i](m);
            assert_true(mach_load(m, empty.buf, empty.len, &err));
            if (mach_digest(m) != power_on)
                fail_msg("touch %zu%s survived a load", i, after_failure ? " after a failed load" : "");
        }
    }
    vms_out_free(&empty);
    vms_registry_free(&none);
    mach_free(m);
    mach_free(twin);
}

static void machine_failed_load_is_power_on(void **state)
{
    Machine *fresh = boot(BOARD_DEFAULT, "systick");
    uint64_t power_on = mach_digest(fresh);
    Machine *m = boot(BOARD_DEFAULT, "systick");
    mach_run(m, 30000);
    VmsOut s;
    save(m, &s, false);
    VmsError err;
    /* Truncated at several points, including inside SRAM and the devices. */
    size_t cuts[] = { 0, 5, 40, s.len / 3, s.len / 2, s.len - 1 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        mach_run(m, 100);  /* make the machine differ from power-on first */
        assert_true(mach_digest(m) != power_on);
        assert_false(mach_load(m, s.buf, cuts[i], &err));
        assert_int_equal(err.cls, VMS_ERR_TRUNCATED);
        assert_true(mach_digest(m) == power_on);
        assert_int_equal(mach_cycles(m), 0);
    }
    /* A stream of another machine type. */
    Machine *core = boot(BOARD_CORE, "systick");
    VmsOut other;
    save(core, &other, false);
    assert_true(mach_load(m, s.buf, s.len, &err));
    assert_false(mach_load(m, other.buf, other.len, &err));
    assert_int_equal(err.cls, VMS_ERR_CONFIG);
    assert_true(mach_digest(m) == power_on);
    /* A late failure: the last byte before EOF corrupted (a section footer). */
    uint8_t *bad = malloc(s.len);
    memcpy(bad, s.buf, s.len);
    bad[s.len - 2] ^= 0xff;
    assert_false(mach_load(m, bad, s.len, &err));
    assert_true(mach_digest(m) == power_on);
    free(bad);
    vms_out_free(&s);
    vms_out_free(&other);
    mach_free(core);
    mach_free(m);
    mach_free(fresh);
}

/* ---------------------------------------------------------- ELF loader */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*len);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Load a damaged copy; it must fail, say `what`, and leave flash alone. */
static void expect_reject(Machine *m, const uint8_t *img, size_t len, const char *what)
{
    uint32_t w0, w1;
    VmsMsg why = { "" };
    assert_true(mach_bus_read(m, 0, 4, &w0));
    assert_false(mach_load_image(m, img, len, &why));
    if (!strstr(why.text, what))
        fail_msg("message '%s' does not mention '%s'", why.text, what);
    assert_null(strchr(why.text, '\n'));
    assert_true(mach_bus_read(m, 0, 4, &w1));
    assert_int_equal(w0, w1);
}

static void machine_elf_rejects_malformed(void **state)
{
    Machine *m = boot(BOARD_CORE, "hello");
    size_t len;
    uint8_t *good = read_all(guest("hello"), &len);
    uint8_t *img = malloc(len);
    VmsMsg why;
    assert_true(mach_load_image(m, good, len, &why));
    uint32_t sp;
    assert_true(mach_bus_read(m, 0, 4, &sp));
    assert_int_equal(sp, 0x20010000u);   /* initial SP: top of SRAM */

#define MUTATE(stmt, what) do { memcpy(img, good, len); stmt; expect_reject(m, img, len, what); } while (0)
    MUTATE(img[1] = 'X', "bad magic");
    MUTATE(img[4] = 2, "class");
    MUTATE(img[5] = 2, "encoding");
    MUTATE(img[18] = 3, "machine");
    uint32_t phoff = get32(good + 28);
    /* First program header: a PT_LOAD of the code at physical 0. */
    assert_int_equal(get32(good + phoff), 1);
    MUTATE(put32(img + phoff + 12, 0x30000000u), "outside flash");
    MUTATE(put32(img + phoff + 12, 0x0003fff0u), "outside flash");
    MUTATE(put32(img + phoff + 4, 0xfffffff0u), "truncated");
    MUTATE(put32(img + 28, (uint32_t)len - 8), "truncated");
#undef MUTATE
    expect_reject(m, good, 20, "truncated");
    expect_reject(m, good, get32(good + phoff + 4) + 16, "truncated");

    VmsMsg why2 = { "" };
    assert_false(mach_load_elf(m, "/nonexistent/x.elf", &why2));
    assert_non_null(strstr(why2.text, "/nonexistent/x.elf"));
    free(img);
    free(good);
    mach_free(m);
}

/* -------------------------------------------------------- member tables */

typedef struct Sample {
    uint32_t a;
    uint8_t b;
    /* 3 bytes of padding */
    uint32_t c;
    void *host;
    uint8_t tail;
    /* 7 bytes of padding */
} Sample;

static void machine_members_check(void **state)
{
    VmsMsg why;
    const DevMember good[] = {
        DEV_MEMBER(Sample, a), DEV_MEMBER(Sample, b), DEV_MEMBER(Sample, c),
        DEV_HOST(Sample, host, "a pointer"), DEV_MEMBER(Sample, tail), DEV_MEMBERS_END,
    };
    assert_true(dev_members_check(good, sizeof(Sample), &why));

    const DevMember overlap[] = {
        DEV_MEMBER(Sample, a), { .name = "a_low", .offset = 0, .size = 2, .kind = DEV_M_STATE }, DEV_MEMBER(Sample, b),
        DEV_MEMBER(Sample, c), DEV_HOST(Sample, host, "p"), DEV_MEMBER(Sample, tail), DEV_MEMBERS_END,
    };
    assert_false(dev_members_check(overlap, sizeof(Sample), &why));
    assert_non_null(strstr(why.text, "a_low"));
    assert_non_null(strstr(why.text, "overlaps"));

    /* A range needs an integer member and a non-empty interval; a derived
     * member names its sources and why. */
    DevMember bad_range[] = {
        DEV_RANGE(Sample, a, 0, 3), DEV_MEMBER(Sample, b), DEV_MEMBER(Sample, c),
        DEV_HOST(Sample, host, "p"), DEV_MEMBER(Sample, tail), DEV_MEMBERS_END,
    };
    assert_true(dev_members_check(bad_range, sizeof(Sample), &why));
    Sample smp = { .a = 3 };
    const DevMember *out_of_range = NULL;
    size_t index = 9;
    assert_true(dev_members_in_range(bad_range, &smp, &out_of_range, &index));
    dev_member_set(&bad_range[0], &smp, 0, 4);
    assert_int_equal(smp.a, 4);
    assert_false(dev_members_in_range(bad_range, &smp, &out_of_range, &index));
    assert_ptr_equal(out_of_range, &bad_range[0]);
    assert_int_equal(index, 0);
    bad_range[0].lo = 4;
    assert_false(dev_members_check(bad_range, sizeof(Sample), &why));
    assert_non_null(strstr(why.text, "range"));
    DevMember bad_derived[] = {
        DEV_DERIVED(Sample, a, "b", ""), DEV_MEMBER(Sample, b), DEV_MEMBER(Sample, c),
        DEV_HOST(Sample, host, "p"), DEV_MEMBER(Sample, tail), DEV_MEMBERS_END,
    };
    assert_false(dev_members_check(bad_derived, sizeof(Sample), &why));
    assert_non_null(strstr(why.text, "derived"));

    /* c is missing: bytes 5..11 are not padding before an aligned member. */
    const DevMember gap[] = {
        DEV_MEMBER(Sample, a), DEV_MEMBER(Sample, b),
        DEV_HOST(Sample, host, "p"), DEV_MEMBER(Sample, tail), DEV_MEMBERS_END,
    };
    assert_false(dev_members_check(gap, sizeof(Sample), &why));
    assert_non_null(strstr(why.text, "not covered"));
    assert_non_null(strstr(why.text, "host"));

    /* tail is missing: 8 bytes at the end. */
    const DevMember end[] = {
        DEV_MEMBER(Sample, a), DEV_MEMBER(Sample, b), DEV_MEMBER(Sample, c),
        DEV_HOST(Sample, host, "p"), DEV_MEMBERS_END,
    };
    assert_false(dev_members_check(end, sizeof(Sample), &why));
    assert_non_null(strstr(why.text, "at the end"));

    const DevMember noreason[] = {
        DEV_MEMBER(Sample, a), DEV_MEMBER(Sample, b), DEV_MEMBER(Sample, c),
        DEV_HOST(Sample, host, NULL), DEV_MEMBER(Sample, tail), DEV_MEMBERS_END,
    };
    assert_false(dev_members_check(noreason, sizeof(Sample), &why));
    assert_non_null(strstr(why.text, "without a reason"));

    const DevMember emptyreason[] = {
        DEV_MEMBER(Sample, a), DEV_MEMBER(Sample, b), DEV_MEMBER(Sample, c),
        DEV_VOLATILE(Sample, host, ""), DEV_MEMBER(Sample, tail), DEV_MEMBERS_END,
    };
    assert_false(dev_members_check(emptyreason, sizeof(Sample), &why));
    assert_non_null(strstr(why.text, "without a reason"));

    /* Every registered device type passes. */
    for (size_t i = 0; i < dev_n_types; i++)
        if (!dev_members_check(dev_types[i]->members, dev_types[i]->state_size, &why))
            fail_msg("%s: %s", dev_types[i]->name, why.text);
}

/* --------------------------------------------------------------- time */

typedef struct Fired {
    VClock *clock;
    VTimer *timer;
    uint64_t at[16];
    unsigned n;
    uint64_t period;    /* re-arm this many cycles later; 0: one-shot */
} Fired;

static void on_timer(void *opaque)
{
    Fired *f = opaque;
    if (f->n < 16)
        f->at[f->n] = f->clock->cycles;
    f->n++;
    if (f->period)
        vtimer_mod(f->timer, vclock_ns(f->clock) + (int64_t)(f->period * VCLOCK_NS_PER_CYCLE));
}

static void machine_idle_fires_timers(void **state)
{
    Machine *m = boot(BOARD_CORE, NULL);
    VClock *c = mach_clock(m);
    VTimer once, tick;
    Fired fo = { .clock = c, .timer = &once }, ft = { .clock = c, .timer = &tick, .period = 1000 };
    vtimer_init(&once, c, on_timer, &fo);
    vtimer_init(&tick, c, on_timer, &ft);
    vtimer_mod(&once, 12345 * VCLOCK_NS_PER_CYCLE);
    vtimer_mod(&tick, 1000 * VCLOCK_NS_PER_CYCLE);
    mach_idle(m, 5500);
    assert_int_equal(mach_cycles(m), 5500);
    assert_int_equal(ft.n, 5);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(ft.at[i], 1000 * (i + 1));
    assert_int_equal(fo.n, 0);
    mach_idle(m, 20000);
    assert_int_equal(mach_cycles(m), 25500);
    assert_int_equal(fo.n, 1);
    assert_int_equal(fo.at[0], 12345);
    assert_int_equal(ft.n, 25);
    /* Power-on reset puts time back to 0 and disarms everything. */
    mach_reset(m);
    assert_int_equal(mach_cycles(m), 0);
    assert_false(vtimer_pending(&tick));
    mach_idle(m, 3000);
    assert_int_equal(ft.n, 25);
    mach_free(m);
}

/* ------------------------------------------------- bus, resets, layout */

static void machine_bus_map(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    uint32_t v;
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 8, 4, 0xdeadbeef));
    assert_true(mach_bus_read(m, MACH_SRAM_BASE + 8, 4, &v));
    assert_int_equal(v, 0xdeadbeef);
    assert_true(mach_bus_read(m, MACH_SRAM_BASE + 9, 1, &v));
    assert_int_equal(v, 0xbe);
    assert_false(mach_bus_write(m, 0x100, 4, 0));                  /* flash is read-only */
    assert_false(mach_bus_read(m, MACH_SRAM_BASE + 0x10000, 4, &v)); /* past SRAM */
    assert_false(mach_bus_read(m, 0x10000000, 4, &v));             /* hole */
    assert_false(mach_bus_read(m, 0x4fff0000, 4, &v));             /* unmapped peripheral */
    assert_true(mach_bus_read(m, 0x40000000 + 0xfe0, 4, &v));     /* PL011 PeriphID0 */
    assert_int_equal(v, 0x11);
    mach_free(m);
}

/* Bus masters other than the CPU: whole blocks or nothing. */
static void machine_dev_mem(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    Device *d = mach_device(m, 0);
    const uint8_t in[6] = { 1, 2, 3, 4, 5, 6 };
    uint8_t out[6] = { 0 };
    uint32_t v;
    assert_true(dev_mem_write(d, MACH_SRAM_BASE + 0x101, in, sizeof in));
    assert_true(mach_bus_read(m, MACH_SRAM_BASE + 0x101, 1, &v));
    assert_int_equal(v, 1);
    assert_true(dev_mem_read(d, MACH_SRAM_BASE + 0x101, out, sizeof out));
    assert_memory_equal(in, out, sizeof in);
    assert_true(dev_mem_read(d, MACH_FLASH_BASE, out, 4));         /* flash reads */
    assert_false(dev_mem_write(d, MACH_FLASH_BASE, in, 4));        /* but is read-only */
    uint32_t sram = 0x10000;  /* the default board's SRAM size, as machine_bus_map assumes */
    uint32_t end = MACH_SRAM_BASE + sram;
    assert_true(dev_mem_write(d, end - 6, in, 6));                 /* up to the last byte */
    assert_false(dev_mem_write(d, end - 5, in, 6));                /* one past: nothing moves */
    assert_true(mach_bus_read(m, end - 5, 1, &v));
    assert_int_equal(v, 2);
    assert_false(dev_mem_read(d, 0xfffffffcu, out, 6));             /* wraps: refused */
    assert_false(dev_mem_read(d, 0x40000000u, out, 4));             /* MMIO is not memory */
    mach_free(m);
}

static void machine_system_reset_keeps_sram(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "systick");
    Events ev = { .n_console = 0 };
    mach_set_event_sink(m, record, &ev);
    mach_run(m, 20000);
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 0x8000, 4, 0x12345678));
    dev_request_reset(mach_device(m, 0), "test");
    mach_run(m, 1);
    assert_int_equal(ev.n_reset, 1);
    uint32_t v;
    assert_true(mach_bus_read(m, MACH_SRAM_BASE + 0x8000, 4, &v));
    assert_int_equal(v, 0x12345678);
    assert_true(mach_cycles(m) >= 20000);   /* time went on */
    /* The program starts over and still finishes correctly. */
    ev.n_console = 0;
    run_to_exit(m);
    assert_int_equal(mach_exit_code(m), 0);
    assert_memory_equal(ev.console, "systick: 20 ticks\n", ev.n_console);
    /* Power-on reset, by contrast, clears SRAM. */
    mach_reset(m);
    assert_true(mach_bus_read(m, MACH_SRAM_BASE + 0x8000, 4, &v));
    assert_int_equal(v, 0);
    mach_free(m);
}

/* ------------------------------------------------------ dirty-page log */

/* The pages a sync reported, as a string of page numbers. */
static size_t dirty_pages(Machine *m, char *out, size_t n)
{
    uint8_t bm[64] = { 0 };
    assert_true(mach_n_pages(m) <= 8 * sizeof bm);
    size_t count = mach_dirty_sync(m, bm, sizeof bm), listed = 0, used = 0;
    out[0] = 0;
    for (size_t p = 0; p < mach_n_pages(m); p++)
        if (bm[p / 8] >> (p % 8) & 1) {
            used += (size_t)snprintf(out + used, n - used, "%s%zu", listed ? " " : "", p);
            listed++;
        }
    assert_int_equal(listed, count);    /* the count is the bitmap's */
    return count;
}

/* Every writer of SRAM marks exactly the pages it wrote; wholesale changes
 * (power-on reset, a load) mark every page; syncing clears. */
static void machine_dirty_log(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    char list[512];
    assert_int_equal(mach_n_pages(m), 0x10000 / MACH_PAGE_SIZE);
    assert_int_equal(MACH_PAGE_SIZE, 1024);
    assert_int_equal(dirty_pages(m, list, sizeof list), mach_n_pages(m));  /* reset zeroed SRAM */
    assert_int_equal(dirty_pages(m, list, sizeof list), 0);
    /* Host bus writes: one byte, and a word at the end of a page. */
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 5 * 1024 + 3, 1, 0xaa));
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 8 * 1024 - 4, 4, 1));
    assert_false(mach_bus_write(m, MACH_FLASH_BASE + 0x2000, 4, 1));   /* refused: marks nothing */
    assert_int_equal(dirty_pages(m, list, sizeof list), 2);
    assert_string_equal(list, "5 7");
    /* A device's block write across a page boundary marks both pages. */
    const uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    Device *d = mach_device(m, 0);
    assert_true(dev_mem_write(d, MACH_SRAM_BASE + 3 * 1024 - 4, in, sizeof in));
    assert_true(dev_mem_write(d, MACH_SRAM_BASE + 63 * 1024 + 1016, in, sizeof in));  /* the last bytes */
    assert_false(dev_mem_write(d, MACH_SRAM_BASE + 0x10000 - 4, in, sizeof in));        /* refused */
    assert_int_equal(dirty_pages(m, list, sizeof list), 3);
    assert_string_equal(list, "2 3 63");
    /* CPU stores: every page whose bytes changed while the guest ran is
     * marked (a store of an equal value marks too, so more may be). */
    uint8_t before[0x10000], after[0x10000];
    const MachShadow *sram = NULL;
    for (size_t i = 0; i < mach_n_shadows(m); i++)
        if (!strcmp(mach_shadow(m, i)->name, "sram"))
            sram = mach_shadow(m, i);
    assert_non_null(sram);
    assert_int_equal(sram->size, sizeof before);
    memcpy(before, sram->state, sizeof before);
    run_to_exit(m);
    memcpy(after, sram->state, sizeof after);
    uint8_t bm[8];
    size_t n = mach_dirty_sync(m, bm, sizeof bm), changed = 0;
    for (size_t p = 0; p < 64; p++)
        if (memcmp(before + p * 1024, after + p * 1024, 1024)) {
            changed++;
            if (!(bm[p / 8] >> (p % 8) & 1))
                fail_msg("page %zu changed while the guest ran but is not marked", p);
        }
    assert_true(changed > 0);           /* the program did write SRAM (its stack, .data) */
    assert_true(n >= changed);
    assert_true(n < 64);                /* and the log is not "everything" */
    /* A load replaces SRAM wholesale: every page. */
    VmsOut s;
    save(m, &s, false);
    assert_int_equal(dirty_pages(m, list, sizeof list), 0);     /* saving writes nothing */
    VmsError err;
    assert_true(mach_load(m, s.buf, s.len, &err));
    assert_int_equal(dirty_pages(m, list, sizeof list), 64);
    /* The running total counts every sync. */
    assert_int_equal(mach_dirty_pages_total(m), 64 + 2 + 3 + n + 64);
    /* A small bitmap gets what fits; the rest is still counted and cleared. */
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 40 * 1024, 4, 1));
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 1 * 1024, 4, 1));
    uint8_t one = 0;
    assert_int_equal(mach_dirty_sync(m, &one, 1), 2);
    assert_int_equal(one, 0x02);
    assert_int_equal(mach_dirty_sync(m, NULL, 0), 0);
    vms_out_free(&s);
    mach_free(m);
}

/* Two readers of one log: a page written once is reported once to each,
 * whichever syncs first; a new reader starts clean; readers run out. */
static void machine_dirty_readers(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    uint8_t bm[8];
    int r = mach_dirty_reader_new(m);
    assert_int_equal(r, 1);
    assert_int_equal(mach_dirty_sync_reader(m, r, bm, sizeof bm), 0);  /* starts clean */
    assert_int_equal(mach_dirty_sync(m, NULL, 0), 64);     /* reader 0 still has power-on's pages */
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 9 * 1024, 4, 1));
    assert_int_equal(mach_dirty_sync(m, NULL, 0), 1);      /* reader 0 takes page 9 ... */
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 12 * 1024, 1, 1));
    assert_int_equal(mach_dirty_sync_reader(m, r, bm, sizeof bm), 2);  /* ... and r still sees it */
    assert_int_equal(bm[1], (1u << 1) | (1u << 4));
    assert_int_equal(mach_dirty_sync(m, NULL, 0), 1);      /* page 12, once */
    assert_int_equal(mach_dirty_sync_reader(m, r, bm, sizeof bm), 0);
    assert_int_equal(mach_dirty_sync_reader(m, 7, bm, sizeof bm), 0);  /* no such reader */
    assert_int_equal(mach_dirty_reader_new(m), 2);
    assert_int_equal(mach_dirty_reader_new(m), 3);
    assert_int_equal(mach_dirty_reader_new(m), -1);
    assert_int_equal(mach_dirty_pages_total(m), 64 + 1 + 1);   /* reader 0's syncs */
    mach_free(m);
}

/* A load without SRAM onto SRAM as it is: the device state comes back, the
 * bytes of SRAM stay, and no page is marked; a failed one ends at power-on. */
static void machine_load_keep_ram(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    mach_run(m, 2000);
    uint64_t digest = mach_digest(m);
    VmsOut s;
    vms_out_init(&s, 0);
    VmsSaveOpts opts = { .no_vmdesc = true, .omit_set = mach_omit_sram(m) };
    VmsError err;
    for (size_t i = 0; i < mach_registry(m)->n; i++)
        assert_int_equal(opts.omit_set[i], !strcmp(mach_registry(m)->sec[i].idstr, "sram"));
    assert_true(mach_save(m, &s, &opts, &err));
    mach_reset_keep_ram(m);
    assert_int_equal(mach_cycles(m), 0);
    mach_dirty_sync(m, NULL, 0);       /* what the run wrote */
    assert_true(mach_load_keep_ram(m, s.buf, s.len, &err));
    assert_int_equal(mach_dirty_sync(m, NULL, 0), 0);
    assert_true(mach_digest(m) == digest);
    /* A cut stream fails and leaves power-on, SRAM zeroed. */
    assert_false(mach_load_keep_ram(m, s.buf, s.len / 2, &err));
    Machine *p = boot(BOARD_DEFAULT, "hello");
    assert_true(mach_digest(m) == mach_digest(p));
    vms_out_free(&s);
    mach_free(p);
    mach_free(m);
}

static void count_core_resets(void *opaque, const char *part, bool after)
{
    if (after && !strcmp(part, "cpu"))
        ++*(int *)opaque;
}

/* A load keeping memory resets first, unless nothing touched the machine
 * since its last reset (the loop resets B, compares it with power-on
 * through parts it looked up before, then loads): one reset either way. */
static void machine_load_keep_ram_resets_once(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    mach_run(m, 2000);
    VmsOut s;
    vms_out_init(&s, 0);
    VmsSaveOpts opts = { .no_vmdesc = true, .omit_set = mach_omit_sram(m) };
    VmsError err;
    assert_true(mach_save(m, &s, &opts, &err));
    int resets = 0;
    mach_set_reset_observer(m, count_core_resets, &resets);
    mach_run(m, 1000);
    assert_true(mach_load_keep_ram(m, s.buf, s.len, &err));   /* touched: resets */
    assert_int_equal(resets, 1);
    mach_reset_keep_ram(m);
    assert_true(mach_load_keep_ram(m, s.buf, s.len, &err));   /* just reset: does not */
    assert_int_equal(resets, 2);
    mach_reset(m);
    assert_true(mach_load_keep_ram(m, s.buf, s.len, &err));   /* at power-on: does not */
    assert_int_equal(resets, 3);
    mach_reset_keep_ram(m);
    (void)mach_device_state(m, 0);                             /* a pointer handed out */
    assert_true(mach_load_keep_ram(m, s.buf, s.len, &err));
    assert_int_equal(resets, 5);
    mach_set_reset_observer(m, NULL, NULL);
    vms_out_free(&s);
    mach_free(m);
}

/* A power-on reset zeroes only the pages written since the last one; the
 * machine it leaves must be byte for byte the one a fresh machine has (the
 * stream holds all of SRAM), whatever wrote SRAM and whether or not a
 * reader synced the log between. */
static void assert_power_on(Machine *m, Machine *fresh, const char *after)
{
    mach_reset(m);
    VmsOut a, b;
    save(m, &a, false);
    save(fresh, &b, false);
    if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0)
        fail_msg("after %s, a power-on reset left a machine unlike a fresh one", after);
    vms_out_free(&a);
    vms_out_free(&b);
}

static void machine_power_on_zeroes_written_pages(void **state)
{
    Machine *fresh = boot(BOARD_DEFAULT, "systick");
    Machine *m = boot(BOARD_DEFAULT, "systick");
    Machine *src = boot(BOARD_DEFAULT, "systick");
    const uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    VmsError err;

    mach_run(m, 30000);
    assert_power_on(m, fresh, "a guest run");
    mach_run(m, 30000);
    mach_dirty_sync(m, NULL, 0);        /* a reader took the pages first */
    assert_int_equal(mach_dirty_sync_reader(m, mach_dirty_reader_new(m), NULL, 0), 0);
    assert_power_on(m, fresh, "a guest run and a sync of the log");
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 5 * 1024 + 3, 4, 0xdeadbeef));
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 0xffff, 1, 0x5a));
    assert_power_on(m, fresh, "host writes");
    assert_true(dev_mem_write(mach_device(m, 0), MACH_SRAM_BASE + 9 * 1024 - 4, in, sizeof in));
    mach_dirty_sync(m, NULL, 0);
    assert_power_on(m, fresh, "a device's DMA write across a page boundary");
    mach_run(m, 20000);
    dev_request_reset(mach_device(m, 0), "test");
    mach_run(m, 100);                   /* a system reset keeps SRAM */
    assert_power_on(m, fresh, "a system reset");

    /* Loads: whole, onto SRAM as it is, and failing inside SRAM. */
    mach_run(src, 30000);
    VmsOut s, nosram;
    save(src, &s, false);
    assert_true(mach_load(m, s.buf, s.len, &err));
    assert_power_on(m, fresh, "a load");
    VmsSaveOpts opts = { .no_vmdesc = true, .omit_set = mach_omit_sram(src) };
    vms_out_init(&nosram, 0);
    assert_true(mach_save(src, &nosram, &opts, &err));
    mach_run(m, 30000);
    mach_dirty_sync(m, NULL, 0);
    assert_true(mach_load_keep_ram(m, nosram.buf, nosram.len, &err));
    assert_power_on(m, fresh, "a load keeping SRAM");
    mach_reset_keep_ram(m);
    assert_true(mach_load_keep_ram(m, s.buf, s.len, &err));    /* SRAM in the stream after all */
    assert_power_on(m, fresh, "a load keeping SRAM of a stream with SRAM");
    assert_false(mach_load(m, s.buf, s.len / 2, &err));
    assert_power_on(m, fresh, "a load cut inside SRAM");
    assert_true(vms_load(mach_registry(m), s.buf, s.len, &err));
    assert_power_on(m, fresh, "a load through the registry");

    /* Behind the log's back, through pointers the machine hands out. */
    memset(mach_ram(m)->mem + 3 * 1024, 0xee, 100);
    assert_power_on(m, fresh, "a write through the RAM block");
    const MachShadow *sh = mach_shadow(m, mach_sram_section(m));
    memset((uint8_t *)sh->state + 40 * 1024, 0xee, 100);
    assert_power_on(m, fresh, "a write through SRAM's shadow");

    vms_out_free(&s);
    vms_out_free(&nosram);
    mach_free(src);
    mach_free(m);
    mach_free(fresh);
}

/* The same for device memory (tracked memory 1, the virtblk disk image):
 * whatever wrote it, a power-on reset leaves a machine byte for byte like
 * a fresh one, a system reset zeroes it too, and a page nothing marked
 * and no pointer reached since it was last zeroed is not zeroed again. */
/* assert_power_on, and every byte of the buffer zero (a stream may carry
 * only part of it: the image section sends the disk's used length). */
static void assert_zeroed(Machine *m, Machine *fresh, const uint8_t *buf, size_t size, const char *after)
{
    assert_power_on(m, fresh, after);
    for (size_t i = 0; i < size; i++)
        if (buf[i])
            fail_msg("after %s, a power-on reset left byte %zu of device memory at 0x%02x", after, i, buf[i]);
}

static void machine_power_on_zeroes_written_device_pages(void **state)
{
    Machine *fresh = boot(BOARD_DEFAULT, "all");
    Machine *m = boot(BOARD_DEFAULT, "all");
    Machine *src = boot(BOARD_DEFAULT, "all");
    size_t part = mach_tracked_part(m, 1), size = mach_shadow(m, part)->size, dev = 0;
    assert_true(part != SIZE_MAX && size > 12 * MACH_PAGE_SIZE);
    while (strcmp(mach_device_type(m, dev)->name, "vmstress-virtblk"))
        dev++;
    uint8_t *img = mach_shadow(m, part)->state;     /* kept: reading it hands nothing out */
    VmsError err;

    mach_reset(m);
    mach_run(m, 3000000);
    size_t used = 0;
    for (size_t i = 0; i < size; i++)
        used += img[i] != 0;
    assert_true(used > 0);              /* the workload wrote the disk */
    assert_zeroed(m, fresh, img, size, "the guest's disk writes");
    img[7 * MACH_PAGE_SIZE + 3] = 0x5a;
    dev_mark_dirty(mach_device(m, dev), img + 7 * MACH_PAGE_SIZE + 3, 1);
    mach_dirty_sync_tracked(m, 0, 1, NULL, 0);      /* a reader took the page first */
    assert_zeroed(m, fresh, img, size, "a marked write and a sync of the log");
    mach_run(m, 3000000);
    img[9 * MACH_PAGE_SIZE] = 0x5a;
    dev_mark_dirty(mach_device(m, dev), img + 9 * MACH_PAGE_SIZE, 1);
    dev_request_reset(mach_device(m, 0), "test");
    mach_run(m, 100);                   /* a system reset zeroes device memory */
    assert_int_equal(img[9 * MACH_PAGE_SIZE], 0);
    assert_zeroed(m, fresh, img, size, "a system reset");

    /* Loads: whole, onto memory as it is, and cut. */
    mach_run(src, 3000000);
    VmsOut s;
    save(src, &s, false);
    assert_true(mach_load(m, s.buf, s.len, &err));
    assert_zeroed(m, fresh, img, size, "a load");
    mach_reset_keep_ram(m);
    assert_true(mach_load_keep_ram(m, s.buf, s.len, &err));   /* the image in the stream */
    assert_zeroed(m, fresh, img, size, "a load keeping memory of a stream with the image");
    assert_false(mach_load(m, s.buf, s.len - 40, &err));
    assert_zeroed(m, fresh, img, size, "a cut load");
    assert_true(vms_load(mach_registry(m), s.buf, s.len, &err));
    assert_zeroed(m, fresh, img, size, "a load through the registry");

    /* Behind the log's back, through pointers the machine hands out. */
    memset((uint8_t *)mach_shadow(m, part)->state + 3 * MACH_PAGE_SIZE, 0xee, 100);
    assert_zeroed(m, fresh, img, size, "a write through the image's shadow");
    uint8_t *st = mach_device_state(m, dev);
    memset(st + (img - st) + 11 * MACH_PAGE_SIZE, 0xee, 100);
    assert_zeroed(m, fresh, img, size, "a write through the device's state");

    /* Not zeroed again: a byte written where nothing can see it stays. */
    img[12 * MACH_PAGE_SIZE] = 0x77;
    mach_reset(m);
    assert_int_equal(img[12 * MACH_PAGE_SIZE], 0x77);
    img[12 * MACH_PAGE_SIZE] = 0;

    vms_out_free(&s);
    mach_free(src);
    mach_free(m);
    mach_free(fresh);
}

/* A load counts as writing only the tracked memory of the sections it
 * began, even when it fails inside one: after a stream without the disk
 * image and SRAM sections, the next power-on reset leaves both alone (a
 * byte planted behind the log's back survives it, and the log shows no
 * image page); after a stream with the image, whole or cut inside it, the
 * image is zeroed; after one cut before it, not. SRAM sent as the
 * iterative RAM section (a pre-copy) counts as written too. */
static void save_opts(Machine *src, VmsOut *out, const VmsSaveOpts *o)
{
    VmsError err;
    vms_out_init(out, 0);
    if (!mach_save(src, out, o, &err))
        fail_msg("save: %s", err.msg);
}

static void machine_load_marks_reached_memory(void **state)
{
    Machine *fresh = boot(BOARD_DEFAULT, "all");
    Machine *m = boot(BOARD_DEFAULT, "all");
    Machine *src = boot(BOARD_DEFAULT, "all");
    size_t part = mach_tracked_part(m, 1), n = mach_n_shadows(m), sram_sec = mach_sram_section(m);
    size_t size = mach_shadow(m, part)->size, pages = mach_tracked_pages(m, 1);
    uint8_t *img = mach_shadow(m, part)->state, *sram = mach_shadow(m, sram_sec)->state;
    const size_t planted = 12 * MACH_PAGE_SIZE, sram_planted = 5 * MACH_PAGE_SIZE + 1;
    VmsError err;
    mach_run(src, 3000000);

    /* The streams: whole (with where each record starts), and without
     * the image and SRAM. */
    size_t *start = calloc(n + 1, sizeof(*start));
    bool *omit = calloc(n, sizeof(*omit));
    assert_non_null(start);
    assert_non_null(omit);
    omit[part] = omit[sram_sec] = true;
    VmsOut s, bare;
    save_opts(src, &s, &(VmsSaveOpts){ .no_vmdesc = true, .sec_start = start });
    save_opts(src, &bare, &(VmsSaveOpts){ .no_vmdesc = true, .omit_set = omit });
    size_t end = start[n];      /* the image's record ends where the next one starts */
    for (size_t i = part + 1; i < n && end == start[n]; i++)
        if (start[i] != SIZE_MAX)
            end = start[i];
    assert_true(start[part] != SIZE_MAX && end - start[part] > 64);

    mach_reset(m);
    int r = mach_dirty_reader_new(m);
    mach_dirty_sync_tracked(m, r, 1, NULL, 0);
    img[planted] = 0x77;
    sram[sram_planted] = 0x66;
    assert_true(mach_load(m, bare.buf, bare.len, &err));
    assert_int_equal(mach_dirty_sync_tracked(m, r, 1, NULL, 0), 0);
    mach_reset(m);
    assert_int_equal(img[planted], 0x77);
    assert_int_equal(sram[sram_planted], 0x66);
    sram[sram_planted] = 0;

    assert_false(mach_load(m, s.buf, start[part] - 1, &err));      /* cut before the image */
    assert_int_equal(img[planted], 0x77);
    assert_false(mach_load(m, s.buf, (start[part] + end) / 2, &err)); /* cut inside it */
    for (size_t i = 0; i < size; i++)
        if (img[i])
            fail_msg("a load cut inside the image left byte %zu at 0x%02x", i, img[i]);
    assert_zeroed(m, fresh, img, size, "a load cut inside the image");

    mach_dirty_sync_tracked(m, r, 1, NULL, 0);
    img[planted] = 0x77;
    assert_true(mach_load(m, s.buf, s.len, &err));
    assert_int_equal(mach_dirty_sync_tracked(m, r, 1, NULL, 0), pages);
    assert_zeroed(m, fresh, img, size, "a load with the image");

    /* SRAM in pages, then everything else: a pre-copy's stream. */
    VmsOut pre;
    vms_out_init(&pre, 0);
    VmsRam *ram = mach_ram(src);
    uint8_t all[64];
    memset(all, 0xff, sizeof(all));
    assert_true(ram->size / ram->page_size <= 8 * sizeof(all));
    assert_true(vms_save_begin(mach_registry(src), &pre, &err) && vms_ram_start(ram, &pre) &&
                vms_ram_pages(ram, &pre, all, true) &&
                vms_save_end(mach_registry(src), &pre,
                             &(VmsSaveOpts){ .no_vmdesc = true, .omit_set = mach_omit_sram(src) }, &err));
    assert_true(mach_load(m, pre.buf, pre.len, &err));
    assert_memory_equal(sram, ram->mem, ram->size);
    assert_power_on(m, fresh, "a load of SRAM as the RAM section");

    vms_out_free(&s);
    vms_out_free(&bare);
    vms_out_free(&pre);
    free(start);
    free(omit);
    mach_free(src);
    mach_free(m);
    mach_free(fresh);
}

/* Device memory with a dirty log (dev_track_memory): the device's marks
 * reach the readers, a keep-reset keeps it and marks nothing, a power-on
 * reset zeroes it and marks it all. The default board's disk image is one. */
static void machine_tracked_memory(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    assert_true(mach_n_tracked(m) >= 2);
    assert_int_equal(mach_tracked_part(m, 0), mach_sram_section(m));
    size_t part = mach_tracked_part(m, 1), pages = mach_tracked_pages(m, 1);
    assert_true(part != SIZE_MAX && pages > 4);
    uint8_t *buf = mach_shadow(m, part)->state, bm[16];
    assert_true(pages <= 8 * sizeof bm);
    mach_dirty_sync_tracked(m, 0, 1, NULL, 0);
    buf[3 * MACH_PAGE_SIZE + 5] = 0xa5;
    dev_mark_dirty(mach_device(m, 0), buf + 3 * MACH_PAGE_SIZE + 5, 1);
    assert_int_equal(mach_dirty_sync_tracked(m, 0, 1, bm, sizeof bm), 1);
    assert_int_equal(bm[0], 1u << 3);
    mach_reset_keep_ram(m);
    assert_int_equal(buf[3 * MACH_PAGE_SIZE + 5], 0xa5);
    assert_int_equal(mach_dirty_sync_tracked(m, 0, 1, NULL, 0), 0);
    mach_reset(m);
    assert_int_equal(buf[3 * MACH_PAGE_SIZE + 5], 0);
    assert_int_equal(mach_dirty_sync_tracked(m, 0, 1, NULL, 0), pages);
    assert_int_equal(mach_dirty_sync_tracked(m, 9, 1, bm, sizeof bm), 0);  /* no such reader */
    assert_int_equal(mach_dirty_sync_tracked(m, 0, 99, bm, sizeof bm), 0); /* no such memory */
    mach_free(m);
}

/* Each page remembers the last device that wrote it through dev_mem_write;
 * CPU and host stores do not change that, a power-on reset forgets it. */
static void machine_page_writer(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, "hello");
    const uint8_t in[4] = { 1, 2, 3, 4 };
    assert_int_equal(mach_page_writer(m, 7), -1);
    assert_true(dev_mem_write(mach_device(m, 2), MACH_SRAM_BASE + 7 * 1024 + 1022, in, sizeof in));
    assert_int_equal(mach_page_writer(m, 7), 2);
    assert_int_equal(mach_page_writer(m, 8), 2);        /* the write crossed into page 8 */
    assert_int_equal(mach_page_writer(m, 6), -1);
    assert_true(dev_mem_write(mach_device(m, 1), MACH_SRAM_BASE + 8 * 1024, in, sizeof in));
    assert_int_equal(mach_page_writer(m, 8), 1);        /* the last writer */
    assert_true(mach_bus_write(m, MACH_SRAM_BASE + 7 * 1024, 4, 9));
    assert_int_equal(mach_page_writer(m, 7), 2);
    assert_int_equal(mach_page_writer(m, mach_n_pages(m)), -1);   /* out of range */
    /* SRAM as the iterative ram section: the whole of it, in 1 KiB pages. */
    VmsRam *ram = mach_ram(m);
    assert_non_null(ram);
    assert_string_equal(ram->block, "sram");
    assert_int_equal(ram->size, 0x10000);
    assert_int_equal(ram->page_size, MACH_PAGE_SIZE);
    mach_reset(m);
    assert_int_equal(mach_page_writer(m, 7), -1);
    mach_free(m);
}

static void machine_section_order(void **state)
{
    Machine *m = boot(BOARD_DEFAULT, NULL);
    VmsRegistry *r = mach_registry(m);
    assert_true(r->n >= 3 + mach_n_devices(m));
    assert_string_equal(r->sec[0].idstr, "vmstress-machine");
    size_t sram = 0;
    while (sram < r->n && strcmp(r->sec[sram].idstr, "sram"))
        sram++;
    assert_true(sram > 1 && sram < r->n);     /* core components in between */
    assert_int_equal(mach_n_shadows(m), r->n);
    /* Devices after SRAM, in board order; shadows named <type>.<k>. */
    const Board *b = mach_board_find(BOARD_DEFAULT);
    size_t next = sram + 1;
    for (size_t i = 0; b->devices[i].type; i++) {
        const DevType *t = mach_device_type(m, i);
        char name[64];
        unsigned k = 0;     /* earlier devices of the same type */
        for (size_t j = 0; j < i; j++)
            k += !strcmp(b->devices[j].type, b->devices[i].type);
        snprintf(name, sizeof(name), "%s.%u", t->name, k);
        assert_string_equal(dev_name(mach_device(m, i)), name);
        while (next < r->n && strcmp(mach_shadow(m, next)->name, name))
            next++;
        assert_true(next < r->n);
        assert_string_equal(r->sec[next].idstr, t->vmsd->name);
    }
    mach_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(machine_hello_console),
        cmocka_unit_test(machine_small_board),
        cmocka_unit_test(machine_systick_output),
        cmocka_unit_test(machine_semihost_exit_code),
        cmocka_unit_test(machine_determinism_digest),
        cmocka_unit_test(machine_save_reset_load_save),
        cmocka_unit_test(machine_failed_load_is_power_on),
        cmocka_unit_test(machine_load_starts_at_power_on),
        cmocka_unit_test(machine_elf_rejects_malformed),
        cmocka_unit_test(machine_members_check),
        cmocka_unit_test(machine_idle_fires_timers),
        cmocka_unit_test(machine_bus_map),
        cmocka_unit_test(machine_dev_mem),
        cmocka_unit_test(machine_system_reset_keeps_sram),
        cmocka_unit_test(machine_section_order),
        cmocka_unit_test(machine_dirty_log),
        cmocka_unit_test(machine_dirty_readers),
        cmocka_unit_test(machine_load_keep_ram),
        cmocka_unit_test(machine_load_keep_ram_resets_once),
        cmocka_unit_test(machine_power_on_zeroes_written_pages),
        cmocka_unit_test(machine_power_on_zeroes_written_device_pages),
        cmocka_unit_test(machine_load_marks_reached_memory),
        cmocka_unit_test(machine_tracked_memory),
        cmocka_unit_test(machine_page_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
