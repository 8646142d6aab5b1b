/* test_pl031.c - runs the pl031 driver's self-test; exit code 0 on pass. */
#include "pl011.h"
#include "pl031.h"
#include "rt.h"

int main(void)
{
    pl011_init();       /* the console */
    return pl031_selftest();
}
