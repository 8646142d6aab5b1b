/*
 * test_qemu_clients.c - the QMP and gdb clients and the process handling of
 * harness/qemu against a closed socket, garbage replies, silence, and a
 * real QEMU that dies: every failure is a clean one-line error, and no
 * child is left behind (kill(pid, 0) fails once the driver is done).
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "qemu.h"

/* A connected pair: the client end and the end the test plays QEMU on. */
static void pair(int *client, int *peer)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *client = sv[0];
    *peer = sv[1];
}

static void say(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void assert_one_line(const QdrvErr *e, const char *needle)
{
    assert_non_null(strstr(e->text, needle));
    assert_null(strchr(e->text, '\n'));
}

static void qmp_garbage_greeting(void **state)
{
    (void)state;
    int c, p;
    pair(&c, &p);
    say(p, "this is not json\n");
    QdrvQmp q;
    QdrvErr e;
    assert_false(qdrv_qmp_open(&q, c, 200, &e));
    assert_one_line(&e, "not a JSON object");
    close(c);
    close(p);
}

static void qmp_closed_socket(void **state)
{
    (void)state;
    int c, p;
    pair(&c, &p);
    say(p, "{\"QMP\": {}}\n{\"return\": {}}\n");
    QdrvQmp q;
    QdrvErr e;
    assert_true(qdrv_qmp_open(&q, c, 200, &e));
    close(p);
    assert_false(qdrv_qmp(&q, "query-status", NULL, NULL, &e));
    /* The write may succeed into the buffer; then the read sees the close. */
    assert_true(strstr(e.text, "connection closed") || strstr(e.text, "cannot send"));
    assert_null(strchr(e.text, '\n'));
    qdrv_qmp_close(&q);
}

static void qmp_silence_and_errors(void **state)
{
    (void)state;
    int c, p;
    pair(&c, &p);
    say(p, "{\"QMP\": {}}\n{\"event\": \"X\"}\n{\"return\": {}}\n");
    QdrvQmp q;
    QdrvErr e;
    assert_true(qdrv_qmp_open(&q, c, 100, &e));
    assert_false(qdrv_qmp(&q, "query-status", NULL, NULL, &e));
    assert_one_line(&e, "no reply within 100 ms");
    say(p, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}}\n");
    assert_false(qdrv_qmp(&q, "stop", NULL, NULL, &e));
    assert_one_line(&e, "QMP stop: nope");
    say(p, "[1, 2]\n");
    assert_false(qdrv_qmp(&q, "stop", NULL, NULL, &e));
    assert_one_line(&e, "not a JSON object");
    say(p, "{\"return\": \"Error: no snapshot\\nsecond line\"}\n");
    assert_false(qdrv_hmp(&q, "loadvm x", NULL, 0, &e));
    assert_one_line(&e, "HMP loadvm x: Error: no snapshot");
    qdrv_qmp_close(&q);
    close(p);
}

static void gdb_garbage(void **state)
{
    (void)state;
    int c, p;
    pair(&c, &p);
    QdrvGdb g;
    QdrvErr e;
    say(p, "+$#00$T05thread:01;#07");
    assert_true(qdrv_gdb_open(&g, c, 200, &e));
    say(p, "$OK#00");   /* wrong checksum */
    assert_false(qdrv_gdb_break(&g, 0x100, true, &e));
    assert_one_line(&e, "bad packet checksum");
    say(p, "$E01#a6");
    assert_false(qdrv_gdb_break(&g, 0x100, true, &e));
    assert_one_line(&e, "unexpected reply 'E01'");
    say(p, "$OK#9a");
    assert_false(qdrv_gdb_cont(&g, 200, &e));
    assert_one_line(&e, "not a stop reply");
    assert_false(qdrv_gdb_cont(&g, 100, &e));
    assert_one_line(&e, "no reply within 100 ms");
    close(p);
    assert_false(qdrv_gdb_step(&g, &e));
    assert_true(strstr(e.text, "connection closed") || strstr(e.text, "cannot send"));
    qdrv_gdb_close(&g);
}

static const char *qemu_bin(void)
{
    const char *q = getenv("VMSTRESS_QEMU");
    return q ? q : "qemu-system-arm";
}

/* A QEMU that cannot start (unknown machine): the connect names its exit,
 * and ending it by PID reaps it with that status. */
static void qemu_dies_at_start(void **state)
{
    (void)state;
    char dir[] = "/tmp/vmstress-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sock[300], log[300];
    snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
    snprintf(log, sizeof(log), "%s/stderr.log", dir);
    char qmp[400];
    snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", sock);
    char *argv[] = { (char *)qemu_bin(), "-M", "no-such-board", "-display", "none", "-qmp", qmp, NULL };
    pid_t pid;
    QdrvErr e;
    assert_true(qdrv_spawn(argv, log, &pid, &e));
    int fd;
    assert_false(qdrv_connect(sock, pid, 5000, &fd, &e));
    assert_one_line(&e, "ended (exit 1)");
    /* The connect only watched it; ending it reaps it with its real status. */
    int st = qdrv_end(pid, 100);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(qdrv_end(pid, 100), 0);   /* reaped: never signalled again */
    unlink(log);
    rmdir(dir);
}

/* A twin of lm3s811evb in a fresh temporary folder, started and attached. */
static void twin_up(QdrvTwin *t)
{
    static char fw[512];
    snprintf(fw, sizeof(fw), "%s/qemu/lm3s811evb.elf", VMSTRESS_GUEST_DIR);
    QdrvSetup s = { .qemu = qemu_bin(), .machine = "lm3s811evb", .firmware = fw, .seed = 1, .timeout_ms = 5000 };
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "t");
    snprintf(t->dir, sizeof(t->dir), "/tmp/vmstress-test-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    QdrvErr e;
    assert_true(qdrv_twin_start(t, &s, NULL, &e));
    assert_int_equal(kill(t->pid, 0), 0);
}

/* End it by PID and check nothing is left: no process, no folder. */
static void twin_down(QdrvTwin *t)
{
    pid_t pid = t->pid;
    qdrv_twin_stop(t);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
    assert_int_equal(system(cmd), 0);
}

/* A QEMU killed under a live QMP and gdb connection: clean errors. */
static void qemu_killed_mid_session(void **state)
{
    (void)state;
    QdrvTwin t;
    twin_up(&t);
    kill(t.pid, SIGKILL);
    QdrvErr e;
    assert_false(qdrv_qmp(&t.qmp, "query-status", NULL, NULL, &e));
    assert_null(strchr(e.text, '\n'));
    assert_false(qdrv_gdb_cont(&t.gdb, 1000, &e));
    assert_null(strchr(e.text, '\n'));
    twin_down(&t);
}

/* A live QEMU ended by PID: SIGTERM is enough, and it is reaped. */
static void qemu_ended_by_pid(void **state)
{
    (void)state;
    QdrvTwin t;
    twin_up(&t);
    QdrvErr e;
    assert_true(qdrv_gdb_break(&t.gdb, 0x100, true, &e));
    twin_down(&t);
}

int main(void)
{
    const struct CMUnitTest sockets[] = {
        cmocka_unit_test(qmp_garbage_greeting),
        cmocka_unit_test(qmp_closed_socket),
        cmocka_unit_test(qmp_silence_and_errors),
        cmocka_unit_test(gdb_garbage),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(qemu_dies_at_start),
        cmocka_unit_test(qemu_killed_mid_session),
        cmocka_unit_test(qemu_ended_by_pid),
    };
    signal(SIGPIPE, SIG_IGN);
    int failed = cmocka_run_group_tests_name("qemu clients", sockets, NULL, NULL);
    char probe[400];
    snprintf(probe, sizeof(probe), "command -v %s >/dev/null 2>&1", qemu_bin());
    if (system(probe) != 0) {
        fprintf(stderr, "qemu-system-arm not found: real-QEMU cases skipped\n");
        return failed ? failed : 77;
    }
    return failed + cmocka_run_group_tests_name("qemu processes", real, NULL, NULL);
}
