/* SPDX-License-Identifier: MIT */
/* The memo family (claim C7): what a session pays for a result it computes and stores, and
 * what a later session pays to get the same result back from the cache on disk. */
#include "bench.h"

#include "../ipc/cleanup.h"
#include "../ipc/clock.h"
#include "../ipc/pool.h"
#include "../ipc/shared.h"
#include "../ipc/tmpdir.h"
#include "../workloads/memo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- memo/<cold|warm>/n:<N> ------------------------------------------------------------------ */

/*
 * Every iteration is one session: a forked process, pinned to cpu_main, that opens the cache,
 * makes the memoised call count_primes_below(N) and closes the cache; its time is measured in
 * that process (open to close), so the fork is not in it. cold: the session starts on a fresh,
 * empty cache directory, so it computes and stores (the tag and the entry, each fsynced with
 * its directory). warm: one cold session fills a directory before the loop, then every
 * iteration is a new process that finds the entry there. The entry is read from the page
 * cache, as a session run soon after the first would read it; dropping it needs root.
 *
 * Fixed iteration counts: a warm session takes far less time than the fork that starts it,
 * so letting the library pick iterations from the manual time would run thousands of forks
 * per repetition.
 */
#define MEMO_N 1000000
#define COLD_ITERATIONS 5
#define WARM_ITERATIONS 20
#define SESSION_TIMEOUT_MS 120000

/* What a session reports back, in shared memory. */
struct session {
    uint64_t ns, result, bytes;
    int status; /* enum wl_memo_status of the lookup */
    char err[256];
};

struct session_arg {
    const char *dir;
    uint64_t n;
    struct session *out;
};

static int session(unsigned idx, void *p)
{
    (void)idx;
    const struct session_arg *a = p;
    struct session *s = a->out;
    uint64_t t0 = ipc_now_ns();
    struct wl_memo m;
    if (wl_memo_open(&m, a->dir) < 0) {
        snprintf(s->err, sizeof s->err, "%s", m.errstr);
        return 1;
    }
    struct wl_memo_outcome o;
    int rc = wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, wl_count_primes_below, a->n,
                              &s->result, &o);
    wl_memo_close(&m);
    s->ns = ipc_now_ns() - t0;
    if (rc < 0 || o.store_err) {
        snprintf(s->err, sizeof s->err, "%s", m.errstr);
        return 1;
    }
    s->status = (int)o.status;
    s->bytes = o.bytes;
    return 0;
}

/* Run one session on dir in a forked process; *s is what it reported. 0, or -1 after
 * gb_skip_with_error. */
static int run_session(gb_state *st, const char *dir, uint64_t n, struct session *s)
{
    memset(s, 0, sizeof *s);
    struct session *sh = ipc_shared_alloc(sizeof *sh);
    if (!sh) {
        bench_skip(st, "shared memory: %s", strerror(errno));
        return -1;
    }
    struct session_arg a = {.dir = dir, .n = n, .out = sh};
    struct ipc_pool pool;
    int cpu = bench_cfg.cpu_main;
    int rc = ipc_pool_start(&pool, 1, session, &a, &cpu, 1);
    if (rc < 0) {
        bench_skip(st, "fork: %s", strerror(-rc));
        ipc_shared_free(sh, sizeof *sh);
        return -1;
    }
    unsigned failed = 0;
    rc = ipc_pool_wait(&pool, SESSION_TIMEOUT_MS, &failed);
    if (rc != 0) {
        char how[128] = "timed out";
        if (rc == 1)
            ipc_pool_describe(&pool, failed, how, sizeof how);
        else if (rc != -ETIMEDOUT)
            snprintf(how, sizeof how, "%s", strerror(-rc));
        bench_skip(st, "memo session: %s%s%.200s", how, sh->err[0] ? ": " : "", sh->err);
    }
    ipc_pool_destroy(&pool);
    *s = *sh;
    ipc_shared_free(sh, sizeof *sh);
    return rc == 0 ? 0 : -1;
}

/* A private cache directory under $TMPDIR, and the paths of the files a session puts there,
 * all registered for cleanup so that Ctrl-C removes the files before the directory. */
struct cache_dir {
    char dir[IPC_CLEANUP_PATH_MAX], tag[IPC_CLEANUP_PATH_MAX], entry[IPC_CLEANUP_PATH_MAX];
};

static int cache_dir_create(gb_state *st, uint64_t n, struct cache_dir *c)
{
    memset(c, 0, sizeof *c);
    int rc = ipc_tmpdir_create(NULL, c->dir, sizeof c->dir);
    if (rc < 0) {
        bench_skip(st, "cache directory: %s", strerror(-rc));
        return -1;
    }
    uint8_t arg[8];
    for (int i = 0; i < 8; i++)
        arg[i] = (uint8_t)(n >> (8 * i));
    struct wl_memo_arg part = {arg, sizeof arg};
    struct wl_memo_key k;
    char hex[WL_MEMO_KEY_HEX];
    rc = wl_memo_key(&k, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, &part, 1);
    if (rc == 0) {
        wl_memo_key_hex(&k, hex);
        snprintf(c->tag, sizeof c->tag, "%.200s/CACHEDIR.TAG", c->dir);
        snprintf(c->entry, sizeof c->entry, "%.200s/%s.memo", c->dir, hex);
        if ((rc = ipc_cleanup_add_path(c->tag)) == 0)
            rc = ipc_cleanup_add_path(c->entry);
    }
    if (rc < 0) {
        bench_skip(st, "cache directory: %s", strerror(-rc));
        if (c->tag[0])
            ipc_cleanup_remove_path(c->tag);
        ipc_cleanup_remove_path(c->dir);
        return -1;
    }
    return 0;
}

/* Empty the directory through the cache (it removes only its own files, temp files too),
 * then remove it and forget the registered paths. */
static void cache_dir_remove(struct cache_dir *c)
{
    struct wl_memo m;
    if (wl_memo_open(&m, c->dir) == 0) {
        wl_memo_clear(&m, true, NULL);
        wl_memo_close(&m);
    }
    ipc_cleanup_remove_path(c->entry);
    ipc_cleanup_remove_path(c->tag);
    ipc_cleanup_remove_path(c->dir);
}

static void bm_cold(gb_state *st, void *arg)
{
    (void)arg;
    uint64_t n = (uint64_t)gb_range(st, 0);
    double served = 0, bytes = 0;
    while (gb_keep_running_batch(st, 1)) {
        struct cache_dir c;
        if (cache_dir_create(st, n, &c) < 0)
            return;
        struct session s;
        int rc = run_session(st, c.dir, n, &s);
        cache_dir_remove(&c);
        if (rc < 0)
            return;
        gb_set_iteration_time(st, (double)s.ns / 1e9);
        served += s.status == WL_MEMO_HIT;
        bytes += (double)s.bytes;
    }
    gb_counter(st, "served_from_disk", served, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "bytes", bytes, GB_COUNTER_AVG_ITERATIONS);
}

static void bm_warm(gb_state *st, void *arg)
{
    (void)arg;
    uint64_t n = (uint64_t)gb_range(st, 0);
    struct cache_dir c;
    if (cache_dir_create(st, n, &c) < 0)
        return;
    /* The first session, untimed: it computes and stores what the timed ones read. */
    struct session first, s;
    if (run_session(st, c.dir, n, &first) < 0)
        goto out;
    if (first.status == WL_MEMO_HIT) {
        bench_skip(st, "a fresh cache directory already held the entry");
        goto out;
    }
    double served = 0, bytes = 0;
    while (gb_keep_running_batch(st, 1)) {
        if (run_session(st, c.dir, n, &s) < 0)
            goto out;
        if (s.result != first.result) {
            bench_skip(st, "a warm session got %llu, the cold one computed %llu",
                       (unsigned long long)s.result, (unsigned long long)first.result);
            goto out;
        }
        gb_set_iteration_time(st, (double)s.ns / 1e9);
        served += s.status == WL_MEMO_HIT;
        bytes += (double)s.bytes;
    }
    gb_counter(st, "served_from_disk", served, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "bytes", bytes, GB_COUNTER_AVG_ITERATIONS);
out:
    cache_dir_remove(&c);
}

void bench_register_memo(void)
{
    static const char *const arg_names[] = {"n"};
    const int64_t n = MEMO_N;
    static const struct {
        const char *name;
        gb_fn fn;
        int64_t iterations;
    } variants[] = {
        {"memo/cold", bm_cold, COLD_ITERATIONS},
        {"memo/warm", bm_warm, WARM_ITERATIONS},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        gb_bench *b = gb_register(variants[i].name, variants[i].fn, NULL);
        gb_args(b, &n, 1);
        gb_arg_names(b, arg_names, 1);
        gb_use_manual_time(b);
        gb_iterations(b, variants[i].iterations);
        gb_time_unit(b, GB_US);
    }
}
