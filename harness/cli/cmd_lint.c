/*
 * cmd_lint.c - `vmstress lint`: every description against the member table
 * of the struct it describes, and the declared-range probe (lint.h).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lint.h"
#include "loop.h"

static const char lint_usage[] =
    "usage: vmstress lint [--board NAME] [--plant BASE=VARIANT]... [--quiet]\n"
    "\n"
    "Checks every description of the board's machine (devices and core\n"
    "sections) against the member table of the struct it describes: each\n"
    "compared member must be carried by a field of its width, element count\n"
    "and signedness, or be declared host-only, volatile or derived with a\n"
    "reason; no EQUAL codec on guest state; every index and count member has\n"
    "a declared range, and a load refuses values just outside it (probed from\n"
    "a power-on stream). One line per finding on stdout.\n"
    "\n"
    "  --board NAME          machine layout (default vmstress-m0)\n"
    "  --plant BASE=VARIANT  replace a device by a test-only variant (planted\n"
    "                        bugs; only in binaries that link them)\n"
    "  --quiet               no summary line\n"
    "  --help                this text\n"
    "\n"
    "Exit status: 0 clean, 1 findings, 2 usage or setup error.\n";

static void print_finding(void *opaque, const LintFinding *f)
{
    char line[512];
    lint_format(f, line, sizeof(line));
    puts(line);
    (void)opaque;
}

int cmd_lint(int argc, char **argv)
{
    enum { O_BOARD = 256, O_PLANT, O_QUIET, O_HELP };
    static const struct option opts[] = {
        { "board", required_argument, 0, O_BOARD }, { "plant", required_argument, 0, O_PLANT },
        { "help", no_argument, 0, O_HELP },         { "quiet", no_argument, 0, O_QUIET },
        { 0, 0, 0, 0 },
    };
    LoopConfig cfg;
    loop_config_defaults(&cfg);
    const char *plants[16];
    char fw[PATH_MAX];
    bool quiet = false;
    int c;
    cli_options_begin();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_BOARD: cfg.board = optarg; break;
        case O_PLANT:
            if (!cli_add_plant("lint", plants, sizeof(plants) / sizeof(plants[0]), &cfg.n_overrides, optarg))
                return 2;
            break;
        case O_QUIET: quiet = true; break;
        case O_HELP: fputs(lint_usage, stdout); return 0;
        default: return cli_bad_option("lint", argv);
        }
    }
    if (!cli_no_arguments("lint", argc, argv))
        return 2;
    /* The twins build the board with its overrides; machine A is linted
     * and probed from its own power-on stream. The firmware only has to
     * make a bootable machine. */
    if (!cli_guest_path("all", fw, sizeof(fw)))
        return 2;
    cfg.firmware = fw;
    cfg.overrides = plants;
    LoopFinding setup;
    LoopTwin *t = loop_twin_new(&cfg, NULL, 0, &setup);
    if (!t) {
        fprintf(stderr, "vmstress lint: %s\n", setup.detail);
        return 2;
    }
    Machine *m = loop_twin_machine(t, 0);
    size_t found = lint_machine(m, print_finding, NULL);
    found += lint_probe_machine(m, print_finding, NULL);
    if (!quiet)
        printf("lint: %zu finding%s on board %s\n", found, found == 1 ? "" : "s", cfg.board);
    loop_twin_free(t);
    return found ? 1 : 0;
}
