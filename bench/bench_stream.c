/*
 * bench_stream.c - throughput of whole-stream save and load (no trailer, no
 * map: the loop's hot path), beside memcpy of the same bytes measured in the
 * same run as a yardstick. Host time is read here only, never in the harness.
 *
 * Three streams:
 *   synthetic  a registry with a realistic mix: devices with many uint32
 *              registers, arrays and struct arrays, and one 64 KiB buffer
 *   machine    the default machine (vmstress-m0) after 5,000,000 cycles of
 *              the `all` workload (FIFOs, timers and DMA in flight): the
 *              stream a checkpoint saves and loads
 *   devices    the same machine without its big byte buffers (the SRAM and
 *              the block device's image): the walk over device state alone,
 *              which the memcpy yardstick does not hide
 *
 * Each figure is the median of ROUNDS rounds of iterations/ROUNDS
 * operations, the rounds of save, load and memcpy interleaved so that a
 * neighbour's load on a shared machine hits all three alike.
 *
 * Usage: bench_stream [--devices] [iterations] [firmware.elf]
 *   --devices  only the devices stream (for an instruction count:
 *              valgrind --tool=callgrind --toggle-collect=vms_save
 *              --toggle-collect=vms_load bench_stream --devices 700
 *              counts iterations + 1 saves and iterations loads)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine.h"
#include "savevm.h"

#define NREGS 64
#define NDEVS 8
#define ROUNDS 7

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

static void die(const char *what, const VmsError *err)
{
    char line[VMS_ERROR_LINE_MAX];
    if (err)
        vms_error_format(err, line, sizeof(line));
    fprintf(stderr, "bench_stream: %s%s%s\n", what, err ? ": " : "", err ? line : "");
    exit(2);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Save, load and memcpy r's stream, iters times each; one line apiece. */
static void measure(const char *label, VmsRegistry *r, int iters)
{
    VmsOut out;
    vms_out_init(&out, 0);
    VmsSaveOpts opts = { .no_vmdesc = true };
    VmsError err;
    if (!vms_save(r, &out, &opts, &err))
        die("save failed", &err);
    size_t len = out.len;
    uint8_t *dst = malloc(len);
    if (!dst)
        die("out of memory", NULL);
    int per = iters / ROUNDS > 0 ? iters / ROUNDS : 1;
    double t_save[ROUNDS], t_load[ROUNDS], t_copy[ROUNDS];
    for (int k = 0; k < ROUNDS; k++) {
        double t0 = now_s();
        for (int i = 0; i < per; i++) {
            vms_out_reset(&out);
            if (!vms_save(r, &out, &opts, &err))
                die("save failed", &err);
        }
        double t1 = now_s();
        for (int i = 0; i < per; i++)
            if (!vms_load(r, out.buf, out.len, &err))
                die("load failed", &err);
        double t2 = now_s();
        for (int i = 0; i < per; i++) {
            out.buf[i % len] ^= 1;      /* keep the copies from being folded away */
            memcpy(dst, out.buf, len);
            out.buf[i % len] ^= 1;
        }
        double t3 = now_s();
        t_save[k] = (t1 - t0) / per;
        t_load[k] = (t2 - t1) / per;
        t_copy[k] = (t3 - t2) / per;
    }
    volatile uint8_t sink = dst[len / 2];
    (void)sink;
    double s = median(t_save, ROUNDS), l = median(t_load, ROUNDS), c = median(t_copy, ROUNDS);
    double mb = (double)len / 1e6;
    printf("%s: stream %zu bytes (%zu sections), %d iterations\n", label, len, r->n, per * ROUNDS);
    printf("  save   %9.1f MB/s  %8.2f us/stream  %6.1fx memcpy\n", mb / s, s * 1e6, s / c);
    printf("  load   %9.1f MB/s  %8.2f us/stream  %6.1fx memcpy\n", mb / l, l * 1e6, l / c);
    printf("  memcpy %9.1f MB/s  %8.2f us/stream\n", mb / c, c * 1e6);
    free(dst);
    vms_out_free(&out);
}

static void bench_synthetic(int iters)
{
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
    measure("synthetic", &r, iters);
    vms_registry_free(&r);
}

/* The sections that are one big byte buffer each: the memcpy-like part. */
static bool big_buffer(const char *idstr)
{
    return !strcmp(idstr, "sram") || !strcmp(idstr, "vmstress-virtblk-image");
}

static void bench_machine(int iters, const char *fw, bool devices_only)
{
    VmsMsg why = { { 0 } };
    const Board *b = mach_board_find("vmstress-m0");
    Machine *m = b ? mach_new(b, &why) : NULL;
    if (!m)
        die(b ? why.text : "no board vmstress-m0", NULL);
    if (!mach_load_elf(m, fw, &why))
        die(why.text, NULL);
    mach_reset(m);
    mach_run(m, 5000000);
    VmsRegistry *full = mach_registry(m);
    if (!devices_only)
        measure("machine", full, iters);

    /* The same sections and objects but the big buffers, in their own
     * registry (so nothing in the machine's changes). */
    VmsRegistry dev;
    vms_registry_init(&dev, full->machine_type);
    for (size_t i = 0; i < full->n; i++) {
        const VmsSection *s = &full->sec[i];
        if (big_buffer(s->idstr))
            continue;
        VmsSection *d = vms_register(&dev, s->idstr, (int)s->instance_id, s->vmsd, s->opaque);
        if (!d)
            die("cannot copy a section", NULL);
        d->version_id = s->version_id;
        d->members = s->members;
    }
    measure("devices (machine without sram, vmstress-virtblk-image)", &dev, iters);
    vms_registry_free(&dev);
    mach_free(m);
}

int main(int argc, char **argv)
{
    bool devices_only = argc > 1 && !strcmp(argv[1], "--devices");
    if (devices_only) {
        argc--;
        argv++;
    }
    int iters = argc > 1 ? atoi(argv[1]) : 7000;
    const char *fw = argc > 2 ? argv[2] : VMSTRESS_GUEST_DIR "/all.elf";
    if (iters <= 0)
        iters = 7000;
    if (!devices_only)
        bench_synthetic(iters);
    bench_machine(iters, fw, devices_only);
    return 0;
}
