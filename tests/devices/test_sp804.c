/*
 * test_sp804.c - the SP804 dual timer as the guest and the migration stream see it.
 * Clocks are 1 MHz (the board's), so one tick is 1 us = 100 virtual cycles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devtest.h"

enum { LOAD = 0x00, VALUE = 0x04, CONTROL = 0x08, INTCLR = 0x0C, RIS = 0x10, MIS = 0x14,
       BGLOAD = 0x18, T1 = 0x20 };
enum { ONESHOT = 1, SIZE32 = 2, PRE16 = 1 << 2, PRE256 = 2 << 2, IE = 1 << 5,
       PERIODIC = 1 << 6, ENABLE = 1 << 7 };
#define TICK 100u   /* cycles per 1 MHz tick */

static const DevProp props[] = { { "freq0", 1000000 }, { "freq1", 1000000 }, { NULL, 0 } };

static DevTest *new_sp804(void) { return devtest_new("sp804", props); }

static void test_reset_values_and_ids(void **state)
{
    DevTest *t = new_sp804();
    static const uint8_t ids[8] = { 0x04, 0x18, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
    for (uint32_t b = 0; b <= T1; b += T1) {
        assert_int_equal(devtest_read(t, b + LOAD), 0);
        assert_int_equal(devtest_read(t, b + VALUE), 0xFFFFFFFFu);
        assert_int_equal(devtest_read(t, b + CONTROL), 0x20);
        assert_int_equal(devtest_read(t, b + RIS), 0);
        assert_int_equal(devtest_read(t, b + MIS), 0);
        assert_int_equal(devtest_read(t, b + BGLOAD), 0);
    }
    devtest_check_ids(t, ids);
    devtest_check_members("sp804");
    /* Disabled timers do not count. */
    devtest_idle(t, 1000 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 0xFFFFFFFFu);
    devtest_free(t);
    (void)state;
}

static void test_periodic_counts_and_interrupts(void **state)
{
    DevTest *t = new_sp804();
    devtest_write(t, LOAD, 100);
    devtest_write(t, CONTROL, ENABLE | PERIODIC | SIZE32 | IE);
    assert_int_equal(devtest_read(t, VALUE), 100);
    devtest_idle(t, 10 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 90);
    devtest_idle(t, 10 * TICK - 1);             /* just before the 20th tick */
    assert_int_equal(devtest_read(t, VALUE), 81);
    devtest_idle(t, 80 * TICK + 1);             /* the 100th tick: zero, reload */
    assert_int_equal(devtest_read(t, RIS), 1);
    assert_int_equal(devtest_read(t, MIS), 1);
    assert_int_equal(devtest_irq(t), 1);
    assert_int_equal(devtest_read(t, VALUE), 100);
    const MachEvent *ev = devtest_event(t, MACH_EV_IRQ, 0);
    assert_int_equal(ev->cycle, 100 * TICK);
    assert_int_equal(ev->value, 1);
    devtest_idle(t, 50 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 50);
    /* IntClr drops the line; the next period raises it again. */
    devtest_write(t, INTCLR, 1);
    assert_int_equal(devtest_read(t, RIS), 0);
    assert_int_equal(devtest_irq(t), 0);
    devtest_idle(t, 50 * TICK);
    assert_int_equal(devtest_irq(t), 1);
    assert_int_equal(devtest_event(t, MACH_EV_IRQ, 2)->cycle, 200 * TICK);
    /* Masking: RIS stays, MIS and the line follow IE. */
    devtest_write(t, CONTROL, ENABLE | PERIODIC | SIZE32);
    assert_int_equal(devtest_read(t, RIS), 1);
    assert_int_equal(devtest_read(t, MIS), 0);
    assert_int_equal(devtest_irq(t), 0);
    /* BGLoad changes the next reload only. */
    devtest_write(t, BGLOAD, 10);
    assert_int_equal(devtest_read(t, VALUE), 100);
    assert_int_equal(devtest_read(t, LOAD), 10);
    devtest_idle(t, 100 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 10);
    devtest_idle(t, 3 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 7);
    /* Disabling freezes the count. */
    devtest_write(t, CONTROL, PERIODIC | SIZE32);
    devtest_idle(t, 5 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 7);
    devtest_free(t);
    (void)state;
}

static void test_oneshot_halts_and_restarts(void **state)
{
    DevTest *t = new_sp804();
    devtest_write(t, LOAD, 5);
    devtest_write(t, CONTROL, ENABLE | ONESHOT | SIZE32 | IE);
    devtest_idle(t, 5 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 0);
    assert_int_equal(devtest_read(t, RIS), 1);
    devtest_idle(t, 100 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 0);
    assert_int_equal(devtest_count(t, MACH_EV_IRQ), 1);
    assert_true(devtest_read(t, CONTROL) & ENABLE);
    devtest_write(t, INTCLR, 0);
    devtest_write(t, LOAD, 3);              /* a new Load starts it again */
    devtest_idle(t, 2 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 1);
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, RIS), 1);
    devtest_free(t);
    (void)state;
}

static void test_free_running_wraps(void **state)
{
    DevTest *t = new_sp804();
    devtest_write(t, LOAD, 10);
    devtest_write(t, CONTROL, ENABLE | SIZE32 | IE);
    devtest_idle(t, 10 * TICK);
    assert_int_equal(devtest_read(t, RIS), 1);
    assert_int_equal(devtest_read(t, VALUE), 0xFFFFFFFFu);
    devtest_idle(t, 2 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 0xFFFFFFFDu);
    devtest_free(t);
    (void)state;
}

static void test_sixteen_bit_and_prescale(void **state)
{
    DevTest *t = new_sp804();
    /* 16-bit: Load is masked, free-running wraps to 0xFFFF. */
    devtest_write(t, CONTROL, IE);
    devtest_write(t, LOAD, 0x10003);
    assert_int_equal(devtest_read(t, VALUE), 3);
    devtest_write(t, CONTROL, ENABLE | IE);
    devtest_idle(t, 3 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 0xFFFF);
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, VALUE), 0xFFFE);
    /* Prescale 16 and 256 on timer 1. */
    devtest_write(t, T1 + LOAD, 10);
    devtest_write(t, T1 + CONTROL, ENABLE | PERIODIC | SIZE32 | PRE16);
    devtest_idle(t, 3 * 16 * TICK);
    assert_int_equal(devtest_read(t, T1 + VALUE), 7);
    devtest_write(t, T1 + LOAD, 10);
    devtest_write(t, T1 + CONTROL, ENABLE | PERIODIC | SIZE32 | PRE256);
    devtest_idle(t, 256 * TICK - 1);
    assert_int_equal(devtest_read(t, T1 + VALUE), 10);
    devtest_idle(t, 1);
    assert_int_equal(devtest_read(t, T1 + VALUE), 9);
    /* The reserved prescale 0b11 is ignored: 256 stays. */
    devtest_write(t, T1 + CONTROL, ENABLE | PERIODIC | SIZE32 | (3 << 2));
    assert_int_equal(devtest_read(t, T1 + CONTROL), ENABLE | PERIODIC | SIZE32 | PRE256);
    devtest_free(t);
    (void)state;
}

static void test_combined_irq(void **state)
{
    DevTest *t = new_sp804();
    devtest_write(t, LOAD, 10);
    devtest_write(t, T1 + LOAD, 20);
    devtest_write(t, CONTROL, ENABLE | ONESHOT | SIZE32 | IE);
    devtest_write(t, T1 + CONTROL, ENABLE | ONESHOT | SIZE32 | IE);
    devtest_idle(t, 20 * TICK);
    assert_int_equal(devtest_read(t, MIS), 1);
    assert_int_equal(devtest_read(t, T1 + MIS), 1);
    assert_int_equal(devtest_count(t, MACH_EV_IRQ), 1);     /* one rising edge at tick 10 */
    devtest_write(t, INTCLR, 1);
    assert_int_equal(devtest_irq(t), 1);                    /* timer 1 still holds it */
    devtest_write(t, T1 + INTCLR, 1);
    assert_int_equal(devtest_irq(t), 0);
    devtest_free(t);
    (void)state;
}

/* TimerITCR/TimerITOP (release 1.1): in test mode ITOP drives the line and
 * both migrate (sp804 v2); with "integration-test" off (vmstress-m0-1.0)
 * they read as zero, ignore writes, and the section is saved at version 1. */
static void test_integration_test_registers(void **state)
{
    DevTest *t = new_sp804();
    devtest_write(t, 0xF04, 0xff);
    assert_int_equal(devtest_read(t, 0xF04), 3);
    assert_int_equal(devtest_irq(t), 0);                    /* not in test mode yet */
    devtest_write(t, 0xF00, 1);
    assert_int_equal(devtest_read(t, 0xF00), 1);
    assert_int_equal(devtest_irq(t), 1);                    /* ITOP drives TIMINTC */
    DevTest *u = devtest_migrate(t);
    assert_int_equal(devtest_read(u, 0xF00), 1);
    assert_int_equal(devtest_read(u, 0xF04), 3);
    devtest_write(u, 0xF04, 0);
    assert_int_equal(devtest_irq(u), 0);
    devtest_free(u);
    devtest_free(t);

    static const DevProp old[] = { { "freq0", 1000000 }, { "freq1", 1000000 },
                                   { "integration-test", 0 }, { NULL, 0 } };
    t = devtest_new("sp804", old);
    devtest_write(t, 0xF00, 1);
    devtest_write(t, 0xF04, 3);
    assert_int_equal(devtest_read(t, 0xF00), 0);
    assert_int_equal(devtest_read(t, 0xF04), 0);
    assert_int_equal(devtest_irq(t), 0);
    size_t len;
    uint8_t *b = devtest_save(t, &len, NULL);
    /* The section header's version word follows "sp804" and its instance. */
    size_t at = 0;
    while (at + 13 <= len && memcmp(b + at, "\x05sp804", 6) != 0)
        at++;
    assert_true(at + 13 <= len);
    assert_int_equal(b[at + 6 + 4 + 3], 1);
    free(b);
    devtest_free(t);
    (void)state;
}

/* Program both timers, run part way, and return the device. */
static DevTest *busy_sp804(void)
{
    DevTest *t = new_sp804();
    devtest_write(t, LOAD, 37);
    devtest_write(t, CONTROL, ENABLE | PERIODIC | SIZE32 | IE);
    devtest_write(t, T1 + LOAD, 1000);
    devtest_write(t, T1 + CONTROL, ENABLE | SIZE32 | PRE16 | IE);
    devtest_idle(t, 123 * TICK + 57);       /* mid-tick */
    return t;
}

static void test_migration_continues_exactly(void **state)
{
    DevTest *a = busy_sp804();
    DevTest *b = devtest_migrate(a);
    devtest_clear_events(a);
    assert_int_equal(mach_digest(a->m), mach_digest(b->m));
    for (int step = 0; step < 40; step++) {
        devtest_idle(a, 7 * TICK + 13);
        devtest_idle(b, 7 * TICK + 13);
        for (uint32_t r = 0; r <= T1 + BGLOAD; r += 4)
            assert_int_equal(devtest_read(a, r), devtest_read(b, r));
        if (step == 20) {
            devtest_write(a, INTCLR, 1);
            devtest_write(b, INTCLR, 1);
        }
    }
    assert_true(a->n_ev > 0);
    devtest_same_events(a, b);
    devtest_free(a);
    devtest_free(b);
    (void)state;
}

static void test_hostile_streams(void **state)
{
    DevTest *t = busy_sp804();
    devtest_hostile(t, "timer.period", 0);              /* divide by zero */
    devtest_hostile(t, "timer.limit", 0);               /* periodic reload of 0 */
    devtest_hostile(t, "timer.enabled", 9);
    devtest_hostile(t, "timer.next_event", 1);          /* breaks the count invariant */
    devtest_hostile(t, "timer.last_event", 0x7fffffffffffffffull);
    devtest_hostile(t, "control", 0xAC);                /* prescale 0b11 */
    devtest_hostile(t, "control", 0x1A0);               /* reserved bit */
    devtest_hostile(t, "int_level", 2);
    devtest_hostile(t, "level[1]", 0x80000000u);
    devtest_free(t);
    /* Stopped timers pass the ptimer's own checks; the SP804 still rejects
     * a tick that is not freq/prescale and a reload it would not use. */
    t = new_sp804();
    devtest_hostile(t, "timer.period", 7);
    devtest_hostile(t, "timer.limit", 5);
    devtest_hostile(t, "timer.delta", 0x100000000ull);
    devtest_free(t);
    (void)state;
}

/* A copy of t's stream with every arm_timer's ptimer period, period_frac
 * and limit zeroed (and control set to `control`, if not UINT32_MAX), as
 * QEMU writes a timer the guest never programmed. */
static uint8_t *as_qemu_unprogrammed(DevTest *t, uint32_t control, size_t *len)
{
    VmsMap map;
    vms_map_init(&map);
    uint8_t *b = devtest_save(t, len, &map);
    size_t hits = 0;
    for (size_t i = 0; i < map.n; i++) {
        const VmsSpan *sp = &map.spans[i];
        bool zero = !strcmp(sp->path, "timer.period") || !strcmp(sp->path, "timer.period_frac") ||
                    !strcmp(sp->path, "timer.limit");
        if (zero)
            memset(b + sp->offset, 0, sp->size);
        if (!strcmp(sp->path, "control") && !strcmp(sp->desc->name, "arm_timer") &&
            control != UINT32_MAX)
            for (unsigned k = 0; k < 4; k++)
                b[sp->offset + k] = (uint8_t)(control >> (24 - 8 * k));
        hits += zero;
    }
    assert_int_equal(hits, 6);  /* three fields of each of the two timers */
    vms_map_free(&map);
    return b;
}

/* QEMU 7.2 streams carry a never-programmed timer with period 0 and limit
 * 0: it loads, reads as QEMU's (Value 0, Control 0x20), and the first
 * Control write gives it its period. Enabled with period 0 stays hostile. */
static void test_loads_qemu_unprogrammed_timer(void **state)
{
    DevTest *src = new_sp804();
    devtest_write(src, T1 + LOAD, 0);           /* Value 0, as in QEMU at power-on */
    devtest_write(src, LOAD, 0);
    size_t len;
    uint8_t *b = as_qemu_unprogrammed(src, UINT32_MAX, &len);
    DevTest *t = new_sp804();
    VmsError err;
    assert_true(mach_load(t->m, b, len, &err));
    free(b);
    for (uint32_t base = 0; base <= T1; base += T1) {
        assert_int_equal(devtest_read(t, base + VALUE), 0);
        assert_int_equal(devtest_read(t, base + CONTROL), IE);
    }
    devtest_write(t, LOAD, 100);
    devtest_write(t, CONTROL, ENABLE | PERIODIC | SIZE32 | IE);
    devtest_idle(t, 10 * TICK);
    assert_int_equal(devtest_read(t, VALUE), 90);
    devtest_idle(t, 90 * TICK);
    assert_int_equal(devtest_read(t, RIS), 1);
    assert_int_equal(devtest_irq(t), 1);
    devtest_free(t);

    b = as_qemu_unprogrammed(src, ENABLE | IE, &len);
    t = new_sp804();
    assert_false(mach_load(t->m, b, len, &err));
    char line[400];
    vms_error_format(&err, line, sizeof(line));
    assert_non_null(strstr(line, "period"));
    free(b);
    devtest_free(t);
    devtest_free(src);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values_and_ids),
        cmocka_unit_test(test_periodic_counts_and_interrupts),
        cmocka_unit_test(test_oneshot_halts_and_restarts),
        cmocka_unit_test(test_free_running_wraps),
        cmocka_unit_test(test_sixteen_bit_and_prescale),
        cmocka_unit_test(test_combined_irq),
        cmocka_unit_test(test_integration_test_registers),
        cmocka_unit_test(test_migration_continues_exactly),
        cmocka_unit_test(test_hostile_streams),
        cmocka_unit_test(test_loads_qemu_unprogrammed_timer),
    };
    return cmocka_run_group_tests_name("dev_sp804", tests, NULL, NULL);
}
