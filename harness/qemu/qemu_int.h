/* qemu_int.h - private to harness/qemu/: bounded socket I/O. */
#ifndef VMS_QEMU_INT_H
#define VMS_QEMU_INT_H

#include "qemu.h"

/* Append what fd has to buf[*len..cap), waiting at most timeout_ms. A
 * timeout, a closed socket or a full buffer is an error naming who. */
bool qdrv_io_read(int fd, char *buf, size_t *len, size_t cap, int timeout_ms, const char *who, QdrvErr *e);
bool qdrv_io_write(int fd, const char *data, size_t n, int timeout_ms, const char *who, QdrvErr *e);

#endif
