/* SPDX-License-Identifier: MIT */
/* `signal`: raise sends SIGUSR1 to every attached process; a check reads this process's own
 * volatile sig_atomic_t, which the handler sets. The check costs a load; the raise costs a
 * kill() per worker and an interrupt on each receiver. */
#include "flag.h"

#include "../ipc/shared.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Why SIGUSR1 cannot clash with the harness: ipclab's cleanup handler owns SIGINT, SIGTERM
 * and SIGHUP, ignores SIGPIPE, kills workers with SIGKILL and watches them through pidfds
 * (no SIGCHLD handler), and none of the libraries it links sends or handles SIGUSR1. The
 * handler only stores to a volatile sig_atomic_t (async-signal-safe) and is installed with
 * SA_RESTART, so a system call a worker is in when the raise lands is resumed, not failed.
 */
#define FLAG_SIGNAL SIGUSR1

/* One per process: the only thing a handler may portably write. */
static volatile sig_atomic_t raised_here;
/* Processes may attach one signal flag at a time: the handler has no way to tell two apart. */
static int attached_here;

struct table {
    _Atomic int raised;    /* a process that attaches after a raise must still see it */
    unsigned slots;
    _Atomic pid_t pids[];  /* attached processes, 0 = free */
};

struct signal_state {
    struct table *t;
    size_t size;
    unsigned slot; /* this process's slot once attached */
};

static void on_raise(int sig)
{
    (void)sig;
    raised_here = 1;
}

static int signal_open(struct flag *f, const struct flag_config *cfg)
{
    struct signal_state *s = calloc(1, sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "signal: out of memory");
    unsigned slots = cfg->participants ? cfg->participants : FLAG_DEFAULT_PARTICIPANTS;
    s->size = sizeof(struct table) + slots * sizeof(pid_t);
    s->t = ipc_shared_alloc(s->size);
    if (!s->t) {
        int err = errno;
        free(s);
        return flag_fail(f, -err, "signal: shared table: %s", strerror(err));
    }
    s->t->slots = slots;
    f->priv = s;
    f->word = (void *)&raised_here; /* the inline check reads this process's copy */
    return 0;
}

static bool exists(pid_t pid)
{
    return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Claim a free slot; if none, take one whose owner is gone (killed without detaching). */
static int claim(struct signal_state *s, pid_t me)
{
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < s->t->slots; i++) {
            pid_t cur = atomic_load(&s->t->pids[i]);
            if ((cur == 0 || (pass == 1 && !exists(cur))) &&
                atomic_compare_exchange_strong(&s->t->pids[i], &cur, me)) {
                s->slot = i;
                return 0;
            }
        }
    }
    return -EBUSY;
}

static int signal_attach(struct flag *f)
{
    struct signal_state *s = f->priv;
    if (attached_here)
        return flag_fail(f, -EBUSY, "signal: this process already has a signal flag attached");
    /* The handler goes in before the pid is published: a raise must never meet SIGUSR1's
     * default action, which would kill the worker. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_raise;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    raised_here = 0;
    if (sigaction(FLAG_SIGNAL, &sa, NULL) < 0)
        return flag_fail(f, -errno, "signal: sigaction: %s", strerror(errno));
    if (claim(s, getpid()) < 0)
        return flag_fail(f, -EBUSY, "signal: all %u slots are taken (raise participants)",
                         s->t->slots);
    /* Publish, then look: a raiser either sees our pid or we see its raised mark (both are
     * sequentially consistent atomics), so no raise is missed. */
    if (atomic_load(&s->t->raised))
        raised_here = 1;
    attached_here = 1;
    return 0;
}

static int signal_raise(struct flag *f)
{
    struct signal_state *s = f->priv;
    pid_t me = getpid();
    atomic_store(&s->t->raised, 1);
    raised_here = 1;
    for (unsigned i = 0; i < s->t->slots; i++) {
        pid_t pid = atomic_load(&s->t->pids[i]);
        if (pid && pid != me && kill(pid, FLAG_SIGNAL) < 0 && errno != ESRCH)
            return flag_fail(f, -errno, "signal: kill(%d): %s", (int)pid, strerror(errno));
    }
    return 0;
}

static int signal_is_raised(struct flag *f)
{
    (void)f;
    return raised_here != 0;
}

static int signal_reset(struct flag *f)
{
    struct signal_state *s = f->priv;
    /* No worker runs during a reset (the contract), so every slot but the caller's is stale:
     * forget them, lest a later raise signal a recycled pid. */
    pid_t me = getpid();
    for (unsigned i = 0; i < s->t->slots; i++)
        if (atomic_load(&s->t->pids[i]) != me)
            atomic_store(&s->t->pids[i], 0);
    atomic_store(&s->t->raised, 0);
    raised_here = 0;
    return 0;
}

static int signal_detach(struct flag *f)
{
    struct signal_state *s = f->priv;
    atomic_store(&s->t->pids[s->slot], 0);
    /* Ignore rather than restore the default: a raiser that read our pid just before we left
     * may still send the signal, and the default action would kill this process. */
    signal(FLAG_SIGNAL, SIG_IGN);
    raised_here = 0;
    attached_here = 0;
    return 0;
}

static void signal_close(struct flag *f)
{
    struct signal_state *s = f->priv;
    ipc_shared_free(s->t, s->size);
    free(s);
}

const struct flag_ops flag_signal_ops = {
    .name = "signal",
    .description = "raise sends SIGUSR1 to every worker; check reads a sig_atomic_t, inline",
    .fast = FLAG_FAST_SIGATOMIC,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = signal_open,
    .attach = signal_attach,
    .raise = signal_raise,
    .is_raised = signal_is_raised,
    .reset = signal_reset,
    .detach = signal_detach,
    .close = signal_close,
};
