/*
 * qrt.c - vectors, start-up and checkpoint() for the QEMU-board workloads.
 */
#include "qrt.h"

extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

void qrt_reset(void);

/* Faults spin where a debugger (and vmstress's report, which names the
 * guest PC) can see them, instead of running on. */
static void qrt_fault(void)
{
    for (;;)
        __asm__ volatile("bkpt #0");
}

static void qrt_systick(void) { board_systick(); }

static void qrt_irq(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    board_irq((ipsr & 0x1ff) - 16);
}

typedef void (*QrtVector)(void);

/* 16 system exceptions and 64 external interrupts: enough for every board
 * named in docs/qemu.md (the largest, netduino2, uses IRQs below 64). */
#define QRT_IRQ4 qrt_irq, qrt_irq, qrt_irq, qrt_irq
#define QRT_IRQ16 QRT_IRQ4, QRT_IRQ4, QRT_IRQ4, QRT_IRQ4
__attribute__((section(".vectors"), used)) const QrtVector qrt_vectors[16 + 64] = {
    (QrtVector)__stack_top, qrt_reset, qrt_fault, qrt_fault,
    qrt_fault, qrt_fault, qrt_fault, 0, 0, 0, 0,
    qrt_fault, qrt_fault, 0, qrt_fault, qrt_systick,
    QRT_IRQ16, QRT_IRQ16, QRT_IRQ16, QRT_IRQ16,
};

void qrt_reset(void)
{
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
    board_main();
    qrt_fault();
}

/* The stop point. noinline and with a side effect the compiler must keep,
 * so every call really reaches this address. */
volatile uint32_t qrt_checkpoints;
__attribute__((noinline)) void checkpoint(void)
{
    qrt_checkpoints++;
}

void qrt_nvic_enable(unsigned irq)
{
    REG32(NVIC_ISER0 + 4 * (irq / 32)) = 1u << (irq % 32);
}

void qrt_systick_start(uint32_t reload)
{
    REG32(SYST_RVR) = reload;
    REG32(SYST_CVR) = 0;
    REG32(SYST_CSR) = 7;    /* enable, interrupt, processor clock */
}
