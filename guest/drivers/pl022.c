/*
 * pl022.c - guest driver and self-test for the PL022 SSP and its SPI NOR
 * flash. The port's enable (CR1.SSE) is the flash's chip select on this
 * board, so every command runs between enabling and disabling the port.
 */
#include "pl022.h"

#include "pl080.h"
#include "rt.h"

#define SSP(off) (SSP0_BASE + (off))

enum { CMD_PP = 0x02, CMD_READ = 0x03, CMD_RDSR = 0x05, CMD_WREN = 0x06, CMD_FAST_READ = 0x0b,
       CMD_SE = 0x20, CMD_RDID = 0x9f };

static volatile uint32_t rx_irqs;

/* The RX interrupt (receive FIFO half full): counted, then masked until the
 * workload arms it again. */
IRQ_HANDLER(SSP0_IRQ)
{
    mmio_write32(SSP(PL022_IMSC), 0);
    rx_irqs++;
}

int pl022_present(void)
{
    uint32_t id;
    return rt_probe_read32(SSP(0xfe0), &id) && id == 0x22;
}

void pl022_init(void)
{
    mmio_write32(SSP(PL022_CR1), 0);
    mmio_write32(SSP(PL022_CR0), 7);        /* DSS = 8 bits, SPI mode 0 */
    mmio_write32(SSP(PL022_CPSR), 2);
}

static uint32_t xfer(uint32_t out)
{
    while (!(mmio_read32(SSP(PL022_SR)) & PL022_SR_TNF))
        ;
    mmio_write32(SSP(PL022_DR), out);
    while (!(mmio_read32(SSP(PL022_SR)) & PL022_SR_RNE))
        ;
    return mmio_read32(SSP(PL022_DR));
}

static void select(int on) { mmio_write32(SSP(PL022_CR1), on ? PL022_CR1_SSE : 0); }

static void command(uint32_t cmd, uint32_t addr, int with_addr)
{
    select(1);
    xfer(cmd);
    if (with_addr) {
        xfer(addr >> 16 & 0xff);
        xfer(addr >> 8 & 0xff);
        xfer(addr & 0xff);
    }
}

uint32_t spi_flash_id(void)
{
    command(CMD_RDID, 0, 0);
    uint32_t id = xfer(0) << 16;
    id |= xfer(0) << 8;
    id |= xfer(0);
    select(0);
    return id;
}

uint32_t spi_flash_status(void)
{
    command(CMD_RDSR, 0, 0);
    uint32_t st = xfer(0);
    select(0);
    return st;
}

void spi_flash_read(uint32_t addr, uint8_t *buf, unsigned n)
{
    /* Odd addresses use FAST_READ (a dummy byte after the address). */
    command(addr & 1 ? CMD_FAST_READ : CMD_READ, addr, 1);
    if (addr & 1)
        xfer(0);
    for (unsigned i = 0; i < n; i++)
        buf[i] = (uint8_t)xfer(0);
    select(0);
}

static void write_enable(void)
{
    command(CMD_WREN, 0, 0);
    select(0);
}

void spi_flash_program(uint32_t addr, const uint8_t *buf, unsigned n)
{
    write_enable();
    command(CMD_PP, addr, 1);
    for (unsigned i = 0; i < n; i++)
        xfer(buf[i]);
    select(0);
}

void spi_flash_erase_sector(uint32_t addr)
{
    write_enable();
    command(CMD_SE, addr, 1);
    select(0);
}

/* ------------------------------------------------------------ self-test */

static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        rt_printf("pl022: FAIL %s: got 0x%08x want 0x%08x\n", what, got, want);
        failures++;
    }
}

static uint8_t buf[16];

static uint32_t pattern(uint32_t seed, unsigned i) { return (seed * 37u + i * 11u) & 0xff; }

/* Program 16 bytes at addr and read them back: mismatches. */
static uint32_t program_and_check(uint32_t addr, uint32_t seed)
{
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)pattern(seed, i);
    spi_flash_program(addr, buf, sizeof(buf));
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = 0;
    spi_flash_read(addr, buf, sizeof(buf));
    uint32_t bad = 0;
    for (unsigned i = 0; i < sizeof(buf); i++)
        bad += buf[i] != pattern(seed, i);
    return bad;
}

int pl022_selftest(void)
{
    static const uint8_t ids[8] = { 0x22, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
    failures = 0;
    if (!pl022_present()) {
        rt_puts("pl022: FAIL no PL022 at SSP0_BASE\n");
        return 1;
    }
    for (unsigned i = 0; i < 8; i++)
        check("id", mmio_read32(SSP(0xfe0u + 4u * i)), ids[i]);
    check("reset sr", mmio_read32(SSP(PL022_SR)), PL022_SR_TFE | PL022_SR_TNF);
    check("reset ris", mmio_read32(SSP(PL022_RIS)), PL022_INT_TX);
    pl022_init();

    /* Loopback: frames come back masked to the frame size; the FIFO fills. */
    mmio_write32(SSP(PL022_CR1), PL022_CR1_LBM | PL022_CR1_SSE);
    for (unsigned i = 0; i < 8; i++)
        mmio_write32(SSP(PL022_DR), 0x100 | i);
    check("rx full", mmio_read32(SSP(PL022_SR)) & (PL022_SR_RFF | PL022_SR_RNE),
          PL022_SR_RFF | PL022_SR_RNE);
    check("rx interrupt", mmio_read32(SSP(PL022_RIS)) & PL022_INT_RX, PL022_INT_RX);
    /* The interrupt path: unmasking RX takes the interrupt at once. */
    nvic_enable(SSP0_IRQ);
    irq_enable();
    mmio_write32(SSP(PL022_IMSC), PL022_INT_RX);
    for (volatile int i = 0; i < 10; i++)
        ;
    check("rx irq taken", rx_irqs, 1);
    nvic_disable(SSP0_IRQ);
    for (unsigned i = 0; i < 8; i++)
        check("loopback frame", mmio_read32(SSP(PL022_DR)), i);
    check("drained", mmio_read32(SSP(PL022_SR)), PL022_SR_TFE | PL022_SR_TNF);
    mmio_write32(SSP(PL022_CR1), 0);

    /* The flash: ID, write-enable latch, erase, program, read back. */
    check("flash id", spi_flash_id(), FLASH_ID);
    check("status", spi_flash_status(), 0);
    write_enable();
    check("wel", spi_flash_status(), FLASH_WEL);
    spi_flash_erase_sector(0);
    check("wel after erase", spi_flash_status(), 0);
    spi_flash_read(0x10, buf, 4);
    check("erased", buf[0] & buf[1] & buf[2] & buf[3], 0xff);
    check("program", program_and_check(0x20, 5), 0);
    check("program odd", program_and_check(0x41, 6), 0);
    /* Without WREN a program changes nothing. */
    uint8_t zero[2] = { 0, 0 };
    command(CMD_PP, 0x20, 1);
    xfer(zero[0]);
    select(0);
    spi_flash_read(0x20, buf, 1);
    check("pp without wren", buf[0], pattern(5, 0));
    spi_flash_erase_sector(0);
    spi_flash_read(0x20, buf, 1);
    check("erased again", buf[0], 0xff);

    rt_printf("pl022: selftest %s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}

/* ------------------------------------------------------------ workload */

static int present, dma;
static uint32_t step, rounds, mismatches;
static uint8_t dma_src[8];

/* DMA eight frames into DR in loopback (the PL080's channel 1), then read
 * them back from the receive FIFO on a later poll. */
static void dma_start(uint32_t seed)
{
    for (unsigned i = 0; i < sizeof(dma_src); i++)
        dma_src[i] = (uint8_t)pattern(seed, i);
    mmio_write32(SSP(PL022_CR1), PL022_CR1_LBM | PL022_CR1_SSE);
    mmio_write32(SSP(PL022_IMSC), PL022_INT_RX);
    Pl080Lli item = { (uint32_t)dma_src, SSP(PL022_DR), 0, pl080_ctrl(sizeof(dma_src), 0, 1, 0, 0) };
    pl080_start(1, &item);
}

static uint32_t dma_check(void)
{
    uint32_t bad = 0;
    for (unsigned i = 0; i < sizeof(dma_src); i++)
        bad += mmio_read32(SSP(PL022_DR)) != dma_src[i];
    mmio_write32(SSP(PL022_CR1), 0);
    return bad;
}

void pl022_workload_init(void)
{
    present = pl022_present();
    if (!present)
        return;
    dma = pl080_present();
    pl022_init();
    nvic_enable(SSP0_IRQ);
}

uint32_t pl022_workload_poll(void)
{
    if (!present)
        return 0;
    uint32_t sector = (rounds & 3) * FLASH_SECTOR, bad = 0;
    switch (step) {
    case 0: spi_flash_erase_sector(sector); break;
    case 1: bad = program_and_check(sector + (rounds & 7) * 17, rounds); break;
    case 2: bad = spi_flash_id() != FLASH_ID; break;
    case 3:
        if (dma)
            dma_start(rounds);
        break;
    default:
        if (dma && pl080_busy(1))
            return rounds * 0x01000193u + mismatches + rx_irqs;
        if (dma)
            bad = dma_check();
        rounds++;
        step = (uint32_t)-1;
        break;
    }
    if (bad) {
        rt_printf("pl022: FAIL round %u step %u: %u bytes differ\n", (unsigned)rounds,
                  (unsigned)step, (unsigned)bad);
        mismatches += bad;
    }
    step++;
    return rounds * 0x01000193u + mismatches + rx_irqs;
}
