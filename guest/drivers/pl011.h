/* pl011.h - guest driver for the PL011 UART0: bring-up, self-test, workload. */
#ifndef VMSTRESS_GUEST_PL011_H
#define VMSTRESS_GUEST_PL011_H

#include <stdint.h>

#define PL011_DR 0x000u
#define PL011_RSR 0x004u
#define PL011_FR 0x018u
#define PL011_IBRD 0x024u
#define PL011_FBRD 0x028u
#define PL011_LCR_H 0x02cu
#define PL011_CR 0x030u
#define PL011_ILPR 0x020u
#define PL011_IFLS 0x034u
#define PL011_IMSC 0x038u
#define PL011_RIS 0x03cu
#define PL011_MIS 0x040u
#define PL011_ICR 0x044u
#define PL011_DMACR 0x048u

#define PL011_FR_RXFE (1u << 4)
#define PL011_FR_TXFF (1u << 5)
#define PL011_FR_RXFF (1u << 6)
#define PL011_FR_TXFE (1u << 7)
#define PL011_CR_UARTEN (1u << 0)
#define PL011_CR_LBE (1u << 7)
#define PL011_CR_TXE (1u << 8)
#define PL011_CR_RXE (1u << 9)
#define PL011_LCRH_FEN (1u << 4)
#define PL011_LCRH_WLEN8 (3u << 5)
#define PL011_INT_RX (1u << 4)
#define PL011_INT_TX (1u << 5)
#define PL011_INT_RT (1u << 6)
#define PL011_INT_OE (1u << 10)

/* Enable UART0 (8N1, FIFO on, 115200 from the 24 MHz reference) so the
 * runtime console can print through it. */
void pl011_init(void);
/* Exercise every register and interrupt path; 0 on pass. Waits for host
 * input: prints "pl011: rx>" and expects the four bytes "ping". */
int pl011_selftest(void);
/* Receive interrupts on; poll folds the bytes received since the last call
 * and every 64 polls changes DMACR, ILPR and IFLS (restoring them in turn). */
void pl011_workload_init(void);
uint32_t pl011_workload_poll(void);

#endif
