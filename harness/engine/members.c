/*
 * members.c - the member-table check (members.h).
 */
#include <string.h>

#include "members.h"

/* Natural alignment a member can have, guessed from its size: the largest
 * power of two dividing it, capped at 8. A type's size is a multiple of its
 * alignment, so this never guesses too small; padding is accepted only
 * where rounding up to it lands exactly on the member. */
static size_t guess_align(size_t size)
{
    size_t a = size & (~size + 1);
    return a == 0 || a > 8 ? 8 : a;
}

bool dev_members_check(const DevMember *members, size_t size, VmsMsg *why)
{
    if (!members)
        return vms_fail(why, "no member table");
    if (!members[0].name && size > 0)
        return vms_fail(why, "empty member table for a %zu-byte struct", size);
    size_t end = 0;
    const char *prev = NULL;
    for (const DevMember *mb = members; mb->name; mb++) {
        if (mb->size == 0)
            return vms_fail(why, "member '%s' has size 0", mb->name);
        if ((mb->kind == DEV_M_HOST || mb->kind == DEV_M_VOLATILE) && (!mb->reason || !*mb->reason))
            return vms_fail(why, "member '%s' is %s without a reason", mb->name,
                            mb->kind == DEV_M_HOST ? "host-only" : "volatile");
        if (mb->derived_from && (!*mb->derived_from || !mb->reason || !*mb->reason))
            return vms_fail(why, "member '%s' is derived without naming its sources and a reason", mb->name);
        if (mb->ranged && (mb->elem == DEV_E_OTHER || mb->lo > mb->hi))
            return vms_fail(why, "member '%s' has a range but is not an integer or its range is empty",
                            mb->name);
        if (mb->offset < end)
            return vms_fail(why, "member '%s' at offset %zu overlaps '%s' (ends at %zu) or is out of order",
                            mb->name, mb->offset, prev, end);
        if (mb->offset > end) {
            size_t a = guess_align(mb->size);
            size_t padded = (end + a - 1) / a * a;
            if (mb->offset - end >= 8 || padded != mb->offset || !prev)
                return vms_fail(why, "bytes %zu..%zu before member '%s' are not covered by any member",
                                end, mb->offset - 1, mb->name);
        }
        if (mb->offset + mb->size > size)
            return vms_fail(why, "member '%s' (offset %zu, size %zu) ends past the struct (%zu bytes)",
                            mb->name, mb->offset, mb->size, size);
        end = mb->offset + mb->size;
        prev = mb->name;
    }
    if (size - end >= 8)
        return vms_fail(why, "bytes %zu..%zu at the end are not covered by any member", end, size - 1);
    return true;
}

static const struct {
    const char *name;
    size_t size;
} elems[] = {
    [DEV_E_OTHER] = { "bytes", 1 },
    [DEV_E_BOOL] = { "bool", sizeof(bool) },
    [DEV_E_U8] = { "uint8", 1 },   [DEV_E_U16] = { "uint16", 2 },
    [DEV_E_U32] = { "uint32", 4 }, [DEV_E_U64] = { "uint64", 8 },
    [DEV_E_I8] = { "int8", 1 },     [DEV_E_I16] = { "int16", 2 },
    [DEV_E_I32] = { "int32", 4 },   [DEV_E_I64] = { "int64", 8 },
};

size_t dev_elem_size(DevElem e) { return elems[e].size; }
const char *dev_elem_name(DevElem e) { return elems[e].name; }

size_t dev_member_count(const DevMember *mb)
{
    return mb->size / dev_elem_size(mb->elem);
}

int64_t dev_member_get(const DevMember *mb, const void *obj, size_t i)
{
    const uint8_t *p = (const uint8_t *)obj + mb->offset + i * dev_elem_size(mb->elem);
    union { bool b; uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
            int8_t i8; int16_t i16; int32_t i32; int64_t i64; } v;
    memcpy(&v, p, dev_elem_size(mb->elem));
    switch (mb->elem) {
    case DEV_E_BOOL: return v.b;
    case DEV_E_U8: return v.u8;
    case DEV_E_U16: return v.u16;
    case DEV_E_U32: return v.u32;
    case DEV_E_U64: return (int64_t)v.u64;
    case DEV_E_I8: return v.i8;
    case DEV_E_I16: return v.i16;
    case DEV_E_I32: return v.i32;
    case DEV_E_I64: return v.i64;
    default: return 0;
    }
}

void dev_member_set(const DevMember *mb, void *obj, size_t i, int64_t v)
{
    uint8_t *p = (uint8_t *)obj + mb->offset + i * dev_elem_size(mb->elem);
    union { bool b; uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; } w;
    switch (mb->elem) {
    case DEV_E_BOOL: w.b = v != 0; break;
    case DEV_E_U8: case DEV_E_I8: w.u8 = (uint8_t)v; break;
    case DEV_E_U16: case DEV_E_I16: w.u16 = (uint16_t)v; break;
    case DEV_E_U32: case DEV_E_I32: w.u32 = (uint32_t)v; break;
    case DEV_E_U64: case DEV_E_I64: w.u64 = (uint64_t)v; break;
    default: return;
    }
    memcpy(p, &w, dev_elem_size(mb->elem));
}

bool dev_member_in_range(const DevMember *mb, const void *obj, size_t *index)
{
    for (size_t i = 0, n = dev_member_count(mb); i < n; i++) {
        int64_t v = dev_member_get(mb, obj, i);
        if (v < mb->lo || v > mb->hi) {
            *index = i;
            return false;
        }
    }
    return true;
}

bool dev_members_in_range(const DevMember *members, const void *obj, const DevMember **bad,
                          size_t *index)
{
    for (const DevMember *mb = members; mb && mb->name; mb++) {
        if (mb->ranged && !dev_member_in_range(mb, obj, index)) {
            *bad = mb;
            return false;
        }
    }
    return true;
}

const DevMember *dev_member_find(const DevMember *members, const char *name)
{
    for (const DevMember *mb = members; mb && mb->name; mb++)
        if (!strcmp(mb->name, name))
            return mb;
    return NULL;
}
