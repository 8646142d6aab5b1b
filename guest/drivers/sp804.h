/* sp804.h - guest driver for the two SP804 dual timers (TIMER0_BASE, TIMER1_BASE). */
#ifndef VMSTRESS_GUEST_SP804_H
#define VMSTRESS_GUEST_SP804_H

#include <stdint.h>

/* Every register and the interrupt path, from the guest; prints, 0 on pass. */
int sp804_selftest(void);
/* The `all` workload: both devices' timer 0 periodic with interrupts. */
void sp804_workload_init(void);
/* Interrupts taken so far (both devices). */
uint32_t sp804_workload_poll(void);

#endif
