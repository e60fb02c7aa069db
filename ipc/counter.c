/* SPDX-License-Identifier: MIT */
/* The shared-counter experiment: forked workers incrementing one counter in shared memory. */
#include "counter.h"

#include "clock.h"
#include "errbuf.h"
#include "pool.h"
#include "shared.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* Workers that do not reach the start line within this long are a failure, not a hang. */
#define START_TIMEOUT_NS (30ull * 1000000000ull)

/* ---- the start line --------------------------------------------------------------------- */

struct start_line {
    alignas(IPC_CACHELINE) _Atomic unsigned ready;
    _Atomic int go;
};

/* In a worker: say it is up, then wait for the parent's go. Yielding rather than spinning,
 * because with more workers than CPUs a spinning waiter would hold a CPU the parent or a
 * not-yet-ready sibling needs. */
static void start_wait(struct start_line *s)
{
    atomic_fetch_add(&s->ready, 1);
    while (!atomic_load_explicit(&s->go, memory_order_acquire))
        sched_yield();
}

/* True if some worker has already exited: it will never reach the start line. WNOWAIT leaves
 * it for ipc_pool_wait to reap and describe. */
static bool any_exited(const struct ipc_pool *p)
{
    for (unsigned i = 0; i < p->n; i++) {
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)p->procs[i].pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid != 0)
            return true;
    }
    return false;
}

/* In the parent: wait until all n workers are at the start line. 0; 1 if one exited first
 * (ipc_pool_wait then says which and how); -ETIMEDOUT. */
static int start_gather(struct start_line *s, const struct ipc_pool *p, unsigned n)
{
    uint64_t t0 = ipc_now_ns();
    const struct timespec nap = {.tv_nsec = 50000};
    while (atomic_load(&s->ready) < n) {
        if (any_exited(p))
            return 1;
        if (ipc_now_ns() - t0 > START_TIMEOUT_NS)
            return -ETIMEDOUT;
        nanosleep(&nap, NULL);
    }
    return 0;
}

/* Wait for the pool; 0, or -errno with the reason in err. worker_err(idx) may give a worker's
 * own account of its failure. */
static int finish_pool(struct ipc_pool *pool, const char *what,
                       const char *(*worker_err)(void *, unsigned), void *ctx, char *err,
                       size_t len)
{
    unsigned failed = 0;
    int rc = ipc_pool_wait(pool, -1, &failed);
    if (rc == 1) {
        char how[128];
        ipc_pool_describe(pool, failed, how, sizeof how);
        const char *why = worker_err ? worker_err(ctx, failed) : "";
        rc = ipc_errf(err, len, -ECHILD, "%s worker %u (pid %d): %s", what, failed,
                   (int)pool->procs[failed].pid, why && why[0] ? why : how);
    } else if (rc < 0) {
        rc = ipc_errf(err, len, rc, "waiting for the %s workers: %s", what, strerror(-rc));
    }
    ipc_pool_destroy(pool);
    return rc;
}

/* ---- the shared counter ------------------------------------------------------------------ */

static const char *const variant_names[IPC_COUNTER_VARIANTS] = {
    [IPC_COUNTER_UNSYNCHRONISED] = "unsynchronised",
    [IPC_COUNTER_LOCKED_GET_SET] = "locked-get-set",
    [IPC_COUNTER_LOCKED_RMW] = "locked-rmw",
    [IPC_COUNTER_ATOMIC] = "atomic",
};

const char *ipc_counter_variant_name(enum ipc_counter_variant v)
{
    return (unsigned)v < IPC_COUNTER_VARIANTS ? variant_names[v] : NULL;
}

int ipc_counter_variant_parse(const char *name, enum ipc_counter_variant *out)
{
    for (unsigned i = 0; i < IPC_COUNTER_VARIANTS; i++) {
        if (strcmp(name, variant_names[i]) == 0) {
            *out = (enum ipc_counter_variant)i;
            return 0;
        }
    }
    return -1;
}

struct counter_slot {
    alignas(IPC_CACHELINE) uint64_t end_ns;
    char errstr[96];
};

/* The mutex, the plain counter and the atomic one each on a line of their own, so that the
 * atomic variant's cost is its own and not a neighbour's false sharing. */
struct counter_ctl {
    struct start_line start;
    alignas(IPC_CACHELINE) pthread_mutex_t mutex;
    alignas(IPC_CACHELINE) uint64_t value;
    alignas(IPC_CACHELINE) _Atomic uint64_t atomic_value;
    struct counter_slot slots[];
};

struct counter_run {
    struct counter_ctl *ctl;
    enum ipc_counter_variant variant;
    uint64_t increments;
};

/* Take the robust mutex. A worker that died holding it leaves EOWNERDEAD: the counter is
 * written in one store under the lock, so it is consistent and the lock can be repaired (the
 * run fails anyway, because ipc_pool_wait sees the death). 0 or an errno value. */
static int counter_lock(struct counter_ctl *c)
{
    int rc = pthread_mutex_lock(&c->mutex);
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&c->mutex);
    return rc;
}

static int counter_worker(unsigned idx, void *arg)
{
    const struct counter_run *run = arg;
    struct counter_ctl *c = run->ctl;
    struct counter_slot *slot = &c->slots[idx];
    const uint64_t m = run->increments;
    int rc = 0;
    start_wait(&c->start);
    switch (run->variant) {
    case IPC_COUNTER_UNSYNCHRONISED: {
        /* The intentional data race this variant exists to show. volatile forces one real load
         * and one real store per increment, as RawValue's `+=` does; without it the compiler
         * would turn the loop into a single add of m and the race would all but vanish. It is
         * a race by design: the other variants are the correct ones. */
        volatile uint64_t *v = &c->value;
        for (uint64_t i = 0; i < m; i++) {
            uint64_t x = *v;
            *v = x + 1;
        }
        break;
    }
    case IPC_COUNTER_LOCKED_GET_SET:
        /* Each access is locked, the pair is not: another process may get the same value
         * between this get and this set, and one of the two increments is lost. */
        for (uint64_t i = 0; i < m && rc == 0; i++) {
            if ((rc = counter_lock(c)) != 0)
                break;
            uint64_t x = c->value;
            pthread_mutex_unlock(&c->mutex);
            if ((rc = counter_lock(c)) != 0)
                break;
            c->value = x + 1;
            pthread_mutex_unlock(&c->mutex);
        }
        break;
    case IPC_COUNTER_LOCKED_RMW:
        for (uint64_t i = 0; i < m; i++) {
            if ((rc = counter_lock(c)) != 0)
                break;
            c->value++;
            pthread_mutex_unlock(&c->mutex);
        }
        break;
    case IPC_COUNTER_ATOMIC:
        /* Relaxed is enough: nothing else is published through the counter, and the parent
         * reads it after reaping every worker, which orders everything. */
        for (uint64_t i = 0; i < m; i++)
            atomic_fetch_add_explicit(&c->atomic_value, 1, memory_order_relaxed);
        break;
    }
    slot->end_ns = ipc_now_ns();
    if (rc != 0) {
        snprintf(slot->errstr, sizeof slot->errstr, "lock: %s", strerror(rc));
        return 1;
    }
    return 0;
}

static const char *counter_worker_err(void *ctx, unsigned idx)
{
    struct counter_ctl *c = ctx;
    return c->slots[idx].errstr;
}

static int init_mutex(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
    if (rc == 0)
        rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
    return rc;
}

int ipc_counter_run(const struct ipc_counter_opts *o, struct ipc_counter_result *r, char *err,
                    size_t errlen)
{
    memset(r, 0, sizeof *r);
    if ((unsigned)o->variant >= IPC_COUNTER_VARIANTS || o->workers < 1 ||
        o->workers > IPC_COUNTER_MAX_WORKERS || o->increments < 1 ||
        o->increments > IPC_COUNTER_MAX_INCREMENTS)
        return ipc_errf(err, errlen, -EINVAL, "counter: workers 1..%d and increments 1..%u",
                     IPC_COUNTER_MAX_WORKERS, IPC_COUNTER_MAX_INCREMENTS);
    uint64_t t_begin = ipc_now_ns();
    size_t size = sizeof(struct counter_ctl) + o->workers * sizeof(struct counter_slot);
    struct counter_ctl *c = ipc_shared_alloc(size);
    if (!c)
        return ipc_errf(err, errlen, -errno, "counter: shared memory: %s", strerror(errno));
    int rc = init_mutex(&c->mutex);
    if (rc != 0) {
        ipc_shared_free(c, size);
        return ipc_errf(err, errlen, -rc, "counter: process-shared robust mutex: %s", strerror(rc));
    }
    struct counter_run run = {.ctl = c, .variant = o->variant, .increments = o->increments};
    struct ipc_pool pool;
    rc = ipc_pool_start(&pool, o->workers, counter_worker, &run, o->cpus, o->ncpus);
    if (rc < 0) {
        ipc_errf(err, errlen, rc, "counter: cannot start the workers: %s", strerror(-rc));
        goto out;
    }
    rc = start_gather(&c->start, &pool, o->workers);
    if (rc == -ETIMEDOUT) {
        ipc_pool_destroy(&pool);
        ipc_errf(err, errlen, rc, "counter: the workers did not start within 30 s");
        goto out;
    }
    /* rc == 1 (a worker already gone): release the others anyway; the pool reports it. */
    uint64_t t0 = ipc_now_ns();
    atomic_store_explicit(&c->start.go, 1, memory_order_release);
    rc = finish_pool(&pool, "counter", counter_worker_err, c, err, errlen);
    if (rc < 0)
        goto out;
    uint64_t end = t0;
    for (unsigned i = 0; i < o->workers; i++)
        if (c->slots[i].end_ns > end)
            end = c->slots[i].end_ns;
    r->expected = (uint64_t)o->workers * o->increments;
    r->final = o->variant == IPC_COUNTER_ATOMIC ? atomic_load(&c->atomic_value) : c->value;
    r->lost = (int64_t)(r->expected - r->final);
    r->wall_ns = end - t0;
    r->total_ns = ipc_now_ns() - t_begin;
out:
    pthread_mutex_destroy(&c->mutex);
    ipc_shared_free(c, size);
    return rc;
}
