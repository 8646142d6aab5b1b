/* test_pl022.c - runs the pl022 (and SPI flash) driver's self-test; the exit code is its result. */
#include "pl022.h"

int main(void)
{
    return pl022_selftest();
}
