/* test_pl061.c - the PL061 GPIO model (DDI0190). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devtest.h"

enum {
    DATA_ALL = 0x3fc, DIR = 0x400, IS = 0x404, IBE = 0x408, IEV = 0x40c, IE = 0x410,
    RIS = 0x414, MIS = 0x418, IC = 0x41c, AFSEL = 0x420,
};
#define DATA(mask) ((uint32_t)(mask) << 2)

static const uint8_t pl061_id[8] = { 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
static const uint8_t luminary_id[8] = { 0x61, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1 };

/* Stellaris registers of pl061_luminary, with their reset values. */
enum {
    DR2R = 0x500, DR4R = 0x504, DR8R = 0x508, ODR = 0x50c, PUR = 0x510, PDR = 0x514,
    SLR = 0x518, DEN = 0x51c, LOCK = 0x520, CR = 0x524, AMSEL = 0x528,
};
#define UNLOCK_KEY 0x0acce551u
static const uint32_t lum_regs[] = { DR2R, DR4R, DR8R, ODR, PUR, PDR, SLR, DEN, AMSEL };
static const uint32_t lum_reset[] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0 };
#define N_LUM (sizeof(lum_regs) / sizeof(lum_regs[0]))

static int setup(void **state)
{
    *state = devtest_new("pl061", NULL);
    return 0;
}

static int setup_luminary(void **state)
{
    *state = devtest_new("pl061_luminary", NULL);
    return 0;
}

static uint32_t last_pins(DevTest *t)
{
    size_t n = devtest_count(t, MACH_EV_PINS);
    assert_true(n > 0);
    return devtest_event(t, MACH_EV_PINS, n - 1)->value;
}

static void test_reset_values(void **state)
{
    DevTest *t = *state;
    devtest_check_members("pl061");
    static const uint32_t zero[] = { DATA_ALL, DIR, IS, IBE, IEV, IE, RIS, MIS, IC, AFSEL, 0x500, 0x800 };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        assert_int_equal(devtest_read(t, zero[i]), 0);
    devtest_check_ids(t, pl061_id);
    assert_int_equal(devtest_irq(t), 0);
}

static void test_register_widths(void **state)
{
    DevTest *t = *state;
    static const uint32_t regs[] = { DIR, IS, IBE, IEV, IE, AFSEL };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        devtest_write(t, regs[i], 0xffffffffu);
        assert_int_equal(devtest_read(t, regs[i]), 0xff);
        devtest_write(t, regs[i], 0x5a);
        assert_int_equal(devtest_read(t, regs[i]), 0x5a);
    }
}

static void test_data_address_mask(void **state)
{
    DevTest *t = *state;
    devtest_write(t, DIR, 0xff);
    devtest_write(t, DATA(0x0f), 0xff);         /* only bits 0..3 change */
    assert_int_equal(devtest_read(t, DATA_ALL), 0x0f);
    devtest_write(t, DATA(0xf0), 0xaa);
    assert_int_equal(devtest_read(t, DATA_ALL), 0xaf);
    assert_int_equal(devtest_read(t, DATA(0x03)), 0x03);
    assert_int_equal(devtest_read(t, DATA(0x50)), 0x00);
    assert_int_equal(devtest_read(t, DATA(0x00)), 0x00);
    devtest_write(t, DATA(0x00), 0x00);         /* a write through mask 0 changes nothing */
    assert_int_equal(devtest_read(t, DATA_ALL), 0xaf);
    /* Writes do not reach input pins. */
    devtest_write(t, DIR, 0x0f);
    devtest_write(t, DATA_ALL, 0x00);
    assert_int_equal(devtest_read(t, DATA_ALL), 0xa0);
}

static void test_output_pins_reported(void **state)
{
    DevTest *t = *state;
    devtest_write(t, DIR, 0x81);
    assert_int_equal(devtest_count(t, MACH_EV_PINS), 1);
    assert_int_equal(last_pins(t), 0x8100);
    devtest_write(t, DATA_ALL, 0xff);
    assert_int_equal(last_pins(t), 0x8181);
    assert_int_equal(devtest_event(t, MACH_EV_PINS, 0)->channel, 0);
    devtest_write(t, DATA_ALL, 0xff);           /* no change, no report */
    assert_int_equal(devtest_count(t, MACH_EV_PINS), 2);
    devtest_write(t, DIR, 0x01);                /* pin 7 stops driving */
    assert_int_equal(last_pins(t), 0x0101);
    assert_int_equal(devtest_count(t, MACH_EV_PINS), 3);
}

static void test_input_pins(void **state)
{
    DevTest *t = *state;
    devtest_write(t, DIR, 0x0f);
    devtest_write(t, DATA_ALL, 0x05);
    devtest_input(t, 0, 0xff);                  /* offered to outputs too: ignored there */
    assert_int_equal(devtest_read(t, DATA_ALL), 0xf5);
    devtest_input(t, 0, 0x30);
    assert_int_equal(devtest_read(t, DATA_ALL), 0x35);
    assert_int_equal(devtest_read(t, DATA(0xf0)), 0x30);
}

static void test_edge_interrupts(void **state)
{
    DevTest *t = *state;
    devtest_write(t, IEV, 0x01);                /* pin 0 rising, pin 1 falling */
    devtest_write(t, IBE, 0x04);                /* pin 2 both */
    devtest_write(t, IE, 0x07);
    devtest_input(t, 0, 0x02);                  /* pin 1 up: not its edge */
    assert_int_equal(devtest_read(t, RIS), 0);
    devtest_input(t, 0, 0x01);                  /* pin 0 up, pin 1 down */
    assert_int_equal(devtest_read(t, RIS), 0x03);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, IC, 0x01);
    assert_int_equal(devtest_read(t, RIS), 0x02);
    devtest_write(t, IE, 0x01);
    assert_int_equal(devtest_read(t, MIS), 0x00);
    assert_int_equal(devtest_irq(t), 0);
    devtest_write(t, IC, 0xff);
    devtest_input(t, 0, 0x05);                  /* pin 2 up */
    devtest_input(t, 0, 0x01);                  /* pin 2 down */
    assert_int_equal(devtest_read(t, RIS), 0x04);
    devtest_write(t, IC, 0x04);
    assert_int_equal(devtest_read(t, RIS), 0);
}

static void test_level_interrupts(void **state)
{
    DevTest *t = *state;
    devtest_write(t, IS, 0x10);
    devtest_write(t, IEV, 0x10);                /* pin 4 high-level */
    devtest_write(t, IE, 0x10);
    assert_int_equal(devtest_read(t, RIS), 0);
    devtest_input(t, 0, 0x10);
    assert_int_equal(devtest_read(t, RIS), 0x10);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, IC, 0x10);                 /* a level cannot be cleared */
    assert_int_equal(devtest_read(t, RIS), 0x10);
    devtest_input(t, 0, 0x00);
    assert_int_equal(devtest_read(t, RIS), 0);
    assert_int_equal(devtest_irq(t), 0);
    devtest_write(t, IEV, 0x00);                /* low-level: true at once */
    assert_int_equal(devtest_read(t, RIS), 0x10);
}

/* The logic sees driven pins too, which is what guest firmware can test. */
static void test_output_pins_interrupt(void **state)
{
    DevTest *t = *state;
    devtest_write(t, DIR, 0xff);
    devtest_write(t, IEV, 0x80);
    devtest_write(t, IE, 0x80);
    devtest_write(t, DATA(0x80), 0x80);
    assert_int_equal(devtest_read(t, RIS), 0x80);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, IC, 0x80);
    assert_int_equal(devtest_irq(t), 0);
    devtest_write(t, DATA(0x80), 0x00);         /* falling: not selected */
    assert_int_equal(devtest_read(t, RIS), 0);
}

static void regs_snapshot(DevTest *t, uint32_t *out)
{
    static const uint32_t regs[] = { DATA_ALL, DIR, IS, IBE, IEV, IE, RIS, MIS, AFSEL };
    for (size_t i = 0; i < 9; i++)
        out[i] = devtest_read(t, regs[i]);
}

static void test_roundtrip(void **state)
{
    DevTest *a = *state;
    devtest_write(a, DIR, 0xf0);
    devtest_write(a, DATA_ALL, 0x5f);
    devtest_write(a, IS, 0x01);
    devtest_write(a, IEV, 0x03);
    devtest_write(a, IBE, 0x08);
    devtest_write(a, IE, 0x0b);
    devtest_write(a, AFSEL, 0x44);
    devtest_input(a, 0, 0x0a);
    DevTest *b = devtest_migrate(a);
    uint32_t ra[9], rb[9];
    regs_snapshot(a, ra);
    regs_snapshot(b, rb);
    assert_memory_equal(ra, rb, sizeof(ra));
    devtest_clear_events(a);
    static const uint32_t in[] = { 0x03, 0x01, 0x09, 0x00, 0x0f };
    for (size_t i = 0; i < 5; i++) {
        devtest_input(a, 0, in[i]);
        devtest_input(b, 0, in[i]);
        assert_int_equal(devtest_read(a, RIS), devtest_read(b, RIS));
    }
    devtest_same_irq_events(a, b);
    devtest_write(a, DATA_ALL, 0xa0);
    devtest_write(b, DATA_ALL, 0xa0);
    assert_int_equal(last_pins(a), last_pins(b));
    assert_int_equal(last_pins(b), 0xf0a0);
    devtest_free(b);
}

static void test_hostile_values(void **state)
{
    DevTest *t = *state;
    devtest_write(t, DIR, 0x0f);
    devtest_hostile(t, "dir", 0x100);
    devtest_hostile(t, "istate", 0xffffffffu);
    devtest_hostile(t, "data", 0x80000000u);
}

/* The plain PL061 ignores the Stellaris block: reads 0, writes change nothing. */
static void test_plain_ignores_luminary_block(void **state)
{
    DevTest *t = *state;
    for (size_t i = 0; i < N_LUM; i++) {
        devtest_write(t, lum_regs[i], 0x3c);
        assert_int_equal(devtest_read(t, lum_regs[i]), 0);
    }
    devtest_write(t, LOCK, UNLOCK_KEY);
    devtest_write(t, CR, 0x01);
    assert_int_equal(devtest_read(t, LOCK), 0);
    assert_int_equal(devtest_read(t, CR), 0);
    /* CR stays 0xff inside, so every AFSEL bit is writable. */
    devtest_write(t, AFSEL, 0xff);
    assert_int_equal(devtest_read(t, AFSEL), 0xff);
}

static void test_luminary_reset_and_ids(void **state)
{
    DevTest *t = *state;
    devtest_check_members("pl061_luminary");
    devtest_check_ids(t, luminary_id);
    for (size_t i = 0; i < N_LUM; i++)
        assert_int_equal(devtest_read(t, lum_regs[i]), lum_reset[i]);
    assert_int_equal(devtest_read(t, LOCK), 1);     /* locked at reset */
    assert_int_equal(devtest_read(t, CR), 0xff);
    assert_int_equal(devtest_read(t, AFSEL), 0);
    for (uint32_t off = 0xfd0; off < 0xfe0; off += 4)
        assert_int_equal(devtest_read(t, off), 0);
}

static void test_luminary_storage_registers(void **state)
{
    DevTest *t = *state;
    for (size_t i = 0; i < N_LUM; i++) {
        devtest_write(t, lum_regs[i], 0xffffff00u | (uint32_t)(0x11 * (i + 1)));
        assert_int_equal(devtest_read(t, lum_regs[i]), (0x11 * (i + 1)) & 0xff);
    }
    /* Pad settings do not move pins or raise interrupts in this model. */
    assert_int_equal(devtest_read(t, DATA_ALL), 0);
    assert_int_equal(devtest_read(t, RIS), 0);
}

static void test_luminary_lock_commit(void **state)
{
    DevTest *t = *state;
    /* Locked: CR ignores writes. */
    devtest_write(t, CR, 0x0f);
    assert_int_equal(devtest_read(t, CR), 0xff);
    /* Only the exact 32-bit key unlocks (not its low byte, not the CMSDK key). */
    devtest_write(t, LOCK, 0x51);
    assert_int_equal(devtest_read(t, LOCK), 1);
    devtest_write(t, LOCK, 0x1acce551u);
    assert_int_equal(devtest_read(t, LOCK), 1);
    devtest_write(t, LOCK, UNLOCK_KEY);
    assert_int_equal(devtest_read(t, LOCK), 0);
    devtest_write(t, CR, 0x10f);
    assert_int_equal(devtest_read(t, CR), 0x0f);
    /* CR masks AFSEL writes: bits outside it keep their value. */
    devtest_write(t, AFSEL, 0xff);
    assert_int_equal(devtest_read(t, AFSEL), 0x0f);
    devtest_write(t, CR, 0xf0);
    devtest_write(t, AFSEL, 0x00);
    assert_int_equal(devtest_read(t, AFSEL), 0x0f);
    devtest_write(t, AFSEL, 0xa0);
    assert_int_equal(devtest_read(t, AFSEL), 0xaf);
    /* Any other value locks again; CR is then frozen. */
    devtest_write(t, LOCK, 0);
    assert_int_equal(devtest_read(t, LOCK), 1);
    devtest_write(t, CR, 0xff);
    assert_int_equal(devtest_read(t, CR), 0xf0);
}

static void test_luminary_roundtrip(void **state)
{
    DevTest *a = *state;
    devtest_write(a, LOCK, UNLOCK_KEY);
    devtest_write(a, CR, 0x3c);
    for (size_t i = 0; i < N_LUM; i++)
        devtest_write(a, lum_regs[i], (uint32_t)(0x21 + 7 * i));
    devtest_write(a, AFSEL, 0xff);
    DevTest *b = devtest_migrate(a);
    static const uint32_t regs[] = { DR2R, DR4R, DR8R, ODR, PUR, PDR, SLR, DEN, LOCK, CR, AMSEL, AFSEL };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        assert_int_equal(devtest_read(b, regs[i]), devtest_read(a, regs[i]));
    assert_int_equal(devtest_read(b, LOCK), 0);
    assert_int_equal(devtest_read(b, AFSEL), 0x3c);
    /* The migrated copy is still a Luminary block. */
    devtest_check_ids(b, luminary_id);
    devtest_free(b);
}

static void test_luminary_hostile_values(void **state)
{
    DevTest *t = *state;
    devtest_hostile(t, "locked", 2);
    devtest_hostile(t, "cr", 0x100);
    devtest_hostile(t, "pur", 0xffffffffu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_register_widths, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_data_address_mask, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_output_pins_reported, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_input_pins, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_edge_interrupts, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_level_interrupts, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_output_pins_interrupt, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_values, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_plain_ignores_luminary_block, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_luminary_reset_and_ids, setup_luminary, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_luminary_storage_registers, setup_luminary, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_luminary_lock_commit, setup_luminary, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_luminary_roundtrip, setup_luminary, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_luminary_hostile_values, setup_luminary, devtest_teardown),
    };
    return cmocka_run_group_tests_name("pl061", tests, NULL, NULL);
}
