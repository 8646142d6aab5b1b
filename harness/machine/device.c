/*
 * device.c - the services the machine offers devices (device.h), and the
 * member-table check.
 */
#include <string.h>

#include "machine_int.h"

/* ------------------------------------------------------ member tables */

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

/* ---------------------------------------------------------- services */

Machine *dev_machine(Device *dev) { return dev->m; }
const char *dev_name(const Device *dev) { return dev->name; }
VClock *dev_clock(Device *dev) { return &dev->m->ms.clock; }

uint32_t dev_prop(const Device *dev, const char *name, uint32_t dflt)
{
    for (unsigned i = 0; i < DEV_MAX_PROPS && dev->cfg->props[i].name; i++)
        if (strcmp(dev->cfg->props[i].name, name) == 0)
            return dev->cfg->props[i].value;
    return dflt;
}

bool dev_map_mmio(Device *dev, uint32_t offset, uint32_t size, const DevMmioOps *ops, void *s)
{
    uint64_t base = (uint64_t)dev->cfg->base + offset;
    if (base > UINT32_MAX)
        return false;
    return mach_map(dev->m, (uint32_t)base, size, ops, s);
}

void dev_set_irq(Device *dev, unsigned n, bool level)
{
    if (n >= DEV_MAX_IRQS || dev->cfg->irq[n] < 0)
        return;     /* line not wired on this board */
    /* The NVIC's input level is the one record of the line: it is migrated,
     * so a machine that was loaded sees the same edges as its twin. */
    unsigned irq = (unsigned)dev->cfg->irq[n];
    if (cpu_irq_level(dev->m->cpu, irq) == level)
        return;
    mach_emit(dev->m, (uint16_t)dev->index, MACH_EV_IRQ, irq, level);
    cpu_set_irq(dev->m->cpu, irq, level);
}

bool dev_register_section(Device *dev, const VmsDesc *vmsd, void *opaque,
                          const DevMember *members, size_t size, const char *shadow_name)
{
    VmsMsg why = { "" };
    char name[sizeof(dev->name) + 80];
    if (!shadow_name) {
        snprintf(name, sizeof(name), "%s/%s", dev->name, vmsd->name);
        shadow_name = name;
    }
    return mach_add_section(dev->m, vmsd, opaque, members, size, shadow_name, &why);
}

void dev_output(Device *dev, DevOutKind kind, unsigned channel, uint32_t value)
{
    mach_emit(dev->m, (uint16_t)dev->index, (MachEventKind)kind, channel, value);
}

void dev_request_reset(Device *dev, const char *why)
{
    (void)why;  /* the RESET output event, if the device emits one, is what twins compare */
    mach_request_reset(dev->m);
}
