/*
 * proc.c - children by PID: spawn, watch, end; unix-socket connect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"
#include "qemu_int.h"

extern char **environ;

/* The registry is a fixed array of PIDs so the signal handler can walk it
 * without locks or allocation (0 = free slot). */
#define QDRV_MAX_CHILDREN 64
static volatile pid_t children[QDRV_MAX_CHILDREN];
static volatile sig_atomic_t interrupted;

static void child_add(pid_t pid)
{
    for (int i = 0; i < QDRV_MAX_CHILDREN; i++)
        if (!children[i]) {
            children[i] = pid;
            return;
        }
}

static void child_remove(pid_t pid)
{
    for (int i = 0; i < QDRV_MAX_CHILDREN; i++)
        if (children[i] == pid)
            children[i] = 0;
}

void qdrv_kill_all(void)
{
    for (int i = 0; i < QDRV_MAX_CHILDREN; i++)
        if (children[i] > 0)
            kill(children[i], SIGKILL);
}

/* Kill the children at once (they must not outlive us), then let the loop
 * notice the flag, clean up and exit. */
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    qdrv_kill_all();
}

void qdrv_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool qdrv_interrupted(void) { return interrupted; }

bool qdrv_spawn(char *const argv[], const char *errlog, pid_t *pid, QdrvErr *e)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, errlog, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    /* Default signal dispositions in the child: it must die of our SIGTERM
     * even though we ignore SIGPIPE and catch SIGINT. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&at, &all);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc) {
        snprintf(e->text, sizeof(e->text), "cannot start %s: %s", argv[0], strerror(rc));
        return false;
    }
    child_add(*pid);
    return true;
}

bool qdrv_exited(pid_t pid, int *wstatus)
{
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r != pid)
        return false;
    child_remove(pid);
    if (wstatus)
        *wstatus = st;
    return true;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool child_known(pid_t pid)
{
    for (int i = 0; i < QDRV_MAX_CHILDREN; i++)
        if (children[i] == pid)
            return true;
    return false;
}

int qdrv_end(pid_t pid, int grace_ms)
{
    int st = 0;
    /* A child already reaped (by qdrv_exited) is never signalled again: its
     * PID may belong to someone else by now. */
    if (pid <= 0 || !child_known(pid))
        return 0;
    if (qdrv_exited(pid, &st))
        return st;
    kill(pid, SIGTERM);
    for (int waited = 0; waited < grace_ms; waited += 2) {
        if (qdrv_exited(pid, &st))
            return st;
        sleep_ms(2);
    }
    kill(pid, SIGKILL);
    /* SIGKILL cannot be caught: this wait ends as soon as the kernel reaps. */
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    child_remove(pid);
    return st;
}

bool qdrv_alive(pid_t pid, siginfo_t *si)
{
    siginfo_t local;
    siginfo_t *p = si ? si : &local;
    memset(p, 0, sizeof(*p));
    if (pid <= 0 || !child_known(pid))
        return false;
    if (waitid(P_PID, (id_t)pid, p, WEXITED | WNOHANG | WNOWAIT) < 0)
        return false;
    return p->si_pid == 0;
}

void qdrv_describe_status(int st, char *out, size_t n)
{
    if (WIFEXITED(st))
        snprintf(out, n, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, n, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(out, n, "status 0x%x", st);
}

bool qdrv_connect(const char *path, pid_t owner, int timeout_ms, int *fd, QdrvErr *e)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(e->text, sizeof(e->text), "socket path too long: %s", path);
        return false;
    }
    strcpy(sa.sun_path, path);
    for (int waited = 0;; waited += 5) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            snprintf(e->text, sizeof(e->text), "socket: %s", strerror(errno));
            return false;
        }
        if (!connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
            *fd = s;
            return true;
        }
        int err = errno;
        close(s);
        siginfo_t si;
        if (owner > 0 && !qdrv_alive(owner, &si)) {
            /* Not reaped here: whoever ends the child gets its status. */
            char how[64];
            if (si.si_code == CLD_EXITED)
                snprintf(how, sizeof(how), "exit %d", si.si_status);
            else
                snprintf(how, sizeof(how), "signal %d (%s)", si.si_status, strsignal(si.si_status));
            snprintf(e->text, sizeof(e->text), "process %d ended (%s) before %s accepted connections",
                     (int)owner, how, path);
            return false;
        }
        if (waited >= timeout_ms || interrupted) {
            snprintf(e->text, sizeof(e->text), "cannot connect to %s within %d ms: %s", path,
                     timeout_ms, strerror(err));
            return false;
        }
        sleep_ms(5);
    }
}

bool qdrv_io_read(int fd, char *buf, size_t *len, size_t cap, int timeout_ms, const char *who, QdrvErr *e)
{
    if (*len >= cap) {
        snprintf(e->text, sizeof(e->text), "%s: reply longer than %zu bytes", who, cap);
        return false;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR && !interrupted);
    if (r == 0) {
        snprintf(e->text, sizeof(e->text), "%s: no reply within %d ms", who, timeout_ms);
        return false;
    }
    if (r < 0) {
        snprintf(e->text, sizeof(e->text), "%s: %s", who, interrupted ? "interrupted" : strerror(errno));
        return false;
    }
    ssize_t got = read(fd, buf + *len, cap - *len);
    if (got <= 0) {
        snprintf(e->text, sizeof(e->text), "%s: connection closed%s%s", who, got ? ": " : "",
                 got ? strerror(errno) : "");
        return false;
    }
    *len += (size_t)got;
    return true;
}

bool qdrv_io_write(int fd, const char *data, size_t n, int timeout_ms, const char *who, QdrvErr *e)
{
    while (n) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) {
            snprintf(e->text, sizeof(e->text), "%s: peer took nothing for %d ms", who, timeout_ms);
            return false;
        }
        if (r < 0 && errno == EINTR && !interrupted)
            continue;
        ssize_t w = r < 0 ? -1 : send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EAGAIN)
            continue;
        if (w < 0 && errno == EINTR && !interrupted)
            continue;
        if (w <= 0) {
            snprintf(e->text, sizeof(e->text), "%s: cannot send: %s", who, strerror(errno));
            return false;
        }
        data += w;
        n -= (size_t)w;
    }
    return true;
}
