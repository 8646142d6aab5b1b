/*
 * bench_cpu_mips.c - instructions per second of the interpreter on a small
 * compute kernel, and the same kernel compiled natively, for the slowdown
 * figure in docs/cpu.md. Host time is read here only to report speed; it
 * never reaches guest state. Not a test: run by hand.
 */
#include <stdio.h>
#include <time.h>

#include "tb.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The kernel, natively: the same operations in the same dependency order. */
static __attribute__((noinline)) uint32_t kernel_native(uint32_t n, uint32_t x, uint32_t y)
{
    for (uint32_t i = n; i != 0; i--) {
        x = x * 0x45u;          /* r1 *= r6 */
        x += y;                 /* r1 += r2 */
        y ^= x;                 /* r2 ^= r1 */
        y = (y >> 3) | (y << 29);  /* ROR */
        __asm__ volatile("" : "+r"(x), "+r"(y));
    }
    return x ^ y;
}

int main(int argc, char **argv)
{
    TB *tb = tb_new();
    /* r0 = counter (from the literal at 0x10C), r1 = x, r2 = y, r6 = 0x45, r7 = 3.
     * The loop at 0x110 is 6 instructions per iteration. */
    const uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 20000000u;
    CODE(tb, TB_RESET, T_MOVS_I(6, 0x45), T_MOVS_I(7, 3), T_MOVS_I(1, 1), T_MOVS_I(2, 2),
         T_LDR_LIT(0, 0), T_B(1));
    tb_w32(tb, 0x10C, iters);
    CODE(tb, 0x110, T_DP(0xD, 1, 6), T_ADDS_R(1, 1, 2), T_DP(0x1, 2, 1), T_DP(0x7, 2, 7),
         T_SUBS_I8(0, 1), T_BCOND(1, (uint8_t)-7), T_B(-2));
    uint64_t insns = 6 + 6ull * iters;
    double t0 = now_s();
    cpu_exec(tb->cpu, insns);
    double t1 = now_s();
    uint32_t x = cpu_reg(tb->cpu, 1), y = cpu_reg(tb->cpu, 2);
    double t2 = now_s();
    uint32_t native = kernel_native(iters, 1, 2);
    double t3 = now_s();
    printf("emulated: %.1f MIPS (%llu instructions in %.3f s), r0=%u\n", insns / (t1 - t0) / 1e6,
           (unsigned long long)insns, t1 - t0, cpu_reg(tb->cpu, 0));
    printf("native:   %.3f s for the same %u iterations (result %s)\n", t3 - t2, iters,
           (x ^ y) == native ? "matches" : "DIFFERS");
    printf("slowdown: %.1fx\n", (t1 - t0) / (t3 - t2));
    tb_free(tb);
    return (x ^ y) == native ? 0 : 1;
}
