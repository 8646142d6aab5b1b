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
    loop_repro_free(&r);
    /* Damaged files are refused with the key named. */
    FILE *fp = fopen(path, "w");
    fputs("{\"vmstress_reproducer\":1,\"board\":\"b\",\"firmware\":\"f\",\"seed\":1,\"checkpoints\":[5,3]}", fp);
    fclose(fp);
    assert_false(loop_repro_read(path, &r, &e, err, sizeof(err)));
    assert_non_null(strstr(err, "checkpoints[1]"));
    fp = fopen(path, "w");
    fputs("{\"board\":", fp);
    fclose(fp);
    assert_false(loop_repro_read(path, &r, &e, err, sizeof(err)));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_and_deterministic),
        cmocka_unit_test(test_dense_checkpoints),
        cmocka_unit_test(test_twin_ops),
        cmocka_unit_test(test_divergence_is_named),
        cmocka_unit_test(test_repro_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
