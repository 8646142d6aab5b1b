/*
 * test_savevm.c - whole streams: exact framing, the registry, round trips
 * of the compound machine, every-offset truncation, every load error class,
 * the vmdesc trailer, the leaf map and the -dump-vmstate shape.
 */
#include "test_util.h"

#include <jansson.h>
#include <stdlib.h>

#include "fixture.h"

/* ------------------------------------------------------------ a tiny machine */

typedef struct One {
    uint32_t v;
    bool fail_post_load;
} One;

static bool one_post_load(void *o, int v, VmsMsg *why)
{
    return ((One *)o)->fail_post_load ? vms_fail(why, "refused %u", ((One *)o)->v) : true;
}

static const VmsField one_fields[] = { VMS_UINT32(v, One), VMS_END_OF_LIST() };
static const VmsDesc one_desc = { .name = "dev", .version_id = 1, .minimum_version_id = 1,
                                  .fields = one_fields, .post_load = one_post_load };

static const char tiny_json[] =
    "{\"configuration\":{\"vmsd_name\":\"configuration\",\"version\":1,\"fields\":["
    "{\"name\":\"len\",\"type\":\"uint32\",\"size\":4},"
    "{\"name\":\"name\",\"type\":\"buffer\",\"size\":4}]},"
    "\"page_size\":4096,\"devices\":[{\"name\":\"dev\",\"instance_id\":0,\"vmsd_name\":\"dev\","
    "\"version\":1,\"fields\":[{\"name\":\"v\",\"type\":\"uint32\",\"size\":4}]}]}";

static const uint8_t tiny_body[] = {
    0x51, 0x45, 0x56, 0x4d, 0x00, 0x00, 0x00, 0x03,     /* magic, version 3 */
    0x07, 0x00, 0x00, 0x00, 0x04, 'v', 'm', '-', '1',   /* configuration (offset 8) */
    0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 'd', 'e', 'v',  /* FULL, id 0, "dev" (offset 17) */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,     /* instance 0, version 1 (offset 26) */
    0xa1, 0xb2, 0xc3, 0xd4,                             /* body (offset 34) */
    0x7e, 0x00, 0x00, 0x00, 0x00,                       /* footer (offset 38) */
    0x00,                                               /* EOF (offset 43) */
};

static void tiny_init(VmsRegistry *r, One *o, const char *mt)
{
    vms_registry_init(r, mt);
    assert_non_null(vms_register(r, "dev", 0, &one_desc, o));
}

static void save_ok(VmsRegistry *r, VmsOut *out, const VmsSaveOpts *opts)
{
    VmsError e;
    vms_out_init(out, 0);
    if (!vms_save(r, out, opts, &e)) {
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        fail_msg("save failed: %s", line);
    }
}

/* A save of r (reused: warm keeps its buffer, r its prebuilt bytes and
 * remembered plans) writes what a save of a fresh registry so configured
 * writes; the fresh stream is left in cold (the caller frees it). */
static void saves_as_fresh(VmsRegistry *r, VmsOut *warm, VmsRegistry *fresh, VmsOut *cold,
                           const VmsSaveOpts *opts)
{
    VmsError e;
    save_ok(fresh, cold, opts);
    vms_out_reset(warm);
    assert_true(vms_save(r, warm, opts, &e));
    assert_int_equal(warm->len, cold->len);
    assert_memory_equal(warm->buf, cold->buf, cold->len);
}

static bool trailer_findable(const uint8_t *b, size_t n)
{
    /* analyze-migration.py: last NUL, then the first '{' after it, 5 bytes after 0x06. */
    size_t nul = n;
    for (size_t i = n; i-- > 0;)
        if (b[i] == 0) {
            nul = i;
            break;
        }
    if (nul == n)
        return false;
    for (size_t i = nul; i < n; i++)
        if (b[i] == '{')
            return i >= 5 && b[i - 5] == VMS_SEC_VMDESCRIPTION;
    return false;
}

static void test_framing_exact(void **state)
{
    VmsRegistry r;
    One o = { 0xa1b2c3d4, false };
    tiny_init(&r, &o, "vm-1");
    VmsOut out;
    VmsSaveOpts nodesc = { .no_vmdesc = true };
    save_ok(&r, &out, &nodesc);
    assert_int_equal(out.len, sizeof(tiny_body));
    assert_memory_equal(out.buf, tiny_body, sizeof(tiny_body));
    vms_out_free(&out);

    save_ok(&r, &out, NULL);
    assert_memory_equal(out.buf, tiny_body, sizeof(tiny_body));
    const uint8_t *t = out.buf + sizeof(tiny_body);
    assert_int_equal(t[0], VMS_SEC_VMDESCRIPTION);
    uint32_t jlen = ((uint32_t)t[1] << 24) | ((uint32_t)t[2] << 16) | ((uint32_t)t[3] << 8) | t[4];
    assert_int_equal(out.len, sizeof(tiny_body) + 5 + jlen);
    size_t raw = strlen(tiny_json);
    assert_true(jlen >= raw);
    assert_memory_equal(t + 5, tiny_json, raw);
    for (size_t i = raw; i < jlen; i++)
        assert_int_equal(t[5 + i], ' ');
    assert_true(trailer_findable(out.buf, out.len));

    One q = { 0, false };
    VmsRegistry d;
    tiny_init(&d, &q, "vm-1");
    VmsError e;
    assert_true(vms_load(&d, out.buf, out.len, &e));
    assert_int_equal(q.v, 0xa1b2c3d4);
    q.v = 0;
    assert_true(vms_load(&d, tiny_body, sizeof(tiny_body), &e));   /* trailer is optional */
    assert_int_equal(q.v, 0xa1b2c3d4);
    vms_out_free(&out);
    vms_registry_free(&r);
    vms_registry_free(&d);
}

/* The header and configuration bytes, built once per registry, follow its
 * machine type: a save into room (the prebuilt copy) writes what a save
 * into an empty output (field by field) writes, before and after the type
 * changes, longer or shorter. */
static void test_prefix_follows_type(void **state)
{
    static const char *const types[] = { "vm-1", "vm-1", "a-much-longer-machine-type", "x", "" };
    VmsRegistry r;
    One o = { 0xa1b2c3d4, false };
    tiny_init(&r, &o, "vm-1");
    VmsSaveOpts nodesc = { .no_vmdesc = true };
    VmsOut warm;
    vms_out_init(&warm, 0);
    assert_true(vms_out_zeros(&warm, 256));    /* room for the one copy */
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        snprintf(r.machine_type, sizeof(r.machine_type), "%s", types[i]);
        VmsRegistry fresh;
        One q = o;
        tiny_init(&fresh, &q, types[i]);
        VmsOut cold;
        saves_as_fresh(&r, &warm, &fresh, &cold, &nodesc);
        VmsError e;
        assert_true(vms_load(&fresh, warm.buf, warm.len, &e));
        vms_out_free(&cold);
        vms_registry_free(&fresh);
    }
    vms_out_free(&warm);
    vms_registry_free(&r);
}

/* A section remembers the plans of its description (VmsSection.plan_ref):
 * a section whose description or version changes between saves and loads
 * writes and reads what a fresh registry so configured does. */
typedef struct Two {
    uint32_t a, b;
} Two;
static const VmsField two_fields[] = { VMS_UINT32(a, Two), VMS_UINT32_V(b, Two, 2), VMS_END_OF_LIST() };
static const VmsDesc two_desc = { .name = "two", .version_id = 2, .minimum_version_id = 1,
                                  .fields = two_fields };
static const VmsField two_b_fields[] = { VMS_UINT32(b, Two), VMS_END_OF_LIST() };
static const VmsDesc two_b_desc = { .name = "two", .version_id = 2, .minimum_version_id = 1,
                                    .fields = two_b_fields };

static void test_plan_ref_follows_section(void **state)
{
    static const struct { const VmsDesc *d; int version; } steps[] = {
        { &two_desc, 0 }, { &two_desc, 1 }, { &two_b_desc, 0 }, { &two_desc, 2 }, { &two_desc, 1 },
    };
    VmsRegistry r;
    Two o = { 0x11223344, 0x55667788 };
    vms_registry_init(&r, "vm-1");
    VmsSection *s = vms_register(&r, "dev", 0, &two_desc, &o);
    assert_non_null(s);
    VmsSaveOpts nodesc = { .no_vmdesc = true };
    VmsOut warm;
    vms_out_init(&warm, 0);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        s->vmsd = steps[i].d;
        s->version_id = steps[i].version;
        VmsRegistry fresh;
        Two q = o;
        vms_registry_init(&fresh, "vm-1");
        VmsSection *fs = vms_register(&fresh, "dev", 0, steps[i].d, &q);
        fs->version_id = steps[i].version;
        VmsOut cold;
        saves_as_fresh(&r, &warm, &fresh, &cold, &nodesc);
        VmsError e;
        /* Loaded through the remembered plan, as the fresh registry loads. */
        Two before = o;
        o.a = o.b = q.a = q.b = 0;
        assert_true(vms_load(&r, cold.buf, cold.len, &e));
        assert_true(vms_load(&fresh, cold.buf, cold.len, &e));
        assert_memory_equal(&o, &q, sizeof(q));
        o = before;
        vms_out_free(&cold);
        vms_registry_free(&fresh);
    }
    vms_out_free(&warm);
    vms_registry_free(&r);
}

/* The JSON length is padded whenever its bytes would fool the trailer finder. */
static void test_trailer_padding(void **state)
{
    int padded = 0;
    char name[130];
    One objs[5] = { { 1, false }, { 2, false }, { 3, false }, { 4, false }, { 5, false } };
    /* 300 consecutive JSON lengths: every low byte value, 0x7b included. */
    for (int extra = 0; extra < 300; extra++) {
        VmsRegistry r;
        vms_registry_init(&r, "m");
        for (int s = 0; s < 5; s++) {
            int len = 1 + (extra / 5) + (s < extra % 5 ? 1 : 0);
            memset(name, 'a' + s, (size_t)len);
            name[len] = 0;
            assert_non_null(vms_register(&r, name, 0, &one_desc, &objs[s]));
        }
        VmsOut out;
        save_ok(&r, &out, NULL);
        assert_true(trailer_findable(out.buf, out.len));
        /* The padded JSON is still exactly one object. */
        size_t eof = out.len;
        for (size_t i = 0; i + 5 < out.len; i++)
            if (out.buf[i] == 0x06 && out.buf[i + 5] == '{' && i > 0 && out.buf[i - 1] == 0)
                eof = i;
        assert_true(eof < out.len);
        if (out.buf[out.len - 1] == ' ')
            padded++;
        VmsError e;
        assert_true(vms_load(&r, out.buf, out.len, &e));
        vms_out_free(&out);
        vms_registry_free(&r);
    }
    assert_true(padded > 0);
}

static void test_registry(void **state)
{
    VmsRegistry r;
    One o[4];
    vms_registry_init(&r, "m");
    VmsSection *a = vms_register(&r, "dev", -1, &one_desc, &o[0]);
    assert_non_null(a);
    assert_int_equal(a->instance_id, 0);
    assert_int_equal(a->section_id, 0);
    VmsSection *b = vms_register(&r, "dev", -1, &one_desc, &o[1]);
    assert_int_equal(b->instance_id, 1);
    assert_int_equal(b->section_id, 1);
    assert_null(vms_register(&r, "dev", 1, &one_desc, &o[2]));   /* duplicate */
    VmsSection *c = vms_register(&r, "dev", 5, &one_desc, &o[2]);
    assert_int_equal(c->section_id, 2);
    VmsSection *d = vms_register(&r, "dev", -1, &one_desc, &o[3]);
    assert_int_equal(d->instance_id, 6);
    VmsSection *x = vms_register(&r, "other", -1, &one_desc, &o[3]);
    assert_int_equal(x->instance_id, 0);
    assert_int_equal(x->section_id, 4);
    assert_ptr_equal(vms_registry_find(&r, "dev", 5)->opaque, &o[2]);
    assert_null(vms_registry_find(&r, "dev", 4));
    char longname[200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_null(vms_register(&r, longname, 0, &one_desc, &o[0]));
    assert_null(vms_register(&r, "", 0, &one_desc, &o[0]));
    vms_registry_free(&r);
}

/* As in QEMU, a top-level needed() returning false leaves the section out. */
static bool never(void *opaque) { return false; }

static void test_section_not_needed(void **state)
{
    static const VmsDesc skip_desc = { .name = "skip", .version_id = 1,
                                       .minimum_version_id = 1, .fields = one_fields,
                                       .needed = never };
    VmsRegistry r;
    One o = { 0xa1b2c3d4, false }, z = { 9, false };
    tiny_init(&r, &o, "vm-1");
    assert_non_null(vms_register(&r, "skip", 0, &skip_desc, &z));
    VmsOut out;
    VmsSaveOpts nodesc = { .no_vmdesc = true };
    save_ok(&r, &out, &nodesc);
    assert_int_equal(out.len, sizeof(tiny_body));
    assert_memory_equal(out.buf, tiny_body, sizeof(tiny_body));
    vms_out_free(&out);
    vms_registry_free(&r);
}

/* ------------------------------------------------------------ the compound machine */

static void test_compound_roundtrip(void **state)
{
    TMachine src, dst;
    tmachine_init(&src, true, 11);
    tmachine_init(&dst, false, 0);
    VmsOut out;
    save_ok(&src.reg, &out, NULL);
    VmsError e;
    assert_true(vms_load(&dst.reg, out.buf, out.len, &e));
    assert_null(tmachine_diff(&src, &dst));
    assert_true(dst.clk.t.deadline == 1011 && vtimer_pending(&dst.clk.t));
    /* Saving the loaded machine gives the same bytes. */
    VmsOut again;
    save_ok(&dst.reg, &again, NULL);
    assert_int_equal(again.len, out.len);
    assert_memory_equal(again.buf, out.buf, out.len);
    vms_out_free(&again);
    vms_out_free(&out);

    /* Without the trailer, and with a subsection not sent. */
    src.dev[1].extra_on = false;
    src.dev[1].deep = 0;
    VmsSaveOpts o = { .no_vmdesc = true };
    save_ok(&src.reg, &out, &o);
    tmachine_fini(&dst);
    tmachine_init(&dst, false, 0);
    dst.dev[1].extra = 77;
    assert_true(vms_load(&dst.reg, out.buf, out.len, &e));
    assert_int_equal(dst.dev[1].extra, 77);
    assert_false(dst.dev[1].extra_on);
    assert_int_equal(dst.dev[0].extra, src.dev[0].extra);
    vms_out_free(&out);
    tmachine_fini(&src);
    tmachine_fini(&dst);
}

/* Section boundaries from the map: [header start, footer end) per section. */
typedef struct Bounds {
    size_t start[3], end[3];
} Bounds;

static size_t be32_at(const uint8_t *p)
{
    return ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
}

/*
 * Walk the framing of a saved compound stream with the help of the map:
 * inside a body, every byte is either in the next span or part of a
 * subsection header. Returns the offset of EOF.
 */
static size_t walk_framing(const uint8_t *b, size_t n, const VmsMap *m, Bounds *bd)
{
    size_t pos = 8;
    assert_int_equal(b[pos], VMS_SEC_CONFIGURATION);
    pos += 1;
    size_t si = 0;
    /* configuration body: spans with section -1 */
    while (si < m->n && m->spans[si].section == -1) {
        assert_int_equal(m->spans[si].offset, pos);
        pos += m->spans[si].size;
        si++;
    }
    for (int s = 0; s < 3; s++) {
        bd->start[s] = pos;
        assert_int_equal(b[pos], VMS_SEC_FULL);
        assert_int_equal(be32_at(b + pos + 1), (size_t)s);
        pos += 5;
        pos += 1 + b[pos];
        pos += 8;
        for (;;) {
            if (si < m->n && m->spans[si].section == s && m->spans[si].offset == pos) {
                pos += m->spans[si].size;
                si++;
                continue;
            }
            if (b[pos] == VMS_SEC_SUBSECTION) {
                size_t len = b[pos + 1];
                assert_true(len > 4 && memcmp(b + pos + 2, s == 2 ? "clock/" : "tdev/", s == 2 ? 6 : 5) == 0);
                pos += 2 + len + 4;
                continue;
            }
            break;
        }
        assert_int_equal(b[pos], VMS_SEC_FOOTER);
        assert_int_equal(be32_at(b + pos + 1), (size_t)s);
        pos += 5;
        bd->end[s] = pos;
    }
    assert_int_equal(si, m->n);   /* every span consumed, in order */
    assert_int_equal(b[pos], VMS_SEC_EOF);
    return pos;
}

static void test_map_covers_bodies(void **state)
{
    TMachine src;
    tmachine_init(&src, true, 3);
    VmsMap map;
    vms_map_init(&map);
    VmsSaveOpts o = { .map = &map };
    VmsOut out;
    save_ok(&src.reg, &out, &o);
    Bounds bd;
    size_t eof = walk_framing(out.buf, out.len, &map, &bd);
    assert_true(eof < out.len);
    /* Disjoint, increasing, and vms_map_find agrees byte by byte. */
    size_t covered = 0;
    for (size_t i = 0; i < map.n; i++) {
        if (i)
            assert_true(map.spans[i].offset >= map.spans[i - 1].offset + map.spans[i - 1].size);
        covered += map.spans[i].size;
    }
    size_t found = 0;
    for (size_t off = 0; off < out.len; off++) {
        const VmsSpan *s = vms_map_find(&map, off);
        if (s) {
            assert_true(off >= s->offset && off < s->offset + s->size);
            found++;
        }
    }
    assert_int_equal(found, covered);
    /* Paths name elements, structs and subsections. */
    bool chan = false, deep = false, clkdiv = false, vbuf = false;
    for (size_t i = 0; i < map.n; i++) {
        const VmsSpan *s = &map.spans[i];
        if (s->section == 1 && strcmp(s->path, "chan[3].src") == 0) {
            chan = true;
            assert_int_equal(s->size, 4);
            assert_int_equal(be32_at(out.buf + s->offset), src.dev[1].chan[3].src);
        }
        if (s->section == 0 && strcmp(s->path, "tdev/extra.tdev/extra/deep.deep") == 0)
            deep = true;
        if (s->section == 2 && strcmp(s->path, "clk.clock/muldiv.divider") == 0)
            clkdiv = true;
        if (s->section == 0 && strcmp(s->path, "vbuf") == 0)
            vbuf = s->size == 7;
    }
    assert_true(chan && deep && clkdiv && vbuf);
    vms_map_free(&map);
    vms_out_free(&out);
    tmachine_fini(&src);
}

/* ------------------------------------------------------------ plans */

static void noop_observe(void *o, const VmsDesc *d, const VmsField *f, uint32_t i, const void *pv,
                         size_t size, bool loading)
{
    (void)o, (void)d, (void)f, (void)i, (void)pv, (void)size, (void)loading;
}

/* Save r (plans, or the general walk under a leaf observer) into an output
 * bounded at limit (0: none): "ok" and the bytes, or the error line. */
static void plan_save(VmsRegistry *r, bool general, size_t limit, VmsOut *out, char *line, size_t n)
{
    VmsError e;
    VmsSaveOpts o = { .no_vmdesc = true };
    r->observe = general ? noop_observe : NULL;
    vms_out_init(out, limit);
    if (vms_save(r, out, &o, &e))
        snprintf(line, n, "ok");
    else
        vms_error_format(&e, line, n);
    r->observe = NULL;
}

/* One stream into two fresh destinations, by plan and by the general
 * walk: the same line, the same state, the same bytes saved again. */
static void plan_load_same(const uint8_t *b, size_t len, const char *what)
{
    TMachine dst[2];
    char line[2][VMS_ERROR_LINE_MAX];
    VmsOut out[2];
    for (int k = 0; k < 2; k++) {
        VmsError e;
        tmachine_init(&dst[k], false, 0);
        dst[k].reg.observe = k ? noop_observe : NULL;
        if (vms_load(&dst[k].reg, b, len, &e))
            snprintf(line[k], sizeof(line[k]), "ok");
        else
            vms_error_format(&e, line[k], sizeof(line[k]));
    }
    if (strcmp(line[0], line[1]))
        fail_msg("%s: '%s' by plan, '%s' by the general walk", what, line[0], line[1]);
    /* A refused load leaves its destination half written (the machine
     * layer resets it); an accepted one must leave the same state. */
    if (!strcmp(line[0], "ok")) {
        const char *diff = tmachine_diff(&dst[0], &dst[1]);
        if (diff)
            fail_msg("%s: the destinations differ: %s", what, diff);
        for (int k = 0; k < 2; k++)
            plan_save(&dst[k].reg, k, 0, &out[k], line[k], sizeof(line[k]));
        assert_string_equal(line[0], line[1]);
        assert_int_equal(out[0].len, out[1].len);
        assert_memory_equal(out[0].buf, out[1].buf, out[0].len);
        for (int k = 0; k < 2; k++)
            vms_out_free(&out[k]);
    }
    for (int k = 0; k < 2; k++)
        tmachine_fini(&dst[k]);
}

/*
 * The compound machine (every field kind, hook and subsection shape) by
 * plan and by the general walk (a no-op leaf observer turns plans off):
 * saves into outputs bounded at every length, then loads of the stream cut
 * at every offset and with each byte flipped (two bit patterns), and with
 * a subsection mark, and a whole subsection header, planted at every
 * offset, all alike.
 */
static void test_plans_agree(void **state)
{
    for (uint32_t seed = 1; seed <= 3; seed++) {
        TMachine src;
        tmachine_init(&src, true, seed);
        VmsOut full[2];
        char line[2][VMS_ERROR_LINE_MAX];
        for (int k = 0; k < 2; k++)
            plan_save(&src.reg, k, 0, &full[k], line[k], sizeof(line[k]));
        assert_string_equal(line[0], "ok");
        assert_string_equal(line[1], "ok");
        assert_int_equal(full[0].len, full[1].len);
        assert_memory_equal(full[0].buf, full[1].buf, full[0].len);
        size_t n = full[0].len;
        for (size_t limit = 1; limit < n; limit++) {
            VmsOut o[2];
            for (int k = 0; k < 2; k++)
                plan_save(&src.reg, k, limit, &o[k], line[k], sizeof(line[k]));
            if (strcmp(line[0], line[1]))
                fail_msg("limit %zu: '%s' by plan, '%s' by the general walk", limit, line[0], line[1]);
            for (int k = 0; k < 2; k++)
                vms_out_free(&o[k]);
        }
        uint8_t *b = malloc(n);
        assert_non_null(b);
        char what[64];
        for (size_t at = 0; at <= n; at++) {
            snprintf(what, sizeof(what), "seed %u cut at %zu", seed, at);
            plan_load_same(full[0].buf, at, what);
            /* A subsection header for tchan ("tchan/x", which it does not
             * have) where its elements end: the general walk looks for one
             * there even in a struct with no subsections. */
            static const uint8_t sub[] = { 0x05, 7, 't', 'c', 'h', 'a', 'n', '/', 'x' };
            for (int pat = 0; pat < 4 && at < n; pat++) {
                memcpy(b, full[0].buf, n);
                if (pat == 3)
                    memcpy(b + at, sub, at + sizeof(sub) <= n ? sizeof(sub) : n - at);
                else
                    b[at] = pat == 2 ? 0x05 : (uint8_t)(b[at] ^ (pat ? 0x80 : 0x01));
                snprintf(what, sizeof(what), "seed %u byte %zu pattern %d", seed, at, pat);
                plan_load_same(b, n, what);
            }
        }
        free(b);
        for (int k = 0; k < 2; k++)
            vms_out_free(&full[k]);
        tmachine_fini(&src);
    }
}

static void test_truncated_everywhere(void **state)
{
    TMachine src;
    tmachine_init(&src, true, 5);
    VmsMap map;
    vms_map_init(&map);
    VmsSaveOpts o = { .map = &map };
    VmsOut out;
    save_ok(&src.reg, &out, &o);
    Bounds bd;
    size_t eof = walk_framing(out.buf, out.len, &map, &bd);
    int truncs = 0, formats = 0;
    for (size_t cut = 0; cut < out.len; cut++) {
        TMachine dst;
        tmachine_init(&dst, false, 0);
        VmsError e;
        bool ok = vms_load(&dst.reg, out.buf, cut, &e);
        if (cut == eof + 1) {
            assert_true(ok);    /* a stream may end right after EOF */
        } else {
            assert_false(ok);
            assert_true(e.cls == VMS_ERR_TRUNCATED || e.cls == VMS_ERR_FORMAT);
            truncs += e.cls == VMS_ERR_TRUNCATED;
            formats += e.cls == VMS_ERR_FORMAT;
            assert_true(e.offset <= cut);
            /* Once a section's name has been read, errors name it. */
            for (int s = 0; s < 3; s++)
                if (cut >= bd.start[s] + 6 + out.buf[bd.start[s] + 5] && cut < bd.end[s]) {
                    assert_string_equal(e.section, s == 2 ? "tclk" : "tdev");
                    if (cut >= bd.start[s] + 10 + out.buf[bd.start[s] + 5])
                        assert_int_equal(e.instance, s == 1 ? 1 : 0);
                }
        }
        tmachine_fini(&dst);
    }
    /* FORMAT only where a cut leaves a subsection header that cannot be
     * recognised (then the footer check fails, as in QEMU). */
    print_message("%zu bytes: %d truncated, %d format\n", out.len, truncs, formats);
    assert_true(formats < 80 && truncs + formats == (int)out.len - 1);
    vms_map_free(&map);
    vms_out_free(&out);
    tmachine_fini(&src);
}

/* ------------------------------------------------------------ load errors */

static void expect_stream_error(VmsRegistry *r, const uint8_t *b, size_t n, VmsErrClass cls,
                                size_t off, const char *section, const char *field)
{
    VmsError e;
    assert_false(vms_load(r, b, n, &e));
    if (e.cls != cls || e.offset != off || strcmp(e.section, section) != 0 ||
        strcmp(e.field, field) != 0) {
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        fail_msg("want %s at %zu in '%s' field '%s', got: %s", vms_error_class_name(cls), off,
                 section, field, line);
    }
    assert_true(e.msg[0] != 0);
}

static void test_load_errors_framing(void **state)
{
    VmsRegistry r;
    One o = { 0, false };
    tiny_init(&r, &o, "vm-1");
    uint8_t b[128];
    size_t n = sizeof(tiny_body);
#define RESET() memcpy(b, tiny_body, n)
    RESET(); b[0] = 0x50;
    expect_stream_error(&r, b, n, VMS_ERR_FORMAT, 0, "", "");
    RESET(); b[7] = 2;
    expect_stream_error(&r, b, n, VMS_ERR_VERSION, 4, "", "");
    RESET(); b[8] = 0x04;
    expect_stream_error(&r, b, n, VMS_ERR_CONFIG, 8, "configuration", "");
    RESET(); b[16] = '2';
    expect_stream_error(&r, b, n, VMS_ERR_CONFIG, 9, "configuration", "");
    RESET(); b[12] = 3;     /* "vm-" is a prefix of "vm-1": still a mismatch */
    memcpy(b + 16, tiny_body + 17, n - 17);
    expect_stream_error(&r, b, n - 1, VMS_ERR_CONFIG, 9, "configuration", "");
    RESET(); b[9] = 0xff;   /* hostile configuration length */
    expect_stream_error(&r, b, n, VMS_ERR_RANGE, 13, "configuration", "name");
    RESET(); b[17] = 0x02;
    expect_stream_error(&r, b, n, VMS_ERR_FORMAT, 17, "", "");
    RESET(); b[25] = 'x';
    expect_stream_error(&r, b, n, VMS_ERR_UNKNOWN, 17, "dex", "");
    RESET(); b[29] = 1;
    expect_stream_error(&r, b, n, VMS_ERR_UNKNOWN, 17, "dev", "");
    RESET(); b[33] = 2;
    expect_stream_error(&r, b, n, VMS_ERR_VERSION, 30, "dev", "");
    RESET(); b[33] = 0;
    expect_stream_error(&r, b, n, VMS_ERR_VERSION, 30, "dev", "");
    RESET(); b[38] = 0x7f;
    expect_stream_error(&r, b, n, VMS_ERR_FORMAT, 38, "dev", "");
    RESET(); b[42] = 9;
    expect_stream_error(&r, b, n, VMS_ERR_FORMAT, 38, "dev", "");
    RESET(); b[43] = 0x09;
    expect_stream_error(&r, b, n, VMS_ERR_FORMAT, 43, "", "");
    /* Duplicate section: the section repeated before EOF. */
    RESET();
    memcpy(b + 43, tiny_body + 17, 26);
    b[69] = 0;
    expect_stream_error(&r, b, 70, VMS_ERR_DUPLICATE, 43, "dev", "");
    /* Trailing garbage after EOF when there is no trailer. */
    RESET(); b[n] = 0x01;
    expect_stream_error(&r, b, n + 1, VMS_ERR_FORMAT, 43 + 1, "", "");
    /* Truncated in the section header and in the body. */
    RESET();
    expect_stream_error(&r, b, 28, VMS_ERR_TRUNCATED, 26, "dev", "");
    expect_stream_error(&r, b, 36, VMS_ERR_TRUNCATED, 34, "dev", "v");
    /* Engine errors carry the section. */
    o.fail_post_load = true;
    RESET();
    VmsError e;
    assert_false(vms_load(&r, b, n, &e));
    assert_int_equal(e.cls, VMS_ERR_HOOK);
    assert_string_equal(e.section, "dev");
    assert_int_equal(e.instance, 0);
    assert_int_equal(e.offset, 38);
    char line[512];
    vms_error_format(&e, line, sizeof(line));
    assert_non_null(strstr(line, "hook at offset 38 in section 'dev' instance 0"));
#undef RESET
    vms_registry_free(&r);
}

static void test_load_errors_trailer(void **state)
{
    VmsRegistry r;
    One o = { 5, false };
    tiny_init(&r, &o, "vm-1");
    VmsOut out;
    save_ok(&r, &out, NULL);
    size_t n = out.len, t = sizeof(tiny_body);
    uint8_t *b = malloc(n + 1);
    memcpy(b, out.buf, n);
    b[t + 5] = '[';         /* not an object / malformed */
    /* Parsed only when asked for: by default the framing is all that counts. */
    assert_true(vms_load(&r, b, n, NULL));
    r.check_vmdesc = true;
    expect_stream_error(&r, b, n, VMS_ERR_FORMAT, t + 5, "", "");
    r.check_vmdesc = false;
    /* A length over the cap is refused before anything is read, at the length. */
    memcpy(b, out.buf, n);
    b[t + 1] = 0x7f;
    expect_stream_error(&r, b, n, VMS_ERR_LIMIT, t + 1, "", "");
    memcpy(b, out.buf, n);
    b[n] = ' ';
    b[t + 4]++;             /* length one past the end */
    expect_stream_error(&r, b, n, VMS_ERR_TRUNCATED, t + 5, "", "");
    memcpy(b, out.buf, n);
    b[n] = 'x';             /* trailing byte after the trailer */
    expect_stream_error(&r, b, n + 1, VMS_ERR_FORMAT, n, "", "");
    expect_stream_error(&r, b, t + 3, VMS_ERR_TRUNCATED, t + 1, "", "");
    free(b);
    vms_out_free(&out);
    vms_registry_free(&r);
}

/* Engine errors inside the compound machine, located through the map. */
static const VmsSpan *span_named(const VmsMap *m, int32_t section, const char *path)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->spans[i].section == section && strcmp(m->spans[i].path, path) == 0)
            return &m->spans[i];
    fail_msg("no span %s", path);
    return NULL;
}

static void test_load_errors_in_sections(void **state)
{
    TMachine src;
    tmachine_init(&src, true, 9);
    VmsMap map;
    vms_map_init(&map);
    VmsSaveOpts o = { .map = &map };
    VmsOut out;
    save_ok(&src.reg, &out, &o);
    uint8_t *b = malloc(out.len);
    const VmsSpan *n8 = span_named(&map, 0, "n8");
    const VmsSpan *va8 = span_named(&map, 0, "va8[0]");
    const VmsSpan *n32 = span_named(&map, 1, "n32");
    const VmsSpan *va32 = span_named(&map, 1, "va32[0]");
    const VmsSpan *eq8 = span_named(&map, 1, "eq8");
    const VmsSpan *extra = span_named(&map, 0, "tdev/extra.extra");
    struct {
        const VmsSpan *s;
        uint8_t byte;
        size_t at;
        VmsErrClass cls;
        size_t off;
        const char *sec;
        int64_t inst;
        const char *field;
    } cases[] = {
        { n8, 5, 0, VMS_ERR_VALIDATE, va8->offset, "tdev", 0, "counts in range" },
        { n32, 0xff, 0, VMS_ERR_RANGE, va32->offset, "tdev", 1, "va32" },
        { eq8, 0x13, 0, VMS_ERR_EQUAL, eq8->offset, "tdev", 1, "eq8" },
        /* the version byte of tdev/extra (3 > 2) */
        { extra, 3, (size_t)-1, VMS_ERR_VERSION, extra->offset - 4, "tdev", 0, "tdev/extra" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(b, out.buf, out.len);
        size_t at = cases[i].at == (size_t)-1 ? cases[i].s->offset - 1 : cases[i].s->offset;
        b[at] = cases[i].byte;
        TMachine dst;
        tmachine_init(&dst, false, 0);
        VmsError e;
        assert_false(vms_load(&dst.reg, b, out.len, &e));
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        if (e.cls != cases[i].cls || e.offset != cases[i].off ||
            strcmp(e.section, cases[i].sec) || e.instance != cases[i].inst ||
            strcmp(e.field, cases[i].field))
            fail_msg("case %zu: %s", i, line);
        tmachine_fini(&dst);
    }
    /* Unknown and duplicate subsections inside a section. */
    memcpy(b, out.buf, out.len);
    size_t sub = extra->offset - 4 - 10 - 2;    /* 0x05, len, "tdev/extra", be32 */
    assert_int_equal(b[sub], VMS_SEC_SUBSECTION);
    b[sub + 2 + 9] = 'b';   /* tdev/extrb */
    TMachine dst;
    tmachine_init(&dst, false, 0);
    VmsError e;
    assert_false(vms_load(&dst.reg, b, out.len, &e));
    assert_int_equal(e.cls, VMS_ERR_UNKNOWN);
    assert_int_equal(e.offset, sub);
    assert_string_equal(e.section, "tdev");
    assert_string_equal(e.field, "tdev/extrb");
    tmachine_fini(&dst);
    /* An instance the destination does not have. */
    VmsRegistry small;
    TDev d0;
    tdev_init(&d0);
    vms_registry_init(&small, "vmstress-test");
    vms_register(&small, "tdev", 0, &tdev_desc, &d0);
    assert_false(vms_load(&small, out.buf, out.len, &e));
    assert_int_equal(e.cls, VMS_ERR_UNKNOWN);
    assert_string_equal(e.section, "tdev");
    assert_int_equal(e.instance, 1);
    tdev_fini(&d0);
    vms_registry_free(&small);
    free(b);
    vms_map_free(&map);
    vms_out_free(&out);
    tmachine_fini(&src);
}

static void test_save_errors(void **state)
{
    TMachine src;
    tmachine_init(&src, true, 1);
    VmsOut out;
    vms_out_init(&out, 200);
    VmsError e;
    assert_false(vms_save(&src.reg, &out, NULL, &e));
    assert_int_equal(e.cls, VMS_ERR_LIMIT);
    assert_string_equal(e.section, "tdev");
    assert_int_equal(e.instance, 0);
    assert_true(e.offset <= 200);
    vms_out_free(&out);
    /* A failing VALIDATE on save names its section. */
    src.dev[1].n8 = 4;
    src.dev[1].n16 = 9;
    vms_out_init(&out, 0);
    assert_false(vms_save(&src.reg, &out, NULL, &e));
    assert_int_equal(e.cls, VMS_ERR_VALIDATE);
    assert_string_equal(e.section, "tdev");
    assert_int_equal(e.instance, 1);
    assert_string_equal(e.field, "counts in range");
    vms_out_free(&out);
    tmachine_fini(&src);
}

/* vms_load reports its outcome to the event observer. */
typedef struct Ends {
    int ends, loads;
    VmsErrClass last;
} Ends;

static void on_event(void *opaque, VmsObsEvent ev, const VmsDesc *d, int version,
                     const VmsError *err)
{
    Ends *e = opaque;
    if (ev == VMS_OBS_LOAD_DESC)
        e->loads++;
    if (ev == VMS_OBS_LOAD_END) {
        e->ends++;
        e->last = err ? err->cls : VMS_ERR_NONE;
    }
}

static void test_load_end_event(void **state)
{
    VmsRegistry r;
    One o = { 0, false };
    tiny_init(&r, &o, "vm-1");
    Ends ends = { 0, 0, VMS_ERR_NONE };
    r.observe_event = on_event;
    r.obs_opaque = &ends;
    VmsError e;
    assert_true(vms_load(&r, tiny_body, sizeof(tiny_body), &e));
    assert_int_equal(ends.ends, 1);
    assert_int_equal(ends.loads, 1);
    assert_int_equal(ends.last, VMS_ERR_NONE);
    assert_false(vms_load(&r, tiny_body, 20, &e));
    assert_int_equal(ends.ends, 2);
    assert_int_equal(ends.last, VMS_ERR_TRUNCATED);
    vms_registry_free(&r);
}

/* ------------------------------------------------------------ the trailer JSON */

static json_t *trailer_json(const VmsOut *out)
{
    for (size_t i = out->len; i-- > 5;)
        if (out->buf[i - 5] == VMS_SEC_VMDESCRIPTION && out->buf[i] == '{' &&
            out->buf[i - 4] == 0) {
            json_error_t je;
            json_t *j = json_loadb((const char *)out->buf + i, out->len - i, 0, &je);
            if (j)
                return j;
        }
    return NULL;
}

static void test_trailer_json(void **state)
{
    TMachine src;
    tmachine_init(&src, true, 2);
    src.dev[1].extra_on = false;
    VmsOut out;
    save_ok(&src.reg, &out, NULL);
    json_t *j = trailer_json(&out);
    assert_non_null(j);
    const char *keys[] = { "configuration", "page_size", "devices" };
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val) assert_string_equal(key, keys[k++]);
    assert_int_equal(json_integer_value(json_object_get(j, "page_size")), 4096);
    json_t *conf = json_object_get(j, "configuration");
    assert_string_equal(json_string_value(json_object_get(conf, "vmsd_name")), "configuration");
    json_t *devs = json_object_get(j, "devices");
    assert_int_equal(json_array_size(devs), 3);
    static const char *const names[] = { "tdev", "tdev", "tclk" };
    for (size_t i = 0; i < 3; i++) {
        json_t *d = json_array_get(devs, i);
        const char *dk[] = { "name", "instance_id", "vmsd_name", "version", "fields",
                             "subsections" };
        k = 0;
        json_object_foreach(d, key, val) assert_string_equal(key, dk[k++]);
        assert_int_equal(k, i == 0 ? 6 : 5);   /* only tdev/0 sent a subsection */
        assert_string_equal(json_string_value(json_object_get(d, "name")), names[i]);
        assert_int_equal(json_integer_value(json_object_get(d, "instance_id")), i == 1 ? 1 : 0);
        assert_string_equal(json_string_value(json_object_get(d, "vmsd_name")), names[i]);
    }
    /* tdev: VALIDATE absent, 48 fields with the arrays compressed. */
    json_t *f0 = json_object_get(json_array_get(devs, 0), "fields");
    bool saw_validate = false;
    for (size_t i = 0; i < json_array_size(f0); i++)
        saw_validate |= strcmp(json_string_value(json_object_get(json_array_get(f0, i), "name")),
                               "counts in range") == 0;
    assert_false(saw_validate);
    json_t *sub = json_array_get(json_object_get(json_array_get(devs, 0), "subsections"), 0);
    assert_string_equal(json_string_value(json_object_get(sub, "vmsd_name")), "tdev/extra");
    assert_int_equal(json_integer_value(json_object_get(sub, "version")), 2);
    json_t *deep = json_array_get(json_object_get(sub, "subsections"), 0);
    assert_string_equal(json_string_value(json_object_get(deep, "vmsd_name")), "tdev/extra/deep");
    json_t *clk = json_array_get(json_object_get(json_array_get(devs, 2), "fields"), 2);
    assert_string_equal(json_string_value(json_object_get(clk, "name")), "clk");
    assert_string_equal(json_string_value(json_object_get(clk, "type")), "struct");
    json_t *tp = json_array_get(json_object_get(json_array_get(devs, 2), "fields"), 1);
    assert_string_equal(json_string_value(json_object_get(tp, "type")), "timer");
    assert_int_equal(json_integer_value(json_object_get(tp, "size")), 8);
    json_decref(j);
    vms_out_free(&out);
    tmachine_fini(&src);
}

/* ------------------------------------------------------------ dumps */

/* QEMU 7.2's -dump-vmstate text for the Description under pl011/clock "clk". */
static const char qemu_clock_desc[] =
    "{\"name\": \"clock\", \"version_id\": 0, \"minimum_version_id\": 0,"
    " \"Fields\": [{\"field\": \"period\", \"version_id\": 0, \"field_exists\": false, \"size\": 8}],"
    " \"Subsections\": [{\"name\": \"clock/muldiv\", \"version_id\": 1, \"minimum_version_id\": 1,"
    " \"Fields\": [{\"field\": \"multiplier\", \"version_id\": 0, \"field_exists\": false, \"size\": 4},"
    " {\"field\": \"divider\", \"version_id\": 0, \"field_exists\": false, \"size\": 4}]}]}";

/* ------------------------------------------------------------ the ram section */

#define RAM_PS 1024u
#define RAM_PAGES 4u

/* A live stream of the tiny machine with RAM: START, a PART with every
 * page, page 2 changed, an END with page 2, then the devices. */
static void live_stream(VmsRegistry *r, VmsRam *ram, VmsOut *out, bool vmdesc)
{
    VmsError e;
    uint8_t all = 0x0f, two = 0x04;
    vms_out_init(out, 0);
    assert_true(vms_save_begin(r, out, &e));
    assert_true(vms_ram_start(ram, out));
    assert_true(vms_ram_pages(ram, out, &all, false));
    ram->mem[2 * RAM_PS + 5] = 0x55;
    assert_true(vms_ram_pages(ram, out, &two, true));
    VmsSaveOpts o = { .no_vmdesc = !vmdesc, .page_size = RAM_PS };
    assert_true(vms_save_end(r, out, &o, &e));
}

/* The load fails with class cls at offset off, its message containing msg. */
static void expect_ram_error(VmsRegistry *r, const uint8_t *b, size_t n, VmsErrClass cls, size_t off,
                             const char *msg)
{
    VmsError e;
    assert_false(vms_load(r, b, n, &e));
    if (e.cls != cls || e.offset != off || !strstr(e.msg, msg)) {
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        fail_msg("want %s at %zu with '%s', got: %s", vms_error_class_name(cls), off, msg, line);
    }
}

static void test_ram_section(void **state)
{
    One a = { .v = 0x1234 }, b = { 0 };
    uint8_t mem_a[RAM_PAGES * RAM_PS], mem_b[RAM_PAGES * RAM_PS];
    for (size_t i = 0; i < sizeof mem_a; i++)
        mem_a[i] = i < RAM_PS ? (uint8_t)(i * 7) : 0;     /* page 0 data, the rest zero */
    memset(mem_b, 0xee, sizeof mem_b);
    VmsRam ra = { .block = "ram0", .mem = mem_a, .size = sizeof mem_a, .page_size = RAM_PS, .section_id = 9 };
    VmsRam rb = ra;
    rb.mem = mem_b;
    VmsRegistry r, q;
    tiny_init(&r, &a, "vm-1");
    tiny_init(&q, &b, "vm-1");
    q.ram = &rb;
    VmsOut out;
    live_stream(&r, &ra, &out, false);
    /* Zero pages take 9 bytes, data pages 8 + 1024; the first record of a
     * chunk names the block. */
    assert_int_equal(vms_ram_page_cost(&ra, 0), 8 + RAM_PS);
    assert_int_equal(vms_ram_page_cost(&ra, 1), 9);
    VmsError e;
    assert_true(vms_load(&q, out.buf, out.len, &e));
    assert_memory_equal(mem_a, mem_b, sizeof mem_a);
    assert_int_equal(b.v, 0x1234);
    /* Without a ram in the registry the section is refused. */
    q.ram = NULL;
    expect_ram_error(&q, out.buf, out.len, VMS_ERR_FORMAT, 17, "unsupported section type 0x01");
    q.ram = &rb;
    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < out.len; n++)
        assert_false(vms_load(&q, out.buf, n, &e));
    /* A block this machine does not have; a different size. */
    VmsRam other = ra;
    snprintf(other.block, sizeof other.block, "ram1");
    VmsOut o2;
    live_stream(&r, &other, &o2, false);
    expect_ram_error(&q, o2.buf, o2.len, VMS_ERR_UNKNOWN, 42, "unknown RAM block 'ram1'");
    vms_out_free(&o2);
    other = ra;
    other.size = 2 * RAM_PS;
    vms_out_init(&o2, 0);
    assert_true(vms_save_begin(&r, &o2, &e) && vms_ram_start(&other, &o2));
    assert_false(vms_load(&q, o2.buf, o2.len, &e));
    assert_int_equal(e.cls, VMS_ERR_RANGE);
    vms_out_free(&o2);
    /* EOF before END: the stream up to the END chunk, then EOF. */
    vms_out_init(&o2, 0);
    uint8_t all = 0x0f;
    assert_true(vms_save_begin(&r, &o2, &e) && vms_ram_start(&ra, &o2) &&
                vms_ram_pages(&ra, &o2, &all, false) && vms_out_u8(&o2, VMS_SEC_EOF));
    expect_ram_error(&q, o2.buf, o2.len, VMS_ERR_FORMAT, o2.len - 1, "never ended");
    vms_out_free(&o2);
    /* An unknown flag (XBZRLE, 0x40) in a page record. */
    size_t rec = 0;
    for (size_t i = 8; i + 8 <= out.len && !rec; i++)      /* the first page record: offset 0 | PAGE */
        if (!memcmp(out.buf + i, "\0\0\0\0\0\0\0\x08\x04ram0", 13))
            rec = i;
    assert_true(rec > 0);
    out.buf[rec + 7] = 0x48;
    expect_ram_error(&q, out.buf, out.len, VMS_ERR_FORMAT, rec, "flags 0x40 not supported");
    out.buf[rec + 7] = 0x08;
    /* The wrong section version. */
    size_t ver = 0;
    for (size_t i = 8; i + 3 <= out.len && !ver; i++)
        if (!memcmp(out.buf + i, "\x03ram", 4))
            ver = i + 4 + 4;
    out.buf[ver + 3] = 3;
    expect_ram_error(&q, out.buf, out.len, VMS_ERR_VERSION, ver - 4 - 4 - 5, "ram section version 3");
    vms_out_free(&out);
    vms_registry_free(&r);
    vms_registry_free(&q);
}

static void test_dump_shape(void **state)
{
    VmsDumpEntry ents[] = { { .type_name = "tdev-device", .vmsd = &tdev_desc },
                            { .type_name = "tclk-device", .vmsd = &tclk_desc } };
    json_t *j = vms_dump_descriptions("vmstress-test", ents, 2);
    const char *keys[] = { "vmschkmachine", "tdev-device", "tclk-device" };
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val) assert_string_equal(key, keys[k++]);
    json_t *m = json_object_get(j, "vmschkmachine");
    assert_string_equal(json_string_value(json_object_get(m, "Name")), "vmstress-test");
    assert_int_equal(json_object_size(m), 1);
    json_t *t = json_object_get(j, "tclk-device");
    const char *tk[] = { "Name", "version_id", "minimum_version_id", "Description" };
    k = 0;
    json_object_foreach(t, key, val) assert_string_equal(key, tk[k++]);
    json_t *fields = json_object_get(json_object_get(t, "Description"), "Fields");
    assert_int_equal(json_array_size(fields), 4);
    json_t *clk = json_array_get(fields, 2);
    const char *fk[] = { "field", "version_id", "field_exists", "size", "Description" };
    k = 0;
    json_object_foreach(clk, key, val) assert_string_equal(key, fk[k++]);
    assert_int_equal(json_integer_value(json_object_get(clk, "size")), sizeof(void *));
    json_error_t je;
    json_t *qemu = json_loads(qemu_clock_desc, 0, &je);
    assert_non_null(qemu);
    assert_true(json_equal(qemu, json_object_get(clk, "Description")));
    json_decref(qemu);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(fields, 1), "size")),
                     sizeof(void *));   /* TIMER_PTR: pointer size, as QEMU */

    json_t *d = json_object_get(json_object_get(j, "tdev-device"), "Description");
    json_t *tf = json_object_get(d, "Fields");
    size_t nf = 0;
    for (const VmsField *f = tdev_desc.fields; !(f->flags & VMS_END); f++)
        nf++;
    assert_int_equal(json_array_size(tf), nf - 1);  /* VALIDATE omitted */
    for (size_t i = 0; i < json_array_size(tf); i++) {
        json_t *f = json_array_get(tf, i);
        assert_null(json_object_get(f, "num"));     /* QEMU 7.2 emits none */
        if (strcmp(json_string_value(json_object_get(f, "field")), "vbuf") == 0)
            assert_int_equal(json_integer_value(json_object_get(f, "size")), 0);
        if (strcmp(json_string_value(json_object_get(f, "field")), "tested") == 0)
            assert_true(json_is_true(json_object_get(f, "field_exists")));
        if (strcmp(json_string_value(json_object_get(f, "field")), "late") == 0)
            assert_int_equal(json_integer_value(json_object_get(f, "version_id")), 2);
    }
    json_t *subs = json_object_get(d, "Subsections");
    json_t *extra = json_array_get(subs, 0);
    assert_string_equal(json_string_value(json_object_get(extra, "name")), "tdev/extra");
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(extra, "Subsections"), 0), "name")),
                        "tdev/extra/deep");

    const char *path = "/tmp/vmstress-engine-dump-test.json";
    assert_true(vms_json_write_file(j, path));
    FILE *fp = fopen(path, "r");
    char text[128] = { 0 };
    assert_true(fread(text, 1, sizeof(text) - 1, fp) > 0);
    fclose(fp);
    remove(path);
    static const char head[] = "{\n  \"vmschkmachine\": {\n    \"Name\": \"vmstress-test\"\n  },\n"
                               "  \"tdev-device\": {\n    \"Name\": \"tdev-device\",";
    assert_memory_equal(text, head, strlen(head));
    assert_false(vms_json_write_file(j, "/nonexistent-dir/x.json"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_exact),
        cmocka_unit_test(test_prefix_follows_type),
        cmocka_unit_test(test_plan_ref_follows_section),
        cmocka_unit_test(test_trailer_padding),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_section_not_needed),
        cmocka_unit_test(test_compound_roundtrip),
        cmocka_unit_test(test_map_covers_bodies),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_plans_agree),
        cmocka_unit_test(test_load_errors_framing),
        cmocka_unit_test(test_load_errors_trailer),
        cmocka_unit_test(test_load_errors_in_sections),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_load_end_event),
        cmocka_unit_test(test_trailer_json),
        cmocka_unit_test(test_dump_shape),
        cmocka_unit_test(test_ram_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
