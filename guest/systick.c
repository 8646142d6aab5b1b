/*
 * systick.c - SysTick interrupts preempting real work.
 *
 * The handler counts ticks. main first computes (so interrupts land in the
 * middle of ordinary code, with live registers to stack and restore), then
 * sleeps with WFI until the rest of the ticks arrive, and prints the count.
 * Needs only the core, so it prints by semihosting and runs on any board.
 */
#include "rt.h"

#define SYSTICK_TICKS 20u
#define SYSTICK_RELOAD 4999u        /* a tick every 5000 cycles (50 us) */

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

int main(void)
{
    rt_console_semihost();
    systick_start(SYSTICK_RELOAD);

    /* Busy phase: a running checksum over work that spans several ticks. */
    uint32_t sum = 1, busy = 0;
    while (ticks < SYSTICK_TICKS / 2) {
        sum = sum * 1103515245u + 12345u + busy;
        busy++;
    }
    /* Sleep phase: nothing runs but the handler. */
    while (ticks < SYSTICK_TICKS)
        wfi();
    systick_stop();

    rt_printf("systick: %u ticks\n", (unsigned)ticks);
    /* The busy loop must have run, and between ticks (sum is kept live). */
    if (busy == 0 || sum == 0)
        return 1;
    return ticks == SYSTICK_TICKS ? 0 : 2;
}
