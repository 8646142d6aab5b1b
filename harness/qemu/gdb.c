/*
 * gdb.c - the subset of the GDB remote serial protocol the loop needs:
 * no-ack mode, Z0/z0, c, s, ? and stop replies. Packets are $data#cs.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qemu_int.h"

static bool gdb_send(QdrvGdb *g, const char *cmd, QdrvErr *e)
{
    unsigned sum = 0;
    for (const char *p = cmd; *p; p++)
        sum += (unsigned char)*p;
    char pkt[256];
    int n = snprintf(pkt, sizeof(pkt), "$%s#%02x", cmd, sum & 0xff);
    if (n < 0 || (size_t)n >= sizeof(pkt)) {
        snprintf(e->text, sizeof(e->text), "gdb: command too long");
        return false;
    }
    return qdrv_io_write(g->fd, pkt, (size_t)n, g->timeout_ms, "gdb", e);
}

/* One packet's payload, waiting up to wait_ms. Acks ('+') and anything
 * before '$' are skipped; a bad checksum is an error. */
static bool gdb_recv(QdrvGdb *g, char *out, size_t n, int wait_ms, QdrvErr *e)
{
    for (;;) {
        char *start = memchr(g->buf, '$', g->len);
        if (start) {
            char *hash = memchr(start, '#', g->len - (size_t)(start - g->buf));
            if (hash && (size_t)(hash - g->buf) + 3 <= g->len) {
                size_t plen = (size_t)(hash - start - 1);
                unsigned sum = 0, want;
                for (size_t i = 0; i < plen; i++)
                    sum += (unsigned char)start[1 + i];
                char cs[3] = { hash[1], hash[2], 0 };
                bool good = sscanf(cs, "%2x", &want) == 1 && want == (sum & 0xff) && plen < n;
                if (good) {
                    memcpy(out, start + 1, plen);
                    out[plen] = 0;
                } else if (plen < n) {
                    snprintf(e->text, sizeof(e->text), "gdb: bad packet checksum '%s'", cs);
                } else {
                    snprintf(e->text, sizeof(e->text), "gdb: reply of %zu bytes too long", plen);
                }
                /* The packet is consumed either way: the next reply starts clean. */
                size_t used = (size_t)(hash - g->buf) + 3;
                memmove(g->buf, g->buf + used, g->len - used);
                g->len -= used;
                return good;
            }
        } else {
            g->len = 0; /* only acks or noise so far */
        }
        if (!qdrv_io_read(g->fd, g->buf, &g->len, sizeof(g->buf), wait_ms, "gdb", e))
            return false;
    }
}

bool qdrv_gdb_cmd(QdrvGdb *g, const char *cmd, char *out, size_t n, QdrvErr *e)
{
    return gdb_send(g, cmd, e) && gdb_recv(g, out, n, g->timeout_ms, e);
}

static bool want_ok(const char *cmd, const char *reply, QdrvErr *e)
{
    if (strcmp(reply, "OK")) {
        snprintf(e->text, sizeof(e->text), "gdb %s: unexpected reply '%.40s'", cmd, reply);
        return false;
    }
    return true;
}

static bool want_stop(const char *cmd, const char *reply, QdrvErr *e)
{
    if (reply[0] != 'T' && reply[0] != 'S') {
        snprintf(e->text, sizeof(e->text), "gdb %s: not a stop reply: '%.40s'", cmd, reply);
        return false;
    }
    return true;
}

bool qdrv_gdb_open(QdrvGdb *g, int fd, int timeout_ms, QdrvErr *e)
{
    g->fd = fd;
    g->len = 0;
    g->timeout_ms = timeout_ms;
    char r[256];
    /* The one exchange with acks: the reply to QStartNoAckMode is acked.
     * QEMU 7.2 answers it with an empty packet (not supported); its
     * system-mode stub then still sends '+' for our packets (gdb_recv skips
     * them) and never waits for ours, so both answers work. */
    if (!qdrv_gdb_cmd(g, "QStartNoAckMode", r, sizeof(r), e))
        return false;
    if (*r && !want_ok("QStartNoAckMode", r, e))
        return false;
    if (!qdrv_io_write(g->fd, "+", 1, g->timeout_ms, "gdb", e))
        return false;
    return qdrv_gdb_cmd(g, "?", r, sizeof(r), e) && want_stop("?", r, e);
}

bool qdrv_gdb_break(QdrvGdb *g, uint32_t addr, bool insert, QdrvErr *e)
{
    char cmd[40], r[64];
    snprintf(cmd, sizeof(cmd), "%c0,%x,2", insert ? 'Z' : 'z', (unsigned)addr);
    return qdrv_gdb_cmd(g, cmd, r, sizeof(r), e) && want_ok(cmd, r, e);
}

bool qdrv_gdb_wait_stop(QdrvGdb *g, int wait_ms, QdrvErr *e)
{
    char r[256];
    return gdb_recv(g, r, sizeof(r), wait_ms, e) && want_stop("resume", r, e);
}

bool qdrv_gdb_cont(QdrvGdb *g, int wait_ms, QdrvErr *e)
{
    return gdb_send(g, "c", e) && qdrv_gdb_wait_stop(g, wait_ms, e);
}

bool qdrv_gdb_step(QdrvGdb *g, QdrvErr *e)
{
    char r[256];
    return qdrv_gdb_cmd(g, "s", r, sizeof(r), e) && want_stop("s", r, e);
}

bool qdrv_gdb_read(QdrvGdb *g, uint32_t addr, uint8_t *out, size_t n, QdrvErr *e)
{
    char cmd[40], r[160];
    if (n > 64) {
        snprintf(e->text, sizeof(e->text), "gdb: read of %zu bytes too long", n);
        return false;
    }
    snprintf(cmd, sizeof(cmd), "m%x,%zx", (unsigned)addr, n);
    if (!qdrv_gdb_cmd(g, cmd, r, sizeof(r), e))
        return false;
    if (strlen(r) != 2 * n) {   /* an error reply, "Enn" */
        snprintf(e->text, sizeof(e->text), "gdb %s: unexpected reply '%.40s'", cmd, r);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (!isxdigit((unsigned char)r[2 * i]) || !isxdigit((unsigned char)r[2 * i + 1]) ||
            sscanf(r + 2 * i, "%2x", &v) != 1) {
            snprintf(e->text, sizeof(e->text), "gdb %s: unexpected reply '%.40s'", cmd, r);
            return false;
        }
        out[i] = (uint8_t)v;
    }
    return true;
}

void qdrv_gdb_close(QdrvGdb *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
}
