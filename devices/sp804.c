/*
 * sp804.c - ARM SP804 dual timer (ARM DDI0271), two down-counters in one
 * 4 KiB region with one combined interrupt output.
 *
 * Per timer (timer 0 at 0x00, timer 1 at 0x20):
 *   +0x00 Load     RW  writing loads the counter now and sets the reload value
 *   +0x04 Value    RO  the counter
 *   +0x08 Control  RW  [0] one-shot [1] 32-bit [3:2] prescale 1/16/256
 *                      [5] interrupt enable [6] periodic [7] enable; reset 0x20
 *   +0x0C IntClr   WO  any write clears the interrupt
 *   +0x10 RIS / +0x14 MIS   raw / masked interrupt status
 *   +0x18 BGLoad   RW  sets the reload value without touching the counter
 * 0xF00 TimerITCR  RW  [0] integration test mode
 * 0xF04 TimerITOP  RW  [0] TIMINT1 [1] TIMINT2: in test mode these drive the
 *                      interrupt outputs instead of the timers (DDI0271 4.3)
 * 0xFE0..0xFFC are the peripheral and PrimeCell IDs. With the property
 * "integration-test" off (machine type vmstress-m0-1.0, as release 1.0 and
 * QEMU 7.2) ITCR and ITOP read as zero and ignore writes.
 *
 * Modes: free-running wraps from 0 to the maximum (0xFFFF or 0xFFFFFFFF),
 * periodic reloads Load, one-shot stops at 0. The interrupt is raised when
 * the counter reaches zero. As in QEMU, a reload period is Load ticks (the
 * counter is reloaded at the instant it reaches zero). A one-shot timer that
 * has stopped keeps its enable bit; writing Load starts it again. The
 * reserved prescale value 0b11 is ignored on writes (the previous prescale
 * stays), so a migrated control word never holds it.
 *
 * Migration is QEMU 7.2's: the device section "sp804" carries the two output
 * levels; each timer is its own top-level "arm_timer" section (idstr
 * without a device path, instance numbers shared by all SP804s in creation
 * order), registered in realize. Version 2 (release 1.1) adds itcr and itop
 * as fields of version 2, minimum version still 1: a version 1 stream (QEMU
 * 7.2's, release 1.0's) loads with both at their reset value 0, which is
 * what a device that had no such registers shows. With "integration-test"
 * off the section is saved at version 1, the 1.0 format.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "ptimer.h"

enum {
    CTRL_ONESHOT = 1u << 0,
    CTRL_SIZE32 = 1u << 1,
    CTRL_PRESCALE_SHIFT = 2,
    CTRL_PRESCALE = 3u << CTRL_PRESCALE_SHIFT,
    CTRL_IE = 1u << 5,
    CTRL_PERIODIC = 1u << 6,
    CTRL_ENABLE = 1u << 7,
    CTRL_VALID = CTRL_ONESHOT | CTRL_SIZE32 | CTRL_PRESCALE | CTRL_IE | CTRL_PERIODIC | CTRL_ENABLE,
    CTRL_RESET = CTRL_IE,
};

enum {
    REG_LOAD = 0x00, REG_VALUE = 0x04, REG_CONTROL = 0x08, REG_INTCLR = 0x0C,
    REG_RIS = 0x10, REG_MIS = 0x14, REG_BGLOAD = 0x18,
    TIMER_STRIDE = 0x20,
    REG_ITCR = 0xF00, REG_ITOP = 0xF04,
    REG_ID_FIRST = 0xFE0,
};

enum { ITCR_VALID = 1u, ITOP_VALID = 3u };

#define SP804_MIN_HZ 64u            /* keeps a /256 tick below 2^32 ns */
#define SP804_MAX_HZ 1000000000u

static const uint8_t sp804_ids[8] = { 0x04, 0x18, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

typedef struct SP804 SP804;

typedef struct ArmTimer {
    uint32_t control;
    uint32_t limit;         /* the Load / BGLoad register */
    int32_t int_level;      /* raw interrupt status, 0 or 1 */
    uint32_t freq;          /* board configuration (freq0 / freq1) */
    PTimer *timer;          /* -> pt, as QEMU migrates a ptimer pointer */
    PTimer pt;
    SP804 *owner;
    uint32_t index;
} ArmTimer;

struct SP804 {
    int32_t level[2];       /* each timer's masked interrupt output */
    uint32_t itcr;          /* TimerITCR: test mode when bit 0 is set */
    uint32_t itop;          /* TimerITOP: the outputs in test mode */
    ArmTimer t[2];
    Device *dev;
    bool integration_test;  /* the "integration-test" property */
};

/* ------------------------------------------------------------ one timer */

static uint32_t counter_mask(const ArmTimer *t)
{
    return (t->control & CTRL_SIZE32) ? 0xFFFFFFFFu : 0xFFFFu;
}

static unsigned prescale_field(uint32_t control)
{
    return (control & CTRL_PRESCALE) >> CTRL_PRESCALE_SHIFT;
}

/* Tick period in 2^-32 ns for the timer's clock divided by its prescaler. */
static uint64_t tick_q32(const ArmTimer *t)
{
    unsigned div = 1u << (4 * prescale_field(t->control));     /* 1, 16, 256 */
    unsigned __int128 q = ((unsigned __int128)1000000000u * div) << 32;
    return (uint64_t)(q / t->freq);
}

/* What the ptimer reloads: Load in periodic mode, the full range when free-running. */
static uint64_t reload_value(const ArmTimer *t)
{
    return (t->control & CTRL_PERIODIC) ? (t->limit & counter_mask(t)) : counter_mask(t);
}

static bool oneshot(const ArmTimer *t)
{
    return (t->control & CTRL_ONESHOT) != 0;
}

static void sp804_update(SP804 *s)
{
    for (unsigned i = 0; i < 2; i++)
        s->level[i] = s->t[i].int_level && (s->t[i].control & CTRL_IE);
    bool line = (s->itcr & ITCR_VALID) ? (s->itop & ITOP_VALID) != 0 : s->level[0] || s->level[1];
    dev_set_irq(s->dev, 0, line);
}

static void timer_expired(void *opaque)
{
    ArmTimer *t = opaque;
    t->int_level = 1;
    sp804_update(t->owner);
}

/* After Load or BGLoad changed: new reload value, mode re-asserted. */
static void timer_sync_reload(ArmTimer *t)
{
    ptimer_set_limit(&t->pt, reload_value(t), false);
    if (ptimer_running(&t->pt))
        ptimer_run(&t->pt, oneshot(t));
}

static void timer_write_control(ArmTimer *t, uint32_t v)
{
    uint32_t old = t->control;
    v &= CTRL_VALID;
    if (prescale_field(v) == 3)     /* reserved: keep the current prescale */
        v = (v & ~CTRL_PRESCALE) | (old & CTRL_PRESCALE);
    t->control = v;

    /* Period 0: a never-programmed timer loaded from QEMU (see never_programmed). */
    if (prescale_field(v) != prescale_field(old) || ptimer_period_q32(&t->pt) == 0)
        ptimer_set_period_q32(&t->pt, tick_q32(t));
    ptimer_set_limit(&t->pt, reload_value(t), false);

    if (!(v & CTRL_ENABLE)) {
        ptimer_stop(&t->pt);
    } else {
        if (ptimer_get_count(&t->pt) > counter_mask(t))
            ptimer_set_count(&t->pt, ptimer_get_count(&t->pt) & counter_mask(t));
        /* Start on enable; a stopped one-shot waits for a new Load. */
        if (!(old & CTRL_ENABLE) || ptimer_running(&t->pt))
            ptimer_run(&t->pt, oneshot(t));
    }
    sp804_update(t->owner);
}

static void timer_write(ArmTimer *t, uint32_t reg, uint32_t v)
{
    switch (reg) {
    case REG_LOAD:
        t->limit = v;
        timer_sync_reload(t);
        ptimer_set_count(&t->pt, v & counter_mask(t));
        if ((t->control & CTRL_ENABLE) && !ptimer_running(&t->pt))
            ptimer_run(&t->pt, oneshot(t));
        break;
    case REG_BGLOAD:
        t->limit = v;
        timer_sync_reload(t);
        break;
    case REG_CONTROL:
        timer_write_control(t, v);
        break;
    case REG_INTCLR:
        t->int_level = 0;
        sp804_update(t->owner);
        break;
    default:
        break;      /* read-only or unused */
    }
}

static uint32_t timer_read(const ArmTimer *t, uint32_t reg)
{
    switch (reg) {
    case REG_LOAD:
    case REG_BGLOAD:
        return t->limit;
    case REG_VALUE:
        return (uint32_t)ptimer_get_count(&t->pt);
    case REG_CONTROL:
        return t->control;
    case REG_RIS:
        return (uint32_t)t->int_level;
    case REG_MIS:
        return t->int_level && (t->control & CTRL_IE);
    default:
        return 0;
    }
}

static void timer_reset(ArmTimer *t)
{
    t->control = CTRL_RESET;
    t->limit = 0;
    t->int_level = 0;
    ptimer_reset(&t->pt);
    ptimer_set_period_q32(&t->pt, tick_q32(t));
    ptimer_set_limit(&t->pt, reload_value(t), false);
    ptimer_set_count(&t->pt, 0xFFFFFFFFu);      /* Value reads all ones at reset */
}

/* ------------------------------------------------------------ MMIO */

static uint32_t sp804_read(void *opaque, uint32_t offset, unsigned size)
{
    SP804 *s = opaque;
    uint32_t reg = offset & ~3u, v = 0;
    if (reg < 2 * TIMER_STRIDE)
        v = timer_read(&s->t[reg / TIMER_STRIDE], reg % TIMER_STRIDE);
    else if (reg >= REG_ID_FIRST && reg < 0x1000)
        v = sp804_ids[(reg - REG_ID_FIRST) / 4];
    else if (reg == REG_ITCR && s->integration_test)
        v = s->itcr;
    else if (reg == REG_ITOP && s->integration_test)
        v = s->itop;
    return dev_narrow_read(v, offset, size);
}

static void sp804_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    SP804 *s = opaque;
    uint32_t reg = offset & ~3u;
    /* Narrow writes store the zero-extended value in the whole register. */
    if (size < 4)
        value &= (1u << (8 * size)) - 1;
    if (reg < 2 * TIMER_STRIDE) {
        timer_write(&s->t[reg / TIMER_STRIDE], reg % TIMER_STRIDE, value);
    } else if ((reg == REG_ITCR || reg == REG_ITOP) && s->integration_test) {
        if (reg == REG_ITCR)
            s->itcr = value & ITCR_VALID;
        else
            s->itop = value & ITOP_VALID;
        sp804_update(s);
    }
}

static const DevMmioOps sp804_ops = { sp804_read, sp804_write };

/* ------------------------------------------------------------ migration */

/*
 * QEMU sets a timer's ptimer period and limit only when the guest first
 * writes Control or Load, so a timer the guest never programmed has period
 * 0 and limit 0 in QEMU's streams. It is a valid state: stopped, and the
 * first Control write sets the period (timer_write_control).
 */
static bool never_programmed(const ArmTimer *t)
{
    const PTimer *p = &t->pt;
    return !ptimer_running(p) && ptimer_period_q32(p) == 0 && p->limit == 0 &&
           !(t->control & CTRL_ENABLE);
}

static bool arm_timer_post_load(void *opaque, int version_id, VmsMsg *why)
{
    ArmTimer *t = opaque;
    const PTimer *p = &t->pt;
    bool fresh = never_programmed(t);
    if (t->control & ~(uint32_t)CTRL_VALID)
        return vms_fail(why, "arm_timer field 'control' 0x%x has reserved bits set", t->control);
    if (prescale_field(t->control) == 3)
        return vms_fail(why, "arm_timer field 'control' 0x%x has the reserved prescale 3", t->control);
    if (t->int_level != 0 && t->int_level != 1)
        return vms_fail(why, "arm_timer field 'int_level' is %d (0 or 1 expected)", t->int_level);
    if (!fresh && ptimer_period_q32(p) != tick_q32(t))
        return vms_fail(why, "arm_timer field 'timer.period' does not match freq %u Hz and prescale %u",
                        t->freq, 1u << (4 * prescale_field(t->control)));
    if (!fresh && p->limit != reload_value(t))
        return vms_fail(why, "arm_timer field 'timer.limit' 0x%llx != reload value 0x%llx",
                        (unsigned long long)p->limit, (unsigned long long)reload_value(t));
    if (ptimer_running(p)) {
        if (!(t->control & CTRL_ENABLE))
            return vms_fail(why, "arm_timer field 'timer.enabled' is set but the timer is disabled");
        uint8_t mode = oneshot(t) || p->limit == 0 ? PTIMER_ONESHOT : PTIMER_PERIODIC;
        if (p->enabled != mode)
            return vms_fail(why, "arm_timer field 'timer.enabled' %u does not match control 0x%x",
                            p->enabled, t->control);
        if (p->delta > counter_mask(t))
            return vms_fail(why, "arm_timer field 'timer.delta' 0x%llx exceeds the counter width",
                            (unsigned long long)p->delta);
    } else if (p->delta > 0xFFFFFFFFu) {
        return vms_fail(why, "arm_timer field 'timer.delta' 0x%llx exceeds 32 bits",
                        (unsigned long long)p->delta);
    }
    return true;
}

static bool sp804_post_load(void *opaque, int version_id, VmsMsg *why)
{
    SP804 *s = opaque;
    for (unsigned i = 0; i < 2; i++)
        if (s->level[i] != 0 && s->level[i] != 1)
            return vms_fail(why, "sp804 field 'level[%u]' is %d (0 or 1 expected)", i, s->level[i]);
    if (s->itcr & ~ITCR_VALID)
        return vms_fail(why, "sp804 field 'itcr' 0x%x has bits other than test mode", s->itcr);
    if (s->itop & ~ITOP_VALID)
        return vms_fail(why, "sp804 field 'itop' 0x%x has bits other than TIMINT1/2", s->itop);
    if ((s->itcr || s->itop) && !s->integration_test)
        return vms_fail(why, "sp804 fields 'itcr'/'itop' are set but the device has no integration test registers");
    return true;
}

static const VmsField arm_timer_fields[] = {
    VMS_UINT32(control, ArmTimer),
    VMS_UINT32(limit, ArmTimer),
    VMS_INT32(int_level, ArmTimer),
    VMS_PTIMER(timer, ArmTimer),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_arm_timer = {
    .name = "arm_timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = arm_timer_fields,
    .post_load = arm_timer_post_load,
};

static const VmsField sp804_fields[] = {
    VMS_INT32_ARRAY(level, SP804, 2),
    VMS_UINT32_V(itcr, SP804, 2),
    VMS_UINT32_V(itop, SP804, 2),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_sp804 = {
    .name = "sp804",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = sp804_fields,
    .post_load = sp804_post_load,
};

static const VmsDesc *const sp804_extra_vmsds[] = { &vmstate_arm_timer, NULL };

static const DevMember arm_timer_members[] = {
    DEV_MEMBER(ArmTimer, control),
    DEV_MEMBER(ArmTimer, limit),
    DEV_MEMBER(ArmTimer, int_level),
    DEV_HOST(ArmTimer, freq, "board configuration (freq0/freq1), fixed at realize"),
    DEV_HOST(ArmTimer, timer, "points at the embedded ptimer"),
    PTIMER_DEV_MEMBERS(ArmTimer, pt),
    DEV_HOST(ArmTimer, owner, "back pointer to the SP804"),
    DEV_HOST(ArmTimer, index, "which of the two timers, fixed at realize"),
    DEV_MEMBERS_END,
};

static const DevMember sp804_members[] = {
    DEV_MEMBER(SP804, level),
    DEV_MEMBER(SP804, itcr),
    DEV_MEMBER(SP804, itop),
    DEV_HOST(SP804, t, "each timer is its own arm_timer section and compared part"),
    DEV_HOST(SP804, dev, "machine binding"),
    DEV_HOST(SP804, integration_test, "configuration: the integration-test property"),
    DEV_MEMBERS_END,
};

/* ------------------------------------------------------------ binding */

static bool sp804_realize(Device *dev, void *opaque, VmsMsg *why)
{
    SP804 *s = opaque;
    s->dev = dev;
    s->integration_test = dev_prop(dev, "integration-test", 1) != 0;
    if (!s->integration_test)
        dev_set_save_version(dev, 1);   /* release 1.0's format: no itcr, itop */
    for (unsigned i = 0; i < 2; i++) {
        ArmTimer *t = &s->t[i];
        char prop[8];
        snprintf(prop, sizeof(prop), "freq%u", i);
        t->freq = dev_prop(dev, prop, 1000000u);
        if (t->freq < SP804_MIN_HZ || t->freq > SP804_MAX_HZ)
            return vms_fail(why, "%s: property %s=%u out of range %u..%u Hz", dev_name(dev), prop,
                            t->freq, SP804_MIN_HZ, SP804_MAX_HZ);
        t->owner = s;
        t->index = i;
        ptimer_init(&t->pt, dev_clock(dev), "timer", timer_expired, t);
        t->timer = &t->pt;
    }
    if (!dev_map_mmio(dev, 0, 0x1000, &sp804_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    for (unsigned i = 0; i < 2; i++) {
        char part[48];
        snprintf(part, sizeof(part), "%s/timer%u", dev_name(dev), i);
        if (!dev_register_section(dev, &vmstate_arm_timer, &s->t[i], arm_timer_members,
                                  sizeof(ArmTimer), part))
            return vms_fail(why, "%s: cannot register arm_timer section", dev_name(dev));
    }
    return true;
}

static void sp804_reset(void *opaque)
{
    SP804 *s = opaque;
    for (unsigned i = 0; i < 2; i++)
        timer_reset(&s->t[i]);
    s->level[0] = s->level[1] = 0;
    s->itcr = s->itop = 0;
}

/* What the register explorer may write (device.h): both timers. */
#define SP804_TIMER_REGS(n, base)                                                                 \
    DEV_REG("Timer" #n "Control", (base) + REG_CONTROL, 4, CTRL_VALID, "arm_timer/control", 0,    \
            "starts, stops and reshapes the counter"),                                            \
    DEV_REG("Timer" #n "Load", (base) + REG_LOAD, 4, 0xffffffffu, "arm_timer/limit", 0,           \
            "reloads the counter now"),                                                           \
    DEV_REG("Timer" #n "BGLoad", (base) + REG_BGLOAD, 4, 0xffffffffu, "arm_timer/limit", 0,       \
            "the next reload only"),                                                              \
    DEV_REG("Timer" #n "IntClr", (base) + REG_INTCLR, 4, 1u, NULL, 0, "clears the interrupt")

static const DevReg sp804_regs[] = {
    SP804_TIMER_REGS(1, 0),
    SP804_TIMER_REGS(2, TIMER_STRIDE),
    DEV_REGS_END,
};

const DevType sp804_type = {
    .name = "sp804",
    .summary = "ARM SP804 dual timer (two 32/16-bit down-counters, one IRQ)",
    .state_size = sizeof(SP804),
    .vmsd = &vmstate_sp804,
    .members = sp804_members,
    .extra_vmsds = sp804_extra_vmsds,
    .realize = sp804_realize,
    .reset = sp804_reset,
    .regs = sp804_regs,
};
