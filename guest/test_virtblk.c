/* test_virtblk.c - runs the virtblk driver's self-test; the exit code is its result. */
#include "virtblk.h"

int main(void)
{
    return virtblk_selftest();
}
