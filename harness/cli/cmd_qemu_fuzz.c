/*
 * cmd_qemu_fuzz.c - `vmstress qemu fuzz`: QEMU's loader fed mutated real
 * streams of a board (harness/qemu/fuzz.c), and the replay of the
 * regressions it saved.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "qemu.h"

static const char fuzz_usage[] =
    "usage: vmstress qemu fuzz --machine BOARD [options]\n"
    "\n"
    "Fuzz QEMU's migration loader with real streams of a board: the board's\n"
    "workload is saved at a few checkpoints, each stream is decoded through\n"
    "its own vmdescription and mutated leaf by leaf (boundary values, bit\n"
    "flips, small steps, values from the other streams; section versions and\n"
    "footers, sections dropped or sent twice, subsections dropped, the stream\n"
    "cut short), and fed to a fresh QEMU with -incoming. Findings: a crash\n"
    "(signal, abort), a hang, an accepted stream that QEMU saves back\n"
    "differently (outside the declared volatile leaves), a save that fails\n"
    "after an accepted load. A clean rejection is counted, not a finding.\n"
    "Each new finding is minimised and saved as DIR/qemu-BOARD/<signature>.bin\n"
    "with a one-line <signature>.txt. See docs/qemu.md.\n"
    "\n"
    "  --machine BOARD      QEMU machine (-M), e.g. lm3s811evb, mps2-an385\n"
    "  --qemu PATH          qemu-system-arm to drive (default: from PATH)\n"
    "  --firmware ELF       workload with a checkpoint() function (default: the\n"
    "                       build's guest/qemu/<board>.elf)\n"
    "  --duration TIME      how long to fuzz (90, 30s, 10m, 1h; default 60s)\n"
    "  --seed N             seed of the mutations (default 1)\n"
    "  --results DIR        where findings go, as DIR/qemu-BOARD/ (default results;\n"
    "                       corpus/regressions is the committed set)\n"
    "  --minimise TIME      bound of the byte-wise minimisation of one finding\n"
    "                       (default 60s)\n"
    "  --timeout MS         bound of every single wait on QEMU (default 5000);\n"
    "                       a load that takes longer is a hang\n"
    "  --replay DIR         instead of fuzzing, feed every <signature>.bin in DIR\n"
    "                       and check each still gives the finding its name records\n"
    "  --json               print the result as one JSON object\n"
    "  --quiet              no progress line, no summary\n"
    "  --help               this text\n"
    "\n"
    "Exit status: 0 nothing new (or, with --replay, every finding still\n"
    "happens), 1 new findings saved (with --replay: an outcome changed),\n"
    "2 usage, input or setup error.\n";

static json_t *stats_json(const QdrvFuzzConfig *c, const QdrvFuzzStats *st)
{
    json_t *j = json_pack("{s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "machine", c->setup.machine,
                          "qemu_version", st->version, "seconds", st->seconds, "execs", (json_int_t)st->execs,
                          "accepted", (json_int_t)st->accepted, "rejected", (json_int_t)st->rejected,
                          "finding_execs", (json_int_t)st->finding_execs, "not_compared",
                          (json_int_t)st->not_compared, "guest_stuck", (json_int_t)st->guest_stuck,
                          "minimise_execs", (json_int_t)st->min_execs);
    json_object_set_new(j, "unconfirmed", json_integer((json_int_t)st->unconfirmed));
    json_object_set_new(j, "duplicates", json_integer((json_int_t)st->duplicates));
    json_object_set_new(j, "execs_per_second", json_real(st->seconds > 0 ? st->execs / st->seconds : 0));
    json_t *fs = json_array();
    for (size_t i = 0; i < st->n_findings; i++)
        json_array_append_new(fs, json_pack("{s:s, s:s, s:b, s:s}", "signature", st->finding[i].signature, "kind",
                                            st->finding[i].kind, "known", st->finding[i].known, "description",
                                            st->finding[i].line));
    json_object_set_new(j, "findings", fs);
    return j;
}

static void print_stats(const QdrvFuzzConfig *c, const QdrvFuzzStats *st)
{
    printf("qemu fuzz %s (QEMU %s): %llu inputs in %.0f s (%.2f/s): %llu accepted, %llu rejected, %llu not "
           "compared, %llu guest stuck, %llu with a finding (%llu repeated mutants skipped); %zu signature(s)\n",
           c->setup.machine, st->version, (unsigned long long)st->execs, st->seconds,
           st->seconds > 0 ? st->execs / st->seconds : 0.0, (unsigned long long)st->accepted,
           (unsigned long long)st->rejected, (unsigned long long)st->not_compared,
           (unsigned long long)st->guest_stuck, (unsigned long long)st->finding_execs,
           (unsigned long long)st->duplicates, st->n_findings);
    for (size_t i = 0; i < st->n_findings; i++)
        printf("  %s %s/qemu-%s/%s.bin: %s\n", st->finding[i].known ? "known" : "NEW  ", c->results,
               c->setup.machine, st->finding[i].signature, st->finding[i].line);
}

int cmd_qemu_fuzz(int argc, char **argv)
{
    enum { O_MACHINE = 256, O_QEMU, O_FW, O_DUR, O_SEED, O_RESULTS, O_MIN, O_TIMEOUT, O_REPLAY, O_JSON, O_QUIET,
           O_HELP };
    static const struct option opts[] = {
        { "machine", required_argument, 0, O_MACHINE }, { "qemu", required_argument, 0, O_QEMU },
        { "firmware", required_argument, 0, O_FW },     { "duration", required_argument, 0, O_DUR },
        { "seed", required_argument, 0, O_SEED },       { "results", required_argument, 0, O_RESULTS },
        { "minimise", required_argument, 0, O_MIN },    { "timeout", required_argument, 0, O_TIMEOUT },
        { "replay", required_argument, 0, O_REPLAY },   { "json", no_argument, 0, O_JSON },
        { "quiet", no_argument, 0, O_QUIET },           { "help", no_argument, 0, O_HELP },
        { 0, 0, 0, 0 },
    };
    QdrvFuzzConfig c;
    memset(&c, 0, sizeof(c));
    c.setup.timeout_ms = 5000;
    c.setup.seed = 1;
    c.seconds = 60;
    c.seed = 1;
    c.results = "results";
    c.minimise_s = 60;
    const char *replay = NULL;
    bool json = false, quiet = false;
    long long v;
    int opt;
    cli_options_begin();
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case O_MACHINE: c.setup.machine = optarg; break;
        case O_QEMU: c.setup.qemu = optarg; break;
        case O_FW: c.setup.firmware = optarg; break;
        case O_DUR: if (!cli_parse_duration(optarg, &c.seconds)) return 2; break;
        case O_MIN: if (!cli_parse_duration(optarg, &c.minimise_s)) return 2; break;
        case O_SEED:
            if (!cli_qemu_parse_num("--seed", optarg, 0, LLONG_MAX, &v))
                return 2;
            c.seed = (uint64_t)v;
            break;
        case O_TIMEOUT:
            if (!cli_qemu_parse_num("--timeout", optarg, 100, 3600000, &v))
                return 2;
            c.setup.timeout_ms = (int)v;
            break;
        case O_RESULTS: c.results = optarg; break;
        case O_REPLAY: replay = optarg; break;
        case O_JSON: json = true; break;
        case O_QUIET: quiet = true; break;
        case O_HELP: fputs(fuzz_usage, stdout); return 0;
        default: return cli_bad_option("qemu fuzz", argv);
        }
    }
    if (!cli_no_arguments("qemu fuzz", argc, argv))
        return 2;
    if (!c.setup.machine) {
        fprintf(stderr, "vmstress qemu fuzz: --machine BOARD is required\n");
        return 2;
    }
    static char fw[1024];
    if (!c.setup.firmware) {
        char name[300];
        snprintf(name, sizeof(name), "qemu/%s", c.setup.machine);
        if (!cli_guest_path(name, fw, sizeof(fw)))
            return 2;
        c.setup.firmware = fw;
    }
    qdrv_install_signal_handlers();
    QdrvErr e = { "" };
    if (replay) {
        int rc = qdrv_fuzz_replay(&c.setup, replay, stdout, &e);
        if (rc == 2)
            fprintf(stderr, "vmstress qemu fuzz: %s\n", e.text);
        return rc;
    }
    if (!quiet && !json && isatty(STDERR_FILENO))
        c.progress = stderr;
    QdrvFuzzStats st;
    int rc = qdrv_fuzz(&c, &st, &e);
    if (rc == 2) {
        fprintf(stderr, "vmstress qemu fuzz: %s\n", e.text);
        return 2;
    }
    if (json) {
        json_t *j = stats_json(&c, &st);
        char *s = json_dumps(j, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(j);
    } else if (!quiet) {
        print_stats(&c, &st);
    }
    return rc;
}
