/*
 * stream.c - what the driver does with QEMU streams, through the engine's
 * decoder (decode.h): the first difference of two streams outside the
 * declared volatile leaves, the timers a stream holds expired with their
 * callbacks not run yet, globalstate's runstate
 * rewritten for a destination, and the test hook that damages one leaf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "qemu.h"

/* Volatile in QEMU 7.2: leaves that legitimately differ between twins that
 * are at the same guest instruction with the same guest state. */
const QdrvVolatile qdrv_volatile_7_2[] = {
    { "timer.0/cpu_ticks_offset",
      "host TSC offset taken when the clock was last stopped; under -icount guest time comes from "
      "the instruction counter (qemu_icount, qemu_icount_bias), so this never reaches the guest" },
    { "timer.0/cpu_clock_offset", "host-clock offset of the stopped cpu clock; not guest time under -icount" },
    { "globalstate.0/size", "length of the runstate string below" },
    { "globalstate.0/runstate",
      "the source's run state: 'debug' when stopped by gdb, 'prelaunch' after an in-process reset "
      "and load; vmstress gives a destination 'paused' (it refuses 'debug'), so it differs by "
      "construction" },
};
const size_t qdrv_volatile_7_2_count = sizeof(qdrv_volatile_7_2) / sizeof(qdrv_volatile_7_2[0]);

static bool is_volatile(const char *path)
{
    for (size_t i = 0; i < qdrv_volatile_7_2_count; i++)
        if (!strcmp(qdrv_volatile_7_2[i].path, path))
            return true;
    return false;
}

static Vdec *decode(const char *who, const uint8_t *buf, size_t len, QdrvErr *e)
{
    VmsMsg why;
    Vdec *d = vdec_decode(buf, len, &why);
    if (!d)
        snprintf(e->text, sizeof(e->text), "%s stream: %s", who, why.text);
    return d;
}

/* A zero page (one fill byte) equals a full page of that byte. */
static bool same_value(const VdecLeaf *a, const VdecLeaf *b)
{
    if (a->size == b->size)
        return !memcmp(a->bytes, b->bytes, a->size);
    const VdecLeaf *z = !strcmp(a->type, "ram-zero") ? a : !strcmp(b->type, "ram-zero") ? b : NULL;
    const VdecLeaf *p = z == a ? b : a;
    if (!z || strcmp(p->type, "ram-page") || z->size != 1)
        return false;
    for (size_t i = 0; i < p->size; i++)
        if (p->bytes[i] != z->bytes[0])
            return false;
    return true;
}

static void record(QdrvDiff *d, const QdrvDiffHooks *h, const char *path, const VdecLeaf *a, const VdecLeaf *b)
{
    if (h && h->each)
        h->each(h->ctx, path);
    if (d->count++)
        return;
    d->differs = true;
    snprintf(d->path, sizeof(d->path), "%s", path);
    snprintf(d->section, sizeof(d->section), "%.*s", (int)strcspn(path, "/"), path);
    d->stream_offset = a ? a->offset : b->offset;
    if (a)
        vdec_leaf_format(a, 16, d->a, sizeof(d->a));
    else
        snprintf(d->a, sizeof(d->a), "(absent)");
    if (b)
        vdec_leaf_format(b, 16, d->b, sizeof(d->b));
    else
        snprintf(d->b, sizeof(d->b), "(absent)");
}

static bool skipped(const QdrvDiffHooks *h, const char *path)
{
    return is_volatile(path) || (h && h->skip && h->skip(h->ctx, path));
}

bool qdrv_stream_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, QdrvDiff *d, QdrvErr *e)
{
    return qdrv_stream_diff_with(a, alen, b, blen, NULL, d, e);
}

bool qdrv_stream_diff_with(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, const QdrvDiffHooks *h,
                           QdrvDiff *d, QdrvErr *e)
{
    memset(d, 0, sizeof(*d));
    Vdec *da = decode("A's", a, alen, e);
    if (!da)
        return false;
    Vdec *db = decode("B's", b, blen, e);
    if (!db) {
        vdec_free(da);
        return false;
    }
    /* Leaves by path: RAM may be framed differently on two saves (how many
     * pages each ram part holds depends on host timing), so bytes are
     * compared leaf by leaf, never by stream offset. */
    /* Device leaves first, RAM second: a device that lost state usually
     * shows in guest RAM too, but the device is the cause to name. */
    for (int ram = 0; ram < 2; ram++)
        for (size_t i = 0; i < vdec_count(da); i++) {
            const VdecLeaf *la = vdec_leaf(da, i);
            if (skipped(h, la->path) || (strncmp(la->path, "ram/", 4) == 0) != ram)
                continue;
            const VdecLeaf *fa = vdec_find(da, la->path), *lb = vdec_find(db, la->path);
            if (fa != la)
                continue; /* a page sent again later: the last copy counts */
            if (!lb || !same_value(la, lb))
                record(d, h, la->path, la, lb);
        }
    for (size_t i = 0; i < vdec_count(db); i++) {
        const VdecLeaf *lb = vdec_leaf(db, i);
        if (!skipped(h, lb->path) && !vdec_find(da, lb->path))
            record(d, h, lb->path, NULL, lb);
    }
    vdec_free(da);
    vdec_free(db);
    return true;
}

bool qdrv_stream_set_runstate(uint8_t *buf, size_t len, const char *runstate, QdrvErr *e)
{
    Vdec *d = decode("the", buf, len, e);
    if (!d)
        return false;
    const VdecLeaf *sz = vdec_find(d, "globalstate.0/size"), *rs = vdec_find(d, "globalstate.0/runstate");
    size_t n = strlen(runstate) + 1;
    bool ok = sz && rs && sz->size == 4 && n <= rs->size;
    if (ok) {
        /* be32 length including the NUL, then the fixed-size buffer. */
        uint8_t *p = buf + sz->offset, *r = buf + rs->offset;
        p[0] = p[1] = p[2] = 0;
        p[3] = (uint8_t)n;
        memset(r, 0, rs->size);
        memcpy(r, runstate, n);
    } else {
        snprintf(e->text, sizeof(e->text), "stream has no globalstate.0 runstate to rewrite");
    }
    vdec_free(d);
    return ok;
}

bool qdrv_stream_corrupt(uint8_t *buf, size_t len, const char *path, unsigned xor_mask, QdrvErr *e)
{
    Vdec *d = decode("B's", buf, len, e);
    if (!d)
        return false;
    const VdecLeaf *l = vdec_find(d, path);
    bool ok = l && l->size;
    if (ok)
        buf[l->offset] ^= (uint8_t)xor_mask;
    else
        snprintf(e->text, sizeof(e->text), "--corrupt: the stream has no leaf %.200s", path);
    vdec_free(d);
    return ok;
}

static bool be64_of(const VdecLeaf *l, int64_t *v)
{
    if (!l || l->size != 8)
        return false;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | l->bytes[i];
    *v = (int64_t)x;
    return true;
}

bool qdrv_stream_expired(const uint8_t *buf, size_t len, char *paths, size_t n, QdrvErr *e)
{
    Vdec *d = decode("the", buf, len, e);
    if (!d)
        return false;
    int64_t bias, icount;
    bool ok = be64_of(vdec_find(d, "timer.0/timer/icount/qemu_icount_bias"), &bias) &&
              be64_of(vdec_find(d, "timer.0/timer/icount/qemu_icount"), &icount);
    size_t used = 0;
    paths[0] = 0;
    if (!ok) {
        snprintf(e->text, sizeof(e->text), "stream has no timer.0 icount state (was QEMU run with -icount?)");
    } else {
        int64_t now = bias + (icount << QDRV_ICOUNT_SHIFT);
        /* Every QEMU timer leaf ("timer": its expire time in ns, -1 when
         * not armed). */
        for (size_t i = 0; i < vdec_count(d); i++) {
            const VdecLeaf *l = vdec_leaf(d, i);
            int64_t when;
            if (!strcmp(l->type, "timer") && be64_of(l, &when) && when >= 0 && when <= now && used < n)
                used += (size_t)snprintf(paths + used, n - used, "%s%s", used ? " " : "", l->path);
        }
    }
    vdec_free(d);
    return ok;
}
