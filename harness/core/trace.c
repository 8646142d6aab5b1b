/*
 * trace.c - the ring of recently executed instructions and its disassembly.
 *
 * cpu_exec records runs of instructions (pc, first halfword, cycle and
 * instruction count at each branch; every instruction in SRAM; registers
 * too when asked); nothing is decoded until someone asks, so tracing costs
 * a few stores per taken branch.
 */
#include "cpu_impl.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void cpu_trace_regs(Cpu *cpu, bool on)
{
    cpu->trace_regs = on;
}

/* The halfword at a, if it is in flash or SRAM (0 otherwise). */
static uint32_t read_half(const Cpu *cpu, uint32_t a)
{
    const CpuBus *b = &cpu->bus;
    const uint8_t *p = a + 2 <= b->flash_size ? b->flash + a
                       : a - b->sram_base + 2 <= b->sram_size ? b->sram + (a - b->sram_base)
                                                              : NULL;
    return p ? (uint32_t)(p[0] | p[1] << 8) : 0;
}

/* Is the 16-bit halfword the first half of a 32-bit encoding? */
static bool is_32bit(uint32_t hw1)
{
    return hw1 >= 0xE800;
}

/*
 * The ring holds runs (see CpuTraceSlot in cpu_impl.h); this expands the
 * newest ones back into instructions. Walking back from the newest slot,
 * each run's length is the difference of instruction counts; within a run
 * the instructions follow each other in memory at consecutive cycles, the
 * first one's halfword as recorded and the rest read back from memory
 * (flash, since runs in SRAM are one instruction long).
 */
size_t cpu_trace(const Cpu *cpu, CpuTraceEntry *out, size_t max)
{
    size_t n = cpu->trace_count < CPU_TRACE_LEN ? (size_t)cpu->trace_count : CPU_TRACE_LEN;
    if (n > max)
        n = max;
    size_t left = n;                    /* entries still to fill, from the end */
    uint16_t end = (uint16_t)cpu->trace_count;
    uint32_t k = cpu->trace_pos;
    for (unsigned slots = 0; left > 0 && slots < CPU_TRACE_LEN; slots++) {
        k = (k + CPU_TRACE_LEN - 1) & (CPU_TRACE_LEN - 1);
        const CpuTraceSlot *t = &cpu->trace[k];
        uint32_t len = (uint16_t)(end - t->idx);
        end = t->idx;
        size_t skip = len > left ? len - left : 0;   /* the run's older part is not wanted */
        uint32_t pc = t->pc, hw1 = t->insn;
        for (uint32_t i = 0; i < len; i++) {
            if (i >= skip) {
                CpuTraceEntry *e = &out[left - (len - i)];
                *e = (CpuTraceEntry){ .cycle = t->cycle + i, .pc = pc, .insn = hw1 };
                if (i == 0 && cpu->trace_regs) {
                    memcpy(e->r, cpu->trace_rr[k].r, sizeof e->r);
                    e->xpsr = cpu->trace_rr[k].xpsr;
                }
                if (is_32bit(hw1))
                    e->insn = hw1 << 16 | read_half(cpu, pc + 2);
            }
            pc += is_32bit(hw1) ? 4 : 2;
            hw1 = read_half(cpu, pc);
        }
        left -= len - skip;
    }
    if (left) {                 /* cannot happen (the slots cover trace_count); stay defined */
        memmove(out, out + left, (n - left) * sizeof *out);
        n -= left;
    }
    return n;
}

/* Instruction bytes in memory order (little-endian halfwords). */
static size_t insn_bytes(const CpuTraceEntry *e, uint8_t b[4])
{
    uint32_t hw1 = e->insn > 0xFFFF ? e->insn >> 16 : e->insn;
    b[0] = (uint8_t)hw1;
    b[1] = (uint8_t)(hw1 >> 8);
    if (e->insn <= 0xFFFF)
        return 2;
    b[2] = (uint8_t)e->insn;
    b[3] = (uint8_t)(e->insn >> 8);
    return 4;
}

void cpu_trace_print(const CpuTraceEntry *e, size_t n, bool regs, void *file)
{
    FILE *f = file;
    csh cs;
    bool have_cs = cs_open(CS_ARCH_ARM, CS_MODE_THUMB | CS_MODE_MCLASS, &cs) == CS_ERR_OK;
    for (size_t i = 0; i < n; i++) {
        uint8_t b[4];
        size_t len = insn_bytes(&e[i], b);
        char hex[16];
        if (len == 2)
            snprintf(hex, sizeof hex, "%02x%02x", b[1], b[0]);
        else
            snprintf(hex, sizeof hex, "%02x%02x %02x%02x", b[1], b[0], b[3], b[2]);
        const char *mn = "(undecodable)", *ops = "";
        cs_insn *insn = NULL;
        if (have_cs && cs_disasm(cs, b, len, e[i].pc, 1, &insn) == 1) {
            mn = insn->mnemonic;
            ops = insn->op_str;
        }
        fprintf(f, "%12" PRIu64 "  %08" PRIx32 "  %-9s  %-8s %s\n", e[i].cycle, e[i].pc, hex, mn, ops);
        if (insn)
            cs_free(insn, 1);
        if (regs) {
            fprintf(f, "              ");
            for (unsigned r = 0; r < 16; r++)
                fprintf(f, " r%u=%08" PRIx32 "%s", r, e[i].r[r], r == 7 ? "\n              " : "");
            fprintf(f, " xpsr=%08" PRIx32 "\n", e[i].xpsr);
        }
    }
    if (have_cs)
        cs_close(&cs);
}
