/*
 * fuzz_load_dev.c - targets fuzz_load_<device>: the input is the body of one
 * section of that device.
 *
 * One source serves every device in the registry: the device is the suffix
 * of the binary's name (fuzz_load_pl011 -> "pl011"), read in
 * LLVMFuzzerInitialize from argv[0], so the build makes one binary and a
 * link or copy per device (fuzzgen devices lists them). VMSTRESS_FUZZ_DEVICE
 * overrides the name, for engines that rename binaries.
 *
 * The body is framed as the device's "<vmsd name>" section, instance 0, at
 * the description's current version, in an otherwise valid stream, so the
 * device's own validators are reached on the first byte. The framing before
 * the body is the same for every input: it is built once. The oracles are
 * fuzz_load's: a structured error, or a run and a fixpoint. Only this
 * device's registers are read before the run: the stream loads nothing
 * else, so every other device is still at its reset state there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define MAX_INPUT (64u << 10)

static const DevType *type;
static char target[96];
static Machine *machine;
static uint32_t section_id;
static int device;              /* its board index */
static size_t prefix_len;       /* framed.buf[0, prefix_len): the framing before the body */
static VmsOut framed, s1, s2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *name = getenv("VMSTRESS_FUZZ_DEVICE");
    if (!name || !*name)
        name = fz_name_suffix(*argc > 0 ? (*argv)[0] : NULL, "fuzz_load_");
    type = name ? dev_type_find(name) : NULL;
    if (!type || !type->vmsd) {
        fprintf(stderr, "fuzz_load_<device>: cannot tell the device from the program name '%s' "
                "(run it as fuzz_load_<device type>, or set VMSTRESS_FUZZ_DEVICE)\n",
                *argc > 0 ? (*argv)[0] : "?");
        exit(2);
    }
    snprintf(target, sizeof(target), "fuzz_load_%s", type->name);
    size_t n;
    const char *const *ov = fz_overrides(NULL, &n);
    machine = fz_machine_new(ov, n);
    VmsSection *s = vms_registry_find(mach_registry(machine), type->vmsd->name, 0);
    if (!s) {
        fprintf(stderr, "%s: the board has no section '%s' instance 0\n", target,
                type->vmsd->name);
        exit(2);
    }
    section_id = s->section_id;
    device = -1;
    for (size_t i = 0; i < mach_n_devices(machine) && device < 0; i++)
        if (mach_device_state(machine, i) == s->opaque)
            device = (int)i;
    vms_out_init(&framed, 0);
    if (device < 0 || !fz_frame_prefix(&framed, mach_registry(machine)->machine_type, type->vmsd->name,
                                       section_id, 0, (uint32_t)type->vmsd->version_id)) {
        fprintf(stderr, "%s: cannot frame section '%s'\n", target, type->vmsd->name);
        exit(2);
    }
    prefix_len = framed.len;
    mach_reset(machine);        /* mach_registry and mach_device_state count as touching */
    vms_out_init(&s1, 0);
    vms_out_init(&s2, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    /* mach_registry here would count as touching the machine and cost
     * mach_load a second reset. */
    framed.len = prefix_len;
    if (!vms_out_bytes(&framed, data, size) || !fz_frame_suffix(&framed, section_id))
        fz_finding(target, "cannot frame a %zu-byte body", size);
    VmsError err;
    if (!mach_load(machine, framed.buf, framed.len, &err)) {
        fz_check_rejected(target, &err);
        return 0;
    }
    fz_check_fixpoint(target, machine, FZ_RUN_CYCLES, device, &s1, &s2);
    return 0;
}
