/* pl022.h - guest driver for the PL022 SSP (SSP0_BASE) and the SPI NOR
 * flash on its bus: commands, self-test, workload. */
#ifndef VMSTRESS_GUEST_PL022_H
#define VMSTRESS_GUEST_PL022_H

#include <stdint.h>

#define PL022_CR0 0x000u
#define PL022_CR1 0x004u
#define PL022_DR 0x008u
#define PL022_SR 0x00cu
#define PL022_CPSR 0x010u
#define PL022_IMSC 0x014u
#define PL022_RIS 0x018u
#define PL022_MIS 0x01cu
#define PL022_ICR 0x020u

#define PL022_CR1_LBM (1u << 0)
#define PL022_CR1_SSE (1u << 1)
#define PL022_SR_TFE (1u << 0)
#define PL022_SR_TNF (1u << 1)
#define PL022_SR_RNE (1u << 2)
#define PL022_SR_RFF (1u << 3)
#define PL022_INT_RX (1u << 2)
#define PL022_INT_TX (1u << 3)

#define FLASH_SIZE 4096u
#define FLASH_PAGE 256u
#define FLASH_SECTOR 1024u
#define FLASH_ID 0x20200cu
#define FLASH_WEL 0x02u

/* 1 if a PL022 answers at SSP0_BASE (its PeriphID0 reads 0x22). */
int pl022_present(void);
/* 8-bit Motorola frames; the port off (the flash deselected). */
void pl022_init(void);

/* SPI NOR flash commands; each selects the part (CR1.SSE) for its duration. */
uint32_t spi_flash_id(void);
uint32_t spi_flash_status(void);
void spi_flash_read(uint32_t addr, uint8_t *buf, unsigned n);
void spi_flash_program(uint32_t addr, const uint8_t *buf, unsigned n);  /* inside one page */
void spi_flash_erase_sector(uint32_t addr);

/* Registers, FIFOs, loopback, interrupts and the flash; 0 on pass. */
int pl022_selftest(void);
/* The `all` workload: each poll runs one step of erase / program / read
 * back / check on the flash, and, with the PL080 present, a DMA of frames
 * into the port's data register in loopback. Nothing without the port. */
void pl022_workload_init(void);
uint32_t pl022_workload_poll(void);

#endif
