/*
 * bench_loop.c - what a round trip costs on the default machine running the
 * `all` workload, phase by phase, beside memcpy of the same bytes measured
 * in the same run.
 *
 *   round trip  = save + reset + load (what migration itself does)
 *   checkpoint  = everything the loop does per checkpoint: three saves,
 *                 snapshots, reset, load, and every oracle's comparison,
 *                 as the loop runs them (one full checkpoint in
 *                 LOOP_FULL_EVERY, the rest incremental), with the twins
 *                 running the loop's mean interval (100,000 cycles)
 *                 between checkpoints, untimed; then every checkpoint
 *                 full (full_every = 1), the same way
 *   yardstick   = memcpy of the stream's bytes, twice
 *   pre-copy    = a live migration's round trip (loop_precopy_save: 3
 *                 passes of the ram section, the guest running 1000
 *                 cycles after each, then the last pages and the devices;
 *                 reset; load), the guest's own run time left out
 *
 * Usage: bench_loop [--incremental-only] [--cpu-time] [iterations] [firmware.elf].
 * --incremental-only: every checkpoint but the first incremental (for a
 * profile of them: callgrind --toggle-collect=loop_twin_checkpoint), the
 * full-checkpoint and pre-copy halves skipped. --cpu-time: every figure
 * in the thread's CPU time (CLOCK_THREAD_CPUTIME_ID). Either way the cost of
 * one clock read (calibrated at start, printed) is taken off every interval,
 * and the memcpy yardstick is timed over all its iterations at once. Host
 * time is read here only, never in the harness.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"

/* --cpu-time: the thread's CPU time instead of the wall clock, for a
 * machine other jobs share (the harness's own phase timers keep theirs). */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What one clock read adds to an interval: nothing to speak of for the
 * wall clock (vDSO), but a system call of a few microseconds for the
 * thread's CPU time, as much as the memcpy yardstick itself. Every
 * interval below has it taken off (the median of many back-to-back reads). */
static double clock_cost;

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void calibrate_clock(void)
{
    enum { N = 1001 };
    static double d[N];
    for (int i = 0; i < N; i++) {
        double t0 = now();
        d[i] = now() - t0;
    }
    qsort(d, N, sizeof(d[0]), cmp_double);
    clock_cost = d[N / 2];
}

/* Seconds from `from` to `to`, less the clock read that ended it. */
static double span(double from, double to) { return to - from - clock_cost; }

/* The guest runs between pre-copy passes; its time is not migration's. */
static double t_guest;

static bool run_guest(void *opaque, uint64_t cycles)
{
    double t0 = now();
    mach_run(opaque, cycles);
    t_guest += span(t0, now()) + 2 * clock_cost;   /* both reads are in the caller's interval */
    return true;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_loop: %s\n", what);
    exit(2);
}

/* Seconds spent in `iters` checkpoints, the guest running the loop's mean
 * interval between them (its pages dirtied as in a run), untimed. */
#define BENCH_INTERVAL 100000
static double checkpoints(LoopTwin *t, int iters)
{
    LoopFinding f;
    double spent = 0;
    for (int i = 0; i < iters; i++) {
        if (!loop_twin_run(t, BENCH_INTERVAL, &f))
            die(f.detail);
        double t0 = now();
        if (!loop_twin_checkpoint(t, &f))
            die(f.detail);
        spent += span(t0, now());
    }
    return spent;
}

int main(int argc, char **argv)
{
    bool inc_only = false;
    for (; argc > 1 && !strncmp(argv[1], "--", 2); argc--, argv++) {
        if (!strcmp(argv[1], "--incremental-only"))
            inc_only = true;
        else if (!strcmp(argv[1], "--cpu-time"))
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
        else
            die("unknown option (--incremental-only, --cpu-time)");
    }
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    const char *fw = argc > 2 ? argv[2] : VMSTRESS_GUEST_DIR "/all.elf";
    if (iters <= 0)
        die("iterations must be positive");
    calibrate_clock();

    LoopConfig cfg;
    loop_config_defaults(&cfg);
    cfg.firmware = fw;
    if (inc_only)
        cfg.full_every = UINT32_MAX;
    LoopFinding f;
    LoopTwin *t = loop_twin_new(&cfg, NULL, 0, &f);
    if (!t)
        die(f.detail);
    /* Get the devices busy first: FIFOs, timers and interrupts in flight. */
    if (!loop_twin_run(t, 5000000, &f))
        die(f.detail);
    Machine *m = loop_twin_machine(t, 1);

    VmsOut out, copy;
    vms_out_init(&out, 0);
    vms_out_init(&copy, 0);
    VmsSaveOpts opts = { .no_vmdesc = true };
    VmsError err;
    double t_save = 0, t_reset = 0, t_load = 0, t_memcpy = 0;
    volatile uint8_t sink = 0;
    for (int i = 0; i < iters; i++) {
        double t0 = now();
        vms_out_reset(&out);
        if (!mach_save(m, &out, &opts, &err))
            die("save failed");
        double t1 = now();
        mach_reset(m);
        double t2 = now();
        /* vms_load alone: mach_load would reset a second time. */
        if (!vms_load(mach_registry(m), out.buf, out.len, &err))
            die("load failed");
        double t3 = now();
        t_save += span(t0, t1);
        t_reset += span(t1, t2);
        t_load += span(t2, t3);
    }
    /* The yardstick, in one interval: under --cpu-time a clock read per
     * pair of copies would weigh as much as the copies. */
    vms_out_reset(&copy);
    vms_out_bytes(&copy, out.buf, out.len);     /* sizes the buffer once */
    double t4 = now();
    for (int i = 0; i < iters; i++) {
        memcpy(copy.buf, out.buf, out.len);
        memcpy(out.buf, copy.buf, out.len);
        sink ^= copy.buf[i % out.len];
    }
    t_memcpy = span(t4, now());
    double t_ckpt = checkpoints(t, iters);
    if (inc_only) {
        printf("bench_loop --incremental-only: stream %zu bytes, %d iterations\n", out.len, iters);
        printf("  checkpoint      %8.2f us  (all oracles, all but the first incremental)\n", t_ckpt * 1e6 / iters);
        printf("  memcpy x2       %8.2f us\n", t_memcpy * 1e6 / iters);
        printf("  checkpoint / memcpy x2 = %.1fx\n", t_ckpt / t_memcpy);
        vms_out_free(&out);
        vms_out_free(&copy);
        loop_twin_free(t);
        return 0;
    }
    LoopConfig full_cfg = cfg;
    full_cfg.full_every = 1;
    LoopTwin *tf = loop_twin_new(&full_cfg, NULL, 0, &f);
    if (!tf || !loop_twin_run(tf, 5000000, &f))
        die(f.detail);
    double t_full = checkpoints(tf, iters);
    loop_twin_free(tf);

    /* Pre-copy round trips on B alone (after the checkpoints: B runs on). */
    LoopPrecopyPlan plan = { .passes = 3, .slice = { 1000, 1000, 1000 } };
    LoopPrecopyResult res;
    VmsOut live;
    vms_out_init(&live, 0);
    double t_psave = 0, t_pload = 0;
    uint64_t pages = 0;
    for (int i = 0; i < iters; i++) {
        t_guest = 0;
        double t0 = now();
        if (!loop_precopy_save(m, &live, &plan, run_guest, m, false, &res, &err) || res.stale_page >= 0)
            die("pre-copy save failed");
        double t1 = now();
        if (!mach_load(m, live.buf, live.len, &err))    /* resets, then loads */
            die("pre-copy load failed");
        double t2 = now();
        t_psave += span(t0, t1) - t_guest;
        t_pload += span(t1, t2);
        pages += res.pages_sent;
    }
    double us = 1e6 / iters, rt = t_save + t_reset + t_load;
    printf("bench_loop: default machine, `all` workload, stream %zu bytes, %d iterations\n", out.len, iters);
    printf("  (%s; one clock read, %.3f us, taken off every figure)\n",
           bench_clock == CLOCK_MONOTONIC ? "wall clock" : "thread CPU time", clock_cost * 1e6);
    printf("  save            %8.2f us\n", t_save * us);
    printf("  reset           %8.2f us\n", t_reset * us);
    printf("  load            %8.2f us\n", t_load * us);
    printf("  round trip      %8.2f us  (%.0f round trips/s)\n", rt * us, iters / rt);
    printf("  checkpoint      %8.2f us  (all oracles, 1 full in %d; %.0f checkpoints/s)\n", t_ckpt * us,
           LOOP_FULL_EVERY, iters / t_ckpt);
    printf("  full checkpoint %8.2f us  (all oracles, every checkpoint full)\n", t_full * us);
    printf("  memcpy x2       %8.2f us  (%.0f MB/s)\n", t_memcpy * us,
           2.0 * (double)out.len * iters / t_memcpy / 1e6);
    printf("  round trip / memcpy x2 = %.1fx (goal: <= 5x)\n", rt / t_memcpy);
    printf("  checkpoint / memcpy x2 = %.1fx (full: %.1fx; goal: <= 4x)\n", t_ckpt / t_memcpy, t_full / t_memcpy);
    printf("  pre-copy save   %8.2f us  (3 passes, %.1f pages sent, stream %zu bytes)\n", t_psave * us,
           (double)pages / iters, live.len);
    printf("  pre-copy load   %8.2f us  (reset included)\n", t_pload * us);
    printf("  pre-copy round trip %8.2f us = %.1fx the stop-and-copy round trip\n", (t_psave + t_pload) * us,
           (t_psave + t_pload) / rt);
    vms_out_free(&live);
    vms_out_free(&out);
    vms_out_free(&copy);
    loop_twin_free(t);
    return sink == 0xff ? 0 : 0;
}
