/*
 * cpu.c - the ARMv6-M Thumb interpreter, exception entry/return, sleep and
 * the execution loop. See cpu.h; docs/cpu.md has the model and its limits.
 *
 * Hot path (run_burst): a 64 KiB table from halfword to operation (and one
 * of handler addresses for threaded dispatch where the compiler allows it),
 * pc, cycle count and flags held outside CpuState during a burst, inline
 * flash/SRAM accesses, a trace slot per run rather than per instruction;
 * docs/cpu.md "How it is fast" explains each part and why it cannot change
 * what the guest sees. Every
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
#include <threads.h>

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

/* Flash and SRAM only, the interpreter's inline fast path: false means
 * "not an aligned access to flash or SRAM", and the caller then takes the
 * full path (mem_read/mem_write), which faults or goes to the bus. */
static inline bool ram_read(const CpuBus *b, uint32_t a, unsigned size, uint32_t *v)
{
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
    return false;
}

static inline bool ram_write(const CpuBus *b, uint32_t a, unsigned size, uint32_t v)
{
    uint32_t o = a - b->sram_base;
    if ((a & (size - 1)) || o >= b->sram_size)
        return false;
    st(b->sram + o, size, v);
    /* The dirty log: one unconditional byte store, no branch on whether
     * anyone is logging (an aligned store never crosses a page). Only
     * bench_cpu_nolog builds the core without it, to measure its cost. */
#ifndef CPU_NO_DIRTY_LOG
    b->sram_dirty[o >> CPU_PAGE_BITS] = 1;
#endif
    return true;
}

/* False is a fault: unaligned, unmapped, or refused by the bus. */
static inline bool mem_read(Cpu *cpu, uint32_t a, unsigned size, uint32_t *v)
{
    const CpuBus *b = &cpu->bus;
    if (ram_read(b, a, size, v))
        return true;
    if (a & (size - 1))
        return false;
    /* A device access may arm a timer or raise an IRQ: leave the fast loop. */
    cpu->check = true;
    if (a >= 0xE0000000u)
        return a >= SCS_BASE && a < SCS_END && scs_read(cpu, a, size, v);
    return b->read && b->read(b->opaque, a, size, v);
}

static inline bool mem_write(Cpu *cpu, uint32_t a, unsigned size, uint32_t v)
{
    const CpuBus *b = &cpu->bus;
    if (ram_write(b, a, size, v))
        return true;
    if ((a & (size - 1)) || a < b->flash_size)
        return false;                   /* unaligned, or flash (read-only to the guest) */
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

/*
 * Inside the interpreter loop the flags live in cpu->fl (a Flags, host
 * side), not in CpuState: N and Z as one value `nz` (N is its sign, Z is
 * "its low 32 bits are zero"), so an instruction that sets N and Z from a
 * result stores the result once (sign-extended) instead of computing two
 * bools; C and V as bools. flags_in/flags_out convert at the loop's entry
 * and exits; every combination of N and Z (MSR APSR can set both) has a
 * value.
 */
#define FLAG_N(f) ((f)->nz < 0)
#define FLAG_Z(f) ((uint32_t)(f)->nz == 0)

static inline void flags_in(Flags *f, const CpuState *s)
{
    f->nz = (s->n ? INT64_MIN : 0) | (s->z ? 0 : 1);
    f->c = s->c;
    f->v = s->v;
}

static inline void flags_out(const Flags *f, CpuState *s)
{
    s->n = FLAG_N(f);
    s->z = FLAG_Z(f);
    s->c = f->c;
    s->v = f->v;
}

static inline void set_nz(Flags *s, uint32_t r)
{
    s->nz = (int32_t)r;
}

/* x + y + carry with all four flags (ADCS, SBCS). */
static inline uint32_t add_c(Flags *s, uint32_t x, uint32_t y, uint32_t carry)
{
    uint64_t u = (uint64_t)x + y + carry;
    uint32_t r = (uint32_t)u;
    set_nz(s, r);
    s->c = u >> 32;
    s->v = ((x ^ r) & (y ^ r)) >> 31;
    return r;
}

/* x + y and x - y with all four flags: what ADDS, SUBS, CMP, CMN and RSBS
 * use. Written with the overflow built-ins so the compiler takes C and V
 * from the host's own add or subtract (half the instructions of add_c).
 * For x - y, C is "no borrow" (x >= y), as for x + ~y + 1. */
static inline uint32_t adds(Flags *s, uint32_t x, uint32_t y)
{
    uint32_t r;
    int32_t ignored;
    s->c = __builtin_add_overflow(x, y, &r);
    s->v = __builtin_add_overflow((int32_t)x, (int32_t)y, &ignored);
    set_nz(s, r);
    return r;
}

static inline uint32_t subs(Flags *s, uint32_t x, uint32_t y)
{
    int32_t ignored;
    s->c = x >= y;
    s->v = __builtin_sub_overflow((int32_t)x, (int32_t)y, &ignored);
    set_nz(s, x - y);
    return x - y;
}

enum { SH_LSL, SH_LSR, SH_ASR, SH_ROR };

/* Shift by a register amount (bottom byte), with the architectural carry. */
static uint32_t shift_reg(Flags *s, unsigned type, uint32_t x, uint32_t amount)
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

static inline bool is_bl(uint32_t hw1, uint32_t hw2)
{
    return (hw1 & 0xF800) == 0xF000 && (hw2 & 0xD000) == 0xD000;
}

/* BL's signed offset from the address after it. */
static inline uint32_t bl_offset(uint32_t hw1, uint32_t hw2)
{
    uint32_t sbit = hw1 >> 10 & 1;
    uint32_t i1 = !((hw2 >> 13 & 1) ^ sbit), i2 = !((hw2 >> 11 & 1) ^ sbit);
    uint32_t imm = sbit << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3ff) << 12 | (hw2 & 0x7ff) << 1;
    return (uint32_t)((int32_t)(imm << 7) >> 7);
}

/* 32-bit encodings: BL, MSR, MRS, DSB/DMB/ISB, UDF.W. */
static void exec32(Cpu *cpu, uint32_t pc, uint32_t hw1, uint32_t hw2)
{
    CpuState *s = &cpu->st;
    uint32_t next = pc + 4;
    if (is_bl(hw1, hw2)) {
        R(14) = next | 1;
        R(15) = next + bl_offset(hw1, hw2);
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

/*
 * Decoding. Every 16-bit halfword maps to one operation, so the whole
 * decoder is a 64 KiB table filled once (op_table) from classify(), and
 * exec16 is one flat switch on it. The table depends only on the
 * instruction's bits, never on memory or state, so it can never go stale:
 * code in SRAM that rewrites itself is fetched and looked up afresh every
 * time. Encodings that always fault (UDF, unallocated, IT, CBZ, bad list or
 * operand forms) map to OP_UNDEF, so the handlers need not check them.
 */
#define CPU_OPS(X) \
    X(OP_UNDEF) X(OP_32) \
    X(OP_LSL_I) X(OP_LSR_I) X(OP_ASR_I) X(OP_ADD_R) X(OP_SUB_R) X(OP_ADD_I3) X(OP_SUB_I3) \
    X(OP_MOV_I) X(OP_CMP_I) X(OP_ADD_I8) X(OP_SUB_I8) \
    /* The 16 data-processing operations, in encoding order (bits 9:6). */ \
    X(OP_AND) X(OP_EOR) X(OP_LSL_R) X(OP_LSR_R) X(OP_ASR_R) X(OP_ADC) X(OP_SBC) X(OP_ROR_R) \
    X(OP_TST) X(OP_RSB) X(OP_CMP_R) X(OP_CMN) X(OP_ORR) X(OP_MUL) X(OP_BIC) X(OP_MVN) \
    X(OP_ADD_HI) X(OP_CMP_HI) X(OP_MOV_HI) X(OP_BX) X(OP_BLX) \
    X(OP_LDR_LIT) X(OP_STORE_REG) X(OP_LOAD_REG) \
    /* Immediate-offset forms, in encoding order (bits 15:11 = 0x0C..0x11). */ \
    X(OP_STR_I) X(OP_LDR_I) X(OP_STRB_I) X(OP_LDRB_I) X(OP_STRH_I) X(OP_LDRH_I) \
    X(OP_STR_SP) X(OP_LDR_SP) X(OP_ADR) X(OP_ADD_SPI) X(OP_ADDSUB_SP) X(OP_EXTEND) X(OP_PUSH) \
    X(OP_CPS) X(OP_REV) X(OP_POP) X(OP_BKPT) X(OP_WFE) X(OP_WFI) X(OP_SEV) X(OP_NOP) \
    X(OP_STM) X(OP_LDM) X(OP_SVC) X(OP_B) \
    /* B<cond>, one op per condition, in encoding order (bits 11:8 = 0..13). */ \
    X(OP_BEQ) X(OP_BNE) X(OP_BCS) X(OP_BCC) X(OP_BMI) X(OP_BPL) X(OP_BVS) X(OP_BVC) \
    X(OP_BHI) X(OP_BLS) X(OP_BGE) X(OP_BLT) X(OP_BGT) X(OP_BLE)

#define OP_ENUM(op) op,
enum { CPU_OPS(OP_ENUM) OP_COUNT };
#undef OP_ENUM
_Static_assert(OP_COUNT <= 256, "op_table holds bytes");

static uint8_t classify_misc(uint32_t in)
{
    switch (in >> 8 & 15) {
    case 0x0: return OP_ADDSUB_SP;
    case 0x2: return OP_EXTEND;
    case 0x4: case 0x5: return (in & 0x1ff) ? OP_PUSH : OP_UNDEF;
    case 0x6: return (in & 0xffef) == 0xb662 ? OP_CPS : OP_UNDEF;
    case 0xA: return (in >> 6 & 3) == 2 ? OP_UNDEF : OP_REV;
    case 0xC: case 0xD: return (in & 0x1ff) ? OP_POP : OP_UNDEF;
    case 0xE: return OP_BKPT;
    case 0xF:
        if (in & 15)
            return OP_UNDEF;                    /* IT: not in ARMv6-M */
        switch (in >> 4 & 15) {
        case 2: return OP_WFE;
        case 3: return OP_WFI;
        case 4: return OP_SEV;
        default: return OP_NOP;                 /* NOP, YIELD, unallocated hints */
        }
    default: return OP_UNDEF;                   /* CBZ/CBNZ etc. are not ARMv6-M */
    }
}

static uint8_t classify_hi(uint32_t in)
{
    unsigned rd = (in >> 4 & 8) | (in & 7), rm = in >> 3 & 15;
    switch (in >> 8 & 3) {
    case 0: return rd == 15 && rm == 15 ? OP_UNDEF : OP_ADD_HI;
    case 1: return rd == 15 || rm == 15 ? OP_UNDEF : OP_CMP_HI;
    case 2: return OP_MOV_HI;
    default:
        if (in & 7)
            return OP_UNDEF;
        if (in & 0x80)
            return rm == 15 ? OP_UNDEF : OP_BLX;
        return OP_BX;
    }
}

static uint8_t classify(uint32_t in)
{
    unsigned top = in >> 11;
    switch (top) {
    case 0x00: return OP_LSL_I;                 /* MOVS reg is LSLS #0 */
    case 0x01: return OP_LSR_I;
    case 0x02: return OP_ASR_I;
    case 0x03: return (in & 0x400) ? ((in & 0x200) ? OP_SUB_I3 : OP_ADD_I3)
                                   : ((in & 0x200) ? OP_SUB_R : OP_ADD_R);
    case 0x04: return OP_MOV_I;
    case 0x05: return OP_CMP_I;
    case 0x06: return OP_ADD_I8;
    case 0x07: return OP_SUB_I8;
    case 0x08: return (in & 0x400) ? classify_hi(in) : (uint8_t)(OP_AND + (in >> 6 & 15));
    case 0x09: return OP_LDR_LIT;
    case 0x0A: case 0x0B: return (in >> 9 & 7) <= 2 ? OP_STORE_REG : OP_LOAD_REG;
    case 0x0C: case 0x0D: case 0x0E: case 0x0F: case 0x10: case 0x11:
        return (uint8_t)(OP_STR_I + (top - 0x0C));
    case 0x12: return OP_STR_SP;
    case 0x13: return OP_LDR_SP;
    case 0x14: return OP_ADR;
    case 0x15: return OP_ADD_SPI;
    case 0x16: case 0x17: return classify_misc(in);
    case 0x18: case 0x19: return (in & 0xff) ? (top == 0x18 ? OP_STM : OP_LDM) : OP_UNDEF;
    case 0x1A: case 0x1B:
        switch (in >> 8 & 15) {
        case 14: return OP_UNDEF;               /* UDF */
        case 15: return OP_SVC;
        default: return (uint8_t)(OP_BEQ + (in >> 8 & 15));
        }
    case 0x1C: return OP_B;
    default: return OP_32;
    }
}

static uint8_t op_table[1u << 16];
static once_flag op_table_once = ONCE_FLAG_INIT;

static void run_burst(Cpu *cpu, VClock *clk, uint64_t now, uint64_t lim);

static void op_table_fill(void)
{
    for (uint32_t in = 0; in < 1u << 16; in++)
        op_table[in] = classify(in);
    run_burst(NULL, NULL, 0, 0);        /* fills `dispatch` (threaded build) */
}

static inline uint32_t lsl_imm(Flags *s, uint32_t v, unsigned sh)
{
    if (sh)
        s->c = v >> (32 - sh) & 1;
    return sh ? v << sh : v;
}

/* PUSH/POP/LDM/STM inline fast path: the host address of `bytes` bytes of
 * SRAM from guest address a (word-aligned, all inside SRAM), or NULL, and
 * the caller then takes load_words/store_words. `store` marks the pages
 * dirty (a list is at most 64 bytes, so it touches at most two pages). */
static inline uint8_t *ram_span(const CpuBus *b, uint32_t a, uint32_t bytes, bool store)
{
    uint32_t o = a - b->sram_base;
    if ((a & 3) || o >= b->sram_size || b->sram_size - o < bytes)
        return NULL;
#ifndef CPU_NO_DIRTY_LOG
    if (store) {
        b->sram_dirty[o >> CPU_PAGE_BITS] = 1;
        b->sram_dirty[(o + bytes - 1) >> CPU_PAGE_BITS] = 1;
    }
#else
    (void)store;
#endif
    return b->sram + o;
}

/* BX and POP {pc} to a plain Thumb address: the common case of bx_write_pc. */
static inline bool plain_branch(const CpuState *s, uint32_t target)
{
    return (target & 1) && !(s->ipsr && (target >> 28) == 0xF);
}

/*
 * The interpreter loop: instructions back to back from cycle `now` until
 * `lim` or until one sets check (cpu_stop and cpu_halt set it too).
 *
 * Local state. The address of the instruction (pc) and the cycle count
 * (now) live in locals for the whole burst; r15 and clk->cycles are
 * written back only before anything outside the loop can look at them
 * (SYNC: a bus or SCS access, an exception, a fault, a system instruction)
 * and when the burst ends. Everything that can set `check` is such a slow
 * path (a device access, an exception, PRIMASK, sleep, a callback calling
 * cpu_stop), and every slow path leaves through `slow_done`, which reloads
 * pc and tests check; so the common instruction tests only the limit.
 *
 * Each handler ends in NEXT (fall through to pc + 2), JUMP(target),
 * SLOW_NEXT / SLOW_DONE (after a slow path; SLOW_DONE when the callee set
 * r15 itself) or FAULT(). With GCC or clang, dispatch is threaded: every
 * handler ends with its own copy of the loop tail and an indirect jump
 * through a table of label addresses (a GNU extension), so the host's
 * branch predictor learns which handler follows which instead of
 * mispredicting one shared jump. Elsewhere (CPU_PORTABLE_DISPATCH, also
 * built and tested) the same handlers are the cases of one switch and
 * every instruction goes round the loop.
 *
 * Loads and stores to flash and SRAM are done inline (ram_read, ram_write,
 * ram_span); everything else goes through mem_read/mem_write after SYNC.
 *
 * The ring position and the instruction count live in locals and are
 * written back once per burst: nothing an instruction can call reads them
 * (a reset from a callback clears them; `resets` tells).
 */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CPU_PORTABLE_DISPATCH)
#define CPU_THREADED 1
#else
#define CPU_THREADED 0
#endif

#if CPU_THREADED
/* The handler of each halfword: label[op_table[in]], resolved once so that
 * dispatch is one indexed jump (512 KiB, of which a program touches the
 * lines of the encodings it uses). */
static const void *dispatch[1u << 16];
#endif

static void run_burst(Cpu *cpu, VClock *clk, uint64_t now, uint64_t lim)
{
#if CPU_THREADED
#define OP_LABEL(op) &&L_##op,
    static const void *const label[OP_COUNT] = { CPU_OPS(OP_LABEL) };
#undef OP_LABEL
    if (!cpu) {                 /* once, from op_table_fill (under call_once) */
        for (uint32_t i = 0; i < 1u << 16; i++)
            dispatch[i] = label[op_table[i]];
        return;
    }
#else
    if (!cpu)
        return;
#endif
    CpuState *s = &cpu->st;
    const CpuBus *b = &cpu->bus;
    const uint64_t first = now;
    const uint8_t *const flash = b->flash;
    const uint32_t flash_size = b->flash_size;
    /* The ring position as a byte offset: one add and one mask per slot. */
    uint32_t toff = cpu->trace_pos * (uint32_t)sizeof(CpuTraceSlot);
    /* Instruction count = ibase + now (mod 2^16), for the slots' idx. */
    const uint16_t ibase = (uint16_t)(cpu->trace_count - first);
    const uint32_t resets = cpu->resets;
    uint32_t pc = s->r[15], in, a, v;
    Flags *const fl = &cpu->fl;

    flags_in(fl, s);

    /* With cpu_trace_regs on, bursts are one instruction long, so the
     * registers are recorded here and the loop never tests for it. */
    if (cpu->trace_regs) {
        memcpy(cpu->trace_rr[cpu->trace_pos].r, s->r, sizeof s->r);
        cpu->trace_rr[cpu->trace_pos].xpsr = cpu_xpsr(s);
        lim = now + 1;
    }
    if (lim - now > 0xFFFF)
        lim = now + 0xFFFF;     /* a run's length must fit a slot's idx */

    /* Fetching. RECORD starts a run in the trace ring at pc (see
     * CpuTraceSlot): at the top of the burst, after a jump or a slow path,
     * and for each instruction in SRAM. FETCH_SEQ (after an instruction
     * that falls through) fetches code in flash without writing the ring;
     * FETCH_NEW (after a jump) records first. A fetch fault is recorded as
     * halfword 0 and faults. cpu_trace reads the second halfword of a
     * 32-bit encoding back from memory, off the hot path. */
#define RECORD() do { \
        CpuTraceSlot *e_ = (CpuTraceSlot *)((char *)cpu->trace + toff); \
        toff = (toff + sizeof *e_) & (sizeof cpu->trace - 1); \
        e_->cycle = now; \
        e_->pc = pc; \
        if (pc < flash_size) { \
            in = ld(flash + pc, 2); \
        } else if (!fetch16(cpu, pc, &in)) { \
            e_->insn = 0; \
            e_->idx = (uint16_t)(ibase + now); \
            SYNC(); \
            fault(cpu, pc); \
            goto slow_done; \
        } \
        e_->insn = (uint16_t)in; \
        e_->idx = (uint16_t)(ibase + now); \
    } while (0)
#define FETCH_NEW() RECORD()
#define FETCH_SEQ() do { \
        if (pc < flash_size) \
            in = ld(flash + pc, 2); \
        else \
            RECORD(); \
    } while (0)
    /* Make r15 and the clock what the rest of the core and the machine expect. */
#define SYNC() do { s->r[15] = pc; clk->cycles = now; flags_out(fl, s); } while (0)
#if CPU_THREADED
#define OP(op) L_##op: case op
#define JUMP(target) do { \
        pc = (target); \
        if (++now >= lim) goto out; \
        FETCH_NEW(); \
        goto *dispatch[in]; \
    } while (0)
#define NEXT do { \
        pc += 2; \
        if (++now >= lim) goto out; \
        FETCH_SEQ(); \
        goto *dispatch[in]; \
    } while (0)
#else
#define OP(op) case op
#define JUMP(target) do { pc = (target); if (++now >= lim) goto out; goto top; } while (0)
#define NEXT do { pc += 2; if (++now >= lim) goto out; FETCH_SEQ(); goto dispatch; } while (0)
#endif
#define SLOW_DONE goto slow_done
#define SLOW_NEXT do { s->r[15] = pc + 2; goto slow_done; } while (0)
#undef FAULT
#define FAULT() do { SYNC(); fault(cpu, pc); goto slow_done; } while (0)
    /* Loads and stores: flash and SRAM inline, the rest (devices, the SCS,
     * faults) through the full path with the state synced; that path sets
     * check, so the handler then leaves through slow_done. */
#define LOAD(addr, size) do { \
        uint32_t w_;            /* not v: taking v's address would keep it in memory */ \
        a = (addr); \
        if (!ram_read(b, a, (size), &w_)) { \
            SYNC(); \
            if (!mem_read(cpu, a, (size), &w_)) FAULT(); \
        } \
        v = w_; \
    } while (0)
#define STORE(addr, size, val) do { \
        a = (addr); \
        if (!ram_write(b, a, (size), (val))) { \
            SYNC(); \
            if (!mem_write(cpu, a, (size), (val))) FAULT(); \
        } \
    } while (0)
#define MEM_NEXT do { if (cpu->check) SLOW_NEXT; NEXT; } while (0)
    /* Operand fields, extracted only by the handlers that use them. */
#define rd (in & 7)
#define rd8 (in >> 8 & 7)
#define sh (in >> 6 & 31)
#define imm8 (in & 0xff)
#define x R(in & 7)             /* Rd / Rdn / Rt */
#define y R(in >> 3 & 7)        /* Rm of data processing, Rn of the rest */

top:
    FETCH_NEW();
#if CPU_THREADED
    goto *dispatch[in];
#else
dispatch:
#endif
    switch ((unsigned)op_table[in]) {
    OP(OP_LSL_I): v = lsl_imm(fl, y, sh); R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_LSR_I):
        if (sh == 0) { fl->c = y >> 31; v = 0; } else { fl->c = y >> (sh - 1) & 1; v = y >> sh; }
        R(rd) = v; set_nz(fl, v);
        NEXT;
    OP(OP_ASR_I):
        if (sh == 0) { fl->c = y >> 31; v = (uint32_t)((int32_t)y >> 31); }
        else { fl->c = y >> (sh - 1) & 1; v = (uint32_t)((int32_t)y >> sh); }
        R(rd) = v; set_nz(fl, v);
        NEXT;
    OP(OP_ADD_R): R(rd) = adds(fl, y, R(in >> 6 & 7)); NEXT;
    OP(OP_SUB_R): R(rd) = subs(fl, y, R(in >> 6 & 7)); NEXT;
    OP(OP_ADD_I3): R(rd) = adds(fl, y, in >> 6 & 7); NEXT;
    OP(OP_SUB_I3): R(rd) = subs(fl, y, in >> 6 & 7); NEXT;
    OP(OP_MOV_I): R(rd8) = imm8; set_nz(fl, imm8); NEXT;
    OP(OP_CMP_I): subs(fl, R(rd8), imm8); NEXT;
    OP(OP_ADD_I8): R(rd8) = adds(fl, R(rd8), imm8); NEXT;
    OP(OP_SUB_I8): R(rd8) = subs(fl, R(rd8), imm8); NEXT;
    /* Data processing: x = Rdn, y = Rm. */
    OP(OP_AND): v = x & y; R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_EOR): v = x ^ y; R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_LSL_R): v = shift_reg(fl, SH_LSL, x, y); R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_LSR_R): v = shift_reg(fl, SH_LSR, x, y); R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_ASR_R): v = shift_reg(fl, SH_ASR, x, y); R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_ADC): R(rd) = add_c(fl, x, y, fl->c); NEXT;
    OP(OP_SBC): R(rd) = add_c(fl, x, ~y, fl->c); NEXT;
    OP(OP_ROR_R): v = shift_reg(fl, SH_ROR, x, y); R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_TST): set_nz(fl, x & y); NEXT;
    OP(OP_RSB): R(rd) = subs(fl, 0, y); NEXT;
    OP(OP_CMP_R): subs(fl, x, y); NEXT;
    OP(OP_CMN): adds(fl, x, y); NEXT;
    OP(OP_ORR): v = x | y; R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_MUL): v = x * y; R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_BIC): v = x & ~y; R(rd) = v; set_nz(fl, v); NEXT;
    OP(OP_MVN): v = ~y; R(rd) = v; set_nz(fl, v); NEXT;
    /* High registers: rdh = Rdn (4 bits), yh = Rm (4 bits); PC reads as
     * pc + 4. The forms that fault (ADD pc, pc; CMP with PC; BLX pc) are
     * OP_UNDEF. A write to PC branches; one to SP clears bits 1:0. */
#define rdh ((in >> 4 & 8) | (in & 7))
#define yh ((in >> 3 & 15) == 15 ? pc + 4 : R(in >> 3 & 15))
#define WRITE_HI(val) do { \
        v = (val); \
        if (rdh == 15) JUMP(v & ~1u); \
        R(rdh) = rdh == 13 ? v & ~3u : v; \
        NEXT; \
    } while (0)
    OP(OP_ADD_HI): WRITE_HI((rdh == 15 ? pc + 4 : R(rdh)) + yh);
    OP(OP_MOV_HI): WRITE_HI(yh);
    OP(OP_CMP_HI): subs(fl, R(rdh), yh); NEXT;
    OP(OP_BLX):
        v = yh;
        if (!(v & 1)) FAULT();
        R(14) = (pc + 2) | 1;
        JUMP(v & ~1u);
    OP(OP_BX):
        v = yh;
        if (plain_branch(s, v)) JUMP(v & ~1u);
        SYNC();
        bx_write_pc(cpu, v, pc);        /* exception return or INVSTATE */
        SLOW_DONE;
#undef rdh
#undef yh
#undef WRITE_HI
    OP(OP_LDR_LIT): LOAD(((pc + 4) & ~3u) + imm8 * 4, 4); R(rd8) = v; MEM_NEXT;
    OP(OP_STORE_REG): {                                    /* STR STRH STRB */
        static const uint8_t size[3] = { 4, 2, 1 };
        STORE(y + R(in >> 6 & 7), size[in >> 9 & 7], x);
        MEM_NEXT;
    }
    OP(OP_LOAD_REG): {                                     /* LDRSB LDR LDRH LDRB LDRSH */
        static const uint8_t size[8] = { 0, 0, 0, 1, 4, 2, 1, 2 };
        unsigned op = in >> 9 & 7;
        LOAD(y + R(in >> 6 & 7), size[op]);
        if (op == 3) v = (uint32_t)(int8_t)v;
        else if (op == 7) v = (uint32_t)(int16_t)v;
        R(rd) = v;
        MEM_NEXT;
    }
    OP(OP_STR_I): STORE(y + sh * 4, 4, x); MEM_NEXT;
    OP(OP_LDR_I): LOAD(y + sh * 4, 4); R(rd) = v; MEM_NEXT;
    OP(OP_STRB_I): STORE(y + sh, 1, x); MEM_NEXT;
    OP(OP_LDRB_I): LOAD(y + sh, 1); R(rd) = v; MEM_NEXT;
    OP(OP_STRH_I): STORE(y + sh * 2, 2, x); MEM_NEXT;
    OP(OP_LDRH_I): LOAD(y + sh * 2, 2); R(rd) = v; MEM_NEXT;
    OP(OP_STR_SP): STORE(R(13) + imm8 * 4, 4, R(rd8)); MEM_NEXT;
    OP(OP_LDR_SP): LOAD(R(13) + imm8 * 4, 4); R(rd8) = v; MEM_NEXT;
    OP(OP_ADR): R(rd8) = ((pc + 4) & ~3u) + imm8 * 4; NEXT;
    OP(OP_ADD_SPI): R(rd8) = R(13) + imm8 * 4; NEXT;
    OP(OP_ADDSUB_SP):
        if (in & 0x80) R(13) -= (in & 0x7f) * 4; else R(13) += (in & 0x7f) * 4;
        NEXT;
    OP(OP_EXTEND):                                         /* SXTH SXTB UXTH UXTB */
        switch (in >> 6 & 3) {
        case 0: v = (uint32_t)(int16_t)y; break;
        case 1: v = (uint32_t)(int8_t)y; break;
        case 2: v = y & 0xffff; break;
        default: v = y & 0xff; break;
        }
        R(rd) = v;
        NEXT;
    /* Register lists: all of the words in SRAM (ram_span), or word by
     * word through the full path, which faults at the first bad word. */
    OP(OP_PUSH): {
        uint32_t list = imm8 | (in & 0x100) << 6;
        uint32_t bytes = 4 * (uint32_t)__builtin_popcount(list);
        uint8_t *p;
        a = R(13) - bytes;
        if ((p = ram_span(b, a, bytes, true))) {
            for (; list; list &= list - 1, p += 4)
                st(p, 4, R(__builtin_ctz(list)));
            R(13) = a;
            NEXT;
        }
        SYNC();
        if (!store_words(cpu, a, list, s->r)) FAULT();
        R(13) = a;
        SLOW_NEXT;
    }
    OP(OP_CPS):
        SYNC();
        s->primask = in >> 4 & 1;
        cpu->check = true;
        SLOW_NEXT;
    OP(OP_REV):                                            /* REV REV16 REVSH */
        switch (in >> 6 & 3) {
        case 0: v = __builtin_bswap32(y); break;
        case 1: v = (y >> 8 & 0x00ff00ffu) | (y << 8 & 0xff00ff00u); break;
        default: v = (uint32_t)(int16_t)(uint16_t)((y >> 8 & 0xff) | (y << 8 & 0xff00)); break;
        }
        R(rd) = v;
        NEXT;
    OP(OP_POP): {
        uint32_t list = imm8 | (in & 0x100) << 7;
        uint32_t bytes = 4 * (uint32_t)__builtin_popcount(list);
        const uint8_t *p = ram_span(b, R(13), bytes, false);
        uint32_t w[16];
        if (p) {
            for (uint32_t l = list; l; l &= l - 1, p += 4)
                w[__builtin_ctz(l)] = ld(p, 4);
        } else {
            SYNC();
            if (!load_words(cpu, R(13), list, w)) FAULT();
        }
        for (unsigned i = 0; i < 8; i++)
            if (list >> i & 1)
                R(i) = w[i];
        R(13) += bytes;
        if (!(list & 0x8000)) {
            if (!p) SLOW_NEXT;
            NEXT;
        }
        if (p && plain_branch(s, w[15])) JUMP(w[15] & ~1u);
        SYNC();
        bx_write_pc(cpu, w[15], pc);
        SLOW_DONE;
    }
    OP(OP_BKPT):
        SYNC();
        if (imm8 == 0xAB && cpu->bus.semihost) {
            if (cpu->bus.semihost(cpu->bus.opaque, cpu)) {
                if (s->run == CPU_RUNNING)
                    s->r[15] = pc + 2;
                SLOW_DONE;
            }
        }
        FAULT();            /* no debugger: BKPT escalates to HardFault */
    OP(OP_WFE): SYNC(); s->r[15] = pc + 2; op_sleep(cpu, CPU_SLEEP_WFE); SLOW_DONE;
    OP(OP_WFI): SYNC(); s->r[15] = pc + 2; op_sleep(cpu, CPU_SLEEP_WFI); SLOW_DONE;
    OP(OP_SEV): s->event = true; NEXT;                     /* single core: our own register */
    OP(OP_NOP): NEXT;
    OP(OP_STM): OP(OP_LDM): {
        unsigned base = rd8;
        uint32_t bytes = 4 * (uint32_t)__builtin_popcount(imm8);
        bool load = op_table[in] == OP_LDM;
        uint8_t *p;
        uint32_t w[8];
        a = R(base);
        if ((p = ram_span(b, a, bytes, !load))) {
            for (uint32_t l = imm8; l; l &= l - 1, p += 4)
                if (load) w[__builtin_ctz(l)] = ld(p, 4); else st(p, 4, R(__builtin_ctz(l)));
        } else {
            SYNC();
            if (load ? !load_words(cpu, a, imm8, w) : !store_words(cpu, a, imm8, s->r)) FAULT();
        }
        if (load)
            for (unsigned i = 0; i < 8; i++)
                if (imm8 >> i & 1)
                    R(i) = w[i];
        if (!load || !(imm8 >> base & 1))
            R(base) = a + bytes;        /* STM stores the base's original value */
        if (!p) SLOW_NEXT;
        NEXT;
    }
    /* B<cond>: a handler per condition, so each has its own host branch
     * to predict and none decodes the condition at run time. */
#define BCOND(op, taken) \
    OP(op): \
        if (taken) JUMP(pc + 4 + (uint32_t)((int32_t)(int8_t)imm8 * 2)); \
        NEXT;
    BCOND(OP_BEQ, FLAG_Z(fl)) BCOND(OP_BNE, !FLAG_Z(fl))
    BCOND(OP_BCS, fl->c) BCOND(OP_BCC, !fl->c)
    BCOND(OP_BMI, FLAG_N(fl)) BCOND(OP_BPL, !FLAG_N(fl))
    BCOND(OP_BVS, fl->v) BCOND(OP_BVC, !fl->v)
    BCOND(OP_BHI, fl->c && !FLAG_Z(fl)) BCOND(OP_BLS, !fl->c || FLAG_Z(fl))
    BCOND(OP_BGE, FLAG_N(fl) == fl->v) BCOND(OP_BLT, FLAG_N(fl) != fl->v)
    BCOND(OP_BGT, !FLAG_Z(fl) && FLAG_N(fl) == fl->v) BCOND(OP_BLE, FLAG_Z(fl) || FLAG_N(fl) != fl->v)
#undef BCOND
    OP(OP_SVC):
        SYNC();
        s->r[15] = pc + 2;
        if (cpu_exc_prio(cpu, CPU_EXC_SVCALL) < exec_prio(cpu, true))
            enter_exception(cpu, CPU_EXC_SVCALL, pc + 2);
        else
            fault(cpu, pc + 2);                             /* cannot be taken: escalate */
        SLOW_DONE;
    OP(OP_B):
        JUMP(pc + 4 + (uint32_t)(((int32_t)(in << 21)) >> 20));
    OP(OP_32): {
        uint32_t hw2;
        if (!fetch16(cpu, pc + 2, &hw2)) FAULT();
        if (is_bl(in, hw2)) {
            R(14) = (pc + 4) | 1;
            JUMP(pc + 4 + bl_offset(in, hw2));
        }
        SYNC();
        exec32(cpu, pc, in, hw2);       /* MSR, MRS, barriers, UDF.W */
        SLOW_DONE;
    }
    OP(OP_UNDEF):
        FAULT();            /* UDF and every unallocated encoding */
    default:
        __builtin_unreachable();    /* op_table holds only the values above */
    }

slow_done:
    /* After a slow path: the core's state is in *cpu (r15 included). */
    pc = s->r[15];
    flags_in(fl, s);
    clk->cycles = ++now;
    if (now < lim && !cpu->check)
        goto top;
out:
    SYNC();
    if (cpu->resets == resets) {   /* else a callback reset the core and its ring */
        cpu->trace_pos = toff / (uint32_t)sizeof(CpuTraceSlot);
        cpu->trace_count += now - first;
    }
#undef RECORD
#undef FETCH_NEW
#undef FETCH_SEQ
#undef SYNC
#undef OP
#undef JUMP
#undef NEXT
#undef SLOW_DONE
#undef SLOW_NEXT
#undef LOAD
#undef STORE
#undef MEM_NEXT
#undef rd
#undef rd8
#undef sh
#undef imm8
#undef x
#undef y
}

_Static_assert((CPU_TRACE_LEN & (CPU_TRACE_LEN - 1)) == 0, "trace ring must be a power of two");
_Static_assert((sizeof(CpuTraceSlot) & (sizeof(CpuTraceSlot) - 1)) == 0, "trace slots must be a power of two in size");

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
         * budget ends, or an instruction asks for attention (check).
         * The deadline can only move through a device or SCS access, and
         * those set check, so lim stays valid inside the loop. */
        uint64_t lim = end < clk->next_cycle ? end : clk->next_cycle;
        run_burst(cpu, clk, clk->cycles, lim);
    }
    if (cpu->sysreset_req)
        do_sysreset(cpu);
    return clk->cycles - start;
}

void cpu_stop(Cpu *cpu)
{
    cpu->stop = true;
    cpu->check = true;      /* the fast loop watches only check */
}

/* ---------------------------------------------------------- lifecycle */

Cpu *cpu_new(const CpuBus *bus)
{
    Cpu *cpu = calloc(1, sizeof *cpu);
    if (!cpu)
        return NULL;
    call_once(&op_table_once, op_table_fill);
    cpu->bus = *bus;
    /* Whole words only, so an aligned access inside a region never runs off its end. */
    cpu->bus.flash_size &= ~3u;
    cpu->bus.sram_size &= ~3u;
    if (!cpu->bus.sram_dirty) {
        cpu->own_dirty = calloc(((size_t)cpu->bus.sram_size >> CPU_PAGE_BITS) + 1, 1);
        if (!cpu->own_dirty) {
            free(cpu);
            return NULL;
        }
        cpu->bus.sram_dirty = cpu->own_dirty;
    }
    scs_init(cpu);
    cpu_reset(cpu);
    return cpu;
}

void cpu_free(Cpu *cpu)
{
    if (!cpu)
        return;
    vtimer_del(&cpu->systick.timer);
    free(cpu->own_dirty);
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
    cpu->resets++;
    memset(cpu->trace, 0, sizeof cpu->trace);
    memset(cpu->trace_rr, 0, sizeof cpu->trace_rr);
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
    cpu->check = true;
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
