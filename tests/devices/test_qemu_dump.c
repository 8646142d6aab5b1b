/*
 * test_qemu_dump.c - vmstress's device descriptions against QEMU 7.2's.
 *
 * At test time, QEMU writes its -dump-vmstate JSON for the virt machine and
 * vmstress dumps its machine types the way `vmstress dump-vmstate --board T`
 * does. Each device type is compared as the oldest machine type that has it
 * saves it: vmstress-m0-1.0 is QEMU 7.2-equal, and a later release changes a
 * description only behind a compat property that the older machine type
 * switches off (docs/compat.md); a device type added by a later release
 * (only on a newer machine type) is compared as the newest type saves it.
 * For each device type both have, the top level (Name, version ids) and the
 * whole Description tree are compared: field names and order, version_id,
 * field_exists, size, num (when QEMU prints it), nested Descriptions, and
 * Subsections matched by name. Every difference is printed as one line.
 *
 * "arm_timer" (the SP804's per-timer section) is not a QOM type, so QEMU's
 * dump lacks it; it is checked against the reference field list instead,
 * with the nested "ptimer" taken from QEMU's dump of another device.
 *
 * qemu-system-arm is required (ci/setup installs it): if it is missing the
 * test fails and says so. QEMU_SYSTEM_ARM overrides the binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "device.h"
#include "machine.h"
#include "savevm.h"

#ifndef VMS_TEST_TMPDIR
#define VMS_TEST_TMPDIR "."
#endif

static const char *const compared_types[] = {
    "pl011", "pl031", "pl061", "pl061_luminary", "sp804", "cmsdk-apb-watchdog",
    "pl080", "pl022",
};
#define N_COMPARED (sizeof(compared_types) / sizeof(compared_types[0]))

/* ------------------------------------------------------------ comparison */

typedef struct Diffs {
    unsigned n;
    bool quiet;     /* the comparator's own self-test does not print */
} Diffs;

static void diff(Diffs *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void diff(Diffs *d, const char *path, const char *fmt, ...)
{
    d->n++;
    if (d->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "DIFF %s: ", path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Build a child path (truncated if absurdly deep; it is only for messages). */
static void subpath(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void subpath(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

/* Compare one key of two objects as JSON values (both absent is equal). */
static void cmp_key(Diffs *d, const char *path, const json_t *q, const json_t *v, const char *key)
{
    const json_t *a = json_object_get(q, key), *b = json_object_get(v, key);
    if (!a && !b)
        return;
    if (!a || !b || !json_equal((json_t *)a, (json_t *)b)) {
        char *sa = a ? json_dumps(a, JSON_ENCODE_ANY) : NULL;
        char *sb = b ? json_dumps(b, JSON_ENCODE_ANY) : NULL;
        diff(d, path, "%s: qemu %s, vmstress %s", key, sa ? sa : "(absent)", sb ? sb : "(absent)");
        free(sa);
        free(sb);
    }
}

static void cmp_desc(Diffs *d, const char *path, const json_t *q, const json_t *v);

static void cmp_field(Diffs *d, const char *path, const json_t *q, const json_t *v)
{
    static const char *const keys[] = { "field", "version_id", "field_exists", "size" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cmp_key(d, path, q, v, keys[i]);
    /* QEMU 7.2 prints no "num"; newer ones do. Compare it when QEMU has it. */
    if (json_object_get(q, "num"))
        cmp_key(d, path, q, v, "num");
    const json_t *qd = json_object_get(q, "Description"), *vd = json_object_get(v, "Description");
    if (!qd != !vd) {
        diff(d, path, "Description: qemu %s, vmstress %s", qd ? "present" : "absent",
             vd ? "present" : "absent");
    } else if (qd) {
        cmp_desc(d, path, qd, vd);
    }
}

static const char *field_name(const json_t *f)
{
    const char *s = json_string_value(json_object_get(f, "field"));
    return s ? s : "?";
}

static void cmp_fields(Diffs *d, const char *path, const json_t *qa, const json_t *va)
{
    size_t nq = json_array_size(qa), nv = json_array_size(va);
    char sub[512];
    for (size_t i = 0; i < nq || i < nv; i++) {
        const json_t *qf = json_array_get(qa, i), *vf = json_array_get(va, i);
        subpath(sub, sizeof(sub), "%s.Fields[%zu](%s)", path, i, field_name(qf ? qf : vf));
        if (!qf)
            diff(d, sub, "extra field '%s' in vmstress", field_name(vf));
        else if (!vf)
            diff(d, sub, "field '%s' missing in vmstress", field_name(qf));
        else
            cmp_field(d, sub, qf, vf);
    }
}

static const json_t *find_named(const json_t *arr, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && name && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

static void cmp_subsections(Diffs *d, const char *path, const json_t *qa, const json_t *va)
{
    size_t i;
    json_t *e;
    char sub[512];
    json_array_foreach(qa, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        subpath(sub, sizeof(sub), "%s.Subsections(%s)", path, n ? n : "?");
        const json_t *mine = find_named(va, n);
        if (!mine)
            diff(d, sub, "subsection missing in vmstress");
        else
            cmp_desc(d, sub, e, mine);
    }
    json_array_foreach(va, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (!find_named(qa, n)) {
            subpath(sub, sizeof(sub), "%s.Subsections(%s)", path, n ? n : "?");
            diff(d, sub, "extra subsection in vmstress");
        }
    }
}

static void cmp_desc(Diffs *d, const char *path, const json_t *q, const json_t *v)
{
    char sub[512];
    const char *name = json_string_value(json_object_get(q, "name"));
    subpath(sub, sizeof(sub), "%s{%s}", path, name ? name : "?");
    cmp_key(d, sub, q, v, "name");
    cmp_key(d, sub, q, v, "version_id");
    cmp_key(d, sub, q, v, "minimum_version_id");
    const json_t *qf = json_object_get(q, "Fields"), *vf = json_object_get(v, "Fields");
    if (qf || vf)
        cmp_fields(d, sub, qf, vf);     /* a missing array compares as empty */
    const json_t *qs = json_object_get(q, "Subsections"), *vs = json_object_get(v, "Subsections");
    if (qs || vs)
        cmp_subsections(d, sub, qs, vs);
}

/* One type: the wrapper (Name, versions) and the Description tree. */
static void cmp_type(Diffs *d, const char *type, const json_t *qroot, const json_t *vroot)
{
    const json_t *q = json_object_get(qroot, type), *v = json_object_get(vroot, type);
    if (!q) {
        diff(d, type, "type missing in QEMU's dump");
        return;
    }
    if (!v) {
        diff(d, type, "type missing in vmstress's dump");
        return;
    }
    cmp_key(d, type, q, v, "Name");
    cmp_key(d, type, q, v, "version_id");
    cmp_key(d, type, q, v, "minimum_version_id");
    cmp_desc(d, type, json_object_get(q, "Description"), json_object_get(v, "Description"));
}

/* ------------------------------------------------------------ fixtures */

typedef struct Dumps {
    char dir[512];
    char qemu_path[600];
    char ours_path[600];
    json_t *qemu;
    json_t *ours;
} Dumps;

static Dumps dumps;

/* The oldest versioned machine type's dump, completed by the newest's for
 * device types the oldest does not have. */
static json_t *dump_of(const char *machine_type)
{
    VmsMsg why = { "" };
    Machine *m = mach_new(mach_board_find(machine_type), &why);
    assert_non_null(m);
    json_t *j = mach_dump_vmstate(m);
    mach_free(m);
    return j;
}

static json_t *build_ours(void)
{
    json_t *j = dump_of("vmstress-m0-1.0"), *newest = dump_of("vmstress-m0");
    assert_non_null(j);
    assert_non_null(newest);
    const char *key;
    json_t *v;
    json_object_foreach(newest, key, v)
        if (!json_object_get(j, key))
            json_object_set(j, key, v);
    json_decref(newest);
    return j;
}

static int setup(void **state)
{
    const char *qemu = getenv("QEMU_SYSTEM_ARM");
    if (!qemu || !*qemu)
        qemu = "qemu-system-arm";
    snprintf(dumps.dir, sizeof(dumps.dir), "%s/qemu-dump-XXXXXX", VMS_TEST_TMPDIR);
    if (!mkdtemp(dumps.dir)) {
        fprintf(stderr, "cannot create a temporary directory under %s\n", VMS_TEST_TMPDIR);
        return -1;
    }
    snprintf(dumps.qemu_path, sizeof(dumps.qemu_path), "%s/qemu.json", dumps.dir);
    snprintf(dumps.ours_path, sizeof(dumps.ours_path), "%s/vmstress.json", dumps.dir);

    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", qemu);
    if (system(cmd) != 0) {
        fprintf(stderr, "FAIL: %s not found: the QEMU dump comparison needs qemu-system-arm 7.2 "
                "(installed by ci/setup; set QEMU_SYSTEM_ARM to override)\n", qemu);
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "'%s' -M virt -display none -dump-vmstate '%s' </dev/null >'%s/qemu.log' 2>&1",
             qemu, dumps.qemu_path, dumps.dir);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "FAIL: '%s' exited with status %d (see %s/qemu.log)\n", cmd, rc, dumps.dir);
        return -1;
    }
    json_error_t je;
    dumps.qemu = json_load_file(dumps.qemu_path, 0, &je);
    if (!dumps.qemu) {
        fprintf(stderr, "FAIL: %s:%d: %s\n", dumps.qemu_path, je.line, je.text);
        return -1;
    }
    /* Ours goes through the file writer too, the way `vmstress dump` emits it. */
    json_t *built = build_ours();
    if (!vms_json_write_file(built, dumps.ours_path)) {
        fprintf(stderr, "FAIL: cannot write %s\n", dumps.ours_path);
        json_decref(built);
        return -1;
    }
    json_decref(built);
    dumps.ours = json_load_file(dumps.ours_path, 0, &je);
    if (!dumps.ours) {
        fprintf(stderr, "FAIL: %s:%d: %s\n", dumps.ours_path, je.line, je.text);
        return -1;
    }
    (void)state;
    return 0;
}

static int teardown(void **state)
{
    json_decref(dumps.qemu);
    json_decref(dumps.ours);
    unlink(dumps.qemu_path);
    unlink(dumps.ours_path);
    char log[600];
    snprintf(log, sizeof(log), "%s/qemu.log", dumps.dir);
    unlink(log);
    rmdir(dumps.dir);
    (void)state;
    return 0;
}

/* ------------------------------------------------------------ tests */

static void test_machine_name(void **state)
{
    /* Sanity: QEMU's dump is the one we asked for. */
    const char *name = json_string_value(json_object_get(json_object_get(dumps.qemu, "vmschkmachine"), "Name"));
    assert_non_null(name);
    assert_non_null(strstr(name, "virt"));
    (void)state;
}

static void test_descriptions_match_qemu(void **state)
{
    Diffs d = { 0, false };
    for (size_t i = 0; i < N_COMPARED; i++)
        cmp_type(&d, compared_types[i], dumps.qemu, dumps.ours);
    if (d.n)
        fprintf(stderr, "%u difference(s) between QEMU's and vmstress's descriptions\n", d.n);
    assert_int_equal(d.n, 0);
    (void)state;
}

/* arm_timer against the reference notes (6.2): control u32, limit u32,
 * int_level i32, timer PTIMER (a struct pointer at field version 1). */
static void test_arm_timer_matches_reference(void **state)
{
    const DevType *sp = dev_type_find("sp804");
    assert_non_null(sp);
    assert_non_null(sp->extra_vmsds);
    const VmsDesc *at = sp->extra_vmsds[0];
    assert_non_null(at);
    assert_string_equal(at->name, "arm_timer");
    assert_null(sp->extra_vmsds[1]);

    /* The nested ptimer: QEMU's own, from a device that has one. */
    const json_t *wfields = json_object_get(json_object_get(json_object_get(dumps.qemu,
                            "cmsdk-apb-watchdog"), "Description"), "Fields");
    const json_t *ptimer = NULL;
    size_t i;
    json_t *f;
    json_array_foreach(wfields, i, f)
        if (!strcmp(field_name(f), "timer"))
            ptimer = json_object_get(f, "Description");
    assert_non_null(ptimer);

    json_t *expect = json_pack("{s:s, s:i, s:i, s:[{s:s,s:i,s:b,s:i}, {s:s,s:i,s:b,s:i},"
                               " {s:s,s:i,s:b,s:i}, {s:s,s:i,s:b,s:i,s:O}]}",
                               "name", "arm_timer", "version_id", 1, "minimum_version_id", 1,
                               "Fields",
                               "field", "control", "version_id", 0, "field_exists", 0, "size", 4,
                               "field", "limit", "version_id", 0, "field_exists", 0, "size", 4,
                               "field", "int_level", "version_id", 0, "field_exists", 0, "size", 4,
                               "field", "timer", "version_id", 1, "field_exists", 0,
                               "size", (int)sizeof(void *), "Description", ptimer);
    assert_non_null(expect);
    json_t *mine = vms_dump_desc(at);
    Diffs d = { 0, false };
    cmp_desc(&d, "arm_timer(reference)", expect, mine);
    json_decref(expect);
    json_decref(mine);
    assert_int_equal(d.n, 0);
    (void)state;
}

/* The comparator itself must see differences, or the tests above prove nothing. */
static void test_comparator_detects_differences(void **state)
{
    json_t *copy = json_deep_copy(dumps.ours);
    Diffs d = { 0, true };
    cmp_type(&d, "cmsdk-apb-watchdog", dumps.qemu, copy);
    assert_int_equal(d.n, 0);

    json_t *desc = json_object_get(json_object_get(copy, "cmsdk-apb-watchdog"), "Description");
    json_t *fields = json_object_get(desc, "Fields");
    /* 1: a size; 2: a nested ptimer field name; 3: a removed field. */
    json_object_set_new(json_array_get(fields, 2), "size", json_integer(2));
    json_t *pt = json_object_get(json_object_get(json_array_get(fields, 1), "Description"), "Fields");
    json_object_set_new(json_array_get(pt, 0), "field", json_string("enable"));
    json_array_remove(fields, json_array_size(fields) - 1);
    d.n = 0;
    cmp_type(&d, "cmsdk-apb-watchdog", dumps.qemu, copy);
    assert_int_equal(d.n, 3);

    /* A renamed subsection (pl011/clock) is one missing and one extra. */
    json_t *pl = json_object_get(json_object_get(copy, "pl011"), "Description");
    json_t *subs = json_object_get(pl, "Subsections");
    if (subs) {
        json_object_set_new(json_array_get(subs, 0), "name", json_string("pl011/clk"));
        d.n = 0;
        cmp_type(&d, "pl011", dumps.qemu, copy);
        assert_int_equal(d.n, 2);
    }
    /* A changed top-level version. */
    json_object_set_new(json_object_get(copy, "sp804"), "version_id", json_integer(2));
    d.n = 0;
    cmp_type(&d, "sp804", dumps.qemu, copy);
    assert_int_equal(d.n, 1);
    json_decref(copy);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machine_name),
        cmocka_unit_test(test_descriptions_match_qemu),
        cmocka_unit_test(test_arm_timer_matches_reference),
        cmocka_unit_test(test_comparator_detects_differences),
    };
    return cmocka_run_group_tests_name("dev_qemu_dump", tests, setup, teardown);
}
