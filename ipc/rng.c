/* SPDX-License-Identifier: MIT */
/* The random-generator experiments: forked workers' streams over shared memory, and generator
 * throughput in threads. */
#include "rng.h"

#include "clock.h"
#include "errbuf.h"
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
#include <unistd.h>

/* Wait for the pool; 0, or -errno with the reason in err. */
static int finish_pool(struct ipc_pool *pool, const char *what, char *err, size_t len)
{
    unsigned failed = 0;
    int rc = ipc_pool_wait(pool, -1, &failed);
    if (rc == 1) {
        char how[128];
        ipc_pool_describe(pool, failed, how, sizeof how);
        rc = ipc_errf(err, len, -ECHILD, "%s worker %u (pid %d): %s", what, failed,
                   (int)pool->procs[failed].pid, how);
    } else if (rc < 0) {
        rc = ipc_errf(err, len, rc, "waiting for the %s workers: %s", what, strerror(-rc));
    }
    ipc_pool_destroy(pool);
    return rc;
}

/* ---- random streams in forked workers ---------------------------------------------------- */

/* The values follow this header in the same mapping, at a cache-line boundary. */
struct streams_ctl {
    alignas(IPC_CACHELINE) pid_t pids[IPC_RNG_MAX_WORKERS];
};

struct streams_run {
    struct streams_ctl *ctl;
    uint64_t *values;
    const struct ipc_rng_streams_opts *o;
    struct wl_xoshiro parent; /* seeded in the parent; each worker has its own copy by fork */
};

static int streams_worker(unsigned idx, void *arg)
{
    struct streams_run *run = arg;
    const struct ipc_rng_streams_opts *o = run->o;
    pid_t pid = getpid();
    run->ctl->pids[idx] = pid;
    /* No start line here: the workers draw independently, and the comparison is the result,
     * not the timing. */
    struct wl_xoshiro g;
    wl_rng_for_worker(&g, &run->parent, o->seeding, o->seed, idx, (uint64_t)pid);
    uint64_t *row = run->values + (size_t)idx * o->count;
    for (uint64_t k = 0; k < o->count; k++)
        row[k] = wl_xoshiro_next(&g);
    return 0;
}

struct row_cmp {
    const uint64_t *values;
    uint64_t count;
};

static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const struct row_cmp *rc = ctx;
    unsigned i = *(const unsigned *)a, j = *(const unsigned *)b;
    int c = memcmp(rc->values + (size_t)i * rc->count, rc->values + (size_t)j * rc->count,
                   rc->count * sizeof(uint64_t));
    return c ? c : (i > j) - (i < j);
}

/* Group equal rows by sorting row indices: n log n row comparisons instead of n^2 / 2. */
static int count_identical(struct ipc_rng_streams *s)
{
    unsigned n = s->workers;
    unsigned *order = malloc(n * sizeof *order);
    if (!order)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++)
        order[i] = i;
    struct row_cmp ctx = {.values = s->values, .count = s->count};
    qsort_r(order, n, sizeof *order, cmp_rows, &ctx);
    s->identical_pairs = 0;
    s->distinct_streams = 0;
    size_t row = s->count * sizeof(uint64_t);
    for (unsigned i = 0; i < n;) {
        unsigned j = i + 1;
        while (j < n && memcmp(s->values + (size_t)order[i] * s->count,
                               s->values + (size_t)order[j] * s->count, row) == 0)
            j++;
        uint64_t g = j - i;
        s->identical_pairs += g * (g - 1) / 2;
        s->distinct_streams++;
        i = j;
    }
    s->pairs = (uint64_t)n * (n - 1) / 2;
    free(order);
    return 0;
}

int ipc_rng_streams_run(const struct ipc_rng_streams_opts *o, struct ipc_rng_streams *s, char *err,
                        size_t errlen)
{
    memset(s, 0, sizeof *s);
    if ((unsigned)o->seeding >= WL_SEEDING_COUNT || o->workers < 1 ||
        o->workers > IPC_RNG_MAX_WORKERS || o->count < 1 || o->count > IPC_RNG_MAX_COUNT ||
        (uint64_t)o->workers * o->count > IPC_RNG_MAX_VALUES)
        return ipc_errf(err, errlen, -EINVAL,
                     "rng streams: workers 1..%d, count 1..%u, workers x count <= %llu",
                     IPC_RNG_MAX_WORKERS, IPC_RNG_MAX_COUNT,
                     (unsigned long long)IPC_RNG_MAX_VALUES);
    uint64_t t0 = ipc_now_ns();
    size_t vbytes = (size_t)o->workers * o->count * sizeof(uint64_t);
    size_t size = sizeof(struct streams_ctl) + vbytes;
    struct streams_ctl *ctl = ipc_shared_alloc(size);
    if (!ctl)
        return ipc_errf(err, errlen, -errno, "rng streams: shared memory: %s", strerror(errno));
    struct streams_run run = {.ctl = ctl, .values = (uint64_t *)(ctl + 1), .o = o};
    /* The parent seeds once, as a program that seeds at start-up and then forks would. */
    wl_xoshiro_seed(&run.parent, o->seed);
    struct ipc_pool pool;
    int rc = ipc_pool_start(&pool, o->workers, streams_worker, &run, o->cpus, o->ncpus);
    if (rc < 0) {
        ipc_shared_free(ctl, size);
        return ipc_errf(err, errlen, rc, "rng streams: cannot start the workers: %s", strerror(-rc));
    }
    rc = finish_pool(&pool, "rng streams", err, errlen);
    if (rc < 0) {
        ipc_shared_free(ctl, size);
        return rc;
    }
    s->wall_ns = ipc_now_ns() - t0;
    s->workers = o->workers;
    s->count = o->count;
    s->values = run.values;
    s->pids = ctl->pids;
    s->parent = run.parent;
    s->map = ctl;
    s->mapped = size;
    if ((rc = count_identical(s)) < 0) {
        ipc_rng_streams_free(s);
        return ipc_errf(err, errlen, rc, "rng streams: out of memory");
    }
    return 0;
}

void ipc_rng_streams_free(struct ipc_rng_streams *s)
{
    if (s->map)
        ipc_shared_free(s->map, s->mapped);
    memset(s, 0, sizeof *s);
}

/* ---- generator throughput in threads ----------------------------------------------------- */

static const char *const mode_names[IPC_RNG_MODES] = {
    [IPC_RNG_LOCKED_SHARED] = "locked-shared",
    [IPC_RNG_PER_THREAD] = "per-thread",
};

const char *ipc_rng_mode_name(enum ipc_rng_mode m)
{
    return (unsigned)m < IPC_RNG_MODES ? mode_names[m] : NULL;
}

int ipc_rng_mode_parse(const char *name, enum ipc_rng_mode *out)
{
    for (unsigned i = 0; i < IPC_RNG_MODES; i++) {
        if (strcmp(name, mode_names[i]) == 0) {
            *out = (enum ipc_rng_mode)i;
            return 0;
        }
    }
    return -1;
}

/* What the threads share: the generator and its mutex (locked-shared), the start signal. */
struct tp_shared {
    alignas(IPC_CACHELINE) pthread_mutex_t mutex;
    struct wl_xoshiro gen;
    alignas(IPC_CACHELINE) _Atomic int go; /* 1: run; -1: give up (a sibling failed to start) */
    const struct ipc_rng_throughput_opts *o;
};

/* One per thread, on lines of their own: the per-thread generators must not false-share. */
struct tp_thread {
    alignas(IPC_CACHELINE) struct wl_xoshiro gen;
    struct tp_shared *sh;
    uint64_t sum;
    uint64_t end_ns;
    pthread_t tid;
};

static void *tp_main(void *arg)
{
    struct tp_thread *t = arg;
    struct tp_shared *sh = t->sh;
    int go;
    while ((go = atomic_load_explicit(&sh->go, memory_order_acquire)) == 0)
        sched_yield();
    if (go < 0)
        return NULL;
    const uint64_t m = sh->o->numbers;
    uint64_t sum = 0;
    if (sh->o->mode == IPC_RNG_LOCKED_SHARED) {
        for (uint64_t k = 0; k < m; k++) {
            pthread_mutex_lock(&sh->mutex);
            uint64_t x = wl_xoshiro_next(&sh->gen);
            pthread_mutex_unlock(&sh->mutex);
            sum += x;
        }
    } else {
        /* A local copy: the generator stays in registers instead of being stored back to
         * memory after every output. */
        struct wl_xoshiro g = t->gen;
        for (uint64_t k = 0; k < m; k++)
            sum += wl_xoshiro_next(&g);
        t->gen = g;
    }
    t->sum = sum;
    t->end_ns = ipc_now_ns();
    return NULL;
}

int ipc_rng_throughput_run(const struct ipc_rng_throughput_opts *o,
                           struct ipc_rng_throughput_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if ((unsigned)o->mode >= IPC_RNG_MODES || o->threads < 1 || o->threads > IPC_RNG_MAX_THREADS ||
        o->numbers < 1 || o->numbers > IPC_RNG_MAX_NUMBERS)
        return ipc_errf(err, errlen, -EINVAL, "rng throughput: threads 1..%d, numbers 1..%u",
                     IPC_RNG_MAX_THREADS, IPC_RNG_MAX_NUMBERS);
    struct tp_shared *sh = aligned_alloc(IPC_CACHELINE, sizeof *sh);
    struct tp_thread *th = aligned_alloc(IPC_CACHELINE, o->threads * sizeof *th);
    if (!sh || !th) {
        free(sh);
        free(th);
        return ipc_errf(err, errlen, -ENOMEM, "rng throughput: out of memory");
    }
    memset(sh, 0, sizeof *sh);
    memset(th, 0, o->threads * sizeof *th);
    sh->o = o;
    wl_xoshiro_seed(&sh->gen, o->seed);
    int rc = pthread_mutex_init(&sh->mutex, NULL);
    if (rc != 0) {
        free(sh);
        free(th);
        return ipc_errf(err, errlen, -rc, "rng throughput: mutex: %s", strerror(rc));
    }
    unsigned created = 0;
    for (unsigned i = 0; i < o->threads; i++) {
        th[i].sh = sh;
        /* Thread i's stream is the shared seed jumped i times (wl_rng_for_worker's JUMP),
         * built from thread i-1's so that 256 threads cost 255 jumps, not 32640. */
        th[i].gen = sh->gen;
        if (i > 0) {
            th[i].gen = th[i - 1].gen;
            wl_xoshiro_jump(&th[i].gen);
        }
        pthread_attr_t attr;
        if ((rc = pthread_attr_init(&attr)) != 0)
            break;
        if (o->cpus && o->ncpus > 0) {
            /* Pinned before it runs: a thread created by a pinned caller would otherwise
             * inherit the caller's single CPU. */
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(o->cpus[i % (unsigned)o->ncpus], &set);
            rc = pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        }
        if (rc == 0)
            rc = pthread_create(&th[i].tid, &attr, tp_main, &th[i]);
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;
        created++;
    }
    uint64_t t0 = ipc_now_ns();
    atomic_store_explicit(&sh->go, rc == 0 ? 1 : -1, memory_order_release);
    for (unsigned i = 0; i < created; i++)
        pthread_join(th[i].tid, NULL);
    if (rc != 0) {
        ipc_errf(err, errlen, -rc, "rng throughput: cannot start thread %u: %s", created,
              strerror(rc));
        rc = -rc;
    } else {
        uint64_t end = t0;
        for (unsigned i = 0; i < o->threads; i++) {
            r->checksum += th[i].sum;
            if (th[i].end_ns > end)
                end = th[i].end_ns;
        }
        r->numbers = (uint64_t)o->threads * o->numbers;
        r->wall_ns = end - t0;
    }
    pthread_mutex_destroy(&sh->mutex);
    free(sh);
    free(th);
    return rc;
}
