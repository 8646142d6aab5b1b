/*
 * cmd_machine.c - single-machine subcommands: exec, trace, save, load,
 * dump-vmstate, selfcheck.
 *
 * They share one option parser (each accepts a subset of the options) and
 * one machine set-up, so every subcommand reports bad input the same way.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loop.h"
#include "machine.h"

#define DEFAULT_BOARD "vmstress-m0"
#define DEFAULT_CYCLES 1000000000ull    /* 10 s of virtual time */

/* ------------------------------------------------------------ options */

typedef struct Opts {
    const char *cmd;
    const char *board;
    const char *firmware;
    const char *out;
    const char *pos;            /* the one positional argument */
    uint64_t cycles;
    bool cycles_set;
    uint64_t last;
    uint64_t interval;
    bool check_vmdesc;
    const char *plants[16];     /* --plant BASE=VARIANT (vmstress-planted) */
    size_t n_plants;
    Board planted;              /* the board with plants applied */
    DevConfig *planted_devs;
    bool precopy;
    double bandwidth;           /* bytes/s */
    double downtime;            /* seconds */
} Opts;

enum { O_BOARD = 'b', O_CYCLES = 'c', O_FIRMWARE = 'f', O_HELP = 'h', O_LAST = 'l',
       O_OUT = 'o', O_INTERVAL = 'i', O_VMDESC = 'j', O_PLANT = 'p', O_PRECOPY = 'P',
       O_BANDWIDTH = 'w', O_DOWNTIME = 'd' };

static const struct option all_opts[] = {
    { "board", required_argument, NULL, O_BOARD },
    { "cycles", required_argument, NULL, O_CYCLES },
    { "firmware", required_argument, NULL, O_FIRMWARE },
    { "help", no_argument, NULL, O_HELP },
    { "last", required_argument, NULL, O_LAST },
    { "output", required_argument, NULL, O_OUT },
    { "interval", required_argument, NULL, O_INTERVAL },
    { "check-vmdesc", no_argument, NULL, O_VMDESC },
    { "plant", required_argument, NULL, O_PLANT },
    { "precopy", no_argument, NULL, O_PRECOPY },
    { "bandwidth", required_argument, NULL, O_BANDWIDTH },
    { "max-downtime", required_argument, NULL, O_DOWNTIME },
    { NULL, 0, NULL, 0 },
};

static bool parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr, "vmstress %s: --%s wants a non-negative integer, got '%s'\n", cmd, opt, s);
        return false;
    }
    *out = v;
    return true;
}

/* A positive number with an optional suffix from units ("k" 1024, ...):
 * false with a one-line message naming the option. */
typedef struct Unit {
    const char *suffix;
    double scale;
} Unit;

static bool parse_scaled(const char *cmd, const char *opt, const char *s, const Unit *units,
                         double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    const Unit *u = units;
    while (u->suffix && strcmp(u->suffix, end))
        u++;
    if (errno || end == s || !u->suffix || !(v > 0) || v > 1e15) {
        fprintf(stderr, "vmstress %s: --%s wants a positive number", cmd, opt);
        for (u = units; u->suffix; u++)
            fprintf(stderr, "%s%s", u == units ? " with an optional unit (" : u[1].suffix ? ", " : " or ",
                    u->suffix[0] ? u->suffix : "none");
        fprintf(stderr, "), got '%s'\n", s);
        return false;
    }
    *out = v * u->scale;
    return true;
}

/* QEMU 7.2's migration defaults (migration.c): max-bandwidth MAX_THROTTLE,
 * 128 MiB/s; downtime-limit DEFAULT_MIGRATE_SET_DOWNTIME, 300 ms. */
#define QEMU_MAX_BANDWIDTH (128.0 * 1024 * 1024)
#define QEMU_DOWNTIME_LIMIT 0.3

static const Unit bandwidth_units[] = {
    { "", 1 }, { "k", 1024.0 }, { "M", 1024.0 * 1024 }, { "G", 1024.0 * 1024 * 1024 }, { NULL, 0 },
};
static const Unit downtime_units[] = { { "", 1e-3 }, { "ms", 1e-3 }, { "s", 1 }, { NULL, 0 } };

/* Parse argv for a subcommand accepting the option letters in `accepted`.
 * Returns -1 to go on, or the exit status (0 after --help, 2 on bad use). */
static int parse(int argc, char **argv, const char *usage, const char *accepted, bool want_pos,
                 Opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cmd = argv[0];
    o->board = DEFAULT_BOARD;
    o->cycles = DEFAULT_CYCLES;
    o->last = 32;
    o->interval = 1000;
    o->bandwidth = QEMU_MAX_BANDWIDTH;
    o->downtime = QEMU_DOWNTIME_LIMIT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:", all_opts, NULL)) != -1) {
        if (c == O_HELP) {
            fputs(usage, stdout);
            return 0;
        }
        if (c == '?' || c == ':' || !strchr(accepted, c)) {
            const char *what = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            fprintf(stderr, "vmstress %s: %s option '%s' (see vmstress %s --help)\n", o->cmd,
                    c == ':' ? "missing value for" : "unknown", what, o->cmd);
            return 2;
        }
        const char *name = NULL;
        for (const struct option *p = all_opts; p->name; p++)
            if (p->val == c)
                name = p->name;
        switch (c) {
        case O_BOARD: o->board = optarg; break;
        case O_FIRMWARE: o->firmware = optarg; break;
        case O_OUT: o->out = optarg; break;
        case O_VMDESC: o->check_vmdesc = true; break;
        case O_PLANT:
            if (!cli_add_plant(o->cmd, o->plants, sizeof(o->plants) / sizeof(o->plants[0]),
                               &o->n_plants, optarg))
                return 2;
            break;
        case O_PRECOPY: o->precopy = true; break;
        case O_BANDWIDTH:
            if (!parse_scaled(o->cmd, name, optarg, bandwidth_units, &o->bandwidth))
                return 2;
            break;
        case O_DOWNTIME:
            if (!parse_scaled(o->cmd, name, optarg, downtime_units, &o->downtime))
                return 2;
            break;
        case O_CYCLES:
            if (!parse_u64(o->cmd, name, optarg, &o->cycles))
                return 2;
            o->cycles_set = true;
            break;
        case O_LAST:
            if (!parse_u64(o->cmd, name, optarg, &o->last))
                return 2;
            break;
        case O_INTERVAL:
            if (!parse_u64(o->cmd, name, optarg, &o->interval) || o->interval == 0) {
                if (o->interval == 0)
                    fprintf(stderr, "vmstress %s: --interval must be at least 1\n", o->cmd);
                return 2;
            }
            break;
        }
    }
    int npos = argc - optind;
    if (want_pos && npos != 1) {
        fprintf(stderr, "vmstress %s: %s (see vmstress %s --help)\n", o->cmd,
                npos == 0 ? "missing argument" : "too many arguments", o->cmd);
        return 2;
    }
    if (!want_pos && npos != 0) {
        fprintf(stderr, "vmstress %s: unexpected argument '%s'\n", o->cmd, argv[optind]);
        return 2;
    }
    o->pos = want_pos ? argv[optind] : NULL;
    return -1;
}

/* ------------------------------------------------------------ set-up */

static const Board *find_board(const char *cmd, const char *name)
{
    const Board *b = mach_board_find(name);
    if (!b) {
        fprintf(stderr, "vmstress %s: unknown board '%s' (known:", cmd, name);
        for (size_t i = 0; mach_boards[i]; i++)
            fprintf(stderr, " %s", mach_boards[i]->name);
        fputs("; see vmstress list machine-types)\n", stderr);
    }
    return b;
}

/* Free a machine from setup and what setup allocated in o. */
static void teardown(Opts *o, Machine *m)
{
    mach_free(m);
    free(o->planted_devs);
    o->planted_devs = NULL;
}

/* A machine for `board` with `firmware` in flash (NULL: none), at power-on,
 * with the --plant variants of o in place (the board copy lives in o). */
static Machine *setup(Opts *o, const Board *b, const char *firmware)
{
    VmsMsg why = { "" };
    if (o->n_plants) {
        if (!mach_board_override(b, o->plants, o->n_plants, &o->planted, &o->planted_devs, &why)) {
            fprintf(stderr, "vmstress %s: %s\n", o->cmd, why.text);
            teardown(o, NULL);
            return NULL;
        }
        b = &o->planted;
    }
    Machine *m = mach_new(b, &why);
    if (!m) {
        fprintf(stderr, "vmstress %s: cannot build board '%s': %s\n", o->cmd, b->name, why.text);
        teardown(o, NULL);
        return NULL;
    }
    if ((firmware && !mach_load_elf(m, firmware, &why)) ||
        !mach_desc_overrides(m, o->plants, o->n_plants, &why)) {
        fprintf(stderr, "vmstress %s: %s\n", o->cmd, why.text);
        teardown(o, m);
        return NULL;
    }
    mach_reset(m);
    return m;
}


/* Guest output (semihosting and device data) straight to a FILE; the last
 * byte written is kept (to end a line after it). */
typedef struct PendingLine {
    FILE *f;
    int last;
} PendingLine;

static void line_sink(void *opaque, const MachEvent *ev)
{
    PendingLine *p = opaque;
    if (ev->kind == MACH_EV_CONSOLE || ev->kind == MACH_EV_DATA) {
        p->last = (int)(ev->value & 0xff);
        fputc(p->last, p->f);
    }
}

/* The exit status that describes how the guest ended. */
static int guest_status(const char *cmd, Machine *m, uint64_t cycles)
{
    fflush(stdout);
    switch (mach_state(m)) {
    case CPU_HALTED: {
        int code = mach_exit_code(m);
        return code < 0 || code > 255 ? 1 : code;
    }
    case CPU_LOCKUP:
        fprintf(stderr, "vmstress %s: guest locked up at cycle %" PRIu64 " (pc 0x%08x)\n", cmd,
                mach_cycles(m), cpu_reg(mach_cpu(m), 15));
        return 1;
    default:
        fprintf(stderr, "vmstress %s: guest still running after %" PRIu64 " cycles\n", cmd, cycles);
        return 1;
    }
}

/* --------------------------------------------------------------- exec */

static const char exec_usage[] =
    "usage: vmstress exec FIRMWARE.elf [--board NAME] [--cycles N]\n"
    "\n"
    "Run guest firmware from power-on until it exits (semihosting SYS_EXIT),\n"
    "locks up, or N cycles pass, printing its console (UART transmit data and\n"
    "semihosting output) on standard output.\n"
    "\n"
    "  --board NAME   machine layout (default " DEFAULT_BOARD "; vmstress-m0-core has\n"
    "                 no devices)\n"
    "  --cycles N     give up after N virtual cycles (default 1000000000 = 10 s)\n"
    "  --help         this text\n"
    "\n"
    "Exit status: the guest's exit code; 1 if it locked up or did not finish;\n"
    "2 on a usage error or a bad firmware file.\n";

int cmd_exec(int argc, char **argv)
{
    Opts o;
    int st = parse(argc, argv, exec_usage, "bc", true, &o);
    if (st >= 0)
        return st;
    const Board *b = find_board(o.cmd, o.board);
    Machine *m = b ? setup(&o, b, o.pos) : NULL;
    if (!m)
        return 2;
    PendingLine line = { stdout, '\n' };
    mach_set_event_sink(m, line_sink, &line);
    mach_run(m, o.cycles);
    st = guest_status(o.cmd, m, o.cycles);
    mach_free(m);
    return st;
}

/* -------------------------------------------------------------- trace */

static const char trace_usage[] =
    "usage: vmstress trace FIRMWARE.elf [--board NAME] [--cycles N] [--last K]\n"
    "\n"
    "Run guest firmware like exec (its console goes to standard output), then\n"
    "print the last K executed instructions, disassembled, each with the\n"
    "registers before it.\n"
    "\n"
    "  --board NAME   machine layout (default " DEFAULT_BOARD ")\n"
    "  --cycles N     stop after N virtual cycles (default 1000000000)\n"
    "  --last K       instructions to print, 1..64 (default 32)\n"
    "  --help         this text\n"
    "\n"
    "Exit status: 0 after printing the trace; 2 on a usage error or bad firmware.\n";

int cmd_trace(int argc, char **argv)
{
    Opts o;
    int st = parse(argc, argv, trace_usage, "bcl", true, &o);
    if (st >= 0)
        return st;
    if (o.last < 1 || o.last > CPU_TRACE_LEN) {
        fprintf(stderr, "vmstress trace: --last must be 1..%d, got %" PRIu64 "\n", CPU_TRACE_LEN, o.last);
        return 2;
    }
    const Board *b = find_board(o.cmd, o.board);
    Machine *m = b ? setup(&o, b, o.pos) : NULL;
    if (!m)
        return 2;
    PendingLine line = { stdout, '\n' };
    mach_set_event_sink(m, line_sink, &line);
    cpu_trace_regs(mach_cpu(m), true);
    mach_run(m, o.cycles);
    CpuTraceEntry e[CPU_TRACE_LEN];
    size_t n = cpu_trace(mach_cpu(m), e, CPU_TRACE_LEN);
    size_t skip = n > o.last ? n - (size_t)o.last : 0;
    printf("-- last %zu instructions before cycle %" PRIu64 " --\n", n - skip, mach_cycles(m));
    cpu_trace_print(e + skip, n - skip, true, stdout);
    fflush(stdout);
    mach_free(m);
    return 0;
}

/* --------------------------------------------------------------- save */

static const char save_usage[] =
    "usage: vmstress save FIRMWARE.elf --cycles N -o OUT [--board NAME] [--precopy]\n"
    "\n"
    "Run guest firmware for N cycles (or until it stops), then write the whole\n"
    "machine as a migration stream in QEMU's format, with the JSON vmdescription\n"
    "trailer (QEMU's scripts/analyze-migration.py can read it).\n"
    "\n"
    "  --cycles N        cycles to run before saving (required)\n"
    "  -o, --output OUT  stream file to write (required)\n"
    "  --board NAME      machine layout (default " DEFAULT_BOARD ")\n"
    "  --precopy         a live migration's stream instead: SRAM in QEMU's\n"
    "                    iterative \"ram\" section, 3 passes with the guest\n"
    "                    running 10000 cycles after each, then the last dirty\n"
    "                    pages and the devices (`vmstress decode` reads it)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 written; 1 the save failed; 2 usage, firmware or I/O error.\n";

static bool write_file(const char *cmd, const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "vmstress %s: cannot write %s: %s\n", cmd, path, strerror(errno));
    return ok;
}

static bool run_guest(void *opaque, uint64_t cycles)
{
    mach_run(opaque, cycles);
    return true;
}

/* save --precopy: a fixed plan, so the same firmware gives the same bytes. */
static bool precopy_save(Machine *m, VmsOut *out, VmsError *err)
{
    LoopPrecopyPlan plan = { .passes = 3, .slice = { 10000, 10000, 10000 } };
    LoopPrecopyResult res;
    vms_error_clear(err);
    if (!loop_precopy_save(m, out, &plan, run_guest, m, true, &res, err))
        return false;
    printf("pre-copy: %u passes, %" PRIu64 " pages sent, %" PRIu64 " in the last chunk\n", res.passes,
           res.pages_sent, res.pages_final);
    return true;
}

int cmd_save(int argc, char **argv)
{
    Opts o;
    int st = parse(argc, argv, save_usage, "bcoP", true, &o);
    if (st >= 0)
        return st;
    if (!o.cycles_set || !o.out) {
        fprintf(stderr, "vmstress save: %s is required (see vmstress save --help)\n",
                !o.cycles_set ? "--cycles" : "-o OUT");
        return 2;
    }
    const Board *b = find_board(o.cmd, o.board);
    Machine *m = b ? setup(&o, b, o.pos) : NULL;
    if (!m)
        return 2;
    mach_run(m, o.cycles);
    VmsOut out;
    vms_out_init(&out, 0);
    VmsError err;
    VmsSaveOpts so = { .no_vmdesc = false };
    st = 0;
    if (!(o.precopy ? precopy_save(m, &out, &err) : mach_save(m, &out, &so, &err))) {
        char line[VMS_ERROR_LINE_MAX];
        vms_error_format(&err, line, sizeof(line));
        fprintf(stderr, "vmstress save: %s\n", line);
        st = 1;
    } else if (!write_file(o.cmd, o.out, out.buf, out.len)) {
        st = 2;
    } else {
        printf("saved %zu bytes at cycle %" PRIu64 " to %s\n", out.len, mach_cycles(m), o.out);
    }
    vms_out_free(&out);
    mach_free(m);
    return st;
}

/* -------------------------------------------------------------- dirty */

static const char dirty_usage[] =
    "usage: vmstress dirty FIRMWARE.elf [--board NAME] [--cycles N]\n"
    "                      [--bandwidth B] [--max-downtime D]\n"
    "\n"
    "How hard a workload is to migrate live. Runs the firmware for N cycles,\n"
    "counting the 1 KiB pages it dirties per millisecond of guest time (100000\n"
    "cycles), and prints the dirty rate. Then, from there, it plays a QEMU 7.2\n"
    "pre-copy migration on the running guest: pass 1 sends every page, each pass\n"
    "takes its bytes over the bandwidth while the guest runs on, and the pages\n"
    "dirtied meanwhile are the next pass; the guest stops once the dirty bytes\n"
    "left would go within the max downtime at that bandwidth (QEMU's rule). It\n"
    "prints the passes, the bytes, the total time and the downtime, or that the\n"
    "migration would never converge (not within 30 passes).\n"
    "\n"
    "  --board NAME        machine layout (default " DEFAULT_BOARD ")\n"
    "  --cycles N          cycles to measure the dirty rate over (default\n"
    "                      10000000 = 0.1 s of guest time)\n"
    "  --bandwidth B       bytes/s, with k, M or G (x1024 each); default 128M,\n"
    "                      QEMU 7.2's max-bandwidth\n"
    "  --max-downtime D    milliseconds, or with ms or s; default 300 ms, QEMU\n"
    "                      7.2's downtime-limit\n"
    "  --help              this text\n"
    "\n"
    "Exit status: 0 it converges, 1 it never converges, 2 usage or firmware error.\n";

#define DIRTY_WINDOW 100000u    /* cycles: 1 ms of guest time */
#define DIRTY_MAX_PASSES 30u

int cmd_dirty(int argc, char **argv)
{
    Opts o;
    int st = parse(argc, argv, dirty_usage, "bcwd", true, &o);
    if (st >= 0)
        return st;
    if (!o.cycles_set)
        o.cycles = 100 * (uint64_t)DIRTY_WINDOW;
    const Board *b = find_board(o.cmd, o.board);
    Machine *m = b ? setup(&o, b, o.pos) : NULL;
    if (!m)
        return 2;
    if (!mach_ram(m)) {
        fprintf(stderr, "vmstress dirty: board '%s' has no whole pages of SRAM to migrate\n", b->name);
        mach_free(m);
        return 2;
    }
    LoopDirty d;
    memset(&d, 0, sizeof(d));
    mach_dirty_sync(m, NULL, 0);
    for (uint64_t done = 0; done < o.cycles;) {
        uint64_t n = o.cycles - done < DIRTY_WINDOW ? o.cycles - done : DIRTY_WINDOW;
        uint64_t ran = mach_run(m, n);
        loop_dirty_account(&d, m, ran);
        done += ran;
        if (ran < n)
            break;      /* the guest stopped */
    }
    printf("dirty: %s on %s, %" PRIu64 " cycles\n", o.pos, b->name, d.cycles);
    loop_dirty_print(stdout, &d);
    LoopPrediction p;
    loop_predict_precopy(m, o.bandwidth, o.downtime, DIRTY_MAX_PASSES, &p);
    printf("pre-copy at %.0f bytes/s, max downtime %.1f ms (QEMU 7.2's rule: stop once the dirty bytes "
           "left fit in it):\n", o.bandwidth, o.downtime * 1e3);
    if (p.converged)
        printf("  converges after %u pass%s; downtime %.3f ms (%" PRIu64 " dirty pages and %" PRIu64
               " bytes of device state); %" PRIu64 " bytes in %.3f ms in all\n", p.passes,
               p.passes == 1 ? "" : "es", p.downtime_s * 1e3, p.final_pages, p.device_bytes, p.bytes_sent,
               p.total_s * 1e3);
    else
        printf("  never converges: after %u passes %" PRIu64 " bytes are still dirty, more than the %.0f "
               "the downtime allows; stopping then would take %.3f ms\n", p.passes, p.last_pending,
               o.bandwidth * o.downtime, p.downtime_s * 1e3);
    mach_free(m);
    return p.converged ? 0 : 1;
}

/* --------------------------------------------------------------- load */

static const char load_usage[] =
    "usage: vmstress load STREAM [--firmware F] [--board NAME] [--check-vmdesc]\n"
    "                            [--cycles N] [-o OUT] [--plant BASE=VARIANT]...\n"
    "\n"
    "Load a migration stream into a fresh machine and print \"ok\", or print\n"
    "the one-line error naming the section, field and byte offset at fault.\n"
    "The board is the one named in the stream's configuration section unless\n"
    "--board is given. STREAM is a regular file, or - for standard input.\n"
    "The JSON vmdescription trailer may be at most 1 MiB; it is only framed\n"
    "(its length checked), not parsed, unless --check-vmdesc is given.\n"
    "\n"
    "  --firmware F      put this ELF in flash first (flash is not in the stream)\n"
    "  --board NAME      machine layout to load into\n"
    "  --check-vmdesc    parse the JSON trailer too (it must be a JSON object)\n"
    "  -o, --output OUT  after loading, save the machine again to OUT (a stream\n"
    "                    of the same machine type; compare it with STREAM)\n"
    "  --plant BASE=VARIANT  replace a device by a test-only variant (planted\n"
    "                    bugs; vmstress-planted only)\n"
    "  --cycles N        then run on N cycles, the guest's console on standard\n"
    "                    output after \"ok\", and end with one line:\n"
    "                    \"-- continued N cycles: cycle C, digest 0x..., STATE\"\n"
    "                    (STATE: running, exited CODE or locked up); the golden\n"
    "                    streams' continuations are this output (docs/compat.md)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 loaded (\"ok\" on standard output); 2 the stream was rejected\n"
    "(the error on standard error), or a usage/input error.\n";

/* After a load: save again (-o), run on (--cycles). False on an I/O error. */
static bool after_load(const Opts *o, Machine *m)
{
    if (o->out) {
        VmsOut out;
        VmsError err;
        VmsSaveOpts so = { .no_vmdesc = false };
        vms_out_init(&out, 0);
        bool saved = mach_save(m, &out, &so, &err);
        if (!saved) {
            char text[VMS_ERROR_LINE_MAX];
            vms_error_format(&err, text, sizeof(text));
            fprintf(stderr, "vmstress %s: saving again: %s\n", o->cmd, text);
        }
        bool ok = saved && write_file(o->cmd, o->out, out.buf, out.len);
        vms_out_free(&out);
        if (!ok)
            return false;
    }
    if (!o->cycles_set)
        return true;
    PendingLine line = { stdout, '\n' };
    mach_set_event_sink(m, line_sink, &line);
    mach_run(m, o->cycles);
    mach_set_event_sink(m, NULL, NULL);
    if (line.last != '\n')
        putchar('\n');
    printf("-- continued %" PRIu64 " cycles: cycle %" PRIu64 ", digest 0x%016" PRIx64 ", ", o->cycles,
           mach_cycles(m), mach_digest(m));
    if (mach_state(m) == CPU_HALTED)
        printf("exited %d\n", mach_exit_code(m));
    else
        puts(mach_state(m) == CPU_LOCKUP ? "locked up" : "running");
    return true;
}

int cmd_load(int argc, char **argv)
{
    Opts o;
    int st = parse(argc, argv, load_usage, "bfjcop", true, &o);
    if (st >= 0)
        return st;
    bool board_given = false;
    for (int i = 1; i < argc; i++)
        board_given |= !strcmp(argv[i], "--board") || !strncmp(argv[i], "--board=", 8);
    uint8_t *buf;
    size_t len;
    if (!cli_read_file(o.cmd, o.pos, &buf, &len))
        return 2;
    char name[64];
    const char *type = board_given ? o.board : vms_stream_machine_type(buf, len, name, sizeof(name));
    const Board *b = type ? mach_board_find(type) : NULL;
    if (!b)
        b = board_given ? find_board(o.cmd, o.board) : mach_board_find(DEFAULT_BOARD);
    Machine *m = b ? setup(&o, b, o.firmware) : NULL;
    if (!m) {
        free(buf);
        return 2;
    }
    VmsError err;
    mach_registry(m)->check_vmdesc = o.check_vmdesc;
    if (mach_load(m, buf, len, &err)) {
        puts("ok");
        st = after_load(&o, m) ? 0 : 2;
    } else {
        char line[VMS_ERROR_LINE_MAX];
        vms_error_format(&err, line, sizeof(line));
        fprintf(stderr, "vmstress load: %s: %s\n", o.pos, line);
        st = 2;
    }
    free(buf);
    teardown(&o, m);
    return st;
}

/* ------------------------------------------------------- dump-vmstate */

static const char dump_usage[] =
    "usage: vmstress dump-vmstate OUT.json [--board NAME] [--plant BASE=VARIANT]...\n"
    "\n"
    "Write the descriptions a machine type saves, as JSON in the shape of\n"
    "QEMU's -dump-vmstate, for comparison with QEMU's own dump or a frozen\n"
    "release (docs/compat.md): one entry per device type on the board (key: the\n"
    "type name), per extra section a device registers (key: the description\n"
    "name) and per core component (key: the section name). Each is written as\n"
    "that machine type saves it: at the version its compat properties keep,\n"
    "without the subsections they switch off. vmschkmachine.Name is the\n"
    "machine type (an alias is resolved to the versioned type it stands for).\n"
    "\n"
    "  --board NAME   machine type (default " DEFAULT_BOARD ", the newest)\n"
    "  --plant BASE=VARIANT  replace a device by a test-only variant (planted\n"
    "                 bugs; vmstress-planted only)\n"
    "  --help         this text\n"
    "\n"
    "Exit status: 0 written; 2 on a usage or I/O error.\n";

int cmd_dump_vmstate(int argc, char **argv)
{
    Opts o;
    int st = parse(argc, argv, dump_usage, "bp", true, &o);
    if (st >= 0)
        return st;
    const Board *b = find_board(o.cmd, o.board);
    Machine *m = b ? setup(&o, b, NULL) : NULL;
    if (!m)
        return 2;
    json_t *j = mach_dump_vmstate(m);
    st = j && vms_json_write_file(j, o.pos) ? 0 : 2;
    if (st)
        fprintf(stderr, "vmstress dump-vmstate: cannot write %s\n", o.pos);
    else
        printf("%zu descriptions of %s written to %s\n", json_object_size(j) - 1, b->name, o.pos);
    json_decref(j);
    teardown(&o, m);
    return st;
}

/* ---------------------------------------------------------- selfcheck */

static const char selfcheck_usage[] =
    "usage: vmstress selfcheck [--firmware F] [--board NAME] [--cycles N] [--interval N]\n"
    "\n"
    "A bounded check of the engine and the machine together. Two machines run\n"
    "the same firmware (default: the built hello program); every N cycles the\n"
    "second is saved, reset, loaded from its own stream and saved again, and\n"
    "  - the two saves must be byte-identical (load is a fixpoint),\n"
    "  - both machines must have the same state digest,\n"
    "  - a truncated stream must be rejected and leave the power-on state;\n"
    "at the end both must have printed the same console output and exited alike.\n"
    "\n"
    "  --firmware F   guest ELF (default: hello.elf from the build)\n"
    "  --board NAME   machine layout (default " DEFAULT_BOARD ")\n"
    "  --cycles N     bound on the run (default 1000000000)\n"
    "  --interval N   cycles between round trips (default 1000)\n"
    "  --help         this text\n"
    "\n"
    "Exit status: 0 all checks passed; 1 a check failed; 2 usage or set-up error.\n";

typedef struct Capture {
    char buf[4096];
    size_t len;
} Capture;

static void capture_sink(void *opaque, const MachEvent *ev)
{
    Capture *c = opaque;
    if ((ev->kind == MACH_EV_CONSOLE || ev->kind == MACH_EV_DATA) && c->len + 1 < sizeof(c->buf))
        c->buf[c->len++] = (char)ev->value;
}

static bool running(Machine *m)
{
    CpuRunState s = mach_state(m);
    return s != CPU_HALTED && s != CPU_LOCKUP;
}

/* Save, reset, load, save: false with a one-line reason on any difference. */
static bool round_trip(Machine *m, VmsOut *s1, VmsOut *s2, uint64_t power_on, char *why, size_t n)
{
    VmsError err;
    VmsSaveOpts so = { .no_vmdesc = false };
    vms_out_reset(s1);
    vms_out_reset(s2);
    if (!mach_save(m, s1, &so, &err)) {
        vms_error_format(&err, why, n);
        return false;
    }
    /* A damaged copy must be refused and leave nothing half-loaded. */
    if (mach_load(m, s1->buf, s1->len / 2, &err)) {
        snprintf(why, n, "a stream truncated to %zu bytes was accepted", s1->len / 2);
        return false;
    }
    if (mach_digest(m) != power_on) {
        snprintf(why, n, "a failed load left the machine different from power-on");
        return false;
    }
    if (!mach_load(m, s1->buf, s1->len, &err)) {
        vms_error_format(&err, why, n);
        return false;
    }
    if (!mach_save(m, s2, &so, &err)) {
        vms_error_format(&err, why, n);
        return false;
    }
    if (s1->len != s2->len || memcmp(s1->buf, s2->buf, s1->len) != 0) {
        size_t i = 0;
        while (i < s1->len && i < s2->len && s1->buf[i] == s2->buf[i])
            i++;
        snprintf(why, n, "save after load differs from the stream loaded, first at offset %zu", i);
        return false;
    }
    return true;
}

int cmd_selfcheck(int argc, char **argv)
{
    Opts o;
    int st = parse(argc, argv, selfcheck_usage, "bcfi", false, &o);
    if (st >= 0)
        return st;
    char fw[4096];
    if (!o.firmware) {
        if (!cli_guest_path("hello", fw, sizeof(fw)))
            return 2;
        o.firmware = fw;
    }
    const Board *b = find_board(o.cmd, o.board);
    Machine *a = b ? setup(&o, b, o.firmware) : NULL;
    Machine *m = a ? setup(&o, b, o.firmware) : NULL;
    if (!m) {
        mach_free(a);
        return 2;
    }
    uint64_t power_on = mach_digest(m);
    Capture ca = { .len = 0 }, cb = { .len = 0 };
    mach_set_event_sink(a, capture_sink, &ca);
    mach_set_event_sink(m, capture_sink, &cb);
    VmsOut s1, s2;
    vms_out_init(&s1, 0);
    vms_out_init(&s2, 0);
    char why[400] = "";
    unsigned trips = 0;
    size_t stream_len = 0;
    bool ok = true;
    while (ok && mach_cycles(a) < o.cycles && (running(a) || running(m))) {
        uint64_t step = o.cycles - mach_cycles(a) < o.interval ? o.cycles - mach_cycles(a) : o.interval;
        uint64_t target = mach_cycles(a) + step;
        mach_run(a, target - mach_cycles(a));
        mach_run(m, target - mach_cycles(m));
        if (mach_cycles(a) != mach_cycles(m) || mach_state(a) != mach_state(m)) {
            snprintf(why, sizeof(why), "the machines stopped apart: cycles %" PRIu64 " and %" PRIu64,
                     mach_cycles(a), mach_cycles(m));
            ok = false;
            break;
        }
        if (mach_digest(a) != mach_digest(m)) {
            snprintf(why, sizeof(why), "state digests differ at cycle %" PRIu64, mach_cycles(a));
            ok = false;
            break;
        }
        mach_set_event_sink(m, NULL, NULL);
        ok = round_trip(m, &s1, &s2, power_on, why, sizeof(why));
        mach_set_event_sink(m, capture_sink, &cb);
        trips += ok;
        stream_len = s1.len;
    }
    if (ok && (ca.len != cb.len || memcmp(ca.buf, cb.buf, ca.len) != 0)) {
        snprintf(why, sizeof(why), "console output differs (%zu and %zu bytes)", ca.len, cb.len);
        ok = false;
    }
    if (ok && running(a)) {
        snprintf(why, sizeof(why), "the guest did not finish within %" PRIu64 " cycles", o.cycles);
        ok = false;
    }
    printf("selfcheck: board %s, firmware %s\n", b->name, o.firmware);
    printf("  sections %zu, stream %zu bytes, %u round trips at %" PRIu64 "-cycle intervals\n",
           mach_registry(m)->n, stream_len, trips, o.interval);
    printf("  guest: %s after %" PRIu64 " cycles, exit code %d, console %zu bytes: %.*s%s",
           mach_state(a) == CPU_HALTED ? "exited" : mach_state(a) == CPU_LOCKUP ? "locked up" : "running",
           mach_cycles(a), mach_exit_code(a), ca.len, (int)ca.len, ca.buf,
           ca.len && ca.buf[ca.len - 1] == '\n' ? "" : "\n");
    if (ok && mach_exit_code(a) != 0) {
        snprintf(why, sizeof(why), "the guest exited with code %d", mach_exit_code(a));
        ok = false;
    }
    printf("selfcheck: %s%s\n", ok ? "ok" : "FAILED: ", ok ? "" : why);
    vms_out_free(&s1);
    vms_out_free(&s2);
    mach_free(a);
    mach_free(m);
    return ok ? 0 : 1;
}
