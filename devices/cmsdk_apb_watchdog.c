/*
 * cmsdk_apb_watchdog.c - ARM CMSDK APB watchdog (ARM DDI0479, "APB watchdog").
 *
 * A 32-bit down-counter clocked by WDOGCLK:
 *   0x000 LOAD     RW  reload value; writing it also reloads the counter
 *   0x004 VALUE    RO  the counter
 *   0x008 CONTROL  RW  [0] INTEN: counter and interrupt enable  [1] RESEN
 *   0x00C INTCLR   WO  clears the interrupt and reloads the counter (the "kick")
 *   0x010 RIS / 0x014 MIS   raw / masked interrupt
 *   0xC00 LOCK     RW  0x1ACCE551 unlocks, anything else locks; reads 1 when
 *                      locked. While locked, writes to other registers are ignored.
 *   0xF00 ITCR     RW  [0] integration test mode: ITOP drives the outputs
 *   0xF04 ITOP     WO  [0] WDOGRES [1] WDOGINT
 *   0xFD0..0xFFC peripheral and component IDs
 *
 * The counter runs while INTEN is set (turning INTEN on reloads it). At zero
 * the interrupt is raised and the counter reloads; if it reaches zero again
 * with the interrupt still raised, the reset status is latched and the
 * counter stops. The reset output is the reset status masked by RESEN (or
 * ITOP.WDOGRES in test mode); while it is high the watchdog asks the machine
 * for a system reset, which resets the watchdog too. These are QEMU 7.2's
 * semantics: the reset status is not a guest-visible register, is latched
 * even when RESEN is clear (setting RESEN later then resets at once), and
 * is cleared only by reset.
 *
 * Migration: "cmsdk-apb-watchdog" v2/min2 as QEMU 7.2 (clock pointer, ptimer
 * pointer, six u32 registers).
 */
#include <string.h>

#include "devclock.h"
#include "device.h"
#include "ptimer.h"

enum {
    REG_LOAD = 0x000, REG_VALUE = 0x004, REG_CONTROL = 0x008, REG_INTCLR = 0x00C,
    REG_RIS = 0x010, REG_MIS = 0x014, REG_LOCK = 0xC00, REG_ITCR = 0xF00, REG_ITOP = 0xF04,
    REG_ID_FIRST = 0xFD0,
};
enum {
    CTRL_INTEN = 1u << 0, CTRL_RESEN = 1u << 1, CTRL_VALID = CTRL_INTEN | CTRL_RESEN,
    ITOP_WDOGRES = 1u << 0, ITOP_WDOGINT = 1u << 1, ITOP_VALID = ITOP_WDOGRES | ITOP_WDOGINT,
    ITCR_VALID = 1u,
};
#define WDOG_UNLOCK_KEY 0x1ACCE551u
#define WDOG_MIN_HZ 1u
#define WDOG_MAX_HZ 1000000000u

/* PID4..PID7, PID0..PID3, CID0..CID3 at 0xFD0..0xFFC. */
static const uint8_t wdog_ids[12] = {
    0x04, 0x00, 0x00, 0x00, 0x24, 0xb8, 0x1b, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
};

typedef struct Watchdog {
    DevClock *wdogclk;      /* -> clk (QEMU migrates a clock pointer) */
    PTimer *timer;          /* -> pt */
    uint32_t control;
    uint32_t intstatus;
    uint32_t lock;
    uint32_t itcr;
    uint32_t itop;
    uint32_t resetstatus;
    DevClock clk;
    PTimer pt;
    uint32_t clk_hz;        /* board configuration */
    Device *dev;
} Watchdog;

/* Effective WDOGCLK period in 2^-32 ns, 0 when stopped or not representable. */
static uint64_t clock_q32(const DevClock *c)
{
    if (c->divider == 0)
        return 0;
    unsigned __int128 q = (unsigned __int128)c->period * c->multiplier / c->divider;
    return q > UINT64_MAX ? 0 : (uint64_t)q;
}

static void wdog_update(Watchdog *s)
{
    bool wdogint, wdogres;
    if (s->itcr) {
        wdogint = s->itop & ITOP_WDOGINT;
        wdogres = s->itop & ITOP_WDOGRES;
    } else {
        wdogint = s->intstatus && (s->control & CTRL_INTEN);
        wdogres = s->resetstatus && (s->control & CTRL_RESEN);
    }
    dev_set_irq(s->dev, 0, wdogint);
    if (wdogres) {
        dev_output(s->dev, DEV_OUT_RESET, 0, 1);
        dev_request_reset(s->dev, "watchdog timeout");
    }
}

static void wdog_expired(void *opaque)
{
    Watchdog *s = opaque;
    if (!s->intstatus) {
        s->intstatus = 1;
    } else {
        s->resetstatus = 1;
        ptimer_stop(&s->pt);
    }
    wdog_update(s);
}

static uint32_t wdog_read(void *opaque, uint32_t offset, unsigned size)
{
    Watchdog *s = opaque;
    uint32_t reg = offset & ~3u, v;
    switch (reg) {
    case REG_LOAD:    v = (uint32_t)ptimer_get_limit(&s->pt); break;
    case REG_VALUE:   v = (uint32_t)ptimer_get_count(&s->pt); break;
    case REG_CONTROL: v = s->control; break;
    case REG_RIS:     v = s->intstatus; break;
    case REG_MIS:     v = s->intstatus && (s->control & CTRL_INTEN); break;
    case REG_LOCK:    v = s->lock; break;
    case REG_ITCR:    v = s->itcr; break;
    default:
        v = reg >= REG_ID_FIRST && reg < 0x1000 ? wdog_ids[(reg - REG_ID_FIRST) / 4] : 0;
        break;
    }
    return dev_narrow_read(v, offset, size);
}

static void reload_counter(Watchdog *s)
{
    ptimer_set_count(&s->pt, ptimer_get_limit(&s->pt));
}

static void wdog_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    Watchdog *s = opaque;
    uint32_t reg = offset & ~3u;
    if (size < 4)
        value &= (1u << (8 * size)) - 1;    /* narrow writes are zero-extended */
    if (s->lock && reg != REG_LOCK)
        return;
    switch (reg) {
    case REG_LOAD:
        ptimer_set_limit(&s->pt, value, true);
        if (ptimer_running(&s->pt))
            ptimer_run(&s->pt, false);      /* periodic again if the limit is non-zero */
        break;
    case REG_CONTROL: {
        uint32_t old = s->control;
        s->control = value & CTRL_VALID;
        if ((old ^ s->control) & CTRL_INTEN) {
            if (s->control & CTRL_INTEN) {
                reload_counter(s);
                ptimer_run(&s->pt, false);
            } else {
                ptimer_stop(&s->pt);
            }
        }
        wdog_update(s);
        break;
    }
    case REG_INTCLR:
        s->intstatus = 0;
        reload_counter(s);
        wdog_update(s);
        break;
    case REG_LOCK:
        s->lock = value != WDOG_UNLOCK_KEY;
        break;
    case REG_ITCR:
        s->itcr = value & ITCR_VALID;
        wdog_update(s);
        break;
    case REG_ITOP:
        s->itop = value & ITOP_VALID;
        wdog_update(s);
        break;
    default:
        break;      /* read-only or unused */
    }
}

static const DevMmioOps wdog_ops = { wdog_read, wdog_write };

/* ------------------------------------------------------------ migration */

static bool check_bool(VmsMsg *why, const char *name, uint32_t v, uint32_t valid)
{
    if (v & ~valid)
        return vms_fail(why, "cmsdk-apb-watchdog field '%s' is 0x%x (valid bits 0x%x)", name, v, valid);
    return true;
}

static bool wdog_post_load(void *opaque, int version_id, VmsMsg *why)
{
    Watchdog *s = opaque;
    const PTimer *p = &s->pt;
    if (!check_bool(why, "control", s->control, CTRL_VALID) ||
        !check_bool(why, "intstatus", s->intstatus, 1) ||
        !check_bool(why, "lock", s->lock, 1) ||
        !check_bool(why, "itcr", s->itcr, ITCR_VALID) ||
        !check_bool(why, "itop", s->itop, ITOP_VALID) ||
        !check_bool(why, "resetstatus", s->resetstatus, 1))
        return false;
    if (s->clk.multiplier == 0 || s->clk.divider == 0)
        return vms_fail(why, "cmsdk-apb-watchdog field 'wdogclk.%s' is 0",
                        s->clk.multiplier == 0 ? "multiplier" : "divider");
    DevClock want;
    devclock_init(&want);
    devclock_set_hz(&want, s->clk_hz);
    if (clock_q32(&s->clk) != clock_q32(&want))
        return vms_fail(why, "cmsdk-apb-watchdog field 'wdogclk.period' does not match clk-hz %u",
                        s->clk_hz);
    if (ptimer_period_q32(p) != clock_q32(&s->clk))
        return vms_fail(why, "cmsdk-apb-watchdog field 'timer.period' does not match wdogclk");
    if (p->limit > 0xFFFFFFFFu || p->delta > 0xFFFFFFFFu)
        return vms_fail(why, "cmsdk-apb-watchdog field 'timer.%s' exceeds 32 bits",
                        p->limit > 0xFFFFFFFFu ? "limit" : "delta");
    if (ptimer_running(p)) {
        if (!(s->control & CTRL_INTEN))
            return vms_fail(why, "cmsdk-apb-watchdog field 'timer.enabled' is set but INTEN is clear");
        if (p->enabled != (p->limit == 0 ? PTIMER_ONESHOT : PTIMER_PERIODIC))
            return vms_fail(why, "cmsdk-apb-watchdog field 'timer.enabled' is %u for limit %llu",
                            p->enabled, (unsigned long long)p->limit);
    }
    return true;
}

static const VmsField wdog_fields[] = {
    VMS_CLOCK(wdogclk, Watchdog),
    VMS_PTIMER(timer, Watchdog),
    VMS_UINT32(control, Watchdog),
    VMS_UINT32(intstatus, Watchdog),
    VMS_UINT32(lock, Watchdog),
    VMS_UINT32(itcr, Watchdog),
    VMS_UINT32(itop, Watchdog),
    VMS_UINT32(resetstatus, Watchdog),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_wdog = {
    .name = "cmsdk-apb-watchdog",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = wdog_fields,
    .post_load = wdog_post_load,
};

static const DevMember wdog_members[] = {
    DEV_HOST(Watchdog, wdogclk, "points at the embedded clock"),
    DEV_HOST(Watchdog, timer, "points at the embedded ptimer"),
    DEV_MEMBER(Watchdog, control),
    DEV_MEMBER(Watchdog, intstatus),
    DEV_MEMBER(Watchdog, lock),
    DEV_MEMBER(Watchdog, itcr),
    DEV_MEMBER(Watchdog, itop),
    DEV_MEMBER(Watchdog, resetstatus),
    DEV_MEMBER(Watchdog, clk.period),
    DEV_MEMBER(Watchdog, clk.multiplier),
    DEV_MEMBER(Watchdog, clk.divider),
    PTIMER_DEV_MEMBERS(Watchdog, pt),
    DEV_HOST(Watchdog, clk_hz, "board configuration (clk-hz), fixed at realize"),
    DEV_HOST(Watchdog, dev, "machine binding"),
    DEV_MEMBERS_END,
};

/* ------------------------------------------------------------ binding */

static bool wdog_realize(Device *dev, void *opaque, VmsMsg *why)
{
    Watchdog *s = opaque;
    s->dev = dev;
    s->clk_hz = dev_prop(dev, "clk-hz", 1000000u);
    if (s->clk_hz < WDOG_MIN_HZ || s->clk_hz > WDOG_MAX_HZ)
        return vms_fail(why, "%s: property clk-hz=%u out of range %u..%u Hz", dev_name(dev),
                        s->clk_hz, WDOG_MIN_HZ, WDOG_MAX_HZ);
    s->wdogclk = &s->clk;
    s->timer = &s->pt;
    ptimer_init(&s->pt, dev_clock(dev), "timer", wdog_expired, s);
    if (!dev_map_mmio(dev, 0, 0x1000, &wdog_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    return true;
}

static void wdog_reset(void *opaque)
{
    Watchdog *s = opaque;
    s->control = s->intstatus = s->lock = s->itcr = s->itop = s->resetstatus = 0;
    devclock_init(&s->clk);
    devclock_set_hz(&s->clk, s->clk_hz);
    ptimer_reset(&s->pt);
    ptimer_set_period_q32(&s->pt, clock_q32(&s->clk));
    ptimer_set_limit(&s->pt, 0xFFFFFFFFu, true);
}

/* What the register explorer may write (device.h). LOCK comes first: while
 * it is locked, every other write is ignored. */
static const DevReg wdog_regs[] = {
    DEV_REG("LOCK", REG_LOCK, 4, 0xffffffffu, "cmsdk-apb-watchdog/lock", WDOG_UNLOCK_KEY,
            "any value but the key locks every other register"),
    DEV_REG("LOAD", REG_LOAD, 4, 0xffffffffu, "ptimer/limit", 0, "reloads the counter"),
    DEV_REG("CONTROL", REG_CONTROL, 4, CTRL_VALID, "cmsdk-apb-watchdog/control", 0,
            "INTEN starts or stops the counter; RESEN arms the reset"),
    DEV_REG("INTCLR", REG_INTCLR, 4, 1u, NULL, 0, "clears the interrupt and reloads"),
    DEV_REG("ITCR", REG_ITCR, 4, ITCR_VALID, "cmsdk-apb-watchdog/itcr", 0, "integration test mode"),
    DEV_REG("ITOP", REG_ITOP, 4, ITOP_VALID, "cmsdk-apb-watchdog/itop", 0,
            "drives the outputs in test mode (a reset request)"),
    DEV_REGS_END,
};

const DevType cmsdk_apb_watchdog_type = {
    .name = "cmsdk-apb-watchdog",
    .summary = "ARM CMSDK APB watchdog (interrupt, then reset on a second timeout)",
    .state_size = sizeof(Watchdog),
    .vmsd = &vmstate_wdog,
    .members = wdog_members,
    .realize = wdog_realize,
    .reset = wdog_reset,
    .regs = wdog_regs,
};
