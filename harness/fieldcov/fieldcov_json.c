/*
 * fieldcov_json.c - the field-coverage data file: write, read (merging),
 * and the locked read-merge-write that parallel runs share.
 *
 * Format (version 2; version 1 files, which have no "bits", are read too): {"format": "vmstress-field-coverage", "version": 1,
 *   "loads": {"stress": {"seen": n, "accepted": n}, "fuzz": {...}},
 *   "load_failures": {"<VmsErrClass name>": n, ...},
 *   "summary": {"fields": n, "covered": n, "percent": x},      (derived)
 *   "descriptions": [{"name", "version_id", "minimum_version_id",
 *       "subsection", "needed", "not_needed", "seen_on_load",
 *       "versions_saved": [..], "versions_loaded": [..], "rejected": {..},
 *       "fields": [{"name", "kind", "role", "covered" (derived),
 *           "total" (derived), "instances": {"<part>": STATS}}]}]}
 * STATS: {"saved", "nonreset", "distinct": ["0x..."], "distinct_more",
 *         "loaded": {"stress", "fuzz"}, "accepted": {..}, "rejected": {..},
 *         "bits": {"width": w, "seen0": ["0x..", one per element],
 *                  "seen1": [..]}  (only for elements of up to 8 bytes)}.
 * Only the non-derived members are read back; derived ones are for readers.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fieldcov_impl.h"

#define FCOV_FORMAT "vmstress-field-coverage"
#define FCOV_VERSION 2
#define FCOV_OLDEST_VERSION 1   /* no bits */

const char *const fcov_src_names[FCOV_NSRC] = { "stress", "fuzz" };
const char *const fcov_rej_names[FCOV_NREJ] = { "validate", "range", "equal", "hook" };
const char *const fcov_role_names[4] = { "state", "struct", "validate", "unused" };

/* ------------------------------------------------------------- writing */

static json_t *counts_obj(const uint64_t *v, const char *const *names, int n, bool skip_zero)
{
    json_t *o = json_object();
    for (int k = 0; k < n; k++)
        if (!skip_zero || v[k])
            json_object_set_new(o, names[k], json_integer((json_int_t)v[k]));
    return o;
}

static json_t *hex_array(const uint64_t *v, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++) {
        char b[24];
        snprintf(b, sizeof(b), "0x%" PRIx64, v[i]);
        json_array_append_new(a, json_string(b));
    }
    return a;
}

static json_t *stats_json(const FcovStats *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "saved", json_integer((json_int_t)s->saved));
    json_object_set_new(o, "nonreset", json_integer((json_int_t)s->nonreset));
    json_object_set_new(o, "distinct", hex_array(s->distinct, s->n_distinct));
    json_object_set_new(o, "distinct_more", json_boolean(s->distinct_more));
    json_object_set_new(o, "loaded", counts_obj(s->loaded, fcov_src_names, FCOV_NSRC, false));
    json_object_set_new(o, "accepted", counts_obj(s->accepted, fcov_src_names, FCOV_NSRC, false));
    json_object_set_new(o, "rejected", counts_obj(s->rejected, fcov_rej_names, FCOV_NREJ, true));
    if (s->bit_width)
        json_object_set_new(o, "bits", json_pack("{sIsoso}", "width", (json_int_t)s->bit_width, "seen0",
                                                 hex_array(s->seen0, s->bit_elems), "seen1",
                                                 hex_array(s->seen1, s->bit_elems)));
    return o;
}

static json_t *int_array(const int *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

void *fcov_to_json(const Fcov *fc)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(FCOV_FORMAT));
    json_object_set_new(root, "version", json_integer(FCOV_VERSION));
    json_t *loads = json_object();
    for (int k = 0; k < FCOV_NSRC; k++)
        json_object_set_new(loads, fcov_src_names[k],
                            json_pack("{sIsI}", "seen", (json_int_t)fc->loads[k], "accepted",
                                      (json_int_t)fc->loads_ok[k]));
    json_object_set_new(root, "loads", loads);
    json_t *fails = json_object();
    for (int c = 0; c < FCOV_NCLASS; c++)
        if (fc->fail_class[c])
            json_object_set_new(fails, vms_error_class_name((VmsErrClass)c),
                                json_integer((json_int_t)fc->fail_class[c]));
    json_object_set_new(root, "load_failures", fails);
    size_t nf, nc;
    fcov_count(fc, NULL, &nf, &nc);
    FcovBits b;
    fcov_bit_counts(fc, NULL, &b);
    json_object_set_new(root, "summary",
                        json_pack("{sIsIsfsIsIsf}", "fields", (json_int_t)nf, "covered", (json_int_t)nc,
                                  "percent", nf ? 100.0 * (double)nc / (double)nf : 0.0, "bits",
                                  (json_int_t)b.bits, "bits_both", (json_int_t)b.both, "bits_percent",
                                  b.bits ? 100.0 * (double)b.both / (double)b.bits : 0.0));
    json_t *descs = json_array();
    for (size_t i = 0; i < fc->n_descs; i++) {
        const FcovDesc *d = &fc->descs[i];
        json_t *jd = json_object();
        json_object_set_new(jd, "name", json_string(d->name));
        json_object_set_new(jd, "version_id", json_integer(d->version_id));
        json_object_set_new(jd, "minimum_version_id", json_integer(d->minimum_version_id));
        json_object_set_new(jd, "subsection", json_boolean(d->subsection));
        json_object_set_new(jd, "needed", json_integer((json_int_t)d->needed));
        json_object_set_new(jd, "not_needed", json_integer((json_int_t)d->not_needed));
        json_object_set_new(jd, "seen_on_load", json_integer((json_int_t)d->sub_loaded));
        json_object_set_new(jd, "versions_saved", int_array(d->versions_saved, d->n_saved_versions));
        json_object_set_new(jd, "versions_loaded", int_array(d->versions_loaded, d->n_loaded_versions));
        json_object_set_new(jd, "rejected", counts_obj(d->rejected, fcov_rej_names, FCOV_NREJ, true));
        json_t *fields = json_array();
        for (size_t k = 0; k < d->n_fields; k++) {
            const FcovField *f = &d->fields[k];
            json_t *jf = json_object();
            json_object_set_new(jf, "name", json_string(f->name));
            json_object_set_new(jf, "kind", json_string(f->kind));
            json_object_set_new(jf, "role", json_string(fcov_role_names[f->role]));
            json_object_set_new(jf, "covered", json_boolean(fcov_field_covered(f)));
            FcovStats tot;
            fcov_field_total(f, &tot);
            json_object_set_new(jf, "total", stats_json(&tot));
            json_t *inst = json_object();
            for (size_t j = 0; j < f->n_inst; j++)
                json_object_set_new(inst, fcov_inst_name(fc, f->inst[j].inst), stats_json(&f->inst[j].st));
            json_object_set_new(jf, "instances", inst);
            json_array_append_new(fields, jf);
        }
        json_object_set_new(jd, "fields", fields);
        json_array_append_new(descs, jd);
    }
    json_object_set_new(root, "descriptions", descs);
    return root;
}

/* ------------------------------------------------------------- reading */

typedef struct Rd {
    char *err;
    size_t errlen;
    char where[160];
} Rd;

static bool rd_fail(Rd *r, const char *what)
{
    fcov_errf(r->err, r->errlen, "%s: %s", r->where, what);
    return false;
}

/* An optional non-negative integer member (absent: 0). */
static bool rd_u64(Rd *r, const json_t *o, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        *out = 0;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        char m[96];
        snprintf(m, sizeof(m), "'%s' is not a non-negative integer", key);
        return rd_fail(r, m);
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool rd_int(Rd *r, const json_t *o, const char *key, int *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        *out = 0;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX) {
        char m[96];
        snprintf(m, sizeof(m), "'%s' is not an integer", key);
        return rd_fail(r, m);
    }
    *out = (int)json_integer_value(v);
    return true;
}

/* Add the named counters of object `key` (absent: nothing) to v[]. */
static bool rd_counts(Rd *r, const json_t *o, const char *key, uint64_t *v, const char *const *names, int n)
{
    const json_t *c = json_object_get(o, key);
    if (!c)
        return true;
    if (!json_is_object(c)) {
        char m[96];
        snprintf(m, sizeof(m), "'%s' is not an object", key);
        return rd_fail(r, m);
    }
    for (int k = 0; k < n; k++) {
        uint64_t x;
        if (!rd_u64(r, c, names[k], &x))
            return false;
        v[k] += x;
    }
    return true;
}

static bool rd_versions(Rd *r, const json_t *o, const char *key, int *v, int *n)
{
    const json_t *a = json_object_get(o, key);
    if (!a)
        return true;
    if (!json_is_array(a))
        return rd_fail(r, "versions are not an array");
    size_t i;
    const json_t *x;
    json_array_foreach(a, i, x) {
        if (!json_is_integer(x))
            return rd_fail(r, "a version is not an integer");
        fcov_add_version(v, n, (int)json_integer_value(x));
    }
    return true;
}

/* A hex-string array into v[] (at most max entries); *n its length. */
static bool rd_hex_array(Rd *r, const json_t *a, uint64_t *v, uint32_t max, uint32_t *n, const char *what)
{
    char m[96];
    snprintf(m, sizeof(m), "'%s' is not an array of at most %u hex strings", what, max);
    if (!json_is_array(a) || json_array_size(a) > max)
        return rd_fail(r, m);
    size_t i;
    const json_t *x;
    json_array_foreach(a, i, x) {
        const char *t = json_string_value(x);
        char *end;
        errno = 0;
        v[i] = t ? strtoull(t, &end, 16) : 0;
        if (!t || errno || end == t || *end)
            return rd_fail(r, m);
    }
    *n = (uint32_t)json_array_size(a);
    return true;
}

static bool rd_bits(Rd *r, const json_t *o, FcovStats *s)
{
    const json_t *b = json_object_get(o, "bits");
    if (!b)
        return true;
    uint64_t w;
    uint32_t n0, n1;
    if (!json_is_object(b) || !rd_u64(r, b, "width", &w) || w < 1 || w > 64)
        return rd_fail(r, "'bits' is not an object with a 'width' of 1 to 64");
    if (!rd_hex_array(r, json_object_get(b, "seen0"), s->seen0, FCOV_BIT_ELEMS, &n0, "seen0") ||
        !rd_hex_array(r, json_object_get(b, "seen1"), s->seen1, FCOV_BIT_ELEMS, &n1, "seen1"))
        return false;
    if (n0 != n1)
        return rd_fail(r, "'seen0' and 'seen1' differ in length");
    s->bit_width = (uint32_t)w;
    s->bit_elems = n0;
    for (uint32_t i = 0; i < n0; i++)
        if ((s->seen0[i] | s->seen1[i]) & ~fcov_width_mask(s->bit_width))
            return rd_fail(r, "a bit mask is wider than 'width'");
    return true;
}

static bool rd_stats(Rd *r, const json_t *o, FcovStats *s)
{
    if (!json_is_object(o))
        return rd_fail(r, "instance statistics are not an object");
    if (!rd_u64(r, o, "saved", &s->saved) || !rd_u64(r, o, "nonreset", &s->nonreset) ||
        !rd_counts(r, o, "loaded", s->loaded, fcov_src_names, FCOV_NSRC) ||
        !rd_counts(r, o, "accepted", s->accepted, fcov_src_names, FCOV_NSRC) ||
        !rd_counts(r, o, "rejected", s->rejected, fcov_rej_names, FCOV_NREJ))
        return false;
    const json_t *more = json_object_get(o, "distinct_more");
    if (more && !json_is_boolean(more))
        return rd_fail(r, "'distinct_more' is not a boolean");
    s->distinct_more = more && json_is_true(more);
    const json_t *dv = json_object_get(o, "distinct");
    uint64_t vals[FCOV_DISTINCT_MAX];
    uint32_t nv = 0;
    if (dv && !rd_hex_array(r, dv, vals, FCOV_DISTINCT_MAX, &nv, "distinct"))
        return false;
    for (uint32_t i = 0; i < nv; i++)
        fcov_add_distinct(s, vals[i]);
    return rd_bits(r, o, s);
}

static bool rd_role(Rd *r, const json_t *jf, FcovRole *role)
{
    const char *s = json_string_value(json_object_get(jf, "role"));
    if (!s) {
        *role = FCOV_ROLE_STATE;
        return true;
    }
    for (int k = 0; k < 4; k++)
        if (!strcmp(s, fcov_role_names[k])) {
            *role = (FcovRole)k;
            return true;
        }
    return rd_fail(r, "unknown 'role'");
}

static bool rd_field(Rd *r, Fcov *fc, uint32_t di, const json_t *jf)
{
    const char *name = json_string_value(json_object_get(jf, "name"));
    const char *kind = json_string_value(json_object_get(jf, "kind"));
    FcovRole role;
    if (!json_is_object(jf) || !name)
        return rd_fail(r, "a field is not an object with a 'name'");
    if (!rd_role(r, jf, &role))
        return false;
    uint32_t fi = fcov_field_get(fc, di, name, kind ? kind : "?", role);
    const json_t *inst = json_object_get(jf, "instances");
    if (inst && !json_is_object(inst))
        return rd_fail(r, "'instances' is not an object");
    const char *iname;
    json_t *js;
    json_object_foreach((json_t *)inst, iname, js) {
        FcovStats s;
        memset(&s, 0, sizeof(s));
        size_t wl = strlen(r->where);
        snprintf(r->where + wl, sizeof(r->where) - wl, " instance '%s'", iname);
        if (!rd_stats(r, js, &s))
            return false;
        r->where[wl] = 0;
        fcov_stats_merge(fcov_stats(fc, di, fi, fcov_intern(fc, iname)), &s);
    }
    return true;
}

static bool rd_desc(Rd *r, Fcov *fc, const json_t *jd)
{
    const char *name = json_string_value(json_object_get(jd, "name"));
    if (!json_is_object(jd) || !name)
        return rd_fail(r, "a description is not an object with a 'name'");
    uint32_t di = fcov_desc_get(fc, name);
    FcovDesc tmp;
    memset(&tmp, 0, sizeof(tmp));
    const json_t *sub = json_object_get(jd, "subsection");
    if (!rd_int(r, jd, "version_id", &tmp.version_id) ||
        !rd_int(r, jd, "minimum_version_id", &tmp.minimum_version_id) ||
        !rd_u64(r, jd, "needed", &tmp.needed) || !rd_u64(r, jd, "not_needed", &tmp.not_needed) ||
        !rd_u64(r, jd, "seen_on_load", &tmp.sub_loaded) ||
        !rd_counts(r, jd, "rejected", tmp.rejected, fcov_rej_names, FCOV_NREJ))
        return false;
    FcovDesc *d = &fc->descs[di];
    if (!d->n_fields && !d->version_id) {   /* unknown so far: take its shape */
        d->version_id = tmp.version_id;
        d->minimum_version_id = tmp.minimum_version_id;
    }
    d->subsection |= sub && json_is_true(sub);
    d->needed += tmp.needed;
    d->not_needed += tmp.not_needed;
    d->sub_loaded += tmp.sub_loaded;
    for (int k = 0; k < FCOV_NREJ; k++)
        d->rejected[k] += tmp.rejected[k];
    if (!rd_versions(r, jd, "versions_saved", d->versions_saved, &d->n_saved_versions) ||
        !rd_versions(r, jd, "versions_loaded", d->versions_loaded, &d->n_loaded_versions))
        return false;
    const json_t *fields = json_object_get(jd, "fields");
    if (fields && !json_is_array(fields))
        return rd_fail(r, "'fields' is not an array");
    size_t k;
    const json_t *jf;
    size_t wl = strlen(r->where);
    json_array_foreach(fields, k, jf) {
        snprintf(r->where + wl, sizeof(r->where) - wl, " field %zu", k);
        if (!rd_field(r, fc, di, jf))
            return false;
    }
    r->where[wl] = 0;
    return true;
}

bool fcov_merge_json(Fcov *fc, const void *json, char *err, size_t errlen)
{
    const json_t *root = json;
    Rd r = { err, errlen, "field-coverage data" };
    if (!json_is_object(root))
        return rd_fail(&r, "not a JSON object");
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!fmt || strcmp(fmt, FCOV_FORMAT))
        return rd_fail(&r, "'format' is not \"" FCOV_FORMAT "\"");
    int ver;
    if (!rd_int(&r, root, "version", &ver))
        return false;
    if (ver < FCOV_OLDEST_VERSION || ver > FCOV_VERSION) {
        char m[80];
        snprintf(m, sizeof(m), "version %d is not supported (want %d to %d)", ver, FCOV_OLDEST_VERSION,
                 FCOV_VERSION);
        return rd_fail(&r, m);
    }
    const json_t *descs = json_object_get(root, "descriptions");
    if (!json_is_array(descs))
        return rd_fail(&r, "'descriptions' is not an array");
    /* Validate into a scratch copy first, so a bad file merges nothing. */
    Fcov *tmp = fcov_new();
    bool ok = true;
    const json_t *loads = json_object_get(root, "loads");
    for (int k = 0; ok && k < FCOV_NSRC && loads; k++) {
        const json_t *l = json_object_get(loads, fcov_src_names[k]);
        uint64_t s = 0, a = 0;
        ok = !l || (rd_u64(&r, l, "seen", &s) && rd_u64(&r, l, "accepted", &a));
        tmp->loads[k] += s;
        tmp->loads_ok[k] += a;
    }
    const json_t *fails = json_object_get(root, "load_failures");
    for (int c = 0; ok && fails && c < FCOV_NCLASS; c++) {
        uint64_t v;
        const char *nm = vms_error_class_name((VmsErrClass)c);
        ok = !nm || rd_u64(&r, fails, nm, &v);
        if (ok && nm)
            tmp->fail_class[c] += v;
    }
    size_t i;
    const json_t *jd;
    json_array_foreach(descs, i, jd) {
        if (!ok)
            break;
        snprintf(r.where, sizeof(r.where), "field-coverage data: descriptions[%zu]", i);
        ok = rd_desc(&r, tmp, jd);
    }
    if (ok)
        fcov_merge(fc, tmp);
    fcov_free(tmp);
    return ok;
}

/* The one merge: descriptions and fields by name (new ones appended, so
 * description order is kept), instances by name, counters added. */
void fcov_merge(Fcov *dst, const Fcov *src)
{
    for (int k = 0; k < FCOV_NSRC; k++) {
        dst->loads[k] += src->loads[k];
        dst->loads_ok[k] += src->loads_ok[k];
    }
    for (int c = 0; c < FCOV_NCLASS; c++)
        dst->fail_class[c] += src->fail_class[c];
    for (size_t i = 0; i < src->n_descs; i++) {
        const FcovDesc *s = &src->descs[i];
        uint32_t di = fcov_desc_get(dst, s->name);
        FcovDesc *d = &dst->descs[di];
        if (!d->n_fields && !d->version_id) {
            d->version_id = s->version_id;
            d->minimum_version_id = s->minimum_version_id;
        }
        d->subsection |= s->subsection;
        d->needed += s->needed;
        d->not_needed += s->not_needed;
        d->sub_loaded += s->sub_loaded;
        for (int k = 0; k < FCOV_NREJ; k++)
            d->rejected[k] += s->rejected[k];
        for (int k = 0; k < s->n_saved_versions; k++)
            fcov_add_version(d->versions_saved, &d->n_saved_versions, s->versions_saved[k]);
        for (int k = 0; k < s->n_loaded_versions; k++)
            fcov_add_version(d->versions_loaded, &d->n_loaded_versions, s->versions_loaded[k]);
        for (size_t k = 0; k < s->n_fields; k++) {
            const FcovField *sf = &s->fields[k];
            uint32_t fi = fcov_field_get(dst, di, sf->name, sf->kind, sf->role);
            for (size_t j = 0; j < sf->n_inst; j++) {
                uint32_t inst = fcov_intern(dst, fcov_inst_name(src, sf->inst[j].inst));
                fcov_stats_merge(fcov_stats(dst, di, fi, inst), &sf->inst[j].st);
            }
        }
    }
}

bool fcov_read_file(Fcov *fc, const char *path, char *err, size_t errlen)
{
    VmsMsg why;
    json_t *j = vms_read_json(path, 0, &why);
    if (!j) {
        fcov_errf(err, errlen, "%s", why.text);
        return false;
    }
    char e2[300];
    bool ok = fcov_merge_json(fc, j, e2, sizeof(e2));
    if (!ok)
        fcov_errf(err, errlen, "%s: %s", path, e2);
    json_decref(j);
    return ok;
}

static bool dump_to_fd(const Fcov *fc, int fd, const char *path, char *err, size_t errlen)
{
    json_t *j = fcov_to_json(fc);
    char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        abort();
    size_t len = strlen(s), done = 0;
    bool ok = true;
    while (ok && done < len) {
        ssize_t w = write(fd, s + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    ok = ok && write(fd, "\n", 1) == 1;
    free(s);
    if (!ok)
        fcov_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
    return ok;
}

bool fcov_write_file(const Fcov *fc, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fcov_errf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return false;
    }
    bool ok = dump_to_fd(fc, fd, path, err, errlen);
    if (close(fd) != 0 && ok) {
        fcov_errf(err, errlen, "%s: close failed: %s", path, strerror(errno));
        ok = false;
    }
    return ok;
}

bool fcov_merge_into_file(const Fcov *fc, const char *path, char *err, size_t errlen)
{
    /* The lock is on a side file so that the data file itself can be
     * replaced whole (write to a temporary, rename). */
    char lock[4096], tmp[4096];
    snprintf(lock, sizeof(lock), "%s.lock", path);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    int lfd = open(lock, O_RDWR | O_CREAT, 0644);
    if (lfd < 0) {
        fcov_errf(err, errlen, "%s: cannot open lock file: %s", lock, strerror(errno));
        return false;
    }
    while (flock(lfd, LOCK_EX) != 0 && errno == EINTR)
        ;
    Fcov *all = fcov_new();
    bool ok = true;
    if (access(path, F_OK) == 0)
        ok = fcov_read_file(all, path, err, errlen);
    if (ok) {
        fcov_merge(all, fc);
        ok = fcov_write_file(all, tmp, err, errlen);
        if (ok && rename(tmp, path) != 0) {
            fcov_errf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
            ok = false;
        }
        if (!ok)
            unlink(tmp);
    }
    fcov_free(all);
    flock(lfd, LOCK_UN);
    close(lfd);
    return ok;
}
