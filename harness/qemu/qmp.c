/*
 * qmp.c - a QMP client: one command at a time, one JSON object per line,
 * asynchronous events skipped, every read bounded.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qemu_int.h"

/* The next complete line (one JSON object) parsed; events are skipped. */
static json_t *qmp_read(QdrvQmp *q, QdrvErr *e)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        while (!nl) {
            if (!qdrv_io_read(q->fd, q->buf, &q->len, sizeof(q->buf), q->timeout_ms, "QMP", e))
                return NULL;
            nl = memchr(q->buf, '\n', q->len);
        }
        size_t line = (size_t)(nl - q->buf) + 1;
        json_error_t je;
        json_t *j = json_loadb(q->buf, line, 0, &je);
        memmove(q->buf, q->buf + line, q->len - line);
        q->len -= line;
        if (!j || !json_is_object(j)) {
            json_decref(j);
            snprintf(e->text, sizeof(e->text), "QMP: reply is not a JSON object (%s)", j ? "wrong type" : je.text);
            return NULL;
        }
        if (json_object_get(j, "event")) {
            json_decref(j);
            continue;
        }
        return j;
    }
}

bool qdrv_qmp_open(QdrvQmp *q, int fd, int timeout_ms, QdrvErr *e)
{
    q->fd = fd;
    q->len = 0;
    q->timeout_ms = timeout_ms;
    json_t *g = qmp_read(q, e);
    if (!g)
        return false;
    bool ok = json_object_get(g, "QMP") != NULL;
    json_decref(g);
    if (!ok) {
        snprintf(e->text, sizeof(e->text), "QMP: first message is not a QMP greeting");
        return false;
    }
    return qdrv_qmp(q, "qmp_capabilities", NULL, NULL, e);
}

bool qdrv_qmp(QdrvQmp *q, const char *cmd, json_t *args, json_t **ret, QdrvErr *e)
{
    json_t *req = json_pack("{s:s}", "execute", cmd);
    if (args)
        json_object_set_new(req, "arguments", args);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    bool ok = text && qdrv_io_write(q->fd, text, strlen(text), q->timeout_ms, "QMP", e) &&
              qdrv_io_write(q->fd, "\n", 1, q->timeout_ms, "QMP", e);
    free(text);
    if (!ok)
        return false;
    json_t *r = qmp_read(q, e);
    if (!r)
        return false;
    json_t *err = json_object_get(r, "error");
    json_t *val = json_object_get(r, "return");
    if (err || !val) {
        const char *desc = json_string_value(json_object_get(err, "desc"));
        snprintf(e->text, sizeof(e->text), "QMP %s: %s", cmd,
                 desc ? desc : "reply has neither return nor error");
        json_decref(r);
        return false;
    }
    if (ret)
        *ret = json_incref(val);
    json_decref(r);
    return true;
}

bool qdrv_hmp(QdrvQmp *q, const char *line, char *out, size_t n, QdrvErr *e)
{
    json_t *ret;
    if (!qdrv_qmp(q, "human-monitor-command", json_pack("{s:s}", "command-line", line), &ret, e))
        return false;
    const char *s = json_string_value(ret);
    bool ok = true;
    if (!s) {
        snprintf(e->text, sizeof(e->text), "HMP %s: reply is not a string", line);
        ok = false;
    } else if (out) {
        snprintf(out, n, "%s", s);
    } else if (*s) {
        /* HMP reports failures as text; keep the first line. */
        snprintf(e->text, sizeof(e->text), "HMP %s: %.*s", line, (int)strcspn(s, "\r\n"), s);
        ok = false;
    }
    json_decref(ret);
    return ok;
}

void qdrv_qmp_close(QdrvQmp *q)
{
    if (q->fd >= 0)
        close(q->fd);
    q->fd = -1;
}
