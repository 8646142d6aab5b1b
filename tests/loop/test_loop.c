/*
 * test_loop.c - the stress loop's contract: clean runs report nothing and
 * are deterministic, twin operations are compared, and a reproducer replays
 * the schedule it recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

#define ALL_ELF VMSTRESS_GUEST_DIR "/all.elf"

static void config(LoopConfig *c, uint64_t seed)
{
    loop_config_defaults(c);
    c->firmware = ALL_ELF;
    c->seed = seed;
    c->max_checkpoints = 300;
}

/* Random intervals, inputs on: no divergence, and a second run with the same
 * seed does exactly the same work. */
static void test_clean_and_deterministic(void **state)
{
    (void)state;
    LoopConfig c;
    LoopFinding f;
    LoopStats s1, s2;
    config(&c, 11);
    assert_int_equal(loop_run(&c, &f, &s1), 0);
    assert_int_equal(s1.checkpoints, 300);
    assert_true(s1.cycles > 0);
    assert_int_equal(loop_run(&c, &f, &s2), 0);
    assert_int_equal(s1.cycles, s2.cycles);
    assert_int_equal(s1.bytes_saved, s2.bytes_saved);
    c.seed = 12;
    assert_int_equal(loop_run(&c, &f, &s2), 0);
    assert_true(s1.cycles != s2.cycles);   /* the seed does steer the schedule */
}

/* Fast-forward: a short run reaches guest time a run without it needs many
 * times longer for (RTC alarms a second away, the watchdog's second
 * timeout), and stays clean and deterministic. */
static void test_fast_forward_reaches_far_time(void **state)
{
    (void)state;
    LoopConfig c;
    LoopFinding f;
    LoopStats with, again, without;
    config(&c, 11);
    assert_int_equal(loop_run(&c, &f, &with), 0);
    assert_int_equal(loop_run(&c, &f, &again), 0);
    assert_int_equal(with.cycles, again.cycles);
    c.fast_forward = false;
    assert_int_equal(loop_run(&c, &f, &without), 0);
    assert_int_equal(without.checkpoints, with.checkpoints);
    assert_true(with.cycles > 100000000u);       /* over a guest second (100 MHz) */
    assert_true(without.cycles < 100000000u);
}

/* Checkpoints every 1..64 cycles land inside handlers and mid-FIFO. */
static void test_dense_checkpoints(void **state)
{
    (void)state;
    LoopConfig c;
    LoopFinding f;
    LoopStats s;
    config(&c, 3);
    c.interval_min = 1;
    c.interval_max = 64;
    c.input_every = 500;
    c.max_checkpoints = 3000;
    int status = loop_run(&c, &f, &s);
    if (status != 0)
        loop_print_finding(stderr, &f);
    assert_int_equal(status, 0);
    assert_int_equal(s.checkpoints, 3000);
}

/* Driving the twins op by op: writes and reads reach both, a checkpoint
 * passes, and the twins stay comparable. */
static void test_twin_ops(void **state)
{
    (void)state;
    LoopConfig c;
    LoopFinding f;
    config(&c, 1);
    LoopTwin *t = loop_twin_new(&c, NULL, 0, &f);
    assert_non_null(t);
    assert_true(loop_twin_run(t, 20000, &f));
    assert_true(loop_twin_write(t, 0x20000100, 4, 0xdeadbeef, &f));
    assert_true(loop_twin_read(t, 0x20000100, 4, &f));
    uint32_t v = 0;
    assert_true(mach_bus_read(loop_twin_machine(t, 0), 0x20000100, 4, &v));
    assert_int_equal(v, 0xdeadbeef);
    assert_true(loop_twin_idle(t, 1000, &f));
    assert_true(loop_twin_checkpoint(t, &f));
    assert_true(loop_twin_run(t, 20000, &f));
    assert_true(loop_twin_checkpoint(t, &f));
    /* A bus error is the same on both: not a divergence. */
    assert_true(loop_twin_read(t, 0x10000000, 4, &f));
    loop_twin_free(t);
}

/* A difference made behind the loop's back is found and named. */
static void test_divergence_is_named(void **state)
{
    (void)state;
    LoopConfig c;
    LoopFinding f;
    config(&c, 1);
    LoopTwin *t = loop_twin_new(&c, NULL, 0, &f);
    assert_non_null(t);
    assert_true(loop_twin_run(t, 50000, &f));
    /* Poke B's SRAM only. */
    assert_true(mach_bus_write(loop_twin_machine(t, 1), 0x20008000, 4, 0x12345678));
    assert_false(loop_twin_checkpoint(t, &f));
    assert_int_equal(f.oracle, LOOP_STATE);
    assert_string_equal(f.where, "sram");
    assert_non_null(strstr(f.what, "sram[+0x8000]"));
    loop_twin_free(t);
}

/* Incremental checkpoints (full_every): the test's schedule, run on a twin
 * pair: 30,000 cycles, then a checkpoint, TEST_CKPTS times. */
#define TEST_FULL_EVERY 4
#define TEST_CKPTS 8
#define TEST_INTERVAL 30000

/* A page of tracked memory k (0: SRAM, then device buffers) that neither
 * twin writes in checkpoints 2..TEST_CKPTS of the schedule (a dry run of
 * the same seed, through a dirty-log reader of the test's own, beside the
 * loop's), and not the first one either. */
static size_t untouched_page(const LoopConfig *c, size_t k)
{
    LoopFinding f;
    LoopTwin *t = loop_twin_new(c, NULL, 0, &f);
    assert_non_null(t);
    Machine *a = loop_twin_machine(t, 0), *b = loop_twin_machine(t, 1);
    int ra = mach_dirty_reader_new(a), rb = mach_dirty_reader_new(b);
    assert_true(ra > 0 && rb > 0);
    uint8_t any[64] = { 0 }, bm[64];
    size_t n = mach_tracked_pages(a, k);
    assert_true(n <= 8 * sizeof bm);
    /* The guest's writes: between checkpoints (a full one loads all of B). */
    for (int j = 1; j <= TEST_CKPTS; j++) {
        mach_dirty_sync_tracked(a, ra, k, NULL, 0);
        mach_dirty_sync_tracked(b, rb, k, NULL, 0);
        assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
        for (int w = 0; w < 2 && j > 1; w++) {
            mach_dirty_sync_tracked(w ? b : a, w ? rb : ra, k, bm, sizeof bm);
            for (size_t i = 0; i < sizeof bm; i++)
                any[i] |= bm[i];
        }
        assert_true(loop_twin_checkpoint(t, &f));
    }
    loop_twin_free(t);
    for (size_t p = n - 1; p-- > 1;)   /* not the last, maybe partial, page */
        if (!(any[p / 8] >> (p % 8) & 1))
            return p;
    fail_msg("the workload writes every page");
    return 0;
}

/* Whether part i of m is tracked memory. */
static bool is_tracked(Machine *m, size_t i)
{
    for (size_t k = 0; k < mach_n_tracked(m); k++)
        if (mach_tracked_part(m, k) == i)
            return true;
    return false;
}

/* A configuration with an incremental checkpoint between full ones. */
static void config_incremental(LoopConfig *c)
{
    config(c, 5);
    c->full_every = TEST_FULL_EVERY;
}

/* Plant a difference in B's tracked memory k at byte `off` behind the
 * loop's back: incremental checkpoints 2 .. TEST_FULL_EVERY-1 do not see
 * it, the full one at TEST_FULL_EVERY does; f is its finding. */
static void plant_unlogged(const LoopConfig *c, size_t k, size_t off, LoopFinding *f)
{
    LoopTwin *t = loop_twin_new(c, NULL, 0, f);
    assert_non_null(t);
    Machine *b = loop_twin_machine(t, 1);
    uint8_t *mem = mach_shadow(b, mach_tracked_part(b, k))->state;
    assert_true(loop_twin_run(t, TEST_INTERVAL, f));
    assert_true(loop_twin_checkpoint(t, f));       /* 1: full */
    assert_true(f->full);
    mem[off] ^= 0x5a;                               /* behind the loop's back */
    for (int j = 2; j < TEST_FULL_EVERY; j++) {
        assert_true(loop_twin_run(t, TEST_INTERVAL, f));
        assert_true(loop_twin_checkpoint(t, f));   /* incremental: the page is untouched */
        assert_false(f->full);
    }
    assert_true(loop_twin_run(t, TEST_INTERVAL, f));
    assert_false(loop_twin_checkpoint(t, f));      /* TEST_FULL_EVERY: full */
    assert_true(f->full);
    assert_int_equal(f->checkpoint, TEST_FULL_EVERY);
    loop_twin_free(t);
}

/* A difference planted behind the loop's back (no dirty log sees it) in
 * a page of tracked memory (SRAM, a device's disk image) neither twin
 * touches is not seen by incremental checkpoints, and is found by the next
 * full one; one the device marks, or one in a device's other state, is
 * found at the very next checkpoint (every other part is compared at every
 * one). */
static void test_incremental_checkpoints(void **state)
{
    (void)state;
    LoopConfig c;
    LoopFinding f;
    config_incremental(&c);
    size_t page = untouched_page(&c, 0);
    plant_unlogged(&c, 0, page * MACH_PAGE_SIZE + 100, &f);
    assert_int_equal(f.oracle, LOOP_STATE);
    assert_string_equal(f.where, "sram");
    char at[64];
    snprintf(at, sizeof at, "sram[+0x%zx]", page * MACH_PAGE_SIZE + 100);
    assert_non_null(strstr(f.what, at));

    /* The same in a device's tracked memory (the disk image): named by the
     * stream or, past the part the stream carries, by the member compare. */
    LoopTwin *t = loop_twin_new(&c, NULL, 0, &f);
    assert_non_null(t);
    Machine *b = loop_twin_machine(t, 1);
    assert_true(mach_n_tracked(b) >= 2);
    size_t n_pages = mach_tracked_pages(b, 1);
    const MachShadow *dm = mach_shadow(b, mach_tracked_part(b, 1));
    char part[sizeof dm->name], desc[64];
    snprintf(part, sizeof part, "%s", dm->name);
    snprintf(desc, sizeof desc, "%s", dm->vmsd->name);
    loop_twin_free(t);      /* dm goes with it: its names were copied */
    page = untouched_page(&c, 1);
    plant_unlogged(&c, 1, page * MACH_PAGE_SIZE + 100, &f);
    assert_true(f.oracle == LOOP_STATE || f.oracle == LOOP_SHADOW);
    if (strcmp(f.where, desc) && strcmp(f.where, part))
        fail_msg("found in %s (%s), planted in %s: %s", f.where, f.what, part, f.detail);

    /* A write to it that the device marks (as its own writes are), in B
     * only: found at the very next checkpoint, an incremental one, in an
     * untouched page, the first, either side of a byte of the page bitmap
     * and the last, partial, page. */
    const size_t pages[] = { page, 0, 7, 8, n_pages - 1 };
    for (size_t j = 0; j < sizeof pages / sizeof *pages; j++) {
        t = loop_twin_new(&c, NULL, 0, &f);
        assert_non_null(t);
        b = loop_twin_machine(t, 1);
        dm = mach_shadow(b, mach_tracked_part(b, 1));
        assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
        assert_true(loop_twin_checkpoint(t, &f));
        assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
        size_t off = pages[j] * MACH_PAGE_SIZE + 7;
        uint8_t *byte = (uint8_t *)dm->state + (off < dm->size ? off : dm->size - 1);
        *byte ^= 0x81;
        dev_mark_dirty(mach_device(b, 0), byte, 1);
        assert_false(loop_twin_checkpoint(t, &f));
        assert_false(f.full);
        assert_int_equal(f.checkpoint, 2);
        assert_int_equal(f.oracle, LOOP_SHADOW);
        assert_string_equal(f.where, dm->name);
        loop_twin_free(t);
    }

    /* A device's state: found at the next checkpoint, incremental or not. */
    t = loop_twin_new(&c, NULL, 0, &f);
    assert_non_null(t);
    b = loop_twin_machine(t, 1);
    assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
    assert_true(loop_twin_checkpoint(t, &f));
    /* The largest guest-state member of any device outside tracked memory
     * (a flash array the workload seldom writes): its last byte. */
    const MachShadow *img = NULL;
    const DevMember *mem = NULL;
    for (size_t i = mach_n_fixed_sections(b); i < mach_n_shadows(b); i++)
        for (const DevMember *d = mach_shadow(b, i)->members; d && d->name && !is_tracked(b, i); d++)
            if (d->kind == DEV_M_STATE && (!mem || d->size > mem->size)) {
                img = mach_shadow(b, i);
                mem = d;
            }
    assert_non_null(mem);
    assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
    ((uint8_t *)img->state)[mem->offset + mem->size - 1] ^= 0x5a;  /* after the guest ran */
    assert_false(loop_twin_checkpoint(t, &f));
    assert_false(f.full);
    assert_int_equal(f.checkpoint, 2);
    /* Named by the stream (a carried byte) or by the member compare. */
    assert_true(f.oracle == LOOP_STATE || f.oracle == LOOP_SHADOW);
    if (strcmp(f.where, img->vmsd->name) && strcmp(f.where, img->name))
        fail_msg("found in %s (%s), planted in %s: %s", f.where, f.what, img->name, f.detail);
    loop_twin_free(t);

    /* A replayed schedule: checkpoint 1 full, 2 and 3 incremental, then
     * the closing full comparison; clean. */
    config_incremental(&c);
    c.max_checkpoints = 0;
    c.schedule = (const uint64_t[]){ 30000, 60000, 90000 };
    c.schedule_len = 3;
    c.max_cycles = 100000;
    c.fast_forward = false;
    c.explore_every = 0;
    LoopStats st;
    assert_int_equal(loop_run(&c, &f, &st), 0);     /* clean: checkpoints 1 full, 2-3 incremental */
    assert_int_equal(st.checkpoints, 3);
    assert_int_equal(st.full_checkpoints, 1);
}

/* A save that writes guest memory through the logged path: each save
 * description adds `delta` to one SRAM byte of machine m. */
typedef struct SaveWriter {
    Machine *m;
    uint32_t addr;
    uint8_t delta;
} SaveWriter;

static void write_on_save(void *opaque, VmsObsEvent ev, const VmsDesc *d, int version, const VmsError *err)
{
    (void)d;
    (void)version;
    (void)err;
    SaveWriter *w = opaque;
    uint32_t v;
    if (ev != VMS_OBS_SAVE_DESC || !mach_bus_read(w->m, w->addr, 1, &v))
        return;
    assert_true(mach_bus_write(w->m, w->addr, 1, (uint8_t)(v + w->delta)));
}

/* At an incremental checkpoint a save that changes tracked memory is a
 * purity finding naming the page, in A (judged against B's memory, not yet
 * saved) and in B (against A's, whose save was pure); a save that writes
 * the value a byte already held changes nothing and is no finding. */
static void test_incremental_save_writes_memory(void **state)
{
    (void)state;
    LoopConfig c;
    LoopFinding f;
    config_incremental(&c);
    size_t page = untouched_page(&c, 0);
    for (int which = 0; which < 2; which++)
        for (uint8_t delta = 0; delta < 2; delta++) {
            LoopTwin *t = loop_twin_new(&c, NULL, 0, &f);
            assert_non_null(t);
            SaveWriter w = { loop_twin_machine(t, which), (uint32_t)(MACH_SRAM_BASE + page * MACH_PAGE_SIZE + 9),
                             delta };
            assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
            assert_true(loop_twin_checkpoint(t, &f));       /* 1: full */
            VmsRegistry *r = mach_registry(w.m);
            r->observe_event = write_on_save;
            r->obs_opaque = &w;
            assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
            bool clean = loop_twin_checkpoint(t, &f);       /* 2: incremental */
            assert_false(f.full);
            if (delta) {
                assert_false(clean);
                assert_int_equal(f.checkpoint, 2);
                assert_int_equal(f.oracle, LOOP_PURITY);
                assert_string_equal(f.where, "sram");
            } else {
                assert_true(clean);
                assert_true(loop_twin_run(t, TEST_INTERVAL, &f));
                assert_true(loop_twin_checkpoint(t, &f));   /* 3: incremental, still clean */
                assert_false(f.full);
            }
            loop_twin_free(t);
        }
}

/* A reproducer written for a run reads back to the same configuration. */
static void test_repro_round_trip(void **state)
{
    (void)state;
    LoopConfig c, r;
    LoopFinding f = { .oracle = LOOP_SHADOW, .checkpoint = 2 }, e;
    config(&c, 99);
    snprintf(f.where, sizeof(f.where), "pl011.0");
    snprintf(f.what, sizeof(f.what), "cr");
    const char *ov[] = { "pl011=x" };
    c.overrides = ov;
    c.n_overrides = 1;
    uint64_t sched[] = { 100, 250, 900 };
    char path[] = "/tmp/vmstress-repro-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_true(loop_repro_write(path, &c, sched, 3, &f));
    char err[256];
    assert_true(loop_repro_read(path, &r, &e, err, sizeof(err)));
    assert_string_equal(r.firmware, ALL_ELF);
    assert_int_equal(r.seed, 99);
    assert_int_equal(r.schedule_len, 3);
    assert_int_equal(r.schedule[2], 900);
    assert_int_equal(r.n_overrides, 1);
    assert_string_equal(r.overrides[0], "pl011=x");
    assert_int_equal(e.oracle, LOOP_SHADOW);
    assert_string_equal(e.where, "pl011.0");
    assert_int_equal(e.checkpoint, 2);
    /* The firmware's content hash is stored, and the replay is bounded by the last checkpoint. */
    uint64_t h = 0;
    assert_true(loop_file_hash(ALL_ELF, &h, err, sizeof(err)));
    assert_true(h == r.firmware_hash);
    assert_int_equal(r.max_cycles, 900);
    assert_string_equal(r.program, "vmstress");
    assert_int_equal(r.full_every, LOOP_FULL_EVERY);   /* a replay compares as the run did */
    assert_false(r.full_last);
    loop_repro_free(&r);
    /* A build-relative name is stored as given (the CLI resolves it). */
    c.firmware_name = "guest/all.elf";
    assert_true(loop_repro_write(path, &c, sched, 3, &f));
    assert_true(loop_repro_read(path, &r, &e, err, sizeof(err)));
    assert_string_equal(r.firmware, "guest/all.elf");
    loop_repro_free(&r);
    /* Damaged files are refused with the key named. */
    static const struct { const char *json, *named; } bad[] = {
        { "{\"vmstress_reproducer\":1,\"board\":\"b\",\"firmware\":\"f\",\"firmware_fnv1a64\":\"0123456789abcdef\","
          "\"seed\":1,\"checkpoints\":[5,3]}", "checkpoints[1]" },
        { "{\"vmstress_reproducer\":1,\"board\":\"b\",\"firmware\":\"f\",\"seed\":1,\"checkpoints\":[5]}",
          "firmware_fnv1a64" },
        /* An unbounded replay is refused. */
        { "{\"vmstress_reproducer\":1,\"board\":\"b\",\"firmware\":\"f\",\"firmware_fnv1a64\":\"0123456789abcdef\","
          "\"seed\":1,\"checkpoints\":[5,9000000000000000000]}", "checkpoints[1]" },
        { "{\"vmstress_reproducer\":1,\"board\":\"b\",\"firmware\":\"f\",\"firmware_fnv1a64\":\"0123456789abcdef\","
          "\"seed\":1,\"checkpoints\":[5],\"input_every\":-3}", "input_every" },
    };
    FILE *fp;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fp = fopen(path, "w");
        fputs(bad[i].json, fp);
        fclose(fp);
        assert_false(loop_repro_read(path, &r, &e, err, sizeof(err)));
        assert_non_null(strstr(err, bad[i].named));
    }
    fp = fopen(path, "w");
    fputs("{\"board\":", fp);
    fclose(fp);
    assert_false(loop_repro_read(path, &r, &e, err, sizeof(err)));
    unlink(path);
}

/* A run that tests nothing is an error, not "clean": no checkpoint within
 * the cycle bound, or a stop flag raised before the first one. */
static void test_no_checkpoint_is_error(void **state)
{
    (void)state;
    LoopFinding f;
    LoopStats st;
    LoopConfig c;
    config(&c, 1);
    /* The first checkpoint is due at cycle 1000, the run ends at 500. */
    c.interval_min = c.interval_max = 1000;
    c.max_cycles = 500;
    c.max_checkpoints = 0;
    assert_int_equal(loop_run(&c, &f, &st), 2);
    assert_int_equal(st.checkpoints, 0);
    assert_non_null(strstr(f.detail, "no checkpoint reached"));
    volatile sig_atomic_t stop = 1;
    config(&c, 1);
    c.stop = &stop;
    assert_int_equal(loop_run(&c, &f, &st), 2);
    assert_true(st.interrupted);
    assert_non_null(strstr(f.detail, "interrupted"));
}

/* Results folders are made with every parent; a file in the way is named. */
static void test_mkdirs(void **state)
{
    (void)state;
    char base[] = "/tmp/vmstress-mkdirs-XXXXXX", deep[128], err[512];
    assert_non_null(mkdtemp(base));
    snprintf(deep, sizeof(deep), "%s/a/b/seed-7", base);
    assert_true(loop_mkdirs(deep, err, sizeof(err)));
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_true(loop_mkdirs(deep, err, sizeof(err)));    /* existing: fine */
    char file[160];
    snprintf(file, sizeof(file), "%s/f", base);
    FILE *fp = fopen(file, "w");
    fclose(fp);
    snprintf(deep, sizeof(deep), "%s/f/x", base);
    assert_false(loop_mkdirs(deep, err, sizeof(err)));
    assert_non_null(strstr(err, file));
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_and_deterministic),
        cmocka_unit_test(test_no_checkpoint_is_error),
        cmocka_unit_test(test_mkdirs),
        cmocka_unit_test(test_dense_checkpoints),
        cmocka_unit_test(test_fast_forward_reaches_far_time),
        cmocka_unit_test(test_twin_ops),
        cmocka_unit_test(test_divergence_is_named),
        cmocka_unit_test(test_repro_round_trip),
        cmocka_unit_test(test_incremental_checkpoints),
        cmocka_unit_test(test_incremental_save_writes_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
