/*
 * stm32.h - the STM32F2/F4 peripherals the netduino boards share, driven the
 * same way on both: every USART (USART1 both ways, the others transmit),
 * the general-purpose timers TIM2-TIM5 with update interrupts, every ADC
 * (software-started conversions), every SPI (one frame out and in), SYSCFG
 * and, where the board has one, EXTI. Included after qrt.h by a workload
 * that first defines:
 *
 *   static const uint32_t stm32_usarts[], stm32_adcs[], stm32_spis[];
 *   STM32_SYSCFG           the SYSCFG base
 *   STM32_EXTI (optional)  the EXTI base (F4 only)
 *   STM32_TIMER_PSC        the timers' prescaler: periods of about 1 to
 *                          14 ms at the board's timer clock (QEMU gives
 *                          them 1 GHz on the F205, 48 MHz on the F405)
 *
 * It supplies board_irqs, board_rx, board_getc, board_putc and
 * stm32_start() / stm32_step() for board_init / board_step.
 *
 * Lost configuration is made visible to the twins: every register the
 * workload writes once is read back at start (what QEMU's model keeps of
 * the write) and compared with that reference every iteration; a register
 * that changed without a guest write (a device whose state a round trip
 * did not bring back) is counted in stm32_lost, with its address and value
 * in stm32_lost_addr / stm32_lost_value (guest RAM, which the state-equality
 * oracle compares). Data and status registers that the device itself
 * changes (SR, DR, CNT) are not in the reference.
 *
 * Variants (guest/qemu/CMakeLists.txt; docs/qemu.md says which finding
 * each steps around):
 *   STM32_SKIP_SYSCFG        SYSCFG is neither written nor checked
 *   STM32_SKIP_TIMER_ALARMS  the timers' ARR is never written: every other
 *                            timer register is, but QEMU never arms the
 *                            timer, so no update interrupt is due
 */
#ifndef VMSTRESS_QEMU_STM32_H
#define VMSTRESS_QEMU_STM32_H

#include "qrt.h"

#define STM32_NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define STM32_TIM(i)    (0x40000000u + 0x400u * (i))   /* TIM2..TIM5 */
#define STM32_USART1    0x40011000u                    /* stm32_usarts[0] on both SoCs */

/* TIM2..TIM5 update interrupts (IRQ 28, 29, 30, 50 on both SoCs):
 * SR written 0 clears UIF. */
const QrtIrq board_irqs[] = {
    { 28, STM32_TIM(0) + 0x10, 0, 1 },
    { 29, STM32_TIM(1) + 0x10, 0, 2 },
    { 30, STM32_TIM(2) + 0x10, 0, 3 },
    { 50, STM32_TIM(3) + 0x10, 0, 3 },
};
const unsigned board_nirqs = STM32_NELEMS(board_irqs);

const QrtRx board_rx = { STM32_USART1 + 0x00, 1u << 5, 1u << 5 };   /* USART1 SR.RXNE */

int board_getc(void)
{
    return qrt_rx_ready() ? (int)(REG32(STM32_USART1 + 0x04) & 0xff) : -1;
}

static void stm32_usart_putc(uint32_t usart, char c)
{
    while (!(REG32(usart + 0x00) & (1u << 7)))   /* SR.TXE */
        ;
    REG32(usart + 0x04) = (uint8_t)c;            /* DR */
}

void board_putc(char c)
{
    stm32_usart_putc(STM32_USART1, c);
}

/* The reference: registers written once, and what each read back. */
#define STM32_MAX_REFS 256
static uint32_t stm32_ref_addr[STM32_MAX_REFS], stm32_ref_value[STM32_MAX_REFS];
static unsigned stm32_nrefs;
volatile uint32_t stm32_lost, stm32_lost_addr, stm32_lost_value;
volatile uint32_t stm32_data;    /* ADC and SPI data read back, summed */
volatile uint32_t stm32_bits;    /* set through the SRAM bit-band alias */

static void stm32_set(uint32_t addr, uint32_t value)
{
    REG32(addr) = value;
    if (stm32_nrefs < STM32_MAX_REFS)
        stm32_ref_addr[stm32_nrefs++] = addr;
}

static void stm32_timers_start(void)
{
    static const uint32_t reload[4] = { 3000, 7777, 12000, 40000 };
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t t = STM32_TIM(i);
        stm32_set(t + 0x28, STM32_TIMER_PSC);    /* PSC (arms nothing: ARR is 0) */
        /* CNT = 0. QEMU 7.2 re-bases its tick_offset on a PSC write from
         * the count under the old prescaler, which leaves it negative
         * (-6776 ticks for TIM2 when written ~280 us after reset): with
         * ARR below that the timer never fires, just above it it fires
         * every few us. A CNT write sets tick_offset to now, so each
         * period is ARR ticks plus the time of this write. */
        REG32(t + 0x24) = 0;
        stm32_set(t + 0x04, 0x10 + i);           /* CR2 */
        stm32_set(t + 0x08, 0x0100 + i);         /* SMCR */
        stm32_set(t + 0x18, 0x6868);             /* CCMR1: PWM mode 1, preload, both channels */
        stm32_set(t + 0x1C, 0x6060 + i);         /* CCMR2 */
        stm32_set(t + 0x20, 0x1111);             /* CCER: channels 1-4 on */
        for (uint32_t c = 0; c < 4; c++)
            stm32_set(t + 0x34 + 4 * c, 100 * (c + 1) + i);   /* CCR1..CCR4 */
        stm32_set(t + 0x48, 0x0200 + i);         /* DCR */
        stm32_set(t + 0x4C, 0x55 + i);           /* DMAR */
        stm32_set(t + 0x50, i);                  /* OR */
        stm32_set(t + 0x14, 0x1e);               /* EGR: CC1G-CC4G (not UG, which restarts the count) */
#ifndef STM32_SKIP_TIMER_ALARMS
        stm32_set(t + 0x2C, reload[i]);          /* ARR: arms the timer */
#else
        (void)reload;
#endif
        stm32_set(t + 0x0C, 1);                  /* DIER: UIE */
        stm32_set(t + 0x00, 0x81);               /* CR1: CEN, ARPE */
    }
    /* One bit of TIM5's CCR4 set through the peripheral bit-band alias. */
    REG32(0x42000000u + ((STM32_TIM(3) + 0x40 - 0x40000000u) << 5) + 15 * 4) = 1;
}

static void stm32_usarts_start(void)
{
    /* USART1 (the console): UE, TE, RE, written once. Its configuration is
     * not in the reference: QEMU 7.2 does not migrate the USART at all, and
     * the uart-input oracle already shows that on USART1 (docs/qemu.md). */
    REG32(STM32_USART1 + 0x0C) = (1u << 13) | (1u << 3) | (1u << 2);
    for (uint32_t u = 1; u < STM32_NELEMS(stm32_usarts); u++) {
        uint32_t b = stm32_usarts[u];
        REG32(b + 0x08) = 0x1a0 + u;             /* BRR */
        REG32(b + 0x10) = 0x2000;                /* CR2: two stop bits */
        REG32(b + 0x14) = 0x0008;                /* CR3: half duplex */
        REG32(b + 0x18) = 0x0100 + u;            /* GTPR */
        REG32(b + 0x0C) = (1u << 13) | (1u << 3);   /* CR1: UE, TE */
    }
}

static void stm32_adcs_start(void)
{
    for (uint32_t a = 0; a < STM32_NELEMS(stm32_adcs); a++) {
        uint32_t b = stm32_adcs[a];
        stm32_set(b + 0x04, ((a & 3) << 24) | 0x20);            /* CR1: RES (12/10/8/6 bits), EOCIE */
        stm32_set(b + 0x08, 1u | ((a & 1) << 11));              /* CR2: ADON, ALIGN on odd ADCs */
        stm32_set(b + 0x0C, 0x00249249u + a);                   /* SMPR1 */
        stm32_set(b + 0x10, 0x12492492u + a);                   /* SMPR2 */
        for (uint32_t j = 0; j < 4; j++) {
            stm32_set(b + 0x14 + 4 * j, 0x10 * (j + 1) + a);    /* JOFR1..4 */
            stm32_set(b + 0x3C + 4 * j, 0x800 + 0x40 * j + a);  /* JDR1..4 (reads back JDR - JOFR) */
        }
        stm32_set(b + 0x24, 0xe00 + a);                         /* HTR */
        stm32_set(b + 0x28, 0x010 + a);                         /* LTR */
        stm32_set(b + 0x2C, 0x00300000u + a);                   /* SQR1: 4 conversions */
        stm32_set(b + 0x30, 0x0a418820u + a);                   /* SQR2 */
        stm32_set(b + 0x34, 0x00083062u + a);                   /* SQR3 */
        stm32_set(b + 0x38, 0x00100000u + a);                   /* JSQR */
    }
}

static void stm32_spis_start(void)
{
    for (uint32_t s = 0; s < STM32_NELEMS(stm32_spis); s++) {
        uint32_t b = stm32_spis[s];
        /* CR1: SPE, MSTR, SSM, SSI, baud rate divider s */
        stm32_set(b + 0x00, (1u << 6) | (1u << 2) | (1u << 9) | (1u << 8) | ((s & 7) << 3));
        stm32_set(b + 0x04, 0x0040 + s);         /* CR2: RXNEIE */
        stm32_set(b + 0x10, 0x0011 + s);         /* CRCPR (QEMU ignores the write) */
        stm32_set(b + 0x1C, 0x0800);             /* I2SCFGR (ignored) */
        stm32_set(b + 0x20, 0x0105);             /* I2SPR (ignored) */
        stm32_set(b + 0x14, 0);                  /* RXCRCR, TXCRCR: read-only, checked */
        stm32_set(b + 0x18, 0);
    }
}

static void stm32_syscfg_exti_start(void)
{
#ifndef STM32_SKIP_SYSCFG
    stm32_set(STM32_SYSCFG + 0x00, 1);           /* MEMRMP (QEMU ignores the write) */
    stm32_set(STM32_SYSCFG + 0x04, 1u << 23);    /* PMC (ignored) */
    for (uint32_t r = 0; r < 4; r++)
        stm32_set(STM32_SYSCFG + 0x08 + 4 * r, 0x1230 + r);   /* EXTICR1..4 */
    stm32_set(STM32_SYSCFG + 0x20, 1);           /* CMPCR */
#endif
#ifdef STM32_EXTI
    /* QEMU 7.2's EXTI only stores SWIER (no interrupt), and its inputs come
     * from SYSCFG, whose own inputs (the GPIO ports) are unimplemented: no
     * EXTI interrupt can fire, so the registers are what is tested. */
    stm32_set(STM32_EXTI + 0x00, 0x0000ffffu);   /* IMR */
    stm32_set(STM32_EXTI + 0x04, 0x00f0000fu);   /* EMR */
    stm32_set(STM32_EXTI + 0x08, 0x00000f0fu);   /* RTSR */
    stm32_set(STM32_EXTI + 0x0C, 0x0000f0f0u);   /* FTSR */
    stm32_set(STM32_EXTI + 0x10, 0x00000005u);   /* SWIER */
    stm32_set(STM32_EXTI + 0x14, 0xffffffffu);   /* PR: write 1 to clear */
#endif
}

/* Every device, then the reference of what each written register holds. */
static void stm32_start(void)
{
    stm32_usarts_start();
    stm32_timers_start();
    stm32_adcs_start();
    stm32_spis_start();
    stm32_syscfg_exti_start();
    for (unsigned r = 0; r < stm32_nrefs; r++)
        stm32_ref_value[r] = REG32(stm32_ref_addr[r]);
}

static void stm32_check(void)
{
    for (unsigned r = 0; r < stm32_nrefs; r++) {
        uint32_t v = REG32(stm32_ref_addr[r]);
        if (v != stm32_ref_value[r]) {
            stm32_lost++;
            stm32_lost_addr = stm32_ref_addr[r];
            stm32_lost_value = v;
        }
    }
}

static void stm32_step(uint32_t n, uint32_t x)
{
    stm32_check();
    /* A bit of stm32_bits through the SRAM bit-band alias. */
    uint32_t bit = n & 31;
    REG32(0x22000000u + (((uint32_t)(uintptr_t)&stm32_bits - 0x20000000u) << 5) + bit * 4) = (x >> 7) & 1;
    if ((n & 7) != 0)
        return;
    for (uint32_t a = 0; a < STM32_NELEMS(stm32_adcs); a++) {
        uint32_t b = stm32_adcs[a];
        /* QEMU's ADC converts when DR is read after SWSTART (it never sets
         * SR.EOC), so DR is read without waiting. */
        REG32(b + 0x08) = REG32(b + 0x08) | (1u << 30);   /* CR2: SWSTART */
        stm32_data += REG32(b + 0x4C);
    }
    for (uint32_t s = 0; s < STM32_NELEMS(stm32_spis); s++) {
        uint32_t b = stm32_spis[s];
        REG32(b + 0x0C) = (x >> s) & 0xff;       /* DR: one frame out */
        while (!(REG32(b + 0x08) & 1))           /* SR.RXNE */
            ;
        stm32_data += REG32(b + 0x0C);
    }
    if ((n & 15) == 0)
        for (uint32_t u = 1; u < STM32_NELEMS(stm32_usarts); u++)
            stm32_usart_putc(stm32_usarts[u], (char)('0' + u));   /* no chardev behind it */
}

#endif
