/*
 * lint.c - descriptions against member tables, and the range probe (lint.h).
 */
#include "lint.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vclock.h"

#define MAX_COVER 256

/* What a leaf codec stores: its element type, and whether it is an EQUAL
 * check (the destination's value must match, so the guest must not be able
 * to change it). Codecs not listed carry bytes (buffers) or a timer. */
static const struct {
    const VmsInfo *info;
    DevElem elem;
    bool equal;
} codecs[] = {
    { &vms_info_bool, DEV_E_BOOL, false },
    { &vms_info_int8, DEV_E_I8, false },    { &vms_info_int16, DEV_E_I16, false },
    { &vms_info_int32, DEV_E_I32, false },  { &vms_info_int64, DEV_E_I64, false },
    { &vms_info_uint8, DEV_E_U8, false },   { &vms_info_uint16, DEV_E_U16, false },
    { &vms_info_uint32, DEV_E_U32, false }, { &vms_info_uint64, DEV_E_U64, false },
    { &vms_info_int32_le, DEV_E_I32, false },
    { &vms_info_uint8_equal, DEV_E_U8, true },   { &vms_info_uint16_equal, DEV_E_U16, true },
    { &vms_info_uint32_equal, DEV_E_U32, true }, { &vms_info_int32_equal, DEV_E_I32, true },
    { &vms_info_uint64_equal, DEV_E_U64, true },
};

static bool codec_of(const VmsInfo *info, DevElem *elem, bool *equal)
{
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
        if (codecs[i].info == info) {
            *elem = codecs[i].elem;
            *equal = codecs[i].equal;
            return true;
        }
    return false;
}

/* Name words that make a member an index or a count (it selects or bounds
 * an array, so an unchecked value reaches past it). */
static const char *const index_words[] = { "pos", "count", "cnt", "idx", "index", "head", "tail", "num", "len" };

static bool index_like(const char *name)
{
    const char *w = name;
    while (*w) {
        size_t n = strcspn(w, "_.[");
        for (size_t i = 0; i < sizeof(index_words) / sizeof(index_words[0]); i++)
            if (strlen(index_words[i]) == n && !strncmp(w, index_words[i], n))
                return true;
        w += n;
        w += *w != 0;
    }
    return false;
}

int lint_format(const LintFinding *f, char *buf, size_t n)
{
    return snprintf(buf, n, "lint: %s member %s%s%s: %s: %s", f->part, f->member,
                    f->field[0] ? " field " : "", f->field, f->rule, f->detail);
}

/* ------------------------------------------------------- table checks */

typedef struct Cover {
    const VmsField *f;
    size_t offset, size;
    bool is_count;          /* the count of a variable array or buffer, not its elements */
} Cover;

typedef struct Part {
    const MachShadow *sh;
    Cover c[MAX_COVER];
    size_t n;
    LintSink *sink;
    void *opaque;
    size_t found;
} Part;

static void cover_fn(void *arg, const VmsDesc *d, const VmsField *f, size_t off, size_t size)
{
    Part *p = arg;
    if (p->n == MAX_COVER)
        return;
    size_t n = (f->flags & (VMS_ARRAY | VMS_VARRAY_ANY)) ? f->num : 1;
    bool count = ((f->flags & VMS_VARRAY_ANY) && size != n * f->size && size <= 4) ||
                 ((f->flags & VMS_VBUFFER) && size == sizeof(uint32_t) && f->num != sizeof(uint32_t));
    p->c[p->n++] = (Cover){ f, off, size, count };
}

static void report(Part *p, const DevMember *mb, const VmsField *f, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(Part *p, const DevMember *mb, const VmsField *f, const char *rule, const char *fmt, ...)
{
    LintFinding lf = { .rule = rule };
    snprintf(lf.part, sizeof(lf.part), "%s", p->sh->name);
    snprintf(lf.member, sizeof(lf.member), "%s", mb->name);
    snprintf(lf.field, sizeof(lf.field), "%s", f ? f->name : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lf.detail, sizeof(lf.detail), fmt, ap);
    va_end(ap);
    p->found++;
    if (p->sink)
        p->sink(p->opaque, &lf);
}

/* A derived member's sources must be members of the same table. */
static void check_derived(Part *p, const DevMember *mb)
{
    char names[160];
    snprintf(names, sizeof(names), "%s", mb->derived_from);
    for (char *save = NULL, *tok = strtok_r(names, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        if (!dev_member_find(p->sh->members, tok))
            report(p, mb, NULL, "derived-source", "derived from '%s', which is not a member of %s", tok,
                   p->sh->name);
}

/* One field entry against the member it overlaps. */
static void check_entry(Part *p, const DevMember *mb, const Cover *c)
{
    const VmsField *f = c->f;
    size_t m_end = mb->offset + mb->size, c_end = c->offset + c->size;
    DevElem fe = DEV_E_OTHER;
    bool equal = false, typed = !c->is_count && codec_of(f->info, &fe, &equal);
    bool is_array = (f->flags & (VMS_ARRAY | VMS_VARRAY_ANY)) || dev_member_count(mb) > 1;
    if (f->info == &vms_info_timer && c->offset == mb->offset && mb->kind == DEV_M_TIMER)
        return;     /* the timer codec carries a VTimer's deadline, the whole of its state */
    if (equal && (mb->kind == DEV_M_STATE || mb->kind == DEV_M_TIMER))
        report(p, mb, f, "equal-on-state",
               "an EQUAL codec on guest state: a destination whose guest changed it refuses the stream "
               "(EQUAL is for configuration, declared host-only)");
    if (c->offset < mb->offset) {
        report(p, mb, f, "overlap", "field '%s' of another member (bytes %zu..%zu) reaches into this one "
               "(bytes %zu..%zu)", f->name, c->offset, c_end - 1, mb->offset, m_end - 1);
        return;
    }
    if (c_end > m_end) {
        if (is_array && typed && dev_elem_size(fe) == dev_elem_size(mb->elem))
            report(p, mb, f, "long-array", "%zu elements, the member has %zu", c->size / dev_elem_size(fe),
                   dev_member_count(mb));
        else
            report(p, mb, f, "wide", "the field covers bytes %zu..%zu, the member %zu..%zu", c->offset,
                   c_end - 1, mb->offset, m_end - 1);
        return;
    }
    if (!typed || mb->elem == DEV_E_OTHER)
        return;     /* bytes or a struct: coverage is checked by the caller */
    size_t fw = dev_elem_size(fe), mw = dev_elem_size(mb->elem);
    if (fw != mw)
        report(p, mb, f, fw < mw ? "narrow" : "wide", "the field's elements are %s (%zu bytes), the member's %s (%zu bytes)",
               dev_elem_name(fe), fw, dev_elem_name(mb->elem), mw);
    else if (c->size < mb->size && is_array)
        report(p, mb, f, "short-array", "%zu elements, the member has %zu", c->size / fw, dev_member_count(mb));
    else if (fe != mb->elem && (fe == DEV_E_BOOL) == (mb->elem == DEV_E_BOOL))
        report(p, mb, f, "signedness", "the field is %s, the member %s", dev_elem_name(fe),
               dev_elem_name(mb->elem));
}

static void check_member(Part *p, const DevMember *mb)
{
    size_t covered = 0, m_end = mb->offset + mb->size;
    const VmsField *first = NULL;
    bool count = false;
    size_t reported_before = p->found;
    for (size_t i = 0; i < p->n; i++) {
        const Cover *c = &p->c[i];
        if (c->offset >= m_end || c->offset + c->size <= mb->offset)
            continue;
        if (!first)
            first = c->f;
        count |= c->is_count;
        size_t lo = c->offset > mb->offset ? c->offset : mb->offset;
        size_t hi = c->offset + c->size < m_end ? c->offset + c->size : m_end;
        covered += hi - lo;
        check_entry(p, mb, c);
    }
    if ((count || index_like(mb->name)) && !mb->ranged && mb->kind != DEV_M_HOST)
        report(p, mb, first, "index-no-range",
               "an index or count without a declared range (DEV_RANGE) for the probe to check");
    if (mb->derived_from)
        check_derived(p, mb);
    if (mb->kind == DEV_M_HOST || mb->kind == DEV_M_VOLATILE)
        return;     /* declared with a reason (dev_members_check insists) */
    if (!first) {
        if (!mb->derived_from)
            report(p, mb, NULL, "uncovered",
                   "%zu bytes carried by no field of '%s' and declared neither host-only, volatile nor derived",
                   mb->size, p->sh->vmsd->name);
        return;
    }
    if (covered < mb->size && p->found == reported_before &&
        !(first->info == &vms_info_timer && mb->kind == DEV_M_TIMER))
        report(p, mb, first, dev_member_count(mb) > 1 ? "short-array" : "narrow",
               "fields carry %zu of its %zu bytes", covered, mb->size);
}

size_t lint_part(const MachShadow *sh, LintSink *sink, void *opaque)
{
    static Part p;      /* large; lint is single-threaded and not reentrant */
    memset(&p, 0, sizeof(p));
    p.sh = sh;
    p.sink = sink;
    p.opaque = opaque;
    if (sh->vmsd)
        vms_for_each_member_in(sh->vmsd, sh->state, sh->size, cover_fn, &p);
    for (const DevMember *mb = sh->members; mb && mb->name; mb++)
        check_member(&p, mb);
    return p.found;
}

size_t lint_machine(Machine *m, LintSink *sink, void *opaque)
{
    size_t found = 0, n = mach_n_shadows(m);
    for (size_t i = 0; i < n; i++) {
        const MachShadow *sh = mach_shadow(m, i);
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) {
            const MachShadow *o = mach_shadow(m, k);
            seen = o->vmsd == sh->vmsd && o->members == sh->members;
        }
        if (!seen)
            found += lint_part(sh, sink, opaque);
    }
    return found;
}

/* ------------------------------------------------------- the range probe */

static void range_finding(LintFinding *f, const MachShadow *sh, const DevMember *mb, size_t index,
                          int64_t v)
{
    memset(f, 0, sizeof(*f));
    f->rule = "range-not-enforced";
    snprintf(f->part, sizeof(f->part), "%s", sh->name);
    if (dev_member_count(mb) > 1)
        snprintf(f->member, sizeof(f->member), "%s[%zu]", mb->name, index);
    else
        snprintf(f->member, sizeof(f->member), "%s", mb->name);
    snprintf(f->value, sizeof(f->value), "%" PRId64, v);
    snprintf(f->detail, sizeof(f->detail), "a load accepted %" PRId64 ", outside its declared range [%" PRId64
             ", %" PRId64 "]", v, mb->lo, mb->hi);
}

bool lint_loaded_in_range(Machine *m, LintFinding *f)
{
    for (size_t i = 0; i < mach_n_shadows(m); i++) {
        const MachShadow *sh = mach_shadow(m, i);
        const DevMember *bad;
        size_t index;
        if (!dev_members_in_range(sh->members, sh->state, &bad, &index)) {
            range_finding(f, sh, bad, index, dev_member_get(bad, sh->state, index));
            return false;
        }
    }
    return true;
}

void lint_ranges_init(LintRanges *r, const MachShadow *const *parts, size_t n_parts)
{
    size_t n = 0;
    for (size_t i = 0; i < n_parts; i++)
        for (const DevMember *mb = parts[i]->members; mb && mb->name; mb++)
            n += mb->ranged;
    r->n = 0;
    r->at = malloc((n ? n : 1) * sizeof(*r->at));
    if (!r->at)
        abort();
    for (size_t i = 0; i < n_parts; i++)
        for (const DevMember *mb = parts[i]->members; mb && mb->name; mb++)
            if (mb->ranged)
                r->at[r->n++] = (LintRanged){ parts[i], mb };
}

bool lint_ranges_hold(const LintRanges *r, LintFinding *f)
{
    for (size_t k = 0; k < r->n; k++) {
        const LintRanged *rg = &r->at[k];
        size_t index;
        if (!dev_member_in_range(rg->member, rg->part->state, &index)) {
            range_finding(f, rg->part, rg->member, index, dev_member_get(rg->member, rg->part->state, index));
            return false;
        }
    }
    return true;
}

void lint_ranges_free(LintRanges *r)
{
    free(r->at);
    r->at = NULL;
    r->n = 0;
}

/* Whether element type e can hold v (the probe skips values it cannot). */
static bool representable(DevElem e, int64_t v)
{
    switch (e) {
    case DEV_E_BOOL: return v == 0 || v == 1;
    case DEV_E_U8: return v >= 0 && v <= UINT8_MAX;
    case DEV_E_U16: return v >= 0 && v <= UINT16_MAX;
    case DEV_E_U32: return v >= 0 && v <= UINT32_MAX;
    case DEV_E_U64: return v >= 0;
    case DEV_E_I8: return v >= INT8_MIN && v <= INT8_MAX;
    case DEV_E_I16: return v >= INT16_MIN && v <= INT16_MAX;
    case DEV_E_I32: return v >= INT32_MIN && v <= INT32_MAX;
    default: return true;
    }
}

typedef struct Probe {
    Machine *m;
    const void *stream;
    size_t len;
    VmsOut out;
    LintSink *sink;
    void *opaque;
    size_t found;
} Probe;

static void probe_fail(Probe *pr, LintFinding *f)
{
    pr->found++;
    if (pr->sink)
        pr->sink(pr->opaque, f);
}

/* A finding that the probe itself could not run. */
static void probe_broken(Probe *pr, const char *part, const char *member, const char *why)
{
    LintFinding f = { .rule = "probe" };
    snprintf(f.part, sizeof(f.part), "%s", part);
    snprintf(f.member, sizeof(f.member), "%s", member);
    snprintf(f.detail, sizeof(f.detail), "%s", why);
    probe_fail(pr, &f);
}

/* One element at one bad value; false if the base stream would not load. */
static bool probe_one(Probe *pr, size_t part, const DevMember *mb, size_t index, int64_t bad)
{
    VmsError err;
    if (!mach_load(pr->m, pr->stream, pr->len, &err))
        return false;
    const MachShadow *sh = mach_shadow(pr->m, part);
    dev_member_set(mb, sh->state, index, bad);
    VmsSaveOpts opts = { .no_vmdesc = true };
    vms_out_reset(&pr->out);
    if (!mach_save(pr->m, &pr->out, &opts, &err))
        return true;    /* refused on save: a VALIDATE field runs on load too */
    if (!mach_load(pr->m, pr->out.buf, pr->out.len, &err))
        return true;    /* refused: the validator holds */
    sh = mach_shadow(pr->m, part);
    int64_t got = dev_member_get(mb, sh->state, index);
    if (got < mb->lo || got > mb->hi) {
        LintFinding f;
        range_finding(&f, sh, mb, index, got);
        probe_fail(pr, &f);
    }
    return true;
}

size_t lint_probe_ranges(Machine *m, const void *stream, size_t len, LintSink *sink, void *opaque)
{
    Probe pr = { .m = m, .stream = stream, .len = len, .sink = sink, .opaque = opaque };
    vms_out_init(&pr.out, 0);
    for (size_t i = 0; i < mach_n_shadows(m); i++) {
        for (const DevMember *mb = mach_shadow(m, i)->members; mb && mb->name; mb++) {
            if (!mb->ranged)
                continue;
            for (size_t k = 0; k < dev_member_count(mb); k++) {
                const int64_t bad[2] = { mb->lo - 1, mb->hi + 1 };
                for (size_t b = 0; b < 2; b++) {
                    if (!representable(mb->elem, bad[b]))
                        continue;
                    if (!probe_one(&pr, i, mb, k, bad[b])) {
                        probe_broken(&pr, mach_shadow(m, i)->name, mb->name,
                                     "the stream to probe from does not load");
                        goto out;
                    }
                }
            }
        }
    }
out:
    vms_out_free(&pr.out);
    mach_reset(m);
    return pr.found;
}

size_t lint_probe_machine(Machine *m, LintSink *sink, void *opaque)
{
    Probe pr = { .m = m, .sink = sink, .opaque = opaque };
    VmsOut own;
    VmsError err;
    VmsSaveOpts opts = { .no_vmdesc = true };
    vms_out_init(&own, 0);
    if (mach_save(m, &own, &opts, &err)) {
        pr.found = lint_probe_ranges(m, own.buf, own.len, sink, opaque);
    } else {
        char line[400];
        vms_error_format(&err, line, sizeof(line));
        probe_broken(&pr, err.section, err.field, line);
    }
    vms_out_free(&own);
    return pr.found;
}
