/* SPDX-License-Identifier: MIT */
/* `signal`: raise sends a real-time signal to every attached process; a check reads this
 * process's own volatile sig_atomic_t, which the handler sets. The check costs a load; the
 * raise costs a kill() per worker and an interrupt on each receiver. */
#include "flag.h"

#include "../ipc/shared.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Which signal: each open flag takes its own real-time signal, SIGRTMIN + k for k < MAX_OPEN
 * (glibc's SIGRTMIN already leaves out the ones its threads library reserves), so a process
 * can hold several signal flags (a ping-pong needs two) and the handler knows which one was
 * raised from the signal number. Why it cannot clash with the harness: ipclab's cleanup
 * handler owns SIGINT, SIGTERM and SIGHUP, ignores SIGPIPE, kills workers with SIGKILL and
 * watches them through pidfds (no SIGCHLD handler), and nothing it links uses real-time
 * signals. The handler only stores to a volatile sig_atomic_t (async-signal-safe) and is
 * installed with SA_RESTART, so a system call a worker is in when the raise lands resumes.
 */
#define MAX_OPEN 8

/* This process's latch per signal: the only thing a handler may portably write. */
static volatile sig_atomic_t raised_here[MAX_OPEN];
/* Which of the signals this process has handed to open flags (inherited over fork). */
static bool in_use[MAX_OPEN];

struct table {
    _Atomic int raised;    /* a process that attaches after a raise must still see it */
    unsigned slots;
    _Atomic pid_t pids[];  /* attached processes, 0 = free */
};

struct signal_state {
    struct table *t;
    size_t size;
    int k;         /* the flag's signal is SIGRTMIN + k */
    unsigned slot; /* this process's slot once attached */
};

static void on_raise(int sig)
{
    int k = sig - SIGRTMIN;
    if (k >= 0 && k < MAX_OPEN)
        raised_here[k] = 1;
}

static int signal_open(struct flag *f, const struct flag_config *cfg)
{
    int k = 0;
    while (k < MAX_OPEN && in_use[k])
        k++;
    if (k == MAX_OPEN || SIGRTMIN + k > SIGRTMAX)
        return flag_fail(f, -EMFILE, "signal: at most %d signal flags may be open at once",
                         MAX_OPEN);
    struct signal_state *s = calloc(1, sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "signal: out of memory");
    s->k = k;
    unsigned slots = cfg->participants ? cfg->participants : FLAG_DEFAULT_PARTICIPANTS;
    s->size = sizeof(struct table) + slots * sizeof(pid_t);
    s->t = ipc_shared_alloc(s->size);
    if (!s->t) {
        int err = errno;
        free(s);
        return flag_fail(f, -err, "signal: shared table: %s", strerror(err));
    }
    s->t->slots = slots;
    in_use[k] = true;
    raised_here[k] = 0;
    f->priv = s;
    f->word = (void *)&raised_here[k]; /* the inline check reads this process's copy */
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
    /* The handler goes in before the pid is published: a raise must never meet SIGUSR1's
     * default action, which would kill the worker. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_raise;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    raised_here[s->k] = 0;
    if (sigaction(SIGRTMIN + s->k, &sa, NULL) < 0)
        return flag_fail(f, -errno, "signal: sigaction: %s", strerror(errno));
    if (claim(s, getpid()) < 0)
        return flag_fail(f, -EBUSY, "signal: all %u slots are taken (raise participants)",
                         s->t->slots);
    /* Publish, then look: a raiser either sees our pid or we see its raised mark (both are
     * sequentially consistent atomics), so no raise is missed. */
    if (atomic_load(&s->t->raised))
        raised_here[s->k] = 1;
    return 0;
}

static int signal_raise(struct flag *f)
{
    struct signal_state *s = f->priv;
    pid_t me = getpid();
    atomic_store(&s->t->raised, 1);
    raised_here[s->k] = 1;
    for (unsigned i = 0; i < s->t->slots; i++) {
        pid_t pid = atomic_load(&s->t->pids[i]);
        if (pid && pid != me && kill(pid, SIGRTMIN + s->k) < 0 && errno != ESRCH)
            return flag_fail(f, -errno, "signal: kill(%d): %s", (int)pid, strerror(errno));
    }
    return 0;
}

static int signal_is_raised(struct flag *f)
{
    struct signal_state *s = f->priv;
    return raised_here[s->k] != 0;
}

static int signal_reset(struct flag *f)
{
    struct signal_state *s = f->priv;
    /* A slot whose owner died without detaching (SIGKILL) is forgotten here, lest a later
     * raise signal a recycled pid. Other attached processes keep their latch: see the reset
     * contract in flag.h. */
    for (unsigned i = 0; i < s->t->slots; i++) {
        pid_t pid = atomic_load(&s->t->pids[i]);
        if (pid && !exists(pid))
            atomic_store(&s->t->pids[i], 0);
    }
    atomic_store(&s->t->raised, 0);
    raised_here[s->k] = 0;
    return 0;
}

static int signal_detach(struct flag *f)
{
    struct signal_state *s = f->priv;
    atomic_store(&s->t->pids[s->slot], 0);
    /* Ignore rather than restore the default: a raiser that read our pid just before we left
     * may still send the signal, and the default action would kill this process. */
    signal(SIGRTMIN + s->k, SIG_IGN);
    raised_here[s->k] = 0;
    return 0;
}

static void signal_close(struct flag *f)
{
    struct signal_state *s = f->priv;
    in_use[s->k] = false;
    ipc_shared_free(s->t, s->size);
    free(s);
}

const struct flag_ops flag_signal_ops = {
    .name = "signal",
    .description = "raise sends a real-time signal to every worker; check reads a sig_atomic_t",
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
