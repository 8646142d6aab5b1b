/*
 * loop.h - the round-trip stress loop and its oracles (prefix loop_).
 *
 * Two machines, A and B, start alike (board, firmware, seed, host inputs).
 * A runs uninterrupted. At every checkpoint B is saved to memory, reset to
 * power-on, loaded and resumed. After every checkpoint the oracles compare:
 *
 *   save purity    saving a machine changes none of its compared members, and
 *                  saving twice gives identical bytes;
 *   state equality A's and B's streams are byte-identical; a difference is
 *                  named by section, instance, field path and both values;
 *   reset          B right after its reset equals a power-on machine, member
 *                  by member (a reset that forgets a member);
 *   fixpoint       save, reset, load, save gives the same bytes again;
 *   shadow diff    every compared member of every part of A and B is equal
 *                  after the load, so a member no description carries is
 *                  named at the first checkpoint;
 *   behaviour      UART output, GPIO pins, IRQ edges and resets of A and B
 *                  match event for event, as they happen;
 *   range          every member with a declared range (an index, a count)
 *                  is inside it after each load, and at the first checkpoint
 *                  B's stream with each such member set just outside its
 *                  range is refused (lint.h's probe);
 *   load order     B loads its stream with the device sections in a seeded
 *                  permutation (new at each checkpoint): a hook that reads
 *                  another section's state is named with that section.
 *
 * Saving A is safe only because the purity oracle proves each save changed
 * nothing; a pre_save with a side effect is reported as such.
 *
 * Everything the twins see is derived from the seed; host time is used only
 * for the duration bound and progress figures, never for guest decisions.
 */
#ifndef VMSTRESS_LOOP_H
#define VMSTRESS_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine.h"

typedef enum LoopOracle {
    LOOP_OK = 0,
    LOOP_PURITY,        /* a save changed the machine, or two saves differ */
    LOOP_STATE,         /* A's and B's streams differ */
    LOOP_RESET,         /* B after reset differs from power-on */
    LOOP_FIXPOINT,      /* save/reset/load/save changed the bytes */
    LOOP_SHADOW,        /* a compared member differs between A and B */
    LOOP_BEHAVIOUR,     /* guest-visible events differ */
    LOOP_LOAD,          /* B's own stream failed to load */
    LOOP_SETUP,         /* the run could not start (bad firmware, board) */
    LOOP_RANGE,         /* a load accepted a value outside a declared range */
    LOOP_PRECOPY,       /* live migration: a page changed after it was sent, unmarked */
    LOOP_ORDER,         /* B's load is right only with another section loaded first */
} LoopOracle;

const char *loop_oracle_name(LoopOracle o);

typedef struct LoopStats LoopStats;

typedef struct LoopConfig {
    const char *board;          /* default "vmstress-m0" */
    const char *firmware;       /* ELF path */
    const char *workload;       /* name for reports (the firmware's stem) */
    /* For the reproducer: the firmware's name relative to the build folder
     * ("guest/all.elf"), so it replays on another machine; NULL: the path
     * as given. And the program that can replay it ("vmstress", or
     * "vmstress-planted" for planted variants); NULL: "vmstress". */
    const char *firmware_name;
    const char *program;
    uint64_t firmware_hash;     /* read from a reproducer: FNV-1a 64 of the ELF; 0 unknown */
    uint64_t seed;
    uint64_t max_checkpoints;   /* 0: no bound */
    uint64_t max_cycles;        /* 0: no bound */
    double max_seconds;         /* 0: no bound (host time, only to stop) */
    uint64_t interval_min;      /* cycles between checkpoints: uniform in [min, max] */
    uint64_t interval_max;      /* (min == max: fixed) */
    uint32_t input_every;       /* mean cycles between host inputs; 0: none */
    /* Explicit schedule (replay): checkpoint cycles, ascending. Overrides intervals. */
    const uint64_t *schedule;
    size_t schedule_len;
    const char *results_dir;    /* where reports and streams go; NULL: none written */
    FILE *progress;             /* live line (terminal), or NULL */
    /* Called about twice a second with the figures so far (e.g. to combine
     * the progress of parallel jobs); NULL for none. */
    void (*on_progress)(const LoopStats *st, void *opaque);
    void *progress_opaque;
    /* Set (by a signal handler) to end the run cleanly: the checkpoint in
     * progress finishes, then the run ends as if its bound were reached. */
    volatile sig_atomic_t *stop;
    /* Called for each of A and B once built (e.g. to attach a field-coverage
     * observer to its registry); NULL for none. */
    void (*on_machine)(Machine *m, int which, void *opaque);
    void *on_machine_opaque;
    /* Register exploration: after every explore_every checkpoints, a copy of
     * A's state gets register writes and host inputs and is checkpointed
     * (explore.c); 0: off. explore_coverage, if set, receives the explored
     * states' field coverage when the run ends. */
    uint32_t explore_every;
    struct Fcov *explore_coverage;
    /* Device type overrides for planted-bug variants: "base=variant" pairs. */
    const char *const *overrides;
    size_t n_overrides;
    /* Count A's dirty pages per checkpoint interval (LoopStats.dirty). */
    bool dirty_log;
    /* Migrate B live at every checkpoint (loop_precopy_save): its RAM in
     * iterations while both twins run on, then the rest and the devices. */
    bool precopy;
    /* B loads the device sections of its stream in a seeded permutation
     * (the load-order oracle; default on). */
    bool permute;
    /* Now and then (seeded), after a checkpoint, both twins idle with the
     * core held for up to 2.7 guest seconds while their timers fire, so a
     * short run reaches far deadlines, counter reloads and the watchdog's
     * second timeout (default on). */
    bool fast_forward;
    /* Incremental checkpoints: one checkpoint in full_every (and the first,
     * a bounded run's last, and one after any checkpoint that could not
     * be incremental) compares everything; the others compare SRAM only
     * where a dirty log marked a page since the last checkpoint, and B
     * keeps its SRAM through the round trip. A run that ends clean after an
     * incremental checkpoint compares A and B whole first. 0 or 1: every
     * checkpoint full. --precopy checkpoints are always full. Recorded in
     * repro.json (full_every; full_last: the finding's checkpoint was
     * full), so a replay compares the same way. docs/design.md, "What a
     * checkpoint compares". */
    uint32_t full_every;
    bool full_last;             /* replay: the last scheduled checkpoint is full */
} LoopConfig;

/* Default full_every. */
#define LOOP_FULL_EVERY 64

/* Default cadence of register exploration: one explored state per this
 * many checkpoints (each costs about one checkpoint). */
#define LOOP_EXPLORE_EVERY 16

void loop_config_defaults(LoopConfig *c);

#define LOOP_MAX_CAUSES 8

typedef struct LoopFinding {
    LoopOracle oracle;
    uint64_t checkpoint;        /* 1-based checkpoint number (0: before the first) */
    uint64_t cycle;             /* guest cycle at detection */
    char where[96];             /* section / part name, e.g. "pl011" or "sp804.1" */
    int64_t instance;
    char what[160];             /* field path or member name */
    char a[96], b[96];          /* A's and B's values, formatted */
    char detail[512];           /* one line of explanation */
    /* After a load went wrong: every differing member, most causal first
     * (a field that loaded a value other than the saved one; a member a
     * hook changed; derived state). causes[0] is what where/what name. */
    char causes[LOOP_MAX_CAUSES][240];
    size_t n_causes;
    bool full;                  /* found by a full checkpoint (LoopConfig.full_every) */
} LoopFinding;

/* --dirty-log: A's dirty pages per checkpoint interval. */
#define LOOP_DIRTY_HIST 65      /* histogram buckets: 0..63 pages, then 64 or more */
typedef struct LoopDirty {
    uint64_t intervals;
    uint64_t pages;             /* sum over intervals */
    uint64_t cycles;            /* guest cycles the intervals cover */
    uint64_t min, max;          /* pages in one interval */
    uint32_t page_size;
    uint64_t hist[LOOP_DIRTY_HIST];
} LoopDirty;

struct LoopStats {
    uint64_t checkpoints;
    uint64_t cycles;            /* guest cycles run by A */
    uint64_t bytes_saved;       /* per checkpoint stream size, last */
    double seconds;
    double phase_us[4];         /* mean microseconds: save, reset, load, compare */
    bool guest_exited;
    int exit_code;
    bool interrupted;           /* ended by cfg->stop */
    bool results_written;       /* a finding's evidence is all in cfg->results_dir */
    /* Register exploration: states explored, and bits of the fields saved
     * in them (elements times width) and of those seen both as 0 and as 1. */
    uint64_t explored, bits, bits_both;
    LoopDirty dirty;            /* cfg->dirty_log */
    uint64_t precopy_passes;    /* cfg->precopy: live passes, all checkpoints */
    uint64_t precopy_pages;     /* pages sent, all passes and final chunks */
    uint64_t full_checkpoints;  /* checkpoints that compared everything */
};

/*
 * The twins as a reusable object, for callers that drive the guest side
 * themselves (fuzz_roundtrip): every operation is applied to A and B alike
 * and compared; every call returns false with f filled on a divergence.
 * loop_run is a seeded driver of this same object.
 */
typedef struct LoopTwin LoopTwin;
LoopTwin *loop_twin_new(const LoopConfig *cfg, const void *firmware, size_t len, LoopFinding *f);
void loop_twin_free(LoopTwin *t);
Machine *loop_twin_machine(LoopTwin *t, int which);    /* 0: A, 1: B */
/* Run both for `cycles` (or until they stop); compares guest-visible events. */
bool loop_twin_run(LoopTwin *t, uint64_t cycles, LoopFinding *f);
/* Advance virtual time without running the core. */
bool loop_twin_idle(LoopTwin *t, uint64_t cycles, LoopFinding *f);
bool loop_twin_input(LoopTwin *t, unsigned dev, unsigned channel, uint32_t value, LoopFinding *f);
/* Host bus access on both; a read must return the same value and status. */
bool loop_twin_write(LoopTwin *t, uint32_t addr, unsigned size, uint32_t value, LoopFinding *f);
bool loop_twin_read(LoopTwin *t, uint32_t addr, unsigned size, LoopFinding *f);
/* Checkpoint B and run every oracle. */
bool loop_twin_checkpoint(LoopTwin *t, LoopFinding *f);
bool loop_twin_stopped(LoopTwin *t);                    /* halted or locked up */

/* Run the loop. Returns 0: no divergence, 1: divergence (finding filled),
 * 2: setup error, or a run that proves nothing (the guest locked up, or no
 * checkpoint was reached); finding.detail says why. On a divergence every
 * piece of evidence (report.json, a.bin, b.bin, trace.txt, repro.json,
 * log.txt) is written to cfg->results_dir, created with its parents,
 * before loop_run returns. */
int loop_run(const LoopConfig *cfg, LoopFinding *finding, LoopStats *stats);

/*
 * Live (pre-copy) migration of machine m into out, in QEMU's stream layout:
 * header and configuration; the iterative "ram" section's START chunk; one
 * PART chunk per pass, the first with every page, each later one with the
 * pages the dirty log marked since the pass before, each followed by
 * run(opaque, slice[k]) (the guest keeps running while its RAM is sent);
 * then, the guest stopped, the END chunk with the pages dirtied since, and
 * every other section but "sram" (RAM went in "ram"), EOF and, with
 * vmdesc, the trailer (page_size = the machine's page). Afterwards every
 * page the stream carries is compared with m's SRAM: a page that changed
 * after it was last sent, unmarked by the log, is res->stale_page.
 * False when run() returned false (f filled by the caller's run) or the
 * save failed (err).
 */
#define LOOP_PRECOPY_MAX_PASSES 8
typedef struct LoopPrecopyPlan {
    unsigned passes;            /* live passes, 1..LOOP_PRECOPY_MAX_PASSES */
    uint64_t slice[LOOP_PRECOPY_MAX_PASSES];   /* guest cycles run after each */
} LoopPrecopyPlan;
typedef struct LoopPrecopyResult {
    unsigned passes;            /* passes made (fewer if the guest stopped) */
    uint64_t pages_sent;        /* pages in PART and END chunks */
    uint64_t pages_final;       /* pages in the END chunk */
    long stale_page;            /* first page the stream carries stale, or -1 */
    size_t stale_offset;        /* its first differing byte */
    uint8_t stale_sent, stale_now;
} LoopPrecopyResult;
typedef bool LoopRunFn(void *opaque, uint64_t cycles);
bool loop_precopy_save(Machine *m, VmsOut *out, const LoopPrecopyPlan *plan, LoopRunFn *run,
                       void *opaque, bool vmdesc, LoopPrecopyResult *res, VmsError *err);

/*
 * `vmstress dirty`: QEMU's pre-copy convergence rule applied to machine m
 * as it runs. Pass 1 sends every page; each pass takes its bytes over
 * `bandwidth` (bytes/s) of guest time (10 ns per cycle), while the guest
 * runs and dirties pages; the pages dirty after a pass are the next pass.
 * As in QEMU 7.2 (migration_iteration_run), the guest is stopped once the
 * remaining dirty bytes (pages x page size) are below bandwidth x
 * max_downtime; the downtime is then those pages plus the device state
 * over the bandwidth. No convergence within max_passes: converged false.
 */
typedef struct LoopPrediction {
    bool converged;
    unsigned passes;            /* live passes before the stop */
    uint64_t bytes_sent;        /* live passes and the stop */
    uint64_t final_pages;       /* dirty pages sent while stopped */
    uint64_t device_bytes;      /* everything but RAM, sent while stopped */
    double total_s;             /* migration time, guest seconds */
    double downtime_s;
    uint64_t last_pending;      /* dirty bytes after the last pass */
} LoopPrediction;
void loop_predict_precopy(Machine *m, double bandwidth, double max_downtime, unsigned max_passes,
                          LoopPrediction *p);
/* Guest cycles per second of guest time (the clock's 10 ns cycle). */
#define LOOP_GUEST_HZ 100000000.0

/* One interval of the dirty log of m into d (--dirty-log, `vmstress dirty`). */
void loop_dirty_account(LoopDirty *d, Machine *m, uint64_t cycles);
/* Dirty pages per second of guest time (0 when no time passed). */
double loop_dirty_rate(const LoopDirty *d);
/* Add src's intervals to d (--jobs totals). */
void loop_dirty_merge(LoopDirty *d, const LoopDirty *src);
void loop_dirty_print(FILE *f, const LoopDirty *d);
void *loop_dirty_json(const LoopDirty *d);

/* Human and JSON renderings of a result. */
void loop_print_finding(FILE *f, const LoopFinding *fi);
void loop_print_summary(FILE *f, const LoopConfig *cfg, const LoopStats *st, int status);
/* A JSON object for --json and the report file (jansson json_t *). */
void *loop_result_json(const LoopConfig *cfg, const LoopFinding *fi, const LoopStats *st, int status);

/* Reproducer files: write cfg + schedule; read them back into cfg (strings
 * and schedule owned by the returned config until loop_repro_free). */
bool loop_repro_write(const char *path, const LoopConfig *cfg, const uint64_t *sched, size_t n,
                      const LoopFinding *fi);
/* What a reproducer may ask for: more is refused as a bad file, so a replay
 * is always bounded (run's longest nightly job stays far below both). */
#define LOOP_REPRO_MAX_CHECKPOINTS 1000000u
#define LOOP_REPRO_MAX_CYCLES 1000000000000ull
/* Reproducer read: cfg->firmware is the stored name (to be resolved by the
 * caller), cfg->firmware_hash and cfg->program are filled. */
bool loop_repro_read(const char *path, LoopConfig *cfg, LoopFinding *expect, char *err, size_t errlen);
void loop_repro_free(LoopConfig *cfg);

/* FNV-1a 64 of a file's bytes (the reproducer's firmware check). */
bool loop_file_hash(const char *path, uint64_t *hash, char *err, size_t errlen);
/* mkdir -p: false with a one-line reason naming the path that failed. */
bool loop_mkdirs(const char *path, char *err, size_t errlen);

#endif
