/*
 * test_mutator.c - the structure-aware mutator's specification (fuzz.h):
 * what it keeps (the framing), what it hands to the byte fallback, and that
 * it is a pure function of its input and seed, however its parse cache
 * stands.
 */
#define _GNU_SOURCE   /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz.h"

#define MAX (1u << 16)

typedef struct Fallback {
    unsigned calls;
} Fallback;

/* The byte fallback, recognisable: it counts its calls and leaves the input. */
static size_t fallback(uint8_t *data, size_t size, size_t max, void *opaque)
{
    (void)data;
    (void)max;
    ((Fallback *)opaque)->calls++;
    return size;
}

/* A stream of the fuzz board after `cycles` of the embedded firmware. */
static void stream_at(uint64_t cycles, VmsOut *out)
{
    Machine *m = fz_machine_new(NULL, 0);
    mach_run(m, cycles);
    VmsSaveOpts o = { .no_vmdesc = true };
    VmsError err;
    vms_out_init(out, 0);
    assert_true(mach_save(m, out, &o, &err));
    mach_free(m);
}

/* Mutate a copy of `in` with `seed`; the result in buf, its size returned. */
static size_t mutate(const VmsOut *in, unsigned seed, uint8_t *buf, Fallback *fb)
{
    memcpy(buf, in->buf, in->len);
    return fz_mutate_stream(buf, in->len, MAX, seed, fallback, fb);
}

/* The same input and seed give the same output: on the first parse, from
 * the cache, and after the cache has been flooded so the parse is redone. */
static void mutator_is_a_function_of_input_and_seed(void **state)
{
    (void)state;
    VmsOut a, b;
    stream_at(50000, &a);
    stream_at(90000, &b);
    uint8_t *first = malloc(MAX), *again = malloc(MAX), *other = malloc(MAX);
    Fallback fb = { 0 };
    for (unsigned seed = 1; seed < 40; seed++) {
        size_t n1 = mutate(&a, seed, first, &fb);
        mutate(&b, seed, other, &fb);       /* a different parse in between */
        size_t n2 = mutate(&a, seed, again, &fb);
        assert_int_equal(n1, n2);
        assert_memory_equal(first, again, n1);
    }
    /* Flood the cache with more distinct streams than it holds (b with
     * one SRAM byte changed, a different place each time), then a again. */
    const uint8_t *sram = memmem(b.buf, b.len, "\x04sram", 5);
    assert_non_null(sram);
    size_t body = (size_t)(sram - b.buf) + 5 + 8;   /* after instance and version */
    size_t n1 = mutate(&a, 7, first, &fb);
    for (unsigned k = 0; k < 600; k++) {
        memcpy(other, b.buf, b.len);
        other[body + k] ^= 0xff;
        fz_mutate_stream(other, b.len, MAX, k, fallback, &fb);
    }
    size_t n2 = mutate(&a, 7, again, &fb);
    assert_int_equal(n1, n2);
    assert_memory_equal(first, again, n1);
    free(first);
    free(again);
    free(other);
    vms_out_free(&a);
    vms_out_free(&b);
}

/* Structured mutations keep the framing: every output either loads or is
 * rejected inside a named section, never in the header, configuration or
 * section list. And they do change the stream. */
static void mutator_keeps_the_framing(void **state)
{
    (void)state;
    VmsOut s;
    stream_at(70000, &s);
    uint8_t *buf = malloc(MAX);
    Machine *m = fz_machine_new(NULL, 0);
    unsigned structured = 0, loaded = 0, changed = 0;
    for (unsigned seed = 0; seed < 400; seed++) {
        Fallback fb = { 0 };
        size_t n = mutate(&s, seed, buf, &fb);
        assert_true(n <= MAX);
        if (fb.calls)
            continue;
        structured++;
        changed += n != s.len || memcmp(buf, s.buf, n) != 0;
        VmsError err;
        if (mach_load(m, buf, n, &err)) {
            loaded++;
            continue;
        }
        if (!err.section[0]) {
            char line[512];
            vms_error_format(&err, line, sizeof(line));
            fail_msg("seed %u: rejected outside any section: %s", seed, line);
        }
    }
    /* A quarter goes to the fallback by design; the rest is structured. */
    assert_in_range(structured, 250, 350);
    assert_true(changed >= structured * 9 / 10);
    assert_true(loaded > 0 && loaded < structured);
    mach_free(m);
    free(buf);
    vms_out_free(&s);
}

/* What does not load goes to the byte fallback, whose result is returned. */
static void mutator_falls_back_on_what_does_not_load(void **state)
{
    (void)state;
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 1);
    for (unsigned seed = 0; seed < 20; seed++) {
        Fallback fb = { 0 };
        assert_int_equal(fz_mutate_stream(junk, sizeof(junk), MAX, seed, fallback, &fb),
                         sizeof(junk));
        assert_int_equal(fb.calls, 1);
    }
    /* A stream the target just ran and rejected is not parsed again. */
    VmsOut s;
    stream_at(30000, &s);
    s.buf[s.len - 2] ^= 0xff;   /* the last footer's section id */
    fz_mutator_note(s.buf, s.len, false);
    uint8_t *buf = malloc(MAX);
    for (unsigned seed = 0; seed < 20; seed++) {
        Fallback fb = { 0 };
        mutate(&s, seed, buf, &fb);
        assert_int_equal(fb.calls, 1);
    }
    free(buf);
    vms_out_free(&s);
}

/* An output that would not fit in max goes to the fallback instead. */
static void mutator_respects_max(void **state)
{
    (void)state;
    VmsOut s;
    stream_at(30000, &s);
    uint8_t *buf = malloc(MAX);
    for (unsigned seed = 0; seed < 40; seed++) {
        Fallback fb = { 0 };
        memcpy(buf, s.buf, s.len);
        size_t n = fz_mutate_stream(buf, s.len, s.len - 1, seed, fallback, &fb);
        assert_true(n <= s.len - 1 || fb.calls == 1);
    }
    free(buf);
    vms_out_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutator_is_a_function_of_input_and_seed),
        cmocka_unit_test(mutator_keeps_the_framing),
        cmocka_unit_test(mutator_falls_back_on_what_does_not_load),
        cmocka_unit_test(mutator_respects_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
