/*
 * cpu.h - the ARMv6-M (Cortex-M0) core: Thumb interpreter, exceptions, and the
 * System Control Space (NVIC, SysTick, SCB) that is part of the core (prefix cpu_).
 *
 * The core reaches the rest of the machine only through CpuBus: flash and
 * SRAM directly (for speed), everything else outside the PPB through the
 * read/write callbacks. The SCS at 0xE000E000 is handled inside the core.
 *
 * A guest fault (undefined instruction, unaligned access, bus error, bad
 * EXC_RETURN) is guest behaviour: it raises HardFault, and a fault inside
 * HardFault locks the core up. The harness itself never crashes on guest code.
 *
 * This header fixes the interface the machine relies on; the state structs
 * and their descriptions are defined here too so the machine can embed them.
 */
#ifndef VMSTRESS_CPU_H
#define VMSTRESS_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "members.h"
#include "vclock.h"
#include "vmstate.h"

typedef struct Cpu Cpu;

/*
 * Migratable state, in three parts (one section each; see cpu_components).
 * Everything here is guest state: nothing is a cache, so a loaded copy
 * behaves exactly like the saved one.
 */

/* Exception numbers used by the core. */
enum {
    CPU_EXC_RESET = 1, CPU_EXC_NMI = 2, CPU_EXC_HARDFAULT = 3, CPU_EXC_SVCALL = 11,
    CPU_EXC_PENDSV = 14, CPU_EXC_SYSTICK = 15, CPU_EXC_IRQ0 = 16, CPU_NUM_EXC = 48,
};
enum { CPU_SLEEP_NONE = 0, CPU_SLEEP_WFI = 1, CPU_SLEEP_WFE = 2 };

/* Section "cpu": registers and special registers. */
typedef struct CpuState {
    uint32_t r[16];         /* r13 is the stack pointer in use; r15 the next instruction */
    uint32_t sp_other;      /* the banked SP not in use (PSP in Handler mode or with SPSEL=0, else MSP) */
    uint32_t ipsr;          /* exception number being handled, 0 in Thread mode */
    uint32_t primask;       /* bit 0 */
    uint32_t control;       /* bit 1 SPSEL; nPRIV is RAZ/WI (no unprivileged extension) */
    bool n, z, c, v;        /* APSR flags */
    bool event;             /* event register (SEV, exception entry/return, SEVONPEND) */
    uint8_t sleep;          /* CPU_SLEEP_*: why the core sleeps (run == CPU_SLEEPING) */
    uint8_t run;            /* CpuRunState */
    int32_t exit_code;      /* semihosting SYS_EXIT status once halted */
} CpuState;

/* Section "armv6m-nvic": NVIC and SCB. Bit n of pending/active is exception n. */
typedef struct NvicState {
    uint64_t pending;
    uint64_t active;
    uint32_t enabled;       /* ISER: external IRQ n at bit n */
    uint32_t level;         /* input line levels of the 32 external IRQs */
    uint8_t ipr[32];        /* IRQ priority bytes; only bits 7:6 are implemented */
    uint8_t prio_svcall, prio_pendsv, prio_systick;  /* SHPR2/SHPR3 bytes, bits 7:6 */
    uint32_t vtor;          /* bits 31:7 */
    uint32_t scr;           /* SLEEPONEXIT, SLEEPDEEP, SEVONPEND */
} NvicState;

/* Section "armv6m-systick". The counter is a function of the clock while enabled. */
typedef struct SysTickState {
    uint32_t csr;           /* ENABLE, TICKINT, CLKSOURCE, COUNTFLAG (bit 16) */
    uint32_t rvr;           /* reload value, 24 bits */
    uint32_t cvr;           /* current value while disabled */
    uint64_t zero_cycle;    /* while enabled: a cycle at which the counter is 0 (reload reference) */
    VTimer timer;           /* next 1 -> 0 transition */
} SysTickState;

/* Dirty-page granule: QEMU 7.2's target page for Arm system emulation is
 * variable with a 1 KiB minimum (TARGET_PAGE_BITS_MIN 10), and only ARMv7
 * A/R-profile cores ask for 4 KiB, so an M-profile machine migrates RAM in
 * 1 KiB pages. */
#define CPU_PAGE_BITS 10

typedef struct CpuBus {
    void *opaque;
    const uint8_t *flash;       /* mapped at 0x00000000, read-only to the guest */
    uint32_t flash_size;
    uint8_t *sram;
    uint32_t sram_base, sram_size;
    /* One byte per CPU_PAGE_BITS page of SRAM; every guest store into SRAM
     * sets its page's byte to 1 (the machine's dirty log reads and clears
     * them). NULL: the core keeps a private map nobody reads. */
    uint8_t *sram_dirty;
    /* Any other address below the PPB. False means a bus error (HardFault). */
    bool (*read)(void *opaque, uint32_t addr, unsigned size, uint32_t *val);
    bool (*write)(void *opaque, uint32_t addr, unsigned size, uint32_t val);
    /* AIRCR.SYSRESETREQ written with the key. */
    void (*sysreset)(void *opaque);
    /* BKPT 0xAB (ARM semihosting). Return false to treat it as a plain BKPT. */
    bool (*semihost)(void *opaque, Cpu *cpu);
    VClock *clock;              /* SysTick's time base; the core adds cycles to it */
} CpuBus;

/* One migratable part of the core, for the machine to register and shadow-compare. */
typedef struct CpuComponent {
    const char *idstr;          /* section name */
    const VmsDesc *vmsd;
    void *opaque;
    const DevMember *members;
    size_t size;
} CpuComponent;

#define CPU_TRACE_LEN 64        /* ring of the last executed instructions */

typedef struct CpuTraceEntry {
    uint64_t cycle;
    uint32_t pc;
    uint32_t insn;              /* 16-bit, or the two halves of BL/MRS/MSR/DMB... (first << 16 | second) */
    uint32_t r[16];             /* registers before the instruction (only if cpu_trace_regs) */
    uint32_t xpsr;
} CpuTraceEntry;

/* Lifecycle. cpu_new allocates the core and its SCS. */
Cpu *cpu_new(const CpuBus *bus);
void cpu_free(Cpu *cpu);
/* Power-on / system reset: SCS to reset values, SP and PC from the vector table. */
void cpu_reset(Cpu *cpu);

/* Execute until `cycles` more cycles have passed on bus->clock, cpu_stop()
 * is called, or the core halts or locks up. One instruction is one cycle.
 * At every instruction boundary where clock->cycles >= clock->next_cycle
 * the core calls vclock_run_due() itself, so a timer callback that raises
 * an IRQ takes effect at an exact instruction boundary. Sleeping (WFI/WFE
 * with nothing that can wake the core) advances the clock straight to
 * min(clock->next_cycle, end of budget). Returns cycles elapsed. */
uint64_t cpu_exec(Cpu *cpu, uint64_t cycles);
void cpu_stop(Cpu *cpu);        /* make cpu_exec return at the next instruction boundary */

typedef enum CpuRunState { CPU_RUNNING, CPU_SLEEPING, CPU_LOCKUP, CPU_HALTED } CpuRunState;
CpuRunState cpu_run_state(const Cpu *cpu);
void cpu_halt(Cpu *cpu, int exit_code);     /* semihosting SYS_EXIT */
int cpu_exit_code(const Cpu *cpu);

/* External interrupt lines 0..31 into the NVIC (level-sensitive; a rising edge pends). */
void cpu_set_irq(Cpu *cpu, unsigned irq, bool level);
/* The level the NVIC last saw on a line. It is migrated with the NVIC, so
 * edge detection built on it stays right across a load. */
bool cpu_irq_level(const Cpu *cpu, unsigned irq);

/* Register access (semihosting, trace, tests). n = 0..15; 16 = xPSR.
 * r13 is the stack pointer in use (MSP or PSP); r15 is the address of the
 * next instruction (of the BKPT itself during a semihosting call). Setting
 * 16 sets only the flags. */
uint32_t cpu_reg(const Cpu *cpu, unsigned n);
void cpu_set_reg(Cpu *cpu, unsigned n, uint32_t v);

/* The core's own description ("cpu", with subsection "cpu/event"); the
 * planted-bug tests derive variants from it. */
extern const VmsDesc vmsd_armv6m_cpu;

/* Invariants that span the core's sections (IPSR against the NVIC's active
 * exceptions). The NVIC's post_load checks them, but a stream may omit a
 * section, so whoever loads a whole machine checks again at the end. */
bool cpu_loaded_state_ok(const Cpu *cpu, VmsMsg *why);

/* Components to register as sections and shadow-compare, in a fixed order. */
size_t cpu_components(Cpu *cpu, CpuComponent *out, size_t max);

/* Trace ring: oldest first; returns the count (at most CPU_TRACE_LEN). */
void cpu_trace_regs(Cpu *cpu, bool on);     /* also capture registers (slower) */
size_t cpu_trace(const Cpu *cpu, CpuTraceEntry *out, size_t max);
/* Print entries disassembled by capstone (Thumb, M-class), one per line. */
void cpu_trace_print(const CpuTraceEntry *e, size_t n, bool regs, void *file /* FILE * */);

#endif
