/*
 * fuzz_load.c - target fuzz_load: the input is a whole migration stream.
 *
 * It is loaded into a machine of the fuzz board (FZ_BOARD, embedded firmware)
 * that the load itself resets. A rejected stream must carry a structured
 * error; an accepted one runs the guest for FZ_RUN_CYCLES and must then
 * reach a save, load, save fixpoint. Anything else (a crash, a sanitizer
 * report, a leak, an abort) is a finding.
 *
 * Planted variants (fuzz_load_planted) are the same code with device
 * overrides from VMSTRESS_FUZZ_OVERRIDES; see planted_load.c.
 */
#include <stdlib.h>

#include "fuzz.h"

#define MAX_INPUT (1u << 20)

static Machine *machine;
static VmsOut s1, s2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    if (!machine) {
        size_t n;
        const char *const *ov = fz_overrides(NULL, &n);
        machine = fz_machine_new(ov, n);
        vms_out_init(&s1, 0);
        vms_out_init(&s2, 0);
    }
    VmsError err;
    bool loaded = mach_load(machine, data, size, &err);
    fz_mutator_note(data, size, loaded);
    if (!loaded) {
        fz_check_rejected("fuzz_load", &err);
        return 0;
    }
    fz_check_fixpoint("fuzz_load", machine, FZ_RUN_CYCLES, -1, &s1, &s2);
    return 0;
}
