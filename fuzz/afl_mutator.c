/*
 * afl_mutator.c - the structure-aware mutator as an AFL++ custom mutator
 * (AFL_CUSTOM_MUTATOR_LIBRARY=libfuzz_afl_mutator.so). Inputs that do not
 * load are left to AFL++'s own havoc stage: the fallback here only flips a
 * byte, and AFL_CUSTOM_MUTATOR_ONLY is not set, so havoc still runs.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

typedef struct AflState {
    uint8_t *buf;
    size_t cap;
    unsigned seed;
} AflState;

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    AflState *s = calloc(1, sizeof(*s));
    if (s)
        s->seed = seed;
    return s;
}

static size_t flip_one(uint8_t *data, size_t size, size_t max, void *opaque)
{
    AflState *s = opaque;
    (void)max;
    if (size)
        data[s->seed % size] ^= (uint8_t)(1u << (s->seed % 8));
    return size;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
    AflState *s = data;
    (void)add_buf;
    (void)add_buf_size;
    size_t need = max_size > buf_size ? max_size : buf_size;
    if (need > s->cap) {
        uint8_t *p = realloc(s->buf, need);
        if (!p)
            return 0;
        s->buf = p;
        s->cap = need;
    }
    memcpy(s->buf, buf, buf_size);
    s->seed = s->seed * 1103515245u + 12345u;
    size_t n = fz_mutate_stream(s->buf, buf_size, max_size, s->seed, flip_one, s);
    *out_buf = s->buf;
    return n;
}

void afl_custom_deinit(void *data)
{
    AflState *s = data;
    if (s)
        free(s->buf);
    free(s);
}
