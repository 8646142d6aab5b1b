/*
 * run.c - the twin loop on real QEMU: A never round-trips, B round-trips at
 * every checkpoint (a fresh process in migrate mode, save/reset/load in
 * snapshot mode); the oracles compare them; a finding leaves its files.
 *
 * Every twin goes through the same stops in the same order (docs/qemu.md,
 * "No false positives"): breakpoint hit, save by migrate, QMP cont that
 * stops again on the breakpoint at once, then z0/s/Z0/c to the next hit. A
 * difference is only a finding when the next checkpoint confirms it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qemu_int.h"

typedef struct Run {
    const QdrvConfig *cfg;
    QdrvSetup s;
    char tmp[256];
    QdrvTwin a, b;
    uint32_t cp;
    uint64_t hits;
    QdrvResult *r;
    /* UART input: where the workload's UART shows a byte (board_rx), if
     * the workload says. */
    bool rx_on;
    QdrvRx rx;
    /* The unconfirmed difference of the previous checkpoint. */
    bool suspect;
    QdrvDiff suspect_diff;
    uint64_t suspect_cp;
    uint8_t *suspect_a, *suspect_b;
    size_t suspect_alen, suspect_blen;
    unsigned suspect_waits;     /* mid-event checkpoints since (see settled) */
} Run;

/* How many mid-event checkpoints in a row a pending difference waits for a
 * settled one. A difference still there at every one of them is confirmed:
 * a race lasts one stop, and SETTLE_WAITS_MAX + 1 independent races in a
 * row (each at most a few percent of stops) do not happen. */
#define SETTLE_WAITS_MAX 8

/* Were the twins saved where no callback can have raced the stop? A stop
 * warps the clock to the next deadline and its callback may or may not run
 * before the stop completes (docs/qemu.md, "No false positives"). Settled:
 * both streams hold the same non-empty list of expired timers. A carried
 * timer expired with its callback not run in both twins means the timer
 * pass the warp made due has not run in either, so no callback (carried
 * or not: a device whose timer the stream does not hold) ran in one twin
 * and not the other. An empty list says nothing: the stop may have warped
 * to a deadline the stream does not carry and run its callback in one twin
 * only, so it is mid-event too. *blind says whether A's list was empty. */
static bool settled(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, bool *yes, bool *blind, QdrvErr *e)
{
    char ea[1024], eb[1024];
    if (!qdrv_stream_expired(a, alen, ea, sizeof(ea), e) || !qdrv_stream_expired(b, blen, eb, sizeof(eb), e))
        return false;
    *blind = !ea[0];
    *yes = !*blind && !strcmp(ea, eb);
    return true;
}

/* The longest socket leaf the driver creates in its folder ("/qmp.sock",
 * "/uart-a-0.sock", ...), with room to spare. */
#define QDRV_SOCK_LEAF_MAX 24

bool qdrv_make_tmpdir(char *out, size_t n, const char *prefix, QdrvErr *e)
{
    struct sockaddr_un sa;
    const char *base = getenv("TMPDIR");
    if (!base || !*base || strlen(base) + strlen(prefix) + 8 + QDRV_SOCK_LEAF_MAX >= sizeof(sa.sun_path))
        base = "/tmp";
    snprintf(out, n, "%.200s/%s-XXXXXX", base, prefix);
    if (!mkdtemp(out)) {
        snprintf(e->text, sizeof(e->text), "cannot create a temporary folder in %.200s: %s", base, strerror(errno));
        out[0] = 0;
        return false;
    }
    return true;
}

double qdrv_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void qdrv_rmtree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

bool qdrv_write_file(const char *dir, const char *leaf, const void *data, size_t n)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, leaf);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, n, f) == n;
    if (f)
        ok = !fclose(f) && ok;
    return ok;
}

uint8_t *qdrv_read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f)
        return NULL;
    size_t cap = 4096;
    uint8_t *b = malloc(cap);
    size_t got;
    while ((got = fread(b + *len, 1, cap - *len, f)) > 0)
        if ((*len += got) == cap)
            b = realloc(b, cap *= 2);
    fclose(f);
    return b;
}

static bool twin_init(Run *run, QdrvTwin *t, const char *name, QdrvErr *e)
{
    memset(t, 0, sizeof(*t));
    t->qmp.fd = t->gdb.fd = -1;
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->dir, sizeof(t->dir), "%.200s/%.15s", run->tmp, name);
    if (mkdir(t->dir, 0700)) {
        snprintf(e->text, sizeof(e->text), "cannot create %s: %s", t->dir, strerror(errno));
        return false;
    }
    if (run->s.image) {
        /* A small qcow2 image only to hold the snapshots (-drive if=none). */
        char img[300], log[300];
        snprintf(img, sizeof(img), "%s/snap.qcow2", t->dir);
        snprintf(log, sizeof(log), "%s/qemu-img.log", t->dir);
        char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", img, "4M", NULL };
        pid_t pid;
        if (!qdrv_spawn(argv, log, &pid, e))
            return false;
        int st = 0;
        double t0 = qdrv_now_s();
        while (!qdrv_exited(pid, &st)) {
            if (qdrv_now_s() - t0 > run->s.timeout_ms / 1000.0) {
                qdrv_end(pid, 100);
                snprintf(e->text, sizeof(e->text), "qemu-img create did not finish within %d ms", run->s.timeout_ms);
                return false;
            }
            usleep(2000);
        }
        if (st) {
            snprintf(e->text, sizeof(e->text), "qemu-img create %.140s failed (see %.140s)", img, log);
            return false;
        }
    }
    return true;
}

/* Start a twin and insert the checkpoint breakpoint. */
static bool twin_boot(Run *run, QdrvTwin *t, const char *incoming, QdrvErr *e)
{
    return qdrv_twin_start(t, &run->s, incoming, e) && qdrv_gdb_break(&t->gdb, run->cp, true, e);
}

/* The byte fed at checkpoint k: a function of the seed and k only, so
 * every twin (and a replay) gets the same bytes at the same checkpoints. */
static uint8_t input_byte(unsigned seed, uint64_t k)
{
    uint64_t x = (uint64_t)seed * 0x9E3779B97F4A7C15ull + k;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return (uint8_t)(x ^ (x >> 31));
}

/* Feed checkpoint k's byte to a twin standing on it (A's are counted). */
static bool feed(Run *run, QdrvTwin *t, uint64_t k, QdrvFeed *out, QdrvErr *e)
{
    *out = QDRV_FEED_BUSY;
    if (!run->rx_on)
        return true;
    if (!qdrv_twin_feed_uart(t, &run->rx, input_byte(run->s.seed, k), out, e))
        return false;
    run->r->uart_in += *out == QDRV_FEED_DELIVERED && t == &run->a;
    return true;
}

/* Both twins: to the next checkpoint (every-th further hit). */
static bool advance(Run *run, QdrvTwin *t, uint64_t from_hits, QdrvErr *e)
{
    int wait = run->s.timeout_ms;
    for (unsigned i = 0; i < run->cfg->every; i++)
        if (!qdrv_twin_next(t, run->cp, from_hits + i > 0, wait, e)) {
            char m[sizeof(e->text)];
            snprintf(m, sizeof(m), "twin %s on its way to hit %llu of checkpoint(): %.200s", t->name,
                     (unsigned long long)(from_hits + i + 1), e->text);
            snprintf(e->text, sizeof(e->text), "%s", m);
            return false;
        }
    return true;
}

static json_t *diff_json(const QdrvDiff *d)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:i}", "section", d->section, "path", d->path, "stream_offset",
                     (json_int_t)d->stream_offset, "a", d->a, "b", d->b, "differing_leaves", (int)d->count);
}

static void copy_file(const char *from, const char *dir, const char *leaf)
{
    size_t n;
    uint8_t *b = qdrv_read_all(from, &n);
    if (b)
        qdrv_write_file(dir, leaf, b, n);
    free(b);
}

/* The finding's files: report.json, both streams, UART logs, stderr,
 * repro.json. Returns 1 (a finding). */
static int finding(Run *run, const char *oracle, uint64_t cp, const QdrvDiff *d, const char *detail,
                   const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    QdrvResult *r = run->r;
    r->finding = true;
    snprintf(r->oracle, sizeof(r->oracle), "%s", oracle);
    r->checkpoint = cp;
    r->pc = run->cp;
    if (d)
        r->diff = *d;
    snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
    const char *dir = run->cfg->results ? run->cfg->results : "results";
    snprintf(r->dir, sizeof(r->dir), "%s", dir);
    mkdir(dir, 0755);
    if (a)
        qdrv_write_file(dir, "a.bin", a, alen);
    if (b)
        qdrv_write_file(dir, "b.bin", b, blen);
    const QdrvTwin *tw[] = { &run->a, &run->b };
    for (int i = 0; i < 2; i++) {
        char from[600], leaf[64];
        snprintf(from, sizeof(from), "%s/uart.log", tw[i]->dir);
        snprintf(leaf, sizeof(leaf), "uart-%s.log", tw[i]->name);
        copy_file(from, dir, leaf);
        snprintf(from, sizeof(from), "%s/stderr.log", tw[i]->dir);
        snprintf(leaf, sizeof(leaf), "stderr-%s.log", tw[i]->name);
        copy_file(from, dir, leaf);
    }
    const QdrvConfig *c = run->cfg;
    json_t *rep = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "kind", "qemu", "oracle", oracle,
                            "board", c->setup.machine, "qemu_version", r->version, "mode",
                            c->mode == QDRV_MIGRATE ? "migrate" : "snapshot", "checkpoint", (json_int_t)cp,
                            "guest_pc", "", "detail", r->detail);
    char pc[16];
    snprintf(pc, sizeof(pc), "0x%08x", (unsigned)run->cp);
    json_object_set_new(rep, "guest_pc", json_string(pc));
    if (d && d->differs)
        json_object_set_new(rep, "difference", diff_json(d));
    if (r->source_safe >= 0)
        json_object_set_new(rep, "source_safe", json_boolean(r->source_safe));
    char path[600];
    snprintf(path, sizeof(path), "%s/report.json", dir);
    json_dump_file(rep, path, JSON_INDENT(2));
    json_decref(rep);
    json_t *repro = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:s}", "kind", "qemu", "qemu",
                              c->setup.qemu ? c->setup.qemu : "qemu-system-arm", "machine", c->setup.machine,
                              "firmware", c->setup.firmware, "mode", c->mode == QDRV_MIGRATE ? "migrate" : "snapshot",
                              "seed", (int)c->setup.seed, "every", (int)c->every, "checkpoints",
                              (json_int_t)(cp + 1), "oracle", oracle);
    if (c->no_input)
        json_object_set_new(repro, "no_input", json_true());
    if (c->corrupt_path)
        json_object_set_new(repro, "corrupt", json_pack("{s:s, s:i, s:I}", "path", c->corrupt_path, "xor",
                                                        (int)c->corrupt_xor, "at", (json_int_t)c->corrupt_at));
    snprintf(path, sizeof(path), "%s/repro.json", dir);
    json_dump_file(repro, path, JSON_INDENT(2));
    json_decref(repro);
    return 1;
}

/* Checkpoint k's byte to A and B. Both the same: fine (both lost means
 * the workload never enabled its receiver: an error). A twin whose UART
 * took the byte while the other's dropped it is a finding: the UARTs no
 * longer behave alike, though neither may carry the state in its stream. */
static int feed_both(Run *run, uint64_t k, QdrvErr *e)
{
    static const char *const what[] = { "busy (holding an earlier byte)", "delivered", "dropped (never shown)" };
    QdrvFeed fa, fb;
    if (!feed(run, &run->a, k, &fa, e) || !feed(run, &run->b, k, &fb, e))
        return 2;
    if (fa == fb && fa == QDRV_FEED_LOST) {
        snprintf(e->text, sizeof(e->text), "UART input: the byte of checkpoint %llu reached neither twin's UART within "
                 "%d ms (does the workload enable its receiver?)", (unsigned long long)k, run->s.timeout_ms);
        return 2;
    }
    if (fa == fb)
        return 0;
    char detail[320];
    snprintf(detail, sizeof(detail), "UART input: the byte 0x%02x fed at checkpoint %llu: A's UART %s, B's %s",
             input_byte(run->s.seed, k), (unsigned long long)k, what[fa], what[fb]);
    return finding(run, "uart-input", k, NULL, detail, NULL, 0, NULL, 0);
}

void qdrv_tail_of(const char *path, char *out, size_t n)
{
    size_t len;
    uint8_t *b = qdrv_read_all(path, &len);
    out[0] = 0;
    if (!b)
        return;
    /* The last non-empty line is QEMU's reason. */
    while (len && (b[len - 1] == '\n' || b[len - 1] == '\r'))
        len--;
    size_t start = len;
    while (start && b[start - 1] != '\n')
        start--;
    snprintf(out, n, "%.*s", (int)(len - start), (const char *)b + start);
    free(b);
}

/* The source stays safe: after a destination died, A (which kept running)
 * must equal a never-migrated twin C brought through the same stops, at two
 * checkpoints in a row (the second confirms, as everywhere). */
static int source_safe(Run *run, uint64_t k, QdrvErr *e)
{
    QdrvTwin c;
    if (!twin_init(run, &c, "c", e) || !twin_boot(run, &c, NULL, e))
        goto fail;
    int differs = 0;
    for (uint64_t j = 1; j <= k + 2; j++) {
        uint8_t *ca = NULL, *cb = NULL;
        size_t calen = 0, cblen = 0;
        QdrvFeed ignored;
        if (!advance(run, &c, (j - 1) * run->cfg->every, e) || !feed(run, &c, j, &ignored, e) ||
            !qdrv_twin_save(&c, &run->s, &cb, &cblen, e) || !qdrv_twin_resume_onto(&c, e))
            goto fail;
        if (j > k) {
            QdrvDiff d;
            bool ok = advance(run, &run->a, (j - 1) * run->cfg->every, e) && feed(run, &run->a, j, &ignored, e) &&
                      qdrv_twin_save(&run->a, &run->s, &ca, &calen, e) && qdrv_twin_resume_onto(&run->a, e) &&
                      qdrv_stream_diff(ca, calen, cb, cblen, &d, e);
            free(ca);
            if (!ok) {
                free(cb);
                goto fail;
            }
            differs += d.differs;
        }
        free(cb);
    }
    qdrv_twin_stop(&c);
    return differs == 2 ? 0 : 1;
fail:
    qdrv_twin_stop(&c);
    return -1;
}

/* B failed with e set. If its process has ended (it gets half a second to
 * finish dying), that is a destination death: a finding with its exit
 * status, the last line of its stderr, and the stream it loaded (NULL in
 * snapshot mode, where the stream stays inside the qcow2 image); then the
 * source-safety check. Otherwise an error (2) with e as it is. */
static int b_failed(Run *run, uint64_t k, const uint8_t *stream, size_t len, QdrvErr *e)
{
    for (int i = 0; i < 250 && qdrv_alive(run->b.pid, NULL); i++)
        usleep(2000);
    if (qdrv_alive(run->b.pid, NULL))
        return 2;
    /* A signal to us killed B (on_signal ends every child): that is an
     * interruption, never a destination death. */
    if (qdrv_interrupted()) {
        snprintf(e->text, sizeof(e->text), "interrupted at checkpoint %llu", (unsigned long long)k);
        return 2;
    }
    char errlog[600], last[200], detail[320], how[64];
    snprintf(errlog, sizeof(errlog), "%s/stderr.log", run->b.dir);
    qdrv_twin_stop(&run->b);
    int st = run->b.status;
    qdrv_tail_of(errlog, last, sizeof(last));
    qdrv_describe_status(st, how, sizeof(how));
    snprintf(detail, sizeof(detail), "B's QEMU after its round trip (%.40s) %s: %.200s", how,
             last[0] ? "said" : "failed", last[0] ? last : e->text);
    QdrvErr se;
    run->r->source_safe = source_safe(run, k, &se);
    return finding(run, "destination-death", k, NULL, detail, NULL, 0, stream, len);
}

/* Migrate mode: B saves, a fresh QEMU loads the stream, saves it again
 * (fixpoint) and continues as B. Sets *bout to the reloaded B's stream. */
static int round_trip_migrate(Run *run, uint64_t k, uint8_t **bout, size_t *boutlen, QdrvErr *e)
{
    uint8_t *b = NULL, *b2 = NULL;
    size_t blen = 0, b2len = 0;
    char in[600];
    snprintf(in, sizeof(in), "%s/b-in.bin", run->tmp);
    int rc = 2;
    /* The destination is given runstate "paused": gdb's "debug" is refused. */
    if (!qdrv_twin_save(&run->b, &run->s, &b, &blen, e) || !qdrv_stream_set_runstate(b, blen, "paused", e) ||
        (run->cfg->corrupt_path && k == run->cfg->corrupt_at &&
         !qdrv_stream_corrupt(b, blen, run->cfg->corrupt_path, run->cfg->corrupt_xor, e)))
        goto out;
    if (!qdrv_write_file(run->tmp, "b-in.bin", b, blen)) {
        snprintf(e->text, sizeof(e->text), "cannot write %.280s", in);
        goto out;
    }
    qdrv_twin_stop(&run->b);
    if (!twin_boot(run, &run->b, in, e) || !qdrv_twin_save(&run->b, &run->s, &b2, &b2len, e)) {
        rc = b_failed(run, k, b, blen, e);
        goto out;
    }
    QdrvDiff d;
    if (!qdrv_stream_diff(b, blen, b2, b2len, &d, e))
        goto out;
    if (d.differs) {
        rc = finding(run, "fixpoint", k, &d, "the destination saved a stream different from the one it loaded", b, blen,
                     b2, b2len);
        goto out;
    }
    if (!qdrv_twin_resume_onto(&run->b, e)) {
        rc = b_failed(run, k, b, blen, e);
        goto out;
    }
    *bout = b2;
    *boutlen = b2len;
    b2 = NULL;
    rc = 0;
out:
    free(b);
    free(b2);
    return rc;
}

/* Snapshot mode: savevm, system_reset, loadvm in B's own process. */
static int round_trip_snapshot(Run *run, uint64_t k, uint8_t **bout, size_t *boutlen, QdrvErr *e)
{
    QdrvTwin *b = &run->b;
    if (!qdrv_hmp(&b->qmp, "savevm vmstress", NULL, 0, e) || !qdrv_qmp(&b->qmp, "system_reset", NULL, NULL, e) ||
        !qdrv_hmp(&b->qmp, "loadvm vmstress", NULL, 0, e) || !qdrv_twin_save(b, &run->s, bout, boutlen, e) ||
        !qdrv_twin_resume_onto(b, e)) {
        free(*bout);
        *bout = NULL;
        return b_failed(run, k, NULL, 0, e);
    }
    return 0;
}

static bool uart_equal(Run *run, char *detail, size_t n)
{
    char pa[600], pb[600];
    snprintf(pa, sizeof(pa), "%s/uart.log", run->a.dir);
    snprintf(pb, sizeof(pb), "%s/uart.log", run->b.dir);
    size_t la, lb;
    uint8_t *a = qdrv_read_all(pa, &la), *b = qdrv_read_all(pb, &lb);
    size_t i = 0;
    while (i < la && i < lb && a[i] == b[i])
        i++;
    bool same = la == lb && i == la;
    if (!same)
        snprintf(detail, n, "UART output differs at byte %zu (A wrote %zu bytes, B %zu)", i, la, lb);
    free(a);
    free(b);
    return same;
}

/* One checkpoint: both twins stand on hit k*every. */
static int checkpoint(Run *run, uint64_t k, QdrvErr *e)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    int rc = 2;
    char detail[320];
    QdrvDiff d;
    /* The input first, so the UART's receive state is in both streams. */
    if ((rc = feed_both(run, k, e)))
        goto out;
    rc = 2;
    if (!qdrv_twin_save(&run->a, &run->s, &a, &alen, e) || !qdrv_twin_resume_onto(&run->a, e))
        goto out;
    rc = run->cfg->mode == QDRV_MIGRATE ? round_trip_migrate(run, k, &b, &blen, e)
                                         : round_trip_snapshot(run, k, &b, &blen, e);
    if (rc)
        goto out;
    if (!uart_equal(run, detail, sizeof(detail))) {
        rc = finding(run, "uart", k, NULL, detail, a, alen, b, blen);
        goto out;
    }
    if (!qdrv_stream_diff(a, alen, b, blen, &d, e)) {
        rc = 2;
        goto out;
    }
    bool calm, blind;
    if (!settled(a, alen, b, blen, &calm, &blind, e)) {
        rc = 2;
        goto out;
    }
    run->r->blind += blind;
    if (d.differs && !run->suspect) {
        /* Unconfirmed until the next checkpoint: keep the streams. */
        run->suspect = true;
        run->suspect_diff = d;
        run->suspect_cp = k;
        run->suspect_a = a, run->suspect_alen = alen;
        run->suspect_b = b, run->suspect_blen = blen;
        run->suspect_waits = 0;
        return 0;
    }
    if (d.differs && !calm) {
        /* Mid-event: this checkpoint neither confirms nor dismisses. */
        run->r->unsettled++;
        if (++run->suspect_waits < SETTLE_WAITS_MAX)
            goto out;
    }
    if (d.differs) {
        /* Confirmed (settled here, or different at every checkpoint of
         * the wait): report the first difference, with its streams. */
        if (calm)
            snprintf(detail, sizeof(detail), "confirmed at checkpoint %llu: %.200s differs there",
                     (unsigned long long)k, d.path);
        else
            snprintf(detail, sizeof(detail),
                     "confirmed: still different at each of the %u checkpoints after it, none settled (at %llu: %.160s)",
                     SETTLE_WAITS_MAX, (unsigned long long)k, d.path);
        rc = finding(run, "state-equality", run->suspect_cp, &run->suspect_diff, detail, run->suspect_a,
                     run->suspect_alen, run->suspect_b, run->suspect_blen);
    } else if (run->suspect) {
        if (run->r->races < QDRV_RACES_KEPT) {
            run->r->race[run->r->races] = run->suspect_diff;
            run->r->race_cp[run->r->races] = run->suspect_cp;
        }
        run->r->races++;
    }
    run->suspect = false;
    free(run->suspect_a);
    free(run->suspect_b);
    run->suspect_a = run->suspect_b = NULL;
out:
    free(a);
    free(b);
    return rc;
}

bool qdrv_qemu_version(QdrvQmp *qmp, char *out, size_t n, QdrvErr *e)
{
    json_t *v;
    if (!qdrv_qmp(qmp, "query-version", NULL, &v, e))
        return false;
    json_t *q = json_object_get(v, "qemu");
    snprintf(out, n, "%lld.%lld.%lld", (long long)json_integer_value(json_object_get(q, "major")),
             (long long)json_integer_value(json_object_get(q, "minor")),
             (long long)json_integer_value(json_object_get(q, "micro")));
    json_decref(v);
    return true;
}

static int version(Run *run, QdrvErr *e)
{
    return qdrv_qemu_version(&run->a.qmp, run->r->version, sizeof(run->r->version), e) ? 0 : 2;
}

static int loop(Run *run, QdrvErr *e)
{
    const QdrvConfig *c = run->cfg;
    if (!twin_init(run, &run->a, "a", e) || !twin_init(run, &run->b, "b", e) || !twin_boot(run, &run->a, NULL, e) ||
        !twin_boot(run, &run->b, NULL, e) || version(run, e))
        return 2;
    /* A workload without board_rx gets no input. */
    uint32_t rx_addr;
    QdrvErr none;
    run->rx_on = !c->no_input && qdrv_elf_symbol(c->setup.firmware, "board_rx", &rx_addr, &none);
    if (run->rx_on && !qdrv_twin_rx_read(&run->a, rx_addr, &run->rx, e))
        return 2;
    double t0 = qdrv_now_s();
    for (uint64_t k = 1;; k++) {
        bool more = c->checkpoints ? k <= c->checkpoints : qdrv_now_s() - t0 < c->seconds;
        /* One more checkpoint to confirm or dismiss a pending difference. */
        if (!more && !run->suspect)
            break;
        if (qdrv_interrupted()) {
            snprintf(e->text, sizeof(e->text), "interrupted at checkpoint %llu", (unsigned long long)k);
            return 2;
        }
        uint64_t from = (k - 1) * c->every;
        /* B first: if it dies on the way (after its round trip, once a
         * timer fires), A still stands where the source-safety check
         * expects it, at the previous checkpoint. */
        if (!advance(run, &run->b, from, e)) {
            size_t len;
            char in[600];
            snprintf(in, sizeof(in), "%s/b-in.bin", run->tmp);
            uint8_t *last = qdrv_read_all(in, &len);
            int rc = b_failed(run, k - 1, last, len, e);
            free(last);
            return rc;
        }
        if (!advance(run, &run->a, from, e))
            return 2;
        int rc = checkpoint(run, k, e);
        if (rc)
            return rc;
        run->r->done = k;
        run->r->seconds = qdrv_now_s() - t0;
        if (c->progress)
            fprintf(c->progress, "\rqemu %s %s: checkpoint %llu, %.0f/min", c->setup.machine,
                    c->mode == QDRV_MIGRATE ? "migrate" : "snapshot", (unsigned long long)k, k * 60.0 / run->r->seconds);
    }
    if (c->progress)
        fputc('\n', c->progress);
    return 0;
}

int qdrv_run(const QdrvConfig *cfg, QdrvResult *r, QdrvErr *e)
{
    memset(r, 0, sizeof(*r));
    r->source_safe = -1;
    Run run;
    memset(&run, 0, sizeof(run));
    run.cfg = cfg;
    run.r = r;
    run.s = cfg->setup;
    run.a.pid = run.b.pid = 0;
    run.a.qmp.fd = run.a.gdb.fd = run.b.qmp.fd = run.b.gdb.fd = -1;
    if (cfg->mode == QDRV_SNAPSHOT)
        run.s.image = "snap.qcow2";
    if (!qdrv_elf_symbol(cfg->setup.firmware, "checkpoint", &run.cp, e))
        return 2;
    if (!qdrv_make_tmpdir(run.tmp, sizeof(run.tmp), "vmstress-qemu", e))
        return 2;
    int rc = loop(&run, e);
    qdrv_twin_stop(&run.a);
    qdrv_twin_stop(&run.b);
    free(run.suspect_a);
    free(run.suspect_b);
    /* Everything a finding needs was copied to the results folder. */
    qdrv_rmtree(run.tmp);
    return rc;
}
