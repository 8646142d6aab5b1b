/*
 * spi_nor.c - a small SPI NOR flash (4 KiB) on an SSP's SSI bus: vmstress's
 * own model, with the command set of the M25P/W25Q families (facts from
 * their datasheets and QEMU's m25p80; no QEMU description to match, since
 * QEMU's m25p80 has one per part with a block backend).
 *
 * The board wires it with property "ssi-bus" = the SSP's base address; the
 * SSP drives its chip select (select starts a command, deselect ends it)
 * and exchanges 8-bit frames with it. Commands:
 *   0x06 WREN, 0x04 WRDI      set / clear the write-enable latch (WEL)
 *   0x05 RDSR                 status, repeated (WEL = bit 1; WIP is never
 *                             seen: programs and erases finish at once)
 *   0x9F RDID                 three ID bytes (0x20 0x20 0x0c), then 0
 *   0x03 READ a2 a1 a0        data from the address, wrapping at the end
 *   0x0B FAST_READ a2 a1 a0 x the same after one dummy byte
 *   0x02 PP a2 a1 a0 d...     program (AND into) the 256-byte page, the
 *                             address wrapping inside the page; needs WEL
 *   0x20 SE a2 a1 a0          erase the 1 KiB sector to 0xff; needs WEL
 *   0xC7, 0x60 CE             erase the whole part; needs WEL
 * PP, SE and CE clear WEL when the command ends (deselect). Anything else,
 * and any frame after a command is complete, is ignored until deselect.
 * While deselected the part does not drive the line (reads 0xff).
 *
 * The command in progress persists across migration: whether the part is
 * selected, the state of the command decoder, the command, the address
 * bytes collected so far, the ID byte reached and the status.
 *
 * Contents: migrated with the device, as a 4 KiB buffer field (QEMU's
 * m25p80 instead declares its block backend shared storage). A part this
 * small keeps streams small; reset and power-on both give an erased part,
 * since there is no backing file to remember it.
 */
#include <string.h>

#include "device.h"

#define NOR_SIZE 4096u
#define NOR_PAGE 256u
#define NOR_SECTOR 1024u

#define NOR_WEL 0x02u

enum {
    CMD_PP = 0x02, CMD_READ = 0x03, CMD_WRDI = 0x04, CMD_RDSR = 0x05, CMD_WREN = 0x06,
    CMD_FAST_READ = 0x0b, CMD_SE = 0x20, CMD_CE_ALT = 0x60, CMD_RDID = 0x9f, CMD_CE = 0xc7,
};

/* The command decoder. */
enum {
    NOR_IDLE,       /* next frame is a command */
    NOR_ADDR,       /* collecting three address bytes */
    NOR_DUMMY,      /* FAST_READ's dummy byte */
    NOR_READ,       /* streaming data out */
    NOR_PROGRAM,    /* page program data in */
    NOR_STATUS,     /* RDSR */
    NOR_ID,         /* RDID */
    NOR_IGNORE,     /* command complete or unknown: frames ignored until deselect */
    NOR_N_STATES,
};

static const uint8_t nor_id[3] = { 0x20, 0x20, 0x0c };

typedef struct SpiNorState {
    /* --- migrated --- */
    bool selected;
    uint8_t state;          /* NOR_* */
    uint8_t cmd;            /* the current command byte */
    uint8_t addr_count;     /* address bytes collected (0..3) */
    uint32_t addr;
    uint8_t id_pos;         /* RDID bytes sent (0..3) */
    uint8_t status;         /* WEL only */
    uint8_t storage[NOR_SIZE];
} SpiNorState;

static bool nor_writing(const SpiNorState *s)
{
    return s->cmd == CMD_PP || s->cmd == CMD_SE || s->cmd == CMD_CE || s->cmd == CMD_CE_ALT;
}

static void nor_command(SpiNorState *s, uint8_t cmd)
{
    s->cmd = cmd;
    s->state = NOR_IGNORE;
    switch (cmd) {
    case CMD_WREN: s->status |= NOR_WEL; break;
    case CMD_WRDI: s->status &= (uint8_t)~NOR_WEL; break;
    case CMD_RDSR: s->state = NOR_STATUS; break;
    case CMD_RDID: s->state = NOR_ID; s->id_pos = 0; break;
    case CMD_CE:
    case CMD_CE_ALT:
        if (s->status & NOR_WEL)
            memset(s->storage, 0xff, sizeof(s->storage));
        break;
    case CMD_PP:
    case CMD_SE:
        if (!(s->status & NOR_WEL))
            break;
        /* fall through */
    case CMD_READ:
    case CMD_FAST_READ:
        s->state = NOR_ADDR;
        s->addr_count = 0;
        s->addr = 0;
        break;
    default: break;
    }
}

static void nor_address_done(SpiNorState *s)
{
    s->addr &= NOR_SIZE - 1;
    switch (s->cmd) {
    case CMD_READ: s->state = NOR_READ; break;
    case CMD_FAST_READ: s->state = NOR_DUMMY; break;
    case CMD_PP: s->state = NOR_PROGRAM; break;
    default:    /* SE */
        memset(s->storage + (s->addr & ~(NOR_SECTOR - 1)), 0xff, NOR_SECTOR);
        s->state = NOR_IGNORE;
        break;
    }
}

static uint32_t nor_transfer(void *opaque, uint32_t out)
{
    SpiNorState *s = opaque;
    uint8_t in = (uint8_t)out, v;
    if (!s->selected)
        return 0xff;
    switch (s->state) {
    case NOR_IDLE:
        nor_command(s, in);
        return 0xff;
    case NOR_ADDR:
        s->addr = s->addr << 8 | in;
        if (++s->addr_count == 3)
            nor_address_done(s);
        return 0xff;
    case NOR_DUMMY:
        s->state = NOR_READ;
        return 0xff;
    case NOR_READ:
        v = s->storage[s->addr];
        s->addr = (s->addr + 1) & (NOR_SIZE - 1);
        return v;
    case NOR_PROGRAM:
        s->storage[s->addr] &= in;
        s->addr = (s->addr & ~(NOR_PAGE - 1)) | ((s->addr + 1) & (NOR_PAGE - 1));
        return 0xff;
    case NOR_STATUS:
        return s->status;
    case NOR_ID:
        if (s->id_pos == sizeof(nor_id))
            return 0;
        return nor_id[s->id_pos++];
    default:
        return 0xff;
    }
}

static void nor_select(void *opaque, bool selected)
{
    SpiNorState *s = opaque;
    if (!selected && s->selected && s->state != NOR_IDLE && nor_writing(s))
        s->status &= (uint8_t)~NOR_WEL;     /* a write command ends: the latch resets */
    s->selected = selected;
    s->state = NOR_IDLE;
    s->cmd = 0;
    s->addr_count = 0;
    s->addr = 0;
    s->id_pos = 0;
}

static void nor_reset(void *opaque)
{
    SpiNorState *s = opaque;
    memset(s, 0, sizeof(*s));
    memset(s->storage, 0xff, sizeof(s->storage));
}

/* ------------------------------------------------------------ migration */

static bool nor_post_load(void *opaque, int version_id, VmsMsg *why)
{
    SpiNorState *s = opaque;
    (void)version_id;
    if (s->state >= NOR_N_STATES)
        return vms_fail(why, "state %u out of range [0, %u]", s->state, NOR_N_STATES - 1);
    if (s->addr_count > 3)
        return vms_fail(why, "addr_count %u out of range [0, 3]", s->addr_count);
    if (s->id_pos > sizeof(nor_id))
        return vms_fail(why, "id_pos %u out of range [0, %zu]", s->id_pos, sizeof(nor_id));
    if (s->addr >= NOR_SIZE && s->addr_count == 3)
        return vms_fail(why, "addr 0x%x outside the part (%u bytes)", s->addr, NOR_SIZE);
    if (s->addr >= 1u << (8 * s->addr_count))
        return vms_fail(why, "addr 0x%x has more than %u address bytes", s->addr, s->addr_count);
    if (s->status & ~NOR_WEL)
        return vms_fail(why, "status 0x%x has bits other than WEL", s->status);
    if (!s->selected && s->state != NOR_IDLE)
        return vms_fail(why, "selected 0 with the decoder in state %u (a deselected part is idle)",
                        s->state);
    return true;
}

static const VmsField nor_fields[] = {
    VMS_BOOL(selected, SpiNorState),
    VMS_UINT8(state, SpiNorState),
    VMS_UINT8(cmd, SpiNorState),
    VMS_UINT8(addr_count, SpiNorState),
    VMS_UINT32(addr, SpiNorState),
    VMS_UINT8(id_pos, SpiNorState),
    VMS_UINT8(status, SpiNorState),
    VMS_BUFFER(storage, SpiNorState),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_spi_nor = {
    .name = "spi-nor",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = nor_fields,
    .post_load = nor_post_load,
};

static const DevMember nor_members[] = {
    DEV_MEMBER(SpiNorState, selected),
    DEV_RANGE(SpiNorState, state, 0, NOR_N_STATES - 1),
    DEV_MEMBER(SpiNorState, cmd),
    DEV_RANGE(SpiNorState, addr_count, 0, 3),
    DEV_MEMBER(SpiNorState, addr),
    DEV_RANGE(SpiNorState, id_pos, 0, 3),
    DEV_MEMBER(SpiNorState, status),
    DEV_MEMBER(SpiNorState, storage),
    DEV_MEMBERS_END,
};

const DevType spi_nor_type = {
    .name = "spi-nor",
    .summary = "SPI NOR flash, 4 KiB (vmstress's own): READ, FAST_READ, PP, SE, CE, RDSR, RDID, WREN/WRDI",
    .state_size = sizeof(SpiNorState),
    .vmsd = &vmstate_spi_nor,
    .members = nor_members,
    .reset = nor_reset,
    .ssi_transfer = nor_transfer,
    .ssi_select = nor_select,
};
