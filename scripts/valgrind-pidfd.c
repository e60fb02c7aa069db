/* SPDX-License-Identifier: MIT */
/* A pidfd_open() stand-in for valgrind versions that do not know the syscall (LD_PRELOAD). */
/*
 * scripts/valgrind.sh preloads this into ipclab only when the valgrind it runs cannot do
 * pidfd_open (434): Debian 12's 3.19 fails it with ENOSYS, and every worker pool and server
 * in ipclab is watched through pidfds, so nothing that forks could be checked. ipclab only
 * polls its pidfds for POLLIN and closes them, and only for its own children, so a stand-in
 * is enough: one end of a socket pair, made readable by a detached thread once waitid()
 * (WNOWAIT: the child stays for ipclab to reap) sees the child exit. Nothing else of ipclab
 * changes, and memcheck checks all of it, the workers included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The pid and the write end travel in the thread's argument itself: a block malloc'd for them
 * would look lost in a child forked before the watcher took it. */
static void *watch_main(void *p)
{
    struct {
        pid_t pid;
        int fd;
    } w = {(pid_t)((uintptr_t)p >> 32), (int)((uintptr_t)p & 0xffffffffu)};
    siginfo_t si;
    /* ECHILD: already reaped (ipclab raced ahead); either way it has exited. */
    while (waitid(P_PID, (id_t)w.pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    char c = 1;
    /* MSG_NOSIGNAL: ipclab may have closed its end already. */
    (void)send(w.fd, &c, 1, MSG_NOSIGNAL);
    close(w.fd);
    return NULL;
}

int pidfd_open(pid_t pid, unsigned int flags)
{
    (void)flags;
    if (pid <= 0) {
        errno = EINVAL;
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    void *arg = (void *)((uintptr_t)(uint32_t)pid << 32 | (uint32_t)sv[1]);
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* Every signal blocked in the watcher: ipclab's handlers run where ipclab expects. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_t t;
        rc = pthread_create(&t, &attr, watch_main, arg);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        close(sv[0]);
        close(sv[1]);
        errno = rc;
        return -1;
    }
    return sv[0];
}
