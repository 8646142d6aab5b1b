/*
 * pl080.c - ARM PrimeCell DMA controller PL080 (DDI0196), eight channels.
 *
 * A channel copies TransferSize elements from SrcAddr to DestAddr, then
 * follows its linked-list item: LLI points at four words in guest memory
 * (src, dest, next lli, ctrl) that are loaded into the channel when a
 * transfer completes; an LLI of 0 ends the chain and disables the channel.
 * Elements move by single bus accesses (dev_bus_read/dev_bus_write), so a
 * source or destination may be a peripheral register (a UART or SSP data
 * register) as well as SRAM; linked-list items are read with dev_mem_read.
 *
 * Paced, not instantaneous (QEMU 7.2 runs a whole chain inside the register
 * write): while the controller and a channel are enabled, a timer ticks
 * every `tick-ns` of virtual time, on multiples of it, and each tick moves
 * up to PL080_BURST elements per enabled channel, lowest channel first.
 * SrcAddr, DestAddr, LLI and Control.TransferSize advance as they do in the
 * hardware, so a migration can land in the middle of a chain and QEMU's
 * fields alone carry it: the tick's deadline is "the next multiple of
 * tick-ns after now", a pure function of the clock and of whether a channel
 * is enabled, which post_load recomputes ("running" mirrors it on the wire).
 *
 * Interrupts: a finished transfer whose Control.I is set raises the
 * channel's terminal-count bit; a bus error, a reserved width, different
 * source and destination widths, or peripheral flow control (flow types
 * 4-7) raises its error bit and disables the channel. IntTCStatus and
 * IntErrorStatus are the raw bits masked by the channels' ITC and IE
 * configuration bits. IRQ line 0 is their OR; lines 1 and 2 (if wired) are
 * the error and terminal-count lines alone, as QEMU's interr and inttc.
 *
 * Flow types 1-3 (peripheral handshakes) transfer only while the request
 * bit of their peripheral is set in req_single | req_burst, as QEMU's; no
 * peripheral raises them here and the soft request registers read 0 and
 * ignore writes (as QEMU 7.2), so such a channel waits. Big-endian masters
 * (Configuration M1/M2) are stored but not modelled.
 *
 * Migration: "pl080" v1 with QEMU 7.2's fields, including its three extra
 * copies of tc_int (QEMU's description lists tc_int four times; they
 * carry the same byte).
 */
#include <string.h>

#include "device.h"

#define PL080_CHANNELS 8
#define PL080_BURST 4                  /* elements per channel per tick */

enum {
    PL080_INT_STATUS = 0x00, PL080_INT_TC_STATUS = 0x04, PL080_INT_TC_CLEAR = 0x08,
    PL080_INT_ERR_STATUS = 0x0c, PL080_INT_ERR_CLEAR = 0x10, PL080_RAW_TC = 0x14,
    PL080_RAW_ERR = 0x18, PL080_ENABLED = 0x1c, PL080_CONFIG = 0x30, PL080_SYNC = 0x34,
    PL080_CHAN_BASE = 0x100, PL080_CHAN_END = 0x200, PL080_ID = 0xfe0,
};

/* Controller configuration: E, M1, M2. */
#define CONF_E 0x1u
#define CONF_MASK 0x7u

/* Channel configuration. */
#define CCONF_E (1u << 0)
#define CCONF_IE (1u << 14)
#define CCONF_ITC (1u << 15)
#define CCONF_H (1u << 18)
#define CCONF_MASK 0x7ffffu     /* bits 0..18; A (17) is read-only and reads 0 (no FIFO) */
#define CCONF_A (1u << 17)

/* Channel control. */
#define CCTRL_SIZE 0xfffu
#define CCTRL_SI (1u << 26)
#define CCTRL_DI (1u << 27)
#define CCTRL_I (1u << 31)

/* DMACPeriphID0..3, DMACPCellID0..3. */
static const uint8_t pl080_id[8] = { 0x80, 0x10, 0x04, 0x0a, 0x0d, 0xf0, 0x05, 0xb1 };

typedef struct PL080Channel {
    uint32_t src;       /* next source address */
    uint32_t dest;      /* next destination address */
    uint32_t lli;       /* next linked-list item (0: last transfer of the chain) */
    uint32_t ctrl;      /* TransferSize (bits 0..11) counts down */
    uint32_t conf;
} PL080Channel;

typedef struct PL080State {
    Device *dev;
    /* --- migrated, in QEMU's order and with QEMU's names --- */
    uint8_t tc_int;     /* raw terminal-count bits, one per channel */
    uint8_t tc_mask;    /* channels with CCONF_ITC */
    uint8_t err_int;    /* raw error bits */
    uint8_t err_mask;   /* channels with CCONF_IE */
    uint32_t conf;
    uint32_t sync;
    uint32_t req_single;
    uint32_t req_burst;
    PL080Channel chan[PL080_CHANNELS];
    int32_t running;    /* 1 while the tick timer paces a transfer, else 0 */
    /* --- derived: the pacing tick (see the header comment) --- */
    VTimer timer;
    /* --- configuration --- */
    uint32_t tick_ns;
} PL080State;

static void pl080_update(PL080State *s)
{
    bool tc = (s->tc_int & s->tc_mask) != 0, err = (s->err_int & s->err_mask) != 0;
    dev_set_irq(s->dev, 0, tc || err);
    dev_set_irq(s->dev, 1, err);
    dev_set_irq(s->dev, 2, tc);
}

/* Whether channel c may move an element now (QEMU's request test). */
static bool pl080_chan_ready(const PL080State *s, const PL080Channel *ch)
{
    if ((ch->conf & (CCONF_E | CCONF_H)) != CCONF_E || (ch->ctrl & CCTRL_SIZE) == 0)
        return false;
    uint32_t flow = (ch->conf >> 11) & 7, req = s->req_single | s->req_burst;
    uint32_t src = 1u << ((ch->conf >> 1) & 0xf), dest = 1u << ((ch->conf >> 6) & 0xf);
    switch (flow) {
    case 1: return (req & dest) != 0;
    case 2: return (req & src) != 0;
    case 3: return (req & src) && (req & dest);
    default: return true;     /* 0: memory to memory; 4-7 fail at the next tick */
    }
}

static bool pl080_active(const PL080State *s)
{
    if (!(s->conf & CONF_E))
        return false;
    for (unsigned c = 0; c < PL080_CHANNELS; c++)
        if (pl080_chan_ready(s, &s->chan[c]))
            return true;
    return false;
}

/* Keep the tick armed exactly while there is work: at the next multiple of
 * tick_ns after now, so the deadline depends only on the clock. */
static void pl080_schedule(PL080State *s)
{
    s->running = pl080_active(s);
    if (!s->running) {
        vtimer_del(&s->timer);
    } else if (!vtimer_pending(&s->timer)) {
        int64_t now = vclock_ns(dev_clock(s->dev));
        vtimer_mod(&s->timer, (now / s->tick_ns + 1) * (int64_t)s->tick_ns);
    }
}

static void pl080_fail(PL080State *s, unsigned c)
{
    s->chan[c].conf &= ~CCONF_E;
    s->err_int |= (uint8_t)(1u << c);
}

/* The next linked-list item, or the end of the chain. False on a bus error. */
static bool pl080_next_lli(PL080State *s, unsigned c)
{
    PL080Channel *ch = &s->chan[c];
    if (ch->ctrl & CCTRL_I)
        s->tc_int |= (uint8_t)(1u << c);
    if (ch->lli == 0) {
        ch->conf &= ~CCONF_E;
        return true;
    }
    uint8_t item[16];
    if (!dev_mem_read(s->dev, ch->lli & ~3u, item, sizeof(item)))
        return false;
    uint32_t w[4];
    for (unsigned i = 0; i < 4; i++)
        w[i] = (uint32_t)item[4 * i] | (uint32_t)item[4 * i + 1] << 8 |
               (uint32_t)item[4 * i + 2] << 16 | (uint32_t)item[4 * i + 3] << 24;
    ch->src = w[0];
    ch->dest = w[1];
    ch->lli = w[2];
    ch->ctrl = w[3];
    return true;
}

/* Move one element of channel c. False on an error (the caller fails it). */
static bool pl080_move(PL080State *s, unsigned c)
{
    PL080Channel *ch = &s->chan[c];
    unsigned sw = (ch->ctrl >> 18) & 7, dw = (ch->ctrl >> 21) & 7;
    if (sw > 2 || sw != dw || ((ch->conf >> 11) & 7) >= 4)
        return false;
    unsigned size = 1u << sw;
    uint32_t v;
    if (!dev_bus_read(s->dev, ch->src, size, &v) || !dev_bus_write(s->dev, ch->dest, size, v))
        return false;
    /* The element may have been a write to this controller's own registers. */
    if (!(ch->conf & CCONF_E) || (ch->ctrl & CCTRL_SIZE) == 0)
        return true;
    if (ch->ctrl & CCTRL_SI)
        ch->src += size;
    if (ch->ctrl & CCTRL_DI)
        ch->dest += size;
    ch->ctrl--;                     /* TransferSize is the low 12 bits and is not 0 */
    return (ch->ctrl & CCTRL_SIZE) != 0 || pl080_next_lli(s, c);
}

static void pl080_tick(void *opaque)
{
    PL080State *s = opaque;
    for (unsigned c = 0; c < PL080_CHANNELS && (s->conf & CONF_E); c++)
        for (unsigned n = 0; n < PL080_BURST && pl080_chan_ready(s, &s->chan[c]); n++)
            if (!pl080_move(s, c))
                pl080_fail(s, c);
    pl080_update(s);
    pl080_schedule(s);
}

static void pl080_set_masks(PL080State *s)
{
    s->tc_mask = 0;
    s->err_mask = 0;
    for (unsigned c = 0; c < PL080_CHANNELS; c++) {
        if (s->chan[c].conf & CCONF_ITC)
            s->tc_mask |= (uint8_t)(1u << c);
        if (s->chan[c].conf & CCONF_IE)
            s->err_mask |= (uint8_t)(1u << c);
    }
}

static uint32_t pl080_read_chan(PL080State *s, uint32_t offset)
{
    const PL080Channel *ch = &s->chan[(offset - PL080_CHAN_BASE) >> 5];
    switch (offset & 0x1f) {
    case 0x00: return ch->src;
    case 0x04: return ch->dest;
    case 0x08: return ch->lli;
    case 0x0c: return ch->ctrl;
    case 0x10: return ch->conf;
    default: return 0;
    }
}

static void pl080_write_chan(PL080State *s, uint32_t offset, uint32_t value)
{
    unsigned c = (offset - PL080_CHAN_BASE) >> 5;
    PL080Channel *ch = &s->chan[c];
    switch (offset & 0x1f) {
    case 0x00: ch->src = value; break;
    case 0x04: ch->dest = value; break;
    case 0x08: ch->lli = value & ~2u; break;     /* bit 1 is reserved; bit 0 selects the master */
    case 0x0c: ch->ctrl = value; break;
    case 0x10:
        ch->conf = (value & CCONF_MASK & ~CCONF_A);
        pl080_set_masks(s);
        break;
    default: break;
    }
}

static uint32_t pl080_read_reg(PL080State *s, uint32_t offset)
{
    if (offset >= PL080_ID)
        return pl080_id[(offset - PL080_ID) >> 2];
    if (offset >= PL080_CHAN_BASE && offset < PL080_CHAN_END)
        return pl080_read_chan(s, offset);
    uint32_t tc = s->tc_int & s->tc_mask, err = s->err_int & s->err_mask, on = 0;
    switch (offset) {
    case PL080_INT_STATUS: return tc | err;
    case PL080_INT_TC_STATUS: return tc;
    case PL080_INT_ERR_STATUS: return err;
    case PL080_RAW_TC: return s->tc_int;
    case PL080_RAW_ERR: return s->err_int;
    case PL080_ENABLED:
        for (unsigned c = 0; c < PL080_CHANNELS; c++)
            on |= (s->chan[c].conf & CCONF_E) << c;
        return on;
    case PL080_CONFIG: return s->conf;
    case PL080_SYNC: return s->sync;
    default: return 0;      /* soft requests read 0; reserved reads as zero */
    }
}

static void pl080_write_reg(PL080State *s, uint32_t offset, uint32_t value)
{
    if (offset >= PL080_CHAN_BASE && offset < PL080_CHAN_END)
        pl080_write_chan(s, offset, value);
    else if (offset == PL080_INT_TC_CLEAR)
        s->tc_int &= (uint8_t)~value;
    else if (offset == PL080_INT_ERR_CLEAR)
        s->err_int &= (uint8_t)~value;
    else if (offset == PL080_CONFIG)
        s->conf = value & CONF_MASK;
    else if (offset == PL080_SYNC)
        s->sync = value & 0xffff;
    pl080_update(s);
    pl080_schedule(s);
}

/* 32-bit registers: narrow reads see byte lanes, narrow writes are taken
 * only at the register's own address. */
static uint32_t pl080_read(void *opaque, uint32_t offset, unsigned size)
{
    return dev_narrow_read(pl080_read_reg(opaque, offset & ~3u), offset, size);
}

static void pl080_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    if (offset & 3)
        return;
    pl080_write_reg(opaque, offset, value);
}

static const DevMmioOps pl080_ops = { pl080_read, pl080_write };

static void pl080_reset(void *opaque)
{
    PL080State *s = opaque;
    s->tc_int = s->tc_mask = s->err_int = s->err_mask = 0;
    s->conf = s->sync = s->req_single = s->req_burst = 0;
    memset(s->chan, 0, sizeof(s->chan));
    s->running = 0;
    vtimer_del(&s->timer);
    pl080_update(s);
}

static bool pl080_realize(Device *dev, void *opaque, VmsMsg *why)
{
    PL080State *s = opaque;
    s->dev = dev;
    s->tick_ns = dev_prop(dev, "tick-ns", 1000);
    if (s->tick_ns == 0)
        return vms_fail(why, "%s: tick-ns must not be 0", dev_name(dev));
    vtimer_init(&s->timer, dev_clock(dev), pl080_tick, s);
    if (!dev_map_mmio(dev, 0, 0x1000, &pl080_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    return true;
}

/* ------------------------------------------------------------ migration */

static bool pl080_post_load(void *opaque, int version_id, VmsMsg *why)
{
    PL080State *s = opaque;
    (void)version_id;
    (void)why;
    /* The masks are a function of the channels' configuration; a stream
     * that disagrees cannot come from a guest. Recompute rather than trust. */
    pl080_set_masks(s);
    pl080_update(s);
    pl080_schedule(s);
    return true;
}

static const VmsField pl080_channel_fields[] = {
    VMS_UINT32(src, PL080Channel),
    VMS_UINT32(dest, PL080Channel),
    VMS_UINT32(lli, PL080Channel),
    VMS_UINT32(ctrl, PL080Channel),
    VMS_UINT32(conf, PL080Channel),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl080_channel = {
    .name = "pl080_channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pl080_channel_fields,
};

static const VmsField pl080_fields[] = {
    VMS_UINT8(tc_int, PL080State),
    VMS_UINT8(tc_mask, PL080State),
    VMS_UINT8(err_int, PL080State),
    VMS_UINT8(err_mask, PL080State),
    VMS_UINT32(conf, PL080State),
    VMS_UINT32(sync, PL080State),
    VMS_UINT32(req_single, PL080State),
    VMS_UINT32(req_burst, PL080State),
    /* QEMU 7.2 sends tc_int three more times; the wire format keeps them. */
    VMS_UINT8(tc_int, PL080State),
    VMS_UINT8(tc_int, PL080State),
    VMS_UINT8(tc_int, PL080State),
    VMS_STRUCT_ARRAY_V(chan, PL080State, PL080_CHANNELS, 1, vmstate_pl080_channel, PL080Channel),
    VMS_INT32(running, PL080State),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl080 = {
    .name = "pl080",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pl080_fields,
    .post_load = pl080_post_load,
};

/* One member per channel register, so a difference names the channel and
 * the register ("chan[2].lli"). */
#define PL080_CHAN_MEMBERS(n) \
    DEV_MEMBER(PL080State, chan[n].src), DEV_MEMBER(PL080State, chan[n].dest), \
    DEV_MEMBER(PL080State, chan[n].lli), DEV_MEMBER(PL080State, chan[n].ctrl), \
    DEV_MEMBER(PL080State, chan[n].conf)

static const DevMember pl080_members[] = {
    DEV_HOST(PL080State, dev, "back-pointer to the machine's device record"),
    DEV_MEMBER(PL080State, tc_int),
    DEV_MEMBER(PL080State, tc_mask),
    DEV_MEMBER(PL080State, err_int),
    DEV_MEMBER(PL080State, err_mask),
    DEV_MEMBER(PL080State, conf),
    DEV_MEMBER(PL080State, sync),
    DEV_MEMBER(PL080State, req_single),
    DEV_MEMBER(PL080State, req_burst),
    PL080_CHAN_MEMBERS(0), PL080_CHAN_MEMBERS(1), PL080_CHAN_MEMBERS(2), PL080_CHAN_MEMBERS(3),
    PL080_CHAN_MEMBERS(4), PL080_CHAN_MEMBERS(5), PL080_CHAN_MEMBERS(6), PL080_CHAN_MEMBERS(7),
    DEV_MEMBER(PL080State, running),
    DEV_DERIVED_TIMER(PL080State, timer, "conf, running",
                      "post_load re-arms the tick at the next multiple of tick-ns while running"),
    DEV_HOST(PL080State, tick_ns, "configuration: the board's tick-ns property"),
    DEV_MEMBERS_END,
};

/* What the register explorer may write (device.h). Channel registers
 * come first so that an enabled channel is set up before Configuration
 * turns the controller on; a transfer to a wild address is refused by the
 * bus (dev_bus_write) and raises the channel's error bit. */
#define PL080_CHAN_REGS(n)                                                                         \
    DEV_REG("DMACC" #n "SrcAddr", PL080_CHAN_BASE + 32 * (n), 4, 0xffffffffu, "pl080_channel/src", \
            0, NULL),                                                                              \
    DEV_REG("DMACC" #n "DestAddr", PL080_CHAN_BASE + 32 * (n) + 0x04, 4, 0xffffffffu,              \
            "pl080_channel/dest", 0, NULL),                                                        \
    DEV_REG("DMACC" #n "LLI", PL080_CHAN_BASE + 32 * (n) + 0x08, 4, ~2u, "pl080_channel/lli", 0,   \
            "the next item of the chain, read at the end of this one"),                            \
    DEV_REG("DMACC" #n "Control", PL080_CHAN_BASE + 32 * (n) + 0x0c, 4, 0xffffffffu,               \
            "pl080_channel/ctrl", 0, "TransferSize, widths, increments, terminal-count interrupt"), \
    DEV_REG("DMACC" #n "Configuration", PL080_CHAN_BASE + 32 * (n) + 0x10, 4, CCONF_MASK & ~CCONF_A, \
            "pl080_channel/conf", 0, "E starts the channel; IE and ITC set the interrupt masks")

static const DevReg pl080_regs[] = {
    PL080_CHAN_REGS(0), PL080_CHAN_REGS(1), PL080_CHAN_REGS(2), PL080_CHAN_REGS(3),
    PL080_CHAN_REGS(4), PL080_CHAN_REGS(5), PL080_CHAN_REGS(6), PL080_CHAN_REGS(7),
    DEV_REG("DMACSync", PL080_SYNC, 4, 0xffffu, "pl080/sync", 0, NULL),
    DEV_REG("DMACConfiguration", PL080_CONFIG, 4, CONF_MASK, "pl080/conf", 0,
            "E turns the controller on: enabled channels start moving at the next tick"),
    DEV_REG("DMACIntTCClear", PL080_INT_TC_CLEAR, 4, 0xffu, NULL, 0, "clears terminal-count bits"),
    DEV_REG("DMACIntErrClr", PL080_INT_ERR_CLEAR, 4, 0xffu, NULL, 0, "clears error bits"),
    DEV_REGS_END,
};

const DevType pl080_type = {
    .name = "pl080",
    .summary = "ARM PrimeCell DMA controller (PL080): 8 channels, linked lists, paced transfers",
    .state_size = sizeof(PL080State),
    .vmsd = &vmstate_pl080,
    .members = pl080_members,
    .realize = pl080_realize,
    .reset = pl080_reset,
    .regs = pl080_regs,
};
