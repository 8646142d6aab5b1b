/*
 * watchdog.c - guest driver and self-test for the CMSDK APB watchdog.
 * Its interrupt handler is the "kick": clearing the interrupt reloads the
 * counter, so a watchdog serviced by it never reaches the reset.
 */
#include "watchdog.h"

#include "rt.h"

#define W_LOAD 0x000u
#define W_VALUE 0x004u
#define W_CONTROL 0x008u
#define W_INTCLR 0x00Cu
#define W_RIS 0x010u
#define W_MIS 0x014u
#define W_LOCK 0xC00u
#define W_ITCR 0xF00u
#define W_ITOP 0xF04u
#define W_INTEN 1u
#define W_RESEN 2u
#define W_UNLOCK 0x1ACCE551u

static volatile uint32_t kicks;

IRQ_HANDLER(WDOG_IRQ)
{
    mmio_write32(WDOG_BASE + W_INTCLR, 1);
    kicks++;
}

static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        rt_printf("watchdog: FAIL %s: got 0x%08x want 0x%08x\n", what, got, want);
        failures++;
    }
}

static uint32_t rd(uint32_t off) { return mmio_read32(WDOG_BASE + off); }
static void wr(uint32_t off, uint32_t v) { mmio_write32(WDOG_BASE + off, v); }

int watchdog_selftest(void)
{
    static const uint8_t ids[12] = { 0x04, 0, 0, 0, 0x24, 0xb8, 0x1b, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
    failures = 0;
    for (unsigned i = 0; i < 12; i++)
        check("id", rd(0xFD0u + 4u * i), ids[i]);
    check("reset load", rd(W_LOAD), 0xFFFFFFFFu);
    check("reset value", rd(W_VALUE), 0xFFFFFFFFu);
    check("reset control", rd(W_CONTROL), 0);
    check("reset lock", rd(W_LOCK), 0);
    /* Lock: other registers ignore writes until the key is written. */
    wr(W_LOCK, 0);
    check("locked", rd(W_LOCK), 1);
    wr(W_LOAD, 1234);
    check("load while locked", rd(W_LOAD), 0xFFFFFFFFu);
    wr(W_LOCK, W_UNLOCK);
    check("unlocked", rd(W_LOCK), 0);
    wr(W_LOAD, 1234);
    check("load", rd(W_LOAD), 1234);
    check("value", rd(W_VALUE), 1234);
    /* Counting needs INTEN; with the NVIC line off, poll RIS. */
    wr(W_LOAD, 100);
    wr(W_CONTROL, W_INTEN);
    while (!rd(W_RIS))
        ;
    check("mis", rd(W_MIS), 1);
    wr(W_INTCLR, 1);
    check("ris cleared", rd(W_RIS), 0);
    check("reloaded", rd(W_VALUE) <= 100 && rd(W_VALUE) > 90, 1);
    wr(W_CONTROL, 0);
    check("mis masked", rd(W_MIS), 0);
    /* Integration test mode drives the interrupt line from ITOP. */
    nvic_clear_pending(WDOG_IRQ);
    wr(W_ITCR, 1);
    check("itcr", rd(W_ITCR), 1);
    wr(W_ITOP, 2);
    check("itop pends", (mmio_read32(NVIC_ISPR) >> WDOG_IRQ) & 1u, 1);
    wr(W_ITOP, 0);
    wr(W_ITCR, 0);
    nvic_clear_pending(WDOG_IRQ);
    /* The interrupt path with RESEN set: the handler's kick prevents the reset. */
    uint32_t before = kicks;
    wr(W_LOAD, 200);
    nvic_enable(WDOG_IRQ);
    irq_enable();
    wr(W_CONTROL, W_INTEN | W_RESEN);
    while (kicks < before + 3)
        wfi();
    wr(W_CONTROL, 0);
    nvic_disable(WDOG_IRQ);
    wr(W_LOCK, 0);
    check("locked again", rd(W_LOCK), 1);
    wr(W_LOCK, W_UNLOCK);
    rt_printf("watchdog: selftest %s (%u kicks)\n", failures ? "FAILED" : "passed", (unsigned)kicks);
    return failures ? 1 : 0;
}

/* ------------------------------------------------------------ workload */

#define W_ITOP_WDOGINT 2u
#define KICK_AFTER_TICKS 3u     /* status left set for 2..3 ticks before the kick */
#define RESET_AFTER_TICKS 30u   /* two timeouts (<= 10 ms) plus 5 ms latched */

static volatile uint32_t pending_ticks;
static volatile uint32_t expiring, expire_ticks;

/* The workload keeps the watchdog locked; every change is bracketed. */
static void wr_locked(uint32_t off, uint32_t v)
{
    wr(W_LOCK, W_UNLOCK);
    wr(off, v);
    wr(W_LOCK, 0);
}

void watchdog_workload_init(void)
{
    wr(W_LOCK, W_UNLOCK);
    wr(W_LOAD, 5000);                       /* 5 ms to the interrupt, 10 ms to a reset */
    wr(W_CONTROL, W_INTEN | W_RESEN);
    wr(W_LOCK, 0);                          /* locked from here on */
}

void watchdog_workload_tick(void)
{
    if (expiring) {
        /* RESEN back on: the latched reset status resets the machine now. */
        if (++expire_ticks == RESET_AFTER_TICKS)
            wr_locked(W_CONTROL, W_INTEN | W_RESEN);
        return;
    }
    if (!rd(W_RIS)) {
        pending_ticks = 0;
        return;
    }
    if (++pending_ticks >= KICK_AFTER_TICKS) {
        wr_locked(W_INTCLR, 1);
        pending_ticks = 0;
        kicks++;
    }
}

void watchdog_workload_expire(void)
{
    irq_disable();
    if (!expiring) {
        expiring = 1;
        expire_ticks = 0;
        wr_locked(W_CONTROL, W_INTEN);      /* keep counting; no reset yet */
    }
    irq_enable();
}

uint32_t watchdog_workload_poll(void)
{
    static uint32_t polls;
    if ((++polls & 15) == 0 && !expiring) {
        /*
         * Integration test mode, briefly and with interrupts masked: ITOP
         * drives WDOGINT (never WDOGRES). The NVIC line is not enabled in
         * the workload, so the pend it causes is only recorded, then
         * cleared. Test mode hides the real outputs, and the window is far
         * shorter than two timeouts, so no reset can slip through.
         */
        irq_disable();
        wr(W_LOCK, W_UNLOCK);
        wr(W_ITCR, 1);
        wr(W_ITOP, W_ITOP_WDOGINT);
        for (volatile uint32_t i = 0; i < 40; i++)
            ;
        wr(W_ITOP, 0);
        wr(W_ITCR, 0);
        wr(W_LOCK, 0);
        nvic_clear_pending(WDOG_IRQ);
        irq_enable();
    }
    return kicks;
}
