/*
 * qemu.h - the QEMU driver: real qemu-system-arm processes as twins.
 *
 * Everything here talks to QEMU only over unix-domain sockets (QMP with
 * jansson, a small subset of the GDB remote serial protocol, and migration
 * streams), starts processes with posix_spawn, tracks them by PID, bounds
 * every wait, and ends every child it started on every exit path.
 * See docs/qemu.md.
 */
#ifndef VMS_QEMU_H
#define VMS_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <sys/types.h>

/* One-line error text, filled by any function that returns false. */
typedef struct QdrvErr {
    char text[320];
} QdrvErr;

/* ---------------------------------------------------------------- processes */

/* Every child a driver starts is registered here until it is reaped, so a
 * signal handler (qdrv_install_signal_handlers) can SIGKILL them all. */
void qdrv_install_signal_handlers(void);
bool qdrv_interrupted(void);          /* a SIGINT/SIGTERM arrived */
void qdrv_kill_all(void);             /* async-signal-safe: SIGKILL every registered child */

/* Spawn argv[0] (searched in PATH) with stdin from /dev/null and stdout and
 * stderr appended to errlog. */
bool qdrv_spawn(char *const argv[], const char *errlog, pid_t *pid, QdrvErr *e);
/* Is the child still running? Never reaps (si, if given, says how it ended). */
bool qdrv_alive(pid_t pid, siginfo_t *si);
/* Has the child ended? Reaps it if so and stores its wait status. */
bool qdrv_exited(pid_t pid, int *wstatus);
/* SIGTERM, wait up to grace_ms, then SIGKILL and reap. Returns the status. */
int qdrv_end(pid_t pid, int grace_ms);
/* "exit 1", "signal 6 (Aborted)", ... */
void qdrv_describe_status(int wstatus, char *out, size_t n);

/* --------------------------------------------------------------- sockets */

/* Connect to a unix socket a child is creating: retries every 5 ms until
 * timeout_ms, giving up early if the child exits. */
bool qdrv_connect(const char *path, pid_t owner, int timeout_ms, int *fd, QdrvErr *e);

/* ------------------------------------------------------------------- QMP */

typedef struct QdrvQmp {
    int fd;
    char buf[65536];
    size_t len;
    int timeout_ms;        /* per reply */
} QdrvQmp;

/* Read the greeting and negotiate capabilities. */
bool qdrv_qmp_open(QdrvQmp *q, int fd, int timeout_ms, QdrvErr *e);
/* Execute cmd with args (may be NULL; the reference is stolen). On success
 * *ret (if not NULL) receives the "return" value (a new reference).
 * An "error" reply is a failure whose text is QEMU's description. */
struct json_t;
bool qdrv_qmp(QdrvQmp *q, const char *cmd, struct json_t *args, struct json_t **ret, QdrvErr *e);
/* An HMP command through human-monitor-command; non-empty output is an error
 * unless out is given (then the output is copied there). */
bool qdrv_hmp(QdrvQmp *q, const char *line, char *out, size_t n, QdrvErr *e);
void qdrv_qmp_close(QdrvQmp *q);

/* ------------------------------------------------------------------- GDB */

typedef struct QdrvGdb {
    int fd;
    char buf[4096];
    size_t len;
    int timeout_ms;
} QdrvGdb;

/* Switch to no-ack mode (QStartNoAckMode) and ask for the stop reason. */
bool qdrv_gdb_open(QdrvGdb *g, int fd, int timeout_ms, QdrvErr *e);
/* Send one command, read one reply packet into out (NUL-terminated). */
bool qdrv_gdb_cmd(QdrvGdb *g, const char *cmd, char *out, size_t n, QdrvErr *e);
bool qdrv_gdb_break(QdrvGdb *g, uint32_t addr, bool insert, QdrvErr *e);    /* Z0/z0, Thumb */
/* Continue (c) and wait up to wait_ms for a stop reply (S/T). */
bool qdrv_gdb_cont(QdrvGdb *g, int wait_ms, QdrvErr *e);
/* Wait for a stop reply that an earlier resume will produce. */
bool qdrv_gdb_wait_stop(QdrvGdb *g, int wait_ms, QdrvErr *e);
/* Single step (s) and wait for its stop reply. */
bool qdrv_gdb_step(QdrvGdb *g, QdrvErr *e);
/* Read n (at most 64) bytes of guest memory at addr (m), as the CPU sees
 * them; device registers are read through their read handlers. */
bool qdrv_gdb_read(QdrvGdb *g, uint32_t addr, uint8_t *out, size_t n, QdrvErr *e);
void qdrv_gdb_close(QdrvGdb *g);

/* ------------------------------------------------------------ one QEMU */

/* How every twin is started: the same line for all, plus -incoming for a
 * reloaded one. */
typedef struct QdrvSetup {
    const char *qemu;       /* binary (default qemu-system-arm) */
    const char *machine;
    const char *firmware;   /* ELF */
    const char *image;      /* qcow2 for snapshots, or NULL */
    unsigned seed;
    int timeout_ms;         /* bound of every single wait */
} QdrvSetup;

typedef struct QdrvTwin {
    char name[16];          /* "a", "b", "c" (a never-migrated witness) */
    char dir[256];          /* its files: sockets, uart.log, stderr.log */
    pid_t pid;
    QdrvQmp qmp;
    QdrvGdb gdb;
    unsigned generation;    /* how many processes this twin has had */
    int status;             /* wait status of its last process, once ended */
} QdrvTwin;

/* Start a twin (incoming: a stream file to load, or NULL) with its QMP and
 * gdb attached, stopped (at reset, or loaded). */
bool qdrv_twin_start(QdrvTwin *t, const QdrvSetup *s, const char *incoming, QdrvErr *e);
/* The same in two steps, so that starting QEMU can overlap other work:
 * spawn a destination with `-incoming defer` (returns at once), later load
 * a stream file into it through QMP migrate-incoming and attach QMP and
 * gdb as qdrv_twin_start does. */
bool qdrv_twin_spawn_deferred(QdrvTwin *t, const QdrvSetup *s, QdrvErr *e);
bool qdrv_twin_load_deferred(QdrvTwin *t, const QdrvSetup *s, const char *file, QdrvErr *e);
void qdrv_twin_stop(QdrvTwin *t);
/* Save the whole machine through QMP migrate to a unix socket we read. */
bool qdrv_twin_save(QdrvTwin *t, const QdrvSetup *s, uint8_t **buf, size_t *len, QdrvErr *e);
/* Feed a stream file to a twin started with incoming (its in.sock). */
bool qdrv_twin_feed(QdrvTwin *t, const char *file, int timeout_ms, QdrvErr *e);
/* Poll query-status until a destination has left "inmigrate". */
bool qdrv_twin_wait_loaded(QdrvTwin *t, int timeout_ms, QdrvErr *e);
/* QMP cont on a twin standing on its breakpoint: it stops again at once. */
bool qdrv_twin_resume_onto(QdrvTwin *t, QdrvErr *e);
/* Run to the next hit of the breakpoint at addr (inserted already), leaving
 * the current one first when the twin stands on it. */
bool qdrv_twin_next(QdrvTwin *t, uint32_t addr, bool on_bp, int wait_ms, QdrvErr *e);

/* Where a byte fed to the twin's UART shows: (*status & mask) == ready, as
 * the workload's board_rx says (guest/qemu/common/qrt.h). */
typedef struct QdrvRx {
    uint32_t status, mask, ready;
} QdrvRx;
/* Read the workload's board_rx at addr in guest memory. */
bool qdrv_twin_rx_read(QdrvTwin *t, uint32_t addr, QdrvRx *rx, QdrvErr *e);
/* What became of a byte fed to a twin's UART. */
typedef enum {
    QDRV_FEED_BUSY,         /* not fed: the UART still holds an earlier byte */
    QDRV_FEED_DELIVERED,    /* the UART holds it */
    QDRV_FEED_LOST,         /* QEMU took it from the socket; the UART never showed it */
} QdrvFeed;
/* Feed one byte to a twin stopped on its breakpoint, through its UART's
 * socket chardev, and return only once the UART holds it (or the wait,
 * bounded by the gdb timeout, is over) and QEMU has seen the socket close,
 * so the byte is in the guest's state before it resumes (docs/qemu.md,
 * "UART input"). A busy UART is not fed: a second byte would wait in the
 * socket and arrive at a host-timed instant. */
bool qdrv_twin_feed_uart(QdrvTwin *t, const QdrvRx *rx, uint8_t byte, QdrvFeed *out, QdrvErr *e);

/* ------------------------------------------------------------ streams */

/* Rewrite globalstate's runstate in place (a gdb-stopped source says
 * "debug", which a destination refuses). */
bool qdrv_stream_set_runstate(uint8_t *buf, size_t len, const char *runstate, QdrvErr *e);
/* XOR xor_mask into the first byte of the leaf at path (decode.h naming). */
bool qdrv_stream_corrupt(uint8_t *buf, size_t len, const char *path, unsigned xor_mask, QdrvErr *e);

/* A leaf QEMU may legitimately fill differently in twins, with the reason. */
typedef struct QdrvVolatile {
    const char *path;       /* decode.h naming: section.instance/field... */
    const char *reason;
} QdrvVolatile;
extern const QdrvVolatile qdrv_volatile_7_2[];
extern const size_t qdrv_volatile_7_2_count;

/* The first difference of two streams outside the declared volatile leaves. */
typedef struct QdrvDiff {
    bool differs;
    char path[512];         /* section.instance/field[index]/... or ram/<block>@0x<addr> */
    char section[128];      /* the path's first component */
    size_t stream_offset;   /* of the leaf, in stream a (or b when absent from a) */
    char a[96], b[96];      /* both values, as vdec_leaf_format gives them */
    unsigned count;         /* differing leaves */
} QdrvDiff;
bool qdrv_stream_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, QdrvDiff *d,
                      QdrvErr *e);
/* The same, with further leaves skipped where skip says so, and every
 * differing leaf's path passed to each (both optional). */
typedef struct QdrvDiffHooks {
    bool (*skip)(void *ctx, const char *path);
    void (*each)(void *ctx, const char *path);
    void *ctx;
} QdrvDiffHooks;
bool qdrv_stream_diff_with(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, const QdrvDiffHooks *h,
                           QdrvDiff *d, QdrvErr *e);

/* The -icount shift every twin runs with: one instruction is 2^shift ns. */
#define QDRV_ICOUNT_SHIFT 3
/* The QEMU timers of a stream that have expired without their callback
 * having run: deadline not after the virtual clock (timer.0's
 * qemu_icount_bias + qemu_icount << QDRV_ICOUNT_SHIFT). A stop warps the
 * clock to the next deadline, and whether the main loop runs that
 * callback before the stop completes is a host-thread race: two twins at
 * the same instruction whose lists differ are mid-event relative to each
 * other (docs/qemu.md, "No false positives"). paths gets the leaf paths,
 * space-separated, in stream order ("" for none). */
bool qdrv_stream_expired(const uint8_t *buf, size_t len, char *paths, size_t n, QdrvErr *e);

/* ------------------------------------------------------------ the loop */

typedef enum { QDRV_MIGRATE, QDRV_SNAPSHOT } QdrvMode;

typedef struct QdrvConfig {
    QdrvSetup setup;
    QdrvMode mode;
    uint64_t checkpoints;   /* stop after this many (0: use seconds) */
    double seconds;
    unsigned every;         /* a checkpoint every N hits of checkpoint() */
    const char *results;    /* where findings go */
    bool quiet;
    FILE *progress;         /* a progress line per checkpoint, or NULL */
    bool no_input;          /* feed no UART input (docs/qemu.md, "UART input") */
    /* Test hook (planted bug): XOR corrupt_xor into the first byte of the
     * leaf corrupt_path of B's stream before the destination loads it, at
     * checkpoint corrupt_at (migrate mode). */
    const char *corrupt_path;
    unsigned corrupt_xor;
    uint64_t corrupt_at;
} QdrvConfig;

/* The address of a function (Thumb bit cleared) or data symbol in an ELF32 file. */
bool qdrv_elf_symbol(const char *path, const char *name, uint32_t *addr, QdrvErr *e);

typedef struct QdrvResult {
    bool finding;
    char oracle[32];        /* state-equality, fixpoint, uart, destination-death */
    uint64_t checkpoint;
    uint32_t pc;
    QdrvDiff diff;
    char detail[320];
    uint64_t done;          /* checkpoints completed */
    unsigned races;         /* differences not confirmed at the next checkpoint */
    unsigned unsettled;     /* checkpoints that differed mid-event (see run.c, settled) */
    unsigned blind;         /* checkpoints whose stop A held no expired timer at (could not confirm) */
    /* The first QDRV_RACES_KEPT of them, for the report: never dropped
     * silently, only not called findings (docs/qemu.md). */
#define QDRV_RACES_KEPT 8
    QdrvDiff race[QDRV_RACES_KEPT];
    uint64_t race_cp[QDRV_RACES_KEPT];
    double seconds;
    uint64_t uart_in;       /* bytes fed to A's UART (docs/qemu.md, "UART input") */
    char version[64];       /* QEMU's */
    int source_safe;        /* after a destination death: 1 A equals a never-migrated
                             * twin, 0 it does not, -1 not checked */
    char dir[256];          /* where the finding's files are */
} QdrvResult;

/* Run the loop: 0 clean, 1 finding (report under cfg->results), 2 setup or
 * input error (message in e). */
int qdrv_run(const QdrvConfig *cfg, QdrvResult *r, QdrvErr *e);

/* ------------------------------------------------------------ the loader fuzzer */

/* vmstress qemu fuzz (fuzz.c, docs/qemu.md "The loader fuzzer"): real
 * streams of the board, mutated leaf by leaf through their vmdescription,
 * each fed to a fresh QEMU with -incoming. */
typedef struct QdrvFuzzConfig {
    QdrvSetup setup;
    double seconds;         /* host time to fuzz for */
    uint64_t seed;          /* of the mutations */
    const char *results;    /* findings go to DIR/qemu-<board>/<signature>.{bin,txt} */
    double minimise_s;      /* bound of the byte-wise step of one minimisation */
    FILE *progress;         /* a progress line now and then, or NULL */
} QdrvFuzzConfig;

typedef struct QdrvFuzzFinding {
    char signature[112];    /* file name stem: <kind>-<where>-<hash> */
    char kind[24];          /* crash, hang, not-preserved, save-failed */
    char line[400];         /* the one-line description (<signature>.txt) */
    bool known;             /* already under DIR before this run */
} QdrvFuzzFinding;

#define QDRV_FUZZ_FINDINGS_MAX 64
typedef struct QdrvFuzzStats {
    uint64_t execs;         /* mutated inputs fed to QEMU (minimisation excluded) */
    uint64_t accepted;      /* loaded and saved again with no finding */
    uint64_t rejected;      /* refused cleanly: error message, exit status, no signal */
    uint64_t finding_execs; /* inputs that gave a finding (any signature) */
    uint64_t not_compared;  /* accepted, but the mutated input has no consistent trailer to compare by */
    uint64_t guest_stuck;   /* accepted, but the guest did not reach checkpoint() again (not a finding) */
    uint64_t min_execs;     /* spent confirming and minimising */
    uint64_t unconfirmed;   /* findings the same input did not give again (not recorded) */
    uint64_t duplicates;    /* mutants identical to an input already run: not run again, not in execs */
    double seconds;
    char version[64];
    size_t n_findings;
    QdrvFuzzFinding finding[QDRV_FUZZ_FINDINGS_MAX];
} QdrvFuzzStats;

/* The mutation step alone, without QEMU (for tests): a mutant of one of
 * the n (1..4) base streams, picked by the seed, the others giving values
 * of the same leaves. Returns a new buffer (free()) of *len bytes; sets
 * *structural when the framing was edited (then the trailer no longer
 * describes the stream), and what to the edits made. NULL (why in e) when
 * a base does not decode. */
uint8_t *qdrv_fuzz_mutant(const uint8_t *const *bases, const size_t *lens, size_t n, uint64_t seed, size_t *len,
                          bool *structural, char *what, size_t whatn, QdrvErr *e);

/* 0 nothing new found, 1 new findings saved, 2 setup error (message in e). */
int qdrv_fuzz(const QdrvFuzzConfig *c, QdrvFuzzStats *st, QdrvErr *e);

/* Replay every <signature>.bin in dir against the board: each must still
 * give the finding its name records. One line per file to out; 0 all
 * still happen, 1 some outcome changed, 2 setup error. */
int qdrv_fuzz_replay(const QdrvSetup *s, const char *dir, FILE *out, QdrvErr *e);

#endif
