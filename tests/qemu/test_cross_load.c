/*
 * test_cross_load.c - a device's section moves between QEMU 7.2 and
 * vmstress, in both directions, and the device reads back the same.
 *
 * QEMU -> vmstress: a poke guest (qemutest.h) programs the device on a real
 * QEMU board; QEMU saves; its device section(s) are spliced into a stream
 * of a vmstress machine holding the same device model (tests/devices'
 * devtest board), which must load it; then every compared register reads
 * through vmstress's MMIO exactly what QEMU's xp read on the stopped board.
 *
 * vmstress -> QEMU: the same register writes on the vmstress model; its
 * section(s) are spliced into a power-on stream of the QEMU board, which
 * must accept it with -incoming and then read (xp) what vmstress reads.
 *
 * Compared registers have no read side effects. A-profile boards (sp804 on
 * versatilepb, pl031/pl061 on virt) cannot run the M-profile poke guest:
 * their cases move the power-on state only. Exits 77 without QEMU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "devtest.h"
#include "qemutest.h"

#define MAX_REGS 16
#define MAX_SECS 3

typedef struct SecPair {
    const char *qemu_idstr;     /* the section in QEMU's stream */
    uint32_t qemu_instance;
    const char *vms_idstr;      /* the section in the devtest machine's stream */
    uint32_t vms_instance;
} SecPair;

typedef struct Case {
    const char *board;          /* QEMU machine */
    const char *args[5];        /* more QEMU options */
    const char *type;           /* vmstress device type */
    DevProp props[4];
    uint32_t base;              /* the device's MMIO base on the QEMU board */
    SecPair sec[MAX_SECS];
    QtPoke pokes[MAX_REGS];     /* offsets from base; empty: power-on state only */
    uint32_t regs[MAX_REGS];    /* offsets compared; terminated by UINT32_MAX */
    /* A register the two models read differently whatever the state (a
     * difference of behaviour, listed in docs/qemu-compat.md): QEMU must
     * read `qemu_reads` there; it is not compared. */
    uint32_t declared, qemu_reads;
    const char *declared_why;
} Case;

#define END UINT32_MAX

static bool declared(const Case *c, size_t i, uint32_t qemu_value)
{
    if (!c->declared_why || c->regs[i] != c->declared)
        return false;
    if (qemu_value != c->qemu_reads)
        fail_msg("%s register 0x%03x: QEMU reads 0x%08x, declared as always 0x%08x", c->type,
                 c->regs[i], qemu_value, c->qemu_reads);
    print_message("not compared: %s register 0x%03x: %s\n", c->type, c->regs[i], c->declared_why);
    return true;
}

static const Case cases[] = {
    /* UART0 of lm3s811evb: QEMU's pl011_luminary (vmsd "pl011"). Properties
     * that release 1.1 added are off, as on vmstress-m0-1.0 (QEMU 7.2's
     * format; devices/boards.c compat_1_0). */
    { "lm3s811evb", { NULL }, "pl011", { { "test-registers", 0 }, { NULL, 0 } }, 0x4000c000u,
      { { "pl011", 0, "pl011", 0 } },
      { { 0x24, 0x1a }, { 0x28, 0x03 }, { 0x2c, 0x70 }, { 0x34, 0x12 }, { 0x38, 0x50 },
        { 0x20, 0x07 }, { 0x30, 0x301 } },
      { 0x18, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x38, 0x3c, 0x40, END }, 0, 0, NULL },
    /* GPIO port A of lm3s811evb: QEMU's pl061_luminary (vmsd "pl061"). */
    { "lm3s811evb", { NULL }, "pl061_luminary", { { NULL, 0 } }, 0x40004000u,
      { { "pl061", 0, "pl061", 0 } },
      { { 0x400, 0x0f }, { 0x404, 0x30 }, { 0x408, 0x40 }, { 0x40c, 0x80 }, { 0x410, 0xf0 },
        { 0x420, 0x03 }, { 0x510, 0x0c }, { 0x51c, 0xff }, { 0x3fc, 0x05 } },
      { 0x3fc, 0x400, 0x404, 0x408, 0x40c, 0x410, 0x414, 0x418, 0x420, 0x510, 0x514, 0x51c, END }, 0, 0, NULL },
    /* The watchdog of lm3s811evb (luminary-watchdog, vmsd "cmsdk-apb-watchdog"),
     * whose WDOGCLK is the 12.5 MHz system clock. */
    { "lm3s811evb", { NULL }, "cmsdk-apb-watchdog", { { "clk-hz", 12500000 }, { NULL, 0 } }, 0x40000000u,
      { { "cmsdk-apb-watchdog", 0, "cmsdk-apb-watchdog", 0 } },
      { { 0x00, 0x00100000 }, { 0x08, 0x01 } },
      { 0x00, 0x08, 0x10, 0x14, 0xc00, END }, 0, 0, NULL },
    /* mps2-an385's CMSDK watchdog, on the board's 25 MHz clock. */
    { "mps2-an385", { NULL }, "cmsdk-apb-watchdog", { { "clk-hz", 25000000 }, { NULL, 0 } },
      0x40008000u, { { "cmsdk-apb-watchdog", 0, "cmsdk-apb-watchdog", 0 } },
      { { 0x00, 0x00200000 }, { 0x08, 0x01 } },
      { 0x00, 0x08, 0x10, 0x14, 0xc00, END }, 0, 0, NULL },
    /* The first SP804 of versatilepb (1 MHz timers): its device section and
     * both arm_timer sections. Power-on only (an A-profile board): QEMU's
     * timers are unprogrammed there, with ptimer period 0. */
    { "versatilepb", { "-m", "16", NULL }, "sp804",
      { { "freq0", 1000000 }, { "freq1", 1000000 }, { "integration-test", 0 }, { NULL, 0 } }, 0x101e2000u,
      { { "sp804", 0, "sp804", 0 }, { "arm_timer", 0, "arm_timer", 0 },
        { "arm_timer", 1, "arm_timer", 1 } },
      { { 0, 0 } },
      { 0x00, 0x04, 0x08, 0x10, 0x14, 0x18, 0x20, 0x24, 0x28, 0x30, 0x34, 0x38, END }, 0, 0, NULL },
    /* virt's PL031, with QEMU's RTC on the VM clock as vmstress's is
     * (-rtc clock=vm; QEMU's default is the host clock, a board choice),
     * both starting at 2023-11-15T22:13:20Z. Power-on only. */
    { "virt", { "-m", "16", "-rtc", "base=2023-11-15T22:13:20,clock=vm" }, "pl031",
      { { "start-time", 1700086400 }, { NULL, 0 } }, 0x09010000u,
      { { "pl031", 0, "pl031", 0 } },
      { { 0, 0 } },
      { 0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, END },
      0x0c, 1, "QEMU's PL031 reads CR as 1 always; vmstress's reads the start bit (TRM)" },
    /* virt's PL061 (the power key's GPIO). Power-on only. */
    { "virt", { "-m", "16", NULL }, "pl061", { { NULL, 0 } }, 0x09030000u,
      { { "pl061", 0, "pl061", 0 } },
      { { 0, 0 } },
      { 0x3fc, 0x400, 0x404, 0x408, 0x40c, 0x410, 0x414, 0x418, 0x420, END }, 0, 0, NULL },
};

static char tmpdir[512];

static void path_of(char *out, size_t n, const char *what, size_t k)
{
    snprintf(out, n, "%s/%s.%zu", tmpdir, what, k);
}

/* Start QEMU on c->board with extra args, or fail the test. */
static void start(QtQemu *q, const Case *c, const char *const *extra)
{
    const char *args[16] = { "-M", c->board, "-S" };
    size_t n = 3;
    for (size_t i = 0; i < 5 && c->args[i]; i++)
        args[n++] = c->args[i];
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    char err[300];
    if (!qt_start(q, args, err, sizeof(err)))
        fail_msg("%s: %s", c->board, err);
}

static size_t n_regs(const Case *c)
{
    size_t n = 0;
    while (n < MAX_REGS && c->regs[n] != END)
        n++;
    return n;
}

static size_t n_pokes(const Case *c)
{
    size_t n = 0;
    while (n < MAX_REGS && (c->pokes[n].addr || c->pokes[n].value))
        n++;
    return n;
}

/* Read the compared registers through QEMU's xp on the stopped board. */
static bool qemu_regs(QtQemu *q, const Case *c, uint32_t *v)
{
    for (size_t i = 0; i < n_regs(c); i++)
        if (!qt_xp(q, c->base + c->regs[i], &v[i], 1))
            return false;
    return true;
}

/*
 * dst with each paired section replaced by src's: header rebuilt with dst's
 * section id, idstr and instance and src's version; body from src.
 */
static uint8_t *splice(const uint8_t *dst, size_t dn, bool dst_is_qemu, const uint8_t *src,
                       size_t sn, const Case *c, size_t *out_len)
{
    VmsMsg why = { "" };
    Vdec *dd = vdec_decode(dst, dn, &why);
    if (!dd)
        fail_msg("splice target: %s", why.text);
    Vdec *sd = vdec_decode(src, sn, &why);
    if (!sd)
        fail_msg("splice source: %s", why.text);
    VmsOut o;
    vms_out_init(&o, 0);
    size_t at = 0;
    for (size_t k = 0; k < vdec_section_count(dd); k++) {
        const VdecSection *ds = vdec_section(dd, k);
        const SecPair *p = NULL;
        for (size_t j = 0; j < MAX_SECS && c->sec[j].qemu_idstr; j++) {
            const char *id = dst_is_qemu ? c->sec[j].qemu_idstr : c->sec[j].vms_idstr;
            uint32_t inst = dst_is_qemu ? c->sec[j].qemu_instance : c->sec[j].vms_instance;
            if (!strcmp(ds->idstr, id) && ds->instance_id == inst)
                p = &c->sec[j];
        }
        if (!p)
            continue;
        const VdecSection *ss = dst_is_qemu ? vdec_section_find(sd, p->vms_idstr, p->vms_instance)
                                            : vdec_section_find(sd, p->qemu_idstr, p->qemu_instance);
        if (!ss)
            fail_msg("no section %s to splice", p->qemu_idstr);
        vms_out_bytes(&o, dst + at, ds->header - at);
        vms_out_u8(&o, VMS_SEC_FULL);
        vms_out_be32(&o, ds->section_id);
        vms_out_u8(&o, (uint8_t)strlen(ds->idstr));
        vms_out_bytes(&o, ds->idstr, strlen(ds->idstr));
        vms_out_be32(&o, ds->instance_id);
        vms_out_be32(&o, ss->version_id);
        vms_out_bytes(&o, src + ss->body, ss->footer - ss->body);
        at = ds->footer;
    }
    vms_out_bytes(&o, dst + at, dn - at);
    assert_false(o.failed);
    vdec_free(dd);
    vdec_free(sd);
    *out_len = o.len;
    return o.buf;
}

/* The devtest machine's stream with its trailer (devtest_save leaves it out). */
static uint8_t *save_with_trailer(DevTest *t, size_t *len)
{
    VmsOut o;
    vms_out_init(&o, 0);
    VmsSaveOpts opts = { .no_vmdesc = false };
    VmsError err;
    assert_true(mach_save(t->m, &o, &opts, &err));
    *len = o.len;
    return o.buf;
}

/*
 * QEMU's timers (ptimer last_event/next_event) are times on its virtual
 * clock, which a real destination restores from the "timer" section. The
 * vmstress machine's clock travels in its own section, so the vmstress
 * source is first run up to QEMU's clock: the latest such time in the
 * stream. Without it a destination would hold an event in its future past.
 */
static uint64_t qemu_clock_floor(const uint8_t *qb, size_t qn)
{
    Vdec *d = vdec_decode(qb, qn, NULL);
    assert_non_null(d);
    uint64_t ns = 0;
    for (size_t i = 0; i < vdec_count(d); i++) {
        const VdecLeaf *l = vdec_leaf(d, i);
        size_t n = strlen(l->path);
        bool sign;
        uint64_t v;
        if (n > 11 && (!strcmp(l->path + n - 11, "/last_event") ||
                       !strcmp(l->path + n - 11, "/next_event")) &&
            vdec_leaf_int(l, &sign, &v) && (int64_t)v > 0 && v > ns)
            ns = v;
    }
    vdec_free(d);
    return ns;
}

/* QEMU -> vmstress. Returns QEMU's stream (the base of the other direction). */
static uint8_t *qemu_to_vmstress(const Case *c, size_t k, size_t *qn)
{
    char img[600], qs[600];
    path_of(img, sizeof(img), "img", k);
    path_of(qs, sizeof(qs), "qemu", k);
    size_t np = n_pokes(c), nr = n_regs(c), ilen;
    QtPoke abs[MAX_REGS];
    for (size_t i = 0; i < np; i++)
        abs[i] = (QtPoke){ c->base + c->pokes[i].addr, c->pokes[i].value };
    uint8_t *image = qt_poke_image(abs, np, &ilen);
    assert_true(image && qt_write(img, image, ilen));
    free(image);
    const char *const extra[] = { "-kernel", img, NULL };
    QtQemu q;
    start(&q, c, np ? extra : NULL);
    uint32_t qv[MAX_REGS];
    bool ok = (!np || qt_run_guest(&q)) && qemu_regs(&q, c, qv) && qt_migrate(&q, qs);
    char reply[200];
    snprintf(reply, sizeof(reply), "%.199s", q.reply);
    qt_stop(&q);
    if (!ok)
        fail_msg("%s: monitor: %s", c->board, reply);
    uint8_t *qb = qt_read(qs, qn);
    assert_non_null(qb);

    DevTest *t = devtest_new(c->type, c->props);
    devtest_idle(t, qemu_clock_floor(qb, *qn) / VCLOCK_NS_PER_CYCLE + 1);
    size_t vn;
    uint8_t *vb = save_with_trailer(t, &vn);
    devtest_free(t);
    size_t sn;
    uint8_t *sb = splice(vb, vn, false, qb, *qn, c, &sn);
    DevTest *d = devtest_new(c->type, c->props);
    VmsError err;
    if (!mach_load(d->m, sb, sn, &err)) {
        char line[400];
        vms_error_format(&err, line, sizeof(line));
        fail_msg("%s from %s does not load into vmstress: %s", c->type, c->board, line);
    }
    for (size_t i = 0; i < nr; i++) {
        uint32_t v = devtest_read(d, c->regs[i]);
        if (v != qv[i] && !declared(c, i, qv[i]))
            fail_msg("%s register 0x%03x: QEMU 0x%08x, vmstress after the load 0x%08x", c->type,
                     c->regs[i], qv[i], v);
    }
    devtest_free(d);
    free(sb);
    free(vb);
    return qb;
}

/* vmstress -> QEMU: vmstress's sections spliced into QEMU's stream qb of
 * the same board (whatever QEMU's device held there is replaced), with the
 * vmstress device programmed by the pokes or at power-on. */
static void vmstress_to_qemu(const Case *c, size_t k, const uint8_t *qb, size_t qn, bool poke)
{
    char in[600], uri[700];
    path_of(in, sizeof(in), "incoming", k);
    size_t np = poke ? n_pokes(c) : 0, nr = n_regs(c);
    DevTest *t = devtest_new(c->type, c->props);
    for (size_t i = 0; i < np; i++)
        devtest_write(t, c->pokes[i].addr, c->pokes[i].value);
    uint32_t vv[MAX_REGS];
    for (size_t i = 0; i < nr; i++)
        vv[i] = devtest_read(t, c->regs[i]);
    size_t vn;
    uint8_t *vb = save_with_trailer(t, &vn);
    devtest_free(t);

    size_t sn;
    uint8_t *sb = splice(qb, qn, true, vb, vn, c, &sn);
    assert_true(qt_write(in, sb, sn));
    snprintf(uri, sizeof(uri), "exec:cat %s", in);
    const char *const extra[] = { "-incoming", uri, NULL };
    QtQemu q;
    start(&q, c, extra);
    bool ok = qt_incoming_done(&q);
    char reply[300];
    snprintf(reply, sizeof(reply), "%.299s", q.reply);
    uint32_t qv[MAX_REGS];
    ok = ok && qemu_regs(&q, c, qv);
    qt_stop(&q);
    if (!ok)
        fail_msg("%s from vmstress into %s: %s", c->type, c->board, reply);
    for (size_t i = 0; i < nr; i++)
        if (qv[i] != vv[i] && !declared(c, i, qv[i]))
            fail_msg("%s register 0x%03x: vmstress 0x%08x, QEMU after the load 0x%08x", c->type,
                     c->regs[i], vv[i], qv[i]);
    free(sb);
    free(vb);
}

static void test_case(void **state)
{
    const Case *c = *state;
    if (!qt_has_machine(c->board)) {
        print_message("qemu-system-arm has no machine %s; not tested\n", c->board);
        skip();
    }
    size_t k = (size_t)(c - cases), qn;
    uint8_t *qb = qemu_to_vmstress(c, k, &qn);
    /* QEMU's stream holds the poked device: a power-on vmstress section
     * must replace it (the splice is real), and a poked one must carry over. */
    vmstress_to_qemu(c, k, qb, qn, false);
    if (n_pokes(c))
        vmstress_to_qemu(c, k, qb, qn, true);
    free(qb);
}

int main(void)
{
    int st = qt_begin(VMS_TEST_TMPDIR, "cross_load", tmpdir, sizeof(tmpdir));
    if (st >= 0)
        return st;
    struct CMUnitTest tests[sizeof(cases) / sizeof(*cases)];
    char names[sizeof(cases) / sizeof(*cases)][80];
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        snprintf(names[i], sizeof(names[i]), "%s on %s", cases[i].type, cases[i].board);
        tests[i] = (struct CMUnitTest){ names[i], test_case, NULL, NULL, (void *)&cases[i] };
    }
    int rc = _cmocka_run_group_tests("cross_load", tests, sizeof(tests) / sizeof(*tests), NULL, NULL);
    return qt_end(tmpdir, rc);
}
