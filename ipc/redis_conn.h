/* SPDX-License-Identifier: MIT */
/* What every hiredis user in ipclab shares: connections that never cross fork, no SIGPIPE,
 * one way to connect (timeouts, close-on-exec, AUTH) and to turn a failure into -errno. */
#ifndef IPCLAB_IPC_REDIS_CONN_H
#define IPCLAB_IPC_REDIS_CONN_H

#ifdef IPCLAB_HAVE_HIREDIS

#include <hiredis/hiredis.h>

#include <stddef.h>
#include <sys/time.h>

/*
 * Call before the first connection of a process (cheap, idempotent). Starts the fork
 * generation (ipc/fork_gen.h: connections never cross fork) and ignores SIGPIPE if nobody set a handler: hiredis
 * writes with write(2), not send(MSG_NOSIGNAL), so a command to a server that died would
 * kill the process without a word instead of failing with EPIPE.
 */
void ipc_redis_conn_init(void);

/* How a caller wants a socket timeout (SO_RCVTIMEO expiring: hiredis's bare EAGAIN) told. */
struct ipc_redis_timeout {
    int err;          /* -ETIMEDOUT, or -EIO where -ETIMEDOUT means something else */
    const char *text; /* the reason to give */
};

/* A failed context as -errno, with a one-line reason in why[len]. */
int ipc_redis_classify(const redisContext *c, int saved_errno, const struct ipc_redis_timeout *t,
                       char *why, size_t len);

/*
 * Connect to the Unix socket `socket`, or (socket NULL) to host:port, within connect_tv; then
 * reply_tv as the command timeout, close-on-exec (an exec'd redis-server or redis-benchmark
 * must not hold it open), and AUTH when password is non-empty. 0 with *out, or -errno with a
 * one-line reason in why[len] and nothing left open.
 */
int ipc_redis_connect(const char *socket, const char *host, int port, struct timeval connect_tv,
                      struct timeval reply_tv, const char *password,
                      const struct ipc_redis_timeout *t, redisContext **out, char *why,
                      size_t len);

#endif
#endif
