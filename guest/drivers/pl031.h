/* pl031.h - guest driver for the PL031 RTC: self-test and workload. */
#ifndef VMSTRESS_GUEST_PL031_H
#define VMSTRESS_GUEST_PL031_H

#include <stdint.h>

#define PL031_DR 0x00u
#define PL031_MR 0x04u
#define PL031_LR 0x08u
#define PL031_CR 0x0cu
#define PL031_IMSC 0x10u
#define PL031_RIS 0x14u
#define PL031_MIS 0x18u
#define PL031_ICR 0x1cu

uint32_t pl031_now(void);
/* Exercise every register and the match interrupt; 0 on pass. Takes about
 * three virtual seconds (it sleeps until alarms). */
int pl031_selftest(void);
/* Alarms a second apart; each alarm's status is left set (masked) for about
 * a second before the poll clears it and arms the next. Poll folds alarms
 * seen and the counter. */
void pl031_workload_init(void);
uint32_t pl031_workload_poll(void);

#endif
