/*
 * pl061.c - ARM PrimeCell GPIO PL061 (DDI0190): eight pins.
 *
 * data holds the level of every pin: the driven value for outputs (DIR
 * set), the external level for inputs. Host input channel 0 gives the eight
 * external levels; levels offered for pins that are outputs are ignored (the
 * pad is driven by the PL061), as in QEMU, so nothing beyond QEMU's fields
 * is stored. Whenever the output pins change (levels or direction) the
 * device reports dev_output(DEV_OUT_PINS, 0, dir << 8 | (data & dir)).
 *
 * GPIODATA is 256 words: address bits [9:2] mask which bits a read returns
 * and which bits a write may change (writes change output pins only).
 *
 * Interrupts: the detection logic watches every pin's level, outputs
 * included (the pad's input buffer sees a driven pin), so firmware can test
 * the logic without external stimulus. QEMU 7.2 watches edges on input pins
 * only; see docs/devices.md. old_in_data is the level last sampled.
 *   IS=1 level-sensitive: RIS follows (level == IEV) and IC does not clear it.
 *   IS=0 edge: IBE=1 any edge, else the edge towards IEV (1 rising, 0 falling);
 *        latched in RIS until cleared by IC.
 * The IRQ line is the OR of RIS & IE.
 *
 * Two types share this file and the state: "pl061" (ARM's part) and
 * "pl061_luminary" (the PL061 as built into TI/Luminary Stellaris parts, as
 * QEMU 7.2 models it). The Luminary block differs in its peripheral ID bytes
 * and decodes the Stellaris pad registers at 0x500..0x528:
 *   DR2R DR4R DR8R ODR PUR PDR SLR DEN   plain 8-bit read/write storage (pad
 *                                        drive, pulls, slew, digital enable;
 *                                        they do not change pin levels here)
 *   LOCK (0x520) writing 0x0ACCE551 unlocks, anything else locks; reads 1
 *        while locked (reset: locked)
 *   CR   (0x524) the commit mask; writes take effect only while unlocked
 *   AMSEL (0x528) 8-bit storage
 * CR gates GPIOAFSEL on both types: only bits set in CR can change (on the
 * plain PL061 CR stays 0xff, so every bit can). The plain PL061 ignores the
 * 0x500.. block (reads 0, writes dropped) but its state keeps the Luminary
 * reset values, because QEMU migrates the same fields for both.
 *
 * Migration: "pl061" v4/min4 with QEMU 7.2's fields, for both types.
 */
#include "device.h"

enum {
    GPIO_DATA_END = 0x400, GPIO_DIR = 0x400, GPIO_IS = 0x404, GPIO_IBE = 0x408,
    GPIO_IEV = 0x40c, GPIO_IE = 0x410, GPIO_RIS = 0x414, GPIO_MIS = 0x418,
    GPIO_IC = 0x41c, GPIO_AFSEL = 0x420, GPIO_ID = 0xfe0,
    /* Luminary only */
    GPIO_DR2R = 0x500, GPIO_DR4R = 0x504, GPIO_DR8R = 0x508, GPIO_ODR = 0x50c,
    GPIO_PUR = 0x510, GPIO_PDR = 0x514, GPIO_SLR = 0x518, GPIO_DEN = 0x51c,
    GPIO_LOCK = 0x520, GPIO_CR = 0x524, GPIO_AMSEL = 0x528,
};
#define GPIO_UNLOCK_KEY 0x0acce551u

/* GPIOPeriphID0..3, GPIOPCellID0..3 at 0xfe0 (0xfd0..0xfdc read 0). */
static const uint8_t pl061_id[8] = { 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
static const uint8_t pl061_luminary_id[8] = { 0x61, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1 };

typedef struct PL061State {
    Device *dev;
    /* --- migrated, in QEMU's order and with QEMU's names --- */
    uint32_t locked;
    uint32_t data;
    uint32_t old_out_data;  /* data & dir last reported */
    uint32_t old_in_data;   /* pin levels last sampled by the interrupt logic */
    uint32_t dir;
    uint32_t isense;        /* IS */
    uint32_t ibe;
    uint32_t iev;
    uint32_t im;            /* IE */
    uint32_t istate;        /* RIS */
    uint32_t afsel;
    uint32_t dr2r;          /* Stellaris-only from here on (not decoded) */
    uint32_t dr4r;
    uint32_t dr8r;
    uint32_t odr;
    uint32_t pur;
    uint32_t pdr;
    uint32_t slr;
    uint32_t den;
    uint32_t cr;
    uint32_t amsel;
    bool luminary;          /* type: decodes the 0x500.. block, Luminary IDs */
} PL061State;

/*
 * The plain 8-bit Luminary storage registers, by offset: one table serves
 * reads and writes (LOCK and CR have their own rules).
 */
static uint32_t *luminary_reg(PL061State *s, uint32_t offset)
{
    switch (offset) {
    case GPIO_DR2R: return &s->dr2r;
    case GPIO_DR4R: return &s->dr4r;
    case GPIO_DR8R: return &s->dr8r;
    case GPIO_ODR: return &s->odr;
    case GPIO_PUR: return &s->pur;
    case GPIO_PDR: return &s->pdr;
    case GPIO_SLR: return &s->slr;
    case GPIO_DEN: return &s->den;
    case GPIO_AMSEL: return &s->amsel;
    default: return NULL;
    }
}

static void pl061_report_pins(PL061State *s)
{
    dev_output(s->dev, DEV_OUT_PINS, 0, (s->dir << 8) | (s->data & s->dir));
}

/*
 * Bring outputs and interrupt state up to date after data, dir or the
 * interrupt configuration changed. dir_changed forces a pin report even
 * when the driven levels are the same (a pin stopped or started driving).
 */
static void pl061_update(PL061State *s, bool dir_changed)
{
    uint32_t out = s->data & s->dir;
    if (out != s->old_out_data || dir_changed) {
        s->old_out_data = out;
        pl061_report_pins(s);
    }

    uint32_t changed = (s->old_in_data ^ s->data) & 0xff;
    if (changed) {
        uint32_t edge = changed & ~s->isense;
        /* Both edges, or the one that ends at the IEV level. */
        s->istate |= edge & (s->ibe | ~(s->data ^ s->iev));
        s->old_in_data = s->data;
    }
    /* Level-sensitive bits mirror the pins all the time. */
    s->istate = (s->istate & ~s->isense) | (~(s->data ^ s->iev) & s->isense);
    s->istate &= 0xff;

    dev_set_irq(s->dev, 0, (s->istate & s->im) != 0);
}

static uint32_t pl061_read_reg(PL061State *s, uint32_t offset)
{
    if (offset < GPIO_DATA_END)
        return s->data & (offset >> 2);
    if (offset >= GPIO_ID)
        return (s->luminary ? pl061_luminary_id : pl061_id)[(offset - GPIO_ID) >> 2];
    if (s->luminary) {
        const uint32_t *r = luminary_reg(s, offset);
        if (r)
            return *r;
        if (offset == GPIO_LOCK)
            return s->locked;
        if (offset == GPIO_CR)
            return s->cr;
    }
    switch (offset) {
    case GPIO_DIR: return s->dir;
    case GPIO_IS: return s->isense;
    case GPIO_IBE: return s->ibe;
    case GPIO_IEV: return s->iev;
    case GPIO_IE: return s->im;
    case GPIO_RIS: return s->istate;
    case GPIO_MIS: return s->istate & s->im;
    case GPIO_AFSEL: return s->afsel;
    default: return 0;      /* IC is write-only; reserved reads as zero */
    }
}

static void pl061_write_reg(PL061State *s, uint32_t offset, uint32_t raw)
{
    uint32_t value = raw & 0xff;
    if (offset < GPIO_DATA_END) {
        uint32_t mask = (offset >> 2) & s->dir;
        s->data = (s->data & ~mask) | (value & mask);
        pl061_update(s, false);
        return;
    }
    if (s->luminary) {
        uint32_t *r = luminary_reg(s, offset);
        if (r) {
            *r = value;
            return;
        }
        if (offset == GPIO_LOCK) {
            /* The key is compared on the whole word, before the 8-bit mask. */
            s->locked = raw != GPIO_UNLOCK_KEY;
            return;
        }
        if (offset == GPIO_CR) {
            if (!s->locked)
                s->cr = value;
            return;
        }
    }
    switch (offset) {
    case GPIO_DIR: {
        bool changed = value != s->dir;
        s->dir = value;
        pl061_update(s, changed);
        return;
    }
    case GPIO_IS: s->isense = value; break;
    case GPIO_IBE: s->ibe = value; break;
    case GPIO_IEV: s->iev = value; break;
    case GPIO_IE: s->im = value; break;
    case GPIO_IC: s->istate &= ~value; break;
    case GPIO_AFSEL: s->afsel = (s->afsel & ~s->cr) | (value & s->cr); return;
    default: return;        /* RIS, MIS, IDs are read-only */
    }
    pl061_update(s, false);
}

static uint32_t pl061_read(void *opaque, uint32_t offset, unsigned size)
{
    return dev_narrow_read(pl061_read_reg(opaque, offset & ~3u), offset, size);
}

static void pl061_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    if ((offset & 3) == 0)
        pl061_write_reg(opaque, offset, value);
}

static const DevMmioOps pl061_ops = { pl061_read, pl061_write };

static void pl061_input(void *opaque, unsigned channel, uint32_t value)
{
    PL061State *s = opaque;
    if (channel != 0)
        return;
    s->data = (s->data & s->dir) | (value & ~s->dir & 0xff);
    pl061_update(s, false);
}

static void pl061_reset(void *opaque)
{
    PL061State *s = opaque;
    s->locked = 1;
    s->data = 0;
    s->old_out_data = 0;
    s->old_in_data = 0;
    s->dir = 0;
    s->isense = 0;
    s->ibe = 0;
    s->iev = 0;
    s->im = 0;
    s->istate = 0;
    s->afsel = 0;
    s->dr2r = 0xff;
    s->dr4r = 0;
    s->dr8r = 0;
    s->odr = 0;
    s->pur = 0;
    s->pdr = 0;
    s->slr = 0;
    s->den = 0;
    s->cr = 0xff;
    s->amsel = 0;
    dev_set_irq(s->dev, 0, false);
}

static bool pl061_bind(Device *dev, PL061State *s, bool luminary, VmsMsg *why)
{
    s->dev = dev;
    s->luminary = luminary;
    if (!dev_map_mmio(dev, 0, 0x1000, &pl061_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    return true;
}

static bool pl061_realize(Device *dev, void *opaque, VmsMsg *why)
{
    return pl061_bind(dev, opaque, false, why);
}

static bool pl061_luminary_realize(Device *dev, void *opaque, VmsMsg *why)
{
    return pl061_bind(dev, opaque, true, why);
}

/* ------------------------------------------------------------ migration */

/*
 * Every register holds eight bits (one per pin) and the lock is a flag; a
 * stream with more is not a state the device can be in, on either type.
 * (QEMU 7.2 has no post_load and accepts them.) The check names the first
 * offending field.
 */
static bool pl061_post_load(void *opaque, int version_id, VmsMsg *why)
{
    static const struct { const char *name; size_t off; } pins[] = {
#define PIN_REG(m) { #m, offsetof(PL061State, m) }
        PIN_REG(data), PIN_REG(old_out_data), PIN_REG(old_in_data), PIN_REG(dir),
        PIN_REG(isense), PIN_REG(ibe), PIN_REG(iev), PIN_REG(im), PIN_REG(istate),
        PIN_REG(afsel), PIN_REG(dr2r), PIN_REG(dr4r), PIN_REG(dr8r), PIN_REG(odr),
        PIN_REG(pur), PIN_REG(pdr), PIN_REG(slr), PIN_REG(den), PIN_REG(cr), PIN_REG(amsel),
#undef PIN_REG
    };
    const PL061State *s = opaque;
    if (s->locked > 1)
        return vms_fail(why, "locked %u is not 0 or 1", (unsigned)s->locked);
    for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
        uint32_t v = *(const uint32_t *)((const char *)opaque + pins[i].off);
        if (v > 0xff)
            return vms_fail(why, "%s 0x%x has bits beyond the 8 pins", pins[i].name,
                            (unsigned)v);
    }
    return true;
}

static const VmsField pl061_fields[] = {
    VMS_UINT32(locked, PL061State),
    VMS_UINT32(data, PL061State),
    VMS_UINT32(old_out_data, PL061State),
    VMS_UINT32(old_in_data, PL061State),
    VMS_UINT32(dir, PL061State),
    VMS_UINT32(isense, PL061State),
    VMS_UINT32(ibe, PL061State),
    VMS_UINT32(iev, PL061State),
    VMS_UINT32(im, PL061State),
    VMS_UINT32(istate, PL061State),
    VMS_UINT32(afsel, PL061State),
    VMS_UINT32(dr2r, PL061State),
    VMS_UINT32(dr4r, PL061State),
    VMS_UINT32(dr8r, PL061State),
    VMS_UINT32(odr, PL061State),
    VMS_UINT32(pur, PL061State),
    VMS_UINT32(pdr, PL061State),
    VMS_UINT32(slr, PL061State),
    VMS_UINT32(den, PL061State),
    VMS_UINT32(cr, PL061State),
    VMS_UINT32_V(amsel, PL061State, 2),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl061 = {
    .name = "pl061",
    .version_id = 4,
    .minimum_version_id = 4,
    .fields = pl061_fields,
    .post_load = pl061_post_load,
};

static const DevMember pl061_members[] = {
    DEV_HOST(PL061State, dev, "back-pointer to the machine's device record"),
    DEV_MEMBER(PL061State, locked),
    DEV_MEMBER(PL061State, data),
    DEV_MEMBER(PL061State, old_out_data),
    DEV_MEMBER(PL061State, old_in_data),
    DEV_MEMBER(PL061State, dir),
    DEV_MEMBER(PL061State, isense),
    DEV_MEMBER(PL061State, ibe),
    DEV_MEMBER(PL061State, iev),
    DEV_MEMBER(PL061State, im),
    DEV_MEMBER(PL061State, istate),
    DEV_MEMBER(PL061State, afsel),
    DEV_MEMBER(PL061State, dr2r),
    DEV_MEMBER(PL061State, dr4r),
    DEV_MEMBER(PL061State, dr8r),
    DEV_MEMBER(PL061State, odr),
    DEV_MEMBER(PL061State, pur),
    DEV_MEMBER(PL061State, pdr),
    DEV_MEMBER(PL061State, slr),
    DEV_MEMBER(PL061State, den),
    DEV_MEMBER(PL061State, cr),
    DEV_MEMBER(PL061State, amsel),
    DEV_HOST(PL061State, luminary, "type (plain or Luminary), fixed at realize"),
    DEV_MEMBERS_END,
};

static const char *const pl061_inputs[] = { "pins", NULL };

/* What the register explorer may write (device.h): the PL061's registers,
 * and the Luminary block after them in the luminary type's table. */
#define PL061_REGS                                                                              \
    DEV_REG("DIR", GPIO_DIR, 4, 0xffu, "pl061/dir", 0, "drives or releases the output pins"),   \
    DEV_REG("DATA", 0x3fc, 4, 0xffu, "pl061/data", 0, "changes the output pins under DIR"),      \
    DEV_REG("IS", GPIO_IS, 4, 0xffu, "pl061/isense", 0, NULL),                                  \
    DEV_REG("IBE", GPIO_IBE, 4, 0xffu, "pl061/ibe", 0, NULL),                                   \
    DEV_REG("IEV", GPIO_IEV, 4, 0xffu, "pl061/iev", 0, NULL),                                   \
    DEV_REG("IE", GPIO_IE, 4, 0xffu, "pl061/im", 0, "drives the IRQ line"),                     \
    DEV_REG("IC", GPIO_IC, 4, 0xffu, NULL, 0, "clears edge interrupts")

static const DevReg pl061_regs[] = {
    PL061_REGS,
    DEV_REGS_END,
};

static const DevReg pl061_luminary_regs[] = {
    DEV_REG("LOCK", GPIO_LOCK, 4, 0xffffffffu, "pl061/locked", GPIO_UNLOCK_KEY, "any other value locks CR"),
    DEV_REG("CR", GPIO_CR, 4, 0xffu, "pl061/cr", 0, "ignored while locked; gates AFSEL bits"),
    PL061_REGS,
    DEV_REG("AFSEL", GPIO_AFSEL, 4, 0xffu, "pl061/afsel", 0, "only the bits CR commits"),
    DEV_REG("DR2R", GPIO_DR2R, 4, 0xffu, "pl061/dr2r", 0, NULL),
    DEV_REG("DR4R", GPIO_DR4R, 4, 0xffu, "pl061/dr4r", 0, NULL),
    DEV_REG("DR8R", GPIO_DR8R, 4, 0xffu, "pl061/dr8r", 0, NULL),
    DEV_REG("ODR", GPIO_ODR, 4, 0xffu, "pl061/odr", 0, NULL),
    DEV_REG("PUR", GPIO_PUR, 4, 0xffu, "pl061/pur", 0, NULL),
    DEV_REG("PDR", GPIO_PDR, 4, 0xffu, "pl061/pdr", 0, NULL),
    DEV_REG("SLR", GPIO_SLR, 4, 0xffu, "pl061/slr", 0, NULL),
    DEV_REG("DEN", GPIO_DEN, 4, 0xffu, "pl061/den", 0, NULL),
    DEV_REG("AMSEL", GPIO_AMSEL, 4, 0xffu, "pl061/amsel", 0, NULL),
    DEV_REGS_END,
};

/* Everything but the name, the realize hook and the registers is shared by both types. */
#define PL061_TYPE_COMMON                                                      \
    .state_size = sizeof(PL061State), .vmsd = &vmstate_pl061,                  \
    .members = pl061_members, .reset = pl061_reset, .input = pl061_input,      \
    .inputs = pl061_inputs

const DevType pl061_type = {
    .name = "pl061",
    .summary = "ARM PrimeCell GPIO (PL061): 8 pins, edge/level interrupts",
    .realize = pl061_realize,
    .regs = pl061_regs,
    PL061_TYPE_COMMON,
};

/* QEMU's pl061_luminary: the same device and description, plus the
 * Stellaris pad, lock and commit registers and its own ID bytes. */
const DevType pl061_luminary_type = {
    .name = "pl061_luminary",
    .summary = "Luminary/Stellaris PL061 GPIO: adds pad control, lock and commit registers",
    .realize = pl061_luminary_realize,
    .regs = pl061_luminary_regs,
    PL061_TYPE_COMMON,
};
