/* SPDX-License-Identifier: MIT */
/* A long-lived helper process (the manager server, redis-server): started, watched, stopped. */
#ifndef IPCLAB_IPC_SERVER_H
#define IPCLAB_IPC_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct ipc_server {
    pid_t pid;  /* 0 when not running */
    int pidfd;  /* -1 when not running */
    int cpu;    /* pinned to, or -1 */
    int status; /* waitpid status once reaped */
};

/*
 * Fork a server. The child forgets the parent's cleanup registry, gets PR_SET_PDEATHSIG
 * (SIGKILL; it survives exec, so an exec'd redis-server dies with ipclab too), is pinned to
 * cpu when cpu >= 0, then runs fn(arg), which may exec; the child _exits with fn's result.
 * The parent registers the pid for cleanup (Ctrl-C kills it). 0 or -errno.
 */
int ipc_server_start(struct ipc_server *s, int cpu, int (*fn)(void *arg), void *arg);

/* True while the server has not exited (does not reap it). */
bool ipc_server_alive(const struct ipc_server *s);

/*
 * Stop it: SIGTERM, wait up to grace_ms for it to exit, then SIGKILL; reap it and forget it.
 * Returns 0 if it exited on its own terms before the SIGKILL (or had already exited), 1 if it
 * had to be killed. Safe on a server that is not running.
 */
int ipc_server_stop(struct ipc_server *s, int grace_ms);

#endif
