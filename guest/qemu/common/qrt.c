/*
 * qrt.c - vectors, start-up, interrupt dispatch, the main loop and
 * checkpoint() for the QEMU-board workloads.
 */
#include "qrt.h"

extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

void qrt_reset(void);
volatile uint32_t qrt_ticks[QRT_TICKS];
/* Bytes received from the host and their FNV-1a, printed with the ticks:
 * the receive path reaches the UART logs the twins are compared on. */
static uint32_t qrt_rx_count, qrt_rx_hash = 2166136261u;

/* Faults spin where a debugger (and vmstress's report, which names the
 * guest PC) can see them, instead of running on. */
static void qrt_fault(void)
{
    for (;;)
        __asm__ volatile("bkpt #0");
}

static void qrt_systick(void) { qrt_ticks[0]++; }

__attribute__((weak)) void board_irq_extra(unsigned irq) { (void)irq; }

static void qrt_irq(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    unsigned irq = (ipsr & 0x1ff) - 16;
    for (unsigned i = 0; i < board_nirqs; i++)
        if (board_irqs[i].irq == irq) {
            REG32(board_irqs[i].ack) = board_irqs[i].value;
            qrt_ticks[board_irqs[i].tick]++;
        }
    board_irq_extra(irq);
}

typedef void (*QrtVector)(void);

/* 16 system exceptions and 64 external interrupts: enough for every board
 * with a workload (the largest IRQ number used is below 64). */
#define QRT_IRQ4 qrt_irq, qrt_irq, qrt_irq, qrt_irq
#define QRT_IRQ16 QRT_IRQ4, QRT_IRQ4, QRT_IRQ4, QRT_IRQ4
__attribute__((section(".vectors"), used)) const QrtVector qrt_vectors[16 + 64] = {
    (QrtVector)__stack_top, qrt_reset, qrt_fault, qrt_fault,
    qrt_fault, qrt_fault, qrt_fault, 0, 0, 0, 0,
    qrt_fault, qrt_fault, 0, qrt_fault, qrt_systick,
    QRT_IRQ16, QRT_IRQ16, QRT_IRQ16, QRT_IRQ16,
};

/* The stop point. noinline and with a side effect the compiler must keep,
 * so every call really reaches this address. */
volatile uint32_t qrt_checkpoints;
__attribute__((noinline)) void checkpoint(void)
{
    qrt_checkpoints++;
}

static void qrt_puthex(uint32_t v)
{
    for (int s = 28; s >= 0; s -= 4)
        board_putc("0123456789abcdef"[(v >> s) & 15]);
}

/* Work, the board's device writes, a byte received (if any), a UART line every 16 iterations (the
 * guest-visible output the twins' logs are compared on), the stop point. */
static void qrt_main(void)
{
    uint32_t x = 1;
    for (uint32_t n = 0;; n++) {
        for (int i = 0; i < 200; i++)
            x = x * 1103515245u + 12345u;
        board_step(n, x);
        int c = board_getc();
        if (c >= 0) {
            qrt_rx_count++;
            qrt_rx_hash = (qrt_rx_hash ^ (uint32_t)c) * 16777619u;
        }
        if ((n & 15) == 0) {
            const uint32_t word[QRT_TICKS + 2] = { qrt_ticks[0], qrt_ticks[1], qrt_ticks[2], qrt_ticks[3],
                                                   qrt_rx_count, qrt_rx_hash };
            qrt_puthex(n);
            for (unsigned t = 0; t < QRT_TICKS + 2; t++) {
                board_putc(' ');
                qrt_puthex(word[t]);
            }
            board_putc('\n');
        }
        checkpoint();
    }
}

void qrt_reset(void)
{
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
    board_init();
    qrt_main();
}

void qrt_nvic_enable(unsigned irq)
{
    REG32(NVIC_ISER0 + 4 * (irq / 32)) = 1u << (irq % 32);
}

void qrt_enable_irqs(void)
{
    for (unsigned i = 0; i < board_nirqs; i++)
        qrt_nvic_enable(board_irqs[i].irq);
}

void qrt_systick_start(uint32_t reload)
{
    REG32(SYST_RVR) = reload;
    REG32(SYST_CVR) = 0;
    REG32(SYST_CSR) = 7;    /* enable, interrupt, processor clock */
}

bool qrt_rx_ready(void)
{
    return (REG32(board_rx.status) & board_rx.mask) == board_rx.ready;
}
