/*
 * test_qemu_fuzz_mutate.c - the loader fuzzer's mutator (harness/qemu/fuzz.c)
 * without QEMU: driven only by a stream's vmdescription, it must keep a
 * value mutant decodable leaf for leaf (same paths, bytes changed only
 * inside leaves), make framing mutants that the decoder either still reads
 * or refuses with a one-line reason, use values of the same leaf from the
 * other stream, and be deterministic for a seed. The streams are the
 * engine fixture's (every field kind, subsections, a trailer like QEMU's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "fixture.h"
#include "qemu.h"

#define SEEDS 400

typedef struct Streams {
    VmsOut out[2];
    const uint8_t *buf[2];
    size_t len[2];
} Streams;

static void make_streams(Streams *s)
{
    for (int i = 0; i < 2; i++) {
        TMachine m;
        tmachine_init(&m, true, 7u + (uint32_t)i);
        VmsError err;
        vms_out_init(&s->out[i], 0);
        assert_true(vms_save(&m.reg, &s->out[i], NULL, &err));
        tmachine_fini(&m);
        s->buf[i] = s->out[i].buf;
        s->len[i] = s->out[i].len;
    }
}

static void free_streams(Streams *s)
{
    for (int i = 0; i < 2; i++)
        vms_out_free(&s->out[i]);
}

/* Every byte where the mutant differs from base lies inside a leaf. */
static size_t bytes_outside_leaves(const Vdec *d, const uint8_t *m, const uint8_t *base, size_t len)
{
    size_t outside = 0;
    for (size_t off = 0; off < len; off++) {
        if (m[off] == base[off])
            continue;
        bool in = false;
        for (size_t i = 0; i < vdec_count(d) && !in; i++) {
            const VdecLeaf *l = vdec_leaf(d, i);
            in = off >= l->offset && off < l->offset + l->size;
        }
        outside += !in;
    }
    return outside;
}

static size_t differing(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += a[i] != b[i];
    return k;
}

static void value_mutants_decode_leaf_for_leaf(void **state)
{
    (void)state;
    Streams s;
    make_streams(&s);
    VmsMsg why;
    Vdec *base = vdec_decode(s.buf[0], s.len[0], &why);
    assert_non_null(base);
    unsigned values = 0, changed = 0, framing = 0, refused = 0, read = 0, borrowed = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        size_t len, len2;
        bool structural, structural2;
        char what[400], what2[400];
        QdrvErr e = { "" };
        uint8_t *m = qdrv_fuzz_mutant(s.buf, s.len, 2, seed, &len, &structural, what, sizeof(what), &e);
        assert_non_null(m);
        /* Deterministic: the same seed gives the same bytes. */
        uint8_t *m2 = qdrv_fuzz_mutant(s.buf, s.len, 2, seed, &len2, &structural2, what2, sizeof(what2), &e);
        assert_int_equal(len, len2);
        assert_memory_equal(m, m2, len);
        assert_string_equal(what, what2);
        free(m2);
        borrowed += strstr(what, "from another checkpoint") != NULL;
        Vdec *d = vdec_decode(m, len, &why);
        if (!structural) {
            values++;
            /* Same size, still decodes, same leaves, changes only inside leaves. */
            assert_non_null(d);
            assert_int_equal(vdec_count(d), vdec_count(base));
            for (size_t i = 0; i < vdec_count(d); i++)
                assert_string_equal(vdec_leaf(d, i)->path, vdec_leaf(base, i)->path);
            size_t d0 = len == s.len[0] ? differing(m, s.buf[0], len) : SIZE_MAX;
            size_t d1 = len == s.len[1] ? differing(m, s.buf[1], len) : SIZE_MAX;
            const uint8_t *from = d0 <= d1 ? s.buf[0] : s.buf[1];
            assert_true(d0 != SIZE_MAX || d1 != SIZE_MAX);
            assert_int_equal(bytes_outside_leaves(d, m, from, len), 0);
            changed += (d0 <= d1 ? d0 : d1) > 0;
        } else {
            framing++;
            if (d) {
                read++;
            } else {
                refused++;
                assert_true(why.text[0] != 0 && !strchr(why.text, '\n'));
            }
        }
        vdec_free(d);
        free(m);
    }
    /* Both kinds are made, a value mutant almost always changes a byte,
     * framing mutants are mostly refused by the decoder (the trailer no
     * longer describes them), and values are borrowed from the other stream. */
    assert_true(values > SEEDS / 2);
    assert_true(changed * 10 >= values * 8);
    assert_true(framing > SEEDS / 20);
    assert_true(refused > 0);
    assert_true(borrowed > 0);
    print_message("%u value mutants (%u changed), %u framing (%u refused, %u still decode), %u borrowed\n", values,
                  changed, framing, refused, read, borrowed);
    vdec_free(base);
    free_streams(&s);
}

static void a_base_that_does_not_decode_is_an_error(void **state)
{
    (void)state;
    Streams s;
    make_streams(&s);
    size_t len, cut[2] = { s.len[0] / 2, s.len[1] };
    bool structural;
    char what[100];
    QdrvErr e = { "" };
    assert_null(qdrv_fuzz_mutant(s.buf, cut, 2, 1, &len, &structural, what, sizeof(what), &e));
    assert_non_null(strstr(e.text, "does not decode"));
    assert_null(strchr(e.text, '\n'));
    assert_null(qdrv_fuzz_mutant(s.buf, s.len, 0, 1, &len, &structural, what, sizeof(what), &e));
    free_streams(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(value_mutants_decode_leaf_for_leaf),
        cmocka_unit_test(a_base_that_does_not_decode_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
