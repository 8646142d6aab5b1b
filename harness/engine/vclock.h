/*
 * vclock.h - the virtual clock and its timers (prefix vclock_ / vtimer_).
 *
 * Guest time is derived from the cycle count and nothing else: the CPU adds
 * one cycle per instruction and the machine adds idle cycles while the CPU
 * sleeps, so the same firmware, inputs and seed give the same time at every
 * instruction. Host time is never read.
 *
 * A timer is an absolute deadline in virtual nanoseconds (-1: not armed) and
 * a callback. Timers due at the same deadline fire in the order they were
 * initialised, never in the order they were armed, so that a machine whose
 * timers were re-armed by a load fires them exactly as its twin does.
 */
#ifndef VMSTRESS_VCLOCK_H
#define VMSTRESS_VCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmstate.h"

#define VCLOCK_NS_PER_CYCLE 10  /* the core runs at a virtual 100 MHz */
/* The latest time the clock can show: its nanoseconds, and a run's budget on
 * top of it, stay far from overflowing int64 (about 730 years). A loaded
 * time beyond it is rejected. */
#define VCLOCK_MAX_CYCLES ((uint64_t)INT64_MAX / VCLOCK_NS_PER_CYCLE / 4)

typedef struct VClock VClock;
typedef struct VTimer VTimer;
typedef void VTimerCb(void *opaque);

struct VTimer {
    int64_t deadline;       /* virtual ns; -1 when not armed */
    VTimerCb *cb;
    void *opaque;
    VClock *clock;
    VTimer *next;           /* armed list, sorted by (deadline, id) */
    uint32_t id;            /* initialisation order; breaks deadline ties */
};

struct VClock {
    uint64_t cycles;        /* elapsed virtual cycles: the only time base */
    uint64_t next_cycle;    /* first cycle at which a timer is due; UINT64_MAX if none */
    VTimer *armed;
    uint32_t n_timers;      /* ids handed out */
    bool *kick;             /* if set, *kick = true whenever next_cycle moves earlier */
};

void vclock_init(VClock *c);
static inline int64_t vclock_ns(const VClock *c) { return (int64_t)(c->cycles * VCLOCK_NS_PER_CYCLE); }
/* Set the time (used by reset and by loading the clock's section). */
void vclock_set_cycles(VClock *c, uint64_t cycles);
/* Fire every timer due at the current time, earliest first. Returns how many fired. */
unsigned vclock_run_due(VClock *c);

void vtimer_init(VTimer *t, VClock *c, VTimerCb *cb, void *opaque);
void vtimer_mod(VTimer *t, int64_t deadline_ns);   /* deadline < 0 disarms */
void vtimer_del(VTimer *t);
static inline bool vtimer_pending(const VTimer *t) { return t->deadline >= 0; }

/* Leaf codec "timer": be64 deadline in ns, -1 when not armed; loading arms or disarms. */
extern const VmsInfo vms_info_timer;
/* Inline VTimer member. */
#define VMS_TIMER(m, S) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, VTimer), .size = sizeof(VTimer), \
    .info = &vms_info_timer, .flags = VMS_SINGLE }
/* VTimer *member, as QEMU's VMSTATE_TIMER_PTR (dump size is the pointer's). */
#define VMS_TIMER_PTR(m, S) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, VTimer *), .size = sizeof(VTimer *), \
    .info = &vms_info_timer, .flags = VMS_SINGLE | VMS_POINTER }

#endif
