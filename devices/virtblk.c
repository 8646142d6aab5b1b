/*
 * virtblk.c - vmstress-virtblk, a block device with one virtqueue, in the
 * style of virtio-mmio (version 2 register layout, split virtqueue) but
 * vmstress's own: QEMU has no such device, and its description is ours.
 *
 * Registers (32-bit, offsets in the 4 KiB region):
 *   0x000 Magic        RO "virt" (0x74726976)
 *   0x004 Version      RO 2
 *   0x008 DeviceID     RO 2 (block)
 *   0x00C VendorID     RO "VMST" (0x54534d56)
 *   0x010 DeviceFeatures  RO bit 9: flush
 *   0x020 DriverFeatures  RW what the driver accepts (FEATURES_OK fails on
 *                         a bit the device does not offer)
 *   0x034 QueueNumMax  RO 8
 *   0x038 QueueNum     RW 1, 2, 4 or 8 (other values ignored)
 *   0x044 QueueReady   RW 1 starts the queue (refused unless QueueNum and
 *                         the three ring addresses are set and aligned);
 *                         0 stops it and drops the requests in flight
 *   0x050 QueueNotify  WO any write: look at the available ring
 *   0x060 InterruptStatus RO bit 0: the used ring has new entries
 *   0x064 InterruptACK WO clears the bits written
 *   0x070 Status       RW ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4,
 *                         FEATURES_OK 8, NEEDS_RESET 0x40 (device-set),
 *                         FAILED 0x80; writing 0 resets the device
 *   0x080 QueueDescLow, 0x090 QueueDriverLow (avail), 0x0A0 QueueDeviceLow
 *                         (used): RW while the queue is stopped; the High
 *                         words read 0 and ignore writes (a 32-bit guest)
 *   0x100 capacity in sectors (low word), 0x104 its high word (0)
 *
 * Rings in guest RAM are virtio's split layout, little-endian:
 * descriptors {u64 addr; u32 len; u16 flags (1 NEXT, 2 WRITE); u16 next},
 * avail {u16 flags; u16 idx; u16 ring[num]}, used {u16 flags; u16 idx;
 * {u32 id; u32 len} ring[num]}. A request is a chain: a 16-byte header
 * {u32 type (0 read, 1 write, 4 flush); u32 reserved; u64 sector}, up to
 * VIRTBLK_MAX_SEGS data buffers (device-writable for a read, readable for
 * a write; their total a multiple of 512 bytes), and a one-byte status
 * (0 ok, 1 I/O error, 2 unsupported), device-writable.
 *
 * Requests take virtual time: a request accepted at notify completes
 * VIRTBLK_LATENCY_NS plus VIRTBLK_NS_PER_SECTOR per sector after the
 * previous one, in order. Until then it is in flight: its parsed chain is
 * state (req[], n_inflight), and the data moves only at completion, so a
 * checkpoint between the two must carry it. A malformed chain sets
 * NEEDS_RESET and stops the queue until the driver resets the device.
 *
 * Guest memory is reached through dev_mem_read/dev_mem_write only.
 *
 * Migration (docs/devices.md has the wire layout): section
 * "vmstress-virtblk" carries the registers, the queue's indices, and the
 * requests in flight as a variable array whose count n_inflight a
 * VALIDATE entry checks against the queue size before the array is read;
 * post_load checks every request and re-arms the completion timer.
 * The backing image (64 KiB, zero at power-on, cleared by reset like a RAM
 * disk; tracked memory with a dirty log, device.h) is migrated as a section of its own, "vmstress-virtblk-image", up
 * to the end of the last sector ever written (its high-water mark).
 * Declared shared storage (not in the stream, surviving B's reset) is the
 * other policy; the property shared-image=1 asks for it and is refused
 * until the loop can treat storage that way.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"

#define VIRTBLK_QUEUE_MAX 8u
#define VIRTBLK_MAX_SEGS 4u
#define VIRTBLK_SECTOR 512u
#define VIRTBLK_SECTORS 128u
#define VIRTBLK_IMAGE_SIZE (VIRTBLK_SECTORS * VIRTBLK_SECTOR)
#define VIRTBLK_LATENCY_NS 30000
#define VIRTBLK_NS_PER_SECTOR 10000

enum {
    REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c,
    REG_DEV_FEATURES = 0x010, REG_DRV_FEATURES = 0x020, REG_QUEUE_NUM_MAX = 0x034,
    REG_QUEUE_NUM = 0x038, REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
    REG_INT_STATUS = 0x060, REG_INT_ACK = 0x064, REG_STATUS = 0x070,
    REG_DESC_LO = 0x080, REG_AVAIL_LO = 0x090, REG_USED_LO = 0x0a0, REG_CAPACITY = 0x100,
};

enum {
    MAGIC = 0x74726976u, VERSION = 2, DEVICE_ID_BLOCK = 2, VENDOR_ID = 0x54534d56u,
    FEATURE_FLUSH = 1u << 9,
    ST_FEATURES_OK = 8, ST_DRIVER_OK = 4, ST_NEEDS_RESET = 0x40, ST_ALL = 0xff,
    DESC_NEXT = 1, DESC_WRITE = 2, DESC_SIZE = 16,
    REQ_IN = 0, REQ_OUT = 1, REQ_FLUSH = 4,
    RES_OK = 0, RES_IOERR = 1, RES_UNSUPP = 2,
    ISR_USED = 1,
    HEADER_SIZE = 16,
};

/* One request in flight: its chain, parsed when the device took it. */
typedef struct VirtblkReq {
    uint32_t head;              /* descriptor index: the used ring's id */
    uint32_t type;              /* REQ_* as the header said */
    uint32_t sector;            /* first sector (when result is RES_OK) */
    uint32_t result;            /* RES_* decided at parse; an I/O error may follow */
    uint32_t status_addr;       /* where the status byte goes */
    uint32_t nseg;              /* data buffers */
    uint32_t seg_addr[VIRTBLK_MAX_SEGS];
    uint32_t seg_len[VIRTBLK_MAX_SEGS];
    int64_t done_ns;            /* completion instant, virtual ns */
} VirtblkReq;

/* The image migrates up to its high-water mark: sectors never written
 * are zero on both sides and cost no stream bytes (a board whose guest
 * never writes the disk, like the fuzz board's, sends an empty image). */
typedef struct VirtblkImage {
    uint32_t len;               /* bytes up to the end of the last sector ever written */
    uint8_t data[VIRTBLK_IMAGE_SIZE];
} VirtblkImage;

typedef struct VirtblkState {
    Device *dev;
    VTimer timer;               /* completion of req[0] */
    /* --- migrated, section "vmstress-virtblk" --- */
    uint32_t status;
    uint32_t driver_features;
    uint32_t queue_num;
    uint32_t queue_ready;
    uint32_t desc_addr, avail_addr, used_addr;
    uint32_t isr;
    uint16_t last_avail_idx;    /* next available-ring entry to take */
    uint16_t used_idx;          /* next used-ring entry to fill */
    uint32_t n_inflight;
    VirtblkReq req[VIRTBLK_QUEUE_MAX];     /* oldest first; unused slots zero */
    /* --- migrated, section "vmstress-virtblk-image" --- */
    VirtblkImage img;
} VirtblkState;

/* ------------------------------------------------------------ helpers */

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void put_le32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool running(const VirtblkState *s)
{
    return s->queue_ready && (s->status & ST_DRIVER_OK) && !(s->status & ST_NEEDS_RESET);
}

static bool valid_queue_num(uint32_t n)
{
    return n != 0 && n <= VIRTBLK_QUEUE_MAX && (n & (n - 1)) == 0;
}

static uint32_t data_bytes(const VirtblkReq *r)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < r->nseg && i < VIRTBLK_MAX_SEGS; i++)
        total += r->seg_len[i];
    return total;
}

/* An accepted read or write stays inside the image, in whole sectors. */
static bool req_in_image(const VirtblkReq *r)
{
    uint32_t bytes = data_bytes(r);
    return bytes % VIRTBLK_SECTOR == 0 && r->sector <= VIRTBLK_SECTORS &&
           bytes / VIRTBLK_SECTOR <= VIRTBLK_SECTORS - r->sector;
}

static void virtblk_update_irq(VirtblkState *s)
{
    dev_set_irq(s->dev, 0, s->isr != 0);
}

static void arm(VirtblkState *s)
{
    if (s->n_inflight)
        vtimer_mod(&s->timer, s->req[0].done_ns);
    else
        vtimer_del(&s->timer);
}

/* Drop every request in flight and the queue's position (queue or device reset). */
static void queue_reset(VirtblkState *s)
{
    s->queue_ready = 0;
    s->last_avail_idx = 0;
    s->used_idx = 0;
    s->n_inflight = 0;
    memset(s->req, 0, sizeof(s->req));
    vtimer_del(&s->timer);
}

static void needs_reset(VirtblkState *s)
{
    s->status |= ST_NEEDS_RESET;
}

/* ------------------------------------------------------- taking requests */

typedef struct Desc {
    uint32_t addr, len;
    uint16_t flags, next;
} Desc;

static bool read_desc(VirtblkState *s, uint32_t i, Desc *d)
{
    uint8_t b[DESC_SIZE];
    if (i >= s->queue_num || !dev_mem_read(s->dev, s->desc_addr + DESC_SIZE * i, b, sizeof(b)))
        return false;
    if (le32(b + 4) != 0)
        return false;           /* above 4 GiB: nothing there */
    *d = (Desc){ le32(b), le32(b + 8), le16(b + 12), le16(b + 14) };
    return true;
}

/* Walk the chain at head into r. False on a malformed chain. */
static bool parse_chain(VirtblkState *s, uint32_t head, VirtblkReq *r)
{
    Desc d;
    uint8_t hdr[HEADER_SIZE];
    memset(r, 0, sizeof(*r));
    r->head = head;
    if (!read_desc(s, head, &d) || (d.flags & DESC_WRITE) || !(d.flags & DESC_NEXT) ||
        d.len < HEADER_SIZE || !dev_mem_read(s->dev, d.addr, hdr, sizeof(hdr)))
        return false;
    r->type = le32(hdr);
    uint32_t sector_hi = le32(hdr + 12);
    r->sector = le32(hdr + 8);
    bool data_writable = r->type == REQ_IN;
    /* At most queue_num descriptors: a longer chain loops. */
    for (uint32_t n = 1; n < s->queue_num; n++) {
        if (!read_desc(s, d.next, &d))
            return false;
        if (!(d.flags & DESC_NEXT)) {
            if (!(d.flags & DESC_WRITE) || d.len < 1)
                return false;
            r->status_addr = d.addr;
            if (r->type != REQ_IN && r->type != REQ_OUT && r->type != REQ_FLUSH)
                r->result = RES_UNSUPP;
            else if (r->type != REQ_FLUSH && (sector_hi != 0 || !req_in_image(r)))
                r->result = RES_IOERR;
            return true;
        }
        if (r->nseg == VIRTBLK_MAX_SEGS || ((d.flags & DESC_WRITE) != 0) != data_writable ||
            d.len > VIRTBLK_IMAGE_SIZE)
            return false;
        r->seg_addr[r->nseg] = d.addr;
        r->seg_len[r->nseg] = d.len;
        r->nseg++;
    }
    return false;
}

/* Take what the available ring holds, as far as the queue has room. */
static void take_requests(VirtblkState *s)
{
    uint8_t b[2];
    while (running(s) && s->n_inflight < s->queue_num) {
        if (!dev_mem_read(s->dev, s->avail_addr + 2, b, 2)) {
            needs_reset(s);
            return;
        }
        uint16_t avail_idx = le16(b);
        if (avail_idx == s->last_avail_idx)
            return;
        if ((uint16_t)(avail_idx - s->used_idx) > s->queue_num) {
            needs_reset(s);     /* more outstanding than the ring holds */
            return;
        }
        uint32_t slot = s->last_avail_idx & (s->queue_num - 1);
        VirtblkReq *r = &s->req[s->n_inflight];
        if (!dev_mem_read(s->dev, s->avail_addr + 4 + 2 * slot, b, 2) ||
            !parse_chain(s, le16(b), r)) {
            memset(r, 0, sizeof(*r));
            needs_reset(s);
            return;
        }
        int64_t now = vclock_ns(dev_clock(s->dev));
        int64_t start = s->n_inflight ? s->req[s->n_inflight - 1].done_ns : now;
        uint32_t sectors = r->result == RES_OK ? data_bytes(r) / VIRTBLK_SECTOR : 0;
        r->done_ns = (start > now ? start : now) + VIRTBLK_LATENCY_NS +
                     (int64_t)VIRTBLK_NS_PER_SECTOR * sectors;
        s->last_avail_idx++;
        s->n_inflight++;
        if (s->n_inflight == 1)
            arm(s);
    }
}

/* ----------------------------------------------------- completing them */

/* Move the data between the image and the buffers; false on a bus error. */
static bool transfer(VirtblkState *s, const VirtblkReq *r)
{
    uint8_t *disk = s->img.data + (size_t)r->sector * VIRTBLK_SECTOR;
    for (uint32_t i = 0; i < r->nseg; i++) {
        if (r->type == REQ_OUT)     /* the guest's bytes go into the image */
            dev_mark_dirty(s->dev, disk, r->seg_len[i]);
        bool ok = r->type == REQ_IN ? dev_mem_write(s->dev, r->seg_addr[i], disk, r->seg_len[i])
                                    : dev_mem_read(s->dev, r->seg_addr[i], disk, r->seg_len[i]);
        if (!ok)
            return false;
        disk += r->seg_len[i];
    }
    uint32_t end = (uint32_t)(disk - s->img.data);
    if (r->type == REQ_OUT && end > s->img.len) {
        s->img.len = end;
        dev_mark_dirty(s->dev, &s->img.len, sizeof(s->img.len));
    }
    return true;
}

static void complete(VirtblkState *s, const VirtblkReq *r)
{
    uint8_t result = (uint8_t)r->result;
    if (result == RES_OK && r->type != REQ_FLUSH && !transfer(s, r))
        result = RES_IOERR;
    uint32_t written = 1 + (result == RES_OK && r->type == REQ_IN ? data_bytes(r) : 0);
    uint8_t elem[8], idx[2];
    put_le32(elem, r->head);
    put_le32(elem + 4, written);
    uint32_t slot = s->used_idx & (s->queue_num - 1);
    s->used_idx++;
    idx[0] = (uint8_t)s->used_idx;
    idx[1] = (uint8_t)(s->used_idx >> 8);
    if (!dev_mem_write(s->dev, r->status_addr, &result, 1) ||
        !dev_mem_write(s->dev, s->used_addr + 4 + 8 * slot, elem, sizeof(elem)) ||
        !dev_mem_write(s->dev, s->used_addr + 2, idx, sizeof(idx)))
        needs_reset(s);
    s->isr |= ISR_USED;
    virtblk_update_irq(s);
}

static void virtblk_timer_cb(void *opaque)
{
    VirtblkState *s = opaque;
    int64_t now = vclock_ns(dev_clock(s->dev));
    while (s->n_inflight && s->req[0].done_ns <= now) {
        VirtblkReq r = s->req[0];
        s->n_inflight--;
        memmove(&s->req[0], &s->req[1], s->n_inflight * sizeof(s->req[0]));
        memset(&s->req[s->n_inflight], 0, sizeof(s->req[0]));
        complete(s, &r);
    }
    arm(s);
    take_requests(s);
}

/* ------------------------------------------------------------ MMIO */

static uint32_t virtblk_read_reg(VirtblkState *s, uint32_t offset)
{
    switch (offset) {
    case REG_MAGIC: return MAGIC;
    case REG_VERSION: return VERSION;
    case REG_DEVICE_ID: return DEVICE_ID_BLOCK;
    case REG_VENDOR_ID: return VENDOR_ID;
    case REG_DEV_FEATURES: return FEATURE_FLUSH;
    case REG_DRV_FEATURES: return s->driver_features;
    case REG_QUEUE_NUM_MAX: return VIRTBLK_QUEUE_MAX;
    case REG_QUEUE_NUM: return s->queue_num;
    case REG_QUEUE_READY: return s->queue_ready;
    case REG_INT_STATUS: return s->isr;
    case REG_STATUS: return s->status;
    case REG_DESC_LO: return s->desc_addr;
    case REG_AVAIL_LO: return s->avail_addr;
    case REG_USED_LO: return s->used_addr;
    case REG_CAPACITY: return VIRTBLK_SECTORS;
    default: return 0;
    }
}

static void write_status(VirtblkState *s, uint32_t v)
{
    if (v == 0) {                   /* device reset: the image stays */
        queue_reset(s);
        s->status = 0;
        s->driver_features = 0;
        s->queue_num = 0;
        s->desc_addr = s->avail_addr = s->used_addr = 0;
        s->isr = 0;
        virtblk_update_irq(s);
        return;
    }
    v &= ST_ALL & ~(uint32_t)ST_NEEDS_RESET;
    if ((v & ST_FEATURES_OK) && (s->driver_features & ~(uint32_t)FEATURE_FLUSH))
        v &= ~(uint32_t)ST_FEATURES_OK;
    s->status = v | (s->status & ST_NEEDS_RESET);
    take_requests(s);
}

static void write_queue_ready(VirtblkState *s, uint32_t v)
{
    if (!(v & 1)) {
        queue_reset(s);
        return;
    }
    if (s->queue_ready || !valid_queue_num(s->queue_num) || !s->desc_addr || !s->avail_addr ||
        !s->used_addr || (s->desc_addr & 15) || (s->avail_addr & 1) || (s->used_addr & 3))
        return;
    s->queue_ready = 1;
    take_requests(s);
}

static void virtblk_write_reg(VirtblkState *s, uint32_t offset, uint32_t v)
{
    switch (offset) {
    case REG_DRV_FEATURES:
        if (!(s->status & ST_FEATURES_OK))
            s->driver_features = v;
        break;
    case REG_QUEUE_NUM:
        if (!s->queue_ready && valid_queue_num(v))
            s->queue_num = v;
        break;
    case REG_QUEUE_READY: write_queue_ready(s, v); break;
    case REG_QUEUE_NOTIFY: take_requests(s); break;
    case REG_INT_ACK:
        s->isr &= ~v;
        virtblk_update_irq(s);
        break;
    case REG_STATUS: write_status(s, v); break;
    case REG_DESC_LO:
    case REG_AVAIL_LO:
    case REG_USED_LO:
        if (!s->queue_ready)
            *(offset == REG_DESC_LO ? &s->desc_addr : offset == REG_AVAIL_LO ? &s->avail_addr
                                                                             : &s->used_addr) = v;
        break;
    default:
        break;      /* read-only, high address words, unused */
    }
}

static uint32_t virtblk_read(void *opaque, uint32_t offset, unsigned size)
{
    return dev_narrow_read(virtblk_read_reg(opaque, offset & ~3u), offset, size);
}

/* Registers take whole-word writes only, as virtio-mmio's do. */
static void virtblk_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    if (size == 4 && (offset & 3) == 0)
        virtblk_write_reg(opaque, offset, value);
}

static const DevMmioOps virtblk_ops = { virtblk_read, virtblk_write };

/* ------------------------------------------------------------ migration */

/* Before req[] is read: the count is checked against its bound, the size
 * of the queue (which the stream sets earlier), and against the ring
 * indices it must agree with. The engine's capacity check is a safety
 * net, not this bound. */
static bool inflight_ok(void *opaque, int version_id, VmsMsg *why)
{
    const VirtblkState *s = opaque;
    if (s->n_inflight > s->queue_num)
        return vms_fail(why, "n_inflight %u out of range [0, %u] (queue_num)", s->n_inflight,
                        s->queue_num);
    if (s->n_inflight != (uint16_t)(s->last_avail_idx - s->used_idx))
        return vms_fail(why, "n_inflight %u is not last_avail_idx %u - used_idx %u", s->n_inflight,
                        s->last_avail_idx, s->used_idx);
    return true;
}

/* What completing a request relies on: its buffers bound, its sectors in
 * the image, its instant a time the clock can reach. */
static bool req_ok(const VirtblkReq *r, VmsMsg *why, unsigned i)
{
    if (r->nseg > VIRTBLK_MAX_SEGS)
        return vms_fail(why, "req[%u].nseg %u out of range [0, %u]", i, r->nseg, VIRTBLK_MAX_SEGS);
    if (r->result > RES_UNSUPP)
        return vms_fail(why, "req[%u].result %u is not a status (0..2)", i, r->result);
    if (r->result == RES_OK && r->type != REQ_IN && r->type != REQ_OUT && r->type != REQ_FLUSH)
        return vms_fail(why, "req[%u].type %u is accepted but unsupported", i, r->type);
    for (uint32_t k = 0; k < r->nseg; k++)
        if (r->seg_len[k] > VIRTBLK_IMAGE_SIZE)
            return vms_fail(why, "req[%u].seg_len[%u] %u exceeds the image", i, k, r->seg_len[k]);
    if (r->result == RES_OK && r->type != REQ_FLUSH && !req_in_image(r))
        return vms_fail(why, "req[%u].sector %u and %u bytes lie outside the image", i, r->sector,
                        data_bytes(r));
    if (r->done_ns < 0)
        return vms_fail(why, "req[%u].done_ns %lld is negative", i, (long long)r->done_ns);
    return true;
}

static bool virtblk_post_load(void *opaque, int version_id, VmsMsg *why)
{
    VirtblkState *s = opaque;
    if (s->status > ST_ALL)
        return vms_fail(why, "status 0x%x has bits above 8", s->status);
    if (s->queue_num != 0 && !valid_queue_num(s->queue_num))
        return vms_fail(why, "queue_num %u is not a power of two up to %u", s->queue_num,
                        VIRTBLK_QUEUE_MAX);
    if (s->queue_ready > 1)
        return vms_fail(why, "queue_ready %u (0 or 1 expected)", s->queue_ready);
    if (s->queue_ready && s->queue_num == 0)
        return vms_fail(why, "queue_ready is set with queue_num 0");
    if (s->isr > ISR_USED)
        return vms_fail(why, "isr 0x%x has bits other than used-buffer", s->isr);
    /* The count's bound is the VALIDATE entry's; this loop stays inside
     * req[] whatever the count says. */
    for (uint32_t i = 0; i < s->n_inflight && i < VIRTBLK_QUEUE_MAX; i++)
        if (!req_ok(&s->req[i], why, i))
            return false;
    arm(s);
    return true;
}

static const VmsField virtblk_req_fields[] = {
    VMS_UINT32(head, VirtblkReq),
    VMS_UINT32(type, VirtblkReq),
    VMS_UINT32(sector, VirtblkReq),
    VMS_UINT32(result, VirtblkReq),
    VMS_UINT32(status_addr, VirtblkReq),
    VMS_UINT32(nseg, VirtblkReq),
    VMS_UINT32_ARRAY(seg_addr, VirtblkReq, VIRTBLK_MAX_SEGS),
    VMS_UINT32_ARRAY(seg_len, VirtblkReq, VIRTBLK_MAX_SEGS),
    VMS_INT64(done_ns, VirtblkReq),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_virtblk_req = {
    .name = "vmstress-virtblk/req",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = virtblk_req_fields,
};

static const VmsField virtblk_fields[] = {
    VMS_UINT32(status, VirtblkState),
    VMS_UINT32(driver_features, VirtblkState),
    VMS_UINT32(queue_num, VirtblkState),
    VMS_UINT32(queue_ready, VirtblkState),
    VMS_UINT32(desc_addr, VirtblkState),
    VMS_UINT32(avail_addr, VirtblkState),
    VMS_UINT32(used_addr, VirtblkState),
    VMS_UINT32(isr, VirtblkState),
    VMS_UINT16(last_avail_idx, VirtblkState),
    VMS_UINT16(used_idx, VirtblkState),
    VMS_UINT32(n_inflight, VirtblkState),
    VMS_VALIDATE_WHY("n_inflight <= queue_num", inflight_ok),
    VMS_STRUCT_VARRAY_UINT32(req, VirtblkState, n_inflight, VIRTBLK_QUEUE_MAX,
                             vmstate_virtblk_req, VirtblkReq),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_virtblk = {
    .name = "vmstress-virtblk",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = virtblk_fields,
    .post_load = virtblk_post_load,
};

/* Before the buffer is read: its length, whole sectors inside the image. */
static bool image_len_ok(void *opaque, int version_id, VmsMsg *why)
{
    const VirtblkImage *img = opaque;
    if (img->len > VIRTBLK_IMAGE_SIZE || img->len % VIRTBLK_SECTOR)
        return vms_fail(why, "len %u is not a whole number of sectors up to %u", img->len,
                        VIRTBLK_IMAGE_SIZE);
    return true;
}

static const VmsField virtblk_image_fields[] = {
    VMS_UINT32(len, VirtblkImage),
    VMS_VALIDATE_WHY("len: whole sectors inside the image", image_len_ok),
    VMS_VBUFFER_UINT32(data, VirtblkImage, len, VIRTBLK_IMAGE_SIZE),
    VMS_END_OF_LIST(),
};

static const VmsDesc vmstate_virtblk_image = {
    .name = "vmstress-virtblk-image",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = virtblk_image_fields,
};

static const VmsDesc *const virtblk_extra_vmsds[] = { &vmstate_virtblk_image, NULL };

static const DevMember virtblk_image_members[] = {
    /* The VBUFFER's byte count: the VALIDATE entry refuses more than the image. */
    DEV_RANGE(VirtblkImage, len, 0, VIRTBLK_IMAGE_SIZE),
    DEV_MEMBER(VirtblkImage, data),
    DEV_MEMBERS_END,
};

static const DevMember virtblk_members[] = {
    DEV_HOST(VirtblkState, dev, "back-pointer to the machine's device record"),
    DEV_DERIVED_TIMER(VirtblkState, timer, "req, n_inflight",
                      "completion of the oldest request: post_load arms it at req[0].done_ns"),
    DEV_MEMBER(VirtblkState, status),
    DEV_MEMBER(VirtblkState, driver_features),
    /* The ring size bounds every index and count below (post_load). */
    DEV_RANGE(VirtblkState, queue_num, 0, VIRTBLK_QUEUE_MAX),
    DEV_MEMBER(VirtblkState, queue_ready),
    DEV_MEMBER(VirtblkState, desc_addr),
    DEV_MEMBER(VirtblkState, avail_addr),
    DEV_MEMBER(VirtblkState, used_addr),
    DEV_MEMBER(VirtblkState, isr),
    /* Free-running 16-bit ring indices: every value is legal. */
    DEV_RANGE(VirtblkState, last_avail_idx, 0, UINT16_MAX),
    DEV_RANGE(VirtblkState, used_idx, 0, UINT16_MAX),
    /* The count of req[]: the VALIDATE entry refuses more than queue_num. */
    DEV_RANGE(VirtblkState, n_inflight, 0, VIRTBLK_QUEUE_MAX),
    DEV_MEMBER(VirtblkState, req),
    DEV_HOST(VirtblkState, img, "the backing image is its own section (vmstress-virtblk-image) and compared part"),
    DEV_MEMBERS_END,
};

/* ------------------------------------------------------------ binding */

static bool virtblk_realize(Device *dev, void *opaque, VmsMsg *why)
{
    VirtblkState *s = opaque;
    s->dev = dev;
    if (dev_prop(dev, "shared-image", 0) != 0)
        return vms_fail(why, "%s: shared-image=1 (declared shared storage) is not supported yet; "
                        "the image is migrated as a section", dev_name(dev));
    vtimer_init(&s->timer, dev_clock(dev), virtblk_timer_cb, s);
    if (!dev_map_mmio(dev, 0, 0x1000, &virtblk_ops, s))
        return vms_fail(why, "%s: cannot map MMIO", dev_name(dev));
    char part[48];
    snprintf(part, sizeof(part), "%s/image", dev_name(dev));
    /* Tracked memory (device.h): the machine zeroes it at every reset and
     * logs the pages written, so checkpoints compare only those. */
    if (!dev_track_memory(dev, &s->img, sizeof(s->img)))
        return vms_fail(why, "%s: cannot track the image's memory", dev_name(dev));
    if (!dev_register_section(dev, &vmstate_virtblk_image, &s->img, virtblk_image_members,
                              sizeof(VirtblkImage), part))
        return vms_fail(why, "%s: cannot register the image section", dev_name(dev));
    return true;
}

static void virtblk_reset(void *opaque)
{
    VirtblkState *s = opaque;
    write_status(s, 0);
    /* The image, a RAM disk, is tracked memory: the machine zeroes it at
     * power-on and at every system reset (device.h, dev_track_memory). */
}

/* What the register explorer may write (device.h), in a driver's order:
 * stop the queue (the ring addresses are writable only then), set it up,
 * start it, then status, notify and acknowledge. The device reaches guest
 * memory only through dev_mem_read/dev_mem_write, which refuse addresses
 * outside SRAM, so wild ring addresses end in NEEDS_RESET, not a crash. */
static const DevReg virtblk_regs[] = {
    DEV_REG("QueueReady", REG_QUEUE_READY, 4, 0x1u, NULL, 0, "0 stops the queue, dropping requests in flight"),
    DEV_REG("DriverFeatures", REG_DRV_FEATURES, 4, 0xffffffffu, "vmstress-virtblk/driver_features", 0,
            "stored while FEATURES_OK is clear"),
    DEV_REG("QueueNum", REG_QUEUE_NUM, 4, 0xfu, "vmstress-virtblk/queue_num", 0,
            "stored if 1, 2, 4 or 8 while the queue is stopped"),
    DEV_REG("QueueDescLow", REG_DESC_LO, 4, 0xffffffffu, "vmstress-virtblk/desc_addr", 0, NULL),
    DEV_REG("QueueDriverLow", REG_AVAIL_LO, 4, 0xffffffffu, "vmstress-virtblk/avail_addr", 0, NULL),
    DEV_REG("QueueDeviceLow", REG_USED_LO, 4, 0xffffffffu, "vmstress-virtblk/used_addr", 0, NULL),
    DEV_REG("QueueReady", REG_QUEUE_READY, 4, 0x1u, "vmstress-virtblk/queue_ready", 0,
            "1 starts the queue if it is set up and aligned, and takes requests"),
    DEV_REG("Status", REG_STATUS, 4, 0xffu, "vmstress-virtblk/status", 0, "0 resets the device; takes requests"),
    DEV_REG("QueueNotify", REG_QUEUE_NOTIFY, 4, 0xffffffffu, NULL, 0, "takes the available requests"),
    DEV_REG("InterruptACK", REG_INT_ACK, 4, 0xffffffffu, NULL, 0, "clears InterruptStatus bits"),
    DEV_REGS_END,
};

const DevType virtblk_type = {
    .name = "vmstress-virtblk",
    .summary = "vmstress's own virtqueue block device (virtio-mmio style, 64 KiB image, requests in flight)",
    .state_size = sizeof(VirtblkState),
    .vmsd = &vmstate_virtblk,
    .members = virtblk_members,
    .extra_vmsds = virtblk_extra_vmsds,
    .realize = virtblk_realize,
    .reset = virtblk_reset,
    .regs = virtblk_regs,
};
