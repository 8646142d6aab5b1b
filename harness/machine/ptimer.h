/*
 * ptimer.h - a periodic / one-shot down-counter on the virtual clock (prefix ptimer_).
 *
 * Devices with a counting register (SP804, CMSDK watchdog) share this instead
 * of each doing time arithmetic. The migrated state is exactly QEMU's
 * "ptimer" v1/min1 description, so the wire bytes match QEMU's layout:
 *
 *   enabled u8      0 stopped, 1 periodic, 2 one-shot
 *   limit u64       reload value used by periodic mode
 *   delta u64       the count at last_event (running) or the count (stopped)
 *   period_frac u32 tick period, fractional ns in units of 2^-32 ns
 *   period i64      tick period, whole ns
 *   last_event i64  virtual ns at which `delta` was the count
 *   next_event i64  virtual ns at which the count reaches zero
 *   timer           the VTimer, armed at next_event while running
 *
 * Model. While running, the count at time t is
 *     delta - floor((t - last_event) / P)        (P = period + period_frac/2^32)
 * and it reaches zero at next_event = last_event + ceil(delta * P). At zero
 * the owner's callback runs: a one-shot timer stops (count 0); a periodic
 * one reloads `limit` with last_event = the old next_event, so no time is lost
 * however late the callback runs. A periodic timer whose limit is 0 would
 * fire forever at one instant, so it runs as one-shot instead: ptimer_run and
 * ptimer_set_limit pick the mode, and owners call ptimer_run again after
 * changing the limit of a running timer to re-assert the mode they want.
 * Hence "periodic implies limit != 0" holds always. All arithmetic is exact
 * integer arithmetic on virtual ns: no host time, no floating point.
 *
 * Invariant while running (checked on load): period > 0, last_event <= now,
 * next_event == last_event + ceil(delta * P), and the VTimer deadline is
 * next_event. Stopped: the VTimer is disarmed. A loaded ptimer re-arms from
 * next_event, so it continues exactly as the saved one.
 */
#ifndef VMSTRESS_PTIMER_H
#define VMSTRESS_PTIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "vclock.h"
#include "vmstate.h"

typedef void PTimerCb(void *opaque);

enum { PTIMER_STOPPED = 0, PTIMER_PERIODIC = 1, PTIMER_ONESHOT = 2 };

typedef struct PTimer {
    uint8_t enabled;
    uint64_t limit;
    uint64_t delta;
    uint32_t period_frac;
    int64_t period;
    int64_t last_event;
    int64_t next_event;
    VTimer *timer;          /* always &vt: QEMU migrates a timer pointer */
    VTimer vt;
    PTimerCb *cb;           /* the owner's expiry callback */
    void *opaque;
    const char *name;       /* the owner's field name, for load errors ("timer") */
} PTimer;

/* Bind to a clock; stopped, all counts and the period zero. `name` is the
 * owner's description field for this ptimer: load errors name leaves as
 * "<name>.period" etc., the path the engine reports for them. */
void ptimer_init(PTimer *p, VClock *c, const char *name, PTimerCb *cb, void *opaque);
/* Back to the init state (stopped, zero), keeping the binding. */
void ptimer_reset(PTimer *p);

/* Tick period. Changing it while running keeps the current count and starts
 * the next tick now. A zero period stops a running timer. */
void ptimer_set_freq(PTimer *p, uint32_t hz);               /* hz 0: zero period */
void ptimer_set_period(PTimer *p, int64_t ns);
/* Period in 2^-32 ns units (the unit of DevClock periods). */
void ptimer_set_period_q32(PTimer *p, uint64_t q32);
uint64_t ptimer_period_q32(const PTimer *p);

/* Reload value; with reload the count is set to it too (restarting the tick). */
void ptimer_set_limit(PTimer *p, uint64_t limit, bool reload);
uint64_t ptimer_get_limit(const PTimer *p);
/* Set the count; when running, counting restarts from it now (0 fires now). */
void ptimer_set_count(PTimer *p, uint64_t count);
uint64_t ptimer_get_count(const PTimer *p);

/* Start (or change the mode of a running timer); periodic with limit 0 runs
 * as one-shot. A timer with a zero period does not start; returns whether it
 * is running afterwards. */
bool ptimer_run(PTimer *p, bool oneshot);
void ptimer_stop(PTimer *p);
static inline bool ptimer_running(const PTimer *p) { return p->enabled != PTIMER_STOPPED; }

/* Virtual ns that `ticks` ticks take (rounded up), saturated at INT64_MAX. */
int64_t ptimer_ticks_ns(const PTimer *p, uint64_t ticks);

/* "ptimer" v1/min1; its post_load validates the invariant and re-arms. */
extern const VmsDesc vmstate_ptimer;
/* The members of a PTimer, for a standalone shadow part. */
extern const DevMember ptimer_members[];

/* PTimer *m, as QEMU's VMSTATE_PTIMER: a struct pointer at field version 1. */
#define VMS_PTIMER(m, S) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, PTimer *), \
    .size = sizeof(PTimer *), .flags = VMS_STRUCT | VMS_POINTER, \
    .vmsd = &vmstate_ptimer, .version_id = 1 }

/* DevMember entries for a PTimer embedded as member `m` of S (use inside a
 * member table; the pointer `m_ptr` to it is listed by the owner). */
#define PTIMER_DEV_MEMBERS(S, m) \
    DEV_MEMBER(S, m.enabled), DEV_MEMBER(S, m.limit), DEV_MEMBER(S, m.delta), \
    DEV_MEMBER(S, m.period_frac), DEV_MEMBER(S, m.period), DEV_MEMBER(S, m.last_event), \
    DEV_MEMBER(S, m.next_event), \
    DEV_HOST(S, m.timer, "points at the embedded VTimer"), \
    DEV_TIMER(S, m.vt), \
    DEV_HOST(S, m.cb, "owner's callback"), \
    DEV_HOST(S, m.opaque, "owner's callback argument"), \
    DEV_HOST(S, m.name, "owner's field name, for messages")

#endif
