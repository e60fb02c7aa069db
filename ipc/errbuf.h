/* SPDX-License-Identifier: MIT */
/* An error message written into a caller's buffer, the way every ipc/ module reports why. */
#ifndef IPCLAB_IPC_ERRBUF_H
#define IPCLAB_IPC_ERRBUF_H

#include <stddef.h>

/* printf into buf[len] (nothing when buf is NULL or len 0). */
void ipc_set_err(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same, returning rc: `return ipc_errf(why, len, -EINVAL, "...", ...);` */
int ipc_errf(char *buf, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
