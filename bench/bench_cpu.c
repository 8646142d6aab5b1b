/*
 * bench_cpu.c - how fast the core runs guest code, beside two baselines
 * measured in the same run:
 *   - the same kernel (guest/compute.c) compiled natively for the host;
 *   - the same firmware under Unicorn (QEMU's TCG, Cortex-M0 model).
 * Guest MIPS counts the machine's cycles, which are one per instruction for
 * this program (it never sleeps); Unicorn runs the same instruction stream,
 * so the same count is used for its MIPS.
 *
 * Beside it, the same machine with the dirty log compiled out of the core
 * (bench_cpu_nolog, its own process: the core is the same source built
 * with CPU_NO_DIRTY_LOG), so the log's cost is a same-run ratio.
 *
 * Two modes, both printed: "continuous" (one run call for the whole
 * program) and "burst" (BENCH_SLICE-instruction slices with a stop between
 * them, which is how the stress loop drives the machine: it runs a slice,
 * leaves the CPU loop, looks at the machine, and resumes).
 *
 * usage: bench_cpu [--runs N] [GUEST_DIR]
 *   --runs N   exactly N timed runs per figure (default: at least 3 runs and
 *              1 s each); --runs 1 is the smoke test ctest runs.
 *
 * Host time (clock_gettime) is read only here, never in the machine.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "machine.h"

#ifdef BENCH_UNICORN_RUNNER
#include <unicorn/unicorn.h>
#endif

/* What the loop's checkpoint interval is in the order of magnitude of. */
#define BENCH_SLICE 10000u
#define MIN_SECONDS 1.0
/* The Unicorn runner is ended by PID if it has not answered by then. */
#ifndef RUNNER_TIMEOUT_S
#define RUNNER_TIMEOUT_S 300.0
#endif

uint32_t compute_kernel(uint32_t rounds);     /* guest/compute.c, built natively */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The checksum the program printed ("... checksum=XXXXXXXX"). */
static bool parse_checksum(const char *s, uint32_t *v, unsigned *rounds)
{
    const char *r = strstr(s, "rounds="), *c = strstr(s, "checksum=");
    if (!r || !c)
        return false;
    *rounds = (unsigned)strtoul(r + 7, NULL, 10);
    *v = (uint32_t)strtoul(c + 9, NULL, 16);
    return true;
}

/* Repetition policy: a fixed count, or until both a minimum number of runs
 * and a minimum total time are reached. */
typedef struct Reps {
    unsigned fixed;             /* 0: use min_runs and min_seconds */
    unsigned min_runs;
    double min_seconds;
} Reps;

typedef struct Timing {
    double best, total;
    unsigned runs;
} Timing;

static bool reps_more(const Reps *r, const Timing *t)
{
    if (r->fixed)
        return t->runs < r->fixed;
    return t->runs < r->min_runs || t->total < r->min_seconds;
}

static void timing_add(Timing *t, double s)
{
    t->best = t->runs == 0 || s < t->best ? s : t->best;
    t->total += s;
    t->runs++;
}

#ifndef BENCH_UNICORN_RUNNER
typedef struct Console {
    char buf[256];
    size_t n;
} Console;

static void sink(void *opaque, const MachEvent *ev)
{
    Console *c = opaque;
    if (ev->kind == MACH_EV_CONSOLE && c->n + 1 < sizeof(c->buf))
        c->buf[c->n++] = (char)ev->value;
}

/* One run of the firmware from power-on; slice 0 means one mach_run call. */
static bool machine_once(Machine *m, uint64_t slice, Console *con, double *secs)
{
    memset(con, 0, sizeof(*con));
    mach_reset(m);
    mach_set_event_sink(m, sink, con);
    double t0 = now();
    if (slice == 0) {
        mach_run(m, 10000000000ull);
    } else {
        /* The stop between slices: the CPU loop returns, the host reads the
         * run state and the cycle count (as the loop does before deciding
         * on a checkpoint), and the next slice starts. The checkpoint's own
         * cost is bench_loop's figure. */
        while (mach_state(m) != CPU_HALTED && mach_state(m) != CPU_LOCKUP &&
               mach_cycles(m) < 10000000000ull)
            mach_run(m, slice);
    }
    *secs = now() - t0;
    if (mach_state(m) != CPU_HALTED || mach_exit_code(m) != 0) {
        fprintf(stderr, "bench_cpu: compute.elf did not exit cleanly (state %d)\n", (int)mach_state(m));
        return false;
    }
    return true;
}

static bool measure_machine(Machine *m, uint64_t slice, const Reps *reps, Console *con,
                            uint64_t *insns, Timing *t)
{
    *t = (Timing){ 0 };
    while (reps_more(reps, t)) {
        double s;
        if (!machine_once(m, slice, con, &s))
            return false;
        *insns = mach_cycles(m);
        timing_add(t, s);
    }
    return true;
}

/* Reads fd into line (NUL-terminated) until EOF, a full buffer or the
 * deadline; false if the deadline passed first. */
static bool read_until(int fd, char *line, size_t n, double deadline)
{
    size_t got = 0;
    bool in_time = true;
    for (;;) {
        double left = deadline - now();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ready = left > 0 ? poll(&p, 1, (int)(left * 1000) + 1) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            in_time = ready < 0;
            break;
        }
        ssize_t r = read(fd, line + got, n - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (got += (size_t)r) == n - 1)
            break;
    }
    line[got] = '\0';
    return in_time;
}

/* Waits for pid until the deadline, then ends it (SIGKILL) and reaps it;
 * false if it had to be ended or could not be waited for. */
static bool reap_until(pid_t pid, double deadline, int *status)
{
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w < 0 && errno == EINTR)
            continue;
        if (w != 0)
            return w == pid;
        if (now() >= deadline)
            break;
        nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return false;
}

/* Runs the Unicorn runner (its own process: libunicorn exports QEMU's
 * internal names such as cpu_reset, which would clash with the core's) and
 * reads its one line. Started, watched and ended by PID; every wait is
 * bounded by one deadline. Also the dirty-log-free core's runner; unused
 * in the runners themselves. */
__attribute__((unused)) static bool run_runner(char *const argv[], char *line, size_t n)
{
    int fd[2];
    if (pipe(fd) != 0)
        return snprintf(line, n, "pipe: %s", strerror(errno)), false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    extern char **environ;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (e != 0) {
        close(fd[0]);
        return snprintf(line, n, "cannot start %s: %s", argv[0], strerror(e)), false;
    }
    double deadline = now() + RUNNER_TIMEOUT_S;
    bool in_time = read_until(fd[0], line, n, deadline);
    close(fd[0]);
    int status = 0;
    if (!reap_until(pid, in_time ? deadline : now(), &status) || !in_time)
        return snprintf(line, n, "no answer within %g s, ended", RUNNER_TIMEOUT_S), false;
    line[strcspn(line, "\n")] = '\0';
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Unicorn's best time for the firmware, continuous (slice 0) or in slices. */
static bool measure_unicorn(const char *path, uint32_t sum, const Reps *reps, uint64_t slice,
                            double *best, unsigned *runs, char *line, size_t n)
{
#ifdef VMSTRESS_UNICORN_RUNNER
    char a_sum[16], a_runs[16], a_slice[24];
    snprintf(a_sum, sizeof(a_sum), "%08" PRIx32, sum);
    snprintf(a_runs, sizeof(a_runs), "%u", reps->fixed);
    snprintf(a_slice, sizeof(a_slice), "%" PRIu64, slice);
    char *argv[] = { VMSTRESS_UNICORN_RUNNER, (char *)path, a_sum, a_runs, a_slice, NULL };
    return run_runner(argv, line, n) && sscanf(line, "unicorn %lf %u", best, runs) == 2 && *best > 0;
#else
    snprintf(line, n, "not available at build time (no libunicorn-dev)");
    return false;
#endif
}

static void print_unicorn(const char *mode, const char *path, uint32_t sum, const Reps *reps,
                          uint64_t slice, uint64_t insns, double mips)
{
    double ubest = 0;
    unsigned uruns = 0;
    char line[512] = "";
    if (measure_unicorn(path, sum, reps, slice, &ubest, &uruns, line, sizeof(line))) {
        double umips = (double)insns / ubest / 1e6;
        printf("unicorn %s: %.4f s (best of %u): %.1f MIPS; vmstress/unicorn speed ratio %.2f\n", mode,
               ubest, uruns, umips, mips / umips);
    } else {
        printf("unicorn %s: %s\n", mode, line[0] ? line : "runner failed without output");
    }
}

/* The core without the dirty log's store, continuous, from its own process. */
static void print_nolog(const Reps *reps, const char *dir, uint64_t insns, double mips)
{
#ifdef VMSTRESS_NOLOG_RUNNER
    char a_runs[16], line[512] = "";
    snprintf(a_runs, sizeof(a_runs), "%u", reps->fixed);
    char *argv[] = { VMSTRESS_NOLOG_RUNNER, "--runs", a_runs, (char *)dir, NULL };
    double best = 0;
    unsigned runs = 0;
    if (!reps->fixed)
        argv[1] = (char *)dir, argv[2] = NULL;
    if (run_runner(argv, line, sizeof(line)) && sscanf(line, "nolog %lf %u", &best, &runs) == 2 && best > 0) {
        double nmips = (double)insns / best / 1e6;
        printf("guest without the dirty log: %.4f s (best of %u): %.1f MIPS; with it %.3f of that speed\n",
               best, runs, nmips, mips / nmips);
    } else {
        printf("guest without the dirty log: %s\n", line[0] ? line : "runner failed without output");
    }
#else
    (void)reps, (void)dir, (void)insns, (void)mips;
#endif
}

static int usage(const char *msg)
{
    fprintf(stderr, "bench_cpu: %s (usage: bench_cpu [--runs N] [GUEST_DIR])\n", msg);
    return 2;
}

int main(int argc, char **argv)
{
    Reps reps = { .fixed = 0, .min_runs = 3, .min_seconds = MIN_SECONDS };
    const char *dir = VMSTRESS_GUEST_DIR;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            printf("usage: bench_cpu [--runs N] [GUEST_DIR]\n"
                   "  guest MIPS of compute.elf, continuous and in %u-instruction bursts,\n"
                   "  beside the kernel compiled natively and the firmware under Unicorn.\n"
                   "  --runs N   exactly N timed runs per figure (default: >= 3 runs and >= %.0f s)\n",
                   BENCH_SLICE, MIN_SECONDS);
            return 0;
        } else if (!strcmp(argv[i], "--runs")) {
            char *end;
            unsigned long v = i + 1 < argc ? strtoul(argv[++i], &end, 10) : 0;
            if (v == 0 || v > 1000 || *end)
                return usage("--runs needs a whole number from 1 to 1000");
            reps.fixed = (unsigned)v;
        } else if (argv[i][0] == '-') {
            return usage("unknown option");
        } else {
            dir = argv[i];
        }
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/compute.elf", dir);
    VmsMsg why = { "" };
    Machine *m = mach_new(mach_board_find("vmstress-m0-core"), &why);
    if (!m || !mach_load_elf(m, path, &why)) {
        fprintf(stderr, "bench_cpu: %s\n", why.text);
        mach_free(m);
        return 2;
    }

    /* 1. The machine, continuous. */
    Console con;
    uint64_t insns = 0;
    Timing t;
    if (!measure_machine(m, 0, &reps, &con, &insns, &t)) {
        mach_free(m);
        return 1;
    }
    uint32_t sum;
    unsigned rounds;
    if (!parse_checksum(con.buf, &sum, &rounds)) {
        fprintf(stderr, "bench_cpu: no checksum in the guest's output '%s'\n", con.buf);
        mach_free(m);
        return 1;
    }
    double mips = (double)insns / t.best / 1e6;
#ifdef BENCH_NOLOG_RUNNER
    printf("nolog %.9f %u\n", t.best, t.runs);
    mach_free(m);
    return 0;
#endif
    printf("guest (vmstress core): %" PRIu64 " instructions in %.4f s (best of %u): %.1f MIPS\n", insns,
           t.best, t.runs, mips);
    print_nolog(&reps, dir, insns, mips);

    /* 2. Native: the same kernel on the host, repeated until measurable. */
    Reps nreps = { reps.fixed, 5, MIN_SECONDS / 4 };
    Timing nt = { 0 };
    uint32_t nsum = 0;
    while (reps_more(&nreps, &nt)) {
        double t0 = now();
        nsum = compute_kernel(rounds);
        timing_add(&nt, now() - t0);
    }
    printf("native host: %.6f s per run (best of %u), checksum %s: vmstress slowdown %.1fx\n", nt.best,
           nt.runs, nsum == sum ? "matches" : "DIFFERS", t.best / nt.best);
    if (nsum != sum) {
        fprintf(stderr, "bench_cpu: native checksum %08" PRIx32 ", guest %08" PRIx32 "\n", nsum, sum);
        mach_free(m);
        return 1;
    }

    /* 3. Unicorn, continuous. */
    print_unicorn("continuous", path, sum, &reps, 0, insns, mips);

    /* 4. Bursts: the machine and Unicorn in BENCH_SLICE-instruction slices. */
    Timing bt;
    uint64_t binsns = 0;
    if (!measure_machine(m, BENCH_SLICE, &reps, &con, &binsns, &bt) || binsns != insns) {
        fprintf(stderr, "bench_cpu: burst run took %" PRIu64 " instructions, continuous %" PRIu64 "\n",
                binsns, insns);
        mach_free(m);
        return 1;
    }
    double bmips = (double)insns / bt.best / 1e6;
    printf("guest (vmstress core) burst %u: %.4f s (best of %u): %.1f MIPS (%.2f of continuous)\n",
           BENCH_SLICE, bt.best, bt.runs, bmips, bmips / mips);
    char mode[32];
    snprintf(mode, sizeof(mode), "burst %u", BENCH_SLICE);
    print_unicorn(mode, path, sum, &reps, BENCH_SLICE, insns, bmips);
    mach_free(m);
    return 0;
}
#endif

#ifdef BENCH_UNICORN_RUNNER
#include "machine_int.h"

typedef struct UcState {
    int exit;
    char out[256];
    size_t n;
} UcState;

/* Semihosting at a BKPT 0xAB: console bytes and exit; then step over it. */
static void uc_bkpt(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    UcState *st = opaque;
    uint32_t r0, r1, block[2];
    uc_reg_read(uc, UC_ARM_REG_R0, &r0);
    uc_reg_read(uc, UC_ARM_REG_R1, &r1);
    if (r0 == 0x03) {
        uint8_t c;
        if (uc_mem_read(uc, r1, &c, 1) == UC_ERR_OK && st->n + 1 < sizeof(st->out))
            st->out[st->n++] = (char)c;
    } else if (r0 == 0x18) {
        st->exit = r1 == 0x20026u ? 0 : 1;
        uc_emu_stop(uc);
        return;
    } else if (r0 == 0x20) {
        st->exit = uc_mem_read(uc, r1, block, 8) == UC_ERR_OK && block[0] == 0x20026u ? (int)block[1] : 1;
        uc_emu_stop(uc);
        return;
    }
    uint32_t pc = ((uint32_t)addr + 2) | 1u;    /* keep Thumb state */
    uc_reg_write(uc, UC_ARM_REG_PC, &pc);
}

/* Runs the program to its exit, continuously or in slices of `slice`
 * instructions (Unicorn's instruction count) with a stop between them. */
static uc_err uc_run(uc_engine *uc, uint32_t pc, uint64_t slice, const UcState *st)
{
    if (slice == 0)
        return uc_emu_start(uc, pc | 1, 0xffffffffu, 0, 0);
    for (;;) {
        uc_err e = uc_emu_start(uc, pc | 1, 0xffffffffu, 0, (size_t)slice);
        if (e != UC_ERR_OK || st->exit != -1)
            return e;
        uc_reg_read(uc, UC_ARM_REG_PC, &pc);
    }
}

/* Runner: bench_cpu_unicorn FIRMWARE.elf CHECKSUM RUNS SLICE; prints
 * "unicorn <best s> <runs>". RUNS 0: at least 3 runs and MIN_SECONDS. */
int main(int argc, char **argv)
{
    static uint8_t flash[0x40000], file[1u << 20];
    if (argc != 5) {
        printf("usage: bench_cpu_unicorn FIRMWARE.elf CHECKSUM RUNS SLICE\n");
        return 2;
    }
    uint32_t want = (uint32_t)strtoul(argv[2], NULL, 16);
    Reps reps = { (unsigned)strtoul(argv[3], NULL, 10), 3, MIN_SECONDS };
    uint64_t slice = strtoull(argv[4], NULL, 10);
    FILE *f = fopen(argv[1], "rb");
    size_t len = f ? fread(file, 1, sizeof(file), f) : 0;
    if (f)
        fclose(f);
    VmsMsg why = { "" };
    if (!elf_load_flash(file, len, flash, 0, sizeof(flash), &why)) {
        printf("%s: %s\n", argv[1], why.text[0] ? why.text : "cannot read");
        return 2;
    }
    Timing t = { 0 };
    while (reps_more(&reps, &t)) {
        uc_engine *uc;
        if (uc_open(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, &uc) != UC_ERR_OK) {
            printf("uc_open failed\n");
            return 1;
        }
        uc_ctl_set_cpu_model(uc, UC_CPU_ARM_CORTEX_M0);
        uc_mem_map(uc, 0, sizeof(flash), UC_PROT_READ | UC_PROT_EXEC);
        uc_mem_write(uc, 0, flash, sizeof(flash));
        uc_mem_map(uc, 0x20000000, 0x10000, UC_PROT_ALL);
        /* Hooks only on the BKPT 0xAB half-words, so the rest runs at full speed. */
        UcState st = { .exit = -1 };
        uc_hook h;
        for (uint32_t a = 0; a + 2 <= sizeof(flash); a += 2)
            if (flash[a] == 0xab && flash[a + 1] == 0xbe)
                uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)uc_bkpt, &st, a, a);
        uint32_t sp, pc;
        memcpy(&sp, flash, 4);
        memcpy(&pc, flash + 4, 4);
        uc_reg_write(uc, UC_ARM_REG_SP, &sp);
        double t0 = now();
        uc_err e = uc_run(uc, pc, slice, &st);
        double s = now() - t0;
        uc_close(uc);
        uint32_t sum;
        unsigned rounds;
        if (e != UC_ERR_OK || st.exit != 0 || !parse_checksum(st.out, &sum, &rounds) || sum != want) {
            printf("run failed (%s, exit %d, output '%.*s')\n", uc_strerror(e), st.exit, (int)st.n, st.out);
            return 1;
        }
        timing_add(&t, s);
    }
    printf("unicorn %.6f %u\n", t.best, t.runs);
    return 0;
}
#endif
