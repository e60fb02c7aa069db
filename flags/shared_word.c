/* SPDX-License-Identifier: MIT */
/* Shared-state helpers for the flag backends. */
#include "shared_word.h"

#include "../ipc/shared.h"
#include "../ipc/tmpdir.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int flag_word_open(struct flag *f, size_t size)
{
    f->word = ipc_shared_alloc(size);
    if (!f->word)
        return flag_fail(f, -errno, "%s: shared mapping of %zu bytes: %s", f->ops->name, size,
                         strerror(errno));
    return 0;
}

void flag_word_close(struct flag *f, size_t size)
{
    ipc_shared_free(f->word, size);
    f->word = NULL;
}

int flag_tmpfile_open(struct flag *f, const struct flag_config *cfg, struct flag_tmpfile *t,
                      size_t size)
{
    t->fd = -1;
    t->path[0] = '\0';
    int rc = ipc_tmpdir_create(cfg->tmpdir, t->dir, sizeof t->dir);
    if (rc < 0) {
        t->dir[0] = '\0';
        return flag_fail(f, rc, "%s: cannot create a private directory in %s: %s", f->ops->name,
                         cfg->tmpdir ? cfg->tmpdir : "$TMPDIR or /tmp", strerror(-rc));
    }
    rc = ipc_tmpfile_create(t->dir, "flag", t->path, sizeof t->path);
    if (rc < 0) {
        flag_fail(f, rc, "%s: cannot create %s/flag: %s", f->ops->name, t->dir, strerror(-rc));
        ipc_tmp_remove(t->dir);
        return rc;
    }
    t->fd = rc;
    if (ftruncate(t->fd, (off_t)size) < 0) {
        rc = flag_fail(f, -errno, "%s: cannot size %s: %s", f->ops->name, t->path, strerror(errno));
        flag_tmpfile_close(t);
        return rc;
    }
    return 0;
}

void flag_tmpfile_close(struct flag_tmpfile *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    if (t->path[0])
        ipc_tmp_remove(t->path);
    if (t->dir[0])
        ipc_tmp_remove(t->dir);
    t->path[0] = t->dir[0] = '\0';
}
