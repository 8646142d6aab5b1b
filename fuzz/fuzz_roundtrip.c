/*
 * fuzz_roundtrip.c - target fuzz_roundtrip: the input is a program of
 * guest-side operations (program.h) run on a LoopTwin.
 *
 * Twin A runs uninterrupted; at every CHECKPOINT (and once at the end) twin
 * B is saved, reset and loaded, and every oracle of the stress loop runs.
 * The guest is the embedded firmware (the `all` workload, which drives every
 * device), so host-side accesses land on devices the guest is using too.
 * A divergence is a finding: the loop's report, then abort().
 *
 * fuzz_roundtrip_planted links tests/planted/planted.c and applies the
 * variant named by VMSTRESS_PLANT (e.g. "pl011-missing-field").
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "program.h"

#define MAX_INPUT 4096

static LoopConfig cfg;
static const Board *board;

static void setup(void)
{
    loop_config_defaults(&cfg);
    cfg.board = FZ_BOARD;
    cfg.workload = fz_firmware_name;
    cfg.overrides = fz_overrides(NULL, &cfg.n_overrides);
    board = mach_board_find(cfg.board);
    if (!board) {
        fprintf(stderr, "fuzz_roundtrip: no board '%s'\n", cfg.board);
        exit(2);
    }
}

static void diverged(const LoopFinding *f)
{
    loop_print_finding(stderr, f);
    fz_finding("fuzz_roundtrip", "divergence (%s) in %s, field '%s'", loop_oracle_name(f->oracle),
               f->where[0] ? f->where : "-", f->what[0] ? f->what : "-");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    if (!board)
        setup();
    LoopFinding f;
    LoopTwin *t = loop_twin_new(&cfg, fz_firmware, fz_firmware_len, &f);
    if (!t) {
        loop_print_finding(stderr, &f);
        fprintf(stderr, "fuzz_roundtrip: setup failed\n");
        exit(2);
    }
    FzProg g;
    FzOp op;
    fz_prog_init(&g, data, size, board);
    bool ok = true;
    while (ok && fz_prog_next(&g, &op)) {
        switch (op.kind) {
        case FZ_OP_WRITE: ok = loop_twin_write(t, op.addr, op.size, op.value, &f); break;
        case FZ_OP_READ: ok = loop_twin_read(t, op.addr, op.size, &f); break;
        case FZ_OP_INPUT: ok = loop_twin_input(t, op.dev, op.ch, op.value, &f); break;
        case FZ_OP_IDLE: ok = loop_twin_idle(t, op.cycles, &f); break;
        case FZ_OP_RUN: ok = loop_twin_run(t, op.cycles, &f); break;
        case FZ_OP_CHECKPOINT: ok = loop_twin_checkpoint(t, &f); break;
        }
    }
    if (ok)
        ok = loop_twin_checkpoint(t, &f);
    if (!ok)
        diverged(&f);
    loop_twin_free(t);
    return 0;
}
