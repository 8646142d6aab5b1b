/*
 * test_cpu.c - unit tests for the core: exceptions, faults, NVIC, SysTick,
 * SCB, sleep, trace and migration of the core's three sections. Programs
 * are hand-assembled with thumb.h into the flat bench of tb.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "cpu_impl.h"
#include "tb.h"

#define SCS_ISER 0xE000E100u
#define SCS_ICER 0xE000E180u
#define SCS_ISPR 0xE000E200u
#define SCS_ICPR 0xE000E280u
#define SCS_IPR0 0xE000E400u
#define SCS_ICSR 0xE000ED04u
#define SCS_VTOR 0xE000ED08u
#define SCS_AIRCR 0xE000ED0Cu
#define SCS_SCR 0xE000ED10u
#define SCS_SHPR2 0xE000ED1Cu
#define SCS_SHPR3 0xE000ED20u
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u

static uint32_t scs_rd(TB *tb, uint32_t a)
{
    uint32_t v = 0;
    assert_true(scs_read(tb->cpu, a, 4, &v));
    return v;
}

static void scs_wr(TB *tb, uint32_t a, uint32_t v)
{
    assert_true(scs_write(tb->cpu, a, 4, v));
}

static TB *setup_tb(void)
{
    TB *tb = tb_new();
    assert_non_null(tb->cpu);
    assert_int_equal(cpu_reg(tb->cpu, 13), TB_SP0);
    assert_int_equal(cpu_reg(tb->cpu, 15), TB_RESET);
    return tb;
}

/* ------------------------------------------------------------ basics */

static void cpu_reset_vector_and_alu(void **state)
{
    TB *tb = setup_tb();
    CODE(tb, TB_RESET, T_MOVS_I(0, 200), T_MOVS_I(1, 100), T_ADDS_R(2, 0, 1), T_LSL_I(3, 2, 24),
         T_ADDS_R(4, 3, 3), T_SUBS_I3(5, 1, 7), T_B(-2));
    tb_steps(tb, 6);
    Cpu *c = tb->cpu;
    assert_int_equal(cpu_reg(c, 2), 300);
    assert_int_equal(cpu_reg(c, 3), 300u << 24);
    assert_int_equal(cpu_reg(c, 4), (uint32_t)(600u << 24));
    assert_int_equal(cpu_reg(c, 5), 93);
    /* ADDS r4 = 0x2C000000 + 0x2C000000: no carry, no overflow... SUBS 100-7: C=1 (no borrow). */
    assert_int_equal(cpu_reg(c, 16) >> 28, 0x2);
    assert_int_equal(cpu_reg(c, 15), TB_RESET + 12);
    assert_int_equal(tb->clock.cycles, 6);
    tb_free(tb);
}

/* ------------------------------------------------------- exceptions */

/* An IRQ taken from Thread mode on MSP with a misaligned (4 mod 8) SP. */
static void cpu_exception_frame_and_return(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    cpu_set_reg(c, 13, 0x20003FFCu);
    CODE(tb, TB_RESET, T_MOVS_I(0, 10), T_MOVS_I(1, 11), T_MOVS_I(2, 12), T_MOVS_I(3, 13),
         T_MOVS_I(4, 14), T_MOV_HI(12, 4), T_MOVS_I(4, 15), T_MOV_HI(14, 4),
         T_CMP_I(0, 10) /* Z=1 C=1 */, T_NOP, T_NOP, T_B(-2));
    CODE(tb, TB_IRQ(5), T_MOVS_I(0, 99), T_MOVS_I(1, 98), T_BX(14));
    scs_wr(tb, SCS_ISER, 1u << 5);
    tb_steps(tb, 9);
    assert_int_equal(cpu_reg(c, 15), TB_RESET + 18);
    cpu_set_irq(c, 5, true);
    tb_steps(tb, 1);            /* entry, then the first handler instruction */
    assert_int_equal(c->st.ipsr, 21);
    assert_int_equal(cpu_reg(c, 15), TB_IRQ(5) + 2);
    assert_int_equal(cpu_reg(c, 14), 0xFFFFFFF9u);
    uint32_t frame = (0x20003FFCu - 0x20) & ~4u;
    assert_int_equal(cpu_reg(c, 13), frame);
    const uint32_t want[8] = { 10, 11, 12, 13, 14, 15, TB_RESET + 18, 0x61000000u | 1u << 9 };
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(tb_r32(tb, frame + 4 * i), want[i]);
    assert_int_equal(scs_rd(tb, SCS_ICSR) & 0x1FF, 21);
    assert_int_equal(scs_rd(tb, SCS_ISPR), 0);        /* entry clears pending; no new edge */
    cpu_set_irq(c, 5, false);
    scs_wr(tb, SCS_ICPR, 1u << 5);
    tb_steps(tb, 2);            /* MOVS r1; BX lr -> return */
    assert_int_equal(c->st.ipsr, 0);
    assert_int_equal(cpu_reg(c, 13), 0x20003FFCu);
    assert_int_equal(cpu_reg(c, 0), 10);
    assert_int_equal(cpu_reg(c, 1), 11);
    assert_int_equal(cpu_reg(c, 12), 14);
    assert_int_equal(cpu_reg(c, 14), 15);
    assert_int_equal(cpu_reg(c, 15), TB_RESET + 18);
    assert_int_equal(cpu_reg(c, 16), 0x61000000u);
    assert_int_equal(c->nvic.active, 0);
    tb_free(tb);
}

/* Thread mode on PSP: SVC stacks on PSP, the handler runs on MSP, EXC_RETURN FD. */
static void cpu_exception_psp(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    uint32_t a = TB_RESET;
    uint16_t l0 = tb_ldr_lit(tb, a, 0, 0x20004000u, 0x1F0);
    a = CODE(tb, a, l0, W32(T32_MSR(0, 9)) /* PSP = r0 */, T_MOVS_I(1, 2), W32(T32_MSR(1, 20)),
             W32(T32_ISB), W32(T32_MRS(2, 20)), T_MOV_HI(3, 13), T_SVC(7), T_MOVS_I(5, 1), T_B(-2));
    CODE(tb, TB_SVC, T_MOV_HI(4, 13), W32(T32_MRS(6, 9)), W32(T32_MRS(7, 20)), T_BX(14));
    tb_steps(tb, 9);            /* up to and including SVC, then the handler's MOV r4, sp */
    assert_int_equal(cpu_reg(c, 2), 2);
    assert_int_equal(cpu_reg(c, 3), 0x20004000u);
    assert_int_equal(c->st.ipsr, CPU_EXC_SVCALL);
    assert_int_equal(cpu_reg(c, 14), 0xFFFFFFFDu);
    assert_int_equal(cpu_reg(c, 4), TB_SP0);       /* handler on MSP */
    tb_steps(tb, 2);
    assert_int_equal(cpu_reg(c, 6), 0x20004000u - 0x20);
    assert_int_equal(cpu_reg(c, 7), 0);            /* SPSEL reads 0 in Handler mode */
    assert_int_equal(tb_r32(tb, 0x20004000u - 0x20 + 24), TB_RESET + 24);  /* after the SVC */
    tb_steps(tb, 2);            /* BX lr; MOVS r5 */
    assert_int_equal(c->st.ipsr, 0);
    assert_int_equal(cpu_reg(c, 13), 0x20004000u);
    assert_int_equal(c->st.control, 2);
    assert_int_equal(c->st.sp_other, TB_SP0);
    assert_int_equal(cpu_reg(c, 5), 1);
    tb_free(tb);
}

static void cpu_primask_masks_irq(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    CODE(tb, TB_RESET, T_CPSID, T_NOP, T_NOP, T_CPSIE, T_NOP, T_B(-2));
    scs_wr(tb, SCS_ISER, 1);
    tb_steps(tb, 1);
    cpu_set_irq(c, 0, true);
    tb_steps(tb, 2);
    assert_int_equal(c->st.ipsr, 0);
    assert_int_equal(scs_rd(tb, SCS_ICSR) >> 12 & 0x1FF, 16);   /* VECTPENDING */
    assert_true(scs_rd(tb, SCS_ICSR) & 1u << 22);                /* ISRPENDING */
    tb_steps(tb, 1);            /* CPSIE: taken at the next boundary */
    assert_int_equal(c->st.ipsr, 0);
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, 16);
    assert_int_equal(tb_r32(tb, cpu_reg(c, 13) + 24), TB_RESET + 8);
    tb_free(tb);
}

static void cpu_priority_preemption(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    CODE(tb, TB_RESET, T_NOP, T_NOP, T_NOP, T_B(-2));
    scs_wr(tb, SCS_ISER, 7);
    scs_wr(tb, SCS_IPR0, 0x00C04080u);   /* IRQ0 prio 2, IRQ1 prio 1, IRQ2 prio 3 */
    assert_int_equal(scs_rd(tb, SCS_IPR0), 0x00C04080u);
    scs_wr(tb, SCS_IPR0, 0xFFFFFFFFu);
    assert_int_equal(scs_rd(tb, SCS_IPR0), 0xC0C0C0C0u);           /* only bits 7:6 */
    scs_wr(tb, SCS_IPR0, 0x00C04080u);
    cpu_set_irq(c, 0, true);
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, 16);
    cpu_set_irq(c, 2, true);             /* lower priority: waits */
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, 16);
    cpu_set_irq(c, 1, true);             /* higher: preempts, nested frame */
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, 17);
    assert_int_equal(cpu_reg(c, 14), 0xFFFFFFF1u);
    assert_int_equal(c->nvic.active, 1ull << 16 | 1ull << 17);
    /* Equal priorities do not preempt; the lower number wins among pending. */
    int prio;
    assert_int_equal(cpu_pending_best(c, &prio), 18);
    assert_int_equal(prio, 3);
    tb_free(tb);
}

static void cpu_level_irq_semantics(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    cpu_set_irq(c, 3, true);
    assert_int_equal(scs_rd(tb, SCS_ISPR), 1u << 3);
    scs_wr(tb, SCS_ICPR, 1u << 3);      /* line still high: stays pending */
    assert_int_equal(scs_rd(tb, SCS_ISPR), 1u << 3);
    cpu_set_irq(c, 3, false);
    assert_int_equal(scs_rd(tb, SCS_ISPR), 1u << 3);   /* latched until cleared */
    scs_wr(tb, SCS_ICPR, 1u << 3);
    assert_int_equal(scs_rd(tb, SCS_ISPR), 0);
    scs_wr(tb, SCS_ISPR, 1u << 9);      /* software pend */
    assert_int_equal(scs_rd(tb, SCS_ISPR), 1u << 9);
    scs_wr(tb, SCS_ISER, 0x81);
    scs_wr(tb, SCS_ISER, 0x200);
    assert_int_equal(scs_rd(tb, SCS_ISER), 0x281);
    scs_wr(tb, SCS_ICER, 0x80);
    assert_int_equal(scs_rd(tb, SCS_ICER), 0x201);
    /* Disabled pending interrupts are not VECTPENDING. */
    scs_wr(tb, SCS_ISPR, 1u << 4);
    assert_int_equal(scs_rd(tb, SCS_ICSR) >> 12 & 0x1FF, 16 + 9);
    /* An IRQ whose line stays high is pending again after its handler returns. */
    CODE(tb, TB_RESET, T_NOP, T_NOP, T_B(-2));
    CODE(tb, TB_IRQ(9), T_NOP, T_BX(14));
    scs_wr(tb, SCS_ICPR, 0xFFFFFFFFu);
    scs_wr(tb, SCS_ICER, 0xFFFFFFFFu);
    scs_wr(tb, SCS_ISER, 1u << 9);
    scs_wr(tb, SCS_IPR0 + 8, 0x0000C000u);
    cpu_set_irq(c, 9, true);
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, 25);
    assert_int_equal(scs_rd(tb, SCS_ISPR), 0);     /* entry clears pending */
    tb_steps(tb, 2);            /* NOP, BX lr: returns, re-pends, re-enters */
    assert_int_equal(scs_rd(tb, SCS_ISPR), 0);
    assert_int_equal(c->st.ipsr, 25);
    assert_int_equal(cpu_reg(c, 15), TB_IRQ(9) + 2);
    tb_free(tb);
}

/* ------------------------------------------------------------ faults */

static void expect_hardfault(TB *tb, uint32_t fault_pc)
{
    Cpu *c = tb->cpu;
    assert_int_equal(c->st.ipsr, CPU_EXC_HARDFAULT);
    assert_int_equal(cpu_run_state(c), CPU_RUNNING);
    assert_int_equal(tb_r32(tb, cpu_reg(c, 13) + 24), fault_pc);
    assert_int_equal(cpu_reg(c, 15), TB_HARDFAULT);
}

static void run_fault_case(const uint16_t *code, size_t n, unsigned steps, uint32_t fault_off)
{
    TB *tb = setup_tb();
    tb_code(tb, TB_RESET, code, n);
    /* r7 = 0x20000001 (odd SRAM), r6 = 0x40000100 (bus error), r5 = TB_DEV_REG */
    cpu_set_reg(tb->cpu, 7, 0x20000001u);
    cpu_set_reg(tb->cpu, 6, 0x40000100u);
    cpu_set_reg(tb->cpu, 5, TB_DEV_REG);
    cpu_set_reg(tb->cpu, 4, 0x100u);
    tb_steps(tb, steps);
    expect_hardfault(tb, TB_RESET + fault_off);
    tb_free(tb);
}
#define FAULT_CASE(steps, off, ...) \
    run_fault_case((const uint16_t[]){ __VA_ARGS__ }, sizeof((const uint16_t[]){ __VA_ARGS__ }) / 2, steps, off)

static void cpu_hardfault_causes(void **state)
{
    FAULT_CASE(2, 2, T_NOP, T_UDF(0), T_NOP);                 /* UDF */
    FAULT_CASE(2, 2, T_NOP, W32(T32_UDF(0x1234)));            /* UDF.W */
    FAULT_CASE(1, 0, 0xB100 /* CBZ: not v6-M */);
    FAULT_CASE(1, 0, 0xBF08 /* IT */);
    FAULT_CASE(1, 0, 0xE800 /* 32-bit space 11101 */, 0x0000);
    FAULT_CASE(1, 0, T_LDR_I(0, 7, 0));                       /* unaligned word */
    FAULT_CASE(1, 0, T_LDRH_I(0, 7, 0));                      /* unaligned halfword */
    FAULT_CASE(1, 0, T_STR_I(0, 7, 1));                       /* unaligned store */
    FAULT_CASE(1, 0, T_LDM(7, 3));                            /* unaligned LDM */
    FAULT_CASE(1, 0, T_LDR_I(0, 6, 0));                       /* bus error read */
    FAULT_CASE(1, 0, T_STRB_I(0, 6, 0));                      /* bus error write */
    FAULT_CASE(1, 0, T_STR_I(0, 4, 0));                       /* write to flash */
    FAULT_CASE(1, 0, T_BX(4));                                /* BX to an even address */
    FAULT_CASE(1, 0, T_BKPT(1));                              /* no debugger */
    /* The device register itself works. */
    TB *tb = setup_tb();
    CODE(tb, TB_RESET, T_STR_I(1, 5, 0), T_LDR_I(2, 5, 0), T_B(-2));
    cpu_set_reg(tb->cpu, 5, TB_DEV_REG);
    cpu_set_reg(tb->cpu, 1, 0xCAFE);
    tb_steps(tb, 2);
    assert_int_equal(cpu_reg(tb->cpu, 2), 0xCAFE);
    assert_int_equal(tb->dev_writes, 1);
    tb_free(tb);
}

static void cpu_svc_escalation_pc(void **state)
{
    /* SVC with PRIMASK set stacks the address after the SVC for HardFault. */
    TB *tb = setup_tb();
    CODE(tb, TB_RESET, T_CPSID, T_SVC(0), T_B(-2));
    tb_steps(tb, 2);
    assert_int_equal(tb->cpu->st.ipsr, CPU_EXC_HARDFAULT);
    assert_int_equal(tb_r32(tb, cpu_reg(tb->cpu, 13) + 24), TB_RESET + 4);
    tb_free(tb);
}

static void cpu_lockup(void **state)
{
    TB *tb = setup_tb();
    CODE(tb, TB_RESET, T_UDF(1));
    CODE(tb, TB_HARDFAULT, T_NOP, T_UDF(2));
    uint64_t ran = cpu_exec(tb->cpu, 1000);
    assert_int_equal(cpu_run_state(tb->cpu), CPU_LOCKUP);
    assert_int_equal(ran, 3);
    assert_int_equal(cpu_reg(tb->cpu, 15), 0xFFFFFFFEu);
    assert_int_equal(cpu_exec(tb->cpu, 1000), 0);
    /* Reset leaves lockup. */
    cpu_reset(tb->cpu);
    assert_int_equal(cpu_run_state(tb->cpu), CPU_RUNNING);
    tb_free(tb);
}

static void cpu_bad_exc_return(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    uint16_t l = tb_ldr_lit(tb, TB_SVC, 0, 0xFFFFFFF5u, 0x3F0);
    CODE(tb, TB_RESET, T_SVC(1), T_B(-2));
    CODE(tb, TB_SVC, l, T_BX(0));
    tb_steps(tb, 3);
    expect_hardfault(tb, TB_SVC + 2);
    assert_int_equal(c->nvic.active, 1ull << 3 | 1ull << 11);
    /* POP {pc} with a valid EXC_RETURN returns from HardFault to SVC. */
    CODE(tb, TB_HARDFAULT, T_POP(0, 1));
    cpu_set_reg(c, 13, cpu_reg(c, 13) - 4);
    tb_w32(tb, cpu_reg(c, 13), 0xFFFFFFF1u);
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, CPU_EXC_SVCALL);
    tb_free(tb);
}

/* A timer callback that raises an IRQ is seen at the exact boundary. */
static void raise_irq1(void *opaque)
{
    cpu_set_irq(((TB *)opaque)->cpu, 1, true);
}

static void cpu_timer_irq_exact_boundary(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    for (unsigned i = 0; i < 60; i++)
        tb_w16(tb, TB_RESET + 2 * i, T_NOP);
    tb_w16(tb, TB_RESET + 120, T_B(-2));
    CODE(tb, TB_IRQ(1), T_MOV_HI(8, 13), T_B(-2));
    scs_wr(tb, SCS_ISER, 2);
    VTimer t;
    vtimer_init(&t, &tb->clock, raise_irq1, tb);
    vtimer_mod(&t, 37 * VCLOCK_NS_PER_CYCLE);
    cpu_trace_regs(c, false);
    assert_int_equal(cpu_exec(c, 100), 100);
    /* NOPs ran at cycles 0..36; the IRQ was entered before the one at cycle 37. */
    assert_int_equal(c->st.ipsr, 17);
    assert_int_equal(tb_r32(tb, cpu_reg(c, 8) + 24), TB_RESET + 2 * 37);
    CpuTraceEntry e[CPU_TRACE_LEN];
    size_t n = cpu_trace(c, e, CPU_TRACE_LEN);
    for (size_t i = 0; i < n; i++)
        if (e[i].pc == TB_IRQ(1))
            assert_int_equal(e[i].cycle, 37);
    vtimer_del(&t);
    tb_free(tb);
}

/* A stack pointing nowhere: stacking fails, HardFault stacking fails, lockup. */
static void cpu_stacking_fault_locks_up(void **state)
{
    TB *tb = setup_tb();
    CODE(tb, TB_RESET, T_NOP, T_NOP, T_B(-2));
    cpu_set_reg(tb->cpu, 13, 0x30000000u);
    scs_wr(tb, SCS_ISER, 1);
    cpu_set_irq(tb->cpu, 0, true);
    assert_int_equal(cpu_exec(tb->cpu, 10), 0);
    assert_int_equal(cpu_run_state(tb->cpu), CPU_LOCKUP);
    tb_free(tb);
}

/* The result does not depend on how the machine slices cpu_exec. */
static void setup_busy_program(TB *tb);
static void cpu_exec_slicing_invariant(void **state)
{
    TB *a = setup_tb(), *b = setup_tb();
    setup_busy_program(a);
    setup_busy_program(b);
    cpu_exec(a->cpu, 20000);
    static const unsigned slice[] = { 1, 3, 7, 13, 64, 999, 2 };
    for (unsigned i = 0; b->clock.cycles < 20000; i++) {
        uint64_t left = 20000 - b->clock.cycles;
        uint64_t want = slice[i % 7] < left ? slice[i % 7] : left;
        cpu_exec(b->cpu, want);
    }
    assert_int_equal(a->clock.cycles, b->clock.cycles);
    assert_memory_equal(&a->cpu->st, &b->cpu->st, sizeof a->cpu->st);
    assert_memory_equal(&a->cpu->nvic, &b->cpu->nvic, sizeof a->cpu->nvic);
    assert_memory_equal(a->sram, b->sram, TB_SRAM_SIZE);
    assert_true(a->cpu->st.r[6] > 100);     /* SysTick handler ran many times */
    tb_free(a);
    tb_free(b);
}

/* --------------------------------------------------------- SysTick */

static void cpu_systick_timing(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    CODE(tb, TB_RESET, T_NOP, T_B(-4));
    CODE(tb, TB_SYSTICK, T_MOVS_I(7, 1), T_BX(14));
    assert_int_equal(scs_rd(tb, SYST_CSR), 4);
    assert_int_equal(scs_rd(tb, 0xE000E01Cu) >> 31, 1);         /* NOREF */
    scs_wr(tb, SYST_RVR, 99);
    scs_wr(tb, SYST_CVR, 12345);
    assert_int_equal(scs_rd(tb, SYST_CVR), 0);
    scs_wr(tb, SYST_CSR, 3);    /* enable + tickint at cycle 0 */
    tb_steps(tb, 1);
    assert_int_equal(scs_rd(tb, SYST_CVR), 99);                   /* reloaded on the first tick */
    tb_steps(tb, 50);
    assert_int_equal(scs_rd(tb, SYST_CVR), 49);
    tb_steps(tb, 48);           /* cycle 99: value 1 */
    assert_int_equal(scs_rd(tb, SYST_CVR), 1);
    assert_int_equal(c->st.ipsr, 0);
    tb_steps(tb, 1);
    assert_int_equal(tb->clock.cycles, 100);
    assert_int_equal(c->st.ipsr, 0);
    assert_int_equal(scs_rd(tb, SYST_CVR), 0);
    tb_steps(tb, 1);            /* cycle 100: the wrap pends SysTick at this boundary: entry + MOVS r7 */
    assert_int_equal(c->st.ipsr, CPU_EXC_SYSTICK);
    assert_int_equal(cpu_reg(c, 7), 1);
    uint32_t csr = scs_rd(tb, SYST_CSR);
    assert_int_equal(csr, 0x10007u);                             /* COUNTFLAG */
    assert_int_equal(scs_rd(tb, SYST_CSR), 7u);                  /* cleared by the read */
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, 0);
    /* Next wrap exactly one period (100 cycles) later. */
    cpu_exec(c, 200 - 102);
    assert_int_equal(tb->clock.cycles, 200);
    assert_int_equal(scs_rd(tb, SYST_CVR), 0);
    tb_steps(tb, 1);
    assert_int_equal(c->st.ipsr, CPU_EXC_SYSTICK);
    assert_int_equal(scs_rd(tb, SYST_CVR), 99);
    /* Disable freezes the value. */
    tb_steps(tb, 5);
    scs_wr(tb, SYST_CSR, 0);
    uint32_t v = scs_rd(tb, SYST_CVR);
    tb_steps(tb, 10);
    assert_int_equal(scs_rd(tb, SYST_CVR), v);
    assert_false(vtimer_pending(&c->systick.timer));
    tb_free(tb);
}

/* A new RVR applies at the next reload; COUNTFLAG without TICKINT pends nothing. */
static void cpu_systick_reload_change(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    CODE(tb, TB_RESET, T_B(-2));
    scs_wr(tb, SYST_RVR, 9);
    scs_wr(tb, SYST_CSR, 1);            /* enable, no interrupt */
    tb_steps(tb, 5);
    assert_int_equal(scs_rd(tb, SYST_CVR), 5);
    scs_wr(tb, SYST_RVR, 19);
    tb_steps(tb, 4);
    assert_int_equal(scs_rd(tb, SYST_CVR), 1);
    tb_steps(tb, 1);
    assert_int_equal(scs_rd(tb, SYST_CVR), 0);
    tb_steps(tb, 1);                    /* cycle 11: the wrap at 10 has been processed */
    assert_int_equal(scs_rd(tb, SYST_CVR), 19);
    assert_int_equal(scs_rd(tb, SYST_CSR), 0x10005u);
    assert_false(c->nvic.pending >> CPU_EXC_SYSTICK & 1);
    tb_steps(tb, 19);                   /* cycle 30: the next wrap, one new period later */
    assert_int_equal(scs_rd(tb, SYST_CVR), 0);
    assert_int_equal(c->systick.timer.deadline, 30 * VCLOCK_NS_PER_CYCLE);
    /* Writing CVR restarts from the reload value on the next tick. */
    tb_steps(tb, 3);
    scs_wr(tb, SYST_CVR, 7);
    assert_int_equal(scs_rd(tb, SYST_CVR), 0);
    tb_steps(tb, 1);
    assert_int_equal(scs_rd(tb, SYST_CVR), 19);
    /* RVR = 0 stops the counter at zero with no more wraps. */
    scs_wr(tb, SYST_RVR, 0);
    tb_steps(tb, 40);
    assert_int_equal(scs_rd(tb, SYST_CVR), 0);
    assert_false(vtimer_pending(&c->systick.timer));
    tb_free(tb);
}

/* Odd corners of branches and returns. */
static void cpu_branch_corners(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    /* MOV pc ignores bit 0 (no interworking); BLX to an even address faults. */
    cpu_set_reg(c, 0, TB_RESET + 8);
    cpu_set_reg(c, 1, TB_RESET + 12);
    CODE(tb, TB_RESET, T_MOV_HI(15, 0), T_NOP, T_NOP, T_NOP, T_MOVS_I(2, 1), T_BLX(1), T_B(-2));
    tb_steps(tb, 2);
    assert_int_equal(cpu_reg(c, 2), 1);
    tb_steps(tb, 1);
    expect_hardfault(tb, TB_RESET + 10);
    /* Returning from Thread mode is a plain branch: 0xFFFFFFF9 -> fetch fault. */
    TB *t2 = setup_tb();
    cpu_set_reg(t2->cpu, 14, 0xFFFFFFF9u);
    CODE(t2, TB_RESET, T_BX(14));
    tb_steps(t2, 2);
    expect_hardfault(t2, 0xFFFFFFF8u);
    tb_free(t2);
    /* NMI (through ICSR) preempts HardFault-free code and a fault inside it locks up. */
    TB *t3 = setup_tb();
    tb_w32(t3, 8, 0x500 | 1);
    CODE(t3, TB_RESET, T_NOP, T_B(-2));
    CODE(t3, 0x500, T_MOVS_I(4, 1), T_UDF(0));
    scs_wr(t3, SCS_ICSR, 1u << 31);
    tb_steps(t3, 1);
    assert_int_equal(t3->cpu->st.ipsr, CPU_EXC_NMI);
    tb_steps(t3, 1);
    assert_int_equal(cpu_run_state(t3->cpu), CPU_LOCKUP);
    tb_free(t3);
    tb_free(tb);
}

/* WFI with nothing pending jumps the clock to the next timer deadline. */
static void cpu_wfi_skips_to_deadline(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    CODE(tb, TB_RESET, T_WFI, T_MOVS_I(0, 42), T_B(-2));
    CODE(tb, TB_SYSTICK, T_MOVS_I(4, 7), T_BX(14));   /* r4: not stacked */
    scs_wr(tb, SYST_RVR, 999);
    scs_wr(tb, SYST_CSR, 3);
    uint64_t ran = cpu_exec(c, 500);
    assert_int_equal(ran, 500);
    assert_int_equal(cpu_run_state(c), CPU_SLEEPING);
    assert_int_equal(cpu_reg(c, 0), 0);
    cpu_exec(c, 10000);
    /* Woken at cycle 1000 by SysTick: handler, return, then MOVS r0. */
    assert_int_equal(cpu_reg(c, 4), 7);
    assert_int_equal(cpu_reg(c, 0), 42);
    assert_int_equal(cpu_run_state(c), CPU_RUNNING);
    /* WFI with PRIMASK set still wakes on an interrupt it does not take. */
    TB *t2 = setup_tb();
    CODE(t2, TB_RESET, T_CPSID, T_WFI, T_MOVS_I(0, 5), T_B(-2));
    scs_wr(t2, SCS_ISER, 1);
    cpu_exec(t2->cpu, 100);
    assert_int_equal(cpu_run_state(t2->cpu), CPU_SLEEPING);
    assert_int_equal(t2->clock.cycles, 100);
    cpu_set_irq(t2->cpu, 0, true);
    cpu_exec(t2->cpu, 1);
    assert_int_equal(cpu_reg(t2->cpu, 0), 5);
    assert_int_equal(t2->cpu->st.ipsr, 0);
    tb_free(t2);
    tb_free(tb);
}

static void cpu_wfe_sev(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    CODE(tb, TB_RESET, T_SEV, T_WFE /* consumes the event */, T_WFE /* sleeps */, T_MOVS_I(0, 1), T_B(-2));
    cpu_exec(c, 50);
    assert_int_equal(cpu_run_state(c), CPU_SLEEPING);
    assert_int_equal(cpu_reg(c, 15), TB_RESET + 6);
    assert_int_equal(tb->clock.cycles, 50);
    /* SEVONPEND: a new pend of a disabled IRQ is an event. */
    scs_wr(tb, SCS_SCR, 0x10);
    cpu_set_irq(c, 4, true);
    cpu_exec(c, 1);
    assert_int_equal(cpu_reg(c, 0), 1);
    assert_int_equal(c->st.ipsr, 0);
    tb_free(tb);
}

/* ---------------------------------------------------------------- SCB */

static void cpu_scb_registers(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    assert_int_equal(scs_rd(tb, 0xE000ED00u), 0x410CC200u);
    assert_int_equal(scs_rd(tb, SCS_AIRCR), 0xFA050000u);
    assert_int_equal(scs_rd(tb, 0xE000ED14u), 0x208u);
    scs_wr(tb, SCS_AIRCR, 0x12340004u);             /* wrong key */
    tb_steps(tb, 1);
    assert_int_equal(tb->sysresets, 0);
    scs_wr(tb, SCS_VTOR, 0x20000123u);
    assert_int_equal(scs_rd(tb, SCS_VTOR), 0x20000100u);
    scs_wr(tb, SCS_SHPR2, 0xFFFFFFFFu);
    scs_wr(tb, SCS_SHPR3, 0xFFFFFFFFu);
    assert_int_equal(scs_rd(tb, SCS_SHPR2), 0xC0000000u);
    assert_int_equal(scs_rd(tb, SCS_SHPR3), 0xC0C00000u);
    /* Byte writes work for priorities only. */
    assert_true(scs_write(c, SCS_IPR0 + 2, 1, 0x40));
    assert_int_equal(scs_rd(tb, SCS_IPR0), 0x00400000u);
    assert_false(scs_write(c, SCS_ISER, 1, 1));
    /* ICSR: PendSV set/clear, SysTick set/clear. */
    scs_wr(tb, SCS_ICSR, 1u << 28 | 1u << 26);
    assert_int_equal(scs_rd(tb, SCS_ICSR) & (1u << 28 | 1u << 26), 1u << 28 | 1u << 26);
    assert_int_equal(scs_rd(tb, SCS_ICSR) >> 12 & 0x1FF, 14);     /* equal prio: lower number */
    scs_wr(tb, SCS_ICSR, 1u << 27 | 1u << 25);
    assert_int_equal(scs_rd(tb, SCS_ICSR), 0);
    tb_free(tb);
}

/* SYSRESETREQ from guest code: the callback runs once the STR has
 * completed, so a machine may reset the core from it. */
static void cpu_aircr_sysresetreq(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    uint16_t l0 = tb_ldr_lit(tb, TB_RESET, 0, SCS_AIRCR, 0x1F0);
    uint16_t l1 = tb_ldr_lit(tb, TB_RESET + 2, 1, 0x05FA0004u, 0x1F4);
    uint16_t l2 = tb_ldr_lit(tb, TB_RESET + 4, 2, 0x12340004u, 0x1F8);
    CODE(tb, TB_RESET, l0, l1, l2, T_STR_I(2, 0, 0), T_MOVS_I(3, 1), T_STR_I(1, 0, 0),
         T_MOVS_I(4, 1), T_B(-2));
    tb_steps(tb, 5);
    assert_int_equal(tb->sysresets, 0);             /* wrong key ignored */
    tb_steps(tb, 1);                                /* the STR with the key */
    assert_int_equal(tb->sysresets, 1);
    assert_int_equal(cpu_reg(c, 15), TB_RESET + 12);
    tb->reset_on_sysreset = true;
    cpu_reset(c);
    cpu_exec(c, 8);
    /* Reset inside the callback: back at the reset vector, program restarted. */
    assert_int_equal(tb->sysresets, 2);
    assert_int_equal(cpu_reg(c, 4), 0);
    assert_int_equal(cpu_reg(c, 15), TB_RESET + 4);  /* 6 insns, reset, 2 more */
    tb_free(tb);
}

/* PendSV from code through the SCS, with VTOR relocated to SRAM. */
static void cpu_pendsv_via_vtor(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    uint32_t a = TB_RESET;
    uint16_t l0 = tb_ldr_lit(tb, a, 0, SCS_ICSR, 0x1F0);
    uint16_t l1 = tb_ldr_lit(tb, a + 2, 1, 1u << 28, 0x1F4);
    uint16_t l2 = tb_ldr_lit(tb, a + 4, 2, SCS_VTOR, 0x1F8);
    uint16_t l3 = tb_ldr_lit(tb, a + 6, 3, 0x20000000u, 0x1FC);
    CODE(tb, a, l0, l1, l2, l3, T_STR_I(3, 2, 0), T_STR_I(1, 0, 0), T_MOVS_I(5, 5), T_B(-2));
    tb_w32(tb, 0x20000000u + 4 * 14, 0x600 | 1);
    CODE(tb, 0x600, T_MOVS_I(6, 6), T_BX(14));
    tb_steps(tb, 7);
    assert_int_equal(cpu_reg(c, 6), 6);
    assert_int_equal(cpu_reg(c, 5), 0);     /* PendSV taken right after the STR */
    tb_steps(tb, 2);
    assert_int_equal(cpu_reg(c, 5), 5);
    tb_free(tb);
}

/* -------------------------------------------------- code in SRAM */

/* The decoder keeps nothing per address, so code rewritten in SRAM runs as
 * rewritten: by the guest itself inside one burst (STRH over the next
 * instruction but one), and by the host between cpu_exec calls (what
 * loading a stream does). A decode cache that went stale would fail here. */
static void cpu_self_modifying_sram(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    const uint32_t code = TB_SRAM_BASE + 0x1000;
    CODE(tb, code, T_STRH_I(1, 0, 0), T_NOP, T_MOVS_I(2, 0x11), T_B(-2));
    cpu_set_reg(c, 0, code + 4);
    cpu_set_reg(c, 1, T_MOVS_I(2, 0x77));
    cpu_set_reg(c, 15, code);
    assert_int_equal(cpu_exec(c, 4), 4);
    assert_int_equal(cpu_reg(c, 2), 0x77);
    assert_int_equal(cpu_reg(c, 15), code + 6);
    /* The host rewrites the same halfword; the core runs the new one. */
    tb_w16(tb, code + 4, T_MOVS_I(2, 0x55));
    cpu_set_reg(c, 15, code + 4);
    cpu_exec(c, 1);
    assert_int_equal(cpu_reg(c, 2), 0x55);
    /* Rewritten into UDF, it faults like any UDF. */
    tb_w16(tb, code + 4, T_UDF(0));
    cpu_set_reg(c, 15, code + 4);
    cpu_exec(c, 1);
    assert_int_equal(cpu_reg(c, 16) & 0x3f, CPU_EXC_HARDFAULT);
    assert_int_equal(cpu_reg(c, 15), TB_HARDFAULT);
    tb_free(tb);
}

/* -------------------------------------------------------------- trace */

/* The ring keeps runs (a slot per branch; one per instruction in SRAM or
 * with registers on); expanded, they must list exactly the instructions a
 * one-instruction-per-slot trace lists, whatever the slicing of cpu_exec. */
static void load_trace_program(TB *tb)
{
    CODE(tb, TB_RESET, T_MOVS_I(0, 0), T_MOVS_I(4, 0x20), T_LSL_I(4, 4, 24), T_ADDS_I8(4, 1),
         /* loop: */ T_ADDS_I8(0, 1), W32(0xF3EF8100u) /* MRS r1, APSR */, T_BLX(4), T_NOP,
         T_CMP_I(0, 50), T_BCOND(1, -8) /* BNE loop */, T_B(-2));
    CODE(tb, TB_SRAM_BASE, T_ADDS_I8(2, 1), T_ADDS_I8(2, 1), T_BX(14));
}

static void cpu_trace_runs_expand_exactly(void **state)
{
    static const unsigned slices[] = { 1000, 7, 1 };
    TB *ref = setup_tb();
    load_trace_program(ref);
    cpu_trace_regs(ref->cpu, true);         /* one instruction per slot */
    assert_int_equal(cpu_exec(ref->cpu, 377), 377);
    CpuTraceEntry want[CPU_TRACE_LEN], got[CPU_TRACE_LEN];
    size_t n = cpu_trace(ref->cpu, want, CPU_TRACE_LEN);
    assert_int_equal(n, CPU_TRACE_LEN);
    for (unsigned j = 0; j < sizeof slices / sizeof slices[0]; j++) {
        TB *tb = setup_tb();
        load_trace_program(tb);
        cpu_trace_regs(tb->cpu, false);
        for (unsigned done = 0; done < 377; done += slices[j])
            cpu_exec(tb->cpu, 377 - done < slices[j] ? 377 - done : slices[j]);
        assert_int_equal(cpu_trace(tb->cpu, got, CPU_TRACE_LEN), n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(got[i].cycle, want[i].cycle);
            assert_int_equal(got[i].pc, want[i].pc);
            assert_int_equal(got[i].insn, want[i].insn);
        }
        /* Fewer than asked for: the newest ones. */
        assert_int_equal(cpu_trace(tb->cpu, got, 5), 5);
        for (size_t i = 0; i < 5; i++)
            assert_int_equal(got[i].pc, want[n - 5 + i].pc);
        tb_free(tb);
    }
    tb_free(ref);
}

static void cpu_trace_ring(void **state)
{
    TB *tb = setup_tb();
    Cpu *c = tb->cpu;
    CODE(tb, TB_RESET, T_MOVS_I(0, 1), T_ADDS_I8(0, 2), W32(t32_bl(0)), T_B(-2));
    cpu_trace_regs(c, true);
    tb_steps(tb, 100);
    CpuTraceEntry e[CPU_TRACE_LEN];
    size_t n = cpu_trace(c, e, CPU_TRACE_LEN);
    assert_int_equal(n, CPU_TRACE_LEN);
    assert_int_equal(e[n - 1].cycle, 99);
    assert_int_equal(e[n - 1].pc, TB_RESET + 8);
    assert_int_equal(e[n - 1].insn, 0xE7FE);
    TB *t2 = setup_tb();
    CODE(t2, TB_RESET, T_MOVS_I(0, 1), T_ADDS_I8(0, 2), W32(t32_bl(0)), T_B(-2));
    cpu_trace_regs(t2->cpu, true);
    tb_steps(t2, 3);
    n = cpu_trace(t2->cpu, e, CPU_TRACE_LEN);
    assert_int_equal(n, 3);
    assert_int_equal(e[1].r[0], 1);
    assert_int_equal(e[2].insn, t32_bl(0));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cpu_trace_print(e, n, true, f);
    fclose(f);
    assert_non_null(strstr(buf, "movs"));
    assert_non_null(strstr(buf, "adds"));
    assert_non_null(strstr(buf, "bl"));
    assert_non_null(strstr(buf, "00000100"));
    assert_non_null(strstr(buf, "r0=00000001"));
    free(buf);
    tb_free(t2);
    tb_free(tb);
}

/* --------------------------------------------------------- migration */

/* Is a member carried by a field of the description or its subsections,
 * under its own name? */
typedef struct MemberHit {
    const DevMember *m;
    bool covered;
} MemberHit;

static void member_hit(void *arg, const VmsDesc *d, const VmsField *f, size_t off, size_t size)
{
    MemberHit *h = arg;
    if (off == h->m->offset && f->name && strcmp(f->name, h->m->name) == 0)
        h->covered = true;
}

static void check_members(const CpuComponent *comp)
{
    /* Members must tile the struct: no overlap, gaps only smaller than the
     * next member's alignment, and the descriptions cover every STATE member. */
    size_t at = 0;
    for (const DevMember *m = comp->members; m->name; m++) {
        assert_true(m->offset >= at);
        assert_true(m->offset - at < 8);
        at = m->offset + m->size;
        if (m->kind == DEV_M_HOST || m->kind == DEV_M_VOLATILE)
            assert_non_null(m->reason);
        MemberHit hit = { m, false };
        vms_for_each_member_in(comp->vmsd, comp->opaque, comp->size, member_hit, &hit);
        assert_true(hit.covered);
    }
    assert_true(comp->size - at < 8);
}

static void cpu_components_tables(void **state)
{
    TB *tb = setup_tb();
    CpuComponent comp[4];
    size_t n = cpu_components(tb->cpu, comp, 4);
    assert_int_equal(n, 3);
    assert_string_equal(comp[0].idstr, "cpu");
    assert_string_equal(comp[1].idstr, "armv6m-nvic");
    assert_string_equal(comp[2].idstr, "armv6m-systick");
    for (size_t i = 0; i < n; i++)
        check_members(&comp[i]);
    tb_free(tb);
}

static size_t save_all(Cpu *cpu, VmsOut *out)
{
    CpuComponent comp[3];
    cpu_components(cpu, comp, 3);
    VmsError err;
    vms_error_clear(&err);
    for (size_t i = 0; i < 3; i++) {
        VmsCtx ctx = { .err = &err, .section = comp[i].idstr };
        if (!vms_save_state(&ctx, out, comp[i].vmsd, comp[i].opaque)) {
            char b[512];
            vms_error_format(&err, b, sizeof b);
            fail_msg("save: %s", b);
        }
    }
    return out->len;
}

static bool load_all(Cpu *cpu, const void *buf, size_t len, VmsError *err)
{
    CpuComponent comp[3];
    cpu_components(cpu, comp, 3);
    VmsIn in;
    vms_in_init(&in, buf, len);
    vms_error_clear(err);
    for (size_t i = 0; i < 3; i++) {
        VmsCtx ctx = { .err = err, .section = comp[i].idstr };
        if (!vms_load_state(&ctx, &in, comp[i].vmsd, comp[i].opaque, comp[i].vmsd->version_id))
            return false;
    }
    return vms_in_left(&in) == 0;
}

/* The NVIC's validator names the first priority byte with bits below the
 * two implemented ones, wherever it is among the 32 (they are checked
 * eight at a time). */
static void nvic_valid_names_ipr_byte(void **state)
{
    static const unsigned at[] = { 0, 7, 8, 21, 31 };
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        TB *tb = setup_tb();
        CpuComponent comp[3];
        cpu_components(tb->cpu, comp, 3);
        NvicState *nv = comp[1].opaque;
        memset(nv->ipr, 0xc0, sizeof(nv->ipr));
        nv->ipr[at[k]] = 0x41;
        if (at[k] < 31)
            nv->ipr[31] = 0x02;     /* a later one is not the one named */
        VmsOut out;
        vms_out_init(&out, 1 << 16);
        VmsError err;
        vms_error_clear(&err);
        VmsCtx ctx = { .err = &err, .section = comp[1].idstr };
        assert_false(vms_save_state(&ctx, &out, comp[1].vmsd, comp[1].opaque));
        char line[512], want[64];
        vms_error_format(&err, line, sizeof line);
        snprintf(want, sizeof want, "ipr[%u] 0x41 has bits below", at[k]);
        if (!strstr(line, want))
            fail_msg("'%s' does not name %s", line, want);
        memset(nv->ipr, 0xc0, sizeof(nv->ipr));
        vms_out_reset(&out);
        assert_true(vms_save_state(&ctx, &out, comp[1].vmsd, comp[1].opaque));
        vms_out_free(&out);
        tb_free(tb);
    }
}

/* A program with SysTick, an IRQ and a nested PendSV; save mid-run into a
 * fresh core and check both twins run identically afterwards. */
static void setup_busy_program(TB *tb)
{
    uint32_t a = TB_RESET;
    uint16_t l0 = tb_ldr_lit(tb, a, 0, SCS_ICSR, 0x1F0);
    uint16_t l1 = tb_ldr_lit(tb, a + 2, 1, 1u << 28, 0x1F4);
    CODE(tb, a, l0, l1, T_ADDS_I8(4, 1), T_LSL_I(5, 4, 29), T_BCOND(1, 0),
         T_STR_I(1, 0, 0), T_PUSH(0x30, 0), T_POP(0x30, 0), T_B(-8));
    CODE(tb, TB_SYSTICK, T_ADDS_I8(6, 1), T_BX(14));
    CODE(tb, TB_PENDSV, T_ADDS_I8(7, 1), T_WFI, T_BX(14));
    CODE(tb, TB_IRQ(2), T_MOV_HI(3, 8), T_ADDS_I8(3, 1), T_MOV_HI(8, 3), T_BX(14));
    scs_wr(tb, SYST_RVR, 37);
    scs_wr(tb, SYST_CSR, 3);
    scs_wr(tb, SCS_ISER, 4);
    scs_wr(tb, SCS_SHPR3, 0x40C00000u);    /* SysTick prio 1, PendSV prio 3 */
}

static void run_twin(TB *tb, uint64_t from, uint64_t to)
{
    for (uint64_t t = from; t < to; t += 7) {
        cpu_set_irq(tb->cpu, 2, (t / 7) % 5 == 0);
        cpu_exec(tb->cpu, 7);
    }
}

static void cpu_save_load_roundtrip(void **state)
{
    TB *a = setup_tb(), *b = setup_tb();
    setup_busy_program(a);
    memcpy(b->flash, a->flash, TB_FLASH_SIZE);
    run_twin(a, 0, 7 * 300);
    VmsOut out;
    vms_out_init(&out, 1 << 16);
    save_all(a->cpu, &out);
    /* Twin b: same memory and clock, a reset core, then the load. */
    memcpy(b->sram, a->sram, TB_SRAM_SIZE);
    vclock_set_cycles(&b->clock, a->clock.cycles);
    cpu_reset(b->cpu);
    VmsError err;
    if (!load_all(b->cpu, out.buf, out.len, &err)) {
        char m[512];
        vms_error_format(&err, m, sizeof m);
        fail_msg("load: %s", m);
    }
    assert_memory_equal(&a->cpu->st, &b->cpu->st, sizeof a->cpu->st);
    assert_memory_equal(&a->cpu->nvic, &b->cpu->nvic, sizeof a->cpu->nvic);
    assert_int_equal(a->cpu->systick.timer.deadline, b->cpu->systick.timer.deadline);
    run_twin(a, 7 * 300, 7 * 900);
    run_twin(b, 7 * 300, 7 * 900);
    assert_memory_equal(&a->cpu->st, &b->cpu->st, sizeof a->cpu->st);
    assert_memory_equal(&a->cpu->nvic, &b->cpu->nvic, sizeof a->cpu->nvic);
    assert_memory_equal(a->sram, b->sram, TB_SRAM_SIZE);
    assert_true(a->cpu->st.r[6] > 10);      /* SysTick ran */
    assert_true(a->cpu->st.r[8] > 10);      /* IRQ 2 ran */
    assert_true(a->cpu->st.r[7] > 0);       /* PendSV ran */
    vms_out_free(&out);
    tb_free(a);
    tb_free(b);
}

static void cpu_load_rejects_bad_values(void **state)
{
    TB *a = setup_tb();
    VmsOut out;
    vms_out_init(&out, 1 << 16);
    size_t len = save_all(a->cpu, &out);
    VmsError err;
    assert_true(load_all(a->cpu, out.buf, len, &err));
    /* ipsr is the u32 after r[16] and sp_other: offset 68. */
    uint8_t *buf = malloc(len);
    memcpy(buf, out.buf, len);
    buf[68 + 3] = 200;
    assert_false(load_all(a->cpu, buf, len, &err));
    assert_int_equal(err.cls, VMS_ERR_VALIDATE);
    memcpy(buf, out.buf, len);
    buf[68 + 3] = 16;               /* in range, but not active in the NVIC */
    assert_false(load_all(a->cpu, buf, len, &err));
    assert_int_equal(err.cls, VMS_ERR_HOOK);
    /* An IPR byte with low bits set. */
    memcpy(buf, out.buf, len);
    size_t cpu_len = 16 * 4 + 4 * 4 + 5 + 2 + 4;
    buf[cpu_len + 8 + 8 + 4 + 4 + 5] = 0x41;
    assert_false(load_all(a->cpu, buf, len, &err));
    assert_int_equal(err.cls, VMS_ERR_VALIDATE);
    free(buf);
    vms_out_free(&out);
    tb_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_reset_vector_and_alu),
        cmocka_unit_test(cpu_exception_frame_and_return),
        cmocka_unit_test(cpu_exception_psp),
        cmocka_unit_test(cpu_primask_masks_irq),
        cmocka_unit_test(cpu_priority_preemption),
        cmocka_unit_test(cpu_level_irq_semantics),
        cmocka_unit_test(cpu_hardfault_causes),
        cmocka_unit_test(cpu_svc_escalation_pc),
        cmocka_unit_test(cpu_lockup),
        cmocka_unit_test(cpu_bad_exc_return),
        cmocka_unit_test(cpu_timer_irq_exact_boundary),
        cmocka_unit_test(cpu_stacking_fault_locks_up),
        cmocka_unit_test(cpu_exec_slicing_invariant),
        cmocka_unit_test(cpu_systick_timing),
        cmocka_unit_test(cpu_systick_reload_change),
        cmocka_unit_test(cpu_branch_corners),
        cmocka_unit_test(cpu_wfi_skips_to_deadline),
        cmocka_unit_test(cpu_wfe_sev),
        cmocka_unit_test(cpu_scb_registers),
        cmocka_unit_test(cpu_aircr_sysresetreq),
        cmocka_unit_test(cpu_pendsv_via_vtor),
        cmocka_unit_test(cpu_self_modifying_sram),
        cmocka_unit_test(cpu_trace_ring),
        cmocka_unit_test(cpu_trace_runs_expand_exactly),
        cmocka_unit_test(cpu_components_tables),
        cmocka_unit_test(cpu_save_load_roundtrip),
        cmocka_unit_test(nvic_valid_names_ipr_byte),
        cmocka_unit_test(cpu_load_rejects_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
