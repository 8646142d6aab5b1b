/* devtest.c - see devtest.h. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devtest.h"

static void devtest_sink(void *opaque, const MachEvent *ev)
{
    DevTest *t = opaque;
    if (t->n_ev == t->cap_ev) {
        size_t cap = t->cap_ev ? 2 * t->cap_ev : 64;
        MachEvent *p = realloc(t->ev, cap * sizeof(*p));
        assert_non_null(p);
        t->ev = p;
        t->cap_ev = cap;
    }
    t->ev[t->n_ev++] = *ev;
}

DevTest *devtest_new(const char *type, const DevProp *props)
{
    return devtest_new_with_slave(type, props, NULL);
}

DevTest *devtest_new_with_slave(const char *type, const DevProp *props, const char *slave)
{
    DevTest *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    snprintf(t->type, sizeof(t->type), "%s", type);
    if (slave) {
        snprintf(t->slave, sizeof(t->slave), "%s", slave);
        t->cfg[1] = (DevConfig){ t->slave, 0, { -1, -1, -1, -1 }, { { "ssi-bus", DEVTEST_BASE } }, 0 };
    }
    DevConfig *c = &t->cfg[0];
    c->type = t->type;
    c->base = DEVTEST_BASE;
    c->irq[0] = DEVTEST_IRQ;
    for (unsigned i = 1; i < DEV_MAX_IRQS; i++)
        c->irq[i] = -1;
    for (unsigned i = 0; props && props[i].name && i + 1 < DEV_MAX_PROPS; i++)
        c->props[i] = props[i];
    t->board.name = "devtest";
    t->board.summary = "one device under test";
    t->board.flash_size = 0x1000;
    t->board.sram_size = 0x1000;
    t->board.devices = t->cfg;      /* the first all-zero entry is the terminator */

    VmsMsg why = { { 0 } };
    t->m = mach_new(&t->board, &why);
    if (!t->m)
        fail_msg("mach_new(%s): %s", type, why.text);
    mach_set_event_sink(t->m, devtest_sink, t);
    return t;
}

void devtest_free(DevTest *t)
{
    if (!t)
        return;
    mach_free(t->m);
    free(t->ev);
    free(t);
}

int devtest_teardown(void **state)
{
    devtest_free(*state);
    return 0;
}

uint32_t devtest_read_n(DevTest *t, uint32_t offset, unsigned size)
{
    uint32_t v = 0;
    if (!mach_bus_read(t->m, DEVTEST_BASE + offset, size, &v))
        fail_msg("bus error reading %s+0x%03x", t->type, (unsigned)offset);
    return v;
}

void devtest_write_n(DevTest *t, uint32_t offset, uint32_t value, unsigned size)
{
    if (!mach_bus_write(t->m, DEVTEST_BASE + offset, size, value))
        fail_msg("bus error writing %s+0x%03x", t->type, (unsigned)offset);
}

uint32_t devtest_read(DevTest *t, uint32_t offset) { return devtest_read_n(t, offset, 4); }
void devtest_write(DevTest *t, uint32_t offset, uint32_t value) { devtest_write_n(t, offset, value, 4); }
void devtest_idle(DevTest *t, uint64_t cycles) { mach_idle(t->m, cycles); }
void *devtest_state(DevTest *t) { return mach_device_state(t->m, 0); }

void devtest_input(DevTest *t, unsigned channel, uint32_t value)
{
    assert_true(mach_input(t->m, 0, channel, value));
}

void devtest_clear_events(DevTest *t) { t->n_ev = 0; }

size_t devtest_count(const DevTest *t, MachEventKind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_ev; i++)
        n += t->ev[i].kind == kind;
    return n;
}

const MachEvent *devtest_event(const DevTest *t, MachEventKind kind, size_t i)
{
    for (size_t k = 0; k < t->n_ev; k++)
        if (t->ev[k].kind == kind && i-- == 0)
            return &t->ev[k];
    fail_msg("no event %zu of kind %d", i, (int)kind);
    return NULL;
}

int devtest_irq(const DevTest *t)
{
    for (size_t k = t->n_ev; k-- > 0;)
        if (t->ev[k].kind == MACH_EV_IRQ) {
            assert_int_equal(t->ev[k].channel, DEVTEST_IRQ);
            return t->ev[k].value != 0;
        }
    return 0;
}

void devtest_same_irq_events(const DevTest *a, const DevTest *b)
{
    size_t n = devtest_count(a, MACH_EV_IRQ);
    assert_int_equal(devtest_count(b, MACH_EV_IRQ), n);
    for (size_t i = 0; i < n; i++) {
        const MachEvent *x = devtest_event(a, MACH_EV_IRQ, i), *y = devtest_event(b, MACH_EV_IRQ, i);
        assert_int_equal(x->value, y->value);
        assert_int_equal(x->cycle, y->cycle);
    }
}

void devtest_same_events(const DevTest *a, const DevTest *b)
{
    assert_int_equal(a->n_ev, b->n_ev);
    for (size_t i = 0; i < a->n_ev; i++) {
        assert_int_equal(a->ev[i].cycle, b->ev[i].cycle);
        assert_int_equal(a->ev[i].kind, b->ev[i].kind);
        assert_int_equal(a->ev[i].channel, b->ev[i].channel);
        assert_int_equal(a->ev[i].value, b->ev[i].value);
    }
    assert_int_equal(mach_digest(a->m), mach_digest(b->m));
}

void devtest_check_ids(DevTest *t, const uint8_t id[8])
{
    for (unsigned i = 0; i < 8; i++) {
        uint32_t off = 0xfe0 + 4 * i;
        assert_int_equal(devtest_read(t, off), id[i]);
        devtest_write(t, off, 0xa5);
        assert_int_equal(devtest_read(t, off), id[i]);
    }
}

void devtest_check_members(const char *type)
{
    const DevType *dt = dev_type_find(type);
    assert_non_null(dt);
    VmsMsg why = { { 0 } };
    if (!dev_members_check(dt->members, dt->state_size, &why))
        fail_msg("%s member table: %s", type, why.text);
}

uint8_t *devtest_save(DevTest *t, size_t *len, VmsMap *map)
{
    VmsOut out;
    vms_out_init(&out, 0);
    VmsSaveOpts opts = { .no_vmdesc = true, .map = map };
    VmsError err;
    vms_error_clear(&err);
    if (!mach_save(t->m, &out, &opts, &err)) {
        char line[400];
        vms_error_format(&err, line, sizeof(line));
        fail_msg("save: %s", line);
    }
    *len = out.len;
    return out.buf;     /* the stream's buffer becomes the caller's */
}

static DevTest *devtest_twin(const DevTest *t)
{
    const DevProp *props = t->cfg[0].props;
    return devtest_new_with_slave(t->type, props[0].name ? props : NULL, t->slave[0] ? t->slave : NULL);
}

/* Load buf (freed here) into a fresh twin of t, which must accept it. */
static DevTest *load_into_twin(const DevTest *t, uint8_t *buf, size_t len, const char *what)
{
    DevTest *dst = devtest_twin(t);
    VmsError err;
    vms_error_clear(&err);
    bool ok = mach_load(dst->m, buf, len, &err);
    free(buf);
    if (!ok) {
        char line[400];
        vms_error_format(&err, line, sizeof(line));
        fail_msg("load%s: %s", what, line);
    }
    devtest_clear_events(dst);
    return dst;
}

DevTest *devtest_migrate(DevTest *t)
{
    size_t len;
    uint8_t *buf = devtest_save(t, &len, NULL);
    return load_into_twin(t, buf, len, "");
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* s contains w as a whole word (so "im" is not found in "instance"). */
static bool has_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = strstr(s, w); p; p = strstr(p + 1, w)) {
        bool start = p == s || !(p[-1] == '_' || isalnum((unsigned char)p[-1]));
        bool end = !(p[n] == '_' || isalnum((unsigned char)p[n]));
        if (start && end)
            return true;
    }
    return false;
}

/* Where leaf `field` is in a stream mapped by `map`. Devices are the last
 * sections, so the last span with this path is the device's even if a
 * core section has a field of the same name. */
static VmsSpan find_leaf(const VmsMap *map, const char *field, size_t len)
{
    const VmsSpan *hit = NULL;
    for (size_t i = map->n; i-- > 0 && !hit;)
        if (map->spans[i].path && strcmp(map->spans[i].path, field) == 0)
            hit = &map->spans[i];
    if (!hit)
        fail_msg("no field '%s' in the stream map", field);
    assert_true(hit->size <= 8 && hit->offset + hit->size <= len);
    return *hit;
}

/* t's stream (saved once) with the big-endian value of each patch's leaf set. */
static uint8_t *save_patched(DevTest *t, const DevtestPatch *p, size_t n, size_t *len)
{
    VmsMap map;
    vms_map_init(&map);
    uint8_t *buf = devtest_save(t, len, &map);
    for (size_t k = 0; k < n; k++) {
        VmsSpan at = find_leaf(&map, p[k].field, *len);
        put_be(buf + at.offset, p[k].value, at.size);
    }
    vms_map_free(&map);
    return buf;
}

uint64_t devtest_field(DevTest *t, const char *field)
{
    VmsMap map;
    vms_map_init(&map);
    size_t len;
    uint8_t *buf = devtest_save(t, &len, &map);
    VmsSpan at = find_leaf(&map, field, len);
    uint64_t v = 0;
    for (size_t i = 0; i < at.size; i++)
        v = v << 8 | buf[at.offset + i];
    vms_map_free(&map);
    free(buf);
    return v;
}

void devtest_hostile(DevTest *t, const char *field, uint64_t value)
{
    devtest_hostile_error(t, field, value, NULL);
}

void devtest_hostile_error(DevTest *t, const char *field, uint64_t value, VmsError *out)
{
    devtest_hostile_patches(t, &(DevtestPatch){ field, value }, 1, out);
}

void devtest_hostile_patches(DevTest *t, const DevtestPatch *p, size_t n, VmsError *out)
{
    size_t len;
    uint8_t *buf = save_patched(t, p, n, &len);

    DevTest *fresh = devtest_twin(t);
    uint64_t power_on = mach_digest(fresh->m);
    devtest_free(fresh);

    DevTest *dst = devtest_twin(t);
    mach_idle(dst->m, 12345);   /* not at power-on: the load must reset it */
    VmsError err;
    vms_error_clear(&err);
    bool ok = mach_load(dst->m, buf, len, &err);
    free(buf);
    char line[400];
    vms_error_format(&err, line, sizeof(line));
    if (ok)
        fail_msg("a stream with %s = %llu loaded", p[0].field, (unsigned long long)p[0].value);
    if (strcmp(err.field, p[0].field) != 0 && !has_word(err.msg, p[0].field))
        fail_msg("error does not name '%s': %s", p[0].field, line);
    assert_int_equal(mach_digest(dst->m), power_on);
    devtest_free(dst);
    if (out)
        *out = err;
}

DevTest *devtest_migrate_patched(DevTest *t, const char *field, uint64_t value)
{
    return devtest_migrate_patches(t, &(DevtestPatch){ field, value }, 1);
}

DevTest *devtest_migrate_patches(DevTest *t, const DevtestPatch *p, size_t n)
{
    size_t len;
    uint8_t *buf = save_patched(t, p, n, &len);
    char what[160];
    snprintf(what, sizeof(what), " with %s = %llu%s", p[0].field, (unsigned long long)p[0].value,
             n > 1 ? " (and more)" : "");
    return load_into_twin(t, buf, len, what);
}

void devtest_fixpoint(DevTest *t)
{
    size_t n1, n2;
    uint8_t *s1 = devtest_save(t, &n1, NULL);
    DevTest *b = devtest_migrate(t);
    uint8_t *s2 = devtest_save(b, &n2, NULL);
    assert_int_equal(n1, n2);
    for (size_t i = 0; i < n1; i++)
        if (s1[i] != s2[i])
            fail_msg("save, load, save differs at byte %zu of %zu: 0x%02x then 0x%02x", i, n1,
                     s1[i], s2[i]);
    free(s1);
    free(s2);
    devtest_free(b);
}
