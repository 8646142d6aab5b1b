/*
 * sp804.c - guest driver and self-test for the SP804 dual timers.
 * The timers tick at TIMER_HZ (1 MHz); the core runs at 100 MHz.
 */
#include "sp804.h"

#include "rt.h"

#define T_LOAD 0x00u
#define T_VALUE 0x04u
#define T_CONTROL 0x08u
#define T_INTCLR 0x0Cu
#define T_RIS 0x10u
#define T_MIS 0x14u
#define T_BGLOAD 0x18u
#define T_STRIDE 0x20u

#define C_ONESHOT (1u << 0)
#define C_SIZE32 (1u << 1)
#define C_PRE16 (1u << 2)
#define C_IE (1u << 5)
#define C_PERIODIC (1u << 6)
#define C_ENABLE (1u << 7)

static volatile uint32_t irq_count[2];

static uint32_t reg(uint32_t base, unsigned t, uint32_t off) { return base + t * T_STRIDE + off; }

/* Clear whichever of the device's two timers is interrupting. */
static void service(uint32_t base, unsigned dev)
{
    for (unsigned t = 0; t < 2; t++)
        if (mmio_read32(reg(base, t, T_MIS)))
            mmio_write32(reg(base, t, T_INTCLR), 1);
    irq_count[dev]++;
}

IRQ_HANDLER(TIMER0_IRQ) { service(TIMER0_BASE, 0); }
IRQ_HANDLER(TIMER1_IRQ) { service(TIMER1_BASE, 1); }

static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        rt_printf("sp804: FAIL %s: got 0x%08x want 0x%08x\n", what, got, want);
        failures++;
    }
}

/* Wait until the counter of an interrupt moves, or give up. */
static int wait_irq(unsigned dev, uint32_t before)
{
    for (uint32_t spins = 0; spins < 200000u; spins++)
        if (irq_count[dev] != before)
            return 1;
    return 0;
}

static void test_device(uint32_t base, unsigned dev, unsigned irq)
{
    static const uint8_t ids[8] = { 0x04, 0x18, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
    for (unsigned i = 0; i < 8; i++)
        check("id", mmio_read32(base + 0xFE0u + 4u * i), ids[i]);
    for (unsigned t = 0; t < 2; t++) {
        check("reset control", mmio_read32(reg(base, t, T_CONTROL)), C_IE);
        check("reset value", mmio_read32(reg(base, t, T_VALUE)), 0xFFFFFFFFu);
        check("reset ris", mmio_read32(reg(base, t, T_RIS)), 0);
        /* Load and BGLoad read back; Value follows Load only. */
        mmio_write32(reg(base, t, T_LOAD), 1000);
        check("load", mmio_read32(reg(base, t, T_LOAD)), 1000);
        check("value after load", mmio_read32(reg(base, t, T_VALUE)), 1000);
        mmio_write32(reg(base, t, T_BGLOAD), 500);
        check("bgload", mmio_read32(reg(base, t, T_BGLOAD)), 500);
        check("value after bgload", mmio_read32(reg(base, t, T_VALUE)), 1000);
        /* Counting: the value decreases while enabled, stops when disabled. */
        mmio_write32(reg(base, t, T_LOAD), 100000);
        mmio_write32(reg(base, t, T_CONTROL), C_ENABLE | C_PERIODIC | C_SIZE32);
        for (volatile int i = 0; i < 2000; i++)
            ;
        uint32_t v = mmio_read32(reg(base, t, T_VALUE));
        if (!(v < 100000 && v > 0)) {
            rt_printf("sp804: FAIL not counting: 0x%08x\n", v);
            failures++;
        }
        mmio_write32(reg(base, t, T_CONTROL), C_PERIODIC | C_SIZE32);
        v = mmio_read32(reg(base, t, T_VALUE));
        for (volatile int i = 0; i < 2000; i++)
            ;
        check("stopped", mmio_read32(reg(base, t, T_VALUE)), v);
        /* One-shot with the interrupt masked: RIS rises, MIS does not. */
        mmio_write32(reg(base, t, T_LOAD), 20);
        mmio_write32(reg(base, t, T_CONTROL), C_ENABLE | C_ONESHOT | C_SIZE32);
        while (!mmio_read32(reg(base, t, T_RIS)))
            ;
        check("oneshot value", mmio_read32(reg(base, t, T_VALUE)), 0);
        check("masked mis", mmio_read32(reg(base, t, T_MIS)), 0);
        mmio_write32(reg(base, t, T_INTCLR), 1);
        check("intclr", mmio_read32(reg(base, t, T_RIS)), 0);
        /* The interrupt path: one-shot, interrupt enabled, handler clears it. */
        uint32_t before = irq_count[dev];
        nvic_enable(irq);
        mmio_write32(reg(base, t, T_LOAD), 50);
        mmio_write32(reg(base, t, T_CONTROL), C_ENABLE | C_ONESHOT | C_SIZE32 | C_IE | C_PRE16);
        if (!wait_irq(dev, before)) {
            rt_printf("sp804: FAIL no interrupt from device %u timer %u\n", dev, t);
            failures++;
        }
        check("ris after handler", mmio_read32(reg(base, t, T_RIS)), 0);
        nvic_disable(irq);
        mmio_write32(reg(base, t, T_CONTROL), C_IE);
    }
}

int sp804_selftest(void)
{
    failures = 0;
    irq_enable();
    test_device(TIMER0_BASE, 0, TIMER0_IRQ);
    test_device(TIMER1_BASE, 1, TIMER1_IRQ);
    rt_printf("sp804: selftest %s (%u+%u interrupts)\n", failures ? "FAILED" : "passed",
              (unsigned)irq_count[0], (unsigned)irq_count[1]);
    return failures ? 1 : 0;
}

void sp804_workload_init(void)
{
    mmio_write32(reg(TIMER0_BASE, 0, T_LOAD), 1000);        /* 1 ms */
    mmio_write32(reg(TIMER0_BASE, 0, T_CONTROL), C_ENABLE | C_PERIODIC | C_SIZE32 | C_IE);
    mmio_write32(reg(TIMER1_BASE, 0, T_LOAD), 250);         /* 4 ms with /16 */
    mmio_write32(reg(TIMER1_BASE, 0, T_CONTROL), C_ENABLE | C_PERIODIC | C_IE | C_PRE16);
    /* The first device's second timer runs with its interrupt masked and
     * is polled: its raw status stays set between polls. */
    mmio_write32(reg(TIMER0_BASE, 1, T_LOAD), 700);
    mmio_write32(reg(TIMER0_BASE, 1, T_CONTROL), C_ENABLE | C_PERIODIC | C_SIZE32);
    nvic_enable(TIMER0_IRQ);
    nvic_enable(TIMER1_IRQ);
    irq_enable();
}

uint32_t sp804_workload_poll(void)
{
    static uint32_t polls, polled;
    polls++;
    /* For half of every 64 polls the second device's line is masked in the
     * NVIC, so a raised interrupt stays pending (and the device's level
     * high) until it is taken again. */
    if ((polls & 63) == 0)
        nvic_disable(TIMER1_IRQ);
    else if ((polls & 63) == 32)
        nvic_enable(TIMER1_IRQ);
    if ((polls & 15) == 0 && mmio_read32(reg(TIMER0_BASE, 1, T_RIS))) {
        mmio_write32(reg(TIMER0_BASE, 1, T_INTCLR), 1);
        polled++;
    }
    return irq_count[0] + irq_count[1] + polled;
}
