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

#include "vmstate.h"

typedef enum DevMemberKind {
    DEV_M_STATE = 0,    /* guest-visible state: must match between twins */
    DEV_M_TIMER,        /* a VTimer: only its deadline must match */
    DEV_M_HOST,         /* host-only: pointers, callbacks, handles (reason required) */
    DEV_M_VOLATILE,     /* guest state that may legitimately differ (reason required) */
} DevMemberKind;

typedef struct DevMember {
    const char *name;
    size_t offset;
    size_t size;
    DevMemberKind kind;
    const char *reason;     /* why a HOST or VOLATILE member is not compared */
} DevMember;

#define DEV_MEMBER(S, m) { #m, offsetof(S, m), sizeof(((S *)0)->m), DEV_M_STATE, NULL }
#define DEV_TIMER(S, m) { #m, offsetof(S, m), sizeof(((S *)0)->m), DEV_M_TIMER, NULL }
#define DEV_HOST(S, m, why) { #m, offsetof(S, m), sizeof(((S *)0)->m), DEV_M_HOST, why }
#define DEV_VOLATILE(S, m, why) { #m, offsetof(S, m), sizeof(((S *)0)->m), DEV_M_VOLATILE, why }
#define DEV_MEMBERS_END { NULL, 0, 0, DEV_M_STATE, NULL }

/* Check that members tile a struct of `size` bytes (gaps only for alignment
 * padding, no overlaps, reasons present). False with why set otherwise. */
bool dev_members_check(const DevMember *members, size_t size, VmsMsg *why);

#endif
