/* SPDX-License-Identifier: MIT */
/* A pool of forked worker processes: start, wait for all, and stop them all on any failure. */
#ifndef IPCLAB_IPC_POOL_H
#define IPCLAB_IPC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs in the child; its return value is the child's exit status (0 = success). The child
 * ends with _exit(): no atexit handlers or stdio flushes of the parent's state run twice. */
typedef int (*ipc_worker_fn)(unsigned idx, void *arg);

struct ipc_proc {
    pid_t pid;
    int pidfd;
    int cpu;    /* where it was pinned, -1 if not pinned */
    int status; /* waitpid status once reaped */
    bool reaped;
};

struct ipc_pool {
    unsigned n;
    struct ipc_proc *procs;
};

/*
 * Fork n workers running fn(idx, arg), idx = 0..n-1. With cpus != NULL worker idx is pinned
 * to cpus[idx % ncpus] before fn runs. Each child gets PR_SET_PDEATHSIG(SIGKILL) so it dies
 * with the parent even if the parent is SIGKILLed, and every child is registered with the
 * cleanup registry. On failure nothing is left running; returns 0 or -errno.
 */
int ipc_pool_start(struct ipc_pool *p, unsigned n, ipc_worker_fn fn, void *arg, const int *cpus,
                   int ncpus);

/*
 * Wait until every worker has exited. As soon as one exits with a non-zero status or is
 * killed by a signal, kill the others (SIGKILL), reap them all and return 1 with *failed
 * set to its index; returns 0 when all exited with status 0. timeout_ms < 0 waits forever;
 * otherwise a pool still running after timeout_ms is killed and -ETIMEDOUT returned. Other
 * errors: -errno, with every worker killed and reaped.
 */
int ipc_pool_wait(struct ipc_pool *p, int timeout_ms, unsigned *failed);

/* Kill (SIGKILL) and reap every worker still running, free the pool. Safe to call twice. */
void ipc_pool_destroy(struct ipc_pool *p);

/* A one-line description of how worker idx ended ("exit status 3", "killed by signal 9
 * (Killed)"), for error messages. */
void ipc_pool_describe(const struct ipc_pool *p, unsigned idx, char *buf, size_t len);

#endif
