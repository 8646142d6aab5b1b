/* fuzz_util.c - small helpers shared by the targets and fuzzgen (no machine state). */
#include <string.h>

#include "fuzz.h"
#include "mutate.h"

uint64_t fz_rng(uint64_t *s) { return vmut_rng(s); }

const char *fz_name_suffix(const char *argv0, const char *prefix)
{
    if (!argv0)
        return NULL;
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    size_t n = strlen(prefix);
    return strncmp(base, prefix, n) == 0 && base[n] ? base + n : NULL;
}
