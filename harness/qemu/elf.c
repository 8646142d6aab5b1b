/*
 * elf.c - one symbol's address from an ELF32 file (the stop point).
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu.h"
#include "savevm.h"

static uint8_t *slurp(const char *path, size_t *len, QdrvErr *e)
{
    uint8_t *b;
    VmsMsg why;
    if (!vms_read_input(path, 64u << 20, &b, len, &why)) {
        snprintf(e->text, sizeof(e->text), "firmware %s", why.text);
        return NULL;
    }
    return b;
}

bool qdrv_elf_symbol(const char *path, const char *name, uint32_t *addr, QdrvErr *e)
{
    size_t len;
    uint8_t *b = slurp(path, &len, e);
    if (!b)
        return false;
    bool found = false;
    const Elf32_Ehdr *h = (const Elf32_Ehdr *)b;
    if (len < sizeof(*h) || memcmp(h->e_ident, ELFMAG, SELFMAG) || h->e_ident[EI_CLASS] != ELFCLASS32 ||
        h->e_shentsize != sizeof(Elf32_Shdr) || h->e_shoff > len ||
        (size_t)h->e_shnum * sizeof(Elf32_Shdr) > len - h->e_shoff) {
        snprintf(e->text, sizeof(e->text), "firmware %s: not a little-endian ELF32 file with sections", path);
        goto out;
    }
    const Elf32_Shdr *sh = (const Elf32_Shdr *)(b + h->e_shoff);
    for (unsigned i = 0; i < h->e_shnum && !found; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= h->e_shnum)
            continue;
        const Elf32_Shdr *str = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset || str->sh_offset > len ||
            str->sh_size > len - str->sh_offset)
            break;
        const Elf32_Sym *sym = (const Elf32_Sym *)(b + sh[i].sh_offset);
        for (size_t k = 0; k < sh[i].sh_size / sizeof(Elf32_Sym); k++) {
            int type = ELF32_ST_TYPE(sym[k].st_info);
            if (sym[k].st_name >= str->sh_size || (type != STT_FUNC && type != STT_OBJECT))
                continue;
            const char *s = (const char *)b + str->sh_offset + sym[k].st_name;
            if (strnlen(s, str->sh_size - sym[k].st_name) < str->sh_size - sym[k].st_name && !strcmp(s, name)) {
                *addr = type == STT_FUNC ? sym[k].st_value & ~1u : sym[k].st_value;
                found = true;
                break;
            }
        }
    }
    if (!found)
        snprintf(e->text, sizeof(e->text), "firmware %s: no symbol '%s'", path, name);
out:
    free(b);
    return found;
}
