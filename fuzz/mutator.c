/*
 * mutator.c - structure-aware mutation of migration streams; see fuzz.h.
 *
 * A byte-level mutator mostly breaks the framing (or lands in the 64 KiB of
 * SRAM) and the load rejects the result in its first bytes. Here the stream
 * is understood first: the scratch machine loads it, then every section is
 * saved again on its own with a VmsMap, which gives each leaf's offset,
 * size and field. The mutations then change what a validator looks at (a
 * count, an index, a version, a subsection's presence) and the framing is
 * rebuilt around the bodies, so the result still reaches the device code.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mutate.h"

#define MAX_SECS 64
#define CACHE_SLOTS 256     /* parsed inputs kept, direct-mapped by hash */

/* One section of the stream being mutated. */
typedef struct MSec {
    size_t reg;             /* registry index */
    uint32_t version;
    VmsOut body;            /* kept allocated across calls */
    VmsMap map;             /* a view of the parse's spans (offsets relative to the
                             * body), never freed here; n = 0 once an edit moved bytes */
} MSec;

/*
 * A parsed input. libFuzzer keeps picking the same corpus units and
 * mutating them again, and a parse (a load into the scratch machine, then a
 * save of every section with a map) costs more than running the input, so
 * parses are kept by content. The input's bytes are the key, compared in
 * full: a hit is exactly the parse a miss would make.
 */
typedef struct Parse {
    uint64_t hash;
    VmsOut input;
    bool used, loads;
    size_t n_sec;
    size_t reg[MAX_SECS];
    uint32_t version[MAX_SECS];
    VmsOut body[MAX_SECS];
    VmsMap map[MAX_SECS];
} Parse;

typedef struct Model {
    Machine *m;
    Parse *cache;           /* CACHE_SLOTS */
    MSec sec[MAX_SECS];
    size_t order[MAX_SECS * 2];  /* sections in stream order (may repeat) */
    size_t n_sec, n_order;
    VmsOut out, tmp;
    bool out_is_model;      /* out is exactly the model's serialisation */
    VmsOut ran;             /* the input the target ran last (fz_mutator_note) */
    bool ran_loaded;
    uint64_t rng;
} Model;

static Model model;

static uint64_t rnd(uint64_t n) { return n ? fz_rng(&model.rng) % n : 0; }

static void model_init(void)
{
    if (model.m)
        return;
    model.m = fz_machine_new(NULL, 0);
    model.cache = calloc(CACHE_SLOTS, sizeof(*model.cache));
    if (!model.cache)
        abort();
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        Parse *p = &model.cache[i];
        vms_out_init(&p->input, 0);
        for (size_t k = 0; k < MAX_SECS; k++) {
            vms_out_init(&p->body[k], 0);
            vms_map_init(&p->map[k]);
        }
    }
    vms_out_init(&model.out, 0);
    vms_out_init(&model.tmp, 0);
    vms_out_init(&model.ran, 0);
    for (size_t i = 0; i < MAX_SECS; i++)
        vms_out_init(&model.sec[i].body, 0);
}

/* 64-bit words at a time: the key is compared in full anyway. */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    while (n--)
        h = (h ^ *p++) * 0x100000001b3ull;
    return h;
}

/* Load the stream and cut it into per-section bodies with maps. */
static void parse_into(Parse *p, const uint8_t *data, size_t size)
{
    VmsError err;
    for (size_t k = 0; k < p->n_sec; k++) {
        vms_map_free(&p->map[k]);
        vms_out_reset(&p->body[k]);
    }
    p->n_sec = 0;
    p->loads = false;
    if (!mach_load(model.m, data, size, &err))
        return;
    VmsRegistry *r = mach_registry(model.m);
    for (size_t i = 0; i < r->n && p->n_sec < MAX_SECS; i++) {
        const VmsSection *s = &r->sec[i];
        if (s->vmsd->needed && !s->vmsd->needed(s->opaque))
            continue;
        size_t k = p->n_sec++;   /* map[k] is empty: initialised, or freed above */
        VmsCtx c = { .err = &err, .section = s->idstr, .instance = s->instance_id, .map = &p->map[k] };
        if (!vms_save_state(&c, &p->body[k], s->vmsd, s->opaque))
            return;
        p->reg[k] = i;
        p->version[k] = (uint32_t)s->vmsd->version_id;
    }
    p->loads = p->n_sec > 0;
}

/* The model of the stream: from the cache, parsed on a miss. False when
 * the stream does not load. */
static bool parse(const uint8_t *data, size_t size)
{
    model_init();
    uint64_t h = hash_bytes(data, size);
    Parse *p = &model.cache[h % CACHE_SLOTS];
    if (!p->used || p->hash != h || p->input.len != size ||
        (size && memcmp(p->input.buf, data, size) != 0)) {
        p->used = true;
        p->hash = h;
        vms_out_reset(&p->input);
        vms_out_bytes(&p->input, data, size);
        parse_into(p, data, size);
    }
    if (!p->loads)
        return false;
    model.n_sec = model.n_order = 0;
    for (size_t k = 0; k < p->n_sec; k++) {
        MSec *ms = &model.sec[k];
        ms->reg = p->reg[k];
        ms->version = p->version[k];
        vms_out_reset(&ms->body);
        vms_out_bytes(&ms->body, p->body[k].buf, p->body[k].len);
        ms->map = p->map[k];
        model.order[model.n_order++] = model.n_sec++;
    }
    return true;
}

/* An edit moved bytes: the body's map no longer applies. */
static void forget_map(MSec *ms) { ms->map.n = 0; }

/* The capacity bounding the member a span holds, when it is a count. */
static uint32_t capacity_of(const VmsSpan *sp)
{
    for (const VmsField *f = sp->desc ? sp->desc->fields : NULL; f && !(f->flags & VMS_END); f++) {
        if ((f->flags & VMS_VARRAY_ANY) && f->num_offset == sp->field->offset)
            return f->num;
        if ((f->flags & VMS_VBUFFER) && f->size_offset == sp->field->offset)
            return f->num;
    }
    return 0;
}

static void mutate_field(void)
{
    MSec *ms = &model.sec[model.order[rnd(model.n_order)]];
    if (!ms->map.n)
        return;
    const VmsSpan *sp = &ms->map.spans[rnd(ms->map.n)];
    uint8_t *p = ms->body.buf + sp->offset;
    if (sp->offset + sp->size > ms->body.len || !sp->size)
        return;
    if (sp->size > 8) { /* a buffer: one byte */
        size_t k = rnd(sp->size);
        p[k] = rnd(2) ? (uint8_t)fz_rng(&model.rng) : (uint8_t)(p[k] ^ (1u << rnd(8)));
        return;
    }
    uint64_t old = 0;
    for (uint32_t i = 0; i < sp->size; i++)
        old = old << 8 | p[i];
    uint64_t v = vmut_value(&model.rng, old, sp->size, capacity_of(sp));
    for (uint32_t i = sp->size; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static void mutate_version(void)
{
    MSec *ms = &model.sec[model.order[rnd(model.n_order)]];
    const VmsDesc *d = mach_registry(model.m)->sec[ms->reg].vmsd;
    switch (rnd(5)) {
    case 0: ms->version = (uint32_t)d->version_id + 1; break;
    case 1: ms->version = (uint32_t)d->minimum_version_id - 1; break;
    case 2: ms->version = (uint32_t)d->minimum_version_id; break;
    case 3: ms->version = 0; break;
    default: ms->version = (uint32_t)fz_rng(&model.rng); break;
    }
}

/* Top-level subsections of a body: their headers, found by name where the
 * map has no leaf (framing bytes); each runs to the next or the end. */
static size_t find_subsections(const MSec *ms, size_t *start, size_t max)
{
    const VmsDesc *d = mach_registry(model.m)->sec[ms->reg].vmsd;
    size_t n = 0;
    for (size_t off = 0; off + 2 < ms->body.len && n < max; off++) {
        const uint8_t *b = ms->body.buf + off;
        if (b[0] != VMS_SEC_SUBSECTION || vms_map_find(&ms->map, off))
            continue;
        for (const VmsDesc *const *s = d->subsections; s && *s; s++) {
            size_t len = strlen((*s)->name);
            if (b[1] == len && off + 2 + len <= ms->body.len && !memcmp(b + 2, (*s)->name, len)) {
                start[n++] = off;
                break;
            }
        }
    }
    return n;
}

static void mutate_subsection(void)
{
    MSec *ms = NULL;
    size_t start[16], n = 0;
    /* From a random section on, the first that has subsections: most
     * sections have none, and picking one of those would change nothing. */
    for (size_t i = 0, at = rnd(model.n_order); i < model.n_order && !n; i++) {
        ms = &model.sec[model.order[(at + i) % model.n_order]];
        n = find_subsections(ms, start, 15);
    }
    if (!n)
        return;
    size_t k = rnd(n), a = start[k], b = k + 1 < n ? start[k + 1] : ms->body.len;
    VmsOut *t = &model.tmp;
    vms_out_reset(t);
    vms_out_bytes(t, ms->body.buf, b);
    if (rnd(2))
        vms_out_bytes(t, ms->body.buf + a, b - a); /* duplicate */
    else
        t->len = a;                                /* drop */
    vms_out_bytes(t, ms->body.buf + b, ms->body.len - b);
    vms_out_reset(&ms->body);
    vms_out_bytes(&ms->body, t->buf, t->len);
    forget_map(ms);
}

static void mutate_sections(void)
{
    size_t n = model.n_order;
    size_t i = rnd(n), j = rnd(n);
    switch (rnd(3)) {
    case 0: { /* swap */
        size_t t = model.order[i];
        model.order[i] = model.order[j];
        model.order[j] = t;
        break;
    }
    case 1: /* drop */
        if (n > 1) {
            memmove(&model.order[i], &model.order[i + 1], (n - i - 1) * sizeof(size_t));
            model.n_order--;
        }
        break;
    default: /* duplicate */
        if (n < MAX_SECS * 2) {
            memmove(&model.order[i + 1], &model.order[i], (n - i) * sizeof(size_t));
            model.n_order++;
        }
        break;
    }
}

static void mutate_length(void)
{
    MSec *ms = &model.sec[model.order[rnd(model.n_order)]];
    if (rnd(2) && ms->body.len) {
        ms->body.len -= 1 + rnd(ms->body.len < 8 ? ms->body.len : 8);
    } else {
        for (uint64_t k = 1 + rnd(8); k--;)
            vms_out_u8(&ms->body, (uint8_t)fz_rng(&model.rng));
    }
    forget_map(ms);
}

static bool serialize(void)
{
    VmsRegistry *r = mach_registry(model.m);
    VmsOut *o = &model.out;
    vms_out_reset(o);
    /* Magic, version and configuration: an empty registry's stream. */
    VmsRegistry empty;
    VmsError err;
    VmsSaveOpts opts = { .no_vmdesc = true };
    vms_registry_init(&empty, r->machine_type);
    bool ok = vms_save(&empty, o, &opts, &err);
    vms_registry_free(&empty);
    if (!ok)
        return false;
    o->len--; /* EOF comes last */
    for (size_t k = 0; k < model.n_order; k++) {
        const MSec *ms = &model.sec[model.order[k]];
        const VmsSection *s = &r->sec[ms->reg];
        size_t idlen = strlen(s->idstr);
        vms_out_u8(o, VMS_SEC_FULL);
        vms_out_be32(o, s->section_id);
        vms_out_u8(o, (uint8_t)idlen);
        vms_out_bytes(o, s->idstr, idlen);
        vms_out_be32(o, s->instance_id);
        vms_out_be32(o, ms->version);
        vms_out_bytes(o, ms->body.buf, ms->body.len);
        vms_out_u8(o, VMS_SEC_FOOTER);
        vms_out_be32(o, s->section_id);
    }
    return vms_out_u8(o, VMS_SEC_EOF);
}

/* Is the input the stream the model last produced? libFuzzer stacks
 * mutations (-mutate_depth): the next call usually gets the last output,
 * which the model still describes, so it need not be loaded again (and
 * stays structured even when a mutation made it unloadable). */
static bool is_last_output(const uint8_t *data, size_t size)
{
    return model.out_is_model && size == model.out.len && !memcmp(data, model.out.buf, size);
}

void fz_mutator_note(const uint8_t *data, size_t size, bool loaded)
{
    model_init();
    vms_out_reset(&model.ran);
    vms_out_bytes(&model.ran, data, size);
    model.ran_loaded = loaded;
}

/* Known not to load: the target ran exactly this and rejected it. */
static bool known_unloadable(const uint8_t *data, size_t size)
{
    return !model.ran_loaded && size == model.ran.len && !memcmp(data, model.ran.buf, size);
}

size_t fz_mutate_stream(uint8_t *data, size_t size, size_t max, unsigned seed,
                        FzByteMutate fallback, void *opaque)
{
    model.rng = 0x6d757461746f72ull ^ seed;
    bool known = is_last_output(data, size);
    model.out_is_model = false;
    /* A quarter of the time, and whenever the input does not load, bytes. */
    if (rnd(4) == 0 || (!known && (known_unloadable(data, size) || !parse(data, size))))
        return fallback(data, size, max, opaque);
    for (uint64_t k = 1 + rnd(3); k--;) {
        uint64_t what = rnd(16);
        if (what < 9)
            mutate_field();
        else if (what < 11)
            mutate_version();
        else if (what < 13)
            mutate_subsection();
        else if (what < 15)
            mutate_sections();
        else
            mutate_length();
    }
    if (!serialize() || model.out.len > max)
        return fallback(data, size, max, opaque);
    model.out_is_model = true;
    memcpy(data, model.out.buf, model.out.len);
    return model.out.len;
}
