/*
 * members.c - the member-table check (members.h).
 */
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
