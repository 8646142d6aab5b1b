/*
 * bench_qemu.c - checkpoints per minute per twin pair of `vmstress qemu
 * run`, per board and mode, beside the same QEMU running the same workload
 * without checkpoints (how many times per minute the free-running guest
 * passes checkpoint(), read from its counter qrt_checkpoints afterwards).
 *
 * usage: bench_qemu [seconds per measurement (default 20)] [board...]
 * Host time is read only here, never by the twins.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Free-running hits of checkpoint() per minute of host time. */
static double free_running(const char *board, const char *fw, double seconds)
{
    QdrvErr e;
    uint32_t addr;
    char cmd[600], out[256];
    if (!qdrv_elf_symbol(fw, "qrt_checkpoints", &addr, &e)) {
        fprintf(stderr, "bench_qemu: %s\n", e.text);
        return -1;
    }
    QdrvTwin t;
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "free");
    snprintf(t.dir, sizeof(t.dir), "/tmp/vmstress-bench-XXXXXX");
    if (!mkdtemp(t.dir))
        return -1;
    QdrvSetup s = { .machine = board, .firmware = fw, .seed = 1, .timeout_ms = 10000 };
    double rate = -1;
    if (qdrv_twin_start(&t, &s, NULL, &e) && qdrv_qmp(&t.qmp, "cont", NULL, NULL, &e)) {
        double t0 = now_s();
        usleep((useconds_t)(seconds * 1e6));
        unsigned hits;
        snprintf(cmd, sizeof(cmd), "xp /1wx 0x%x", (unsigned)addr);
        if (qdrv_qmp(&t.qmp, "stop", NULL, NULL, &e) && qdrv_hmp(&t.qmp, cmd, out, sizeof(out), &e) &&
            sscanf(strchr(out, ':') ? strchr(out, ':') + 1 : out, "%x", &hits) == 1)
            rate = hits * 60.0 / (now_s() - t0);
    }
    if (rate < 0)
        fprintf(stderr, "bench_qemu: %s\n", e.text);
    qdrv_twin_stop(&t);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", t.dir);
    if (system(cmd))
        fprintf(stderr, "bench_qemu: could not remove %s\n", t.dir);
    return rate;
}

static double loop_rate(const char *board, const char *fw, QdrvMode mode, double seconds)
{
    QdrvConfig c;
    memset(&c, 0, sizeof(c));
    c.setup = (QdrvSetup){ .machine = board, .firmware = fw, .seed = 1, .timeout_ms = 10000 };
    c.mode = mode;
    c.seconds = seconds;
    c.every = 1;
    c.results = "/tmp/vmstress-bench-results";
    QdrvResult r;
    QdrvErr e;
    int rc = qdrv_run(&c, &r, &e);
    const char *m = mode == QDRV_MIGRATE ? "migrate" : "snapshot";
    if (rc == 2 || r.seconds <= 0) {
        fprintf(stderr, "bench_qemu: %s %s: %s\n", board, m, rc == 2 ? e.text : "no checkpoint");
        return -1;
    }
    /* A board with a QEMU bug ends at its finding: the rate up to it. */
    if (rc == 1)
        fprintf(stderr, "bench_qemu: %s %s: finding after %llu checkpoints (see /tmp/vmstress-bench-results); "
                "rate over those\n", board, m, (unsigned long long)r.done);
    return r.done * 60.0 / r.seconds;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 20;
    const char *defaults[] = { "lm3s811evb", "mps2-an385", "mps2-an505", "netduinoplus2" };
    const char **boards = argc > 2 ? (const char **)argv + 2 : defaults;
    int nboards = argc > 2 ? argc - 2 : (int)(sizeof(defaults) / sizeof(defaults[0]));
    qdrv_install_signal_handlers();
    printf("%-14s %14s %14s %20s\n", "board", "snapshot/min", "migrate/min", "free-running hits/min");
    for (int i = 0; i < nboards; i++) {
        char fw[600];
        snprintf(fw, sizeof(fw), "%s/qemu/%s.elf", VMSTRESS_GUEST_DIR, boards[i]);
        double snap = loop_rate(boards[i], fw, QDRV_SNAPSHOT, secs);
        double mig = loop_rate(boards[i], fw, QDRV_MIGRATE, secs);
        double free = free_running(boards[i], fw, secs / 4);
        printf("%-14s %14.0f %14.0f %20.0f\n", boards[i], snap, mig, free);
        fflush(stdout);
    }
    return 0;
}
