/*
 * pl022.c - ARM PrimeCell Synchronous Serial Port PL022 (DDI0194), master.
 *
 * Eight-entry transmit and receive FIFOs of up to 16-bit frames. The line is
 * not timed: while the port is enabled (CR1.SSE), every frame in the
 * transmit FIFO is exchanged at once with the slaves on the SSI bus
 * (dev_ssi_transfer: the devices the board wires with "ssi-bus" = this
 * port's base address), or with itself in loopback (CR1.LBM), and the reply
 * enters the receive FIFO. As in QEMU 7.2, a full receive FIFO stalls the
 * transmitter instead of overrunning, so ROR and RT are never raised.
 *
 * Chip select: the PL022 has no chip-select output the slaves here could
 * follow (boards use a GPIO), so the port's enable is its select: setting
 * CR1.SSE selects the slaves and clearing it deselects them, which ends an
 * SPI flash command. This is the model's choice, stated in docs/devices.md.
 *
 * Interrupts (RIS = is, IMSC = im): RX while the receive FIFO holds 4 or
 * more frames, TX while the transmit FIFO holds 4 or fewer; IRQ line 0 is
 * RIS & IMSC != 0. Slave mode (CR1.MS) is not modelled: the port always
 * masters. DMACR reads 0 and ignores writes, as in QEMU (the PL080 feeds DR
 * without handshakes, paced by its own tick).
 *
 * Migration: "pl022_ssp" v1 with QEMU 7.2's fields (the FIFOs interleaved
 * entry by entry). post_load refuses FIFO heads outside [0, 7] (as QEMU)
 * and lengths outside [0, 8] (an addition: the lengths index the FIFOs).
 */
#include "device.h"

#define PL022_FIFO_DEPTH 8

enum {
    PL022_CR0 = 0x00, PL022_CR1 = 0x04, PL022_DR = 0x08, PL022_SR = 0x0c, PL022_CPSR = 0x10,
    PL022_IMSC = 0x14, PL022_RIS = 0x18, PL022_MIS = 0x1c, PL022_ICR = 0x20, PL022_DMACR = 0x24,
    PL022_ID = 0xfe0,
};

#define CR1_LBM (1u << 0)
#define CR1_SSE (1u << 1)

#define SR_TFE (1u << 0)
#define SR_TNF (1u << 1)
#define SR_RNE (1u << 2)
#define SR_RFF (1u << 3)
#define SR_BSY (1u << 4)

#define INT_ROR (1u << 0)
#define INT_RT (1u << 1)
#define INT_RX (1u << 2)
#define INT_TX (1u << 3)

/* SSPPeriphID0..3, SSPPCellID0..3. */
static const uint8_t pl022_id[8] = { 0x22, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

typedef struct PL022State {
    Device *dev;
    /* --- migrated, in QEMU's order and with QEMU's names --- */
    uint32_t cr0;
    uint32_t cr1;
    uint32_t bitmask;       /* frame mask from CR0.DSS, set by CR0 writes */
    uint32_t sr;
    uint32_t cpsr;
    uint32_t is;            /* RIS */
    uint32_t im;            /* IMSC */
    int32_t tx_fifo_head;   /* next free transmit slot */
    int32_t rx_fifo_head;   /* next free receive slot */
    int32_t tx_fifo_len;
    int32_t rx_fifo_len;
    uint16_t tx_fifo[PL022_FIFO_DEPTH];
    uint16_t rx_fifo[PL022_FIFO_DEPTH];
} PL022State;

/* SR and the RX/TX interrupts follow the FIFO levels. */
static void pl022_update(PL022State *s)
{
    s->sr = 0;
    if (s->tx_fifo_len == 0)
        s->sr |= SR_TFE;
    if (s->tx_fifo_len != PL022_FIFO_DEPTH)
        s->sr |= SR_TNF;
    if (s->rx_fifo_len != 0)
        s->sr |= SR_RNE;
    if (s->rx_fifo_len == PL022_FIFO_DEPTH)
        s->sr |= SR_RFF;
    if (s->tx_fifo_len != 0)
        s->sr |= SR_BSY;
    s->is &= INT_ROR | INT_RT;
    if (s->rx_fifo_len >= PL022_FIFO_DEPTH / 2)
        s->is |= INT_RX;
    if (s->tx_fifo_len <= PL022_FIFO_DEPTH / 2)
        s->is |= INT_TX;
    dev_set_irq(s->dev, 0, (s->is & s->im) != 0);
}

/* Exchange every queued frame the receive FIFO has room for. */
static void pl022_xfer(PL022State *s)
{
    if (!(s->cr1 & CR1_SSE)) {
        pl022_update(s);
        return;
    }
    int32_t i = (s->tx_fifo_head - s->tx_fifo_len) & (PL022_FIFO_DEPTH - 1);
    int32_t o = s->rx_fifo_head;
    while (s->tx_fifo_len > 0 && s->rx_fifo_len < PL022_FIFO_DEPTH) {
        uint32_t v = s->tx_fifo[i];
        if (!(s->cr1 & CR1_LBM))
            v = dev_ssi_transfer(s->dev, v);
        s->rx_fifo[o] = (uint16_t)(v & s->bitmask);
        i = (i + 1) & (PL022_FIFO_DEPTH - 1);
        o = (o + 1) & (PL022_FIFO_DEPTH - 1);
        s->tx_fifo_len--;
        s->rx_fifo_len++;
    }
    s->rx_fifo_head = o;
    pl022_update(s);
}

static uint32_t pl022_read_dr(PL022State *s)
{
    if (s->rx_fifo_len == 0)
        return 0;
    uint32_t v = s->rx_fifo[(s->rx_fifo_head - s->rx_fifo_len) & (PL022_FIFO_DEPTH - 1)];
    s->rx_fifo_len--;
    pl022_xfer(s);
    return v;
}

static uint32_t pl022_read_reg(PL022State *s, uint32_t offset)
{
    if (offset >= PL022_ID)
        return pl022_id[(offset - PL022_ID) >> 2];
    switch (offset) {
    case PL022_CR0: return s->cr0;
    case PL022_CR1: return s->cr1;
    case PL022_DR: return pl022_read_dr(s);
    case PL022_SR: return s->sr;
    case PL022_CPSR: return s->cpsr;
    case PL022_IMSC: return s->im;
    case PL022_RIS: return s->is;
    case PL022_MIS: return s->is & s->im;
    default: return 0;      /* ICR is write-only, DMACR reads 0, reserved reads 0 */
    }
}

static void pl022_write_reg(PL022State *s, uint32_t offset, uint32_t value)
{
    switch (offset) {
    case PL022_CR0:
        s->cr0 = value & 0xffff;
        s->bitmask = (1u << ((value & 15) + 1)) - 1;   /* clock and frame format are not timed */
        break;
    case PL022_CR1: {
        bool was = (s->cr1 & CR1_SSE) != 0;
        s->cr1 = value & 0xf;
        bool on = (s->cr1 & CR1_SSE) != 0;
        if (was != on)
            dev_ssi_select(s->dev, on);
        pl022_xfer(s);
        break;
    }
    case PL022_DR:
        if (s->tx_fifo_len < PL022_FIFO_DEPTH) {
            s->tx_fifo[s->tx_fifo_head] = (uint16_t)(value & s->bitmask);
            s->tx_fifo_head = (s->tx_fifo_head + 1) & (PL022_FIFO_DEPTH - 1);
            s->tx_fifo_len++;
            pl022_xfer(s);
        }
        break;
    case PL022_CPSR:
        s->cpsr = value & 0xff;
        break;
    case PL022_IMSC:
        s->im = value & 0xf;
        pl022_update(s);
        break;
    case PL022_ICR:
        s->is &= ~(value & (INT_ROR | INT_RT));
        pl022_update(s);
        break;
    default:                /* SR, RIS, MIS, DMACR, IDs */
        break;
    }
}

static uint32_t pl022_read(void *opaque, uint32_t offset, unsigned size)
{
    return dev_narrow_read(pl022_read_reg(opaque, offset & ~3u), offset, size);
}

static void pl022_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    if (offset & 3)
        return;
    pl022_write_reg(opaque, offset, value);
}

static const DevMmioOps pl022_ops = { pl022_read, pl022_write };

static void pl022_reset(void *opaque)
{
    PL022State *s = opaque;
    Device *dev = s->dev;
    *s = (PL022State){ .dev = dev };
    s->is = INT_TX;
    s->sr = SR_TFE | SR_TNF;
    pl022_update(s);
}

static bool pl022_realize(Device *dev, void *opaque, VmsMsg *why)
{
    PL022State *s = opaque;
    s->dev = dev;
    if (!dev_map_mmio(dev, 0, 0x1000, &pl022_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    return true;
}

/* ------------------------------------------------------------ migration */

static bool pl022_post_load(void *opaque, int version_id, VmsMsg *why)
{
    PL022State *s = opaque;
    (void)version_id;
    if (s->tx_fifo_head < 0 || s->tx_fifo_head >= PL022_FIFO_DEPTH)
        return vms_fail(why, "tx_fifo_head %d out of range [0, %d]", s->tx_fifo_head,
                        PL022_FIFO_DEPTH - 1);
    if (s->rx_fifo_head < 0 || s->rx_fifo_head >= PL022_FIFO_DEPTH)
        return vms_fail(why, "rx_fifo_head %d out of range [0, %d]", s->rx_fifo_head,
                        PL022_FIFO_DEPTH - 1);
    if (s->tx_fifo_len < 0 || s->tx_fifo_len > PL022_FIFO_DEPTH)
        return vms_fail(why, "tx_fifo_len %d out of range [0, %d]", s->tx_fifo_len,
                        PL022_FIFO_DEPTH);
    if (s->rx_fifo_len < 0 || s->rx_fifo_len > PL022_FIFO_DEPTH)
        return vms_fail(why, "rx_fifo_len %d out of range [0, %d]", s->rx_fifo_len,
                        PL022_FIFO_DEPTH);
    return true;
}

static const VmsField pl022_fields[] = {
    VMS_UINT32(cr0, PL022State),
    VMS_UINT32(cr1, PL022State),
    VMS_UINT32(bitmask, PL022State),
    VMS_UINT32(sr, PL022State),
    VMS_UINT32(cpsr, PL022State),
    VMS_UINT32(is, PL022State),
    VMS_UINT32(im, PL022State),
    VMS_INT32(tx_fifo_head, PL022State),
    VMS_INT32(rx_fifo_head, PL022State),
    VMS_INT32(tx_fifo_len, PL022State),
    VMS_INT32(rx_fifo_len, PL022State),
    VMS_UINT16(tx_fifo[0], PL022State), VMS_UINT16(rx_fifo[0], PL022State),
    VMS_UINT16(tx_fifo[1], PL022State), VMS_UINT16(rx_fifo[1], PL022State),
    VMS_UINT16(tx_fifo[2], PL022State), VMS_UINT16(rx_fifo[2], PL022State),
    VMS_UINT16(tx_fifo[3], PL022State), VMS_UINT16(rx_fifo[3], PL022State),
    VMS_UINT16(tx_fifo[4], PL022State), VMS_UINT16(rx_fifo[4], PL022State),
    VMS_UINT16(tx_fifo[5], PL022State), VMS_UINT16(rx_fifo[5], PL022State),
    VMS_UINT16(tx_fifo[6], PL022State), VMS_UINT16(rx_fifo[6], PL022State),
    VMS_UINT16(tx_fifo[7], PL022State), VMS_UINT16(rx_fifo[7], PL022State),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_pl022 = {
    .name = "pl022_ssp",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pl022_fields,
    .post_load = pl022_post_load,
};

/* One member per FIFO entry, as QEMU's description has one field each. */
#define PL022_FIFO_MEMBERS(f) \
    DEV_MEMBER(PL022State, f[0]), DEV_MEMBER(PL022State, f[1]), DEV_MEMBER(PL022State, f[2]), \
    DEV_MEMBER(PL022State, f[3]), DEV_MEMBER(PL022State, f[4]), DEV_MEMBER(PL022State, f[5]), \
    DEV_MEMBER(PL022State, f[6]), DEV_MEMBER(PL022State, f[7])

static const DevMember pl022_members[] = {
    DEV_HOST(PL022State, dev, "back-pointer to the machine's device record"),
    DEV_MEMBER(PL022State, cr0),
    DEV_MEMBER(PL022State, cr1),
    DEV_MEMBER(PL022State, bitmask),
    DEV_MEMBER(PL022State, sr),
    DEV_MEMBER(PL022State, cpsr),
    DEV_MEMBER(PL022State, is),
    DEV_MEMBER(PL022State, im),
    /* Indices and counts into the FIFOs: post_load refuses anything else. */
    DEV_RANGE(PL022State, tx_fifo_head, 0, PL022_FIFO_DEPTH - 1),
    DEV_RANGE(PL022State, rx_fifo_head, 0, PL022_FIFO_DEPTH - 1),
    DEV_RANGE(PL022State, tx_fifo_len, 0, PL022_FIFO_DEPTH),
    DEV_RANGE(PL022State, rx_fifo_len, 0, PL022_FIFO_DEPTH),
    PL022_FIFO_MEMBERS(tx_fifo),
    PL022_FIFO_MEMBERS(rx_fifo),
    DEV_MEMBERS_END,
};

/* What the register explorer may write (device.h). CR0 first: it sets the
 * frame mask DR writes are stored under; CR1 then may enable the port (and
 * with LBM loop frames back), so the DR writes after it show FIFO bits. */
static const DevReg pl022_regs[] = {
    DEV_REG("SSPCR0", PL022_CR0, 4, 0xffffu, "pl022_ssp/cr0", 0, "DSS sets the frame mask"),
    DEV_REG("SSPCR1", PL022_CR1, 4, 0xfu, "pl022_ssp/cr1", 0,
            "SSE enables the port and selects the slaves; LBM loops frames back"),
    DEV_REG("SSPCPSR", PL022_CPSR, 4, 0xffu, "pl022_ssp/cpsr", 0, NULL),
    DEV_REG("SSPIMSC", PL022_IMSC, 4, 0xfu, "pl022_ssp/im", 0, "drives the IRQ line"),
    DEV_REG("SSPDR", PL022_DR, 4, 0xffffu, "pl022_ssp/tx_fifo[0]", 0,
            "queues a frame; an enabled port exchanges it at once"),
    DEV_REG("SSPICR", PL022_ICR, 4, 0x3u, NULL, 0, "clears ROR and RT"),
    DEV_REGS_END,
};

const DevType pl022_type = {
    .name = "pl022",
    .summary = "ARM PrimeCell SSP (PL022): SPI master, 8-frame FIFOs, slaves on its SSI bus",
    .state_size = sizeof(PL022State),
    .vmsd = &vmstate_pl022,
    .members = pl022_members,
    .realize = pl022_realize,
    .reset = pl022_reset,
    .regs = pl022_regs,
};
