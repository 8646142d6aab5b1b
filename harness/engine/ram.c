/*
 * ram.c - QEMU's iterative RAM section, written and read (see savevm.h).
 *
 * Layout (QEMU 7.2 migration/ram.c, section "ram" instance 0 version 4):
 *   START  full header | be64 (total bytes | MEM_SIZE) | per block: u8 len,
 *          name, be64 length | be64 EOS | footer
 *   PART   0x02 | be32 section id | page records | be64 EOS | footer
 *   END    0x03 | be32 section id | page records | be64 EOS | footer
 * A page record is be64 (offset in its block | flags), then the block's
 * u8-counted name unless CONTINUE says "the block of the record before",
 * then the page (PAGE) or one fill byte (ZERO: a page of that byte). The
 * flags live in the low bits of the offset, which is page-aligned.
 */
#include "savevm.h"

#include <stdarg.h>
#include <string.h>

/* ------------------------------------------------------------ save */

static bool is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static bool put_name(VmsOut *out, const char *name)
{
    size_t n = strlen(name);
    return vms_out_u8(out, (uint8_t)n) && vms_out_bytes(out, name, n);
}

static bool put_footer(VmsOut *out, uint32_t sid)
{
    return vms_out_be64(out, VMS_RAM_EOS) && vms_out_u8(out, VMS_SEC_FOOTER) &&
           vms_out_be32(out, sid);
}

bool vms_ram_start(const VmsRam *ram, VmsOut *out)
{
    return vms_out_u8(out, VMS_SEC_START) && vms_out_be32(out, ram->section_id) &&
           put_name(out, VMS_RAM_IDSTR) && vms_out_be32(out, 0) &&
           vms_out_be32(out, VMS_RAM_VERSION) &&
           vms_out_be64(out, ram->size | VMS_RAM_MEM_SIZE) && put_name(out, ram->block) &&
           vms_out_be64(out, ram->size) && put_footer(out, ram->section_id);
}

size_t vms_ram_page_cost(const VmsRam *ram, uint64_t page)
{
    return 8 + (is_zero(ram->mem + page * ram->page_size, ram->page_size) ? 1 : ram->page_size);
}

bool vms_ram_pages(const VmsRam *ram, VmsOut *out, const uint8_t *bitmap, bool end)
{
    bool ok = vms_out_u8(out, end ? VMS_SEC_END : VMS_SEC_PART) &&
              vms_out_be32(out, ram->section_id);
    bool named = false;
    for (uint64_t p = 0; ok && p < ram->size / ram->page_size; p++) {
        if (!(bitmap[p / 8] >> (p % 8) & 1))
            continue;
        const uint8_t *mem = ram->mem + p * ram->page_size;
        bool zero = is_zero(mem, ram->page_size);
        uint64_t rec = p * ram->page_size | (zero ? VMS_RAM_ZERO : VMS_RAM_PAGE) |
                       (named ? VMS_RAM_CONTINUE : 0);
        ok = vms_out_be64(out, rec) && (named || put_name(out, ram->block)) &&
             (zero ? vms_out_u8(out, 0) : vms_out_bytes(out, mem, ram->page_size));
        named = true;
    }
    return ok && put_footer(out, ram->section_id);
}

/* ------------------------------------------------------------ load */

static bool short_read(VmsIn *in, VmsError *e, const char *what)
{
    return vms_stream_fail(e, VMS_ERR_TRUNCATED, VMS_RAM_IDSTR, 0, in->fail_pos, "stream ends inside %s", what);
}

/* A u8-counted block name that must be ours. */
static bool get_block(const VmsRam *ram, VmsIn *in, VmsError *e)
{
    size_t at = in->pos;
    uint8_t n;
    char name[256];
    if (!vms_in_u8(in, &n) || !vms_in_bytes(in, name, n))
        return short_read(in, e, "a RAM block name");
    name[n] = 0;
    if (strlen(name) != n || strcmp(name, ram->block))
        return vms_stream_fail(e, VMS_ERR_UNKNOWN, VMS_RAM_IDSTR, 0, at, "unknown RAM block '%s' (this machine has '%s')",
                        name, ram->block);
    return true;
}

/* START's body: the block list, which must be exactly this machine's. */
static bool load_block_list(const VmsRam *ram, VmsIn *in, uint64_t total, size_t at, VmsError *e)
{
    uint64_t len;
    if (total != ram->size)
        return vms_stream_fail(e, VMS_ERR_RANGE, VMS_RAM_IDSTR, 0, at, "RAM total of 0x%llx bytes, this machine has 0x%llx",
                        (unsigned long long)total, (unsigned long long)ram->size);
    if (!get_block(ram, in, e))
        return false;
    size_t lpos = in->pos;
    if (!vms_in_be64(in, &len))
        return short_read(in, e, "a RAM block length");
    if (len != ram->size)
        return vms_stream_fail(e, VMS_ERR_RANGE, VMS_RAM_IDSTR, 0, lpos, "RAM block '%s' of 0x%llx bytes, this machine's has 0x%llx",
                        ram->block, (unsigned long long)len, (unsigned long long)ram->size);
    return true;
}

static bool load_page(VmsRam *ram, VmsIn *in, VmsRamLoad *st, uint64_t addr, unsigned flags,
                      size_t at, VmsError *e)
{
    if (!(flags & VMS_RAM_CONTINUE)) {
        if (!get_block(ram, in, e))
            return false;
        st->have_block = true;
    } else if (!st->have_block) {
        return vms_stream_fail(e, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, at, "CONTINUE page record with no block named before it");
    }
    if (addr >= ram->size)
        return vms_stream_fail(e, VMS_ERR_RANGE, VMS_RAM_IDSTR, 0, at, "page at 0x%llx outside RAM block '%s' (0x%llx bytes)",
                        (unsigned long long)addr, ram->block, (unsigned long long)ram->size);
    uint8_t *dst = ram->mem + addr;
    if (flags & VMS_RAM_ZERO) {
        uint8_t fill;
        if (!vms_in_u8(in, &fill))
            return short_read(in, e, "a zero page's fill byte");
        memset(dst, fill, ram->page_size);
        return true;
    }
    if (!vms_in_bytes(in, dst, ram->page_size))
        return short_read(in, e, "a RAM page");
    return true;
}

bool vms_ram_load_chunk(VmsRam *ram, VmsIn *in, VmsRamLoad *st, bool start, VmsError *e)
{
    const unsigned known = VMS_RAM_ZERO | VMS_RAM_MEM_SIZE | VMS_RAM_PAGE | VMS_RAM_EOS |
                           VMS_RAM_CONTINUE;
    uint64_t mask = ram->page_size - 1;
    for (;;) {
        size_t at = in->pos;
        uint64_t v;
        if (!vms_in_be64(in, &v))
            return short_read(in, e, "a RAM record (no EOS)");
        unsigned flags = (unsigned)(v & mask);
        uint64_t addr = v & ~mask;
        if (flags & ~known)
            return vms_stream_fail(e, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, at, "RAM record flags 0x%x not supported "
                            "(XBZRLE, compression, hooks, multifd or unknown)", flags & ~known);
        if (flags & VMS_RAM_MEM_SIZE) {
            if (flags != VMS_RAM_MEM_SIZE || !start || st->sized)
                return vms_stream_fail(e, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, at, "RAM block list %s",
                                flags != VMS_RAM_MEM_SIZE ? "with other flags"
                                : !start ? "outside the START chunk" : "sent twice");
            if (!load_block_list(ram, in, addr, at, e))
                return false;
            st->sized = true;
        } else if (flags & VMS_RAM_EOS) {
            if (flags != VMS_RAM_EOS || addr)
                return vms_stream_fail(e, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, at, "RAM end-of-section record with flags 0x%x "
                                "address 0x%llx", flags, (unsigned long long)addr);
            if (!st->sized)
                return vms_stream_fail(e, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, at, "RAM section without its block list");
            return true;
        } else if (!!(flags & VMS_RAM_ZERO) + !!(flags & VMS_RAM_PAGE) != 1) {
            return vms_stream_fail(e, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, at, "RAM record flags 0x%x: neither a page nor a zero page",
                            flags);
        } else if (!st->sized) {
            return vms_stream_fail(e, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, at, "RAM page before the block list");
        } else if (!load_page(ram, in, st, addr, flags, at, e)) {
            return false;
        }
    }
}
