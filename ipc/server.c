/* SPDX-License-Identifier: MIT */
/* Start, watch and stop helper server processes without ever leaving one behind. */
#include "server.h"

#include "cleanup.h"
#include "cpu.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int ipc_server_start(struct ipc_server *s, int cpu, int (*fn)(void *arg), void *arg)
{
    s->pid = 0;
    s->pidfd = -1;
    s->cpu = cpu;
    s->status = 0;
    pid_t parent = getpid();
    fflush(NULL); /* buffered output must not be inherited, and printed twice */
    sigset_t old;
    ipc_cleanup_block(&old);
    pid_t pid = fork();
    if (pid == 0) {
        ipc_cleanup_child();
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(125);
        if (cpu >= 0 && ipc_cpu_pin(cpu) < 0)
            _exit(126);
        ipc_cleanup_unblock(&old);
        _exit(fn(arg));
    }
    int rc = 0;
    if (pid < 0) {
        rc = -errno;
    } else {
        s->pid = pid;
        rc = ipc_cleanup_add_pid(pid);
        if (rc == 0 && (s->pidfd = pidfd_open(pid, 0)) < 0)
            rc = -errno;
    }
    ipc_cleanup_unblock(&old);
    if (rc < 0 && s->pid > 0)
        ipc_server_stop(s, 0);
    return rc;
}

bool ipc_server_alive(const struct ipc_server *s)
{
    if (s->pid <= 0)
        return false;
    struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
    return s->pidfd >= 0 ? poll(&p, 1, 0) == 0 : kill(s->pid, 0) == 0;
}

int ipc_server_stop(struct ipc_server *s, int grace_ms)
{
    if (s->pid <= 0)
        return 0;
    int killed = 0;
    if (ipc_server_alive(s)) {
        kill(s->pid, SIGTERM);
        struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
        int r;
        while ((r = poll(&p, 1, grace_ms)) < 0 && errno == EINTR)
            ;
        if (r == 0) {
            kill(s->pid, SIGKILL);
            killed = 1;
        }
    }
    /* Reap and forget with the cleanup signals blocked (see pool.c). */
    sigset_t old;
    ipc_cleanup_block(&old);
    while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
        ;
    ipc_cleanup_del_pid(s->pid);
    ipc_cleanup_unblock(&old);
    if (s->pidfd >= 0)
        close(s->pidfd);
    s->pid = 0;
    s->pidfd = -1;
    return killed;
}
