/*
 * all.c - the default stress workload: every device driver's interrupt-driven
 * activity at once, plus a little computation between interrupts, so that
 * checkpoints land inside handlers, with FIFO bytes and timers pending.
 *
 * On top of the drivers' workloads it keeps the core's own state busy:
 *  - distinct NVIC priorities for the device interrupts (IPRn) and for
 *    SVCall, PendSV and SysTick (SHPR2/3), so handlers preempt each other;
 *  - the vector table copied to SRAM and VTOR pointed at the copy;
 *  - SCR.SEVONPEND (SLEEPDEEP and SLEEPONEXIT stay clear);
 *  - SysTick every 0.5 ms, whose handler also services the watchdog;
 *  - stretches of thread code on the process stack (CONTROL.SPSEL = 1) and
 *    inside CPSID/CPSIE critical sections (SysTick paused during those, so
 *    its stopped count is held in CVR).
 * The PL080 and PL022 (with its SPI flash) are used only when their ID
 * registers answer (rt_probe_read32), so the program also runs on machine
 * types without them.
 * Every RESET_EVERY iterations it lets the watchdog time out twice, which
 * resets the machine; the program then starts again from Reset_Handler and
 * counts the restart in a variable that survives warm resets.
 * Prints a running checksum on the UART; runs until the host stops it.
 */
#include "board.h"
#include "pl011.h"
#include "pl022.h"
#include "pl031.h"
#include "pl061.h"
#include "pl080.h"
#include "sp804.h"
#include "virtblk.h"
#include "watchdog.h"
#include "rt.h"

#define SYSTICK_RELOAD 49999u   /* a tick every 50,000 cycles (0.5 ms) */
#define RESET_EVERY 16384u      /* iterations between watchdog resets (about 0.4 s) */
#define RESTART_MAGIC 0x5eb007edu
#define N_VECTORS (16 + 32)

typedef void (*RtVector)(void);
extern const RtVector rt_vectors[N_VECTORS];

/* VTOR needs the table aligned to its size rounded up to a power of two. */
static RtVector sram_vectors[N_VECTORS] __attribute__((aligned(256)));
/* The process stack for the thread-mode stretches (8-byte aligned top). */
static uint32_t process_stack[128] __attribute__((aligned(8)));
/* Survives warm resets (see link.ld); zero at power-on. */
static uint32_t restart_magic __attribute__((section(".noinit")));
static uint32_t restarts __attribute__((section(".noinit")));

static volatile uint32_t systicks;

void SysTick_Handler(void)
{
    systicks++;
    watchdog_workload_tick();
}

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u; /* FNV-1a step */
    return h;
}

static uint32_t work[64];

static uint32_t compute_n(uint32_t seed, unsigned n)
{
    /* Keep registers and SRAM busy between interrupts. */
    uint32_t acc = seed;
    for (unsigned i = 0; i < n; i++) {
        acc = acc * 1103515245u + 12345u;
        work[i & 63] ^= acc >> 7;
        acc += work[(i * 7) & 63];
    }
    return acc;
}

static uint32_t compute(uint32_t seed) { return compute_n(seed, 64); }

/*
 * Call fn(arg) in thread mode on the process stack: PSP = top, SPSEL = 1,
 * then back to the main stack, which still holds the saved registers.
 * Interrupts taken meanwhile stack their frames on PSP.
 */
__attribute__((naked, noinline)) static uint32_t on_process_stack(uint32_t (*fn)(uint32_t),
                                                                  uint32_t arg, uint32_t *top)
{
    __asm__ volatile(
        "push {r4, lr}\n"
        "msr psp, r2\n"
        "movs r3, #2\n"
        "msr control, r3\n"
        "isb\n"
        "mov r3, r0\n"
        "mov r0, r1\n"
        "blx r3\n"
        "movs r3, #0\n"
        "msr control, r3\n"
        "isb\n"
        "pop {r4, pc}\n");
}

static void core_init(void)
{
    for (unsigned i = 0; i < N_VECTORS; i++)
        sram_vectors[i] = rt_vectors[i];
    dsb();
    mmio_write32(SCB_VTOR, (uint32_t)sram_vectors);

    /* 0 is the most urgent; the watchdog line is not enabled (see its driver). */
    static const uint8_t prio[][2] = {
        { UART0_IRQ, 1 }, { TIMER0_IRQ, 2 }, { TIMER1_IRQ, 3 }, { RTC_IRQ, 1 },
        { GPIO0_IRQ, 2 }, { GPIO1_IRQ, 2 }, { WDOG_IRQ, 0 },
        { DMA0_IRQ, 2 }, { SSP0_IRQ, 3 },
        { VIRTBLK_IRQ, 3 },
    };
    for (unsigned i = 0; i < sizeof(prio) / sizeof(prio[0]); i++)
        nvic_set_priority(prio[i][0], prio[i][1]);
    mmio_write32(SCB_SHPR2, 2u << 30);                      /* SVCall 2 */
    mmio_write32(SCB_SHPR3, 1u << 30 | 3u << 22);           /* SysTick 1, PendSV 3 */
    mmio_write32(SCB_SCR, 1u << 4);                         /* SEVONPEND */
    systick_start(SYSTICK_RELOAD);
}

int main(void)
{
    pl011_init();               /* the console: 8N1, FIFOs on, 115200 baud */
    if (restart_magic != RESTART_MAGIC) {
        restart_magic = RESTART_MAGIC;
        restarts = 0;
        rt_puts("all: start\n");
    } else {
        restarts++;
        rt_printf("all: restart %u after a watchdog reset\n", (unsigned)restarts);
    }
    core_init();
    pl011_workload_init();
    pl031_workload_init();
    pl061_workload_init();
    sp804_workload_init();
    watchdog_workload_init();
    /* These only where the machine type has them (probed by ID). */
    pl080_workload_init();
    pl022_workload_init();
    virtblk_workload_init();
    irq_enable();

    uint32_t sum = 0x811c9dc5u;
    for (uint32_t it = 1;; it++) {
        sum = mix(sum, pl011_workload_poll());
        sum = mix(sum, pl031_workload_poll());
        sum = mix(sum, pl061_workload_poll());
        sum = mix(sum, sp804_workload_poll());
        sum = mix(sum, watchdog_workload_poll());
        sum = mix(sum, pl080_workload_poll());
        sum = mix(sum, pl022_workload_poll());
        sum = mix(sum, virtblk_workload_poll());
        switch (it & 3) {
        case 1:
            sum = mix(sum, on_process_stack(compute, sum, process_stack + 128));
            break;
        case 2:
            /* A critical section of a few hundred instructions, with SysTick
             * paused meanwhile (it resumes from the count it stopped at). */
            irq_disable();
            mmio_write32(SYST_CSR, SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE);
            sum = mix(sum, compute_n(sum, 24));
            mmio_write32(SYST_CSR, SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE);
            irq_enable();
            break;
        default:
            sum = mix(sum, compute(sum));
            break;
        }
        if ((it & 4095) == 0)
            rt_printf("all: %u %x\n", it, sum);
        if (it % RESET_EVERY == 0)
            watchdog_workload_expire();
        if ((it & 15) == 0)
            wfi(); /* now and then, sleep until the next interrupt */
    }
}
