/* test_pl031.c - the PL031 RTC model (DDI0224) and its time across migration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devtest.h"

enum { DR = 0x00, MR = 0x04, LR = 0x08, CR = 0x0c, IMSC = 0x10, RIS = 0x14, MIS = 0x18, ICR = 0x1c };

#define START 1700000000u
#define SEC DEVTEST_CYCLES_PER_SEC

static const uint8_t pl031_id[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
static const DevProp props[] = { { "start-time", START }, { NULL, 0 } };
static const DevProp props_legacy[] = {
    { "start-time", START }, { "migrate-tick-offset", 0 }, { NULL, 0 },
};

static int setup(void **state)
{
    *state = devtest_new("pl031", props);
    return 0;
}

static void test_reset_values(void **state)
{
    DevTest *t = *state;
    devtest_check_members("pl031");
    assert_int_equal(devtest_read(t, DR), START);
    static const uint32_t zero[] = { MR, LR, CR, IMSC, RIS, MIS, ICR, 0x20, 0x800 };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        assert_int_equal(devtest_read(t, zero[i]), 0);
    devtest_check_ids(t, pl031_id);
    assert_int_equal(devtest_irq(t), 0);
}

static void test_counts_virtual_seconds(void **state)
{
    DevTest *t = *state;
    devtest_idle(t, SEC - 1);
    assert_int_equal(devtest_read(t, DR), START);
    devtest_idle(t, 1);
    assert_int_equal(devtest_read(t, DR), START + 1);
    devtest_idle(t, 5 * SEC / 2);
    assert_int_equal(devtest_read(t, DR), START + 3);
    devtest_write(t, DR, 7);            /* read-only */
    assert_int_equal(devtest_read(t, DR), START + 3);
}

static void test_load_register(void **state)
{
    DevTest *t = *state;
    devtest_idle(t, SEC / 4);           /* 0.25 s */
    devtest_write(t, LR, 1000);
    assert_int_equal(devtest_read(t, LR), 1000);
    assert_int_equal(devtest_read(t, DR), 1000);
    /* The counter steps on whole virtual seconds, however the load fell. */
    devtest_idle(t, 3 * SEC / 4 - 1);
    assert_int_equal(devtest_read(t, DR), 1000);
    devtest_idle(t, 1);
    assert_int_equal(devtest_read(t, DR), 1001);
    devtest_write(t, LR, 0xffffffffu);  /* wraps */
    devtest_idle(t, SEC);
    assert_int_equal(devtest_read(t, DR), 0);
}

static void test_control_is_sticky(void **state)
{
    DevTest *t = *state;
    devtest_write(t, CR, 0xfe);
    assert_int_equal(devtest_read(t, CR), 0);
    devtest_write(t, CR, 1);
    assert_int_equal(devtest_read(t, CR), 1);
    devtest_write(t, CR, 0);
    assert_int_equal(devtest_read(t, CR), 1);
}

static void test_match_interrupt(void **state)
{
    DevTest *t = *state;
    devtest_write(t, MR, START + 2);
    devtest_idle(t, 2 * SEC - 1);
    assert_int_equal(devtest_read(t, RIS), 0);
    devtest_idle(t, 1);
    assert_int_equal(devtest_read(t, RIS), 1);
    assert_int_equal(devtest_read(t, MIS), 0);
    assert_int_equal(devtest_irq(t), 0);
    devtest_write(t, IMSC, 0xff);
    assert_int_equal(devtest_read(t, IMSC), 1);
    assert_int_equal(devtest_read(t, MIS), 1);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, ICR, 1);
    assert_int_equal(devtest_read(t, RIS), 0);
    assert_int_equal(devtest_irq(t), 0);
    /* The match does not repeat within the same second, nor later. */
    devtest_idle(t, 3 * SEC);
    assert_int_equal(devtest_read(t, RIS), 0);

    /* Matching the current count raises at once. */
    devtest_write(t, MR, devtest_read(t, DR));
    assert_int_equal(devtest_read(t, RIS), 1);
    devtest_write(t, ICR, 1);
    /* Loading the counter onto the match raises too. */
    devtest_write(t, MR, 500);
    devtest_write(t, LR, 500);
    assert_int_equal(devtest_read(t, RIS), 1);
    devtest_write(t, ICR, 1);
    devtest_write(t, IMSC, 0);
    assert_int_equal(devtest_irq(t), 0);
}

/* Apply the same program to a twin: an alarm armed, the counter loaded. */
static void rtc_program(DevTest *t)
{
    devtest_idle(t, SEC / 3);
    devtest_write(t, LR, 0x7ffffff0u);
    devtest_write(t, MR, 0x7ffffff5u);
    devtest_write(t, IMSC, 1);
    devtest_write(t, CR, 1);
    devtest_idle(t, 2 * SEC + SEC / 7);
}

static void check_continuity(const DevProp *p)
{
    DevTest *a = devtest_new("pl031", p);
    DevTest *b0 = devtest_new("pl031", p);
    rtc_program(a);
    rtc_program(b0);
    uint32_t before = devtest_read(b0, DR);
    DevTest *b = devtest_migrate(b0);   /* save, reset, load */
    devtest_clear_events(a);
    assert_int_equal(devtest_read(b, DR), before);
    assert_int_equal(devtest_read(a, DR), before);
    for (int step = 0; step < 8; step++) {
        devtest_idle(a, SEC / 2 + 17);
        devtest_idle(b, SEC / 2 + 17);
        assert_int_equal(devtest_read(a, DR), devtest_read(b, DR));
        assert_int_equal(devtest_read(a, RIS), devtest_read(b, RIS));
        assert_int_equal(devtest_irq(a), devtest_irq(b));
    }
    /* The alarm fired in both, at the same cycle. */
    assert_int_equal(devtest_read(a, RIS), 1);
    assert_int_equal(devtest_count(a, MACH_EV_IRQ), devtest_count(b, MACH_EV_IRQ));
    assert_true(devtest_count(b, MACH_EV_IRQ) >= 1);
    assert_int_equal(devtest_event(a, MACH_EV_IRQ, 0)->cycle, devtest_event(b, MACH_EV_IRQ, 0)->cycle);
    devtest_free(a);
    devtest_free(b0);
    devtest_free(b);
}

static void test_time_continuous_across_migration(void **state)
{
    check_continuity(props);
}

static void test_time_continuous_legacy_stream(void **state)
{
    check_continuity(props_legacy);
}

/* A save inside the matching second, after the guest cleared the
 * interrupt: the load must not raise it a second time. */
static void test_no_second_interrupt_after_load(void **state)
{
    DevTest *a = *state;
    devtest_write(a, MR, START + 1);
    devtest_write(a, IMSC, 1);
    devtest_idle(a, SEC + SEC / 2);
    assert_int_equal(devtest_read(a, RIS), 1);
    devtest_write(a, ICR, 1);
    DevTest *b = devtest_migrate(a);
    assert_int_equal(devtest_read(b, RIS), 0);
    devtest_idle(b, SEC);
    assert_int_equal(devtest_read(b, RIS), 0);
    assert_int_equal(devtest_count(b, MACH_EV_IRQ), 0);
    devtest_free(b);
}

static void test_hostile_values(void **state)
{
    DevTest *t = *state;
    devtest_write(t, IMSC, 1);
    devtest_hostile(t, "im", 2);
    devtest_hostile(t, "is", 0x80000000u);
    devtest_hostile(t, "cr", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_counts_virtual_seconds, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_load_register, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_control_is_sticky, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_match_interrupt, setup, devtest_teardown),
        cmocka_unit_test(test_time_continuous_across_migration),
        cmocka_unit_test(test_time_continuous_legacy_stream),
        cmocka_unit_test_setup_teardown(test_no_second_interrupt_after_load, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_values, setup, devtest_teardown),
    };
    return cmocka_run_group_tests_name("pl031", tests, NULL, NULL);
}
