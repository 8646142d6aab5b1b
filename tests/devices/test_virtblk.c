/* test_virtblk.c - vmstress-virtblk: registers, the virtqueue in guest RAM,
 * requests over virtual time, and requests in flight across migration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devtest.h"

enum {
    MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c, DEV_FEATURES = 0x010,
    DRV_FEATURES = 0x020, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_READY = 0x044,
    QUEUE_NOTIFY = 0x050, INT_STATUS = 0x060, INT_ACK = 0x064, STATUS = 0x070, DESC = 0x080,
    DESC_HI = 0x084, AVAIL = 0x090, USED = 0x0a0, CAPACITY = 0x100,
};
enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_NEEDS_RESET = 0x40 };
enum { F_FLUSH = 1 << 9, D_NEXT = 1, D_WRITE = 2, T_IN = 0, T_OUT = 1, T_FLUSH = 4 };

/* The rings and buffers in the test board's 4 KiB of SRAM. */
#define RAM 0x20000000u
#define RING_DESC (RAM + 0x000)
#define RING_AVAIL (RAM + 0x100)
#define RING_USED (RAM + 0x200)
#define HDR(k) (RAM + 0x300 + 16u * (k))
#define STAT(k) (RAM + 0x380 + (k))
#define DATA(k) (RAM + 0x400 + 0x400u * (k))
#define QN 8u
/* One request of n sectors takes 30 us + 10 us per sector (3000 + 1000 n cycles). */
#define US 100u

static void ram_write(DevTest *t, uint32_t addr, unsigned size, uint32_t v)
{
    assert_true(mach_bus_write(t->m, addr, size, v));
}

static uint32_t ram_read(DevTest *t, uint32_t addr, unsigned size)
{
    uint32_t v = 0;
    assert_true(mach_bus_read(t->m, addr, size, &v));
    return v;
}

static void set_desc(DevTest *t, unsigned i, uint32_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint32_t d = RING_DESC + 16u * i;
    ram_write(t, d, 4, addr);
    ram_write(t, d + 4, 4, 0);
    ram_write(t, d + 8, 4, len);
    ram_write(t, d + 12, 2, flags);
    ram_write(t, d + 14, 2, next);
}

/* Negotiate and start a queue of QN entries. */
static void start(DevTest *t)
{
    devtest_write(t, STATUS, S_ACK | S_DRIVER);
    devtest_write(t, DRV_FEATURES, F_FLUSH);
    devtest_write(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    devtest_write(t, QUEUE_NUM, QN);
    devtest_write(t, DESC, RING_DESC);
    devtest_write(t, AVAIL, RING_AVAIL);
    devtest_write(t, USED, RING_USED);
    devtest_write(t, QUEUE_READY, 1);
    assert_int_equal(devtest_read(t, QUEUE_READY), 1);
    devtest_write(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/*
 * Request slot k (descriptors 4k..4k+3): header, `nseg` data buffers of
 * `seglen` bytes at DATA(k), status byte; published in the available ring
 * but not notified.
 */
static void post(DevTest *t, unsigned k, uint32_t type, uint32_t sector, unsigned nseg, uint32_t seglen)
{
    unsigned d = 4 * k;
    ram_write(t, HDR(k), 4, type);
    ram_write(t, HDR(k) + 4, 4, 0);
    ram_write(t, HDR(k) + 8, 4, sector);
    ram_write(t, HDR(k) + 12, 4, 0);
    ram_write(t, STAT(k), 1, 0xff);
    set_desc(t, d, HDR(k), 16, D_NEXT, (uint16_t)(d + 1));
    for (unsigned s = 0; s < nseg; s++)
        set_desc(t, d + 1 + s, DATA(k) + s * seglen, seglen, D_NEXT | (type == T_IN ? D_WRITE : 0),
                 (uint16_t)(d + 2 + s));
    set_desc(t, d + 1 + nseg, STAT(k), 1, D_WRITE, 0);
    uint32_t idx = ram_read(t, RING_AVAIL + 2, 2);
    ram_write(t, RING_AVAIL + 4 + 2 * (idx % QN), 2, d);
    ram_write(t, RING_AVAIL + 2, 2, (idx + 1) & 0xffff);
}

static void submit(DevTest *t, unsigned k, uint32_t type, uint32_t sector, unsigned nseg, uint32_t seglen)
{
    post(t, k, type, sector, nseg, seglen);
    devtest_write(t, QUEUE_NOTIFY, 0);
}

static void fill(DevTest *t, uint32_t addr, uint32_t len, uint8_t seed)
{
    for (uint32_t i = 0; i < len; i++)
        ram_write(t, addr + i, 1, (uint8_t)(seed + i * 7));
}

static void check_fill(DevTest *t, uint32_t addr, uint32_t len, uint8_t seed)
{
    for (uint32_t i = 0; i < len; i++)
        assert_int_equal(ram_read(t, addr + i, 1), (uint8_t)(seed + i * 7));
}

static uint32_t used_idx(DevTest *t) { return ram_read(t, RING_USED + 2, 2); }

static int setup(void **state)
{
    *state = devtest_new("vmstress-virtblk", NULL);
    return 0;
}

static void test_reset_values(void **state)
{
    DevTest *t = *state;
    devtest_check_members("vmstress-virtblk");
    assert_int_equal(devtest_read(t, MAGIC), 0x74726976u);
    assert_int_equal(devtest_read(t, VERSION), 2);
    assert_int_equal(devtest_read(t, DEVICE_ID), 2);
    assert_int_equal(devtest_read(t, VENDOR_ID), 0x54534d56u);
    assert_int_equal(devtest_read(t, DEV_FEATURES), F_FLUSH);
    assert_int_equal(devtest_read(t, QUEUE_NUM_MAX), QN);
    assert_int_equal(devtest_read(t, CAPACITY), 128);
    static const uint32_t zero[] = { DRV_FEATURES, QUEUE_NUM, QUEUE_READY, INT_STATUS, STATUS,
                                     DESC, DESC_HI, AVAIL, USED, CAPACITY + 4, 0xffc };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        assert_int_equal(devtest_read(t, zero[i]), 0);
    assert_int_equal(devtest_irq(t), 0);
}

static void test_register_widths(void **state)
{
    DevTest *t = *state;
    assert_int_equal(devtest_read_n(t, MAGIC, 1), 'v');
    assert_int_equal(devtest_read_n(t, MAGIC + 2, 2), 0x7472);
    /* Narrow writes are ignored; word writes take. */
    devtest_write_n(t, QUEUE_NUM, 4, 1);
    devtest_write_n(t, QUEUE_NUM, 4, 2);
    assert_int_equal(devtest_read(t, QUEUE_NUM), 0);
    devtest_write(t, QUEUE_NUM, 4);
    assert_int_equal(devtest_read(t, QUEUE_NUM), 4);
    /* Read-only registers ignore writes. */
    devtest_write(t, MAGIC, 0);
    devtest_write(t, CAPACITY, 1);
    assert_int_equal(devtest_read(t, MAGIC), 0x74726976u);
    assert_int_equal(devtest_read(t, CAPACITY), 128);
}

static void test_features_and_queue_setup(void **state)
{
    DevTest *t = *state;
    devtest_write(t, STATUS, S_ACK | S_DRIVER);
    devtest_write(t, DRV_FEATURES, F_FLUSH | 1);      /* bit 0 is not offered */
    devtest_write(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    assert_int_equal(devtest_read(t, STATUS), S_ACK | S_DRIVER);
    devtest_write(t, DRV_FEATURES, F_FLUSH);
    devtest_write(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    assert_int_equal(devtest_read(t, STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
    /* Once FEATURES_OK is set, the features stay; NEEDS_RESET is not the driver's to set. */
    devtest_write(t, DRV_FEATURES, 0);
    assert_int_equal(devtest_read(t, DRV_FEATURES), F_FLUSH);
    devtest_write(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_NEEDS_RESET);
    assert_int_equal(devtest_read(t, STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
    /* Sizes: powers of two up to 8. */
    static const uint32_t bad[] = { 0, 3, 6, 9, 16, 0x10004 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        devtest_write(t, QUEUE_NUM, bad[i]);
        assert_int_equal(devtest_read(t, QUEUE_NUM), 0);
    }
    devtest_write(t, QUEUE_NUM, 8);
    /* Not ready without aligned ring addresses. */
    devtest_write(t, QUEUE_READY, 1);
    assert_int_equal(devtest_read(t, QUEUE_READY), 0);
    devtest_write(t, DESC, RING_DESC + 8);
    devtest_write(t, AVAIL, RING_AVAIL);
    devtest_write(t, USED, RING_USED);
    devtest_write(t, QUEUE_READY, 1);
    assert_int_equal(devtest_read(t, QUEUE_READY), 0);
    devtest_write(t, DESC, RING_DESC);
    devtest_write(t, QUEUE_READY, 1);
    assert_int_equal(devtest_read(t, QUEUE_READY), 1);
    /* Addresses and size are frozen while the queue runs. */
    devtest_write(t, DESC, RAM + 0x800);
    devtest_write(t, QUEUE_NUM, 4);
    assert_int_equal(devtest_read(t, DESC), RING_DESC);
    assert_int_equal(devtest_read(t, QUEUE_NUM), 8);
    /* Status 0 resets everything but the image. */
    devtest_write(t, STATUS, 0);
    assert_int_equal(devtest_read(t, QUEUE_READY), 0);
    assert_int_equal(devtest_read(t, QUEUE_NUM), 0);
    assert_int_equal(devtest_read(t, DESC), 0);
    assert_int_equal(devtest_read(t, DRV_FEATURES), 0);
}

static void test_write_then_read(void **state)
{
    DevTest *t = *state;
    start(t);
    fill(t, DATA(0), 1024, 0x11);
    submit(t, 0, T_OUT, 3, 2, 512);         /* two sectors, two buffers */
    /* In flight: nothing until 30 us + 2 x 10 us. */
    devtest_idle(t, 50 * US - 1);
    assert_int_equal(used_idx(t), 0);
    assert_int_equal(ram_read(t, STAT(0), 1), 0xff);
    assert_int_equal(devtest_irq(t), 0);
    devtest_idle(t, 1);
    assert_int_equal(used_idx(t), 1);
    assert_int_equal(ram_read(t, STAT(0), 1), 0);
    assert_int_equal(ram_read(t, RING_USED + 4, 4), 0);        /* id: the head */
    assert_int_equal(ram_read(t, RING_USED + 8, 4), 1);        /* len: the status byte */
    assert_int_equal(devtest_irq(t), 1);
    assert_int_equal(devtest_read(t, INT_STATUS), 1);
    devtest_write(t, INT_ACK, 1);
    assert_int_equal(devtest_read(t, INT_STATUS), 0);
    assert_int_equal(devtest_irq(t), 0);
    /* Read sector 4 (the second written) back over the buffers, 4 x 128 bytes. */
    fill(t, DATA(0), 1024, 0);
    submit(t, 0, T_IN, 4, 4, 128);
    devtest_idle(t, 40 * US);
    assert_int_equal(used_idx(t), 2);
    assert_int_equal(ram_read(t, STAT(0), 1), 0);
    assert_int_equal(ram_read(t, RING_USED + 12, 4), 0);
    assert_int_equal(ram_read(t, RING_USED + 16, 4), 513);
    check_fill(t, DATA(0), 512, (uint8_t)(0x11 + 512 * 7));
    /* A flush completes with status 0 and no data. */
    submit(t, 0, T_FLUSH, 0, 0, 0);
    devtest_idle(t, 30 * US);
    assert_int_equal(used_idx(t), 3);
    assert_int_equal(ram_read(t, STAT(0), 1), 0);
}

static void test_error_status(void **state)
{
    DevTest *t = *state;
    start(t);
    submit(t, 0, T_IN, 128, 1, 512);        /* past the end */
    devtest_idle(t, 30 * US);
    assert_int_equal(ram_read(t, STAT(0), 1), 1);
    assert_int_equal(ram_read(t, RING_USED + 8, 4), 1);
    submit(t, 0, T_OUT, 0, 1, 100);         /* not whole sectors */
    devtest_idle(t, 30 * US);
    assert_int_equal(ram_read(t, STAT(0), 1), 1);
    submit(t, 0, 7, 0, 0, 0);               /* unknown type */
    devtest_idle(t, 30 * US);
    assert_int_equal(ram_read(t, STAT(0), 1), 2);
    /* A buffer the device cannot reach: an I/O error at completion. */
    post(t, 0, T_IN, 0, 1, 512);
    set_desc(t, 1, 0x30000000u, 512, D_NEXT | D_WRITE, 2);
    devtest_write(t, QUEUE_NOTIFY, 0);
    devtest_idle(t, 40 * US);
    assert_int_equal(ram_read(t, STAT(0), 1), 1);
    assert_int_equal(used_idx(t), 4);
    assert_int_equal(devtest_read(t, STATUS) & S_NEEDS_RESET, 0);
}

static void test_malformed_chain_needs_reset(void **state)
{
    DevTest *t = *state;
    start(t);
    post(t, 0, T_OUT, 0, 1, 512);
    set_desc(t, 2, STAT(0), 1, D_NEXT | D_WRITE, 0);    /* the chain loops */
    devtest_write(t, QUEUE_NOTIFY, 0);
    assert_int_equal(devtest_read(t, STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);
    devtest_idle(t, 100 * US);
    assert_int_equal(used_idx(t), 0);
    /* Stopped until the driver resets the device. */
    submit(t, 1, T_FLUSH, 0, 0, 0);
    devtest_idle(t, 100 * US);
    assert_int_equal(used_idx(t), 0);
    devtest_write(t, STATUS, 0);
    assert_int_equal(devtest_read(t, STATUS), 0);
}

static void test_roundtrip_in_flight(void **state)
{
    DevTest *a = *state;
    start(a);
    fill(a, DATA(0), 512, 0x40);
    fill(a, DATA(1), 1024, 0x80);
    submit(a, 0, T_OUT, 7, 1, 512);
    submit(a, 1, T_OUT, 8, 2, 512);
    post(a, 0, T_FLUSH, 0, 0, 0);       /* published, not yet taken */
    devtest_idle(a, 20 * US);                   /* both writes still in flight */
    assert_int_equal(used_idx(a), 0);
    devtest_fixpoint(a);
    devtest_clear_events(a);
    DevTest *b = devtest_migrate(a);
    devtest_clear_events(b);
    /* Both complete the writes at the same instants, then take the flush. */
    devtest_write(a, QUEUE_NOTIFY, 0);
    devtest_write(b, QUEUE_NOTIFY, 0);
    devtest_idle(a, 200 * US);
    devtest_idle(b, 200 * US);
    assert_int_equal(used_idx(b), 3);
    devtest_same_irq_events(a, b);
    devtest_same_events(a, b);
    /* The image came across: read sector 8 back on b. */
    fill(b, DATA(1), 512, 0);
    submit(b, 1, T_IN, 8, 1, 512);
    devtest_idle(b, 40 * US);
    check_fill(b, DATA(1), 512, 0x80);
    devtest_free(b);
    /* The image went up to the end of sector 9; its length must be whole
     * sectors and within the image. */
    devtest_hostile(a, "len", 100);
    devtest_hostile(a, "len", 0x10200);
}

static void test_hostile_in_flight(void **state)
{
    DevTest *t = *state;
    start(t);
    submit(t, 0, T_OUT, 7, 1, 512);
    submit(t, 1, T_IN, 8, 2, 256);
    devtest_idle(t, 10 * US);
    /* The count past the queue size: refused by the validator, one line
     * naming the field, its value and its declared range. */
    VmsError err;
    devtest_hostile_error(t, "n_inflight", 9, &err);
    assert_string_equal(err.field, "n_inflight");
    char line[VMS_ERROR_LINE_MAX];
    vms_error_format(&err, line, sizeof(line));
    assert_null(strchr(line, '\n'));
    assert_non_null(strstr(err.msg, "n_inflight 9 out of range [0, 8]"));
    assert_non_null(strstr(err.msg, "field 'n_inflight' of 'vmstress-virtblk': value 9 outside 0..8"));
    devtest_hostile(t, "n_inflight", 0xffffffffu);
    devtest_hostile(t, "n_inflight", 3);            /* inside the bound, not the ring's 2 */
    devtest_hostile(t, "last_avail_idx", 5);
    devtest_hostile(t, "queue_num", 16);
    devtest_hostile(t, "queue_num", 3);
    devtest_hostile(t, "queue_ready", 2);
    devtest_hostile(t, "status", 0x100);
    devtest_hostile(t, "isr", 2);
    devtest_hostile(t, "req[0].nseg", 5);
    devtest_hostile(t, "req[0].sector", 128);
    devtest_hostile(t, "req[1].seg_len[0]", 0x10001);
    devtest_hostile(t, "req[1].result", 3);
    devtest_hostile(t, "req[1].done_ns", 0x8000000000000000ull);
}

/* A smaller queue bounds the count lower: 4 in flight is too many for 2. */
static void test_count_bound_is_the_queue(void **state)
{
    DevTest *t = *state;
    devtest_write(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    devtest_write(t, QUEUE_NUM, 2);
    devtest_hostile(t, "n_inflight", 1);    /* the ring indices say 0 */
    VmsError err;
    devtest_hostile_error(t, "n_inflight", 4, &err);
    assert_non_null(strstr(err.msg, "n_inflight 4 out of range [0, 2]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_register_widths, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_features_and_queue_setup, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_write_then_read, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_error_status, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_chain_needs_reset, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_in_flight, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_in_flight, setup, devtest_teardown),
        cmocka_unit_test_setup_teardown(test_count_bound_is_the_queue, setup, devtest_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
