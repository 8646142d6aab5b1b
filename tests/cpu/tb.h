/*
 * tb.h - a flat test bench for the core: flash at 0, SRAM at 0x20000000,
 * one test register at 0x40000000 and a bus error everywhere else.
 */
#ifndef VMSTRESS_TESTS_TB_H
#define VMSTRESS_TESTS_TB_H

#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "thumb.h"

#define TB_FLASH_SIZE 0x10000u
#define TB_SRAM_BASE 0x20000000u
#define TB_SRAM_SIZE 0x10000u
#define TB_DEV_REG 0x40000000u

typedef struct TB {
    uint8_t flash[TB_FLASH_SIZE];
    uint8_t sram[TB_SRAM_SIZE];
    VClock clock;
    CpuBus bus;
    Cpu *cpu;
    unsigned sysresets;
    bool reset_on_sysreset;     /* behave like a machine: reset the core in the callback */
    uint32_t dev_reg;
    unsigned dev_writes;
} TB;

static bool tb_read(void *opaque, uint32_t addr, unsigned size, uint32_t *val)
{
    TB *tb = opaque;
    if (addr != TB_DEV_REG)
        return false;
    *val = tb->dev_reg;
    return true;
}

static bool tb_write(void *opaque, uint32_t addr, unsigned size, uint32_t val)
{
    TB *tb = opaque;
    if (addr != TB_DEV_REG)
        return false;
    tb->dev_reg = val;
    tb->dev_writes++;
    return true;
}

static void tb_sysreset(void *opaque)
{
    TB *tb = opaque;
    tb->sysresets++;
    if (tb->reset_on_sysreset)
        cpu_reset(tb->cpu);
}

static inline void tb_w16(TB *tb, uint32_t addr, uint16_t v)
{
    uint8_t *p = addr >= TB_SRAM_BASE ? tb->sram + (addr - TB_SRAM_BASE) : tb->flash + addr;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void tb_w32(TB *tb, uint32_t addr, uint32_t v)
{
    tb_w16(tb, addr, (uint16_t)v);
    tb_w16(tb, addr + 2, (uint16_t)(v >> 16));
}

static inline uint32_t tb_r32(const TB *tb, uint32_t addr)
{
    const uint8_t *p = addr >= TB_SRAM_BASE ? tb->sram + (addr - TB_SRAM_BASE) : tb->flash + addr;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Write halfwords starting at addr; returns the address after them. */
static inline uint32_t tb_code(TB *tb, uint32_t addr, const uint16_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++, addr += 2)
        tb_w16(tb, addr, h[i]);
    return addr;
}
#define CODE(tb, addr, ...) \
    tb_code((tb), (addr), (const uint16_t[]){ __VA_ARGS__ }, sizeof((const uint16_t[]){ __VA_ARGS__ }) / 2)
#define W32(x) (uint16_t)((x) >> 16), (uint16_t)(x)

/* LDR rt, [pc, #..] at insn_addr loading `value` from pool (word aligned, after the insn). */
static inline uint16_t tb_ldr_lit(TB *tb, uint32_t insn_addr, unsigned rt, uint32_t value, uint32_t pool)
{
    tb_w32(tb, pool, value);
    return T_LDR_LIT(rt, (pool - ((insn_addr + 4) & ~3u)) / 4);
}

/* Vector table: SP, reset at 0x100; HardFault 0x200, SVC 0x300, PendSV 0x340,
 * SysTick 0x380, IRQ n at 0x400 + 0x40 * n; each handler defaults to "B .". */
#define TB_SP0 0x20008000u
#define TB_RESET 0x100u
#define TB_HARDFAULT 0x200u
#define TB_SVC 0x300u
#define TB_PENDSV 0x340u
#define TB_SYSTICK 0x380u
#define TB_IRQ(n) (0x400u + 0x40u * (n))

static inline TB *tb_new(void)
{
    TB *tb = calloc(1, sizeof *tb);
    vclock_init(&tb->clock);
    tb->bus = (CpuBus){
        .opaque = tb, .flash = tb->flash, .flash_size = TB_FLASH_SIZE,
        .sram = tb->sram, .sram_base = TB_SRAM_BASE, .sram_size = TB_SRAM_SIZE,
        .read = tb_read, .write = tb_write, .sysreset = tb_sysreset, .clock = &tb->clock,
    };
    tb_w32(tb, 0, TB_SP0);
    tb_w32(tb, 4, TB_RESET | 1);
    tb_w32(tb, 4 * 3, TB_HARDFAULT | 1);
    tb_w32(tb, 4 * 11, TB_SVC | 1);
    tb_w32(tb, 4 * 14, TB_PENDSV | 1);
    tb_w32(tb, 4 * 15, TB_SYSTICK | 1);
    for (unsigned n = 0; n < 32; n++)
        tb_w32(tb, 4 * (16 + n), TB_IRQ(n) | 1);
    for (uint32_t a = TB_HARDFAULT; a < TB_IRQ(32); a += 2)
        tb_w16(tb, a, T_B(-2));
    tb->cpu = cpu_new(&tb->bus);
    return tb;
}

static inline void tb_free(TB *tb)
{
    cpu_free(tb->cpu);
    free(tb);
}

/* Execute exactly n instructions (no sleeping involved). */
static inline void tb_steps(TB *tb, unsigned n)
{
    cpu_exec(tb->cpu, n);
}

#endif
