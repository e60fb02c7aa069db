/* SPDX-License-Identifier: MIT */
/* Private temporary directories and files, created exclusively and registered for cleanup. */
#include "tmpdir.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ipc_tmpdir_create(const char *base, char *out, size_t outlen)
{
    if (!base || !*base)
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(out, outlen, "%s/ipclab-XXXXXX", base);
    if (n < 0 || (size_t)n >= outlen || (size_t)n >= IPC_CLEANUP_PATH_MAX)
        return -ENAMETOOLONG;
    /* Block the cleanup signals so the directory is never created but unregistered. */
    sigset_t old;
    ipc_cleanup_block(&old);
    int rc = 0;
    if (!mkdtemp(out))
        rc = -errno;
    else if ((rc = ipc_cleanup_add_path(out)) < 0)
        rmdir(out);
    ipc_cleanup_unblock(&old);
    return rc;
}

int ipc_tmpfile_create(const char *dir, const char *name, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen || (size_t)n >= IPC_CLEANUP_PATH_MAX)
        return -ENAMETOOLONG;
    sigset_t old;
    ipc_cleanup_block(&old);
    int fd = open(out, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fd = -errno;
    } else {
        int rc = ipc_cleanup_add_path(out);
        if (rc < 0) {
            close(fd);
            unlink(out);
            fd = rc;
        }
    }
    ipc_cleanup_unblock(&old);
    return fd;
}

int ipc_tmp_remove(const char *path)
{
    return ipc_cleanup_remove_path(path);
}
