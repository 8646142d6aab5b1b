/* qemu_int.h - private to harness/qemu/: bounded socket I/O. */
#ifndef VMS_QEMU_INT_H
#define VMS_QEMU_INT_H

#include "qemu.h"

/* Append what fd has to buf[*len..cap), waiting at most timeout_ms. A
 * timeout, a closed socket or a full buffer is an error naming who. */
bool qdrv_io_read(int fd, char *buf, size_t *len, size_t cap, int timeout_ms, const char *who, QdrvErr *e);
bool qdrv_io_write(int fd, const char *data, size_t n, int timeout_ms, const char *who, QdrvErr *e);

/* Small file and time helpers shared by the loop (run.c) and the loader
 * fuzzer (fuzz.c). */
double qdrv_now_s(void);                 /* monotonic seconds */
bool qdrv_write_file(const char *dir, const char *leaf, const void *data, size_t n);
uint8_t *qdrv_read_all(const char *path, size_t *len);   /* NULL if unreadable */
void qdrv_tail_of(const char *path, char *out, size_t n); /* its last non-empty line */
void qdrv_rmtree(const char *dir);
/* The QEMU's "major.minor.micro" (QMP query-version). */
bool qdrv_qemu_version(QdrvQmp *qmp, char *out, size_t n, QdrvErr *e);
/* A new private folder "<TMPDIR or /tmp>/<prefix>-XXXXXX" in out (n bytes)
 * for a run's sockets: when TMPDIR is too deep for a unix socket path
 * inside it (108 bytes), /tmp is used instead. False with e filled. */
bool qdrv_make_tmpdir(char *out, size_t n, const char *prefix, QdrvErr *e);

#endif
