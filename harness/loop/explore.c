/*
 * explore.c - register exploration: states the workload never produces.
 *
 * The oracles are exact, but they only judge states that occur: a field
 * saved narrower than its member, or an array described one element short,
 * goes unnoticed while the guest never sets the high bits or the last
 * element. So, every cfg->explore_every checkpoints, a twin of its own
 * loads A's stream (both of its machines alike), and then, through the
 * guest-visible interface only:
 *
 *   - writes the registers of one device (picked by the seed) in the order
 *     of its DevType register table, each value steered toward the bits of
 *     the register's field not yet seen as 1 or as 0 at a save;
 *   - every other step, feeds the device's host inputs: first the register
 *     bits that let inputs in (DevReg input_mask/input_value: a receiver
 *     on, a FIFO enabled) are forced, then a burst of 1 to 32 inputs, so a
 *     receive FIFO is seen at every level, full (every element written)
 *     and overrun;
 *   - sometimes lets virtual time pass, so timers fire;
 *
 * and checkpoints that twin with every oracle. A divergence there is a
 * finding like any other.
 *
 * The rule that keeps the workload's own checks valid: exploration never
 * touches the main twins. The guest does not run on the explored copy, and
 * the main twins go on exactly as without exploration, so nothing the
 * workload checks can be disturbed, and the main schedule is unchanged.
 *
 * Everything is derived from the seed and from the coverage of the explored
 * saves themselves, so a run (and its replay) explores the same states
 * whether or not --field-coverage is given.
 */
#include <stdlib.h>
#include <string.h>

#include "fieldcov.h"
#include "loop_int.h"

struct LoopExplore {
    LoopConfig cfg;             /* the run's, with this twin's own observer */
    LoopTwin *t;
    Fcov *live;                 /* the explored saves: what steering reads */
    uint64_t rng;
    uint64_t steps;
    char dev[48];               /* the device of the step in progress */
};

static void attach_live(Machine *m, int which, void *opaque)
{
    LoopExplore *x = opaque;
    if (which == 0)
        fcov_attach_machine(x->live, m, FCOV_SRC_STRESS, FCOV_SAVES);
}

LoopExplore *loop_explore_new(const LoopConfig *cfg, LoopFinding *f)
{
    LoopExplore *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->cfg = *cfg;
    x->cfg.on_machine = attach_live;
    x->cfg.on_machine_opaque = x;
    x->cfg.progress = NULL;
    x->cfg.full_every = 1;      /* its twins load a whole new state at every step */
    x->live = fcov_new();
    x->rng = cfg->seed ^ 0x6578706cull;     /* a stream of its own */
    x->t = loop_twin_new(&x->cfg, NULL, 0, f);
    if (!x->t) {
        loop_explore_free(x);
        return NULL;
    }
    return x;
}

void loop_explore_free(LoopExplore *x)
{
    if (!x)
        return;
    loop_twin_free(x->t);
    fcov_free(x->live);
    free(x);
}

LoopTwin *loop_explore_twin(LoopExplore *x) { return x->t; }

/* The bits of a register's field seen so far as 0 and as 1 (element 0,
 * over every instance); false if the field has not been saved yet. */
static bool field_bits(const LoopExplore *x, const char *spec, uint64_t *seen0, uint64_t *seen1)
{
    const char *slash = spec ? strrchr(spec, '/') : NULL;
    char desc[96];
    if (!slash || (size_t)(slash - spec) >= sizeof(desc))
        return false;
    memcpy(desc, spec, (size_t)(slash - spec));
    desc[slash - spec] = 0;
    const FcovDesc *d = fcov_find_desc(x->live, desc);
    const FcovField *fd = d ? fcov_find_field(d, slash + 1) : NULL;
    if (!fd)
        return false;
    FcovStats tot;
    fcov_field_total(fd, &tot);
    if (!tot.bit_elems)
        return false;
    *seen0 = tot.seen0[0];
    *seen1 = tot.seen1[0];
    return true;
}

/* A value for register r: random, then bits never seen as 1 set and bits
 * never seen as 0 cleared (a bit never seen either way is set first). */
static uint32_t steer(LoopExplore *x, const DevReg *r)
{
    uint64_t rnd = loop_rng_next(&x->rng);
    if (r->key && (rnd & 1))
        return r->key;
    uint32_t v = (uint32_t)(rnd >> 32);
    uint64_t s0, s1;
    if (field_bits(x, r->field, &s0, &s1)) {
        uint32_t want1 = r->writable & (uint32_t)~s1, want0 = r->writable & (uint32_t)~s0;
        v = (v | want1) & ~(want0 & ~want1);
    }
    return v & r->writable;
}

static bool note(LoopExplore *x, LoopFinding *f)
{
    size_t n = strlen(f->detail);
    snprintf(f->detail + n, sizeof(f->detail) - n, " [in a state explored by register writes to %s]", x->dev);
    return false;
}

/* Does a write to some register of ty still have a bit to show (writable,
 * never seen as 0 or as 1 in its field)? */
static bool wants_bits(const LoopExplore *x, const DevType *ty)
{
    for (const DevReg *r = ty->regs; r->name; r++) {
        uint64_t s0, s1;
        if (r->field && (!field_bits(x, r->field, &s0, &s1) || (r->writable & ~(s0 & s1))))
            return true;
    }
    return false;
}

/* The device to explore, picked by the seed among those with a register
 * table, and among those that still have register bits to show if any do
 * (a device that only needs inputs or time still gets its turns after). */
static long pick_device(LoopExplore *x, Machine *m)
{
    size_t n = mach_n_devices(m), with = 0, wanting = 0;
    for (size_t i = 0; i < n; i++) {
        const DevType *ty = mach_device_type(m, i);
        with += ty->regs != NULL;
        wanting += ty->regs && wants_bits(x, ty);
    }
    if (!with)
        return -1;
    size_t k = loop_rng_next(&x->rng) % (wanting ? wanting : with);
    for (size_t i = 0; i < n; i++) {
        const DevType *ty = mach_device_type(m, i);
        if (ty->regs && (!wanting || wants_bits(x, ty)) && !k--)
            return (long)i;
    }
    return -1;
}

/* The device's host inputs: a burst of 1 to 32, so a 16-entry FIFO is
 * seen at every fill level, full, and overrun. */
static bool feed_inputs(LoopExplore *x, const DevType *ty, unsigned dev, LoopFinding *f)
{
    unsigned channels = 0;
    while (ty->inputs && ty->inputs[channels])
        channels++;
    unsigned burst = 1 + (unsigned)(loop_rng_next(&x->rng) % 32);
    for (unsigned k = 0; k < burst; k++) {
        uint64_t r = loop_rng_next(&x->rng);
        if (!loop_twin_input(x->t, dev, channels ? (unsigned)(r % channels) : 0, (uint32_t)(r >> 32), f))
            return false;
    }
    return true;
}

/* Write the device's registers (some left as they are); with `inputs`,
 * the bits that let host inputs in are forced, and every register that has
 * such bits is written. */
static bool write_regs(LoopExplore *x, const DevType *ty, uint32_t base, bool inputs, LoopFinding *f)
{
    for (const DevReg *r = ty->regs; r->name; r++) {
        bool gate = inputs && r->input_mask;
        if (loop_rng_next(&x->rng) % 4 == 0 && !gate)
            continue;   /* leave some registers as the workload set them */
        uint32_t v = steer(x, r);
        if (gate)
            v = (v & ~r->input_mask) | r->input_value;
        if (!loop_twin_write(x->t, base + r->offset, r->width, v, f))
            return false;
    }
    return true;
}

bool loop_explore_step(LoopExplore *x, const VmsOut *sa, LoopFinding *f)
{
    Machine *a = loop_twin_machine(x->t, 0), *b = loop_twin_machine(x->t, 1);
    VmsError err;
    snprintf(x->dev, sizeof(x->dev), "(none)");
    loop_twin_forget_ops(x->t);
    if (!mach_load(a, sa->buf, sa->len, &err) || !mach_load(b, sa->buf, sa->len, &err)) {
        vms_error_format(&err, f->detail, sizeof(f->detail));
        f->oracle = LOOP_LOAD;
        snprintf(f->where, sizeof(f->where), "%s", err.section);
        snprintf(f->what, sizeof(f->what), "%s", err.field);
        f->instance = err.instance;
        return note(x, f);
    }
    x->steps++;
    long i = pick_device(x, a);
    if (i >= 0) {
        const DevType *ty = mach_device_type(a, (size_t)i);
        uint32_t base = mach_device_base(a, (size_t)i);
        snprintf(x->dev, sizeof(x->dev), "%s", dev_name(mach_device(a, (size_t)i)));
        bool inputs = ty->input && (loop_rng_next(&x->rng) & 1);
        if (!write_regs(x, ty, base, inputs, f) || (inputs && !feed_inputs(x, ty, (unsigned)i, f)))
            return note(x, f);
    }
    uint64_t r = loop_rng_next(&x->rng);
    if ((r & 1) && !loop_twin_idle(x->t, (r >> 8) % (1ull << ((r >> 1) % 28)), f))
        return note(x, f);
    if (!loop_twin_checkpoint(x->t, f))
        return note(x, f);
    return true;
}

void loop_explore_finish(LoopExplore *x, LoopStats *st)
{
    if (!x)
        return;
    FcovBits b;
    fcov_bit_counts(x->live, NULL, &b);
    st->explored = x->steps;
    st->bits = b.bits;
    st->bits_both = b.both;
    if (x->cfg.explore_coverage)
        fcov_merge(x->cfg.explore_coverage, x->live);
}
