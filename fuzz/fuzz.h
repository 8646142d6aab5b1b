/*
 * fuzz.h - what the fuzz targets share (prefix fz_).
 *
 * Every target is a plain LLVMFuzzerTestOneInput plus an optional
 * LLVMFuzzerInitialize; the same object files are linked against libFuzzer
 * (VMSTRESS_FUZZ), the AFL++ persistent driver (VMSTRESS_AFL), or the plain
 * replay driver (every other build), so a finding reproduces in all three.
 *
 * A finding is reported by fz_finding(): one line naming the target and
 * what broke, then abort(), which every engine records as a crash.
 */
#ifndef VMSTRESS_FUZZ_H
#define VMSTRESS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "machine.h"

/* The guest firmware embedded at build time (fuzz/embed.cmake). */
extern const unsigned char fz_firmware[];
extern const size_t fz_firmware_len;
extern const char fz_firmware_name[];

/*
 * The board every target runs on: the default devices with 2 KiB of SRAM
 * (devices/boards.c), and firmware linked for it (<build>/guest/small/).
 * On the 64 KiB default board, SRAM is 98% of a stream: most byte
 * mutations would land in opaque RAM and most load time would be memcpy.
 */
#define FZ_BOARD "vmstress-m0-small"

/*
 * Cycles the guest runs after an accepted load, before the fixpoint check:
 * long enough to take pending exceptions, run handlers and fire timers
 * that are due, short enough not to dominate an execution. Four-minute
 * paired runs (same seed) gave 5,000 a third more executions and at least
 * the coverage of 20,000. -DFZ_RUN_CYCLES=N overrides it for experiments.
 */
#ifndef FZ_RUN_CYCLES
#define FZ_RUN_CYCLES 5000u
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Report a finding and abort. */
void fz_finding(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* The part of argv[0]'s base name after `prefix` ("fuzz_load_pl011" with
 * prefix "fuzz_load_" gives "pl011"), or NULL when it does not start so. */
const char *fz_name_suffix(const char *argv0, const char *prefix);

/*
 * Device type overrides ("base=variant", as LoopConfig.overrides): the
 * comma-separated environment variable VMSTRESS_FUZZ_OVERRIDES; then one
 * planted variant named by VMSTRESS_PLANT (or built into the binary, see
 * fz_builtin_plant), its base found by description name; then `extra` (may
 * be NULL). Computed once; the array lives for the process.
 */
const char *const *fz_overrides(const char *extra, size_t *n);

/* Set by a planted binary to the variant it applies by default. */
extern const char *const fz_builtin_plant;

/* The fuzz board (FZ_BOARD) with overrides applied, the embedded firmware loaded,
 * reset, console off. Setup failures exit(2) with a message (they are not
 * findings: the binary is misconfigured). */
Machine *fz_machine_new(const char *const *overrides, size_t n_overrides);

/* A rejected load must say why: a class and a one-line message. */
void fz_check_rejected(const char *target, const VmsError *e);

/*
 * After an accepted load: read the registers of every device (of device
 * `device`, a board index, when it is >= 0: the only one a per-device
 * input loads), run the guest for `cycles`, then save, load, save; the two
 * streams must be identical and both steps must succeed. s1 and s2 are
 * scratch streams kept by the caller (reused across inputs). Leaves the
 * machine at power-on, as a rejected load does.
 */
void fz_check_fixpoint(const char *target, Machine *m, uint64_t cycles, int device, VmsOut *s1,
                       VmsOut *s2);

/*
 * A stream for machine type `mt` whose only section is a body, in three
 * parts: the prefix (magic, version, configuration, FULL header with
 * idstr, instance, version and section id), the body, then the suffix
 * (footer, EOF). The prefix depends on nothing but its arguments, so a
 * target builds it once. False if out overflows.
 */
bool fz_frame_prefix(VmsOut *out, const char *mt, const char *idstr, uint32_t section_id,
                     uint32_t instance, uint32_t version);
bool fz_frame_suffix(VmsOut *out, uint32_t section_id);

/*
 * The structure-aware mutator (mutator.c). The stream is loaded into a
 * scratch machine and re-saved section by section with a map of every
 * field; then field values, section versions, subsections (drop,
 * duplicate) and sections (order, drop, duplicate) are mutated and the
 * framing rebuilt. Inputs that do not load go to `fallback` (libFuzzer's
 * LLVMFuzzerMutate, AFL++'s havoc). Deterministic for a given seed.
 * Returns the new size (<= max).
 */
typedef size_t (*FzByteMutate)(uint8_t *data, size_t size, size_t max, void *opaque);
size_t fz_mutate_stream(uint8_t *data, size_t size, size_t max, unsigned seed,
                        FzByteMutate fallback, void *opaque);

/*
 * What became of the input the target just ran: whether it loaded. The
 * mutator's next input is usually that one (libFuzzer stacks mutations on
 * the input it ran), and a stream known not to load goes straight to the
 * byte fallback instead of being loaded again to find that out.
 */
void fz_mutator_note(const uint8_t *data, size_t size, bool loaded);

/* splitmix64, for everything seeded in the fuzz code. */
uint64_t fz_rng(uint64_t *state);

#endif
