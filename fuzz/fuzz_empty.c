/* fuzz_empty.c - a target that does nothing: the engine's own cost per
 * execution, the baseline bench/bench_fuzz.sh prints beside fuzz_load. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
