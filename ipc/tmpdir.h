/* SPDX-License-Identifier: MIT */
/* Private temporary directories and the files in them, registered for cleanup. */
#ifndef IPCLAB_IPC_TMPDIR_H
#define IPCLAB_IPC_TMPDIR_H

#include <stddef.h>

/*
 * Create a fresh directory "<base>/ipclab-XXXXXX" with mode 0700 and an unpredictable name
 * (mkdtemp), registered with the cleanup registry. base NULL means $TMPDIR, else /tmp.
 * Writes the path to out. Returns 0 or -errno.
 */
int ipc_tmpdir_create(const char *base, char *out, size_t outlen);

/*
 * Create "<dir>/<name>" exclusively (O_EXCL, mode 0600), registered for cleanup, and return
 * its open read-write descriptor (O_CLOEXEC) or -errno. The full path goes to out.
 */
int ipc_tmpfile_create(const char *dir, const char *name, char *out, size_t outlen);

/* Remove a path created above (file or empty directory) and forget it. 0 or -errno. */
int ipc_tmp_remove(const char *path);

#endif
