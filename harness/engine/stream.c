/*
 * stream.c - bounded big-endian byte streams. See stream.h.
 *
 * The writers grow the buffer by doubling so that a save of a whole machine
 * costs a handful of reallocations the first time and none after a reset.
 * The readers check the remaining length once per call and never touch a
 * byte past the end; the first failing position is remembered for errors.
 */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

void vms_out_init(VmsOut *o, size_t limit)
{
    o->buf = NULL;
    o->len = 0;
    o->cap = 0;
    o->limit = limit ? limit : VMS_OUT_DEFAULT_LIMIT;
    o->failed = false;
}

void vms_out_reset(VmsOut *o)
{
    o->len = 0;
    o->failed = false;
}

void vms_out_free(VmsOut *o)
{
    free(o->buf);
    o->buf = NULL;
    o->len = 0;
    o->cap = 0;
    o->failed = false;
}

/* Make room for n more bytes; false (and sticky failure) if that is impossible. */
static bool out_reserve(VmsOut *o, size_t n)
{
    if (o->failed)
        return false;
    if (n > o->limit || o->len > o->limit - n) {
        o->failed = true;
        return false;
    }
    size_t need = o->len + n;
    if (need <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > o->limit)
        cap = o->limit;
    uint8_t *nb = realloc(o->buf, cap);
    if (!nb) {
        o->failed = true;
        return false;
    }
    o->buf = nb;
    o->cap = cap;
    return true;
}

bool vms_out_bytes(VmsOut *o, const void *p, size_t n)
{
    if (!out_reserve(o, n))
        return false;
    if (n) {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
    }
    return true;
}

bool vms_out_zeros(VmsOut *o, size_t n)
{
    if (!out_reserve(o, n))
        return false;
    if (n) {
        memset(o->buf + o->len, 0, n);
        o->len += n;
    }
    return true;
}

bool vms_out_u8(VmsOut *o, uint8_t v)
{
    if (!out_reserve(o, 1))
        return false;
    o->buf[o->len++] = v;
    return true;
}

bool vms_out_be16(VmsOut *o, uint16_t v)
{
    if (!out_reserve(o, 2))
        return false;
    vms_put_be16(o->buf + o->len, v);
    o->len += 2;
    return true;
}

bool vms_out_be32(VmsOut *o, uint32_t v)
{
    if (!out_reserve(o, 4))
        return false;
    vms_put_be32(o->buf + o->len, v);
    o->len += 4;
    return true;
}

bool vms_out_be64(VmsOut *o, uint64_t v)
{
    if (!out_reserve(o, 8))
        return false;
    vms_put_be64(o->buf + o->len, v);
    o->len += 8;
    return true;
}

void vms_out_patch_be32(VmsOut *o, size_t at, uint32_t v)
{
    if (at > o->len || o->len - at < 4)
        return;
    vms_put_be32(o->buf + at, v);
}

/* ------------------------------------------------------------ input */

void vms_in_init(VmsIn *in, const void *buf, size_t len)
{
    in->buf = buf;
    in->len = buf ? len : 0;
    in->pos = 0;
    in->failed = false;
    in->fail_pos = 0;
}

/* Claim n bytes; on a short stream mark the failure and consume nothing. */
static const uint8_t *in_take(VmsIn *in, size_t n)
{
    if (in->failed)
        return NULL;
    if (n > in->len - in->pos) {
        in->failed = true;
        in->fail_pos = in->pos;
        return NULL;
    }
    const uint8_t *p = in->buf + in->pos;
    in->pos += n;
    return p;
}

bool vms_in_bytes(VmsIn *in, void *p, size_t n)
{
    const uint8_t *s = in_take(in, n);
    if (!s)
        return false;
    if (n)
        memcpy(p, s, n);
    return true;
}

bool vms_in_skip(VmsIn *in, size_t n)
{
    return in_take(in, n) != NULL;
}

bool vms_in_u8(VmsIn *in, uint8_t *v)
{
    const uint8_t *s = in_take(in, 1);
    if (!s)
        return false;
    *v = s[0];
    return true;
}

bool vms_in_be16(VmsIn *in, uint16_t *v)
{
    const uint8_t *s = in_take(in, 2);
    if (!s)
        return false;
    *v = vms_get_be16(s);
    return true;
}

bool vms_in_be32(VmsIn *in, uint32_t *v)
{
    const uint8_t *s = in_take(in, 4);
    if (!s)
        return false;
    *v = vms_get_be32(s);
    return true;
}

bool vms_in_be64(VmsIn *in, uint64_t *v)
{
    const uint8_t *s = in_take(in, 8);
    if (!s)
        return false;
    *v = vms_get_be64(s);
    return true;
}

bool vms_in_peek(const VmsIn *in, size_t ahead, uint8_t *v)
{
    if (in->failed || ahead >= in->len - in->pos)
        return false;
    *v = in->buf[in->pos + ahead];
    return true;
}

uint64_t vms_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

bool vms_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = c <= SIZE_MAX / elem ? realloc(*arr, c * elem) : NULL;
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}
