/*
 * cmd_run.c - `vmstress run` and `vmstress replay`: the main job.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fieldcov.h"
#include "loop.h"

static const char run_usage[] =
    "usage: vmstress run [options]\n"
    "\n"
    "Round-trip stress: twins A and B run the same firmware with the same seeded\n"
    "inputs; at every checkpoint B is saved, reset, loaded and resumed, and the\n"
    "oracles compare it with A (save purity, state equality, reset, fixpoint,\n"
    "shadow diff, guest-visible events). Stops at the first divergence.\n"
    "\n"
    "  --board NAME          machine layout (default vmstress-m0)\n"
    "  --workload NAME       guest program from the build (default all)\n"
    "  --firmware FILE       guest ELF to run instead of a built workload\n"
    "  --seed N              seed for checkpoint intervals and host inputs (default 1)\n"
    "  --checkpoints N       stop after N checkpoints\n"
    "  --cycles N            stop after N guest cycles\n"
    "  --duration TIME       stop after this much host time: seconds, or 30s,\n"
    "                        10m, 1h\n"
    "                        (default when no bound is given: 2000 checkpoints)\n"
    "  --interval N          checkpoint every N cycles (fixed)\n"
    "  --interval-min N      random intervals, uniform in [min, max] cycles\n"
    "  --interval-max N      (defaults 1000 and 200000)\n"
    "  --inputs N            mean cycles between host inputs (UART bytes, GPIO\n"
    "                        pins); 0 for none (default 50000)\n"
    "  --results DIR         where a divergence's report.json, a.bin, b.bin,\n"
    "                        repro.json, trace.txt and log.txt go (created\n"
    "                        with its parents; default results)\n"
    "  --jobs N              run N independent seeds (seed, seed+1, ...) in\n"
    "                        parallel; results go to DIR/seed-<s>\n"
    "  --shard K/N           this machine's share of a run spread over N\n"
    "                        machines (K is 1..N): its jobs take the seeds\n"
    "                        seed+K-1, seed+K-1+N, ...; merge the machines'\n"
    "                        field coverage with `vmstress report A B ...`\n"
    "  --plant BASE=VARIANT  replace a device by a test-only variant (planted\n"
    "                        bugs; only in binaries that link them)\n"
    "  --field-coverage FILE count field coverage (A's saves, B's loads, the\n"
    "                        explored states' saves) and merge it into FILE\n"
    "                        (locked, so --jobs share it); see `vmstress report`\n"
    "  --no-explore          no register exploration (by default, every 16\n"
    "                        checkpoints a copy of A's state gets register\n"
    "                        writes and host inputs steered toward field bits\n"
    "                        not yet seen, and is checkpointed too; the main\n"
    "                        twins and the guest never see it)\n"
    "  --dirty-log           count A's dirty 1 KiB pages per checkpoint interval;\n"
    "                        the summary (and --json's \"dirty_log\") gives pages\n"
    "                        per interval and the dirty rate in pages/s and\n"
    "                        bytes/s of guest time\n"
    "  --precopy             migrate B live at each checkpoint: its RAM in QEMU's\n"
    "                        iterative \"ram\" section, pass after pass while both\n"
    "                        twins run on for seeded slices, then the last dirty\n"
    "                        pages and the devices; a page changed but never\n"
    "                        marked dirty is named (oracle precopy)\n"
    "  --json                print the result as one JSON object (with --jobs:\n"
    "                        totals at the top level, one object per seed\n"
    "                        under \"runs\")\n"
    "  --quiet               no progress line, no summary (exit status only)\n"
    "  --no-permute          B loads its stream in saved order (by default the\n"
    "                        device sections come in a seeded permutation, new\n"
    "                        at every checkpoint: the load-order oracle)\n"
    "  --no-fast-forward     never idle the twins (by default, now and then after\n"
    "                        a checkpoint, both idle with the core held for up\n"
    "                        to 2.7 guest seconds while timers fire, so far\n"
    "                        deadlines and the watchdog's second timeout come\n"
    "                        early)\n"
    "  --help                this text\n"
    "\n"
    "Bounds are positive: 0 is a usage error. Ctrl-C ends the run after the\n"
    "checkpoint in progress, merges field coverage and prints the summary.\n"
    "\n"
    "Exit status: 0 no divergence, 1 divergence found, 2 usage or setup error,\n"
    "or a run that tested nothing (the guest stopped or locked up before the\n"
    "first checkpoint, or no checkpoint was reached; a lock-up at any time).\n";

static const char replay_usage[] =
    "usage: vmstress replay REPRO.json [--firmware FILE] [--results DIR] [--json] [--quiet]\n"
    "\n"
    "Re-run a reproducer written by `vmstress run` (seed, board, firmware,\n"
    "plants and the exact checkpoint schedule), up to the cycle of its finding.\n"
    "The firmware is named relative to the build (\"guest/all.elf\") and found\n"
    "in the build this program belongs to, so a reproducer replays on any\n"
    "machine; its FNV-1a 64 hash must match. A reproducer written by\n"
    "vmstress-planted needs vmstress-planted.\n"
    "\n"
    "  --firmware FILE  use this ELF instead (its hash must still match)\n"
    "  --results DIR    write the new finding's evidence here\n"
    "  --json           print the result as one JSON object, with \"replay\":\n"
    "                   same, different, no-divergence or error\n"
    "  --quiet          no report, exit status only\n"
    "  --help           this text\n"
    "\n"
    "Exit status: 0 no divergence, 1 the same divergence (oracle, section and\n"
    "field), 3 a different one, 2 a bad file, option or firmware.\n"
    "A reproducer asks for at most 1000000 checkpoints and 10^12 cycles.\n";

static bool parse_u64(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr, "vmstress: %s wants a non-negative integer, got '%s'\n", opt, s);
        return false;
    }
    *out = v;
    return true;
}

/* A bound: a positive integer. 0 would mean "no bound" inside the loop, so
 * it is refused rather than silently turned into the default. */
static bool parse_bound(const char *opt, const char *s, uint64_t *out)
{
    if (!parse_u64(opt, s, out))
        return false;
    if (*out == 0)
        fprintf(stderr, "vmstress: %s must be at least 1, got '%s'\n", opt, s);
    return *out != 0;
}

/* Ctrl-C (and SIGTERM): end the run after the checkpoint in progress. */
static volatile sig_atomic_t run_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    run_stop = 1;
}

/* One run's outcome, in memory shared with the parent when jobs fork. */
typedef struct JobResult {
    uint64_t seed;
    int status;
    bool done;
    LoopFinding fi;
    LoopStats st;
    char results_dir[PATH_MAX];
} JobResult;

static void print_finding_hint(const LoopConfig *cfg, const JobResult *r)
{
    loop_print_finding(stdout, &r->fi);
    if (r->st.results_written)
        printf("  report: %s/report.json, streams a.bin b.bin, trace.txt, log.txt\n"
               "  replay: %s replay %s/repro.json\n",
               r->results_dir, cfg->program ? cfg->program : "vmstress", r->results_dir);
    else if (r->results_dir[0])
        printf("  report: NOT written to %s (see the errors above)\n", r->results_dir);
}

/* Totals over all jobs, with today's top-level keys of `run --json`, and
 * one object per seed under "runs". */
static json_t *results_json(const LoopConfig *cfg, const JobResult *r, size_t n, int worst)
{
    LoopStats tot;
    memset(&tot, 0, sizeof(tot));
    double wall = 0;
    const JobResult *first_bad = NULL;
    json_t *runs = json_array();
    for (size_t k = 0; k < n; k++) {
        LoopConfig c = *cfg;
        c.seed = r[k].seed;
        json_t *one = loop_result_json(&c, &r[k].fi, &r[k].st, r[k].status);
        if (r[k].st.results_written)
            json_object_set_new(one, "results", json_string(r[k].results_dir));
        json_array_append_new(runs, one);
        tot.checkpoints += r[k].st.checkpoints;
        tot.full_checkpoints += r[k].st.full_checkpoints;
        tot.cycles += r[k].st.cycles;
        tot.interrupted |= r[k].st.interrupted;
        tot.explored += r[k].st.explored;
        /* Bits seen by different seeds cannot be united from figures (the
         * --field-coverage file unites them): the best job stands for all. */
        if (r[k].st.bits_both >= tot.bits_both) {
            tot.bits = r[k].st.bits;
            tot.bits_both = r[k].st.bits_both;
        }
        /* Totals: "seconds" sums the jobs' run times (so checkpoints/seconds
         * stays a per-job rate, as the nightly figures expect); the jobs
         * ran side by side, so the elapsed time is the longest. */
        tot.seconds += r[k].st.seconds;
        if (r[k].st.seconds > wall)
            wall = r[k].st.seconds;
        for (int p = 0; p < 4; p++)
            tot.phase_us[p] += r[k].st.phase_us[p] * (double)r[k].st.checkpoints;
        loop_dirty_merge(&tot.dirty, &r[k].st.dirty);
        tot.precopy_passes += r[k].st.precopy_passes;
        tot.precopy_pages += r[k].st.precopy_pages;
        if (r[k].status && (!first_bad || r[k].status > first_bad->status))
            first_bad = &r[k];
    }
    for (int p = 0; p < 4; p++)
        tot.phase_us[p] = tot.checkpoints ? tot.phase_us[p] / (double)tot.checkpoints : 0;
    /* The first finding (lowest seed of the worst kind) stands for all. */
    json_t *j = loop_result_json(cfg, first_bad ? &first_bad->fi : &r[0].fi, &tot, worst);
    json_object_set_new(j, "jobs", json_integer((json_int_t)n));
    json_object_set_new(j, "wall_seconds", json_real(wall));
    json_object_set_new(j, "runs", runs);
    return j;
}

static int report_all(const LoopConfig *cfg, const JobResult *r, size_t n, bool json, bool quiet)
{
    int worst = 0;
    for (size_t k = 0; k < n; k++)
        if (r[k].status > worst)
            worst = r[k].status;
    if (json) {
        json_t *j = results_json(cfg, r, n, worst);
        char *s = json_dumps(j, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(j);
        return worst;
    }
    for (size_t k = 0; k < n; k++) {
        LoopConfig c = *cfg;
        c.seed = r[k].seed;
        if (r[k].status == 2 && n > 1)
            fprintf(stderr, "vmstress: seed %" PRIu64 ": %s\n", r[k].seed, r[k].fi.detail);
        else if (r[k].status == 2)
            fprintf(stderr, "vmstress: %s\n", r[k].fi.detail);
        if (quiet)
            continue;
        if (r[k].status == 1)
            print_finding_hint(&c, &r[k]);
        if (r[k].status != 2)
            loop_print_summary(stdout, &c, &r[k].st, r[k].status);
    }
    if (n > 1 && !quiet) {
        uint64_t ck = 0, cy = 0;
        unsigned div = 0, err = 0;
        double secs = 0;
        for (size_t k = 0; k < n; k++) {
            ck += r[k].st.checkpoints;
            cy += r[k].st.cycles;
            div += r[k].status == 1;
            err += r[k].status == 2;
            secs = r[k].st.seconds > secs ? r[k].st.seconds : secs;
        }
        printf("total: %zu jobs, %" PRIu64 " checkpoints, %" PRIu64 " guest cycles in %.1f s; "
               "%u with a divergence, %u with an error\n", n, ck, cy, secs, div, err);
    }
    return worst;
}
/* --field-coverage: A's saves and B's loads are counted; each process
 * merges its own counts into the file when its run ends. */
typedef struct RunFcov {
    const char *path;
    Fcov *fc;
} RunFcov;

static void fcov_on_machine(Machine *m, int which, void *opaque)
{
    RunFcov *rf = opaque;
    fcov_attach_machine(rf->fc, m, FCOV_SRC_STRESS, which == 0 ? FCOV_SAVES : FCOV_LOADS);
}

/* Merge and free; a write failure turns the status into 2. */
static int fcov_finish(const LoopConfig *cfg, int status, LoopFinding *fi)
{
    RunFcov *rf = cfg->on_machine == fcov_on_machine ? cfg->on_machine_opaque : NULL;
    if (!rf || !rf->fc)
        return status;
    char err[400];
    if (!fcov_merge_into_file(rf->fc, rf->path, err, sizeof(err))) {
        snprintf(fi->detail, sizeof(fi->detail), "--field-coverage: %s", err);
        status = 2;
    }
    fcov_free(rf->fc);
    rf->fc = NULL;
    return status;
}

/* One run, in this process, into r. */
static void run_one(const LoopConfig *cfg, JobResult *r)
{
    r->seed = cfg->seed;
    snprintf(r->results_dir, sizeof(r->results_dir), "%s", cfg->results_dir ? cfg->results_dir : "");
    /* The data is made here, in the job's own process; the explored
     * states' coverage is merged into it when the run ends. */
    LoopConfig c = *cfg;
    RunFcov *rf = cfg->on_machine == fcov_on_machine ? cfg->on_machine_opaque : NULL;
    if (rf)
        c.explore_coverage = rf->fc = fcov_new();
    r->status = fcov_finish(&c, loop_run(&c, &r->fi, &r->st), &r->fi);
    r->done = true;
}

/* Each job's live figures, for the parent's combined progress line. */
static void job_progress(const LoopStats *st, void *opaque)
{
    JobResult *r = opaque;
    r->st.checkpoints = st->checkpoints;
    r->st.cycles = st->cycles;
    r->st.seconds = st->seconds;
}

static void print_jobs_progress(FILE *out, const JobResult *r, size_t n, double secs, bool final)
{
    uint64_t ck = 0, cy = 0;
    size_t running = 0;
    for (size_t k = 0; k < n; k++) {
        ck += r[k].st.checkpoints;
        cy += r[k].st.cycles;
        running += !r[k].done;
    }
    fprintf(out, "\r%7.1fs  jobs running %zu/%zu  checkpoints %" PRIu64 "  round trips/s %.0f  guest MIPS %.1f%s",
            secs, running, n, ck, secs > 0 ? (double)ck / secs : 0.0, secs > 0 ? (double)cy / secs / 1e6 : 0.0,
            final ? "\n" : "");
    fflush(out);
}

static double now_seconds(void)
{
    /* Host time: only for the progress line. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* N seeds side by side, one process each; results come back through
 * shared memory (plain data), so the parent prints one report and one
 * JSON object in seed order. Returns false (with a message) if it could
 * not start them. */
/* "K/N" with 1 <= K <= N <= 65536. */
static bool parse_shard(const char *arg, uint64_t *k, uint64_t *n)
{
    char *end;
    errno = 0;
    unsigned long long kk = strtoull(arg, &end, 10);
    if (end != arg && *end == '/' && arg[0] != '-' && end[1] != '-') {
        const char *ns = end + 1;
        unsigned long long nn = strtoull(ns, &end, 10);
        if (end != ns && !*end && !errno && kk >= 1 && nn <= 65536 && kk <= nn) {
            *k = kk;
            *n = nn;
            return true;
        }
    }
    fprintf(stderr, "vmstress run: --shard wants K/N with 1 <= K <= N <= 65536, got '%s'\n", arg);
    return false;
}

static bool run_jobs(LoopConfig *cfg, JobResult *r, unsigned jobs, uint64_t stride)
{
    const char *base = cfg->results_dir;
    FILE *progress = cfg->progress;
    pid_t pids[256];
    unsigned started = 0;
    for (unsigned k = 0; k < jobs; k++) {
        char dir[PATH_MAX];
        LoopConfig c = *cfg;
        c.seed = cfg->seed + (uint64_t)k * stride;
        snprintf(dir, sizeof(dir), "%s/seed-%" PRIu64, base ? base : "", c.seed);
        c.results_dir = base ? dir : NULL;
        c.progress = NULL;
        c.on_progress = job_progress;
        c.progress_opaque = &r[k];
        r[k].seed = c.seed;
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "vmstress: fork failed: %s\n", strerror(errno));
            run_stop = 1;
            for (unsigned i = 0; i < started; i++)
                kill(pids[i], SIGTERM);
            break;
        }
        if (pid == 0) {
            run_one(&c, &r[k]);
            _exit(r[k].status);
        }
        pids[started++] = pid;
    }
    double t0 = now_seconds(), shown = t0;
    bool forwarded = false;
    for (unsigned left = started; left > 0;) {
        if (run_stop && !forwarded) {
            /* Ctrl-C on a terminal reaches every job; a signal sent to this
             * process alone (kill PID, a CI timeout) is passed on to them. */
            for (unsigned k = 0; k < started; k++)
                if (!r[k].done)
                    kill(pids[k], SIGINT);
            forwarded = true;
        }
        int ws;
        pid_t pid = waitpid(-1, &ws, WNOHANG);
        if (pid < 0 && errno != EINTR)
            break;
        if (pid <= 0) {
            /* Children run to their own bounds (or end on Ctrl-C, which they
             * receive too); poll at 10 Hz for the progress line. */
            struct timespec ts = { 0, 100000000 };
            nanosleep(&ts, NULL);
            if (progress && now_seconds() - shown >= 0.5) {
                print_jobs_progress(progress, r, jobs, now_seconds() - t0, false);
                shown = now_seconds();
            }
            continue;
        }
        left--;
        for (unsigned k = 0; k < started; k++) {
            if (pids[k] != pid || r[k].done)
                continue;
            /* A job that died (a crash) never set done: it is an error, named. */
            r[k].status = 2;
            r[k].done = true;
            snprintf(r[k].fi.detail, sizeof(r[k].fi.detail), "job for seed %" PRIu64 " died (%s %d)",
                     r[k].seed, WIFSIGNALED(ws) ? "signal" : "exit status",
                     WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
        }
    }
    if (progress)
        print_jobs_progress(progress, r, jobs, now_seconds() - t0, true);
    return started == jobs;
}

int cmd_run(int argc, char **argv)
{
    enum { O_BOARD = 256, O_WORKLOAD, O_FIRMWARE, O_SEED, O_CKPT, O_CYCLES, O_DURATION,
           O_INTERVAL, O_IMIN, O_IMAX, O_INPUTS, O_RESULTS, O_JOBS, O_PLANT, O_JSON, O_QUIET, O_HELP, O_FCOV,
           O_SHARD, O_NO_EXPLORE, O_DIRTY, O_PRECOPY };
    enum { O_NO_PERMUTE = 512, O_NO_FFWD };
    static const struct option opts[] = {
        { "board", required_argument, 0, O_BOARD },       { "workload", required_argument, 0, O_WORKLOAD },
        { "firmware", required_argument, 0, O_FIRMWARE }, { "seed", required_argument, 0, O_SEED },
        { "checkpoints", required_argument, 0, O_CKPT },  { "cycles", required_argument, 0, O_CYCLES },
        { "duration", required_argument, 0, O_DURATION }, { "interval", required_argument, 0, O_INTERVAL },
        { "interval-min", required_argument, 0, O_IMIN }, { "interval-max", required_argument, 0, O_IMAX },
        { "inputs", required_argument, 0, O_INPUTS },     { "results", required_argument, 0, O_RESULTS },
        { "jobs", required_argument, 0, O_JOBS },         { "plant", required_argument, 0, O_PLANT },
        { "json", no_argument, 0, O_JSON },               { "quiet", no_argument, 0, O_QUIET },
        { "help", no_argument, 0, O_HELP },               { "field-coverage", required_argument, 0, O_FCOV },
        { "shard", required_argument, 0, O_SHARD },
        { "no-explore", no_argument, 0, O_NO_EXPLORE },
        { "dirty-log", no_argument, 0, O_DIRTY },         { "precopy", no_argument, 0, O_PRECOPY },
        { "no-permute", no_argument, 0, O_NO_PERMUTE },
        { "no-fast-forward", no_argument, 0, O_NO_FFWD },
        { 0, 0, 0, 0 },
    };
    RunFcov rf = { NULL, NULL };
    LoopConfig cfg;
    loop_config_defaults(&cfg);
    cfg.results_dir = "results";
    const char *workload = "all", *plants[16];
    char fw[PATH_MAX], fw_name[PATH_MAX];
    uint64_t v = 0, jobs = 1, shard_k = 1, shard_n = 1;
    bool json = false, quiet = false;
    int c;
    cli_options_begin();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_BOARD: cfg.board = optarg; break;
        case O_WORKLOAD: workload = optarg; break;
        case O_FIRMWARE:
            /* Each twin (and the trace re-run, and the reproducer's hash) reads it again. */
            if (!strcmp(optarg, "-")) {
                fprintf(stderr, "vmstress run: --firmware wants a file ('-' cannot be read more than once)\n");
                return 2;
            }
            cfg.firmware = optarg;
            break;
        case O_SEED: if (!parse_u64("--seed", optarg, &cfg.seed)) return 2; break;
        case O_CKPT: if (!parse_bound("--checkpoints", optarg, &cfg.max_checkpoints)) return 2; break;
        case O_CYCLES: if (!parse_bound("--cycles", optarg, &cfg.max_cycles)) return 2; break;
        case O_DURATION: if (!cli_parse_duration(optarg, &cfg.max_seconds)) return 2; break;
        case O_INTERVAL:
            if (!parse_bound("--interval", optarg, &v))
                return 2;
            cfg.interval_min = cfg.interval_max = v;
            break;
        case O_IMIN: if (!parse_u64("--interval-min", optarg, &cfg.interval_min)) return 2; break;
        case O_IMAX: if (!parse_u64("--interval-max", optarg, &cfg.interval_max)) return 2; break;
        case O_INPUTS:
            if (!parse_u64("--inputs", optarg, &v))
                return 2;
            if (v > UINT32_MAX) {
                fprintf(stderr, "vmstress: --inputs is at most %u, got '%s'\n", UINT32_MAX, optarg);
                return 2;
            }
            cfg.input_every = (uint32_t)v;
            break;
        case O_RESULTS: cfg.results_dir = optarg; break;
        case O_JOBS:
            if (!parse_u64("--jobs", optarg, &jobs) || jobs == 0 || jobs > 256) {
                fprintf(stderr, "vmstress: --jobs wants 1..256\n");
                return 2;
            }
            break;
        case O_PLANT:
            if (!cli_add_plant("run", plants, sizeof(plants) / sizeof(plants[0]), &cfg.n_overrides, optarg))
                return 2;
            break;
        case O_JSON: json = true; break;
        case O_QUIET: quiet = true; break;
        case O_NO_PERMUTE: cfg.permute = false; break;
        case O_NO_FFWD: cfg.fast_forward = false; break;
        case O_FCOV:
            rf.path = optarg;
            cfg.on_machine = fcov_on_machine;
            cfg.on_machine_opaque = &rf;
            break;
        case O_SHARD:
            if (!parse_shard(optarg, &shard_k, &shard_n))
                return 2;
            break;
        case O_NO_EXPLORE: cfg.explore_every = 0; break;
        case O_DIRTY: cfg.dirty_log = true; break;
        case O_PRECOPY: cfg.precopy = true; break;
        case O_HELP: fputs(run_usage, stdout); return 0;
        default: return cli_bad_option("run", argv);
        }
    }
    if (!cli_no_arguments("run", argc, argv))
        return 2;
    if (cfg.interval_min == 0 || cfg.interval_min > cfg.interval_max) {
        fprintf(stderr, "vmstress run: need 1 <= --interval-min <= --interval-max\n");
        return 2;
    }
    /* Shard K of N owns the seeds congruent to seed+K-1 modulo N: the N
     * machines of a CI matrix never run the same seed, and together with
     * --jobs J they cover seed .. seed+N*J-1 exactly once. */
    cfg.seed += shard_k - 1;
    cfg.overrides = plants;
    cfg.workload = workload;
    if (!cfg.firmware) {
        if (!cli_guest_path(workload, fw, sizeof(fw)))
            return 2;
        cfg.firmware = fw;
    }
    cfg.firmware_name = cli_firmware_name(cfg.firmware, fw_name, sizeof(fw_name));
    cfg.program = cli_program;
    if (!cfg.max_checkpoints && !cfg.max_cycles && cfg.max_seconds <= 0)
        cfg.max_checkpoints = 2000;
    if (!quiet && !json && isatty(STDERR_FILENO))
        cfg.progress = stderr;
    run_stop = 0;
    cfg.stop = &run_stop;
    cli_catch_stop_signals(on_stop_signal);
    if (cfg.results_dir) {
        /* The folder (and its parents) exist before the run, so a finding's
         * evidence always has somewhere to go. (After the signal handlers:
         * a script may take the folder as "ready for Ctrl-C".) */
        char err[4200];
        if (!loop_mkdirs(cfg.results_dir, err, sizeof(err))) {
            fprintf(stderr, "vmstress run: %s\n", err);
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            return 2;
        }
    }
    JobResult *r = mmap(NULL, jobs * sizeof(JobResult), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) {
        fprintf(stderr, "vmstress run: cannot map %" PRIu64 " job results: %s\n", jobs, strerror(errno));
        return 2;
    }
    int status = 2;
    if (jobs == 1)
        run_one(&cfg, r);
    if (jobs == 1 || run_jobs(&cfg, r, (unsigned)jobs, shard_n))
        status = report_all(&cfg, r, (size_t)jobs, json, quiet);
    munmap(r, jobs * sizeof(JobResult));
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return status;
}

int cmd_replay(int argc, char **argv)
{
    enum { O_RESULTS = 256, O_JSON, O_QUIET, O_HELP, O_FIRMWARE };
    static const struct option opts[] = {
        { "results", required_argument, 0, O_RESULTS }, { "json", no_argument, 0, O_JSON },
        { "quiet", no_argument, 0, O_QUIET },           { "help", no_argument, 0, O_HELP },
        { "firmware", required_argument, 0, O_FIRMWARE }, { 0, 0, 0, 0 },
    };
    const char *results = NULL, *firmware = NULL;
    bool json = false, quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_RESULTS: results = optarg; break;
        case O_FIRMWARE:
            if (!strcmp(optarg, "-")) {
                fprintf(stderr, "vmstress replay: --firmware wants a file ('-' cannot be read more than once)\n");
                return 2;
            }
            firmware = optarg;
            break;
        case O_JSON: json = true; break;
        case O_QUIET: quiet = true; break;
        case O_HELP: fputs(replay_usage, stdout); return 0;
        default:
            fprintf(stderr, "vmstress replay: unknown option or missing value '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "vmstress replay: want exactly one reproducer file (see --help)\n");
        return 2;
    }
    if (cli_repro_is_qemu(argv[optind]))
        return cmd_qemu_replay(argv[optind], results, json);
    LoopConfig cfg;
    LoopFinding expect;
    char err[4200], fw[PATH_MAX];
    if (!loop_repro_read(argv[optind], &cfg, &expect, err, sizeof(err))) {
        fprintf(stderr, "vmstress replay: %s\n", err);
        return 2;
    }
    const char *stored = cfg.firmware;
    const char *path = firmware ? firmware : cli_firmware_path(stored, fw, sizeof(fw));
    uint64_t h;
    int status = 2;
    const char *made_by = cfg.program;
    if (made_by && cfg.n_overrides && strcmp(made_by, cli_program)) {
        /* Plants live only in the binary that links them. */
        fprintf(stderr, "vmstress replay: %s was made by %s with --plant %s; replay it with %s\n",
                argv[optind], made_by, cfg.overrides[0], made_by);
    } else if (!loop_file_hash(path, &h, err, sizeof(err))) {
        fprintf(stderr, "vmstress replay: firmware '%s' of %s: %s\n", stored, argv[optind], err);
    } else if (h != cfg.firmware_hash) {
        fprintf(stderr, "vmstress replay: firmware %s has FNV-1a 64 %016" PRIx64 ", but %s was made with %016" PRIx64
                " (a different build of '%s'; pass --firmware FILE)\n", path, h, argv[optind], cfg.firmware_hash, stored);
    } else if (results && !loop_mkdirs(results, err, sizeof(err))) {
        fprintf(stderr, "vmstress replay: %s\n", err);
    } else {
        cfg.firmware = path;
        cfg.firmware_name = stored;
        cfg.results_dir = results;
        cfg.program = cli_program;
        JobResult *r = calloc(1, sizeof(*r));
        if (!r)
            abort();
        run_one(&cfg, r);
        status = r->status;
        bool same = status == 1 && r->fi.oracle == expect.oracle && !strcmp(r->fi.where, expect.where) &&
                    !strcmp(r->fi.what, expect.what);
        if (status == 1 && !same)
            status = 3;
        if (status == 1 || status == 3) {
            if (!quiet && !json)
                printf("replay: %s divergence (expected %s in %s, field %s)\n",
                       same ? "reproduced the same" : "found a DIFFERENT", loop_oracle_name(expect.oracle),
                       expect.where, expect.what);
        }
        r->status = status == 3 ? 1 : status;
        if (json) {
            /* One object, as run --json, plus the verdict against the reproducer. */
            json_t *j = results_json(&cfg, r, 1, r->status);
            json_object_set_new(j, "replay", json_string(status == 3 ? "different" : status == 1 ? "same"
                                                         : status == 0 ? "no-divergence" : "error"));
            char *js = json_dumps(j, JSON_COMPACT);
            puts(js);
            free(js);
            json_decref(j);
            if (status == 2)
                fprintf(stderr, "vmstress replay: %s\n", r->fi.detail);
        } else {
            report_all(&cfg, r, 1, json, quiet);
        }
        free(r);
        cfg.firmware = stored;
        cfg.firmware_name = NULL;
    }
    cfg.program = made_by;
    loop_repro_free(&cfg);
    return status;
}
