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

#endif
