/*
 * fieldcov.c - coverage by state field: the field universe and counting.
 * Data files and merging are in fieldcov_json.c; the reports (summary,
 * HTML, lcov, ratchet) in fieldcov_report.c.
 *
 * Everything is kept by index (description, field, instance), never by
 * pointer into a growing array, because descriptions can be added lazily
 * while a walk is being observed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldcov.h"
#include "fieldcov_impl.h"
#include "machine.h"

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "?");
    if (!d)
        abort();
    return d;
}

/* Grow *pp (of *cap elements of `size`) so that it holds at least `need`. */
static void grow(void *pp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    *(void **)pp = xrealloc(*(void **)pp, n * size);
    *cap = n;
}

void fcov_errf(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ the universe */

Fcov *fcov_new(void)
{
    Fcov *fc = calloc(1, sizeof(*fc));
    if (!fc)
        abort();
    fcov_intern(fc, "");   /* instance 0: elements outside every known part */
    return fc;
}

static void attach_free(FcovAttach *a);

void fcov_free(Fcov *fc)
{
    if (!fc)
        return;
    for (size_t i = 0; i < fc->n_descs; i++) {
        FcovDesc *d = &fc->descs[i];
        for (size_t k = 0; k < d->n_fields; k++) {
            free(d->fields[k].name);
            free(d->fields[k].kind);
            free(d->fields[k].inst);
        }
        free(d->fields);
        free(d->name);
    }
    free(fc->descs);
    for (size_t i = 0; i < fc->n_inst; i++)
        free(fc->inst_names[i]);
    free(fc->inst_names);
    free(fc->map);
    while (fc->atts) {
        FcovAttach *a = fc->atts;
        fc->atts = a->next;
        attach_free(a);
    }
    free(fc);
}

uint32_t fcov_intern(Fcov *fc, const char *name)
{
    for (size_t i = 0; i < fc->n_inst; i++)
        if (!strcmp(fc->inst_names[i], name))
            return (uint32_t)i;
    grow(&fc->inst_names, &fc->cap_inst, fc->n_inst + 1, sizeof(char *));
    fc->inst_names[fc->n_inst] = xstrdup(name);
    return (uint32_t)fc->n_inst++;
}

const char *fcov_inst_name(const Fcov *fc, uint32_t inst)
{
    return inst < fc->n_inst ? fc->inst_names[inst] : "?";
}

size_t fcov_n_descs(const Fcov *fc) { return fc->n_descs; }
const FcovDesc *fcov_desc(const Fcov *fc, size_t i) { return i < fc->n_descs ? &fc->descs[i] : NULL; }

static long desc_index(const Fcov *fc, const char *name)
{
    for (size_t i = 0; i < fc->n_descs; i++)
        if (!strcmp(fc->descs[i].name, name))
            return (long)i;
    return -1;
}

const FcovDesc *fcov_find_desc(const Fcov *fc, const char *name)
{
    long i = desc_index(fc, name);
    return i < 0 ? NULL : &fc->descs[i];
}

static long field_index(const FcovDesc *d, const char *name)
{
    for (size_t i = 0; i < d->n_fields; i++)
        if (!strcmp(d->fields[i].name, name))
            return (long)i;
    return -1;
}

const FcovField *fcov_find_field(const FcovDesc *d, const char *name)
{
    long i = field_index(d, name);
    return i < 0 ? NULL : &d->fields[i];
}

uint32_t fcov_desc_get(Fcov *fc, const char *name)
{
    long i = desc_index(fc, name);
    if (i >= 0)
        return (uint32_t)i;
    grow(&fc->descs, &fc->cap_descs, fc->n_descs + 1, sizeof(FcovDesc));
    FcovDesc *d = &fc->descs[fc->n_descs];
    memset(d, 0, sizeof(*d));
    d->name = xstrdup(name);
    return (uint32_t)fc->n_descs++;
}

uint32_t fcov_field_get(Fcov *fc, uint32_t di, const char *name, const char *kind, FcovRole role)
{
    FcovDesc *d = &fc->descs[di];
    long i = field_index(d, name);
    if (i >= 0)
        return (uint32_t)i;
    d->fields = xrealloc(d->fields, (d->n_fields + 1) * sizeof(FcovField));
    FcovField *f = &d->fields[d->n_fields];
    memset(f, 0, sizeof(*f));
    f->name = xstrdup(name);
    f->kind = xstrdup(kind);
    f->role = role;
    return (uint32_t)d->n_fields++;
}

FcovStats *fcov_stats(Fcov *fc, uint32_t di, uint32_t fi, uint32_t inst)
{
    FcovField *f = &fc->descs[di].fields[fi];
    for (size_t i = 0; i < f->n_inst; i++)
        if (f->inst[i].inst == inst)
            return &f->inst[i].st;
    f->inst = xrealloc(f->inst, (f->n_inst + 1) * sizeof(FcovInst));
    FcovInst *n = &f->inst[f->n_inst++];
    memset(n, 0, sizeof(*n));
    n->inst = inst;
    return &n->st;
}

/* Pointer -> (description, field) map, open addressing. A description maps
 * with fi == UINT32_MAX. */
static size_t ptr_hash(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

static void map_put(Fcov *fc, const void *key, uint32_t di, uint32_t fi);

static void map_grow(Fcov *fc)
{
    FcovPtr *old = fc->map;
    size_t ocap = fc->map_cap;
    fc->map_cap = ocap ? ocap * 2 : 256;
    fc->map = calloc(fc->map_cap, sizeof(FcovPtr));
    if (!fc->map)
        abort();
    fc->map_n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            map_put(fc, old[i].key, old[i].di, old[i].fi);
    free(old);
}

static void map_put(Fcov *fc, const void *key, uint32_t di, uint32_t fi)
{
    if ((fc->map_n + 1) * 2 > fc->map_cap)
        map_grow(fc);
    size_t i = ptr_hash(key, fc->map_cap);
    while (fc->map[i].key && fc->map[i].key != key)
        i = (i + 1) & (fc->map_cap - 1);
    if (!fc->map[i].key)
        fc->map_n++;
    fc->map[i] = (FcovPtr){ key, di, fi };
}

static const FcovPtr *map_get(const Fcov *fc, const void *key)
{
    if (!fc->map_cap)
        return NULL;
    size_t i = ptr_hash(key, fc->map_cap);
    while (fc->map[i].key) {
        if (fc->map[i].key == key)
            return &fc->map[i];
        i = (i + 1) & (fc->map_cap - 1);
    }
    return NULL;
}

static FcovRole field_role(const VmsField *f)
{
    if (f->flags & VMS_STRUCT)
        return FCOV_ROLE_STRUCT;
    if ((f->flags & VMS_MUST_EXIST) && !f->info)
        return FCOV_ROLE_VALIDATE;
    if (f->info == &vms_info_unused_buffer)
        return FCOV_ROLE_UNUSED;
    return FCOV_ROLE_STATE;
}

/* "uint32[16]", "uint8[<=16]", "buffer(64)", "struct ptimer[2]", "validate". */
static void field_kind(const VmsField *f, char *buf, size_t n)
{
    const char *ptr = (f->flags & VMS_POINTER) ? "*" : "";
    switch (field_role(f)) {
    case FCOV_ROLE_VALIDATE: snprintf(buf, n, "validate"); return;
    case FCOV_ROLE_UNUSED: snprintf(buf, n, "unused(%zu)", f->size); return;
    default: break;
    }
    char base[96];
    if (f->flags & VMS_STRUCT)
        snprintf(base, sizeof(base), "struct %s%s", f->vmsd ? f->vmsd->name : "?", ptr);
    else if (f->flags & VMS_VBUFFER)
        snprintf(base, sizeof(base), "buffer(<=%u)%s", f->num, ptr);
    else if (f->flags & VMS_BUFFER)
        snprintf(base, sizeof(base), "buffer(%zu)%s", f->size, ptr);
    else
        snprintf(base, sizeof(base), "%s%s", f->info && f->info->name ? f->info->name : "?", ptr);
    if (f->flags & VMS_VARRAY_ANY)
        snprintf(buf, n, "%s[<=%u]", base, f->num);
    else if ((f->flags & VMS_ARRAY) && !(f->flags & VMS_BUFFER))
        snprintf(buf, n, "%s[%u]", base, f->num);
    else
        snprintf(buf, n, "%s", base);
}

static uint32_t add_desc(Fcov *fc, const VmsDesc *vd, bool sub)
{
    const FcovPtr *p = map_get(fc, vd);
    if (p)
        return p->di;
    uint32_t di = fcov_desc_get(fc, vd->name ? vd->name : "?");
    map_put(fc, vd, di, UINT32_MAX);
    FcovDesc *d = &fc->descs[di];
    d->version_id = vd->version_id;
    d->minimum_version_id = vd->minimum_version_id;
    d->subsection |= sub;
    for (const VmsField *f = vd->fields; f && !(f->flags & VMS_END); f++) {
        /* Repeated names (several "unused") get "#2", "#3" in table order. */
        const char *nm = f->name ? f->name : "?";
        int rep = 1;
        for (const VmsField *g = vd->fields; g != f; g++)
            rep += g->name && !strcmp(g->name, nm);
        char key[200], kind[128];
        if (rep > 1)
            snprintf(key, sizeof(key), "%s#%d", nm, rep);
        else
            snprintf(key, sizeof(key), "%s", nm);
        field_kind(f, kind, sizeof(kind));
        uint32_t fi = fcov_field_get(fc, di, key, kind, field_role(f));
        map_put(fc, f, di, fi);
    }
    for (const VmsField *f = vd->fields; f && !(f->flags & VMS_END); f++)
        if ((f->flags & VMS_STRUCT) && f->vmsd)
            add_desc(fc, f->vmsd, false);
    for (const VmsDesc *const *s = vd->subsections; s && *s; s++)
        add_desc(fc, *s, true);
    return di;
}

void fcov_add_desc(Fcov *fc, const VmsDesc *d)
{
    if (d)
        add_desc(fc, d, false);
}

static void add_device_types(Fcov *fc)
{
    for (size_t i = 0; i < dev_n_types; i++) {
        fcov_add_desc(fc, dev_types[i]->vmsd);
        for (const VmsDesc *const *x = dev_types[i]->extra_vmsds; x && *x; x++)
            fcov_add_desc(fc, *x);
    }
}

void fcov_add_machine(Fcov *fc, Machine *m)
{
    VmsRegistry *r = mach_registry(m);
    for (size_t i = 0; i < r->n; i++)
        fcov_add_desc(fc, r->sec[i].vmsd);
    add_device_types(fc);
}

bool fcov_add_shipped(Fcov *fc, char *err, size_t errlen)
{
    for (size_t i = 0; mach_boards[i]; i++) {
        VmsMsg why = { { 0 } };
        Machine *m = mach_new(mach_boards[i], &why);
        if (!m) {
            fcov_errf(err, errlen, "cannot build board '%s': %s", mach_boards[i]->name, why.text);
            return false;
        }
        fcov_add_machine(fc, m);
        mach_free(m);
    }
    add_device_types(fc);
    return true;
}

/* ------------------------------------------------------------ statistics */

uint64_t fcov_value_key(const void *pv, size_t size)
{
    if (size <= 8) {
        uint64_t v = 0;
        memcpy(&v, pv, size);   /* host order: the value as the device sees it */
        return v;
    }
    /* Large elements (SRAM is 64 KiB, saved at every checkpoint) are hashed
     * a word at a time in four independent lanes, so the observer stays
     * cheap next to the save itself; only equality matters here. */
    const uint8_t *p = pv;
    uint64_t lane[4] = { 0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull,
                         0xd6e8feb86659fd93ull };
    size_t i = 0;
    for (; i + 32 <= size; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            lane[k] = (lane[k] ^ w) * 0x100000001b3ull;
            lane[k] ^= lane[k] >> 29;
        }
    uint64_t h = 0xcbf29ce484222325ull ^ size;
    for (; i < size; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    for (int k = 0; k < 4; k++)
        h = (h ^ lane[k]) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
}

void fcov_add_distinct(FcovStats *s, uint64_t key)
{
    for (uint32_t i = 0; i < s->n_distinct; i++)
        if (s->distinct[i] == key)
            return;
    if (s->n_distinct < FCOV_DISTINCT_MAX)
        s->distinct[s->n_distinct++] = key;
    else
        s->distinct_more = true;
}

uint64_t fcov_width_mask(uint32_t width)
{
    return width >= 64 ? ~0ull : (1ull << width) - 1;
}

/* Note which bits of element `index` were 0 and 1. A bool is one bit (its
 * byte is 0 or 1 by construction); elements over 8 bytes are buffers, judged
 * by value only. */
static void add_bits(FcovStats *s, const VmsField *f, uint32_t index, const void *pv, size_t size)
{
    if (size > 8 || !size)
        return;
    uint32_t width = f->info == &vms_info_bool ? 1 : (uint32_t)size * 8;
    uint32_t slot = index < FCOV_BIT_ELEMS ? index : FCOV_BIT_ELEMS - 1;
    uint64_t v = fcov_value_key(pv, size) & fcov_width_mask(width);
    if (width > s->bit_width)
        s->bit_width = width;
    if (slot >= s->bit_elems)
        s->bit_elems = slot + 1;
    s->seen1[slot] |= v;
    s->seen0[slot] |= ~v & fcov_width_mask(width);
}

void fcov_stats_merge(FcovStats *d, const FcovStats *s)
{
    if (s->bit_width > d->bit_width)
        d->bit_width = s->bit_width;
    if (s->bit_elems > d->bit_elems)
        d->bit_elems = s->bit_elems;
    for (uint32_t i = 0; i < s->bit_elems && i < FCOV_BIT_ELEMS; i++) {
        d->seen0[i] |= s->seen0[i];
        d->seen1[i] |= s->seen1[i];
    }
    d->saved += s->saved;
    d->nonreset += s->nonreset;
    for (int k = 0; k < FCOV_NSRC; k++) {
        d->loaded[k] += s->loaded[k];
        d->accepted[k] += s->accepted[k];
    }
    for (int k = 0; k < FCOV_NREJ; k++)
        d->rejected[k] += s->rejected[k];
    for (uint32_t i = 0; i < s->n_distinct; i++)
        fcov_add_distinct(d, s->distinct[i]);
    d->distinct_more |= s->distinct_more;
}

void fcov_field_total(const FcovField *f, FcovStats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < f->n_inst; i++)
        fcov_stats_merge(out, &f->inst[i].st);
}

const FcovStats *fcov_field_inst(const Fcov *fc, const FcovField *f, const char *inst)
{
    for (size_t i = 0; i < f->n_inst; i++)
        if (!strcmp(fcov_inst_name(fc, f->inst[i].inst), inst))
            return &f->inst[i].st;
    return NULL;
}

bool fcov_field_covered(const FcovField *f)
{
    for (size_t i = 0; i < f->n_inst; i++)
        if (f->inst[i].st.nonreset)
            return true;
    return false;
}

void fcov_count(const Fcov *fc, const FcovDesc *d, size_t *fields, size_t *covered)
{
    *fields = *covered = 0;
    for (size_t i = 0; i < fc->n_descs; i++) {
        const FcovDesc *e = &fc->descs[i];
        if (d && d != e)
            continue;
        for (size_t k = 0; k < e->n_fields; k++) {
            if (e->fields[k].role != FCOV_ROLE_STATE)
                continue;
            (*fields)++;
            *covered += fcov_field_covered(&e->fields[k]);
        }
    }
}

void fcov_load_counts(const Fcov *fc, uint64_t loads[FCOV_NSRC], uint64_t accepted[FCOV_NSRC])
{
    for (int k = 0; k < FCOV_NSRC; k++) {
        loads[k] = fc->loads[k];
        accepted[k] = fc->loads_ok[k];
    }
}

void fcov_add_version(int *v, int *n, int version)
{
    for (int i = 0; i < *n; i++)
        if (v[i] == version)
            return;
    if (*n < FCOV_MAX_VERSIONS)
        v[(*n)++] = version;
}

/* ------------------------------------------------------------ observing */

static void attach_free(FcovAttach *a)
{
    for (size_t i = 0; i < a->n_parts; i++)
        free(a->parts[i].snap);
    free(a->parts);
    for (size_t i = 0; i < a->n_rec; i++)
        free(a->rec[i].bytes);
    free(a->rec);
    free(a->pending);
    free(a);
}

static void snapshot_parts(FcovAttach *a)
{
    for (size_t i = 0; i < a->n_parts; i++)
        memcpy(a->parts[i].snap, a->parts[i].base, a->parts[i].size);
}

static FcovAttach *attach_new(Fcov *fc, const FcovPart *parts, size_t n, FcovSource src, unsigned what)
{
    FcovAttach *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->fc = fc;
    a->src = src;
    a->what = what;
    a->parts = calloc(n ? n : 1, sizeof(*a->parts));
    if (!a->parts)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!parts[i].base || !parts[i].size)
            continue;
        FcovAttPart *p = &a->parts[a->n_parts++];
        p->inst = fcov_intern(fc, parts[i].name ? parts[i].name : "?");
        p->base = parts[i].base;
        p->size = parts[i].size;
        p->snap = xrealloc(NULL, p->size);
    }
    a->next = fc->atts;
    fc->atts = a;
    return a;
}

FcovAttach *fcov_attach(Fcov *fc, const FcovPart *parts, size_t n, FcovSource src, unsigned what)
{
    FcovAttach *a = attach_new(fc, parts, n, src, what);
    snapshot_parts(a);
    return a;
}

FcovAttach *fcov_attach_machine(Fcov *fc, Machine *m, FcovSource src, unsigned what)
{
    fcov_add_machine(fc, m);
    size_t n = mach_n_shadows(m);
    FcovPart *parts = xrealloc(NULL, n * sizeof(FcovPart));
    for (size_t i = 0; i < n; i++) {
        const MachShadow *s = mach_shadow(m, i);
        parts[i] = (FcovPart){ s->name, s->state, s->size };
    }
    FcovAttach *a = attach_new(fc, parts, n, src, what);
    free(parts);
    VmsRegistry *r = mach_registry(m);
    a->reg = r;
    r->observe = fcov_observe;
    r->observe_event = fcov_observe_event;
    r->obs_opaque = a;
    /* One save at power-on: elements behind pointers (outside every part)
     * get their reset values recorded, and pre_save effects land in the
     * parts before they are snapshotted. Nothing is counted. */
    if (what & FCOV_SAVES) {
        VmsOut out;
        VmsError err;
        VmsSaveOpts opts = { .no_vmdesc = true, .map = NULL };
        vms_out_init(&out, 0);
        a->recording = true;
        (void)mach_save(m, &out, &opts, &err);
        a->recording = false;
        vms_out_free(&out);
    }
    snapshot_parts(a);
    return a;
}

/* The smallest part holding [pv, pv+size), or NULL. */
static const FcovAttPart *locate(FcovAttach *a, const void *pv, size_t size)
{
    const uint8_t *p = pv;
    const FcovAttPart *best = NULL;
    for (size_t i = 0; i < a->n_parts; i++) {
        const FcovAttPart *q = &a->parts[i];
        if (p >= q->base && p + size <= q->base + q->size && (!best || q->size < best->size))
            best = q;
    }
    return best;
}

static void record_reset(FcovAttach *a, const VmsField *f, uint32_t index, const void *pv, size_t size)
{
    for (size_t i = 0; i < a->n_rec; i++)
        if (a->rec[i].f == f && a->rec[i].index == index)
            return;   /* the first instance's value stands for all */
    grow(&a->rec, &a->cap_rec, a->n_rec + 1, sizeof(*a->rec));
    FcovRec *r = &a->rec[a->n_rec++];
    r->f = f;
    r->index = index;
    r->size = size;
    r->bytes = xrealloc(NULL, size);
    memcpy(r->bytes, pv, size);
}

/* Do the element's bytes differ from its reset value? */
static bool differs_from_reset(FcovAttach *a, const FcovAttPart *p, const VmsField *f, uint32_t index,
                               const void *pv, size_t size)
{
    if (p)
        return memcmp(pv, p->snap + ((const uint8_t *)pv - p->base), size) != 0;
    for (size_t i = 0; i < a->n_rec; i++)
        if (a->rec[i].f == f && a->rec[i].index == index && a->rec[i].size == size)
            return memcmp(pv, a->rec[i].bytes, size) != 0;
    for (size_t i = 0; i < size; i++)   /* no reset value known: zero is the reset */
        if (((const uint8_t *)pv)[i])
            return true;
    return false;
}

static bool lookup_field(Fcov *fc, const VmsDesc *d, const VmsField *f, uint32_t *di, uint32_t *fi)
{
    const FcovPtr *p = map_get(fc, f);
    if (!p && d) {
        fcov_add_desc(fc, d);   /* a description nobody registered: learn it now */
        p = map_get(fc, f);
    }
    if (!p || p->fi == UINT32_MAX)
        return false;
    *di = p->di;
    *fi = p->fi;
    return true;
}

void fcov_observe(void *opaque, const VmsDesc *d, const VmsField *f, uint32_t index, const void *pv,
                  size_t size, bool loading)
{
    FcovAttach *a = opaque;
    if (!f || (!pv && size))
        return;
    if (a->recording) {
        if (!loading && !locate(a, pv, size))
            record_reset(a, f, index, pv, size);
        return;
    }
    if (!(a->what & (loading ? FCOV_LOADS : FCOV_SAVES)))
        return;
    uint32_t di, fi;
    if (!lookup_field(a->fc, d, f, &di, &fi))
        return;
    const FcovAttPart *p = locate(a, pv, size);
    uint32_t inst = p ? p->inst : 0;
    FcovStats *st = fcov_stats(a->fc, di, fi, inst);
    if (loading) {
        st->loaded[a->src]++;
        a->load_inst = inst;
        grow(&a->pending, &a->cap_pending, a->n_pending + 1, sizeof(*a->pending));
        a->pending[a->n_pending++] = (FcovRef){ di, fi, inst };
        return;
    }
    st->saved++;
    if (differs_from_reset(a, p, f, index, pv, size))
        st->nonreset++;
    fcov_add_distinct(st, fcov_value_key(pv, size));
    add_bits(st, f, index, pv, size);
}

void fcov_observe_event(void *opaque, VmsObsEvent ev, const VmsDesc *d, int version, const VmsError *err)
{
    FcovAttach *a = opaque;
    if (a->recording)
        return;
    bool saves = a->what & FCOV_SAVES, loads = a->what & FCOV_LOADS;
    if (ev == VMS_OBS_LOAD_END) {
        if (loads && !(a->what & FCOV_MANUAL_END))
            fcov_load_end(a, NULL, err);
        return;
    }
    if (!d)
        return;
    FcovDesc *fd = &a->fc->descs[add_desc(a->fc, d, false)];
    switch (ev) {
    case VMS_OBS_SAVE_DESC:
        if (saves)
            fcov_add_version(fd->versions_saved, &fd->n_saved_versions, version);
        break;
    case VMS_OBS_LOAD_DESC:
        if (loads)
            fcov_add_version(fd->versions_loaded, &fd->n_loaded_versions, version);
        break;
    case VMS_OBS_SUB_NEEDED: fd->needed += saves; fd->subsection = true; break;
    case VMS_OBS_SUB_NOT_NEEDED: fd->not_needed += saves; fd->subsection = true; break;
    case VMS_OBS_SUB_LOADED: fd->sub_loaded += loads; fd->subsection = true; break;
    default: break;
    }
}

/* Follow an error's field path ("timer.limit", "fifo[3]", "pl031/sub.x",
 * a VALIDATE text) from description d; *out_f is NULL if no field matches. */
static void resolve_path(const VmsDesc *d, const char *path, const VmsDesc **out_d, const VmsField **out_f)
{
    *out_f = NULL;
    *out_d = d;
    for (int depth = 0; d && path && *path && depth < 16; depth++) {
        *out_d = d;
        bool moved = false;
        for (const VmsDesc *const *s = d->subsections; s && *s && !moved; s++) {
            size_t n = strlen((*s)->name);
            if (!strncmp(path, (*s)->name, n) && (path[n] == '.' || path[n] == 0)) {
                d = *s;
                path += n + (path[n] == '.');
                moved = true;
            }
        }
        if (moved) {
            *out_d = d;
            continue;
        }
        for (const VmsField *f = d->fields; f && !(f->flags & VMS_END); f++)
            if (f->name && !strcmp(f->name, path)) {
                *out_f = f;
                return;
            }
        size_t tok = strcspn(path, ".[");
        const char *rest = path + tok;
        if (*rest == '[')
            rest = strchr(rest, ']') ? strchr(rest, ']') + 1 : rest + strlen(rest);
        const VmsField *hit = NULL;
        for (const VmsField *f = d->fields; f && !(f->flags & VMS_END) && !hit; f++)
            if (f->name && strlen(f->name) == tok && !strncmp(f->name, path, tok))
                hit = f;
        if (!hit)
            return;
        if (*rest == '.' && (hit->flags & VMS_STRUCT) && hit->vmsd) {
            d = hit->vmsd;
            path = rest + 1;
            continue;
        }
        *out_f = hit;
        return;
    }
}

static int reject_index(VmsErrClass c)
{
    switch (c) {
    case VMS_ERR_VALIDATE: return FCOV_REJ_VALIDATE;
    case VMS_ERR_RANGE: return FCOV_REJ_RANGE;
    case VMS_ERR_EQUAL: return FCOV_REJ_EQUAL;
    case VMS_ERR_HOOK: return FCOV_REJ_HOOK;
    default: return -1;
    }
}

static void blame(FcovAttach *a, const VmsDesc *root, const VmsError *err)
{
    int k = reject_index(err->cls);
    if (k < 0)
        return;
    uint32_t inst = a->load_inst;
    if (!root && a->reg && err->section[0]) {
        const VmsSection *s = vms_registry_find(a->reg, err->section,
                                                err->instance < 0 ? 0 : (uint32_t)err->instance);
        if (s) {
            root = s->vmsd;
            const FcovAttPart *p = locate(a, s->opaque, 1);
            if (p)
                inst = p->inst;
        }
    }
    if (!root && err->section[0]) {
        /* No registry: a description named like the section. */
        long di = desc_index(a->fc, err->section);
        if (di >= 0)
            a->fc->descs[di].rejected[k]++;
        return;
    }
    if (!root)
        return;
    const VmsDesc *d;
    const VmsField *f;
    resolve_path(root, err->field, &d, &f);
    uint32_t di, fi;
    if (f && lookup_field(a->fc, d, f, &di, &fi))
        fcov_stats(a->fc, di, fi, inst)->rejected[k]++;
    else
        a->fc->descs[add_desc(a->fc, d, false)].rejected[k]++;
}

void fcov_load_end(FcovAttach *a, const VmsDesc *root, const VmsError *err)
{
    Fcov *fc = a->fc;
    fc->loads[a->src]++;
    if (!err) {
        fc->loads_ok[a->src]++;
        for (size_t i = 0; i < a->n_pending; i++) {
            FcovRef r = a->pending[i];
            fcov_stats(fc, r.di, r.fi, r.inst)->accepted[a->src]++;
        }
    } else {
        if ((unsigned)err->cls < FCOV_NCLASS)
            fc->fail_class[err->cls]++;
        blame(a, root, err);
    }
    a->n_pending = 0;
    a->load_inst = 0;
}
