/* watchdog.h - guest driver for the CMSDK APB watchdog at WDOG_BASE. */
#ifndef VMSTRESS_GUEST_WATCHDOG_H
#define VMSTRESS_GUEST_WATCHDOG_H

#include <stdint.h>

/* Every register, the lock, test mode and the interrupt path; 0 on pass. */
int watchdog_selftest(void);
/* The `all` workload: the watchdog runs with RESEN set and its interrupt
 * handler kicks it, so it never resets the machine. */
void watchdog_workload_init(void);
/* Kicks so far. */
uint32_t watchdog_workload_poll(void);

#endif
