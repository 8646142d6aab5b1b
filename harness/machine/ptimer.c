/*
 * ptimer.c - periodic / one-shot down-counter. See ptimer.h for the model.
 *
 * Periods are handled as one unsigned number of 2^-32 ns ("q32"), and every
 * product with a count is done in 128 bits, so counts up to 2^64 and periods
 * up to 2^31 s never overflow; results that do not fit in int64 ns saturate
 * (a deadline that far away simply never comes).
 */
#include "ptimer.h"

#include <string.h>

typedef unsigned __int128 u128;

static int64_t now_ns(const PTimer *p)
{
    return vclock_ns(p->vt.clock);
}

uint64_t ptimer_period_q32(const PTimer *p)
{
    /* period is kept below 2^32 by the setters and the load check. */
    return ((uint64_t)p->period << 32) | p->period_frac;
}

int64_t ptimer_ticks_ns(const PTimer *p, uint64_t ticks)
{
    u128 q = (u128)ticks * ptimer_period_q32(p);
    u128 ns = (q >> 32) + ((q & 0xffffffffu) != 0);
    return ns > (u128)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Start counting `delta` down from now and arm the expiry. */
static void start_from_now(PTimer *p)
{
    p->last_event = now_ns(p);
    p->next_event = add_sat(p->last_event, ptimer_ticks_ns(p, p->delta));
    vtimer_mod(&p->vt, p->next_event);
}

static void expire(void *opaque)
{
    PTimer *p = opaque;
    if (p->enabled == PTIMER_PERIODIC) {
        /* Reload relative to the expiry, not to when the callback ran. */
        p->delta = p->limit;
        p->last_event = p->next_event;
        p->next_event = add_sat(p->last_event, ptimer_ticks_ns(p, p->limit));
        vtimer_mod(&p->vt, p->next_event);
    } else {
        p->enabled = PTIMER_STOPPED;
        p->delta = 0;
    }
    p->cb(p->opaque);
}

void ptimer_init(PTimer *p, VClock *c, const char *name, PTimerCb *cb, void *opaque)
{
    memset(p, 0, sizeof(*p));
    vtimer_init(&p->vt, c, expire, p);
    p->timer = &p->vt;
    p->cb = cb;
    p->opaque = opaque;
    p->name = name ? name : "ptimer";
}

void ptimer_reset(PTimer *p)
{
    vtimer_del(&p->vt);
    p->enabled = PTIMER_STOPPED;
    p->limit = p->delta = 0;
    p->period_frac = 0;
    p->period = 0;
    p->last_event = p->next_event = 0;
}

void ptimer_set_period_q32(PTimer *p, uint64_t q32)
{
    bool running = ptimer_running(p);
    if (running)
        p->delta = ptimer_get_count(p);
    p->period = (int64_t)(q32 >> 32);
    p->period_frac = (uint32_t)q32;
    if (!running)
        return;
    if (q32 == 0) {
        p->enabled = PTIMER_STOPPED;
        vtimer_del(&p->vt);
        return;
    }
    start_from_now(p);
}

void ptimer_set_period(PTimer *p, int64_t ns)
{
    ptimer_set_period_q32(p, ns > 0 && ns < ((int64_t)1 << 32) ? (uint64_t)ns << 32 : 0);
}

void ptimer_set_freq(PTimer *p, uint32_t hz)
{
    ptimer_set_period_q32(p, hz ? (uint64_t)(((u128)1000000000u << 32) / hz) : 0);
}

void ptimer_set_limit(PTimer *p, uint64_t limit, bool reload)
{
    p->limit = limit;
    if (limit == 0 && p->enabled == PTIMER_PERIODIC)
        p->enabled = PTIMER_ONESHOT;
    if (reload)
        ptimer_set_count(p, limit);
}

uint64_t ptimer_get_limit(const PTimer *p)
{
    return p->limit;
}

void ptimer_set_count(PTimer *p, uint64_t count)
{
    p->delta = count;
    if (ptimer_running(p))
        start_from_now(p);
}

uint64_t ptimer_get_count(const PTimer *p)
{
    if (!ptimer_running(p))
        return p->delta;
    int64_t now = now_ns(p);
    if (now >= p->next_event)
        return 0;       /* expired; the callback is about to run */
    if (now <= p->last_event)
        return p->delta;
    u128 elapsed = (u128)(uint64_t)(now - p->last_event) << 32;
    u128 ticks = elapsed / ptimer_period_q32(p);     /* non-zero while running */
    return ticks >= p->delta ? 0 : p->delta - (uint64_t)ticks;
}

bool ptimer_run(PTimer *p, bool oneshot)
{
    uint8_t mode = oneshot || p->limit == 0 ? PTIMER_ONESHOT : PTIMER_PERIODIC;
    if (ptimer_running(p)) {
        p->enabled = mode;
        return true;
    }
    if (ptimer_period_q32(p) == 0)
        return false;
    p->enabled = mode;
    start_from_now(p);
    return true;
}

void ptimer_stop(PTimer *p)
{
    if (!ptimer_running(p))
        return;
    p->delta = ptimer_get_count(p);
    p->enabled = PTIMER_STOPPED;
    vtimer_del(&p->vt);
}

/* ------------------------------------------------------------ migration */

static bool ptimer_post_load(void *opaque, int version_id, VmsMsg *why)
{
    PTimer *p = opaque;
    if (p->enabled > PTIMER_ONESHOT)
        return vms_fail(why, "field '%s.enabled' is %u (0, 1 or 2 expected)", p->name, p->enabled);
    if (p->period < 0 || p->period >= ((int64_t)1 << 32))
        return vms_fail(why, "field '%s.period' is %lld ns (0..2^32-1 expected)", p->name,
                        (long long)p->period);
    if (!ptimer_running(p)) {
        if (p->vt.deadline != -1)
            return vms_fail(why, "field '%s.timer' is armed (%lld) but the ptimer is stopped", p->name,
                            (long long)p->vt.deadline);
        vtimer_del(&p->vt);
        return true;
    }
    if (ptimer_period_q32(p) == 0)
        return vms_fail(why, "field '%s.period' is 0 while enabled", p->name);
    int64_t now = now_ns(p);
    if (p->last_event < 0 || p->last_event > now)
        return vms_fail(why, "field '%s.last_event' %lld is not in [0, now=%lld]", p->name,
                        (long long)p->last_event, (long long)now);
    /* The deadline is delta periods after the last event; or, in a stream
     * from QEMU, one period more: QEMU's ptimer with the wrap-after-one-
     * period policy (the CMSDK watchdog's) reloads a periodic timer that
     * has just expired with delta = limit and a deadline limit + 1 periods
     * on, the counter resting at 0 for one period (docs/qemu-compat.md). */
    int64_t expect = add_sat(p->last_event, ptimer_ticks_ns(p, p->delta));
    bool qemu_wrap = p->enabled == PTIMER_PERIODIC && p->delta == p->limit &&
                     p->next_event == add_sat(p->last_event, ptimer_ticks_ns(p, p->delta + 1));
    if (p->next_event != expect && !qemu_wrap)
        return vms_fail(why, "field '%s.next_event' %lld != last_event + delta * period = %lld", p->name,
                        (long long)p->next_event, (long long)expect);
    if (p->enabled == PTIMER_PERIODIC) {
        if (p->limit == 0)
            return vms_fail(why, "field '%s.limit' is 0 while periodic", p->name);
        /* A deadline far in the past would make the periodic reload fire
         * once per period until it caught up: allow at most one period late. */
        if (p->next_event < now && now - p->next_event > ptimer_ticks_ns(p, p->limit))
            return vms_fail(why, "field '%s.next_event' %lld is more than one period before now=%lld", p->name,
                            (long long)p->next_event, (long long)now);
    }
    if (p->vt.deadline != p->next_event)
        return vms_fail(why, "field '%s.timer' deadline %lld != next_event %lld", p->name,
                        (long long)p->vt.deadline, (long long)p->next_event);
    vtimer_mod(&p->vt, p->next_event);
    return true;
}

static const VmsField ptimer_fields[] = {
    VMS_UINT8(enabled, PTimer),
    VMS_UINT64(limit, PTimer),
    VMS_UINT64(delta, PTimer),
    VMS_UINT32(period_frac, PTimer),
    VMS_INT64(period, PTimer),
    VMS_INT64(last_event, PTimer),
    VMS_INT64(next_event, PTimer),
    VMS_TIMER_PTR(timer, PTimer),
    VMS_END_OF_LIST(),
};

const VmsDesc vmstate_ptimer = {
    .name = "ptimer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = ptimer_fields,
    .post_load = ptimer_post_load,
};

const DevMember ptimer_members[] = {
    DEV_MEMBER(PTimer, enabled),
    DEV_MEMBER(PTimer, limit),
    DEV_MEMBER(PTimer, delta),
    DEV_MEMBER(PTimer, period_frac),
    DEV_MEMBER(PTimer, period),
    DEV_MEMBER(PTimer, last_event),
    DEV_MEMBER(PTimer, next_event),
    DEV_HOST(PTimer, timer, "points at the embedded VTimer"),
    DEV_TIMER(PTimer, vt),
    DEV_HOST(PTimer, cb, "owner's callback"),
    DEV_HOST(PTimer, opaque, "owner's callback argument"),
    DEV_HOST(PTimer, name, "owner's field name, for messages"),
    DEV_MEMBERS_END,
};
