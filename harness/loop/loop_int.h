/*
 * loop_int.h - what loop.c and cause.c share. Private to harness/loop/.
 */
#ifndef VMSTRESS_LOOP_INT_H
#define VMSTRESS_LOOP_INT_H

#include "loop.h"

/* A member's bytes as a report shows them: the value (up to 8 bytes) or
 * the first byte that differs from `other`. */
void loop_format_member(char *out, size_t n, const uint8_t *p, const uint8_t *other, size_t size);

/* The first description field carrying any byte of a member of part sh,
 * with the (sub)description it belongs to; NULL when none does. */
const VmsField *loop_carrier(const MachShadow *sh, const DevMember *mem, const VmsDesc **desc);

/*
 * Cause before symptom: load `stream` (B's, from the checkpoint) into
 * `scratch` watching every pre_load and post_load hook, compare each
 * member with `a` (the saved state), and rank what differs into f->causes:
 * first members whose fields loaded a value other than the saved one, then
 * members a hook changed (named), then derived and uncarried state (with
 * the members it is derived from). The top cause becomes the finding's
 * where/what/a/b/detail. scratch is left at power-on. Returns the number
 * of differing members found (0: f is left as it was).
 */
size_t loop_rank_causes(Machine *a, Machine *scratch, const void *stream, size_t len, LoopFinding *f);

/* A's stream from the twin's last checkpoint. */
const VmsOut *loop_twin_saved_a(LoopTwin *t);
/* Drop the twin's operation log (kept for the trace of a finding): the
 * explorer's twin starts over from a loaded state at every step. */
void loop_twin_forget_ops(LoopTwin *t);

/*
 * Register exploration (explore.c): a twin of its own that, every
 * cfg->explore_every checkpoints, loads A's stream, writes registers of one
 * device (from its DevType's register table, steered toward bits not yet
 * seen), feeds its host inputs, lets time pass, and checkpoints, with every
 * oracle. The guest never runs on it, and the main twins never see it, so
 * the workload's own checks are untouched.
 */
typedef struct LoopExplore LoopExplore;
LoopExplore *loop_explore_new(const LoopConfig *cfg, LoopFinding *f);
void loop_explore_free(LoopExplore *x);
/* Explore from A's stream; false with f filled on a divergence. */
bool loop_explore_step(LoopExplore *x, const VmsOut *a_stream, LoopFinding *f);
LoopTwin *loop_explore_twin(LoopExplore *x);
/* At the end of a run: bit figures into st, coverage into cfg->explore_coverage. */
void loop_explore_finish(LoopExplore *x, LoopStats *st);
/*
 * A save changed the member f names (where: part, what: member). Load
 * `stream` (what was saved) into scratch, put every compared plain member
 * back as it was before the save (`before`: each part's bytes, in shadow
 * order), save again watching each pre_save and post_save, and name the
 * hook that changed the member in f (why and its one cause). scratch is
 * left at power-on. False (f as it was) if no hook is seen changing it.
 */
bool loop_blame_save(Machine *scratch, const void *stream, size_t len, const uint8_t *before, LoopFinding *f);
/*
 * B after its reset differs from power-on in the member f names. Load
 * `stream` (B before the reset) into b and reset it again, watching each
 * reset hook: name the hook that set the member, or the part's reset that
 * left it as it was.
 */
bool loop_blame_reset(Machine *b, const void *stream, size_t len, LoopFinding *f);

/* splitmix64: the loop's seeded streams (small, the same on every host). */
uint64_t loop_rng_next(uint64_t *s);

/* Every compared member of every part of a and b equal; f names the first
 * difference otherwise. */
bool loop_shadows_equal(Machine *a, Machine *b, LoopFinding *f);

/*
 * The load-order oracle (order.c): B loads its stream with the device
 * sections' records in a seeded permutation; the sections before
 * mach_n_fixed_sections keep their place.
 */
typedef struct LoopOrder {
    uint64_t rng;
    size_t n_sec, n_fixed;
    size_t *at;                 /* n_sec + 1 record starts of the last save (VmsSaveOpts.sec_start) */
    size_t *order;              /* registry indices, in the order B loads them */
    VmsOut out;                 /* the stream re-sent in that order */
} LoopOrder;

void loop_order_init(LoopOrder *o, Machine *m, uint64_t seed);
void loop_order_free(LoopOrder *o);
/* A new permutation of the device sections (the next one of the seed's). */
void loop_order_shuffle(LoopOrder *o);
/* o->out = buf (saved with sec_start = o->at) with its records in o->order. */
void loop_order_apply(LoopOrder *o, const uint8_t *buf, size_t len);
/* After B's load of o->out went wrong (f filled): if buf loads right in
 * registration order into p (power-on, reset after each try), and moving
 * one device section to the front makes the permuted load right, name both
 * sections: f becomes a load-order finding, with an "order:" first cause.
 * o->order and o->out are left as they were. */
bool loop_order_blame(LoopOrder *o, Machine *a, Machine *p, const uint8_t *buf, size_t len, LoopFinding *f);

#endif
