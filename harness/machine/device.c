/*
 * device.c - the services the machine offers devices (device.h).
 */
#include <stdlib.h>
#include <string.h>

#include "machine_int.h"

/* ---------------------------------------------------------- services */

Machine *dev_machine(Device *dev) { return dev->m; }
const char *dev_name(const Device *dev) { return dev->name; }
VClock *dev_clock(Device *dev) { return &dev->m->ms.clock; }

uint32_t dev_prop(const Device *dev, const char *name, uint32_t dflt)
{
    for (unsigned i = 0; i < DEV_MAX_PROPS && dev->cfg->props[i].name; i++)
        if (strcmp(dev->cfg->props[i].name, name) == 0)
            return dev->cfg->props[i].value;
    uint32_t v;
    return mach_compat_prop(dev->m->board, dev->type->name, name, &v) ? v : dflt;
}

void dev_set_save_version(Device *dev, int version) { dev->save_version = version; }

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

bool dev_mem_read(Device *dev, uint32_t addr, void *buf, size_t len)
{
    return mach_mem_read(dev->m, addr, buf, len);
}

bool dev_mem_write(Device *dev, uint32_t addr, const void *buf, size_t len)
{
    return mach_mem_write(dev->m, dev->index, addr, buf, len);
}

bool dev_track_memory(Device *dev, void *buf, size_t size)
{
    return mach_track_memory(dev->m, dev->index, buf, size);
}

void dev_mark_dirty(Device *dev, const void *p, size_t len)
{
    Machine *m = dev->m;
    const uint8_t *b = p;
    if (!len)
        return;
    for (size_t k = 1; k < m->n_mem; k++)
        if (b >= m->mem[k].buf && (size_t)(b - m->mem[k].buf) < m->mem[k].size) {
            mach_mark_tracked(m, k, (size_t)(b - m->mem[k].buf), len);
            return;
        }
    abort();    /* not tracked memory: a device bug, which would go unseen */
}

bool dev_bus_read(Device *dev, uint32_t addr, unsigned size, uint32_t *val)
{
    return mach_bus_read(dev->m, addr, size, val);
}

bool dev_bus_write(Device *dev, uint32_t addr, unsigned size, uint32_t val)
{
    return mach_bus_write(dev->m, addr, size, val);
}

/* The next slave of master's SSI bus from board index *i on, or NULL. */
static Device *ssi_next(Device *master, size_t *i)
{
    Machine *m = master->m;
    for (; *i < m->n_devs; (*i)++) {
        Device *d = &m->devs[*i];
        if (d != master && d->type->ssi_transfer && dev_prop(d, "ssi-bus", 0) == master->cfg->base &&
            master->cfg->base != 0)
            return d;
    }
    return NULL;
}

uint32_t dev_ssi_transfer(Device *master, uint32_t out)
{
    uint32_t in = 0;
    for (size_t i = 0; ssi_next(master, &i); i++)
        in |= master->m->devs[i].type->ssi_transfer(master->m->devs[i].state, out);
    return in;
}

void dev_ssi_select(Device *master, bool selected)
{
    for (size_t i = 0; ssi_next(master, &i); i++)
        if (master->m->devs[i].type->ssi_select)
            master->m->devs[i].type->ssi_select(master->m->devs[i].state, selected);
}
