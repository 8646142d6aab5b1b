/* mutate.c - value choices of structure-aware mutation; see mutate.h. */
#include "mutate.h"

uint64_t vmut_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t vmut_below(uint64_t *s, uint64_t n) { return n ? vmut_rng(s) % n : 0; }

uint64_t vmut_value(uint64_t *s, uint64_t old, unsigned size, uint32_t cap)
{
    switch (vmut_below(s, cap ? 12 : 10)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return ~0ull;
    case 3: return 0x7fffffffu;
    case 4: return 0xffffffffu;
    case 5: return 0x80000000u;
    case 6: return old ^ (1ull << vmut_below(s, size * 8u));
    case 7: return old + 1;
    case 8: return old - 1;
    case 9: return old + vmut_below(s, 64) - 32;
    case 10: return cap;
    default: return (uint64_t)cap + 1;
    }
}
