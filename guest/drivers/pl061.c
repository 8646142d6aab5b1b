/*
 * pl061.c - guest driver for GPIO0 and GPIO1 (see pl061.h). One handler
 * body serves both blocks: it records the masked status, clears the edges
 * and masks level-sensitive pins (a level cannot be cleared by IC).
 */
#include "pl061.h"

#include "rt.h"

static const uint8_t pl061_ids[8] = { 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
/* GPIO1 is the Luminary (Stellaris) variant: other part number and revision. */
static const uint8_t luminary_ids[8] = { 0x61, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1 };
/* Its eight plain pad registers, in address order from DR2R. */
static const uint32_t luminary_pads[] = { PL061_DR2R, PL061_DR4R, PL061_DR8R, PL061_ODR,
                                          PL061_PUR, PL061_PDR, PL061_SLR, PL061_DEN };
#define N_PADS (sizeof(luminary_pads) / sizeof(luminary_pads[0]))

typedef struct GpioSeen {
    volatile uint32_t irqs;
    volatile uint32_t last_mis;
    volatile uint32_t sum;
} GpioSeen;

static GpioSeen seen[2];

static void gpio_irq(uint32_t base, GpioSeen *g)
{
    uint32_t mis = mmio_read32(base + PL061_MIS);
    uint32_t level = mis & mmio_read32(base + PL061_IS);
    g->irqs++;
    g->last_mis = mis;
    g->sum = g->sum * 33u + (mis << 8) + mmio_read32(base + PL061_DATA(0xff));
    mmio_write32(base + PL061_IC, mis);
    if (level)
        mmio_write32(base + PL061_IE, mmio_read32(base + PL061_IE) & ~level);
}

IRQ_HANDLER(GPIO0_IRQ) { gpio_irq(GPIO0_BASE, &seen[0]); }
IRQ_HANDLER(GPIO1_IRQ) { gpio_irq(GPIO1_BASE, &seen[1]); }

static int failures;

static void check(uint32_t base, const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        failures++;
        rt_printf("pl061@%x: FAIL %s: got 0x%x want 0x%x\n", (unsigned)base, what, (unsigned)got,
                  (unsigned)want);
    }
}

/* The Stellaris registers: reset values, lock and commit, commit-masked AFSEL. */
static void selftest_luminary(uint32_t base)
{
    for (unsigned i = 0; i < N_PADS; i++)
        check(base, "pad register at reset", mmio_read32(base + luminary_pads[i]), i == 0 ? 0xff : 0);
    check(base, "locked at reset", mmio_read32(base + PL061_LOCK), 1);
    check(base, "commit at reset", mmio_read32(base + PL061_CR), 0xff);
    mmio_write32(base + PL061_CR, 0x0f);
    check(base, "commit ignored while locked", mmio_read32(base + PL061_CR), 0xff);
    mmio_write32(base + PL061_LOCK, PL061_UNLOCK_KEY);
    check(base, "unlocked", mmio_read32(base + PL061_LOCK), 0);
    mmio_write32(base + PL061_CR, 0x0f);
    mmio_write32(base + PL061_AFSEL, 0xff);
    check(base, "AFSEL through the commit mask", mmio_read32(base + PL061_AFSEL), 0x0f);
    mmio_write32(base + PL061_AFSEL, 0);
    mmio_write32(base + PL061_CR, 0xff);
    mmio_write32(base + PL061_LOCK, 0);
    check(base, "locked again", mmio_read32(base + PL061_LOCK), 1);
    for (unsigned i = 0; i < N_PADS; i++) {
        uint32_t was = mmio_read32(base + luminary_pads[i]);
        mmio_write32(base + luminary_pads[i], 0x15a);
        check(base, "pad register width", mmio_read32(base + luminary_pads[i]), 0x5a);
        mmio_write32(base + luminary_pads[i], was);
    }
}

static void selftest_one(uint32_t base, unsigned irq, GpioSeen *g, const uint8_t *ids)
{
    static const uint32_t regs[] = { PL061_DIR, PL061_IS, PL061_IBE, PL061_IEV, PL061_IE,
                                     PL061_RIS, PL061_MIS, PL061_AFSEL, PL061_DATA(0xff) };
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        check(base, "reset value", mmio_read32(base + regs[i]), 0);
    for (unsigned i = 0; i < 8; i++)
        check(base, "ID register", mmio_read32(base + 0xfe0 + 4 * i), ids[i]);
    if (ids == luminary_ids)
        selftest_luminary(base);
    for (unsigned i = 0; i < 6; i++) {
        mmio_write32(base + regs[i] , 0x1a5);
        check(base, "8-bit register", mmio_read32(base + regs[i]), 0xa5);
        mmio_write32(base + regs[i], 0);
    }
    mmio_write32(base + PL061_IC, 0xff);

    /* Address-masked data: only the bits in address[9:2] are touched. */
    mmio_write32(base + PL061_DIR, 0xff);
    mmio_write32(base + PL061_DATA(0x0f), 0xff);
    check(base, "masked write", mmio_read32(base + PL061_DATA(0xff)), 0x0f);
    mmio_write32(base + PL061_DATA(0xf0), 0xaa);
    check(base, "second masked write", mmio_read32(base + PL061_DATA(0xff)), 0xaf);
    check(base, "masked read", mmio_read32(base + PL061_DATA(0x21)), 0x21);
    mmio_write32(base + PL061_DATA(0xff), 0);
    /* Inputs ignore writes (nothing drives them here, so they read 0). */
    mmio_write32(base + PL061_DIR, 0x0f);
    mmio_write32(base + PL061_DATA(0xff), 0xff);
    check(base, "inputs not written", mmio_read32(base + PL061_DATA(0xff)), 0x0f);
    mmio_write32(base + PL061_DATA(0xff), 0);
    mmio_write32(base + PL061_DIR, 0xff);
    mmio_write32(base + PL061_IC, 0xff);

    /* Edge interrupt on a driven pin: rising on pin 0, both on pin 2. */
    mmio_write32(base + PL061_IEV, 0x01);
    mmio_write32(base + PL061_IBE, 0x04);
    mmio_write32(base + PL061_IE, 0x05);
    nvic_enable(irq);
    irq_enable();
    uint32_t before = g->irqs;
    mmio_write32(base + PL061_DATA(0x01), 0x01);
    check(base, "rising-edge interrupt", g->irqs - before, 1);
    check(base, "its status", g->last_mis, 0x01);
    mmio_write32(base + PL061_DATA(0x01), 0x00);
    check(base, "falling edge ignored", g->irqs - before, 1);
    mmio_write32(base + PL061_DATA(0x04), 0x04);
    mmio_write32(base + PL061_DATA(0x04), 0x00);
    check(base, "both-edge interrupts", g->irqs - before, 3);
    check(base, "RIS after the handler", mmio_read32(base + PL061_RIS), 0);

    /* Masked edges stay raw until cleared. */
    mmio_write32(base + PL061_IE, 0);
    mmio_write32(base + PL061_DATA(0x01), 0x01);
    check(base, "masked edge is raw", mmio_read32(base + PL061_RIS), 0x01);
    check(base, "and not masked", mmio_read32(base + PL061_MIS), 0);
    mmio_write32(base + PL061_IC, 0x01);
    check(base, "IC clears", mmio_read32(base + PL061_RIS), 0);

    /* Level: pin 1 high-level; IC cannot clear it, driving it low does. */
    mmio_write32(base + PL061_IS, 0x02);
    mmio_write32(base + PL061_IEV, 0x03);
    mmio_write32(base + PL061_DATA(0x02), 0x02);
    check(base, "level raw", mmio_read32(base + PL061_RIS), 0x02);
    mmio_write32(base + PL061_IC, 0x02);
    check(base, "level survives IC", mmio_read32(base + PL061_RIS), 0x02);
    before = g->irqs;
    mmio_write32(base + PL061_IE, 0x02);
    check(base, "level interrupt", g->irqs - before, 1);
    mmio_write32(base + PL061_DATA(0x02), 0x00);
    check(base, "level gone", mmio_read32(base + PL061_RIS), 0);

    nvic_disable(irq);
    static const uint32_t clear[] = { PL061_IE, PL061_IS, PL061_IBE, PL061_IEV };
    for (unsigned i = 0; i < 4; i++)
        mmio_write32(base + clear[i], 0);
    mmio_write32(base + PL061_DATA(0xff), 0);
    mmio_write32(base + PL061_DIR, 0);
    mmio_write32(base + PL061_IC, 0xff);
}

int pl061_selftest(void)
{
    failures = 0;
    selftest_one(GPIO0_BASE, GPIO0_IRQ, &seen[0], pl061_ids);
    rt_printf("pl061: GPIO0 registers, data masking, edge and level interrupts checked\n");
    selftest_one(GPIO1_BASE, GPIO1_IRQ, &seen[1], luminary_ids);
    rt_printf("pl061: GPIO1 (Luminary) registers, lock/commit, data masking, edge and level interrupts checked\n");
    rt_printf("pl061: selftest %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}

static uint32_t pattern;
static uint32_t phase_polls;

void pl061_workload_init(void)
{
    mmio_write32(GPIO0_BASE + PL061_DIR, 0xff);
    mmio_write32(GPIO1_BASE + PL061_DIR, 0x00);
    mmio_write32(GPIO1_BASE + PL061_IBE, 0xff);
    mmio_write32(GPIO1_BASE + PL061_IC, 0xff);
    mmio_write32(GPIO1_BASE + PL061_IE, 0xff);
    nvic_enable(GPIO1_IRQ);
}

/*
 * Every 64 polls, a new configuration phase (p counts phases):
 *  - GPIO0 (outputs, interrupt not enabled): one pin level-sensitive with a
 *    rotating event level, so RIS holds level status nobody clears, and a
 *    rotating alternate-function pattern.
 *  - GPIO1 (host-driven inputs): IEV and AFSEL patterns; one pin at a time
 *    level-sensitive but masked in IE (its status sits in RIS without
 *    interrupting); the Stellaris pad registers get new patterns; the commit
 *    register changes under unlock; odd phases leave the block unlocked, even
 *    phases lock it again.
 * The GPIO1 handler only masks level pins that interrupt, so masking the
 * level pin here keeps IE from decaying.
 */
static void pl061_workload_phase(uint32_t p)
{
    uint32_t pin = 1u << (p & 7);
    mmio_write32(GPIO0_BASE + PL061_IEV, (p & 8) ? 0xff : 0x00);
    mmio_write32(GPIO0_BASE + PL061_IS, pin);
    mmio_write32(GPIO0_BASE + PL061_AFSEL, (p * 0x25u) & 0xff);

    uint32_t g1 = GPIO1_BASE;
    mmio_write32(g1 + PL061_IEV, (p * 0x3bu) & 0xff);
    mmio_write32(g1 + PL061_IE, 0xff & ~pin);
    mmio_write32(g1 + PL061_IS, pin);
    mmio_write32(g1 + PL061_LOCK, PL061_UNLOCK_KEY);
    mmio_write32(g1 + PL061_CR, (p & 3) == 3 ? 0x0f : 0xff);
    mmio_write32(g1 + PL061_AFSEL, (p * 0x49u) & 0xff);
    for (unsigned i = 0; i < N_PADS; i++)
        mmio_write32(g1 + luminary_pads[i], (p * 0x1du + i * 0x35u) & 0xff);
    mmio_write32(g1 + PL061_AMSEL, (p * 0x0bu) & 0xff);
    if (!(p & 1))
        mmio_write32(g1 + PL061_LOCK, 0);
}

uint32_t pl061_workload_poll(void)
{
    if ((phase_polls++ & 63) == 0) {
        irq_disable();      /* the handler sees IS and IE change together */
        pl061_workload_phase(phase_polls >> 6);
        irq_enable();
    }
    pattern = pattern * 5u + 1u;
    mmio_write32(GPIO0_BASE + PL061_DATA(0xff), pattern & 0xff);
    return seen[1].sum + seen[1].irqs * 0x01000193u + mmio_read32(GPIO0_BASE + PL061_DATA(0xff)) +
           mmio_read32(GPIO1_BASE + PL061_RIS);
}
