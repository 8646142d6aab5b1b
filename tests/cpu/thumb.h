/*
 * thumb.h - a tiny Thumb (ARMv6-M) encoder for the CPU tests, plus a flat
 * test bus. Each T_* returns one 16-bit encoding; T32_* return hw1 << 16 | hw2.
 */
#ifndef VMSTRESS_TESTS_THUMB_H
#define VMSTRESS_TESTS_THUMB_H

#include <stdint.h>

#define T_LSL_I(d, m, i)  ((uint16_t)(0x0000 | (i) << 6 | (m) << 3 | (d)))
#define T_LSR_I(d, m, i)  ((uint16_t)(0x0800 | (i) << 6 | (m) << 3 | (d)))
#define T_ASR_I(d, m, i)  ((uint16_t)(0x1000 | (i) << 6 | (m) << 3 | (d)))
#define T_ADDS_R(d, n, m) ((uint16_t)(0x1800 | (m) << 6 | (n) << 3 | (d)))
#define T_SUBS_R(d, n, m) ((uint16_t)(0x1A00 | (m) << 6 | (n) << 3 | (d)))
#define T_ADDS_I3(d, n, i) ((uint16_t)(0x1C00 | (i) << 6 | (n) << 3 | (d)))
#define T_SUBS_I3(d, n, i) ((uint16_t)(0x1E00 | (i) << 6 | (n) << 3 | (d)))
#define T_MOVS_I(d, i)    ((uint16_t)(0x2000 | (d) << 8 | (i)))
#define T_CMP_I(n, i)     ((uint16_t)(0x2800 | (n) << 8 | (i)))
#define T_ADDS_I8(d, i)   ((uint16_t)(0x3000 | (d) << 8 | (i)))
#define T_SUBS_I8(d, i)   ((uint16_t)(0x3800 | (d) << 8 | (i)))
#define T_DP(op, dn, m)   ((uint16_t)(0x4000 | (op) << 6 | (m) << 3 | (dn)))
#define T_ADD_HI(dn, m)   ((uint16_t)(0x4400 | ((dn) & 8) << 4 | (m) << 3 | ((dn) & 7)))
#define T_CMP_HI(n, m)    ((uint16_t)(0x4500 | ((n) & 8) << 4 | (m) << 3 | ((n) & 7)))
#define T_MOV_HI(d, m)    ((uint16_t)(0x4600 | ((d) & 8) << 4 | (m) << 3 | ((d) & 7)))
#define T_BX(m)           ((uint16_t)(0x4700 | (m) << 3))
#define T_BLX(m)          ((uint16_t)(0x4780 | (m) << 3))
#define T_LDR_LIT(t, i)   ((uint16_t)(0x4800 | (t) << 8 | (i)))
#define T_LS_REG(op, t, n, m) ((uint16_t)(0x5000 | (op) << 9 | (m) << 6 | (n) << 3 | (t)))
#define T_STR_I(t, n, i)  ((uint16_t)(0x6000 | (i) << 6 | (n) << 3 | (t)))
#define T_LDR_I(t, n, i)  ((uint16_t)(0x6800 | (i) << 6 | (n) << 3 | (t)))
#define T_STRB_I(t, n, i) ((uint16_t)(0x7000 | (i) << 6 | (n) << 3 | (t)))
#define T_LDRB_I(t, n, i) ((uint16_t)(0x7800 | (i) << 6 | (n) << 3 | (t)))
#define T_STRH_I(t, n, i) ((uint16_t)(0x8000 | (i) << 6 | (n) << 3 | (t)))
#define T_LDRH_I(t, n, i) ((uint16_t)(0x8800 | (i) << 6 | (n) << 3 | (t)))
#define T_STR_SP(t, i)    ((uint16_t)(0x9000 | (t) << 8 | (i)))
#define T_LDR_SP(t, i)    ((uint16_t)(0x9800 | (t) << 8 | (i)))
#define T_ADR(d, i)       ((uint16_t)(0xA000 | (d) << 8 | (i)))
#define T_ADD_RSP(d, i)   ((uint16_t)(0xA800 | (d) << 8 | (i)))
#define T_ADD_SP(i)       ((uint16_t)(0xB000 | (i)))
#define T_SUB_SP(i)       ((uint16_t)(0xB080 | (i)))
#define T_EXT(op, d, m)   ((uint16_t)(0xB200 | (op) << 6 | (m) << 3 | (d)))  /* SXTH SXTB UXTH UXTB */
#define T_PUSH(list, lr)  ((uint16_t)(0xB400 | (lr) << 8 | (list)))
#define T_CPSIE           ((uint16_t)0xB662)
#define T_CPSID           ((uint16_t)0xB672)
#define T_REV(op, d, m)   ((uint16_t)(0xBA00 | (op) << 6 | (m) << 3 | (d)))  /* 0 REV, 1 REV16, 3 REVSH */
#define T_POP(list, pc)   ((uint16_t)(0xBC00 | (pc) << 8 | (list)))
#define T_BKPT(i)         ((uint16_t)(0xBE00 | (i)))
#define T_HINT(op)        ((uint16_t)(0xBF00 | (op) << 4))                   /* NOP YIELD WFE WFI SEV */
#define T_NOP             T_HINT(0)
#define T_WFE             T_HINT(2)
#define T_WFI             T_HINT(3)
#define T_SEV             T_HINT(4)
#define T_STM(n, list)    ((uint16_t)(0xC000 | (n) << 8 | (list)))
#define T_LDM(n, list)    ((uint16_t)(0xC800 | (n) << 8 | (list)))
#define T_BCOND(c, off)   ((uint16_t)(0xD000 | (c) << 8 | ((off) & 0xff)))      /* off in halfwords */
#define T_UDF(i)          ((uint16_t)(0xDE00 | (i)))
#define T_SVC(i)          ((uint16_t)(0xDF00 | (i)))
#define T_B(off)          ((uint16_t)(0xE000 | ((off) & 0x7ff)))

static inline uint32_t t32_bl(int32_t off /* bytes from pc+4 */)
{
    uint32_t imm = (uint32_t)off >> 1;
    uint32_t s = (uint32_t)off >> 31 & 1;
    uint32_t i1 = (imm >> 22) & 1, i2 = (imm >> 21) & 1;
    uint32_t j1 = !(i1 ^ s), j2 = !(i2 ^ s);
    uint32_t hw1 = 0xF000 | s << 10 | (imm >> 11 & 0x3ff);
    uint32_t hw2 = 0xD000 | j1 << 13 | j2 << 11 | (imm & 0x7ff);
    return hw1 << 16 | hw2;
}
#define T32_MRS(d, sysm)  (0xF3EF8000u | (uint32_t)(d) << 8 | (sysm))
#define T32_MSR(n, sysm)  (0xF3808800u | (uint32_t)(n) << 16 | (sysm))
#define T32_DSB           0xF3BF8F4Fu
#define T32_DMB           0xF3BF8F5Fu
#define T32_ISB           0xF3BF8F6Fu
#define T32_UDF(i)        (0xF7F0A000u | ((i) >> 12 & 15) << 16 | ((i) & 0xfff))

#endif
