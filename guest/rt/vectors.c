/*
 * vectors.c - the vector table, start-up and the default exception handler.
 *
 * Every handler is a weak alias of rt_default_handler, so a program (or a
 * driver compiled into it) overrides one just by defining a function with
 * the same name, and any exception nobody expected stops the machine with a
 * message instead of running off into the weeds.
 */
#include "rt.h"

extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);

/* Exit code for an exception nobody handles: distinct from ordinary failures. */
#define RT_EXIT_UNEXPECTED 0x7e

void rt_default_handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    rt_console_semihost();  /* the UART may be the reason we are here */
    rt_printf("rt: unexpected exception %u\n", (unsigned)(ipsr & 0x3f));
    rt_exit(RT_EXIT_UNEXPECTED);
}

#define RT_WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("rt_default_handler")))
RT_WEAK_HANDLER(NMI_Handler);
/* HardFault_Handler is in probe.c: it serves rt_probe_read32 first. */
RT_WEAK_HANDLER(SVC_Handler);
RT_WEAK_HANDLER(PendSV_Handler);
RT_WEAK_HANDLER(SysTick_Handler);

/* Thirty-two external interrupt handlers, IRQ0_Handler .. IRQ31_Handler. */
#define RT_IRQ(n) RT_WEAK_HANDLER(IRQ##n##_Handler);
#define RT_IRQS8(a, b, c, d, e, f, g, h) RT_IRQ(a) RT_IRQ(b) RT_IRQ(c) RT_IRQ(d) \
    RT_IRQ(e) RT_IRQ(f) RT_IRQ(g) RT_IRQ(h)
RT_IRQS8(0, 1, 2, 3, 4, 5, 6, 7)
RT_IRQS8(8, 9, 10, 11, 12, 13, 14, 15)
RT_IRQS8(16, 17, 18, 19, 20, 21, 22, 23)
RT_IRQS8(24, 25, 26, 27, 28, 29, 30, 31)
#undef RT_IRQ

typedef void (*RtVector)(void);

#define RT_IRQ(n) IRQ##n##_Handler,
__attribute__((section(".vectors"), used)) const RtVector rt_vectors[16 + 32] = {
    (RtVector)__stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    0, 0, 0, 0, 0, 0, 0,        /* 4..10 reserved on ARMv6-M */
    SVC_Handler,
    0, 0,                       /* 12..13 reserved */
    PendSV_Handler,
    SysTick_Handler,
    RT_IRQ(0) RT_IRQ(1) RT_IRQ(2) RT_IRQ(3) RT_IRQ(4) RT_IRQ(5) RT_IRQ(6) RT_IRQ(7)
    RT_IRQ(8) RT_IRQ(9) RT_IRQ(10) RT_IRQ(11) RT_IRQ(12) RT_IRQ(13) RT_IRQ(14) RT_IRQ(15)
    RT_IRQ(16) RT_IRQ(17) RT_IRQ(18) RT_IRQ(19) RT_IRQ(20) RT_IRQ(21) RT_IRQ(22) RT_IRQ(23)
    RT_IRQ(24) RT_IRQ(25) RT_IRQ(26) RT_IRQ(27) RT_IRQ(28) RT_IRQ(29) RT_IRQ(30) RT_IRQ(31)
};
#undef RT_IRQ

/* Word loops written out by hand: memcpy/memset are not usable before .data
 * and .bss exist only in the sense that the compiler might inline them into
 * something odd; explicit volatile-free loops over aligned words are plain. */
void Reset_Handler(void)
{
    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end)
        *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end; dst++)
        *dst = 0;
    rt_exit(main());
}
