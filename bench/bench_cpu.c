/*
 * bench_cpu.c - how fast the core runs guest code, beside two baselines
 * measured in the same run:
 *   - the same kernel (guest/compute.c) compiled natively for the host;
 *   - the same firmware under Unicorn (QEMU's TCG, Cortex-M0 model).
 * Guest MIPS counts the machine's cycles, which are one per instruction for
 * this program (it never sleeps); Unicorn runs the same instruction stream,
 * so the same count is used for its MIPS.
 *
 * Host time (clock_gettime) is read only here, never in the machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine.h"

#ifdef BENCH_UNICORN_RUNNER
#include <unicorn/unicorn.h>
#endif

uint32_t compute_kernel(uint32_t rounds);     /* guest/compute.c, built natively */

#ifdef BENCH_UNICORN_RUNNER
#include "machine_int.h"

typedef struct UcState {
    int exit;
    char out[256];
    size_t n;
} UcState;
static void uc_bkpt(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque);
#endif

#define MIN_SECONDS 1.0

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

int main(int argc, char **argv)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/compute.elf", argc > 1 ? argv[1] : VMSTRESS_GUEST_DIR);
    VmsMsg why = { "" };
    Machine *m = mach_new(mach_board_find("vmstress-m0-core"), &why);
    if (!m || !mach_load_elf(m, path, &why)) {
        fprintf(stderr, "bench_cpu: %s\n", why.text);
        mach_free(m);
        return 2;
    }

    /* 1. The machine. */
    Console con;
    uint64_t insns = 0;
    double best = 1e9, total = 0;
    unsigned runs = 0;
    while (total < MIN_SECONDS || runs < 3) {
        memset(&con, 0, sizeof(con));
        mach_reset(m);
        mach_set_event_sink(m, sink, &con);
        double t0 = now();
        mach_run(m, 10000000000ull);
        double t = now() - t0;
        if (mach_state(m) != CPU_HALTED || mach_exit_code(m) != 0) {
            fprintf(stderr, "bench_cpu: compute.elf did not exit cleanly (state %d)\n", (int)mach_state(m));
            return 1;
        }
        insns = mach_cycles(m);
        best = t < best ? t : best;
        total += t;
        runs++;
    }
    uint32_t sum;
    unsigned rounds;
    if (!parse_checksum(con.buf, &sum, &rounds)) {
        fprintf(stderr, "bench_cpu: no checksum in the guest's output '%s'\n", con.buf);
        return 1;
    }
    double mips = (double)insns / best / 1e6;
    printf("guest (vmstress core): %" PRIu64 " instructions in %.4f s (best of %u): %.1f MIPS\n",
           insns, best, runs, mips);

    /* 2. Native: the same kernel on the host, repeated until measurable. */
    double nbest = 1e9, ntotal = 0;
    unsigned nruns = 0;
    uint32_t nsum = 0;
    while (ntotal < MIN_SECONDS / 4 || nruns < 5) {
        double t0 = now();
        nsum = compute_kernel(rounds);
        double t = now() - t0;
        nbest = t < nbest ? t : nbest;
        ntotal += t;
        nruns++;
    }
    printf("native host: %.6f s per run (best of %u), checksum %s: slowdown %.0fx\n", nbest, nruns,
           nsum == sum ? "matches" : "DIFFERS", best / nbest);
    if (nsum != sum) {
        fprintf(stderr, "bench_cpu: native checksum %08x, guest %08x\n", nsum, sum);
        return 1;
    }

    /* 3. Unicorn, in its own process: libunicorn exports QEMU's internal
     * names (cpu_reset, ...), which would clash with the core's. */
#ifdef VMSTRESS_UNICORN_RUNNER
    char cmd[2200];
    snprintf(cmd, sizeof(cmd), "'%s' '%s' %08x", VMSTRESS_UNICORN_RUNNER, path, sum);
    FILE *p = popen(cmd, "r");
    double ubest = 0;
    unsigned uruns = 0;
    char line[256] = "";
    if (p && fgets(line, sizeof(line), p) && sscanf(line, "unicorn %lf %u", &ubest, &uruns) == 2 &&
        ubest > 0) {
        double umips = (double)insns / ubest / 1e6;
        printf("unicorn (Cortex-M0 model): %.4f s (best of %u): %.1f MIPS; vmstress/unicorn speed ratio %.2f\n",
               ubest, uruns, umips, mips / umips);
    } else {
        printf("unicorn: runner failed: %s", line[0] ? line : "no output\n");
    }
    if (p)
        pclose(p);
#else
    printf("unicorn: not available at build time\n");
#endif
    mach_free(m);
    return 0;
}
#endif

#ifdef BENCH_UNICORN_RUNNER
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

/* Runner: bench_cpu_unicorn FIRMWARE.elf CHECKSUM; prints "unicorn <best s> <runs>". */
int main(int argc, char **argv)
{
    static uint8_t flash[0x40000], file[1u << 20];
    if (argc != 3) {
        printf("usage: bench_cpu_unicorn FIRMWARE.elf CHECKSUM\n");
        return 2;
    }
    uint32_t want = (uint32_t)strtoul(argv[2], NULL, 16);
    FILE *f = fopen(argv[1], "rb");
    size_t len = f ? fread(file, 1, sizeof(file), f) : 0;
    if (f)
        fclose(f);
    VmsMsg why = { "" };
    if (!elf_load_flash(file, len, flash, 0, sizeof(flash), &why)) {
        printf("%s: %s\n", argv[1], why.text[0] ? why.text : "cannot read");
        return 2;
    }
    double best = 1e9, total = 0;
    unsigned runs = 0;
    while (total < MIN_SECONDS || runs < 3) {
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
        uc_err e = uc_emu_start(uc, pc | 1, 0xffffffffu, 0, 0);
        double t = now() - t0;
        uc_close(uc);
        uint32_t sum;
        unsigned rounds;
        if (e != UC_ERR_OK || st.exit != 0 || !parse_checksum(st.out, &sum, &rounds) || sum != want) {
            printf("run failed (%s, exit %d, output '%.*s')\n", uc_strerror(e), st.exit, (int)st.n, st.out);
            return 1;
        }
        best = t < best ? t : best;
        total += t;
        runs++;
    }
    printf("unicorn %.6f %u\n", best, runs);
    return 0;
}
#endif
