/*
 * pl031.c - ARM PrimeCell Real Time Clock PL031 (DDI0224).
 *
 * The counter is a function of the virtual clock only:
 *
 *     DR = tick_offset + floor(virtual ns / 1e9)        (mod 2^32)
 *
 * tick_offset starts as the board's "start-time" property and a write to LR
 * moves it so that DR reads the loaded value from then on. Nothing else is
 * stored, so the counter is exact at every instant and survives migration
 * as long as tick_offset and the virtual clock do (both are migrated).
 *
 * Match interrupt: RIS is set when the counter becomes equal to MR, that is
 * at the second boundary where it steps to MR. The VTimer is always armed at
 * the next such boundary strictly after now, which is a pure function of
 * (tick_offset, MR, now); so post_load can re-arm it to exactly the deadline
 * an un-migrated twin has, and the callback re-arms it for the next
 * wrap-around of the 32-bit counter (2^32 s later). Writing MR or LR so that
 * the counter already equals MR raises RIS at once, as QEMU does.
 *
 * CR bit 0 (RTC start) is sticky until reset, as the TRM says; the counter
 * runs whether or not it is set (QEMU's RTC is always running too).
 *
 * Migration: "pl031" v1/min1 with QEMU 7.2's fields and hooks: pre_save
 * fills the legacy tick_offset_vmstate (relative to the VM clock, which is
 * the RTC clock here, so it equals tick_offset); subsection
 * "pl031/tick-offset" carries tick_offset itself, needed per the
 * "migrate-tick-offset" property (default true); post_load takes whichever
 * the stream provided and re-arms the match timer.
 */
#include "device.h"

#define NS_PER_SEC 1000000000LL
#define PL031_WRAP_SECS (1LL << 32)   /* the counter repeats a value after this */

enum {
    RTC_DR = 0x00, RTC_MR = 0x04, RTC_LR = 0x08, RTC_CR = 0x0c,
    RTC_IMSC = 0x10, RTC_RIS = 0x14, RTC_MIS = 0x18, RTC_ICR = 0x1c, RTC_ID = 0xfe0,
};

/* RTCPeriphID0..3, RTCPCellID0..3. */
static const uint8_t pl031_id[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

typedef struct PL031State {
    Device *dev;
    VTimer timer;                   /* next match instant */
    /* --- migrated, in QEMU's order and with QEMU's names --- */
    uint32_t tick_offset_vmstate;   /* legacy wire value, filled by pre_save */
    uint32_t mr;
    uint32_t lr;
    uint32_t cr;
    uint32_t im;
    uint32_t is;
    uint32_t tick_offset;           /* subsection "pl031/tick-offset" */
    /* --- load-time scratch and configuration --- */
    bool tick_offset_migrated;
    bool migrate_tick_offset;
    uint32_t start_time;
} PL031State;

static VClock *pl031_clock(PL031State *s)
{
    return dev_clock(s->dev);
}

static int64_t pl031_now_secs(PL031State *s)
{
    return vclock_ns(pl031_clock(s)) / NS_PER_SEC;
}

static uint32_t pl031_count(PL031State *s)
{
    return s->tick_offset + (uint32_t)pl031_now_secs(s);
}

static void pl031_update(PL031State *s)
{
    dev_set_irq(s->dev, 0, (s->is & s->im & 1) != 0);
}

static void pl031_raise(PL031State *s)
{
    s->is = 1;
    pl031_update(s);
}

/* Arm the timer at the first second boundary after now where the counter
 * steps to MR. Returns true if the counter equals MR right now. */
static bool pl031_arm(PL031State *s)
{
    int64_t secs = pl031_now_secs(s);
    int64_t ticks = (uint32_t)(s->mr - (s->tick_offset + (uint32_t)secs));
    bool now = ticks == 0;
    if (now)
        ticks = PL031_WRAP_SECS;
    vtimer_mod(&s->timer, (secs + ticks) * NS_PER_SEC);
    return now;
}

/* After MR or LR changes: a counter already at the match raises at once. */
static void pl031_set_alarm(PL031State *s)
{
    if (pl031_arm(s))
        pl031_raise(s);
}

static void pl031_timer_cb(void *opaque)
{
    PL031State *s = opaque;
    pl031_raise(s);
    (void)pl031_arm(s);     /* the counter equals MR now: arms the next wrap */
}

static uint32_t pl031_read_reg(PL031State *s, uint32_t offset)
{
    if (offset >= RTC_ID)
        return pl031_id[(offset - RTC_ID) >> 2];
    switch (offset) {
    case RTC_DR: return pl031_count(s);
    case RTC_MR: return s->mr;
    case RTC_LR: return s->lr;
    case RTC_CR: return s->cr;
    case RTC_IMSC: return s->im;
    case RTC_RIS: return s->is;
    case RTC_MIS: return s->is & s->im;
    default: return 0;      /* ICR is write-only; reserved reads as zero */
    }
}

static void pl031_write_reg(PL031State *s, uint32_t offset, uint32_t value)
{
    switch (offset) {
    case RTC_MR:
        s->mr = value;
        pl031_set_alarm(s);
        break;
    case RTC_LR:
        s->lr = value;
        s->tick_offset += value - pl031_count(s);
        pl031_set_alarm(s);
        break;
    case RTC_CR:
        s->cr |= value & 1;     /* start bit: once set, stays set until reset */
        break;
    case RTC_IMSC:
        s->im = value & 1;
        pl031_update(s);
        break;
    case RTC_ICR:
        s->is &= ~(value & 1);
        pl031_update(s);
        break;
    default:                /* DR, RIS, MIS and the IDs are read-only */
        break;
    }
}

static uint32_t pl031_read(void *opaque, uint32_t offset, unsigned size)
{
    return dev_narrow_read(pl031_read_reg(opaque, offset & ~3u), offset, size);
}

static void pl031_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    if ((offset & 3) == 0)
        pl031_write_reg(opaque, offset, value);
}

static const DevMmioOps pl031_ops = { pl031_read, pl031_write };

static void pl031_reset(void *opaque)
{
    PL031State *s = opaque;
    s->tick_offset_vmstate = 0;
    s->mr = 0;
    s->lr = 0;
    s->cr = 0;
    s->im = 0;
    s->is = 0;
    s->tick_offset = s->start_time;
    s->tick_offset_migrated = false;
    (void)pl031_arm(s);
    pl031_update(s);
}

static bool pl031_realize(Device *dev, void *opaque, VmsMsg *why)
{
    PL031State *s = opaque;
    s->dev = dev;
    s->start_time = dev_prop(dev, "start-time", 0);
    s->migrate_tick_offset = dev_prop(dev, "migrate-tick-offset", 1) != 0;
    vtimer_init(&s->timer, dev_clock(dev), pl031_timer_cb, s);
    if (!dev_map_mmio(dev, 0, 0x1000, &pl031_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    return true;
}

/* ------------------------------------------------------------ migration */

static bool pl031_pre_save(void *opaque, VmsMsg *why)
{
    PL031State *s = opaque;
    /* QEMU sends the offset relative to the VM clock for old destinations;
     * here the RTC runs on the VM clock, so the difference is zero. */
    s->tick_offset_vmstate = s->tick_offset;
    return true;
}

static bool pl031_pre_load(void *opaque, int version_id, VmsMsg *why)
{
    ((PL031State *)opaque)->tick_offset_migrated = false;
    return true;
}

static bool pl031_tick_offset_post_load(void *opaque, int version_id, VmsMsg *why)
{
    ((PL031State *)opaque)->tick_offset_migrated = true;
    return true;
}

static bool pl031_tick_offset_needed(void *opaque)
{
    return ((PL031State *)opaque)->migrate_tick_offset;
}

static bool pl031_post_load(void *opaque, int version_id, VmsMsg *why)
{
    PL031State *s = opaque;
    /* Guest writes keep these one bit wide; anything else is not a state
     * this device can be in. */
    if (s->cr > 1)
        return vms_fail(why, "cr 0x%x has bits other than RTC start", (unsigned)s->cr);
    if (s->im > 1)
        return vms_fail(why, "im 0x%x has bits other than the match mask", (unsigned)s->im);
    if (s->is > 1)
        return vms_fail(why, "is 0x%x has bits other than the match status", (unsigned)s->is);
    if (!s->tick_offset_migrated)
        s->tick_offset = s->tick_offset_vmstate;    /* old stream: VM-clock relative */
    /* Re-arm only: an interrupt due at the current second was raised (and
     * perhaps cleared) before the save, so it must not be raised again. */
    (void)pl031_arm(s);
    return true;
}

static const VmsField pl031_tick_offset_fields[] = {
    VMS_UINT32(tick_offset, PL031State),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl031_tick_offset = {
    .name = "pl031/tick-offset",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pl031_tick_offset_fields,
    .needed = pl031_tick_offset_needed,
    .needed_is_config = true,
    .post_load = pl031_tick_offset_post_load,
};

static const VmsDesc *const pl031_subsections[] = { &vmstate_pl031_tick_offset, NULL };

static const VmsField pl031_fields[] = {
    VMS_UINT32(tick_offset_vmstate, PL031State),
    VMS_UINT32(mr, PL031State),
    VMS_UINT32(lr, PL031State),
    VMS_UINT32(cr, PL031State),
    VMS_UINT32(im, PL031State),
    VMS_UINT32(is, PL031State),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl031 = {
    .name = "pl031",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pl031_fields,
    .subsections = pl031_subsections,
    .pre_save = pl031_pre_save,
    .pre_load = pl031_pre_load,
    .post_load = pl031_post_load,
};

static const DevMember pl031_members[] = {
    DEV_HOST(PL031State, dev, "back-pointer to the machine's device record"),
    DEV_DERIVED_TIMER(PL031State, timer, "tick_offset, mr",
                      "the next match instant: post_load re-arms it from tick_offset, MR and the clock"),
    DEV_VOLATILE(PL031State, tick_offset_vmstate,
                 "wire-only copy of tick_offset written by pre_save; stale between saves"),
    DEV_MEMBER(PL031State, mr),
    DEV_MEMBER(PL031State, lr),
    DEV_MEMBER(PL031State, cr),
    DEV_MEMBER(PL031State, im),
    DEV_MEMBER(PL031State, is),
    DEV_MEMBER(PL031State, tick_offset),
    DEV_VOLATILE(PL031State, tick_offset_migrated,
                 "load-time flag: set by the subsection's post_load, read by the main one"),
    DEV_HOST(PL031State, migrate_tick_offset, "configuration: the migrate-tick-offset property"),
    DEV_HOST(PL031State, start_time, "configuration: the board's start-time property"),
    DEV_MEMBERS_END,
};

/* What the register explorer may write (device.h). */
static const DevReg pl031_regs[] = {
    DEV_REG("MR", RTC_MR, 4, 0xffffffffu, "pl031/mr", 0, "re-arms the match timer; raises RIS if DR equals it"),
    DEV_REG("LR", RTC_LR, 4, 0xffffffffu, "pl031/lr", 0, "moves tick_offset so DR reads the value; re-arms the match"),
    DEV_REG("CR", RTC_CR, 4, 1u, "pl031/cr", 0, "the start bit is sticky until reset"),
    DEV_REG("IMSC", RTC_IMSC, 4, 1u, "pl031/im", 0, "drives the IRQ line"),
    DEV_REG("ICR", RTC_ICR, 4, 1u, NULL, 0, "clears RIS"),
    DEV_REGS_END,
};

const DevType pl031_type = {
    .name = "pl031",
    .summary = "ARM PrimeCell RTC (PL031): 1 Hz counter on the virtual clock, match interrupt",
    .state_size = sizeof(PL031State),
    .vmsd = &vmstate_pl031,
    .members = pl031_members,
    .realize = pl031_realize,
    .reset = pl031_reset,
    .regs = pl031_regs,
};
