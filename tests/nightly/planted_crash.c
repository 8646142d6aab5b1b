/*
 * planted_crash.c - a libFuzzer target with two planted memory bugs, for the
 * nightly tests: libFuzzer finds both within seconds, many inputs reach
 * each, and the nightly must file them as exactly two findings (one per
 * crash signature), each with a minimised reproducer.
 *
 * Deliberately tiny and independent of the emulator, so the tests need only
 * clang's libFuzzer runtime, not a whole fuzz build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bug 1: an index taken from the input, unchecked (heap overflow read). */
static int read_slot(const uint8_t *data, size_t size)
{
    uint8_t *table = malloc(4);
    memset(table, 0, 4);
    int v = table[data[1] % 64 + 4];
    free(table);
    return v + (int)size;
}

/* Bug 2: a use after free when the input asks for it. */
static int stale_buffer(const uint8_t *data)
{
    uint8_t *p = malloc(8);
    memcpy(p, "nightly", 8);
    free(p);
    return p[data[1] & 7];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (data[0] == 'I')
        return read_slot(data, size) == -1;
    if (data[0] == 'U')
        return stale_buffer(data) == -1;
    return 0;
}
