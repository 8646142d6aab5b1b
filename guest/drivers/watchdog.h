/* watchdog.h - guest driver for the CMSDK APB watchdog at WDOG_BASE. */
#ifndef VMSTRESS_GUEST_WATCHDOG_H
#define VMSTRESS_GUEST_WATCHDOG_H

#include <stdint.h>

/* Every register, the lock, test mode and the interrupt path; 0 on pass. */
int watchdog_selftest(void);
/*
 * The `all` workload: the watchdog runs locked with INTEN and RESEN; its
 * NVIC line stays off. watchdog_workload_tick (from a periodic interrupt,
 * every 0.5 ms) kicks it once the interrupt status has been set for a few
 * ticks, unlocking around the kick. watchdog_workload_expire stops the kicks
 * with RESEN clear, so the watchdog times out twice and latches its reset
 * status; 15 ms later the tick sets RESEN and the machine resets.
 */
void watchdog_workload_init(void);
void watchdog_workload_tick(void);
void watchdog_workload_expire(void);
/* Now and then a short integration-test-mode window; returns kicks so far. */
uint32_t watchdog_workload_poll(void);

#endif
