/*
 * virtblk.h - guest driver for vmstress-virtblk (VIRTBLK_BASE), the
 * virtqueue block device: one split virtqueue of 8 entries in SRAM,
 * requests as chains (header, data buffers, status byte), completion by
 * interrupt.
 */
#ifndef VMSTRESS_GUEST_VIRTBLK_H
#define VMSTRESS_GUEST_VIRTBLK_H

#include <stdint.h>

/* The device answers at VIRTBLK_BASE (boards without it have none). */
int virtblk_present(void);
/* Registers, feature negotiation, reads, writes, flushes, errors and the
 * interrupt path, from the guest; prints, 0 on pass. */
int virtblk_selftest(void);
/* The `all` workload: two request slots kept busy (write a sector from
 * flash, read it back and compare; write and flush), so requests are in
 * flight most of the time. Needs about 1.3 KiB of free SRAM above the
 * program's data; on a smaller board it does nothing. */
void virtblk_workload_init(void);
/* Requests completed so far, plus every data mismatch or error status
 * (which would also be printed). */
uint32_t virtblk_workload_poll(void);

#endif
