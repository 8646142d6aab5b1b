/*
 * devclock.h - a device clock input, as QEMU's Clock (prefix devclock_).
 *
 * The period is kept in units of 2^-32 ns, as QEMU does, so that the
 * "clock" description (period u64; subsection "clock/muldiv" with
 * multiplier and divider) is wire-compatible with QEMU's VMSTATE_CLOCK.
 * A period of 0 means the clock is stopped.
 */
#ifndef VMSTRESS_DEVCLOCK_H
#define VMSTRESS_DEVCLOCK_H

#include <stdint.h>

#include "vmstate.h"

typedef struct DevClock {
    uint64_t period;        /* 2^-32 ns units; 0 = stopped */
    uint32_t multiplier;    /* effective period = period * multiplier / divider */
    uint32_t divider;
} DevClock;

void devclock_init(DevClock *c);                    /* stopped, mul = div = 1 */
void devclock_set_hz(DevClock *c, uint32_t hz);
uint64_t devclock_hz(const DevClock *c);            /* 0 when stopped */
/* Virtual ns taken by `ticks` periods (rounded down), INT64_MAX when stopped. */
int64_t devclock_ticks_to_ns(const DevClock *c, uint64_t ticks);

extern const VmsDesc vmstate_clock;                 /* "clock" v0/min0 + "clock/muldiv" */
/* DevClock *m, as QEMU's VMSTATE_CLOCK (a struct pointer). */
#define VMS_CLOCK(m, S) VMS_STRUCT_POINTER(m, S, vmstate_clock, DevClock)

#endif
