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

/* The loop's seeded generator (splitmix64), for its other files. */
uint64_t loop_rng(uint64_t *s);
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

#endif
