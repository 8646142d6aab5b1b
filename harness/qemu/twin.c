/*
 * twin.c - one QEMU process as a twin: start with the common command line,
 * attach QMP and gdb, save through migrate to a socket we read, run to the
 * next breakpoint hit, end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qemu_int.h"

static void twin_path(const QdrvTwin *t, const char *leaf, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", t->dir, leaf);
}

/* The QEMU binary is checked before it is started through setpriv, whose
 * "exit 127" would say less. */
static bool executable(const char *prog, QdrvErr *e)
{
    if (strchr(prog, '/')) {
        if (!access(prog, X_OK))
            return true;
    } else {
        const char *path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
        for (const char *p = path; *p;) {
            size_t n = strcspn(p, ":");
            char full[600];
            snprintf(full, sizeof(full), "%.*s/%s", (int)n, p, prog);
            if (n && !access(full, X_OK))
                return true;
            p += n + (p[n] == ':');
        }
    }
    snprintf(e->text, sizeof(e->text), "QEMU binary '%.200s' not found or not executable", prog);
    return false;
}

/* Start the process: a destination when incoming (listening on its in.sock
 * from the start, or, deferred, with `-incoming defer` waiting for QMP
 * migrate-incoming), else booted. */
static bool twin_spawn(QdrvTwin *t, const QdrvSetup *s, bool incoming, bool deferred, QdrvErr *e)
{
    if (!executable(s->qemu ? s->qemu : "qemu-system-arm", e))
        return false;
    char qmp[300], gdb[300], uart[300], usock[300], errlog[300], inc[300];
    char qmp_arg[340], gdb_arg[380], uart_arg[700], drive_arg[400], inc_arg[320], seed[24];
    twin_path(t, "qmp.sock", qmp, sizeof(qmp));
    twin_path(t, "gdb.sock", gdb, sizeof(gdb));
    twin_path(t, "uart.log", uart, sizeof(uart));
    twin_path(t, "stderr.log", errlog, sizeof(errlog));
    twin_path(t, "in.sock", inc, sizeof(inc));
    twin_path(t, "uart.sock", usock, sizeof(usock));
    unlink(qmp);
    unlink(gdb);
    unlink(inc);
    unlink(usock);
    snprintf(qmp_arg, sizeof(qmp_arg), "unix:%s,server=on,wait=off", qmp);
    snprintf(gdb_arg, sizeof(gdb_arg), "socket,id=gdb0,path=%s,server=on,wait=off", gdb);
    /* The UART is a socket only vmstress connects to, and only to feed it
     * input while the guest is stopped; everything the guest writes goes
     * to the chardev's log file, also while no one is connected (the
     * socket then drops it). logappend=on: a reloaded B continues the log
     * its predecessor wrote. */
    snprintf(uart_arg, sizeof(uart_arg), "socket,id=uart0,path=%s,server=on,wait=off,logfile=%s,logappend=on", usock,
             uart);
    snprintf(seed, sizeof(seed), "%u", s->seed);
    char icount[48];
    snprintf(icount, sizeof(icount), "shift=%d,align=off,sleep=off", QDRV_ICOUNT_SHIFT);
    /* The same line for every twin; only the paths inside its own folder
     * differ. Nothing host-backed reaches the guest: instruction-counted
     * time that never sleeps, the RTC on the VM clock, a fixed seed. */
    char *argv[44];
    int n = 0;
    /* setpriv (util-linux) sets PR_SET_PDEATHSIG and then execs QEMU in the
     * same process, so even a SIGKILLed vmstress leaves no QEMU behind;
     * posix_spawn itself cannot run prctl in the child. */
    argv[n++] = "setpriv";
    argv[n++] = "--pdeathsig";
    argv[n++] = "KILL";
    argv[n++] = "--";
    argv[n++] = (char *)(s->qemu ? s->qemu : "qemu-system-arm");
    argv[n++] = "-M";
    argv[n++] = (char *)s->machine;
    argv[n++] = "-kernel";
    argv[n++] = (char *)s->firmware;
    argv[n++] = "-nodefaults";
    argv[n++] = "-display";
    argv[n++] = "none";
    argv[n++] = "-S";
    argv[n++] = "-icount";
    argv[n++] = icount;
    argv[n++] = "-rtc";
    argv[n++] = "clock=vm";
    argv[n++] = "-seed";
    argv[n++] = seed;
    argv[n++] = "-qmp";
    argv[n++] = qmp_arg;
    argv[n++] = "-chardev";
    argv[n++] = gdb_arg;
    argv[n++] = "-gdb";
    argv[n++] = "chardev:gdb0";
    argv[n++] = "-chardev";
    argv[n++] = uart_arg;
    argv[n++] = "-serial";
    argv[n++] = "chardev:uart0";
    if (s->image) {
        /* cache=unsafe: the image only holds this run's snapshots, so
         * flushing it to disk buys nothing and costs ~10x per savevm. */
        snprintf(drive_arg, sizeof(drive_arg), "if=none,id=snap0,format=qcow2,cache=unsafe,file=%s/snap.qcow2", t->dir);
        argv[n++] = "-drive";
        argv[n++] = drive_arg;
    }
    if (incoming) {
        snprintf(inc_arg, sizeof(inc_arg), "unix:%s", inc);
        argv[n++] = "-incoming";
        argv[n++] = deferred ? "defer" : inc_arg;
    }
    argv[n] = NULL;

    t->pid = 0;
    t->qmp.fd = t->gdb.fd = -1;
    if (!qdrv_spawn(argv, errlog, &t->pid, e))
        return false;
    t->generation++;
    return true;
}

/* Attach QMP and gdb to a spawned process; with a stream file, load it
 * first (deferred: through QMP migrate-incoming). */
static bool twin_attach(QdrvTwin *t, const QdrvSetup *s, const char *incoming, bool deferred, QdrvErr *e)
{
    char qmp[300], gdb[300], inc[300], uri[320];
    twin_path(t, "qmp.sock", qmp, sizeof(qmp));
    twin_path(t, "gdb.sock", gdb, sizeof(gdb));
    twin_path(t, "in.sock", inc, sizeof(inc));
    int fd;
    if (incoming && !deferred && !qdrv_twin_feed(t, incoming, s->timeout_ms, e))
        return false;
    if (!qdrv_connect(qmp, t->pid, s->timeout_ms, &fd, e) || !qdrv_qmp_open(&t->qmp, fd, s->timeout_ms, e))
        return false;
    snprintf(uri, sizeof(uri), "unix:%s", inc);
    if (deferred && !(qdrv_qmp(&t->qmp, "migrate-incoming", json_pack("{s:s}", "uri", uri), NULL, e) &&
                      qdrv_twin_feed(t, incoming, s->timeout_ms, e)))
        return false;
    if (incoming && !qdrv_twin_wait_loaded(t, s->timeout_ms, e))
        return false;
    if (!qdrv_qmp(&t->qmp, "migrate-set-parameters", json_pack("{s:I}", "max-bandwidth", (json_int_t)1 << 40), NULL, e))
        return false;
    return qdrv_connect(gdb, t->pid, s->timeout_ms, &fd, e) && qdrv_gdb_open(&t->gdb, fd, s->timeout_ms, e);
}

bool qdrv_twin_start(QdrvTwin *t, const QdrvSetup *s, const char *incoming, QdrvErr *e)
{
    return twin_spawn(t, s, incoming != NULL, false, e) && twin_attach(t, s, incoming, false, e);
}

bool qdrv_twin_spawn_deferred(QdrvTwin *t, const QdrvSetup *s, QdrvErr *e) { return twin_spawn(t, s, true, true, e); }

bool qdrv_twin_load_deferred(QdrvTwin *t, const QdrvSetup *s, const char *file, QdrvErr *e)
{
    return twin_attach(t, s, file, true, e);
}

bool qdrv_twin_feed(QdrvTwin *t, const char *file, int timeout_ms, QdrvErr *e)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(e->text, sizeof(e->text), "cannot read %s: %s", file, strerror(errno));
        return false;
    }
    char inc[300];
    twin_path(t, "in.sock", inc, sizeof(inc));
    int fd = -1;
    bool ok = qdrv_connect(inc, t->pid, timeout_ms, &fd, e);
    char chunk[65536];
    size_t got;
    while (ok && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ok = qdrv_io_write(fd, chunk, got, timeout_ms, "incoming stream", e);
    fclose(f);
    if (fd >= 0)
        close(fd);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { 0, (long)ms * 1000000L };
    nanosleep(&ts, NULL);
}

/* Poll query-status until the destination has left "inmigrate". */
bool qdrv_twin_wait_loaded(QdrvTwin *t, int timeout_ms, QdrvErr *e)
{
    for (int waited = 0;; waited += 2) {
        json_t *r;
        if (!qdrv_qmp(&t->qmp, "query-status", NULL, &r, e))
            return false;
        const char *st = json_string_value(json_object_get(r, "status"));
        bool in = st && !strcmp(st, "inmigrate");
        bool bad = st && (!strcmp(st, "internal-error") || !strcmp(st, "shutdown"));
        char copy[40];
        snprintf(copy, sizeof(copy), "%s", st ? st : "?");
        json_decref(r);
        if (bad) {
            snprintf(e->text, sizeof(e->text), "destination ended in run state '%s' after the load", copy);
            return false;
        }
        if (!in)
            return true;
        if (waited >= timeout_ms) {
            snprintf(e->text, sizeof(e->text), "destination still loading after %d ms", timeout_ms);
            return false;
        }
        sleep_ms(2);
    }
}

void qdrv_twin_stop(QdrvTwin *t)
{
    qdrv_qmp_close(&t->qmp);
    qdrv_gdb_close(&t->gdb);
    if (t->pid > 0)
        t->status = qdrv_end(t->pid, 500);
    t->pid = 0;
}

/* Listen on a fresh socket in the twin's folder for QEMU's outgoing stream. */
static int listen_socket(const char *path, QdrvErr *e)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(e->text, sizeof(e->text), "socket path too long: %.200s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1)) {
        snprintf(e->text, sizeof(e->text), "cannot listen on %s: %s", path, strerror(errno));
        if (s >= 0)
            close(s);
        return -1;
    }
    return s;
}

static bool read_stream(int ls, int timeout_ms, uint8_t **buf, size_t *len, QdrvErr *e)
{
    struct pollfd p = { .fd = ls, .events = POLLIN };
    if (poll(&p, 1, timeout_ms) != 1) {
        snprintf(e->text, sizeof(e->text), "migration: QEMU did not connect within %d ms", timeout_ms);
        return false;
    }
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
        snprintf(e->text, sizeof(e->text), "migration: accept: %s", strerror(errno));
        return false;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap)
            b = realloc(b, cap *= 2);
        p.fd = fd;
        if (poll(&p, 1, timeout_ms) != 1) {
            snprintf(e->text, sizeof(e->text), "migration: stream stalled after %zu bytes", n);
            break;
        }
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(e->text, sizeof(e->text), "migration: read: %s", strerror(errno));
            break;
        }
        if (got == 0) {
            close(fd);
            *buf = b;
            *len = n;
            return true;
        }
        n += (size_t)got;
    }
    close(fd);
    free(b);
    return false;
}

bool qdrv_twin_save(QdrvTwin *t, const QdrvSetup *s, uint8_t **buf, size_t *len, QdrvErr *e)
{
    char path[300], uri[320];
    twin_path(t, "out.sock", path, sizeof(path));
    int ls = listen_socket(path, e);
    if (ls < 0)
        return false;
    snprintf(uri, sizeof(uri), "unix:%s", path);
    bool ok = qdrv_qmp(&t->qmp, "migrate", json_pack("{s:s}", "uri", uri), NULL, e) &&
              read_stream(ls, s->timeout_ms, buf, len, e);
    close(ls);
    unlink(path);
    /* The stream is complete once the socket closed; the source has then
     * finished too, but query-migrate is what says it succeeded. */
    for (int waited = 0; ok; waited += 1) {
        json_t *r;
        if (!qdrv_qmp(&t->qmp, "query-migrate", NULL, &r, e)) {
            ok = false;
            break;
        }
        const char *st = json_string_value(json_object_get(r, "status"));
        bool done = st && !strcmp(st, "completed");
        bool failed = !st || !strcmp(st, "failed") || !strcmp(st, "cancelled");
        if (failed)
            snprintf(e->text, sizeof(e->text), "migration: %s",
                     json_string_value(json_object_get(r, "error-desc")) ?: "failed");
        json_decref(r);
        if (done)
            break;
        if (failed || waited >= s->timeout_ms) {
            if (!failed)
                snprintf(e->text, sizeof(e->text), "migration: not completed after %d ms", s->timeout_ms);
            ok = false;
        } else {
            sleep_ms(1);
        }
    }
    if (!ok && *buf) {
        free(*buf);
        *buf = NULL;
    }
    return ok;
}

bool qdrv_twin_resume_onto(QdrvTwin *t, QdrvErr *e)
{
    /* QMP cont (not gdb c): only cont re-activates block devices after a
     * migrate, which a later savevm needs. The twin stands on the
     * breakpoint, so it stops again at once without executing anything;
     * every twin does this at every checkpoint, so the stops match. */
    char r[256];
    (void)r;
    return qdrv_qmp(&t->qmp, "cont", NULL, NULL, e) && qdrv_gdb_wait_stop(&t->gdb, t->gdb.timeout_ms, e);
}

bool qdrv_twin_next(QdrvTwin *t, uint32_t addr, bool on_bp, int wait_ms, QdrvErr *e)
{
    if (on_bp && !(qdrv_gdb_break(&t->gdb, addr, false, e) && qdrv_gdb_step(&t->gdb, e) &&
                   qdrv_gdb_break(&t->gdb, addr, true, e)))
        return false;
    return qdrv_gdb_cont(&t->gdb, wait_ms, e);
}

/* n little-endian guest words at addr. */
static bool read_words(QdrvTwin *t, uint32_t addr, uint32_t *w, size_t n, QdrvErr *e)
{
    uint8_t b[12];
    if (n > 3 || !qdrv_gdb_read(&t->gdb, addr, b, 4 * n, e))
        return false;
    for (size_t i = 0; i < n; i++)
        w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
               (uint32_t)b[4 * i + 3] << 24;
    return true;
}

bool qdrv_twin_rx_read(QdrvTwin *t, uint32_t addr, QdrvRx *rx, QdrvErr *e)
{
    uint32_t w[3];
    if (!read_words(t, addr, w, 3, e))
        return false;
    *rx = (QdrvRx){ w[0], w[1], w[2] };
    return true;
}

/* Does the UART hold a byte? Exactly the one status register is read: its
 * neighbours may be a data register whose read pops the byte. */
static bool rx_ready(QdrvTwin *t, const QdrvRx *rx, bool *ready, QdrvErr *e)
{
    uint32_t v;
    if (!read_words(t, rx->status, &v, 1, e))
        return false;
    *ready = (v & rx->mask) == rx->ready;
    return true;
}

/* Has QEMU handled the close of our connection to the UART socket? Its
 * socket chardev then names itself "disconnected:...". Until then a guest
 * byte written to the UART could still go to the dead socket instead of
 * only the log. */
static bool uart_closed(QdrvTwin *t, bool *closed, QdrvErr *e)
{
    json_t *r;
    if (!qdrv_qmp(&t->qmp, "query-chardev", NULL, &r, e))
        return false;
    *closed = false;
    size_t i;
    json_t *c;
    json_array_foreach(r, i, c)
    {
        const char *label = json_string_value(json_object_get(c, "label"));
        const char *name = json_string_value(json_object_get(c, "filename"));
        if (label && name && !strcmp(label, "uart0"))
            *closed = !strncmp(name, "disconnected:", 13);
    }
    json_decref(r);
    return true;
}

bool qdrv_twin_feed_uart(QdrvTwin *t, const QdrvRx *rx, uint8_t byte, QdrvFeed *out, QdrvErr *e)
{
    bool ready, closed = false;
    *out = QDRV_FEED_BUSY;
    if (!rx_ready(t, rx, &ready, e))
        return false;
    if (ready)
        return true;
    char path[300];
    twin_path(t, "uart.sock", path, sizeof(path));
    int fd = -1;
    if (!qdrv_connect(path, t->pid, t->gdb.timeout_ms, &fd, e) ||
        !qdrv_io_write(fd, (const char *)&byte, 1, t->gdb.timeout_ms, "UART input", e)) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    /* A UART whose receiver is off (or whose state a round trip lost)
     * drops the byte: it is then never shown, and the wait ends. */
    bool ok = true;
    for (int waited = 0; ok && !ready && waited < t->gdb.timeout_ms; waited++)
        if ((ok = rx_ready(t, rx, &ready, e)) && !ready)
            sleep_ms(1);
    close(fd);
    for (int waited = 0; ok && !closed; waited++) {
        if (waited >= t->gdb.timeout_ms) {
            snprintf(e->text, sizeof(e->text), "UART input: QEMU did not see the socket close within %d ms",
                     t->gdb.timeout_ms);
            ok = false;
        } else if ((ok = uart_closed(t, &closed, e)) && !closed) {
            sleep_ms(1);
        }
    }
    *out = ready ? QDRV_FEED_DELIVERED : QDRV_FEED_LOST;
    return ok;
}
