/* SPDX-License-Identifier: MIT */
/* Pi by Monte Carlo over workers: the serial, threaded, forked and GIL-bound runs. */
#include "pi.h"

#include "pool.h"
#include "shared.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* ---- placement ----------------------------------------------------------------------------- */

enum ipc_pi_pin ipc_pi_pinning(enum wl_pi_mode m, unsigned workers, int ncpus)
{
    if (ncpus <= 0)
        return IPC_PI_PIN_NONE;
    if (m == WL_PI_SERIAL || workers <= (unsigned)ncpus)
        return IPC_PI_PIN_PER_WORKER;
    return IPC_PI_PIN_SHARED_SET;
}

const char *ipc_pi_pin_name(enum ipc_pi_pin p)
{
    switch (p) {
    case IPC_PI_PIN_PER_WORKER:
        return "per-worker";
    case IPC_PI_PIN_SHARED_SET:
        return "shared-set";
    default:
        return "none";
    }
}

/* ---- one run ------------------------------------------------------------------------------- */

/* A worker's count is checked for an abort between chunks: a failed start stops the others
 * within a few milliseconds instead of letting them finish minutes of work. */
#define CHUNK (256 * (uint64_t)WL_PI_BLOCK)

/*
 * The emulated global interpreter lock. A thread computes only while it holds the lock and
 * offers it after every gil_interval samples, as CPython's eval loop does after each switch
 * interval. Offering includes the handoff CPython added in 3.2 (FORCE_SWITCHING): when another
 * thread is waiting, the holder does not re-take the lock until one of them has taken it;
 * without that the holder, already running, would win every time and one thread would run
 * to the end while the others sleep.
 */
struct gil {
    pthread_mutex_t mu;
    pthread_cond_t released; /* the lock became free */
    pthread_cond_t taken;    /* somebody took it: a holder waiting to hand it off may go on */
    bool locked;
    unsigned waiting;   /* threads blocked in gil_take */
    int holder;         /* the last thread to take it, -1 before the first */
    uint64_t takes;     /* acquisitions */
    uint64_t handoffs;  /* acquisitions by a thread other than the previous holder */
    atomic_uint inside; /* threads between taking and offering: the instrument */
    atomic_ullong overlaps;
};

static void gil_take(struct gil *g, int me)
{
    pthread_mutex_lock(&g->mu);
    if (g->locked) {
        g->waiting++;
        while (g->locked)
            pthread_cond_wait(&g->released, &g->mu);
        g->waiting--;
    }
    g->locked = true;
    g->takes++;
    if (g->holder >= 0 && g->holder != me)
        g->handoffs++;
    g->holder = me;
    pthread_cond_broadcast(&g->taken);
    pthread_mutex_unlock(&g->mu);
    /* Counted outside the mutex, so the count sees what the lock protocol lets through, not
     * what the mutex around it happens to serialise. */
    if (atomic_fetch_add(&g->inside, 1) != 0)
        atomic_fetch_add(&g->overlaps, 1);
}

/* Give the lock up; with handoff, wait until a waiting thread (if any) has taken it. */
static void gil_release(struct gil *g, bool handoff)
{
    atomic_fetch_sub(&g->inside, 1);
    pthread_mutex_lock(&g->mu);
    g->locked = false;
    pthread_cond_signal(&g->released);
    if (handoff && g->waiting > 0) {
        uint64_t t = g->takes;
        while (g->takes == t)
            pthread_cond_wait(&g->taken, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

struct run {
    const struct ipc_pi_opts *o;
    enum ipc_pi_pin pin;
    cpu_set_t set; /* every CPU in o->cpus: for IPC_PI_PIN_SHARED_SET */
    struct gil gil;
    atomic_bool abort;
};

/* Worker i's whole share, in chunks between abort checks. */
static uint64_t compute_share(struct run *run, unsigned i)
{
    const struct ipc_pi_opts *o = run->o;
    struct wl_pi_stream s = wl_pi_stream(o->seed, i);
    uint64_t left = wl_pi_share(o->samples, o->workers, i), in = 0;
    while (left && !atomic_load_explicit(&run->abort, memory_order_relaxed)) {
        uint64_t n = left < CHUNK ? left : CHUNK;
        in += o->batch ? wl_pi_count_batch(&s, n) : wl_pi_count_each(&s, n);
        left -= n;
    }
    return in;
}

/* Worker i's share computed only while holding the lock, offering it every interval. */
static uint64_t compute_share_gil(struct run *run, unsigned i)
{
    const struct ipc_pi_opts *o = run->o;
    struct wl_pi_stream s = wl_pi_stream(o->seed, i);
    uint64_t left = wl_pi_share(o->samples, o->workers, i), in = 0;
    gil_take(&run->gil, (int)i);
    while (left && !atomic_load_explicit(&run->abort, memory_order_relaxed)) {
        uint64_t n = left < o->gil_interval ? left : o->gil_interval;
        in += o->batch ? wl_pi_count_batch(&s, n) : wl_pi_count_each(&s, n);
        left -= n;
        if (left) {
            gil_release(&run->gil, true);
            gil_take(&run->gil, (int)i);
        }
    }
    gil_release(&run->gil, false);
    return in;
}

/* "<what>: <strerror(e)>" into err. */
static void fail(char *err, size_t len, const char *what, int e)
{
    snprintf(err, len, "%s: %s", what, strerror(e));
}

/* ---- serial ---- */

static int run_serial(struct run *run, uint64_t *inside, char *err, size_t len)
{
    const struct ipc_pi_opts *o = run->o;
    pthread_t self = pthread_self();
    cpu_set_t old;
    bool pinned = false;
    if (run->pin != IPC_PI_PIN_NONE) {
        /* Pinned for the run only: the caller's placement is put back afterwards. */
        int e = pthread_getaffinity_np(self, sizeof old, &old);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(o->cpus[0], &one);
        if (e == 0)
            e = pthread_setaffinity_np(self, sizeof one, &one);
        if (e) {
            char what[48];
            snprintf(what, sizeof what, "cannot pin to CPU %d", o->cpus[0]);
            fail(err, len, what, e);
            return -e;
        }
        pinned = true;
    }
    uint64_t in = 0;
    for (unsigned i = 0; i < o->workers; i++)
        in += compute_share(run, i);
    if (pinned)
        pthread_setaffinity_np(self, sizeof old, &old);
    *inside = in;
    return 0;
}

/* ---- threads, with or without the lock ---- */

struct thread_slot {
    alignas(64) struct run *run;
    unsigned idx;
    uint64_t inside;
    pthread_t tid;
};

static void *thread_main(void *p)
{
    struct thread_slot *t = p;
    t->inside = t->run->o->mode == WL_PI_GIL_THREADS ? compute_share_gil(t->run, t->idx)
                                                     : compute_share(t->run, t->idx);
    return NULL;
}

static int run_threads(struct run *run, uint64_t *inside, char *err, size_t len)
{
    const struct ipc_pi_opts *o = run->o;
    struct thread_slot *ts = aligned_alloc(64, o->workers * sizeof *ts);
    if (!ts) {
        fail(err, len, "thread slots", ENOMEM);
        return -ENOMEM;
    }
    int e = 0;
    unsigned started = 0;
    for (unsigned i = 0; i < o->workers && !e; i++) {
        ts[i] = (struct thread_slot){.run = run, .idx = i};
        pthread_attr_t attr;
        if ((e = pthread_attr_init(&attr)) != 0)
            break;
        cpu_set_t one;
        if (run->pin == IPC_PI_PIN_PER_WORKER) {
            CPU_ZERO(&one);
            CPU_SET(o->cpus[i], &one);
            e = pthread_attr_setaffinity_np(&attr, sizeof one, &one);
        } else if (run->pin == IPC_PI_PIN_SHARED_SET) {
            e = pthread_attr_setaffinity_np(&attr, sizeof run->set, &run->set);
        }
        if (e == 0)
            e = pthread_create(&ts[i].tid, &attr, thread_main, &ts[i]);
        pthread_attr_destroy(&attr);
        if (e == 0)
            started++;
    }
    if (e) {
        char what[64];
        snprintf(what, sizeof what, "cannot start thread %u of %u", started + 1, o->workers);
        fail(err, len, what, e);
        atomic_store(&run->abort, true);
    }
    uint64_t in = 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(ts[i].tid, NULL);
        in += ts[i].inside;
    }
    free(ts);
    *inside = in;
    return -e;
}

/* ---- processes ---- */

/* A worker's exit status when it cannot take its CPU set. */
#define EXIT_AFFINITY 3

struct proc_slot {
    alignas(IPC_CACHELINE) uint64_t inside;
    uint64_t done;
};

struct proc_arg {
    struct run *run;
    struct proc_slot *slots;
};

static int proc_main(unsigned idx, void *p)
{
    struct proc_arg *a = p;
    /* The pool pins one worker per CPU; a shared set is the worker's own business. */
    if (a->run->pin == IPC_PI_PIN_SHARED_SET &&
        sched_setaffinity(0, sizeof a->run->set, &a->run->set) < 0)
        return EXIT_AFFINITY;
    a->slots[idx].inside = compute_share(a->run, idx);
    a->slots[idx].done = 1;
    return 0;
}

static int run_processes(struct run *run, uint64_t *inside, char *err, size_t len)
{
    const struct ipc_pi_opts *o = run->o;
    size_t size = o->workers * sizeof(struct proc_slot);
    struct proc_slot *slots = ipc_shared_alloc(size);
    if (!slots) {
        int e = errno;
        fail(err, len, "shared memory for the results", e);
        return -e;
    }
    struct proc_arg arg = {.run = run, .slots = slots};
    struct ipc_pool pool;
    bool per_worker = run->pin == IPC_PI_PIN_PER_WORKER;
    int rc = ipc_pool_start(&pool, o->workers, proc_main, &arg, per_worker ? o->cpus : NULL,
                            per_worker ? o->ncpus : 0);
    if (rc < 0) {
        fail(err, len, "cannot start the worker processes", -rc);
        ipc_shared_free(slots, size);
        return rc;
    }
    unsigned failed = 0;
    rc = ipc_pool_wait(&pool, -1, &failed);
    if (rc == 1) {
        char how[96];
        ipc_pool_describe(&pool, failed, how, sizeof how);
        int st = pool.procs[failed].status;
        snprintf(err, len, "worker process %u of %u failed: %s%s", failed + 1, o->workers, how,
                 WIFEXITED(st) && WEXITSTATUS(st) == EXIT_AFFINITY
                     ? " (could not set its CPU affinity)"
                     : "");
        rc = -ECHILD;
    } else if (rc < 0) {
        fail(err, len, "waiting for the worker processes", -rc);
    }
    ipc_pool_destroy(&pool);
    uint64_t in = 0;
    for (unsigned i = 0; rc == 0 && i < o->workers; i++) {
        if (!slots[i].done) {
            snprintf(err, len, "worker process %u of %u exited without a result", i + 1,
                     o->workers);
            rc = -EPROTO;
        }
        in += slots[i].inside;
    }
    ipc_shared_free(slots, size);
    *inside = in;
    return rc;
}

/* ---- the entry point ---- */

static int check_cpus(const struct ipc_pi_opts *o, char *err, size_t len)
{
    for (int i = 0; o->cpus && i < o->ncpus; i++) {
        if (o->cpus[i] < 0 || o->cpus[i] >= CPU_SETSIZE) {
            snprintf(err, len, "CPU %d is not from 0 to %d", o->cpus[i], CPU_SETSIZE - 1);
            return -EINVAL;
        }
    }
    return 0;
}

static int check_opts(const struct ipc_pi_opts *o, char *err, size_t len)
{
    if ((unsigned)o->mode >= WL_PI_NMODES)
        snprintf(err, len, "unknown mode %d", (int)o->mode);
    else if (o->workers < 1 || o->workers > WL_PI_MAX_WORKERS)
        snprintf(err, len, "workers %u is not from 1 to %d", o->workers, WL_PI_MAX_WORKERS);
    else if (o->samples < 1 || o->samples > WL_PI_MAX_SAMPLES)
        snprintf(err, len, "samples %llu is not from 1 to %llu", (unsigned long long)o->samples,
                 WL_PI_MAX_SAMPLES);
    else if (o->mode == WL_PI_GIL_THREADS &&
             (o->gil_interval < 1 || o->gil_interval > IPC_PI_MAX_GIL_INTERVAL))
        snprintf(err, len, "gil interval %llu is not from 1 to %llu",
                 (unsigned long long)o->gil_interval, IPC_PI_MAX_GIL_INTERVAL);
    else if (o->cpus && o->ncpus < 1)
        snprintf(err, len, "a CPU list needs at least one CPU");
    else
        return check_cpus(o, err, len);
    return -EINVAL;
}

int ipc_pi_run(const struct ipc_pi_opts *o, struct ipc_pi_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (errlen)
        err[0] = '\0';
    int rc = check_opts(o, err, errlen);
    if (rc < 0)
        return rc;
    struct run *run = calloc(1, sizeof *run);
    if (!run) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    run->o = o;
    run->pin = ipc_pi_pinning(o->mode, o->workers, o->cpus ? o->ncpus : 0);
    CPU_ZERO(&run->set);
    for (int i = 0; o->cpus && i < o->ncpus; i++)
        CPU_SET(o->cpus[i], &run->set);
    run->gil.holder = -1;
    pthread_mutex_init(&run->gil.mu, NULL);
    pthread_cond_init(&run->gil.released, NULL);
    pthread_cond_init(&run->gil.taken, NULL);

    uint64_t inside = 0;
    switch (o->mode) {
    case WL_PI_SERIAL:
        rc = run_serial(run, &inside, err, errlen);
        break;
    case WL_PI_PROCESSES:
        rc = run_processes(run, &inside, err, errlen);
        break;
    default:
        rc = run_threads(run, &inside, err, errlen);
        break;
    }
    if (rc == 0) {
        r->inside = inside;
        r->pi = 4.0 * (double)inside / (double)o->samples;
        if (o->mode == WL_PI_GIL_THREADS) {
            r->gil_acquisitions = run->gil.takes;
            r->gil_handoffs = run->gil.handoffs;
            r->gil_overlaps = atomic_load(&run->gil.overlaps);
        }
    }
    pthread_cond_destroy(&run->gil.taken);
    pthread_cond_destroy(&run->gil.released);
    pthread_mutex_destroy(&run->gil.mu);
    free(run);
    return rc;
}
