/* fuzz_util.c - small helpers shared by the targets and fuzzgen (no machine state). */
#include <string.h>

#include "fuzz.h"

uint64_t fz_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const char *fz_name_suffix(const char *argv0, const char *prefix)
{
    if (!argv0)
        return NULL;
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    size_t n = strlen(prefix);
    return strncmp(base, prefix, n) == 0 && base[n] ? base + n : NULL;
}
