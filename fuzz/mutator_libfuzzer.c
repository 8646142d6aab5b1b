/* mutator_libfuzzer.c - libFuzzer's hook for the structure-aware mutator (fuzz.h). */
#include "fuzz.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static size_t bytes(uint8_t *data, size_t size, size_t max, void *opaque)
{
    (void)opaque;
    return LLVMFuzzerMutate(data, size, max);
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    return fz_mutate_stream(data, size, max_size, seed, bytes, NULL);
}
