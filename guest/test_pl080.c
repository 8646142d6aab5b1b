/* test_pl080.c - runs the pl080 driver's self-test; the exit code is its result. */
#include "pl011.h"
#include "pl080.h"

int main(void)
{
    pl011_init();
    return pl080_selftest();
}
