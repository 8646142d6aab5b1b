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
#include "loop.h"

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
        [LOOP_SETUP] = "setup",
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
}

/* splitmix64: small, seedable, and the same on every host. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + rng_next(s) % (hi - lo + 1);
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
    vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
    va_end(ap);
}

/* Format `size` bytes of a member as a number when it fits, else as the
 * first differing byte against `other`. */
static void format_member(char *out, size_t n, const uint8_t *p, const uint8_t *other, size_t size)
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
} CoverQuery;

static void cover_fn(void *arg, const VmsDesc *d, const VmsField *f, size_t off, size_t size)
{
    CoverQuery *q = arg;
    if (!q->hit && off < q->off + q->size && q->off < off + size)
        q->hit = f;
}

static void explain_member(char *out, size_t n, const MachShadow *sh, const DevMember *mem)
{
    CoverQuery q = { mem->offset, mem->size, NULL };
    if (sh->vmsd)
        vms_for_each_member(sh->vmsd, cover_fn, &q);
    if (q.hit)
        snprintf(out, n, "member '%s' of %s (description field '%s' of '%s')", mem->name,
                 sh->name, q.hit->name, sh->vmsd->name);
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
        format_member(f->a, sizeof(f->a), pa, pb, size);
        format_member(f->b, sizeof(f->b), pb, pa, size);
        explain_member(f->detail, sizeof(f->detail), sh, m);
        return false;
    }
    return true;
}

static bool shadows_equal(Machine *a, Machine *b, LoopFinding *f)
{
    size_t n = mach_n_shadows(a);
    for (size_t i = 0; i < n; i++) {
        const MachShadow *sa = mach_shadow(a, i), *sb = mach_shadow(b, i);
        if (!members_equal(sa, sa->state, sb->state, f))
            return false;
    }
    return true;
}

/* A copy of every part's bytes, to prove a save changed nothing. */
typedef struct Snapshot {
    uint8_t *buf;
    size_t cap;
} Snapshot;

static void snapshot_take(Snapshot *s, Machine *m)
{
    size_t need = 0, n = mach_n_shadows(m);
    for (size_t i = 0; i < n; i++)
        need += mach_shadow(m, i)->size;
    if (need > s->cap) {
        free(s->buf);
        s->buf = malloc(need);
        if (!s->buf)
            abort();
        s->cap = need;
    }
    uint8_t *p = s->buf;
    for (size_t i = 0; i < n; i++) {
        const MachShadow *sh = mach_shadow(m, i);
        memcpy(p, sh->state, sh->size);
        p += sh->size;
    }
}

static bool snapshot_equal(const Snapshot *s, Machine *m, LoopFinding *f)
{
    const uint8_t *p = s->buf;
    size_t n = mach_n_shadows(m);
    for (size_t i = 0; i < n; i++) {
        const MachShadow *sh = mach_shadow(m, i);
        if (!members_equal(sh, p, sh->state, f))
            return false;
        p += sh->size;
    }
    return true;
}

/* ------------------------------------------------------ stream decoding */

/* Name the first difference between two streams of machines a and b. */
static void name_stream_diff(Machine *a, Machine *b, const VmsOut *sa, const VmsOut *sb,
                             LoopFinding *f)
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
    VmsSaveOpts oa = { .no_vmdesc = true, .map = &ma }, ob = { .no_vmdesc = true, .map = &mb };
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

/* ------------------------------------------------------------ the run */

typedef struct InputRec {
    uint64_t cycle;
    uint32_t dev, channel, value;
} InputRec;

typedef struct Run {
    const LoopConfig *cfg;
    Board board;                /* the configured board, overrides applied */
    DevConfig *devs;
    Machine *a, *b, *p;
    EventLog ea, eb;
    VmsOut sa, sb, sb2;
    Snapshot snap;
    InputRec *inputs;
    size_t n_inputs, cap_inputs;
    uint64_t *sched;            /* checkpoint cycles so far (for the reproducer) */
    size_t n_sched, cap_sched;
    uint64_t rng_ckpt, rng_input;
    double phase[4];
} Run;

static bool build_board(Run *r, LoopFinding *f)
{
    const Board *base = mach_board_find(r->cfg->board);
    if (!base) {
        finding_set(f, LOOP_SETUP, "unknown board '%s'", r->cfg->board);
        return false;
    }
    size_t n = 0;
    while (base->devices[n].type)
        n++;
    r->devs = calloc(n + 1, sizeof(DevConfig));
    if (!r->devs)
        abort();
    memcpy(r->devs, base->devices, (n + 1) * sizeof(DevConfig));
    for (size_t k = 0; k < r->cfg->n_overrides; k++) {
        const char *o = r->cfg->overrides[k], *eq = strchr(o, '=');
        bool used = false;
        if (!eq || !dev_type_find(eq + 1)) {
            finding_set(f, LOOP_SETUP, "bad override '%s': want BASE=VARIANT with a known variant", o);
            return false;
        }
        for (size_t i = 0; i < n; i++)
            if (strlen(r->devs[i].type) == (size_t)(eq - o) && !strncmp(r->devs[i].type, o, (size_t)(eq - o))) {
                r->devs[i].type = eq + 1;
                used = true;
            }
        if (!used) {
            finding_set(f, LOOP_SETUP, "override '%s': board '%s' has no such device", o, base->name);
            return false;
        }
    }
    r->board = *base;
    r->board.devices = r->devs;
    return true;
}

static Machine *build_machine(Run *r, LoopFinding *f)
{
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(&r->board, &why);
    if (!m) {
        finding_set(f, LOOP_SETUP, "cannot build board '%s': %s", r->board.name, why.text);
        return NULL;
    }
    if (!mach_load_elf(m, r->cfg->firmware, &why)) {
        finding_set(f, LOOP_SETUP, "%s", why.text);
        mach_free(m);
        return NULL;
    }
    mach_reset(m);
    return m;
}

static void sched_push(Run *r, uint64_t c)
{
    if (r->n_sched == r->cap_sched) {
        r->cap_sched = r->cap_sched ? r->cap_sched * 2 : 64;
        r->sched = realloc(r->sched, r->cap_sched * sizeof(*r->sched));
        if (!r->sched)
            abort();
    }
    r->sched[r->n_sched++] = c;
}

static uint64_t next_checkpoint(Run *r, uint64_t now)
{
    const LoopConfig *c = r->cfg;
    if (c->schedule) {
        for (size_t i = 0; i < c->schedule_len; i++)
            if (c->schedule[i] > now)
                return c->schedule[i];
        return UINT64_MAX;
    }
    return now + rng_range(&r->rng_ckpt, c->interval_min ? c->interval_min : 1,
                           c->interval_max ? c->interval_max : 1);
}

/* Devices that take host input, in board order. */
static bool pick_input(Run *r, InputRec *in)
{
    size_t n = mach_n_devices(r->a), with = 0;
    for (size_t i = 0; i < n; i++)
        if (mach_device_type(r->a, i)->input)
            with++;
    if (!with)
        return false;
    size_t k = rng_next(&r->rng_input) % with;
    for (size_t i = 0; i < n; i++) {
        const DevType *t = mach_device_type(r->a, i);
        if (!t->input || k--)
            continue;
        unsigned channels = 0;
        while (t->inputs && t->inputs[channels])
            channels++;
        in->dev = (uint32_t)i;
        in->channel = channels ? (uint32_t)(rng_next(&r->rng_input) % channels) : 0;
        in->value = (uint32_t)rng_next(&r->rng_input);
        return true;
    }
    return false;
}

static void record_input(Run *r, const InputRec *in)
{
    if (r->n_inputs == r->cap_inputs) {
        r->cap_inputs = r->cap_inputs ? r->cap_inputs * 2 : 64;
        r->inputs = realloc(r->inputs, r->cap_inputs * sizeof(*r->inputs));
        if (!r->inputs)
            abort();
    }
    r->inputs[r->n_inputs++] = *in;
}

/* Run m until its clock reaches `target` or it stops. */
static void run_to(Machine *m, uint64_t target)
{
    while (mach_cycles(m) < target && mach_state(m) != CPU_LOCKUP && mach_state(m) != CPU_HALTED)
        mach_run(m, target - mach_cycles(m));
}

static bool compare_events(Run *r, LoopFinding *f)
{
    size_t n = r->ea.n < r->eb.n ? r->ea.n : r->eb.n, i = 0;
    while (i < n && events_equal(&r->ea.ev[i], &r->eb.ev[i]))
        i++;
    bool ok = i == r->ea.n && i == r->eb.n;
    if (!ok) {
        const MachEvent *x = i < r->ea.n ? &r->ea.ev[i] : NULL;
        const MachEvent *y = i < r->eb.n ? &r->eb.ev[i] : NULL;
        format_event(f->a, sizeof(f->a), r->a, x);
        format_event(f->b, sizeof(f->b), r->b, y);
        const MachEvent *e = x ? x : y;
        f->cycle = e->cycle;
        snprintf(f->where, sizeof(f->where), "%s",
                 e->source < mach_n_devices(r->a) ? dev_name(mach_device(r->a, e->source)) : "core");
        snprintf(f->what, sizeof(f->what), "event %zu (%s)", i, event_kind_name(e->kind));
        f->instance = -1;
        finding_set(f, LOOP_BEHAVIOUR, "guest-visible behaviour differs: A and B emitted different events");
    }
    r->ea.n = r->eb.n = 0;
    return ok;
}

static bool save_or_fail(Machine *m, VmsOut *out, const char *who, LoopFinding *f)
{
    VmsError err;
    VmsSaveOpts opts = { .no_vmdesc = true, .map = NULL };
    vms_out_reset(out);
    if (mach_save(m, out, &opts, &err))
        return true;
    char line[400];
    vms_error_format(&err, line, sizeof(line));
    snprintf(f->where, sizeof(f->where), "%s", err.section);
    snprintf(f->what, sizeof(f->what), "%s", err.field);
    f->instance = err.instance;
    finding_set(f, LOOP_PURITY, "saving %s failed: %s", who, line);
    return false;
}

static double phase_start(void) { return host_seconds(); }
static void phase_end(Run *r, int k, double t0) { r->phase[k] += host_seconds() - t0; }

/* One checkpoint: every oracle in turn; false with f filled on the first finding. */
static bool checkpoint(Run *r, LoopFinding *f)
{
    double t0 = phase_start();
    /* A: its save must change nothing (then saving A is harmless). */
    snapshot_take(&r->snap, r->a);
    if (!save_or_fail(r->a, &r->sa, "A", f))
        return false;
    if (!snapshot_equal(&r->snap, r->a, f)) {
        finding_set(f, LOOP_PURITY, "saving changed %s", f->detail);
        return false;
    }
    /* B: the same, and a second save gives the same bytes. */
    snapshot_take(&r->snap, r->b);
    if (!save_or_fail(r->b, &r->sb, "B", f))
        return false;
    if (!snapshot_equal(&r->snap, r->b, f)) {
        finding_set(f, LOOP_PURITY, "saving changed %s", f->detail);
        return false;
    }
    if (!save_or_fail(r->b, &r->sb2, "B again", f))
        return false;
    phase_end(r, 0, t0);

    t0 = phase_start();
    if (!streams_equal(&r->sb, &r->sb2)) {
        finding_set(f, LOOP_PURITY, "two saves of B without running differ");
        name_stream_diff(r->b, r->b, &r->sb, &r->sb2, f);
        return false;
    }
    if (!streams_equal(&r->sa, &r->sb)) {
        finding_set(f, LOOP_STATE, "A's and B's streams differ");
        name_stream_diff(r->a, r->b, &r->sa, &r->sb, f);
        return false;
    }
    if (!shadows_equal(r->a, r->b, f)) {
        char d[256];
        snprintf(d, sizeof(d), "%s", f->detail);
        finding_set(f, LOOP_SHADOW, "before the round trip, %s", d);
        return false;
    }
    phase_end(r, 3, t0);

    /* B: reset must reach exactly the power-on state. */
    t0 = phase_start();
    mach_set_event_sink(r->b, NULL, NULL);
    mach_reset(r->b);
    phase_end(r, 1, t0);
    if (!shadows_equal(r->p, r->b, f)) {
        char d[256];
        snprintf(d, sizeof(d), "%s", f->detail);
        finding_set(f, LOOP_RESET, "after reset, B differs from power-on: %s", d);
        /* A: power-on value, B: what reset left. */
        return false;
    }

    /* B: load its own stream; the load must accept it and be a fixpoint. */
    t0 = phase_start();
    VmsError err;
    bool loaded = mach_load(r->b, r->sb.buf, r->sb.len, &err);
    phase_end(r, 2, t0);
    mach_set_event_sink(r->b, event_sink, &r->eb);
    if (!loaded) {
        char line[400];
        vms_error_format(&err, line, sizeof(line));
        snprintf(f->where, sizeof(f->where), "%s", err.section);
        snprintf(f->what, sizeof(f->what), "%s", err.field);
        f->instance = err.instance;
        finding_set(f, LOOP_LOAD, "B's own stream was rejected: %s", line);
        return false;
    }
    t0 = phase_start();
    if (!save_or_fail(r->b, &r->sb2, "B after load", f))
        return false;
    if (!streams_equal(&r->sb, &r->sb2)) {
        finding_set(f, LOOP_FIXPOINT, "save, reset, load, save changed the stream");
        name_stream_diff(r->b, r->b, &r->sb, &r->sb2, f);
        return false;
    }
    if (!shadows_equal(r->a, r->b, f)) {
        char d[256];
        snprintf(d, sizeof(d), "%s", f->detail);
        finding_set(f, LOOP_SHADOW, "after the round trip, %s", d);
        return false;
    }
    phase_end(r, 3, t0);
    return true;
}

static void progress(Run *r, const LoopStats *st, double t_start, bool final)
{
    FILE *out = r->cfg->progress;
    if (!out)
        return;
    double el = host_seconds() - t_start;
    fprintf(out, "\r%7.1fs  checkpoints %" PRIu64 "  round trips/s %.0f  guest MIPS %.1f  divergences 0%s",
            el, st->checkpoints, el > 0 ? (double)st->checkpoints / el : 0.0,
            el > 0 ? (double)st->cycles / el / 1e6 : 0.0, final ? "\n" : "");
    fflush(out);
}

static void run_free(Run *r)
{
    if (r->a)
        mach_free(r->a);
    if (r->b)
        mach_free(r->b);
    if (r->p)
        mach_free(r->p);
    free(r->devs);
    free(r->ea.ev);
    free(r->eb.ev);
    vms_out_free(&r->sa);
    vms_out_free(&r->sb);
    vms_out_free(&r->sb2);
    free(r->snap.buf);
    free(r->inputs);
    free(r->sched);
}

/* ------------------------------------------------------- reporting out */

static void print_trace(Run *r, FILE *out, uint64_t cycle)
{
    /* Re-run an un-migrated machine with register capture up to the
     * finding; it is bit-identical to A, so its last instructions are A's. */
    LoopFinding dummy;
    Machine *t = build_machine(r, &dummy);
    if (!t)
        return;
    cpu_trace_regs(mach_cpu(t), true);
    for (size_t i = 0; i < r->n_inputs && r->inputs[i].cycle <= cycle; i++) {
        run_to(t, r->inputs[i].cycle);
        mach_input(t, r->inputs[i].dev, r->inputs[i].channel, r->inputs[i].value);
    }
    run_to(t, cycle);
    CpuTraceEntry e[32];
    size_t n = cpu_trace(mach_cpu(t), e, 32);
    fprintf(out, "last %zu guest instructions before cycle %" PRIu64 ":\n", n, cycle);
    cpu_trace_print(e, n, true, out);
    mach_free(t);
}

static bool write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static void write_results(Run *r, const LoopFinding *fi, const LoopStats *st)
{
    const char *dir = r->cfg->results_dir;
    if (!dir)
        return;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vmstress: cannot create results folder '%s': %s\n", dir, strerror(errno));
        return;
    }
    json_t *j = loop_result_json(r->cfg, fi, st, 1);
    char path[1024];
    snprintf(path, sizeof(path), "%s/report.json", dir);
    if (json_dump_file(j, path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "vmstress: cannot write '%s'\n", path);
    json_decref(j);
    /* Both machines' current streams, with descriptions, for analyze-migration.py. */
    VmsOut o;
    vms_out_init(&o, 0);
    VmsError err;
    VmsSaveOpts opts = { 0 };
    if (mach_save(r->a, &o, &opts, &err))
        write_file(dir, "a.bin", o.buf, o.len);
    vms_out_reset(&o);
    if (mach_save(r->b, &o, &opts, &err))
        write_file(dir, "b.bin", o.buf, o.len);
    vms_out_free(&o);
    snprintf(path, sizeof(path), "%s/repro.json", dir);
    if (!loop_repro_write(path, r->cfg, r->sched, r->n_sched, fi))
        fprintf(stderr, "vmstress: cannot write '%s'\n", path);
    snprintf(path, sizeof(path), "%s/trace.txt", dir);
    FILE *t = fopen(path, "w");
    if (t) {
        print_trace(r, t, fi->cycle);
        fclose(t);
    }
}

int loop_run(const LoopConfig *cfg, LoopFinding *f, LoopStats *st)
{
    Run r;
    memset(&r, 0, sizeof(r));
    memset(f, 0, sizeof(*f));
    memset(st, 0, sizeof(*st));
    f->instance = -1;
    r.cfg = cfg;
    r.rng_ckpt = cfg->seed ^ 0x636b7074ull;   /* independent streams for the */
    r.rng_input = cfg->seed ^ 0x696e7075ull;  /* schedule and for the inputs */
    vms_out_init(&r.sa, 0);
    vms_out_init(&r.sb, 0);
    vms_out_init(&r.sb2, 0);
    if (!cfg->firmware) {
        finding_set(f, LOOP_SETUP, "no firmware given");
        return 2;
    }
    if (!build_board(&r, f) || !(r.a = build_machine(&r, f)) || !(r.b = build_machine(&r, f)) ||
        !(r.p = build_machine(&r, f))) {
        run_free(&r);
        return 2;
    }
    mach_set_event_sink(r.a, event_sink, &r.ea);
    mach_set_event_sink(r.b, event_sink, &r.eb);

    double t_start = host_seconds(), t_progress = t_start;
    uint64_t next_ckpt = next_checkpoint(&r, 0);
    uint64_t next_input = cfg->input_every ? rng_range(&r.rng_input, 1, 2ull * cfg->input_every) : UINT64_MAX;
    int status = 0;
    for (;;) {
        uint64_t now = mach_cycles(r.a);
        uint64_t target = next_ckpt < next_input ? next_ckpt : next_input;
        if (cfg->max_cycles && target > cfg->max_cycles)
            target = cfg->max_cycles;
        if (target > now) {
            run_to(r.a, target);
            run_to(r.b, target);
        }
        st->cycles = now = mach_cycles(r.a);
        if (!compare_events(&r, f)) {
            status = 1;
            break;
        }
        if (mach_cycles(r.b) != now || mach_state(r.a) != mach_state(r.b)) {
            f->cycle = now;
            snprintf(f->where, sizeof(f->where), "core");
            snprintf(f->what, sizeof(f->what), "run state");
            snprintf(f->a, sizeof(f->a), "cycle %" PRIu64 " state %d", now, (int)mach_state(r.a));
            snprintf(f->b, sizeof(f->b), "cycle %" PRIu64 " state %d", mach_cycles(r.b), (int)mach_state(r.b));
            finding_set(f, LOOP_BEHAVIOUR, "A and B stopped at different points");
            status = 1;
            break;
        }
        CpuRunState rs = mach_state(r.a);
        if (rs == CPU_HALTED || rs == CPU_LOCKUP) {
            st->guest_exited = true;
            st->exit_code = rs == CPU_HALTED ? mach_exit_code(r.a) : -1;
            break;
        }
        if (now >= next_input) {
            InputRec in = { .cycle = now };
            if (pick_input(&r, &in)) {
                record_input(&r, &in);
                mach_input(r.a, in.dev, in.channel, in.value);
                mach_input(r.b, in.dev, in.channel, in.value);
            }
            next_input = now + rng_range(&r.rng_input, 1, 2ull * cfg->input_every);
        }
        if (now >= next_ckpt) {
            sched_push(&r, now);
            st->checkpoints++;
            f->checkpoint = st->checkpoints;
            f->cycle = now;
            if (!checkpoint(&r, f)) {
                status = 1;
                break;
            }
            next_ckpt = next_checkpoint(&r, now);
            if (cfg->max_checkpoints && st->checkpoints >= cfg->max_checkpoints)
                break;
        }
        if (cfg->max_cycles && now >= cfg->max_cycles)
            break;
        if (cfg->schedule && next_ckpt == UINT64_MAX)
            break;
        double t = host_seconds();
        if (cfg->max_seconds > 0 && t - t_start >= cfg->max_seconds)
            break;
        if (t - t_progress >= 0.5) {
            progress(&r, st, t_start, false);
            t_progress = t;
        }
    }
    st->seconds = host_seconds() - t_start;
    st->bytes_saved = r.sb.len;
    for (int k = 0; k < 4; k++)
        st->phase_us[k] = st->checkpoints ? r.phase[k] * 1e6 / (double)st->checkpoints : 0;
    if (status == 0)
        progress(&r, st, t_start, true);
    else if (cfg->progress)
        fputc('\n', cfg->progress);
    if (status == 1)
        write_results(&r, f, st);
    run_free(&r);
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
}

void loop_print_summary(FILE *out, const LoopConfig *cfg, const LoopStats *st, int status)
{
    fprintf(out,
            "vmstress run: %s, workload %s, seed %" PRIu64 ": %" PRIu64 " checkpoints, %" PRIu64
            " guest cycles in %.1f s (%.0f round trips/s); %s\n",
            cfg->board, cfg->workload, cfg->seed, st->checkpoints, st->cycles, st->seconds,
            st->seconds > 0 ? (double)st->checkpoints / st->seconds : 0.0,
            status == 0 ? "0 divergences" : status == 1 ? "1 divergence" : "setup error");
    if (st->checkpoints)
        fprintf(out, "  per checkpoint: save %.1f us, reset %.1f us, load %.1f us, compare %.1f us; stream %" PRIu64 " bytes\n",
                st->phase_us[0], st->phase_us[1], st->phase_us[2], st->phase_us[3], st->bytes_saved);
    if (st->guest_exited)
        fprintf(out, "  guest exited with code %d\n", st->exit_code);
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
    json_object_set_new(j, "board", json_string(cfg->board));
    json_object_set_new(j, "firmware", json_string(cfg->firmware));
    json_object_set_new(j, "workload", json_string(cfg->workload ? cfg->workload : ""));
    json_object_set_new(j, "seed", json_integer((json_int_t)cfg->seed));
    json_object_set_new(j, "input_every", json_integer(cfg->input_every));
    json_t *ov = json_array();
    for (size_t i = 0; i < cfg->n_overrides; i++)
        json_array_append_new(ov, json_string(cfg->overrides[i]));
    json_object_set_new(j, "overrides", ov);
    json_t *s = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(s, json_integer((json_int_t)sched[i]));
    json_object_set_new(j, "checkpoints", s);
    if (fi) {
        json_object_set_new(j, "expect_oracle", json_string(loop_oracle_name(fi->oracle)));
        json_object_set_new(j, "expect_where", json_string(fi->where));
        json_object_set_new(j, "expect_field", json_string(fi->what));
        json_object_set_new(j, "expect_checkpoint", json_integer((json_int_t)fi->checkpoint));
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

bool loop_repro_read(const char *path, LoopConfig *cfg, LoopFinding *expect, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    loop_config_defaults(cfg);
    memset(expect, 0, sizeof(*expect));
    if (!j) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return false;
    }
    json_t *sched = json_object_get(j, "checkpoints"), *ov = json_object_get(j, "overrides");
    const char *missing = !json_is_integer(json_object_get(j, "vmstress_reproducer")) ? "vmstress_reproducer"
                          : !json_is_string(json_object_get(j, "board"))              ? "board"
                          : !json_is_string(json_object_get(j, "firmware"))           ? "firmware"
                          : !json_is_integer(json_object_get(j, "seed"))              ? "seed"
                          : !json_is_array(sched)                                     ? "checkpoints"
                          : (ov && !json_is_array(ov))                                ? "overrides"
                                                                                      : NULL;
    if (missing) {
        snprintf(err, errlen, "%s: missing or mistyped key '%s'", path, missing);
        json_decref(j);
        return false;
    }
    size_t n = json_array_size(sched);
    uint64_t *s = calloc(n ? n : 1, sizeof(uint64_t));
    const char **o = calloc(json_array_size(ov) + 1, sizeof(char *));
    if (!s || !o)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(sched, i);
        if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
            (i && (uint64_t)json_integer_value(v) <= s[i - 1])) {
            snprintf(err, errlen, "%s: checkpoints[%zu] is not an ascending positive cycle", path, i);
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
    cfg->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    json_t *ie = json_object_get(j, "input_every");
    cfg->input_every = json_is_integer(ie) ? (uint32_t)json_integer_value(ie) : 0;
    cfg->schedule = s;
    cfg->schedule_len = n;
    cfg->overrides = o;
    cfg->n_overrides = json_array_size(ov);
    const char *eo = json_string_value(json_object_get(j, "expect_oracle"));
    for (int k = LOOP_OK; eo && k <= LOOP_SETUP; k++)
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
    free((void *)cfg->schedule);
    for (size_t i = 0; i < cfg->n_overrides; i++)
        free((void *)cfg->overrides[i]);
    free((void *)cfg->overrides);
}
