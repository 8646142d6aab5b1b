/* test_watchdog.c - runs the watchdog driver's self-test; the exit code is its result. */
#include "watchdog.h"

int main(void)
{
    return watchdog_selftest();
}
