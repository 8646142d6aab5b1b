/*
 * test_watchdog.c - the CMSDK APB watchdog: registers, counting, interrupt,
 * reset request, lock, integration test mode, migration and hostile streams.
 * WDOGCLK is 1 MHz (the board's), so one tick is 1 us = 100 virtual cycles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devtest.h"

enum { LOAD = 0x00, VALUE = 0x04, CONTROL = 0x08, INTCLR = 0x0C, RIS = 0x10, MIS = 0x14,
       LOCK = 0xC00, ITCR = 0xF00, ITOP = 0xF04, PID4 = 0xFD0 };
enum { INTEN = 1, RESEN = 2 };
#define UNLOCK 0x1ACCE551u
#define TICK 100u

static const DevProp props[] = { { "clk-hz", 1000000 }, { NULL, 0 } };

static DevTest *new_wdog(void)
{
    return devtest_new("cmsdk-apb-watchdog", props);
}

static void test_reset_values_and_ids(void **state)
{
    DevTest *t = new_wdog();
    static const uint8_t ids[8] = { 0x24, 0xb8, 0x1b, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
    assert_int_equal(devtest_read(t, LOAD), 0xFFFFFFFFu);
    assert_int_equal(devtest_read(t, VALUE), 0xFFFFFFFFu);
    assert_int_equal(devtest_read(t, CONTROL), 0);
    assert_int_equal(devtest_read(t, RIS), 0);
    assert_int_equal(devtest_read(t, MIS), 0);
    assert_int_equal(devtest_read(t, LOCK), 0);
    assert_int_equal(devtest_read(t, ITCR), 0);
    devtest_check_ids(t, ids);
    assert_int_equal(devtest_read(t, PID4), 0x04);
    for (uint32_t r = PID4 + 4; r < 0xFE0; r += 4)
        assert_int_equal(devtest_read(t, r), 0);
    devtest_check_members("cmsdk-apb-watchdog");
    devtest_idle(t, 1000 * TICK);           /* INTEN clear: not counting */
    assert_int_equal(devtest_read(t, VALUE), 0xFFFFFFFFu);
    devtest_free(t);
    (void)state;
}

static void test_interrupt_then_reset(void **state)
{
    DevTest *t = new_wdog();
    devtest_write(t, LOAD, 1000);
    devtest_write(t, CONTROL, INTEN | RESEN);
    devtest_idle(t, 400 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 600);
    devtest_idle(t, 600 * TICK);
    assert_int_equal(devtest_read(t, RIS), 1);
    assert_int_equal(devtest_read(t, MIS), 1);
    assert_int_equal(devtest_irq(t), 1);
    assert_int_equal(devtest_event(t, MACH_EV_IRQ, 0)->cycle, 1000 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 1000);         /* reloaded */
    assert_int_equal(devtest_count(t, MACH_EV_RESET), 0);
    devtest_idle(t, 1000 * TICK);
    /* Second timeout with the interrupt still set: the reset output. */
    assert_int_equal(devtest_count(t, MACH_EV_RESET), 1);
    const MachEvent *ev = devtest_event(t, MACH_EV_RESET, 0);
    assert_int_equal(ev->source, 0);
    assert_int_equal(ev->cycle, 2000 * TICK);
    assert_int_equal(ev->value, 1);
    /* The machine takes the reset at the next instruction boundary (flash
     * is erased, so the core then stops at once: only the reset matters). */
    mach_run(t->m, 10);
    assert_int_equal(devtest_count(t, MACH_EV_RESET), 2);
    assert_int_equal(devtest_event(t, MACH_EV_RESET, 1)->source, 0xffff);
    assert_int_equal(devtest_read(t, CONTROL), 0);
    assert_int_equal(devtest_read(t, RIS), 0);
    assert_int_equal(devtest_read(t, LOAD), 0xFFFFFFFFu);
    assert_int_equal(devtest_read(t, VALUE), 0xFFFFFFFFu);
    assert_int_equal(devtest_read(t, MIS), 0);      /* the reset released the line quietly */
    devtest_free(t);
    (void)state;
}

static void test_kick_prevents_reset(void **state)
{
    DevTest *t = new_wdog();
    devtest_write(t, LOAD, 100);
    devtest_write(t, CONTROL, INTEN | RESEN);
    for (int i = 0; i < 50; i++) {
        devtest_idle(t, 150 * TICK);        /* interrupt after 100 ticks */
        assert_int_equal(devtest_read(t, RIS), 1);
        devtest_write(t, INTCLR, 1);        /* the kick: clear and reload */
        assert_int_equal(devtest_read(t, RIS), 0);
        assert_int_equal(devtest_read(t, VALUE), 100);
    }
    assert_int_equal(devtest_count(t, MACH_EV_RESET), 0);
    assert_int_equal(devtest_count(t, MACH_EV_IRQ), 100);  /* 50 rises, 50 falls */
    /* INTEN off stops counting and masks the interrupt. */
    devtest_idle(t, 120 * TICK);
    devtest_write(t, CONTROL, 0);
    assert_int_equal(devtest_read(t, MIS), 0);
    assert_int_equal(devtest_read(t, RIS), 1);
    assert_int_equal(devtest_irq(t), 0);
    uint32_t v = devtest_read(t, VALUE);
    devtest_idle(t, 500 * TICK);
    assert_int_equal(devtest_read(t, VALUE), v);
    devtest_free(t);
    (void)state;
}

static void test_resen_clear_latches_reset_status(void **state)
{
    DevTest *t = new_wdog();
    devtest_write(t, LOAD, 10);
    devtest_write(t, CONTROL, INTEN);
    devtest_idle(t, 25 * TICK);
    assert_int_equal(devtest_count(t, MACH_EV_RESET), 0);
    uint32_t v = devtest_read(t, VALUE);    /* the counter stopped at the second timeout */
    devtest_idle(t, 25 * TICK);
    assert_int_equal(devtest_read(t, VALUE), v);
    devtest_write(t, CONTROL, INTEN | RESEN);   /* the latched status resets at once */
    assert_int_equal(devtest_count(t, MACH_EV_RESET), 1);
    devtest_free(t);
    (void)state;
}

static void test_lock_and_integration(void **state)
{
    DevTest *t = new_wdog();
    devtest_write(t, LOCK, 1);
    assert_int_equal(devtest_read(t, LOCK), 1);
    devtest_write(t, LOAD, 5);
    devtest_write(t, CONTROL, INTEN);
    assert_int_equal(devtest_read(t, LOAD), 0xFFFFFFFFu);
    assert_int_equal(devtest_read(t, CONTROL), 0);
    devtest_write(t, LOCK, UNLOCK);
    assert_int_equal(devtest_read(t, LOCK), 0);
    devtest_write(t, LOAD, 5);
    assert_int_equal(devtest_read(t, LOAD), 5);
    assert_int_equal(devtest_read(t, VALUE), 5);
    /* Integration test mode drives the outputs from ITOP. */
    devtest_write(t, ITCR, 1);
    assert_int_equal(devtest_read(t, ITCR), 1);
    devtest_write(t, ITOP, 2);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, ITOP, 0);
    assert_int_equal(devtest_irq(t), 0);
    devtest_write(t, ITOP, 1);
    assert_int_equal(devtest_count(t, MACH_EV_RESET), 1);
    devtest_free(t);
    (void)state;
}

static DevTest *busy_wdog(void)
{
    DevTest *t = new_wdog();
    devtest_write(t, LOAD, 333);
    devtest_write(t, CONTROL, INTEN | RESEN);
    devtest_idle(t, 400 * TICK + 41);       /* interrupt raised, mid-tick */
    return t;
}

static void test_migration_continues_exactly(void **state)
{
    DevTest *a = busy_wdog();
    DevTest *b = devtest_migrate(a);
    devtest_clear_events(a);
    assert_int_equal(mach_digest(a->m), mach_digest(b->m));
    for (int step = 0; step < 30; step++) {
        devtest_idle(a, 31 * TICK + 7);
        devtest_idle(b, 31 * TICK + 7);
        static const uint32_t regs[] = { LOAD, VALUE, CONTROL, RIS, MIS, LOCK, ITCR };
        for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
            assert_int_equal(devtest_read(a, regs[i]), devtest_read(b, regs[i]));
    }
    assert_int_equal(devtest_count(a, MACH_EV_RESET), 1);   /* both reached the reset */
    devtest_same_events(a, b);
    devtest_free(a);
    devtest_free(b);
    (void)state;
}

static void test_hostile_streams(void **state)
{
    DevTest *t = busy_wdog();
    devtest_hostile(t, "timer.period", 0);
    devtest_hostile(t, "timer.limit", 0);
    devtest_hostile(t, "timer.limit", 0x100000000ull);
    devtest_hostile(t, "timer.enabled", 200);
    devtest_hostile(t, "timer.next_event", 0);
    devtest_hostile(t, "wdogclk.period", 0);
    devtest_hostile(t, "control", 4);
    devtest_hostile(t, "intstatus", 2);
    devtest_hostile(t, "lock", 0xffffffffu);
    devtest_hostile(t, "itop", 4);
    devtest_hostile(t, "resetstatus", 3);
    devtest_free(t);
    /* A stopped timer passes the ptimer's own checks; the device still
     * rejects a period that is not its clock's. */
    t = new_wdog();
    devtest_hostile(t, "timer.period", 3);
    devtest_hostile(t, "timer.delta", 0x100000000ull);
    devtest_free(t);
    (void)state;
}

/* QEMU 7.2's ptimer reloads the watchdog after an expiry (its wrap-after-
 * one-period policy) with delta = limit and a deadline limit + 1 periods
 * on. Such a stream, from a QEMU watchdog that has wrapped, loads; one
 * period more than that is still refused. */
static void test_qemu_wrap_deadline_loads(void **state)
{
    DevTest *t = new_wdog();
    devtest_write(t, LOAD, 333);
    devtest_write(t, CONTROL, INTEN);
    devtest_idle(t, 340 * TICK);            /* past the first expiry: reloaded */
    uint64_t limit = devtest_field(t, "timer.limit"), last = devtest_field(t, "timer.last_event"),
             next = devtest_field(t, "timer.next_event");
    assert_int_equal(devtest_field(t, "timer.delta"), limit);
    assert_int_equal((next - last) % limit, 0);
    uint64_t period = (next - last) / limit;
    uint64_t qemu_next = last + (limit + 1) * period;
    DevtestPatch qemu[] = { { "timer.next_event", qemu_next }, { "timer.timer", qemu_next } };
    DevTest *b = devtest_migrate_patches(t, qemu, 2);
    assert_int_equal(devtest_read(b, CONTROL), INTEN);
    devtest_free(b);
    uint64_t too_late = qemu_next + period;
    DevtestPatch late[] = { { "timer.next_event", too_late }, { "timer.timer", too_late } };
    devtest_hostile_patches(t, late, 2, NULL);
    devtest_free(t);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values_and_ids),
        cmocka_unit_test(test_qemu_wrap_deadline_loads),
        cmocka_unit_test(test_interrupt_then_reset),
        cmocka_unit_test(test_kick_prevents_reset),
        cmocka_unit_test(test_resen_clear_latches_reset_status),
        cmocka_unit_test(test_lock_and_integration),
        cmocka_unit_test(test_migration_continues_exactly),
        cmocka_unit_test(test_hostile_streams),
    };
    return cmocka_run_group_tests_name("dev_watchdog", tests, NULL, NULL);
}
