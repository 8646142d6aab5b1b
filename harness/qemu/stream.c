/*
 * stream.c - what the driver needs to know about a QEMU stream: where each
 * device section lies (found through the stream's own vmdescription
 * trailer), globalstate's runstate, and the first difference of two streams
 * outside the declared volatile ranges.
 *
 * This is deliberately not a decoder: it splits a stream at section
 * headers and names a byte by the vmdesc field whose cumulative size covers
 * it. Full decoding (every leaf by path) is the engine's job (decode.h).
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu.h"

#define SECTION_FULL 0x04
#define VMDESCRIPTION 0x06

/* Volatile in QEMU 7.2 (offsets inside the section body). */
const QdrvVolatile qdrv_volatile_7_2[] = {
    { "timer", 0, 8, "cpu_ticks_offset",
      "host TSC offset taken when the clock was last stopped; under -icount guest time comes from "
      "the instruction counter, so this never reaches the guest" },
    { "timer", 16, 8, "cpu_clock_offset",
      "host-clock offset of the (stopped) cpu clock; not guest time under -icount" },
    { "globalstate", 0, 104, "runstate",
      "the source's run state: 'debug' when stopped by gdb, 'prelaunch' after an in-process "
      "reset+load; vmstress rewrites it to 'paused' for a destination, so it differs by "
      "construction" },
};
const size_t qdrv_volatile_7_2_count = sizeof(qdrv_volatile_7_2) / sizeof(qdrv_volatile_7_2[0]);

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The vmdescription JSON: the last QEMU_VM_VMDESCRIPTION record. The stream
 * ends with 0x06, be32 length, then exactly that many bytes of JSON. */
static json_t *vmdesc(const uint8_t *buf, size_t len, QdrvErr *e)
{
    const char key[] = "{\"page_size\"";
    const uint8_t *j = NULL;
    for (const uint8_t *p = buf; (p = memmem(p, len - (size_t)(p - buf), key, sizeof(key) - 1)); p++)
        j = p;
    if (!j || j - buf < 5 || j[-5] != VMDESCRIPTION || be32(j - 4) != len - (size_t)(j - buf)) {
        snprintf(e->text, sizeof(e->text), "stream of %zu bytes has no vmdescription trailer at its end", len);
        return NULL;
    }
    json_error_t je;
    json_t *d = json_loadb((const char *)j, len - (size_t)(j - buf), 0, &je);
    if (!d || !json_is_array(json_object_get(d, "devices"))) {
        snprintf(e->text, sizeof(e->text), "vmdescription at offset %zu: %s", (size_t)(j - buf),
                 d ? "no devices array" : je.text);
        json_decref(d);
        return NULL;
    }
    return d;
}

bool qdrv_stream_sections(const uint8_t *buf, size_t len, QdrvStream *st, QdrvErr *e)
{
    st->sec = NULL;
    st->n = 0;
    json_t *d = vmdesc(buf, len, e);
    if (!d)
        return false;
    json_t *devs = json_object_get(d, "devices");
    size_t n = json_array_size(devs), pos = 0;
    st->sec = calloc(n + 1, sizeof(*st->sec));
    for (size_t i = 0; i < n; i++) {
        json_t *dev = json_array_get(devs, i);
        const char *name = json_string_value(json_object_get(dev, "name"));
        json_int_t inst = json_integer_value(json_object_get(dev, "instance_id"));
        json_int_t ver = json_integer_value(json_object_get(dev, "version"));
        size_t nl = name ? strlen(name) : 0;
        if (!nl || nl > 255 || nl >= sizeof(st->sec[0].name)) {
            snprintf(e->text, sizeof(e->text), "vmdescription device %zu has no usable name", i);
            goto fail;
        }
        /* Header after the type byte and section id: len, name, instance, version. */
        uint8_t pat[1 + 255 + 8];
        pat[0] = (uint8_t)nl;
        memcpy(pat + 1, name, nl);
        for (int k = 0; k < 4; k++) {
            pat[1 + nl + k] = (uint8_t)((uint32_t)inst >> (24 - 8 * k));
            pat[5 + nl + k] = (uint8_t)((uint32_t)ver >> (24 - 8 * k));
        }
        const uint8_t *hit = NULL;
        for (size_t from = pos; from < len;) {
            const uint8_t *h = memmem(buf + from, len - from, pat, 9 + nl);
            if (!h)
                break;
            if (h - buf >= 5 && h[-5] == SECTION_FULL) {
                hit = h;
                break;
            }
            from = (size_t)(h - buf) + 1;
        }
        if (!hit) {
            snprintf(e->text, sizeof(e->text), "section %s.%lld (version %lld) of the vmdescription is not in the stream after offset %zu",
                     name, (long long)inst, (long long)ver, pos);
            goto fail;
        }
        QdrvSection *s = &st->sec[st->n++];
        snprintf(s->name, sizeof(s->name), "%s", name);
        s->instance = (uint32_t)inst;
        s->start = (size_t)(hit - buf) - 5;
        s->body = (size_t)(hit - buf) + 9 + nl;
        if (st->n > 1)
            st->sec[st->n - 2].end = s->start;
        pos = s->body;
    }
    if (st->n) {
        /* The last section ends where the vmdescription record starts. */
        const uint8_t *eof = memrchr(buf, VMDESCRIPTION, len);
        st->sec[st->n - 1].end = eof && (size_t)(eof - buf) > pos ? (size_t)(eof - buf) : len;
    }
    json_decref(d);
    return true;
fail:
    json_decref(d);
    qdrv_stream_free(st);
    return false;
}

void qdrv_stream_free(QdrvStream *st)
{
    free(st->sec);
    st->sec = NULL;
    st->n = 0;
}

static const QdrvSection *find_section(const QdrvStream *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->sec[i].name, name))
            return &st->sec[i];
    return NULL;
}

bool qdrv_stream_set_runstate(uint8_t *buf, size_t len, const char *runstate, QdrvErr *e)
{
    QdrvStream st;
    if (!qdrv_stream_sections(buf, len, &st, e))
        return false;
    const QdrvSection *g = find_section(&st, "globalstate");
    size_t n = strlen(runstate) + 1;
    bool ok = g && g->body + 4 + 100 <= g->end && n <= 100;
    if (ok) {
        /* be32 length including the NUL, then a 100-byte buffer. */
        uint8_t *p = buf + g->body;
        p[0] = p[1] = p[2] = 0;
        p[3] = (uint8_t)n;
        memset(p + 4, 0, 100);
        memcpy(p + 4, runstate, n);
    } else {
        snprintf(e->text, sizeof(e->text), "stream has no globalstate section with a runstate");
    }
    qdrv_stream_free(&st);
    return ok;
}

static bool is_volatile(const char *section, size_t off)
{
    for (size_t i = 0; i < qdrv_volatile_7_2_count; i++) {
        const QdrvVolatile *v = &qdrv_volatile_7_2[i];
        if (!strcmp(v->section, section) && off >= v->offset && off < v->offset + v->size)
            return true;
    }
    return false;
}

/* Name the vmdesc field of section s covering body offset off, by adding
 * up field sizes (element size times array length). */
static void field_at(const uint8_t *buf, size_t len, const QdrvSection *s, size_t off, char *out, size_t n)
{
    QdrvErr e;
    snprintf(out, n, "(subsection or framing)");
    json_t *d = vmdesc(buf, len, &e);
    json_t *devs = json_object_get(d, "devices");
    for (size_t i = 0; i < json_array_size(devs); i++) {
        json_t *dev = json_array_get(devs, i);
        if (strcmp(json_string_value(json_object_get(dev, "name")) ?: "", s->name) ||
            json_integer_value(json_object_get(dev, "instance_id")) != s->instance)
            continue;
        size_t at = 0;
        json_t *fields = json_object_get(dev, "fields");
        for (size_t k = 0; k < json_array_size(fields); k++) {
            json_t *f = json_array_get(fields, k);
            json_int_t size = json_integer_value(json_object_get(f, "size"));
            json_int_t count = json_object_get(f, "array_len") ? json_integer_value(json_object_get(f, "array_len")) : 1;
            size_t span = (size_t)(size * count);
            if (off < at + span) {
                const char *fname = json_string_value(json_object_get(f, "name"));
                if (count > 1)
                    snprintf(out, n, "%s[%zu]", fname, (off - at) / (size_t)size);
                else
                    snprintf(out, n, "%s", fname);
                break;
            }
            at += span;
        }
        break;
    }
    json_decref(d);
}

static void hex16(const uint8_t *p, size_t avail, char *out)
{
    size_t k = avail < 16 ? avail : 16;
    for (size_t i = 0; i < k; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * k] = 0;
}

bool qdrv_stream_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, QdrvDiff *d, QdrvErr *e)
{
    memset(d, 0, sizeof(*d));
    QdrvStream sa, sb;
    if (!qdrv_stream_sections(a, alen, &sa, e))
        return false;
    if (!qdrv_stream_sections(b, blen, &sb, e)) {
        qdrv_stream_free(&sa);
        return false;
    }
    bool same_frame = sa.n == sb.n && sa.n && sa.sec[0].start == sb.sec[0].start;
    for (size_t i = 0; same_frame && i < sa.n; i++)
        same_frame = !strcmp(sa.sec[i].name, sb.sec[i].name) && sa.sec[i].instance == sb.sec[i].instance &&
                     sa.sec[i].end - sa.sec[i].start == sb.sec[i].end - sb.sec[i].start;
    if (!same_frame) {
        /* Different section layout (a subsection sent by one side only, or
         * different RAM encoding): name the first section that differs. */
        d->differs = true;
        size_t i = 0;
        while (i < sa.n && i < sb.n && !strcmp(sa.sec[i].name, sb.sec[i].name) &&
               sa.sec[i].end - sa.sec[i].start == sb.sec[i].end - sb.sec[i].start &&
               (i || sa.sec[0].start == sb.sec[0].start))
            i++;
        if (i < sa.n && i < sb.n && i > 0)
            snprintf(d->section, sizeof(d->section), "%s.%u", sa.sec[i].name, sa.sec[i].instance);
        else
            snprintf(d->section, sizeof(d->section), i ? "(framing)" : "ram");
        snprintf(d->field, sizeof(d->field), "(length: %zu vs %zu bytes)",
                 i < sa.n ? sa.sec[i].end - sa.sec[i].start : 0, i < sb.n ? sb.sec[i].end - sb.sec[i].start : 0);
        d->count = 1;
        qdrv_stream_free(&sa);
        qdrv_stream_free(&sb);
        return true;
    }
    /* Same layout: compare byte by byte up to the vmdescription (whose
     * text is the same whenever the layout is). */
    size_t end = sa.sec[sa.n - 1].end;
    for (size_t off = 0; off < end; off++) {
        if (a[off] == b[off])
            continue;
        const QdrvSection *s = NULL;
        for (size_t i = 0; i < sa.n; i++)
            if (off >= sa.sec[i].body && off < sa.sec[i].end)
                s = &sa.sec[i];
        if (s && is_volatile(s->name, off - s->body))
            continue;
        if (!d->count++) {
            d->differs = true;
            d->stream_offset = off;
            if (s) {
                snprintf(d->section, sizeof(d->section), "%s.%u", s->name, s->instance);
                d->offset = off - s->body;
                field_at(a, alen, s, d->offset, d->field, sizeof(d->field));
            } else {
                snprintf(d->section, sizeof(d->section), off < sa.sec[0].start ? "ram" : "(framing)");
                d->offset = off;
            }
            hex16(a + off, end - off, d->a);
            hex16(b + off, end - off, d->b);
        }
    }
    qdrv_stream_free(&sa);
    qdrv_stream_free(&sb);
    return true;
}
