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
/* Luminary (Stellaris) variant only: pad control, lock and commit. */
#define PL061_DR2R 0x500u
#define PL061_DR4R 0x504u
#define PL061_DR8R 0x508u
#define PL061_ODR 0x50cu
#define PL061_PUR 0x510u
#define PL061_PDR 0x514u
#define PL061_SLR 0x518u
#define PL061_DEN 0x51cu
#define PL061_LOCK 0x520u
#define PL061_CR 0x524u
#define PL061_AMSEL 0x528u
#define PL061_UNLOCK_KEY 0x0acce551u

/*
 * Exercise both blocks (GPIO1 is a Luminary PL061: also its lock, commit and
 * pad registers); 0 on pass. The guest cannot drive input pins, so
 * interrupts are tested on output pins: the PL061 model's detection logic
 * watches driven pins too (DIR=1), which real pads also feed back.
 */
int pl061_selftest(void);
/* GPIO1: all pins inputs with both-edge interrupts (the host drives them).
 * GPIO0: outputs; each poll writes a new pattern. Every 64 polls both get a
 * new interrupt-sense/event/AFSEL phase and GPIO1 new Luminary pad, lock and
 * commit settings. Poll folds edges seen. */
void pl061_workload_init(void);
uint32_t pl061_workload_poll(void);

#endif
