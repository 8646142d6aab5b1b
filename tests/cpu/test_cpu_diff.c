/*
 * test_cpu_diff.c - differential test of the core against Unicorn (QEMU's
 * Cortex-M0 model, UC_MODE_THUMB | UC_MODE_MCLASS).
 *
 * Each sequence is a run of "units" drawn from every ARMv6-M encoding class
 * the two emulators should agree on, with random operands, registers, flags
 * (all sixteen NZCV combinations in turn) and RAM contents. Units that need
 * a valid address first build it with MOVS/LSLS/ADDS (so loads and stores
 * hit the shared RAM, aligned); branches go forward inside the sequence,
 * over padding that may or may not execute. Both emulators run from the
 * same start to the same end address; then registers, flags, PRIMASK and
 * the whole RAM are compared.
 *
 * Not compared here, and why (docs/cpu.md): SVC, BKPT, UDF, undefined
 * encodings and faults (they enter exceptions, which Unicorn stops on
 * rather than modelling the NVIC), WFI/WFE (Unicorn treats them as a halt
 * request), MSR to MSP/PSP/CONTROL (the stack switch would move PUSH/POP
 * off the shared RAM; covered by the unit tests), and UNPREDICTABLE forms.
 *
 * Seeded: VMSTRESS_DIFF_SEED (default fixed), VMSTRESS_DIFF_SEQS (default
 * 2000; the nightly job uses 100000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>

#include "cpu_impl.h"
#include "thumb.h"

#define FLASH_SIZE 0x10000u
#define RAM_BASE 0x20000000u
#define RAM_SIZE 0x10000u
#define CODE_BASE 0x1000u
#define SP_MID 0x20008000u
#define MAX_HW 400              /* halfwords of code per sequence */

/* ----------------------------------------------------- encoding classes */

#define CLASSES(X) \
    X(LSL_IMM) X(LSR_IMM) X(ASR_IMM) X(MOVS_REG) X(ADDS_REG) X(SUBS_REG) X(ADDS_IMM3) X(SUBS_IMM3) \
    X(MOVS_IMM8) X(CMP_IMM8) X(ADDS_IMM8) X(SUBS_IMM8) \
    X(AND) X(EOR) X(LSL_REG) X(LSR_REG) X(ASR_REG) X(ADC) X(SBC) X(ROR) X(TST) X(RSB) X(CMP_REG) \
    X(CMN) X(ORR) X(MUL) X(BIC) X(MVN) \
    X(ADD_HI) X(ADD_SP_REG) X(CMP_HI) X(MOV_HI) X(MOV_SP) X(BX) X(BLX) X(MOV_PC) X(ADD_PC) \
    X(LDR_LIT) X(STR_REG) X(STRH_REG) X(STRB_REG) X(LDRSB_REG) X(LDR_REG) X(LDRH_REG) X(LDRB_REG) \
    X(LDRSH_REG) X(STR_IMM) X(LDR_IMM) X(STRB_IMM) X(LDRB_IMM) X(STRH_IMM) X(LDRH_IMM) \
    X(STR_SP) X(LDR_SP) X(ADR) X(ADD_RD_SP) X(ADD_SP_IMM) X(SUB_SP_IMM) \
    X(SXTH) X(SXTB) X(UXTH) X(UXTB) X(PUSH) X(PUSH_LR) X(POP) X(POP_PC) X(CPSIE) X(CPSID) \
    X(REV) X(REV16) X(REVSH) X(NOP) X(YIELD) X(SEV) X(STM) X(LDM) X(LDM_BASE_IN_LIST) \
    X(B_COND) X(B) X(BL) X(MRS) X(MSR_APSR) X(MSR_PRIMASK) X(DMB) X(DSB) X(ISB)

#define AS_ENUM(n) C_##n,
#define AS_NAME(n) #n,
enum { CLASSES(AS_ENUM) N_CLASSES };
static const char *const class_names[] = { CLASSES(AS_NAME) };

/* ------------------------------------------------------------ generator */

typedef struct Gen {
    uint64_t rng;
    uint16_t code[MAX_HW + 64];
    unsigned n;
    uint32_t sp;                /* SP as the sequence will leave it (tracked exactly) */
    unsigned hits[N_CLASSES];
    uint8_t seen[65536 / 8];    /* distinct first halfwords emitted */
} Gen;

static uint32_t rnd(Gen *g)
{
    /* xorshift64*: small, seeded, reproducible. */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (uint32_t)((g->rng * 0x2545F4914F6CDD1Dull) >> 32);
}
static unsigned rn(Gen *g, unsigned n) { return rnd(g) % n; }
static unsigned lo(Gen *g) { return rn(g, 8); }

static uint32_t addr_of(const Gen *g) { return CODE_BASE + 2 * g->n; }

static void emit(Gen *g, int cls, uint16_t hw)
{
    g->code[g->n++] = hw;
    if (cls >= 0) {
        g->hits[cls]++;
        g->seen[hw >> 3] |= (uint8_t)(1u << (hw & 7));
    }
}

static void emit32(Gen *g, int cls, uint32_t w)
{
    emit(g, cls, (uint16_t)(w >> 16));
    emit(g, -1, (uint16_t)w);
}

/* A random instruction that is safe whether or not it executes (padding). */
static uint16_t filler(Gen *g)
{
    switch (rn(g, 4)) {
    case 0: return T_ADDS_I8(lo(g), rn(g, 256));
    case 1: return T_DP(rn(g, 16), lo(g), lo(g));
    case 2: return T_MOVS_I(lo(g), rn(g, 256));
    default: return T_LSL_I(lo(g), lo(g), rn(g, 32));
    }
}

static void pad(Gen *g, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        emit(g, -1, filler(g));
}

/* rb = RAM_BASE + off (off < 256), leaving flags changed. */
static void set_ram_ptr(Gen *g, unsigned rb, unsigned off)
{
    emit(g, C_MOVS_IMM8, T_MOVS_I(rb, 0x20));
    emit(g, C_LSL_IMM, T_LSL_I(rb, rb, 24));
    emit(g, C_ADDS_IMM8, T_ADDS_I8(rb, off));
}

static unsigned two_distinct(Gen *g, unsigned *b)
{
    unsigned a = lo(g);
    do *b = lo(g); while (*b == a);
    return a;
}

/* Forward branch target skeleton: ADR rx to an aligned target after `skip`
 * padding halfwords following `tail` more halfwords of instructions. */
static unsigned adr_to_target(Gen *g, unsigned rx, unsigned tail, unsigned skip, uint32_t *target)
{
    uint32_t at = addr_of(g);
    uint32_t t = at + 2 + 2 * tail + 2 * skip;
    t = (t + 3) & ~3u;
    *target = t;
    uint32_t base = (at + 4) & ~3u;
    emit(g, C_ADR, T_ADR(rx, (t - base) / 4));
    return (t - (at + 2 + 2 * tail)) / 2;   /* padding halfwords actually needed */
}

/* Sometimes copy the flags into a register, so that a wrong flag shows
 * even when a later instruction would overwrite it. */
static void maybe_capture_flags(Gen *g)
{
    if (rn(g, 3) == 0)
        emit32(g, C_MRS, T32_MRS(rn(g, 13), 0));
}

static void unit(Gen *g)
{
    unsigned d, m, n;
    maybe_capture_flags(g);     /* the flags left by the previous unit */
    switch (rn(g, 40)) {
    case 0: {
        unsigned k = rn(g, 3), i = rn(g, 32);
        d = lo(g); m = lo(g);
        if (k == 0) emit(g, i ? C_LSL_IMM : C_MOVS_REG, T_LSL_I(d, m, i));
        else if (k == 1) emit(g, C_LSR_IMM, T_LSR_I(d, m, i));
        else emit(g, C_ASR_IMM, T_ASR_I(d, m, i));
        break;
    }
    case 1: {
        static const int cls[4] = { C_ADDS_REG, C_SUBS_REG, C_ADDS_IMM3, C_SUBS_IMM3 };
        unsigned k = rn(g, 4);
        emit(g, cls[k], (uint16_t)(0x1800 | k << 9 | lo(g) << 6 | lo(g) << 3 | lo(g)));
        break;
    }
    case 2: case 3: {
        static const int cls[4] = { C_MOVS_IMM8, C_CMP_IMM8, C_ADDS_IMM8, C_SUBS_IMM8 };
        unsigned k = rn(g, 4);
        emit(g, cls[k], (uint16_t)(0x2000 | k << 11 | lo(g) << 8 | rn(g, 256)));
        break;
    }
    case 4: case 5: case 6: case 7: {
        unsigned op = rn(g, 16);
        d = lo(g); m = lo(g);
        bool shift = op == 2 || op == 3 || op == 4 || op == 7;
        if (shift && rn(g, 2)) {
            /* An amount around the interesting edges: 0, 1..31, 32, 33+, bottom byte only. */
            static const uint8_t amt[] = { 0, 1, 2, 7, 15, 16, 31, 32, 33, 40, 63, 64, 128, 255 };
            do m = lo(g); while (m == d);
            emit(g, C_MOVS_IMM8, T_MOVS_I(m, rn(g, 2) ? amt[rn(g, sizeof amt)] : rn(g, 256)));
        }
        emit(g, C_AND + (int)op, T_DP(op, d, m));
        break;
    }
    case 8: {                                   /* ADD/CMP/MOV with high registers */
        unsigned k = rn(g, 3);
        if (k == 0) {
            do d = rn(g, 15); while (d == 13);
            m = rn(g, 16);
            if (d == 15) d = 14;
            emit(g, C_ADD_HI, T_ADD_HI(d, m));
        } else if (k == 1) {
            do { n = rn(g, 15); m = rn(g, 15); } while (n < 8 && m < 8);
            emit(g, C_CMP_HI, T_CMP_HI(n, m));
        } else {
            do d = rn(g, 15); while (d == 13);
            emit(g, C_MOV_HI, T_MOV_HI(d, rn(g, 16)));
        }
        break;
    }
    case 9: {                                   /* SP written from a register, kept in RAM */
        m = lo(g);
        if (rn(g, 2)) {
            unsigned k = rn(g, 32);
            if (g->sp + 4 * k > SP_MID + 0x1000) k = 0;
            emit(g, C_MOVS_IMM8, T_MOVS_I(m, 4 * k));
            emit(g, C_ADD_SP_REG, T_ADD_HI(13, m));
            g->sp += 4 * k;
        } else {
            unsigned k = rn(g, 64);
            if (g->sp - 4 * k < SP_MID - 0x1000) k = 0;
            emit(g, C_MOV_HI, T_MOV_HI(m, 13));
            emit(g, C_SUBS_IMM8, T_SUBS_I8(m, 4 * k));
            emit(g, C_MOV_SP, T_MOV_HI(13, m));
            g->sp -= 4 * k;
        }
        break;
    }
    case 10: {                                  /* BX / BLX / MOV pc / POP {pc} to a forward target */
        unsigned k = rn(g, 4), skip = rn(g, 4);
        uint32_t t;
        m = lo(g);
        unsigned tail = k == 3 ? 3 : 2;         /* ADDS, [PUSH], branch */
        unsigned need = adr_to_target(g, m, tail, skip, &t);
        emit(g, C_ADDS_IMM8, T_ADDS_I8(m, 1));
        if (k == 0) emit(g, C_BX, T_BX(m));
        else if (k == 1) emit(g, C_BLX, T_BLX(m));
        else if (k == 2) emit(g, C_MOV_PC, T_MOV_HI(15, m));
        else { emit(g, C_PUSH, T_PUSH(1u << m, 0)); emit(g, C_POP_PC, T_POP(0, 1)); }
        pad(g, need);
        if (addr_of(g) != t) fail_msg("branch target layout");
        break;
    }
    case 11: {                                  /* ADD pc, rm */
        unsigned skip = rn(g, 5);
        m = lo(g);
        emit(g, C_MOVS_IMM8, T_MOVS_I(m, 2 * skip));
        emit(g, C_ADD_PC, T_ADD_HI(15, m));
        pad(g, skip + 1);                       /* pc reads as the ADD's address + 4 */
        break;
    }
    case 12:
        emit(g, C_LDR_LIT, T_LDR_LIT(lo(g), rn(g, 256)));
        break;
    case 13: case 14: {                         /* register offset */
        static const uint8_t size[8] = { 4, 2, 1, 1, 4, 2, 1, 2 };
        unsigned op = rn(g, 8), t = lo(g);
        n = two_distinct(g, &m);
        unsigned o1 = rn(g, 128) & ~(size[op] - 1u), o2 = rn(g, 128) & ~(size[op] - 1u);
        set_ram_ptr(g, n, o1);
        emit(g, C_MOVS_IMM8, T_MOVS_I(m, o2));
        emit(g, C_STR_REG + (int)op, T_LS_REG(op, t, n, m));
        break;
    }
    case 15: case 16: {                         /* immediate offset */
        unsigned k = rn(g, 6), t = lo(g), i = rn(g, 32);
        n = lo(g);
        set_ram_ptr(g, n, rn(g, 64) * 4);
        static const uint16_t base[6] = { 0x6000, 0x6800, 0x7000, 0x7800, 0x8000, 0x8800 };
        emit(g, C_STR_IMM + (int)k, (uint16_t)(base[k] | i << 6 | n << 3 | t));
        break;
    }
    case 17: {
        bool ldr = rn(g, 2);
        d = lo(g);
        emit(g, ldr ? C_LDR_SP : C_STR_SP, ldr ? T_LDR_SP(d, rn(g, 256)) : T_STR_SP(d, rn(g, 256)));
        break;
    }
    case 18:
        emit(g, C_ADR, T_ADR(lo(g), rn(g, 256)));
        break;
    case 19:
        emit(g, C_ADD_RD_SP, T_ADD_RSP(lo(g), rn(g, 256)));
        break;
    case 20: {
        unsigned k = rn(g, 128);
        if (g->sp > SP_MID) { emit(g, C_SUB_SP_IMM, T_SUB_SP(k)); g->sp -= 4 * k; }
        else { emit(g, C_ADD_SP_IMM, T_ADD_SP(k)); g->sp += 4 * k; }
        break;
    }
    case 21: {
        unsigned op = rn(g, 4);
        emit(g, C_SXTH + (int)op, T_EXT(op, lo(g), lo(g)));
        break;
    }
    case 22: {
        unsigned list = rn(g, 255) + 1, lr = rn(g, 2);
        emit(g, lr ? C_PUSH_LR : C_PUSH, T_PUSH(list, lr));
        g->sp -= 4 * ((unsigned)__builtin_popcount(list) + lr);
        break;
    }
    case 23: {
        unsigned list = rn(g, 255) + 1;
        emit(g, C_POP, T_POP(list, 0));
        g->sp += 4 * (unsigned)__builtin_popcount(list);
        break;
    }
    case 24:
        if (rn(g, 2)) emit(g, C_CPSIE, T_CPSIE); else emit(g, C_CPSID, T_CPSID);
        break;
    case 25: {
        static const unsigned op[3] = { 0, 1, 3 };
        unsigned k = rn(g, 3);
        emit(g, C_REV + (int)k, T_REV(op[k], lo(g), lo(g)));
        break;
    }
    case 26: {
        static const unsigned op[3] = { 0, 1, 4 };
        unsigned k = rn(g, 3);
        emit(g, C_NOP + (int)k, T_HINT(op[k]));
        break;
    }
    case 27: case 28: {                         /* STM / LDM */
        n = lo(g);
        set_ram_ptr(g, n, rn(g, 64) * 4);
        unsigned list = rn(g, 255) + 1;
        if (rn(g, 2)) {
            /* The base, if stored, must be the lowest register (else UNKNOWN). */
            if ((list >> n & 1) && (list & ((1u << n) - 1)))
                list &= ~(1u << n);
            if (!list) list = 1u << n;
            emit(g, C_STM, T_STM(n, list));
        } else {
            emit(g, (list >> n & 1) ? C_LDM_BASE_IN_LIST : C_LDM, T_LDM(n, list));
        }
        break;
    }
    case 29: case 30: {                         /* B<cond> forward over padding */
        unsigned skip = rn(g, 4);
        emit(g, C_B_COND, T_BCOND(rn(g, 14), skip));
        pad(g, skip + 1);
        break;
    }
    case 31: {
        unsigned skip = rn(g, 4);
        emit(g, C_B, T_B(skip));
        pad(g, skip + 1);
        break;
    }
    case 32: {
        unsigned skip = rn(g, 4);
        emit32(g, C_BL, t32_bl((int32_t)(2 * skip)));
        pad(g, skip);
        break;
    }
    case 33: case 34: {
        static const uint8_t sysm[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 16, 20 };
        do d = rn(g, 13); while (d == 13);
        emit32(g, C_MRS, T32_MRS(d, sysm[rn(g, sizeof sysm)]));
        break;
    }
    case 35: {
        /* Flags from bits 31:28 of a fresh value with bit 27 clear: Unicorn
         * keeps a Q flag that ARMv6-M does not have (docs/cpu.md). */
        n = lo(g);
        emit(g, C_MOVS_IMM8, T_MOVS_I(n, rn(g, 256) & ~8u));
        emit(g, C_LSL_IMM, T_LSL_I(n, n, 24));
        emit32(g, C_MSR_APSR, T32_MSR(n, rn(g, 4)));
        break;
    }
    case 36:
        emit32(g, C_MSR_PRIMASK, T32_MSR(rn(g, 13), 16));
        break;
    case 37: emit32(g, C_DMB, T32_DMB); break;
    case 38: emit32(g, C_DSB, T32_DSB); break;
    default: emit32(g, C_ISB, T32_ISB); break;
    }
}

/* ------------------------------------------------------------ the two cores */

typedef struct Flat {
    uint8_t flash[FLASH_SIZE];
    uint8_t ram[RAM_SIZE];
    uint8_t ram0[RAM_SIZE];
    VClock clock;
    Cpu *cpu;
    uc_engine *uc;
} Flat;

typedef struct Regs {
    uint32_t r[16];
    uint32_t nzcv;
    uint32_t primask;
} Regs;

static void uc_check(uc_err e, const char *what)
{
    if (e != UC_ERR_OK)
        fail_msg("unicorn %s: %s", what, uc_strerror(e));
}

static Flat *flat_new(void)
{
    Flat *f = calloc(1, sizeof *f);
    vclock_init(&f->clock);
    CpuBus bus = { .opaque = f, .flash = f->flash, .flash_size = FLASH_SIZE, .sram = f->ram,
                   .sram_base = RAM_BASE, .sram_size = RAM_SIZE, .clock = &f->clock };
    f->cpu = cpu_new(&bus);
    uc_check(uc_open(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, &f->uc), "open");
    uc_check(uc_ctl_set_cpu_model(f->uc, UC_CPU_ARM_CORTEX_M0), "cpu model");
    uc_check(uc_mem_map(f->uc, 0, FLASH_SIZE, UC_PROT_ALL), "map flash");
    uc_check(uc_mem_map(f->uc, RAM_BASE, RAM_SIZE, UC_PROT_ALL), "map ram");
    return f;
}

static void flat_free(Flat *f)
{
    cpu_free(f->cpu);
    uc_close(f->uc);
    free(f);
}

static const int uc_gpr[16] = {
    UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4, UC_ARM_REG_R5,
    UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9, UC_ARM_REG_R10, UC_ARM_REG_R11,
    UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_PC,
};

static bool run_ours(Flat *f, const Regs *in, uint32_t end, Regs *out)
{
    Cpu *c = f->cpu;
    memset(&c->st, 0, sizeof c->st);
    memset(&c->nvic, 0, sizeof c->nvic);
    c->st.run = CPU_RUNNING;
    for (unsigned i = 0; i < 16; i++)
        cpu_set_reg(c, i, in->r[i]);
    cpu_set_reg(c, 16, in->nzcv << 28);
    c->st.primask = in->primask;
    memcpy(f->ram, f->ram0, RAM_SIZE);
    bool ok = true;
    for (unsigned i = 0; i < 4 * MAX_HW && cpu_reg(c, 15) != end; i++) {
        cpu_exec(c, 1);
        if (c->st.ipsr || cpu_run_state(c) != CPU_RUNNING) {
            ok = false;
            break;
        }
    }
    for (unsigned i = 0; i < 16; i++)
        out->r[i] = cpu_reg(c, i);
    out->nzcv = cpu_reg(c, 16) >> 28;
    out->primask = c->st.primask;
    return ok && cpu_reg(c, 15) == end;
}

static bool run_uc(Flat *f, const Regs *in, uint32_t start, uint32_t end, Regs *out, uint8_t *ram)
{
    uc_engine *uc = f->uc;
    uc_check(uc_mem_write(uc, 0, f->flash, FLASH_SIZE), "write flash");
    uc_check(uc_ctl_remove_cache(uc, 0, FLASH_SIZE), "flush");
    uc_check(uc_mem_write(uc, RAM_BASE, f->ram0, RAM_SIZE), "write ram");
    for (unsigned i = 0; i < 15; i++) {
        uint32_t v = in->r[i];
        uc_check(uc_reg_write(uc, uc_gpr[i], &v), "reg");
    }
    uint32_t psr = in->nzcv << 28;
    uc_check(uc_reg_write(uc, UC_ARM_REG_APSR, &psr), "apsr");
    uint32_t pm = in->primask;
    uc_check(uc_reg_write(uc, UC_ARM_REG_PRIMASK, &pm), "primask");
    /* Unicorn returns early after some hints (SEV, barriers) and reports
     * YIELD as an invalid instruction with pc already past it: resume. */
    uc_err e = uc_emu_start(uc, start | 1, end, 0, 4 * MAX_HW);
    for (unsigned i = 0; i < MAX_HW; i++) {
        uint32_t pc = 0;
        uc_check(uc_reg_read(uc, UC_ARM_REG_PC, &pc), "pc");
        bool after_yield = e == UC_ERR_INSN_INVALID && pc >= 2 && pc < FLASH_SIZE &&
                           (f->flash[pc - 2] | f->flash[pc - 1] << 8) == T_HINT(1);
        if (after_yield)
            e = UC_ERR_OK;
        if (pc == end || e != UC_ERR_OK)
            break;
        e = uc_emu_start(uc, pc | 1, end, 0, 4 * MAX_HW);
    }
    for (unsigned i = 0; i < 16; i++)
        uc_check(uc_reg_read(uc, uc_gpr[i], &out->r[i]), "reg");
    uint32_t x = 0;
    uc_check(uc_reg_read(uc, UC_ARM_REG_XPSR, &x), "xpsr");
    out->nzcv = x >> 28;
    uc_check(uc_reg_read(uc, UC_ARM_REG_PRIMASK, &out->primask), "primask");
    uc_check(uc_mem_read(uc, RAM_BASE, ram, RAM_SIZE), "read ram");
    return e == UC_ERR_OK && out->r[15] == end;
}

static void dump(const Gen *g, const Regs *in, const Regs *a, const Regs *b)
{
    fprintf(stderr, "sequence at %#x, %u halfwords:\n", CODE_BASE, g->n);
    for (unsigned i = 0; i < g->n; i++)
        fprintf(stderr, "%04x%s", g->code[i], i % 16 == 15 ? "\n" : " ");
    fprintf(stderr, "\n%-6s %-10s %-10s %-10s\n", "reg", "initial", "vmstress", "unicorn");
    for (unsigned i = 0; i < 16; i++)
        fprintf(stderr, "r%-5u %08x   %08x   %08x%s\n", i, in->r[i], a->r[i], b->r[i],
                a->r[i] != b->r[i] ? "  <--" : "");
    fprintf(stderr, "nzcv   %x          %x          %x\nprimask %u         %u          %u\n",
            in->nzcv, a->nzcv, b->nzcv, in->primask, a->primask, b->primask);
}

static uint32_t interesting(Gen *g)
{
    static const uint32_t v[] = { 0, 1, 2, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0xfffffffeu,
                                  0x80000001u, 0x0000ffffu, 0x00008000u, 0x000000ffu, 0x00000080u, 31, 32, 33 };
    switch (rn(g, 3)) {
    case 0: return v[rn(g, sizeof v / sizeof v[0])];
    case 1: return rnd(g) & 0xff;
    default: return rnd(g);
    }
}

static void cpu_diff_unicorn(void **state)
{
    const char *env = getenv("VMSTRESS_DIFF_SEQS");
    unsigned seqs = env ? (unsigned)strtoul(env, NULL, 0) : 2000;
    const char *senv = getenv("VMSTRESS_DIFF_SEED");
    Gen *g = calloc(1, sizeof *g);
    g->rng = senv ? strtoull(senv, NULL, 0) : 0x5EED0F0C0DE5ull;
    if (!g->rng) g->rng = 1;
    Flat *f = flat_new();
    uint8_t *uram = malloc(RAM_SIZE);
    unsigned mismatches = 0;
    for (unsigned s = 0; s < seqs && mismatches < 5; s++) {
        for (uint32_t i = 0; i < FLASH_SIZE; i += 4) {
            uint32_t v = rnd(g);
            memcpy(f->flash + i, &v, 4);
        }
        for (uint32_t i = 0; i < RAM_SIZE; i += 4) {
            uint32_t v = rnd(g);
            memcpy(f->ram0 + i, &v, 4);
        }
        Regs in = { .nzcv = s & 15, .primask = rn(g, 2) };
        for (unsigned i = 0; i < 15; i++)
            in.r[i] = interesting(g);
        in.r[13] = SP_MID + 8 * (rn(g, 64) - 32u) + 4 * rn(g, 2);
        in.r[15] = CODE_BASE;
        g->n = 0;
        g->sp = in.r[13];
        unsigned units = 8 + rn(g, 24);
        for (unsigned u = 0; u < units && g->n < MAX_HW; u++)
            unit(g);
        uint32_t end = addr_of(g);
        emit(g, -1, T_B(-2));
        for (unsigned i = 0; i < g->n; i++) {
            f->flash[CODE_BASE + 2 * i] = (uint8_t)g->code[i];
            f->flash[CODE_BASE + 2 * i + 1] = (uint8_t)(g->code[i] >> 8);
        }
        Regs a, b;
        bool ok_a = run_ours(f, &in, end, &a);
        bool ok_b = run_uc(f, &in, CODE_BASE, end, &b, uram);
        bool same = ok_a && ok_b && memcmp(&a, &b, sizeof a) == 0 && memcmp(f->ram, uram, RAM_SIZE) == 0;
        if (!same) {
            mismatches++;
            fprintf(stderr, "MISMATCH in sequence %u (ours %s, unicorn %s)\n", s,
                    ok_a ? "ok" : "faulted", ok_b ? "ok" : "faulted");
            for (uint32_t i = 0; i < RAM_SIZE; i++)
                if (f->ram[i] != uram[i]) {
                    fprintf(stderr, "first RAM difference at %#x: %02x vs %02x\n", RAM_BASE + i, f->ram[i], uram[i]);
                    break;
                }
            dump(g, &in, &a, &b);
        }
    }
    unsigned missing = 0, distinct = 0;
    for (unsigned i = 0; i < 65536; i++)
        distinct += g->seen[i >> 3] >> (i & 7) & 1;
    for (unsigned c = 0; c < N_CLASSES; c++)
        if (!g->hits[c]) {
            fprintf(stderr, "class %s never exercised\n", class_names[c]);
            missing++;
        }
    printf("cpu_diff: %u sequences, %u encoding classes (all %s), %u distinct 16-bit first halfwords, %u mismatches\n",
           seqs, N_CLASSES, missing ? "NOT covered" : "covered", distinct, mismatches);
    free(uram);
    flat_free(f);
    free(g);
    assert_int_equal(mismatches, 0);
    assert_int_equal(missing, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_diff_unicorn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
