/*
 * lm3s811evb workload, also run on lm3s6965evb (built with -DLM3S6965,
 * which adds what only the larger part has). Every device QEMU models on
 * these boards that a guest can reach without outside input:
 *
 *   both boards   system control (clock gating on), UART0 transmit and
 *                 receive, UART1 transmit, general-purpose timers 0-2
 *                 periodic with interrupts (timer 2 also triggers the ADC),
 *                 the ADC (sequencer 0 on the timer trigger, interrupt,
 *                 FIFO read), I2C master with interrupt (on lm3s811evb it
 *                 writes the SSD0303 OLED's display memory), the SSI
 *                 (PL022, loopback, so no slave is touched), GPIO A-E as
 *                 outputs, the watchdog with its interrupt (reset disabled,
 *                 fed by the acknowledgement), SysTick;
 *   LM3S6965      UART2 transmit, timer 3, GPIO F and G.
 *
 * Not driven: the 6965's Ethernet MAC (no network backend on the twins'
 * command line) and the GPIO inputs (nothing outside drives them). The
 * SSI's SD card and OLED on lm3s6965evb are behind the SSI; loopback keeps
 * them out of the way, but the SD card still aborts every load there
 * (docs/qemu.md, "lm3s6965evb").
 *
 * Layout (Stellaris LM3S811/LM3S6965 datasheets; checked against QEMU's
 * `info mtree` and `info qtree`): watchdog 0x40000000 (IRQ 18), GPIO A-D
 * 0x40004000-0x40007000, GPIO E-G 0x40024000-0x40026000, SSI 0x40008000
 * (IRQ 7), UART0-2 0x4000C000-0x4000E000 (IRQ 5, 6, 33), I2C master
 * 0x40020000 (IRQ 8), timers 0-3 0x40030000-0x40033000 (IRQ 19, 21, 23,
 * 35), ADC 0x40038000 (sequencer 0: IRQ 14), system control 0x400FE000.
 */
#include "qrt.h"

#define WDT     0x40000000u
#define GPIOA   0x40004000u
#define SSI0    0x40008000u
#define UART0   0x4000C000u
#define UART1   0x4000D000u
#define UART2   0x4000E000u
#define I2C0    0x40020000u
#define GPIOE   0x40024000u
#define GPTM(i) (0x40030000u + 0x1000u * (i))
#define ADC     0x40038000u
#define SYSCTL  0x400FE000u

#ifdef LM3S6965
#define NTIMERS 4
#define NGPIO_HIGH 3        /* E, F, G */
#else
#define NTIMERS 3
#define NGPIO_HIGH 1        /* E */
#endif

#define OLED_I2C_ADDR 0x3d  /* the SSD0303 on lm3s811evb's I2C bus */

const QrtIrq board_irqs[] = {
    { 19, GPTM(0) + 0x24, 1, 1 },   /* timer 0: ICR.TATOCINT */
    { 21, GPTM(1) + 0x24, 1, 2 },   /* timer 1 */
    { 23, GPTM(2) + 0x24, 1, 2 },   /* timer 2 (the ADC's trigger) */
#ifdef LM3S6965
    { 35, GPTM(3) + 0x24, 1, 1 },   /* timer 3 */
#endif
    { 18, WDT + 0x0C, 1, 3 },       /* watchdog: WDTICR clears and reloads */
    { 14, ADC + 0x0C, 1, 3 },       /* ADC sequencer 0: ISC (the FIFO is read below) */
    { 8, I2C0 + 0x1C, 1, 1 },       /* I2C master: MICR */
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

/* The ADC samples (QEMU's noise source, in the stream) reach the UART. */
void board_irq_extra(unsigned irq)
{
    if (irq != 14)
        return;
    while (!(REG32(ADC + 0x4C) & (1u << 8)))        /* SSFSTAT0: not EMPTY */
        qrt_ticks[3] += REG32(ADC + 0x48) << 8;     /* SSFIFO0 */
}

const QrtRx board_rx = { UART0 + 0x18, 1u << 4, 0 };   /* FR.RXFE clear */

int board_getc(void)
{
    return qrt_rx_ready() ? (int)(REG32(UART0) & 0xff) : -1;
}

static void uart_send(uint32_t base, uint8_t c)
{
    while (REG32(base + 0x18) & (1u << 5))   /* FR.TXFF */
        ;
    REG32(base) = c;
}

void board_putc(char c)
{
    uart_send(UART0, (uint8_t)c);
}

/* A periodic 32-bit timer with its time-out interrupt; ctl adds TAOTE. */
static void gptm_start(uint32_t base, uint32_t period, uint32_t ctl)
{
    REG32(base + 0x0C) = 0;          /* CTL: disabled while configuring */
    REG32(base + 0x00) = 0;          /* CFG: one 32-bit timer */
    REG32(base + 0x04) = 2;          /* TAMR: periodic */
    REG32(base + 0x28) = period;     /* TAILR */
    REG32(base + 0x18) = 1;          /* IMR: TATOIM */
    REG32(base + 0x0C) = 1 | ctl;    /* CTL: TAEN */
}

static uint32_t gpio_port(unsigned i)
{
    return i < 4 ? GPIOA + 0x1000u * i : GPIOE + 0x1000u * (i - 4);
}

void board_init(void)
{
    REG32(SYSCTL + 0x100) = 0xffffffffu;   /* RCGC0-2: every clock gate on */
    REG32(SYSCTL + 0x104) = 0xffffffffu;
    REG32(SYSCTL + 0x108) = 0xffffffffu;
    REG32(UART0 + 0x30) = 0x301;     /* CR: UARTEN, TXE, RXE */
    REG32(UART1 + 0x30) = 0x101;     /* CR: UARTEN, TXE */
#ifdef LM3S6965
    REG32(UART2 + 0x30) = 0x101;
#endif
    for (unsigned i = 0; i < 4 + NGPIO_HIGH; i++) {
        REG32(gpio_port(i) + 0x400) = 0xff;  /* DIR: all outputs */
        REG32(gpio_port(i) + 0x51C) = 0xff;  /* DEN (Luminary) */
    }
    REG32(ADC + 0x40) = 0;           /* SSMUX0: input 0 */
    REG32(ADC + 0x44) = 6;           /* SSCTL0: END0, IE0 */
    REG32(ADC + 0x14) = 5;           /* EMUX: sequencer 0 on the timer trigger */
    REG32(ADC + 0x08) = 1;           /* IM: sequencer 0 */
    REG32(ADC + 0x00) = 1;           /* ACTSS: sequencer 0 on */
    gptm_start(GPTM(0), 5000, 0);
    gptm_start(GPTM(1), 12345, 0);
    gptm_start(GPTM(2), 21000, 0x20);  /* TAOTE: trigger the ADC */
#ifdef LM3S6965
    gptm_start(GPTM(3), 7777, 0);
#endif
    REG32(I2C0 + 0x20) = 0x10;       /* MCR: master enable */
    REG32(I2C0 + 0x10) = 1;          /* MIMR */
    REG32(SSI0 + 0x00) = 7;          /* CR0: 8-bit SPI frames */
    REG32(SSI0 + 0x10) = 2;          /* CPSR */
    REG32(SSI0 + 0x04) = 1 | 2;      /* CR1: loopback, enable */
    REG32(WDT + 0x00) = 40000;       /* WDTLOAD */
    REG32(WDT + 0x08) = 1;           /* WDTCTL: INTEN, no reset */
    qrt_enable_irqs();
    qrt_systick_start(3000);
}

/* One I2C write to the OLED: START with the address, the bytes, STOP.
 * Each byte sent raises the master interrupt. */
static void i2c_oled_write(const uint8_t *b, unsigned len)
{
    REG32(I2C0 + 0x00) = OLED_I2C_ADDR << 1;   /* MSA: write */
    for (unsigned i = 0; i < len; i++) {
        REG32(I2C0 + 0x08) = b[i];             /* MDR */
        REG32(I2C0 + 0x04) = 1u | (i == 0 ? 2u : 0u) | (i + 1 == len ? 4u : 0u);  /* MCS: RUN, START, STOP */
    }
}

/* SSD0303: a command stream (0x80) moving to page p, column c, then a data
 * stream (0x40) writing one byte of display memory there. */
static void oled_plot(uint32_t p, uint32_t c, uint8_t v)
{
    const uint8_t cmd[] = { 0x80, (uint8_t)(0xB0 | (p & 7)), (uint8_t)(c & 15), (uint8_t)(0x10 | (c >> 4 & 7)) };
    const uint8_t data[] = { 0x40, v };
    i2c_oled_write(cmd, sizeof(cmd));
    i2c_oled_write(data, sizeof(data));
}

void board_step(uint32_t n, uint32_t x)
{
    for (unsigned i = 0; i < 4 + NGPIO_HIGH; i++)
        REG32(gpio_port(i) + 0x3FC) = n + i;          /* all eight pins */
    REG32(GPIOA + 0x1000 + (0x0F << 2)) = x >> 24;    /* B: masked write, pins 0-3 */
    uart_send(UART1, (uint8_t)(x >> 8));
#ifdef LM3S6965
    uart_send(UART2, (uint8_t)(x >> 16));
#endif
    if ((n & 3) == 0) {
        oled_plot(n >> 2, x >> 9, (uint8_t)(x >> 12));
        REG32(SSI0 + 0x08) = x >> 20 & 0xff;          /* DR: through loopback */
        while (!(REG32(SSI0 + 0x0C) & (1u << 2)))     /* SR.RNE */
            ;
        qrt_ticks[2] += REG32(SSI0 + 0x08) << 16;
    }
}
