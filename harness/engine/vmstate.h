/*
 * vmstate.h - declarative device-state descriptions and the engine that walks them
 * (prefix vms_ / VMS_).
 *
 * The model is QEMU's VMStateDescription: a device's migratable state is a
 * table of fields (name, offset, element size, leaf codec, flags), ordered as
 * they appear on the wire, plus subsections gated by needed(). One generic
 * engine saves and loads any table; devices write tables, not code.
 *
 * Wire encoding is QEMU's: big-endian, no padding, no tags, no lengths, so a
 * stream is self-delimiting only given the description. Nested struct
 * versions are not on the wire (a child is loaded at its own version_id).
 *
 * Loading treats the stream as hostile: every count is checked against the
 * capacity before anything is written, VALIDATE predicates run on both save
 * and load, and every failure fills a VmsError naming the section, field path
 * (with array index) and byte offset. vms_load_state itself does not undo
 * partial writes; the machine layer resets on failure (see savevm.h).
 */
#ifndef VMSTRESS_VMSTATE_H
#define VMSTRESS_VMSTATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

typedef struct VmsField VmsField;
typedef struct VmsDesc VmsDesc;
typedef struct VmsMap VmsMap;

/* ------------------------------------------------------------------ errors */

typedef enum VmsErrClass {
    VMS_ERR_NONE = 0,
    VMS_ERR_TRUNCATED,      /* stream ended inside an item */
    VMS_ERR_FORMAT,         /* bad magic, type byte, footer, marker, name */
    VMS_ERR_VERSION,        /* too new / too old / unsupported stream version */
    VMS_ERR_UNKNOWN,        /* unknown section, instance or subsection */
    VMS_ERR_DUPLICATE,      /* a subsection or section seen twice */
    VMS_ERR_RANGE,          /* a count or size over the capacity */
    VMS_ERR_EQUAL,          /* an *_EQUAL field differs from the destination */
    VMS_ERR_VALIDATE,       /* a VALIDATE predicate failed */
    VMS_ERR_HOOK,           /* pre_save/post_save/pre_load/post_load failed */
    VMS_ERR_LIMIT,          /* output over its bound, or allocation failed */
    VMS_ERR_CONFIG,         /* configuration section mismatch (machine type) */
} VmsErrClass;

typedef struct VmsError {
    VmsErrClass cls;
    char section[80];       /* idstr of the section, "" if outside any */
    int64_t instance;       /* instance id, -1 if outside any section */
    char field[160];        /* path, e.g. "read_fifo[3]", "timer.limit", "pl031/tick-offset.tick_offset" */
    size_t offset;          /* byte offset in the stream where the failing item starts */
    char msg[200];          /* what is wrong, with the offending value */
} VmsError;

const char *vms_error_class_name(VmsErrClass cls);
/* One line: "<class> at offset N in section 'S' instance I field 'F': msg". Returns length.
 * A buffer of VMS_ERROR_LINE_MAX always holds the whole line (every part
 * escaped); a shorter one gets a line ending in "...". */
#define VMS_ERROR_LINE_MAX 2048
int vms_error_format(const VmsError *e, char *buf, size_t n);
/* No error: class NONE, empty strings, instance -1, offset 0 (only each
 * string's first byte is written; the bytes past it are not looked at). */
void vms_error_clear(VmsError *e);
/* Set e->msg; a message too long for it ends in "..." (never cut silently). */
void vms_error_vmsg(VmsError *e, const char *fmt, va_list ap);

/* Hooks report why they failed through this; vms_fail formats and returns false.
 * A post_load or VALIDATE_WHY message that begins with the name of a field
 * of its own description ("read_pos 16 out of range [0, 15]") blames that
 * member: the load error then names the field and points at its offset in
 * the stream, not at the end of the section. */
typedef struct VmsMsg {
    char text[160];
} VmsMsg;
bool vms_fail(VmsMsg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ leaf codecs */

typedef struct VmsInfo {
    const char *name;   /* QEMU's info name; becomes "type" in the vmdesc JSON */
    /* Write one element of `size` bytes at pv. */
    bool (*put)(VmsOut *out, const void *pv, size_t size, const VmsField *f, VmsMsg *why);
    /* Read one element into pv. False with why set on a semantic failure
     * (EQUAL mismatch, bad marker); a short read is detected by the engine. */
    bool (*get)(VmsIn *in, void *pv, size_t size, const VmsField *f, VmsMsg *why);
    VmsErrClass fail_class; /* class reported when get returns false with in not failed */
} VmsInfo;

extern const VmsInfo vms_info_bool;
extern const VmsInfo vms_info_int8, vms_info_int16, vms_info_int32, vms_info_int64;
extern const VmsInfo vms_info_uint8, vms_info_uint16, vms_info_uint32, vms_info_uint64;
extern const VmsInfo vms_info_uint8_equal, vms_info_uint16_equal, vms_info_uint32_equal;
extern const VmsInfo vms_info_int32_equal, vms_info_uint64_equal; /* the latter is named "int64 equal", as in QEMU */
extern const VmsInfo vms_info_int32_le;      /* 0 <= loaded <= current, then stored */
extern const VmsInfo vms_info_buffer;        /* raw bytes */
extern const VmsInfo vms_info_unused_buffer; /* zeros on save, skipped on load */
extern const VmsInfo vms_info_nullptr;       /* the 0x30 marker for a NULL pointer */
/* vms_info_timer lives in vclock.h: be64 deadline in ns, -1 when not armed. */

/* ---------------------------------------------------------------- fields */

enum {
    VMS_SINGLE       = 0,
    VMS_ARRAY        = 1u << 0,  /* fixed count `num` */
    VMS_STRUCT       = 1u << 1,  /* recurse into vmsd */
    VMS_POINTER      = 1u << 2,  /* member is a pointer; dereference first */
    VMS_ARRAY_OF_PTR = 1u << 3,  /* each element is a pointer; NULL sent as 0x30 */
    VMS_VARRAY_U8    = 1u << 4,  /* count in a uint8_t member at num_offset */
    VMS_VARRAY_U16   = 1u << 5,  /* ... uint16_t */
    VMS_VARRAY_U32   = 1u << 6,  /* ... uint32_t */
    VMS_VARRAY_I32   = 1u << 7,  /* ... int32_t (negative is a range error) */
    VMS_BUFFER       = 1u << 8,  /* opaque bytes, `size` of them */
    VMS_VBUFFER      = 1u << 9,  /* byte count in a uint32_t member at size_offset, capacity `num` */
    VMS_ALLOC        = 1u << 10, /* with POINTER: allocate on load (bounded by capacity) */
    VMS_MUST_EXIST   = 1u << 11, /* VALIDATE: field_exists must hold, on save and load; no bytes */
    VMS_END          = 1u << 15, /* terminator */
};
#define VMS_VARRAY_ANY (VMS_VARRAY_U8 | VMS_VARRAY_U16 | VMS_VARRAY_U32 | VMS_VARRAY_I32)

struct VmsField {
    const char *name;       /* stringified C member expression, as QEMU's (e.g. "tx_fifo[0]") */
    size_t offset;          /* offsetof the member in the opaque struct */
    size_t size;            /* size of one element (pointee for pointers) */
    const VmsInfo *info;    /* leaf codec; NULL for VMS_STRUCT */
    uint32_t flags;
    uint32_t num;           /* ARRAY: element count; VARRAY/VBUFFER: capacity */
    size_t num_offset;      /* VARRAY: offset of the count member */
    size_t size_offset;     /* VBUFFER: offset of the uint32_t byte-count member */
    const VmsDesc *vmsd;    /* VMS_STRUCT: child description */
    int version_id;         /* present in streams of at least this version */
    /* If set, the sole judge of presence (version_id ignored), on save and load. */
    bool (*field_exists)(void *opaque, int version_id);
    /* VMS_VALIDATE_WHY: a predicate that says what is wrong (see VmsMsg). */
    bool (*validate)(void *opaque, int version_id, VmsMsg *why);
};

struct VmsDesc {
    const char *name;
    int version_id;
    int minimum_version_id;
    const VmsField *fields;              /* terminated by VMS_END_OF_LIST() */
    const VmsDesc *const *subsections;   /* NULL-terminated, or NULL */
    bool (*needed)(void *opaque);        /* subsection sent only if absent or true */
    /* needed() reads only configuration (a device property, fixed at
     * realize), never guest state: a description dump of a configured
     * machine may then ask it, and leaves out a subsection that machine
     * never sends (a compat property switched it off). */
    bool needed_is_config;
    bool (*pre_save)(void *opaque, VmsMsg *why);
    bool (*post_save)(void *opaque, VmsMsg *why);
    bool (*pre_load)(void *opaque, int version_id, VmsMsg *why);
    /* Runs after all fields and subsections. */
    bool (*post_load)(void *opaque, int version_id, VmsMsg *why);
};

/* ------------------------------------------------------------- the walk */

/*
 * An optional record of where every leaf element went in the stream, so a
 * byte difference between two streams can be named down to the field.
 * Filled by vms_save_state when out-map is set; see VmsMap in savevm.h.
 */
typedef struct VmsSpan {
    size_t offset;          /* stream offset of the element */
    uint32_t size;          /* bytes written */
    uint32_t index;         /* array index, or 0 */
    const VmsDesc *desc;    /* the description the field belongs to */
    const VmsField *field;
    const char *path;       /* full field path (owned by the map) */
    int32_t section;        /* index of the registry section it belongs to (set by vms_save), else -1 */
} VmsSpan;

struct VmsMap {
    VmsSpan *spans;         /* in stream order */
    size_t n, cap;
};
void vms_map_init(VmsMap *m);
void vms_map_free(VmsMap *m);
/* The span containing stream offset off, or NULL (framing bytes). */
const VmsSpan *vms_map_find(const VmsMap *m, size_t off);

/*
 * Walk decisions reported to an optional observer (field coverage), besides
 * the leaf elements. d is the description concerned; version is the version
 * it is saved or loaded at (SAVE_DESC, LOAD_DESC) or 0; err is set only for
 * LOAD_END of a failed load (NULL: the load was accepted).
 */
typedef enum VmsObsEvent {
    VMS_OBS_SAVE_DESC = 1,      /* d is about to be saved at `version` (also nested structs) */
    VMS_OBS_LOAD_DESC,          /* d is about to be loaded from a stream at `version` */
    VMS_OBS_SUB_NEEDED,         /* save: subsection d is needed, so it is sent */
    VMS_OBS_SUB_NOT_NEEDED,     /* save: subsection d is not needed, so it is left out */
    VMS_OBS_SUB_LOADED,         /* load: subsection d was found in the stream */
    VMS_OBS_LOAD_END,           /* a whole-stream load (vms_load) finished */
    /* Around each pre_load and post_load hook d has (to attribute what a
     * hook changed: snapshot before, compare after). */
    VMS_OBS_PRE_LOAD_BEGIN,
    VMS_OBS_PRE_LOAD_END,
    VMS_OBS_POST_LOAD_BEGIN,
    VMS_OBS_POST_LOAD_END,
    /* The same around each pre_save and post_save (a save must change
     * nothing; these name the hook that did). */
    VMS_OBS_PRE_SAVE_BEGIN,
    VMS_OBS_PRE_SAVE_END,
    VMS_OBS_POST_SAVE_BEGIN,
    VMS_OBS_POST_SAVE_END,
} VmsObsEvent;
typedef void VmsObserveEvent(void *obs_opaque, VmsObsEvent ev, const VmsDesc *d, int version,
                             const VmsError *err);

/*
 * Compiled plans of the descriptions a walker meets (vmstate.c, "plans"):
 * runs of plain fields moved in one go, built once per (description,
 * version, direction). Zero-initialise; vms_plans_free releases them. A
 * cache may serve only descriptions that stay unchanged, at their address,
 * for as long as it lives: a registry's (VmsRegistry.plans) does.
 */
typedef struct VmsPlans {
    struct VmsPlanSlot *slot;
    size_t cap, n;
} VmsPlans;
void vms_plans_free(VmsPlans *plans);
/* A memo of one description's plan for one direction, for a walker that
 * meets the same top-level description at every walk (a registry's
 * section): the cache is asked again only when the key (description,
 * version) changes. Zero-initialise; it points into the VmsPlans it was
 * filled from, so it must live no longer than they do. */
typedef struct VmsPlanRef {
    const VmsDesc *d;
    int version;
    const struct Plan *plan;
} VmsPlanRef;

/* Per-walk options and context. Zero-initialise, then set what is wanted. */
typedef struct VmsCtx {
    VmsError *err;              /* filled on failure (required) */
    const char *section;        /* for error reports */
    int64_t instance;
    size_t base_offset;         /* added to stream positions in reports */
    VmsMap *map;                /* optional: record leaf spans on save */
    /* Optional observer called for every leaf element saved or loaded (field coverage). */
    void (*observe)(void *obs_opaque, const VmsDesc *d, const VmsField *f, uint32_t index,
                    const void *pv, size_t size, bool loading);
    void *obs_opaque;
    /* Optional observer of walk decisions (field coverage): versions, subsections. */
    VmsObserveEvent *observe_event;
    /* Optional: the vmdesc JSON object for this section (a jansson json_t *), filled on save. */
    void *vmdesc;
    /* Save the top-level description at this version instead of its
     * version_id (0: its version_id): fields of later versions are not sent,
     * as the release that had this version would not send them. Nested
     * structs and subsections keep their own versions. */
    int version;
    /* Optional: the member table of the object loaded (members.h). When a
     * validator or post_load refuses the load and a member with a declared
     * range is outside it, the error names that member in its field slot,
     * with the value and the range. */
    const struct DevMember *members;
    /* Optional: where compiled plans are kept (NULL: no plans; every field
     * takes the per-field walk). Used only by a plain walk: no observer,
     * event observer, map or vmdesc. */
    VmsPlans *plans;
    /* Optional, with plans: the memo of the top-level description's plan
     * for this walk's direction (VmsSection.plan_ref). */
    VmsPlanRef *plan_ref;
} VmsCtx;

/* Save `opaque` through `d` at c->version, or d->version_id (fields, then subsections). */
bool vms_save_state(VmsCtx *c, VmsOut *out, const VmsDesc *d, void *opaque);
/* Load a body written at stream version `version_id` into `opaque`. */
bool vms_load_state(VmsCtx *c, VmsIn *in, const VmsDesc *d, void *opaque, int version_id);

/* Byte ranges [offset, offset+size) of `opaque` that `d` (and its structs,
 * subsections, count members) cover; calls fn for each leaf member. Used by
 * the shadow diff to tell "covered by a field" from "forgotten". */
void vms_for_each_member(const VmsDesc *d, void (*fn)(void *arg, const VmsDesc *d,
                         const VmsField *f, size_t offset, size_t size), void *arg);
/* The same for one object of `size` bytes: pointer fields that point inside
 * the object (an inline timer, clock or ptimer) also cover their pointee. */
void vms_for_each_member_in(const VmsDesc *d, const void *obj, size_t size,
                            void (*fn)(void *arg, const VmsDesc *d, const VmsField *f,
                                       size_t offset, size_t size),
                            void *arg);

/* ------------------------------------------------------------- macros */

/* Compile-time check that S::m has type T (C11: a static assert inside a struct). */
#define VMS_TYPECHECK(S, m, T) \
    (0 * sizeof(struct { _Static_assert(_Generic(((S *)0)->m, T: 1, default: 0), \
                                        "vmstate field " #m " is not " #T); int vms_dummy_; }))
#define VMS_ARRAYCHECK(S, m, T, n) \
    (0 * sizeof(struct { _Static_assert(sizeof(((S *)0)->m) == sizeof(T) * (n) && \
                                        _Generic(((S *)0)->m[0], T: 1, default: 0), \
                                        "vmstate field " #m " is not " #T "[" #n "]"); int vms_dummy_; }))
#define VMS_MEMBER_SIZE(S, m) sizeof(((S *)0)->m)

#define VMS_SINGLE_TEST_V(m, S, v, test, inf, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, T), .size = sizeof(T), \
    .info = &(inf), .flags = VMS_SINGLE, .version_id = (v), .field_exists = (test) }
#define VMS_SINGLE_V(m, S, v, inf, T) VMS_SINGLE_TEST_V(m, S, v, NULL, inf, T)

#define VMS_BOOL(m, S)      VMS_SINGLE_V(m, S, 0, vms_info_bool, bool)
#define VMS_INT8(m, S)      VMS_SINGLE_V(m, S, 0, vms_info_int8, int8_t)
#define VMS_INT16(m, S)     VMS_SINGLE_V(m, S, 0, vms_info_int16, int16_t)
#define VMS_INT32(m, S)     VMS_SINGLE_V(m, S, 0, vms_info_int32, int32_t)
#define VMS_INT64(m, S)     VMS_SINGLE_V(m, S, 0, vms_info_int64, int64_t)
#define VMS_UINT8(m, S)     VMS_SINGLE_V(m, S, 0, vms_info_uint8, uint8_t)
#define VMS_UINT16(m, S)    VMS_SINGLE_V(m, S, 0, vms_info_uint16, uint16_t)
#define VMS_UINT32(m, S)    VMS_SINGLE_V(m, S, 0, vms_info_uint32, uint32_t)
#define VMS_UINT64(m, S)    VMS_SINGLE_V(m, S, 0, vms_info_uint64, uint64_t)
#define VMS_BOOL_V(m, S, v)   VMS_SINGLE_V(m, S, v, vms_info_bool, bool)
#define VMS_INT32_V(m, S, v)  VMS_SINGLE_V(m, S, v, vms_info_int32, int32_t)
#define VMS_UINT8_V(m, S, v)  VMS_SINGLE_V(m, S, v, vms_info_uint8, uint8_t)
#define VMS_UINT16_V(m, S, v) VMS_SINGLE_V(m, S, v, vms_info_uint16, uint16_t)
#define VMS_UINT32_V(m, S, v) VMS_SINGLE_V(m, S, v, vms_info_uint32, uint32_t)
#define VMS_UINT64_V(m, S, v) VMS_SINGLE_V(m, S, v, vms_info_uint64, uint64_t)
#define VMS_UINT32_TEST(m, S, t) VMS_SINGLE_TEST_V(m, S, 0, t, vms_info_uint32, uint32_t)
#define VMS_BOOL_TEST(m, S, t)   VMS_SINGLE_TEST_V(m, S, 0, t, vms_info_bool, bool)

#define VMS_UINT8_EQUAL(m, S)  VMS_SINGLE_V(m, S, 0, vms_info_uint8_equal, uint8_t)
#define VMS_UINT16_EQUAL(m, S) VMS_SINGLE_V(m, S, 0, vms_info_uint16_equal, uint16_t)
#define VMS_UINT32_EQUAL(m, S) VMS_SINGLE_V(m, S, 0, vms_info_uint32_equal, uint32_t)
#define VMS_INT32_EQUAL(m, S)  VMS_SINGLE_V(m, S, 0, vms_info_int32_equal, int32_t)
#define VMS_UINT64_EQUAL(m, S) VMS_SINGLE_V(m, S, 0, vms_info_uint64_equal, uint64_t)
#define VMS_INT32_POSITIVE_LE(m, S) VMS_SINGLE_V(m, S, 0, vms_info_int32_le, int32_t)

/* Fixed arrays: T m[n]. */
#define VMS_ARRAY_V(m, S, n, v, inf, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_ARRAYCHECK(S, m, T, n), .size = sizeof(T), \
    .info = &(inf), .flags = VMS_ARRAY, .num = (n), .version_id = (v) }
#define VMS_BOOL_ARRAY(m, S, n)   VMS_ARRAY_V(m, S, n, 0, vms_info_bool, bool)
#define VMS_INT8_ARRAY(m, S, n)   VMS_ARRAY_V(m, S, n, 0, vms_info_int8, int8_t)
#define VMS_INT16_ARRAY(m, S, n)  VMS_ARRAY_V(m, S, n, 0, vms_info_int16, int16_t)
#define VMS_INT32_ARRAY(m, S, n)  VMS_ARRAY_V(m, S, n, 0, vms_info_int32, int32_t)
#define VMS_INT64_ARRAY(m, S, n)  VMS_ARRAY_V(m, S, n, 0, vms_info_int64, int64_t)
#define VMS_UINT8_ARRAY(m, S, n)  VMS_ARRAY_V(m, S, n, 0, vms_info_uint8, uint8_t)
#define VMS_UINT16_ARRAY(m, S, n) VMS_ARRAY_V(m, S, n, 0, vms_info_uint16, uint16_t)
#define VMS_UINT32_ARRAY(m, S, n) VMS_ARRAY_V(m, S, n, 0, vms_info_uint32, uint32_t)
#define VMS_UINT64_ARRAY(m, S, n) VMS_ARRAY_V(m, S, n, 0, vms_info_uint64, uint64_t)

/* Variable arrays: inline T m[cap], count in member c (of the flag's width).
 * The count must be loaded earlier (or be configuration); it is checked
 * against cap before any element is written. */
#define VMS_VARRAY(m, S, c, flag, cap, v, inf, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_ARRAYCHECK(S, m, T, cap), .size = sizeof(T), \
    .info = &(inf), .flags = (flag), .num = (cap), .num_offset = offsetof(S, c), .version_id = (v) }
#define VMS_VARRAY_UINT8(m, S, c, cap, inf, T)  VMS_VARRAY(m, S, c, VMS_VARRAY_U8, cap, 0, inf, T)
#define VMS_VARRAY_UINT16(m, S, c, cap, inf, T) VMS_VARRAY(m, S, c, VMS_VARRAY_U16, cap, 0, inf, T)
#define VMS_VARRAY_UINT32(m, S, c, cap, inf, T) VMS_VARRAY(m, S, c, VMS_VARRAY_U32, cap, 0, inf, T)
#define VMS_VARRAY_INT32(m, S, c, cap, inf, T)  VMS_VARRAY(m, S, c, VMS_VARRAY_I32, cap, 0, inf, T)

/* Structs: child description d for member of type T. */
#define VMS_STRUCT_V(m, S, v, d, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, T), .size = sizeof(T), \
    .flags = VMS_STRUCT, .vmsd = &(d), .version_id = (v) }
#define VMS_STRUCT(m, S, d, T) VMS_STRUCT_V(m, S, 0, d, T)
/* Fixed arrays of structs, present from field version v (QEMU's
 * VMSTATE_STRUCT_ARRAY takes one: PL080's channels are at version 1). */
#define VMS_STRUCT_ARRAY_V(m, S, n, v, d, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_ARRAYCHECK(S, m, T, n), .size = sizeof(T), \
    .flags = VMS_STRUCT | VMS_ARRAY, .num = (n), .vmsd = &(d), .version_id = (v) }
#define VMS_STRUCT_ARRAY(m, S, n, d, T) VMS_STRUCT_ARRAY_V(m, S, n, 0, d, T)
#define VMS_STRUCT_VARRAY_UINT32(m, S, c, cap, d, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_ARRAYCHECK(S, m, T, cap), .size = sizeof(T), \
    .flags = VMS_STRUCT | VMS_VARRAY_U32, .num = (cap), .num_offset = offsetof(S, c), .vmsd = &(d) }
/* Pointer to a struct (T *m); a NULL pointer is sent as the 0x30 marker.
 * size is the pointer's, as in QEMU (it shows in -dump-vmstate). */
#define VMS_STRUCT_POINTER(m, S, d, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, T *), .size = sizeof(T *), \
    .flags = VMS_STRUCT | VMS_POINTER, .vmsd = &(d) }
/* Array of n pointers to structs (T *m[n]); NULL entries are sent as 0x30. */
#define VMS_ARRAY_OF_POINTER_TO_STRUCT(m, S, n, d, T) { \
    .name = #m, .offset = offsetof(S, m) + VMS_ARRAYCHECK(S, m, T *, n), .size = sizeof(T *), \
    .flags = VMS_STRUCT | VMS_ARRAY | VMS_ARRAY_OF_PTR, .num = (n), .vmsd = &(d) }

/* Byte buffers: the whole C array m (uint8_t m[N]); no length on the wire. */
#define VMS_BUFFER_V(m, S, v) { \
    .name = #m, .offset = offsetof(S, m), .size = VMS_MEMBER_SIZE(S, m), \
    .info = &vms_info_buffer, .flags = VMS_BUFFER, .version_id = (v) }
#define VMS_BUFFER(m, S) VMS_BUFFER_V(m, S, 0)
/* Buffer behind a pointer (uint8_t *m) of fixed size n. */
#define VMS_BUFFER_POINTER(m, S, n) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, uint8_t *), .size = (n), \
    .info = &vms_info_buffer, .flags = VMS_BUFFER | VMS_POINTER }
/* Variable buffer: inline uint8_t m[cap], byte count in uint32_t member len. */
#define VMS_VBUFFER_UINT32(m, S, len, cap) { \
    .name = #m, .offset = offsetof(S, m) + VMS_ARRAYCHECK(S, m, uint8_t, cap), .size = 0, \
    .info = &vms_info_buffer, .flags = VMS_VBUFFER, .num = (cap), \
    .size_offset = offsetof(S, len) + VMS_TYPECHECK(S, len, uint32_t) }
/* Variable buffer behind a pointer, allocated on load (bounded by cap). */
#define VMS_VBUFFER_ALLOC_UINT32(m, S, len, cap) { \
    .name = #m, .offset = offsetof(S, m) + VMS_TYPECHECK(S, m, uint8_t *), .size = 0, \
    .info = &vms_info_buffer, .flags = VMS_VBUFFER | VMS_POINTER | VMS_ALLOC, .num = (cap), \
    .size_offset = offsetof(S, len) + VMS_TYPECHECK(S, len, uint32_t) }

/* n bytes of zeros on save, skipped on load; field name "unused" as in QEMU. */
#define VMS_UNUSED_V(v, n) { \
    .name = "unused", .size = (n), .info = &vms_info_unused_buffer, .flags = VMS_BUFFER, .version_id = (v) }
#define VMS_UNUSED(n) VMS_UNUSED_V(0, n)

/* A named predicate run at this position on save and load; sends no bytes. */
#define VMS_VALIDATE(text, fn) { \
    .name = (text), .flags = VMS_ARRAY | VMS_MUST_EXIST, .num = 0, .field_exists = (fn) }
/* The same, with a predicate that names the member and its value on failure
 * (same wire format and dump as VMS_VALIDATE). */
#define VMS_VALIDATE_WHY(text, fn) { \
    .name = (text), .flags = VMS_ARRAY | VMS_MUST_EXIST, .num = 0, .validate = (fn) }

#define VMS_END_OF_LIST() { .flags = VMS_END }

#endif
