/*
 * test_vmstate.c - the description walker, field kind by field kind, with
 * hand-written expected bytes (QEMU's test-vmstate.c vectors where it has
 * them), plus versions, predicates, subsections, hooks, hostile counts,
 * errors, the vmdesc JSON, the observer and member coverage.
 */
#include "test_util.h"

#include <jansson.h>
#include <stdlib.h>

#include "devclock.h"
#include "vclock.h"

/* ------------------------------------------------------------ primitives */

typedef struct Prim {
    bool b1, b2;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int8_t i8p, i8n;
    int16_t i16p, i16n;
    int32_t i32p, i32n;
    int64_t i64p, i64n;
} Prim;

static const VmsField prim_fields[] = {
    VMS_BOOL(b1, Prim), VMS_BOOL(b2, Prim), VMS_UINT8(u8, Prim), VMS_UINT16(u16, Prim),
    VMS_UINT32(u32, Prim), VMS_UINT64(u64, Prim), VMS_INT8(i8p, Prim), VMS_INT8(i8n, Prim),
    VMS_INT16(i16p, Prim), VMS_INT16(i16n, Prim), VMS_INT32(i32p, Prim), VMS_INT32(i32n, Prim),
    VMS_INT64(i64p, Prim), VMS_INT64(i64n, Prim), VMS_END_OF_LIST(),
};
static const VmsDesc prim_desc = { .name = "prim", .version_id = 1, .minimum_version_id = 1,
                                   .fields = prim_fields };

static const uint8_t prim_bytes[] = {
    0x01, 0x00,                                     /* b1, b2 */
    0x82,                                           /* u8 130 */
    0x02, 0x00,                                     /* u16 512 */
    0x00, 0x01, 0x11, 0x70,                         /* u32 70000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c, /* u64 12121212 */
    0x41, 0xbf,                                     /* i8 65, -65 */
    0x02, 0x00, 0xfe, 0x00,                         /* i16 512, -512 */
    0x00, 0x01, 0x11, 0x70, 0xff, 0xfe, 0xee, 0x90, /* i32 70000, -70000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c, /* i64 12121212 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0x47, 0x0b, 0x84, /* i64 -12121212 */
};

static Prim prim_src(void)
{
    return (Prim){ true, false, 130, 512, 70000, 12121212, 65, -65, 512, -512, 70000, -70000,
                   12121212, -12121212 };
}

static void test_primitive(void **state)
{
    Prim p, q;
    memset(&p, 0, sizeof(p));   /* padding too: the structs are compared whole */
    p = prim_src();
    expect_save(&prim_desc, &p, prim_bytes, sizeof(prim_bytes));
    memset(&q, 0, sizeof(q));
    q.b2 = true;
    expect_load(&prim_desc, &q, prim_bytes, sizeof(prim_bytes), 1);
    assert_true(q.b1 && !q.b2 && q.u8 == 130 && q.u16 == 512 && q.u32 == 70000);
    assert_true(q.u64 == 12121212 && q.i8p == 65 && q.i8n == -65 && q.i16p == 512);
    assert_true(q.i16n == -512 && q.i32p == 70000 && q.i32n == -70000);
    assert_true(q.i64p == 12121212 && q.i64n == -12121212);
}

/* Every cut of the stream fails as truncated, at or before the cut, naming the field. */
static void test_primitive_truncated(void **state)
{
    static const char *const names[] = { "b1", "b2", "u8", "u16", "u16", "u32", "u32", "u32",
                                         "u32" };
    for (size_t cut = 0; cut < sizeof(prim_bytes); cut++) {
        Prim q;
        memset(&q, 0, sizeof(q));
        VmsError e;
        assert_false(try_load(&prim_desc, &q, prim_bytes, cut, 1, &e));
        assert_int_equal(e.cls, VMS_ERR_TRUNCATED);
        assert_true(e.offset <= cut);
        assert_true(e.field[0] != 0);
        if (cut < sizeof(names) / sizeof(names[0]))
            assert_string_equal(e.field, names[cut]);
    }
}

static void test_bool_nonzero_is_true(void **state)
{
    Prim q;
    uint8_t b[sizeof(prim_bytes)];
    memcpy(b, prim_bytes, sizeof(b));
    b[1] = 0x7f;
    memset(&q, 0, sizeof(q));
    expect_load(&prim_desc, &q, b, sizeof(b), 1);
    assert_true(q.b2);
}

/* ------------------------------------------------------------ arrays */

typedef struct Arr {
    bool b[2];
    int8_t i8[2];
    int16_t i16[2];
    int32_t i32[2];
    int64_t i64[1];
    uint8_t u8[2];
    uint16_t u16[3];
    uint32_t u32[2];
    uint64_t u64[1];
} Arr;

static const VmsField arr_fields[] = {
    VMS_BOOL_ARRAY(b, Arr, 2),   VMS_INT8_ARRAY(i8, Arr, 2),   VMS_INT16_ARRAY(i16, Arr, 2),
    VMS_INT32_ARRAY(i32, Arr, 2), VMS_INT64_ARRAY(i64, Arr, 1), VMS_UINT8_ARRAY(u8, Arr, 2),
    VMS_UINT16_ARRAY(u16, Arr, 3), VMS_UINT32_ARRAY(u32, Arr, 2), VMS_UINT64_ARRAY(u64, Arr, 1),
    VMS_END_OF_LIST(),
};
static const VmsDesc arr_desc = { .name = "arr", .version_id = 1, .minimum_version_id = 1,
                                  .fields = arr_fields };

static void test_arrays(void **state)
{
    Arr a = { { false, true }, { -1, 2 }, { -2, 0x102 }, { -3, 0x01020304 }, { -4 },
              { 0xaa, 0xbb }, { 0x42, 0x43, 0x44 }, { 1, 0xffffffff }, { 0x1122334455667788ull } };
    static const uint8_t exp[] = {
        0x00, 0x01, 0xff, 0x02, 0xff, 0xfe, 0x01, 0x02,
        0xff, 0xff, 0xff, 0xfd, 0x01, 0x02, 0x03, 0x04,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc,
        0xaa, 0xbb,
        0x00, 0x42, 0x00, 0x43, 0x00, 0x44,             /* QEMU's uint16[3] vector */
        0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff,
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
    };
    expect_save(&arr_desc, &a, exp, sizeof(exp));
    Arr q;
    memset(&q, 0, sizeof(q));
    expect_load(&arr_desc, &q, exp, sizeof(exp), 1);
    assert_memory_equal(&a, &q, sizeof(a));
    /* A cut inside u16[2] names the element. */
    memset(&q, 0, sizeof(q));
    expect_load_error(&arr_desc, &q, exp, 31, 1, VMS_ERR_TRUNCATED, 30, "u16[2]");
}

/* ------------------------------------------------------------ variable arrays */

typedef struct Var {
    uint8_t n8;
    uint16_t n16;
    uint32_t n32;
    int32_t ni32;
    uint16_t a8[4];
    uint8_t a16[4];
    uint32_t a32[4];
    int16_t ai32[4];
} Var;

static const VmsField var_fields[] = {
    VMS_UINT8(n8, Var), VMS_UINT16(n16, Var), VMS_UINT32(n32, Var), VMS_INT32(ni32, Var),
    VMS_VARRAY_UINT8(a8, Var, n8, 4, vms_info_uint16, uint16_t),
    VMS_VARRAY_UINT16(a16, Var, n16, 4, vms_info_uint8, uint8_t),
    VMS_VARRAY_UINT32(a32, Var, n32, 4, vms_info_uint32, uint32_t),
    VMS_VARRAY_INT32(ai32, Var, ni32, 4, vms_info_int16, int16_t),
    VMS_END_OF_LIST(),
};
static const VmsDesc var_desc = { .name = "var", .version_id = 1, .minimum_version_id = 1,
                                  .fields = var_fields };

static const uint8_t var_bytes[] = {
    0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x11, 0x22, 0x33, 0x44,             /* a8[0..1] (offset 11) */
    0xaa,                               /* a16[0] (offset 15) */
                                        /* a32: none (offset 16) */
    0xff, 0xff, 0x00, 0x02, 0xff, 0xfd, /* ai32[0..2] */
};

static void test_varrays(void **state)
{
    Var v;
    memset(&v, 0, sizeof(v));
    v = (Var){ 2, 1, 0, 3, { 0x1122, 0x3344 }, { 0xaa }, { 0 }, { -1, 2, -3 } };
    expect_save(&var_desc, &v, var_bytes, sizeof(var_bytes));
    Var q;
    memset(&q, 0, sizeof(q));
    expect_load(&var_desc, &q, var_bytes, sizeof(var_bytes), 1);
    assert_true(q.n8 == 2 && q.n16 == 1 && q.n32 == 0 && q.ni32 == 3);
    assert_memory_equal(q.a8, v.a8, sizeof(v.a8));
    assert_memory_equal(q.a16, v.a16, sizeof(v.a16));
    assert_memory_equal(q.a32, v.a32, sizeof(v.a32));
    assert_memory_equal(q.ai32, v.ai32, sizeof(v.ai32));
}

/* Hostile counts are rejected before the array they size is touched. */
static void expect_hostile(const uint8_t *b, size_t n, size_t off, const char *field)
{
    Var q;
    memset(&q, 0x5a, sizeof(q));
    Var before = q;
    expect_load_error(&var_desc, &q, b, n, 1, VMS_ERR_RANGE, off, field);
    if (strcmp(field, "a8") == 0)
        assert_memory_equal(q.a8, before.a8, sizeof(q.a8));
    if (strcmp(field, "a32") == 0)
        assert_memory_equal(q.a32, before.a32, sizeof(q.a32));
    if (strcmp(field, "ai32") == 0)
        assert_memory_equal(q.ai32, before.ai32, sizeof(q.ai32));
}

static void test_varray_hostile_counts(void **state)
{
    uint8_t b[64];
    memcpy(b, var_bytes, sizeof(var_bytes));
    /* n32 = 0xffffffff */
    b[3] = b[4] = b[5] = b[6] = 0xff;
    expect_hostile(b, sizeof(var_bytes), 16, "a32");
    /* ni32 = -1 */
    memcpy(b, var_bytes, sizeof(var_bytes));
    b[7] = b[8] = b[9] = b[10] = 0xff;
    expect_hostile(b, sizeof(var_bytes), 16, "ai32");
    /* n8 = capacity + 1 */
    memcpy(b, var_bytes, sizeof(var_bytes));
    b[0] = 5;
    expect_hostile(b, sizeof(var_bytes), 11, "a8");
    /* n16 = 0xffff */
    memcpy(b, var_bytes, sizeof(var_bytes));
    b[1] = b[2] = 0xff;
    Var q;
    memset(&q, 0, sizeof(q));
    expect_load_error(&var_desc, &q, b, sizeof(var_bytes), 1, VMS_ERR_RANGE, 15, "a16");
    /* The same check guards save: a corrupt count is not read past the array. */
    Var v = { 9, 0, 0, 0, { 0 }, { 0 }, { 0 }, { 0 } };
    expect_save_error(&var_desc, &v, VMS_ERR_RANGE, 11, "a8");
}

/* ------------------------------------------------------------ structs and pointers */

typedef struct Pt {
    uint16_t x;
    uint8_t y;
} Pt;

static const VmsField pt_fields[] = { VMS_UINT16(x, Pt), VMS_UINT8(y, Pt), VMS_END_OF_LIST() };
static const VmsDesc pt_desc = { .name = "pt", .version_id = 1, .minimum_version_id = 1,
                                 .fields = pt_fields };

typedef struct Shapes {
    Pt one;
    Pt arr[2];
    uint32_t n;
    Pt var[3];
    Pt *p;
    Pt *pnull;
    Pt *ptrs[3];
    Pt pool[3];
} Shapes;

static const VmsField shapes_fields[] = {
    VMS_STRUCT(one, Shapes, pt_desc, Pt),
    VMS_STRUCT_ARRAY(arr, Shapes, 2, pt_desc, Pt),
    VMS_UINT32(n, Shapes),
    VMS_STRUCT_VARRAY_UINT32(var, Shapes, n, 3, pt_desc, Pt),
    VMS_STRUCT_POINTER(p, Shapes, pt_desc, Pt),
    VMS_STRUCT_POINTER(pnull, Shapes, pt_desc, Pt),
    VMS_ARRAY_OF_POINTER_TO_STRUCT(ptrs, Shapes, 3, pt_desc, Pt),
    VMS_END_OF_LIST(),
};
static const VmsDesc shapes_desc = { .name = "shapes", .version_id = 1,
                                     .minimum_version_id = 1, .fields = shapes_fields };

static const uint8_t shapes_bytes[] = {
    0x00, 0x01, 0x02,                   /* one */
    0x00, 0x03, 0x04, 0x00, 0x05, 0x06, /* arr[0..1] (offset 3) */
    0x00, 0x00, 0x00, 0x02,             /* n (offset 9) */
    0x00, 0x07, 0x08, 0x00, 0x09, 0x0a, /* var[0..1] (offset 13) */
    0x00, 0x0b, 0x0c,                   /* *p (offset 19) */
    0x30,                               /* pnull (offset 22) */
    0x00, 0x0d, 0x0e,                   /* *ptrs[0] (offset 23) */
    0x30,                               /* ptrs[1] NULL (offset 26) */
    0x00, 0x0f, 0x10,                   /* *ptrs[2] (offset 27) */
};

static void shapes_wire(Shapes *s)
{
    memset(s, 0, sizeof(*s));
    s->p = &s->pool[0];
    s->ptrs[0] = &s->pool[1];
    s->ptrs[2] = &s->pool[2];
}

static void shapes_fill(Shapes *s)
{
    shapes_wire(s);
    s->one = (Pt){ 1, 2 };
    s->arr[0] = (Pt){ 3, 4 };
    s->arr[1] = (Pt){ 5, 6 };
    s->n = 2;
    s->var[0] = (Pt){ 7, 8 };
    s->var[1] = (Pt){ 9, 10 };
    s->pool[0] = (Pt){ 11, 12 };
    s->pool[1] = (Pt){ 13, 14 };
    s->pool[2] = (Pt){ 15, 16 };
}

static void test_structs_and_pointers(void **state)
{
    Shapes s, q;
    shapes_fill(&s);
    expect_save(&shapes_desc, &s, shapes_bytes, sizeof(shapes_bytes));
    shapes_wire(&q);
    expect_load(&shapes_desc, &q, shapes_bytes, sizeof(shapes_bytes), 1);
    assert_memory_equal(&q.one, &s.one, sizeof(Pt));
    assert_memory_equal(q.arr, s.arr, sizeof(s.arr));
    assert_memory_equal(q.var, s.var, sizeof(s.var));
    assert_memory_equal(q.pool, s.pool, sizeof(s.pool));
    assert_null(q.pnull);
    assert_null(q.ptrs[1]);
    assert_ptr_equal(q.p, &q.pool[0]);
}

static void test_struct_errors_name_element(void **state)
{
    Shapes q;
    shapes_wire(&q);
    /* Stream ends inside arr[1].y. */
    expect_load_error(&shapes_desc, &q, shapes_bytes, 8, 1, VMS_ERR_TRUNCATED, 8, "arr[1].y");
    /* A NULL destination wants the marker; anything else is a format error. */
    uint8_t b[sizeof(shapes_bytes)];
    memcpy(b, shapes_bytes, sizeof(b));
    b[22] = 0x31;
    shapes_wire(&q);
    expect_load_error(&shapes_desc, &q, b, sizeof(b), 1, VMS_ERR_FORMAT, 22, "pnull");
    memcpy(b, shapes_bytes, sizeof(b));
    b[26] = 0x00;
    shapes_wire(&q);
    expect_load_error(&shapes_desc, &q, b, sizeof(b), 1, VMS_ERR_FORMAT, 26, "ptrs[1]");
    /* Hostile struct count. */
    memcpy(b, shapes_bytes, sizeof(b));
    b[12] = 4;
    shapes_wire(&q);
    expect_load_error(&shapes_desc, &q, b, sizeof(b), 1, VMS_ERR_RANGE, 13, "var");
    assert_int_equal(q.var[0].x, 0);
}

/* ------------------------------------------------------------ buffers */

typedef struct Bufs {
    uint8_t b[4];
    uint8_t *bp;
    uint8_t bp_store[3];
    uint32_t vlen;
    uint8_t vb[8];
    uint32_t alen;
    uint8_t *ab;
} Bufs;

static const VmsField bufs_fields[] = {
    VMS_BUFFER(b, Bufs),
    VMS_BUFFER_POINTER(bp, Bufs, 3),
    VMS_UINT32(vlen, Bufs),
    VMS_VBUFFER_UINT32(vb, Bufs, vlen, 8),
    VMS_UINT32(alen, Bufs),
    VMS_VBUFFER_ALLOC_UINT32(ab, Bufs, alen, 16),
    VMS_UNUSED(2),
    VMS_END_OF_LIST(),
};
static const VmsDesc bufs_desc = { .name = "bufs", .version_id = 1, .minimum_version_id = 1,
                                   .fields = bufs_fields };

static const uint8_t bufs_bytes[] = {
    0x01, 0x02, 0x03, 0x04,             /* b */
    0x05, 0x06, 0x07,                   /* *bp (offset 4) */
    0x00, 0x00, 0x00, 0x02, 0x08, 0x09, /* vlen, vb (offset 11) */
    0x00, 0x00, 0x00, 0x03,             /* alen (offset 13) */
    0x0a, 0x0b, 0x0c,                   /* ab (offset 17) */
    0x00, 0x00,                         /* unused (offset 20) */
};

static void test_buffers(void **state)
{
    uint8_t abuf[3] = { 10, 11, 12 };
    Bufs s = { { 1, 2, 3, 4 }, NULL, { 5, 6, 7 }, 2, { 8, 9, 0xee }, 3, abuf };
    s.bp = s.bp_store;
    expect_save(&bufs_desc, &s, bufs_bytes, sizeof(bufs_bytes));

    Bufs q;
    memset(&q, 0, sizeof(q));
    q.bp = q.bp_store;
    q.ab = malloc(1);       /* replaced by the load without leaking */
    uint8_t b[sizeof(bufs_bytes)];
    memcpy(b, bufs_bytes, sizeof(b));
    b[20] = 0xee;           /* unused bytes are skipped whatever they hold */
    b[21] = 0x77;
    expect_load(&bufs_desc, &q, b, sizeof(b), 1);
    assert_memory_equal(q.b, s.b, 4);
    assert_memory_equal(q.bp_store, s.bp_store, 3);
    assert_int_equal(q.vlen, 2);
    assert_memory_equal(q.vb, s.vb, 2);
    assert_int_equal(q.alen, 3);
    assert_non_null(q.ab);
    assert_memory_equal(q.ab, abuf, 3);

    /* alen 0 frees the allocation. */
    memcpy(b, bufs_bytes, sizeof(b));
    b[16] = 0;
    static const size_t keep = 17;
    uint8_t b2[sizeof(bufs_bytes)];
    memcpy(b2, b, keep);
    memcpy(b2 + keep, bufs_bytes + 20, 2);
    expect_load(&bufs_desc, &q, b2, keep + 2, 1);
    assert_null(q.ab);
    assert_int_equal(q.alen, 0);
}

static void test_buffer_over_capacity(void **state)
{
    Bufs q;
    uint8_t b[sizeof(bufs_bytes)];
    memcpy(b, bufs_bytes, sizeof(b));
    b[10] = 9;              /* vlen 9 > 8 */
    memset(&q, 0x5a, sizeof(q));
    q.bp = q.bp_store;
    q.ab = NULL;
    expect_load_error(&bufs_desc, &q, b, sizeof(b), 1, VMS_ERR_RANGE, 11, "vb");
    for (int i = 0; i < 8; i++)
        assert_int_equal(q.vb[i], 0x5a);

    memcpy(b, bufs_bytes, sizeof(b));
    b[16] = 17;             /* alen 17 > 16: nothing allocated, old pointer kept */
    memset(&q, 0, sizeof(q));
    q.bp = q.bp_store;
    uint8_t keep[1] = { 0x33 };
    q.ab = keep;
    expect_load_error(&bufs_desc, &q, b, sizeof(b), 1, VMS_ERR_RANGE, 17, "ab");
    assert_ptr_equal(q.ab, keep);
    /* The save side checks the same bound. */
    Bufs s;
    memset(&s, 0, sizeof(s));
    s.bp = s.bp_store;
    s.vlen = 100;
    expect_save_error(&bufs_desc, &s, VMS_ERR_RANGE, 11, "vb");
}

/* ------------------------------------------------------------ EQUAL and int32 le */

typedef struct Eq {
    uint8_t a;
    uint16_t b;
    uint32_t c;
    int32_t d;
    uint64_t e;
    int32_t le;
} Eq;

static const VmsField eq_fields[] = {
    VMS_UINT8_EQUAL(a, Eq), VMS_UINT16_EQUAL(b, Eq), VMS_UINT32_EQUAL(c, Eq),
    VMS_INT32_EQUAL(d, Eq), VMS_UINT64_EQUAL(e, Eq), VMS_INT32_POSITIVE_LE(le, Eq),
    VMS_END_OF_LIST(),
};
static const VmsDesc eq_desc = { .name = "eq", .version_id = 1, .minimum_version_id = 1,
                                 .fields = eq_fields };

static const uint8_t eq_bytes[] = {
    0x10, 0x02, 0x20, 0x00, 0x00, 0x03, 0x30, 0xff, 0xff, 0xff, 0xfc,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06,
};

static Eq eq_cfg(void) { return (Eq){ 0x10, 0x220, 0x330, -4, 5, 9 }; }

static void test_equal(void **state)
{
    Eq s = eq_cfg();
    s.le = 6;
    expect_save(&eq_desc, &s, eq_bytes, sizeof(eq_bytes));
    Eq q = eq_cfg();
    expect_load(&eq_desc, &q, eq_bytes, sizeof(eq_bytes), 1);
    assert_int_equal(q.le, 6);
    assert_string_equal(vms_info_uint64_equal.name, "int64 equal");
    assert_string_equal(vms_info_uint8_equal.name, "uint8 equal");
    assert_string_equal(vms_info_int32_le.name, "int32 le");

    static const struct { size_t byte, off; const char *field; } cases[] = {
        { 0, 0, "a" }, { 2, 1, "b" }, { 6, 3, "c" }, { 10, 7, "d" }, { 18, 11, "e" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[sizeof(eq_bytes)];
        memcpy(b, eq_bytes, sizeof(b));
        b[cases[i].byte] ^= 0x01;
        q = eq_cfg();
        VmsError e;
        assert_false(try_load(&eq_desc, &q, b, sizeof(b), 1, &e));
        assert_int_equal(e.cls, VMS_ERR_EQUAL);
        assert_int_equal(e.offset, cases[i].off);
        assert_string_equal(e.field, cases[i].field);
        assert_non_null(strstr(e.msg, "EQUAL: stream has"));
    }
    /* Message carries both values. */
    uint8_t b[sizeof(eq_bytes)];
    memcpy(b, eq_bytes, sizeof(b));
    b[0] = 0x11;
    q = eq_cfg();
    VmsError e;
    assert_false(try_load(&eq_desc, &q, b, sizeof(b), 1, &e));
    assert_non_null(strstr(e.msg, "EQUAL: stream has 17 (0x11) != this build's 16 (0x10)"));
    assert_string_equal(e.field, "a");
}

static void test_int32_le(void **state)
{
    uint8_t b[sizeof(eq_bytes)];
    memcpy(b, eq_bytes, sizeof(b));
    b[22] = 10;     /* 10 > current 9 */
    Eq q = eq_cfg();
    expect_load_error(&eq_desc, &q, b, sizeof(b), 1, VMS_ERR_RANGE, 19, "le");
    assert_int_equal(q.le, 9);
    memset(b + 19, 0xff, 4);    /* -1 */
    q = eq_cfg();
    expect_load_error(&eq_desc, &q, b, sizeof(b), 1, VMS_ERR_RANGE, 19, "le");
    memset(b + 19, 0, 4);       /* 0 is fine */
    q = eq_cfg();
    expect_load(&eq_desc, &q, b, sizeof(b), 1);
    assert_int_equal(q.le, 0);
}

/* ------------------------------------------------------------ timers and clocks */

typedef struct TT {
    VTimer t;
    VTimer *tp;
    VTimer obj;
} TT;

static const VmsField tt_fields[] = { VMS_TIMER(t, TT), VMS_TIMER_PTR(tp, TT), VMS_END_OF_LIST() };
static const VmsDesc tt_desc = { .name = "tt", .version_id = 1, .minimum_version_id = 1,
                                 .fields = tt_fields };

static void nop_cb(void *opaque) {}

static void test_timers(void **state)
{
    VClock vc;
    vclock_init(&vc);
    TT s;
    memset(&s, 0, sizeof(s));
    vtimer_init(&s.t, &vc, nop_cb, NULL);
    vtimer_init(&s.obj, &vc, nop_cb, NULL);
    s.tp = &s.obj;
    vtimer_mod(&s.t, 0x1234);
    static const uint8_t exp[] = { 0, 0, 0, 0, 0, 0, 0x12, 0x34,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    expect_save(&tt_desc, &s, exp, sizeof(exp));

    VClock vd;
    vclock_init(&vd);
    TT q;
    memset(&q, 0, sizeof(q));
    vtimer_init(&q.t, &vd, nop_cb, NULL);
    vtimer_init(&q.obj, &vd, nop_cb, NULL);
    q.tp = &q.obj;
    vtimer_mod(&q.obj, 50);
    expect_load(&tt_desc, &q, exp, sizeof(exp), 1);
    assert_true(vtimer_pending(&q.t));
    assert_int_equal(q.t.deadline, 0x1234);
    assert_false(vtimer_pending(&q.obj));
    assert_int_equal(vd.next_cycle, (0x1234 + 9) / 10);

    uint8_t b[sizeof(exp)];
    memcpy(b, exp, sizeof(b));
    memset(b, 0xff, 8);
    b[7] = 0xfe;    /* -2 */
    expect_load_error(&tt_desc, &q, b, sizeof(b), 1, VMS_ERR_RANGE, 0, "t");
}

typedef struct CK {
    DevClock *clk;
    DevClock obj;
} CK;

static const VmsField ck_fields[] = { VMS_CLOCK(clk, CK), VMS_END_OF_LIST() };
static const VmsDesc ck_desc = { .name = "ck", .version_id = 1, .minimum_version_id = 1,
                                 .fields = ck_fields };

static void test_clock(void **state)
{
    CK s;
    devclock_init(&s.obj);
    s.clk = &s.obj;
    devclock_set_hz(&s.obj, 25000000);
    assert_int_equal(s.obj.period, 40ull << 32);
    assert_int_equal(devclock_hz(&s.obj), 25000000);
    assert_int_equal(devclock_ticks_to_ns(&s.obj, 3), 120);
    static const uint8_t plain[] = { 0, 0, 0, 0x28, 0, 0, 0, 0 };
    expect_save(&ck_desc, &s, plain, sizeof(plain));

    s.obj.multiplier = 3;
    s.obj.divider = 2;
    assert_int_equal(devclock_ticks_to_ns(&s.obj, 2), 120);
    static const uint8_t muldiv[] = {
        0, 0, 0, 0x28, 0, 0, 0, 0,
        0x05, 12, 'c', 'l', 'o', 'c', 'k', '/', 'm', 'u', 'l', 'd', 'i', 'v',
        0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2,
    };
    expect_save(&ck_desc, &s, muldiv, sizeof(muldiv));

    CK q;
    devclock_init(&q.obj);
    q.clk = &q.obj;
    expect_load(&ck_desc, &q, muldiv, sizeof(muldiv), 1);
    assert_memory_equal(&q.obj, &s.obj, sizeof(DevClock));
    /* Without the subsection the clock's pre_load restores 1/1. */
    expect_load(&ck_desc, &q, plain, sizeof(plain), 1);
    assert_int_equal(q.obj.multiplier, 1);
    assert_int_equal(q.obj.divider, 1);
    assert_int_equal(q.obj.period, 40ull << 32);

    uint8_t b[sizeof(muldiv)];
    memcpy(b, muldiv, sizeof(b));
    b[sizeof(b) - 1] = 0;   /* divider 0 */
    expect_load_error(&ck_desc, &q, b, sizeof(b), 1, VMS_ERR_HOOK, sizeof(b),
                      "clk.clock/muldiv");
    devclock_init(&q.obj);
    assert_int_equal(devclock_hz(&q.obj), 0);
    assert_int_equal(devclock_ticks_to_ns(&q.obj, 1), INT64_MAX);
}

/* ------------------------------------------------------------ versions */

typedef struct Ver {
    uint32_t a, b, c;
    uint64_t d;
    uint32_t e;
    uint64_t f;
} Ver;

static const VmsField ver_fields[] = {
    VMS_UINT32(a, Ver), VMS_UINT32_V(b, Ver, 2), VMS_UINT32(c, Ver), VMS_UINT64(d, Ver),
    VMS_UINT32_V(e, Ver, 2), VMS_UINT64_V(f, Ver, 2), VMS_END_OF_LIST(),
};
static const VmsDesc ver_desc = { .name = "ver", .version_id = 2, .minimum_version_id = 1,
                                  .fields = ver_fields };

static void test_versioned_load(void **state)
{
    static const uint8_t v1[] = { 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4 };
    Ver q = { 0, 20, 0, 0, 50, 60 };
    expect_load(&ver_desc, &q, v1, sizeof(v1), 1);
    assert_int_equal(q.a, 1);
    assert_int_equal(q.b, 20);
    assert_int_equal(q.c, 3);
    assert_int_equal(q.d, 4);
    assert_int_equal(q.e, 50);
    assert_int_equal(q.f, 60);

    Ver s;
    memset(&s, 0, sizeof(s));   /* padding too: the structs are compared whole */
    s = (Ver){ 1, 2, 3, 4, 5, 6 };
    static const uint8_t v2[] = { 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4,
                                  0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6 };
    expect_save(&ver_desc, &s, v2, sizeof(v2));
    memset(&q, 0, sizeof(q));
    expect_load(&ver_desc, &q, v2, sizeof(v2), 2);
    assert_true(q.a == 1 && q.b == 2 && q.c == 3 && q.d == 4 && q.e == 5 && q.f == 6);

    expect_load_error(&ver_desc, &q, v2, sizeof(v2), 3, VMS_ERR_VERSION, 0, "");
    expect_load_error(&ver_desc, &q, v2, sizeof(v2), 0, VMS_ERR_VERSION, 0, "");
}

/* The remaining _V / _TEST macros: present from version 2, or by predicate. */
typedef struct VM2 {
    bool b;
    int32_t i;
    uint8_t u8;
    uint16_t u16;
    bool bt, bt_on;
    Pt pt;
    uint8_t buf[2];
} VM2;

static bool vm2_bt_on(void *opaque, int version_id) { return ((VM2 *)opaque)->bt_on; }

static const VmsField vm2_fields[] = {
    VMS_BOOL_V(b, VM2, 2), VMS_INT32_V(i, VM2, 1), VMS_UINT8_V(u8, VM2, 2),
    VMS_UINT16_V(u16, VM2, 1), VMS_BOOL_TEST(bt, VM2, vm2_bt_on),
    VMS_STRUCT_V(pt, VM2, 2, pt_desc, Pt), VMS_BUFFER_V(buf, VM2, 2), VMS_UNUSED_V(2, 1),
    VMS_END_OF_LIST(),
};
static const VmsDesc vm2_desc = { .name = "vm2", .version_id = 2, .minimum_version_id = 1,
                                  .fields = vm2_fields };

static void test_versioned_macros(void **state)
{
    VM2 s = { true, -2, 3, 0x405, true, true, { 6, 7 }, { 8, 9 } };
    static const uint8_t v2[] = { 0x01, 0xff, 0xff, 0xff, 0xfe, 0x03, 0x04, 0x05, 0x01,
                                  0x00, 0x06, 0x07, 0x08, 0x09, 0x00 };
    expect_save(&vm2_desc, &s, v2, sizeof(v2));
    VM2 q = { false, 0, 0, 0, false, true, { 0, 0 }, { 0, 0 } };
    expect_load(&vm2_desc, &q, v2, sizeof(v2), 2);
    assert_true(q.b && q.i == -2 && q.u8 == 3 && q.u16 == 0x405 && q.bt);
    assert_true(q.pt.x == 6 && q.pt.y == 7 && q.buf[0] == 8 && q.buf[1] == 9);
    static const uint8_t v1[] = { 0xff, 0xff, 0xff, 0xfd, 0x01, 0x02, 0x00 };
    q = (VM2){ true, 0, 33, 0, true, true, { 44, 55 }, { 66, 77 } };
    expect_load(&vm2_desc, &q, v1, sizeof(v1), 1);
    assert_true(q.b && q.i == -3 && q.u8 == 33 && q.u16 == 0x102 && !q.bt);
    assert_true(q.pt.x == 44 && q.pt.y == 55 && q.buf[0] == 66 && q.buf[1] == 77);
    s.bt_on = false;
    static const uint8_t v2_nobt[] = { 0x01, 0xff, 0xff, 0xff, 0xfe, 0x03, 0x04, 0x05,
                                       0x00, 0x06, 0x07, 0x08, 0x09, 0x00 };
    expect_save(&vm2_desc, &s, v2_nobt, sizeof(v2_nobt));
}

/* ------------------------------------------------------------ field_exists */

typedef struct Ex {
    bool on;
    uint32_t a, c, e;
} Ex;

static bool ex_on(void *opaque, int version_id) { return ((Ex *)opaque)->on; }

static const VmsField ex_fields[] = {
    VMS_UINT32(a, Ex), VMS_UINT32_TEST(c, Ex, ex_on),
    /* A predicate is the sole judge: version 9 would otherwise exclude e. */
    { .name = "e", .offset = offsetof(Ex, e), .size = 4, .info = &vms_info_uint32,
      .version_id = 9, .field_exists = ex_on },
    VMS_END_OF_LIST(),
};
static const VmsDesc ex_desc = { .name = "ex", .version_id = 1, .minimum_version_id = 1,
                                 .fields = ex_fields };

static void test_field_exists(void **state)
{
    Ex s = { true, 1, 3, 5 };
    static const uint8_t all[] = { 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 5 };
    static const uint8_t skip[] = { 0, 0, 0, 1 };
    expect_save(&ex_desc, &s, all, sizeof(all));
    s.on = false;
    expect_save(&ex_desc, &s, skip, sizeof(skip));
    Ex q = { true, 0, 0, 0 };
    expect_load(&ex_desc, &q, all, sizeof(all), 1);
    assert_int_equal(q.c, 3);
    assert_int_equal(q.e, 5);
    q = (Ex){ false, 0, 30, 50 };
    expect_load(&ex_desc, &q, skip, sizeof(skip), 1);
    assert_int_equal(q.a, 1);
    assert_int_equal(q.c, 30);
    assert_int_equal(q.e, 50);
}

/* ------------------------------------------------------------ subsections */

typedef struct SS {
    uint32_t a;
    uint32_t s1;
    uint8_t s2;
    bool need1, need2;
    int log[8];
    int nlog;
    bool fail_sub_load;
} SS;

static bool ss_need1(void *o) { return ((SS *)o)->need1; }
static bool ss_need2(void *o) { return ((SS *)o)->need2; }

static void ss_log(SS *s, int v)
{
    if (s->nlog < 8)
        s->log[s->nlog++] = v;
}

static bool ss_post_load(void *o, int v, VmsMsg *why) { ss_log(o, 100); return true; }
static bool ss_one_post_load(void *o, int v, VmsMsg *why)
{
    SS *s = o;
    ss_log(s, 1);
    if (s->fail_sub_load)
        return vms_fail(why, "one refused %u", s->s1);
    return true;
}
static bool ss_two_post_load(void *o, int v, VmsMsg *why) { ss_log(o, 2); return true; }

static const VmsField ss_one_fields[] = { VMS_UINT32(s1, SS), VMS_END_OF_LIST() };
static const VmsField ss_two_fields[] = { VMS_UINT8(s2, SS), VMS_END_OF_LIST() };
static const VmsDesc ss_one = { .name = "ss/one", .version_id = 1, .minimum_version_id = 1,
                                .fields = ss_one_fields, .needed = ss_need1,
                                .post_load = ss_one_post_load };
static const VmsDesc ss_two = { .name = "ss/two", .version_id = 1, .minimum_version_id = 1,
                                .fields = ss_two_fields, .needed = ss_need2,
                                .post_load = ss_two_post_load };
static const VmsDesc *const ss_subs[] = { &ss_one, &ss_two, NULL };
static const VmsField ss_fields[] = { VMS_UINT32(a, SS), VMS_END_OF_LIST() };
static const VmsDesc ss_desc = { .name = "ss", .version_id = 1, .minimum_version_id = 1,
                                 .fields = ss_fields, .subsections = ss_subs,
                                 .post_load = ss_post_load };

#define SS_A 0, 0, 0, 7
#define SS_ONE 0x05, 6, 's', 's', '/', 'o', 'n', 'e', 0, 0, 0, 1, 0, 0, 0, 0x11
#define SS_TWO 0x05, 6, 's', 's', '/', 't', 'w', 'o', 0, 0, 0, 1, 0x22

static void test_subsections_needed(void **state)
{
    SS s = { .a = 7, .s1 = 0x11, .s2 = 0x22, .need1 = true, .need2 = true };
    static const uint8_t both[] = { SS_A, SS_ONE, SS_TWO };
    static const uint8_t none[] = { SS_A };
    static const uint8_t two[] = { SS_A, SS_TWO };
    expect_save(&ss_desc, &s, both, sizeof(both));
    s.need1 = s.need2 = false;
    expect_save(&ss_desc, &s, none, sizeof(none));
    s.need2 = true;
    expect_save(&ss_desc, &s, two, sizeof(two));

    SS q = { 0 };
    expect_load(&ss_desc, &q, both, sizeof(both), 1);
    assert_int_equal(q.s1, 0x11);
    assert_int_equal(q.s2, 0x22);
    /* post_load of the parent runs after the subsections'. */
    assert_int_equal(q.nlog, 3);
    assert_int_equal(q.log[0], 1);
    assert_int_equal(q.log[1], 2);
    assert_int_equal(q.log[2], 100);

    /* Absent subsections are fine and leave the destination alone. */
    q = (SS){ .s1 = 0x99, .s2 = 0x98 };
    expect_load(&ss_desc, &q, two, sizeof(two), 1);
    assert_int_equal(q.s1, 0x99);
    assert_int_equal(q.s2, 0x22);
    q = (SS){ .s1 = 0x99, .s2 = 0x98 };
    expect_load(&ss_desc, &q, none, sizeof(none), 1);
    assert_int_equal(q.s1, 0x99);
    assert_int_equal(q.s2, 0x98);
    /* Order is not enforced (QEMU does not either). */
    static const uint8_t swapped[] = { SS_A, SS_TWO, SS_ONE };
    q = (SS){ 0 };
    expect_load(&ss_desc, &q, swapped, sizeof(swapped), 1);
    assert_int_equal(q.s1, 0x11);
}

static void test_subsections_bad(void **state)
{
    SS q = { 0 };
    static const uint8_t unknown[] = { SS_A, 0x05, 8, 's', 's', '/', 't', 'h', 'r', 'e', 'e',
                                       0, 0, 0, 1 };
    expect_load_error(&ss_desc, &q, unknown, sizeof(unknown), 1, VMS_ERR_UNKNOWN, 4,
                      "ss/three");
    static const uint8_t dup[] = { SS_A, SS_ONE, SS_TWO, SS_ONE };
    q = (SS){ 0 };
    expect_load_error(&ss_desc, &q, dup, sizeof(dup), 1, VMS_ERR_DUPLICATE, 33, "ss/one");
    static const uint8_t too_new[] = { SS_A, 0x05, 6, 's', 's', '/', 'o', 'n', 'e', 0, 0, 1, 1,
                                       0, 0, 0, 0x11 };
    q = (SS){ 0 };
    expect_load_error(&ss_desc, &q, too_new, sizeof(too_new), 1, VMS_ERR_VERSION, 12, "ss/one");
    /* A subsection hook failing names the subsection. */
    q = (SS){ .fail_sub_load = true };
    static const uint8_t one[] = { SS_A, SS_ONE };
    expect_load_error(&ss_desc, &q, one, sizeof(one), 1, VMS_ERR_HOOK, sizeof(one), "ss/one");
    /* Cut inside the subsection body. */
    q = (SS){ 0 };
    expect_load_error(&ss_desc, &q, one, sizeof(one) - 1, 1, VMS_ERR_TRUNCATED, 16, "ss/one.s1");
}

/* A 0x05 not followed by our prefix is left for whoever reads next. */
static void test_subsection_foreign_prefix(void **state)
{
    static const uint8_t b[] = { SS_A, 0x05, 6, 'x', 'x', '/', 'o', 'n', 'e', 0, 0, 0, 1 };
    SS q = { 0 };
    VmsIn in;
    vms_in_init(&in, b, sizeof(b));
    VmsError e;
    VmsCtx c = { .err = &e };
    assert_true(vms_load_state(&c, &in, &ss_desc, &q, 1));
    assert_int_equal(in.pos, 4);
    /* A foreign name cut short: not ours either. */
    static const uint8_t foreign_short[] = { SS_A, 0x05, 40, 'x', 'x' };
    vms_in_init(&in, foreign_short, sizeof(foreign_short));
    assert_true(vms_load_state(&c, &in, &ss_desc, &q, 1));
    assert_int_equal(in.pos, 4);
}

/* A subsection header the stream cuts short (our prefix as far as it goes,
 * or only the mark and no length) is a truncated stream, at the mark. */
static void test_subsection_header_truncated(void **state)
{
    static const uint8_t shortb[] = { SS_A, 0x05, 40, 's', 's' };
    SS q = { 0 };
    expect_load_error(&ss_desc, &q, shortb, sizeof(shortb), 1, VMS_ERR_TRUNCATED, 4, "");
    static const uint8_t mark_only[] = { SS_A, 0x05 };
    expect_load_error(&ss_desc, &q, mark_only, sizeof(mark_only), 1, VMS_ERR_TRUNCATED, 4, "");
    static const uint8_t len_only[] = { SS_A, 0x05, 6 };
    expect_load_error(&ss_desc, &q, len_only, sizeof(len_only), 1, VMS_ERR_TRUNCATED, 4, "");
}

/* ------------------------------------------------------------ VALIDATE */

typedef struct Va {
    uint32_t n;
    uint32_t arr[4];
    int runs;
} Va;

static bool va_ok(void *opaque, int version_id)
{
    Va *v = opaque;
    v->runs++;
    return v->n <= 2;
}

static const VmsField va_fields[] = {
    VMS_UINT32(n, Va),
    VMS_VALIDATE("n <= 2", va_ok),
    VMS_VARRAY_UINT32(arr, Va, n, 4, vms_info_uint32, uint32_t),
    VMS_END_OF_LIST(),
};
static const VmsDesc va_desc = { .name = "va", .version_id = 1, .minimum_version_id = 1,
                                 .fields = va_fields };

static void test_validate(void **state)
{
    Va s = { 1, { 0xabcd }, 0 };
    static const uint8_t exp[] = { 0, 0, 0, 1, 0, 0, 0xab, 0xcd };
    expect_save(&va_desc, &s, exp, sizeof(exp));  /* no bytes for the VALIDATE */
    assert_int_equal(s.runs, 1);
    Va q = { 0 };
    expect_load(&va_desc, &q, exp, sizeof(exp), 1);
    assert_int_equal(q.runs, 1);
    assert_int_equal(q.arr[0], 0xabcd);

    s.n = 3;
    expect_save_error(&va_desc, &s, VMS_ERR_VALIDATE, 4, "n <= 2");
    static const uint8_t bad[] = { 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 };
    q = (Va){ 0 };
    expect_load_error(&va_desc, &q, bad, sizeof(bad), 1, VMS_ERR_VALIDATE, 4, "n <= 2");
    assert_int_equal(q.arr[0], 0);
}

/* A rejection that says which member is wrong points at that member: its
 * field path and its offset in the stream, with the value in the message. */
typedef struct Vw {
    uint32_t lo, hi;
} Vw;

static bool vw_ok(void *opaque, int version_id, VmsMsg *why)
{
    const Vw *v = opaque;
    return v->hi >= v->lo || vms_fail(why, "hi %u is below lo %u", v->hi, v->lo);
}

static bool vw_post_load(void *opaque, int version_id, VmsMsg *why)
{
    const Vw *v = opaque;
    return v->lo != 7 || vms_fail(why, "vw field 'lo' is %u, a reserved value", v->lo);
}

static const VmsField vw_fields[] = {
    VMS_UINT32(lo, Vw),
    VMS_UINT32(hi, Vw),
    VMS_VALIDATE_WHY("hi >= lo", vw_ok),
    VMS_END_OF_LIST(),
};
static const VmsDesc vw_desc = { .name = "vw", .version_id = 1, .minimum_version_id = 1,
                                 .fields = vw_fields, .post_load = vw_post_load };

static void test_rejection_names_member(void **state)
{
    Vw q = { 0, 0 };
    static const uint8_t ok[] = { 0, 0, 0, 1, 0, 0, 0, 2 };
    expect_load(&vw_desc, &q, ok, sizeof(ok), 1);
    static const uint8_t low[] = { 0, 0, 0, 5, 0, 0, 0, 2 };
    expect_load_error(&vw_desc, &q, low, sizeof(low), 1, VMS_ERR_VALIDATE, 4, "hi");
    VmsError e;
    assert_false(try_load(&vw_desc, &q, low, sizeof(low), 1, &e));
    assert_non_null(strstr(e.msg, "hi 2 is below lo 5"));
    assert_non_null(strstr(e.msg, "hi >= lo"));
    static const uint8_t seven[] = { 0, 0, 0, 7, 0, 0, 0, 9 };
    expect_load_error(&vw_desc, &q, seven, sizeof(seven), 1, VMS_ERR_HOOK, 0, "lo");
    assert_false(try_load(&vw_desc, &q, seven, sizeof(seven), 1, &e));
    assert_non_null(strstr(e.msg, "'lo' is 7"));
    /* A line too long for its buffer ends in "...", on purpose. */
    char small[24];
    int n = vms_error_format(&e, small, sizeof(small));
    assert_true(n >= (int)sizeof(small));
    assert_string_equal(small + sizeof(small) - 4, "...");
    char full[VMS_ERROR_LINE_MAX];
    assert_true(vms_error_format(&e, full, sizeof(full)) < (int)sizeof(full));
    assert_null(strstr(full, "..."));
    assert_null(strstr(full, "instance -1"));
}

/* ------------------------------------------------------------ hooks */

typedef struct Hk {
    uint32_t v;
    int fail;       /* 1 pre_save, 2 post_save, 3 pre_load, 4 post_load */
    int post_save_runs;
} Hk;

static bool hk_pre_save(void *o, VmsMsg *why)
{
    Hk *h = o;
    return h->fail == 1 ? vms_fail(why, "pre_save says no (%u)", h->v) : true;
}
static bool hk_post_save(void *o, VmsMsg *why)
{
    Hk *h = o;
    h->post_save_runs++;
    return h->fail == 2 ? vms_fail(why, "post_save says no") : true;
}
static bool hk_pre_load(void *o, int v, VmsMsg *why)
{
    return ((Hk *)o)->fail == 3 ? vms_fail(why, "pre_load says no") : true;
}
static bool hk_post_load(void *o, int v, VmsMsg *why)
{
    Hk *h = o;
    return h->fail == 4 ? vms_fail(why, "post_load says no to %u", h->v) : true;
}

static const VmsField hk_fields[] = { VMS_UINT32(v, Hk), VMS_END_OF_LIST() };
static const VmsDesc hk_desc = { .name = "hk", .version_id = 1, .minimum_version_id = 1,
                                 .fields = hk_fields, .pre_save = hk_pre_save,
                                 .post_save = hk_post_save, .pre_load = hk_pre_load,
                                 .post_load = hk_post_load };

static void test_hooks(void **state)
{
    Hk h = { 5, 0, 0 };
    static const uint8_t exp[] = { 0, 0, 0, 5 };
    expect_save(&hk_desc, &h, exp, sizeof(exp));
    assert_int_equal(h.post_save_runs, 1);
    h.fail = 1;
    expect_save_error(&hk_desc, &h, VMS_ERR_HOOK, 0, "");
    h.fail = 2;
    expect_save_error(&hk_desc, &h, VMS_ERR_HOOK, 4, "");
    Hk q = { 0, 3, 0 };
    expect_load_error(&hk_desc, &q, exp, sizeof(exp), 1, VMS_ERR_HOOK, 0, "");
    assert_int_equal(q.v, 0);
    q.fail = 4;
    VmsError e;
    assert_false(try_load(&hk_desc, &q, exp, sizeof(exp), 1, &e));
    assert_int_equal(e.cls, VMS_ERR_HOOK);
    assert_int_equal(e.offset, 4);
    assert_non_null(strstr(e.msg, "post_load says no to 5"));
}

/* ------------------------------------------------------------ errors */

static void test_error_format(void **state)
{
    VmsError e;
    vms_error_clear(&e);
    assert_int_equal(e.cls, VMS_ERR_NONE);
    assert_int_equal(e.instance, -1);
    e.cls = VMS_ERR_RANGE;
    snprintf(e.section, sizeof(e.section), "pl080");
    e.instance = 1;
    snprintf(e.field, sizeof(e.field), "chan[3].src");
    e.offset = 1234;
    snprintf(e.msg, sizeof(e.msg), "count 9 over capacity 8");
    char line[512];
    int n = vms_error_format(&e, line, sizeof(line));
    assert_string_equal(line, "range at offset 1234 in section 'pl080' instance 1 field "
                              "'chan[3].src': count 9 over capacity 8");
    assert_int_equal(n, (int)strlen(line));
    assert_null(strchr(line, '\n'));
    static const char *const names[] = { "none", "truncated", "format", "version", "unknown",
                                         "duplicate", "range", "equal", "validate", "hook",
                                         "limit", "config" };
    for (int i = 0; i <= VMS_ERR_CONFIG; i++)
        assert_string_equal(vms_error_class_name((VmsErrClass)i), names[i]);
    VmsMsg m;
    assert_false(vms_fail(&m, "x=%d", 3));
    assert_string_equal(m.text, "x=3");
    assert_false(vms_fail(NULL, "ignored"));
}

/* Output limit: LIMIT, naming the field that did not fit. */
static void test_save_limit(void **state)
{
    Prim p = prim_src();
    VmsOut o;
    vms_out_init(&o, 10);
    VmsError e;
    VmsCtx c = { .err = &e, .section = "t", .instance = 0 };
    assert_false(vms_save_state(&c, &o, &prim_desc, &p));
    assert_int_equal(e.cls, VMS_ERR_LIMIT);
    assert_int_equal(e.offset, 9);
    assert_string_equal(e.field, "u64");
    assert_string_equal(e.section, "t");
    assert_int_equal(e.instance, 0);
    vms_out_free(&o);
}

/* ------------------------------------------------------------ vmdesc JSON */

typedef struct Rep {
    uint32_t tc[3];
} Rep;

/* The same name several times, as PL080's tc_int. */
static const VmsField rep_fields[] = {
    { .name = "tc_int", .offset = offsetof(Rep, tc[0]), .size = 4, .info = &vms_info_uint32 },
    { .name = "tc_int", .offset = offsetof(Rep, tc[1]), .size = 4, .info = &vms_info_uint32 },
    { .name = "other", .offset = offsetof(Rep, tc[2]), .size = 4, .info = &vms_info_uint32 },
    VMS_END_OF_LIST(),
};
static const VmsDesc rep_desc = { .name = "rep", .version_id = 3, .minimum_version_id = 1,
                                  .fields = rep_fields };

static json_t *save_json(const VmsDesc *d, void *opaque, size_t *len)
{
    VmsOut o;
    VmsError e;
    vms_out_init(&o, 0);
    json_t *j = json_object();
    VmsCtx c = { .err = &e, .vmdesc = j };
    assert_true(vms_save_state(&c, &o, d, opaque));
    *len = o.len;
    vms_out_free(&o);
    return j;
}

static json_t *jfield(json_t *obj, size_t i) { return json_array_get(json_object_get(obj, "fields"), i); }
static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static long long jint(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

static void test_vmdesc_json(void **state)
{
    Shapes s;
    shapes_fill(&s);
    size_t len;
    json_t *j = save_json(&shapes_desc, &s, &len);
    assert_string_equal(jstr(j, "vmsd_name"), "shapes");
    assert_int_equal(jint(j, "version"), 1);
    assert_null(json_object_get(j, "subsections"));
    json_t *f = jfield(j, 0);
    assert_string_equal(jstr(f, "name"), "one");
    assert_string_equal(jstr(f, "type"), "struct");
    assert_null(json_object_get(f, "array_len"));
    assert_int_equal(jint(f, "size"), 3);
    json_t *st = json_object_get(f, "struct");
    assert_string_equal(jstr(st, "vmsd_name"), "pt");
    assert_string_equal(jstr(jfield(st, 0), "name"), "x");
    assert_string_equal(jstr(jfield(st, 0), "type"), "uint16");
    assert_int_equal(jint(jfield(st, 0), "size"), 2);
    assert_int_equal(jint(jfield(st, 1), "size"), 1);
    /* Key order as QEMU writes it. */
    const char *order[] = { "name", "array_len", "type", "struct", "size" };
    f = jfield(j, 1);
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach(f, key, val) assert_string_equal(key, order[k++]);
    assert_int_equal(k, 5);
    assert_int_equal(jint(f, "array_len"), 2);
    assert_int_equal(jint(f, "size"), 3);
    assert_string_equal(jstr(jfield(j, 2), "name"), "n");
    assert_int_equal(jint(jfield(j, 3), "array_len"), 2);        /* var: count 2 */
    assert_string_equal(jstr(jfield(j, 4), "type"), "struct");   /* *p */
    assert_string_equal(jstr(jfield(j, 5), "type"), "nullptr");  /* pnull */
    assert_int_equal(jint(jfield(j, 5), "size"), 1);
    /* Mixed NULL/non-NULL pointers: one entry per element. */
    for (int i = 0; i < 3; i++) {
        json_t *e = jfield(j, 6 + (size_t)i);
        assert_string_equal(jstr(e, "name"), "ptrs");
        assert_int_equal(jint(e, "index"), i);
        assert_string_equal(jstr(e, "type"), i == 1 ? "nullptr" : "struct");
    }
    assert_int_equal(json_array_size(json_object_get(j, "fields")), 9);
    /* Sizes add up to the body. */
    size_t sum = 0;
    for (size_t i = 0; i < 9; i++) {
        json_t *e = jfield(j, i);
        long long n = json_object_get(e, "array_len") ? jint(e, "array_len") : 1;
        sum += (size_t)(n * jint(e, "size"));
    }
    assert_int_equal(sum, len);
    json_decref(j);

    Rep r = { { 1, 2, 3 } };
    j = save_json(&rep_desc, &r, &len);
    assert_string_equal(jstr(jfield(j, 0), "name"), "tc_int[0]");
    assert_string_equal(jstr(jfield(j, 1), "name"), "tc_int[1]");
    assert_string_equal(jstr(jfield(j, 2), "name"), "other");
    assert_int_equal(jint(j, "version"), 3);
    json_decref(j);

    /* Subsections listed only when sent, without a name key. */
    SS ss = { .a = 7, .s1 = 1, .need2 = true };
    j = save_json(&ss_desc, &ss, &len);
    json_t *subs = json_object_get(j, "subsections");
    assert_int_equal(json_array_size(subs), 1);
    json_t *sub = json_array_get(subs, 0);
    assert_string_equal(jstr(sub, "vmsd_name"), "ss/two");
    assert_null(json_object_get(sub, "name"));
    assert_int_equal(jint(jfield(sub, 0), "size"), 1);
    json_decref(j);
    ss.need2 = false;
    j = save_json(&ss_desc, &ss, &len);
    assert_null(json_object_get(j, "subsections"));
    json_decref(j);

    /* A struct with subsections cannot be compressed. */
    CK ck;
    devclock_init(&ck.obj);
    ck.clk = &ck.obj;
    j = save_json(&ck_desc, &ck, &len);
    f = jfield(j, 0);
    assert_string_equal(jstr(f, "name"), "clk");
    assert_int_equal(jint(f, "size"), 8);
    json_decref(j);
    ck.obj.divider = 4;
    j = save_json(&ck_desc, &ck, &len);
    f = jfield(j, 0);
    assert_int_equal(jint(f, "size"), 8 + 2 + 12 + 4 + 8);
    st = json_object_get(f, "struct");
    assert_string_equal(jstr(json_array_get(json_object_get(st, "subsections"), 0), "vmsd_name"),
                        "clock/muldiv");
    json_decref(j);
}

/* ------------------------------------------------------------ observer */

typedef struct Obs {
    int saves, loads;
    size_t bytes;
} Obs;

static void observe(void *opaque, const VmsDesc *d, const VmsField *f, uint32_t index,
                    const void *pv, size_t size, bool loading)
{
    Obs *o = opaque;
    if (loading)
        o->loads++;
    else
        o->saves++;
    o->bytes += size;
}

static void test_observer(void **state)
{
    Shapes s, q;
    shapes_fill(&s);
    Obs ob = { 0 };
    VmsOut o;
    VmsError e;
    vms_out_init(&o, 0);
    VmsCtx c = { .err = &e, .observe = observe, .obs_opaque = &ob };
    assert_true(vms_save_state(&c, &o, &shapes_desc, &s));
    /* one(2) + arr(4) + n(1) + var(4) + p(2) + ptrs(4) leaves; markers are not leaves. */
    assert_int_equal(ob.saves, 17);
    shapes_wire(&q);
    VmsIn in;
    vms_in_init(&in, o.buf, o.len);
    assert_true(vms_load_state(&c, &in, &shapes_desc, &q, 1));
    assert_int_equal(ob.loads, 17);
    vms_out_free(&o);
}

/* ------------------------------------------------------------ walk events */

typedef struct Ev {
    int n;
    VmsObsEvent ev[16];
    const VmsDesc *d[16];
    int ver[16];
} Ev;

static void on_event(void *opaque, VmsObsEvent ev, const VmsDesc *d, int version,
                     const VmsError *err)
{
    Ev *e = opaque;
    if (e->n < 16) {
        e->ev[e->n] = ev;
        e->d[e->n] = d;
        e->ver[e->n] = version;
        e->n++;
    }
}

static void test_walk_events(void **state)
{
    SS s = { .a = 7, .s1 = 0x11, .need1 = true };
    Ev ev = { 0 };
    VmsOut o;
    VmsError e;
    vms_out_init(&o, 0);
    VmsCtx c = { .err = &e, .observe_event = on_event, .obs_opaque = &ev };
    assert_true(vms_save_state(&c, &o, &ss_desc, &s));
    assert_int_equal(ev.n, 4);
    assert_true(ev.ev[0] == VMS_OBS_SAVE_DESC && ev.d[0] == &ss_desc && ev.ver[0] == 1);
    assert_true(ev.ev[1] == VMS_OBS_SUB_NEEDED && ev.d[1] == &ss_one);
    assert_true(ev.ev[2] == VMS_OBS_SAVE_DESC && ev.d[2] == &ss_one);
    assert_true(ev.ev[3] == VMS_OBS_SUB_NOT_NEEDED && ev.d[3] == &ss_two);
    memset(&ev, 0, sizeof(ev));
    SS q = { 0 };
    VmsIn in;
    vms_in_init(&in, o.buf, o.len);
    assert_true(vms_load_state(&c, &in, &ss_desc, &q, 1));
    /* Each post_load is bracketed, so an observer can tell what it changed. */
    assert_int_equal(ev.n, 7);
    assert_true(ev.ev[0] == VMS_OBS_LOAD_DESC && ev.d[0] == &ss_desc && ev.ver[0] == 1);
    assert_true(ev.ev[1] == VMS_OBS_SUB_LOADED && ev.d[1] == &ss_one && ev.ver[1] == 1);
    assert_true(ev.ev[2] == VMS_OBS_LOAD_DESC && ev.d[2] == &ss_one);
    assert_true(ev.ev[3] == VMS_OBS_POST_LOAD_BEGIN && ev.d[3] == &ss_one);
    assert_true(ev.ev[4] == VMS_OBS_POST_LOAD_END && ev.d[4] == &ss_one);
    assert_true(ev.ev[5] == VMS_OBS_POST_LOAD_BEGIN && ev.d[5] == &ss_desc);
    assert_true(ev.ev[6] == VMS_OBS_POST_LOAD_END && ev.d[6] == &ss_desc);
    vms_out_free(&o);
}

/* ------------------------------------------------------------ member coverage */

typedef struct Cov {
    uint8_t hit[sizeof(Var) > sizeof(Shapes) ? sizeof(Var) : sizeof(Shapes)];
    int calls;
} Cov;

static void cover(void *arg, const VmsDesc *d, const VmsField *f, size_t off, size_t size)
{
    Cov *c = arg;
    c->calls++;
    for (size_t i = off; i < off + size && i < sizeof(c->hit); i++)
        c->hit[i]++;
}

static void test_for_each_member(void **state)
{
    Cov c = { { 0 }, 0 };
    vms_for_each_member(&var_desc, cover, &c);
    /* Every byte of Var is covered (counts, arrays), once as a field and
     * once more for each count member a VARRAY names. */
    for (size_t i = 0; i < sizeof(Var); i++) {
        if (i == 1)
            assert_int_equal(c.hit[i], 0);     /* padding after n8 */
        else
            assert_int_equal(c.hit[i], i < offsetof(Var, a8) ? 2 : 1);
    }
    memset(&c, 0, sizeof(c));
    vms_for_each_member(&shapes_desc, cover, &c);
    assert_int_equal(c.hit[offsetof(Shapes, one) + offsetof(Pt, x)], 1);
    assert_int_equal(c.hit[offsetof(Shapes, arr[1]) + offsetof(Pt, y)], 1);
    assert_int_equal(c.hit[offsetof(Shapes, arr[1]) + 3], 0);      /* padding */
    assert_int_equal(c.hit[offsetof(Shapes, p)], 1);               /* the pointer itself */
    assert_int_equal(c.hit[offsetof(Shapes, ptrs[2]) + 7], 1);
    assert_int_equal(c.hit[offsetof(Shapes, pool)], 0);            /* only reached via pointers */
    assert_int_equal(c.hit[offsetof(Shapes, n)], 2);               /* field and count */
    /* Subsections: both members of SS. */
    Cov d = { { 0 }, 0 };
    vms_for_each_member(&ss_desc, cover, &d);
    assert_int_equal(d.calls, 3);
    assert_int_equal(d.hit[offsetof(SS, s1)], 1);
    assert_int_equal(d.hit[offsetof(SS, s2)], 1);
    /* VALIDATE and unused cover nothing. */
    Cov v = { { 0 }, 0 };
    vms_for_each_member(&va_desc, cover, &v);
    assert_int_equal(v.calls, 3);
    Cov b = { { 0 }, 0 };
    vms_for_each_member(&bufs_desc, cover, &b);
    /* b, bp, vlen, vb's size member, vb, alen, ab's size member, ab's pointer */
    assert_int_equal(b.calls, 8);
    assert_int_equal(b.hit[offsetof(Bufs, vlen)], 2);
    assert_int_equal(b.hit[offsetof(Bufs, vb) + 7], 1);
}

/* Names and values quoted from a hostile stream cannot break the one-line
 * report: control and non-ASCII bytes are escaped. */
static void test_error_format_is_one_line(void **state)
{
    (void)state;
    VmsError e;
    vms_error_clear(&e);
    e.cls = VMS_ERR_CONFIG;
    e.offset = 9;
    snprintf(e.section, sizeof(e.section), "conf\nig");
    e.instance = 0;
    snprintf(e.field, sizeof(e.field), "f\r\x01");
    snprintf(e.msg, sizeof(e.msg), "machine type 'a\nb\xff' does not match");
    char line[1024];
    vms_error_format(&e, line, sizeof(line));
    assert_null(strchr(line, '\n'));
    assert_null(strchr(line, '\r'));
    assert_string_equal(line, "config at offset 9 in section 'conf\\x0aig' instance 0 field "
                              "'f\\x0d\\x01': machine type 'a\\x0ab\\xff' does not match");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_format_is_one_line),
        cmocka_unit_test(test_primitive),
        cmocka_unit_test(test_primitive_truncated),
        cmocka_unit_test(test_bool_nonzero_is_true),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_varrays),
        cmocka_unit_test(test_varray_hostile_counts),
        cmocka_unit_test(test_structs_and_pointers),
        cmocka_unit_test(test_struct_errors_name_element),
        cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_buffer_over_capacity),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_int32_le),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_versioned_load),
        cmocka_unit_test(test_versioned_macros),
        cmocka_unit_test(test_field_exists),
        cmocka_unit_test(test_rejection_names_member),
        cmocka_unit_test(test_subsections_needed),
        cmocka_unit_test(test_subsections_bad),
        cmocka_unit_test(test_subsection_foreign_prefix),
        cmocka_unit_test(test_subsection_header_truncated),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_save_limit),
        cmocka_unit_test(test_vmdesc_json),
        cmocka_unit_test(test_observer),
        cmocka_unit_test(test_walk_events),
        cmocka_unit_test(test_for_each_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
