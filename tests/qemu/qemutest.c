/* qemutest.c - drive a real qemu-system-arm from a test. See qemutest.h. */
#include "qemutest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PROMPT "(qemu) "
#define ARGS_MAX 64

/* Monotonic milliseconds: only ever used to bound waits, never by a guest. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *qt_binary(void)
{
    const char *env = getenv("QEMU_SYSTEM_ARM");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    static char found[4096];
    while (path && *path) {
        size_t k = strcspn(path, ":");
        snprintf(found, sizeof(found), "%.*s/qemu-system-arm", (int)k, path);
        if (k && access(found, X_OK) == 0)
            return found;
        path += k + (path[k] == ':');
    }
    return NULL;
}

/* Spawn the binary with argv; stdin and stdout/stderr on pipes. */
static bool spawn(QtQemu *q, char *const *argv)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    int rc = posix_spawn(&q->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        q->pid = 0;
        return false;
    }
    q->in = in[1];
    q->out = out[0];
    fcntl(q->out, F_SETFL, O_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    return true;
}

/* The monitor has answered: the reply holds a prompt, and what follows the
 * last one, if anything, is whole lines. QEMU's stderr shares the pipe, and
 * messages a device prints on its own (ptimer's "Timer with period zero,
 * disabling" when a guest starts a timer whose clock is not set up yet) can
 * land right after the prompt, whenever the main loop gets to them. */
static bool answered(const QtQemu *q)
{
    const char *last = NULL;
    for (const char *p = strstr(q->reply, PROMPT); p; p = strstr(p + 1, PROMPT))
        last = p;
    if (!last)
        return false;
    const char *tail = last + strlen(PROMPT);
    return !*tail || q->reply[q->len - 1] == '\n';
}

/* Read into q->reply until the monitor has answered, EOF, or the deadline. */
static bool until_prompt(QtQemu *q, bool stop_at_eof)
{
    int64_t deadline = now_ms() + QT_TIMEOUT_MS;
    q->len = 0;
    q->reply[0] = '\0';
    for (;;) {
        if (answered(q))
            return true;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = { .fd = q->out, .events = POLLIN };
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t k = read(q->out, q->reply + q->len, sizeof(q->reply) - 1 - q->len);
        if (k == 0)
            return stop_at_eof;
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k < 0)
            return false;
        q->len += (size_t)k;
        q->reply[q->len] = '\0';
        if (q->len == sizeof(q->reply) - 1) {  /* keep the tail: the prompt is at the end */
            memmove(q->reply, q->reply + q->len / 2, q->len - q->len / 2 + 1);
            q->len -= q->len / 2;
        }
    }
}

bool qt_start(QtQemu *q, const char *const *args, char *err, size_t errn)
{
    memset(q, 0, sizeof(*q));
    q->in = q->out = -1;
    const char *bin = qt_binary();
    char *argv[ARGS_MAX];
    size_t n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = "-nodefaults";
    argv[n++] = "-display";
    argv[n++] = "none";
    argv[n++] = "-monitor";
    argv[n++] = "stdio";
    for (size_t i = 0; args[i] && n < ARGS_MAX - 1; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    if (!bin || !spawn(q, argv)) {
        snprintf(err, errn, "cannot start %s", bin ? bin : "qemu-system-arm");
        return false;
    }
    if (!until_prompt(q, false)) {
        snprintf(err, errn, "qemu gave no monitor prompt: %.200s", q->reply);
        qt_stop(q);
        return false;
    }
    return true;
}

bool qt_cmd(QtQemu *q, const char *cmd)
{
    char line[1024];
    int k = snprintf(line, sizeof(line), "%s\n", cmd);
    if (q->pid <= 0 || k <= 0 || (size_t)k >= sizeof(line) || write(q->in, line, (size_t)k) != k)
        return false;
    return until_prompt(q, false);
}

bool qt_xp(QtQemu *q, uint32_t addr, uint32_t *v, unsigned n)
{
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "xp /%uwx 0x%08x", n, addr);
    if (!qt_cmd(q, cmd))
        return false;
    /* Lines "00000000aaaaaaaa: 0x........ 0x........ ..." (four words a line). */
    unsigned got = 0;
    for (const char *p = q->reply; (p = strstr(p, ": 0x")) != NULL && got < n;) {
        p += 2;
        while (got < n && p[0] == '0' && p[1] == 'x') {
            char *end;
            v[got++] = (uint32_t)strtoul(p + 2, &end, 16);
            p = end;
            while (*p == ' ')
                p++;
        }
    }
    return got == n;
}

int qt_stop(QtQemu *q)
{
    if (q->pid <= 0)
        return -1;
    if (q->in >= 0) {
        (void)!write(q->in, "quit\n", 5);
        close(q->in);
        q->in = -1;
    }
    int status = 0, rc = -1;
    for (int64_t deadline = now_ms() + 5000; now_ms() < deadline;) {
        char sink[4096];
        while (read(q->out, sink, sizeof(sink)) > 0)
            ;
        pid_t w = waitpid(q->pid, &status, WNOHANG);
        if (w == q->pid) {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            q->pid = 0;
            break;
        }
        struct pollfd p = { .fd = q->out, .events = POLLIN };
        poll(&p, 1, 20);
    }
    if (q->pid > 0) {
        kill(q->pid, SIGKILL);
        waitpid(q->pid, &status, 0);
        q->pid = 0;
    }
    if (q->out >= 0)
        close(q->out);
    q->out = -1;
    return rc;
}

bool qt_has_machine(const char *board)
{
    /* -M help once per process (it costs a QEMU start). */
    static char list[65536];
    static bool listed;
    if (!listed) {
        QtQemu q;
        memset(&q, 0, sizeof(q));
        const char *bin = qt_binary();
        char *argv[] = { (char *)bin, "-M", "help", NULL };
        if (!bin || !spawn(&q, argv))
            return false;
        close(q.in);
        q.in = -1;
        bool eof = until_prompt(&q, true);     /* everything until EOF, bounded */
        snprintf(list, sizeof(list), "%s", eof ? q.reply : "");
        qt_stop(&q);
        listed = true;
    }
    char want[80];
    snprintf(want, sizeof(want), "\n%s ", board);
    return strstr(list, want) != NULL;
}

uint8_t *qt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *b = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            uint8_t *nb = realloc(b, cap = cap ? 2 * cap : 65536);
            if (!nb) {
                free(b);
                fclose(f);
                return NULL;
            }
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

bool qt_write(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(b, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------ the poke guest */

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/*
 * Thumb code (ARMv6-M subset, so it runs on every M profile) at 0x40:
 *   40 ldr r0,[pc,#24]   ; table        4806
 *   42 ldr r1,[r0,#0]    ; loop: addr   6801
 *   44 cmp r1,#0                        2900
 *   46 beq 50                           d003
 *   48 ldr r2,[r0,#4]    ; value        6842
 *   4a str r2,[r1,#0]                   600a
 *   4c adds r0,#8                       3008
 *   4e b 42                             e7f8
 *   50 ldr r1,[pc,#12]   ; done addr    4903
 *   52 ldr r2,[pc,#16]   ; done magic   4a04
 *   54 str r2,[r1,#0]                   600a
 *   56 wfi                              bf30
 *   58 b 56                             e7fd
 *   5c .word table; 60 .word QT_DONE_ADDR; 64 .word QT_DONE_MAGIC
 * It ends asleep in WFI, not spinning, so the monitor answers promptly.
 * Every vector but reset points at the WFI loop.
 */
uint8_t *qt_poke_image(const QtPoke *pokes, size_t n, size_t *len)
{
    static const uint16_t code[] = { 0x4806, 0x6801, 0x2900, 0xd003, 0x6842, 0x600a, 0x3008,
                                     0xe7f8, 0x4903, 0x4a04, 0x600a, 0xbf30, 0xe7fd };
    const uint32_t table = 0x80;
    *len = table + 8 * (n + 1);
    uint8_t *b = calloc(1, *len);
    if (!b)
        return NULL;
    le32(b, 0x20000800u);
    for (uint32_t v = 1; v < 16; v++)
        le32(b + 4 * v, 0x57);
    le32(b + 4, 0x41);
    for (size_t i = 0; i < sizeof(code) / sizeof(*code); i++) {
        b[0x40 + 2 * i] = (uint8_t)code[i];
        b[0x40 + 2 * i + 1] = (uint8_t)(code[i] >> 8);
    }
    le32(b + 0x5c, table);
    le32(b + 0x60, QT_DONE_ADDR);
    le32(b + 0x64, QT_DONE_MAGIC);
    for (size_t i = 0; i < n; i++) {
        le32(b + table + 8 * i, pokes[i].addr);
        le32(b + table + 8 * i + 4, pokes[i].value);
    }
    return b;
}

bool qt_run_guest(QtQemu *q)
{
    if (!qt_cmd(q, "cont"))
        return false;
    /* The guest needs microseconds; poll the done word, bounded. */
    for (int64_t deadline = now_ms() + QT_TIMEOUT_MS; now_ms() < deadline;) {
        uint32_t v;
        if (!qt_xp(q, QT_DONE_ADDR, &v, 1))
            return false;
        if (v == QT_DONE_MAGIC)
            return qt_cmd(q, "stop");
        struct timespec ts = { 0, 20 * 1000000 };
        nanosleep(&ts, NULL);
    }
    return false;
}

bool qt_migrate(QtQemu *q, const char *path)
{
    char cmd[700];
    /* Detached: HMP's own migrate polls its status once a second. */
    snprintf(cmd, sizeof(cmd), "migrate -d \"exec:cat > %s\"", path);
    if (strlen(path) > 600 || !qt_cmd(q, "migrate_set_parameter max-bandwidth 10G") ||
        !qt_cmd(q, cmd))
        return false;
    for (int64_t deadline = now_ms() + QT_TIMEOUT_MS; now_ms() < deadline;) {
        if (!qt_cmd(q, "info migrate"))
            return false;
        if (strstr(q->reply, "Migration status: completed"))
            return true;
        if (strstr(q->reply, "Migration status: failed") ||
            strstr(q->reply, "Migration status: cancelled"))
            return false;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    return false;
}

bool qt_incoming_done(QtQemu *q)
{
    for (int64_t deadline = now_ms() + QT_TIMEOUT_MS; now_ms() < deadline;) {
        if (!qt_cmd(q, "info status"))
            return false;
        if (!strstr(q->reply, "inmigrate"))
            return strstr(q->reply, "VM status") != NULL;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    return false;
}

int qt_begin(const char *base, const char *name, char *tmpdir, size_t n)
{
    if (!qt_binary()) {
        fprintf(stderr, "qemu-system-arm not found (ci/setup installs it); skipped\n");
        return QT_SKIP;
    }
    snprintf(tmpdir, n, "%s/%s.%ld", base, name, (long)getpid());
    if (mkdir(tmpdir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot make %s: %s\n", tmpdir, strerror(errno));
        return 1;
    }
    return -1;
}

int qt_end(const char *tmpdir, int rc)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) != 0 ? 1 : rc;
}
