/*
 * scs.c - the System Control Space of the Cortex-M0 (0xE000E000..0xE000EFFF):
 * NVIC, SCB and SysTick, their reset values and their descriptions.
 *
 * Register access is word-sized; byte and halfword reads return the
 * containing word's bytes, and byte/halfword writes are accepted only for
 * the priority registers (IPR, SHPR2/3), where firmware written for other
 * cores uses them. Any other sub-word write is a bus error.
 *
 * SysTick counts processor cycles (CLKSOURCE reads as one; there is no
 * external reference, CALIB.NOREF is set). While enabled the counter is not
 * stored: it is computed from the clock and `zero_cycle`, a cycle at which
 * the counter was (or will be) zero, and the VTimer fires at each 1 -> 0
 * transition to set COUNTFLAG and pend the exception.
 */
#include "cpu_impl.h"

#include <string.h>

#define CPUID_CORTEX_M0_R0P0 0x410CC200u
#define CCR_VALUE (1u << 9 | 1u << 3)   /* STKALIGN | UNALIGN_TRP, read-only on v6-M */
#define CALIB_VALUE (1u << 31 | (BOARD_TENMS - 1))
#define BOARD_TENMS (10000000u / VCLOCK_NS_PER_CYCLE) /* cycles in 10 ms */

#define CSR_ENABLE 1u
#define CSR_TICKINT 2u
#define CSR_CLKSOURCE 4u
#define CSR_COUNTFLAG (1u << 16)

/* Exceptions that exist on this core. */
#define EXC_VALID_MASK (1ull << CPU_EXC_NMI | 1ull << CPU_EXC_HARDFAULT | 1ull << CPU_EXC_SVCALL | \
                        1ull << CPU_EXC_PENDSV | 1ull << CPU_EXC_SYSTICK | 0xFFFFFFFFull << CPU_EXC_IRQ0)
#define EXC_SYSTEM_MASK (EXC_VALID_MASK & 0xFFFFull)

static inline uint64_t now(const Cpu *cpu)
{
    return cpu->bus.clock->cycles;
}

/* ---------------------------------------------------------- priorities */

int cpu_exc_prio(const Cpu *cpu, unsigned n)
{
    const NvicState *nv = &cpu->nvic;
    switch (n) {
    case CPU_EXC_RESET: return -3;
    case CPU_EXC_NMI: return -2;
    case CPU_EXC_HARDFAULT: return -1;
    case CPU_EXC_SVCALL: return nv->prio_svcall >> 6;
    case CPU_EXC_PENDSV: return nv->prio_pendsv >> 6;
    case CPU_EXC_SYSTICK: return nv->prio_systick >> 6;
    default: return n >= CPU_EXC_IRQ0 && n < CPU_NUM_EXC ? nv->ipr[n - CPU_EXC_IRQ0] >> 6 : 4;
    }
}

int cpu_pending_best(const Cpu *cpu, int *prio)
{
    const NvicState *nv = &cpu->nvic;
    uint64_t m = nv->pending & (EXC_SYSTEM_MASK | (uint64_t)nv->enabled << CPU_EXC_IRQ0);
    int best = -1, bp = 5;
    for (; m; m &= m - 1) {
        int n = __builtin_ctzll(m);
        int p = cpu_exc_prio(cpu, (unsigned)n);
        if (p < bp) {       /* ties go to the lower exception number */
            bp = p;
            best = n;
        }
    }
    *prio = bp;
    return best;
}

/* Make exception n pending; SEVONPEND turns a new pend into a wake-up event. */
static void set_pending(Cpu *cpu, unsigned n)
{
    NvicState *nv = &cpu->nvic;
    if (!(nv->pending >> n & 1) && (nv->scr & 0x10))
        cpu->st.event = true;
    nv->pending |= 1ull << n;
    cpu->check = true;
}

void cpu_set_irq(Cpu *cpu, unsigned irq, bool level)
{
    NvicState *nv = &cpu->nvic;
    if (irq >= 32)
        return;
    uint32_t bit = 1u << irq;
    if (level && !(nv->level & bit))
        set_pending(cpu, CPU_EXC_IRQ0 + irq);
    nv->level = level ? nv->level | bit : nv->level & ~bit;
}

bool cpu_irq_level(const Cpu *cpu, unsigned irq)
{
    return irq < 32 && (cpu->nvic.level >> irq & 1);
}

/* ------------------------------------------------------------- SysTick */

static uint32_t systick_period(const SysTickState *t)
{
    return t->rvr + 1;
}

static uint32_t systick_value(const Cpu *cpu)
{
    const SysTickState *t = &cpu->systick;
    if (!(t->csr & CSR_ENABLE))
        return t->cvr;
    uint64_t c = now(cpu);
    if (c <= t->zero_cycle)     /* clamped: a hostile zero_cycle still reads as 24 bits */
        return t->zero_cycle - c > 0xFFFFFF ? 0xFFFFFF : (uint32_t)(t->zero_cycle - c);
    if (t->rvr == 0)
        return 0;
    return t->rvr - (uint32_t)((c - t->zero_cycle - 1) % systick_period(t));
}

/* Arm the timer for the first 1 -> 0 transition after now. */
static void systick_arm(Cpu *cpu)
{
    SysTickState *t = &cpu->systick;
    uint64_t c = now(cpu), next;
    if (!(t->csr & CSR_ENABLE)) {
        vtimer_del(&t->timer);
        return;
    }
    if (t->zero_cycle > c) {
        next = t->zero_cycle;
    } else if (t->rvr == 0) {
        vtimer_del(&t->timer);
        return;
    } else {
        uint64_t p = systick_period(t);
        next = t->zero_cycle + ((c - t->zero_cycle) / p + 1) * p;
    }
    if (next > (uint64_t)INT64_MAX / VCLOCK_NS_PER_CYCLE) {
        vtimer_del(&t->timer);      /* only a hostile zero_cycle gets here: never due */
        return;
    }
    vtimer_mod(&t->timer, (int64_t)(next * VCLOCK_NS_PER_CYCLE));
}

static void systick_expired(void *opaque)
{
    Cpu *cpu = opaque;
    SysTickState *t = &cpu->systick;
    t->csr |= CSR_COUNTFLAG;
    if (t->csr & CSR_TICKINT)
        set_pending(cpu, CPU_EXC_SYSTICK);
    systick_arm(cpu);
}

/* Restart counting from value v at the current cycle. */
static void systick_restart(Cpu *cpu, uint32_t v)
{
    cpu->systick.zero_cycle = now(cpu) + v;
    systick_arm(cpu);
}

static void systick_write_csr(Cpu *cpu, uint32_t v)
{
    SysTickState *t = &cpu->systick;
    bool was = t->csr & CSR_ENABLE, on = v & CSR_ENABLE;
    if (was && !on)
        t->cvr = systick_value(cpu);
    t->csr = (t->csr & CSR_COUNTFLAG) | (v & (CSR_ENABLE | CSR_TICKINT)) | CSR_CLKSOURCE;
    if (!was && on)
        systick_restart(cpu, t->cvr);
    else if (!on)
        vtimer_del(&t->timer);
}

/* ---------------------------------------------------------------- SCB */

static uint32_t icsr_read(const Cpu *cpu)
{
    const NvicState *nv = &cpu->nvic;
    int prio;
    int best = cpu_pending_best(cpu, &prio);
    uint32_t v = cpu->st.ipsr;
    if (best > 0)
        v |= (uint32_t)best << 12;
    if (nv->pending >> CPU_EXC_IRQ0)
        v |= 1u << 22;
    if (nv->pending >> CPU_EXC_SYSTICK & 1)
        v |= 1u << 26;
    if (nv->pending >> CPU_EXC_PENDSV & 1)
        v |= 1u << 28;
    if (nv->pending >> CPU_EXC_NMI & 1)
        v |= 1u << 31;
    return v;
}

static void icsr_write(Cpu *cpu, uint32_t v)
{
    NvicState *nv = &cpu->nvic;
    if (v & 1u << 31) set_pending(cpu, CPU_EXC_NMI);
    if (v & 1u << 28) set_pending(cpu, CPU_EXC_PENDSV);
    if (v & 1u << 27) nv->pending &= ~(1ull << CPU_EXC_PENDSV);
    if (v & 1u << 26) set_pending(cpu, CPU_EXC_SYSTICK);
    if (v & 1u << 25) nv->pending &= ~(1ull << CPU_EXC_SYSTICK);
    cpu->check = true;
}

/* -------------------------------------------------------- word access */

static bool scs_read_word(Cpu *cpu, uint32_t off, uint32_t *val)
{
    NvicState *nv = &cpu->nvic;
    SysTickState *t = &cpu->systick;
    uint32_t v = 0;
    if (off >= 0x400 && off < 0x420) {
        memcpy(&v, &nv->ipr[off - 0x400], 4);
        *val = v;
        return true;
    }
    switch (off) {
    case 0x010: v = t->csr | CSR_CLKSOURCE; t->csr &= ~CSR_COUNTFLAG; break;
    case 0x014: v = t->rvr; break;
    case 0x018: v = systick_value(cpu); break;
    case 0x01C: v = CALIB_VALUE; break;
    case 0x100: case 0x180: v = nv->enabled; break;
    case 0x200: case 0x280: v = (uint32_t)(nv->pending >> CPU_EXC_IRQ0); break;
    case 0xD00: v = CPUID_CORTEX_M0_R0P0; break;
    case 0xD04: v = icsr_read(cpu); break;
    case 0xD08: v = nv->vtor; break;
    case 0xD0C: v = 0xFA050000u; break;
    case 0xD10: v = nv->scr; break;
    case 0xD14: v = CCR_VALUE; break;
    case 0xD1C: v = (uint32_t)nv->prio_svcall << 24; break;
    case 0xD20: v = (uint32_t)nv->prio_pendsv << 16 | (uint32_t)nv->prio_systick << 24; break;
    default: v = 0; break;         /* reserved SCS space reads as zero */
    }
    *val = v;
    return true;
}

static void scs_write_word(Cpu *cpu, uint32_t off, uint32_t v)
{
    NvicState *nv = &cpu->nvic;
    SysTickState *t = &cpu->systick;
    if (off >= 0x400 && off < 0x420) {
        v &= 0xC0C0C0C0u;
        memcpy(&nv->ipr[off - 0x400], &v, 4);
        cpu->check = true;
        return;
    }
    switch (off) {
    case 0x010: systick_write_csr(cpu, v); break;
    case 0x014:
        if (t->csr & CSR_ENABLE) {
            uint32_t cur = systick_value(cpu);
            t->rvr = v & 0xFFFFFF;
            systick_restart(cpu, cur);
        } else {
            t->rvr = v & 0xFFFFFF;
        }
        break;
    case 0x018:                             /* any write clears the counter and COUNTFLAG */
        t->cvr = 0;
        t->csr &= ~CSR_COUNTFLAG;
        if (t->csr & CSR_ENABLE)
            systick_restart(cpu, 0);
        break;
    case 0x100: nv->enabled |= v; cpu->check = true; break;
    case 0x180: nv->enabled &= ~v; break;
    case 0x200:
        for (uint32_t m = v; m; m &= m - 1)
            set_pending(cpu, CPU_EXC_IRQ0 + (unsigned)__builtin_ctz(m));
        break;
    case 0x280: {
        /* A line held high keeps its (inactive) interrupt pending. */
        uint32_t held = nv->level & ~(uint32_t)(nv->active >> CPU_EXC_IRQ0);
        nv->pending &= ~((uint64_t)(v & ~held) << CPU_EXC_IRQ0);
        break;
    }
    case 0xD04: icsr_write(cpu, v); break;
    case 0xD08: nv->vtor = v & 0xFFFFFF80u; break;
    case 0xD0C:
        /* Deferred to the end of the instruction: the machine may reset
         * the core from the callback, which must not happen mid-instruction. */
        if ((v >> 16) == 0x05FA && (v & 4)) {
            cpu->sysreset_req = true;
            cpu->check = true;
        }
        break;
    case 0xD10: nv->scr = v & 0x16; break;
    case 0xD1C: nv->prio_svcall = (uint8_t)(v >> 24 & 0xC0); cpu->check = true; break;
    case 0xD20:
        nv->prio_pendsv = (uint8_t)(v >> 16 & 0xC0);
        nv->prio_systick = (uint8_t)(v >> 24 & 0xC0);
        cpu->check = true;
        break;
    default: break;                         /* read-only and reserved: ignored */
    }
}

bool scs_read(Cpu *cpu, uint32_t addr, unsigned size, uint32_t *val)
{
    uint32_t off = addr - SCS_BASE, w;
    if (!scs_read_word(cpu, off & ~3u, &w))
        return false;
    unsigned sh = (off & 3) * 8;
    *val = size == 4 ? w : (w >> sh) & (size == 2 ? 0xFFFFu : 0xFFu);
    return true;
}

static bool byte_writable(uint32_t off)
{
    return (off >= 0x400 && off < 0x420) || off == 0xD1C || off == 0xD20;
}

bool scs_write(Cpu *cpu, uint32_t addr, unsigned size, uint32_t val)
{
    uint32_t off = addr - SCS_BASE, word = off & ~3u, w;
    if (size != 4) {
        if (!byte_writable(word))
            return false;
        scs_read_word(cpu, word, &w);
        unsigned sh = (off & 3) * 8;
        uint32_t mask = (size == 2 ? 0xFFFFu : 0xFFu) << sh;
        val = (w & ~mask) | (val << sh & mask);
    }
    scs_write_word(cpu, word, val);
    return true;
}

/* ---------------------------------------------------------- lifecycle */

void scs_init(Cpu *cpu)
{
    vtimer_init(&cpu->systick.timer, cpu->bus.clock, systick_expired, cpu);
}

void scs_reset(Cpu *cpu)
{
    vtimer_del(&cpu->systick.timer);
    memset(&cpu->nvic, 0, sizeof cpu->nvic);
    cpu->systick.csr = CSR_CLKSOURCE;
    cpu->systick.rvr = 0;
    cpu->systick.cvr = 0;
    cpu->systick.zero_cycle = 0;
}

/* ---------------------------------------------------------- migration */

static Cpu *cpu_of_nvic(void *opaque)
{
    return (Cpu *)((char *)opaque - offsetof(Cpu, nvic));
}

static bool nvic_valid(void *opaque, int version_id, VmsMsg *why)
{
    /* Each message starts with the member at fault. */
    const NvicState *nv = opaque;
    /* Eight priority bytes at a time (every save and load checks them);
     * the byte at fault is looked for only when one is. */
    uint64_t low = 0;
    for (unsigned i = 0; i < sizeof(nv->ipr); i += 8) {
        uint64_t w;
        memcpy(&w, nv->ipr + i, 8);
        low |= w & 0x3f3f3f3f3f3f3f3full;
    }
    for (unsigned i = 0; low && i < sizeof(nv->ipr); i++)
        if (nv->ipr[i] & 0x3F)
            return vms_fail(why, "ipr[%u] 0x%02x has bits below the 2 priority bits", i, nv->ipr[i]);
    if (nv->prio_svcall & 0x3F)
        return vms_fail(why, "prio_svcall 0x%02x has bits below the 2 priority bits", nv->prio_svcall);
    if (nv->prio_pendsv & 0x3F)
        return vms_fail(why, "prio_pendsv 0x%02x has bits below the 2 priority bits", nv->prio_pendsv);
    if (nv->prio_systick & 0x3F)
        return vms_fail(why, "prio_systick 0x%02x has bits below the 2 priority bits", nv->prio_systick);
    if (nv->pending & ~EXC_VALID_MASK)
        return vms_fail(why, "pending 0x%llx names no exception", (unsigned long long)nv->pending);
    if (nv->active & ~EXC_VALID_MASK)
        return vms_fail(why, "active 0x%llx names no exception", (unsigned long long)nv->active);
    if (nv->vtor & 0x7F)
        return vms_fail(why, "vtor 0x%08x is not 128-byte aligned", nv->vtor);
    if (nv->scr & ~0x16u)
        return vms_fail(why, "scr 0x%x has reserved bits set", nv->scr);
    return true;
}

bool cpu_loaded_state_ok(const Cpu *cpu, VmsMsg *why)
{
    const NvicState *nv = &cpu->nvic;
    unsigned ipsr = cpu->st.ipsr;
    /* Handler mode needs its exception active, Thread mode none. */
    if (ipsr >= CPU_NUM_EXC || (ipsr == 0) != (nv->active == 0) || (ipsr && !(nv->active >> ipsr & 1)))
        return vms_fail(why, "IPSR %u does not match active exceptions 0x%llx",
                        ipsr, (unsigned long long)nv->active);
    return true;
}

static bool nvic_post_load(void *opaque, int version_id, VmsMsg *why)
{
    Cpu *cpu = cpu_of_nvic(opaque);
    /* The "cpu" section comes first, so its IPSR is already in. */
    if (!cpu_loaded_state_ok(cpu, why))
        return false;
    cpu->check = true;
    return true;
}

static const VmsField nvic_fields[] = {
    VMS_UINT64(pending, NvicState),
    VMS_UINT64(active, NvicState),
    VMS_UINT32(enabled, NvicState),
    VMS_UINT32(level, NvicState),
    VMS_UINT8_ARRAY(ipr, NvicState, 32),
    VMS_UINT8(prio_svcall, NvicState),
    VMS_UINT8(prio_pendsv, NvicState),
    VMS_UINT8(prio_systick, NvicState),
    VMS_UINT32(vtor, NvicState),
    VMS_UINT32(scr, NvicState),
    VMS_VALIDATE_WHY("nvic registers in range", nvic_valid),
    VMS_END_OF_LIST(),
};

const VmsDesc vmsd_armv6m_nvic = {
    .name = "armv6m-nvic",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = nvic_fields,
    .post_load = nvic_post_load,
};

const DevMember nvic_members[] = {
    DEV_MEMBER(NvicState, pending),
    DEV_MEMBER(NvicState, active),
    DEV_MEMBER(NvicState, enabled),
    DEV_IRQ_LINES(NvicState, level),
    DEV_MEMBER(NvicState, ipr),
    DEV_MEMBER(NvicState, prio_svcall),
    DEV_MEMBER(NvicState, prio_pendsv),
    DEV_MEMBER(NvicState, prio_systick),
    DEV_MEMBER(NvicState, vtor),
    DEV_MEMBER(NvicState, scr),
    DEV_MEMBERS_END,
};

static bool systick_valid(void *opaque, int version_id, VmsMsg *why)
{
    const SysTickState *t = opaque;
    if (t->csr & ~(CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE | CSR_COUNTFLAG))
        return vms_fail(why, "csr 0x%x has reserved bits set", t->csr);
    if (!(t->csr & CSR_CLKSOURCE))
        return vms_fail(why, "csr 0x%x: CLKSOURCE is clear (the core clock is the only source)", t->csr);
    if (t->rvr > 0xFFFFFF)
        return vms_fail(why, "rvr 0x%x exceeds 24 bits", t->rvr);
    if (t->cvr > 0xFFFFFF)
        return vms_fail(why, "cvr 0x%x exceeds 24 bits", t->cvr);
    return true;
}

static bool systick_post_load(void *opaque, int version_id, VmsMsg *why)
{
    const SysTickState *t = opaque;
    if (!(t->csr & CSR_ENABLE) && vtimer_pending(&t->timer))
        return vms_fail(why, "timer armed while SysTick is disabled");
    return true;
}

static const VmsField systick_fields[] = {
    VMS_UINT32(csr, SysTickState),
    VMS_UINT32(rvr, SysTickState),
    VMS_UINT32(cvr, SysTickState),
    VMS_UINT64(zero_cycle, SysTickState),
    VMS_TIMER(timer, SysTickState),
    VMS_VALIDATE_WHY("systick registers in range", systick_valid),
    VMS_END_OF_LIST(),
};

const VmsDesc vmsd_armv6m_systick = {
    .name = "armv6m-systick",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = systick_fields,
    .post_load = systick_post_load,
};

const DevMember systick_members[] = {
    DEV_MEMBER(SysTickState, csr),
    DEV_MEMBER(SysTickState, rvr),
    DEV_MEMBER(SysTickState, cvr),
    DEV_MEMBER(SysTickState, zero_cycle),
    DEV_TIMER(SysTickState, timer),
    DEV_MEMBERS_END,
};
