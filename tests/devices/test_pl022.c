/*
 * test_pl022.c - the PL022 SSP and the SPI NOR flash on its bus, as the
 * guest and the migration stream see them. The port's enable (CR1.SSE) is
 * the flash's chip select.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devtest.h"

enum { CR0 = 0x00, CR1 = 0x04, DR = 0x08, SR = 0x0c, CPSR = 0x10, IMSC = 0x14, RIS = 0x18,
       MIS = 0x1c, ICR = 0x20, DMACR = 0x24 };
#define LBM 1u
#define SSE 2u
#define TFE 1u
#define TNF 2u
#define RNE 4u
#define RFF 8u
#define BSY 16u
#define INT_RX 4u
#define INT_TX 8u

static DevTest *new_ssp(void)
{
    DevTest *t = devtest_new_with_slave("pl022", NULL, "spi-nor");
    devtest_write(t, CR0, 7);       /* 8-bit frames */
    return t;
}

static uint32_t xfer(DevTest *t, uint32_t out)
{
    devtest_write(t, DR, out);
    assert_true(devtest_read(t, SR) & RNE);
    return devtest_read(t, DR);
}

/* Select, send the bytes, keep selected. */
static void cmd(DevTest *t, const uint8_t *b, unsigned n)
{
    devtest_write(t, CR1, SSE);
    for (unsigned i = 0; i < n; i++)
        xfer(t, b[i]);
}

static void deselect(DevTest *t) { devtest_write(t, CR1, 0); }

static void wren(DevTest *t)
{
    cmd(t, (const uint8_t[]){ 0x06 }, 1);
    deselect(t);
}

static uint32_t rdsr(DevTest *t)
{
    cmd(t, (const uint8_t[]){ 0x05 }, 1);
    uint32_t v = xfer(t, 0);
    deselect(t);
    return v;
}

static void read_bytes(DevTest *t, uint32_t addr, uint8_t *buf, unsigned n)
{
    cmd(t, (const uint8_t[]){ 0x03, addr >> 16 & 0xff, addr >> 8 & 0xff, addr & 0xff }, 4);
    for (unsigned i = 0; i < n; i++)
        buf[i] = (uint8_t)xfer(t, 0);
    deselect(t);
}

static void program(DevTest *t, uint32_t addr, const uint8_t *buf, unsigned n)
{
    wren(t);
    cmd(t, (const uint8_t[]){ 0x02, addr >> 16 & 0xff, addr >> 8 & 0xff, addr & 0xff }, 4);
    for (unsigned i = 0; i < n; i++)
        xfer(t, buf[i]);
    deselect(t);
}

static void test_reset_values_and_ids(void **state)
{
    DevTest *t = devtest_new("pl022", NULL);
    static const uint8_t ids[8] = { 0x22, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
    devtest_check_ids(t, ids);
    devtest_check_members("pl022");
    devtest_check_members("spi-nor");
    assert_int_equal(devtest_read(t, CR0), 0);
    assert_int_equal(devtest_read(t, CR1), 0);
    assert_int_equal(devtest_read(t, SR), TFE | TNF);
    assert_int_equal(devtest_read(t, RIS), INT_TX);
    assert_int_equal(devtest_read(t, MIS), 0);
    assert_int_equal(devtest_read(t, DR), 0);
    devtest_write(t, CPSR, 0x1ff);
    assert_int_equal(devtest_read(t, CPSR), 0xff);
    devtest_write(t, DMACR, 3);
    assert_int_equal(devtest_read(t, DMACR), 0);
    devtest_free(t);
    (void)state;
}

/* Loopback: frames come back masked to DSS; a full receive FIFO stalls the
 * transmitter (QEMU's choice) instead of overrunning. */
static void test_loopback_fifos_and_interrupts(void **state)
{
    DevTest *t = new_ssp();
    devtest_write(t, CR0, 3);           /* 4-bit frames */
    devtest_write(t, CR1, LBM | SSE);
    devtest_write(t, IMSC, INT_RX);
    for (unsigned i = 0; i < 3; i++)
        devtest_write(t, DR, 0x10 | i);
    assert_int_equal(devtest_irq(t), 0);
    devtest_write(t, DR, 0x13);
    assert_int_equal(devtest_read(t, RIS) & INT_RX, INT_RX);
    assert_int_equal(devtest_irq(t), 1);
    for (unsigned i = 4; i < 10; i++)
        devtest_write(t, DR, 0x10 | i);
    assert_int_equal(devtest_read(t, SR), TNF | RNE | RFF | BSY);   /* 2 frames wait */
    assert_int_equal(devtest_read(t, DR), 0);
    assert_int_equal(devtest_read(t, SR), TNF | RNE | RFF | BSY);   /* one moved up */
    for (unsigned i = 1; i < 10; i++)
        assert_int_equal(devtest_read(t, DR), i & 0xf);
    assert_int_equal(devtest_read(t, SR), TFE | TNF);
    assert_int_equal(devtest_irq(t), 0);
    devtest_write(t, IMSC, INT_TX);
    assert_int_equal(devtest_irq(t), 1);
    assert_int_equal(devtest_read(t, MIS), INT_TX);
    /* With the port disabled nothing moves. */
    devtest_write(t, CR1, 0);
    devtest_write(t, DR, 5);
    assert_int_equal(devtest_read(t, SR), TNF | BSY);
    devtest_free(t);
    (void)state;
}

static void test_flash_id_status_and_write_latch(void **state)
{
    DevTest *t = new_ssp();
    cmd(t, (const uint8_t[]){ 0x9f }, 1);
    assert_int_equal(xfer(t, 0), 0x20);
    assert_int_equal(xfer(t, 0), 0x20);
    assert_int_equal(xfer(t, 0), 0x0c);
    assert_int_equal(xfer(t, 0), 0);
    deselect(t);
    assert_int_equal(rdsr(t), 0);
    wren(t);
    assert_int_equal(rdsr(t), 2);
    cmd(t, (const uint8_t[]){ 0x04 }, 1);
    deselect(t);
    assert_int_equal(rdsr(t), 0);
    devtest_free(t);
    (void)state;
}

static void test_flash_program_read_erase(void **state)
{
    DevTest *t = new_ssp();
    uint8_t buf[8];
    read_bytes(t, 0x100, buf, 4);
    assert_int_equal(buf[0] & buf[1] & buf[2] & buf[3], 0xff);     /* erased at power-on */
    /* A program without WREN changes nothing. */
    cmd(t, (const uint8_t[]){ 0x02, 0, 1, 0, 0x00 }, 5);
    deselect(t);
    read_bytes(t, 0x100, buf, 1);
    assert_int_equal(buf[0], 0xff);
    /* Programming ANDs into the page and wraps inside it; WEL ends with it. */
    program(t, 0x1fe, (const uint8_t[]){ 0x12, 0x34, 0x56 }, 3);
    assert_int_equal(rdsr(t), 0);
    read_bytes(t, 0x1fe, buf, 2);
    assert_int_equal(buf[0], 0x12);
    assert_int_equal(buf[1], 0x34);
    read_bytes(t, 0x100, buf, 1);
    assert_int_equal(buf[0], 0x56);
    program(t, 0x1fe, (const uint8_t[]){ 0xf0 }, 1);
    read_bytes(t, 0x1fe, buf, 1);
    assert_int_equal(buf[0], 0x10);
    /* FAST_READ: one dummy byte after the address; reads wrap at the end. */
    program(t, 0xfff, (const uint8_t[]){ 0xa5 }, 1);
    cmd(t, (const uint8_t[]){ 0x0b, 0, 0x0f, 0xff, 0 }, 5);
    assert_int_equal(xfer(t, 0), 0xa5);
    assert_int_equal(xfer(t, 0), 0xff);     /* address 0 */
    deselect(t);
    /* Sector erase (1 KiB) leaves the next sector alone; chip erase all. */
    program(t, 0x400, (const uint8_t[]){ 0x00 }, 1);
    wren(t);
    cmd(t, (const uint8_t[]){ 0x20, 0, 0x01, 0x23 }, 4);
    deselect(t);
    read_bytes(t, 0x1fe, buf, 1);
    assert_int_equal(buf[0], 0xff);
    read_bytes(t, 0x400, buf, 1);
    assert_int_equal(buf[0], 0x00);
    wren(t);
    cmd(t, (const uint8_t[]){ 0xc7 }, 1);
    deselect(t);
    read_bytes(t, 0x400, buf, 1);
    assert_int_equal(buf[0], 0xff);
    devtest_free(t);
    (void)state;
}

/* Saved in the middle of a command (two address bytes in), the target's
 * flash finishes it as the source's does. */
static void test_migrate_mid_command(void **state)
{
    DevTest *a = new_ssp();
    program(a, 0x345, (const uint8_t[]){ 0x77, 0x66 }, 2);
    cmd(a, (const uint8_t[]){ 0x03, 0x00, 0x03 }, 3);
    devtest_write(a, DR, 0x45);         /* the third address byte waits in the RX FIFO */
    DevTest *b = devtest_migrate(a);
    devtest_fixpoint(b);
    for (DevTest *t = a; t; t = t == a ? b : NULL) {
        assert_int_equal(devtest_read(t, DR), 0xff);
        assert_int_equal(xfer(t, 0), 0x77);
        assert_int_equal(xfer(t, 0), 0x66);
        deselect(t);
    }
    devtest_same_events(a, b);
    devtest_free(a);
    devtest_free(b);
    (void)state;
}

/* Hostile streams: FIFO indices and counts, and the flash's decoder state. */
static void test_hostile_streams(void **state)
{
    DevTest *t = new_ssp();
    devtest_write(t, CR1, LBM | SSE);
    devtest_write(t, DR, 1);
    devtest_hostile(t, "tx_fifo_head", 8);
    devtest_hostile(t, "rx_fifo_head", 0xffffffff);
    devtest_hostile(t, "tx_fifo_len", 9);
    devtest_hostile(t, "rx_fifo_len", 0xffffffff);
    devtest_write(t, CR1, 0);
    cmd(t, (const uint8_t[]){ 0x03, 0x00 }, 2);
    devtest_hostile(t, "state", 8);
    devtest_hostile(t, "addr_count", 4);
    devtest_hostile(t, "addr", 0x100);     /* more than one address byte's worth */
    devtest_hostile(t, "id_pos", 4);
    devtest_hostile(t, "status", 0x80);
    devtest_hostile(t, "selected", 0);     /* a deselected part mid-command */
    devtest_free(t);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values_and_ids),
        cmocka_unit_test(test_loopback_fifos_and_interrupts),
        cmocka_unit_test(test_flash_id_status_and_write_latch),
        cmocka_unit_test(test_flash_program_read_erase),
        cmocka_unit_test(test_migrate_mid_command),
        cmocka_unit_test(test_hostile_streams),
    };
    return cmocka_run_group_tests_name("dev_pl022", tests, NULL, NULL);
}
