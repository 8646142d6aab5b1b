/*
 * elf.c - firmware loading: ELF32, little-endian, ARM, PT_LOAD segments
 * placed by physical address (the load address, so .data initialisers land
 * in flash where the start-up code copies them from).
 *
 * The whole file is validated before a byte of flash changes; every
 * rejection is one line naming what is wrong and where.
 */
#include <string.h>

#include "machine_int.h"

#define EI_NIDENT 16
#define ELF_HDR_SIZE 52u
#define ELF_PHDR_SIZE 32u
#define ELFCLASS32 1
#define ELFDATA2LSB 1
#define EM_ARM 40
#define PT_LOAD 1
#define ELF_MAX_PHDRS 64u

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

typedef struct ElfSeg {
    uint32_t offset, paddr, filesz, memsz;
} ElfSeg;

static void read_phdr(const uint8_t *p, ElfSeg *s)
{
    s->offset = rd32(p + 4);
    s->paddr = rd32(p + 12);
    s->filesz = rd32(p + 16);
    s->memsz = rd32(p + 20);
}

bool elf_load_flash(const void *data, size_t len, uint8_t *flash, uint32_t flash_base,
                    uint32_t flash_size, VmsMsg *why)
{
    const uint8_t *b = data;
    if (len < ELF_HDR_SIZE)
        return vms_fail(why, "ELF: truncated: %zu bytes, the header alone needs %u", len, ELF_HDR_SIZE);
    if (memcmp(b, "\x7f" "ELF", 4) != 0)
        return vms_fail(why, "ELF: bad magic at offset 0 (%02x %02x %02x %02x)", b[0], b[1], b[2], b[3]);
    if (b[4] != ELFCLASS32)
        return vms_fail(why, "ELF: class %u at offset 4, want 1 (ELFCLASS32)", b[4]);
    if (b[5] != ELFDATA2LSB)
        return vms_fail(why, "ELF: data encoding %u at offset 5, want 1 (little-endian)", b[5]);
    if (rd16(b + 18) != EM_ARM)
        return vms_fail(why, "ELF: machine %u at offset 18, want 40 (ARM)", rd16(b + 18));
    uint32_t phoff = rd32(b + 28);
    uint16_t phentsize = rd16(b + 42), phnum = rd16(b + 44);
    if (phnum == 0)
        return vms_fail(why, "ELF: no program headers (e_phnum at offset 44 is 0)");
    if (phentsize != ELF_PHDR_SIZE)
        return vms_fail(why, "ELF: program header size %u at offset 42, want %u", phentsize, ELF_PHDR_SIZE);
    if (phnum > ELF_MAX_PHDRS)
        return vms_fail(why, "ELF: %u program headers (offset 44), at most %u supported", phnum, ELF_MAX_PHDRS);
    if (phoff > len || len - phoff < (size_t)phnum * ELF_PHDR_SIZE)
        return vms_fail(why, "ELF: truncated: program headers at offset %u (%u x %u bytes) end past the file (%zu bytes)",
                        phoff, phnum, ELF_PHDR_SIZE, len);

    /* Pass 1: validate every loadable segment. */
    unsigned loadable = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = b + phoff + i * ELF_PHDR_SIZE;
        if (rd32(ph) != PT_LOAD)
            continue;
        ElfSeg s;
        read_phdr(ph, &s);
        if (s.filesz == 0)
            continue;   /* .bss: zeroed by the firmware's start-up */
        if (s.memsz < s.filesz)
            return vms_fail(why, "ELF: segment %u (header at offset %u): file size 0x%x exceeds memory size 0x%x",
                            i, phoff + i * ELF_PHDR_SIZE, s.filesz, s.memsz);
        if (s.offset > len || len - s.offset < s.filesz)
            return vms_fail(why, "ELF: truncated: segment %u data at offset 0x%x (0x%x bytes) ends past the file (%zu bytes)",
                            i, s.offset, s.filesz, len);
        if (s.paddr < flash_base || s.paddr - flash_base > flash_size ||
            flash_size - (s.paddr - flash_base) < s.filesz)
            return vms_fail(why, "ELF: segment %u (load address 0x%08x, 0x%x bytes) is outside flash [0x%08x, 0x%08x)",
                            i, s.paddr, s.filesz, flash_base, flash_base + flash_size);
        loadable++;
    }
    if (loadable == 0)
        return vms_fail(why, "ELF: no loadable segment with data among %u program headers", phnum);

    /* Pass 2: erase and copy. */
    memset(flash, 0xff, flash_size);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = b + phoff + i * ELF_PHDR_SIZE;
        ElfSeg s;
        read_phdr(ph, &s);
        if (rd32(ph) == PT_LOAD && s.filesz)
            memcpy(flash + (s.paddr - flash_base), b + s.offset, s.filesz);
    }
    return true;
}
