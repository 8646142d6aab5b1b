/*
 * mutate.h - the value choices of structure-aware stream mutation (prefix vmut_).
 *
 * Two mutators share these: fuzz/mutator.c, which finds a stream's leaves
 * by loading it into vmstress's own machine, and harness/qemu's loader
 * fuzzer, which finds them through the stream's vmdescription (decode.h).
 * Both change one integer leaf at a time; what a validator looks at
 * (boundaries, a count one past its capacity, a flipped bit, a small step)
 * is chosen here, once.
 */
#ifndef VMSTRESS_MUTATE_H
#define VMSTRESS_MUTATE_H

#include <stdint.h>

/* splitmix64: small, seedable, the same on every host. */
uint64_t vmut_rng(uint64_t *state);

/* A uniform pick in [0, n) (0 when n is 0). */
uint64_t vmut_below(uint64_t *state, uint64_t n);

/* A new value for an integer leaf of `size` bytes (1..8) holding `old`:
 * 0, 1, all ones, the signed/unsigned 32-bit boundaries, one bit flipped,
 * old +-1, a small delta; and when `cap` (a count's capacity) is not 0,
 * cap or cap + 1. The caller truncates to the leaf's size. */
uint64_t vmut_value(uint64_t *state, uint64_t old, unsigned size, uint32_t cap);

#endif
