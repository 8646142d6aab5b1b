/*
 * main.c - the `vmstress` command: a table of subcommands, nothing else.
 * Each subcommand parses its own options and returns the exit status
 * (0 ok, 1 finding or guest failure, 2 usage or input error).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct Subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} Subcommand;

static const Subcommand subcommands[] = {
    { "run", cmd_run, "round-trip stress loop (the main job)" },
    { "replay", cmd_replay, "re-run a reproducer written by run" },
    { "exec", cmd_exec, "run firmware and print its console" },
    { "trace", cmd_trace, "run firmware and print its last instructions" },
    { "save", cmd_save, "run firmware for N cycles and write a migration stream" },
    { "load", cmd_load, "load a migration stream into a fresh machine" },
    { "dump-vmstate", cmd_dump_vmstate, "write every description as JSON (QEMU -dump-vmstate shape)" },
    { "selfcheck", cmd_selfcheck, "bounded engine and machine self-check" },
    { "report", cmd_report, "field-coverage reports" },
    { "compat", cmd_compat, "graded static compatibility of two -dump-vmstate files" },
    { "decode", cmd_decode, "print every leaf of any QEMU migration stream (QEMU's or ours)" },
    { "lint", cmd_lint, "check descriptions against the structs they describe" },
    { "qemu", cmd_qemu, "twins on a real QEMU board (qemu run)" },
    { "list", cmd_list, "boards, machine types, workloads and devices of this build" },
    { "dirty", cmd_dirty, "dirty-page rate of firmware and a pre-copy migration's prediction" },
};

static void usage(FILE *f)
{
    fputs("usage: vmstress <command> [options]   (vmstress <command> --help for details)\n"
          "       vmstress --version\n\n", f);
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(f, "  %-14s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\nExit status: 0 ok, 1 finding or guest failure, 2 usage or input error.\n", f);
}

int main(int argc, char **argv)
{
    /* Named in replay hints and reproducers: vmstress-planted for planted runs. */
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    if (argc > 0 && argv[0][0] && !(slash && !slash[1]))
        cli_program = slash ? slash + 1 : argv[0];
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        cli_print_version(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vmstress: unknown command '%s' (try vmstress --help)\n", argv[1]);
    return 2;
}
