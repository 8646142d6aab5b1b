/*
 * test_decode.c - the trailer-driven decoder (engine/decode.h) on vmstress's
 * own streams, checked against the save map the engine keeps independently
 * of the trailer, on hand-built RAM sections, and on malformed variants.
 */
#include "test_util.h"

#include <stdlib.h>

#include "decode.h"
#include "fixture.h"

/* ------------------------------------------------------------ helpers */

static uint8_t *save_compound(uint32_t seed, VmsMap *map, size_t *len)
{
    TMachine m;
    tmachine_init(&m, true, seed);
    VmsOut out;
    vms_out_init(&out, 0);
    VmsSaveOpts o = { .map = map };
    VmsError e;
    assert_true(vms_save(&m.reg, &out, &o, &e));
    tmachine_fini(&m);
    *len = out.len;
    return out.buf;
}

/* A decode that must fail with one non-empty line. */
static void expect_fail(const uint8_t *b, size_t n, const char *needle)
{
    VmsMsg why = { "" };
    Vdec *d = vdec_decode(b, n, &why);
    if (d) {
        vdec_free(d);
        fail_msg("decoded a malformed stream (%zu bytes; expected '%s')", n, needle ? needle : "");
    }
    assert_true(why.text[0] != '\0');
    assert_null(strchr(why.text, '\n'));
    if (needle && !strstr(why.text, needle))
        fail_msg("error '%s' does not say '%s'", why.text, needle);
}

static size_t find_bytes(const uint8_t *b, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(b + i, s, k))
            return i;
    fail_msg("'%s' not in the stream", s);
    return 0;
}

/* ------------------------------------------------------------ vmstress's streams */

/* The section index of a span's idstr.instance prefix, from the registry order. */
static const char *const compound_prefix[] = { "tdev.0", "tdev.1", "tclk.0" };

/*
 * Every span the engine recorded while saving (its own walk of the
 * descriptions, not the trailer) is one leaf of the decode, at the same
 * offset with the same size, and there are no other leaves. The map joins
 * struct members with '.', the decoder with '/'.
 */
static void test_own_stream_matches_map(void **state)
{
    (void)state;
    VmsMap map;
    vms_map_init(&map);
    size_t n;
    uint8_t *b = save_compound(7, &map, &n);
    VmsMsg why = { "" };
    Vdec *d = vdec_decode(b, n, &why);
    if (!d)
        fail_msg("decode: %s", why.text);
    assert_int_equal(vdec_count(d), map.n);
    for (size_t i = 0; i < map.n; i++) {
        const VmsSpan *s = &map.spans[i];
        char path[VDEC_PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s",
                 s->section < 0 ? "configuration" : compound_prefix[s->section], s->path);
        for (char *p = path; *p; p++)
            if (*p == '.' && p > strchr(path, '/'))
                *p = '/';
        /* QEMU's trailer lists an array that sent one element (a VARRAY
         * whose count is 1) as a plain field, so it has no "[0]". */
        char *one = strstr(path, "[0]");
        if (!vdec_find(d, path) && one && (one[3] == '\0' || one[3] == '/'))
            memmove(one, one + 3, strlen(one + 3) + 1);
        const VdecLeaf *l = vdec_find(d, path);
        if (!l)
            fail_msg("span %zu '%s' has no leaf", i, path);
        assert_ptr_equal(vdec_leaf(d, i), l);   /* both in stream order */
        assert_int_equal(l->offset, s->offset);
        assert_int_equal(l->size, s->size);
        assert_ptr_equal(l->bytes, b + s->offset);
    }
    assert_null(vdec_leaf(d, map.n));
    /* Sections: framing the engine wrote, found by name and instance. */
    assert_int_equal(vdec_section_count(d), 3);
    for (size_t i = 0; i < 3; i++) {
        const VdecSection *sec = vdec_section(d, i);
        assert_int_equal(b[sec->header], VMS_SEC_FULL);
        assert_int_equal(sec->section_id, i);
        assert_int_equal(b[sec->footer], VMS_SEC_FOOTER);
        assert_int_equal(sec->end, sec->footer + 5);
        assert_int_equal(sec->body, sec->header + 14 + strlen(sec->idstr));
        assert_ptr_equal(vdec_section_find(d, sec->idstr, sec->instance_id), sec);
    }
    assert_string_equal(vdec_section(d, 1)->idstr, "tdev");
    assert_int_equal(vdec_section(d, 1)->instance_id, 1);
    assert_null(vdec_section(d, 3));
    assert_null(vdec_section_find(d, "tclk", 1));
    assert_null(vdec_find(d, "tdev.0/no-such-field"));
    assert_int_equal(vdec_page_size(d), 4096);
    vdec_free(d);
    vms_map_free(&map);
    free(b);
}

/* Values set in the source come back through the trailer's types. */
static void test_own_stream_values(void **state)
{
    (void)state;
    TMachine m;
    tmachine_init(&m, true, 9);
    m.dev[1].i16 = -1234;
    m.dev[1].u64 = 0xfedcba9876543210ull;
    VmsOut out;
    vms_out_init(&out, 0);
    VmsError e;
    assert_true(vms_save(&m.reg, &out, NULL, &e));
    Vdec *d = vdec_decode(out.buf, out.len, NULL);
    assert_non_null(d);
    bool sign;
    uint64_t v;
    assert_true(vdec_leaf_int(vdec_find(d, "tdev.1/i16"), &sign, &v));
    assert_true(sign);
    assert_int_equal((int64_t)v, -1234);
    assert_true(vdec_leaf_int(vdec_find(d, "tdev.1/u64"), &sign, &v));
    assert_false(sign);
    assert_true(v == 0xfedcba9876543210ull);
    assert_true(vdec_leaf_int(vdec_find(d, "tdev.0/chan[2]/dst"), &sign, &v));
    assert_int_equal(v, m.dev[0].chan[2].dst);
    const VdecLeaf *buf = vdec_find(d, "tdev.0/buf");
    assert_non_null(buf);
    assert_false(vdec_leaf_int(buf, &sign, &v));
    assert_memory_equal(buf->bytes, m.dev[0].buf, sizeof(m.dev[0].buf));
    char text[64];
    vdec_leaf_format(vdec_find(d, "tdev.1/i16"), 0, text, sizeof(text));
    assert_string_equal(text, "-1234 (0xfb2e)");
    vdec_free(d);
    vms_out_free(&out);
    tmachine_fini(&m);
}

/* ------------------------------------------------------------ malformed variants */

static void test_truncated(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = save_compound(3, NULL, &n);
    for (size_t cut = 0; cut < n; cut += 1 + cut / 64)
        expect_fail(b, cut, NULL);
    expect_fail(b, n - 1, NULL);
    expect_fail(NULL, 0, NULL);
    free(b);
}

/* Cut out bytes just before the EOF byte and re-append the same trailer:
 * the sections end early, the trailer is intact. */
static void test_section_cut(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = save_compound(3, NULL, &n);
    size_t t = find_bytes(b, n, "{\"configuration\"") - 5;
    for (size_t drop = 1; drop < 40; drop += 3) {
        uint8_t *c = malloc(n);
        memcpy(c, b, t - 1 - drop);
        memcpy(c + t - 1 - drop, b + t - 1, n - (t - 1));
        expect_fail(c, n - drop, NULL);
        free(c);
    }
    free(b);
}

static void test_corrupted(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = save_compound(3, NULL, &n);
    uint8_t *c = malloc(n + 1);
    size_t t = find_bytes(b, n, "{\"configuration\"") - 5;
#define RESET() memcpy(c, b, n)
    /* Trailer: length off by one either way, no brace, not JSON. */
    RESET();
    c[t + 4]++;
    expect_fail(c, n, "no vmdescription");
    RESET();
    c[t + 5] = '[';
    expect_fail(c, n, "no vmdescription");
    RESET();
    c[t + 6] = 'x';
    expect_fail(c, n, "not a JSON object");
    /* A size in the trailer that disagrees with the bytes. */
    RESET();
    size_t s = find_bytes(c + t, n - t, "\"size\":4") + t;
    c[s + 7] = '5';
    expect_fail(c, n, NULL);
    RESET();
    c[s + 7] = '9';
    expect_fail(c, n, NULL);
    /* A subsection renamed in the stream, a section not in the trailer. */
    RESET();
    size_t sub = find_bytes(c, t, "tdev/extra");
    c[sub + 5] = 'X';
    expect_fail(c, n, "subsection");
    RESET();
    size_t name = find_bytes(c, t, "tclk");
    c[name] = 'x';
    expect_fail(c, n, "no entry in the vmdescription");
    /* Unknown section type, broken footer, bad magic and version. */
    RESET();
    c[name - 6] = 0x09;
    expect_fail(c, n, "unknown section type 0x09");
    RESET();
    c[t - 5]++;
    expect_fail(c, n, "footer");
    RESET();
    c[0] = 'X';
    expect_fail(c, n, "not a migration stream");
    RESET();
    c[7] = 2;
    expect_fail(c, n, "stream version 2");
    /* Bytes between EOF and the trailer. */
    memcpy(c, b, t);
    c[t] = 0;
    memcpy(c + t + 1, b + t, n - t);
    c[t - 1] = 0x00;
    expect_fail(c, n + 1, NULL);
    /* Every single-bit flip: a clean result either way (asan watches). */
    for (size_t i = 0; i < n; i += 1 + i / 64) {
        RESET();
        c[i] ^= (uint8_t)(1u << (i % 8));
        VmsMsg why = { "" };
        Vdec *d = vdec_decode(c, n, &why);
        if (d)
            vdec_free(d);
        else
            assert_null(strchr(why.text, '\n'));
    }
#undef RESET
    free(c);
    free(b);
}

/* ------------------------------------------------------------ hand-built streams */

/* A stream of the given sections and trailer: magic, version, body, EOF, trailer. */
static uint8_t *build(const VmsOut *body, const char *json, size_t *len)
{
    VmsOut o;
    vms_out_init(&o, 0);
    vms_out_be32(&o, VMS_FILE_MAGIC);
    vms_out_be32(&o, VMS_FILE_VERSION);
    vms_out_bytes(&o, body->buf, body->len);
    vms_out_u8(&o, VMS_SEC_EOF);
    vms_out_u8(&o, VMS_SEC_VMDESCRIPTION);
    vms_out_be32(&o, (uint32_t)strlen(json));
    vms_out_bytes(&o, json, strlen(json));
    assert_false(o.failed);
    *len = o.len;
    return o.buf;
}

static void name8(VmsOut *o, const char *s)
{
    vms_out_u8(o, (uint8_t)strlen(s));
    vms_out_bytes(o, s, strlen(s));
}

enum { PS = 1024 };

/* A ram section: START with the block list "a" (2 pages) and "bb" (1 page),
 * then PART with `records` (caller-written), EOS and footer. */
static void ram_start(VmsOut *o)
{
    vms_out_u8(o, VMS_SEC_START);
    vms_out_be32(o, 3);
    name8(o, "ram");
    vms_out_be32(o, 0);
    vms_out_be32(o, 4);
    vms_out_be64(o, 3 * PS | 0x04);
    name8(o, "a");
    vms_out_be64(o, 2 * PS);
    name8(o, "bb");
    vms_out_be64(o, PS);
    vms_out_be64(o, 0x10);
    vms_out_u8(o, VMS_SEC_FOOTER);
    vms_out_be32(o, 3);
    vms_out_u8(o, VMS_SEC_PART);
    vms_out_be32(o, 3);
}

static void ram_end(VmsOut *o)
{
    vms_out_be64(o, 0x10);
    vms_out_u8(o, VMS_SEC_FOOTER);
    vms_out_be32(o, 3);
}

static const char ram_json[] = "{\"page_size\":1024,\"devices\":[]}";

static void test_ram_pages(void **state)
{
    (void)state;
    VmsOut o;
    vms_out_init(&o, 0);
    ram_start(&o);
    vms_out_be64(&o, PS | 0x08);        /* a@0x400, full page of 0x5a */
    name8(&o, "a");
    for (int i = 0; i < PS; i++)
        vms_out_u8(&o, 0x5a);
    vms_out_be64(&o, 0 | 0x22);         /* a@0x0, zero page, CONTINUE */
    vms_out_u8(&o, 0);
    vms_out_be64(&o, 0 | 0x02);         /* bb@0x0, zero page filled with 7 */
    name8(&o, "bb");
    vms_out_u8(&o, 7);
    vms_out_be64(&o, PS | 0x28);        /* a@0x400 again (CONTINUE is bb: must fail below) */
    size_t ok_len = o.len - 8;
    ram_end(&o);
    size_t n;
    uint8_t *b = build(&o, ram_json, &n);
    /* The last record continues "bb" at 0x400, past its one page. */
    expect_fail(b, n, "outside RAM block 'bb'");
    free(b);

    o.len = ok_len;
    vms_out_be64(&o, PS | 0x08);        /* a@0x400 sent again: the later copy wins */
    name8(&o, "a");
    for (int i = 0; i < PS; i++)
        vms_out_u8(&o, 0xa5);
    ram_end(&o);
    b = build(&o, ram_json, &n);
    VmsMsg why = { "" };
    Vdec *d = vdec_decode(b, n, &why);
    if (!d)
        fail_msg("decode: %s", why.text);
    assert_int_equal(vdec_count(d), 2 + 4);
    const VdecLeaf *l = vdec_find(d, "ram/a@0x400");
    assert_non_null(l);
    assert_string_equal(l->type, "ram-page");
    assert_int_equal(l->size, PS);
    assert_int_equal(l->bytes[0], 0xa5);
    assert_ptr_equal(vdec_leaf(d, 5), l);
    assert_int_equal(vdec_leaf(d, 2)->bytes[0], 0x5a);
    l = vdec_find(d, "ram/bb@0x0");
    assert_string_equal(l->type, "ram-zero");
    assert_int_equal(l->size, 1);
    assert_int_equal(l->bytes[0], 7);
    bool sign;
    uint64_t v;
    assert_true(vdec_leaf_int(vdec_find(d, "ram/a"), &sign, &v));
    assert_int_equal(v, 2 * PS);
    vdec_free(d);
    free(b);
    vms_out_free(&o);
}

/* One bad RAM record after a good start: each must fail by name. */
static void ram_bad(uint64_t record, const char *block, const char *needle)
{
    VmsOut o;
    vms_out_init(&o, 0);
    ram_start(&o);
    vms_out_be64(&o, record);
    if (block)
        name8(&o, block);
    vms_out_zeros(&o, PS);
    ram_end(&o);
    size_t n;
    uint8_t *b = build(&o, ram_json, &n);
    expect_fail(b, n, needle);
    free(b);
    vms_out_free(&o);
}

static void test_ram_malformed(void **state)
{
    (void)state;
    ram_bad(0x40 | 0x08, "a", "flags 0x40");           /* XBZRLE */
    ram_bad(0x100, "a", "flags 0x100");                /* compressed */
    ram_bad(0x200 | 0x08, "a", "flags 0x200");         /* multifd flush */
    ram_bad(0x08, "zz", "unknown RAM block 'zz'");
    ram_bad(0x28, NULL, "CONTINUE page with no block");
    ram_bad(0x0a, "a", "neither a page nor a zero page");
    ram_bad(0x20, NULL, "neither a page nor a zero page");
    ram_bad(4 * PS | 0x08, "a", "outside RAM block 'a'");
    ram_bad(PS | 0x04, NULL, "RAM block list sent twice");
    ram_bad(PS | 0x10, NULL, "end-of-section record");
    /* A page size the trailer cannot have, and a continuation of nothing. */
    VmsOut o;
    vms_out_init(&o, 0);
    ram_start(&o);
    ram_end(&o);
    size_t n;
    uint8_t *b = build(&o, "{\"page_size\":1000,\"devices\":[]}", &n);
    expect_fail(b, n, "page_size of 1000");
    free(b);
    vms_out_reset(&o);
    vms_out_u8(&o, VMS_SEC_END);
    vms_out_be32(&o, 3);
    b = build(&o, ram_json, &n);
    expect_fail(b, n, "no ram section started");
    free(b);
    vms_out_free(&o);
}

/* ------------------------------------------------------------ resource bounds */

static uint8_t *one_section(const char *json, size_t body_len, size_t *len)
{
    VmsOut o;
    vms_out_init(&o, 0);
    vms_out_u8(&o, VMS_SEC_FULL);
    vms_out_be32(&o, 1);
    name8(&o, "x");
    vms_out_be32(&o, 0);
    vms_out_be32(&o, 1);
    vms_out_zeros(&o, body_len);
    vms_out_u8(&o, VMS_SEC_FOOTER);
    vms_out_be32(&o, 1);
    uint8_t *b = build(&o, json, len);
    vms_out_free(&o);
    return b;
}

static void test_bounds(void **state)
{
    (void)state;
    size_t n;
    /* A zero-size array of a billion elements: bounded by the leaf cap. */
    uint8_t *b = one_section("{\"page_size\":1024,\"devices\":[{\"name\":\"x\",\"instance_id\":0,"
                             "\"version\":1,\"fields\":[{\"name\":\"f\",\"array_len\":1000000000,"
                             "\"type\":\"buffer\",\"size\":0}]}]}", 0, &n);
    expect_fail(b, n, "more than");
    free(b);
    /* Structs nested past the depth cap. */
    char json[8192];
    size_t k = (size_t)snprintf(json, sizeof(json),
                                "{\"page_size\":1024,\"devices\":[{\"name\":\"x\",\"instance_id\":0,"
                                "\"fields\":[");
    for (int i = 0; i < VDEC_DEPTH_MAX + 2; i++)
        k += (size_t)snprintf(json + k, sizeof(json) - k,
                              "{\"name\":\"s\",\"type\":\"struct\",\"size\":0,\"struct\":{\"fields\":[");
    for (int i = 0; i < VDEC_DEPTH_MAX + 2; i++)
        k += (size_t)snprintf(json + k, sizeof(json) - k, "]}}");
    snprintf(json + k, sizeof(json) - k, "]}]}");
    b = one_section(json, 0, &n);
    expect_fail(b, n, "nested deeper");
    free(b);
    /* A leaf larger than what is left, with a size near SIZE_MAX / 2. */
    b = one_section("{\"page_size\":1024,\"devices\":[{\"name\":\"x\",\"instance_id\":0,"
                    "\"fields\":[{\"name\":\"f\",\"type\":\"buffer\",\"size\":4611686018427387903}]}]}",
                    4, &n);
    expect_fail(b, n, "truncated");
    free(b);
    /* A struct whose declared size is not what its fields took. */
    b = one_section("{\"page_size\":1024,\"devices\":[{\"name\":\"x\",\"instance_id\":0,"
                    "\"fields\":[{\"name\":\"s\",\"type\":\"struct\",\"size\":3,\"struct\":"
                    "{\"fields\":[{\"name\":\"a\",\"type\":\"uint32\",\"size\":4}]}}]}]}", 4, &n);
    expect_fail(b, n, "took 4 bytes");
    free(b);
    /* The same, consistent: decodes, and fields with index name their element. */
    b = one_section("{\"page_size\":1024,\"devices\":[{\"name\":\"x\",\"instance_id\":0,"
                    "\"fields\":[{\"name\":\"s\",\"index\":3,\"type\":\"struct\",\"size\":4,\"struct\":"
                    "{\"fields\":[{\"name\":\"a\",\"type\":\"uint32\",\"size\":4}]}}]}]}", 4, &n);
    Vdec *d = vdec_decode(b, n, NULL);
    assert_non_null(d);
    assert_non_null(vdec_find(d, "x.0/s[3]/a"));
    vdec_free(d);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_stream_matches_map),
        cmocka_unit_test(test_own_stream_values),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_section_cut),
        cmocka_unit_test(test_corrupted),
        cmocka_unit_test(test_ram_pages),
        cmocka_unit_test(test_ram_malformed),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
