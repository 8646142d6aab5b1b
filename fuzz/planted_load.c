/*
 * planted_load.c - fuzz_load_planted: a shipped device with one load-time
 * validator removed, to measure how fast fuzz_load finds the memory-safety
 * bug that validator prevents.
 *
 * The variant is derived at start-up from the shipped DevType, as
 * tests/planted/planted.c derives its own: the description is copied and
 * its post_load wrapped so the base check never sees the member's loaded
 * value (it is swapped for the reset value around the call), so an
 * out-of-range index is accepted and then used by the device unchecked.
 * No device code is copied. VMSTRESS_PLANT may name another variant here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

typedef struct LoadPlant {
    const char *name;       /* variant type name */
    const char *base;       /* shipped type */
    const char *member;     /* the member whose check is removed */
} LoadPlant;

static const LoadPlant plants[] = {
    /* The receive FIFO's read index: the data register read indexes the
     * FIFO with it. */
    { "pl011-unchecked-fifo", "pl011", "read_pos" },
};
#define N_PLANTS (sizeof(plants) / sizeof(plants[0]))

typedef struct LoadVariant {
    const LoadPlant *plant;
    const DevType *base;
    const DevMember *member;
    DevType type;
    VmsDesc vmsd;
} LoadVariant;

static LoadVariant variants[N_PLANTS];
const DevType *dev_test_types[N_PLANTS + 1];
const char *const fz_builtin_plant = "pl011-unchecked-fifo";

/* A hook gets only the state pointer, so the wrapper serves the variant
 * in use (one machine uses one variant; the list has one entry today). */
static LoadVariant *active;

static bool unchecked_post_load(void *s, int version, VmsMsg *why)
{
    LoadVariant *v = active;
    uint8_t keep[64];
    uint8_t *p = (uint8_t *)s + v->member->offset;
    size_t n = v->member->size;
    memcpy(keep, p, n);
    memset(p, 0, n); /* the reset value of an index: passes the check */
    bool ok = v->base->vmsd->post_load(s, version, why);
    memcpy(p, keep, n);
    return ok;
}

__attribute__((constructor)) static void planted_load_init(void)
{
    for (size_t i = 0; i < N_PLANTS; i++) {
        LoadVariant *v = &variants[i];
        v->plant = &plants[i];
        v->base = dev_type_find(plants[i].base);
        if (!v->base || !v->base->vmsd || !v->base->vmsd->post_load) {
            fprintf(stderr, "planted variant %s: no device '%s' with a post_load\n", plants[i].name,
                    plants[i].base);
            exit(2);
        }
        for (const DevMember *m = v->base->members; m && m->name; m++)
            if (!strcmp(m->name, plants[i].member))
                v->member = m;
        if (!v->member || v->member->size > 64) {
            fprintf(stderr, "planted variant %s: no member '%s' in %s\n", plants[i].name,
                    plants[i].member, plants[i].base);
            exit(2);
        }
        v->type = *v->base;
        v->type.name = plants[i].name;
        v->vmsd = *v->base->vmsd;   /* same name: the stream stays the device's */
        v->vmsd.post_load = unchecked_post_load;
        v->type.vmsd = &v->vmsd;
        dev_test_types[i] = &v->type;
    }
    dev_test_types[N_PLANTS] = NULL;
    active = &variants[0];
}
