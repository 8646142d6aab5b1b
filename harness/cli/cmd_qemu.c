/*
 * cmd_qemu.c - `vmstress qemu run`: the twin loop on real QEMU boards, and
 * the replay of its reproducers (called by `vmstress replay`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "savevm.h"
#include "qemu.h"

static const char qemu_usage[] =
    "usage: vmstress qemu run --machine BOARD [options]\n"
    "       vmstress qemu fuzz --machine BOARD [--duration TIME] [--minimise TIME] [--replay DIR] ...\n"
    "                            (QEMU's loader fuzzed: vmstress qemu fuzz --help)\n"
    "\n"
    "Twins on a real QEMU: A runs the board's workload and never round-trips;\n"
    "B is round-tripped at every checkpoint (a stop at a hit of the guest's\n"
    "checkpoint() function). Oracles: state equality of A and B (outside the\n"
    "declared volatile fields, a difference confirmed at the next checkpoint),\n"
    "destination fixpoint, UART output, destination death (with a check that\n"
    "the source stays equal to a never-migrated twin). See docs/qemu.md.\n"
    "\n"
    "  --machine BOARD      QEMU machine (-M), e.g. lm3s811evb, mps2-an385\n"
    "  --qemu PATH          qemu-system-arm to drive (default: from PATH)\n"
    "  --firmware ELF       workload with a checkpoint() function (default: the\n"
    "                       build's guest/qemu/<board>.elf)\n"
    "  --checkpoints N      stop after N checkpoints (default 20)\n"
    "  --duration TIME      stop after this much host time (90, 30s, 10m, 1h) instead\n"
    "  --every N            a checkpoint at every N-th hit of checkpoint() (default 1)\n"
    "  --mode MODE          migrate (B's stream loads into a fresh QEMU) or\n"
    "                       snapshot (savevm, system_reset, loadvm in B's process)\n"
    "                       (default snapshot)\n"
    "  --seed N             QEMU's -seed (default 1)\n"
    "  --jobs N             N twin pairs in parallel, seeds seed..seed+N-1;\n"
    "                       results in DIR/seed-<s>\n"
    "  --results DIR        where a finding's files go (default results)\n"
    "  --timeout MS         bound of every single wait on QEMU (default 10000)\n"
    "  --corrupt PATH[:XOR[:AT]]  test hook: XOR (default 0x01) into the first\n"
    "                       byte of leaf PATH (as `vmstress decode` names it,\n"
    "                       e.g. pl061.0/dir) of B's stream before the\n"
    "                       destination loads it, at checkpoint AT (default 1);\n"
    "                       migrate mode\n"
    "  --no-input           feed no UART input (by default one seeded byte to\n"
    "                       each twin's UART at every checkpoint, when the\n"
    "                       workload has a board_rx symbol; see docs/qemu.md)\n"
    "  --json               print the result as one JSON object\n"
    "  --quiet              no progress line, no summary\n"
    "  --help               this text\n"
    "\n"
    "Exit status: 0 clean, 1 finding (report.json, a.bin, b.bin, UART logs,\n"
    "QEMU's stderr and repro.json in DIR), 2 usage, input or setup error.\n";

bool cli_qemu_parse_num(const char *opt, const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "vmstress qemu: %s wants an integer in [%lld, %lld], got '%s'\n", opt, min, max, s);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_corrupt(const char *s, QdrvConfig *c)
{
    static char path[512];
    int x = 1;
    unsigned long long at = 1;
    int n = sscanf(s, "%511[^:]:%i:%llu", path, &x, &at);
    if (n < 1 || !strchr(path, '/') || (x & 0xff) == 0 || at == 0) {
        fprintf(stderr, "vmstress qemu: --corrupt wants PATH[:XOR[:AT]] (e.g. pl061.0/dir:0x10:1), got '%s'\n", s);
        return false;
    }
    c->corrupt_path = path;
    c->corrupt_xor = (unsigned)x & 0xff;
    c->corrupt_at = at;
    return true;
}

static json_t *result_json(const QdrvConfig *c, const QdrvResult *r, int status, const char *err)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:i, s:f, s:s}", "machine", c->setup.machine, "mode",
                          c->mode == QDRV_MIGRATE ? "migrate" : "snapshot", "qemu_version", r->version, "seed",
                          (int)c->setup.seed, "checkpoints", (json_int_t)r->done, "unconfirmed_differences",
                          (int)r->races, "seconds", r->seconds, "status",
                          status == 0 ? "clean" : status == 1 ? "finding" : "error");
    if (r->seconds > 0)
        json_object_set_new(j, "checkpoints_per_minute", json_real(r->done * 60.0 / r->seconds));
    if (status == 1)
        json_object_set_new(j, "finding",
                            json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "oracle", r->oracle, "checkpoint",
                                      (json_int_t)r->checkpoint, "section", r->diff.section, "path", r->diff.path,
                                      "a", r->diff.a, "b", r->diff.b, "detail", r->detail, "results", r->dir));
    json_t *races = json_array();
    for (unsigned i = 0; i < r->races && i < QDRV_RACES_KEPT; i++)
        json_array_append_new(races, json_pack("{s:I, s:s, s:s, s:s, s:i}", "checkpoint", (json_int_t)r->race_cp[i],
                                               "path", r->race[i].path, "a", r->race[i].a, "b", r->race[i].b,
                                               "differing_leaves", (int)r->race[i].count));
    json_object_set_new(j, "unconfirmed", races);
    json_object_set_new(j, "uart_bytes_in", json_integer((json_int_t)r->uart_in));
    json_object_set_new(j, "unsettled_checkpoints", json_integer((json_int_t)r->unsettled));
    json_object_set_new(j, "blind_checkpoints", json_integer((json_int_t)r->blind));
    if (err)
        json_object_set_new(j, "error", json_string(err));
    return j;
}

static int run_one(const QdrvConfig *c, bool json)
{
    QdrvResult r;
    QdrvErr e = { "" };
    int status = qdrv_run(c, &r, &e);
    if (json) {
        json_t *j = result_json(c, &r, status, status == 2 ? e.text : NULL);
        char *s = json_dumps(j, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(j);
        if (status == 2)
            fprintf(stderr, "vmstress qemu: %s\n", e.text);
        return status;
    }
    if (status == 2) {
        fprintf(stderr, "vmstress qemu: %s\n", e.text);
        return 2;
    }
    if (status == 1) {
        printf("FINDING (%s) at checkpoint %llu, guest pc 0x%08x, QEMU %s, %s, %s mode\n", r.oracle,
               (unsigned long long)r.checkpoint, (unsigned)r.pc, r.version, c->setup.machine,
               c->mode == QDRV_MIGRATE ? "migrate" : "snapshot");
        if (r.diff.differs)
            printf("  in:     %s\n  field:  %s\n  A:      %s\n  B:      %s\n", r.diff.section, r.diff.path,
                   r.diff.a, r.diff.b);
        if (r.detail[0])
            printf("  why:    %s\n", r.detail);
        if (r.source_safe >= 0)
            printf("  source: %s\n", r.source_safe ? "safe (A equals a never-migrated twin)" : "NOT safe: A differs from a never-migrated twin");
        printf("  report: %s/report.json, streams a.bin b.bin, uart-*.log, stderr-*.log\n  replay: vmstress replay %s/repro.json\n",
               r.dir, r.dir);
    } else if (!c->quiet) {
        printf("qemu %s %s (QEMU %s): %llu checkpoints clean in %.1f s (%.0f per minute), %u difference(s) not confirmed at the next checkpoint\n",
               c->setup.machine, c->mode == QDRV_MIGRATE ? "migrate" : "snapshot", r.version, (unsigned long long)r.done,
               r.seconds, r.seconds > 0 ? r.done * 60.0 / r.seconds : 0.0, r.races);
        printf("  UART input: %llu byte(s) fed; %u checkpoint(s) differed mid-event; %u of %llu stopped on no carried "
               "expired timer (could not confirm)\n",
               (unsigned long long)r.uart_in, r.unsettled, r.blind, (unsigned long long)r.done);
        for (unsigned i = 0; i < r.races && i < QDRV_RACES_KEPT; i++)
            printf("  unconfirmed at checkpoint %llu: %s A %s B %s\n", (unsigned long long)r.race_cp[i],
                   r.race[i].path, r.race[i].a, r.race[i].b);
    }
    return status;
}

static volatile pid_t job_pids[64];
static volatile int job_count;

static void forward_signal(int sig)
{
    for (int i = 0; i < job_count; i++)
        if (job_pids[i] > 0)
            kill(job_pids[i], SIGTERM);
    (void)sig;
}

/* N pairs in parallel, each a forked copy of this process with its own
 * seed and results folder; each child ends its own QEMUs. */
static int run_jobs(QdrvConfig *c, int jobs, bool json)
{
    cli_catch_stop_signals(forward_signal);
    const char *base = c->results ? c->results : "results";
    mkdir(base, 0755);
    fflush(NULL);
    for (int i = 0; i < jobs && i < 64; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "vmstress qemu: fork: %s\n", strerror(errno));
            forward_signal(SIGTERM);
            break;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            qdrv_install_signal_handlers();
            static char dir[512];
            snprintf(dir, sizeof(dir), "%s/seed-%u", base, c->setup.seed + (unsigned)i);
            c->results = dir;
            c->setup.seed += (unsigned)i;
            c->progress = NULL;
            int rc = run_one(c, json);
            fflush(NULL);   /* _exit does not flush stdio */
            _exit(rc);
        }
        job_pids[job_count++] = pid;
    }
    int worst = 0;
    for (int i = 0; i < job_count; i++) {
        int st;
        while (waitpid(job_pids[i], &st, 0) < 0 && errno == EINTR)
            ;
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
        if (rc == 2 || (rc == 1 && worst == 0))
            worst = rc;
    }
    return worst;
}

int cmd_qemu(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(qemu_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "fuzz"))
        return cmd_qemu_fuzz(argc - 1, argv + 1);
    if (strcmp(argv[1], "run")) {
        fprintf(stderr, "vmstress qemu: unknown subcommand '%s' (try vmstress qemu --help)\n", argv[1]);
        return 2;
    }
    argc--, argv++;
    /* The numeric options first, contiguous: they are parsed from a table. */
    enum { O_CPS = 256, O_DUR, O_EVERY, O_SEED, O_JOBS, O_TIMEOUT, O_MACHINE, O_QEMU, O_FW, O_MODE, O_JSON,
           O_RESULTS, O_QUIET, O_CORRUPT, O_HELP,
           O_NOINPUT };
    typedef struct NumOpt {
        int opt;
        const char *name;
        long long min, max;
    } NumOpt;
    static const NumOpt numeric[] = {
        { O_CPS, "--checkpoints", 1, LLONG_MAX },
        { O_EVERY, "--every", 1, 1000000 },      { O_SEED, "--seed", 0, UINT_MAX },
        { O_JOBS, "--jobs", 1, 64 },             { O_TIMEOUT, "--timeout", 100, 3600000 },
    };
    long long num[O_TIMEOUT - O_CPS + 1];
    bool given[O_TIMEOUT - O_CPS + 1] = { false };
    static const struct option opts[] = {
        { "machine", required_argument, 0, O_MACHINE }, { "qemu", required_argument, 0, O_QEMU },
        { "firmware", required_argument, 0, O_FW },     { "checkpoints", required_argument, 0, O_CPS },
        { "duration", required_argument, 0, O_DUR },    { "every", required_argument, 0, O_EVERY },
        { "mode", required_argument, 0, O_MODE },       { "seed", required_argument, 0, O_SEED },
        { "jobs", required_argument, 0, O_JOBS },       { "json", no_argument, 0, O_JSON },
        { "results", required_argument, 0, O_RESULTS }, { "quiet", no_argument, 0, O_QUIET },
        { "timeout", required_argument, 0, O_TIMEOUT }, { "corrupt", required_argument, 0, O_CORRUPT },
        { "help", no_argument, 0, O_HELP },
        { "no-input", no_argument, 0, O_NOINPUT },
        { 0, 0, 0, 0 },
    };
    QdrvConfig c;
    memset(&c, 0, sizeof(c));
    c.setup.seed = 1;
    c.setup.timeout_ms = 10000;
    c.every = 1;
    c.mode = QDRV_SNAPSHOT;
    long long jobs = 1;
    bool json = false;
    static char fw[1024];
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case O_MACHINE: c.setup.machine = optarg; break;
        case O_QEMU: c.setup.qemu = optarg; break;
        case O_FW: c.setup.firmware = optarg; break;
        case O_MODE:
            if (!strcmp(optarg, "migrate"))
                c.mode = QDRV_MIGRATE;
            else if (!strcmp(optarg, "snapshot"))
                c.mode = QDRV_SNAPSHOT;
            else {
                fprintf(stderr, "vmstress qemu: --mode is migrate or snapshot, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_CORRUPT:
            if (!parse_corrupt(optarg, &c))
                return 2;
            break;
        case O_JSON: json = true; break;
        case O_RESULTS: c.results = optarg; break;
        case O_DUR: if (!cli_parse_duration(optarg, &c.seconds)) return 2; break;
        case O_QUIET: c.quiet = true; break;
        case O_NOINPUT: c.no_input = true; break;
        case O_HELP: fputs(qemu_usage, stdout); return 0;
        default: {
            const NumOpt *n = numeric;
            while (n < numeric + sizeof(numeric) / sizeof(numeric[0]) && n->opt != opt)
                n++;
            if (n == numeric + sizeof(numeric) / sizeof(numeric[0])) {
                fprintf(stderr, "vmstress qemu run: unknown option or missing value '%s' (see --help)\n", argv[optind - 1]);
                return 2;
            }
            if (!cli_qemu_parse_num(n->name, optarg, n->min, n->max, &num[opt - O_CPS]))
                return 2;
            given[opt - O_CPS] = true;
        }
        }
    }
    /* Numbers given (validated above) go where they belong. */
    if (given[O_CPS - O_CPS])
        c.checkpoints = (uint64_t)num[O_CPS - O_CPS];
    if (given[O_EVERY - O_CPS])
        c.every = (unsigned)num[O_EVERY - O_CPS];
    if (given[O_SEED - O_CPS])
        c.setup.seed = (unsigned)num[O_SEED - O_CPS];
    if (given[O_JOBS - O_CPS])
        jobs = num[O_JOBS - O_CPS];
    if (given[O_TIMEOUT - O_CPS])
        c.setup.timeout_ms = (int)num[O_TIMEOUT - O_CPS];
    if (optind != argc) {
        fprintf(stderr, "vmstress qemu run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!c.setup.machine) {
        fprintf(stderr, "vmstress qemu run: --machine BOARD is required\n");
        return 2;
    }
    if (c.corrupt_path && c.mode != QDRV_MIGRATE) {
        fprintf(stderr, "vmstress qemu run: --corrupt needs --mode migrate\n");
        return 2;
    }
    if (c.checkpoints && c.seconds > 0) {
        fprintf(stderr, "vmstress qemu run: give --checkpoints or --duration, not both\n");
        return 2;
    }
    if (!c.checkpoints && c.seconds <= 0)
        c.checkpoints = 20;
    if (!c.setup.firmware) {
        char name[300];
        snprintf(name, sizeof(name), "qemu/%s", c.setup.machine);
        if (!cli_guest_path(name, fw, sizeof(fw)))
            return 2;
        c.setup.firmware = fw;
    }
    if (!c.quiet && !json && isatty(STDERR_FILENO))
        c.progress = stderr;
    if (jobs > 1)
        return run_jobs(&c, (int)jobs, json);
    qdrv_install_signal_handlers();
    return run_one(&c, json);
}

bool cli_repro_is_qemu(const char *path)
{
    /* Read as every input is (a regular file or stdin, bounded): a FIFO or
     * a directory is not a qemu reproducer, and loop_repro_read names why. */
    VmsMsg why;
    json_t *j = vms_read_json(path, 0, &why);
    bool yes = j && !strcmp(json_string_value(json_object_get(j, "kind")) ?: "", "qemu");
    json_decref(j);
    return yes;
}

int cmd_qemu_replay(const char *path, const char *results, bool json)
{
    VmsMsg why;
    json_t *j = vms_read_json(path, 0, &why);
    if (!j) {
        fprintf(stderr, "vmstress replay: %s\n", why.text);
        return 2;
    }
    json_error_t je;
    snprintf(je.text, sizeof(je.text), "seed, every, checkpoints or mode out of range");
    QdrvConfig c;
    memset(&c, 0, sizeof(c));
    c.setup.timeout_ms = 10000;
    const char *mode = NULL;
    json_int_t seed = -1, every = 0, cps = 0;
    json_t *cor = NULL;
    if (json_unpack_ex(j, &je, 0, "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s?o}", "qemu", &c.setup.qemu, "machine",
                             &c.setup.machine, "firmware", &c.setup.firmware, "mode", &mode, "seed", &seed, "every",
                             &every, "checkpoints", &cps, "corrupt", &cor) ||
        seed < 0 || every < 1 || cps < 1 || (strcmp(mode, "migrate") && strcmp(mode, "snapshot"))) {
        fprintf(stderr, "vmstress replay: %s: not a qemu reproducer (%s)\n", path, je.text);
        json_decref(j);
        return 2;
    }
    c.mode = strcmp(mode, "migrate") ? QDRV_SNAPSHOT : QDRV_MIGRATE;
    c.setup.seed = (unsigned)seed;
    c.every = (unsigned)every;
    c.checkpoints = (uint64_t)cps;
    c.results = results ? results : "results-replay";
    if (cor) {
        json_int_t x = 1, at = 1;
        if (json_unpack(cor, "{s:s, s:I, s:I}", "path", &c.corrupt_path, "xor", &x, "at", &at)) {
            fprintf(stderr, "vmstress replay: %s: bad \"corrupt\" object\n", path);
            json_decref(j);
            return 2;
        }
        c.corrupt_xor = (unsigned)x;
        c.corrupt_at = (uint64_t)at;
    }
    c.no_input = json_is_true(json_object_get(j, "no_input"));
    qdrv_install_signal_handlers();
    int rc = run_one(&c, json);
    json_decref(j);
    return rc;
}
