/*
 * test_pl080.c - the PL080 DMA controller as the guest and the migration
 * stream see it. Transfers are paced: with tick-ns 1000 (the board's), one
 * tick is 100 virtual cycles and moves up to 4 elements per channel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devtest.h"

enum { INT_STATUS = 0x00, TC_STATUS = 0x04, TC_CLEAR = 0x08, ERR_STATUS = 0x0c, ERR_CLEAR = 0x10,
       RAW_TC = 0x14, RAW_ERR = 0x18, ENABLED = 0x1c, SOFT_BREQ = 0x20, CONFIG = 0x30, SYNC = 0x34 };
enum { SRC = 0x00, DEST = 0x04, LLI = 0x08, CTRL = 0x0c, CONF = 0x10 };
#define CH(c, r) (0x100u + 0x20u * (c) + (r))
#define CONF_E 1u
#define CCONF_E 1u
#define CCONF_IE (1u << 14)
#define CCONF_ITC (1u << 15)
#define CCONF_H (1u << 18)
#define TICK 100u           /* cycles per tick */
#define SRAM 0x20000000u

static const DevProp props[] = { { "tick-ns", 1000 }, { NULL, 0 } };

static DevTest *new_pl080(void) { return devtest_new("pl080", props); }

/* Word-wide, both addresses incrementing, n elements; irq: Control.I. */
static uint32_t ctrl(uint32_t n, int irq) { return n | 2u << 18 | 2u << 21 | 3u << 26 | (irq ? 1u << 31 : 0); }

static void mem_w32(DevTest *t, uint32_t a, uint32_t v) { assert_true(mach_bus_write(t->m, a, 4, v)); }
static uint32_t mem_r32(DevTest *t, uint32_t a)
{
    uint32_t v;
    assert_true(mach_bus_read(t->m, a, 4, &v));
    return v;
}

static void fill(DevTest *t, uint32_t a, unsigned n, uint32_t seed)
{
    for (unsigned i = 0; i < n; i++)
        mem_w32(t, a + 4 * i, seed + i * 0x01010101u);
}

static void start(DevTest *t, unsigned c, uint32_t src, uint32_t dest, uint32_t lli, uint32_t control)
{
    devtest_write(t, CH(c, SRC), src);
    devtest_write(t, CH(c, DEST), dest);
    devtest_write(t, CH(c, LLI), lli);
    devtest_write(t, CH(c, CTRL), control);
    devtest_write(t, CH(c, CONF), CCONF_E | CCONF_IE | CCONF_ITC);
}

static void test_reset_values_and_ids(void **state)
{
    DevTest *t = new_pl080();
    static const uint8_t ids[8] = { 0x80, 0x10, 0x04, 0x0a, 0x0d, 0xf0, 0x05, 0xb1 };
    devtest_check_ids(t, ids);
    devtest_check_members("pl080");
    for (uint32_t r = INT_STATUS; r <= SYNC; r += 4)
        assert_int_equal(devtest_read(t, r), 0);
    for (unsigned c = 0; c < 8; c++)
        for (uint32_t r = SRC; r <= CONF; r += 4)
            assert_int_equal(devtest_read(t, CH(c, r)), 0);
    devtest_write(t, SYNC, 0xfffff);
    assert_int_equal(devtest_read(t, SYNC), 0xffff);
    devtest_write(t, CONFIG, 0xff);
    assert_int_equal(devtest_read(t, CONFIG), 7);
    devtest_write(t, SOFT_BREQ, 0xff);      /* soft requests: read 0, as QEMU 7.2 */
    assert_int_equal(devtest_read(t, SOFT_BREQ), 0);
    assert_int_equal(devtest_read_n(t, CH(0, CONF) + 1, 1), 0);
    devtest_free(t);
    (void)state;
}

/* A copy moves 4 words per tick, with the registers advancing as it goes. */
static void test_paced_copy_and_tc_interrupt(void **state)
{
    DevTest *t = new_pl080();
    fill(t, SRAM, 10, 0x11223344);
    devtest_write(t, CONFIG, CONF_E);
    start(t, 0, SRAM, SRAM + 0x100, 0, ctrl(10, 1));
    assert_int_equal(devtest_read(t, ENABLED), 1);
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, CH(0, CTRL)) & 0xfff, 6);
    assert_int_equal(devtest_read(t, CH(0, SRC)), SRAM + 16);
    assert_int_equal(devtest_read(t, CH(0, DEST)), SRAM + 0x110);
    assert_int_equal(mem_r32(t, SRAM + 0x10c), 0x11223344u + 3 * 0x01010101u);
    assert_int_equal(mem_r32(t, SRAM + 0x110), 0);
    assert_int_equal(devtest_irq(t), 0);
    devtest_idle(t, 2 * TICK);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(mem_r32(t, SRAM + 0x100 + 4 * i), 0x11223344u + i * 0x01010101u);
    assert_int_equal(devtest_read(t, ENABLED), 0);
    assert_int_equal(devtest_read(t, RAW_TC), 1);
    assert_int_equal(devtest_read(t, TC_STATUS), 1);
    assert_int_equal(devtest_read(t, INT_STATUS), 1);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, TC_CLEAR, 1);
    assert_int_equal(devtest_read(t, RAW_TC), 0);
    assert_int_equal(devtest_irq(t), 0);
    devtest_free(t);
    (void)state;
}

/* The controller's enable gates every channel; Halt pauses one. */
static void test_disabled_and_halted_do_not_move(void **state)
{
    DevTest *t = new_pl080();
    fill(t, SRAM, 4, 7);
    start(t, 0, SRAM, SRAM + 0x100, 0, ctrl(4, 0));
    devtest_idle(t, 10 * TICK);
    assert_int_equal(mem_r32(t, SRAM + 0x100), 0);
    devtest_write(t, CH(0, CONF), CCONF_E | CCONF_H);
    devtest_write(t, CONFIG, CONF_E);
    devtest_idle(t, 10 * TICK);
    assert_int_equal(mem_r32(t, SRAM + 0x100), 0);
    devtest_write(t, CH(0, CONF), CCONF_E);
    devtest_idle(t, TICK);
    assert_int_equal(mem_r32(t, SRAM + 0x10c), 7 + 3 * 0x01010101u);
    assert_int_equal(devtest_read(t, ENABLED), 0);
    devtest_free(t);
    (void)state;
}

/* Three linked-list items in memory; the last has lli 0 and raises TC. */
static void put_chain(DevTest *t, uint32_t at)
{
    for (unsigned i = 0; i < 3; i++) {
        uint32_t item = at + 16 * i;
        mem_w32(t, item + 0, SRAM + 0x200 + 0x20 * i);
        mem_w32(t, item + 4, SRAM + 0x300 + 0x20 * i);
        mem_w32(t, item + 8, i < 2 ? item + 16 : 0);
        mem_w32(t, item + 12, ctrl(6, i == 2));
    }
    fill(t, SRAM + 0x200, 0x60 / 4, 0xa0a0a0a0u);
}

static void test_linked_list_chain(void **state)
{
    DevTest *t = new_pl080();
    put_chain(t, SRAM + 0x80);
    devtest_write(t, CONFIG, CONF_E);
    /* The first transfer is programmed directly and links to item 1. */
    start(t, 2, SRAM, SRAM + 0x400, SRAM + 0x80, ctrl(2, 0));
    devtest_idle(t, TICK);
    /* 2 words, then item 0 loaded and 2 of its 6 words moved. */
    assert_int_equal(devtest_read(t, CH(2, LLI)), SRAM + 0x90);
    assert_int_equal(devtest_read(t, CH(2, CTRL)) & 0xfff, 4);
    assert_int_equal(devtest_irq(t), 0);
    devtest_idle(t, 6 * TICK);
    for (unsigned i = 0; i < 3; i++)
        for (unsigned w = 0; w < 6; w++)
            assert_int_equal(mem_r32(t, SRAM + 0x300 + 0x20 * i + 4 * w),
                             mem_r32(t, SRAM + 0x200 + 0x20 * i + 4 * w));
    assert_int_equal(devtest_read(t, CH(2, LLI)), 0);
    assert_int_equal(devtest_read(t, ENABLED), 0);
    assert_int_equal(devtest_read(t, RAW_TC), 1u << 2);
    assert_int_equal(devtest_irq(t), 1);
    devtest_free(t);
    (void)state;
}

/* A bus error (nothing at the source, or an LLI outside memory) raises the
 * channel's error bit and stops it; the masked status follows IE. */
static void test_bus_error(void **state)
{
    DevTest *t = new_pl080();
    devtest_write(t, CONFIG, CONF_E);
    start(t, 1, 0x30000000u, SRAM, 0, ctrl(4, 1));
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, RAW_ERR), 2);
    assert_int_equal(devtest_read(t, ERR_STATUS), 2);
    assert_int_equal(devtest_read(t, ENABLED), 0);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, ERR_CLEAR, 2);
    assert_int_equal(devtest_irq(t), 0);
    /* A bad linked-list pointer fails at the end of the first transfer. */
    start(t, 1, SRAM, SRAM + 0x10, 0x50000000u, ctrl(1, 0));
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, RAW_ERR), 2);
    /* Different source and destination widths are refused, not guessed. */
    devtest_write(t, ERR_CLEAR, 2);
    start(t, 1, SRAM, SRAM + 0x10, 0, 1u | 2u << 18 | 0u << 21);
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, RAW_ERR), 2);
    /* With IE clear the error is raw only. */
    devtest_write(t, ERR_CLEAR, 2);
    devtest_write(t, CH(1, CTRL), ctrl(1, 0));
    devtest_write(t, CH(1, SRC), 0x30000000u);
    devtest_write(t, CH(1, CONF), CCONF_E);
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, RAW_ERR), 2);
    assert_int_equal(devtest_read(t, ERR_STATUS), 0);
    assert_int_equal(devtest_irq(t), 0);
    devtest_free(t);
    (void)state;
}

/* Memory to a peripheral register: the controller's own Sync register
 * stands in for a data register (a single bus write per element). */
static void test_memory_to_register(void **state)
{
    DevTest *t = new_pl080();
    mem_w32(t, SRAM, 0x1234);
    mem_w32(t, SRAM + 4, 0x5678);
    devtest_write(t, CONFIG, CONF_E);
    start(t, 0, SRAM, DEVTEST_BASE + SYNC, 0, 2u | 2u << 18 | 2u << 21 | 1u << 26);
    devtest_idle(t, TICK);
    assert_int_equal(devtest_read(t, SYNC), 0x5678);
    assert_int_equal(devtest_read(t, CH(0, DEST)), DEVTEST_BASE + SYNC);
    devtest_free(t);
    (void)state;
}

/* Saved in the middle of a chain, the target carries on as the source does. */
static void test_migrate_mid_chain(void **state)
{
    DevTest *a = new_pl080();
    put_chain(a, SRAM + 0x80);
    devtest_write(a, CONFIG, CONF_E);
    start(a, 5, SRAM, SRAM + 0x400, SRAM + 0x80, ctrl(2, 0));
    devtest_idle(a, 3 * TICK + 37);
    assert_int_equal(devtest_read(a, ENABLED), 1u << 5);
    assert_int_not_equal(devtest_read(a, CH(5, LLI)), 0);
    DevTest *b = devtest_migrate(a);
    devtest_fixpoint(b);
    devtest_clear_events(a);
    devtest_idle(a, 10 * TICK);
    devtest_idle(b, 10 * TICK);
    devtest_same_events(a, b);
    assert_int_equal(devtest_read(b, RAW_TC), 1u << 5);
    assert_int_equal(mem_r32(b, SRAM + 0x300 + 0x40 + 20), mem_r32(b, SRAM + 0x200 + 0x40 + 20));
    devtest_free(a);
    devtest_free(b);
    (void)state;
}

/* The masks are a function of the channels' configuration: a stream with
 * other masks loads with the recomputed ones. */
static void test_masks_recomputed_on_load(void **state)
{
    DevTest *a = new_pl080();
    devtest_write(a, CONFIG, CONF_E);
    /* A finished transfer on a channel whose TC interrupt is masked (no ITC). */
    devtest_write(a, CH(1, SRC), SRAM);
    devtest_write(a, CH(1, DEST), SRAM + 0x10);
    devtest_write(a, CH(1, CTRL), ctrl(1, 1));
    devtest_write(a, CH(1, CONF), CCONF_E);
    devtest_idle(a, TICK);
    assert_int_equal(devtest_read(a, RAW_TC), 2);
    assert_int_equal(devtest_read(a, TC_STATUS), 0);
    DevTest *b = devtest_migrate_patched(a, "tc_mask", 0xff);
    assert_int_equal(devtest_read(b, RAW_TC), 2);
    assert_int_equal(devtest_read(b, TC_STATUS), 0);
    assert_int_equal(devtest_irq(b), 0);
    devtest_free(a);
    devtest_free(b);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values_and_ids),
        cmocka_unit_test(test_paced_copy_and_tc_interrupt),
        cmocka_unit_test(test_disabled_and_halted_do_not_move),
        cmocka_unit_test(test_linked_list_chain),
        cmocka_unit_test(test_bus_error),
        cmocka_unit_test(test_memory_to_register),
        cmocka_unit_test(test_migrate_mid_chain),
        cmocka_unit_test(test_masks_recomputed_on_load),
    };
    return cmocka_run_group_tests_name("dev_pl080", tests, NULL, NULL);
}
