/* pl061.h - guest driver for the two PL061 GPIO blocks: self-test and workload. */
#ifndef VMSTRESS_GUEST_PL061_H
#define VMSTRESS_GUEST_PL061_H

#include <stdint.h>

#define PL061_DATA(mask) ((uint32_t)(mask) << 2)   /* address-masked data window */
#define PL061_DIR 0x400u
#define PL061_IS 0x404u
#define PL061_IBE 0x408u
#define PL061_IEV 0x40cu
#define PL061_IE 0x410u
#define PL061_RIS 0x414u
#define PL061_MIS 0x418u
#define PL061_IC 0x41cu
#define PL061_AFSEL 0x420u

/*
 * Exercise both blocks; 0 on pass. The guest cannot drive input pins, so
 * interrupts are tested on output pins: the PL061 model's detection logic
 * watches driven pins too (DIR=1), which real pads also feed back.
 */
int pl061_selftest(void);
/* GPIO1: all pins inputs with both-edge interrupts (the host drives them).
 * GPIO0: outputs; each poll writes a new pattern. Poll folds edges seen. */
void pl061_workload_init(void);
uint32_t pl061_workload_poll(void);

#endif
