/* test_sp804.c - runs the sp804 driver's self-test; the exit code is its result. */
#include "sp804.h"

int main(void)
{
    return sp804_selftest();
}
