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
#include <sys/wait.h>
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
    "  --duration SECONDS    stop after this much host time\n"
    "                        (default when no bound is given: 2000 checkpoints)\n"
    "  --interval N          checkpoint every N cycles (fixed)\n"
    "  --interval-min N      random intervals, uniform in [min, max] cycles\n"
    "  --interval-max N      (defaults 1000 and 200000)\n"
    "  --inputs N            mean cycles between host inputs (UART bytes, GPIO\n"
    "                        pins); 0 for none (default 50000)\n"
    "  --results DIR         where a divergence's report.json, a.bin, b.bin,\n"
    "                        repro.json and trace.txt go (default results)\n"
    "  --jobs N              run N independent seeds (seed, seed+1, ...) in\n"
    "                        parallel; results go to DIR/seed-<s>\n"
    "  --plant BASE=VARIANT  replace a device by a test-only variant (planted\n"
    "                        bugs; only in binaries that link them)\n"
    "  --field-coverage FILE count field coverage (A's saves, B's loads) and\n"
    "                        merge it into FILE (locked, so --jobs share it);\n"
    "                        see `vmstress report`\n"
    "  --json                print the result as one JSON object\n"
    "  --quiet               no progress line, no summary (exit status only)\n"
    "  --help                this text\n"
    "\n"
    "Exit status: 0 no divergence, 1 divergence found, 2 usage or setup error.\n";

static const char replay_usage[] =
    "usage: vmstress replay REPRO.json [--results DIR] [--json] [--quiet]\n"
    "\n"
    "Re-run a reproducer written by `vmstress run` (seed, board, firmware,\n"
    "overrides and the exact checkpoint schedule). Exit status 1 when the\n"
    "run diverges again (the report says whether it is the same divergence),\n"
    "0 when it no longer diverges, 2 on a bad file.\n";

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

static int report(const LoopConfig *cfg, const LoopFinding *fi, const LoopStats *st, int status,
                  bool json, bool quiet)
{
    if (json) {
        json_t *j = loop_result_json(cfg, fi, st, status);
        char *s = json_dumps(j, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(j);
    } else if (status == 2) {
        fprintf(stderr, "vmstress: %s\n", fi->detail);
    } else if (!quiet) {
        if (status == 1) {
            loop_print_finding(stdout, fi);
            if (cfg->results_dir)
                printf("  report: %s/report.json, streams a.bin b.bin, trace.txt\n"
                       "  replay: vmstress replay %s/repro.json\n",
                       cfg->results_dir, cfg->results_dir);
        }
        loop_print_summary(stdout, cfg, st, status);
    }
    return status;
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
    if (!rf->fc)
        rf->fc = fcov_new();
    fcov_attach_machine(rf->fc, m, FCOV_SRC_STRESS, which == 0 ? FCOV_SAVES : FCOV_LOADS);
}

/* Merge and free; a write failure turns the status into 2. */
static int fcov_finish(const LoopConfig *cfg, int status)
{
    RunFcov *rf = cfg->on_machine == fcov_on_machine ? cfg->on_machine_opaque : NULL;
    if (!rf || !rf->fc)
        return status;
    char err[512];
    if (!fcov_merge_into_file(rf->fc, rf->path, err, sizeof(err))) {
        fprintf(stderr, "vmstress: --field-coverage: %s\n", err);
        status = 2;
    }
    fcov_free(rf->fc);
    rf->fc = NULL;
    return status;
}

static int run_jobs(LoopConfig *cfg, unsigned jobs, bool json, bool quiet)
{
    const char *base = cfg->results_dir;
    int worst = 0;
    for (unsigned k = 0; k < jobs; k++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "vmstress: fork failed: %s\n", strerror(errno));
            return 2;
        }
        if (pid == 0) {
            char dir[PATH_MAX];
            cfg->seed += k;
            snprintf(dir, sizeof(dir), "%s/seed-%" PRIu64, base, cfg->seed);
            cfg->results_dir = base ? dir : NULL;
            cfg->progress = NULL;
            LoopFinding fi;
            LoopStats st;
            int status = fcov_finish(cfg, loop_run(cfg, &fi, &st));
            status = report(cfg, &fi, &st, status, json, quiet);
            fflush(stdout);     /* _exit does not flush stdio */
            _exit(status);
        }
    }
    for (unsigned k = 0; k < jobs; k++) {
        int ws;
        if (wait(&ws) < 0)
            return 2;
        int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 2;
        if (status > worst)
            worst = status;
    }
    return worst;
}

int cmd_run(int argc, char **argv)
{
    enum { O_BOARD = 256, O_WORKLOAD, O_FIRMWARE, O_SEED, O_CKPT, O_CYCLES, O_DURATION,
           O_INTERVAL, O_IMIN, O_IMAX, O_INPUTS, O_RESULTS, O_JOBS, O_PLANT, O_JSON, O_QUIET, O_HELP, O_FCOV };
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
        { 0, 0, 0, 0 },
    };
    RunFcov rf = { NULL, NULL };
    LoopConfig cfg;
    loop_config_defaults(&cfg);
    cfg.results_dir = "results";
    const char *workload = "all", *plants[16];
    char fw[PATH_MAX];
    uint64_t v, jobs = 1;
    bool json = false, quiet = false;
    int c;
    cli_options_begin();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_BOARD: cfg.board = optarg; break;
        case O_WORKLOAD: workload = optarg; break;
        case O_FIRMWARE: cfg.firmware = optarg; break;
        case O_SEED: if (!parse_u64("--seed", optarg, &cfg.seed)) return 2; break;
        case O_CKPT: if (!parse_u64("--checkpoints", optarg, &cfg.max_checkpoints)) return 2; break;
        case O_CYCLES: if (!parse_u64("--cycles", optarg, &cfg.max_cycles)) return 2; break;
        case O_DURATION: if (!parse_u64("--duration", optarg, &v)) return 2; cfg.max_seconds = (double)v; break;
        case O_INTERVAL:
            if (!parse_u64("--interval", optarg, &v) || v == 0) {
                if (v == 0) fprintf(stderr, "vmstress: --interval must be at least 1\n");
                return 2;
            }
            cfg.interval_min = cfg.interval_max = v;
            break;
        case O_IMIN: if (!parse_u64("--interval-min", optarg, &cfg.interval_min)) return 2; break;
        case O_IMAX: if (!parse_u64("--interval-max", optarg, &cfg.interval_max)) return 2; break;
        case O_INPUTS:
            if (!parse_u64("--inputs", optarg, &v) || v > UINT32_MAX) {
                if (v > UINT32_MAX) fprintf(stderr, "vmstress: --inputs is at most %u\n", UINT32_MAX);
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
        case O_FCOV:
            rf.path = optarg;
            cfg.on_machine = fcov_on_machine;
            cfg.on_machine_opaque = &rf;
            break;
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
    cfg.overrides = plants;
    cfg.workload = workload;
    if (!cfg.firmware) {
        if (!cli_guest_path(workload, fw, sizeof(fw)))
            return 2;
        cfg.firmware = fw;
    }
    if (!cfg.max_checkpoints && !cfg.max_cycles && cfg.max_seconds <= 0)
        cfg.max_checkpoints = 2000;
    if (!quiet && !json && isatty(STDERR_FILENO))
        cfg.progress = stderr;
    if (jobs > 1)
        return run_jobs(&cfg, (unsigned)jobs, json, quiet);
    LoopFinding fi;
    LoopStats st;
    int status = fcov_finish(&cfg, loop_run(&cfg, &fi, &st));
    return report(&cfg, &fi, &st, status, json, quiet);
}

int cmd_replay(int argc, char **argv)
{
    enum { O_RESULTS = 256, O_JSON, O_QUIET, O_HELP };
    static const struct option opts[] = {
        { "results", required_argument, 0, O_RESULTS }, { "json", no_argument, 0, O_JSON },
        { "quiet", no_argument, 0, O_QUIET },           { "help", no_argument, 0, O_HELP },
        { 0, 0, 0, 0 },
    };
    const char *results = NULL;
    bool json = false, quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_RESULTS: results = optarg; break;
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
    LoopFinding expect, fi;
    LoopStats st;
    char err[512];
    if (!loop_repro_read(argv[optind], &cfg, &expect, err, sizeof(err))) {
        fprintf(stderr, "vmstress replay: %s\n", err);
        return 2;
    }
    cfg.results_dir = results;
    int status = loop_run(&cfg, &fi, &st);
    if (status == 1 && !quiet && !json) {
        bool same = fi.oracle == expect.oracle && !strcmp(fi.where, expect.where) &&
                    !strcmp(fi.what, expect.what) && fi.checkpoint == expect.checkpoint;
        printf("replay: %s divergence\n", same ? "reproduced the same" : "found a DIFFERENT");
    }
    report(&cfg, &fi, &st, status, json, quiet);
    loop_repro_free(&cfg);
    return status;
}
