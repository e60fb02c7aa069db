/* SPDX-License-Identifier: MIT */
/* `eventfd`: raise writes an eventfd inherited by every worker; check polls it without
 * blocking or reading, so every worker keeps seeing the raise. A system call per check. */
#include "flag.h"

#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct eventfd_state {
    int fd;
};

static int fd_of(struct flag *f)
{
    return ((struct eventfd_state *)f->priv)->fd;
}

static int eventfd_open(struct flag *f, const struct flag_config *cfg)
{
    (void)cfg;
    struct eventfd_state *s = malloc(sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "eventfd: out of memory");
    /* Created before fork so every worker inherits the same counter; non-blocking so that a
     * reset on an already clear counter returns instead of sleeping. */
    s->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->fd < 0) {
        int err = errno;
        free(s);
        return flag_fail(f, -err, "eventfd: %s", strerror(err));
    }
    f->priv = s;
    return 0;
}

static int eventfd_raise(struct flag *f)
{
    uint64_t one = 1;
    if (write(fd_of(f), &one, sizeof one) == (ssize_t)sizeof one)
        return 0;
    return flag_fail(f, -errno, "eventfd: write: %s", strerror(errno));
}

static int eventfd_is_raised(struct flag *f)
{
    /* poll, not read: reading would reset the counter and hide the raise from the others. */
    struct pollfd p = {.fd = fd_of(f), .events = POLLIN};
    int r = poll(&p, 1, 0);
    if (r < 0)
        return flag_fail(f, -errno, "eventfd: poll: %s", strerror(errno));
    return r > 0 && (p.revents & POLLIN);
}

static int eventfd_reset(struct flag *f)
{
    uint64_t v;
    if (read(fd_of(f), &v, sizeof v) == (ssize_t)sizeof v || errno == EAGAIN)
        return 0;
    return flag_fail(f, -errno, "eventfd: read: %s", strerror(errno));
}

static void eventfd_close(struct flag *f)
{
    close(fd_of(f));
    free(f->priv);
}

const struct flag_ops flag_eventfd_ops = {
    .name = "eventfd",
    .description = "eventfd inherited over fork: write to raise, poll(0) to check (a syscall)",
    .fast = FLAG_FAST_DISPATCH,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = eventfd_open,
    .attach = NULL, /* the descriptor is inherited; the counter is the shared state */
    .raise = eventfd_raise,
    .is_raised = eventfd_is_raised,
    .reset = eventfd_reset,
    .detach = NULL,
    .close = eventfd_close,
};
