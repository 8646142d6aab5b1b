/*
 * pl031.c - guest driver for the RTC (see pl031.h). The handler counts
 * alarms. In the self-test it clears the match at once; in the workload it
 * only masks it, leaving the raw status set, and the poll clears and
 * re-arms it a second later.
 */
#include "pl031.h"

#include "rt.h"

#define RTC(off) (RTC_BASE + (off))

static const uint8_t pl031_ids[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static volatile uint32_t alarms;
static volatile uint32_t hold;          /* workload: leave the status for the poll */
static volatile uint32_t last_alarm_count;

IRQ_HANDLER(RTC_IRQ)
{
    last_alarm_count = mmio_read32(RTC(PL031_DR));
    alarms++;
    if (hold)
        mmio_write32(RTC(PL031_IMSC), 0);
    else
        mmio_write32(RTC(PL031_ICR), 1);
}

uint32_t pl031_now(void) { return mmio_read32(RTC(PL031_DR)); }

static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        failures++;
        rt_printf("pl031: FAIL %s: got 0x%x want 0x%x\n", what, (unsigned)got, (unsigned)want);
    }
}

static void wait_alarms(uint32_t n)
{
    /* Only the RTC interrupt is enabled here, so every wake-up is its. */
    for (unsigned spins = 0; alarms < n && spins < 16; spins++)
        wfi();
}

int pl031_selftest(void)
{
    failures = 0;
    uint32_t t0 = pl031_now();
    check("DR near the board's start time", t0 - RTC_EPOCH < 5, 1);
    static const uint32_t zero[] = { PL031_MR, PL031_LR, PL031_CR, PL031_IMSC, PL031_RIS, PL031_MIS };
    for (unsigned i = 0; i < 6; i++)
        check("reset value", mmio_read32(RTC(zero[i])), 0);
    for (unsigned i = 0; i < 8; i++)
        check("ID register", mmio_read32(RTC(0xfe0 + 4 * i)), pl031_ids[i]);
    rt_printf("pl031: reset values and IDs checked, counter %u\n", (unsigned)t0);

    mmio_write32(RTC(PL031_CR), 1);
    mmio_write32(RTC(PL031_CR), 0);
    check("CR start bit is sticky", mmio_read32(RTC(PL031_CR)), 1);
    mmio_write32(RTC(PL031_LR), 1000);
    check("LR reads back", mmio_read32(RTC(PL031_LR)), 1000);
    check("DR after load", pl031_now() - 1000 <= 1, 1);
    mmio_write32(RTC(PL031_DR), 5);
    check("DR is read-only", pl031_now() - 1000 <= 1, 1);
    rt_printf("pl031: control and load checked\n");

    /* Match now: raised at once, masked until IMSC, cleared by ICR. */
    mmio_write32(RTC(PL031_MR), pl031_now());
    check("RIS on a present match", mmio_read32(RTC(PL031_RIS)), 1);
    check("MIS masked", mmio_read32(RTC(PL031_MIS)), 0);
    mmio_write32(RTC(PL031_ICR), 1);
    check("RIS cleared", mmio_read32(RTC(PL031_RIS)), 0);

    /* Match ahead: the interrupt arrives when the counter steps onto MR. */
    uint32_t target = pl031_now() + 2;
    mmio_write32(RTC(PL031_MR), target);
    check("MR reads back", mmio_read32(RTC(PL031_MR)), target);
    mmio_write32(RTC(PL031_IMSC), 0xff);
    check("IMSC is one bit", mmio_read32(RTC(PL031_IMSC)), 1);
    nvic_enable(RTC_IRQ);
    irq_enable();
    wait_alarms(1);
    check("alarm interrupts", alarms, 1);
    check("counter at the alarm", last_alarm_count, target);
    check("MIS after the handler", mmio_read32(RTC(PL031_MIS)), 0);
    mmio_write32(RTC(PL031_IMSC), 0);
    nvic_disable(RTC_IRQ);
    rt_printf("pl031: match interrupt checked\n");
    rt_printf("pl031: selftest %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}

void pl031_workload_init(void)
{
    hold = 1;
    /* Start the counter (CR) and load it with a time of our own (LR). */
    mmio_write32(RTC(PL031_CR), 1);
    mmio_write32(RTC(PL031_LR), RTC_EPOCH + 86400u);
    mmio_write32(RTC(PL031_ICR), 1);
    mmio_write32(RTC(PL031_MR), pl031_now() + 1);
    mmio_write32(RTC(PL031_IMSC), 1);
    nvic_enable(RTC_IRQ);
}

uint32_t pl031_workload_poll(void)
{
    /* An alarm's status stays set until the counter moves on (about a
     * second); then it is cleared and the next alarm armed a second ahead. */
    if (!mmio_read32(RTC(PL031_IMSC)) && pl031_now() != last_alarm_count) {
        mmio_write32(RTC(PL031_ICR), 1);
        mmio_write32(RTC(PL031_MR), pl031_now() + 1);
        mmio_write32(RTC(PL031_IMSC), 1);
    }
    return alarms * 0x9e3779b9u + last_alarm_count;
}
