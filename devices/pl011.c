/*
 * pl011.c - ARM PrimeCell UART PL011 (r1p5, DDI0183).
 *
 * Receive: a 16-entry FIFO (one holding register when LCR_H.FEN is clear)
 * fed by host input channel 0. Transmit: there is no line to wait for, so a
 * byte written to DR leaves at once through dev_output(DEV_OUT_DATA), when
 * CR.UARTEN and CR.TXE are set; the transmit FIFO is therefore always empty
 * (FR.TXFE set, FR.TXFF and FR.BUSY clear). With CR.LBE set the byte is
 * looped back into the receive FIFO instead of leaving.
 *
 * Interrupts (RIS = int_level, IMSC = int_enabled, MIS = both, ICR clears):
 *   RX  while the receive FIFO holds at least the trigger level (IFLS, or one
 *       character with the FIFO disabled); cleared when reading drops below it.
 *   RT  receive timeout. Simplified: the timeout is taken to expire at once,
 *       so RT is raised when a character arrives and leaves the FIFO below
 *       the trigger level, and cleared when the FIFO is emptied. This needs
 *       no timer, so the device has no state beyond QEMU's fields.
 *   TX  raised each time a byte is transmitted (the FIFO drains to empty).
 *   OE  a character arrived with the FIFO full; it is dropped and RSR.OE set.
 *   Modem-status, framing, parity and break interrupts are never raised.
 * The IRQ line is the OR of the masked interrupts.
 *
 * Test registers (DDI0183 4.2): UARTTCR (0x080, bits [2:0]) and UARTITOP
 * (0x088, bits [15:0]) read back what was written; the test modes they
 * select are not modelled (outputs and FIFOs behave as in normal mode).
 * UARTITIP and UARTTDR read as zero. With the property "test-registers" off
 * (machine type vmstress-m0-1.0, as release 1.0 and QEMU 7.2) all four read
 * as zero and ignore writes.
 *
 * Migration: "pl011" v2/min2 with QEMU 7.2's fields, and subsection
 * "pl011/clock" carrying the reference clock (needed per "migrate-clk");
 * since release 1.1 subsection "pl011/test-registers" carries tcr and itop,
 * needed exactly when "test-registers" is on (an older stream has none: the
 * registers keep their reset value 0).
 * post_load rejects FIFO indices and counts out of range before anything
 * uses them.
 */
#include <string.h>

#include "devclock.h"
#include "device.h"

#define PL011_FIFO_DEPTH 16

enum {
    PL011_DR = 0x000, PL011_RSR = 0x004, PL011_FR = 0x018, PL011_ILPR = 0x020,
    PL011_IBRD = 0x024, PL011_FBRD = 0x028, PL011_LCR_H = 0x02c, PL011_CR = 0x030,
    PL011_IFLS = 0x034, PL011_IMSC = 0x038, PL011_RIS = 0x03c, PL011_MIS = 0x040,
    PL011_ICR = 0x044, PL011_DMACR = 0x048, PL011_TCR = 0x080, PL011_ITOP = 0x088,
    PL011_ID = 0xfe0,
};

#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define FR_RXFF (1u << 6)
#define FR_TXFE (1u << 7)

#define LCRH_FEN (1u << 4)

#define CR_UARTEN (1u << 0)
#define CR_LBE (1u << 7)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)
#define CR_MASK 0xff87u     /* bits 3..6 are reserved */

#define INT_RX (1u << 4)
#define INT_TX (1u << 5)
#define INT_RT (1u << 6)
#define INT_OE (1u << 10)
#define INT_MASK 0x7ffu

#define RSR_OE (1u << 3)

/* UARTPeriphID0..3 (r1p5: revision 3), UARTPCellID0..3. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

typedef struct PL011State {
    Device *dev;
    /* --- migrated, in QEMU's order and with QEMU's names --- */
    uint32_t readbuff;      /* unused by the model; kept for the wire format */
    uint32_t flags;         /* FR */
    uint32_t lcr;           /* LCR_H */
    uint32_t rsr;           /* receive status (OE only) */
    uint32_t cr;
    uint32_t dmacr;
    uint32_t int_enabled;   /* IMSC */
    uint32_t int_level;     /* RIS */
    uint32_t read_fifo[PL011_FIFO_DEPTH];
    uint32_t ilpr;
    uint32_t ibrd;
    uint32_t fbrd;
    uint32_t ifl;           /* IFLS */
    int32_t read_pos;       /* index of the oldest character */
    int32_t read_count;     /* characters in the FIFO */
    int32_t read_trigger;   /* RX interrupt level in characters */
    /* --- test registers: subsection "pl011/test-registers" --- */
    uint32_t tcr;           /* UARTTCR */
    uint32_t itop;          /* UARTITOP */
    /* --- the reference clock: state, sent through the pointer clk --- */
    DevClock clock;
    DevClock *clk;
    /* --- configuration --- */
    uint32_t clk_hz;
    bool migrate_clk;
    bool test_registers;    /* the "test-registers" property */
} PL011State;

static void pl011_update(PL011State *s)
{
    dev_set_irq(s->dev, 0, (s->int_level & s->int_enabled) != 0);
}

static bool pl011_fifo_enabled(const PL011State *s)
{
    return (s->lcr & LCRH_FEN) != 0;
}

static int32_t pl011_depth(const PL011State *s)
{
    return pl011_fifo_enabled(s) ? PL011_FIFO_DEPTH : 1;
}

/* IFLS.RXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8 full; reserved codes act as 1/2.
 * Returns whether the level changed. */
static bool pl011_set_read_trigger(PL011State *s)
{
    static const int32_t level[8] = { 2, 4, 8, 12, 14, 8, 8, 8 };
    int32_t old = s->read_trigger;
    s->read_trigger = pl011_fifo_enabled(s) ? level[(s->ifl >> 3) & 7] : 1;
    return s->read_trigger != old;
}

/* RX follows the FIFO level against the trigger; RT ends when the FIFO empties. */
static void pl011_rx_level_changed(PL011State *s)
{
    if (s->read_count >= s->read_trigger)
        s->int_level |= INT_RX;
    else
        s->int_level &= ~INT_RX;
    if (s->read_count == 0)
        s->int_level &= ~INT_RT;
}

/* After LCR_H or IFLS writes: a new trigger level (or a flushed FIFO)
 * re-evaluates RX; an unchanged one leaves a cleared RX cleared. */
static void pl011_trigger_changed(PL011State *s)
{
    if (pl011_set_read_trigger(s) || s->read_count == 0)
        pl011_rx_level_changed(s);
    pl011_update(s);
}

static void pl011_flush_rx(PL011State *s)
{
    s->read_count = 0;
    s->read_pos = 0;
    s->flags = (s->flags & ~FR_RXFF) | FR_RXFE;
}

static void pl011_receive(PL011State *s, uint8_t ch)
{
    if (s->read_count >= pl011_depth(s)) {
        s->rsr |= RSR_OE;
        s->int_level |= INT_OE;
        pl011_update(s);
        return;
    }
    /* With the FIFO disabled read_pos stays 0, so the character is in slot 0. */
    int32_t slot = (s->read_pos + s->read_count) & (PL011_FIFO_DEPTH - 1);
    s->read_fifo[slot] = ch;
    s->read_count++;
    s->flags &= ~FR_RXFE;
    if (s->read_count == pl011_depth(s))
        s->flags |= FR_RXFF;
    pl011_rx_level_changed(s);
    if (s->read_count < s->read_trigger)
        s->int_level |= INT_RT;
    pl011_update(s);
}

static uint32_t pl011_read_dr(PL011State *s)
{
    uint32_t c = s->read_fifo[s->read_pos];
    if (s->read_count > 0) {
        s->read_count--;
        if (pl011_fifo_enabled(s))
            s->read_pos = (s->read_pos + 1) & (PL011_FIFO_DEPTH - 1);
    }
    s->flags &= ~FR_RXFF;
    if (s->read_count == 0)
        s->flags |= FR_RXFE;
    s->rsr = (c >> 8) & 0xf;
    pl011_rx_level_changed(s);
    pl011_update(s);
    return c;
}

static void pl011_write_dr(PL011State *s, uint32_t value)
{
    if (!(s->cr & CR_UARTEN) || !(s->cr & CR_TXE))
        return;
    if (s->cr & CR_LBE) {
        if (s->cr & CR_RXE)
            pl011_receive(s, (uint8_t)value);
    } else {
        dev_output(s->dev, DEV_OUT_DATA, 0, value & 0xff);
    }
    s->int_level |= INT_TX;
    pl011_update(s);
}

static uint32_t pl011_read_reg(PL011State *s, uint32_t offset)
{
    if (offset >= PL011_ID)
        return pl011_id[(offset - PL011_ID) >> 2];
    switch (offset) {
    case PL011_DR: return pl011_read_dr(s);
    case PL011_RSR: return s->rsr;
    case PL011_FR: return s->flags;
    case PL011_ILPR: return s->ilpr;
    case PL011_IBRD: return s->ibrd;
    case PL011_FBRD: return s->fbrd;
    case PL011_LCR_H: return s->lcr;
    case PL011_CR: return s->cr;
    case PL011_IFLS: return s->ifl;
    case PL011_IMSC: return s->int_enabled;
    case PL011_RIS: return s->int_level;
    case PL011_MIS: return s->int_level & s->int_enabled;
    case PL011_DMACR: return s->dmacr;
    case PL011_TCR: return s->test_registers ? s->tcr : 0;
    case PL011_ITOP: return s->test_registers ? s->itop : 0;
    default: return 0;      /* ICR is write-only; reserved reads as zero */
    }
}

static void pl011_write_reg(PL011State *s, uint32_t offset, uint32_t value)
{
    switch (offset) {
    case PL011_DR:
        pl011_write_dr(s, value);
        break;
    case PL011_RSR:         /* UARTECR: any write clears the errors */
        s->rsr = 0;
        break;
    case PL011_ILPR:
        s->ilpr = value & 0xff;
        break;
    case PL011_IBRD:
        s->ibrd = value & 0xffff;
        break;
    case PL011_FBRD:
        s->fbrd = value & 0x3f;
        break;
    case PL011_LCR_H:
        /* Switching the FIFO on or off flushes it (it changes depth). */
        if ((s->lcr ^ value) & LCRH_FEN)
            pl011_flush_rx(s);
        s->lcr = value & 0xff;
        pl011_trigger_changed(s);
        break;
    case PL011_CR:
        s->cr = value & CR_MASK;
        break;
    case PL011_IFLS:
        s->ifl = value & 0x3f;
        pl011_trigger_changed(s);
        break;
    case PL011_IMSC:
        s->int_enabled = value & INT_MASK;
        pl011_update(s);
        break;
    case PL011_ICR:
        s->int_level &= ~(value & INT_MASK);
        pl011_update(s);
        break;
    case PL011_DMACR:
        s->dmacr = value & 0x7;
        break;
    case PL011_TCR:
        if (s->test_registers)
            s->tcr = value & 0x7;
        break;
    case PL011_ITOP:
        if (s->test_registers)
            s->itop = value & 0xffff;
        break;
    default:                /* FR, RIS, MIS, IDs are read-only */
        break;
    }
}

/* Registers are 32 bits wide; narrower reads see the addressed byte lanes,
 * narrower writes are taken only at the register's own address. */
static uint32_t pl011_read(void *opaque, uint32_t offset, unsigned size)
{
    return dev_narrow_read(pl011_read_reg(opaque, offset & ~3u), offset, size);
}

static void pl011_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    if (offset & 3)
        return;
    pl011_write_reg(opaque, offset, value);
}

static const DevMmioOps pl011_ops = { pl011_read, pl011_write };

static void pl011_input(void *opaque, unsigned channel, uint32_t value)
{
    PL011State *s = opaque;
    if (channel != 0)
        return;
    /* A receiver that is off does not sample the line. */
    if ((s->cr & (CR_UARTEN | CR_RXE)) != (CR_UARTEN | CR_RXE))
        return;
    if (s->cr & CR_LBE)     /* in loopback the external line is disconnected */
        return;
    pl011_receive(s, (uint8_t)value);
}

static void pl011_reset(void *opaque)
{
    PL011State *s = opaque;
    s->readbuff = 0;
    s->flags = FR_TXFE | FR_RXFE;
    s->lcr = 0;
    s->rsr = 0;
    s->cr = CR_TXE | CR_RXE;
    s->dmacr = 0;
    s->int_enabled = 0;
    s->int_level = 0;
    memset(s->read_fifo, 0, sizeof(s->read_fifo));
    s->ilpr = 0;
    s->ibrd = 0;
    s->fbrd = 0;
    s->ifl = 0x12;
    s->read_pos = 0;
    s->read_count = 0;
    s->tcr = 0;
    s->itop = 0;
    (void)pl011_set_read_trigger(s);
    devclock_init(&s->clock);
    devclock_set_hz(&s->clock, s->clk_hz);
    pl011_update(s);
}

static bool pl011_realize(Device *dev, void *opaque, VmsMsg *why)
{
    PL011State *s = opaque;
    s->dev = dev;
    s->clk = &s->clock;
    s->clk_hz = dev_prop(dev, "clk-hz", 24000000u);
    s->migrate_clk = dev_prop(dev, "migrate-clk", 1) != 0;
    s->test_registers = dev_prop(dev, "test-registers", 1) != 0;
    if (!dev_map_mmio(dev, 0, 0x1000, &pl011_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    return true;
}

/* ------------------------------------------------------------ migration */

static bool pl011_post_load(void *opaque, int version_id, VmsMsg *why)
{
    PL011State *s = opaque;
    if (s->read_pos < 0 || s->read_pos >= PL011_FIFO_DEPTH)
        return vms_fail(why, "read_pos %d out of range [0, %d]", s->read_pos,
                        PL011_FIFO_DEPTH - 1);
    if (s->read_count < 0 || s->read_count > PL011_FIFO_DEPTH)
        return vms_fail(why, "read_count %d out of range [0, %d]", s->read_count,
                        PL011_FIFO_DEPTH);
    if (s->read_trigger < 1 || s->read_trigger > PL011_FIFO_DEPTH)
        return vms_fail(why, "read_trigger %d out of range [1, %d]", s->read_trigger,
                        PL011_FIFO_DEPTH);
    /* With the FIFO disabled the model keeps read_pos at 0 and a held
     * character in slot 0; the guest cannot change that. Streams can: older
     * writers left the character at read_pos (QEMU moves it, as here), and
     * an empty holding register's read_pos may be anything below 16.
     * Leaving that read_pos would put the next character at slot read_pos,
     * which a later save and load moves to slot 0: not a fixpoint. */
    if (!pl011_fifo_enabled(s) && s->read_pos > 0) {
        if (s->read_count > 0)
            s->read_fifo[0] = s->read_fifo[s->read_pos];
        s->read_pos = 0;
    }
    return true;
}

static bool pl011_clock_needed(void *opaque)
{
    return ((PL011State *)opaque)->migrate_clk;
}

static const VmsField pl011_clock_fields[] = {
    VMS_CLOCK(clk, PL011State),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl011_clock = {
    .name = "pl011/clock",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pl011_clock_fields,
    .needed = pl011_clock_needed,
    .needed_is_config = true,
};

static bool pl011_test_registers_needed(void *opaque)
{
    return ((PL011State *)opaque)->test_registers;
}

static bool pl011_test_registers_post_load(void *opaque, int version_id, VmsMsg *why)
{
    PL011State *s = opaque;
    if (s->tcr > 0x7 || s->itop > 0xffff)
        return vms_fail(why, "tcr 0x%x or itop 0x%x wider than the register", (unsigned)s->tcr,
                        (unsigned)s->itop);
    if (!s->test_registers)
        return vms_fail(why, "test registers sent to a PL011 without them (test-registers off)");
    return true;
}

static const VmsField pl011_test_registers_fields[] = {
    VMS_UINT32(tcr, PL011State),
    VMS_UINT32(itop, PL011State),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl011_test_registers = {
    .name = "pl011/test-registers",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pl011_test_registers_fields,
    .needed = pl011_test_registers_needed,
    .needed_is_config = true,
    .post_load = pl011_test_registers_post_load,
};

static const VmsDesc *const pl011_subsections[] = { &vmstate_pl011_clock,
                                                    &vmstate_pl011_test_registers, NULL };

static const VmsField pl011_fields[] = {
    VMS_UINT32(readbuff, PL011State),
    VMS_UINT32(flags, PL011State),
    VMS_UINT32(lcr, PL011State),
    VMS_UINT32(rsr, PL011State),
    VMS_UINT32(cr, PL011State),
    VMS_UINT32(dmacr, PL011State),
    VMS_UINT32(int_enabled, PL011State),
    VMS_UINT32(int_level, PL011State),
    VMS_UINT32_ARRAY(read_fifo, PL011State, PL011_FIFO_DEPTH),
    VMS_UINT32(ilpr, PL011State),
    VMS_UINT32(ibrd, PL011State),
    VMS_UINT32(fbrd, PL011State),
    VMS_UINT32(ifl, PL011State),
    VMS_INT32(read_pos, PL011State),
    VMS_INT32(read_count, PL011State),
    VMS_INT32(read_trigger, PL011State),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl011 = {
    .name = "pl011",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = pl011_fields,
    .subsections = pl011_subsections,
    .post_load = pl011_post_load,
};

static const DevMember pl011_members[] = {
    DEV_HOST(PL011State, dev, "back-pointer to the machine's device record"),
    DEV_MEMBER(PL011State, readbuff),
    DEV_MEMBER(PL011State, flags),
    DEV_MEMBER(PL011State, lcr),
    DEV_MEMBER(PL011State, rsr),
    DEV_MEMBER(PL011State, cr),
    DEV_MEMBER(PL011State, dmacr),
    DEV_MEMBER(PL011State, int_enabled),
    DEV_MEMBER(PL011State, int_level),
    DEV_MEMBER(PL011State, read_fifo),
    DEV_MEMBER(PL011State, ilpr),
    DEV_MEMBER(PL011State, ibrd),
    DEV_MEMBER(PL011State, fbrd),
    DEV_MEMBER(PL011State, ifl),
    /* Indices and counts into read_fifo: post_load refuses anything else. */
    DEV_RANGE(PL011State, read_pos, 0, PL011_FIFO_DEPTH - 1),
    DEV_RANGE(PL011State, read_count, 0, PL011_FIFO_DEPTH),
    DEV_RANGE(PL011State, read_trigger, 1, PL011_FIFO_DEPTH),
    DEV_MEMBER(PL011State, tcr),
    DEV_MEMBER(PL011State, itop),
    /* Carried by "pl011/clock" through the pointer clk, so no field covers
     * its offset directly; it is still compared between twins. */
    DEV_MEMBER(PL011State, clock),
    DEV_HOST(PL011State, clk, "pointer to the clock member above (host address)"),
    DEV_HOST(PL011State, clk_hz, "configuration: the board's clk-hz property"),
    DEV_HOST(PL011State, migrate_clk, "configuration: the migrate-clk property"),
    DEV_HOST(PL011State, test_registers, "configuration: the test-registers property"),
    DEV_MEMBERS_END,
};

static const char *const pl011_inputs[] = { "rx", NULL };

/* What the register explorer may write (device.h). */
static const DevReg pl011_regs[] = {
    DEV_REG_INPUT("LCR_H", PL011_LCR_H, 4, 0xffu, "pl011/lcr", LCRH_FEN, LCRH_FEN,
                  "toggling FEN flushes the receive FIFO"),
    DEV_REG_INPUT("CR", PL011_CR, 4, CR_MASK, "pl011/cr", CR_UARTEN | CR_RXE | CR_LBE, CR_UARTEN | CR_RXE,
                  "UARTEN, TXE, RXE gate transmit and receive; LBE loops back"),
    DEV_REG("IFLS", PL011_IFLS, 4, 0x3fu, "pl011/ifl", 0, "moves the receive trigger level"),
    DEV_REG("IMSC", PL011_IMSC, 4, INT_MASK, "pl011/int_enabled", 0, "drives the IRQ line"),
    DEV_REG("ILPR", PL011_ILPR, 4, 0xffu, "pl011/ilpr", 0, NULL),
    DEV_REG("IBRD", PL011_IBRD, 4, 0xffffu, "pl011/ibrd", 0, NULL),
    DEV_REG("FBRD", PL011_FBRD, 4, 0x3fu, "pl011/fbrd", 0, NULL),
    DEV_REG("DMACR", PL011_DMACR, 4, 0x7u, "pl011/dmacr", 0, NULL),
    DEV_REG("DR", PL011_DR, 4, 0xffu, NULL, 0, "transmits (or loops back) a byte; raises TX"),
    DEV_REG("ICR", PL011_ICR, 4, INT_MASK, NULL, 0, "clears RIS bits"),
    DEV_REG("ECR", PL011_RSR, 4, 0xffu, NULL, 0, "clears the receive errors"),
    DEV_REGS_END,
};

const DevType pl011_type = {
    .name = "pl011",
    .summary = "ARM PrimeCell UART (PL011): 16-byte RX FIFO, immediate TX",
    .state_size = sizeof(PL011State),
    .vmsd = &vmstate_pl011,
    .members = pl011_members,
    .realize = pl011_realize,
    .reset = pl011_reset,
    .input = pl011_input,
    .inputs = pl011_inputs,
    .regs = pl011_regs,
};
