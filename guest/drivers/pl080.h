/* pl080.h - guest driver for the PL080 DMA controller (DMA0_BASE): linked-list
 * transfers, self-test, workload. */
#ifndef VMSTRESS_GUEST_PL080_H
#define VMSTRESS_GUEST_PL080_H

#include <stdint.h>

#define PL080_INT_STATUS 0x000u
#define PL080_INT_TC_STATUS 0x004u
#define PL080_INT_TC_CLEAR 0x008u
#define PL080_INT_ERR_STATUS 0x00cu
#define PL080_INT_ERR_CLEAR 0x010u
#define PL080_RAW_TC 0x014u
#define PL080_RAW_ERR 0x018u
#define PL080_ENABLED 0x01cu
#define PL080_CONFIG 0x030u
#define PL080_SYNC 0x034u
#define PL080_CH(c) (0x100u + 0x20u * (c))
#define PL080_CH_SRC 0x00u
#define PL080_CH_DEST 0x04u
#define PL080_CH_LLI 0x08u
#define PL080_CH_CTRL 0x0cu
#define PL080_CH_CONF 0x10u

#define PL080_CONF_E (1u << 0)
#define PL080_CCONF_E (1u << 0)
#define PL080_CCONF_IE (1u << 14)
#define PL080_CCONF_ITC (1u << 15)
#define PL080_CCONF_H (1u << 18)
#define PL080_CCTRL_SI (1u << 26)
#define PL080_CCTRL_DI (1u << 27)
#define PL080_CCTRL_I (1u << 31)

/* A linked-list item as the controller reads it from memory. */
typedef struct Pl080Lli {
    uint32_t src, dest, next, ctrl;
} Pl080Lli;

/* 1 if a PL080 answers at DMA0_BASE (its PeriphID0 reads 0x80). */
int pl080_present(void);
/* Control word: n elements of 1 << width_log2 bytes, address increments,
 * and the terminal-count interrupt at the end of this item. */
uint32_t pl080_ctrl(uint32_t n, unsigned width_log2, int src_inc, int dest_inc, int tc_irq);
/* Load channel c from item first (its next chains the rest) and enable it,
 * with the channel's TC and error interrupts unmasked. */
void pl080_start(unsigned c, const Pl080Lli *first);
/* 1 while channel c is enabled. */
int pl080_busy(unsigned c);
/* Terminal-count and error interrupts taken so far. */
uint32_t pl080_tc_irqs(void);
uint32_t pl080_err_irqs(void);

/* Every register, chains, errors, interrupts, DMA to the UART; 0 on pass. */
int pl080_selftest(void);
/* The `all` workload: channel 0 copies a three-item chain over and over;
 * poll checks each finished copy and starts the next. Does nothing (poll
 * returns 0) on a board without the controller. */
void pl080_workload_init(void);
uint32_t pl080_workload_poll(void);

#endif
