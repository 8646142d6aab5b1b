/*
 * decode.h - decode any QEMU migration stream into named leaves (prefix vdec_ / Vdec).
 *
 * The decoder needs no description of the devices: it is driven by the
 * stream's own JSON vmdescription trailer (0x06 | be32 length | JSON after
 * the EOF byte), which lists every section's fields, their sizes, arrays,
 * nested structs and subsections. The "ram" section, which has no entry in
 * the trailer, is decoded from its own format (block list, then per page an
 * address with flags, the block name unless CONTINUE, and the page bytes or
 * a zero page's fill byte).
 *
 * Leaves are named
 *   <idstr>.<instance>/<field>[<index>]/<subsection vmsd_name>/<field>...
 *   configuration/<field>...                 the configuration section
 *   ram/<block>                              a RAM block's used length (be64)
 *   ram/<block>@0x<addr>                     one page ("ram-page") or zero page ("ram-zero")
 * An element of a compressed array (array_len) and one listed with "index"
 * both get "[i]". A page sent twice (live migration) appears twice;
 * vdec_find returns the last one, which is what a destination keeps.
 *
 * Everything is checked against the bytes: section headers and footers,
 * subsection markers, names and versions, every leaf's size against what is
 * left before the trailer, every struct's declared size against the bytes
 * its fields took. Any inconsistency gives NULL and a one-line reason with
 * the stream offset. Resources are bounded: the trailer is at most
 * VDEC_TRAILER_MAX bytes, nesting at most VDEC_DEPTH_MAX, paths at most
 * VDEC_PATH_MAX, leaves at most proportional to the stream's length; the
 * work is linear in the stream and the trailer.
 */
#ifndef VMSTRESS_DECODE_H
#define VMSTRESS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmstate.h"

#define VDEC_TRAILER_MAX (16u << 20)
#define VDEC_DEPTH_MAX 32
#define VDEC_PATH_MAX 512

typedef struct VdecLeaf {
    const char *path;       /* see above */
    size_t offset;          /* first byte in the stream */
    size_t size;            /* bytes in the stream */
    const uint8_t *bytes;   /* points into the caller's buffer (buf + offset) */
    const char *type;       /* the trailer's type ("uint32", "int64", "buffer", ...),
                             * "ram-page", "ram-zero" or "ram-block" */
} VdecLeaf;

/* One section as framed in the stream (FULL, or the ram section's START). */
typedef struct VdecSection {
    const char *idstr;
    uint32_t instance_id, version_id, section_id;
    size_t header;          /* offset of its type byte */
    size_t body;            /* first byte after the header */
    size_t footer;          /* offset of its 0x7e footer */
    size_t end;             /* first byte after the footer */
} VdecSection;

typedef struct Vdec Vdec;

/* NULL and a one-line why on anything malformed. buf must outlive the result. */
Vdec *vdec_decode(const uint8_t *buf, size_t len, VmsMsg *why);
size_t vdec_count(const Vdec *d);
const VdecLeaf *vdec_leaf(const Vdec *d, size_t i);     /* stream order; NULL past the end */
const VdecLeaf *vdec_find(const Vdec *d, const char *path); /* O(log n); NULL if absent */
void vdec_free(Vdec *d);

/* Sections in stream order (so a caller can cut or splice a device's
 * section); vdec_section_find by (idstr, instance), NULL if absent. */
size_t vdec_section_count(const Vdec *d);
const VdecSection *vdec_section(const Vdec *d, size_t i);
const VdecSection *vdec_section_find(const Vdec *d, const char *idstr, uint32_t instance_id);

/* The trailer's page_size (0 if it has none). */
uint32_t vdec_page_size(const Vdec *d);

/* A leaf whose type is a 1/2/4/8-byte integer or bool as QEMU names them
 * ("uint32", "int32 equal", "int32 le", ...) or a "ram-block" length: its
 * value, sign-extended for the signed types. False for anything else. */
bool vdec_leaf_int(const VdecLeaf *l, bool *is_signed, uint64_t *v);
/* The value as text: "123 (0x7b)" for integers, else hex bytes, the middle
 * elided past max_bytes. Returns what snprintf would. */
int vdec_leaf_format(const VdecLeaf *l, size_t max_bytes, char *buf, size_t n);

#endif
