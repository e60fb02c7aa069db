/* SPDX-License-Identifier: MIT */
/* `pipe`: raise writes one byte into a pipe inherited by every worker; check polls the read
 * end without blocking and never reads, so the byte stays for everyone. A syscall per check. */
#include "flag.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pipe_state {
    int rd, wr;
};

static int pipe_open(struct flag *f, const struct flag_config *cfg)
{
    (void)cfg;
    struct pipe_state *s = malloc(sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "pipe: out of memory");
    int fds[2];
    /* Non-blocking both ways: a reset drains without sleeping, and a raise into a pipe that
     * is somehow full still leaves it readable, which is all a check asks. */
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        int err = errno;
        free(s);
        return flag_fail(f, -err, "pipe: %s", strerror(err));
    }
    s->rd = fds[0];
    s->wr = fds[1];
    f->priv = s;
    return 0;
}

static int pipe_raise(struct flag *f)
{
    struct pipe_state *s = f->priv;
    if (write(s->wr, "!", 1) == 1 || errno == EAGAIN)
        return 0;
    return flag_fail(f, -errno, "pipe: write: %s", strerror(errno));
}

static int pipe_is_raised(struct flag *f)
{
    struct pipe_state *s = f->priv;
    struct pollfd p = {.fd = s->rd, .events = POLLIN};
    int r = poll(&p, 1, 0);
    if (r < 0)
        return flag_fail(f, -errno, "pipe: poll: %s", strerror(errno));
    return r > 0 && (p.revents & POLLIN);
}

static int pipe_reset(struct flag *f)
{
    struct pipe_state *s = f->priv;
    char buf[256];
    ssize_t n;
    while ((n = read(s->rd, buf, sizeof buf)) > 0)
        ;
    if (n < 0 && errno != EAGAIN)
        return flag_fail(f, -errno, "pipe: read: %s", strerror(errno));
    return 0;
}

static void pipe_close(struct flag *f)
{
    struct pipe_state *s = f->priv;
    close(s->rd);
    close(s->wr);
    free(s);
}

const struct flag_ops flag_pipe_ops = {
    .name = "pipe",
    .description = "pipe inherited over fork: write a byte to raise, poll(0) to check (a syscall)",
    .fast = FLAG_FAST_DISPATCH,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = pipe_open,
    .attach = NULL, /* both ends are inherited; the pipe's buffer is the shared state */
    .raise = pipe_raise,
    .is_raised = pipe_is_raised,
    .reset = pipe_reset,
    .detach = NULL,
    .close = pipe_close,
};
