/*
 * aeabi.c - run-time helpers the ARM EABI expects and ARMv6-M lacks in
 * hardware: integer division, 64-bit multiply and shifts.
 *
 * Everything here is written with 32-bit operations only, so the compiler
 * cannot turn a helper into a call to itself. Division by zero returns a
 * quotient of 0 and the dividend as remainder (deterministic, no trap).
 */
#include "rt.h"

/* Restoring shift-subtract division: at most 32 steps, no lookup tables. */
static uint32_t udiv32(uint32_t n, uint32_t d, uint32_t *rem)
{
    if (d == 0) {
        *rem = n;
        return 0;
    }
    uint32_t q = 0, r = 0;
    for (int i = 31; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1u);
        if (r >= d) {
            r -= d;
            q |= 1u << i;
        }
    }
    *rem = r;
    return q;
}

uint32_t __aeabi_uidiv(uint32_t n, uint32_t d)
{
    uint32_t r;
    return udiv32(n, d, &r);
}

int32_t __aeabi_idiv(int32_t n, int32_t d)
{
    uint32_t r;
    uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t q = udiv32(un, ud, &r);
    return (int32_t)(((n < 0) != (d < 0)) ? 0u - q : q);
}

/* The divmod helpers return {quotient in r0, remainder in r1}; a 64-bit
 * return value occupies exactly r0:r1 (low word in r0) under the AAPCS. */
uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d)
{
    uint32_t r;
    uint32_t q = udiv32(n, d, &r);
    return ((uint64_t)r << 32) | q;
}

uint64_t __aeabi_idivmod(int32_t n, int32_t d)
{
    uint32_t r;
    uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t q = udiv32(un, ud, &r);
    if ((n < 0) != (d < 0))
        q = 0u - q;
    if (n < 0)
        r = 0u - r;     /* remainder takes the dividend's sign (C semantics) */
    return ((uint64_t)r << 32) | q;
}

/* 64-bit values as two words, so nothing below needs a 64-bit helper. */
typedef union {
    uint64_t v;
    struct { uint32_t lo, hi; } w;
} RtU64;

uint64_t __aeabi_llsl(uint64_t v, int n)
{
    RtU64 a = { .v = v }, r;
    n &= 63;
    if (n == 0)
        return v;
    if (n >= 32) {
        r.w.hi = a.w.lo << (n - 32);
        r.w.lo = 0;
    } else {
        r.w.hi = (a.w.hi << n) | (a.w.lo >> (32 - n));
        r.w.lo = a.w.lo << n;
    }
    return r.v;
}

uint64_t __aeabi_llsr(uint64_t v, int n)
{
    RtU64 a = { .v = v }, r;
    n &= 63;
    if (n == 0)
        return v;
    if (n >= 32) {
        r.w.lo = a.w.hi >> (n - 32);
        r.w.hi = 0;
    } else {
        r.w.lo = (a.w.lo >> n) | (a.w.hi << (32 - n));
        r.w.hi = a.w.hi >> n;
    }
    return r.v;
}

int64_t __aeabi_lasr(int64_t v, int n)
{
    RtU64 a = { .v = (uint64_t)v }, r;
    uint32_t sign = (a.w.hi & 0x80000000u) ? 0xFFFFFFFFu : 0;
    n &= 63;
    if (n == 0)
        return v;
    if (n >= 32) {
        r.w.lo = (uint32_t)((int32_t)a.w.hi >> (n - 32));
        r.w.hi = sign;
    } else {
        r.w.lo = (a.w.lo >> n) | (a.w.hi << (32 - n));
        r.w.hi = (uint32_t)((int32_t)a.w.hi >> n);
    }
    return (int64_t)r.v;
}

/* 32x32 -> 64 from 16-bit halves (MULS gives only the low word). */
static RtU64 umul32x32(uint32_t a, uint32_t b)
{
    uint32_t al = a & 0xFFFFu, ah = a >> 16, bl = b & 0xFFFFu, bh = b >> 16;
    uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint32_t mid = (ll >> 16) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
    RtU64 r;
    r.w.lo = (ll & 0xFFFFu) | (mid << 16);
    r.w.hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
    return r;
}

uint64_t __aeabi_lmul(uint64_t x, uint64_t y)
{
    RtU64 a = { .v = x }, b = { .v = y };
    RtU64 r = umul32x32(a.w.lo, b.w.lo);
    r.w.hi += a.w.lo * b.w.hi + a.w.hi * b.w.lo;
    return r.v;
}

/* 64-bit unsigned division, bit by bit on word pairs. */
static uint64_t udiv64(uint64_t nv, uint64_t dv, uint64_t *remv)
{
    RtU64 n = { .v = nv }, d = { .v = dv }, q = { .v = 0 }, r = { .v = 0 };
    if (d.w.lo == 0 && d.w.hi == 0) {
        *remv = nv;
        return 0;
    }
    for (int i = 63; i >= 0; i--) {
        uint32_t bit = i >= 32 ? (n.w.hi >> (i - 32)) & 1u : (n.w.lo >> i) & 1u;
        r.w.hi = (r.w.hi << 1) | (r.w.lo >> 31);
        r.w.lo = (r.w.lo << 1) | bit;
        if (r.w.hi > d.w.hi || (r.w.hi == d.w.hi && r.w.lo >= d.w.lo)) {
            uint32_t borrow = r.w.lo < d.w.lo;
            r.w.lo -= d.w.lo;
            r.w.hi -= d.w.hi + borrow;
            if (i >= 32)
                q.w.hi |= 1u << (i - 32);
            else
                q.w.lo |= 1u << i;
        }
    }
    *remv = r.v;
    return q.v;
}

uint64_t rt_udivmod64(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t rt_udivmod64(uint64_t n, uint64_t d, uint64_t *rem) { return udiv64(n, d, rem); }

int64_t rt_sdivmod64(int64_t n, int64_t d, int64_t *rem);
int64_t rt_sdivmod64(int64_t n, int64_t d, int64_t *rem)
{
    RtU64 un = { .v = (uint64_t)n }, ud = { .v = (uint64_t)d };
    int nneg = (int)(un.w.hi >> 31), dneg = (int)(ud.w.hi >> 31);
    uint64_t r, q;
    if (nneg)
        un.v = 0 - un.v;
    if (dneg)
        ud.v = 0 - ud.v;
    q = udiv64(un.v, ud.v, &r);
    if (nneg != dneg)
        q = 0 - q;
    if (nneg)
        r = 0 - r;
    *rem = (int64_t)r;
    return (int64_t)q;
}

/* {quotient in r0:r1, remainder in r2:r3}: a C function cannot return that,
 * so a small wrapper passes a stack slot for the remainder and loads it. */
__attribute__((naked)) void __aeabi_uldivmod(void)
{
    __asm__ volatile(
        "push {r4, lr}\n"
        "sub sp, #16\n"
        "add r4, sp, #8\n"
        "str r4, [sp]\n"
        "bl rt_udivmod64\n"
        "ldr r2, [sp, #8]\n"
        "ldr r3, [sp, #12]\n"
        "add sp, #16\n"
        "pop {r4, pc}\n");
}

__attribute__((naked)) void __aeabi_ldivmod(void)
{
    __asm__ volatile(
        "push {r4, lr}\n"
        "sub sp, #16\n"
        "add r4, sp, #8\n"
        "str r4, [sp]\n"
        "bl rt_sdivmod64\n"
        "ldr r2, [sp, #8]\n"
        "ldr r3, [sp, #12]\n"
        "add sp, #16\n"
        "pop {r4, pc}\n");
}
