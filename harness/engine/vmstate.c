/*
 * vmstate.c - leaf codecs and the generic description walker. See vmstate.h.
 *
 * One recursive walk per direction. Both share the same notion of a field:
 * an element count (1, fixed, or taken from a count member that must already
 * be in range), an element size (fixed, or a byte count member), an optional
 * pointer to follow, and per element either a NULL marker, a child
 * description, or a leaf codec.
 *
 * The walk keeps the current field path as a small stack of (name, index)
 * pairs pointing at static strings; it is only turned into text when an
 * error is reported or a map span is recorded, so the plain save/load path
 * allocates nothing and formats nothing.
 *
 * A walk that nothing watches follows its description's compiled plan
 * (see "plans"; docs/design.md): runs of plain fields in one bounds check,
 * every other field through this same general walk.
 */
#include "vmstate.h"
#include "members.h"
#include "vclock.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NULL_MARKER 0x30    /* QEMU's VMS_NULLPTR_MARKER, the byte '0' */
#define SUBSECTION_MARK 0x05 /* QEMU_VM_SUBSECTION */
#define PATH_MAX_DEPTH 32   /* deeper levels are walked but not named */
#define MAX_SUBSECTIONS 64  /* per description, for duplicate detection on load */

/* ------------------------------------------------------------ errors */

const char *vms_error_class_name(VmsErrClass cls)
{
    static const char *const names[] = {
        [VMS_ERR_NONE] = "none",         [VMS_ERR_TRUNCATED] = "truncated",
        [VMS_ERR_FORMAT] = "format",     [VMS_ERR_VERSION] = "version",
        [VMS_ERR_UNKNOWN] = "unknown",   [VMS_ERR_DUPLICATE] = "duplicate",
        [VMS_ERR_RANGE] = "range",       [VMS_ERR_EQUAL] = "equal",
        [VMS_ERR_VALIDATE] = "validate", [VMS_ERR_HOOK] = "hook",
        [VMS_ERR_LIMIT] = "limit",       [VMS_ERR_CONFIG] = "config",
    };
    if ((unsigned)cls < sizeof(names) / sizeof(names[0]) && names[cls])
        return names[cls];
    return "invalid";
}

/* Copy s into out, writing bytes that are not printable ASCII as \xNN:
 * names and values quoted from a hostile stream must not break the
 * one-line report (a newline in a "machine type", say). */
static void escape_into(char *out, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 5 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
    }
    out[k] = 0;
}

int vms_error_format(const VmsError *e, char *buf, size_t n)
{
    char esec[sizeof(e->section) * 4 + 1], efld[sizeof(e->field) * 4 + 1];
    char msg[sizeof(e->msg) * 4 + 1];
    char sec[sizeof(esec) + 48] = "", fld[sizeof(efld) + 16] = "";
    if (e->section[0]) {
        escape_into(esec, sizeof(esec), e->section);
        /* A section known only by name (its header was cut short) has no
         * instance yet: say nothing rather than "instance -1". */
        if (e->instance >= 0)
            snprintf(sec, sizeof(sec), " in section '%s' instance %lld", esec, (long long)e->instance);
        else
            snprintf(sec, sizeof(sec), " in section '%s'", esec);
    }
    if (e->field[0]) {
        escape_into(efld, sizeof(efld), e->field);
        snprintf(fld, sizeof(fld), " field '%s'", efld);
    }
    escape_into(msg, sizeof(msg), e->msg);
    int len = snprintf(buf, n, "%s at offset %zu%s%s: %s", vms_error_class_name(e->cls), e->offset,
                       sec, fld, msg);
    /* A line that does not fit ends in "..." on purpose, never mid-word silently. */
    if (len >= 0 && (size_t)len >= n && n > 4)
        memcpy(buf + n - 4, "...", 4);
    return len;
}

void vms_error_vmsg(VmsError *e, const char *fmt, va_list ap)
{
    int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    if (n >= (int)sizeof(e->msg))
        memcpy(e->msg + sizeof(e->msg) - 4, "...", 4);
}

/* Every part empty: each walk clears its error, so this touches only the
 * first byte of each string (all that readers look at), not the whole
 * half-kilobyte struct. */
void vms_error_clear(VmsError *e)
{
    e->cls = VMS_ERR_NONE;
    e->section[0] = 0;
    e->instance = -1;
    e->field[0] = 0;
    e->offset = 0;
    e->msg[0] = 0;
}

bool vms_fail(VmsMsg *m, const char *fmt, ...)
{
    if (m) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->text, sizeof(m->text), fmt, ap);
        va_end(ap);
    }
    return false;
}

/* ------------------------------------------------------------ leaf codecs */

static bool out_u8(VmsOut *o, uint8_t v) { return vms_out_u8(o, v); }
static bool in_u8(VmsIn *in, uint8_t *v) { return vms_in_u8(in, v); }

/*
 * Integers: the bits are copied through the unsigned type of the same width
 * (memcpy keeps it free of aliasing and alignment questions).
 */
#define INT_CODEC(id, UT, wr, rd)                                                        \
    static bool put_##id(VmsOut *o, const void *pv, size_t size, const VmsField *f,     \
                         VmsMsg *why)                                                    \
    {                                                                                    \
        UT v;                                                                            \
        memcpy(&v, pv, sizeof(v));                                                       \
        return wr(o, v);                                                                 \
    }                                                                                    \
    static bool get_##id(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why) \
    {                                                                                    \
        UT v;                                                                            \
        if (!rd(in, &v))                                                                 \
            return false;                                                                \
        memcpy(pv, &v, sizeof(v));                                                       \
        return true;                                                                     \
    }
INT_CODEC(u8, uint8_t, out_u8, in_u8)
INT_CODEC(u16, uint16_t, vms_out_be16, vms_in_be16)
INT_CODEC(u32, uint32_t, vms_out_be32, vms_in_be32)
INT_CODEC(u64, uint64_t, vms_out_be64, vms_in_be64)

#define INFO(var, nm, p, g, cls) \
    const VmsInfo var = { .name = nm, .put = p, .get = g, .fail_class = cls }
INFO(vms_info_int8, "int8", put_u8, get_u8, VMS_ERR_FORMAT);
INFO(vms_info_int16, "int16", put_u16, get_u16, VMS_ERR_FORMAT);
INFO(vms_info_int32, "int32", put_u32, get_u32, VMS_ERR_FORMAT);
INFO(vms_info_int64, "int64", put_u64, get_u64, VMS_ERR_FORMAT);
INFO(vms_info_uint8, "uint8", put_u8, get_u8, VMS_ERR_FORMAT);
INFO(vms_info_uint16, "uint16", put_u16, get_u16, VMS_ERR_FORMAT);
INFO(vms_info_uint32, "uint32", put_u32, get_u32, VMS_ERR_FORMAT);
INFO(vms_info_uint64, "uint64", put_u64, get_u64, VMS_ERR_FORMAT);

static bool put_bool(VmsOut *o, const void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    return vms_out_u8(o, *(const bool *)pv ? 1 : 0);
}

static bool get_bool(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    uint8_t v;
    if (!vms_in_u8(in, &v))
        return false;
    *(bool *)pv = v != 0;   /* any non-zero byte is true, as QEMU */
    return true;
}
INFO(vms_info_bool, "bool", put_bool, get_bool, VMS_ERR_FORMAT);

/*
 * *_EQUAL: the stream must carry what the destination already holds
 * (configuration such as a FIFO depth). Compared as unsigned bits of the
 * width, reported in both decimal forms that matter.
 */
#define EQUAL_CODEC(id, UT, rd, ST)                                                      \
    static bool get_##id##_equal(VmsIn *in, void *pv, size_t size, const VmsField *f,   \
                                 VmsMsg *why)                                            \
    {                                                                                    \
        UT v, cur;                                                                       \
        if (!rd(in, &v))                                                                 \
            return false;                                                                \
        memcpy(&cur, pv, sizeof(cur));                                                   \
        if (v != cur)                                                                    \
            return vms_fail(why, "EQUAL: stream has %lld (0x%llx) != this build's %lld " \
                            "(0x%llx)", (long long)(ST)v, (unsigned long long)v,         \
                            (long long)(ST)cur, (unsigned long long)cur);                \
        return true;                                                                     \
    }
EQUAL_CODEC(u8, uint8_t, in_u8, uint8_t)
EQUAL_CODEC(u16, uint16_t, vms_in_be16, uint16_t)
EQUAL_CODEC(u32, uint32_t, vms_in_be32, uint32_t)
EQUAL_CODEC(i32, uint32_t, vms_in_be32, int32_t)
EQUAL_CODEC(u64, uint64_t, vms_in_be64, uint64_t)
INFO(vms_info_uint8_equal, "uint8 equal", put_u8, get_u8_equal, VMS_ERR_EQUAL);
INFO(vms_info_uint16_equal, "uint16 equal", put_u16, get_u16_equal, VMS_ERR_EQUAL);
INFO(vms_info_uint32_equal, "uint32 equal", put_u32, get_u32_equal, VMS_ERR_EQUAL);
INFO(vms_info_int32_equal, "int32 equal", put_u32, get_i32_equal, VMS_ERR_EQUAL);
/* QEMU names its uint64 check "int64 equal"; the name is what tools key on. */
INFO(vms_info_uint64_equal, "int64 equal", put_u64, get_u64_equal, VMS_ERR_EQUAL);

static bool get_int32_le(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    uint32_t u;
    int32_t cur;
    if (!vms_in_be32(in, &u))
        return false;
    int32_t v = (int32_t)u;
    memcpy(&cur, pv, sizeof(cur));
    if (v < 0 || v > cur)
        return vms_fail(why, "loaded %d not in [0, %d]", (int)v, (int)cur);
    memcpy(pv, &v, sizeof(v));
    return true;
}
INFO(vms_info_int32_le, "int32 le", put_u32, get_int32_le, VMS_ERR_RANGE);

static bool put_buffer(VmsOut *o, const void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    return vms_out_bytes(o, pv, size);
}

static bool get_buffer(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    return vms_in_bytes(in, pv, size);
}
INFO(vms_info_buffer, "buffer", put_buffer, get_buffer, VMS_ERR_FORMAT);

static bool put_unused(VmsOut *o, const void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    return vms_out_zeros(o, size);
}

static bool get_unused(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    return vms_in_skip(in, size);
}
INFO(vms_info_unused_buffer, "unused_buffer", put_unused, get_unused, VMS_ERR_FORMAT);

static bool put_nullptr(VmsOut *o, const void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    return vms_out_u8(o, NULL_MARKER);
}

static bool get_nullptr(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    uint8_t v;
    if (!vms_in_u8(in, &v))
        return false;
    if (v != NULL_MARKER)
        return vms_fail(why, "expected NULL-pointer marker 0x30, got 0x%02x", v);
    return true;
}
INFO(vms_info_nullptr, "nullptr", put_nullptr, get_nullptr, VMS_ERR_FORMAT);

/* ------------------------------------------------------------ the walk */

typedef struct PathEnt {
    const char *name;
    int64_t index;      /* -1: not an array element */
} PathEnt;

typedef struct Walk {
    VmsCtx *c;
    VmsOut *out;        /* saving */
    VmsIn *in;          /* loading */
    PathEnt path[PATH_MAX_DEPTH];
    int depth;
    VmsMsg why;         /* filled by codecs and hooks on failure */
    const void *object; /* the top-level object (c->members describes it) */
    VmsPlanRef *ref;    /* c->plan_ref until the top-level description takes it */
} Walk;

static void path_push(Walk *w, const char *name)
{
    if (w->depth < PATH_MAX_DEPTH)
        w->path[w->depth] = (PathEnt){ name, -1 };
    w->depth++;
}

static void path_index(Walk *w, int64_t i)
{
    if (w->depth > 0 && w->depth <= PATH_MAX_DEPTH)
        w->path[w->depth - 1].index = i;
}

static void path_pop(Walk *w) { w->depth--; }

static void path_format(const Walk *w, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    int d = w->depth < PATH_MAX_DEPTH ? w->depth : PATH_MAX_DEPTH;
    for (int i = 0; i < d && len < n; i++) {
        const PathEnt *p = &w->path[i];
        int k = p->index >= 0
                    ? snprintf(buf + len, n - len, "%s%s[%lld]", i ? "." : "", p->name,
                               (long long)p->index)
                    : snprintf(buf + len, n - len, "%s%s", i ? "." : "", p->name);
        if (k < 0)
            break;
        len += (size_t)k;
    }
}

static void walk_event(Walk *w, VmsObsEvent ev, const VmsDesc *d, int version)
{
    if (w->c->observe_event)
        w->c->observe_event(w->c->obs_opaque, ev, d, version, NULL);
}

static size_t walk_pos(const Walk *w) { return w->in ? w->in->pos : w->out->len; }

/* Fill the context's error (first failure only) and return false. */
__attribute__((format(printf, 4, 5)))
static bool walk_fail(Walk *w, VmsErrClass cls, size_t pos, const char *fmt, ...)
{
    VmsError *e = w->c->err;
    if (!e || e->cls != VMS_ERR_NONE)
        return false;
    e->cls = cls;
    snprintf(e->section, sizeof(e->section), "%s", w->c->section ? w->c->section : "");
    e->instance = w->c->section ? w->c->instance : -1;
    path_format(w, e->field, sizeof(e->field));
    e->offset = w->c->base_offset + pos;
    va_list ap;
    va_start(ap, fmt);
    vms_error_vmsg(e, fmt, ap);
    va_end(ap);
    return false;
}

static bool fail_limit(Walk *w, size_t pos)
{
    return walk_fail(w, VMS_ERR_LIMIT, pos, "output stream over its limit of %zu bytes "
                     "or out of memory", w->out->limit);
}

/* A VALIDATE entry: either predicate kind; why is filled only by VALIDATE_WHY. */
static bool validate_ok(Walk *w, const VmsField *f, void *opaque, int version)
{
    w->why.text[0] = 0;
    if (f->validate)
        return f->validate(opaque, version, &w->why);
    return f->field_exists && f->field_exists(opaque, version);
}

/* The field of d among the first n loaded that a hook's message starts
 * with (its name, then a space, '[' or ':'), or -1. */
enum { FPOS_MAX = 64 };

/*
 * Where each of the first FPOS_MAX fields of a description started in the
 * stream (SIZE_MAX: nothing loaded), for a refused load to point at. A
 * plan's copied segment records only its start (seg[k0]) and marks its
 * fields in `lazy`; fpos_resolve fills their entries when a failure needs
 * them (see "plans").
 */
typedef struct Plan Plan;
typedef struct FieldPos {
    size_t at[FPOS_MAX];
    size_t seg[FPOS_MAX];
    uint64_t lazy;
    const Plan *plan;
} FieldPos;
static const size_t *fpos_resolve(FieldPos *fp);

static int blamed_field(const VmsDesc *d, const size_t *fpos, size_t n, const char *msg)
{
    /* Either convention: "member ..." or "... field 'member...' ...". */
    const char *q = strstr(msg, "field '");
    for (size_t k = 0; k < n && k < FPOS_MAX; k++) {
        const char *name = d->fields[k].name;
        size_t len = name ? strlen(name) : 0;
        if (!len || fpos[k] == SIZE_MAX)
            continue;
        if (!strncmp(msg, name, len) && msg[len] && strchr(" [:", msg[len]))
            return (int)k;
        if (q && !strncmp(q + 7, name, len) && q[7 + len] && strchr("'.[", q[7 + len]))
            return (int)k;
    }
    return -1;
}

/* The field of d named `name`, among the first n loaded, or -1. */
static int loaded_field(const VmsDesc *d, const size_t *fpos, size_t n, const char *name)
{
    for (size_t k = 0; k < n && k < FPOS_MAX; k++)
        if (d->fields[k].name && fpos[k] != SIZE_MAX && !strcmp(d->fields[k].name, name))
            return (int)k;
    return -1;
}

/*
 * A refused load (validator or hook) names one member in the error's field
 * slot, the one way for every section: a member with a declared range
 * that holds a value outside it (from the member table, with the value
 * and the range), else the member the message blames (its name first, or
 * "field 'name'"), else none. The error points at that field's offset in
 * the stream (fpos[k], recorded as the fields were loaded) or, naming none
 * loaded here, at the current position.
 */
static bool fail_at_member(Walk *w, const VmsDesc *d, const size_t *fpos, size_t nfpos,
                           VmsErrClass cls, const char *what)
{
    const char *why = w->why.text[0] ? w->why.text : "(no reason given)";
    const DevMember *bad;
    size_t i;
    if (w->c->members && !dev_members_in_range(w->c->members, w->object, &bad, &i)) {
        int k = loaded_field(d, fpos, nfpos, bad->name);
        char name[80];
        if (dev_member_count(bad) > 1)
            snprintf(name, sizeof(name), "%s[%zu]", bad->name, i);
        else
            snprintf(name, sizeof(name), "%s", bad->name);
        /* The member belongs to the section's object: its path starts there. */
        int depth = w->depth;
        w->depth = 0;
        path_push(w, name);
        walk_fail(w, cls, k >= 0 ? fpos[k] : w->in->pos, "%s: %s; field '%s' of '%s': value %" PRId64
                  " outside %" PRId64 "..%" PRId64, what, why, name, w->c->section ? w->c->section : d->name,
                  dev_member_get(bad, w->object, i), bad->lo, bad->hi);
        w->depth = depth;
        return false;
    }
    int k = blamed_field(d, fpos, nfpos, w->why.text);
    size_t pos = k >= 0 ? fpos[k] : w->in->pos;
    const char *member = k >= 0 ? d->fields[k].name : NULL;
    if (member)
        path_push(w, member);
    walk_fail(w, cls, pos, "%s: %s", what, why);
    if (member)
        path_pop(w);
    return false;
}

static bool field_present(const VmsField *f, void *opaque, int version)
{
    if (f->field_exists)
        return f->field_exists(opaque, version);
    return f->version_id <= version;
}

static bool is_array(const VmsField *f)
{
    return (f->flags & (VMS_ARRAY | VMS_VARRAY_ANY)) != 0;
}

/* Element count of f in opaque, checked against the capacity before use. */
static bool field_count(Walk *w, const VmsField *f, const void *opaque, uint32_t *n)
{
    if (!(f->flags & VMS_VARRAY_ANY)) {
        *n = (f->flags & VMS_ARRAY) ? f->num : 1;
        return true;
    }
    const uint8_t *p = (const uint8_t *)opaque + f->num_offset;
    int64_t cnt;
    if (f->flags & VMS_VARRAY_U8) {
        cnt = *p;
    } else if (f->flags & VMS_VARRAY_U16) {
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        cnt = v;
    } else if (f->flags & VMS_VARRAY_U32) {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        cnt = v;
    } else {
        int32_t v;
        memcpy(&v, p, sizeof(v));
        cnt = v;
    }
    if (cnt < 0)
        return walk_fail(w, VMS_ERR_RANGE, walk_pos(w), "negative element count %lld",
                         (long long)cnt);
    if (cnt > f->num)
        return walk_fail(w, VMS_ERR_RANGE, walk_pos(w),
                         "element count %lld over capacity %u", (long long)cnt, f->num);
    *n = (uint32_t)cnt;
    return true;
}

/* Element size: fixed, or a VBUFFER's byte count checked against its capacity. */
static bool field_size(Walk *w, const VmsField *f, const void *opaque, size_t *size)
{
    if (!(f->flags & VMS_VBUFFER)) {
        *size = f->size;
        return true;
    }
    uint32_t len;
    memcpy(&len, (const uint8_t *)opaque + f->size_offset, sizeof(len));
    if (len > f->num)
        return walk_fail(w, VMS_ERR_RANGE, walk_pos(w), "buffer size %u over capacity %u",
                         len, f->num);
    *size = len;
    return true;
}

/* The element at index i (following pointers); NULL when it is absent. */
static uint8_t *field_elem(const VmsField *f, uint8_t *base, uint32_t i, size_t size)
{
    if (!base)
        return NULL;
    uint8_t *e = base + (size_t)i * size;
    if (f->flags & VMS_ARRAY_OF_PTR) {
        void *p;
        memcpy(&p, e, sizeof(p));
        e = p;
    }
    return e;
}

static uint8_t *field_base(const VmsField *f, void *opaque)
{
    uint8_t *p = (uint8_t *)opaque + f->offset;
    if (f->flags & VMS_POINTER) {
        void *q;
        memcpy(&q, p, sizeof(q));
        p = q;
    }
    return p;
}

/* A NULL element with a non-zero size travels as the marker byte. */
static bool wants_marker(const VmsField *f, const void *elem, size_t size)
{
    return !elem && size && !(f->flags & VMS_VBUFFER);
}

static bool map_add(Walk *w, const VmsDesc *d, const VmsField *f, uint32_t index,
                    size_t start, size_t len)
{
    VmsMap *m = w->c->map;
    if (!vms_grow((void **)&m->spans, &m->cap, m->n, sizeof(*m->spans)))
        return fail_limit(w, start);
    char path[sizeof(((VmsError *)0)->field)];
    path_format(w, path, sizeof(path));
    char *dup = strdup(path);
    if (!dup)
        return fail_limit(w, start);
    m->spans[m->n++] = (VmsSpan){
        .offset = w->c->base_offset + start, .size = (uint32_t)len, .index = index,
        .desc = d, .field = f, .path = dup, .section = -1,
    };
    return true;
}

/* ---------------------------------------------------------------- fast paths */

/*
 * Most device state is plain integers: single registers and fixed arrays
 * (FIFOs, register banks) in the struct itself. When nothing watches the
 * walk (no leaf observer, no map, no vmdesc JSON), such a field moves in one
 * bounds check and one conversion loop, without the path stack, the codec
 * call and the per-element checks of the general path: as a copy of a
 * compiled plan (below), or, in the general path, a whole array at once
 * (fast_array_ok).
 *
 * A codec qualifies by the function it uses, for the field's own element
 * size: on save the EQUAL and le codecs too (they write exactly as the plain
 * ones do), on load only the plain ones (EQUAL, le and bool check or change
 * each value).
 */
static inline __attribute__((always_inline)) size_t put_width(const VmsField *f)
{
    bool (*put)(VmsOut *, const void *, size_t, const VmsField *, VmsMsg *) = f->info->put;
    switch (f->size) {
    case 1: return put == put_u8 ? 1 : 0;
    case 2: return put == put_u16 ? 2 : 0;
    case 4: return put == put_u32 ? 4 : 0;
    case 8: return put == put_u64 ? 8 : 0;
    default: return 0;
    }
}

static inline __attribute__((always_inline)) size_t get_width(const VmsField *f)
{
    bool (*get)(VmsIn *, void *, size_t, const VmsField *, VmsMsg *) = f->info->get;
    switch (f->size) {
    case 1: return get == get_u8 ? 1 : 0;
    case 2: return get == get_u16 ? 2 : 0;
    case 4: return get == get_u32 ? 4 : 0;
    case 8: return get == get_u64 ? 8 : 0;
    default: return 0;
    }
}

static bool walk_is_plain(const Walk *w) { return !w->c->observe && !w->c->map; }

/* The general path's shortcut for a whole array (also behind a pointer or
 * with a count member): n elements of the codec's width, converted in one go. */
static bool fast_array_ok(const Walk *w, const VmsField *f, const uint8_t *base, uint32_t n,
                          size_t size)
{
    if (n <= 1 || !base || !walk_is_plain(w) || (f->flags & (VMS_STRUCT | VMS_ARRAY_OF_PTR)))
        return false;
    size_t width = w->in ? get_width(f) : put_width(f);
    return width && width == size;
}

/*
 * n 32-bit values, the commonest width (register banks). GCC at -O2 does
 * not vectorise a loop of unknown count, so on a little-endian host four
 * values at a time are swapped in a 16-byte vector (the halves of each
 * value exchanged, then the bytes of each half: shifts and ors, which SSE2
 * has; a byte shuffle would need SSSE3), the rest one by one.
 */
typedef uint32_t SwapV32 __attribute__((vector_size(16)));
typedef uint16_t SwapV16 __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) void swap_be32(uint8_t *d, const uint8_t *s, uint32_t n)
{
    size_t i = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 4 <= n; i += 4) {
        SwapV32 v;
        SwapV16 h;
        memcpy(&v, s + 4 * i, sizeof(v));
        v = (v << 16) | (v >> 16);
        memcpy(&h, &v, sizeof(h));
        h = (SwapV16)((h << 8) | (h >> 8));
        memcpy(d + 4 * i, &h, sizeof(h));
    }
#endif
    for (; i < n; i++) {
        uint32_t v32;
        memcpy(&v32, s + 4 * i, 4);
        vms_put_be32(d + 4 * i, v32);
    }
}

/*
 * n elements of `width` bytes between host order (s) and the wire's big
 * endian (d), or back: the byte order of the host and big endian are
 * either the same or each other's reverse, so one permutation serves both
 * directions (load calls it with the stream as s). Inlined: most calls move
 * one value, and the switch then folds away.
 */
static inline __attribute__((always_inline)) void swap_be(uint8_t *d, const uint8_t *s, uint32_t n, size_t width)
{
    uint16_t v16;
    uint64_t v64;
    switch (width) {
    case 1:
        memcpy(d, s, n);
        break;
    case 2:
        for (size_t i = 0; i < n; i++) {
            memcpy(&v16, s + 2 * i, 2);
            vms_put_be16(d + 2 * i, v16);
        }
        break;
    case 4:
        swap_be32(d, s, n);
        break;
    default:
        for (size_t i = 0; i < n; i++) {
            memcpy(&v64, s + 8 * i, 8);
            vms_put_be64(d + 8 * i, v64);
        }
        break;
    }
}

/* ---------------------------------------------------------------- plans */

/*
 * A compiled plan of one description's fields, per (description, version,
 * direction), built the first time a plain walk (no leaf observer, no
 * event observer, no map, no vmdesc JSON) meets it, and cached for good:
 * descriptions are const, so the plan is a pure function of them.
 *
 * The plan is a flat array of ops in wire order:
 *   PLAN_SEG    starts a segment: the copies that follow (count of them)
 *               move `bytes` wire bytes, fields [k0, k1) of the description;
 *   PLAN_COPY   `count` values of `width` bytes at struct offset `offset`
 *               (adjacent plain fields of one width merge into one copy);
 *   PLAN_FIELD  field k0 takes the general path, whatever it is;
 *   PLAN_CHECK  field k0 is a VALIDATE entry: its predicate runs here, and
 *               only a refusal takes the general path's way of naming it
 *               (the field path is pushed only then);
 *   PLAN_ELEM   field k0 is one element (a struct, behind a pointer or not,
 *               or a leaf of another codec): the general path's element
 *               step (save_elem, load_elem) without its count and size;
 *   PLAN_PUSH   (save) the copies that follow, up to the matching
 *               PLAN_POP, are of the object the pointer at `offset` points
 *               to (a struct or timer behind a pointer); a NULL pointer,
 *               which the general path sends as the marker byte, hands the
 *               whole segment to the general path.
 * A field is planned as copies when it is plain integers of its codec's
 * width (put_width/get_width), one or a fixed array, in the struct itself,
 * present by version alone (no field_exists), or when it is a struct or fixed
 * struct array, in the struct itself, whose child description has no hooks
 * for the direction, no subsections and only such fields (flattened: the
 * child's copies repeat at the element stride). On save also a struct
 * behind a pointer with such a child (PLAN_PUSH, its copies, PLAN_POP) and
 * a timer, inline or behind a pointer (PLAN_TIMER_WIDTH: its deadline as
 * put_timer writes it). A field absent by version alone sends nothing and
 * is left out. Anything else is a PLAN_FIELD.
 *
 * A segment runs only when it will succeed: room for all its bytes in the
 * output, or all its bytes in the input and no subsection mark (0x05)
 * where the general path would look for one after a flattened struct
 * element (load_subsections peeks there even for a child that has none).
 * Otherwise its fields take the general path one by one, which writes the
 * same bytes or reports the failure as it always has. So a plan never
 * reports anything, and moves exactly what the general path would move.
 */
enum { PLAN_SEG = 1, PLAN_COPY, PLAN_FIELD, PLAN_CHECK, PLAN_ELEM, PLAN_PUSH, PLAN_POP };
enum { PLAN_MAX_OPS = 4096, PLAN_MAX_DEPTH = 8 };
#define PLAN_NOPOS UINT32_MAX

typedef struct PlanOp {
    uint8_t kind;
    uint8_t width;          /* COPY: 1, 2, 4 or 8, PLAN_BOOL_WIDTH or PLAN_TIMER_WIDTH;
                             * SEG: 1 when it holds PLAN_PUSH */
    uint32_t count;         /* COPY: values; SEG: copies that follow */
    size_t offset;          /* COPY: struct offset; SEG: wire bytes */
    uint32_t k0, k1;        /* SEG: fields [k0, k1); FIELD: k0 */
    uint32_t kf;            /* SEG: min(k1, FPOS_MAX), the fields whose positions are kept */
    uint64_t kmask;         /* SEG: those fields, as bits */
    uint32_t peek0, peek1;  /* SEG, load: its subsection peeks, plan->peek[peek0..peek1) */
} PlanOp;

struct Plan {
    PlanOp *ops;
    size_t nops, cap;
    uint32_t *peek;         /* load: wire offsets from the segment's start */
    size_t npeek, peek_cap;
    uint32_t *frel;         /* per field: wire offset in its segment, or PLAN_NOPOS */
    uint8_t fseg[FPOS_MAX]; /* per field: k0 of its segment */
    uint32_t nfields;       /* fields of the description */
    size_t seg;             /* while building: the open segment's op, or SIZE_MAX */
    bool load;
};

static PlanOp *plan_op(Plan *p)
{
    if (p->nops >= PLAN_MAX_OPS || !vms_grow((void **)&p->ops, &p->cap, p->nops, sizeof(*p->ops)))
        return NULL;
    PlanOp *op = &p->ops[p->nops++];
    memset(op, 0, sizeof(*op));
    return op;
}

/* Copies of bools: a byte each, 0 or 1 (as put_bool and get_bool). */
#define PLAN_BOOL_WIDTH 0x81
/* (save) Copies of VTimers: each deadline as eight bytes, -1 when not
 * armed (as put_timer). */
#define PLAN_TIMER_WIDTH 0x88

static bool plan_copy(Plan *p, size_t offset, uint32_t n, size_t width)
{
    PlanOp *seg = &p->ops[p->seg], *last = &p->ops[p->nops - 1];
    size_t bytes = width & 0xf;
    if (n == 0)
        return true;
    seg->offset += (size_t)n * bytes;
    if (last->kind == PLAN_COPY && last->width == width && width != PLAN_TIMER_WIDTH &&
        last->offset + (size_t)last->count * bytes == offset) {
        last->count += n;
        return true;
    }
    PlanOp *op = plan_op(p);
    if (!op)
        return false;
    *op = (PlanOp){ .kind = PLAN_COPY, .width = (uint8_t)width, .count = n, .offset = offset };
    p->ops[p->seg].count++;
    return true;
}

static bool plan_peek(Plan *p)
{
    if (!p->load)
        return true;
    if (!vms_grow((void **)&p->peek, &p->peek_cap, p->npeek, sizeof(*p->peek)))
        return false;
    p->peek[p->npeek++] = (uint32_t)p->ops[p->seg].offset;
    p->ops[p->seg].peek1 = (uint32_t)p->npeek;
    return true;
}

/* (save) The copies that follow are of the object behind the pointer at
 * struct offset `offset` (PLAN_PUSH), or again of the object before it
 * (PLAN_POP). */
static bool plan_frame(Plan *p, uint8_t kind, size_t offset)
{
    PlanOp *op = plan_op(p);
    if (!op)
        return false;
    *op = (PlanOp){ .kind = kind, .offset = offset };
    p->ops[p->seg].count++;
    p->ops[p->seg].width = 1;
    return true;
}

/* Whether child description d may be flattened into its parent's plan. */
static bool plan_child_ok(const Plan *p, const VmsDesc *d)
{
    if (d->subsections && d->subsections[0])
        return false;
    if (p->load)
        return !d->pre_load && !d->post_load && d->minimum_version_id <= d->version_id;
    return !d->pre_save && !d->post_save;
}

/*
 * Field f (present) of an object at struct offset base as copies, appended
 * to the open segment; false when it cannot be (then the caller undoes
 * what was appended and plans the field for the general path).
 */
static bool plan_field(Plan *p, const VmsField *f, size_t base, int depth);

/* The fields of child description c of an object at struct offset `at`. */
static bool plan_child(Plan *p, const VmsDesc *c, size_t at, int depth)
{
    for (const VmsField *g = c->fields; g && !(g->flags & VMS_END); g++) {
        if (g->flags & VMS_MUST_EXIST)
            return false;
        if (!g->field_exists && g->version_id > c->version_id)
            continue;
        if (!plan_field(p, g, at, depth + 1))
            return false;
    }
    return true;
}

static bool plan_field(Plan *p, const VmsField *f, size_t base, int depth)
{
    if (f->field_exists || f->validate)
        return false;
    uint32_t flags = f->flags;
    if (!p->load && f->info == &vms_info_timer && (flags == 0 || flags == VMS_POINTER)) {
        if (flags == 0)
            return plan_copy(p, base + f->offset, 1, PLAN_TIMER_WIDTH);
        return f->size && plan_frame(p, PLAN_PUSH, base + f->offset) &&
               plan_copy(p, 0, 1, PLAN_TIMER_WIDTH) && plan_frame(p, PLAN_POP, 0);
    }
    if (!(flags & ~(uint32_t)VMS_ARRAY)) {
        uint32_t n = (flags & VMS_ARRAY) ? f->num : 1;
        if (f->info == &vms_info_bool && f->size == sizeof(bool))
            return plan_copy(p, base + f->offset, n, PLAN_BOOL_WIDTH);
        size_t width = p->load ? get_width(f) : put_width(f);
        return width && plan_copy(p, base + f->offset, n, width);
    }
    if (flags == VMS_BUFFER && f->info == &vms_info_buffer)
        return plan_copy(p, base + f->offset, (uint32_t)f->size, 1);
    if (!p->load && flags == (VMS_STRUCT | VMS_POINTER) && f->size && depth < PLAN_MAX_DEPTH &&
        plan_child_ok(p, f->vmsd)) {
        return plan_frame(p, PLAN_PUSH, base + f->offset) && plan_child(p, f->vmsd, 0, depth) &&
               plan_frame(p, PLAN_POP, 0);
    }
    if ((flags & ~(uint32_t)VMS_ARRAY) != VMS_STRUCT || depth >= PLAN_MAX_DEPTH ||
        !plan_child_ok(p, f->vmsd))
        return false;
    const VmsDesc *c = f->vmsd;
    uint32_t n = (flags & VMS_ARRAY) ? f->num : 1;
    for (uint32_t i = 0; i < n; i++) {
        if (!plan_child(p, c, base + f->offset + (size_t)i * f->size, depth) || !plan_peek(p))
            return false;
    }
    return true;
}

static bool plan_open_segment(Plan *p, uint32_t k)
{
    if (p->seg != SIZE_MAX)
        return true;
    PlanOp *op = plan_op(p);
    if (!op)
        return false;
    *op = (PlanOp){ .kind = PLAN_SEG, .k0 = k, .k1 = k, .peek0 = (uint32_t)p->npeek,
                    .peek1 = (uint32_t)p->npeek };
    p->seg = p->nops - 1;
    return true;
}

static const size_t *fpos_resolve(FieldPos *fp)
{
    for (uint64_t m = fp->lazy; m; m &= m - 1) {
        int k = __builtin_ctzll(m);
        uint32_t rel = fp->plan->frel[k];
        fp->at[k] = rel == PLAN_NOPOS ? SIZE_MAX : fp->seg[fp->plan->fseg[k]] + rel;
    }
    fp->lazy = 0;
    return fp->at;
}

/* Whether present field f is one element of fixed size in the general path
 * (count 1, no count or size member, nothing to allocate, no predicate),
 * so that it may skip straight to the element step. */
static bool plan_one_elem(const VmsField *f, bool absent)
{
    return !absent && !f->field_exists && !f->validate &&
           !(f->flags & ~(uint32_t)(VMS_STRUCT | VMS_POINTER)) && (f->info || (f->flags & VMS_STRUCT));
}

/* The open segment now covers field k. */
static void plan_extend(Plan *p, uint32_t k)
{
    PlanOp *seg = &p->ops[p->seg];
    seg->k1 = k + 1;
    seg->kf = k + 1 < FPOS_MAX ? k + 1 : FPOS_MAX;
    if (k < FPOS_MAX) {
        seg->kmask |= 1ull << k;
        p->fseg[k] = (uint8_t)seg->k0;
    }
}

static void plan_free(Plan *p)
{
    if (!p)
        return;
    free(p->ops);
    free(p->peek);
    free(p->frel);
    free(p);
}

static Plan *plan_build(const VmsDesc *d, int version, bool load)
{
    Plan *p = calloc(1, sizeof(*p));
    size_t nf = 0;
    for (const VmsField *f = d->fields; f && !(f->flags & VMS_END); f++)
        nf++;
    if (!p || !(p->frel = malloc((nf ? nf : 1) * sizeof(*p->frel)))) {
        free(p);
        return NULL;
    }
    p->load = load;
    p->nfields = (uint32_t)nf;
    p->seg = SIZE_MAX;
    uint32_t k = 0;
    for (const VmsField *f = d->fields; f && !(f->flags & VMS_END); f++, k++) {
        p->frel[k] = PLAN_NOPOS;
        bool absent = !(f->flags & VMS_MUST_EXIST) && !f->field_exists && f->version_id > version;
        if (!(f->flags & VMS_MUST_EXIST) && !plan_open_segment(p, k))
            goto fail;
        if (!absent && !(f->flags & VMS_MUST_EXIST)) {
            /* Undo state: a merge may have grown the last copy. */
            PlanOp *seg = &p->ops[p->seg];
            size_t nops = p->nops, npeek = p->npeek, bytes = seg->offset;
            uint32_t count = seg->count, last = p->ops[p->nops - 1].count;
            uint8_t frames = seg->width;
            if (plan_field(p, f, 0, 0)) {
                p->frel[k] = (uint32_t)bytes;
                plan_extend(p, k);
                continue;
            }
            p->nops = nops;
            p->npeek = npeek;
            seg = &p->ops[p->seg];
            seg->offset = bytes;
            seg->count = count;
            seg->width = frames;
            seg->peek1 = (uint32_t)npeek;
            p->ops[p->nops - 1].count = last;
        }
        if (absent) {
            plan_extend(p, k);
            continue;
        }
        /* The general path; an empty segment left open before it is dropped. */
        if (p->seg != SIZE_MAX && p->seg == p->nops - 1 && p->ops[p->seg].k1 == p->ops[p->seg].k0)
            p->nops--;
        p->seg = SIZE_MAX;
        PlanOp *op = plan_op(p);
        if (!op)
            goto fail;
        uint8_t kind = (f->flags & VMS_MUST_EXIST) ? PLAN_CHECK
                       : plan_one_elem(f, absent) ? PLAN_ELEM : PLAN_FIELD;
        *op = (PlanOp){ .kind = kind, .k0 = k, .k1 = k + 1 };
    }
    return p;
fail:
    plan_free(p);
    return NULL;
}

/* One copy op on save: its values from the object to the wire at dst;
 * returns the wire position after them. */
static inline __attribute__((always_inline)) uint8_t *plan_put(uint8_t *dst, const uint8_t *src, const PlanOp *op)
{
    if (op->width == PLAN_TIMER_WIDTH) {
        const VTimer *t = (const VTimer *)src;
        vms_put_be64(dst, (uint64_t)(t->deadline < 0 ? -1 : t->deadline));
        return dst + 8;
    }
    if (op->width == PLAN_BOOL_WIDTH) {
        for (uint32_t i = 0; i < op->count; i++)
            dst[i] = ((const bool *)src)[i] ? 1 : 0;
        return dst + op->count;
    }
    swap_be(dst, src, op->count, op->width);
    return dst + (size_t)op->count * op->width;
}

/* One copy op on load: its values from the wire at src into the object. */
static inline const uint8_t *plan_get_values(uint8_t *dst, const uint8_t *src, const PlanOp *op)
{
    if (op->width == PLAN_BOOL_WIDTH) {
        for (uint32_t i = 0; i < op->count; i++)
            ((bool *)dst)[i] = src[i] != 0;
        return src + op->count;
    }
    swap_be(dst, src, op->count, op->width);
    return src + (size_t)op->count * op->width;
}

/*
 * The cache: an open-addressed table keyed by (description, version,
 * direction), owned by whoever walks (a registry: VmsRegistry.plans), so a
 * plan lives no longer than the descriptions it was built from (a machine
 * builds its "sram" description at run time, and a later machine may build
 * another at the same address). Its content is a function of the
 * descriptions only, so which walk built a plan first makes no difference.
 */
struct VmsPlanSlot {
    const VmsDesc *d;
    int version;
    bool load;
    Plan *plan;
};
typedef struct VmsPlanSlot PlanSlot;

void vms_plans_free(VmsPlans *ps)
{
    for (size_t i = 0; i < ps->cap; i++)
        plan_free(ps->slot[i].plan);
    free(ps->slot);
    ps->slot = NULL;
    ps->cap = ps->n = 0;
}

static size_t plan_hash(const VmsDesc *d, int version, bool load, size_t cap)
{
    uint64_t h = ((uint64_t)(uintptr_t)d ^ ((uint64_t)(uint32_t)version << 1 | load)) *
                 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 40) & (cap - 1);
}

static bool plan_insert(PlanSlot *tab, size_t cap, PlanSlot s)
{
    for (size_t i = plan_hash(s.d, s.version, s.load, cap);; i = (i + 1) & (cap - 1)) {
        if (!tab[i].d) {
            tab[i] = s;
            return true;
        }
    }
}

static const Plan *plan_add(VmsPlans *plans, const VmsDesc *d, int version, bool load);

/* The plan of (d, version, direction), built on first use; NULL if it
 * cannot be (out of memory: the walk goes field by field). The table is
 * kept at most a quarter full, so a lookup is mostly one probe. */
static inline __attribute__((always_inline)) const Plan *plan_get(VmsPlans *plans, const VmsDesc *d,
                                                                  int version, bool load)
{
    if (plans->cap) {
        for (size_t i = plan_hash(d, version, load, plans->cap);; i = (i + 1) & (plans->cap - 1)) {
            const PlanSlot *s = &plans->slot[i];
            if (s->d == d && s->version == version && s->load == load)
                return s->plan;
            if (!s->d)
                break;
        }
    }
    return plan_add(plans, d, version, load);
}

/* The plan of (d, version, direction) through a memo (NULL: none) that
 * remembers the last one (a section's top-level description). */
static inline const Plan *plan_via(VmsPlans *plans, VmsPlanRef *ref, const VmsDesc *d, int version,
                                   bool load)
{
    if (ref && ref->plan && ref->d == d && ref->version == version)
        return ref->plan;
    const Plan *p = plan_get(plans, d, version, load);
    if (ref)
        *ref = (VmsPlanRef){ d, version, p };
    return p;
}

static const Plan *plan_add(VmsPlans *plans, const VmsDesc *d, int version, bool load)
{
    if (4 * (plans->n + 1) > plans->cap) {
        size_t cap = plans->cap ? 2 * plans->cap : 64;
        PlanSlot *tab = calloc(cap, sizeof(*tab));
        if (!tab)
            return NULL;
        for (size_t i = 0; i < plans->cap; i++)
            if (plans->slot[i].d)
                plan_insert(tab, cap, plans->slot[i]);
        free(plans->slot);
        plans->slot = tab;
        plans->cap = cap;
    }
    Plan *p = plan_build(d, version, load);
    if (!p)
        return NULL;
    plan_insert(plans->slot, plans->cap, (PlanSlot){ d, version, load, p });
    plans->n++;
    return p;
}

/* ---------------------------------------------------------------- JSON */

/* Whether an array of f may be described once with "array_len" (QEMU's rule). */
static bool can_compress(const VmsField *f)
{
    if (f->field_exists)
        return false;
    if (f->flags & VMS_STRUCT) {
        for (const VmsField *c = f->vmsd->fields; c && !(c->flags & VMS_END); c++)
            if (!can_compress(c))
                return false;
        if (f->vmsd->subsections && f->vmsd->subsections[0])
            return false;
    }
    return true;
}

/* Field name as the vmdesc shows it: repeated names get "[k]" by occurrence. */
static void json_field_name(const VmsDesc *d, const VmsField *f, char *buf, size_t n)
{
    int total = 0, mine = 0;
    for (const VmsField *g = d->fields; !(g->flags & VMS_END); g++) {
        if (strcmp(g->name, f->name) == 0) {
            if (g == f)
                mine = total;
            total++;
        }
    }
    if (total > 1)
        snprintf(buf, n, "%s[%d]", f->name, mine);
    else
        snprintf(buf, n, "%s", f->name);
}

/* ---------------------------------------------------------------- save */

static bool save_desc(Walk *w, const VmsDesc *d, void *opaque, json_t *jd, int version);

static bool save_elem(Walk *w, const VmsDesc *d, const VmsField *f, uint8_t *elem, size_t size,
                      uint32_t i, json_t *je)
{
    VmsOut *out = w->out;
    size_t start = out->len;
    bool leaf = true;
    if (wants_marker(f, elem, size)) {
        if (je)
            json_object_set_new(je, "type", json_string("nullptr"));
        if (!vms_out_u8(out, NULL_MARKER))
            return fail_limit(w, start);
    } else if (!elem && size) {
        return walk_fail(w, VMS_ERR_RANGE, start, "NULL buffer with %zu bytes", size);
    } else if (f->flags & VMS_STRUCT) {
        json_t *js = NULL;
        leaf = false;
        if (je) {
            json_object_set_new(je, "type", json_string("struct"));
            js = json_object();
            json_object_set_new(je, "struct", js);
        }
        if (!save_desc(w, f->vmsd, elem, js, f->vmsd->version_id))
            return false;
    } else {
        if (je)
            json_object_set_new(je, "type", json_string(f->info->name));
        w->why.text[0] = 0;
        if (!f->info->put(out, elem, size, f, &w->why)) {
            if (out->failed)
                return fail_limit(w, start);
            return walk_fail(w, f->info->fail_class ? f->info->fail_class : VMS_ERR_FORMAT,
                             start, "%s", w->why.text);
        }
        if (w->c->observe)
            w->c->observe(w->c->obs_opaque, d, f, i, elem, size, false);
    }
    if (leaf && w->c->map && !map_add(w, d, f, i, start, out->len - start))
        return false;
    if (je)
        json_object_set_new(je, "size", json_integer((json_int_t)(out->len - start)));
    return true;
}

static bool save_field(Walk *w, const VmsDesc *d, const VmsField *f, void *opaque,
                       json_t *jfields)
{
    uint32_t n;
    size_t size;
    if (!field_count(w, f, opaque, &n) || !field_size(w, f, opaque, &size))
        return false;
    uint8_t *base = field_base(f, opaque);
    bool arr = is_array(f);

    bool compress = false;
    char jname[200];
    if (jfields) {
        compress = can_compress(f);
        if (compress && (f->flags & VMS_ARRAY_OF_PTR) && n > 1) {
            /* A mix of NULL and real elements cannot share one description. */
            bool first_null = !field_elem(f, base, 0, size);
            for (uint32_t i = 1; i < n && compress; i++)
                compress = !field_elem(f, base, i, size) == first_null;
        }
        json_field_name(d, f, jname, sizeof(jname));
    } else if (fast_array_ok(w, f, base, n, size)) {
        /* Only with room: otherwise the elements one by one grow the
         * output, or fail at the element that does not fit (named with
         * its index), as the general path does. */
        uint8_t *dst = vms_out_room(w->out, (size_t)n * size);
        if (dst) {
            swap_be(dst, base, n, size);
            vms_out_advance(w->out, (size_t)n * size);
            return true;
        }
    }

    for (uint32_t i = 0; i < n; i++) {
        if (arr)
            path_index(w, i);
        json_t *je = NULL;
        if (jfields && (i == 0 || !compress)) {
            je = json_object();
            json_object_set_new(je, "name", json_string(jname));
            if (n > 1)
                json_object_set_new(je, compress ? "array_len" : "index",
                                    json_integer(compress ? n : i));
            json_array_append_new(jfields, je);
        }
        if (!save_elem(w, d, f, field_elem(f, base, i, size), size, i, je))
            return false;
    }
    return true;
}

static bool save_subsections(Walk *w, const VmsDesc *d, void *opaque, json_t *jd)
{
    if (!d->subsections)
        return true;
    json_t *jsubs = NULL;
    for (const VmsDesc *const *sp = d->subsections; *sp; sp++) {
        const VmsDesc *sub = *sp;
        if (sub->needed && !sub->needed(opaque)) {
            walk_event(w, VMS_OBS_SUB_NOT_NEEDED, sub, sub->version_id);
            continue;
        }
        walk_event(w, VMS_OBS_SUB_NEEDED, sub, sub->version_id);
        size_t start = w->out->len;
        size_t nl = strlen(sub->name);
        path_push(w, sub->name);
        if (nl > 255) {
            walk_fail(w, VMS_ERR_FORMAT, start, "subsection name longer than 255 bytes");
            path_pop(w);
            return false;
        }
        /* The header in one write when there is room (the same bytes). */
        uint8_t *dst = vms_out_room(w->out, nl + 6);
        bool ok = true;
        if (dst) {
            dst[0] = SUBSECTION_MARK;
            dst[1] = (uint8_t)nl;
            memcpy(dst + 2, sub->name, nl);
            vms_put_be32(dst + 2 + nl, (uint32_t)sub->version_id);
            vms_out_advance(w->out, nl + 6);
        } else {
            ok = vms_out_u8(w->out, SUBSECTION_MARK) && vms_out_u8(w->out, (uint8_t)nl) &&
                 vms_out_bytes(w->out, sub->name, nl) &&
                 vms_out_be32(w->out, (uint32_t)sub->version_id);
        }
        if (!ok) {
            fail_limit(w, start);
            path_pop(w);
            return false;
        }
        json_t *js = NULL;
        if (jd) {
            if (!jsubs) {
                jsubs = json_array();
                json_object_set_new(jd, "subsections", jsubs);
            }
            js = json_object();
            json_array_append_new(jsubs, js);
        }
        ok = save_desc(w, sub, opaque, js, sub->version_id);
        path_pop(w);
        if (!ok)
            return false;
    }
    return true;
}

/* A save hook between its two observer events; false if it refused (its
 * reason in w->why). */
static bool run_save_hook(Walk *w, const VmsDesc *d, bool (*hook)(void *, VmsMsg *), VmsObsEvent begin,
                          void *opaque, int version)
{
    w->why.text[0] = 0;
    if (!hook)
        return true;
    walk_event(w, begin, d, version);
    bool ok = hook(opaque, &w->why);
    walk_event(w, (VmsObsEvent)(begin + 1), d, version);
    return ok;
}

/* VALIDATE entry f of d refused the save (its reason in w->why): named by
 * its own path. */
static bool save_refused(Walk *w, const VmsDesc *d, const VmsField *f)
{
    path_push(w, f->name);
    walk_fail(w, VMS_ERR_VALIDATE, w->out->len, "validation failed in '%s' on save%s%s", d->name,
              w->why.text[0] ? ": " : "", w->why.text);
    path_pop(w);
    return false;
}

/* Field f of d by the general path. */
static bool save_one(Walk *w, const VmsDesc *d, const VmsField *f, void *opaque, int version,
                     json_t *jfields)
{
    if (f->flags & VMS_MUST_EXIST)
        return validate_ok(w, f, opaque, version) || save_refused(w, d, f);
    bool ok = true;
    path_push(w, f->name);
    if (field_present(f, opaque, version))
        ok = save_field(w, d, f, opaque, jfields);
    path_pop(w);
    return ok;
}

/* A PLAN_ELEM field: save_field's step for its one element, as that
 * would take it. */
static bool save_one_elem(Walk *w, const VmsDesc *d, const VmsField *f, void *opaque)
{
    path_push(w, f->name);
    bool ok = save_elem(w, d, f, field_base(f, opaque), f->size, 0, NULL);
    path_pop(w);
    return ok;
}

/* The fields of d by its plan (see "plans"). */
static bool save_plan(Walk *w, const VmsDesc *d, const Plan *p, void *opaque, int version)
{
    const uint8_t *obj = opaque;
    for (const PlanOp *op = p->ops, *end = p->ops + p->nops; op < end;) {
        if (op->kind == PLAN_CHECK) {
            const VmsField *f = &d->fields[op->k0];
            if (!validate_ok(w, f, opaque, version))
                return save_refused(w, d, f);
            op++;
            continue;
        }
        if (op->kind != PLAN_SEG) {
            const VmsField *f = &d->fields[op->k0];
            if (!(op->kind == PLAN_ELEM ? save_one_elem(w, d, f, opaque)
                                        : save_one(w, d, f, opaque, version, NULL)))
                return false;
            op++;
            continue;
        }
        uint8_t *dst = vms_out_room(w->out, op->offset);
        const PlanOp *copy = op + 1, *next = copy + op->count;
        if (dst && op->width) {
            /* Through pointers: a NULL one leaves the segment to the
             * general path (it sends the marker byte instead); what was
             * written lies beyond the output's length, so it is as if
             * nothing had been. */
            const uint8_t *base = obj, *frames[PLAN_MAX_DEPTH + 1];
            int depth = 0;
            for (; copy < next && base; copy++) {
                if (copy->kind == PLAN_PUSH) {
                    frames[depth++] = base;
                    memcpy(&base, base + copy->offset, sizeof(base));
                } else if (copy->kind == PLAN_POP) {
                    base = frames[--depth];
                } else {
                    dst = plan_put(dst, base + copy->offset, copy);
                }
            }
            if (copy < next)
                dst = NULL;
        } else if (dst) {
            for (; copy < next; copy++)
                dst = plan_put(dst, obj + copy->offset, copy);
        }
        if (dst) {
            vms_out_advance(w->out, op->offset);
        } else {
            /* No room without growing: the general path grows or fails. */
            for (uint32_t k = op->k0; k < op->k1; k++)
                if (!save_one(w, d, &d->fields[k], opaque, version, NULL))
                    return false;
        }
        op = next;
    }
    return true;
}

static bool save_desc(Walk *w, const VmsDesc *d, void *opaque, json_t *jd, int version)
{
    VmsPlanRef *ref = w->ref;
    w->ref = NULL;      /* nested descriptions look theirs up */
    walk_event(w, VMS_OBS_SAVE_DESC, d, version);
    if (!run_save_hook(w, d, d->pre_save, VMS_OBS_PRE_SAVE_BEGIN, opaque, version))
        return walk_fail(w, VMS_ERR_HOOK, w->out->len, "pre_save of '%s' failed: %s", d->name,
                         w->why.text);
    json_t *jfields = NULL;
    if (jd) {
        json_object_set_new(jd, "vmsd_name", json_string(d->name));
        json_object_set_new(jd, "version", json_integer(version));
        jfields = json_array();
        json_object_set_new(jd, "fields", jfields);
    }
    bool ok = true;
    bool fast = !jfields && walk_is_plain(w);
    const Plan *plan = fast && w->c->plans && !w->c->observe_event ? plan_via(w->c->plans, ref, d, version, false) : NULL;
    if (plan) {
        ok = save_plan(w, d, plan, opaque, version);
    } else {
        for (const VmsField *f = d->fields; ok && f && !(f->flags & VMS_END); f++)
            ok = save_one(w, d, f, opaque, version, jfields);
    }
    if (ok)
        ok = save_subsections(w, d, opaque, jd);
    /* As in QEMU, post_save runs after a failure too (it undoes pre_save). */
    if (!run_save_hook(w, d, d->post_save, VMS_OBS_POST_SAVE_BEGIN, opaque, version) && ok)
        ok = walk_fail(w, VMS_ERR_HOOK, w->out->len, "post_save of '%s' failed: %s", d->name,
                       w->why.text);
    return ok;
}

bool vms_save_state(VmsCtx *c, VmsOut *out, const VmsDesc *d, void *opaque)
{
    Walk w;
    w.c = c;
    w.out = out;
    w.in = NULL;
    w.depth = 0;
    w.ref = c->plan_ref;
    if (c->err)
        vms_error_clear(c->err);
    if (out->failed)
        return fail_limit(&w, out->len);
    return save_desc(&w, d, opaque, c->vmdesc, c->version ? c->version : d->version_id);
}

/* ---------------------------------------------------------------- load */

static bool load_desc(Walk *w, const VmsDesc *d, void *opaque, int version, size_t item_pos);

static bool load_elem(Walk *w, const VmsDesc *d, const VmsField *f, uint8_t *elem, size_t size,
                      uint32_t i)
{
    VmsIn *in = w->in;
    size_t start = in->pos;
    if (wants_marker(f, elem, size)) {
        /* The destination has nothing here, so the source must have had nothing too. */
        w->why.text[0] = 0;
        if (vms_info_nullptr.get(in, NULL, 1, f, &w->why))
            return true;
        if (in->failed)
            return walk_fail(w, VMS_ERR_TRUNCATED, start, "stream ends inside a NULL marker");
        return walk_fail(w, VMS_ERR_FORMAT, start, "%s", w->why.text);
    }
    if (!elem && size)
        return walk_fail(w, VMS_ERR_RANGE, start, "NULL buffer for %zu bytes", size);
    if (f->flags & VMS_STRUCT)
        return load_desc(w, f->vmsd, elem, f->vmsd->version_id, start);
    w->why.text[0] = 0;
    if (!f->info->get(in, elem, size, f, &w->why) || in->failed) {
        if (in->failed)
            return walk_fail(w, VMS_ERR_TRUNCATED, start,
                             "stream ends inside a %zu-byte '%s' (%zu bytes left)", size,
                             f->info->name, in->len - start);
        return walk_fail(w, f->info->fail_class ? f->info->fail_class : VMS_ERR_FORMAT, start,
                         "%s", w->why.text);
    }
    if (w->c->observe)
        w->c->observe(w->c->obs_opaque, d, f, i, elem, size, true);
    return true;
}

/* VMS_ALLOC: size the pointee for `bytes` (already bounded by the capacity). */
static bool load_alloc(Walk *w, const VmsField *f, void *opaque, size_t bytes)
{
    void **pp = (void **)((uint8_t *)opaque + f->offset);
    if (bytes == 0) {
        free(*pp);
        *pp = NULL;
        return true;
    }
    void *nb = realloc(*pp, bytes);
    if (!nb)
        return walk_fail(w, VMS_ERR_LIMIT, w->in->pos, "cannot allocate %zu bytes", bytes);
    *pp = nb;
    return true;
}

static bool load_field(Walk *w, const VmsDesc *d, const VmsField *f, void *opaque)
{
    uint32_t n;
    size_t size;
    if (!field_count(w, f, opaque, &n) || !field_size(w, f, opaque, &size))
        return false;
    if ((f->flags & VMS_POINTER) && (f->flags & VMS_ALLOC) &&
        !load_alloc(w, f, opaque, (size_t)n * size))
        return false;
    uint8_t *base = field_base(f, opaque);
    if (fast_array_ok(w, f, base, n, size) && vms_in_left(w->in) >= (size_t)n * size) {
        swap_be(base, w->in->buf + w->in->pos, n, size);
        w->in->pos += (size_t)n * size;
        return true;
    }
    bool arr = is_array(f);
    for (uint32_t i = 0; i < n; i++) {
        if (arr)
            path_index(w, i);
        if (!load_elem(w, d, f, field_elem(f, base, i, size), size, i))
            return false;
    }
    return true;
}

static const VmsDesc *find_subsection(const VmsDesc *d, const uint8_t *name, size_t len,
                                      int *idx)
{
    int k = 0;
    for (const VmsDesc *const *sp = d->subsections; sp && *sp; sp++, k++) {
        if (strlen((*sp)->name) == len && memcmp((*sp)->name, name, len) == 0) {
            *idx = k;
            return *sp;
        }
    }
    return NULL;
}

static bool load_subsections(Walk *w, const VmsDesc *d, void *opaque)
{
    VmsIn *in = w->in;
    size_t plen = 0;
    uint64_t seen = 0;
    for (;;) {
        uint8_t len;
        /* QEMU's rule: a 0x05 followed by a counted name that starts with
         * the parent's name is ours; anything else belongs to whoever reads
         * next. (The peek of the mark, inline: this runs after every struct.) */
        if (in->failed || in->pos >= in->len || in->buf[in->pos] != SUBSECTION_MARK)
            return true;
        if (!plen)
            plen = strlen(d->name);     /* only where a subsection may start */
        /* A mark whose header the stream cuts short (the length byte, or a
         * name that is ours as far as it goes) is a truncated stream, not
         * someone else's bytes. */
        size_t left = vms_in_left(in);
        if (!vms_in_peek(in, 1, &len) ||
            (len >= plen + 1 && left < 2u + len &&
             !memcmp(in->buf + in->pos + 2, d->name, left - 2 < plen ? left - 2 : plen)))
            return walk_fail(w, VMS_ERR_TRUNCATED, in->pos,
                             "stream ends inside a subsection header of '%s' (%zu bytes left)", d->name, left);
        if (len < plen + 1 || left < 2u + len)
            return true;
        const uint8_t *name = in->buf + in->pos + 2;
        if (memcmp(name, d->name, plen) != 0)
            return true;
        size_t start = in->pos;
        int idx = -1;
        const VmsDesc *sub = find_subsection(d, name, len, &idx);
        if (!sub) {
            char nm[256];
            memcpy(nm, name, len);
            nm[len] = 0;
            path_push(w, nm);
            walk_fail(w, VMS_ERR_UNKNOWN, start, "subsection '%s' does not exist in '%s'", nm,
                      d->name);
            path_pop(w);
            return false;
        }
        path_push(w, sub->name);
        bool ok;
        if (idx >= MAX_SUBSECTIONS) {
            ok = walk_fail(w, VMS_ERR_LIMIT, start, "more than %d subsections in '%s'",
                           MAX_SUBSECTIONS, d->name);
        } else if (seen & (1ull << idx)) {
            ok = walk_fail(w, VMS_ERR_DUPLICATE, start, "subsection '%s' appears twice",
                           sub->name);
        } else {
            seen |= 1ull << idx;
            uint32_t ver;
            vms_in_skip(in, 2u + len);
            size_t vpos = in->pos;
            if (!vms_in_be32(in, &ver))
                ok = walk_fail(w, VMS_ERR_TRUNCATED, vpos,
                               "stream ends inside the version of subsection '%s'", sub->name);
            else if (ver > (uint32_t)sub->version_id)
                ok = walk_fail(w, VMS_ERR_VERSION, vpos,
                               "incoming version %u of '%s' is too new (max %d)", ver,
                               sub->name, sub->version_id);
            else {
                walk_event(w, VMS_OBS_SUB_LOADED, sub, (int)ver);
                ok = load_desc(w, sub, opaque, (int)ver, start);
            }
        }
        path_pop(w);
        if (!ok)
            return false;
    }
}


/* A load hook, reported to the observer before (begin) and after (begin + 1). */
/* Run a load hook between its two observer events; false if it refused
 * (its reason in w->why). The caller names the failure. */
static bool run_load_hook(Walk *w, const VmsDesc *d, bool (*hook)(void *, int, VmsMsg *),
                          VmsObsEvent begin, void *opaque, int version)
{
    if (!hook)
        return true;
    w->why.text[0] = 0;
    walk_event(w, begin, d, version);
    bool ok = hook(opaque, version, &w->why);
    walk_event(w, (VmsObsEvent)(begin + 1), d, version);
    return ok;
}
/* VALIDATE entry f (field k) of d refused the load (its reason in
 * w->why): named by the member the predicate blames, else by itself. */
static bool load_refused(Walk *w, const VmsDesc *d, const VmsField *f, size_t k, FieldPos *fp)
{
    char what[160];
    const size_t *fpos = fpos_resolve(fp);
    bool blamed = blamed_field(d, fpos, k, w->why.text) >= 0;
    if (!blamed)
        path_push(w, f->name);
    snprintf(what, sizeof(what), "validation '%s' failed in '%s' on load", f->name, d->name);
    fail_at_member(w, d, fpos, k, VMS_ERR_VALIDATE, what);
    if (!blamed)
        path_pop(w);
    return false;
}

/* Field k of d by the general path, its stream position (or SIZE_MAX:
 * nothing loaded) recorded in fpos. */
static bool load_one(Walk *w, const VmsDesc *d, const VmsField *f, size_t k, void *opaque,
                     int version, FieldPos *fp)
{
    bool ok = true;
    size_t *fpos = fp->at;
    if (k < FPOS_MAX)
        fpos[k] = SIZE_MAX;
    if (f->flags & VMS_MUST_EXIST)
        return validate_ok(w, f, opaque, version) || load_refused(w, d, f, k, fp);
    path_push(w, f->name);
    if (field_present(f, opaque, version)) {
        if (k < FPOS_MAX)
            fpos[k] = w->in->pos;
        ok = load_field(w, d, f, opaque);
    }
    path_pop(w);
    return ok;
}

/* Whether the general path would find a subsection mark at one of a
 * segment's peeks (after a flattened struct element), the segment starting
 * at stream position at. */
static bool plan_marks(const VmsIn *in, const Plan *p, const PlanOp *seg, size_t at)
{
    for (uint32_t i = seg->peek0; i < seg->peek1; i++) {
        size_t q = at + p->peek[i];
        if (q < in->len && in->buf[q] == SUBSECTION_MARK)
            return true;
    }
    return false;
}

/* A PLAN_ELEM field: load_field's step for its one element. */
static bool load_one_elem(Walk *w, const VmsDesc *d, const VmsField *f, void *opaque)
{
    path_push(w, f->name);
    bool ok = load_elem(w, d, f, field_base(f, opaque), f->size, 0);
    path_pop(w);
    return ok;
}

/* The fields of d by its plan (see "plans"), their positions in fpos. */
static bool load_plan(Walk *w, const VmsDesc *d, const Plan *p, void *opaque, int version,
                      FieldPos *fp)
{
    size_t *fpos = fp->at;
    fp->plan = p;
    VmsIn *in = w->in;
    uint8_t *obj = opaque;
    for (const PlanOp *op = p->ops, *end = p->ops + p->nops; op < end;) {
        if (op->kind == PLAN_CHECK) {
            const VmsField *f = &d->fields[op->k0];
            if (op->k0 < FPOS_MAX)
                fpos[op->k0] = SIZE_MAX;
            if (!validate_ok(w, f, opaque, version))
                return load_refused(w, d, f, op->k0, fp);
            op++;
            continue;
        }
        if (op->kind != PLAN_SEG) {
            const VmsField *f = &d->fields[op->k0];
            if (op->kind == PLAN_ELEM && op->k0 < FPOS_MAX)
                fpos[op->k0] = in->pos;
            if (!(op->kind == PLAN_ELEM ? load_one_elem(w, d, f, opaque)
                                        : load_one(w, d, f, op->k0, opaque, version, fp)))
                return false;
            op++;
            continue;
        }
        const PlanOp *copy = op + 1, *next = copy + op->count;
        size_t at = in->pos;
        if (!in->failed && vms_in_left(in) >= op->offset && !plan_marks(in, p, op, at)) {
            const uint8_t *src = in->buf + at;
            for (; copy < next; copy++)
                src = plan_get_values(obj + copy->offset, src, copy);
            in->pos += op->offset;
            if (op->k0 < FPOS_MAX)
                fp->seg[op->k0] = at;
            fp->lazy |= op->kmask;
        } else {
            for (uint32_t k = op->k0; k < op->k1; k++)
                if (!load_one(w, d, &d->fields[k], k, opaque, version, fp))
                    return false;
        }
        op = next;
    }
    return true;
}

static bool load_desc(Walk *w, const VmsDesc *d, void *opaque, int version, size_t item_pos)
{
    if (version > d->version_id)
        return walk_fail(w, VMS_ERR_VERSION, item_pos,
                         "incoming version %d of '%s' is too new (max %d)", version, d->name,
                         d->version_id);
    if (version < d->minimum_version_id)
        return walk_fail(w, VMS_ERR_VERSION, item_pos,
                         "incoming version %d of '%s' is too old (min %d)", version, d->name,
                         d->minimum_version_id);
    VmsPlanRef *ref = w->ref;
    w->ref = NULL;      /* nested descriptions look theirs up */
    walk_event(w, VMS_OBS_LOAD_DESC, d, version);
    if (!run_load_hook(w, d, d->pre_load, VMS_OBS_PRE_LOAD_BEGIN, opaque, version))
        return walk_fail(w, VMS_ERR_HOOK, w->in->pos, "pre_load of '%s' failed: %s", d->name,
                         w->why.text);
    FieldPos fp;
    fp.lazy = 0;
    size_t k = 0;
    const Plan *plan = !w->c->observe && w->c->plans && !w->c->observe_event
                           ? plan_via(w->c->plans, ref, d, version, true)
                           : NULL;
    if (plan) {
        if (!load_plan(w, d, plan, opaque, version, &fp))
            return false;
        k = plan->nfields;
    } else {
        for (const VmsField *f = d->fields; f && !(f->flags & VMS_END); f++, k++)
            if (!load_one(w, d, f, k, opaque, version, &fp))
                return false;
    }
    char what[160];
    if (!load_subsections(w, d, opaque))
        return false;
    if (!run_load_hook(w, d, d->post_load, VMS_OBS_POST_LOAD_BEGIN, opaque, version)) {
        snprintf(what, sizeof(what), "post_load of '%s' failed", d->name);
        return fail_at_member(w, d, fpos_resolve(&fp), k, VMS_ERR_HOOK, what);
    }
    return true;
}

bool vms_load_state(VmsCtx *c, VmsIn *in, const VmsDesc *d, void *opaque, int version_id)
{
    Walk w;
    w.c = c;
    w.out = NULL;
    w.in = in;
    w.depth = 0;
    w.object = opaque;
    w.ref = c->plan_ref;
    if (c->err)
        vms_error_clear(c->err);
    if (in->failed)
        return walk_fail(&w, VMS_ERR_TRUNCATED, in->fail_pos, "stream already failed");
    return load_desc(&w, d, opaque, version_id, in->pos);
}

/* ---------------------------------------------------------------- map */

void vms_map_init(VmsMap *m)
{
    m->spans = NULL;
    m->n = m->cap = 0;
}

void vms_map_free(VmsMap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free((void *)m->spans[i].path);
    free(m->spans);
    vms_map_init(m);
}

const VmsSpan *vms_map_find(const VmsMap *m, size_t off)
{
    /* Last span starting at or before off; spans are in stream order. */
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->spans[mid].offset <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const VmsSpan *s = &m->spans[lo - 1];
    return off < s->offset + s->size ? s : NULL;
}

/* ---------------------------------------------------------------- members */

typedef void MemberFn(void *arg, const VmsDesc *d, const VmsField *f, size_t offset,
                      size_t size);

static size_t count_width(uint32_t flags)
{
    if (flags & VMS_VARRAY_U8)
        return 1;
    if (flags & VMS_VARRAY_U16)
        return 2;
    return 4;
}

/* Pointee offset within [obj, obj+size), or SIZE_MAX when there is no
 * object to look at or the pointer leads outside it. */
static size_t inner_offset(const uint8_t *obj, size_t size, size_t at)
{
    if (!obj || at + sizeof(void *) > size)
        return SIZE_MAX;
    const uint8_t *p;
    memcpy(&p, obj + at, sizeof(p));
    if (!p || p < obj || p >= obj + size)
        return SIZE_MAX;
    return (size_t)(p - obj);
}

static void members(const VmsDesc *d, size_t base, const uint8_t *obj, size_t obj_size,
                    MemberFn *fn, void *arg, int depth)
{
    if (depth > PATH_MAX_DEPTH)
        return;
    for (const VmsField *f = d->fields; f && !(f->flags & VMS_END); f++) {
        if ((f->flags & VMS_MUST_EXIST) || f->info == &vms_info_unused_buffer)
            continue;   /* no struct bytes behind these */
        size_t off = base + f->offset;
        if (f->flags & VMS_VARRAY_ANY)
            fn(arg, d, f, base + f->num_offset, count_width(f->flags));
        if (f->flags & VMS_VBUFFER)
            fn(arg, d, f, base + f->size_offset, sizeof(uint32_t));
        size_t n = (f->flags & (VMS_ARRAY | VMS_VARRAY_ANY)) ? f->num : 1;
        if (f->flags & VMS_POINTER) {
            fn(arg, d, f, off, sizeof(void *));
            /* A pointer into the same object (a device's inline timer or
             * clock) covers what it points at; anything else is outside. */
            size_t in = inner_offset(obj, obj_size, off);
            if (in == SIZE_MAX)
                continue;
            if (f->flags & VMS_STRUCT)
                members(f->vmsd, in, obj, obj_size, fn, arg, depth + 1);
            else
                fn(arg, d, f, in, (f->flags & VMS_VBUFFER) ? f->num : f->size);
        } else if (f->flags & VMS_ARRAY_OF_PTR) {
            fn(arg, d, f, off, n * sizeof(void *));
        } else if (f->flags & VMS_STRUCT) {
            for (size_t i = 0; i < n; i++)
                members(f->vmsd, off + i * f->size, obj, obj_size, fn, arg, depth + 1);
        } else if (f->flags & VMS_VBUFFER) {
            fn(arg, d, f, off, f->num);
        } else {
            fn(arg, d, f, off, n * f->size);
        }
    }
    for (const VmsDesc *const *sp = d->subsections; sp && *sp; sp++)
        members(*sp, base, obj, obj_size, fn, arg, depth + 1);
}

void vms_for_each_member(const VmsDesc *d, void (*fn)(void *arg, const VmsDesc *d,
                         const VmsField *f, size_t offset, size_t size), void *arg)
{
    members(d, 0, NULL, 0, fn, arg, 0);
}

void vms_for_each_member_in(const VmsDesc *d, const void *obj, size_t size,
                            void (*fn)(void *arg, const VmsDesc *d, const VmsField *f,
                                       size_t offset, size_t size),
                            void *arg)
{
    members(d, 0, obj, size, fn, arg, 0);
}
