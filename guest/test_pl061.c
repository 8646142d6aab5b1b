/* test_pl061.c - runs the pl061 driver's self-test; exit code 0 on pass. */
#include "pl011.h"
#include "pl061.h"
#include "rt.h"

int main(void)
{
    pl011_init();       /* the console */
    return pl061_selftest();
}
