/*
 * probe.c - rt_probe_read32 and the HardFault handler that serves it.
 *
 * A read of an address nothing answers is a bus error, which ARMv6-M takes
 * as a HardFault with the faulting instruction as the stacked return
 * address (vmstress's core and QEMU's both). While a probe is active the
 * handler moves that address past the load, a 16-bit LDR, and returns, so
 * the probe sees its flag changed and the load's register unwritten. Any
 * other HardFault goes to the runtime's default handler.
 */
#include "rt.h"

#define PROBE_IDLE 0u
#define PROBE_ACTIVE 1u
#define PROBE_FAULTED 2u

static volatile uint32_t probe_state;

int rt_probe_read32(uint32_t addr, uint32_t *val)
{
    uint32_t v = 0;
    probe_state = PROBE_ACTIVE;
    /* Low registers and no offset: the 16-bit LDR (immediate) encoding,
     * which is what the handler steps over. */
    __asm__ volatile("ldr %0, [%1]" : "+l"(v) : "l"(addr) : "memory");
    int ok = probe_state == PROBE_ACTIVE;
    probe_state = PROBE_IDLE;
    if (ok)
        *val = v;
    return ok;
}

int rt_probe_fault(uint32_t *frame)
{
    if (probe_state != PROBE_ACTIVE)
        return 0;
    probe_state = PROBE_FAULTED;
    frame[6] += 2;      /* stacked PC: past the 16-bit load */
    return 1;
}

/* C side of the handler: frame is the stacked r0-r3, r12, lr, pc, xpsr.
 * Returning from here returns from the exception (lr still holds EXC_RETURN). */
void rt_hardfault(uint32_t *frame);
void rt_hardfault(uint32_t *frame)
{
    if (!rt_probe_fault(frame))
        rt_default_handler();
}

/* Find the frame on the stack the exception used (EXC_RETURN bit 2), then
 * tail-call rt_hardfault with lr untouched. Weak: a program may replace it. */
__attribute__((naked, weak)) void HardFault_Handler(void)
{
    __asm__ volatile(
        "movs r0, #4\n"
        "mov r1, lr\n"
        "tst r0, r1\n"
        "beq 1f\n"
        "mrs r0, psp\n"
        "b 2f\n"
        "1:\n"
        "mrs r0, msp\n"
        "2:\n"
        "ldr r1, =rt_hardfault\n"
        "bx r1\n");
}
