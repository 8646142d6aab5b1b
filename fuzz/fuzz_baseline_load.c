/*
 * fuzz_baseline_load.c - fuzz_load's machine load and nothing else: no
 * structure-aware mutator, no oracle on rejected or accepted streams.
 *
 * It checks nothing, so it is not a fuzz target: it is the floor that any
 * target loading a whole stream into the machine pays per input, printed by
 * bench/bench_fuzz.sh between the empty target and fuzz_load. The gap from
 * the empty target is the load; the gap to fuzz_load is the mutator and
 * the oracles.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Machine *machine;
    if (!machine)
        machine = fz_machine_new(NULL, 0);
    VmsError err;
    mach_load(machine, data, size, &err);
    return 0;
}
