/* test_stream.c - VmsOut growth and limits, VmsIn bounds and sticky failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stream.h"

static void test_out_big_endian(void **state)
{
    VmsOut o;
    vms_out_init(&o, 0);
    assert_int_equal(o.limit, VMS_OUT_DEFAULT_LIMIT);
    assert_true(vms_out_u8(&o, 0xab));
    assert_true(vms_out_be16(&o, 0x0102));
    assert_true(vms_out_be32(&o, 0x03040506));
    assert_true(vms_out_be64(&o, 0x0708090a0b0c0d0eull));
    assert_true(vms_out_zeros(&o, 2));
    assert_true(vms_out_bytes(&o, "xy", 2));
    assert_true(vms_out_bytes(&o, NULL, 0));
    static const uint8_t exp[] = { 0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0, 0, 'x', 'y' };
    assert_int_equal(o.len, sizeof(exp));
    assert_memory_equal(o.buf, exp, sizeof(exp));
    vms_out_patch_be32(&o, 1, 0xdeadbeef);
    assert_int_equal(o.buf[1], 0xde);
    assert_int_equal(o.buf[4], 0xef);
    vms_out_patch_be32(&o, o.len - 2, 1);   /* would run past the end: ignored */
    assert_int_equal(o.buf[o.len - 1], 'y');
    vms_out_reset(&o);
    assert_int_equal(o.len, 0);
    assert_non_null(o.buf);
    vms_out_free(&o);
    assert_null(o.buf);
}

static void test_out_grows_to_limit(void **state)
{
    VmsOut o;
    vms_out_init(&o, 1000);
    for (int i = 0; i < 250; i++)
        assert_true(vms_out_be32(&o, (uint32_t)i));
    assert_int_equal(o.len, 1000);
    assert_true(o.cap <= 1000);
    assert_false(vms_out_u8(&o, 1));
    assert_true(o.failed);
    assert_int_equal(o.len, 1000);
    /* Sticky: even a zero-byte write now reports failure. */
    assert_false(vms_out_bytes(&o, "", 0));
    vms_out_reset(&o);
    assert_false(o.failed);
    assert_true(vms_out_u8(&o, 1));
    /* One write larger than the limit fails without growing. */
    assert_false(vms_out_zeros(&o, 5000));
    assert_int_equal(o.len, 1);
    vms_out_free(&o);
}

static void test_in_bounds(void **state)
{
    static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
    VmsIn in;
    vms_in_init(&in, b, sizeof(b));
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    assert_true(vms_in_u8(&in, &u8));
    assert_int_equal(u8, 1);
    assert_true(vms_in_be16(&in, &u16));
    assert_int_equal(u16, 0x0203);
    assert_true(vms_in_peek(&in, 0, &u8));
    assert_int_equal(u8, 4);
    assert_true(vms_in_peek(&in, 7, &u8));
    assert_int_equal(u8, 11);
    assert_false(vms_in_peek(&in, 8, &u8));
    assert_false(in.failed);            /* peeking past the end is not an error */
    assert_true(vms_in_be32(&in, &u32));
    assert_int_equal(u32, 0x04050607);
    assert_int_equal(vms_in_left(&in), 4);
    u64 = 42;
    assert_false(vms_in_be64(&in, &u64));  /* 4 left, 8 wanted */
    assert_int_equal(u64, 42);
    assert_true(in.failed);
    assert_int_equal(in.fail_pos, 7);
    assert_int_equal(in.pos, 7);        /* nothing consumed */
    assert_false(vms_in_u8(&in, &u8));   /* sticky */
    assert_false(vms_in_peek(&in, 0, &u8));
    assert_int_equal(in.fail_pos, 7);

    vms_in_init(&in, b, sizeof(b));
    assert_true(vms_in_skip(&in, 3));
    assert_true(vms_in_be64(&in, &u64));
    assert_int_equal(u64, 0x0405060708090a0bull);
    char tmp[2];
    assert_false(vms_in_bytes(&in, tmp, 1));
    assert_int_equal(in.fail_pos, 11);
    vms_in_init(&in, b, sizeof(b));
    assert_false(vms_in_skip(&in, SIZE_MAX));
    assert_int_equal(in.fail_pos, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_big_endian),
        cmocka_unit_test(test_out_grows_to_limit),
        cmocka_unit_test(test_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
