/*
 * devclock.c - device clock inputs with QEMU's "clock" description. See devclock.h.
 *
 * Arithmetic is done in 128 bits so that period * multiplier * ticks cannot
 * wrap; results that do not fit saturate rather than lie.
 */
#include "devclock.h"

#define PERIOD_1SEC ((uint64_t)1000000000u << 32)   /* one second in 2^-32 ns */

void devclock_init(DevClock *c)
{
    c->period = 0;
    c->multiplier = 1;
    c->divider = 1;
}

void devclock_set_hz(DevClock *c, uint32_t hz)
{
    c->period = hz ? PERIOD_1SEC / hz : 0;
}

/* period * multiplier / divider; a zero divider (never loaded: see post_load) acts as 1. */
static unsigned __int128 effective_period(const DevClock *c)
{
    unsigned __int128 p = (unsigned __int128)c->period * c->multiplier;
    return c->divider ? p / c->divider : p;
}

uint64_t devclock_hz(const DevClock *c)
{
    unsigned __int128 p = effective_period(c);
    return p ? (uint64_t)(PERIOD_1SEC / p) : 0;
}

int64_t devclock_ticks_to_ns(const DevClock *c, uint64_t ticks)
{
    unsigned __int128 p = effective_period(c);
    if (!p)
        return INT64_MAX;
    /* Periods of 2^64 units (over four seconds) and more: any tick is past the horizon. */
    if (p >> 64)
        return ticks ? INT64_MAX : 0;
    unsigned __int128 ns = (p * ticks) >> 32;   /* both < 2^64: the product fits */
    return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

/* ---------------------------------------------------------------- vmstate */

/* A stream without the muldiv subsection means 1/1, whatever was set before. */
static bool clock_pre_load(void *opaque, int version_id, VmsMsg *why)
{
    DevClock *c = opaque;
    c->multiplier = 1;
    c->divider = 1;
    return true;
}

static bool muldiv_needed(void *opaque)
{
    const DevClock *c = opaque;
    return c->multiplier != 1 || c->divider != 1;
}

/* QEMU does not check this; a zero divider would make every later division fault. */
static bool muldiv_post_load(void *opaque, int version_id, VmsMsg *why)
{
    const DevClock *c = opaque;
    if (c->divider == 0)
        return vms_fail(why, "clock divider is 0");
    return true;
}

static const VmsField muldiv_fields[] = {
    VMS_UINT32(multiplier, DevClock),
    VMS_UINT32(divider, DevClock),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_muldiv = {
    .name = "clock/muldiv",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = muldiv_fields,
    .needed = muldiv_needed,
    .post_load = muldiv_post_load,
};

static const VmsField clock_fields[] = {
    VMS_UINT64(period, DevClock),
    VMS_END_OF_LIST(),
};

static const VmsDesc *const clock_subsections[] = { &vmstate_muldiv, NULL };

const VmsDesc vmstate_clock = {
    .name = "clock",
    .version_id = 0,
    .minimum_version_id = 0,
    .fields = clock_fields,
    .subsections = clock_subsections,
    .pre_load = clock_pre_load,
};
