/*
 * qrt.h - the tiny runtime of the QEMU-board workloads (guest/qemu/<board>/).
 *
 * A workload defines board_main() and board_irq(); the runtime owns the
 * vector table (every external interrupt goes to board_irq with its number)
 * and start-up. checkpoint() is where `vmstress qemu` stops the guest: a
 * noinline function with a fixed address, reached from the main loop only.
 */
#ifndef QRT_H
#define QRT_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* The Cortex-M system control space, the same on every M-profile board. */
#define NVIC_ISER0   0xE000E100u
#define SYST_CSR     0xE000E010u
#define SYST_RVR     0xE000E014u
#define SYST_CVR     0xE000E018u

void board_main(void);          /* never returns */
void board_irq(unsigned irq);   /* external interrupt irq (0-based) */
void board_systick(void);

void checkpoint(void);
void qrt_nvic_enable(unsigned irq);
void qrt_systick_start(uint32_t reload);

#endif
