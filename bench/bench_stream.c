/*
 * bench_stream.c - throughput of whole-stream save and load (no trailer, no
 * map: the loop's hot path) for a registry with a realistic mix: devices
 * with many uint32 registers, arrays and struct arrays, and one 64 KiB
 * buffer. memcpy of the same number of bytes is measured in the same run as
 * a yardstick. Host time is read here only, never in the harness.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "savevm.h"

#define NREGS 64
#define NDEVS 8

typedef struct BChan {
    uint32_t src, dst;
    uint16_t ctl;
} BChan;

typedef struct BDev {
    uint32_t regs[NREGS];
    uint32_t fifo[32];
    uint16_t hist[16];
    BChan chan[8];
} BDev;

typedef struct BRam {
    uint8_t mem[64 * 1024];
} BRam;

static const VmsField bchan_fields[] = {
    VMS_UINT32(src, BChan), VMS_UINT32(dst, BChan), VMS_UINT16(ctl, BChan), VMS_END_OF_LIST(),
};
static const VmsDesc bchan_desc = { .name = "bchan", .version_id = 1, .minimum_version_id = 1,
                                    .fields = bchan_fields };
static const VmsField bram_fields[] = { VMS_BUFFER(mem, BRam), VMS_END_OF_LIST() };
static const VmsDesc bram_desc = { .name = "bram", .version_id = 1, .minimum_version_id = 1,
                                   .fields = bram_fields };

/* One uint32 field per register, as a device with a long register file has. */
static char reg_names[NREGS][16];
static VmsField bdev_fields[NREGS + 4];
static VmsDesc bdev_desc = { .name = "bdev", .version_id = 1, .minimum_version_id = 1,
                             .fields = bdev_fields };

static void build_bdev_desc(void)
{
    for (int i = 0; i < NREGS; i++) {
        snprintf(reg_names[i], sizeof(reg_names[i]), "r%d", i);
        bdev_fields[i] = (VmsField){ .name = reg_names[i],
                                     .offset = offsetof(BDev, regs) + 4 * (size_t)i,
                                     .size = 4, .info = &vms_info_uint32 };
    }
    bdev_fields[NREGS] = (VmsField)VMS_UINT32_ARRAY(fifo, BDev, 32);
    bdev_fields[NREGS + 1] = (VmsField)VMS_UINT16_ARRAY(hist, BDev, 16);
    bdev_fields[NREGS + 2] = (VmsField)VMS_STRUCT_ARRAY(chan, BDev, 8, bchan_desc, BChan);
    bdev_fields[NREGS + 3] = (VmsField)VMS_END_OF_LIST();
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    if (iters <= 0)
        iters = 2000;
    build_bdev_desc();
    static BDev devs[NDEVS];
    static BRam ram;
    VmsRegistry r;
    vms_registry_init(&r, "bench");
    for (int d = 0; d < NDEVS; d++) {
        for (int i = 0; i < NREGS; i++)
            devs[d].regs[i] = (uint32_t)(d * 1000 + i) * 2654435761u;
        vms_register(&r, "bdev", -1, &bdev_desc, &devs[d]);
    }
    for (size_t i = 0; i < sizeof(ram.mem); i++)
        ram.mem[i] = (uint8_t)(i * 7);
    vms_register(&r, "bram", 0, &bram_desc, &ram);

    VmsOut out;
    vms_out_init(&out, 0);
    VmsSaveOpts opts = { .no_vmdesc = true };
    VmsError err;
    char line[512];
    if (!vms_save(&r, &out, &opts, &err)) {
        vms_error_format(&err, line, sizeof(line));
        fprintf(stderr, "save failed: %s\n", line);
        return 1;
    }
    size_t len = out.len;

    double t0 = now_s();
    for (int i = 0; i < iters; i++) {
        vms_out_reset(&out);
        if (!vms_save(&r, &out, &opts, &err))
            return 1;
    }
    double t_save = now_s() - t0;

    t0 = now_s();
    for (int i = 0; i < iters; i++) {
        if (!vms_load(&r, out.buf, out.len, &err)) {
            vms_error_format(&err, line, sizeof(line));
            fprintf(stderr, "load failed: %s\n", line);
            return 1;
        }
    }
    double t_load = now_s() - t0;

    uint8_t *dst = malloc(len);
    t0 = now_s();
    for (int i = 0; i < iters; i++) {
        out.buf[i % len] ^= 1;      /* keep the copies from being folded away */
        memcpy(dst, out.buf, len);
    }
    double t_copy = now_s() - t0;
    volatile uint8_t sink = dst[len / 2];
    (void)sink;

    double mb = (double)len * iters / 1e6;
    printf("stream %zu bytes (%zu sections), %d iterations\n", len, r.n, iters);
    printf("save   %9.1f MB/s  %8.2f us/stream\n", mb / t_save, t_save * 1e6 / iters);
    printf("load   %9.1f MB/s  %8.2f us/stream\n", mb / t_load, t_load * 1e6 / iters);
    printf("memcpy %9.1f MB/s  %8.2f us/stream\n", mb / t_copy, t_copy * 1e6 / iters);
    free(dst);
    vms_out_free(&out);
    vms_registry_free(&r);
    return 0;
}
