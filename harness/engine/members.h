/*
 * members.h - member tables: every member of a state struct, named, with
 * how the twins compare it (prefix dev_ / DEV_).
 *
 * A description (VmsDesc) says what is migrated; a member table says what
 * there is. The round-trip loop compares twins member by member and so can
 * name a member that no description field carries. The core's sections and
 * every device have one; it lives in the engine because both use it.
 */
#ifndef VMSTRESS_MEMBERS_H
#define VMSTRESS_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmstate.h"

typedef enum DevMemberKind {
    DEV_M_STATE = 0,    /* guest-visible state: must match between twins */
    DEV_M_TIMER,        /* a VTimer: only its deadline must match */
    DEV_M_HOST,         /* host-only: pointers, callbacks, handles (reason required) */
    DEV_M_VOLATILE,     /* guest state that may legitimately differ (reason required) */
} DevMemberKind;

/* The C type of a member's elements, found by _Generic (an array decays
 * to a pointer to its element type there, so T and T[n] give the same
 * code): lint compares it with the codec of the field that carries it. */
typedef enum DevElem {
    DEV_E_OTHER = 0,    /* a struct, pointer or anything else: only bytes are compared */
    DEV_E_BOOL, DEV_E_U8, DEV_E_U16, DEV_E_U32, DEV_E_U64,
    DEV_E_I8, DEV_E_I16, DEV_E_I32, DEV_E_I64,
} DevElem;

#define DEV_ELEM_OF(x) _Generic((x), \
    bool: DEV_E_BOOL, bool *: DEV_E_BOOL, uint8_t: DEV_E_U8, uint8_t *: DEV_E_U8, \
    uint16_t: DEV_E_U16, uint16_t *: DEV_E_U16, uint32_t: DEV_E_U32, uint32_t *: DEV_E_U32, \
    uint64_t: DEV_E_U64, uint64_t *: DEV_E_U64, int8_t: DEV_E_I8, int8_t *: DEV_E_I8, \
    int16_t: DEV_E_I16, int16_t *: DEV_E_I16, int32_t: DEV_E_I32, int32_t *: DEV_E_I32, \
    int64_t: DEV_E_I64, int64_t *: DEV_E_I64, default: DEV_E_OTHER)

typedef struct DevMember {
    const char *name;
    size_t offset;
    size_t size;
    DevMemberKind kind;
    const char *reason;     /* why a HOST or VOLATILE member is not compared; why it is derived */
    DevElem elem;           /* element type (arrays: of each element) */
    /* Not carried by any field: post_load recomputes it from these members
     * (comma-separated names of the same table). NULL: not derived. */
    const char *derived_from;
    /* An index or count: every element must lie in [lo, hi]. A load that
     * accepts a value outside is a finding (lint, the loop, the fuzzers). */
    bool ranged;
    int64_t lo, hi;
    /* Bit n is the level of external interrupt line n (the NVIC's inputs):
     * a difference here is named at the device that drives the line. */
    bool irq_lines;
} DevMember;

#define DEV_M_(S, m, k, why) .name = #m, .offset = offsetof(S, m), .size = sizeof(((S *)0)->m), \
    .kind = (k), .reason = (why), .elem = DEV_ELEM_OF(((S *)0)->m)
#define DEV_MEMBER(S, m) { DEV_M_(S, m, DEV_M_STATE, NULL) }
#define DEV_TIMER(S, m) { DEV_M_(S, m, DEV_M_TIMER, NULL) }
#define DEV_HOST(S, m, why) { DEV_M_(S, m, DEV_M_HOST, why) }
#define DEV_VOLATILE(S, m, why) { DEV_M_(S, m, DEV_M_VOLATILE, why) }
/* An index or count member and its legal range (inclusive). */
#define DEV_RANGE(S, m, min, max) { DEV_M_(S, m, DEV_M_STATE, NULL), .ranged = true, .lo = (min), .hi = (max) }
/* State that no field carries because post_load derives it from `from`. */
#define DEV_DERIVED(S, m, from, why) { DEV_M_(S, m, DEV_M_STATE, why), .derived_from = (from) }
#define DEV_DERIVED_TIMER(S, m, from, why) { DEV_M_(S, m, DEV_M_TIMER, why), .derived_from = (from) }
/* Interrupt line levels, bit n = external IRQ n. */
#define DEV_IRQ_LINES(S, m) { DEV_M_(S, m, DEV_M_STATE, NULL), .irq_lines = true }
#define DEV_MEMBERS_END { .name = NULL }

/* Check that members tile a struct of `size` bytes (gaps only for alignment
 * padding, no overlaps, reasons present). False with why set otherwise. */
bool dev_members_check(const DevMember *members, size_t size, VmsMsg *why);

/* Bytes per element (1 for DEV_E_OTHER, whose count is its size) and elements. */
size_t dev_elem_size(DevElem e);
const char *dev_elem_name(DevElem e);
size_t dev_member_count(const DevMember *mb);
/* Element i of the member in the object at obj, widened (DEV_E_OTHER: 0). */
int64_t dev_member_get(const DevMember *mb, const void *obj, size_t i);
/* Store v, truncated to the element's width (an out-of-range probe). */
void dev_member_set(const DevMember *mb, void *obj, size_t i, int64_t v);
/* Whether every element of ranged member mb of obj is in its declared
 * range; false with *index set at the first that is not. */
bool dev_member_in_range(const DevMember *mb, const void *obj, size_t *index);
/* The first ranged member element of obj outside its declared range:
 * false with *bad and *index set, true when every one is in range. */
bool dev_members_in_range(const DevMember *members, const void *obj, const DevMember **bad,
                          size_t *index);
/* The member of a table by name, or NULL. */
const DevMember *dev_member_find(const DevMember *members, const char *name);

#endif
