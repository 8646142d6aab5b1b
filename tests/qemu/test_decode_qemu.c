/*
 * test_decode_qemu.c - the decoder (engine/decode.h) on streams the
 * installed qemu-system-arm writes at test time, one per M-profile board it
 * supports, checked against what the test itself put in the guest: a poke
 * guest (qemutest.h) runs to its spin loop, so its registers, its image in
 * flash and the words it stored in SRAM are known without the decoder.
 * Then malformed variants of each real stream must give one clean line.
 *
 * Exits QT_SKIP (ctest SKIP_RETURN_CODE) if qemu-system-arm is absent.
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
#include "qemutest.h"

static char tmpdir[512];

static const QtPoke pokes[] = {
    { 0x20000200u, 0x11223344u },
    { 0x20000204u, 0xa5a5f00du },
};

typedef struct Stream {
    uint8_t *b;
    size_t n;
    uint8_t *image;
    size_t image_len;
    uint32_t sram[2];       /* what xp read at the poked addresses */
} Stream;

/* Boot the poke guest on `board`, run it to its spin, save with migrate. */
static void qemu_stream(const char *board, Stream *s)
{
    char img[600], out[600], err[300];
    snprintf(img, sizeof(img), "%s/%s.img", tmpdir, board);
    snprintf(out, sizeof(out), "%s/%s.bin", tmpdir, board);
    s->image = qt_poke_image(pokes, sizeof(pokes) / sizeof(*pokes), &s->image_len);
    assert_true(s->image && qt_write(img, s->image, s->image_len));
    const char *const args[] = { "-M", board, "-kernel", img, "-S", NULL };
    QtQemu q;
    if (!qt_start(&q, args, err, sizeof(err)))
        fail_msg("%s: %s", board, err);
    bool ok = qt_run_guest(&q) && qt_xp(&q, pokes[0].addr, s->sram, 2) && qt_migrate(&q, out);
    char reply[200];
    snprintf(reply, sizeof(reply), "%.199s", q.reply);
    qt_stop(&q);
    if (!ok)
        fail_msg("%s: monitor: %s", board, reply);
    s->b = qt_read(out, &s->n);
    assert_non_null(s->b);
}

static uint64_t leaf_u(const Vdec *d, const char *path)
{
    uint64_t v = 0;
    const VdecLeaf *l = vdec_find(d, path);
    if (!l || !vdec_leaf_int(l, NULL, &v))
        fail_msg("no integer leaf '%s'", path);
    return v;
}

static uint32_t rd_le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_decode(const char *board, const Stream *s)
{
    VmsMsg why = { "" };
    Vdec *d = vdec_decode(s->b, s->n, &why);
    if (!d)
        fail_msg("%s: %s", board, why.text);
    /* Leaves are in stream order, disjoint, and inside the stream. */
    size_t pages = 0, bytes = 0;
    for (size_t i = 0; i < vdec_count(d); i++) {
        const VdecLeaf *l = vdec_leaf(d, i);
        if (i) {
            const VdecLeaf *p = vdec_leaf(d, i - 1);
            assert_true(l->offset >= p->offset + p->size);
        }
        assert_true(l->offset + l->size < s->n);
        pages += !strcmp(l->type, "ram-page") || !strcmp(l->type, "ram-zero");
        bytes += l->size;
    }
    assert_true(pages > 0 && bytes < s->n);
    /* The machine name QEMU was started with. */
    const VdecLeaf *name = vdec_find(d, "configuration/name");
    assert_non_null(name);
    assert_int_equal(name->size, strlen(board));
    assert_memory_equal(name->bytes, board, strlen(board));
    /* The CPU where the poke guest left it: in its WFI loop (0x56, or 0x58
     * once the WFI has retired), r0 past the table's terminator, r1/r2 the
     * done address and magic. */
    size_t npokes = sizeof(pokes) / sizeof(*pokes);
    uint64_t pc = leaf_u(d, "cpu.0/env.regs[15]");
    assert_true(pc == 0x56 || pc == 0x58);
    assert_int_equal(leaf_u(d, "cpu.0/env.regs[0]"), 0x80 + 8 * npokes);
    assert_int_equal(leaf_u(d, "cpu.0/env.regs[1]"), QT_DONE_ADDR);
    assert_int_equal(leaf_u(d, "cpu.0/env.regs[2]"), QT_DONE_MAGIC);
    /* The image in a page at the start of a block, and the stored words in
     * the page that holds 0x20000200, which xp read back the same. */
    uint32_t ps = vdec_page_size(d);
    assert_true(ps >= 1024 && s->image_len <= ps);
    assert_int_equal(s->sram[0], pokes[0].value);
    assert_int_equal(s->sram[1], pokes[1].value);
    bool image = false, sram = false;
    for (size_t i = 0; i < vdec_count(d); i++) {
        const VdecLeaf *l = vdec_leaf(d, i);
        if (strcmp(l->type, "ram-page"))
            continue;
        image |= !memcmp(l->bytes, s->image, s->image_len);
        uint32_t at = pokes[0].addr % ps;
        sram |= rd_le32(l->bytes + at) == s->sram[0] && rd_le32(l->bytes + at + 4) == s->sram[1] &&
                rd_le32(l->bytes + QT_DONE_ADDR % ps) == QT_DONE_MAGIC;
    }
    if (!image || !sram)
        fail_msg("%s: image page %s, SRAM page %s", board, image ? "found" : "missing",
                 sram ? "found" : "missing");
    vdec_free(d);
}

/* Truncations, and single-byte corruptions, of a real stream. */
static void check_malformed(const Stream *s)
{
    uint8_t *c = malloc(s->n);
    assert_non_null(c);
    for (size_t cut = 0; cut < s->n; cut += s->n / 47 + 1) {
        VmsMsg why = { "" };
        Vdec *d = vdec_decode(s->b, cut, &why);
        assert_null(d);
        assert_true(why.text[0] && !strchr(why.text, '\n'));
    }
    uint32_t x = 12345;
    for (int i = 0; i < 12; i++) {
        x = x * 1103515245u + 12345u;  /* seeded: the same positions every run */
        size_t at = (x >> 8) % s->n;
        memcpy(c, s->b, s->n);
        c[at] ^= (uint8_t)(0x01u << (x & 7));
        VmsMsg why = { "" };
        Vdec *d = vdec_decode(c, s->n, &why);
        if (d)
            vdec_free(d);
        else
            assert_true(why.text[0] && !strchr(why.text, '\n'));
    }
    free(c);
}

static void test_board(void **state)
{
    const char *board = *state;
    if (!qt_has_machine(board)) {
        print_message("qemu-system-arm has no machine %s; not tested\n", board);
        skip();
    }
    Stream s = { 0 };
    qemu_stream(board, &s);
    check_decode(board, &s);
    check_malformed(&s);
    free(s.b);
    free(s.image);
}

int main(void)
{
    int st = qt_begin(VMS_TEST_TMPDIR, "decode_qemu", tmpdir, sizeof(tmpdir));
    if (st >= 0)
        return st;
    const struct CMUnitTest tests[] = {
        { "lm3s811evb", test_board, NULL, NULL, "lm3s811evb" },
        { "lm3s6965evb", test_board, NULL, NULL, "lm3s6965evb" },
        { "mps2-an385", test_board, NULL, NULL, "mps2-an385" },
        { "microbit", test_board, NULL, NULL, "microbit" },
        { "netduino2", test_board, NULL, NULL, "netduino2" },
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return qt_end(tmpdir, rc);
}
