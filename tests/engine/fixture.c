/* fixture.c - the compound test machine. See fixture.h. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

static const VmsField tchan_fields[] = {
    VMS_UINT32(src, TChan),
    VMS_UINT32(dst, TChan),
    VMS_UINT16(ctl, TChan),
    VMS_END_OF_LIST(),
};

const VmsDesc tchan_desc = {
    .name = "tchan",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = tchan_fields,
};

static bool tdev_tested_exists(void *opaque, int version_id)
{
    return ((TDev *)opaque)->has_tested;
}

static bool tdev_counts_ok(void *opaque, int version_id)
{
    const TDev *d = opaque;
    return d->n8 <= 4 && d->n16 <= 4;
}

static bool tdev_extra_needed(void *opaque) { return ((TDev *)opaque)->extra_on; }
static bool tdev_deep_needed(void *opaque) { return ((TDev *)opaque)->deep != 0; }

static bool tdev_extra_post_load(void *opaque, int version_id, VmsMsg *why)
{
    ((TDev *)opaque)->extra_on = true;
    return true;
}

static const VmsField tdev_deep_fields[] = {
    VMS_UINT16(deep, TDev),
    VMS_END_OF_LIST(),
};

static const VmsDesc tdev_deep_desc = {
    .name = "tdev/extra/deep",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = tdev_deep_fields,
    .needed = tdev_deep_needed,
};

static const VmsDesc *const tdev_extra_subs[] = { &tdev_deep_desc, NULL };

static const VmsField tdev_extra_fields[] = {
    VMS_UINT32(extra, TDev),
    VMS_END_OF_LIST(),
};

static const VmsDesc tdev_extra_desc = {
    .name = "tdev/extra",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = tdev_extra_fields,
    .subsections = tdev_extra_subs,
    .needed = tdev_extra_needed,
    .post_load = tdev_extra_post_load,
};

static const VmsDesc *const tdev_subs[] = { &tdev_extra_desc, NULL };

static const VmsField tdev_fields[] = {
    VMS_BOOL(flag, TDev),
    VMS_INT8(i8, TDev),
    VMS_INT16(i16, TDev),
    VMS_INT32(i32, TDev),
    VMS_INT64(i64, TDev),
    VMS_UINT8(u8, TDev),
    VMS_UINT16(u16, TDev),
    VMS_UINT32(u32, TDev),
    VMS_UINT64(u64, TDev),
    VMS_UINT8_EQUAL(eq8, TDev),
    VMS_UINT16_EQUAL(eq16, TDev),
    VMS_UINT32_EQUAL(eq32, TDev),
    VMS_INT32_EQUAL(eqi32, TDev),
    VMS_UINT64_EQUAL(eq64, TDev),
    VMS_INT32_POSITIVE_LE(le, TDev),
    VMS_BOOL_ARRAY(bools, TDev, 2),
    VMS_INT8_ARRAY(i8s, TDev, 2),
    VMS_INT16_ARRAY(i16s, TDev, 2),
    VMS_INT32_ARRAY(i32s, TDev, 2),
    VMS_INT64_ARRAY(i64s, TDev, 2),
    VMS_UINT8_ARRAY(u8s, TDev, 3),
    VMS_UINT16_ARRAY(u16s, TDev, 3),
    VMS_UINT32_ARRAY(u32s, TDev, 3),
    VMS_UINT64_ARRAY(u64s, TDev, 2),
    VMS_UINT8(n8, TDev),
    VMS_UINT16(n16, TDev),
    VMS_UINT32(n32, TDev),
    VMS_INT32(ni32, TDev),
    VMS_VALIDATE("counts in range", tdev_counts_ok),
    VMS_VARRAY_UINT8(va8, TDev, n8, 4, vms_info_uint32, uint32_t),
    VMS_VARRAY_UINT16(va16, TDev, n16, 4, vms_info_uint16, uint16_t),
    VMS_VARRAY_UINT32(va32, TDev, n32, 4, vms_info_uint8, uint8_t),
    VMS_VARRAY_INT32(vai32, TDev, ni32, 4, vms_info_int64, int64_t),
    VMS_STRUCT_ARRAY(chan, TDev, 4, tchan_desc, TChan),
    VMS_UINT32(nchan, TDev),
    VMS_STRUCT_VARRAY_UINT32(vchan, TDev, nchan, 4, tchan_desc, TChan),
    VMS_STRUCT_POINTER(cp, TDev, tchan_desc, TChan),
    VMS_STRUCT_POINTER(cnull, TDev, tchan_desc, TChan),
    VMS_ARRAY_OF_POINTER_TO_STRUCT(cptrs, TDev, 3, tchan_desc, TChan),
    VMS_BUFFER(buf, TDev),
    VMS_BUFFER_POINTER(bufp, TDev, 5),
    VMS_UINT32(vlen, TDev),
    VMS_VBUFFER_UINT32(vbuf, TDev, vlen, 16),
    VMS_UINT32(alen, TDev),
    VMS_VBUFFER_ALLOC_UINT32(abuf, TDev, alen, 32),
    VMS_UNUSED(3),
    VMS_UINT32_V(late, TDev, 2),
    VMS_UINT32_TEST(tested, TDev, tdev_tested_exists),
    VMS_END_OF_LIST(),
};

const VmsDesc tdev_desc = {
    .name = "tdev",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = tdev_fields,
    .subsections = tdev_subs,
};

static const VmsField tclk_fields[] = {
    VMS_TIMER(t, TClk),
    VMS_TIMER_PTR(tp, TClk),
    VMS_CLOCK(clk, TClk),
    VMS_UINT32(ctrl, TClk),
    VMS_END_OF_LIST(),
};

const VmsDesc tclk_desc = {
    .name = "tclk",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = tclk_fields,
};

void tdev_init(TDev *d)
{
    memset(d, 0, sizeof(*d));
    d->eq8 = 0x12;
    d->eq16 = 0x1234;
    d->eq32 = 0x12345678;
    d->eqi32 = -5;
    d->eq64 = 0x0123456789abcdefull;
    d->le = 100;
    d->cp = &d->pool[0];
    d->cptrs[0] = &d->pool[1];
    d->cptrs[2] = &d->pool[2];
    d->bufp = d->bufp_store;
    d->has_tested = true;   /* the predicate must agree on both sides */
}

static uint32_t next(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* One call per statement: initialiser lists leave evaluation order open. */
static TChan next_chan(uint32_t *s)
{
    TChan c;
    memset(&c, 0, sizeof(c));
    c.src = next(s);
    c.dst = next(s);
    c.ctl = (uint16_t)next(s);
    return c;
}

void tdev_fill(TDev *d, uint32_t seed)
{
    tdev_init(d);
    uint32_t s = seed * 2654435761u + 1;
#define NEXT() next(&s)
    d->flag = true;
    d->i8 = (int8_t)-(int)(NEXT() & 0x7f);
    d->i16 = (int16_t)-(int)(NEXT() & 0x7fff);
    d->i32 = -(int32_t)NEXT();
    d->i64 = -(int64_t)NEXT() * 1000003;
    d->u8 = (uint8_t)NEXT();
    d->u16 = (uint16_t)NEXT();
    d->u32 = NEXT() | 0x80000000u;
    d->u64 = ((uint64_t)NEXT() << 40) | NEXT();
    d->le = 42;
    d->bools[1] = true;
    for (int i = 0; i < 2; i++) {
        d->i8s[i] = (int8_t)NEXT();
        d->i16s[i] = (int16_t)NEXT();
        d->i32s[i] = (int32_t)NEXT();
        d->i64s[i] = -(int64_t)NEXT();
        d->u64s[i] = (uint64_t)NEXT() << 20;
    }
    for (int i = 0; i < 3; i++) {
        d->u8s[i] = (uint8_t)NEXT();
        d->u16s[i] = (uint16_t)NEXT();
        d->u32s[i] = NEXT();
    }
    d->n8 = 3;
    d->n16 = 2;
    d->n32 = 4;
    d->ni32 = 1;
    for (int i = 0; i < d->n8; i++)
        d->va8[i] = NEXT();
    for (int i = 0; i < d->n16; i++)
        d->va16[i] = (uint16_t)NEXT();
    for (int i = 0; i < (int)d->n32; i++)
        d->va32[i] = (uint8_t)NEXT();
    d->vai32[0] = -(int64_t)NEXT();
    for (int i = 0; i < 4; i++)
        d->chan[i] = next_chan(&s);
    d->nchan = 2;
    for (int i = 0; i < 2; i++)
        d->vchan[i] = next_chan(&s);
    for (int i = 0; i < 3; i++)
        d->pool[i] = next_chan(&s);
    for (int i = 0; i < 6; i++)
        d->buf[i] = (uint8_t)NEXT();
    for (int i = 0; i < 5; i++)
        d->bufp_store[i] = (uint8_t)NEXT();
    d->vlen = 7;
    for (int i = 0; i < 7; i++)
        d->vbuf[i] = (uint8_t)NEXT();
    d->alen = 9;
    d->abuf = malloc(d->alen);
    for (uint32_t i = 0; i < d->alen; i++)
        d->abuf[i] = (uint8_t)NEXT();
    d->late = NEXT();
    d->has_tested = true;
    d->tested = NEXT();
    d->extra_on = true;
    d->extra = NEXT();
    d->deep = (uint16_t)(NEXT() | 1);
#undef NEXT
}

void tdev_fini(TDev *d)
{
    free(d->abuf);
    d->abuf = NULL;
}

void tclk_init(TClk *c, VClock *vc)
{
    memset(c, 0, sizeof(*c));
    vtimer_init(&c->t, vc, NULL, c);
    vtimer_init(&c->tp_obj, vc, NULL, c);
    c->tp = &c->tp_obj;
    devclock_init(&c->clk_obj);
    c->clk = &c->clk_obj;
}

void tclk_fill(TClk *c, uint32_t seed)
{
    vtimer_mod(&c->t, 1000 + seed);
    devclock_set_hz(&c->clk_obj, 25000000);
    c->clk_obj.multiplier = 3;
    c->clk_obj.divider = 2;
    c->ctrl = 0xc0ffee00u | seed;
}

void tmachine_init(TMachine *m, bool fill, uint32_t seed)
{
    memset(m, 0, sizeof(*m));
    vclock_init(&m->vc);
    vms_registry_init(&m->reg, "vmstress-test");
    for (int i = 0; i < 2; i++) {
        if (fill)
            tdev_fill(&m->dev[i], seed + (uint32_t)i);
        else
            tdev_init(&m->dev[i]);
        vms_register(&m->reg, "tdev", -1, &tdev_desc, &m->dev[i]);
    }
    tclk_init(&m->clk, &m->vc);
    if (fill)
        tclk_fill(&m->clk, seed);
    vms_register(&m->reg, "tclk", 0, &tclk_desc, &m->clk);
}

void tmachine_fini(TMachine *m)
{
    tdev_fini(&m->dev[0]);
    tdev_fini(&m->dev[1]);
    vms_registry_free(&m->reg);
}

#define SAME(x) if (memcmp(&a->x, &b->x, sizeof(a->x)) != 0) return #x

static const char *tdev_diff(const TDev *a, const TDev *b)
{
    SAME(flag); SAME(i8); SAME(i16); SAME(i32); SAME(i64);
    SAME(u8); SAME(u16); SAME(u32); SAME(u64);
    SAME(eq8); SAME(eq16); SAME(eq32); SAME(eqi32); SAME(eq64); SAME(le);
    SAME(bools); SAME(i8s); SAME(i16s); SAME(i32s); SAME(i64s);
    SAME(u8s); SAME(u16s); SAME(u32s); SAME(u64s);
    SAME(n8); SAME(n16); SAME(n32); SAME(ni32);
    SAME(va8); SAME(va16); SAME(va32); SAME(vai32);
    SAME(chan); SAME(nchan); SAME(vchan); SAME(pool);
    SAME(buf); SAME(bufp_store); SAME(vlen); SAME(vbuf); SAME(alen);
    if (a->alen && memcmp(a->abuf, b->abuf, a->alen) != 0)
        return "abuf";
    SAME(late); SAME(tested); SAME(extra); SAME(extra_on); SAME(deep);
    if (a->cnull || b->cnull || a->cptrs[1] || b->cptrs[1])
        return "NULL pointers";
    return NULL;
}

static const char *tclk_diff(const TClk *a, const TClk *b)
{
    SAME(t.deadline); SAME(tp_obj.deadline); SAME(clk_obj); SAME(ctrl);
    return NULL;
}
#undef SAME

const char *tmachine_diff(const TMachine *a, const TMachine *b)
{
    const char *d;
    for (int i = 0; i < 2; i++)
        if ((d = tdev_diff(&a->dev[i], &b->dev[i])))
            return d;
    return tclk_diff(&a->clk, &b->clk);
}
