/*
 * compute.c - the benchmark kernel: CRC-32, a prime sieve and a small
 * integer matrix multiply over buffers in SRAM, for a fixed number of
 * rounds, printing one checksum.
 *
 * The same source builds natively (COMPUTE_NATIVE) for the host baseline
 * of bench_cpu; COMPUTE_NO_MAIN leaves main out so the bench can link the
 * kernel in-process.
 */
#ifdef COMPUTE_NATIVE
#include <stdint.h>
#include <stdio.h>
#else
#include "rt.h"
#endif

#ifndef COMPUTE_ROUNDS
#define COMPUTE_ROUNDS 40u
#endif

#define CRC_LEN 2048u
#define SIEVE_LEN 8192u
#define MAT_N 12u

static uint8_t data[CRC_LEN];
static uint8_t sieve[SIEVE_LEN];
static int32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint32_t crc32(const uint8_t *p, uint32_t n, uint32_t crc)
{
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t count_primes(uint32_t n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++)
        sieve[i] = 1;
    for (uint32_t i = 2; i < n; i++) {
        if (!sieve[i])
            continue;
        count++;
        for (uint32_t j = i * i; j < n; j += i)
            sieve[j] = 0;
    }
    return count;
}

static uint32_t matmul(uint32_t seed)
{
    for (uint32_t i = 0; i < MAT_N; i++)
        for (uint32_t j = 0; j < MAT_N; j++) {
            seed = seed * 1664525u + 1013904223u;
            mat_a[i][j] = (int32_t)(seed >> 24) - 128;
            mat_b[j][i] = (int32_t)((seed >> 8) & 0xFF) - 128;
        }
    uint32_t h = 0;
    for (uint32_t i = 0; i < MAT_N; i++)
        for (uint32_t j = 0; j < MAT_N; j++) {
            int32_t acc = 0;
            for (uint32_t k = 0; k < MAT_N; k++)
                acc += mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = acc;
            h = (h ^ (uint32_t)acc) * 16777619u;
        }
    /* A few divisions so the EABI helpers are part of what is measured. */
    return h + (uint32_t)mat_c[MAT_N / 2][MAT_N / 2] / 7u + (h % 1000u);
}

uint32_t compute_kernel(uint32_t rounds);
uint32_t compute_kernel(uint32_t rounds)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < CRC_LEN; i++)
        data[i] = (uint8_t)(i * 7u + 3u);
    for (uint32_t r = 0; r < rounds; r++) {
        data[r % CRC_LEN] ^= (uint8_t)r;
        sum = crc32(data, CRC_LEN, sum);
        sum += count_primes(SIEVE_LEN - r);
        sum ^= matmul(sum);
    }
    return sum;
}

#ifndef COMPUTE_NO_MAIN
int main(void)
{
    uint32_t sum = compute_kernel(COMPUTE_ROUNDS);
#ifdef COMPUTE_NATIVE
    printf("compute: rounds=%u checksum=%08x\n", (unsigned)COMPUTE_ROUNDS, (unsigned)sum);
#else
    rt_console_semihost();
    rt_printf("compute: rounds=%u checksum=%08x\n", (unsigned)COMPUTE_ROUNDS, (unsigned)sum);
#endif
    return 0;
}
#endif
