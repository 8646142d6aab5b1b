/*
 * pl011.c - guest driver for UART0 (see pl011.h). One interrupt handler
 * serves the self-test and the workload: it drains the receive FIFO into a
 * ring, acknowledges transmit interrupts and counts what it saw.
 */
#include "pl011.h"

#include "rt.h"

#define UART(off) (UART0_BASE + (off))
#define RX_RING 64u

static const uint8_t pl011_ids[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head;       /* written by the handler */
static uint32_t rx_tail;                /* read by thread code */
static volatile uint32_t tx_irqs, oe_irqs;

IRQ_HANDLER(UART0_IRQ)
{
    uint32_t mis = mmio_read32(UART(PL011_MIS));
    while ((mis & (PL011_INT_RX | PL011_INT_RT)) && !(mmio_read32(UART(PL011_FR)) & PL011_FR_RXFE)) {
        rx_ring[rx_head % RX_RING] = (uint8_t)mmio_read32(UART(PL011_DR));
        rx_head++;
    }
    if (mis & PL011_INT_TX)
        tx_irqs++;
    if (mis & PL011_INT_OE)
        oe_irqs++;
    mmio_write32(UART(PL011_ICR), mis);
}

void pl011_init(void)
{
    mmio_write32(UART(PL011_CR), 0);
    mmio_write32(UART(PL011_IBRD), 13);     /* 24 MHz / (16 * 115200) = 13.02 */
    mmio_write32(UART(PL011_FBRD), 1);
    mmio_write32(UART(PL011_LCR_H), PL011_LCRH_FEN | PL011_LCRH_WLEN8);
    mmio_write32(UART(PL011_CR), PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE);
}

static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        failures++;
        rt_printf("pl011: FAIL %s: got 0x%x want 0x%x\n", what, (unsigned)got, (unsigned)want);
    }
}

/* Bytes the handler collected; waits (sleeping) for up to `spins` wake-ups. */
static uint32_t rx_wait(uint32_t n, uint32_t spins)
{
    while (rx_head - rx_tail < n && spins--)
        wfi();
    return rx_head - rx_tail;
}

static uint8_t rx_take(void)
{
    return rx_ring[rx_tail++ % RX_RING];
}

int pl011_selftest(void)
{
    failures = 0;
    /* Reset values, before anyone configured the UART. */
    check("FR at reset", mmio_read32(UART(PL011_FR)), PL011_FR_TXFE | PL011_FR_RXFE);
    check("CR at reset", mmio_read32(UART(PL011_CR)), PL011_CR_TXE | PL011_CR_RXE);
    check("IFLS at reset", mmio_read32(UART(PL011_IFLS)), 0x12);
    check("IMSC at reset", mmio_read32(UART(PL011_IMSC)), 0);
    for (unsigned i = 0; i < 8; i++)
        check("ID register", mmio_read32(UART(0xfe0 + 4 * i)), pl011_ids[i]);
    pl011_init();
    rt_printf("pl011: reset values and IDs checked\n");

    /* Register widths. */
    mmio_write32(UART(PL011_IBRD), 0xffffffffu);
    check("IBRD width", mmio_read32(UART(PL011_IBRD)), 0xffff);
    mmio_write32(UART(PL011_FBRD), 0xffffffffu);
    check("FBRD width", mmio_read32(UART(PL011_FBRD)), 0x3f);
    mmio_write32(UART(PL011_DMACR), 0xffffffffu);
    check("DMACR width", mmio_read32(UART(PL011_DMACR)), 0x7);
    mmio_write32(UART(PL011_DMACR), 0);
    pl011_init();
    rt_printf("pl011: register widths checked\n");

    /* Loopback, polled: nothing leaves, everything comes back in order. */
    uint32_t on = PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE;
    mmio_write32(UART(PL011_ICR), 0x7ff);
    mmio_write32(UART(PL011_CR), on | PL011_CR_LBE);
    static const char msg[] = "loop!";
    for (unsigned i = 0; i < 5; i++)
        mmio_write32(UART(PL011_DR), (uint8_t)msg[i]);
    uint32_t ris = mmio_read32(UART(PL011_RIS));
    for (unsigned i = 0; i < 5; i++)
        check("loopback byte", mmio_read32(UART(PL011_DR)) & 0xff, (uint8_t)msg[i]);
    check("FR after drain", mmio_read32(UART(PL011_FR)), PL011_FR_TXFE | PL011_FR_RXFE);
    check("RIS after 5 looped bytes", ris, PL011_INT_TX | PL011_INT_RT);
    check("RIS after drain", mmio_read32(UART(PL011_RIS)), PL011_INT_TX);

    /* Loopback, interrupt-driven: RX at the trigger level (1/2 = 8 bytes). */
    mmio_write32(UART(PL011_ICR), 0x7ff);
    mmio_write32(UART(PL011_IMSC), PL011_INT_RX | PL011_INT_TX);
    nvic_enable(UART0_IRQ);
    irq_enable();
    for (unsigned i = 0; i < 7; i++)
        mmio_write32(UART(PL011_DR), 'a' + i);
    uint32_t tx = tx_irqs;
    check("no RX interrupt below the trigger", rx_head - rx_tail, 0);
    mmio_write32(UART(PL011_DR), 'h');
    check("RX interrupt at the trigger drains 8", rx_wait(8, 4), 8);
    for (unsigned i = 0; i < 8; i++)
        check("looped byte via IRQ", rx_take(), 'a' + i);
    check("TX interrupts seen", tx > 0, 1);
    mmio_write32(UART(PL011_CR), on);
    rt_printf("pl011: loopback polled and by interrupt checked\n");

    /* Overrun: the FIFO holds 16; the 17th is lost and flagged. */
    mmio_write32(UART(PL011_IMSC), 0);
    mmio_write32(UART(PL011_CR), on | PL011_CR_LBE);
    for (unsigned i = 0; i < 17; i++)
        mmio_write32(UART(PL011_DR), 'A' + i);
    check("FR full", mmio_read32(UART(PL011_FR)) & PL011_FR_RXFF, PL011_FR_RXFF);
    check("RSR overrun", mmio_read32(UART(PL011_RSR)), 0x8);
    check("RIS overrun", mmio_read32(UART(PL011_RIS)) & PL011_INT_OE, PL011_INT_OE);
    for (unsigned i = 0; i < 16; i++)
        check("FIFO order", mmio_read32(UART(PL011_DR)) & 0xff, 'A' + i);
    mmio_write32(UART(PL011_RSR), 0);
    check("RSR cleared", mmio_read32(UART(PL011_RSR)), 0);
    mmio_write32(UART(PL011_ICR), 0x7ff);
    check("RIS cleared", mmio_read32(UART(PL011_RIS)), 0);
    mmio_write32(UART(PL011_CR), on);
    rt_printf("pl011: overrun checked\n");

    /* The host side: receive interrupts with timeout (RT) below the trigger. */
    mmio_write32(UART(PL011_IMSC), PL011_INT_RX | PL011_INT_RT);
    rt_printf("pl011: rx>\n");
    uint32_t got = rx_wait(4, 200);
    check("host bytes received", got, 4);
    if (got >= 4) {
        static const char ping[] = "ping";
        for (unsigned i = 0; i < 4; i++)
            check("host byte", rx_take(), (uint8_t)ping[i]);
    }
    mmio_write32(UART(PL011_IMSC), 0);
    rt_printf("pl011: host receive checked\n");
    rt_printf("pl011: selftest %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}

#define WORKLOAD_IMSC (PL011_INT_RX | PL011_INT_RT | PL011_INT_OE)

static uint32_t workload_sum;
static uint32_t workload_polls;

void pl011_workload_init(void)
{
    mmio_write32(UART(PL011_ICR), 0x7ff);
    mmio_write32(UART(PL011_IMSC), WORKLOAD_IMSC);
    nvic_enable(UART0_IRQ);
}

/*
 * A receive overrun on purpose: receive interrupts masked, then in loopback
 * 17 bytes into the 16-byte FIFO. The FIFO is left full, so RSR keeps the
 * overrun error (reading DR would replace it with the byte's status) until
 * the next phase unmasks the interrupts and the handler drains the FIFO.
 * Host bytes arriving meanwhile are lost to further overruns.
 */
static void pl011_overrun(void)
{
    uint32_t cr = mmio_read32(UART(PL011_CR));
    while (!(mmio_read32(UART(PL011_FR)) & PL011_FR_TXFE))
        ;
    irq_disable();
    mmio_write32(UART(PL011_IMSC), 0);
    mmio_write32(UART(PL011_CR), cr | PL011_CR_LBE);
    for (unsigned i = 0; i < 17; i++)
        mmio_write32(UART(PL011_DR), 'A' + i);
    mmio_write32(UART(PL011_CR), cr);
    mmio_write32(UART(PL011_ICR), 0x7ff);
    irq_enable();
}

/*
 * Every 64 polls, a phase: odd phases set the DMA enables (there is no DMA
 * controller; the model only stores them), a new IrDA divisor and other
 * FIFO trigger levels; even phases restore DMACR 0 and the reset trigger
 * levels. The console polls TXFF and the receive path has the timeout
 * interrupt, so neither depends on these settings. One phase in four
 * overruns the receive FIFO and holds it full until the next phase.
 */
static void pl011_workload_phase(uint32_t p)
{
    if ((p & 3) == 1)
        pl011_overrun();
    else
        mmio_write32(UART(PL011_IMSC), WORKLOAD_IMSC);
    static const uint8_t ifls[] = { 0x00, 0x09, 0x1b, 0x24 };  /* RX/TX levels 1/8..7/8 */
    if (p & 1) {
        mmio_write32(UART(PL011_DMACR), (p >> 1) % 7 + 1);
        mmio_write32(UART(PL011_ILPR), (p * 0x47u) & 0xff);
        mmio_write32(UART(PL011_IFLS), ifls[(p >> 1) & 3]);
    } else {
        mmio_write32(UART(PL011_DMACR), 0);
        mmio_write32(UART(PL011_IFLS), 0x12);
    }
}

uint32_t pl011_workload_poll(void)
{
    if ((workload_polls++ & 63) == 32)
        pl011_workload_phase(workload_polls >> 6);
    while (rx_tail != rx_head)
        workload_sum = workload_sum * 31u + rx_take();
    return workload_sum ^ (oe_irqs << 24);
}
