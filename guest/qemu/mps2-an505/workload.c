/*
 * mps2-an505 workload (IoT kit subsystem, Cortex-M33, running Secure as it
 * boots). Every device QEMU 7.2 models on the board that a guest can reach
 * (hw/arm/mps2-tz.c for the AN505, hw/arm/armsse.c for the IoT kit; checked
 * against QEMU's `info mtree`):
 *
 *  - the kit's timers 0 and 1, its dual timer (both halves) and its 32 kHz
 *    timer, periodic with interrupts; the Non-secure watchdog with its
 *    interrupt (no reset); the Secure and 32 kHz watchdogs counting and fed
 *    (their interrupt is the NMI, which the runtime treats as a fault);
 *  - the SAU's ALLNS (the IDAU then makes addresses without bit 28
 *    Non-secure, for the core's accesses too);
 *  - the security controller as Secure firmware sets it up: it opens UARTs
 *    1-4 and the FPGA I/O to Non-secure (APBNSPPCEXP1/2, and the privilege
 *    registers of both sides), makes DMA 3's master Non-secure (NSMSCEXP),
 *    and enables the bridge-error interrupts;
 *  - the memory protection controller of SSRAM 2: the last block made
 *    Non-secure (BLK_IDX/BLK_LUT), written through its Non-secure alias by
 *    the core and by DMA 3; its interrupt raised every eighth iteration
 *    with INT_SET (IRQ 9, cleared through INT_CLEAR): a Secure access to
 *    the block, which should raise it, takes a BusFault in QEMU 7.2 even
 *    with CTRL.SEC_RESP clear (rejected at tz-mpc-upstream);
 *  - the system control block (RESET_MASK, GRETREG, INITSVTOR0 written with
 *    the boot value, WICCTRL) and the system information block (read);
 *  - UART0 transmit and receive; UARTs 1-4 transmitting at their
 *    Non-secure addresses with TX interrupts (no chardev behind them: QEMU's
 *    CMSDK UART drains the byte at once and raises TX). The TX interrupts
 *    arrive on lines 35, 37, 39, 41 (measured with -trace nvic_set_pending;
 *    mps2-tz.c lists 34, 35 for UART 1's TX and RX);
 *  - the four PL081 DMA controllers copying memory, 0-2 with their TC
 *    interrupts (57, 60, 63), 3 polled (its line, 66, is past the
 *    runtime's 64 vectors);
 *  - the five PL022 SPI controllers in loopback (polled: the PL022 TX
 *    interrupt is asserted whenever the TX FIFO is half empty, a storm);
 *  - the four SBCon I2C controllers' lines; the SCC (CFG1, CFGDATA_OUT, a
 *    CFGCTRL read of OSCCLK 0, the DLL mask); the FPGA I/O (LEDs, PRESCALE,
 *    MISC; COUNTER, PSCNTR, CLK1HZ, CLK100HZ read); SysTick.
 *
 * Not driven: the LAN9118 (no network backend on the twins' command line),
 * the GPIO blocks and the graphics (unimplemented devices in QEMU 7.2), the
 * PPC interrupt (QEMU 7.2's SECPPCINTCLR drives the PPC's irq_clear with the
 * status bit *after* clearing it, 0, so the PPC's irq_status never clears
 * and the line would stay asserted: iotkit_secctl_ppc_update_irq_clear),
 * the MSC interrupt (only a blocked DMA raises it).
 *
 * Lost configuration is made visible to the twins, as stm32.h does: every
 * register written once is read back at start (what QEMU's model keeps of
 * the write) and compared every iteration; a change without a guest write
 * counts in an505_lost, with its address and value in an505_lost_addr and
 * an505_lost_value (guest RAM, which state equality compares).
 *
 * Addresses: Secure devices at their Secure alias (bit 28 set; see
 * memory.ld), the ones opened to Non-secure at their Non-secure address.
 */
#include "qrt.h"

#define TIMER0  0x50000000u
#define TIMER1  0x50001000u
#define DUALT   0x50002000u
#define SYSINFO 0x40020000u   /* readable from both states */
#define SYSCTL  0x50021000u
#define S32KWD  0x5002E000u
#define S32KT   0x5002F000u
#define SECCTL  0x50080000u
#define NSSECCTL 0x40080000u  /* the security controller's Non-secure block */
#define SWDOG   0x50081000u
#define NSWDOG  0x40081000u
#define UART0   0x50200000u
#define SCC     0x50300000u
#define FPGAIO  0x40302000u   /* opened to Non-secure */
#define MPC2    0x58009000u   /* SSRAM 2's MPC */
#define SSRAM2_NS 0x28200000u
#define SSRAM2_SIZE 0x00200000u

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
static const uint32_t more_uarts[] = { 0x40201000u, 0x40202000u, 0x40203000u, 0x40204000u };
static const uint32_t pl022s[] = { 0x50205000u, 0x50206000u, 0x50209000u, 0x5020A000u, 0x5020B000u };
static const uint32_t sbcons[] = { 0x50207000u, 0x50208000u, 0x5020C000u, 0x5020D000u };
static const uint32_t dmas[] = { 0x50110000u, 0x50111000u, 0x50112000u, 0x50113000u };

const QrtIrq board_irqs[] = {
    { 3, TIMER0 + 0x0C, 1, 1 },   /* timer 0: INTCLEAR */
    { 4, TIMER1 + 0x0C, 1, 2 },   /* timer 1 */
    { 2, S32KT + 0x0C, 1, 2 },    /* S32K timer */
    { 5, DUALT + 0x0C, 1, 3 },    /* dual timer: Timer1IntClr */
    { 5, DUALT + 0x2C, 1, 3 },    /* and Timer2IntClr */
    { 1, NSWDOG + 0x0C, 1, 3 },   /* Non-secure watchdog: WDOGINTCLR reloads */
    { 9, MPC2 + 0x24, 1, 1 },     /* MPC: INT_CLEAR */
    { 35, 0x40201000u + 0x0C, 1, 2 },   /* UART 1-4 TX: INTSTATUS.TX */
    { 37, 0x40202000u + 0x0C, 1, 2 },
    { 39, 0x40203000u + 0x0C, 1, 2 },
    { 41, 0x40204000u + 0x0C, 1, 2 },
    { 57, 0x50110000u + 0x08, 1, 3 },   /* DMA 0-2 DMACINTTC: IntTCClear */
    { 60, 0x50111000u + 0x08, 1, 3 },
    { 63, 0x50112000u + 0x08, 1, 3 },
};
const unsigned board_nirqs = sizeof(board_irqs) / sizeof(board_irqs[0]);

#include "cmsdk.h"     /* board_rx, board_getc, board_putc, the timers */

volatile uint32_t an505_data;   /* DMA, SPI, counters and RAM read back, summed */
volatile uint32_t an505_lost, an505_lost_addr, an505_lost_value;

/* The registers written once, and what they read back after start-up. */
#define AN505_MAX_REFS 96
typedef struct { uint32_t addr, value; } An505Ref;
static An505Ref an505_refs[AN505_MAX_REFS];
static unsigned an505_nrefs;
static uint32_t mpc_lut_idx, mpc_lut_value;   /* checked through BLK_IDX */
static uint32_t ns_block;                     /* offset of the Non-secure block */

static void set_kept(uint32_t addr, uint32_t value)
{
    REG32(addr) = value;
    if (an505_nrefs < AN505_MAX_REFS)
        an505_refs[an505_nrefs++].addr = addr;
}

static void note_lost(uint32_t addr, uint32_t value)
{
    an505_lost++;
    an505_lost_addr = addr;
    an505_lost_value = value;
}

static void refs_check(void)
{
    for (unsigned r = 0; r < an505_nrefs; r++) {
        uint32_t v = REG32(an505_refs[r].addr);
        if (v != an505_refs[r].value)
            note_lost(an505_refs[r].addr, v);
    }
    REG32(MPC2 + 0x18) = mpc_lut_idx;             /* BLK_IDX */
    uint32_t lut = REG32(MPC2 + 0x1C);            /* BLK_LUT */
    if (lut != mpc_lut_value)
        note_lost(MPC2 + 0x1C, lut);
}

static void watchdog_start(uint32_t base, uint32_t load, uint32_t ctrl)
{
    REG32(base + 0xC00) = 0x1ACCE551; /* LOCK: unlock */
    REG32(base + 0x00) = load;        /* LOAD */
    set_kept(base + 0x08, ctrl);      /* CTRL: bit 0 interrupt, bit 1 reset */
}

/* The security controller, as Secure firmware opens devices: UART 1-4
 * (APB expansion 1 ports 6-9) and the FPGA I/O (expansion 2 port 2) become
 * Non-secure, unprivileged access is allowed on the Secure expansion ports,
 * DMA 3's master becomes Non-secure (MSC 3, NSMSCEXP bit 19). */
static void secctl_start(void)
{
    set_kept(SECCTL + 0x84, 0xFu << 6);        /* APBNSPPCEXP1 */
    set_kept(SECCTL + 0x88, 1u << 2);          /* APBNSPPCEXP2 */
    set_kept(SECCTL + 0xC4, 0x3C3Fu);          /* APBSPPPCEXP1: the Secure ports */
    set_kept(SECCTL + 0xC8, 1u << 0);          /* APBSPPPCEXP2: SCC */
    set_kept(SECCTL + 0xA4, 0x7u);             /* AHBSPPPCEXP1: DMA 0-2 */
    set_kept(NSSECCTL + 0xC4, 0xFu << 6);      /* APBNSPPPCEXP1: UART 1-4 */
    set_kept(NSSECCTL + 0xC8, 1u << 2);        /* APBNSPPPCEXP2: FPGA I/O */
    set_kept(SECCTL + 0xD0, 1u << 19);         /* NSMSCEXP: DMA 3 */
    set_kept(SECCTL + 0x48, 0xFFFF0000u);      /* BRGINTEN */
    set_kept(SECCTL + 0x10, 0);                /* SECRESPCFG: RAZ/WI */
}

/* SSRAM 2's MPC: its last block Non-secure, the interrupt on. */
static void mpc_start(void)
{
    uint32_t bsize = 1u << (REG32(MPC2 + 0x14) + 5);   /* BLK_CFG */
    uint32_t block = SSRAM2_SIZE / bsize - 1;
    ns_block = block * bsize;
    mpc_lut_idx = block / 32;
    set_kept(MPC2 + 0x00, 0);                           /* CTRL: RAZ/WI, no autoinc */
    REG32(MPC2 + 0x18) = mpc_lut_idx;                   /* BLK_IDX */
    REG32(MPC2 + 0x1C) = 1u << (block % 32);            /* BLK_LUT: Non-secure */
    mpc_lut_value = REG32(MPC2 + 0x1C);
    set_kept(MPC2 + 0x28, 1);                           /* INT_EN */
}

/* DMA channel 0 copies src to dst, 16 words, memory to memory. QEMU's PL081
 * runs the whole transfer when the channel is enabled, through the MSC in
 * front of it (Secure for DMA 0-2, Non-secure for DMA 3). */
static uint32_t dma_src[3][16], dma_dst[3][16];

static uint32_t dma_copy(uint32_t base, uint32_t *src, uint32_t *dst, uint32_t seed)
{
    for (unsigned i = 0; i < 16; i++)
        src[i] = seed + i;
    REG32(base + 0x008) = 1;                          /* IntTCClear */
    REG32(base + 0x100) = (uint32_t)(uintptr_t)src;
    REG32(base + 0x104) = (uint32_t)(uintptr_t)dst;
    REG32(base + 0x108) = 0;                          /* no linked list */
    REG32(base + 0x10C) = 16u | (2u << 18) | (2u << 21) | (1u << 26) | (1u << 27) | (1u << 31);
    REG32(base + 0x110) = 1u | (1u << 15);            /* enable, TC interrupt unmasked */
    /* QEMU's PL081 updates its interrupt lines only after a write outside
     * the channel registers (pl080_write returns early for those), so the
     * completed transfer's TC interrupt rises at this DMACSync write. */
    REG32(base + 0x034) = 0;                          /* DMACSync */
    uint32_t sum = REG32(base + 0x004);               /* IntTCStatus */
    for (unsigned i = 0; i < 16; i++)
        sum += dst[i];
    return sum;
}

static void more_uarts_send(uint32_t n)
{
    for (unsigned u = 0; u < NELEMS(more_uarts); u++)
        if (!(REG32(more_uarts[u] + 0x04) & 1))        /* STATE.TXFULL clear */
            REG32(more_uarts[u]) = 'a' + ((n + u) & 15);
}

void board_init(void)
{
    REG32(UART0 + 0x10) = 16;         /* BAUDDIV */
    REG32(UART0 + 0x08) = 3;          /* CTRL: TX and RX enable */
    /* With the SAU off every address is Secure unless ALLNS is set; with
     * it, the IDAU decides (bit 28), so the Non-secure addresses are
     * reached Non-secure, as the devices opened above need. */
    set_kept(0xE000EDD0u, 2);         /* SAU_CTRL: ALLNS */
    secctl_start();
    mpc_start();
    cmsdk_timer_start(TIMER0, 4000);
    cmsdk_timer_start(TIMER1, 11111);
    cmsdk_timer_start(S32KT, 3);            /* 32 kHz: every ~92 us */
    cmsdk_dualtimer_start(DUALT, 7000);
    cmsdk_dualtimer_start(DUALT + 0x20, 23456);
    watchdog_start(NSWDOG, 30000, 1);
    watchdog_start(SWDOG, 200000, 0);
    watchdog_start(S32KWD, 5000, 0);
    for (unsigned u = 0; u < NELEMS(more_uarts); u++) {
        set_kept(more_uarts[u] + 0x10, 16 + u);    /* BAUDDIV */
        set_kept(more_uarts[u] + 0x08, 1 | 4);     /* CTRL: TX enable, TX interrupt */
    }
    for (unsigned p = 0; p < NELEMS(pl022s); p++) {
        set_kept(pl022s[p] + 0x10, 2 + 2 * p);     /* CPSR */
        set_kept(pl022s[p] + 0x00, 7);             /* CR0: 8-bit frames */
        set_kept(pl022s[p] + 0x04, 1 | 2);         /* CR1: loopback, enable */
    }
    for (unsigned d = 0; d < NELEMS(dmas); d++)
        set_kept(dmas[d] + 0x030, 1);              /* DMACConfiguration: enable */
    set_kept(SYSCTL + 0x104, 0x5);                 /* RESET_MASK */
    set_kept(SYSCTL + 0x10C, 0xA5A5);              /* GRETREG */
    set_kept(SYSCTL + 0x110, 0x10000000u);         /* INITSVTOR0: the boot value */
    set_kept(SYSCTL + 0x120, 0x3);                 /* WICCTRL */
    set_kept(FPGAIO + 0x1C, 2500);                 /* PRESCALE */
    set_kept(FPGAIO + 0x4C, 0x5);                  /* MISC */
    set_kept(SCC + 0x04, 0x2);                     /* CFG1 */
    set_kept(SCC + 0xA4, 0x12345678);              /* CFGDATA_OUT */
    REG32(SCC + 0xA8) = (1u << 31) | (1u << 20);   /* CFGCTRL: start a read of OSCCLK 0 */
    set_kept(SCC + 0x100, 0xff000000u);            /* DLL: lock mask */
    for (unsigned r = 0; r < an505_nrefs; r++)
        an505_refs[r].value = REG32(an505_refs[r].addr);
    if (an505_nrefs < AN505_MAX_REFS)              /* the system information: read only */
        an505_refs[an505_nrefs++] = (An505Ref){ SYSINFO, REG32(SYSINFO) };
    if (an505_nrefs < AN505_MAX_REFS)
        an505_refs[an505_nrefs++] = (An505Ref){ SYSINFO + 4, REG32(SYSINFO + 4) };
    qrt_enable_irqs();
    more_uarts_send(0);
    qrt_systick_start(2500);
}

void board_step(uint32_t n, uint32_t x)
{
    refs_check();
    REG32(FPGAIO + 0x00) = (n ^ x) & 3;   /* the two LEDs */
    REG32(SWDOG + 0x00) = 200000;         /* feed */
    REG32(S32KWD + 0x00) = 5000;
    REG32(sbcons[n & 3] + ((n & 4) ? 0x00 : 0x04)) = (x >> 8) & 3;   /* SB_CONTROLS set / clear */
    /* The Non-secure block of SSRAM 2, through its Non-secure alias. */
    volatile uint32_t *ns = (volatile uint32_t *)(uintptr_t)(SSRAM2_NS + ns_block);
    ns[n & 15] = x;
    more_uarts_send(n);
    if ((n & 7) != 0)
        return;
    uint32_t sum = REG32(SCC + 0xA0) + REG32(FPGAIO + 0x18) + REG32(FPGAIO + 0x20)
                 + REG32(FPGAIO + 0x14) + REG32(FPGAIO + 0x10);   /* CFGDATA_RTN, COUNTER, PSCNTR, CLK100HZ, CLK1HZ */
    for (unsigned d = 0; d < 3; d++)
        sum += dma_copy(dmas[d], dma_src[d], dma_dst[d], x + d);
    /* DMA 3, Non-secure master: within the Non-secure block. */
    sum += dma_copy(dmas[3], (uint32_t *)(uintptr_t)(SSRAM2_NS + ns_block + 0x100),
                    (uint32_t *)(uintptr_t)(SSRAM2_NS + ns_block + 0x200), x ^ n);
    for (unsigned p = 0; p < NELEMS(pl022s); p++) {
        REG32(pl022s[p] + 0x08) = (x >> p) & 0xff;    /* DR: one frame, looped back */
        while (!(REG32(pl022s[p] + 0x0C) & (1u << 2)))   /* SR.RNE */
            ;
        sum += REG32(pl022s[p] + 0x08);
    }
    /* The MPC's interrupt, raised through INT_SET (a blocked Secure access
     * would take a BusFault in QEMU 7.2 even with CTRL.SEC_RESP clear). */
    REG32(MPC2 + 0x34) = 1;
    sum += REG32(MPC2 + 0x20);                        /* INT_STAT: cleared by now */
    an505_data += sum;
}
