/*
 * cpu_impl.h - private to the core (cpu.c, scs.c, trace.c). Not for the machine.
 */
#ifndef VMSTRESS_CPU_IMPL_H
#define VMSTRESS_CPU_IMPL_H

#include "cpu.h"

#define SCS_BASE 0xE000E000u
#define SCS_END  0xE000F000u

/* The trace ring is kept in two parts so that a slot is 16 bytes;
 * cpu_trace assembles CpuTraceEntry values from both.
 *
 * A slot records a run: instructions executed one after the other at
 * consecutive cycles and addresses, from `pc` at `cycle`, up to the next
 * slot. The interpreter writes one at the start of every burst, at every
 * taken branch and exception, and for every instruction fetched from SRAM
 * (code there can change, so its halfword is kept as executed); a run in
 * flash (read-only to the guest) is read back from flash by cpu_trace.
 * `idx` is the low 16 bits of the instruction count at the run's start, so
 * a run's length is the next slot's idx minus its own (trace_count for the
 * newest); bursts are at most 65,535 instructions, so a run is too. */
typedef struct CpuTraceSlot {
    uint64_t cycle;
    uint32_t pc;
    uint16_t insn;              /* first halfword of the run's first instruction */
    uint16_t idx;
} CpuTraceSlot;

typedef struct CpuTraceRegs {
    uint32_t r[16];
    uint32_t xpsr;
} CpuTraceRegs;

/* The flags while the interpreter loop runs (cpu.c explains the encoding). */
typedef struct Flags {
    int64_t nz;                 /* N: the sign; Z: the low 32 bits are 0 */
    bool c, v;
} Flags;

struct Cpu {
    CpuState st;                /* section "cpu" */
    NvicState nvic;             /* section "armv6m-nvic" */
    SysTickState systick;       /* section "armv6m-systick" */
    /* Host side, never migrated. */
    CpuBus bus;
    uint8_t *own_dirty;         /* the dirty map when the bus brought none */
    bool stop;                  /* cpu_stop() was called */
    bool check;                 /* something changed that may let an exception in or wake the core */
    bool sysreset_req;          /* AIRCR.SYSRESETREQ written: call bus->sysreset at the boundary */
    bool trace_regs;
    Flags fl;                   /* the flags during run_burst (CpuState's n z c v outside) */
    uint32_t trace_pos;         /* next ring slot */
    uint64_t trace_count;       /* instructions executed since reset */
    uint32_t resets;            /* cpu_reset calls, so a burst sees a reset from a callback */
    CpuTraceSlot trace[CPU_TRACE_LEN];
    CpuTraceRegs trace_rr[CPU_TRACE_LEN];   /* written only while trace_regs is on (one-instruction runs) */
};

/* scs.c */
void scs_reset(Cpu *cpu);
void scs_init(Cpu *cpu);
bool scs_read(Cpu *cpu, uint32_t addr, unsigned size, uint32_t *val);
bool scs_write(Cpu *cpu, uint32_t addr, unsigned size, uint32_t val);
int cpu_exc_prio(const Cpu *cpu, unsigned n);
/* Highest-priority pending and enabled exception (number, or -1) and its priority. */
int cpu_pending_best(const Cpu *cpu, int *prio);
extern const VmsDesc vmsd_armv6m_nvic, vmsd_armv6m_systick;
extern const DevMember nvic_members[], systick_members[];

static inline uint32_t cpu_xpsr(const CpuState *s)
{
    return (uint32_t)s->n << 31 | (uint32_t)s->z << 30 | (uint32_t)s->c << 29 |
           (uint32_t)s->v << 28 | 1u << 24 | s->ipsr;
}

#endif
