/*
 * qemutest.h - drive a real qemu-system-arm from a test (prefix qt_).
 *
 * One QEMU process per QtQemu, started with posix_spawn, its human monitor
 * on a pipe (-monitor stdio), every wait bounded by a deadline, and ended
 * by its PID (SIGKILL after a bounded grace) on every path, including a
 * failed assertion's teardown. Test-only: the product's QEMU driver is
 * vmstress qemu (QMP and the gdbstub); these tests need only the monitor's
 * migrate, xp and quit.
 */
#ifndef VMSTRESS_QEMUTEST_H
#define VMSTRESS_QEMUTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ctest's SKIP_RETURN_CODE for the qemu tests. */
#define QT_SKIP 77
/* Bound of any one monitor command, and of start-up. */
#define QT_TIMEOUT_MS 20000

typedef struct QtQemu {
    pid_t pid;
    int in;             /* its stdin: monitor commands */
    int out;            /* its stdout+stderr: monitor replies */
    char reply[65536];  /* the last command's reply */
    size_t len;
} QtQemu;

/* $QEMU_SYSTEM_ARM, else qemu-system-arm if it is on PATH; NULL if absent. */
const char *qt_binary(void);
/* The binary knows machine `board` (from -M help, bounded). */
bool qt_has_machine(const char *board);
/* Start QEMU with args (NULL-terminated, without the binary, -monitor and
 * -nodefaults), and wait for its first monitor prompt. False with a line in
 * err if it could not start or died. */
bool qt_start(QtQemu *q, const char *const *args, char *err, size_t errn);
/* Send one monitor command and wait for the next prompt; the text in
 * q->reply. False if QEMU died or the deadline passed. */
bool qt_cmd(QtQemu *q, const char *cmd);
/* Read n 32-bit words at physical address addr with xp into v. */
bool qt_xp(QtQemu *q, uint32_t addr, uint32_t *v, unsigned n);
/* Save the (stopped) machine to path with a detached migrate, polling
 * info migrate until it completes (bounded). */
bool qt_migrate(QtQemu *q, const char *path);
/* A QEMU started with -incoming: wait (bounded) until the load is over.
 * False if it failed (QEMU exits; its message is in q->reply). */
bool qt_incoming_done(QtQemu *q);
/* quit, wait bounded, then SIGKILL by PID; safe to call twice. Returns the
 * exit status (or -1 if it had to be killed). */
int qt_stop(QtQemu *q);

/* Start of a test program: -1 to go on, with tmpdir made as
 * "<base>/<name>.<pid>"; else the exit status (QT_SKIP without QEMU). */
int qt_begin(const char *base, const char *name, char *tmpdir, size_t n);
/* End: remove tmpdir; returns rc, or 1 if that failed. */
int qt_end(const char *tmpdir, int rc);

/* Read a whole file; NULL on error. */
uint8_t *qt_read(const char *path, size_t *len);
bool qt_write(const char *path, const uint8_t *b, size_t len);

/*
 * A raw M-profile image (for -kernel): vector table (SP, reset), then a
 * loop that stores each (address, value) pair of `pokes` (32-bit stores),
 * then writes QT_DONE_MAGIC to QT_DONE_ADDR and spins. Loaded at 0.
 */
#define QT_DONE_ADDR 0x20000100u
#define QT_DONE_MAGIC 0xd0e5a1e5u
typedef struct QtPoke {
    uint32_t addr, value;
} QtPoke;
uint8_t *qt_poke_image(const QtPoke *pokes, size_t n, size_t *len);
/* Let the guest run (cont) until it reports done; then stop it. */
bool qt_run_guest(QtQemu *q);

#endif
