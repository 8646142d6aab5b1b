/*
 * compat.c - one direction of the static checker: SRC saves, DST loads.
 *
 * The model is QEMU's loader (docs/compat.md has the rules with their
 * sources): a section or subsection carries its source version on the wire
 * and the destination accepts [minimum_version_id, version_id]; the source
 * writes every field of its own description; the destination reads the
 * fields whose version_id is at most the stream version (nested structs
 * are read at the destination's own version: their version is not on the
 * wire); a field_exists predicate alone decides its field, and the dump
 * cannot show it; an unknown subsection fails the load, a missing one is
 * accepted. Bytes are not framed per field, so the first field the two
 * sides disagree on misreads everything after it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

static const char *const grade_names[COMPAT_N_GRADES] = {
    "yes", "probably-yes", "no-idea", "probably-no", "no",
};

const char *compat_grade_name(CompatGrade g)
{
    return g < COMPAT_N_GRADES ? grade_names[g] : "?";
}

int compat_grade_exit(CompatGrade g)
{
    static const int codes[COMPAT_N_GRADES] = { 0, 0, 5, 3, 4 };
    return g < COMPAT_N_GRADES ? codes[g] : 5;
}

/* ------------------------------------------------------------ facts */

/* Where the walk is: the report, the section, and the field path so far. */
typedef struct Ctx {
    CompatReport *r;
    const char *section;
} Ctx;

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void fact(Ctx *c, CompatGrade g, const char *kind, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void fact(Ctx *c, CompatGrade g, const char *kind, const char *path, const char *fmt, ...)
{
    CompatReport *r = c->r;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        CompatFact *f = realloc(r->facts, cap * sizeof *f);
        if (!f)
            abort();    /* a few hundred bytes per fact; out of memory is not input */
        r->facts = f;
        r->cap = cap;
    }
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    CompatFact *f = &r->facts[r->n++];
    f->grade = g;
    f->kind = kind;
    f->section = dup_str(c->section);
    f->path = dup_str(path);
    f->reason = dup_str(reason);
    if (!f->section || !f->path || !f->reason)
        abort();
    if (g > r->verdict)
        r->verdict = g;
}

void compat_report_free(CompatReport *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->facts[i].section);
        free(r->facts[i].path);
        free(r->facts[i].reason);
    }
    free(r->facts);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ accessors */

static long long num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static bool has_pred(const json_t *f)
{
    return json_is_true(json_object_get(f, "field_exists"));
}

/* "parent.child", or "child" at the top. */
static void join(char *out, size_t n, const char *parent, const char *child)
{
    size_t k = strlen(parent);
    if (k >= n)
        k = n - 1;
    memcpy(out, parent, k);
    if (k && k + 1 < n)
        out[k++] = '.';
    size_t c = strlen(child);
    if (c > n - 1 - k)
        c = n - 1 - k;    /* cut short: a path is only for the message */
    memcpy(out + k, child, c);
    out[k + c] = '\0';
}

/* ------------------------------------------------------------ descriptions */

/* How a description is read: at the version on the wire (sections and
 * subsections: the source's version) or at the destination's own version
 * (nested structs). */
typedef enum Level { L_SECTION, L_SUBSECTION, L_NESTED } Level;

static void cmp_desc(Ctx *c, const char *path, const json_t *s, const json_t *d, Level lv);

/* Version range of a section or subsection: the wire carries s's version. */
static void cmp_versions(Ctx *c, const char *path, const json_t *s, const json_t *d)
{
    long long sv = num(s, "version_id"), dv = num(d, "version_id");
    long long smin = num(s, "minimum_version_id"), dmin = num(d, "minimum_version_id");
    if (sv > dv)
        fact(c, COMPAT_NO, "version", path,
             "the stream is version %lld and the destination loads at most version %lld "
             "(\"too new\")", sv, dv);
    else if (sv < dmin)
        fact(c, COMPAT_NO, "minimum_version", path,
             "the stream is version %lld and the destination's minimum_version_id is %lld "
             "(\"too old\")", sv, dmin);
    else if (sv != dv)
        fact(c, COMPAT_YES, "version", path,
             "the stream is version %lld, within the destination's [%lld, %lld]", sv, dmin, dv);
    if (smin != dmin && sv >= dmin && sv <= dv)
        fact(c, COMPAT_YES, "minimum_version", path,
             "minimum_version_id differs (%lld here, %lld there) and still admits stream "
             "version %lld", smin, dmin, sv);
}

/* A field one side has and the other does not read; `sender` says which. */
static void lone_field(Ctx *c, const char *path, const json_t *f, bool sender, const json_t *gated,
                       long long v, bool at_end)
{
    char p[1024];
    join(p, sizeof p, path, str(f, "field"));
    if (has_pred(f)) {
        fact(c, COMPAT_NO_IDEA, "field_exists", p,
             sender ? "only the source has this field, behind a field_exists predicate the dump "
                      "cannot show: fine exactly when the predicate is false"
                    : "only the destination has this field, behind a field_exists predicate the "
                      "dump cannot show: fine exactly when the predicate is false for this stream");
    } else if (sender && gated) {
        fact(c, COMPAT_NO, "field", p,
             "the source sends it but the destination reads it only from version %lld streams "
             "and this stream is version %lld: every later byte is misread",
             num(gated, "version_id"), v);
    } else if (sender) {
        fact(c, COMPAT_NO, "field", p,
             "the source sends it and the destination has no such field%s: every later byte is "
             "misread", at_end ? " (it has no further fields)" : "");
    } else {
        fact(c, COMPAT_NO, "field", p,
             "the destination reads it (version %lld, stream version %lld) and the source never "
             "sends it%s: it reads bytes that belong to what follows",
             num(f, "version_id"), v,
             at_end ? "; added at the end without a version bump" : "");
    }
}

/* Two fields at the same place in the byte sequence. */
static void cmp_field(Ctx *c, const char *path, const json_t *s, const json_t *d, Level lv,
                      long long v)
{
    char p[1024];
    join(p, sizeof p, path, str(d, "field"));
    const char *sn = str(s, "field"), *dn = str(d, "field");
    const json_t *sd = json_object_get(s, "Description"), *dd = json_object_get(d, "Description");
    if (strcmp(sn, dn)) {
        bool same = !sd && !dd && num(s, "size") == num(d, "size");
        bool unused = same && (!strcmp(sn, "unused") || !strcmp(dn, "unused"));
        if (unused)
            fact(c, COMPAT_PROBABLY_YES, "field", p,
                 "'%s' becomes '%s' at the same size: an unused field skips its bytes on load "
                 "and sends zeros, so the bytes line up and only that state is dropped or zeroed",
                 sn, dn);
        else
            fact(c, same ? COMPAT_NO_IDEA : COMPAT_NO, "field", p,
                 same ? "renamed from '%s': the same size at the same place, so the bytes line "
                        "up and the loader does not check names; whether it is the same state a "
                        "dump cannot tell"
                      : "'%s' is replaced by a field of another size or kind at the same place",
                 sn);
        if (!same && !(sd && dd))
            return;
    }
    if (has_pred(s) != has_pred(d))
        fact(c, COMPAT_NO_IDEA, "field_exists", p,
             "a field_exists predicate on the %s side only: the field is %s, and the dump cannot "
             "show when the predicate holds", has_pred(s) ? "source" : "destination",
             has_pred(s) ? "sent only when the source's predicate holds but always read"
                         : "always sent but read only when the destination's predicate holds");
    if (lv != L_NESTED && num(s, "version_id") != num(d, "version_id") && !has_pred(d))
        fact(c, COMPAT_YES, "version", p,
             "field version_id differs (%lld here, %lld there); the destination reads it from "
             "a version %lld stream", num(s, "version_id"), num(d, "version_id"), v);
    if (!!sd != !!dd) {
        fact(c, COMPAT_NO, "description", p,
             "a nested description (%s) on the %s side only: a struct on one side, a leaf on "
             "the other", str(sd ? sd : dd, "name"), sd ? "source" : "destination");
        return;
    }
    if (sd) {
        /* A struct's size is its C size (a pointer's, for STRUCT_POINTER): its
         * fields decide the bytes, as in QEMU's checker. */
        cmp_desc(c, p, sd, dd, L_NESTED);
    } else if (num(s, "size") != num(d, "size")) {
        fact(c, COMPAT_NO, "size", p,
             "size changes from %lld to %lld bytes: this field and every later byte are misread",
             num(s, "size"), num(d, "size"));
    }
    const json_t *sk = json_object_get(s, "num"), *dk = json_object_get(d, "num");
    if (sk && dk && !json_equal((json_t *)sk, (json_t *)dk))
        fact(c, COMPAT_NO, "num", p, "array length changes from %lld to %lld elements",
             num(s, "num"), num(d, "num"));
    else if (!!sk != !!dk)
        fact(c, COMPAT_PROBABLY_YES, "num", p,
             "only the %s dump records the array length (QEMU before 2024 does not print "
             "'num'), so the lengths cannot be compared", sk ? "source" : "destination");
    const json_t *sf = json_object_get(s, "flags"), *df = json_object_get(d, "flags");
    if (sf && df && !json_equal((json_t *)sf, (json_t *)df))
        fact(c, COMPAT_PROBABLY_NO, "flags", p,
             "the field's flags differ: array, pointer, buffer and count flags change what is "
             "on the wire");
    const char *si = str(s, "info"), *di = str(d, "info");
    if (*si && *di && strcmp(si, di))
        fact(c, COMPAT_PROBABLY_NO, "info", p,
             "the codec changes from '%s' to '%s' at the same size", si, di);
    if (strstr(di, "equal"))
        fact(c, COMPAT_NO_IDEA, "info", p,
             "an EQUAL field (%s): the destination refuses the stream unless the source's value "
             "equals its own, and a dump cannot show either value", di);
}

/* Index of the field named `name` in a[from..n), or -1. */
static long find_field(const json_t *const *a, size_t from, size_t n, const char *name)
{
    for (size_t k = from; k < n; k++)
        if (!strcmp(str(a[k], "field"), name))
            return (long)k;
    return -1;
}

/* The entry of desc's `list` ("Fields", "Subsections") whose `key` ("field",
 * "name") is `name`, or NULL. */
static const json_t *entry_named(const json_t *desc, const char *list, const char *key,
                                 const char *name)
{
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(desc, list), i, x)
        if (!strcmp(str(x, key), name))
            return x;
    return NULL;
}

static const json_t *field_named(const json_t *desc, const char *name)
{
    return entry_named(desc, "Fields", "field", name);
}

#define MAX_FIELDS COMPAT_MAX_FIELDS

static bool is_unused(const json_t *f)
{
    return !strcmp(str(f, "field"), "unused") && !has_pred(f) && !json_object_get(f, "Description");
}

/* Fields of desc on the wire at version v: no predicate and version_id at
 * most v, or a predicate (which alone decides). A field of `other` (the
 * source's description, when desc is the destination's) that this stream
 * does not carry is a fact: a field added under a higher version. A run of
 * "unused" fields is one gap of their total size (VMSTATE_UNUSED sends
 * zeros and skips them on load), so splitting or merging one changes
 * nothing; merged entries are new objects kept in `owned`. */
static size_t wire_fields(Ctx *c, const char *path, const json_t *desc, long long v,
                          const json_t *other, json_t *owned, const json_t **out)
{
    size_t n = 0, i;
    const json_t *f;
    json_array_foreach(json_object_get(desc, "Fields"), i, f) {
        if (!has_pred(f) && num(f, "version_id") > v) {
            char p[1024];
            join(p, sizeof p, path, str(f, "field"));
            if (other && !field_named(other, str(f, "field")))
                fact(c, COMPAT_YES, "field", p,
                     "added under version %lld: the destination does not read it from a "
                     "version %lld stream and keeps its own value", num(f, "version_id"), v);
            continue;
        }
        if (n > 0 && is_unused(f) && is_unused(out[n - 1])) {
            json_t *run = json_deep_copy(out[n - 1]);
            json_object_set_new(run, "size", json_integer(num(run, "size") + num(f, "size")));
            json_array_append_new(owned, run);
            out[n - 1] = run;
            continue;
        }
        if (n < MAX_FIELDS)
            out[n++] = f;
    }
    return n;
}

/* Walk both field sequences in order, pairing names; the shorter gap
 * decides whether a mismatch is an insertion on one side or the other. */
static void cmp_fields(Ctx *c, const char *path, const json_t *s, const json_t *d, Level lv)
{
    /* The source writes its fields at its own version; the destination reads
     * at the stream's version, or at its own for a nested struct. */
    long long v = num(s, "version_id");
    long long dv = lv == L_NESTED ? num(d, "version_id") : v;
    const json_t **sf = malloc(2 * MAX_FIELDS * sizeof *sf);
    if (!sf)
        abort();
    const json_t **df = sf + MAX_FIELDS;
    json_t *owned = json_array();
    size_t ns = wire_fields(c, path, s, v, NULL, owned, sf);
    size_t nd = wire_fields(c, path, d, dv, s, owned, df);
    size_t i = 0, j = 0;
    while (i < ns || j < nd) {
        if (i < ns && j < nd) {
            long k = find_field(df, j, nd, str(sf[i], "field"));
            long m = find_field(sf, i, ns, str(df[j], "field"));
            if (k == (long)j) {
                cmp_field(c, path, sf[i++], df[j++], lv, dv);
            } else if (k >= 0 && (m < 0 || (size_t)k - j <= (size_t)m - i)) {
                while (j < (size_t)k)
                    lone_field(c, path, df[j++], false, NULL, dv, false);
            } else if (m >= 0) {
                while (i < (size_t)m) {
                    const json_t *f = sf[i++];
                    lone_field(c, path, f, true, field_named(d, str(f, "field")), dv, false);
                }
            } else {
                cmp_field(c, path, sf[i++], df[j++], lv, dv);
            }
        } else if (i < ns) {
            const json_t *f = sf[i++];
            lone_field(c, path, f, true, field_named(d, str(f, "field")), dv, true);
        } else {
            lone_field(c, path, df[j++], false, NULL, dv, true);
        }
    }
    free(sf);
    json_decref(owned);
}

static const json_t *subsection_named(const json_t *desc, const char *name)
{
    return entry_named(desc, "Subsections", "name", name);
}

static void cmp_subsections(Ctx *c, const char *path, const json_t *s, const json_t *d)
{
    size_t i;
    const json_t *x;
    char p[1024];
    json_array_foreach(json_object_get(s, "Subsections"), i, x) {
        join(p, sizeof p, path, str(x, "name"));
        const json_t *y = subsection_named(d, str(x, "name"));
        if (y)
            cmp_desc(c, p, x, y, L_SUBSECTION);
        else
            fact(c, COMPAT_PROBABLY_YES, "subsection", p,
                 "the destination does not know this subsection: the load fails exactly when "
                 "the source sends it, which its needed() decides and the dump cannot show");
    }
    json_array_foreach(json_object_get(d, "Subsections"), i, x) {
        join(p, sizeof p, path, str(x, "name"));
        if (!subsection_named(s, str(x, "name")))
            fact(c, COMPAT_YES, "subsection", p,
                 "only the destination has this subsection: a missing subsection is accepted "
                 "and the destination keeps its own values");
    }
}

static void cmp_desc(Ctx *c, const char *path, const json_t *s, const json_t *d, Level lv)
{
    if (lv == L_SUBSECTION)
        cmp_versions(c, path, s, d);
    if (lv == L_NESTED && strcmp(str(s, "name"), str(d, "name")))
        fact(c, COMPAT_PROBABLY_YES, "description", path,
             "the nested description is renamed from '%s' to '%s'; a nested name is not on the "
             "wire, its fields are compared below", str(s, "name"), str(d, "name"));
    if (lv == L_NESTED && num(s, "version_id") != num(d, "version_id"))
        fact(c, COMPAT_YES, "version", path,
             "nested description '%s' is version %lld here and %lld there; a nested version is "
             "not on the wire (the destination reads at its own), its fields are compared below",
             str(d, "name"), num(s, "version_id"), num(d, "version_id"));
    cmp_fields(c, path, s, d, lv);
    cmp_subsections(c, path, s, d);
}

/* ------------------------------------------------------------ sections */

/* A machine type name ending in -<major>.<minor> is versioned. */
static bool versioned(const char *name)
{
    const char *dash = strrchr(name, '-');
    unsigned a, b;
    char end;
    return dash && sscanf(dash + 1, "%u.%u%c", &a, &b, &end) == 2;
}

static void cmp_machine(Ctx *c, const json_t *src, const json_t *dst)
{
    const char *sm = compat_machine(src), *dm = compat_machine(dst);
    if (!sm || !dm)
        fact(c, COMPAT_NO_IDEA, "machine", "",
             "a dump without vmschkmachine: which machine types are compared is unknown");
    else if (strcmp(sm, dm))
        fact(c, COMPAT_PROBABLY_NO, "machine", "",
             "machine types '%s' and '%s' differ: migration is promised only between the same "
             "machine type", sm, dm);
    else if (!versioned(sm))
        fact(c, COMPAT_PROBABLY_YES, "machine", "",
             "'%s' is not a versioned machine type and promises nothing across releases; only "
             "the descriptions below were checked", sm);
}

static void cmp_section(Ctx *c, const json_t *s, const json_t *d)
{
    const json_t *sd = json_object_get(s, "Description"), *dd = json_object_get(d, "Description");
    if (strcmp(str(sd, "name"), str(dd, "name"))) {
        fact(c, COMPAT_NO, "description", "",
             "the section is sent as '%s' and the destination's description is '%s': the "
             "section name on the wire is the description's name", str(sd, "name"),
             str(dd, "name"));
        return;
    }
    cmp_versions(c, "", s, d);
    cmp_desc(c, "", sd, dd, L_SECTION);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Section keys of a dump, sorted so the report does not depend on file order. */
static const char **sorted_sections(const json_t *dump, size_t *n)
{
    const char **keys = malloc((json_object_size(dump) + 1) * sizeof *keys);
    if (!keys)
        abort();
    size_t k = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)dump, key, v)
        if (strcmp(key, "vmschkmachine"))
            keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_keys);
    *n = k;
    return keys;
}

void compat_check(const json_t *src, const json_t *dst, CompatReport *r)
{
    Ctx c = { r, "" };
    cmp_machine(&c, src, dst);
    size_t n;
    const char **keys = sorted_sections(src, &n);
    for (size_t i = 0; i < n; i++) {
        c.section = keys[i];
        const json_t *d = json_object_get(dst, keys[i]);
        if (!d) {
            fact(&c, COMPAT_PROBABLY_NO, "section", "",
                 "the destination has no such device type: a stream from a machine that has "
                 "this device is refused (\"unknown section\")");
            continue;
        }
        r->sections++;
        cmp_section(&c, json_object_get(src, keys[i]), d);
    }
    free(keys);
    keys = sorted_sections(dst, &n);
    for (size_t i = 0; i < n; i++) {
        c.section = keys[i];
        if (!json_object_get(src, keys[i]))
            fact(&c, COMPAT_YES, "section", "",
                 "a device type only the destination has: no stream from the source carries it");
    }
    free(keys);
}

json_t *compat_report_json(const CompatReport *r)
{
    json_t *facts = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const CompatFact *f = &r->facts[i];
        json_array_append_new(facts, json_pack("{s:s, s:s, s:s, s:s, s:s}",
                                               "grade", compat_grade_name(f->grade),
                                               "kind", f->kind, "section", f->section,
                                               "path", f->path, "reason", f->reason));
    }
    return json_pack("{s:s, s:i, s:I, s:o}", "verdict", compat_grade_name(r->verdict),
                     "exit", compat_grade_exit(r->verdict), "sections", (json_int_t)r->sections,
                     "facts", facts);
}
