/*
 * loop.c - the round-trip stress loop. See loop.h for the oracles.
 *
 * Shape of a run:
 *   build A, B and P (a power-on reference that never runs) from one board
 *   and firmware; then repeat: run A and B to the next event point (an input,
 *   a checkpoint or the end), compare their guest-visible events, inject the
 *   same input into both, or checkpoint B and run the oracles.
 *
 * Only the first divergence is reported: after it, the twins are no longer
 * comparable, and the reproducer replays the run up to it.
 */
#include "loop_int.h"
#include "lint.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ------------------------------------------------------------- helpers */

const char *loop_oracle_name(LoopOracle o)
{
    static const char *const names[] = {
        [LOOP_OK] = "none",          [LOOP_PURITY] = "save-purity",
        [LOOP_STATE] = "state-equality", [LOOP_RESET] = "reset",
        [LOOP_FIXPOINT] = "fixpoint", [LOOP_SHADOW] = "shadow-diff",
        [LOOP_BEHAVIOUR] = "guest-behaviour", [LOOP_LOAD] = "load",
        [LOOP_SETUP] = "setup",          [LOOP_RANGE] = "range",
        [LOOP_PRECOPY] = "precopy",
        [LOOP_ORDER] = "load-order",
    };
    return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

void loop_config_defaults(LoopConfig *c)
{
    memset(c, 0, sizeof(*c));
    c->board = "vmstress-m0";
    c->workload = "all";
    c->seed = 1;
    c->interval_min = 1000;
    c->interval_max = 200000;
    c->input_every = 50000;
    c->explore_every = LOOP_EXPLORE_EVERY;
    c->permute = true;
    c->fast_forward = true;
    c->full_every = LOOP_FULL_EVERY;
}

/* splitmix64: small, seedable, and the same on every host. */
uint64_t loop_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + loop_rng_next(s) % (hi - lo + 1);
}

static double host_seconds(void)
{
    /* Host time: only for the duration bound and the figures printed. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void finding_set(LoopFinding *f, LoopOracle o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finding_set(LoopFinding *f, LoopOracle o, const char *fmt, ...)
{
    f->oracle = o;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
    va_end(ap);
    /* A detail too long for the report is cut visibly, not mid-word silently. */
    if (n >= (int)sizeof(f->detail))
        memcpy(f->detail + sizeof(f->detail) - 4, "...", 4);
}

/* Format `size` bytes of a member as a number when it fits, else as the
 * first differing byte against `other`. */
void loop_format_member(char *out, size_t n, const uint8_t *p, const uint8_t *other, size_t size)
{
    if (size <= 8) {
        uint64_t v = 0;
        memcpy(&v, p, size); /* host order: members live in host memory */
        snprintf(out, n, "0x%" PRIx64, v);
        return;
    }
    size_t i = 0;
    while (i < size && p[i] == other[i])
        i++;
    snprintf(out, n, "byte[%zu]=0x%02x", i, i < size ? p[i] : 0);
}

/* ------------------------------------------------------- event streams */

typedef struct EventLog {
    MachEvent *ev;
    size_t n, cap;
} EventLog;

static void event_sink(void *opaque, const MachEvent *e)
{
    EventLog *l = opaque;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        MachEvent *p = realloc(l->ev, cap * sizeof(*p));
        if (!p)
            abort(); /* out of host memory: nothing sensible to report */
        l->ev = p;
        l->cap = cap;
    }
    l->ev[l->n++] = *e;
}

static const char *event_kind_name(unsigned k)
{
    switch (k) {
    case MACH_EV_DATA: return "data";
    case MACH_EV_PINS: return "pins";
    case MACH_EV_RESET: return "reset";
    case MACH_EV_IRQ: return "irq";
    case MACH_EV_CONSOLE: return "console";
    case MACH_EV_EXIT: return "exit";
    }
    return "?";
}

static void format_event(char *out, size_t n, Machine *m, const MachEvent *e)
{
    if (!e) {
        snprintf(out, n, "(none)");
        return;
    }
    const char *src = e->source < mach_n_devices(m) ? dev_name(mach_device(m, e->source)) : "core";
    snprintf(out, n, "%s %s ch%u=0x%" PRIx32 " @%" PRIu64, src, event_kind_name(e->kind),
             e->channel, e->value, e->cycle);
}

static bool events_equal(const MachEvent *x, const MachEvent *y)
{
    return x->cycle == y->cycle && x->source == y->source && x->kind == y->kind &&
           x->channel == y->channel && x->value == y->value;
}

/* ------------------------------------------------------------ shadows */

/* Which description field, if any, covers [off, off+size) of a part. */
typedef struct CoverQuery {
    size_t off, size;
    const VmsField *hit;
    const VmsDesc *hit_desc;    /* the (sub)description the field belongs to */
} CoverQuery;

static void cover_fn(void *arg, const VmsDesc *d, const VmsField *f, size_t off, size_t size)
{
    CoverQuery *q = arg;
    if (!q->hit && off < q->off + q->size && q->off < off + size) {
        q->hit = f;
        q->hit_desc = d;
    }
}

const VmsField *loop_carrier(const MachShadow *sh, const DevMember *mem, const VmsDesc **desc)
{
    CoverQuery q = { mem->offset, mem->size, NULL, NULL };
    if (sh->vmsd)
        vms_for_each_member_in(sh->vmsd, sh->state, sh->size, cover_fn, &q);
    *desc = q.hit_desc;
    return q.hit;
}

static void explain_member(char *out, size_t n, const MachShadow *sh, const DevMember *mem)
{
    const VmsDesc *d;
    const VmsField *f = loop_carrier(sh, mem, &d);
    if (f)
        snprintf(out, n, "member '%s' of %s (description field '%s' of '%s')", mem->name,
                 sh->name, f->name, d->name);
    else
        snprintf(out, n, "member '%s' of %s is not carried by any field of description '%s'",
                 mem->name, sh->name, sh->vmsd ? sh->vmsd->name : "(none)");
}

/* Compare two images of one part member by member; fills f on the first difference. */
static bool members_equal(const MachShadow *sh, const uint8_t *a, const uint8_t *b,
                          LoopFinding *f)
{
    for (const DevMember *m = sh->members; m && m->name; m++) {
        const uint8_t *pa = a + m->offset, *pb = b + m->offset;
        size_t size = m->size;
        if (m->kind == DEV_M_HOST || m->kind == DEV_M_VOLATILE)
            continue;
        if (m->kind == DEV_M_TIMER) {
            /* Only the deadline is guest state; links and callbacks are host. */
            pa += offsetof(VTimer, deadline);
            pb += offsetof(VTimer, deadline);
            size = sizeof(int64_t);
        }
        if (memcmp(pa, pb, size) == 0)
            continue;
        snprintf(f->where, sizeof(f->where), "%s", sh->name);
        snprintf(f->what, sizeof(f->what), "%s", m->name);
        f->instance = -1;
        loop_format_member(f->a, sizeof(f->a), pa, pb, size);
        loop_format_member(f->b, sizeof(f->b), pb, pa, size);
        explain_member(f->detail, sizeof(f->detail), sh, m);
        return false;
    }
    return true;
}

bool loop_shadows_equal(Machine *a, Machine *b, LoopFinding *f)
{
    size_t n = mach_n_shadows(a);
    for (size_t i = 0; i < n; i++) {
        const MachShadow *sa = mach_shadow(a, i), *sb = mach_shadow(b, i);
        if (!members_equal(sa, sa->state, sb->state, f))
            return false;
    }
    return true;
}

/*
 * The compared bytes of every part, as spans: each part's members that
 * members_equal compares (not DEV_HOST or DEV_VOLATILE; of a DEV_TIMER only
 * its deadline), sorted and coalesced, computed once per twin. Snapshots
 * copy and compares memcmp the spans; members_equal runs only to name a
 * difference the spans found. All machines of a twin share one layout.
 */
typedef struct Span {
    size_t off, len;
} Span;

typedef struct PartSpans {
    Span *span;                 /* every part's spans, part after part */
    size_t *first;              /* part i's spans: span[first[i] .. first[i+1]) */
    size_t n_parts;
    size_t *at;                 /* part i's bytes in a snapshot: at[i] .. at[i] + its size */
    size_t total;               /* a snapshot's bytes: every part's size */
} PartSpans;

static int span_cmp(const void *x, const void *y)
{
    const Span *a = x, *b = y;
    return a->off < b->off ? -1 : a->off > b->off;
}

static void spans_build(PartSpans *ps, Machine *m)
{
    size_t n = mach_n_shadows(m), total = 0;
    for (size_t i = 0; i < n; i++)
        for (const DevMember *mb = mach_shadow(m, i)->members; mb && mb->name; mb++)
            total++;
    ps->span = malloc((total ? total : 1) * sizeof(*ps->span));
    ps->first = malloc((n + 1) * sizeof(*ps->first));
    ps->at = malloc((n + 1) * sizeof(*ps->at));
    if (!ps->span || !ps->first || !ps->at)
        abort();
    ps->n_parts = n;
    size_t k = 0;
    ps->total = 0;
    for (size_t i = 0; i < n; i++) {
        ps->at[i] = ps->total;
        ps->total += mach_shadow(m, i)->size;
        ps->first[i] = k;
        size_t start = k;
        for (const DevMember *mb = mach_shadow(m, i)->members; mb && mb->name; mb++) {
            if (mb->kind == DEV_M_HOST || mb->kind == DEV_M_VOLATILE || !mb->size)
                continue;
            ps->span[k++] = mb->kind == DEV_M_TIMER
                                ? (Span){ mb->offset + offsetof(VTimer, deadline), sizeof(int64_t) }
                                : (Span){ mb->offset, mb->size };
        }
        qsort(ps->span + start, k - start, sizeof(*ps->span), span_cmp);
        size_t w = start;           /* coalesce touching or overlapping spans */
        for (size_t r = start; r < k; r++) {
            Span *last = w > start ? &ps->span[w - 1] : NULL;
            if (last && ps->span[r].off <= last->off + last->len) {
                size_t end = ps->span[r].off + ps->span[r].len;
                if (end > last->off + last->len)
                    last->len = end - last->off;
            } else {
                ps->span[w++] = ps->span[r];
            }
        }
        k = w;
    }
    ps->first[n] = k;
}

static void spans_free(PartSpans *ps)
{
    free(ps->span);
    free(ps->first);
    free(ps->at);
}

static inline uint64_t load64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t load32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t load16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Whether len bytes at a and b are equal. Most spans are a few registers,
 * for which a call to memcmp costs several times the compare: up to 32
 * bytes are compared inline, in loads that may overlap but never leave
 * the span (the last 8, 4 or 2 bytes are read from the span's end). */
static inline bool same_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
    if (len > 32)
        return memcmp(a, b, len) == 0;
    if (len >= 8) {
        uint64_t d = load64(a + len - 8) ^ load64(b + len - 8);
        for (size_t i = 0; i + 8 < len; i += 8)
            d |= load64(a + i) ^ load64(b + i);
        return d == 0;
    }
    if (len >= 4)
        return ((load32(a) ^ load32(b)) | (load32(a + len - 4) ^ load32(b + len - 4))) == 0;
    if (len >= 2)
        return ((load16(a) ^ load16(b)) | (load16(a + len - 2) ^ load16(b + len - 2))) == 0;
    return len == 0 || a[0] == b[0];
}

/* Part i's compared bytes are equal in images a and b; otherwise f names
 * the first differing member, as members_equal does. */
static inline __attribute__((always_inline)) bool part_equal(const PartSpans *ps, size_t i, const MachShadow *sh, const uint8_t *a,
                       const uint8_t *b, LoopFinding *f)
{
    for (size_t k = ps->first[i]; k < ps->first[i + 1]; k++) {
        const Span *sp = &ps->span[k];
        if (!same_bytes(a + sp->off, b + sp->off, sp->len))
            return members_equal(sh, a, b, f);
    }
    return true;
}

/* A machine's parts (mach_shadow), looked up once per twin: the pointers
 * stay valid for the machine's life, and reading through them counts as
 * touching nothing, so a machine reset before a compare is still at reset
 * for the load after it. */
typedef const MachShadow *const *Parts;

/* Every part but those `skip` marks (NULL: none). */
static bool shadows_equal_but(const PartSpans *ps, Parts a, Parts b, const bool *skip, LoopFinding *f)
{
    for (size_t i = 0; i < ps->n_parts; i++)
        if (!(skip && skip[i]) && !part_equal(ps, i, a[i], a[i]->state, b[i]->state, f))
            return false;
    return true;
}

/* A copy of every part's compared bytes, at the part's own offsets, to
 * prove a save changed nothing. Each part's bytes from its first span to
 * the end of its last are copied in one go: only the spans are ever
 * compared (part_equal, and members_equal to name a difference). */
typedef struct Snapshot {
    uint8_t *buf;
    size_t cap;
} Snapshot;

/* Part i's bytes from its first compared span to the end of its last. */
static void part_range(const PartSpans *ps, size_t i, size_t *lo, size_t *hi)
{
    size_t k0 = ps->first[i], k1 = ps->first[i + 1];
    *lo = k0 < k1 ? ps->span[k0].off : 0;
    *hi = k0 < k1 ? ps->span[k1 - 1].off + ps->span[k1 - 1].len : 0;
}

/* Every part but those `skip` marks (NULL: none); a skipped part's bytes
 * in the snapshot are left as they were. */
static void snapshot_take(Snapshot *s, const PartSpans *ps, Parts m, const bool *skip)
{
    if (ps->total > s->cap) {
        free(s->buf);
        s->buf = calloc(ps->total, 1);
        if (!s->buf)
            abort();
        s->cap = ps->total;
    }
    for (size_t i = 0; i < ps->n_parts; i++) {
        if (skip && skip[i])
            continue;
        size_t lo, hi;
        part_range(ps, i, &lo, &hi);
        memcpy(s->buf + ps->at[i] + lo, (const uint8_t *)m[i]->state + lo, hi - lo);
    }
}

/* The snapshot holds each part's whole range (snapshot_take), so one
 * compare of the range decides when nothing in it changed, bytes between
 * spans included (the usual case: a save changes nothing); only when
 * something did do the spans decide (equal in the range: equal in every
 * span; so the answer is the spans' either way). */
static bool snapshot_equal(const Snapshot *s, const PartSpans *ps, Parts m, const bool *skip, LoopFinding *f)
{
    for (size_t i = 0; i < ps->n_parts; i++) {
        if (skip && skip[i])
            continue;
        const uint8_t *was = s->buf + ps->at[i], *now = m[i]->state;
        size_t lo, hi;
        part_range(ps, i, &lo, &hi);
        if (memcmp(was + lo, now + lo, hi - lo) && !part_equal(ps, i, m[i], was, now, f))
            return false;
    }
    return true;
}

/* ------------------------------------------------------ stream decoding */

/* Name the first difference between two streams of machines a and b. */
static void name_stream_diff(Machine *a, Machine *b, const VmsOut *sa, const VmsOut *sb,
                             const bool *omit, LoopFinding *f)
{
    size_t n = sa->len < sb->len ? sa->len : sb->len, off = 0;
    while (off < n && sa->buf[off] == sb->buf[off])
        off++;
    /* Re-save both with maps to name the spot (saves are pure, checked before). */
    VmsMap ma, mb;
    vms_map_init(&ma);
    vms_map_init(&mb);
    VmsOut ta, tb;
    vms_out_init(&ta, 0);
    vms_out_init(&tb, 0);
    VmsError err;
    VmsSaveOpts oa = { .no_vmdesc = true, .map = &ma, .omit_set = omit };
    VmsSaveOpts ob = { .no_vmdesc = true, .map = &mb, .omit_set = omit };
    bool ok = mach_save(a, &ta, &oa, &err) && mach_save(b, &tb, &ob, &err);
    const VmsSpan *span = ok ? vms_map_find(&ma, off) : NULL;
    if (!span && ok)
        span = vms_map_find(&mb, off);
    if (span) {
        VmsRegistry *r = mach_registry(a);
        if (span->section >= 0 && (size_t)span->section < r->n) {
            snprintf(f->where, sizeof(f->where), "%s", r->sec[span->section].idstr);
            f->instance = r->sec[span->section].instance_id;
        }
        size_t rel = off - span->offset;
        if (span->size <= 8 && span->offset + span->size <= n) {
            uint64_t va = 0, vb = 0;
            for (uint32_t i = 0; i < span->size; i++) {
                va = va << 8 | sa->buf[span->offset + i];
                vb = vb << 8 | sb->buf[span->offset + i];
            }
            snprintf(f->what, sizeof(f->what), "%s", span->path);
            snprintf(f->a, sizeof(f->a), "0x%" PRIx64, va);
            snprintf(f->b, sizeof(f->b), "0x%" PRIx64, vb);
        } else {
            snprintf(f->what, sizeof(f->what), "%s[+0x%zx]", span->path, rel);
            snprintf(f->a, sizeof(f->a), "0x%02x", off < sa->len ? sa->buf[off] : 0);
            snprintf(f->b, sizeof(f->b), "0x%02x", off < sb->len ? sb->buf[off] : 0);
        }
    } else {
        snprintf(f->what, sizeof(f->what), "(framing)");
        snprintf(f->a, sizeof(f->a), "0x%02x", off < sa->len ? sa->buf[off] : 0);
        snprintf(f->b, sizeof(f->b), "0x%02x", off < sb->len ? sb->buf[off] : 0);
    }
    vms_out_free(&ta);
    vms_out_free(&tb);
    vms_map_free(&ma);
    vms_map_free(&mb);
    size_t pos = strlen(f->detail);
    snprintf(f->detail + pos, sizeof(f->detail) - pos, " (stream offset %zu of %zu/%zu bytes)",
             off, sa->len, sb->len);
}

static bool streams_equal(const VmsOut *x, const VmsOut *y)
{
    return x->len == y->len && memcmp(x->buf, y->buf, x->len) == 0;
}

/* ------------------------------------------------------------ the twins */

/* One piece of tracked memory, for incremental checkpoints. */
typedef struct LoopTracked {
    size_t part;                /* its part (and section) index */
    size_t bm_len;              /* bytes of a page bitmap */
    uint8_t *dirty[3];          /* pages synced: A's, B's, scratch (after a save or load) */
} LoopTracked;

typedef enum OpKind { OP_RUN, OP_IDLE, OP_INPUT, OP_WRITE, OP_READ } OpKind;

/* Every operation applied to the twins, so an un-migrated machine can be
 * re-driven to any point for the instruction trace. */
typedef struct OpRec {
    uint8_t kind;
    uint32_t a, b, c;
    uint64_t cycle;             /* A's cycle after the operation */
} OpRec;

struct LoopTwin {
    const LoopConfig *cfg;
    const void *image;          /* firmware bytes, or NULL to read cfg->firmware */
    size_t image_len;
    Board board;                /* the configured board, overrides applied */
    DevConfig *devs;
    Machine *a, *b, *p;         /* p: power-on reference, never runs */
    EventLog ea, eb;
    VmsOut sa, sb, sb2;
    PartSpans spans;            /* every part's compared bytes */
    const MachShadow **parts[3];    /* A's, B's, p's parts (Parts) */
    Snapshot snap;
    LintRanges ranges;          /* B's ranged members, checked after each load */
    LoopOrder order;            /* B's load order (cfg->permute) */
    bool loading;               /* the checkpoint in progress got to B's load */
    OpRec *ops;
    size_t n_ops, cap_ops;
    uint64_t checkpoints;
    double phase[4];
    /* --precopy: B's live stream (loaded instead of sb), the plan's
     * generator, the finding a slice fills, and totals. */
    VmsOut live;
    uint64_t rng_live;
    LoopFinding *live_f;
    uint64_t live_passes, live_pages;
    /* Incremental checkpoints (LoopConfig.full_every): each twin's reader
     * of its dirty logs and, per piece of tracked memory (SRAM, device
     * buffers: mach_n_tracked), the pages its last sync reported.
     * inc_ready: A's and B's tracked memory was proven equal at the last
     * checkpoint, and both logs were synced then; without it the next
     * checkpoint is full. inc_skip: per part (and section), tracked memory
     * left out of incremental streams, snapshots and compares. */
    int reader[2];
    LoopTracked *mem;
    size_t n_mem;
    bool *inc_skip;
    bool inc_possible;          /* every piece of tracked memory is a part of its own */
    bool inc_ready, force_full, last_full;
    uint64_t full_checkpoints;
};

static Machine *twin(LoopTwin *t, int which) { return which ? t->b : t->a; }

static bool build_board(LoopTwin *t, LoopFinding *f)
{
    const LoopConfig *cfg = t->cfg;
    const Board *base = mach_board_find(cfg->board);
    if (!base) {
        finding_set(f, LOOP_SETUP, "unknown board '%s'", cfg->board);
        return false;
    }
    VmsMsg why = { { 0 } };
    if (!mach_board_override(base, cfg->overrides, cfg->n_overrides, &t->board, &t->devs, &why)) {
        finding_set(f, LOOP_SETUP, "%s", why.text);
        return false;
    }
    return true;
}

static Machine *build_machine(LoopTwin *t, LoopFinding *f)
{
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(&t->board, &why);
    if (!m) {
        finding_set(f, LOOP_SETUP, "cannot build board '%s': %s", t->board.name, why.text);
        return NULL;
    }
    bool ok = t->image ? mach_load_image(m, t->image, t->image_len, &why)
                       : mach_load_elf(m, t->cfg->firmware, &why);
    if (!ok) {
        finding_set(f, LOOP_SETUP, "%s", why.text);
        mach_free(m);
        return NULL;
    }
    if (!mach_desc_overrides(m, t->cfg->overrides, t->cfg->n_overrides, &why)) {
        finding_set(f, LOOP_SETUP, "%s", why.text);
        mach_free(m);
        return NULL;
    }
    mach_reset(m);
    return m;
}

void loop_twin_free(LoopTwin *t)
{
    if (!t)
        return;
    if (t->a)
        mach_free(t->a);
    if (t->b)
        mach_free(t->b);
    if (t->p)
        mach_free(t->p);
    free(t->devs);
    free(t->ea.ev);
    free(t->eb.ev);
    vms_out_free(&t->sa);
    vms_out_free(&t->sb);
    vms_out_free(&t->sb2);
    vms_out_free(&t->live);
    free(t->snap.buf);
    spans_free(&t->spans);
    lint_ranges_free(&t->ranges);
    for (int w = 0; w < 3; w++)
        free(t->parts[w]);
    free(t->inc_skip);
    for (size_t k = 0; k < t->n_mem; k++) {
        for (int j = 0; j < 3; j++)
            free(t->mem[k].dirty[j]);
    }
    free(t->mem);
    if (t->order.at)
        loop_order_free(&t->order);
    free(t->ops);
    free(t);
}

LoopTwin *loop_twin_new(const LoopConfig *cfg, const void *image, size_t len, LoopFinding *f)
{
    LoopTwin *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    memset(f, 0, sizeof(*f));
    f->instance = -1;
    t->cfg = cfg;
    t->image = image;
    t->image_len = len;
    vms_out_init(&t->sa, 0);
    vms_out_init(&t->sb, 0);
    vms_out_init(&t->sb2, 0);
    vms_out_init(&t->live, 0);
    t->rng_live = cfg->seed ^ 0x6c697665ull;
    if (!image && !cfg->firmware) {
        finding_set(f, LOOP_SETUP, "no firmware given");
        loop_twin_free(t);
        return NULL;
    }
    if (!build_board(t, f) || !(t->a = build_machine(t, f)) || !(t->b = build_machine(t, f)) ||
        !(t->p = build_machine(t, f))) {
        loop_twin_free(t);
        return NULL;
    }
    mach_set_event_sink(t->a, event_sink, &t->ea);
    mach_set_event_sink(t->b, event_sink, &t->eb);
    loop_order_init(&t->order, t->b, cfg->seed);
    spans_build(&t->spans, t->a);
    for (int w = 0; w < 3; w++) {
        Machine *m = w == 2 ? t->p : twin(t, w);
        if (!(t->parts[w] = malloc((t->spans.n_parts + 1) * sizeof(*t->parts[w]))))
            abort();
        for (size_t i = 0; i < t->spans.n_parts; i++)
            t->parts[w][i] = mach_shadow(m, i);
    }
    lint_ranges_init(&t->ranges, t->parts[1], t->spans.n_parts);
    t->inc_skip = calloc(mach_n_shadows(t->a), sizeof(*t->inc_skip));
    t->n_mem = mach_n_tracked(t->a);
    t->mem = calloc(t->n_mem, sizeof(*t->mem));
    t->reader[0] = mach_dirty_reader_new(t->a);
    t->reader[1] = mach_dirty_reader_new(t->b);
    bool ok = t->inc_skip && t->mem && t->reader[0] >= 0 && t->reader[1] >= 0;
    t->inc_possible = true;
    for (size_t k = 0; ok && k < t->n_mem; k++) {
        LoopTracked *tm = &t->mem[k];
        tm->part = mach_tracked_part(t->a, k);
        if (tm->part == SIZE_MAX) {
            t->inc_possible = false;    /* B could not keep it: every checkpoint full */
            continue;
        }
        t->inc_skip[tm->part] = true;
        tm->bm_len = (mach_tracked_pages(t->a, k) + 7) / 8;
        for (int j = 0; j < 3; j++)
            ok = ok && (tm->dirty[j] = calloc(tm->bm_len ? tm->bm_len : 1, 1));
    }
    if (!ok)
        abort();    /* out of host memory, or a machine with every reader taken */
    if (cfg->on_machine) {
        cfg->on_machine(t->a, 0, cfg->on_machine_opaque);
        cfg->on_machine(t->b, 1, cfg->on_machine_opaque);
    }
    return t;
}

Machine *loop_twin_machine(LoopTwin *t, int which) { return which ? t->b : t->a; }
const VmsOut *loop_twin_saved_a(LoopTwin *t) { return &t->sa; }
void loop_twin_forget_ops(LoopTwin *t) { t->n_ops = 0; }

bool loop_twin_stopped(LoopTwin *t)
{
    CpuRunState rs = mach_state(t->a);
    return rs == CPU_HALTED || rs == CPU_LOCKUP;
}

static void record_op(LoopTwin *t, OpKind k, uint32_t a, uint32_t b, uint32_t c)
{
    if (t->n_ops == t->cap_ops) {
        t->cap_ops = t->cap_ops ? t->cap_ops * 2 : 64;
        t->ops = realloc(t->ops, t->cap_ops * sizeof(*t->ops));
        if (!t->ops)
            abort();
    }
    t->ops[t->n_ops++] = (OpRec){ (uint8_t)k, a, b, c, mach_cycles(t->a) };
}

/* Run m until its clock reaches `target` or it stops. */
static void run_to(Machine *m, uint64_t target)
{
    while (mach_cycles(m) < target && mach_state(m) != CPU_LOCKUP && mach_state(m) != CPU_HALTED)
        mach_run(m, target - mach_cycles(m));
}

/* After every operation: same events, same time, same run state. */
static bool compare_after(LoopTwin *t, LoopFinding *f)
{
    size_t n = t->ea.n < t->eb.n ? t->ea.n : t->eb.n, i = 0;
    while (i < n && events_equal(&t->ea.ev[i], &t->eb.ev[i]))
        i++;
    bool ok = i == t->ea.n && i == t->eb.n;
    if (!ok) {
        const MachEvent *x = i < t->ea.n ? &t->ea.ev[i] : NULL;
        const MachEvent *y = i < t->eb.n ? &t->eb.ev[i] : NULL;
        const MachEvent *e = x ? x : y;
        format_event(f->a, sizeof(f->a), t->a, x);
        format_event(f->b, sizeof(f->b), t->b, y);
        f->cycle = e->cycle;
        f->instance = -1;
        snprintf(f->where, sizeof(f->where), "%s",
                 e->source < mach_n_devices(t->a) ? dev_name(mach_device(t->a, e->source)) : "core");
        snprintf(f->what, sizeof(f->what), "event %zu (%s)", i, event_kind_name(e->kind));
        finding_set(f, LOOP_BEHAVIOUR, "guest-visible behaviour differs: A and B emitted different events");
    }
    t->ea.n = t->eb.n = 0;
    if (ok && (mach_cycles(t->a) != mach_cycles(t->b) || mach_state(t->a) != mach_state(t->b))) {
        f->cycle = mach_cycles(t->a);
        f->instance = -1;
        snprintf(f->where, sizeof(f->where), "core");
        snprintf(f->what, sizeof(f->what), "run state");
        snprintf(f->a, sizeof(f->a), "cycle %" PRIu64 " state %d", mach_cycles(t->a), (int)mach_state(t->a));
        snprintf(f->b, sizeof(f->b), "cycle %" PRIu64 " state %d", mach_cycles(t->b), (int)mach_state(t->b));
        finding_set(f, LOOP_BEHAVIOUR, "A and B stopped at different points");
        ok = false;
    }
    return ok;
}

bool loop_twin_run(LoopTwin *t, uint64_t cycles, LoopFinding *f)
{
    uint64_t target = mach_cycles(t->a) + cycles;
    run_to(t->a, target);
    run_to(t->b, target);
    record_op(t, OP_RUN, 0, 0, 0);
    return compare_after(t, f);
}

bool loop_twin_idle(LoopTwin *t, uint64_t cycles, LoopFinding *f)
{
    mach_idle(t->a, cycles);
    mach_idle(t->b, cycles);
    record_op(t, OP_IDLE, (uint32_t)cycles, (uint32_t)(cycles >> 32), 0);
    return compare_after(t, f);
}

bool loop_twin_input(LoopTwin *t, unsigned dev, unsigned channel, uint32_t value, LoopFinding *f)
{
    mach_input(t->a, dev, channel, value);
    mach_input(t->b, dev, channel, value);
    record_op(t, OP_INPUT, dev, channel, value);
    return compare_after(t, f);
}

bool loop_twin_write(LoopTwin *t, uint32_t addr, unsigned size, uint32_t value, LoopFinding *f)
{
    bool ra = mach_bus_write(t->a, addr, size, value), rb = mach_bus_write(t->b, addr, size, value);
    record_op(t, OP_WRITE, addr, size, value);
    if (ra != rb) {
        f->cycle = mach_cycles(t->a);
        snprintf(f->where, sizeof(f->where), "bus");
        snprintf(f->what, sizeof(f->what), "write 0x%08" PRIx32 "/%u", addr, size);
        snprintf(f->a, sizeof(f->a), "%s", ra ? "ok" : "bus error");
        snprintf(f->b, sizeof(f->b), "%s", rb ? "ok" : "bus error");
        finding_set(f, LOOP_BEHAVIOUR, "a bus write succeeded on one twin only");
        return false;
    }
    return compare_after(t, f);
}

bool loop_twin_read(LoopTwin *t, uint32_t addr, unsigned size, LoopFinding *f)
{
    uint32_t va = 0, vb = 0;
    bool ra = mach_bus_read(t->a, addr, size, &va), rb = mach_bus_read(t->b, addr, size, &vb);
    record_op(t, OP_READ, addr, size, 0);
    if (ra != rb || va != vb) {
        f->cycle = mach_cycles(t->a);
        snprintf(f->where, sizeof(f->where), "bus");
        snprintf(f->what, sizeof(f->what), "read 0x%08" PRIx32 "/%u", addr, size);
        snprintf(f->a, sizeof(f->a), ra ? "0x%" PRIx32 : "bus error", va);
        snprintf(f->b, sizeof(f->b), rb ? "0x%" PRIx32 : "bus error", vb);
        finding_set(f, LOOP_BEHAVIOUR, "the guest reads different values from A and B");
        return false;
    }
    return compare_after(t, f);
}

static bool save_or_fail(Machine *m, VmsOut *out, const char *who, size_t *sec_start, const bool *omit,
                         LoopFinding *f)
{
    VmsError err;
    VmsSaveOpts opts = { .no_vmdesc = true, .map = NULL, .sec_start = sec_start, .omit_set = omit };
    vms_out_reset(out);
    if (mach_save(m, out, &opts, &err))
        return true;
    char line[VMS_ERROR_LINE_MAX];
    vms_error_format(&err, line, sizeof(line));
    snprintf(f->where, sizeof(f->where), "%s", err.section);
    snprintf(f->what, sizeof(f->what), "%s", err.field);
    f->instance = err.instance;
    finding_set(f, LOOP_PURITY, "saving %s failed: %s", who, line);
    return false;
}

/* The time since *mark goes to phase k (save, reset, load, compare), and
 * the mark moves to now: a checkpoint's phases follow one another, so one
 * clock read ends one phase and begins the next. */
static void phase_to(LoopTwin *t, int k, double *mark)
{
    double now = host_seconds();
    t->phase[k] += now - *mark;
    *mark = now;
}

/* Prefix the detail already in f (a member explanation) with context. */
static void finding_wrap(LoopFinding *f, LoopOracle o, const char *context)
{
    char d[sizeof(f->detail)];
    snprintf(d, sizeof(d), "%s", f->detail);
    finding_set(f, o, "%s%s", context, d);
}

static void range_finding(LoopFinding *f, const LintFinding *lf)
{
    snprintf(f->where, sizeof(f->where), "%s", lf->part);
    snprintf(f->what, sizeof(f->what), "%s", lf->member);
    snprintf(f->b, sizeof(f->b), "%s", lf->value);
    f->a[0] = 0;
    f->instance = -1;
    finding_set(f, LOOP_RANGE, "%s: %s", lf->rule, lf->detail);
}

static void probe_sink(void *opaque, const LintFinding *lf)
{
    LoopFinding *f = opaque;
    if (f->oracle == LOOP_OK)
        range_finding(f, lf);      /* the first one names the member */
}

/* After B's load: its ranged members are in range; at the first checkpoint
 * the power-on reference machine (reset again afterwards) also proves that
 * loads refuse values just outside each range, from B's real state. */
static bool ranges_hold(LoopTwin *t, LoopFinding *f)
{
    LintFinding lf;
    if (!lint_ranges_hold(&t->ranges, &lf)) {
        range_finding(f, &lf);
        return false;
    }
    if (t->checkpoints != 1)
        return true;
    f->oracle = LOOP_OK;
    return lint_probe_ranges(t->p, t->sb.buf, t->sb.len, probe_sink, f) == 0;
}

/* One checkpoint: every oracle in turn; false with f filled on the first
 * finding. Full, or incremental (SRAM through the dirty logs). */
static bool checkpoint_oracles(LoopTwin *t, LoopFinding *f, bool full);

/* A difference in interrupt line levels (a member declared DEV_IRQ_LINES,
 * the NVIC's inputs) is a symptom: the device driving the first differing
 * line is where to look, so the finding is named there. */
static void name_irq_driver(Machine *m, LoopFinding *f)
{
    const DevMember *mb = NULL;
    for (size_t i = 0; i < mach_n_shadows(m) && !mb; i++) {
        const MachShadow *sh = mach_shadow(m, i);
        if (strcmp(sh->name, f->where) && !(sh->vmsd && !strcmp(sh->vmsd->name, f->where)))
            continue;
        mb = dev_member_find(sh->members, f->what);
    }
    if (!mb || !mb->irq_lines)
        return;
    uint64_t a = strtoull(f->a, NULL, 0), b = strtoull(f->b, NULL, 0), diff = a ^ b;
    if (!diff)
        return;
    unsigned irq = (unsigned)__builtin_ctzll(diff), line;
    int dev = mach_irq_driver(m, irq, &line);
    if (dev < 0)
        return;
    snprintf(f->detail, sizeof(f->detail), "IRQ %u's level differs in %.32s '%.24s' (A 0x%" PRIx64 ", B 0x%"
             PRIx64 "); line %u of %.40s drives it: look at that device's load and hooks", irq, f->where,
             f->what, a, b, line, dev_name(mach_device(m, (size_t)dev)));
    snprintf(f->where, sizeof(f->where), "%s", dev_name(mach_device(m, (size_t)dev)));
    snprintf(f->what, sizeof(f->what), "irq line %u (NVIC IRQ %u)", line, irq);
    snprintf(f->a, sizeof(f->a), "%u", (unsigned)(a >> irq & 1));
    snprintf(f->b, sizeof(f->b), "%u", (unsigned)(b >> irq & 1));
    f->instance = -1;
}

static bool live_slice(void *opaque, uint64_t cycles)
{
    LoopTwin *t = opaque;
    return loop_twin_run(t, cycles, t->live_f);
}

/* --precopy: B migrates live while both twins run the same slices (so they
 * are still compared at one cycle); the pages its stream carries must be
 * B's SRAM once stopped, and the oracles then load that stream into B. */
static bool precopy_phase(LoopTwin *t, LoopFinding *f)
{
    LoopPrecopyPlan plan = { .passes = (unsigned)rng_range(&t->rng_live, 1, 4) };
    for (unsigned k = 0; k < plan.passes; k++)
        plan.slice[k] = rng_range(&t->rng_live, 100, 20000);
    LoopPrecopyResult res;
    VmsError err;
    vms_error_clear(&err);
    t->live_f = f;
    f->checkpoint = t->checkpoints + 1;
    if (!loop_precopy_save(t->b, &t->live, &plan, live_slice, t, false, &res, &err)) {
        if (err.cls == VMS_ERR_NONE)
            return false;       /* a slice diverged: f says how */
        char line[VMS_ERROR_LINE_MAX];
        vms_error_format(&err, line, sizeof(line));
        finding_set(f, LOOP_PRECOPY, "B's pre-copy save failed: %s", line);
        return false;
    }
    t->live_passes += res.passes;
    t->live_pages += res.pages_sent;
    if (res.stale_page < 0)
        return true;
    uint32_t lo = MACH_SRAM_BASE + (uint32_t)res.stale_page * MACH_PAGE_SIZE;
    int w = mach_page_writer(t->b, (size_t)res.stale_page);
    f->cycle = mach_cycles(t->b);
    f->instance = -1;
    snprintf(f->where, sizeof(f->where), "%s", w >= 0 ? dev_name(mach_device(t->b, (size_t)w)) : "sram");
    snprintf(f->what, sizeof(f->what), "page %ld (0x%08" PRIx32 "-0x%08" PRIx32 ") byte +0x%zx",
             res.stale_page, lo, lo + MACH_PAGE_SIZE - 1, res.stale_offset);
    snprintf(f->a, sizeof(f->a), "0x%02x (in B's memory)", res.stale_now);
    snprintf(f->b, sizeof(f->b), "0x%02x (as sent)", res.stale_sent);
    finding_set(f, LOOP_PRECOPY, "pre-copy: page %ld changed after its last pass but the dirty log never "
                "marked it, so a live migration resumes with the stale page; %s%s", res.stale_page,
                w >= 0 ? "the last device to write it is " : "no device wrote it through dev_mem_write",
                w >= 0 ? dev_name(mach_device(t->b, (size_t)w)) : "");
    return false;
}

/* The stream B loads: its own, with the device sections re-sent in a new
 * seeded order when the load-order oracle is on. */
static const VmsOut *loaded_stream(LoopTwin *t)
{
    if (!t->cfg->permute)
        return &t->sb;
    loop_order_shuffle(&t->order);
    loop_order_apply(&t->order, t->sb.buf, t->sb.len);
    return &t->order.out;
}

/* ----------------------------------------- incremental checkpoints */

/* The first page at or after p marked in m1 or m2 (bitmaps of len bytes;
 * NULL: none), or SIZE_MAX: whole zero bytes are skipped at once. */
static size_t next_marked(const uint8_t *m1, const uint8_t *m2, size_t len, size_t p)
{
    for (size_t i = p / 8; i < len; i++) {
        unsigned bits = (unsigned)(m1 ? m1[i] : 0) | (m2 ? m2[i] : 0);
        if (i == p / 8)
            bits &= 0xffu << (p % 8);
        if (bits)
            return i * 8 + (size_t)__builtin_ctz(bits);
    }
    return SIZE_MAX;
}

/* The pages twin `which`'s log of tracked memory k marked since its last
 * sync, into bm; how many. */
static size_t ram_sync(LoopTwin *t, int which, size_t k, uint8_t *bm)
{
    return mach_dirty_sync_tracked(twin(t, which), t->reader[which], k, bm, t->mem[k].bm_len);
}

/* Page p's bytes within a RAM part of `size` bytes (the last may be short). */
static size_t page_len(size_t size, size_t p)
{
    size_t off = p * MACH_PAGE_SIZE;
    return size - off < MACH_PAGE_SIZE ? size - off : MACH_PAGE_SIZE;
}

/* The pages marked in m1 or m2 are equal in x and y (images of RAM part
 * sh); otherwise f names the first differing byte, as a full compare does. */
static bool ram_pages_equal(const MachShadow *sh, size_t bm_len, const uint8_t *x, const uint8_t *y,
                            const uint8_t *m1, const uint8_t *m2, LoopFinding *f)
{
    for (size_t p = 0; (p = next_marked(m1, m2, bm_len, p)) != SIZE_MAX; p++) {
        size_t off = p * MACH_PAGE_SIZE;
        if (memcmp(x + off, y + off, page_len(sh->size, p)))
            return members_equal(sh, x, y, f);
    }
    return true;
}

/* After a full checkpoint, which proved A's and B's tracked memory equal:
 * every log clean. */
static void ram_rebase(LoopTwin *t)
{
    if (!t->inc_possible)
        return;
    for (size_t k = 0; k < t->n_mem; k++)
        for (int w = 0; w < 2; w++)
            ram_sync(t, w, k, t->mem[k].dirty[2]);
    t->inc_ready = true;
}

/* Incremental checkpoint, first of all: the pages either twin wrote since
 * the last checkpoint (dirty[0], dirty[1]). */
static void ram_catch_up(LoopTwin *t)
{
    for (size_t k = 0; k < t->n_mem; k++)
        for (int w = 0; w < 2; w++)
            ram_sync(t, w, k, t->mem[k].dirty[w]);
}

/* Tracked memory is equal in A and B in the pages marked in dirty[m1] or
 * dirty[m2] (-1: none). */
static bool ram_twins_equal(LoopTwin *t, int m1, int m2, LoopFinding *f)
{
    for (size_t k = 0; k < t->n_mem; k++) {
        LoopTracked *tm = &t->mem[k];
        const MachShadow *sa = t->parts[0][tm->part], *sb = t->parts[1][tm->part];
        if (!ram_pages_equal(sa, tm->bm_len, sa->state, sb->state, tm->dirty[m1], m2 >= 0 ? tm->dirty[m2] : NULL, f))
            return false;
    }
    return true;
}

/*
 * Incremental checkpoint, after twin `which` saved: the pages the save
 * wrote (if any) still hold what they held before it. What they held is
 * the other twin's: the checkpoint began by proving A's and B's tracked
 * memory equal, B is not yet saved when A is, and A's save was proven pure
 * before B's. So no copy of memory is kept between checkpoints, and a save
 * that writes no tracked memory (every shipped device's) costs one sync.
 */
static bool ram_save_pure(LoopTwin *t, int which, LoopFinding *f)
{
    for (size_t k = 0; k < t->n_mem; k++) {
        LoopTracked *tm = &t->mem[k];
        const MachShadow *sh = t->parts[which][tm->part], *before = t->parts[!which][tm->part];
        if (ram_sync(t, which, k, tm->dirty[2]) &&
            !ram_pages_equal(sh, tm->bm_len, before->state, sh->state, tm->dirty[2], NULL, f))
            return false;
    }
    return true;
}

/* After B's reset and load: pages a hook wrote are A's again. */
static bool ram_after_load(LoopTwin *t, LoopFinding *f)
{
    bool any = false;
    for (size_t k = 0; k < t->n_mem; k++)
        any |= ram_sync(t, 1, k, t->mem[k].dirty[2]) != 0;
    return !any || ram_twins_equal(t, 2, -1, f);
}

/* A purity finding's blame needs every part as it was before the save: an
 * incremental snapshot left tracked memory out, and the other twin has it
 * (ram_save_pure). */
static void blame_save(LoopTwin *t, int which, bool full, const VmsOut *saved, LoopFinding *f)
{
    for (size_t k = 0; !full && k < t->n_mem; k++) {
        const MachShadow *before = t->parts[!which][t->mem[k].part];
        memcpy(t->snap.buf + t->spans.at[t->mem[k].part], before->state, before->size);
    }
    finding_wrap(f, LOOP_PURITY, "saving changed ");
    loop_blame_save(t->p, saved->buf, saved->len, t->snap.buf, f);
}

/* Whether the next checkpoint compares everything (see loop.h, full_every). */
static bool next_is_full(const LoopTwin *t)
{
    uint32_t every = t->cfg->full_every;
    return !t->inc_ready || !t->inc_possible || t->force_full || t->cfg->precopy || every <= 1 || (t->checkpoints + 1) % every == 0;
}

/* A full-stream record of the state B saved, for the cause and order
 * analyses, which load it into the power-on reference. An incremental
 * checkpoint's streams left SRAM out, so B is saved whole again, or, once
 * its load went wrong, A (proven equal to B before the round trip), in
 * B's permuted order. */
static const VmsOut *full_stream_for_causes(LoopTwin *t, bool full)
{
    if (!full) {
        VmsError err;
        VmsSaveOpts opts = { .no_vmdesc = true, .sec_start = t->order.at };
        vms_out_reset(&t->sb);
        if (mach_save(t->loading ? t->a : t->b, &t->sb, &opts, &err) && t->cfg->permute && t->loading)
            loop_order_apply(&t->order, t->sb.buf, t->sb.len);
    }
    return t->cfg->permute && t->loading ? &t->order.out : &t->sb;
}

bool loop_twin_checkpoint(LoopTwin *t, LoopFinding *f)
{
    f->n_causes = 0;
    vms_out_reset(&t->live);
    if (t->cfg->precopy && !precopy_phase(t, f))
        return false;
    t->loading = false;
    bool full = next_is_full(t);
    t->last_full = f->full = full;
    t->full_checkpoints += full;
    if (checkpoint_oracles(t, f, full)) {
        /* The copies only serve an incremental checkpoint: none when the
         * next compares everything anyway (full_every 1, the explorer). */
        t->inc_ready = true;
        if (full && next_is_full(t))
            t->inc_ready = false;
        else if (full)
            ram_rebase(t);
        return true;
    }
    t->inc_ready = false;
    /* B's load went wrong: rank what differs, cause before symptom (the
     * power-on reference machine loads B's stream, then is reset). */
    bool load_wrong = t->loading && (f->oracle == LOOP_SHADOW || f->oracle == LOOP_FIXPOINT ||
                                     f->oracle == LOOP_LOAD);
    bool ranked = f->oracle == LOOP_SHADOW || f->oracle == LOOP_FIXPOINT;
    const VmsOut *in = load_wrong || ranked ? full_stream_for_causes(t, full) : &t->sb;
    if (ranked)
        loop_rank_causes(t->a, t->p, in->buf, in->len, f);
    name_irq_driver(t->b, f);
    if (load_wrong && t->cfg->permute)
        loop_order_blame(&t->order, t->a, t->p, t->sb.buf, t->sb.len, f);
    return false;
}

/* Before a run ends clean, when its last checkpoint was incremental: A and
 * B compared whole (streams with SRAM, every member of every part), so a
 * difference the incremental checkpoints could not see is still found. */
static bool closing_full_compare(LoopTwin *t, LoopFinding *f)
{
    if (!t->checkpoints || t->last_full)
        return true;
    f->checkpoint = t->checkpoints;
    f->cycle = mach_cycles(t->a);
    f->full = false;    /* after the checkpoints: a replay compares here too */
    if (!save_or_fail(t->a, &t->sa, "A", NULL, NULL, f) || !save_or_fail(t->b, &t->sb, "B", NULL, NULL, f))
        return false;
    if (!streams_equal(&t->sa, &t->sb)) {
        finding_set(f, LOOP_STATE, "at the run's closing full comparison, A's and B's streams differ");
        name_stream_diff(t->a, t->b, &t->sa, &t->sb, NULL, f);
        return false;
    }
    if (!loop_shadows_equal(t->a, t->b, f)) {
        finding_wrap(f, LOOP_SHADOW, "at the run's closing full comparison, ");
        return false;
    }
    t->last_full = true;
    return true;
}

/*
 * One checkpoint. A full one saves, resets and loads everything. An
 * incremental one (full = false) leaves tracked memory (SRAM, device
 * buffers) out of every stream: A's and B's were equal at the last
 * checkpoint, so only the pages either dirty log marked since can differ,
 * and those are compared directly, before anything else (so a difference
 * there is found before the saves, where a full checkpoint would find it in
 * the streams); B keeps its tracked memory through the round trip
 * (mach_reset_keep_ram, mach_load_keep_ram: a destination that already
 * holds guest memory), and a page a hook writes while B loads is compared
 * with A's at once. Every other part, and every oracle, is as in a full
 * checkpoint.
 */
static bool checkpoint_oracles(LoopTwin *t, LoopFinding *f, bool full)
{
    f->checkpoint = ++t->checkpoints;
    f->cycle = mach_cycles(t->a);
    const bool *skip = full ? NULL : t->inc_skip, *omit = skip;
    double mark = host_seconds();
    if (!full) {
        /* Tracked memory first: what the saves write of it is judged
         * against the other twin's (ram_save_pure). */
        ram_catch_up(t);
        if (!ram_twins_equal(t, 0, 1, f)) {
            finding_wrap(f, LOOP_SHADOW, "before the round trip, ");
            return false;
        }
    }
    /* A: its save must change nothing (then saving A is harmless). */
    snapshot_take(&t->snap, &t->spans, t->parts[0], skip);
    if (!save_or_fail(t->a, &t->sa, "A", NULL, omit, f))
        return false;
    if (!snapshot_equal(&t->snap, &t->spans, t->parts[0], skip, f) || (!full && !ram_save_pure(t, 0, f))) {
        blame_save(t, 0, full, &t->sa, f);
        return false;
    }
    /* B: the same, and a second save gives the same bytes. */
    snapshot_take(&t->snap, &t->spans, t->parts[1], skip);
    if (!save_or_fail(t->b, &t->sb, "B", t->order.at, omit, f))
        return false;
    if (!snapshot_equal(&t->snap, &t->spans, t->parts[1], skip, f) || (!full && !ram_save_pure(t, 1, f))) {
        blame_save(t, 1, full, &t->sb, f);
        return false;
    }
    if (!save_or_fail(t->b, &t->sb2, "B again", NULL, omit, f))
        return false;
    phase_to(t, 0, &mark);

    if (!streams_equal(&t->sb, &t->sb2)) {
        finding_set(f, LOOP_PURITY, "two saves of B without running differ");
        name_stream_diff(t->b, t->b, &t->sb, &t->sb2, omit, f);
        return false;
    }
    if (!streams_equal(&t->sa, &t->sb)) {
        finding_set(f, LOOP_STATE, "A's and B's streams differ");
        name_stream_diff(t->a, t->b, &t->sa, &t->sb, omit, f);
        return false;
    }
    if (!shadows_equal_but(&t->spans, t->parts[0], t->parts[1], skip, f)) {
        finding_wrap(f, LOOP_SHADOW, "before the round trip, ");
        return false;
    }
    phase_to(t, 3, &mark);

    /* B: reset must reach exactly the power-on state (A: power-on, B: after reset). */
    mach_set_event_sink(t->b, NULL, NULL);
    if (full)
        mach_reset(t->b);
    else
        mach_reset_keep_ram(t->b);
    phase_to(t, 1, &mark);
    if (!shadows_equal_but(&t->spans, t->parts[2], t->parts[1], skip, f)) {
        mach_set_event_sink(t->b, event_sink, &t->eb);
        finding_wrap(f, LOOP_RESET, "after reset, B differs from power-on: ");
        loop_blame_reset(t->b, t->sb.buf, t->sb.len, f);
        return false;
    }

    /* B: load its own stream (the live one with --precopy; otherwise with
     * device sections in a new seeded order); the load must accept it and
     * be a fixpoint. */
    phase_to(t, 3, &mark);
    const VmsOut *in = t->live.len ? &t->live : loaded_stream(t);
    t->loading = true;
    VmsError err;
    bool loaded = full ? mach_load(t->b, in->buf, in->len, &err) : mach_load_keep_ram(t->b, in->buf, in->len, &err);
    phase_to(t, 2, &mark);
    mach_set_event_sink(t->b, event_sink, &t->eb);
    if (!loaded) {
        char line[VMS_ERROR_LINE_MAX];
        vms_error_format(&err, line, sizeof(line));
        snprintf(f->where, sizeof(f->where), "%s", err.section);
        snprintf(f->what, sizeof(f->what), "%s", err.field);
        f->instance = err.instance;
        finding_set(f, LOOP_LOAD, "B's own stream was rejected: %s", line);
        return false;
    }
    if (!full) {
        /* Pages a hook wrote while B reset or loaded are A's again. */
        if (!ram_after_load(t, f)) {
            finding_wrap(f, LOOP_SHADOW, "after the round trip, ");
            return false;
        }
    }
    if (!save_or_fail(t->b, &t->sb2, "B after load", NULL, omit, f))
        return false;
    if (!streams_equal(&t->sb, &t->sb2)) {
        finding_set(f, LOOP_FIXPOINT, "save, reset, load, save changed the stream");
        name_stream_diff(t->b, t->b, &t->sb, &t->sb2, omit, f);
        return false;
    }
    if (!shadows_equal_but(&t->spans, t->parts[0], t->parts[1], skip, f)) {
        finding_wrap(f, LOOP_SHADOW, "after the round trip, ");
        return false;
    }
    if (!ranges_hold(t, f))
        return false;
    phase_to(t, 3, &mark);
    return true;
}

/* ------------------------------------------------------- reporting out */

static void print_trace(LoopTwin *t, FILE *out, uint64_t cycle)
{
    /* Re-drive an un-migrated machine with register capture up to the
     * finding; it is bit-identical to A, so its last instructions are A's. */
    LoopFinding dummy;
    Machine *m = build_machine(t, &dummy);
    if (!m)
        return;
    cpu_trace_regs(mach_cpu(m), true);
    for (size_t i = 0; i < t->n_ops && mach_cycles(m) < cycle; i++) {
        const OpRec *o = &t->ops[i];
        uint32_t v;
        switch ((OpKind)o->kind) {
        case OP_RUN: run_to(m, o->cycle < cycle ? o->cycle : cycle); break;
        case OP_IDLE: mach_idle(m, (uint64_t)o->b << 32 | o->a); break;
        case OP_INPUT: mach_input(m, o->a, o->b, o->c); break;
        case OP_WRITE: mach_bus_write(m, o->a, o->b, o->c); break;
        case OP_READ: mach_bus_read(m, o->a, o->b, &v); break;
        }
    }
    CpuTraceEntry e[32];
    size_t n = cpu_trace(mach_cpu(m), e, 32);
    fprintf(out, "last %zu guest instructions before cycle %" PRIu64 ":\n", n, mach_cycles(m));
    cpu_trace_print(e, n, true, out);
    mach_free(m);
}

static bool write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(p, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "vmstress: cannot write '%s': %s\n", path, strerror(errno));
    return ok;
}

bool loop_mkdirs(const char *path, char *err, size_t errlen)
{
    char p[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(p)) {
        snprintf(err, errlen, "cannot create results folder '%s': %s", path, n ? "path too long" : "empty path");
        return false;
    }
    memcpy(p, path, n + 1);
    /* Each parent in turn, then the folder itself; existing folders are fine. */
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        char c = p[i];
        p[i] = 0;
        struct stat st;
        if (mkdir(p, 0777) != 0 && (errno != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) {
            snprintf(err, errlen, "cannot create results folder '%s': %s", p,
                     errno == EEXIST ? "exists and is not a folder" : strerror(errno));
            return false;
        }
        p[i] = c;
    }
    return true;
}

/* Everything a finding needs, each file complete before the run reports it.
 * The streams are those of `shown` (the twin the finding is in: t, or the
 * explorer's), the trace is A's (t's). False (each failure said on stderr)
 * if any piece is missing. */
static bool write_results(LoopTwin *t, LoopTwin *shown, const uint64_t *sched, size_t n_sched,
                          const LoopFinding *fi, const LoopStats *st)
{
    const char *dir = t->cfg->results_dir;
    char err[4200];
    if (!dir)
        return false;
    if (!loop_mkdirs(dir, err, sizeof(err))) {
        fprintf(stderr, "vmstress: %s\n", err);
        return false;
    }
    json_t *j = loop_result_json(t->cfg, fi, st, 1);
    char *js = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    bool ok = js && write_file(dir, "report.json", js, strlen(js));
    free(js);
    /* Both machines' current streams, with descriptions, for analyze-migration.py. */
    VmsOut o;
    vms_out_init(&o, 0);
    VmsError verr;
    VmsSaveOpts opts = { 0 };
    ok &= mach_save(shown->a, &o, &opts, &verr) && write_file(dir, "a.bin", o.buf, o.len);
    vms_out_reset(&o);
    ok &= mach_save(shown->b, &o, &opts, &verr) && write_file(dir, "b.bin", o.buf, o.len);
    vms_out_free(&o);
    /* With --precopy, the live stream B was sent (passes, last pages and
     * devices) is evidence too: it is what B loaded, not what B saves. */
    if (shown->live.len)
        ok &= write_file(dir, "b-precopy.bin", shown->live.buf, shown->live.len);
    char path[4096];
    snprintf(path, sizeof(path), "%s/repro.json", dir);
    if (!loop_repro_write(path, t->cfg, sched, n_sched, fi)) {
        fprintf(stderr, "vmstress: cannot write '%s'\n", path);
        ok = false;
    }
    /* The human report and summary, as the run prints them (a CI log). */
    char *text = NULL;
    size_t text_len = 0;
    FILE *mf = open_memstream(&text, &text_len);
    if (mf) {
        loop_print_finding(mf, fi);
        loop_print_summary(mf, t->cfg, st, 1);
        fclose(mf);
    }
    ok &= text && write_file(dir, "log.txt", text, text_len);
    free(text);
    text = NULL;
    mf = open_memstream(&text, &text_len);
    if (mf) {
        print_trace(t, mf, fi->cycle);
        fclose(mf);
    }
    ok &= text && write_file(dir, "trace.txt", text, text_len);
    free(text);
    return ok;
}

/* ------------------------------------------------------- the seeded run */

typedef struct Driver {
    const LoopConfig *cfg;
    uint64_t rng_ckpt, rng_input, rng_idle;
    uint64_t *sched;            /* checkpoint cycles so far (for the reproducer) */
    size_t n_sched, cap_sched;
} Driver;

static void sched_push(Driver *d, uint64_t c)
{
    if (d->n_sched == d->cap_sched) {
        d->cap_sched = d->cap_sched ? d->cap_sched * 2 : 64;
        d->sched = realloc(d->sched, d->cap_sched * sizeof(*d->sched));
        if (!d->sched)
            abort();
    }
    d->sched[d->n_sched++] = c;
}

static uint64_t next_checkpoint(Driver *d, uint64_t now)
{
    const LoopConfig *c = d->cfg;
    if (c->schedule) {
        for (size_t i = 0; i < c->schedule_len; i++)
            if (c->schedule[i] > now)
                return c->schedule[i];
        return UINT64_MAX;
    }
    return now + rng_range(&d->rng_ckpt, c->interval_min ? c->interval_min : 1,
                           c->interval_max ? c->interval_max : 1);
}

/* A random host input to a device that takes some, in board order. */
static bool pick_input(Driver *d, Machine *m, unsigned *dev, unsigned *ch, uint32_t *val)
{
    size_t n = mach_n_devices(m), with = 0;
    for (size_t i = 0; i < n; i++)
        if (mach_device_type(m, i)->input)
            with++;
    if (!with)
        return false;
    size_t k = loop_rng_next(&d->rng_input) % with;
    for (size_t i = 0; i < n; i++) {
        const DevType *ty = mach_device_type(m, i);
        if (!ty->input || k--)
            continue;
        unsigned channels = 0;
        while (ty->inputs && ty->inputs[channels])
            channels++;
        *dev = (unsigned)i;
        *ch = channels ? (unsigned)(loop_rng_next(&d->rng_input) % channels) : 0;
        *val = (uint32_t)loop_rng_next(&d->rng_input);
        return true;
    }
    return false;
}

/*
 * Fast-forward: after one checkpoint in FFWD_ONE_IN (seeded), both twins
 * idle with the core held (as a descheduled vCPU) for 2^k cycles, k uniform
 * in [FFWD_MIN_LOG2, FFWD_MAX_LOG2]: mostly short, now and then beyond the
 * watchdog's two timeouts (a system reset) or past an RTC alarm a second
 * away. Timers fire as they fall due, identically in both. The next
 * checkpoint, already due, lands right after the jump. The decisions come
 * from the seed alone, so a replay makes the same ones.
 */
#define FFWD_ONE_IN 32
#define FFWD_MIN_LOG2 10
#define FFWD_MAX_LOG2 28        /* 2.7 guest seconds at 100 MHz */

static bool fast_forward(LoopTwin *t, Driver *d, LoopFinding *f)
{
    if (loop_rng_next(&d->rng_idle) % FFWD_ONE_IN)
        return true;
    uint64_t cycles = 1ull << rng_range(&d->rng_idle, FFWD_MIN_LOG2, FFWD_MAX_LOG2);
    uint64_t now = mach_cycles(t->a), end = d->cfg->max_cycles;
    if (end && now + cycles > end)
        cycles = end > now ? end - now : 0;
    return loop_twin_idle(t, cycles, f);
}

static void progress(const LoopConfig *cfg, LoopStats *st, double t_start, bool final)
{
    st->seconds = host_seconds() - t_start;
    if (cfg->on_progress)
        cfg->on_progress(st, cfg->progress_opaque);
    FILE *out = cfg->progress;
    if (!out)
        return;
    double el = st->seconds;
    fprintf(out, "\r%7.1fs  checkpoints %" PRIu64 "  round trips/s %.0f  guest MIPS %.1f  divergences 0%s",
            el, st->checkpoints, el > 0 ? (double)st->checkpoints / el : 0.0,
            el > 0 ? (double)st->cycles / el / 1e6 : 0.0, final ? "\n" : "");
    fflush(out);
}

int loop_run(const LoopConfig *cfg, LoopFinding *f, LoopStats *st)
{
    memset(st, 0, sizeof(*st));
    LoopTwin *t = loop_twin_new(cfg, NULL, 0, f);
    if (!t)
        return 2;
    Driver d = { .cfg = cfg, .rng_ckpt = cfg->seed ^ 0x636b7074ull, /* independent streams for */
                 .rng_input = cfg->seed ^ 0x696e7075ull,            /* schedule, inputs */
                 .rng_idle = cfg->seed ^ 0x69646c65ull };           /* and fast-forwards */
    LoopExplore *x = NULL;
    if (cfg->explore_every && !(x = loop_explore_new(cfg, f))) {
        loop_twin_free(t);
        return 2;
    }
    LoopTwin *found_in = t;     /* the twin whose machines show the finding */
    double t_start = host_seconds(), t_progress = t_start;
    uint64_t next_ckpt = next_checkpoint(&d, 0), dirty_from = 0;
    if (cfg->dirty_log)
        mach_dirty_sync(t->a, NULL, 0);     /* power-on zeroed SRAM: not the guest's writes */
    uint64_t next_input = cfg->input_every ? rng_range(&d.rng_input, 1, 2ull * cfg->input_every) : UINT64_MAX;
    int status = 0;
    for (;;) {
        uint64_t now = mach_cycles(t->a);
        uint64_t target = next_ckpt < next_input ? next_ckpt : next_input;
        if (cfg->max_cycles && target > cfg->max_cycles)
            target = cfg->max_cycles;
        if (!loop_twin_run(t, target > now ? target - now : 0, f)) {
            status = 1;
            break;
        }
        st->cycles = now = mach_cycles(t->a);
        if (mach_state(t->a) == CPU_LOCKUP) {
            /* Both twins locked up alike (behaviour is compared): the guest
             * is broken, and a run that stopped exercising it proves nothing. */
            finding_set(f, LOOP_SETUP, "guest locked up at cycle %" PRIu64 " (pc 0x%08x) after %" PRIu64
                        " checkpoints", now, cpu_reg(mach_cpu(t->a), 15), t->checkpoints);
            status = 2;
            break;
        }
        if (loop_twin_stopped(t)) {
            st->guest_exited = true;
            st->exit_code = mach_exit_code(t->a);
            break;
        }
        if (now >= next_input) {
            unsigned dev, ch;
            uint32_t val;
            if (pick_input(&d, t->a, &dev, &ch, &val) && !loop_twin_input(t, dev, ch, val, f)) {
                status = 1;
                break;
            }
            next_input = now + rng_range(&d.rng_input, 1, 2ull * cfg->input_every);
        }
        if (now >= next_ckpt) {
            sched_push(&d, now);
            if (cfg->dirty_log) {
                loop_dirty_account(&st->dirty, t->a, now - dirty_from);
                dirty_from = now;
            }
            /* A bounded run's last checkpoint compares everything, and so
             * does a replay's when the run's did. */
            t->force_full = (cfg->max_checkpoints && t->checkpoints + 1 >= cfg->max_checkpoints) ||
                            (cfg->schedule && cfg->full_last && t->checkpoints + 1 == cfg->schedule_len);
            if (!loop_twin_checkpoint(t, f)) {
                status = 1;
                break;
            }
            st->checkpoints = t->checkpoints;
            if (x && t->checkpoints % cfg->explore_every == 0 && !loop_explore_step(x, loop_twin_saved_a(t), f)) {
                found_in = loop_explore_twin(x);
                f->checkpoint = t->checkpoints;     /* numbered in the run, not in the explorer */
                status = 1;
                break;
            }
            next_ckpt = next_checkpoint(&d, now);
            if (cfg->max_checkpoints && st->checkpoints >= cfg->max_checkpoints)
                break;
            if (cfg->fast_forward && !fast_forward(t, &d, f)) {
                status = 1;
                break;
            }
        }
        if ((cfg->max_cycles && now >= cfg->max_cycles) || (cfg->schedule && next_ckpt == UINT64_MAX && !cfg->max_cycles))
            break;
        if (cfg->stop && *cfg->stop) {
            st->interrupted = true;
            break;
        }
        double tn = host_seconds();
        if (cfg->max_seconds > 0 && tn - t_start >= cfg->max_seconds)
            break;
        if (tn - t_progress >= 0.5) {
            progress(cfg, st, t_start, false);
            t_progress = tn;
        }
    }
    /* No run ends clean on incremental comparisons alone. */
    if (status == 0 && !closing_full_compare(t, f))
        status = 1;
    st->checkpoints = t->checkpoints;
    st->full_checkpoints = t->full_checkpoints;
    loop_explore_finish(x, st);
    st->seconds = host_seconds() - t_start;
    st->bytes_saved = t->sb.len;
    st->precopy_passes = t->live_passes;
    st->precopy_pages = t->live_pages;
    for (int k = 0; k < 4; k++)
        st->phase_us[k] = st->checkpoints ? t->phase[k] * 1e6 / (double)st->checkpoints : 0;
    if (status == 0 && st->checkpoints == 0 && !cfg->schedule) {
        /* No round trip happened: nothing was tested, which is not "clean". */
        if (st->guest_exited)
            finding_set(f, LOOP_SETUP, "guest exited with code %d at cycle %" PRIu64 ", before the first checkpoint",
                        st->exit_code, st->cycles);
        else if (st->interrupted)
            finding_set(f, LOOP_SETUP, "interrupted before the first checkpoint");
        else
            finding_set(f, LOOP_SETUP, "no checkpoint reached in %" PRIu64 " guest cycles (first due at cycle %"
                        PRIu64 "; raise the bound or lower --interval-min)", st->cycles, next_ckpt);
        status = 2;
    } else if (status == 0 && st->guest_exited && st->exit_code != 0) {
        /* Both twins failed alike (behaviour is compared as it happens), so
         * this is no migration bug, but the workload stopped testing. */
        finding_set(f, LOOP_SETUP, "guest exited with code %d at cycle %" PRIu64 " after %" PRIu64
                    " checkpoints: the workload failed", st->exit_code, st->cycles, st->checkpoints);
        status = 2;
    }
    if (status == 0)
        progress(cfg, st, t_start, true);
    else if (cfg->progress)
        fputc('\n', cfg->progress);
    if (status == 1)
        st->results_written = write_results(t, found_in, d.sched, d.n_sched, f, st);
    free(d.sched);
    loop_explore_free(x);
    loop_twin_free(t);
    return status;
}

/* ------------------------------------------------------------ output */

void loop_print_finding(FILE *out, const LoopFinding *fi)
{
    fprintf(out, "DIVERGENCE (%s) at checkpoint %" PRIu64 ", guest cycle %" PRIu64 "\n",
            loop_oracle_name(fi->oracle), fi->checkpoint, fi->cycle);
    if (fi->where[0]) {
        fprintf(out, "  in:    %s", fi->where);
        if (fi->instance >= 0)
            fprintf(out, " instance %" PRId64, fi->instance);
        fputc('\n', out);
    }
    if (fi->what[0])
        fprintf(out, "  field: %s\n  A:     %s\n  B:     %s\n", fi->what, fi->a, fi->b);
    fprintf(out, "  why:   %s\n", fi->detail);
    /* A lone cause of a shadow diff is its why already. */
    if (fi->n_causes > 1 || (fi->n_causes == 1 && fi->oracle != LOOP_SHADOW))
        for (size_t k = 0; k < fi->n_causes; k++)
            fprintf(out, "  cause %zu: %s\n", k + 1, fi->causes[k]);
}

void loop_print_summary(FILE *out, const LoopConfig *cfg, const LoopStats *st, int status)
{
    fprintf(out,
            "vmstress run: %s, workload %s, seed %" PRIu64 ": %" PRIu64 " checkpoints, %" PRIu64
            " guest cycles in %.1f s (%.0f round trips/s); %s\n",
            cfg->board, cfg->workload, cfg->seed, st->checkpoints, st->cycles, st->seconds,
            st->seconds > 0 ? (double)st->checkpoints / st->seconds : 0.0,
            status == 0 ? "0 divergences" : status == 1 ? "1 divergence" : "error");
    if (st->interrupted)
        fputs("  interrupted: the run ended early, after its last complete checkpoint\n", out);
    if (st->checkpoints)
        fprintf(out, "  per checkpoint: save %.1f us, reset %.1f us, load %.1f us, compare %.1f us; stream %" PRIu64
                " bytes; %" PRIu64 " full, the rest incremental\n",
                st->phase_us[0], st->phase_us[1], st->phase_us[2], st->phase_us[3], st->bytes_saved,
                st->full_checkpoints);
    if (st->explored)
        fprintf(out, "  explored %" PRIu64 " states: %" PRIu64 " of %" PRIu64 " field bits seen both as 0 and as 1 (%.1f%%)\n",
                st->explored, st->bits_both, st->bits, st->bits ? 100.0 * (double)st->bits_both / (double)st->bits : 0.0);
    if (st->guest_exited)
        fprintf(out, "  guest exited with code %d\n", st->exit_code);
    loop_dirty_print(out, &st->dirty);
    if (cfg->precopy && st->checkpoints)
        fprintf(out, "  pre-copy: %" PRIu64 " live passes, %.1f pages sent per checkpoint\n",
                st->precopy_passes, (double)st->precopy_pages / (double)st->checkpoints);
}

void *loop_result_json(const LoopConfig *cfg, const LoopFinding *fi, const LoopStats *st, int status)
{
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string(status == 0 ? "clean" : status == 1 ? "divergence" : "error"));
    json_object_set_new(j, "board", json_string(cfg->board));
    json_object_set_new(j, "workload", json_string(cfg->workload ? cfg->workload : ""));
    json_object_set_new(j, "seed", json_integer((json_int_t)cfg->seed));
    json_object_set_new(j, "checkpoints", json_integer((json_int_t)st->checkpoints));
    json_object_set_new(j, "guest_cycles", json_integer((json_int_t)st->cycles));
    json_object_set_new(j, "seconds", json_real(st->seconds));
    json_object_set_new(j, "round_trips_per_second",
                        json_real(st->seconds > 0 ? (double)st->checkpoints / st->seconds : 0));
    json_t *ph = json_object();
    static const char *const phases[4] = { "save_us", "reset_us", "load_us", "compare_us" };
    for (int k = 0; k < 4; k++)
        json_object_set_new(ph, phases[k], json_real(st->phase_us[k]));
    json_object_set_new(j, "phases", ph);
    json_object_set_new(j, "interrupted", json_boolean(st->interrupted));
    json_object_set_new(j, "explored", json_integer((json_int_t)st->explored));
    json_object_set_new(j, "full_checkpoints", json_integer((json_int_t)st->full_checkpoints));
    json_object_set_new(j, "bits", json_pack("{sIsIsf}", "total", (json_int_t)st->bits, "both", (json_int_t)st->bits_both,
                                             "percent", st->bits ? 100.0 * (double)st->bits_both / (double)st->bits : 0.0));
    if (cfg->dirty_log)
        json_object_set_new(j, "dirty_log", loop_dirty_json(&st->dirty));
    if (cfg->precopy) {
        json_t *pc = json_object();
        json_object_set_new(pc, "passes", json_integer((json_int_t)st->precopy_passes));
        json_object_set_new(pc, "pages_sent", json_integer((json_int_t)st->precopy_pages));
        json_object_set_new(j, "precopy", pc);
    }
    if (status != 0) {
        json_t *d = json_object();
        json_object_set_new(d, "oracle", json_string(loop_oracle_name(fi->oracle)));
        json_object_set_new(d, "checkpoint", json_integer((json_int_t)fi->checkpoint));
        json_object_set_new(d, "cycle", json_integer((json_int_t)fi->cycle));
        json_object_set_new(d, "where", json_string(fi->where));
        json_object_set_new(d, "instance", json_integer(fi->instance));
        json_object_set_new(d, "field", json_string(fi->what));
        json_object_set_new(d, "a", json_string(fi->a));
        json_object_set_new(d, "b", json_string(fi->b));
        json_object_set_new(d, "detail", json_string(fi->detail));
        json_t *causes = json_array();
        for (size_t k = 0; k < fi->n_causes; k++)
            json_array_append_new(causes, json_string(fi->causes[k]));
        json_object_set_new(d, "causes", causes);
        json_object_set_new(j, "divergence", d);
    }
    return j;
}

/* --------------------------------------------------------- reproducers */

bool loop_repro_write(const char *path, const LoopConfig *cfg, const uint64_t *sched, size_t n,
                      const LoopFinding *fi)
{
    json_t *j = json_object();
    json_object_set_new(j, "vmstress_reproducer", json_integer(1));
    json_object_set_new(j, "program", json_string(cfg->program ? cfg->program : "vmstress"));
    /* The machine type, not an alias: a later release replays the same type. */
    const Board *b = mach_board_find(cfg->board);
    json_object_set_new(j, "board", json_string(b ? b->name : cfg->board));
    json_object_set_new(j, "firmware", json_string(cfg->firmware_name ? cfg->firmware_name : cfg->firmware));
    uint64_t h;
    char herr[512], hex[17];
    if (!loop_file_hash(cfg->firmware, &h, herr, sizeof(herr))) {
        json_decref(j);
        fprintf(stderr, "vmstress: %s\n", herr);
        return false;
    }
    snprintf(hex, sizeof(hex), "%016" PRIx64, h);
    json_object_set_new(j, "firmware_fnv1a64", json_string(hex));
    json_object_set_new(j, "workload", json_string(cfg->workload ? cfg->workload : ""));
    json_object_set_new(j, "seed", json_integer((json_int_t)cfg->seed));
    json_object_set_new(j, "input_every", json_integer(cfg->input_every));
    json_object_set_new(j, "explore_every", json_integer(cfg->explore_every));
    if (cfg->precopy)
        json_object_set_new(j, "precopy", json_true());    /* B migrated live */
    json_t *ov = json_array();
    for (size_t i = 0; i < cfg->n_overrides; i++)
        json_array_append_new(ov, json_string(cfg->overrides[i]));
    json_object_set_new(j, "overrides", ov);       /* the plant list (vmstress-planted) */
    json_object_set_new(j, "permute", json_boolean(cfg->permute));
    json_object_set_new(j, "fast_forward", json_boolean(cfg->fast_forward));
    /* How the run compared: a replay compares the same checkpoints whole. */
    json_object_set_new(j, "full_every", json_integer(cfg->full_every));
    json_object_set_new(j, "full_last", json_boolean(fi && fi->full));
    json_t *s = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(s, json_integer((json_int_t)sched[i]));
    json_object_set_new(j, "checkpoints", s);
    if (fi) {
        json_object_set_new(j, "expect_oracle", json_string(loop_oracle_name(fi->oracle)));
        json_object_set_new(j, "expect_where", json_string(fi->where));
        json_object_set_new(j, "expect_field", json_string(fi->what));
        json_object_set_new(j, "expect_checkpoint", json_integer((json_int_t)fi->checkpoint));
        /* Where the replay stops: the finding's cycle (a behaviour divergence
         * may come after the last checkpoint). */
        json_object_set_new(j, "stop_cycle", json_integer((json_int_t)fi->cycle));
    }
    int rc = json_dump_file(j, path, JSON_INDENT(2));
    json_decref(j);
    return rc == 0;
}

static const char *str_or_empty(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

static const char *dup_str(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? strdup(s) : NULL;
}

/* Firmware images are flash-sized; anything larger is not one. */
#define LOOP_FIRMWARE_MAX (64u << 20)

bool loop_file_hash(const char *path, uint64_t *hash, char *err, size_t errlen)
{
    VmsMsg why;
    uint8_t *buf;
    size_t len;
    if (!vms_read_input(path, LOOP_FIRMWARE_MAX, &buf, &len, &why)) {
        snprintf(err, errlen, "%s", why.text);
        return false;
    }
    *hash = vms_fnv1a64(VMS_FNV1A64_INIT, buf, len);
    free(buf);
    return true;
}

/* The reproducer's JSON, opened as any input (regular file or "-"). */
static json_t *load_json_input(const char *path, char *err, size_t errlen)
{
    VmsMsg why;
    FILE *f = vms_open_input(path, &why);
    if (!f) {
        snprintf(err, errlen, "%s", why.text);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadf(f, 0, &je);
    if (f != stdin)
        fclose(f);
    if (!j)
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    else if (!json_is_object(j))
        snprintf(err, errlen, "%s: not a JSON object", path);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* The stored firmware hash, 16 hex digits; false if absent or malformed. */
static bool parse_hash(json_t *j, uint64_t *h)
{
    const char *s = json_string_value(json_object_get(j, "firmware_fnv1a64"));
    char *end;
    if (!s || strlen(s) != 16)
        return false;
    errno = 0;
    *h = strtoull(s, &end, 16);
    return !errno && !*end;
}

bool loop_repro_read(const char *path, LoopConfig *cfg, LoopFinding *expect, char *err, size_t errlen)
{
    loop_config_defaults(cfg);
    memset(expect, 0, sizeof(*expect));
    json_t *j = load_json_input(path, err, errlen);
    if (!j)
        return false;
    uint64_t hash = 0;
    json_t *ie = json_object_get(j, "input_every");
    json_t *sched = json_object_get(j, "checkpoints"), *ov = json_object_get(j, "overrides");
    const char *missing = !json_is_integer(json_object_get(j, "vmstress_reproducer")) ? "vmstress_reproducer"
                          : !json_is_string(json_object_get(j, "board"))              ? "board"
                          : !json_is_string(json_object_get(j, "firmware"))           ? "firmware"
                          : !parse_hash(j, &hash)                                     ? "firmware_fnv1a64"
                          : !json_is_integer(json_object_get(j, "seed"))              ? "seed"
                          : !json_is_array(sched)                                     ? "checkpoints"
                          : (ov && !json_is_array(ov))                                ? "overrides"
                          : (ie && (!json_is_integer(ie) || json_integer_value(ie) < 0 ||
                                    json_integer_value(ie) > UINT32_MAX))              ? "input_every"
                                                                                      : NULL;
    if (missing) {
        snprintf(err, errlen, "%s: missing or mistyped key '%s'", path, missing);
        json_decref(j);
        return false;
    }
    size_t n = json_array_size(sched);
    if (n > LOOP_REPRO_MAX_CHECKPOINTS) {
        snprintf(err, errlen, "%s: %zu checkpoints; a reproducer may ask for at most %u", path, n,
                 LOOP_REPRO_MAX_CHECKPOINTS);
        json_decref(j);
        return false;
    }
    uint64_t *s = calloc(n ? n : 1, sizeof(uint64_t));
    const char **o = calloc(json_array_size(ov) + 1, sizeof(char *));
    if (!s || !o)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(sched, i);
        if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
            (uint64_t)json_integer_value(v) > LOOP_REPRO_MAX_CYCLES ||
            (i && (uint64_t)json_integer_value(v) <= s[i - 1])) {
            snprintf(err, errlen, "%s: checkpoints[%zu] is not an ascending cycle in 1..%llu", path, i,
                     (unsigned long long)LOOP_REPRO_MAX_CYCLES);
            free(s);
            free(o);
            json_decref(j);
            return false;
        }
        s[i] = (uint64_t)json_integer_value(v);
    }
    for (size_t i = 0; i < json_array_size(ov); i++) {
        const char *v = json_string_value(json_array_get(ov, i));
        o[i] = strdup(v ? v : "");
    }
    cfg->board = dup_str(j, "board");
    cfg->firmware = dup_str(j, "firmware");
    cfg->workload = dup_str(j, "workload");
    cfg->program = dup_str(j, "program");
    cfg->firmware_hash = hash;
    cfg->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    cfg->input_every = json_is_integer(ie) ? (uint32_t)json_integer_value(ie) : 0;
    /* Reproducers from before exploration have none. */
    json_t *ee = json_object_get(j, "explore_every");
    cfg->explore_every = json_is_integer(ee) && json_integer_value(ee) >= 0 && json_integer_value(ee) <= UINT32_MAX
                             ? (uint32_t)json_integer_value(ee) : 0;
    cfg->precopy = json_is_true(json_object_get(j, "precopy"));
    /* Reproducers from before these options ran without them. */
    cfg->permute = json_is_true(json_object_get(j, "permute"));
    cfg->fast_forward = json_is_true(json_object_get(j, "fast_forward"));
    /* Reproducers from before incremental checkpoints compared every
     * checkpoint whole. */
    json_t *fe = json_object_get(j, "full_every");
    cfg->full_every = json_is_integer(fe) && json_integer_value(fe) >= 0 && json_integer_value(fe) <= UINT32_MAX
                          ? (uint32_t)json_integer_value(fe) : 1;
    cfg->full_last = json_is_true(json_object_get(j, "full_last"));
    cfg->schedule = s;
    cfg->schedule_len = n;
    /* Never past the cycle the finding needed: the replay is bounded. */
    cfg->max_cycles = n ? s[n - 1] : 1;
    json_int_t stop = json_integer_value(json_object_get(j, "stop_cycle"));
    if (stop > 0 && (uint64_t)stop <= LOOP_REPRO_MAX_CYCLES && (uint64_t)stop > cfg->max_cycles)
        cfg->max_cycles = (uint64_t)stop;
    cfg->overrides = o;
    cfg->n_overrides = json_array_size(ov);
    const char *eo = json_string_value(json_object_get(j, "expect_oracle"));
    for (int k = LOOP_OK; eo && k <= LOOP_ORDER; k++)
        if (!strcmp(eo, loop_oracle_name((LoopOracle)k)))
            expect->oracle = (LoopOracle)k;
    snprintf(expect->where, sizeof(expect->where), "%s", str_or_empty(j, "expect_where"));
    snprintf(expect->what, sizeof(expect->what), "%s", str_or_empty(j, "expect_field"));
    expect->checkpoint = (uint64_t)json_integer_value(json_object_get(j, "expect_checkpoint"));
    json_decref(j);
    return true;
}

void loop_repro_free(LoopConfig *cfg)
{
    free((void *)cfg->board);
    free((void *)cfg->firmware);
    free((void *)cfg->workload);
    free((void *)cfg->program);
    free((void *)cfg->schedule);
    for (size_t i = 0; i < cfg->n_overrides; i++)
        free((void *)cfg->overrides[i]);
    free((void *)cfg->overrides);
}
