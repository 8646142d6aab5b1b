/*
 * test_fieldcov.c - field coverage, specified on a tiny hand-written
 * description walked by the real engine: what counts as non-reset, distinct
 * values (bounded), versions, subsection decisions, validator rejections,
 * merging data files, the HTML listing every field, the lcov tracefile, and
 * the ratchet. Run one group with: test_fieldcov <group>.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fieldcov.h"
#include "machine.h"

/* ------------------------------------------------------------ the tiny device */

typedef struct Tiny {
    uint32_t ctrl;          /* reset 0x10 */
    uint8_t fifo[4];
    int32_t level;          /* must stay in 0..10 (VALIDATE) */
    uint16_t idreg;         /* an *_EQUAL identity register, reset 0x55 */
    uint16_t pad;
    uint32_t newer;         /* only in version 2 streams */
    uint32_t extra;         /* in subsection tiny/extra, sent when non-zero */
} Tiny;

static bool level_ok(void *opaque, int version_id)
{
    (void)version_id;
    const Tiny *t = opaque;
    return t->level >= 0 && t->level <= 10;
}

static bool extra_needed(void *opaque) { return ((const Tiny *)opaque)->extra != 0; }

static const VmsDesc tiny_extra = {
    .name = "tiny/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = extra_needed,
    .fields = (const VmsField[]){ VMS_UINT32(extra, Tiny), VMS_END_OF_LIST() },
};

static const VmsDesc tiny = {
    .name = "tiny",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VmsField[]){
        VMS_UINT32(ctrl, Tiny),
        VMS_UINT8_ARRAY(fifo, Tiny, 4),
        VMS_INT32(level, Tiny),
        VMS_VALIDATE("level in range", level_ok),
        VMS_UINT16_EQUAL(idreg, Tiny),
        VMS_UINT32_V(newer, Tiny, 2),
        VMS_END_OF_LIST(),
    },
    .subsections = (const VmsDesc *const[]){ &tiny_extra, NULL },
};

typedef struct Rig {
    Fcov *fc;
    FcovAttach *a;
    Tiny t;
    VmsOut out;
    VmsError err;
} Rig;

static Rig *rig_new(void)
{
    Rig *r = calloc(1, sizeof(*r));
    r->t.ctrl = 0x10;
    r->t.idreg = 0x55;
    r->fc = fcov_new();
    fcov_add_desc(r->fc, &tiny);
    FcovPart part = { "tiny.0", &r->t, sizeof(r->t) };
    r->a = fcov_attach(r->fc, &part, 1, FCOV_SRC_FUZZ, FCOV_SAVES | FCOV_LOADS);
    vms_out_init(&r->out, 0);
    return r;
}

static void rig_free(Rig *r)
{
    vms_out_free(&r->out);
    fcov_free(r->fc);
    free(r);
}

static VmsCtx ctx(Rig *r)
{
    VmsCtx c;
    memset(&c, 0, sizeof(c));
    c.err = &r->err;
    c.section = "tiny";
    c.observe = fcov_observe;
    c.observe_event = fcov_observe_event;
    c.obs_opaque = r->a;
    return c;
}

static void save(Rig *r)
{
    VmsCtx c = ctx(r);
    vms_out_reset(&r->out);
    bool ok = vms_save_state(&c, &r->out, &tiny, &r->t);
    if (!ok) {
        char line[400];
        vms_error_format(&r->err, line, sizeof(line));
        fail_msg("save failed: %s", line);
    }
}

/* Load buf at `version` into the part and close the load; returns success. */
static bool load(Rig *r, const void *buf, size_t len, int version)
{
    VmsCtx c = ctx(r);
    VmsIn in;
    vms_in_init(&in, buf, len);
    bool ok = vms_load_state(&c, &in, &tiny, &r->t, version);
    fcov_load_end(r->a, &tiny, ok ? NULL : &r->err);
    return ok;
}

static const FcovStats *stats_in(Rig *r, const char *desc, const char *field, FcovStats *buf)
{
    const FcovDesc *d = fcov_find_desc(r->fc, desc);
    assert_non_null(d);
    const FcovField *f = fcov_find_field(d, field);
    assert_non_null(f);
    fcov_field_total(f, buf);
    return buf;
}

static const FcovStats *stats(Rig *r, const char *field, FcovStats *buf)
{
    return stats_in(r, "tiny", field, buf);
}

/* ------------------------------------------------------------ counting */

static void test_nonreset_and_distinct(void **state)
{
    (void)state;
    Rig *r = rig_new();
    FcovStats s;
    save(r);                                    /* power-on: nothing is non-reset */
    assert_int_equal(stats(r, "ctrl", &s)->saved, 1);
    assert_int_equal(s.nonreset, 0);
    assert_int_equal(s.n_distinct, 1);
    assert_int_equal(s.distinct[0], 0x10);
    for (uint32_t v = 1; v <= 3; v++) {
        r->t.ctrl = v;
        save(r);
    }
    r->t.ctrl = 0x10;                           /* back to reset: not counted */
    r->t.fifo[2] = 7;
    save(r);
    assert_int_equal(stats(r, "ctrl", &s)->saved, 5);
    assert_int_equal(s.nonreset, 3);
    assert_int_equal(s.n_distinct, 4);
    assert_false(s.distinct_more);
    /* Arrays count per element: 4 per save, one of them non-reset once. */
    assert_int_equal(stats(r, "fifo", &s)->saved, 20);
    assert_int_equal(s.nonreset, 1);
    assert_int_equal(s.n_distinct, 2);
    assert_int_equal(stats(r, "idreg", &s)->nonreset, 0);
    assert_false(fcov_field_covered(fcov_find_field(fcov_find_desc(r->fc, "tiny"), "idreg")));
    assert_true(fcov_field_covered(fcov_find_field(fcov_find_desc(r->fc, "tiny"), "ctrl")));
    /* Counted fields: ctrl fifo level idreg newer + extra in the subsection. */
    size_t nf, nc;
    fcov_count(r->fc, fcov_find_desc(r->fc, "tiny"), &nf, &nc);
    assert_int_equal(nf, 5);
    assert_int_equal(nc, 2);
    /* Instances are named after the part. */
    const FcovField *f = fcov_find_field(fcov_find_desc(r->fc, "tiny"), "ctrl");
    assert_int_equal(f->n_inst, 1);
    assert_string_equal(fcov_inst_name(r->fc, f->inst[0].inst), "tiny.0");
    rig_free(r);
}

static void test_distinct_is_bounded(void **state)
{
    (void)state;
    Rig *r = rig_new();
    FcovStats s;
    for (uint32_t v = 0; v < 100; v++) {
        r->t.ctrl = 1000 + v;
        save(r);
    }
    assert_int_equal(stats(r, "ctrl", &s)->n_distinct, FCOV_DISTINCT_MAX);
    assert_true(s.distinct_more);
    assert_int_equal(s.nonreset, 100);
    rig_free(r);
}

static void test_versions_and_subsections(void **state)
{
    (void)state;
    Rig *r = rig_new();
    save(r);                                    /* extra == 0: not needed */
    r->t.extra = 5;
    save(r);                                    /* needed: sent */
    const FcovDesc *sub = fcov_find_desc(r->fc, "tiny/extra");
    assert_non_null(sub);
    assert_true(sub->subsection);
    assert_int_equal(sub->needed, 1);
    assert_int_equal(sub->not_needed, 1);
    const FcovDesc *d = fcov_find_desc(r->fc, "tiny");
    assert_int_equal(d->n_saved_versions, 1);
    assert_int_equal(d->versions_saved[0], 2);
    FcovStats s;
    assert_int_equal(stats(r, "newer", &s)->saved, 2);

    /* The v2 stream with the subsection loads back; the subsection is seen. */
    VmsOut copy = r->out;
    uint8_t *buf = malloc(copy.len);
    memcpy(buf, copy.buf, copy.len);
    assert_true(load(r, buf, copy.len, 2));
    assert_int_equal(sub->sub_loaded, 1);
    assert_int_equal(d->n_loaded_versions, 1);
    assert_int_equal(d->versions_loaded[0], 2);
    free(buf);

    /* A version 1 body has no `newer`: ctrl fifo level idreg only. */
    uint8_t v1[] = { 0, 0, 0, 9, 1, 2, 3, 4, 0, 0, 0, 3, 0, 0x55 };
    assert_true(load(r, v1, sizeof(v1), 1));
    assert_int_equal(r->t.ctrl, 9);
    assert_int_equal(d->n_loaded_versions, 2);
    assert_int_equal(d->versions_loaded[1], 1);
    assert_int_equal(stats(r, "ctrl", &s)->loaded[FCOV_SRC_FUZZ], 2);
    assert_int_equal(s.accepted[FCOV_SRC_FUZZ], 2);
    assert_int_equal(stats(r, "newer", &s)->loaded[FCOV_SRC_FUZZ], 1);
    assert_int_equal(stats_in(r, "tiny/extra", "extra", &s)->accepted[FCOV_SRC_FUZZ], 1);
    assert_int_equal(stats_in(r, "tiny/extra", "extra", &s)->nonreset, 1);
    rig_free(r);
}

static void test_validator_rejections(void **state)
{
    (void)state;
    Rig *r = rig_new();
    FcovStats s;
    /* level 50 fails the VALIDATE predicate after ctrl/fifo/level loaded. */
    uint8_t bad_level[] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0x55, 0, 0, 0, 0 };
    assert_false(load(r, bad_level, sizeof(bad_level), 2));
    assert_int_equal(r->err.cls, VMS_ERR_VALIDATE);
    assert_int_equal(stats(r, "level in range", &s)->rejected[FCOV_REJ_VALIDATE], 1);
    /* Loaded but not accepted. */
    assert_int_equal(stats(r, "ctrl", &s)->loaded[FCOV_SRC_FUZZ], 1);
    assert_int_equal(s.accepted[FCOV_SRC_FUZZ], 0);
    /* idreg 0x56 where the destination has 0x55: an EQUAL rejection. */
    r->t.level = 0;
    uint8_t bad_id[] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0x56, 0, 0, 0, 0 };
    assert_false(load(r, bad_id, sizeof(bad_id), 2));
    assert_int_equal(r->err.cls, VMS_ERR_EQUAL);
    assert_int_equal(stats(r, "idreg", &s)->rejected[FCOV_REJ_EQUAL], 1);
    assert_int_equal(stats(r, "level in range", &s)->rejected[FCOV_REJ_VALIDATE], 1);
    /* A good stream is accepted: every element it loaded counts. */
    uint8_t good[] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0x55, 0, 0, 0, 0 };
    assert_true(load(r, good, sizeof(good), 2));
    assert_int_equal(stats(r, "fifo", &s)->accepted[FCOV_SRC_FUZZ], 4);
    uint64_t loads[FCOV_NSRC], ok[FCOV_NSRC];
    fcov_load_counts(r->fc, loads, ok);
    assert_int_equal(loads[FCOV_SRC_FUZZ], 3);
    assert_int_equal(ok[FCOV_SRC_FUZZ], 1);
    rig_free(r);
}

/* ------------------------------------------------------------ files */

static char tmpdir[64];

static const char *tmp(const char *name)
{
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/vms-fcov-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

static void test_merge_files(void **state)
{
    (void)state;
    char err[300];
    Rig *a = rig_new(), *b = rig_new();
    a->t.ctrl = 1;
    save(a);
    save(a);
    b->t.ctrl = 2;
    b->t.extra = 9;
    save(b);
    assert_true(fcov_write_file(a->fc, tmp("a.json"), err, sizeof(err)));
    assert_true(fcov_write_file(b->fc, tmp("b.json"), err, sizeof(err)));
    /* Merge both into a data file the way runs do, then read it back. */
    assert_true(fcov_merge_into_file(a->fc, tmp("all.json"), err, sizeof(err)));
    Fcov *fb = fcov_new();
    assert_true(fcov_read_file(fb, tmp("b.json"), err, sizeof(err)));
    assert_true(fcov_merge_into_file(fb, tmp("all.json"), err, sizeof(err)));
    fcov_free(fb);
    Fcov *all = fcov_new();
    assert_true(fcov_read_file(all, tmp("all.json"), err, sizeof(err)));
    const FcovField *f = fcov_find_field(fcov_find_desc(all, "tiny"), "ctrl");
    assert_non_null(f);
    FcovStats s;
    fcov_field_total(f, &s);
    assert_int_equal(s.saved, 3);
    assert_int_equal(s.nonreset, 3);
    assert_int_equal(s.n_distinct, 2);          /* {1, 2}: a union, not a sum */
    const FcovDesc *sub = fcov_find_desc(all, "tiny/extra");
    assert_int_equal(sub->needed, 1);
    assert_int_equal(sub->not_needed, 2);
    assert_true(sub->subsection);
    fcov_free(all);
    /* Bad input: one line naming the file and the place. */
    FILE *bad = fopen(tmp("bad.json"), "w");
    fputs("{\"format\": \"vmstress-field-coverage\", \"version\": 1, \"descriptions\": "
          "[{\"name\": \"x\", \"fields\": [{\"name\": \"y\", \"instances\": {\"i\": {\"saved\": -4}}}]}]}",
          bad);
    fclose(bad);
    Fcov *z = fcov_new();
    assert_false(fcov_read_file(z, tmp("bad.json"), err, sizeof(err)));
    assert_non_null(strstr(err, "bad.json"));
    assert_non_null(strstr(err, "'saved'"));
    assert_int_equal(fcov_n_descs(z), 0);       /* a bad file merges nothing */
    assert_false(fcov_read_file(z, tmp("missing.json"), err, sizeof(err)));
    fcov_free(z);
    rig_free(a);
    rig_free(b);
}

/* ------------------------------------------------------------ bits */

static void test_bits(void **state)
{
    (void)state;
    char err[300];
    Rig *r = rig_new();
    FcovStats s;
    save(r);                                    /* ctrl 0x10, fifo all 0 */
    r->t.ctrl = 0x11;
    r->t.fifo[3] = 0x80;                        /* the last element's top bit */
    save(r);
    stats(r, "ctrl", &s);
    assert_int_equal(s.bit_width, 32);
    assert_int_equal(s.bit_elems, 1);
    assert_int_equal(s.seen1[0], 0x11);
    assert_int_equal(s.seen0[0], 0xffffffefu);  /* bit 4 never 0, the rest seen 0 */
    stats(r, "fifo", &s);
    assert_int_equal(s.bit_width, 8);
    assert_int_equal(s.bit_elems, 4);           /* per element */
    assert_int_equal(s.seen1[3], 0x80);
    assert_int_equal(s.seen1[2], 0);
    assert_int_equal(s.seen0[3], 0xff);
    /* Bit counts: unseen bits, and the ones a reason explains. */
    FcovBits b;
    fcov_bit_counts(r->fc, NULL, &b);
    uint64_t bits = b.bits;
    assert_true(b.unseen > 0 && b.unexplained == b.unseen);
    json_t *why = json_pack("{ss}", "tiny/ctrl:0xffffffee", "reserved");
    fcov_bit_counts(r->fc, why, &b);
    assert_int_equal(b.bits, bits);
    assert_int_equal(b.unseen - b.unexplained, 32 - 2);  /* bit 0 and bit 4 are unseen (never 0) or seen */
    json_object_set_new(why, "tiny/fifo", json_string("whole field"));
    fcov_bit_counts(r->fc, why, &b);
    assert_int_equal(b.unseen - b.unexplained, 30 + 4 * 8 - 1);    /* fifo[3] bit 7 was seen both ways */
    json_decref(why);
    /* Files keep the bits and merge them by OR; a version 1 file (no bits) still reads. */
    assert_true(fcov_write_file(r->fc, tmp("bits.json"), err, sizeof(err)));
    Rig *o = rig_new();
    o->t.fifo[0] = 1;
    save(o);
    assert_true(fcov_read_file(o->fc, tmp("bits.json"), err, sizeof(err)));
    stats(o, "fifo", &s);
    assert_int_equal(s.seen1[0], 1);
    assert_int_equal(s.seen1[3], 0x80);
    FILE *v1 = fopen(tmp("v1.json"), "w");
    fputs("{\"format\": \"vmstress-field-coverage\", \"version\": 1, \"descriptions\": "
          "[{\"name\": \"tiny\", \"fields\": [{\"name\": \"ctrl\", \"instances\": {\"tiny.0\": {\"saved\": 4}}}]}]}",
          v1);
    fclose(v1);
    assert_true(fcov_read_file(o->fc, tmp("v1.json"), err, sizeof(err)));
    /* Masks wider than the width are refused, naming the place. */
    FILE *bad = fopen(tmp("badbits.json"), "w");
    fputs("{\"format\": \"vmstress-field-coverage\", \"version\": 2, \"descriptions\": "
          "[{\"name\": \"x\", \"fields\": [{\"name\": \"y\", \"instances\": {\"i\": "
          "{\"bits\": {\"width\": 8, \"seen0\": [\"0x100\"], \"seen1\": [\"0x0\"]}}}}]}]}",
          bad);
    fclose(bad);
    Fcov *z = fcov_new();
    assert_false(fcov_read_file(z, tmp("badbits.json"), err, sizeof(err)));
    assert_non_null(strstr(err, "wider than 'width'"));
    assert_non_null(strstr(err, "instance 'i'"));
    fcov_free(z);
    rig_free(o);
    rig_free(r);
}

static void test_html_lists_every_field(void **state)
{
    (void)state;
    char err[300];
    Fcov *fc = fcov_new();
    assert_true(fcov_add_shipped(fc, err, sizeof(err)));
    fcov_add_desc(fc, &tiny);
    assert_true(fcov_write_html(fc, tmp("f.html"), NULL, err, sizeof(err)));
    char *html = slurp(tmp("f.html"));
    assert_null(strstr(html, "http://"));       /* self-contained */
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<script src"));
    size_t rows = 0;
    for (const char *p = html; (p = strstr(p, "<tr class=")); p++)
        rows++;
    size_t fields = 0;
    for (size_t i = 0; i < fcov_n_descs(fc); i++) {
        const FcovDesc *d = fcov_desc(fc, i);
        fields += d->n_fields;
        for (size_t k = 0; k < d->n_fields; k++) {
            char cell[300];
            snprintf(cell, sizeof(cell), "<td><code>%s</code></td>", d->fields[k].name);
            if (!strchr(d->fields[k].name, '<') && !strchr(d->fields[k].name, '&'))
                assert_non_null(strstr(html, cell));
        }
    }
    /* One row per description in the first table, one per field in the second. */
    assert_int_equal(rows, fcov_n_descs(fc) + fields);
    /* Every shipped device type is there. */
    for (size_t i = 0; i < dev_n_types; i++)
        assert_non_null(fcov_find_desc(fc, dev_types[i]->vmsd->name));
    assert_true(dev_n_types == 0 || fields > 20);
    free(html);
    fcov_free(fc);
}

static void test_lcov_tracefile(void **state)
{
    (void)state;
    char err[300];
    Rig *r = rig_new();
    r->t.ctrl = 3;
    save(r);
    save(r);
    assert_true(fcov_write_lcov(r->fc, tmp("f.info"), tmp("src"), err, sizeof(err)));
    char *info = slurp(tmp("f.info"));
    /* tiny: DA for the 5 state fields in description order (not the validator). */
    char *sf = strstr(info, "/vmstate/tiny\n");
    assert_non_null(sf);
    assert_non_null(strstr(sf, "\nDA:1,2\nDA:2,0\nDA:3,0\nDA:5,0\nDA:6,0\nLF:5\nLH:1\nend_of_record\n"));
    assert_non_null(strstr(info, "SF:"));
    assert_non_null(strstr(info, "/vmstate/tiny.extra\nDA:1,0\nLF:1\nLH:0\nend_of_record\n"));
    /* The pseudo source names field n on line n. */
    char *src = slurp(tmp("src/vmstate/tiny"));
    char *line = src;
    const char *names[] = { "ctrl", "fifo", "level", "level in range", "idreg", "newer" };
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(strncmp(line, names[i], strlen(names[i])), 0);
        line = strchr(line, '\n') + 1;
    }
    assert_int_equal(*line, 0);
    free(src);
    free(info);
    rig_free(r);
}

static void test_ratchet(void **state)
{
    (void)state;
    char err[300];
    Rig *r = rig_new();
    r->t.ctrl = 3;
    r->t.fifo[0] = 1;
    save(r);
    assert_true(fcov_write_baseline(r->fc, tmp("base.json"), 1, err, sizeof(err)));
    json_t *base = json_load_file(tmp("base.json"), 0, NULL);
    assert_int_equal(json_array_size(json_object_get(base, "covered")), 2);
    json_decref(base);
    /* A threshold leaves out fields covered too rarely to be relied on. */
    assert_true(fcov_write_baseline(r->fc, tmp("base2.json"), 2, err, sizeof(err)));
    base = json_load_file(tmp("base2.json"), 0, NULL);
    assert_int_equal(json_array_size(json_object_get(base, "covered")), 0);
    json_decref(base);
    FILE *out = fopen(tmp("ratchet.txt"), "w");
    assert_int_equal(fcov_ratchet(r->fc, tmp("base.json"), out, err, sizeof(err)), 0);
    fclose(out);

    /* The workload stops exercising fifo: its non-reset count is zeroed. */
    assert_true(fcov_write_file(r->fc, tmp("data.json"), err, sizeof(err)));
    json_t *j = json_load_file(tmp("data.json"), 0, NULL);
    json_t *descs = json_object_get(j, "descriptions"), *fifo = NULL;
    for (size_t i = 0; i < json_array_size(descs); i++) {
        json_t *d = json_array_get(descs, i);
        if (strcmp(json_string_value(json_object_get(d, "name")), "tiny"))
            continue;
        fifo = json_object_get(json_object_get(json_array_get(json_object_get(d, "fields"), 1), "instances"),
                               "tiny.0");
    }
    assert_non_null(fifo);
    json_object_set_new(fifo, "nonreset", json_integer(0));
    Fcov *lost = fcov_new();
    assert_true(fcov_merge_json(lost, j, err, sizeof(err)));
    json_decref(j);
    out = fopen(tmp("ratchet.txt"), "w");
    assert_int_equal(fcov_ratchet(lost, tmp("base.json"), out, err, sizeof(err)), 1);
    fclose(out);
    char *text = slurp(tmp("ratchet.txt"));
    assert_non_null(strstr(text, "lost: tiny/fifo "));
    assert_null(strstr(text, "tiny/ctrl"));
    free(text);
    /* Data lacking the field altogether also loses it. */
    Fcov *empty = fcov_new();
    out = fopen(tmp("ratchet.txt"), "w");
    assert_int_equal(fcov_ratchet(empty, tmp("base.json"), out, err, sizeof(err)), 2);
    fclose(out);
    /* A malformed baseline is an error, not a pass. */
    FILE *bad = fopen(tmp("badbase.json"), "w");
    fputs("{\"covered\": [1]}", bad);
    fclose(bad);
    assert_int_equal(fcov_ratchet(lost, tmp("badbase.json"), stdout, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "covered[0]"));
    fcov_free(empty);
    fcov_free(lost);
    rig_free(r);
}

/* ------------------------------------------------------------ a real machine */

static void test_machine_reset_values(void **state)
{
    (void)state;
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(mach_board_find("vmstress-m0"), &why);
    assert_non_null(m);
    mach_reset(m);
    Fcov *fc = fcov_new();
    fcov_attach_machine(fc, m, FCOV_SRC_STRESS, FCOV_SAVES);
    VmsOut out;
    VmsError err;
    VmsSaveOpts opts = { .no_vmdesc = true };
    vms_out_init(&out, 0);
    /* What a power-on machine saves is, by definition, all reset values. */
    assert_true(mach_save(m, &out, &opts, &err));
    size_t nf, nc;
    fcov_count(fc, NULL, &nf, &nc);
    assert_true(nf > 0);
    assert_int_equal(nc, 0);
    /* Virtual time moves: something (the clock) leaves its reset value. */
    mach_idle(m, 12345);
    vms_out_reset(&out);
    assert_true(mach_save(m, &out, &opts, &err));
    fcov_count(fc, NULL, &nf, &nc);
    assert_true(nc > 0);
    vms_out_free(&out);
    fcov_free(fc);
    mach_free(m);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonreset_and_distinct),
        cmocka_unit_test(test_distinct_is_bounded),
        cmocka_unit_test(test_versions_and_subsections),
        cmocka_unit_test(test_validator_rejections),
        cmocka_unit_test(test_merge_files),
        cmocka_unit_test(test_bits),
        cmocka_unit_test(test_html_lists_every_field),
        cmocka_unit_test(test_lcov_tracefile),
        cmocka_unit_test(test_ratchet),
        cmocka_unit_test(test_machine_reset_values),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    }
    return rc;
}
