/* SPDX-License-Identifier: MIT */
/* Worker processes: fork with signals blocked, wait on pidfds, and kill the rest on failure. */
#include "pool.h"

#include "cleanup.h"
#include "clock.h"
#include "cpu.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(struct ipc_proc *w)
{
    if (w->reaped || w->pid <= 0)
        return;
    /* Reap and deregister with the signals blocked: a handler that ran in between could
     * otherwise SIGKILL a pid the kernel already gave to somebody else. */
    sigset_t old;
    ipc_cleanup_block(&old);
    while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR)
        ;
    ipc_cleanup_del_pid(w->pid);
    ipc_cleanup_unblock(&old);
    w->reaped = true;
    if (w->pidfd >= 0) {
        close(w->pidfd);
        w->pidfd = -1;
    }
}

static void kill_all(struct ipc_pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (!p->procs[i].reaped && p->procs[i].pid > 0)
            kill(p->procs[i].pid, SIGKILL);
    for (unsigned i = 0; i < p->n; i++)
        reap(&p->procs[i]);
}

static _Noreturn void child(unsigned idx, pid_t parent, int cpu, ipc_worker_fn fn, void *arg,
                            const sigset_t *old)
{
    ipc_cleanup_child();
    /* Die with the parent, even if it is SIGKILLed and cannot clean up; the getppid() check
     * closes the race where the parent died before prctl() took effect. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(125);
    if (cpu >= 0 && ipc_cpu_pin(cpu) < 0)
        _exit(126);
    ipc_cleanup_unblock(old);
    _exit(fn(idx, arg));
}

int ipc_pool_start(struct ipc_pool *p, unsigned n, ipc_worker_fn fn, void *arg, const int *cpus,
                   int ncpus)
{
    p->n = 0;
    p->procs = calloc(n ? n : 1, sizeof *p->procs);
    if (!p->procs)
        return -ENOMEM;
    pid_t parent = getpid();
    /* Output still buffered in stdio would be copied into every child, and printed again by
     * any child that flushes it (sanitizer runtimes do at exit). */
    fflush(NULL);
    for (unsigned i = 0; i < n; i++) {
        struct ipc_proc *w = &p->procs[i];
        w->pidfd = -1;
        w->cpu = cpus && ncpus > 0 ? cpus[i % (unsigned)ncpus] : -1;
        sigset_t old;
        ipc_cleanup_block(&old);
        pid_t pid = fork();
        if (pid == 0)
            child(i, parent, w->cpu, fn, arg, &old);
        int err = pid < 0 ? -errno : 0;
        if (pid > 0) {
            w->pid = pid;
            p->n = i + 1;
            err = ipc_cleanup_add_pid(pid);
            if (err == 0) {
                w->pidfd = pidfd_open(pid, 0);
                if (w->pidfd < 0)
                    err = -errno;
            }
        }
        ipc_cleanup_unblock(&old);
        if (err < 0) {
            kill_all(p);
            ipc_pool_destroy(p);
            return err;
        }
    }
    return 0;
}

static bool failed_status(int status)
{
    return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

int ipc_pool_wait(struct ipc_pool *p, int timeout_ms, unsigned *failed)
{
    struct pollfd *fds = calloc(p->n ? p->n : 1, sizeof *fds);
    unsigned *idx = calloc(p->n ? p->n : 1, sizeof *idx);
    int rc = 0;
    if (!fds || !idx) {
        kill_all(p);
        rc = -ENOMEM;
        goto out;
    }
    uint64_t deadline = timeout_ms < 0 ? 0 : ipc_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        nfds_t nfds = 0;
        for (unsigned i = 0; i < p->n; i++) {
            if (!p->procs[i].reaped) {
                fds[nfds] = (struct pollfd){.fd = p->procs[i].pidfd, .events = POLLIN};
                idx[nfds++] = i;
            }
        }
        if (nfds == 0)
            break;
        int wait_ms = -1;
        if (timeout_ms >= 0) {
            uint64_t now = ipc_now_ns();
            if (now >= deadline) {
                kill_all(p);
                rc = -ETIMEDOUT;
                break;
            }
            wait_ms = (int)((deadline - now + 999999) / 1000000);
        }
        int r = poll(fds, nfds, wait_ms);
        if (r < 0 && errno != EINTR) {
            rc = -errno;
            kill_all(p);
            break;
        }
        for (nfds_t k = 0; r > 0 && k < nfds; k++) {
            if (!fds[k].revents)
                continue;
            struct ipc_proc *w = &p->procs[idx[k]];
            reap(w);
            if (failed_status(w->status)) {
                if (failed)
                    *failed = idx[k];
                kill_all(p);
                rc = 1;
                goto out;
            }
        }
    }
out:
    free(fds);
    free(idx);
    return rc;
}

void ipc_pool_destroy(struct ipc_pool *p)
{
    if (!p->procs)
        return;
    kill_all(p);
    free(p->procs);
    p->procs = NULL;
    p->n = 0;
}

void ipc_pool_describe(const struct ipc_pool *p, unsigned idx, char *buf, size_t len)
{
    if (idx >= p->n) {
        snprintf(buf, len, "no such worker");
        return;
    }
    const struct ipc_proc *w = &p->procs[idx];
    if (!w->reaped)
        snprintf(buf, len, "still running");
    else if (WIFSIGNALED(w->status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(w->status),
                 strsignal(WTERMSIG(w->status)));
    else if (WEXITSTATUS(w->status) == 125)
        snprintf(buf, len, "could not start (its parent was already gone)");
    else if (WEXITSTATUS(w->status) == 126)
        snprintf(buf, len, "could not be pinned to CPU %d", w->cpu);
    else
        snprintf(buf, len, "exit status %d", WEXITSTATUS(w->status));
}
