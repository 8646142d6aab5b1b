/*
 * cpu.c - the ARMv6-M Thumb interpreter, exception entry/return, sleep and
 * the execution loop. See cpu.h; docs/cpu.md has the model and its limits.
 *
 * Hot path: one switch on the top five bits of the halfword, direct loads
 * from flash/SRAM through the CpuBus pointers, flags as four bools. Every
 * decision about exceptions is taken at an instruction boundary, and only
 * when `check` says something changed (a pend, an enable, PRIMASK, an
 * exception return), so the common instruction pays one predictable branch.
 *
 * Faults are guest behaviour: an instruction that faults returns early
 * through fault(), which enters HardFault (or locks up when already in it).
 */
#include "cpu_impl.h"

#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the core loads guest memory with host loads: little-endian hosts only"
#endif

#define EXC_RETURN_HANDLER 0xFFFFFFF1u
#define EXC_RETURN_THREAD_MSP 0xFFFFFFF9u
#define EXC_RETURN_THREAD_PSP 0xFFFFFFFDu
#define LOCKUP_PC 0xFFFFFFFEu

/* ------------------------------------------------------------ memory */

static inline uint32_t ld(const uint8_t *p, unsigned size)
{
    if (size == 4) { uint32_t v; memcpy(&v, p, 4); return v; }
    if (size == 2) { uint16_t v; memcpy(&v, p, 2); return v; }
    return *p;
}

static inline void st(uint8_t *p, unsigned size, uint32_t v)
{
    if (size == 4) { memcpy(p, &v, 4); return; }
    if (size == 2) { uint16_t h = (uint16_t)v; memcpy(p, &h, 2); return; }
    *p = (uint8_t)v;
}

/* False is a fault: unaligned, unmapped, or refused by the bus. */
static inline bool mem_read(Cpu *cpu, uint32_t a, unsigned size, uint32_t *v)
{
    const CpuBus *b = &cpu->bus;
    /* Aligned, and region sizes are multiples of 4 (cpu_new): one compare each. */
    if (a & (size - 1))
        return false;
    if (a < b->flash_size) {
        *v = ld(b->flash + a, size);
        return true;
    }
    uint32_t o = a - b->sram_base;
    if (o < b->sram_size) {
        *v = ld(b->sram + o, size);
        return true;
    }
    /* A device access may arm a timer or raise an IRQ: leave the fast loop. */
    cpu->check = true;
    if (a >= 0xE0000000u)
        return a >= SCS_BASE && a < SCS_END && scs_read(cpu, a, size, v);
    return b->read && b->read(b->opaque, a, size, v);
}

static inline bool mem_write(Cpu *cpu, uint32_t a, unsigned size, uint32_t v)
{
    const CpuBus *b = &cpu->bus;
    if (a & (size - 1))
        return false;
    uint32_t o = a - b->sram_base;
    if (o < b->sram_size) {
        st(b->sram + o, size, v);
        return true;
    }
    if (a < b->flash_size)
        return false;                   /* flash is read-only to the guest */
    cpu->check = true;
    if (a >= 0xE0000000u)
        return a >= SCS_BASE && a < SCS_END && scs_write(cpu, a, size, v);
    return b->write && b->write(b->opaque, a, size, v);
}

/* Instruction fetch: only flash and SRAM are executable. pc is always even. */
static inline bool fetch16(const Cpu *cpu, uint32_t pc, uint32_t *v)
{
    const CpuBus *b = &cpu->bus;
    if (pc < b->flash_size) {
        *v = ld(b->flash + pc, 2);
        return true;
    }
    uint32_t o = pc - b->sram_base;
    if (o < b->sram_size) {
        *v = ld(b->sram + o, 2);
        return true;
    }
    return false;
}

/* ------------------------------------------------------- priorities */

/* Execution priority: the most urgent active exception, boosted to 0 by PRIMASK. */
static int exec_prio(const Cpu *cpu, bool with_primask)
{
    int p = 4;
    for (uint64_t a = cpu->nvic.active; a; a &= a - 1) {
        int q = cpu_exc_prio(cpu, (unsigned)__builtin_ctzll(a));
        if (q < p)
            p = q;
    }
    if (with_primask && (cpu->st.primask & 1) && p > 0)
        p = 0;
    return p;
}

/* --------------------------------------------------------- SP banks */

static inline void swap_sp(CpuState *s)
{
    uint32_t t = s->r[13];
    s->r[13] = s->sp_other;
    s->sp_other = t;
}

/* Is PSP the SP in use? Only in Thread mode with SPSEL set. */
static inline bool psp_in_use(const CpuState *s)
{
    return s->ipsr == 0 && (s->control & 2);
}

static void set_msp(CpuState *s, uint32_t v)
{
    if (psp_in_use(s)) s->sp_other = v & ~3u; else s->r[13] = v & ~3u;
}

static void set_psp(CpuState *s, uint32_t v)
{
    if (psp_in_use(s)) s->r[13] = v & ~3u; else s->sp_other = v & ~3u;
}

static void set_spsel(CpuState *s, bool psp)
{
    if (psp == !!(s->control & 2))
        return;
    s->control = psp ? 2 : 0;
    swap_sp(s);
}

/* ------------------------------------------------------- exceptions */

static void lockup(Cpu *cpu)
{
    cpu->check = true;      /* leave the fast loop */
    cpu->st.run = CPU_LOCKUP;
    cpu->st.sleep = CPU_SLEEP_NONE;
    cpu->st.r[15] = LOCKUP_PC;
}

static void enter_exception(Cpu *cpu, unsigned n, uint32_t ret_addr);

/* A synchronous fault (or an exception that must escalate): HardFault,
 * or lockup when the execution priority is already HardFault's or higher. */
static void fault(Cpu *cpu, uint32_t ret_addr)
{
    if (exec_prio(cpu, false) <= -1) {
        lockup(cpu);
        return;
    }
    enter_exception(cpu, CPU_EXC_HARDFAULT, ret_addr);
}

static void enter_exception(Cpu *cpu, unsigned n, uint32_t ret_addr)
{
    CpuState *s = &cpu->st;
    uint32_t sp = s->r[13];
    uint32_t align = (sp >> 2) & 1;
    uint32_t frame = (sp - 0x20) & ~4u;
    uint32_t words[8] = { s->r[0], s->r[1], s->r[2], s->r[3], s->r[12], s->r[14],
                          ret_addr & ~1u, (cpu_xpsr(s) & ~(1u << 9)) | align << 9 };
    bool ok = true;
    for (unsigned i = 0; i < 8 && ok; i++)
        ok = mem_write(cpu, frame + 4 * i, 4, words[i]);
    uint32_t vec = 0;
    if (ok)
        ok = mem_read(cpu, cpu->nvic.vtor + 4 * n, 4, &vec);
    if (!ok) {
        /* A fault while stacking or fetching the vector escalates. */
        if (n == CPU_EXC_HARDFAULT || exec_prio(cpu, false) <= -1)
            lockup(cpu);
        else
            enter_exception(cpu, CPU_EXC_HARDFAULT, ret_addr);
        return;
    }
    s->r[13] = frame;
    s->r[14] = s->ipsr ? EXC_RETURN_HANDLER
                       : (s->control & 2) ? EXC_RETURN_THREAD_PSP : EXC_RETURN_THREAD_MSP;
    if (s->ipsr == 0 && (s->control & 2)) {
        s->control = 0;
        swap_sp(s);
    }
    s->ipsr = n;
    s->r[15] = vec & ~1u;
    s->event = true;
    cpu->nvic.pending &= ~(1ull << n);
    cpu->nvic.active |= 1ull << n;
    cpu->check = true;
    if (!(vec & 1))
        fault(cpu, vec & ~1u);          /* vector without the Thumb bit: INVSTATE */
}

static int active_count(const Cpu *cpu)
{
    return __builtin_popcountll(cpu->nvic.active);
}

/* BX/POP loading an EXC_RETURN value in Handler mode. cur_pc is the address
 * of the returning instruction (for a fault). */
static void exception_return(Cpu *cpu, uint32_t exc_return, uint32_t cur_pc)
{
    CpuState *s = &cpu->st;
    NvicState *nv = &cpu->nvic;
    unsigned ret_exc = s->ipsr;
    bool to_thread, use_psp;
    switch (exc_return) {
    case EXC_RETURN_HANDLER:    to_thread = false; use_psp = false; break;
    case EXC_RETURN_THREAD_MSP: to_thread = true; use_psp = false; break;
    case EXC_RETURN_THREAD_PSP: to_thread = true; use_psp = true; break;
    default: fault(cpu, cur_pc); return;
    }
    /* Nesting must match: to Thread only from the last active exception. */
    if (!(nv->active >> ret_exc & 1) || (to_thread ? active_count(cpu) != 1 : active_count(cpu) < 2)) {
        fault(cpu, cur_pc);
        return;
    }
    uint32_t frame = use_psp ? s->sp_other : s->r[13];
    uint32_t w[8];
    for (unsigned i = 0; i < 8; i++)
        if (!mem_read(cpu, frame + 4 * i, 4, &w[i])) {
            fault(cpu, cur_pc);
            return;
        }
    uint32_t psr = w[7];
    unsigned new_ipsr = psr & 0x3f;
    if (to_thread ? new_ipsr != 0 : (new_ipsr == 0 || new_ipsr == ret_exc || !(nv->active >> new_ipsr & 1))) {
        fault(cpu, cur_pc);
        return;
    }
    nv->active &= ~(1ull << ret_exc);
    /* A level-sensitive line still high pends its interrupt again. */
    if (ret_exc >= CPU_EXC_IRQ0 && (nv->level >> (ret_exc - CPU_EXC_IRQ0) & 1))
        nv->pending |= 1ull << ret_exc;
    uint32_t new_sp = (frame + 0x20) | ((psr >> 9 & 1) << 2);
    if (use_psp) s->sp_other = new_sp; else s->r[13] = new_sp;
    s->ipsr = new_ipsr;
    if (to_thread && use_psp) {
        s->control = 2;
        swap_sp(s);
    }
    s->r[0] = w[0]; s->r[1] = w[1]; s->r[2] = w[2]; s->r[3] = w[3];
    s->r[12] = w[4]; s->r[14] = w[5];
    s->r[15] = w[6] & ~1u;
    s->n = psr >> 31 & 1; s->z = psr >> 30 & 1; s->c = psr >> 29 & 1; s->v = psr >> 28 & 1;
    s->event = true;
    cpu->check = true;
    if (!(psr >> 24 & 1)) {             /* stacked T bit clear: INVSTATE on the next instruction */
        fault(cpu, s->r[15]);
        return;
    }
    if (to_thread && (nv->scr & 2)) {   /* SLEEPONEXIT */
        s->run = CPU_SLEEPING;
        s->sleep = CPU_SLEEP_WFI;
    }
}

/* Take the best pending exception if it preempts; wake a sleeping core. */
static void check_exceptions(Cpu *cpu)
{
    CpuState *s = &cpu->st;
    int prio;
    int n = cpu_pending_best(cpu, &prio);
    if (s->run == CPU_SLEEPING) {
        bool wake = n >= 0 && prio < exec_prio(cpu, false);
        if (s->sleep == CPU_SLEEP_WFE && s->event) {
            s->event = false;
            wake = true;
        }
        if (!wake)
            return;
        s->run = CPU_RUNNING;
        s->sleep = CPU_SLEEP_NONE;
    }
    if (n >= 0 && prio < exec_prio(cpu, true))
        enter_exception(cpu, (unsigned)n, s->r[15]);
}

/* ----------------------------------------------------------- ALU */

static inline uint32_t add_c(CpuState *s, uint32_t x, uint32_t y, uint32_t carry, bool setflags)
{
    uint64_t u = (uint64_t)x + y + carry;
    uint32_t r = (uint32_t)u;
    if (setflags) {
        s->n = r >> 31;
        s->z = r == 0;
        s->c = u >> 32;
        s->v = ((x ^ r) & (y ^ r)) >> 31;
    }
    return r;
}

static inline void set_nz(CpuState *s, uint32_t r)
{
    s->n = r >> 31;
    s->z = r == 0;
}

enum { SH_LSL, SH_LSR, SH_ASR, SH_ROR };

/* Shift by a register amount (bottom byte), with the architectural carry. */
static uint32_t shift_reg(CpuState *s, unsigned type, uint32_t x, uint32_t amount)
{
    uint32_t n = amount & 0xff;
    if (n == 0)
        return x;
    switch (type) {
    case SH_LSL:
        if (n < 32) { s->c = x >> (32 - n) & 1; return x << n; }
        s->c = n == 32 ? x & 1 : 0;
        return 0;
    case SH_LSR:
        if (n < 32) { s->c = x >> (n - 1) & 1; return x >> n; }
        s->c = n == 32 ? x >> 31 : 0;
        return 0;
    case SH_ASR:
        if (n < 32) { s->c = x >> (n - 1) & 1; return (uint32_t)((int32_t)x >> n); }
        s->c = x >> 31;
        return (uint32_t)((int32_t)x >> 31);
    default: {
        unsigned r = n & 31;
        uint32_t v = r ? (x >> r | x << (32 - r)) : x;
        s->c = v >> 31;
        return v;
    }
    }
}

static inline bool cond_pass(const CpuState *s, unsigned cond)
{
    bool r;
    switch (cond >> 1) {
    case 0: r = s->z; break;
    case 1: r = s->c; break;
    case 2: r = s->n; break;
    case 3: r = s->v; break;
    case 4: r = s->c && !s->z; break;
    case 5: r = s->n == s->v; break;
    case 6: r = !s->z && s->n == s->v; break;
    default: r = true; break;
    }
    return (cond & 1) && cond != 15 ? !r : r;
}

/* --------------------------------------------------------- branches */

/* BX / POP {pc}: interworking branch, exception return in Handler mode. */
static void bx_write_pc(Cpu *cpu, uint32_t target, uint32_t cur_pc)
{
    CpuState *s = &cpu->st;
    if (s->ipsr && (target >> 28) == 0xF) {
        exception_return(cpu, target, cur_pc);
        return;
    }
    if (!(target & 1)) {
        fault(cpu, target & ~1u);       /* INVSTATE: T bit would be clear */
        return;
    }
    s->r[15] = target & ~1u;
}

/* ----------------------------------------------- system instructions */

static uint32_t read_special(Cpu *cpu, unsigned sysm)
{
    CpuState *s = &cpu->st;
    if (sysm < 8) {
        uint32_t v = 0;
        if (!(sysm & 4))
            v |= cpu_xpsr(s) & 0xF0000000u;
        if (sysm & 1)
            v |= s->ipsr;
        return v;
    }
    switch (sysm) {
    case 8: return psp_in_use(s) ? s->sp_other : s->r[13];
    case 9: return psp_in_use(s) ? s->r[13] : s->sp_other;
    case 16: return s->primask & 1;
    case 20: return s->control & 2;
    default: return 0;
    }
}

static void write_special(Cpu *cpu, unsigned sysm, uint32_t v)
{
    CpuState *s = &cpu->st;
    if (sysm < 8) {
        if (!(sysm & 4)) {
            s->n = v >> 31 & 1; s->z = v >> 30 & 1; s->c = v >> 29 & 1; s->v = v >> 28 & 1;
        }
        return;
    }
    switch (sysm) {
    case 8: set_msp(s, v); break;
    case 9: set_psp(s, v); break;
    case 16: s->primask = v & 1; cpu->check = true; break;
    case 20:
        if (s->ipsr == 0)
            set_spsel(s, v & 2);
        break;
    default: break;
    }
}

/* ------------------------------------------------------ one instruction */

/* Multiple-register transfers (PUSH, POP, LDM, STM): one word per set bit of
 * `list`, lowest register at the lowest address. False at the first bus
 * fault; words already stored stay stored, as on hardware. */
static bool load_words(Cpu *cpu, uint32_t a, uint32_t list, uint32_t *w)
{
    for (unsigned i = 0; i < 16; i++)
        if (list >> i & 1) {
            if (!mem_read(cpu, a, 4, &w[i]))
                return false;
            a += 4;
        }
    return true;
}

static bool store_words(Cpu *cpu, uint32_t a, uint32_t list, const uint32_t *r)
{
    for (unsigned i = 0; i < 16; i++)
        if (list >> i & 1) {
            if (!mem_write(cpu, a, 4, r[i]))
                return false;
            a += 4;
        }
    return true;
}

#define R(n) (s->r[(n)])
#define FAULT() do { fault(cpu, pc); return; } while (0)

static void op_sleep(Cpu *cpu, unsigned kind)
{
    CpuState *s = &cpu->st;
    if (kind == CPU_SLEEP_WFE && s->event) {
        s->event = false;
        return;
    }
    s->run = CPU_SLEEPING;
    s->sleep = (uint8_t)kind;
    cpu->check = true;      /* something may already be pending */
}

/* 32-bit encodings: BL, MSR, MRS, DSB/DMB/ISB, UDF.W. */
static void exec32(Cpu *cpu, uint32_t pc, uint32_t hw1, uint32_t hw2)
{
    CpuState *s = &cpu->st;
    uint32_t next = pc + 4;
    if ((hw1 & 0xF800) == 0xF000 && (hw2 & 0xD000) == 0xD000) {         /* BL */
        uint32_t sbit = hw1 >> 10 & 1;
        uint32_t i1 = !((hw2 >> 13 & 1) ^ sbit), i2 = !((hw2 >> 11 & 1) ^ sbit);
        uint32_t imm = sbit << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3ff) << 12 | (hw2 & 0x7ff) << 1;
        imm = (uint32_t)((int32_t)(imm << 7) >> 7);
        R(14) = next | 1;
        R(15) = next + imm;
        return;
    }
    if ((hw2 & 0xD000) == 0x8000 && (hw1 & 0xF800) == 0xF000) {
        if ((hw1 & 0xFFE0) == 0xF380 && (hw2 & 0xFF00) == 0x8800) {       /* MSR */
            unsigned rn = hw1 & 15;
            if (rn == 13 || rn == 15) FAULT();
            write_special(cpu, hw2 & 0xff, R(rn));
            R(15) = next;
            return;
        }
        if (hw1 == 0xF3EF && (hw2 & 0xF000) == 0x8000) {                   /* MRS */
            unsigned rd = hw2 >> 8 & 15;
            if (rd == 13 || rd == 15) FAULT();
            R(rd) = read_special(cpu, hw2 & 0xff);
            R(15) = next;
            return;
        }
        if (hw1 == 0xF3BF && (hw2 & 0xFF00) == 0x8F00) {
            unsigned op = hw2 >> 4 & 15;
            if (op == 4 || op == 5 || op == 6) {                           /* DSB, DMB, ISB */
                R(15) = next;
                return;
            }
        }
    }
    FAULT();                            /* UDF.W and everything unallocated */
}

static void exec16(Cpu *cpu, uint32_t pc, uint32_t in)
{
    CpuState *s = &cpu->st;
    uint32_t next = pc + 2;
    unsigned rd = in & 7, rn = in >> 3 & 7, rm;
    uint32_t a, v;

    switch (in >> 11) {
    case 0x00: {                                            /* LSLS imm / MOVS reg */
        unsigned sh = in >> 6 & 31;
        v = R(rn);
        if (sh) { s->c = v >> (32 - sh) & 1; v <<= sh; }
        R(rd) = v; set_nz(s, v);
        break;
    }
    case 0x01: {                                            /* LSRS imm */
        unsigned sh = in >> 6 & 31;
        v = R(rn);
        if (sh == 0) { s->c = v >> 31; v = 0; } else { s->c = v >> (sh - 1) & 1; v >>= sh; }
        R(rd) = v; set_nz(s, v);
        break;
    }
    case 0x02: {                                            /* ASRS imm */
        unsigned sh = in >> 6 & 31;
        v = R(rn);
        if (sh == 0) { s->c = v >> 31; v = (uint32_t)((int32_t)v >> 31); }
        else { s->c = v >> (sh - 1) & 1; v = (uint32_t)((int32_t)v >> sh); }
        R(rd) = v; set_nz(s, v);
        break;
    }
    case 0x03: {                                            /* ADDS/SUBS reg/imm3 */
        uint32_t op2 = (in & 0x400) ? (in >> 6 & 7) : R(in >> 6 & 7);
        if (in & 0x200) R(rd) = add_c(s, R(rn), ~op2, 1, true);
        else R(rd) = add_c(s, R(rn), op2, 0, true);
        break;
    }
    case 0x04: rd = in >> 8 & 7; R(rd) = in & 0xff; set_nz(s, R(rd)); break;          /* MOVS */
    case 0x05: add_c(s, R(in >> 8 & 7), ~(in & 0xffu), 1, true); break;              /* CMP */
    case 0x06: rd = in >> 8 & 7; R(rd) = add_c(s, R(rd), in & 0xff, 0, true); break; /* ADDS */
    case 0x07: rd = in >> 8 & 7; R(rd) = add_c(s, R(rd), ~(in & 0xffu), 1, true); break;
    case 0x08:
        if (!(in & 0x400)) {                                /* data processing */
            uint32_t x = R(rd), y = R(rn);
            switch (in >> 6 & 15) {
            case 0x0: v = x & y; R(rd) = v; set_nz(s, v); break;
            case 0x1: v = x ^ y; R(rd) = v; set_nz(s, v); break;
            case 0x2: v = shift_reg(s, SH_LSL, x, y); R(rd) = v; set_nz(s, v); break;
            case 0x3: v = shift_reg(s, SH_LSR, x, y); R(rd) = v; set_nz(s, v); break;
            case 0x4: v = shift_reg(s, SH_ASR, x, y); R(rd) = v; set_nz(s, v); break;
            case 0x5: R(rd) = add_c(s, x, y, s->c, true); break;
            case 0x6: R(rd) = add_c(s, x, ~y, s->c, true); break;
            case 0x7: v = shift_reg(s, SH_ROR, x, y); R(rd) = v; set_nz(s, v); break;
            case 0x8: set_nz(s, x & y); break;
            case 0x9: R(rd) = add_c(s, ~y, 0, 1, true); break;             /* RSBS #0 */
            case 0xA: add_c(s, x, ~y, 1, true); break;
            case 0xB: add_c(s, x, y, 0, true); break;
            case 0xC: v = x | y; R(rd) = v; set_nz(s, v); break;
            case 0xD: v = x * y; R(rd) = v; set_nz(s, v); break;
            case 0xE: v = x & ~y; R(rd) = v; set_nz(s, v); break;
            default: v = ~y; R(rd) = v; set_nz(s, v); break;
            }
            break;
        }
        rd = (in >> 4 & 8) | (in & 7);
        rm = in >> 3 & 15;
        {
            uint32_t y = rm == 15 ? pc + 4 : R(rm);
            uint32_t x = rd == 15 ? pc + 4 : R(rd);
            switch (in >> 8 & 3) {
            case 0:                                         /* ADD (high) */
                if (rd == 15 && rm == 15) FAULT();
                v = x + y;
                if (rd == 15) { R(15) = v & ~1u; return; }
                if (rd == 13) v &= ~3u;
                R(rd) = v;
                break;
            case 1:                                         /* CMP (high) */
                if (rd == 15 || rm == 15) FAULT();
                add_c(s, x, ~y, 1, true);
                break;
            case 2:                                         /* MOV (high) */
                if (rd == 15) { R(15) = y & ~1u; return; }
                R(rd) = rd == 13 ? y & ~3u : y;
                break;
            default:                                        /* BX / BLX */
                if (in & 7) FAULT();
                if (in & 0x80) {
                    if (rm == 15) FAULT();
                    if (!(y & 1)) FAULT();
                    R(14) = next | 1;
                    R(15) = y & ~1u;
                    return;
                }
                bx_write_pc(cpu, y, pc);
                return;
            }
        }
        break;
    case 0x09:                                              /* LDR literal */
        if (!mem_read(cpu, ((pc + 4) & ~3u) + (in & 0xff) * 4, 4, &v)) FAULT();
        R(in >> 8 & 7) = v;
        break;
    case 0x0A: case 0x0B: {                                 /* load/store register offset */
        static const uint8_t size[8] = { 4, 2, 1, 1, 4, 2, 1, 2 };
        unsigned op = in >> 9 & 7;
        a = R(rn) + R(in >> 6 & 7);
        if (op == 0 || op == 1 || op == 2) {
            if (!mem_write(cpu, a, size[op], R(rd))) FAULT();
        } else {
            if (!mem_read(cpu, a, size[op], &v)) FAULT();
            if (op == 3) v = (uint32_t)(int8_t)v;
            else if (op == 7) v = (uint32_t)(int16_t)v;
            R(rd) = v;
        }
        break;
    }
    case 0x0C: case 0x0D: case 0x0E: case 0x0F: case 0x10: case 0x11: {   /* imm5 offsets */
        unsigned size = (in >> 11) >= 0x10 ? 2 : (in & 0x1000) ? 1 : 4;
        a = R(rn) + (in >> 6 & 31) * size;
        if (in & 0x800) {
            if (!mem_read(cpu, a, size, &v)) FAULT();
            R(rd) = v;
        } else if (!mem_write(cpu, a, size, R(rd))) FAULT();
        break;
    }
    case 0x12: case 0x13:                                   /* STR/LDR SP-relative */
        rd = in >> 8 & 7;
        a = R(13) + (in & 0xff) * 4;
        if (in & 0x800) {
            if (!mem_read(cpu, a, 4, &v)) FAULT();
            R(rd) = v;
        } else if (!mem_write(cpu, a, 4, R(rd))) FAULT();
        break;
    case 0x14: R(in >> 8 & 7) = ((pc + 4) & ~3u) + (in & 0xff) * 4; break;   /* ADR */
    case 0x15: R(in >> 8 & 7) = R(13) + (in & 0xff) * 4; break;             /* ADD Rd, SP, # */
    case 0x16: case 0x17:                                   /* miscellaneous */
        switch (in >> 8 & 15) {
        case 0x0:                                           /* ADD/SUB SP, #imm7 */
            if (in & 0x80) R(13) -= (in & 0x7f) * 4; else R(13) += (in & 0x7f) * 4;
            break;
        case 0x2: {                                         /* SXTH SXTB UXTH UXTB */
            v = R(rn);
            switch (in >> 6 & 3) {
            case 0: v = (uint32_t)(int16_t)v; break;
            case 1: v = (uint32_t)(int8_t)v; break;
            case 2: v &= 0xffff; break;
            default: v &= 0xff; break;
            }
            R(rd) = v;
            break;
        }
        case 0x4: case 0x5: {                               /* PUSH */
            uint32_t list = (in & 0xff) | (in & 0x100) << 6;
            if (!list) FAULT();
            a = R(13) - 4 * (uint32_t)__builtin_popcount(list);
            if (!store_words(cpu, a, list, s->r)) FAULT();
            R(13) = a;
            break;
        }
        case 0x6:                                           /* CPSIE/CPSID i */
            if ((in & 0xffef) != 0xb662) FAULT();
            s->primask = in >> 4 & 1;
            cpu->check = true;
            break;
        case 0xA: {                                         /* REV REV16 REVSH */
            v = R(rn);
            switch (in >> 6 & 3) {
            case 0: v = __builtin_bswap32(v); break;
            case 1: v = (v >> 8 & 0x00ff00ffu) | (v << 8 & 0xff00ff00u); break;
            case 3: v = (uint32_t)(int16_t)(uint16_t)((v >> 8 & 0xff) | (v << 8 & 0xff00)); break;
            default: FAULT();
            }
            R(rd) = v;
            break;
        }
        case 0xC: case 0xD: {                               /* POP */
            uint32_t list = (in & 0xff) | (in & 0x100) << 7;
            uint32_t w[16];
            if (!list) FAULT();
            if (!load_words(cpu, R(13), list, w)) FAULT();
            for (unsigned i = 0; i < 8; i++)
                if (list >> i & 1)
                    R(i) = w[i];
            R(13) += 4 * (uint32_t)__builtin_popcount(list);
            if (list & 0x8000) {
                bx_write_pc(cpu, w[15], pc);
                return;
            }
            break;
        }
        case 0xE: {                                         /* BKPT */
            if ((in & 0xff) == 0xAB && cpu->bus.semihost) {
                R(15) = pc;
                if (cpu->bus.semihost(cpu->bus.opaque, cpu)) {
                    if (s->run == CPU_RUNNING)
                        R(15) = next;
                    return;
                }
            }
            FAULT();            /* no debugger: BKPT escalates to HardFault */
        }
        case 0xF:                                           /* hints */
            if (in & 15) FAULT();                           /* IT: not in ARMv6-M */
            switch (in >> 4 & 15) {
            case 2: R(15) = next; op_sleep(cpu, CPU_SLEEP_WFE); return;
            case 3: R(15) = next; op_sleep(cpu, CPU_SLEEP_WFI); return;
            case 4: s->event = true; break;                 /* SEV (single core: our own register) */
            default: break;                                 /* NOP, YIELD, unallocated hints */
            }
            break;
        default:
            FAULT();                                        /* CBZ/CBNZ etc. are not ARMv6-M */
        }
        break;
    case 0x18: case 0x19: {                                 /* STM / LDM */
        unsigned base = in >> 8 & 7;
        uint32_t list = in & 0xff;
        if (!list) FAULT();
        a = R(base);
        uint32_t end = a + 4 * (uint32_t)__builtin_popcount(list);
        if (in & 0x800) {
            uint32_t w[8];
            if (!load_words(cpu, a, list, w)) FAULT();
            for (unsigned i = 0; i < 8; i++)
                if (list >> i & 1)
                    R(i) = w[i];
            if (!(list >> base & 1))
                R(base) = end;
        } else {
            if (!store_words(cpu, a, list, s->r)) FAULT();
            R(base) = end;
        }
        break;
    }
    case 0x1A: case 0x1B: {                                 /* B<cond>, UDF, SVC */
        unsigned cond = in >> 8 & 15;
        if (cond == 14) FAULT();                            /* UDF */
        if (cond == 15) {                                   /* SVC */
            R(15) = next;
            if (cpu_exc_prio(cpu, CPU_EXC_SVCALL) < exec_prio(cpu, true))
                enter_exception(cpu, CPU_EXC_SVCALL, next);
            else
                fault(cpu, next);                           /* cannot be taken: escalate */
            return;
        }
        if (cond_pass(s, cond)) {
            R(15) = pc + 4 + (uint32_t)((int32_t)(int8_t)(in & 0xff) * 2);
            return;
        }
        break;
    }
    case 0x1C:                                              /* B */
        R(15) = pc + 4 + (uint32_t)(((int32_t)(in << 21)) >> 20);
        return;
    default: {                                              /* 32-bit */
        uint32_t hw2;
        if (!fetch16(cpu, pc + 2, &hw2)) FAULT();
        exec32(cpu, pc, in, hw2);
        return;
    }
    }
    R(15) = next;
}

/* Record, fetch and execute the instruction at r15. */
static inline void step(Cpu *cpu, uint64_t cycle, bool regs)
{
    CpuState *s = &cpu->st;
    uint32_t pc = s->r[15], in;
    CpuTraceEntry *e = &cpu->trace[cpu->trace_pos];
    cpu->trace_pos = (cpu->trace_pos + 1) & (CPU_TRACE_LEN - 1);
    cpu->trace_count++;
    e->cycle = cycle;
    e->pc = pc;
    if (regs) {
        memcpy(e->r, s->r, sizeof e->r);
        e->xpsr = cpu_xpsr(s);
    }
    /* Only the first halfword: cpu_trace reads the second one of a 32-bit
     * encoding back from memory, off the hot path. */
    if (!fetch16(cpu, pc, &in)) {
        e->insn = 0;
        fault(cpu, pc);
        return;
    }
    e->insn = in;
    exec16(cpu, pc, in);
}

_Static_assert((CPU_TRACE_LEN & (CPU_TRACE_LEN - 1)) == 0, "trace ring must be a power of two");

/* AIRCR.SYSRESETREQ, at an instruction boundary. The callback may reset the core. */
static void do_sysreset(Cpu *cpu)
{
    cpu->sysreset_req = false;
    if (cpu->bus.sysreset)
        cpu->bus.sysreset(cpu->bus.opaque);
}

uint64_t cpu_exec(Cpu *cpu, uint64_t cycles)
{
    VClock *clk = cpu->bus.clock;
    CpuState *s = &cpu->st;
    uint64_t start = clk->cycles;
    uint64_t end = cycles > UINT64_MAX - start ? UINT64_MAX : start + cycles;
    cpu->stop = false;
    cpu->check = true;
    while (clk->cycles < end && !cpu->stop) {
        if (clk->cycles >= clk->next_cycle)
            vclock_run_due(clk);
        if (cpu->check) {
            cpu->check = false;
            if (cpu->sysreset_req) {
                do_sysreset(cpu);
                cpu->check = true;
                continue;       /* the machine may have stopped or reset the core */
            }
            if (s->run == CPU_RUNNING || s->run == CPU_SLEEPING)
                check_exceptions(cpu);
        }
        if (s->run != CPU_RUNNING) {
            if (s->run != CPU_SLEEPING)
                break;
            /* Nothing can wake the core before the next timer. Time only
             * moves forward, even if a timer is somehow overdue. */
            uint64_t wake = clk->next_cycle < end ? clk->next_cycle : end;
            if (wake <= clk->cycles) {
                if (clk->cycles >= end)
                    break;
                wake = clk->cycles + 1;
            }
            clk->cycles = wake;
            continue;
        }
        /* Fast path: instructions back to back until a timer is due, the
         * budget ends, or an instruction asks for attention (check/stop).
         * The deadline can only move through a device or SCS access, and
         * those set check, so lim stays valid inside the loop. */
        uint64_t now = clk->cycles;
        uint64_t lim = end < clk->next_cycle ? end : clk->next_cycle;
        do {
            step(cpu, now, cpu->trace_regs);
            clk->cycles = ++now;
        } while (now < lim && !(cpu->check | cpu->stop));
    }
    if (cpu->sysreset_req)
        do_sysreset(cpu);
    return clk->cycles - start;
}

void cpu_stop(Cpu *cpu)
{
    cpu->stop = true;
}

/* ---------------------------------------------------------- lifecycle */

Cpu *cpu_new(const CpuBus *bus)
{
    Cpu *cpu = calloc(1, sizeof *cpu);
    if (!cpu)
        return NULL;
    cpu->bus = *bus;
    /* Whole words only, so an aligned access inside a region never runs off its end. */
    cpu->bus.flash_size &= ~3u;
    cpu->bus.sram_size &= ~3u;
    scs_init(cpu);
    cpu_reset(cpu);
    return cpu;
}

void cpu_free(Cpu *cpu)
{
    if (!cpu)
        return;
    vtimer_del(&cpu->systick.timer);
    free(cpu);
}

void cpu_reset(Cpu *cpu)
{
    CpuState *s = &cpu->st;
    memset(s, 0, sizeof *s);
    scs_reset(cpu);
    uint32_t sp = 0, pc = 0;
    /* The vector table is at VTOR = 0 after reset. */
    bool ok = mem_read(cpu, 0, 4, &sp) && mem_read(cpu, 4, 4, &pc);
    s->r[13] = sp & ~3u;
    s->r[14] = 0xFFFFFFFFu;
    s->r[15] = pc & ~1u;
    s->run = CPU_RUNNING;
    cpu->stop = false;
    cpu->check = true;
    cpu->sysreset_req = false;
    cpu->trace_pos = 0;
    cpu->trace_count = 0;
    memset(cpu->trace, 0, sizeof cpu->trace);
    if (!ok || !(pc & 1))
        lockup(cpu);        /* no usable reset vector: HardFault at priority -1 would lock up */
}

CpuRunState cpu_run_state(const Cpu *cpu)
{
    return (CpuRunState)cpu->st.run;
}

void cpu_halt(Cpu *cpu, int exit_code)
{
    cpu->st.run = CPU_HALTED;
    cpu->st.sleep = CPU_SLEEP_NONE;
    cpu->st.exit_code = exit_code;
    cpu->stop = true;
}

int cpu_exit_code(const Cpu *cpu)
{
    return cpu->st.exit_code;
}

uint32_t cpu_reg(const Cpu *cpu, unsigned n)
{
    if (n < 16)
        return cpu->st.r[n];
    return n == 16 ? cpu_xpsr(&cpu->st) : 0;
}

void cpu_set_reg(Cpu *cpu, unsigned n, uint32_t v)
{
    CpuState *s = &cpu->st;
    if (n == 13)
        v &= ~3u;
    else if (n == 15)
        v &= ~1u;
    if (n < 16) {
        s->r[n] = v;
    } else if (n == 16) {
        s->n = v >> 31 & 1; s->z = v >> 30 & 1; s->c = v >> 29 & 1; s->v = v >> 28 & 1;
    }
}

/* ------------------------------------------------------- migration */

static bool cpu_valid(void *opaque, int version_id, VmsMsg *why)
{
    /* Each message starts with the member at fault (the load error then
     * names that field and its offset in the stream). */
    const CpuState *s = opaque;
    if (s->ipsr >= CPU_NUM_EXC || s->ipsr == CPU_EXC_RESET || (s->ipsr > 3 && s->ipsr < CPU_EXC_IRQ0 &&
        s->ipsr != CPU_EXC_SVCALL && s->ipsr != CPU_EXC_PENDSV && s->ipsr != CPU_EXC_SYSTICK))
        return vms_fail(why, "ipsr %u is not an ARMv6-M exception number", s->ipsr);
    if (s->primask > 1)
        return vms_fail(why, "primask %u is not 0 or 1", s->primask);
    if (s->control & ~2u)
        return vms_fail(why, "control 0x%x has bits other than SPSEL", s->control);
    if ((s->r[15] & 1) || (s->r[13] & 3))
        return vms_fail(why, "r[%d] 0x%08x is misaligned", s->r[15] & 1 ? 15 : 13, s->r[15] & 1 ? s->r[15] : s->r[13]);
    if (s->sp_other & 3)
        return vms_fail(why, "sp_other 0x%08x is not word-aligned", s->sp_other);
    if (s->ipsr && s->control)
        return vms_fail(why, "control 0x%x: SPSEL set in Handler mode (ipsr %u)", s->control, s->ipsr);
    if (s->run > CPU_HALTED)
        return vms_fail(why, "run %u is not a run state", s->run);
    if (s->sleep > CPU_SLEEP_WFE)
        return vms_fail(why, "sleep %u is not a sleep kind", s->sleep);
    if ((s->run == CPU_SLEEPING) != (s->sleep != CPU_SLEEP_NONE))
        return vms_fail(why, "sleep %u does not match run state %u", s->sleep, s->run);
    return true;
}

static bool cpu_post_load(void *opaque, int version_id, VmsMsg *why)
{
    Cpu *cpu = (Cpu *)((char *)opaque - offsetof(Cpu, st));
    cpu->check = true;
    return true;
}

static const VmsField cpu_fields[] = {
    VMS_UINT32_ARRAY(r, CpuState, 16),
    VMS_UINT32(sp_other, CpuState),
    VMS_UINT32(ipsr, CpuState),
    VMS_UINT32(primask, CpuState),
    VMS_UINT32(control, CpuState),
    VMS_BOOL(n, CpuState),
    VMS_BOOL(z, CpuState),
    VMS_BOOL(c, CpuState),
    VMS_BOOL(v, CpuState),
    VMS_UINT8(sleep, CpuState),
    VMS_UINT8(run, CpuState),
    VMS_INT32(exit_code, CpuState),
    VMS_VALIDATE_WHY("cpu state in range", cpu_valid),
    VMS_END_OF_LIST(),
};

/*
 * The event register (set by exception entry and return, SEV and
 * SEVONPEND; consumed by WFE) travels in a subsection sent only while it is
 * set, the QEMU way of carrying state that is often at its reset value.
 * Absent on load, it keeps its reset value: clear.
 */
static bool cpu_event_needed(void *opaque)
{
    return ((const CpuState *)opaque)->event;
}

static const VmsField cpu_event_fields[] = {
    VMS_BOOL(event, CpuState),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmsd_armv6m_cpu_event = {
    .name = "cpu/event",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = cpu_event_fields,
    .needed = cpu_event_needed,
};

static const VmsDesc *const cpu_subsections[] = { &vmsd_armv6m_cpu_event, NULL };

const VmsDesc vmsd_armv6m_cpu = {
    .name = "cpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = cpu_fields,
    .subsections = cpu_subsections,
    .post_load = cpu_post_load,
};

static const DevMember cpu_members[] = {
    DEV_MEMBER(CpuState, r),
    DEV_MEMBER(CpuState, sp_other),
    /* The exception number indexes the active and pending bits; cpu_valid refuses the rest. */
    DEV_RANGE(CpuState, ipsr, 0, CPU_NUM_EXC - 1),
    DEV_MEMBER(CpuState, primask),
    DEV_MEMBER(CpuState, control),
    DEV_MEMBER(CpuState, n),
    DEV_MEMBER(CpuState, z),
    DEV_MEMBER(CpuState, c),
    DEV_MEMBER(CpuState, v),
    DEV_MEMBER(CpuState, event),
    DEV_RANGE(CpuState, sleep, CPU_SLEEP_NONE, CPU_SLEEP_WFE),
    DEV_RANGE(CpuState, run, 0, CPU_HALTED),
    DEV_MEMBER(CpuState, exit_code),
    DEV_MEMBERS_END,
};

size_t cpu_components(Cpu *cpu, CpuComponent *out, size_t max)
{
    const CpuComponent all[] = {
        { "cpu", &vmsd_armv6m_cpu, &cpu->st, cpu_members, sizeof cpu->st },
        { "armv6m-nvic", &vmsd_armv6m_nvic, &cpu->nvic, nvic_members, sizeof cpu->nvic },
        { "armv6m-systick", &vmsd_armv6m_systick, &cpu->systick, systick_members, sizeof cpu->systick },
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = all[i];
    return n;
}
