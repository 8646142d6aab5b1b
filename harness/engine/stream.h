/*
 * stream.h - bounded in-memory byte streams for migration data (prefix vms_out / vms_in).
 *
 * A migration stream is written into a VmsOut, which grows on demand but
 * never beyond its limit, and read back through a VmsIn, which never reads
 * past its end. Both are big-endian, as QEMU's QEMUFile is.
 *
 * Errors are sticky: after the first failure every later call is a no-op
 * that reports failure, so a codec can issue a run of reads and check once.
 * The byte offset of the first failure is kept so that errors can name it.
 */
#ifndef VMSTRESS_STREAM_H
#define VMSTRESS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default bound for a growing output stream (enough for the largest machine). */
#define VMS_OUT_DEFAULT_LIMIT (64u << 20)

typedef struct VmsOut {
    uint8_t *buf;
    size_t len;     /* bytes written */
    size_t cap;     /* bytes allocated */
    size_t limit;   /* never grow past this; exceeding it is an error */
    bool failed;    /* sticky: an allocation or the limit failed */
} VmsOut;

typedef struct VmsIn {
    const uint8_t *buf;
    size_t len;
    size_t pos;         /* next byte to read */
    bool failed;        /* sticky: a read went past the end */
    size_t fail_pos;    /* offset at which the first failing read started */
} VmsIn;

/* Output: init with a limit (0 means VMS_OUT_DEFAULT_LIMIT). reset keeps the allocation. */
void vms_out_init(VmsOut *o, size_t limit);
void vms_out_reset(VmsOut *o);
void vms_out_free(VmsOut *o);
bool vms_out_bytes(VmsOut *o, const void *p, size_t n);
bool vms_out_zeros(VmsOut *o, size_t n);
bool vms_out_u8(VmsOut *o, uint8_t v);
bool vms_out_be16(VmsOut *o, uint16_t v);
bool vms_out_be32(VmsOut *o, uint32_t v);
bool vms_out_be64(VmsOut *o, uint64_t v);
/* The place to write n more bytes at without growing, or NULL when the
 * buffer must grow first (or has failed): then use the writers above, which
 * grow it or fail. Bytes written there count once vms_out_advance(o, n)
 * says so. The engine's walker moves runs of plain integers this way, one
 * bounds check for the run instead of one per value. */
static inline uint8_t *vms_out_room(VmsOut *o, size_t n)
{
    return !o->failed && n <= o->cap - o->len && o->len + n <= o->limit ? o->buf + o->len : NULL;
}
static inline void vms_out_advance(VmsOut *o, size_t n) { o->len += n; }
/* Overwrite 4 bytes already written at offset at (used for back-patched lengths). */
void vms_out_patch_be32(VmsOut *o, size_t at, uint32_t v);

/* Big-endian values at p (no bounds: the caller has checked them). */
static inline void vms_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void vms_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void vms_put_be64(uint8_t *p, uint64_t v)
{
    vms_put_be32(p, (uint32_t)(v >> 32));
    vms_put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t vms_get_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t vms_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t vms_get_be64(const uint8_t *p)
{
    return ((uint64_t)vms_get_be32(p) << 32) | vms_get_be32(p + 4);
}

/* Input over caller-owned memory. */
void vms_in_init(VmsIn *in, const void *buf, size_t len);
bool vms_in_bytes(VmsIn *in, void *p, size_t n);
bool vms_in_skip(VmsIn *in, size_t n);
bool vms_in_u8(VmsIn *in, uint8_t *v);
bool vms_in_be16(VmsIn *in, uint16_t *v);
bool vms_in_be32(VmsIn *in, uint32_t *v);
bool vms_in_be64(VmsIn *in, uint64_t *v);
/* Look at the byte at pos+ahead without consuming; false if past the end (not an error). */
bool vms_in_peek(const VmsIn *in, size_t ahead, uint8_t *v);
static inline size_t vms_in_left(const VmsIn *in) { return in->len - in->pos; }

/* FNV-1a, 64 bits: the one content hash of the project (stream digests,
 * firmware identity in reproducers). Start from VMS_FNV1A64_INIT; feed
 * pieces in order. */
#define VMS_FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t vms_fnv1a64(uint64_t h, const void *p, size_t n);

/* Room for element n of a doubling array *arr of *cap elements of `elem`
 * bytes (n <= *cap): the one growth idiom of the engine and the modules
 * above it. False, with *arr untouched, if out of memory. */
bool vms_grow(void **arr, size_t *cap, size_t n, size_t elem);

#endif
