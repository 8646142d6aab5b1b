/* cli.h - shared pieces of the vmstress command's subcommands. */
#ifndef VMSTRESS_CLI_H
#define VMSTRESS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The largest stream file a subcommand reads. */
#define CLI_STREAM_MAX (64u << 20)

/* Path of a built guest program "<dir>/<name>.elf": $VMSTRESS_GUEST_DIR, else
 * the build's guest folder. False (with a one-line message) if it is missing. */
bool cli_guest_path(const char *name, char *out, size_t n);
/* Read a whole file (at most CLI_STREAM_MAX bytes) into a new buffer; false
 * with a one-line message on stderr naming cmd and path. */
bool cli_read_file(const char *cmd, const char *path, uint8_t **buf, size_t *len);
/* --duration: whole seconds, or a number with s, m or h ("30s", "10m",
 * "1h"); false with a one-line message otherwise. */
bool cli_parse_duration(const char *s, double *out);

/* --plant BASE=VARIANT: append arg to plants (room for max, *n used);
 * false with a one-line message when there is no room. */
bool cli_add_plant(const char *cmd, const char **plants, size_t max, size_t *n, const char *arg);
/* Before a subcommand's getopt_long loop: start at argv[1], no getopt messages (ours are one line). */
void cli_options_begin(void);
/* After getopt_long: the unknown option at argv[optind - 1]. Returns 2. */
int cli_bad_option(const char *cmd, char **argv);
/* After the options: false with a message on a stray argument. */
bool cli_no_arguments(const char *cmd, int argc, char **argv);
/* The build's guest folder: $VMSTRESS_GUEST_DIR, else <build>/guest. */
const char *cli_guest_dir(void);
/* A firmware path as a reproducer stores it: "guest/<path inside the guest
 * folder>" when it is one of the build's programs (so it replays from any
 * build), else the path as given. Returns out. */
const char *cli_firmware_name(const char *path, char *out, size_t n);
/* SIGINT and SIGTERM call `handler` (a run's "stop after this checkpoint",
 * or forwarding to jobs); SA_RESTART is off so blocking waits notice. */
void cli_catch_stop_signals(void (*handler)(int));
/* The inverse, for replay: a "guest/..." name inside this build's guest
 * folder; anything else as stored. Returns out. */
const char *cli_firmware_path(const char *name, char *out, size_t n);

/* The program's own name ("vmstress", "vmstress-planted"), set by main. */
extern const char *cli_program;

int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);

/* cmd_machine.c: single-machine subcommands. */
int cmd_exec(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_dump_vmstate(int argc, char **argv);
int cmd_selfcheck(int argc, char **argv);
int cmd_dirty(int argc, char **argv);

/* cmd_lint.c: descriptions against member tables, declared ranges. */
int cmd_lint(int argc, char **argv);
/* cmd_qemu.c: twins on real QEMU (`vmstress qemu run`) and their replay. */
int cmd_qemu(int argc, char **argv);
bool cli_repro_is_qemu(const char *path);   /* repro.json with "kind": "qemu" */
int cmd_qemu_replay(const char *path, const char *results, bool json);
/* An integer option of the qemu subcommands in [min, max]; false with a one-line message. */
bool cli_qemu_parse_num(const char *opt, const char *s, long long min, long long max, long long *out);
/* cmd_qemu_fuzz.c: `vmstress qemu fuzz`, QEMU's loader fuzzed. */
int cmd_qemu_fuzz(int argc, char **argv);
/* cmd_info.c: --version and the registries. */
void cli_print_version(FILE *f);
int cmd_list(int argc, char **argv);

/* cmd_report.c: field-coverage reports. */
int cmd_report(int argc, char **argv);

/* cmd_compat.c: the static checker over two -dump-vmstate files. */
int cmd_compat(int argc, char **argv);
/* cmd_decode.c: any QEMU stream, leaf by leaf, through its vmdescription. */
int cmd_decode(int argc, char **argv);

#endif
