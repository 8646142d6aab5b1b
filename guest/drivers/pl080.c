/*
 * pl080.c - guest driver and self-test for the PL080 DMA controller.
 * The model paces transfers (a burst per channel per microsecond), so the
 * driver waits for completion by polling the channel enable bit or by the
 * terminal-count interrupt, never assuming a copy is instantaneous.
 */
#include "pl080.h"

#include "pl011.h"
#include "rt.h"

#define DMA(off) (DMA0_BASE + (off))

static volatile uint32_t tc_irqs, err_irqs, tc_bits;

IRQ_HANDLER(DMA0_IRQ)
{
    uint32_t tc = mmio_read32(DMA(PL080_INT_TC_STATUS));
    uint32_t err = mmio_read32(DMA(PL080_INT_ERR_STATUS));
    if (tc) {
        mmio_write32(DMA(PL080_INT_TC_CLEAR), tc);
        tc_bits |= tc;
        tc_irqs++;
    }
    if (err) {
        mmio_write32(DMA(PL080_INT_ERR_CLEAR), err);
        err_irqs++;
    }
}

uint32_t pl080_tc_irqs(void) { return tc_irqs; }
uint32_t pl080_err_irqs(void) { return err_irqs; }

int pl080_present(void)
{
    uint32_t id;
    return rt_probe_read32(DMA(0xfe0), &id) && id == 0x80;
}

uint32_t pl080_ctrl(uint32_t n, unsigned width_log2, int src_inc, int dest_inc, int tc_irq)
{
    return (n & 0xfffu) | width_log2 << 18 | width_log2 << 21 | (src_inc ? PL080_CCTRL_SI : 0) |
           (dest_inc ? PL080_CCTRL_DI : 0) | (tc_irq ? PL080_CCTRL_I : 0);
}

void pl080_start(unsigned c, const Pl080Lli *first)
{
    uint32_t ch = DMA(PL080_CH(c));
    mmio_write32(ch + PL080_CH_SRC, first->src);
    mmio_write32(ch + PL080_CH_DEST, first->dest);
    mmio_write32(ch + PL080_CH_LLI, first->next);
    mmio_write32(ch + PL080_CH_CTRL, first->ctrl);
    mmio_write32(ch + PL080_CH_CONF, PL080_CCONF_E | PL080_CCONF_IE | PL080_CCONF_ITC);
}

int pl080_busy(unsigned c)
{
    return (mmio_read32(DMA(PL080_ENABLED)) >> c) & 1;
}

/* ------------------------------------------------------------ self-test */

static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        rt_printf("pl080: FAIL %s: got 0x%08x want 0x%08x\n", what, got, want);
        failures++;
    }
}

static int wait_idle(unsigned c)
{
    for (uint32_t spins = 0; spins < 100000u; spins++)
        if (!pl080_busy(c))
            return 1;
    rt_printf("pl080: FAIL channel %u never finished\n", c);
    failures++;
    return 0;
}

static uint32_t src_words[24], dst_words[24];
static Pl080Lli chain[3];

/* Three items of 8 words each: src_words[8i..] to dst_words[8i..]. */
static void build_chain(uint32_t seed, int irq_each)
{
    for (unsigned i = 0; i < 24; i++) {
        src_words[i] = seed * 0x9e3779b9u + i * 0x01010101u;
        dst_words[i] = 0;
    }
    for (unsigned i = 0; i < 3; i++) {
        chain[i].src = (uint32_t)&src_words[8 * i];
        chain[i].dest = (uint32_t)&dst_words[8 * i];
        chain[i].next = i < 2 ? (uint32_t)&chain[i + 1] : 0;
        chain[i].ctrl = pl080_ctrl(8, 2, 1, 1, irq_each || i == 2);
    }
}

static uint32_t chain_mismatches(void)
{
    uint32_t bad = 0;
    for (unsigned i = 0; i < 24; i++)
        bad += dst_words[i] != src_words[i];
    return bad;
}

int pl080_selftest(void)
{
    static const uint8_t ids[8] = { 0x80, 0x10, 0x04, 0x0a, 0x0d, 0xf0, 0x05, 0xb1 };
    failures = 0;
    if (!pl080_present()) {
        rt_puts("pl080: FAIL no PL080 at DMA0_BASE\n");
        return 1;
    }
    for (unsigned i = 0; i < 8; i++)
        check("id", mmio_read32(DMA(0xfe0u + 4u * i)), ids[i]);
    check("reset config", mmio_read32(DMA(PL080_CONFIG)), 0);
    check("reset enabled", mmio_read32(DMA(PL080_ENABLED)), 0);
    mmio_write32(DMA(PL080_SYNC), 0x1234);
    check("sync", mmio_read32(DMA(PL080_SYNC)), 0x1234);
    mmio_write32(DMA(PL080_SYNC), 0);

    /* A chain with the controller disabled does not move. */
    build_chain(1, 0);
    pl080_start(0, &chain[0]);
    for (volatile int i = 0; i < 500; i++)
        ;
    check("disabled controller", dst_words[0], 0);
    mmio_write32(DMA(PL080_CONFIG), PL080_CONF_E);
    /* Paced: soon after the start the copy is under way, not finished. */
    check("busy after start", pl080_busy(0), 1);
    if (wait_idle(0))
        check("chain copy mismatches", chain_mismatches(), 0);
    check("raw tc", mmio_read32(DMA(PL080_RAW_TC)), 1);
    check("tc status", mmio_read32(DMA(PL080_INT_TC_STATUS)), 1);
    check("lli at end", mmio_read32(DMA(PL080_CH(0) + PL080_CH_LLI)), 0);
    check("size at end", mmio_read32(DMA(PL080_CH(0) + PL080_CH_CTRL)) & 0xfff, 0);
    mmio_write32(DMA(PL080_INT_TC_CLEAR), 1);
    check("tc cleared", mmio_read32(DMA(PL080_RAW_TC)), 0);

    /* Through the interrupt, one per item, on channel 3. */
    nvic_enable(DMA0_IRQ);
    irq_enable();
    uint32_t before = tc_irqs;
    tc_bits = 0;
    build_chain(2, 1);
    pl080_start(3, &chain[0]);
    if (wait_idle(3))
        check("irq chain mismatches", chain_mismatches(), 0);
    for (uint32_t spins = 0; spins < 1000 && tc_irqs - before < 3; spins++)
        ;
    if (tc_irqs - before < 1 || tc_bits != 1u << 3) {
        rt_printf("pl080: FAIL tc interrupts %u bits 0x%x\n", (unsigned)(tc_irqs - before),
                  (unsigned)tc_bits);
        failures++;
    }

    /* A bus error (nothing at 0x30000000) raises the error interrupt and
     * disables the channel. */
    before = err_irqs;
    Pl080Lli bad = { 0x30000000u, (uint32_t)&dst_words[0], 0, pl080_ctrl(4, 2, 1, 1, 1) };
    pl080_start(1, &bad);
    wait_idle(1);
    for (uint32_t spins = 0; spins < 1000 && err_irqs == before; spins++)
        ;
    check("error interrupt", err_irqs - before, 1);
    check("raw err after clear", mmio_read32(DMA(PL080_RAW_ERR)), 0);

    /* Memory to a peripheral: a line to the UART's data register. */
    static const char line[] = "pl080: dma to uart\n";
    Pl080Lli uart = { (uint32_t)line, UART0_BASE + PL011_DR, 0,
                      pl080_ctrl(sizeof(line) - 1, 0, 1, 0, 0) };
    while (!(mmio_read32(UART0_BASE + PL011_FR) & PL011_FR_TXFE))
        ;
    pl080_start(2, &uart);
    wait_idle(2);

    nvic_disable(DMA0_IRQ);
    mmio_write32(DMA(PL080_CONFIG), 0);
    rt_printf("pl080: selftest %s (%u tc, %u error interrupts)\n", failures ? "FAILED" : "passed",
              (unsigned)tc_irqs, (unsigned)err_irqs);
    return failures ? 1 : 0;
}

/* ------------------------------------------------------------ workload */

static int present;
static uint32_t rounds, mismatches;

void pl080_workload_init(void)
{
    present = pl080_present();
    if (!present)
        return;
    mmio_write32(DMA(PL080_CONFIG), PL080_CONF_E);
    nvic_enable(DMA0_IRQ);
    build_chain(rounds, 0);
    pl080_start(0, &chain[0]);
}

uint32_t pl080_workload_poll(void)
{
    if (!present || pl080_busy(0))
        return rounds * 0x9e3779b9u + mismatches;
    uint32_t bad = chain_mismatches();
    if (bad) {
        rt_printf("pl080: FAIL round %u: %u words differ\n", (unsigned)rounds, (unsigned)bad);
        mismatches += bad;
    }
    rounds++;
    build_chain(rounds, rounds & 1);
    pl080_start(0, &chain[0]);
    return rounds * 0x9e3779b9u + mismatches + tc_irqs;
}
