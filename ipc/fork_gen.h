/* SPDX-License-Identifier: MIT */
/* Telling state made in this process from state copied from an ancestor over fork. */
#ifndef IPCLAB_IPC_FORK_GEN_H
#define IPCLAB_IPC_FORK_GEN_H

/* Start counting (cheap, idempotent): from now on every child of fork() bumps the count. */
void ipc_fork_gen_watch(void);

/*
 * The fork generation of this process. Per-process state (a Redis connection, an io_uring
 * ring) remembers the generation it was made in; a different one means its memory was copied
 * over fork and it belongs to an ancestor, so it must be neither used (two processes would
 * share one stream or ring) nor freed. A counter compare, unlike getpid() (a system call,
 * ~180 ns here), costs nothing.
 */
unsigned ipc_fork_gen(void);

#endif
