/* SPDX-License-Identifier: MIT */
/* What a process must undo if it dies early: child processes to kill, paths to remove. */
#ifndef IPCLAB_IPC_CLEANUP_H
#define IPCLAB_IPC_CLEANUP_H

#include <signal.h>
#include <sys/types.h>

/*
 * The registry lets SIGINT, SIGTERM and SIGHUP (Ctrl-C, kill, a closed terminal) end a run
 * without leaving workers, servers, temp files or directories behind: the handler kills and
 * reaps every registered child, removes every registered path (newest first, so files go
 * before their directory), then dies of the same signal so the caller sees the usual status.
 * SIGPIPE is ignored instead: writes to a dead peer fail with EPIPE and are reported.
 * Everything it does is async-signal-safe.
 *
 * Normal code removes what it created itself and deregisters it; registration and removal
 * block those signals so the handler never sees a half-updated registry.
 */

/* Install the handlers and ignore SIGPIPE. Call once from main() before creating anything. */
void ipc_cleanup_install(void);

/* Register / forget a child process (killed with SIGKILL and reaped by the handler). */
int ipc_cleanup_add_pid(pid_t pid);
void ipc_cleanup_del_pid(pid_t pid);

/* Register a file or directory path (copied; up to IPC_CLEANUP_PATH_MAX - 1 bytes). */
#define IPC_CLEANUP_PATH_MAX 256
int ipc_cleanup_add_path(const char *path);
/* Remove a registered path now (unlink, or rmdir for a directory) and forget it.
 * Returns 0 or -errno of the removal. */
int ipc_cleanup_remove_path(const char *path);

/* In a freshly forked child: forget the parent's registry and restore default handling of
 * those signals, so a child never kills its siblings or removes its parent's files. */
void ipc_cleanup_child(void);

/* Block / restore the handled signals (around fork, so a child cannot run the parent's
 * handler before it called ipc_cleanup_child()). */
void ipc_cleanup_block(sigset_t *old);
void ipc_cleanup_unblock(const sigset_t *old);

/* Kill and reap every registered child and remove every registered path now. */
void ipc_cleanup_run(void);

#endif
