/*
 * pl061.c - guest driver for GPIO0 and GPIO1 (see pl061.h). One handler
 * body serves both blocks: it records the masked status, clears the edges
 * and masks level-sensitive pins (a level cannot be cleared by IC).
 */
#include "pl061.h"

#include "rt.h"

static const uint8_t pl061_ids[8] = { 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

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

static void selftest_one(uint32_t base, unsigned irq, GpioSeen *g)
{
    static const uint32_t regs[] = { PL061_DIR, PL061_IS, PL061_IBE, PL061_IEV, PL061_IE,
                                     PL061_RIS, PL061_MIS, PL061_AFSEL, PL061_DATA(0xff) };
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        check(base, "reset value", mmio_read32(base + regs[i]), 0);
    for (unsigned i = 0; i < 8; i++)
        check(base, "ID register", mmio_read32(base + 0xfe0 + 4 * i), pl061_ids[i]);
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
    selftest_one(GPIO0_BASE, GPIO0_IRQ, &seen[0]);
    rt_printf("pl061: GPIO0 registers, data masking, edge and level interrupts checked\n");
    selftest_one(GPIO1_BASE, GPIO1_IRQ, &seen[1]);
    rt_printf("pl061: GPIO1 registers, data masking, edge and level interrupts checked\n");
    rt_printf("pl061: selftest %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}

static uint32_t pattern;

void pl061_workload_init(void)
{
    mmio_write32(GPIO0_BASE + PL061_DIR, 0xff);
    mmio_write32(GPIO1_BASE + PL061_DIR, 0x00);
    mmio_write32(GPIO1_BASE + PL061_IBE, 0xff);
    mmio_write32(GPIO1_BASE + PL061_IC, 0xff);
    mmio_write32(GPIO1_BASE + PL061_IE, 0xff);
    nvic_enable(GPIO1_IRQ);
}

uint32_t pl061_workload_poll(void)
{
    pattern = pattern * 5u + 1u;
    mmio_write32(GPIO0_BASE + PL061_DATA(0xff), pattern & 0xff);
    return seen[1].sum + seen[1].irqs * 0x01000193u + mmio_read32(GPIO0_BASE + PL061_DATA(0xff));
}
