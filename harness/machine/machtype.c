/*
 * machtype.c - machine types: resolving a name or alias to a board, the
 * compat properties of a versioned type, and the description dump of a
 * machine as its type saves it. See machine.h and docs/compat.md.
 *
 * As in QEMU, an unversioned alias ("vmstress-m0", like QEMU's "-M virt")
 * resolves to the newest versioned type that carries it, and streams name
 * the resolved type: a stream is only ever promised to load into the same
 * versioned type.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "machine_int.h"

const Board *mach_board_find(const char *name)
{
    const Board *newest = NULL;
    for (size_t i = 0; mach_boards[i]; i++) {
        const Board *b = mach_boards[i];
        if (strcmp(b->name, name) == 0)
            return b;
        if (b->alias && strcmp(b->alias, name) == 0 && (!newest || b->version > newest->version))
            newest = b;
    }
    return newest;
}

bool mach_compat_prop(const Board *b, const char *type, const char *prop, uint32_t *value)
{
    bool found = false;
    for (size_t t = 0; b->compat && b->compat[t]; t++)
        for (const MachCompat *c = b->compat[t]; c->type; c++)
            if (strcmp(c->type, type) == 0 && strcmp(c->prop, prop) == 0) {
                *value = c->value;      /* later entries win: keep looking */
                found = true;
            }
    return found;
}

bool mach_board_override(const Board *base, const char *const *overrides, size_t n_overrides,
                         Board *out, DevConfig **devs, VmsMsg *why)
{
    size_t n = 0;
    while (base->devices[n].type)
        n++;
    *devs = calloc(n + 1, sizeof(DevConfig));
    if (!*devs)
        return vms_fail(why, "out of memory");
    memcpy(*devs, base->devices, (n + 1) * sizeof(DevConfig));
    for (size_t k = 0; k < n_overrides; k++) {
        const char *o = overrides[k], *eq = strchr(o, '=');
        bool used = false;
        if (eq && dev_test_desc_find(eq + 1))
            continue;   /* a description variant: mach_desc_overrides applies it */
        if (!eq || !dev_type_find(eq + 1))
            return vms_fail(why, "bad override '%s': want BASE=VARIANT with a known variant", o);
        size_t len = (size_t)(eq - o);
        for (size_t i = 0; i < n; i++)
            if (strlen((*devs)[i].type) == len && !strncmp((*devs)[i].type, o, len)) {
                (*devs)[i].type = eq + 1;
                used = true;
            }
        if (!used)
            return vms_fail(why, "override '%s': board '%s' has no such device", o, base->name);
    }
    *out = *base;
    out->devices = *devs;
    return true;
}

bool mach_desc_overrides(Machine *m, const char *const *overrides, size_t n_overrides, VmsMsg *why)
{
    for (size_t k = 0; k < n_overrides; k++) {
        const char *o = overrides[k], *eq = strchr(o, '=');
        const DevTestDesc *v = eq ? dev_test_desc_find(eq + 1) : NULL;
        if (!v)
            continue;
        if ((size_t)(eq - o) != strlen(v->section) || strncmp(o, v->section, (size_t)(eq - o)) ||
            !mach_replace_desc(m, v->section, v->vmsd))
            return vms_fail(why, "override '%s': variant '%s' is for section '%s', which this board "
                            "lacks or was not named", o, v->name, v->section);
    }
    return true;
}

/* A registered device type (not a test-only variant). */
static bool registered(const DevType *t)
{
    for (size_t i = 0; i < dev_n_types; i++)
        if (dev_types[i] == t)
            return true;
    return false;
}

/* The device whose own section this is, or NULL. */
static const Device *section_device(const Machine *m, const VmsSection *s)
{
    for (size_t i = 0; i < m->n_devs; i++)
        if (m->devs[i].state == s->opaque && m->devs[i].type->vmsd == s->vmsd)
            return &m->devs[i];
    return NULL;
}

void *mach_dump_vmstate(Machine *m)
{
    VmsRegistry *r = &m->reg;
    VmsDumpEntry *e = calloc(r->n ? r->n : 1, sizeof(*e));
    size_t n = 0;
    for (size_t i = 0; e && i < r->n; i++) {
        const VmsSection *s = &r->sec[i];
        /* The machine's own sections are not a device's or the core's: a
         * QEMU dump has no counterpart. */
        if (s->opaque == &m->ms || s->opaque == m->sram)
            continue;
        const Device *d = section_device(m, s);
        /* A test-only variant (tests/planted) stands in for its base type,
         * whose section it keeps: it is dumped under that section's name. */
        const char *key = d && registered(d->type) ? d->type->name : s->idstr;
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= strcmp(e[k].type_name, key) == 0;
        if (!seen)
            e[n++] = (VmsDumpEntry){ key, s->vmsd, s->opaque, s->version_id };
    }
    json_t *j = e ? vms_dump_descriptions(m->board->name, e, n) : NULL;
    free(e);
    return j;
}
