/* SPDX-License-Identifier: MIT */
/* Finding an outside program (redis-server, redis-benchmark) the way execvp would. */
#ifndef IPCLAB_IPC_PROGRAM_H
#define IPCLAB_IPC_PROGRAM_H

#include <stddef.h>

/*
 * Look for an executable regular file called name in each directory of $PATH (or the
 * system's default path when $PATH is unset; an empty entry is the current directory, as for
 * execvp). 0 with its path in path[pathlen] (pathlen 0: only whether it exists), -ENOENT if
 * none, -ENAMETOOLONG if the one found does not fit path.
 */
int ipc_program_find(const char *name, char *path, size_t pathlen);

#endif
