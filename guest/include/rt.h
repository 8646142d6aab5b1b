/*
 * rt.h - the guest runtime: MMIO access, console, exit, NVIC and SysTick helpers
 * (prefix rt_, nvic_, systick_).
 *
 * Freestanding: no libc. The runtime (guest/rt/) provides the vector table,
 * start-up, the EABI division helpers and memcpy/memset/memmove.
 *
 * Console: by default rt_putc writes to the PL011 UART0 of the default board
 * (polling FR.TXFF). Programs for the core-only board, which has no UART,
 * call rt_console_semihost() first to send bytes by semihosting SYS_WRITEC.
 *
 * Exit: rt_exit(0) is semihosting SYS_EXIT with ADP_Stopped_ApplicationExit;
 * a non-zero code uses SYS_EXIT_EXTENDED with the code as subcode, so the
 * host sees the exact value.
 */
#ifndef VMSTRESS_GUEST_RT_H
#define VMSTRESS_GUEST_RT_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

/* ------------------------------------------------------------ MMIO */

static inline uint32_t mmio_read32(uint32_t addr) { return *(volatile uint32_t *)addr; }
static inline uint16_t mmio_read16(uint32_t addr) { return *(volatile uint16_t *)addr; }
static inline uint8_t mmio_read8(uint32_t addr) { return *(volatile uint8_t *)addr; }
static inline void mmio_write32(uint32_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline void mmio_write16(uint32_t addr, uint16_t v) { *(volatile uint16_t *)addr = v; }
static inline void mmio_write8(uint32_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }

/* -------------------------------------------------------- semihosting */

#define SEMIHOST_SYS_WRITEC 0x03
#define SEMIHOST_SYS_WRITE0 0x04
#define SEMIHOST_SYS_EXIT 0x18
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20
#define SEMIHOST_ADP_APPLICATION_EXIT 0x20026u
#define SEMIHOST_ADP_RUNTIME_ERROR 0x20023u

/* BKPT 0xAB with r0 = operation, r1 = argument; the result comes back in r0. */
static inline uint32_t rt_semihost(uint32_t op, uint32_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uint32_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* ------------------------------------------------------------ console */

void rt_console_semihost(void);     /* send console bytes by SYS_WRITEC from now on */
void rt_console_uart(void);         /* back to UART0 (the default) */
void rt_putc(char c);
void rt_puts(const char *s);        /* no newline added */
void rt_print_hex(uint32_t v);      /* 8 digits, no prefix */
void rt_print_dec(int32_t v);
void rt_print_udec(uint32_t v);
/* %d %u %x %s %c %%, with an optional zero-pad width for %x/%u/%d ("%08x"). */
int rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Stop the machine with this exit code (never returns). */
void rt_exit(int code) __attribute__((noreturn));

/* ------------------------------------------------------ interrupts */

#define SCS_BASE        0xE000E000u
#define NVIC_ISER       0xE000E100u
#define NVIC_ICER       0xE000E180u
#define NVIC_ISPR       0xE000E200u
#define NVIC_ICPR       0xE000E280u
#define NVIC_IPR0       0xE000E400u
#define SYST_CSR        0xE000E010u
#define SYST_RVR        0xE000E014u
#define SYST_CVR        0xE000E018u
#define SCB_ICSR        0xE000ED04u
#define SCB_VTOR        0xE000ED08u
#define SCB_AIRCR       0xE000ED0Cu
#define SCB_SCR         0xE000ED10u
#define SCB_SHPR2       0xE000ED1Cu
#define SCB_SHPR3       0xE000ED20u

#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_CSR_COUNTFLAG (1u << 16)
#define AIRCR_SYSRESETREQ  (0x05FA0000u | (1u << 2))

static inline void nvic_enable(unsigned irq) { mmio_write32(NVIC_ISER, 1u << (irq & 31)); }
static inline void nvic_disable(unsigned irq) { mmio_write32(NVIC_ICER, 1u << (irq & 31)); }
static inline void nvic_set_pending(unsigned irq) { mmio_write32(NVIC_ISPR, 1u << (irq & 31)); }
static inline void nvic_clear_pending(unsigned irq) { mmio_write32(NVIC_ICPR, 1u << (irq & 31)); }
/* prio 0 (highest) .. 3: ARMv6-M implements the top two bits of each byte.
 * The IPR registers are word-access only on ARMv6-M, hence read-modify-write. */
static inline void nvic_set_priority(unsigned irq, unsigned prio)
{
    uint32_t reg = NVIC_IPR0 + 4u * ((irq & 31) / 4u);
    unsigned shift = 8u * (irq % 4u);
    uint32_t v = mmio_read32(reg);
    v &= ~(0xFFu << shift);
    v |= ((prio & 3u) << 6) << shift;
    mmio_write32(reg, v);
}

static inline void irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb" ::: "memory"); }

/* Start SysTick on the core clock with an interrupt every `reload + 1` cycles. */
static inline void systick_start(uint32_t reload)
{
    mmio_write32(SYST_CSR, 0);
    mmio_write32(SYST_RVR, reload & 0xFFFFFFu);
    mmio_write32(SYST_CVR, 0);
    mmio_write32(SYST_CSR, SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE);
}
static inline void systick_stop(void) { mmio_write32(SYST_CSR, 0); }

/* Ask the core for a system reset (AIRCR.SYSRESETREQ); never returns. */
static inline void rt_system_reset(void)
{
    dsb();
    mmio_write32(SCB_AIRCR, AIRCR_SYSRESETREQ);
    for (;;)
        wfi();
}

/* IRQ_HANDLER(UART0_IRQ) defines void IRQ0_Handler(void): the argument is
 * macro-expanded first, then pasted, so board.h names work. */
#define RT_PASTE_HANDLER_(n) void IRQ##n##_Handler(void)
#define IRQ_HANDLER(n) RT_PASTE_HANDLER_(n)

/* Exception handlers the runtime's vector table names (weak defaults). */
void Reset_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void SVC_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);

/* -------------------------------------------------------- bus probes */

/* Read the word at addr if something answers there: 1 and *val set, or 0
 * when the read faults (nothing mapped: the bus error's HardFault is
 * caught, the load skipped). How firmware finds out whether a device is on
 * the board it runs on (its PrimeCell ID registers), so one program runs
 * on machine types with and without it. Not reentrant: thread code only. */
int rt_probe_read32(uint32_t addr, uint32_t *val);
/* The HardFault handler's part: with a probe active, step over the faulting
 * 16-bit load in the stacked frame and return 1; else 0. */
int rt_probe_fault(uint32_t *frame);
/* The runtime's handler of exceptions nobody expected (prints, exits). */
void rt_default_handler(void);

/* ------------------------------------------------------------ libc bits */

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
