/*
 * qrt.h - the tiny runtime of the QEMU-board workloads (guest/qemu/<board>/).
 *
 * A workload is mostly data: board_irqs[] says, per external interrupt,
 * which register write acknowledges it and which counter it bumps; the
 * runtime owns the vector table, start-up, the interrupt dispatch and the
 * main loop. The board supplies board_init() (start every device),
 * board_step() (the device writes of one iteration) and board_putc().
 * checkpoint() is where `vmstress qemu` stops the guest: a noinline
 * function reached from the main loop only.
 */
#ifndef QRT_H
#define QRT_H

#include <stdbool.h>
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* The Cortex-M system control space, the same on every M-profile board. */
#define NVIC_ISER0   0xE000E100u
#define SYST_CSR     0xE000E010u
#define SYST_RVR     0xE000E014u
#define SYST_CVR     0xE000E018u

/* One acknowledgement of an external interrupt: write value to ack, then
 * add one to qrt_ticks[tick]. An IRQ may have several rows (all run). */
typedef struct QrtIrq {
    unsigned irq;
    uint32_t ack, value;
    unsigned tick;
} QrtIrq;

#define QRT_TICKS 4
extern volatile uint32_t qrt_ticks[QRT_TICKS];   /* [0] is SysTick's */

extern const QrtIrq board_irqs[];
extern const unsigned board_nirqs;
void board_init(void);
void board_step(uint32_t n, uint32_t x);   /* iteration n, x: the work's result */
void board_putc(char c);
/* One byte from the UART, or -1 when none has arrived. */
int board_getc(void);

/* Where `vmstress qemu` sees that a byte it fed from the host has reached
 * the UART: (REG32(status) & mask) == ready. The driver reads this struct
 * from guest memory through the gdb stub (symbol board_rx), feeds one byte
 * while the twins stand on checkpoint(), and waits until the register says
 * it arrived before the guest runs on (docs/qemu.md, "UART input"). */
typedef struct QrtRx {
    uint32_t status, mask, ready;
} QrtRx;
extern const QrtRx board_rx;
bool qrt_rx_ready(void);   /* board_rx says a byte is waiting */
/* Optional (weak): anything an interrupt needs beyond its table rows. */
void board_irq_extra(unsigned irq);

void checkpoint(void);
void qrt_nvic_enable(unsigned irq);         /* and every row's IRQ: qrt_enable_irqs */
void qrt_enable_irqs(void);
void qrt_systick_start(uint32_t reload);

#endif
