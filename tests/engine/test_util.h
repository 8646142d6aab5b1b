/* test_util.h - helpers shared by the engine tests (header-only, static). */
#ifndef VMSTRESS_TEST_UTIL_H
#define VMSTRESS_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmstate.h"

/* Save opaque through d; the bytes must be exactly exp. */
static inline void expect_save(const VmsDesc *d, void *opaque, const uint8_t *exp, size_t n)
{
    VmsOut o;
    VmsError e;
    vms_out_init(&o, 0);
    VmsCtx c = { .err = &e, .section = "t" };
    bool ok = vms_save_state(&c, &o, d, opaque);
    if (!ok) {
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        fail_msg("save failed: %s", line);
    }
    assert_int_equal(o.len, n);
    assert_memory_equal(o.buf, exp, n);
    vms_out_free(&o);
}

/* Load b into opaque at version; on success every byte must be consumed. */
static inline bool try_load(const VmsDesc *d, void *opaque, const uint8_t *b, size_t n, int version,
                            VmsError *e)
{
    VmsIn in;
    vms_in_init(&in, b, n);
    VmsCtx c = { .err = e, .section = "t", .instance = 3 };
    bool ok = vms_load_state(&c, &in, d, opaque, version);
    if (ok)
        assert_int_equal(in.pos, n);
    return ok;
}

static inline void expect_load(const VmsDesc *d, void *opaque, const uint8_t *b, size_t n,
                               int version)
{
    VmsError e;
    if (!try_load(d, opaque, b, n, version, &e)) {
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        fail_msg("load failed: %s", line);
    }
}

/* Load must fail with class cls at offset off naming field (section "t" instance 3). */
static inline void expect_load_error(const VmsDesc *d, void *opaque, const uint8_t *b, size_t n,
                                     int version, VmsErrClass cls, size_t off, const char *field)
{
    VmsError e;
    assert_false(try_load(d, opaque, b, n, version, &e));
    if (e.cls != cls || e.offset != off || strcmp(e.field, field) != 0) {
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        fail_msg("want %s at %zu field '%s', got: %s", vms_error_class_name(cls), off, field,
                 line);
    }
    assert_string_equal(e.section, "t");
    assert_int_equal(e.instance, 3);
    assert_true(e.msg[0] != 0);
}

static inline void expect_save_error(const VmsDesc *d, void *opaque, VmsErrClass cls,
                                     size_t off, const char *field)
{
    VmsOut o;
    VmsError e;
    vms_out_init(&o, 0);
    VmsCtx c = { .err = &e, .section = "t", .instance = 3 };
    assert_false(vms_save_state(&c, &o, d, opaque));
    if (e.cls != cls || e.offset != off || strcmp(e.field, field) != 0) {
        char line[512];
        vms_error_format(&e, line, sizeof(line));
        fail_msg("want %s at %zu field '%s', got: %s", vms_error_class_name(cls), off, field,
                 line);
    }
    assert_string_equal(e.section, "t");
    vms_out_free(&o);
}

#endif
