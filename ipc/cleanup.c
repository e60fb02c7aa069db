/* SPDX-License-Identifier: MIT */
/* The cleanup registry and the signal handler that empties it before the process dies. */
#include "cleanup.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PIDS 2048
#define MAX_PATHS 64

/* Plain static arrays: the handler may read them at any moment, so no malloc, no locks; the
 * main code blocks the signals while it changes them. */
static pid_t pids[MAX_PIDS];
static unsigned npids;
static char paths[MAX_PATHS][IPC_CLEANUP_PATH_MAX];
static unsigned npaths;

static const int handled[] = {SIGINT, SIGTERM, SIGHUP};

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaddset(set, handled[i]);
}

void ipc_cleanup_block(sigset_t *old)
{
    sigset_t set;
    handled_set(&set);
    sigprocmask(SIG_BLOCK, &set, old);
}

void ipc_cleanup_unblock(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

static int remove_one(const char *path)
{
    if (unlink(path) == 0)
        return 0;
    if (errno == EISDIR || errno == EPERM) {
        if (rmdir(path) == 0)
            return 0;
    }
    return -errno;
}

/* Async-signal-safe: kill, waitpid, unlink and rmdir only. */
static void run_unlocked(void)
{
    for (unsigned i = 0; i < npids; i++)
        kill(pids[i], SIGKILL);
    for (unsigned i = 0; i < npids; i++)
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    npids = 0;
    while (npaths > 0)
        remove_one(paths[--npaths]);
}

static void on_signal(int sig)
{
    int saved = errno;
    run_unlocked();
    /* Die of the same signal: the shell then reports 130 for Ctrl-C as it should. */
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    errno = saved;
}

void ipc_cleanup_install(void)
{
    /* A write to a closed socket or pipe must be an EPIPE error the caller reports (a dead
     * server, a reader that went away), not a silent death. Inherited by workers and by
     * exec'd servers; main() turns EPIPE on stdout back into the usual SIGPIPE exit. */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    handled_set(&sa.sa_mask); /* one handler at a time */
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        struct sigaction old;
        /* Respect an ignored SIGHUP (nohup) and the like. */
        if (sigaction(handled[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(handled[i], &sa, NULL);
    }
}

int ipc_cleanup_add_pid(pid_t pid)
{
    sigset_t old;
    int rc = 0;
    ipc_cleanup_block(&old);
    if (npids < MAX_PIDS)
        pids[npids++] = pid;
    else
        rc = -ENOSPC;
    ipc_cleanup_unblock(&old);
    return rc;
}

void ipc_cleanup_del_pid(pid_t pid)
{
    sigset_t old;
    ipc_cleanup_block(&old);
    for (unsigned i = 0; i < npids; i++) {
        if (pids[i] == pid) {
            pids[i] = pids[--npids];
            break;
        }
    }
    ipc_cleanup_unblock(&old);
}

int ipc_cleanup_add_path(const char *path)
{
    size_t len = strlen(path);
    if (len >= IPC_CLEANUP_PATH_MAX)
        return -ENAMETOOLONG;
    sigset_t old;
    int rc = 0;
    ipc_cleanup_block(&old);
    if (npaths < MAX_PATHS)
        memcpy(paths[npaths++], path, len + 1);
    else
        rc = -ENOSPC;
    ipc_cleanup_unblock(&old);
    return rc;
}

int ipc_cleanup_remove_path(const char *path)
{
    sigset_t old;
    ipc_cleanup_block(&old);
    int rc = remove_one(path);
    /* Keep the order of the rest: directories must still come after their files. */
    for (unsigned i = npaths; i-- > 0;) {
        if (strcmp(paths[i], path) == 0) {
            memmove(paths[i], paths[i + 1], (size_t)(npaths - i - 1) * IPC_CLEANUP_PATH_MAX);
            npaths--;
            break;
        }
    }
    ipc_cleanup_unblock(&old);
    return rc;
}

void ipc_cleanup_child(void)
{
    npids = 0;
    npaths = 0;
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        struct sigaction old;
        if (sigaction(handled[i], NULL, &old) == 0 && old.sa_handler == on_signal)
            signal(handled[i], SIG_DFL);
    }
}

void ipc_cleanup_run(void)
{
    sigset_t old;
    ipc_cleanup_block(&old);
    run_unlocked();
    ipc_cleanup_unblock(&old);
}
