/* test_pl011.c - the PL011 UART model, register by register (DDI0183). */
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devtest.h"

enum {
    DR = 0x000, RSR = 0x004, FR = 0x018, ILPR = 0x020, IBRD = 0x024, FBRD = 0x028,
    LCR_H = 0x02c, CR = 0x030, IFLS = 0x034, IMSC = 0x038, RIS = 0x03c, MIS = 0x040,
    ICR = 0x044, DMACR = 0x048,
};
#define FR_RXFE 0x10u
#define FR_RXFF 0x40u
#define FR_TXFE 0x80u
#define CR_ON 0x301u            /* UARTEN | TXE | RXE */
#define CR_LBE 0x80u
#define LCRH_FEN 0x10u
#define INT_RX 0x10u
#define INT_TX 0x20u
#define INT_RT 0x40u
#define INT_OE 0x400u

static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static int setup(void **state)
{
    *state = devtest_new("pl011", NULL);
    return 0;
}

static void test_reset_values(void **state)
{
    DevTest *t = *state;
    devtest_check_members("pl011");
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFE);
    assert_int_equal(devtest_read(t, CR), 0x300);
    assert_int_equal(devtest_read(t, IFLS), 0x12);
    static const uint32_t zero[] = { RSR, ILPR, IBRD, FBRD, LCR_H, IMSC, RIS, MIS, DMACR, ICR, 0x04c, 0x800 };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        assert_int_equal(devtest_read(t, zero[i]), 0);
    devtest_check_ids(t, pl011_id);
    assert_int_equal(devtest_irq(t), 0);
}

static void test_register_widths(void **state)
{
    DevTest *t = *state;
    static const struct { uint32_t off, mask; } regs[] = {
        { ILPR, 0xff }, { IBRD, 0xffff }, { FBRD, 0x3f }, { LCR_H, 0xff }, { CR, 0xff87 },
        { IFLS, 0x3f }, { IMSC, 0x7ff }, { DMACR, 0x7 },
    };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        devtest_write(t, regs[i].off, 0xffffffffu);
        assert_int_equal(devtest_read(t, regs[i].off), regs[i].mask);
        devtest_write(t, regs[i].off, 0);
        assert_int_equal(devtest_read(t, regs[i].off), 0);
    }
    /* Read-only registers ignore writes. */
    devtest_write(t, FR, 0);
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFE);
    devtest_write(t, RIS, 0x7ff);
    assert_int_equal(devtest_read(t, RIS), 0);
    /* Narrow reads see byte lanes. */
    devtest_write(t, IBRD, 0x1234);
    assert_int_equal(devtest_read_n(t, IBRD, 1), 0x34);
    assert_int_equal(devtest_read_n(t, IBRD + 1, 1), 0x12);
    assert_int_equal(devtest_read_n(t, IBRD, 2), 0x1234);
}

static void test_transmit(void **state)
{
    DevTest *t = *state;
    /* UARTEN is clear at reset: nothing leaves. */
    devtest_write(t, DR, 'x');
    assert_int_equal(devtest_count(t, MACH_EV_DATA), 0);
    assert_int_equal(devtest_read(t, RIS), 0);

    devtest_write(t, CR, CR_ON);
    devtest_write(t, DR, 0x141);        /* only the low byte is data */
    devtest_write(t, DR, 'B');
    assert_int_equal(devtest_count(t, MACH_EV_DATA), 2);
    assert_int_equal(devtest_event(t, MACH_EV_DATA, 0)->value, 'A');
    assert_int_equal(devtest_event(t, MACH_EV_DATA, 0)->channel, 0);
    assert_int_equal(devtest_event(t, MACH_EV_DATA, 1)->value, 'B');
    assert_int_equal(devtest_read(t, FR) & (FR_TXFE | 0x20 | 0x08), FR_TXFE);
    assert_int_equal(devtest_read(t, RIS), INT_TX);
    assert_int_equal(devtest_read(t, MIS), 0);
    assert_int_equal(devtest_irq(t), 0);

    devtest_write(t, IMSC, INT_TX);
    assert_int_equal(devtest_read(t, MIS), INT_TX);
    assert_int_equal(devtest_irq(t), 1);
    devtest_write(t, ICR, INT_TX);
    assert_int_equal(devtest_read(t, RIS), 0);
    assert_int_equal(devtest_irq(t), 0);

    /* TXE off: the transmitter is disabled. */
    devtest_write(t, CR, CR_ON & ~0x100u);
    devtest_write(t, DR, 'C');
    assert_int_equal(devtest_count(t, MACH_EV_DATA), 2);
    assert_int_equal(devtest_irq(t), 0);
}

static void test_receive_holding_register(void **state)
{
    DevTest *t = *state;
    devtest_input(t, 0, 'q');           /* receiver off: dropped */
    assert_int_equal(devtest_read(t, FR) & FR_RXFE, FR_RXFE);

    devtest_write(t, CR, CR_ON);
    devtest_write(t, IMSC, INT_RX | INT_OE);
    devtest_input(t, 0, 'a');
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFF);
    assert_int_equal(devtest_read(t, RIS), INT_RX);     /* trigger is one character */
    assert_int_equal(devtest_irq(t), 1);

    devtest_input(t, 0, 'b');           /* no room: overrun, 'b' is lost */
    assert_int_equal(devtest_read(t, RSR), 0x8);
    assert_int_equal(devtest_read(t, RIS), INT_RX | INT_OE);
    assert_int_equal(devtest_read(t, DR), 'a');
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFE);
    assert_int_equal(devtest_read(t, RIS), INT_OE);
    devtest_write(t, RSR, 0);           /* ECR: clears the error */
    assert_int_equal(devtest_read(t, RSR), 0);
    devtest_write(t, ICR, 0x7ff);
    assert_int_equal(devtest_read(t, RIS), 0);
    assert_int_equal(devtest_irq(t), 0);
}

static void test_receive_fifo(void **state)
{
    DevTest *t = *state;
    devtest_write(t, CR, CR_ON);
    devtest_write(t, LCR_H, LCRH_FEN | 0x60);   /* 8 bits, FIFO on */
    devtest_write(t, IMSC, INT_RX | INT_RT);
    /* IFLS reset value 0x12: RX at 1/2 full = 8 characters. */
    for (int i = 0; i < 7; i++)
        devtest_input(t, 0, 'A' + i);
    assert_int_equal(devtest_read(t, RIS), INT_RT);    /* below the trigger: timeout */
    assert_int_equal(devtest_irq(t), 1);
    devtest_input(t, 0, 'H');
    assert_int_equal(devtest_read(t, RIS), INT_RX | INT_RT);
    for (int i = 8; i < 16; i++)
        devtest_input(t, 0, 'A' + i);
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFF);
    devtest_input(t, 0, '!');           /* 17th: overrun */
    assert_int_equal(devtest_read(t, RIS) & INT_OE, INT_OE);
    assert_int_equal(devtest_read(t, RSR), 0x8);
    devtest_write(t, ICR, INT_OE);

    for (int i = 0; i < 9; i++)
        assert_int_equal(devtest_read(t, DR), 'A' + i);
    /* 7 left: below the trigger, so RX drops; RT stays until the FIFO empties. */
    assert_int_equal(devtest_read(t, RIS), INT_RT);
}

static void test_fifo_trigger_and_drain(void **state)
{
    DevTest *t = *state;
    devtest_write(t, CR, CR_ON);
    devtest_write(t, LCR_H, LCRH_FEN);
    devtest_write(t, IFLS, 0x08);       /* RX at 1/4 full = 4 characters */
    devtest_write(t, IMSC, INT_RX);
    for (int i = 0; i < 4; i++)
        devtest_input(t, 0, '0' + i);
    assert_int_equal(devtest_read(t, RIS), INT_RX | INT_RT);
    assert_int_equal(devtest_irq(t), 1);
    assert_int_equal(devtest_read(t, DR), '0');     /* 3 left: below trigger */
    assert_int_equal(devtest_read(t, RIS), INT_RT);
    assert_int_equal(devtest_irq(t), 0);
    for (int i = 1; i < 4; i++)
        assert_int_equal(devtest_read(t, DR), '0' + i);
    assert_int_equal(devtest_read(t, RIS), 0);      /* empty: timeout ends too */
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFE);

    /* Wrap-around: positions run modulo 16. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 11; i++)
            devtest_input(t, 0, (uint8_t)(round * 16 + i));
        for (int i = 0; i < 11; i++)
            assert_int_equal(devtest_read(t, DR), round * 16 + i);
    }
    /* Turning the FIFO off flushes it. */
    devtest_input(t, 0, 'z');
    devtest_write(t, LCR_H, 0);
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFE);
    assert_int_equal(devtest_read(t, RIS) & (INT_RX | INT_RT), 0);
}

static void test_loopback(void **state)
{
    DevTest *t = *state;
    devtest_write(t, CR, CR_ON | CR_LBE);
    devtest_write(t, DR, 'L');
    assert_int_equal(devtest_count(t, MACH_EV_DATA), 0);
    assert_int_equal(devtest_read(t, RIS), INT_TX | INT_RX);
    devtest_input(t, 0, 'e');           /* the external line is disconnected */
    assert_int_equal(devtest_read(t, DR), 'L');
    assert_int_equal(devtest_read(t, FR), FR_TXFE | FR_RXFE);
}

/* Read every register that has no side effect. */
static void regs_snapshot(DevTest *t, uint32_t *out)
{
    static const uint32_t regs[] = { RSR, FR, ILPR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, RIS, MIS, DMACR };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        out[i] = devtest_read(t, regs[i]);
}

static void test_roundtrip_mid_fifo(void **state)
{
    DevTest *a = *state;
    devtest_write(a, CR, CR_ON);
    devtest_write(a, LCR_H, LCRH_FEN | 0x60);
    devtest_write(a, IBRD, 13);
    devtest_write(a, FBRD, 1);
    devtest_write(a, IMSC, INT_RX | INT_RT | INT_OE);
    for (int i = 0; i < 14; i++)        /* move read_pos off zero */
        devtest_input(a, 0, 'a' + i);
    for (int i = 0; i < 12; i++)
        (void)devtest_read(a, DR);
    for (int i = 0; i < 9; i++)         /* then wrap the write position */
        devtest_input(a, 0, 'A' + i);
    int irq_a = devtest_irq(a);
    assert_int_equal(irq_a, 1);

    DevTest *b = devtest_migrate(a);
    devtest_clear_events(a);
    uint32_t ra[12], rb[12];
    regs_snapshot(a, ra);
    regs_snapshot(b, rb);
    assert_memory_equal(ra, rb, sizeof(ra));
    /* Same continuation: the same bytes, the same overrun at the same point. */
    for (int i = 0; i < 8; i++) {
        devtest_input(a, 0, '0' + i);
        devtest_input(b, 0, '0' + i);
    }
    for (int i = 0; i < 17; i++)
        assert_int_equal(devtest_read(a, DR), devtest_read(b, DR));
    regs_snapshot(a, ra);
    regs_snapshot(b, rb);
    assert_memory_equal(ra, rb, sizeof(ra));
    devtest_write(a, DR, 'z');
    devtest_write(b, DR, 'z');
    assert_int_equal(devtest_event(b, MACH_EV_DATA, 0)->value, 'z');
    /* The loaded twin's line moves exactly as the original's. */
    devtest_same_irq_events(a, b);
    devtest_free(b);
}

static void test_hostile_indices(void **state)
{
    DevTest *t = *state;
    devtest_write(t, CR, CR_ON);
    devtest_write(t, LCR_H, LCRH_FEN);
    for (int i = 0; i < 5; i++)
        devtest_input(t, 0, 'h');
    (void)devtest_read(t, DR);
    /* The rejection names the member in the field slot, with the value and
     * its declared range. */
    VmsError err;
    devtest_hostile_error(t, "read_pos", 16, &err);
    assert_string_equal(err.field, "read_pos");
    assert_non_null(strstr(err.msg, "field 'read_pos' of 'pl011': value 16 outside 0..15"));
    devtest_hostile(t, "read_pos", 0xffffffffu);        /* -1 */
    devtest_hostile(t, "read_pos", 0x80000000u);
    devtest_hostile(t, "read_count", 17);
    devtest_hostile(t, "read_count", 0xfffffff0u);
    devtest_hostile(t, "read_trigger", 0);
    devtest_hostile(t, "read_trigger", 17);
    devtest_hostile(t, "read_trigger", 0xffffffffu);
}

/* With the FIFO disabled the model keeps one character in slot 0 and
 * read_pos at 0, which the guest cannot change; streams can say otherwise
 * and must still load to a state that saves back to itself (fixpoint) and
 * reads the right character. */
static void held_char_survives(DevTest *b, uint32_t expect)
{
    devtest_fixpoint(b);
    assert_int_equal(devtest_read(b, FR) & FR_RXFE, 0);
    assert_int_equal(devtest_read(b, DR), expect);
    assert_int_equal(devtest_read(b, FR) & FR_RXFE, FR_RXFE);
    devtest_fixpoint(b);
    devtest_free(b);
}

/* An empty holding register with read_pos = 5 (QEMU accepts any value
 * below 16). Found by fuzz_load: the next character went to slot 5, and a
 * save and load moved it to slot 0, so the reloaded stream differed. */
static void test_loaded_empty_holding_register_read_pos(void **state)
{
    DevTest *a = *state;
    devtest_write(a, CR, CR_ON);        /* LCR_H.FEN clear: the holding register */
    DevTest *b = devtest_migrate_patched(a, "read_pos", 5);
    devtest_input(b, 0, 'q');
    held_char_survives(b, 'q');
}

/* Older writers left the held character at read_pos rather than slot 0:
 * a FIFO that held "f" at slot 5 when FEN was cleared. */
static void test_loaded_held_char_at_read_pos(void **state)
{
    DevTest *a = *state;
    devtest_write(a, CR, CR_ON);
    devtest_write(a, LCR_H, LCRH_FEN);
    for (int i = 0; i < 6; i++)
        devtest_input(a, 0, 'a' + i);
    for (int i = 0; i < 5; i++)
        (void)devtest_read(a, DR);      /* read_pos 5, read_count 1 */
    held_char_survives(devtest_migrate_patched(a, "lcr", 0), 'f');
}

/* UARTTCR/UARTITOP (release 1.1) read back and migrate in the subsection
 * pl011/test-registers; with "test-registers" off (vmstress-m0-1.0) they
 * read as zero and no subsection is sent. */
static void test_test_registers(void **state)
{
    DevTest *t = *state;
    devtest_write(t, 0x080, 0xff);
    devtest_write(t, 0x088, 0x12345);
    assert_int_equal(devtest_read(t, 0x080), 7);
    assert_int_equal(devtest_read(t, 0x088), 0x2345);
    DevTest *u = devtest_migrate(t);
    assert_int_equal(devtest_read(u, 0x080), 7);
    assert_int_equal(devtest_read(u, 0x088), 0x2345);
    devtest_free(u);

    static const DevProp old[] = { { "test-registers", 0 }, { NULL, 0 } };
    DevTest *o = devtest_new("pl011", old);
    devtest_write(o, 0x080, 7);
    devtest_write(o, 0x088, 0xffff);
    assert_int_equal(devtest_read(o, 0x080), 0);
    assert_int_equal(devtest_read(o, 0x088), 0);
    size_t len, at = 0;
    uint8_t *b = devtest_save(o, &len, NULL);
    static const char sub[] = "pl011/test-registers";
    while (at + sizeof(sub) - 1 <= len && memcmp(b + at, sub, sizeof(sub) - 1) != 0)
        at++;
    /* devtest_save writes no trailer: the name would be the subsection's. */
    assert_true(at + sizeof(sub) - 1 > len);
    free(b);
    devtest_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_test_registers, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_register_widths, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_transmit, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_receive_holding_register, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_receive_fifo, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_fifo_trigger_and_drain, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_loopback, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_mid_fifo, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_indices, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_loaded_empty_holding_register_read_pos, setup,
                                        devtest_teardown),
        cmocka_unit_test_setup_teardown(test_loaded_held_char_at_read_pos, setup, devtest_teardown),
    };
    return cmocka_run_group_tests_name("pl011", tests, NULL, NULL);
}
