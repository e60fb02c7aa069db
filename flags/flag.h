/* SPDX-License-Identifier: MIT */
/* The "found a factor, stop searching" flag: one interface, one ops table per backend. */
#ifndef IPCLAB_FLAG_H
#define IPCLAB_FLAG_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A flag is raised once by whichever worker finds a factor and checked by every worker every
 * `check_every` candidates. Backends differ in where the flag lives (shared memory, a file, a
 * server) and so in what a check costs, which is what ipclab measures.
 *
 * Lifecycle, in this order:
 *
 *   probe   may this backend run here?                        (any process, any time)
 *   open    create the shared state, flag clear               (the parent, before fork)
 *   attach  join it from this process                         (each worker after fork; the
 *                                                              parent too if it checks)
 *   raise / is_raised / reset                                 (attached processes)
 *   detach  leave it                                          (each process that attached)
 *   close   destroy the shared state, remove its files        (the parent, after the workers)
 *
 * Every function returns 0 (is_raised: 1 or 0) or a negative errno; on error a one-line reason
 * is left in f->errstr (hiredis's errstr pattern), so callers print it and need no errno table.
 * Callers use the static inline wrappers below; the contracts are written on them.
 */

struct flag;

/* How a worker loop reads the flag on its hot path (flag_fast.h). An indirect call costs
 * about 1.8 ns here, several times an atomic load, so in-memory backends are read inline by a
 * loop instantiated per read method; everything else goes through ops->is_raised. */
enum flag_fast {
    FLAG_FAST_NOCHECK,  /* never read: the `none` baseline */
    FLAG_FAST_DISPATCH, /* ops->is_raised through the table */
    FLAG_FAST_ACQUIRE,  /* C11 atomic load, memory_order_acquire */
    FLAG_FAST_VOLATILE, /* volatile byte load, no synchronisation */
    FLAG_FAST_MUTEX,    /* process-shared mutex: lock, load, unlock */
    FLAG_FAST_SIGATOMIC, /* this process's volatile sig_atomic_t, set by a signal handler */
};

/* Properties the harness and the conformance suite rely on. */
#define FLAG_PROP_SHARED 0x1u /* a raise in one process is seen by every attached process */
#define FLAG_PROP_SERVER 0x2u /* checks are answered by a server process (placement matters) */

/* What a backend may need to know when it opens. Zero-initialise: zero/NULL fields take the
 * defaults in brackets. */
struct flag_config {
    const char *tmpdir;    /* parent of private temp dirs [$TMPDIR, else /tmp] */
    unsigned participants; /* most processes attached at once, parent included [16] */
    bool pin_server;       /* pin a server process (manager, redis-server) ... [no] */
    unsigned server_cpu;   /* ... to this CPU */
    const char *redis_socket; /* use this Redis Unix socket instead of starting a server */
    const char *redis_host;   /* use this Redis TCP host instead of starting a server */
    unsigned redis_port;      /* with redis_host [6379] */
    const char *redis_password; /* AUTH with it on a server ipclab did not start [none; its
                                 * own server gets a random one] */
};

#define FLAG_DEFAULT_PARTICIPANTS 16

struct flag_ops {
    const char *name;        /* lowercase-hyphenated, stable: used in CLI, bench names, plots */
    const char *description; /* one line for `ipclab flags` */
    enum flag_fast fast;
    unsigned props;
    /* Every slot is listed; probe, open and close are mandatory, the rest may be NULL where a
     * step has nothing to do (the wrapper then succeeds). */
    int (*probe)(char *why, size_t len);
    int (*open)(struct flag *f, const struct flag_config *cfg);
    int (*attach)(struct flag *f);
    int (*raise)(struct flag *f);
    int (*is_raised)(struct flag *f);
    int (*reset)(struct flag *f);
    int (*detach)(struct flag *f);
    void (*close)(struct flag *f);
};

enum flag_state { FLAG_CLOSED = 0, FLAG_OPEN, FLAG_ATTACHED };

#define FLAG_ERRSTR_LEN 200

struct flag {
    const struct flag_ops *ops;
    void *word;            /* the shared word the inline fast paths read (alone on a cache line) */
    void *priv;            /* backend-private state */
    enum flag_state state; /* this process's view: fork copies it, attach advances it */
    int server_pid;        /* a server the backend started (manager, redis-server), or 0 */
    int server_cpu;        /* the CPU that server is pinned to, or -1 */
    int err;               /* last error, as -errno */
    char errstr[FLAG_ERRSTR_LEN];
};

/* Zero-initialise a struct flag before flag_open(): struct flag f = FLAG_INIT; */
#define FLAG_INIT                                                                                  \
    {                                                                                              \
        0                                                                                          \
    }

/* Record an error on f (printf-style reason) and return err, which must be negative. */
int flag_fail(struct flag *f, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A probe for backends that need nothing beyond the kernel ipclab already runs on. */
int flag_probe_always(char *why, size_t len);

/* ---- The registry (registry.c) -------------------------------------------------------- */

/* Every backend, sorted by name, including ones not usable here (their probe says why). */
extern const struct flag_ops *const flag_backends[];
extern const size_t flag_backend_count;

/* The backend called name, or NULL. */
const struct flag_ops *flag_backend_find(const char *name);

/* ---- The wrappers: the contracts ------------------------------------------------------ */

/* 0 if the backend can run here; otherwise -errno (-ENOTSUP: not built or not supported,
 * -ENOENT: a program it needs is missing, ...) and a one-line reason in why[len]. */
static inline int flag_probe(const struct flag_ops *ops, char *why, size_t len)
{
    if (len)
        why[0] = '\0';
    return ops->probe(why, len);
}

/*
 * Create the flag's shared state, clear. Call in the parent before forking the workers that
 * use it; f must be zeroed (FLAG_INIT) or closed. On failure returns -errno with f->errstr
 * set, leaves nothing behind (no file, mapping or process) and f closed.
 */
static inline int flag_open(struct flag *f, const struct flag_ops *ops,
                            const struct flag_config *cfg)
{
    if (f->state != FLAG_CLOSED)
        return flag_fail(f, -EBUSY, "%s: flag already open", ops->name);
    static const struct flag_config defaults = {0};
    *f = (struct flag)FLAG_INIT;
    f->ops = ops;
    f->server_cpu = -1;
    int rc = ops->open(f, cfg ? cfg : &defaults);
    if (rc < 0) {
        f->state = FLAG_CLOSED;
        f->word = f->priv = NULL;
        return rc;
    }
    f->state = FLAG_OPEN;
    return 0;
}

/*
 * Join an open flag from the calling process: after fork in each worker, or in the parent
 * itself if it checks. Per-process resources (a connection, a descriptor, a mapping) are made
 * here, never shared across fork. -EBADF if f is not open in this process or already attached.
 */
static inline int flag_attach(struct flag *f)
{
    if (f->state != FLAG_OPEN)
        return flag_fail(f, -EBADF, "%s: attach needs an open, unattached flag",
                         f->ops ? f->ops->name : "flag");
    int rc = f->ops->attach ? f->ops->attach(f) : 0;
    if (rc < 0)
        return rc;
    f->state = FLAG_ATTACHED;
    return 0;
}

/*
 * Raise the flag. Idempotent. For FLAG_PROP_SHARED backends every attached process sees it
 * raised on a later check; backends that synchronise (atomic: release; locked: the mutex)
 * also make the raiser's earlier writes visible to a process that sees the flag raised.
 * -EBADF if not attached.
 */
static inline int flag_raise(struct flag *f)
{
    if (f->state != FLAG_ATTACHED)
        return flag_fail(f, -EBADF, "%s: raise needs an attached flag",
                         f->ops ? f->ops->name : "flag");
    return f->ops->raise ? f->ops->raise(f) : 0;
}

/* 1 if raised, 0 if clear, -errno on error (a dead server, a lost connection). -EBADF if not
 * attached. This is the dispatch path; in-memory backends also have an inline fast path. */
static inline int flag_is_raised(struct flag *f)
{
    if (f->state != FLAG_ATTACHED)
        return flag_fail(f, -EBADF, "%s: check needs an attached flag",
                         f->ops ? f->ops->name : "flag");
    return f->ops->is_raised ? f->ops->is_raised(f) : 0;
}

/* Clear the flag for the next number. Only while no other process checks or raises it (the
 * harness resets between numbers, with no worker running). Processes that attach afterwards
 * see it clear; one that stays attached across the reset may keep seeing it raised (signal
 * latches a raise in each process), so attach anew after a reset. Open or attached; else
 * -EBADF. */
static inline int flag_reset(struct flag *f)
{
    if (f->state == FLAG_CLOSED)
        return flag_fail(f, -EBADF, "%s: reset needs an open flag", f->ops ? f->ops->name : "flag");
    return f->ops->reset ? f->ops->reset(f) : 0;
}

/* Undo flag_attach() in this process; the flag stays open. -EBADF if not attached. */
static inline int flag_detach(struct flag *f)
{
    if (f->state != FLAG_ATTACHED)
        return flag_fail(f, -EBADF, "%s: detach needs an attached flag",
                         f->ops ? f->ops->name : "flag");
    int rc = f->ops->detach ? f->ops->detach(f) : 0;
    f->state = FLAG_OPEN;
    return rc;
}

/* Destroy the flag (in the process that opened it, after its workers are gone): free shared
 * memory, remove files and directories, stop servers. Detaches first if attached. Safe on a
 * closed or zeroed flag. */
static inline void flag_close(struct flag *f)
{
    if (f->state == FLAG_CLOSED)
        return;
    if (f->state == FLAG_ATTACHED)
        flag_detach(f);
    f->ops->close(f);
    f->state = FLAG_CLOSED;
    f->word = NULL;
    f->priv = NULL;
}

#endif
