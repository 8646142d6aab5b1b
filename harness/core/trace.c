/*
 * trace.c - the ring of recently executed instructions and its disassembly.
 *
 * cpu_exec records pc, the first halfword and the cycle for every
 * instruction (registers too when asked); nothing is decoded until someone
 * prints, so tracing costs a few stores per instruction.
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

size_t cpu_trace(const Cpu *cpu, CpuTraceEntry *out, size_t max)
{
    size_t n = cpu->trace_count < CPU_TRACE_LEN ? (size_t)cpu->trace_count : CPU_TRACE_LEN;
    if (n > max)
        n = max;
    /* Oldest first: the last n entries before trace_pos. */
    uint32_t first = (cpu->trace_pos + CPU_TRACE_LEN - (uint32_t)n) & (CPU_TRACE_LEN - 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (first + i) & (CPU_TRACE_LEN - 1);
        out[i] = (CpuTraceEntry){ .cycle = cpu->trace[k].cycle, .pc = cpu->trace[k].pc,
                                  .insn = cpu->trace[k].insn };
        memcpy(out[i].r, cpu->trace_rr[k].r, sizeof out[i].r);
        out[i].xpsr = cpu->trace_rr[k].xpsr;
        /* The ring keeps the first halfword; a 32-bit encoding's second is
         * read back now (code in SRAM may have changed since: rare, and
         * only the listing would show it). */
        if (out[i].insn >= 0xE800 && out[i].insn <= 0xFFFF)
            out[i].insn = out[i].insn << 16 | read_half(cpu, out[i].pc + 2);
        if (!cpu->trace_regs) {
            memset(out[i].r, 0, sizeof out[i].r);
            out[i].xpsr = 0;
        }
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
