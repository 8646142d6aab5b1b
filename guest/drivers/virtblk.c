/*
 * virtblk.c - guest driver and self-test for vmstress-virtblk.
 *
 * The queue has 8 entries: two request slots of four descriptors each
 * (header, two data buffers, status byte; a flush skips the data). Data
 * for writes comes straight from flash (the firmware's own bytes, a window
 * chosen by sector and generation), so a write needs no RAM buffer and a
 * read back can be compared with the same window. Completions arrive by
 * interrupt: the handler acknowledges the device, walks the used ring and
 * hands each finished slot to whoever submitted it.
 */
#include "virtblk.h"

#include "rt.h"

#define V_MAGIC 0x000u
#define V_VERSION 0x004u
#define V_DEVICE_ID 0x008u
#define V_VENDOR_ID 0x00cu
#define V_DEV_FEATURES 0x010u
#define V_DRV_FEATURES 0x020u
#define V_QUEUE_NUM_MAX 0x034u
#define V_QUEUE_NUM 0x038u
#define V_QUEUE_READY 0x044u
#define V_QUEUE_NOTIFY 0x050u
#define V_INT_STATUS 0x060u
#define V_INT_ACK 0x064u
#define V_STATUS 0x070u
#define V_DESC_LO 0x080u
#define V_AVAIL_LO 0x090u
#define V_USED_LO 0x0a0u
#define V_CAPACITY 0x100u

#define MAGIC 0x74726976u
#define F_FLUSH (1u << 9)
#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u
#define S_NEEDS_RESET 0x40u
#define D_NEXT 1u
#define D_WRITE 2u
#define T_IN 0u
#define T_OUT 1u
#define T_FLUSH 4u

#define QN 8u
#define SLOTS 2u
#define SECTOR 512u
#define HALF (SECTOR / 2u)
#define FLASH_WINDOWS 0x100u    /* windows of flash at 0x100 + k * 256, k < 8 */

typedef struct Desc {
    uint32_t addr_lo, addr_hi, len;
    uint16_t flags, next;
} Desc;

typedef struct Hdr {
    uint32_t type, reserved, sector_lo, sector_hi;
} Hdr;

/* Everything the device reads or writes, laid out as the rings require
 * (descriptors 16-byte aligned, used ring 4-byte aligned). */
typedef struct Area {
    Desc desc[QN];
    uint16_t avail_flags, avail_idx, avail_ring[QN];
    uint16_t used_flags, used_idx;
    struct {
        uint32_t id, len;
    } used_ring[QN];
    Hdr hdr[SLOTS];
    uint8_t status[SLOTS];
    uint8_t pad[2];
    uint8_t buf[SLOTS][SECTOR];     /* read destinations */
} Area;

static volatile Area *q;
static uint16_t last_used;
static volatile uint32_t irqs;
static volatile uint8_t done[SLOTS];
static volatile uint32_t used_len[SLOTS];
static void (*on_done)(unsigned slot);

static uint32_t reg(uint32_t off) { return mmio_read32(VIRTBLK_BASE + off); }
static void set_reg(uint32_t off, uint32_t v) { mmio_write32(VIRTBLK_BASE + off, v); }

int virtblk_present(void)
{
    /* Probed: machine types before 1.2 have nothing at this address. */
    uint32_t magic;
    return rt_probe_read32(VIRTBLK_BASE + V_MAGIC, &magic) && magic == MAGIC &&
           reg(V_DEVICE_ID) == 2;
}

IRQ_HANDLER(VIRTBLK_IRQ)
{
    set_reg(V_INT_ACK, reg(V_INT_STATUS));
    irqs++;
    while (q && last_used != q->used_idx) {
        unsigned slot = q->used_ring[last_used % QN].id / 4u;
        uint32_t len = q->used_ring[last_used % QN].len;
        last_used++;
        if (slot < SLOTS) {
            used_len[slot] = len;
            done[slot] = 1;
            if (on_done)
                on_done(slot);
        }
    }
}

/* A 512-byte window of the firmware's own flash: what sector s holds
 * after a write of generation gen. */
static const volatile uint8_t *window(uint32_t s, uint32_t gen)
{
    return (const volatile uint8_t *)(FLASH_WINDOWS + ((s * 5u + gen) & 7u) * HALF);
}

/* Reset the device, negotiate features (flush only), set up the queue in a
 * and start it. 0 on success. */
static int setup(volatile Area *a)
{
    set_reg(V_STATUS, 0);
    set_reg(V_STATUS, S_ACK | S_DRIVER);
    if (!(reg(V_DEV_FEATURES) & F_FLUSH))
        return 1;
    set_reg(V_DRV_FEATURES, F_FLUSH);
    set_reg(V_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(reg(V_STATUS) & S_FEATURES_OK))
        return 2;
    uint8_t *p = (uint8_t *)a;
    for (uint32_t i = 0; i < sizeof(Area); i++)
        p[i] = 0;
    q = a;
    last_used = 0;
    set_reg(V_QUEUE_NUM, QN);
    set_reg(V_DESC_LO, (uint32_t)a->desc);
    set_reg(V_AVAIL_LO, (uint32_t)&a->avail_flags);
    set_reg(V_USED_LO, (uint32_t)&a->used_flags);
    set_reg(V_QUEUE_READY, 1);
    if (reg(V_QUEUE_READY) != 1)
        return 3;
    set_reg(V_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    nvic_enable(VIRTBLK_IRQ);
    return 0;
}

static void set_desc(unsigned i, uint32_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    q->desc[i].addr_lo = addr;
    q->desc[i].addr_hi = 0;
    q->desc[i].len = len;
    q->desc[i].flags = flags;
    q->desc[i].next = next;
}

/*
 * Slot `slot` sends one request: header, then `nseg` data buffers of HALF
 * bytes (seg[k]), then the status byte. Reads make the buffers
 * device-writable. The chain starts at descriptor 4 * slot.
 */
static void submit(unsigned slot, uint32_t type, uint32_t sector, const uint32_t *seg, unsigned nseg)
{
    unsigned d = 4u * slot;
    q->hdr[slot].type = type;
    q->hdr[slot].reserved = 0;
    q->hdr[slot].sector_lo = sector;
    q->hdr[slot].sector_hi = 0;
    q->status[slot] = 0xff;
    set_desc(d, (uint32_t)&q->hdr[slot], sizeof(Hdr), D_NEXT, (uint16_t)(d + 1));
    for (unsigned k = 0; k < nseg; k++)
        set_desc(d + 1 + k, seg[k], HALF, (uint16_t)(D_NEXT | (type == T_IN ? D_WRITE : 0)),
                 (uint16_t)(d + 2 + k));
    set_desc(d + 1 + nseg, (uint32_t)&q->status[slot], 1, D_WRITE, 0);
    done[slot] = 0;
    q->avail_ring[q->avail_idx % QN] = (uint16_t)d;
    dsb();
    q->avail_idx++;
    dsb();
    set_reg(V_QUEUE_NOTIFY, 0);
}

static void submit_write(unsigned slot, uint32_t sector, uint32_t gen)
{
    const volatile uint8_t *w = window(sector, gen);
    uint32_t seg[2] = { (uint32_t)w, (uint32_t)w + HALF };
    submit(slot, T_OUT, sector, seg, 2);
}

static void submit_read(unsigned slot, uint32_t sector)
{
    uint32_t seg[2] = { (uint32_t)q->buf[slot], (uint32_t)q->buf[slot] + HALF };
    submit(slot, T_IN, sector, seg, 2);
}

/* Bytes of buf[slot] that differ from what a write of (sector, gen) stored. */
static uint32_t mismatches(unsigned slot, uint32_t sector, uint32_t gen)
{
    const volatile uint8_t *w = window(sector, gen);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < SECTOR; i++)
        bad += q->buf[slot][i] != w[i];
    return bad;
}

/* ------------------------------------------------------------ self-test */

static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        rt_printf("virtblk: FAIL %s: got 0x%08x want 0x%08x\n", what, got, want);
        failures++;
    }
}

static void wait_slot(unsigned slot, const char *what)
{
    for (uint32_t spins = 0; spins < 200000u; spins++)
        if (done[slot])
            return;
    rt_printf("virtblk: FAIL %s: no completion\n", what);
    failures++;
}

/* One request on slot 0, waited for; checks its status byte and used length. */
static void one(const char *what, uint32_t type, uint32_t sector, unsigned nseg, uint8_t status,
                uint32_t len)
{
    if (type == T_OUT)
        submit_write(0, sector, 0);
    else if (type == T_IN)
        submit_read(0, sector);
    else
        submit(0, type, sector, 0, nseg);
    wait_slot(0, what);
    check(what, q->status[0], status);
    check(what, used_len[0], len);
}

static void test_registers(void)
{
    check("magic", reg(V_MAGIC), MAGIC);
    check("version", reg(V_VERSION), 2);
    check("device id", reg(V_DEVICE_ID), 2);
    check("vendor id", reg(V_VENDOR_ID), 0x54534d56u);
    check("features", reg(V_DEV_FEATURES), F_FLUSH);
    check("queue num max", reg(V_QUEUE_NUM_MAX), QN);
    check("capacity", reg(V_CAPACITY), 128);
    check("reset status", reg(V_STATUS), 0);
    check("reset queue ready", reg(V_QUEUE_READY), 0);
    check("reset isr", reg(V_INT_STATUS), 0);
    /* A feature the device does not offer: FEATURES_OK does not stick. */
    set_reg(V_STATUS, S_ACK | S_DRIVER);
    set_reg(V_DRV_FEATURES, F_FLUSH | 1u);
    set_reg(V_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    check("features refused", reg(V_STATUS), S_ACK | S_DRIVER);
    /* Queue sizes other than powers of two up to 8 are ignored; the queue
     * does not start without its ring addresses. */
    set_reg(V_QUEUE_NUM, 3);
    check("queue num 3", reg(V_QUEUE_NUM), 0);
    set_reg(V_QUEUE_NUM, 4);
    set_reg(V_QUEUE_READY, 1);
    check("ready without rings", reg(V_QUEUE_READY), 0);
    set_reg(V_STATUS, 0);
    check("reset by status 0", reg(V_QUEUE_NUM), 0);
}

int virtblk_selftest(void)
{
    static Area area __attribute__((aligned(16)));
    failures = 0;
    irq_enable();
    test_registers();
    if (setup(&area) != 0) {
        rt_printf("virtblk: FAIL setup\n");
        return 1;
    }
    /* Write from flash, read back, compare; an unwritten sector reads zero. */
    one("write 5", T_OUT, 5, 2, 0, 1);
    one("read 5", T_IN, 5, 2, 0, 1 + SECTOR);
    check("read 5 data", mismatches(0, 5, 0), 0);
    for (uint32_t i = 0; i < SECTOR; i++)
        q->buf[0][i] = 0xaa;
    one("read 0", T_IN, 0, 2, 0, 1 + SECTOR);
    uint32_t nonzero = 0;
    for (uint32_t i = 0; i < SECTOR; i++)
        nonzero += q->buf[0][i] != 0;
    check("read 0 data", nonzero, 0);
    rt_printf("virtblk: write, read back and zero sector checked\n");
    /* Two requests in flight at once, completed in order. */
    submit_write(0, 10, 1);
    submit_write(1, 11, 2);
    check("in flight", done[0] + done[1], 0);
    wait_slot(1, "write 11");
    check("write 10 first", done[0], 1);
    submit_read(0, 10);
    submit_read(1, 11);
    wait_slot(1, "read 11");
    check("read 10 data", mismatches(0, 10, 1), 0);
    check("read 11 data", mismatches(1, 11, 2), 0);
    rt_printf("virtblk: two requests in flight checked\n");
    /* Every sector but 0, two at a time: written, then read back. */
    for (uint32_t s = 1; s < 128; s += 2) {
        uint32_t t = s + 1 < 128 ? s + 1 : 1;
        submit_write(0, s, 3);
        submit_write(1, t, 3);
        wait_slot(1, "write pair");
        submit_read(0, s);
        submit_read(1, t);
        wait_slot(1, "read pair");
        check("sector data", mismatches(0, s, 3) + mismatches(1, t, 3), 0);
    }
    rt_printf("virtblk: every sector written and read back\n");
    /* Errors: past the end, an unknown type; a flush succeeds. */
    one("read 128", T_IN, 128, 2, 1, 1);
    one("type 7", 7, 0, 0, 2, 1);
    one("flush", T_FLUSH, 0, 0, 0, 1);
    check("isr acked", reg(V_INT_STATUS), 0);
    rt_printf("virtblk: error status and flush checked (%u interrupts)\n", (unsigned)irqs);
    /* A malformed chain (a header the device may write) stops the queue. */
    set_desc(0, (uint32_t)&q->hdr[0], sizeof(Hdr), D_NEXT | D_WRITE, 3);
    set_desc(3, (uint32_t)&q->status[0], 1, D_WRITE, 0);
    q->avail_ring[q->avail_idx % QN] = 0;
    q->avail_idx++;
    set_reg(V_QUEUE_NOTIFY, 0);
    check("needs reset", reg(V_STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);
    set_reg(V_STATUS, 0);
    check("reset after needs reset", reg(V_STATUS) | reg(V_QUEUE_READY), 0);
    nvic_disable(VIRTBLK_IRQ);
    q = 0;
    rt_printf("virtblk: selftest %s (%u failures)\n", failures ? "FAILED" : "passed", (unsigned)failures);
    return failures ? 1 : 0;
}

/* ------------------------------------------------------------ workload */

/* Slot 0 writes a sector and reads it back (sectors 1..63); slot 1 writes
 * and flushes (sectors 64..127). Each step is submitted from the interrupt
 * handler that saw the previous one complete, so both slots are nearly
 * always in flight. */
static uint32_t wl_sector[SLOTS], wl_gen, wl_phase[SLOTS], wl_completed, wl_errors;

static void wl_step(unsigned slot)
{
    wl_completed++;
    if (q->status[slot] != 0) {
        rt_printf("virtblk: FAIL status %u on slot %u\n", q->status[slot], slot);
        wl_errors++;
    }
    uint32_t s = wl_sector[slot];
    if (wl_phase[slot] == 0) {
        wl_phase[slot] = 1;
        if (slot == 0) {
            submit_read(0, s);
        } else {
            submit(1, T_FLUSH, 0, 0, 0);
        }
        return;
    }
    if (slot == 0 && mismatches(0, s, wl_gen)) {
        rt_printf("virtblk: FAIL sector %u read back differs\n", (unsigned)s);
        wl_errors++;
    }
    wl_phase[slot] = 0;
    s = s + 1 == 64u * (slot + 1) ? 64u * slot + 1 : s + 1;
    if (slot == 0 && s == 1)
        wl_gen++;
    wl_sector[slot] = s;
    submit_write(slot, s, wl_gen);
}

void virtblk_workload_init(void)
{
    extern uint8_t __sram_used_end[], __stack_top[];
    /* The area goes in free SRAM above the program's data, with room for
     * the stack left; a small board has none to spare. */
    uint32_t base = ((uint32_t)__sram_used_end + 15u) & ~15u;
    if (!virtblk_present() || (uint32_t)__stack_top < base + sizeof(Area) + 4096u)
        return;
    if (setup((volatile Area *)base) != 0) {
        wl_errors++;
        return;
    }
    on_done = wl_step;
    wl_sector[0] = 1;
    wl_sector[1] = 64;
    submit_write(0, 1, 0);
    submit_write(1, 64, 0);
}

uint32_t virtblk_workload_poll(void)
{
    return wl_completed + (wl_errors << 24);
}
