/*
 * all.c - the default stress workload: every device driver's interrupt-driven
 * activity at once, plus a little computation between interrupts, so that
 * checkpoints land inside handlers, with FIFO bytes and timers pending.
 * Prints a running checksum on the UART; runs until the host stops it.
 */
#include "board.h"
#include "pl011.h"
#include "pl031.h"
#include "pl061.h"
#include "sp804.h"
#include "watchdog.h"
#include "rt.h"

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u; /* FNV-1a step */
    return h;
}

static uint32_t work[64];

static uint32_t compute(uint32_t seed)
{
    /* Keep registers and SRAM busy between interrupts. */
    uint32_t acc = seed;
    for (unsigned i = 0; i < 64; i++) {
        acc = acc * 1103515245u + 12345u;
        work[i] ^= acc >> 7;
        acc += work[(i * 7) & 63];
    }
    return acc;
}

int main(void)
{
    rt_puts("all: start\n");
    pl011_workload_init();
    pl031_workload_init();
    pl061_workload_init();
    sp804_workload_init();
    watchdog_workload_init();
    irq_enable();

    uint32_t sum = 0x811c9dc5u;
    for (uint32_t it = 1;; it++) {
        sum = mix(sum, pl011_workload_poll());
        sum = mix(sum, pl031_workload_poll());
        sum = mix(sum, pl061_workload_poll());
        sum = mix(sum, sp804_workload_poll());
        sum = mix(sum, watchdog_workload_poll());
        sum = mix(sum, compute(sum));
        if ((it & 255) == 0)
            rt_printf("all: %u %x\n", it, sum);
        if ((it & 15) == 0)
            wfi(); /* now and then, sleep until the next interrupt */
    }
}
