/* SPDX-License-Identifier: MIT */
/* ipclab's own redis-server: private socket and port, started, checked and stopped per use. */
#ifndef IPCLAB_IPC_REDIS_SERVER_H
#define IPCLAB_IPC_REDIS_SERVER_H

#include "cleanup.h"
#include "server.h"

#include <stddef.h>

/* Long enough for any message below; the flag backends copy it into their own errstr. */
#define IPC_REDIS_ERRSTR_LEN 160

/* How long a start waits for the server to answer PING before giving up. */
#define IPC_REDIS_START_TIMEOUT_MS 5000

/* Hex digits of the password ipclab's own server requires (128 random bits). */
#define IPC_REDIS_PASSWORD_LEN 32

struct ipc_redis_server {
    struct ipc_server proc;            /* proc.pid is 0 when not running */
    int port;                          /* TCP port it listens on at 127.0.0.1 */
    char dir[IPC_CLEANUP_PATH_MAX];    /* private 0700 directory; "" when none */
    char socket[IPC_CLEANUP_PATH_MAX]; /* DIR/redis.sock, mode 0700 */
    char log[IPC_CLEANUP_PATH_MAX];    /* DIR/redis.log */
    char rdb[IPC_CLEANUP_PATH_MAX];    /* DIR/dump.rdb: never written with saving off, but a
                                          client's SAVE could, so it is registered too */
    char conf[IPC_CLEANUP_PATH_MAX];   /* DIR/redis.conf (0600): the password, kept off the
                                          command line, where any local user could read it */
    char password[IPC_REDIS_PASSWORD_LEN + 1]; /* random per start: every client must AUTH */
    char errstr[IPC_REDIS_ERRSTR_LEN]; /* why the last call failed */
};

/*
 * Look for an executable `redis-server` in $PATH (or the default path when $PATH is unset).
 * Returns 0 with its path in path[pathlen], or -ENOENT with a one-line reason, including how
 * to install it, in why[whylen]. Either buffer may be NULL when len is 0.
 */
int ipc_redis_server_find(char *path, size_t pathlen, char *why, size_t whylen);

/*
 * Start a redis-server nobody else uses: a fresh 0700 directory under tmpdir (NULL: $TMPDIR,
 * else /tmp) holding its Unix socket (mode 0700) and log, listening on 127.0.0.1 at a TCP
 * port that was free a moment before (chosen at run time; retried a few times if another
 * process takes it first), no persistence, protected mode, a random password (r->password,
 * from a 0600 config file: clients send AUTH first), stdio on /dev/null. Pinned to cpu
 * when cpu >= 0. r is overwritten (it must not describe a running server). Returns once the
 * server answered PING on its Unix socket.
 *
 * Every path it may create is registered with the cleanup registry before it starts, and
 * its pid as soon as it exists, so Ctrl-C leaves nothing behind. The process dies with its
 * parent (PR_SET_PDEATHSIG) even if the parent is killed outright.
 *
 * 0 on success. Otherwise -errno with a one-line reason in r->errstr (quoting the log's last
 * line when the server exited on its own), no process running and nothing left on disk.
 * Several processes may start servers at the same time.
 */
int ipc_redis_server_start(struct ipc_redis_server *r, const char *tmpdir, int cpu);

/*
 * Stop it (SHUTDOWN NOSAVE on its socket, then SIGTERM, a short grace and SIGKILL as needed),
 * reap it, and remove its socket, log, any other file it left in its directory, and the
 * directory. Safe on a server that was never started, failed to start, or was stopped
 * already (r zeroed counts as never started). Call it only in the process that started it.
 */
void ipc_redis_server_stop(struct ipc_redis_server *r);

/*
 * AUTH on a new hiredis connection (passed as void * so this header needs no hiredis) when
 * password is non-empty; nothing otherwise. 0, or -EACCES with the server's one-line answer in
 * err[errlen]. The flag backends, the queue and the Redis benchmark client all connect
 * through it, to ipclab's own server (its random password) or to one given with
 * --redis-password.
 */
int ipc_redis_auth(void *redis_context, const char *password, char *err, size_t errlen);

/* The password for a server ipclab did not start: the option's value if given, else
 * $IPCLAB_REDIS_PASSWORD (which, unlike an option, other users cannot read in ps), else NULL. */
const char *ipc_redis_password_or_env(const char *option);

#endif
