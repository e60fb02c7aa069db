/* SPDX-License-Identifier: MIT */
/* `file`: the flag byte in a plain file, read with pread and written with pwrite: a system
 * call per check, the "store it in a file" approach. */
#include "flag.h"
#include "shared_word.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct file_state {
    struct flag_tmpfile file;
    int fd; /* this process's own descriptor once attached (not shared over fork) */
};

static int file_open(struct flag *f, const struct flag_config *cfg)
{
    struct file_state *s = calloc(1, sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "file: out of memory");
    int rc = flag_tmpfile_open(f, cfg, &s->file, 1);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->fd = s->file.fd;
    f->priv = s;
    return 0;
}

static int file_attach(struct flag *f)
{
    struct file_state *s = f->priv;
    int fd = open(s->file.path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return flag_fail(f, -errno, "file: cannot open %s: %s", s->file.path, strerror(errno));
    s->fd = fd;
    return 0;
}

static int write_byte(struct flag *f, unsigned char v)
{
    struct file_state *s = f->priv;
    ssize_t n = pwrite(s->fd, &v, 1, 0);
    if (n == 1)
        return 0;
    return flag_fail(f, n < 0 ? -errno : -EIO, "file: pwrite %s: %s", s->file.path,
                     n < 0 ? strerror(errno) : "short write");
}

static int file_raise(struct flag *f)
{
    return write_byte(f, 1);
}

static int file_reset(struct flag *f)
{
    return write_byte(f, 0);
}

static int file_is_raised(struct flag *f)
{
    struct file_state *s = f->priv;
    unsigned char v;
    ssize_t n = pread(s->fd, &v, 1, 0);
    if (n == 1)
        return v != 0;
    return flag_fail(f, n < 0 ? -errno : -EIO, "file: pread %s: %s", s->file.path,
                     n < 0 ? strerror(errno) : "file is empty");
}

static int file_detach(struct flag *f)
{
    struct file_state *s = f->priv;
    if (s->fd != s->file.fd)
        close(s->fd);
    s->fd = s->file.fd;
    return 0;
}

static void file_close(struct flag *f)
{
    struct file_state *s = f->priv;
    flag_tmpfile_close(&s->file);
    free(s);
}

const struct flag_ops flag_file_ops = {
    .name = "file",
    .description =
        "byte in a file in a private temp dir, pread to check, pwrite to raise (syscalls)",
    .fast = FLAG_FAST_DISPATCH,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = file_open,
    .attach = file_attach,
    .raise = file_raise,
    .is_raised = file_is_raised,
    .reset = file_reset,
    .detach = file_detach,
    .close = file_close,
};
