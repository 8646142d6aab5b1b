/*
 * vclock.c - virtual clock and timers. See vclock.h.
 *
 * The armed list is kept sorted by (deadline, id); machines have a handful
 * of timers, so a sorted singly linked list is the simplest structure that
 * makes "earliest next" O(1) and firing order independent of arming order.
 */
#include "vclock.h"

#include <stddef.h>

static uint64_t deadline_cycle(int64_t deadline_ns)
{
    /* First cycle whose time is >= deadline. */
    if (deadline_ns <= 0)
        return 0;
    return ((uint64_t)deadline_ns + VCLOCK_NS_PER_CYCLE - 1) / VCLOCK_NS_PER_CYCLE;
}

static void update_next(VClock *c)
{
    uint64_t next = c->armed ? deadline_cycle(c->armed->deadline) : UINT64_MAX;
    if (next < c->next_cycle && c->kick)
        *c->kick = true;
    c->next_cycle = next;
}

void vclock_init(VClock *c)
{
    c->cycles = 0;
    c->next_cycle = UINT64_MAX;
    c->armed = NULL;
    c->n_timers = 0;
    c->kick = NULL;
}

void vclock_set_cycles(VClock *c, uint64_t cycles)
{
    c->cycles = cycles;
    update_next(c);
}

static void unlink_timer(VTimer *t)
{
    VTimer **pp = &t->clock->armed;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->next = NULL;
}

void vtimer_init(VTimer *t, VClock *c, VTimerCb *cb, void *opaque)
{
    t->deadline = -1;
    t->cb = cb;
    t->opaque = opaque;
    t->clock = c;
    t->next = NULL;
    t->id = c->n_timers++;
}

void vtimer_del(VTimer *t)
{
    if (t->deadline < 0)
        return;
    unlink_timer(t);
    t->deadline = -1;
    update_next(t->clock);
}

void vtimer_mod(VTimer *t, int64_t deadline_ns)
{
    if (deadline_ns < 0) {
        vtimer_del(t);
        return;
    }
    if (t->deadline >= 0)
        unlink_timer(t);
    t->deadline = deadline_ns;
    VTimer **pp = &t->clock->armed;
    while (*pp && ((*pp)->deadline < deadline_ns ||
                   ((*pp)->deadline == deadline_ns && (*pp)->id < t->id)))
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    update_next(t->clock);
}

unsigned vclock_run_due(VClock *c)
{
    unsigned fired = 0;
    int64_t now = vclock_ns(c);
    while (c->armed && c->armed->deadline <= now) {
        VTimer *t = c->armed;
        c->armed = t->next;
        t->next = NULL;
        t->deadline = -1;
        update_next(c);
        t->cb(t->opaque);   /* may re-arm t or others */
        fired++;
    }
    return fired;
}

/* ------------------------------------------------------------ codec */

static bool put_timer(VmsOut *out, const void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    const VTimer *t = pv;
    return vms_out_be64(out, (uint64_t)(t->deadline < 0 ? -1 : t->deadline));
}

static bool get_timer(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why)
{
    VTimer *t = pv;
    uint64_t v;
    if (!vms_in_be64(in, &v))
        return false;
    int64_t d = (int64_t)v;
    if (d < -1)
        return vms_fail(why, "timer deadline %lld is negative", (long long)d);
    if (t->clock)
        vtimer_mod(t, d);
    else
        t->deadline = d;
    return true;
}

const VmsInfo vms_info_timer = {
    .name = "timer",
    .put = put_timer,
    .get = get_timer,
    .fail_class = VMS_ERR_RANGE,
};
