/*
 * order.c - the load-order oracle (loop_int.h).
 *
 * A destination dispatches each section record of a stream by its idstr and
 * instance, so the format allows any order of records; QEMU happens to send
 * them in registration order, and a post_load that reads another section's
 * state works only while that section is loaded first. So B does not load
 * its stream as saved: the same section records are re-sent with the device
 * sections in a seeded permutation, new at every checkpoint. The sections
 * the machine says must come first (mach_n_fixed_sections: clock, core,
 * SRAM) keep their place. The bytes of each record are untouched, so the
 * fixpoint and every other oracle judge exactly the state that was saved.
 *
 * When B's load went wrong, loop_order_blame tells an order dependence from
 * any other bug: the stream loaded in registration order must come out
 * right, and moving one section to the front of the devices must fix the
 * permuted load; that section is the one the diverging part depends on.
 */
#include <stdlib.h>
#include <string.h>

#include "loop_int.h"

void loop_order_init(LoopOrder *o, Machine *m, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    o->rng = seed ^ 0x6f72646572ull;    /* an independent stream of the seed */
    o->n_sec = mach_registry(m)->n;
    o->n_fixed = mach_n_fixed_sections(m);
    o->at = calloc(o->n_sec + 1, sizeof(size_t));
    o->order = calloc(o->n_sec ? o->n_sec : 1, sizeof(size_t));
    if (!o->at || !o->order)
        abort();
    for (size_t i = 0; i < o->n_sec; i++)
        o->order[i] = i;
    vms_out_init(&o->out, 0);
}

void loop_order_free(LoopOrder *o)
{
    free(o->at);
    free(o->order);
    vms_out_free(&o->out);
}

void loop_order_shuffle(LoopOrder *o)
{
    for (size_t i = o->n_sec; i > o->n_fixed + 1; i--) {
        size_t span = i - o->n_fixed;
        size_t j = o->n_fixed + (size_t)(loop_rng_next(&o->rng) % span);
        size_t tmp = o->order[i - 1];
        o->order[i - 1] = o->order[j];
        o->order[j] = tmp;
    }
}

/* Where section i's record ends: the start of the next one sent, or EOF. */
static size_t record_end(const LoopOrder *o, size_t i)
{
    for (size_t k = i + 1; k < o->n_sec; k++)
        if (o->at[k] != SIZE_MAX)
            return o->at[k];
    return o->at[o->n_sec];
}

void loop_order_apply(LoopOrder *o, const uint8_t *buf, size_t len)
{
    size_t first = o->at[o->n_sec];
    for (size_t i = 0; i < o->n_sec && first == o->at[o->n_sec]; i++)
        if (o->at[i] != SIZE_MAX)
            first = o->at[i];
    vms_out_reset(&o->out);
    vms_out_bytes(&o->out, buf, first);     /* header and configuration */
    for (size_t k = 0; k < o->n_sec; k++) {
        size_t i = o->order[k];
        if (o->at[i] != SIZE_MAX)
            vms_out_bytes(&o->out, buf + o->at[i], record_end(o, i) - o->at[i]);
    }
    vms_out_bytes(&o->out, buf + o->at[o->n_sec], len - o->at[o->n_sec]);
}

/* Does `stream` load into p (power-on) to exactly A's members? p is reset after. */
static bool loads_right(Machine *a, Machine *p, const VmsOut *stream)
{
    VmsError err;
    LoopFinding scratch;
    bool ok = mach_load(p, stream->buf, stream->len, &err) && loop_shadows_equal(a, p, &scratch);
    mach_reset(p);
    return ok;
}

bool loop_order_blame(LoopOrder *o, Machine *a, Machine *p, const uint8_t *buf, size_t len, LoopFinding *f)
{
    size_t *keep = malloc(o->n_sec * sizeof(size_t));
    if (!keep)
        abort();
    memcpy(keep, o->order, o->n_sec * sizeof(size_t));
    /* Registration order first: if that is wrong too, order is not the cause. */
    for (size_t i = 0; i < o->n_sec; i++)
        o->order[i] = i;
    loop_order_apply(o, buf, len);
    bool dependent = loads_right(a, p, &o->out);
    size_t culprit = SIZE_MAX;
    /* Each device section in turn moved to the front of the devices. */
    for (size_t k = o->n_fixed + 1; dependent && culprit == SIZE_MAX && k < o->n_sec; k++) {
        memcpy(o->order, keep, o->n_sec * sizeof(size_t));
        memmove(o->order + o->n_fixed + 1, o->order + o->n_fixed, (k - o->n_fixed) * sizeof(size_t));
        o->order[o->n_fixed] = keep[k];
        loop_order_apply(o, buf, len);
        if (loads_right(a, p, &o->out))
            culprit = keep[k];
    }
    memcpy(o->order, keep, o->n_sec * sizeof(size_t));
    loop_order_apply(o, buf, len);
    free(keep);
    if (culprit == SIZE_MAX)
        return false;
    const char *dep = mach_shadow(a, culprit)->name;
    char d[sizeof(f->detail)];
    snprintf(d, sizeof(d), "%s", f->detail);
    f->oracle = LOOP_ORDER;
    snprintf(f->detail, sizeof(f->detail), "load order: %.40s depends on section %.40s, which this checkpoint "
             "loaded after it (loaded first, or in registration order, the load is right): %.280s",
             f->where, dep, d);
    if (f->n_causes == LOOP_MAX_CAUSES)
        f->n_causes--;
    memmove(f->causes[1], f->causes[0], f->n_causes * sizeof(f->causes[0]));
    snprintf(f->causes[0], sizeof(f->causes[0]), "order: %.40s loads right only after section %.40s: "
             "a hook of %.40s reads its state", f->where, dep, f->where);
    f->n_causes++;
    return true;
}
