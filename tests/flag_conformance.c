/* SPDX-License-Identifier: MIT */
/* The flag conformance suite: one driver, run once per registered backend (argv[1]).
 * Exit 0 pass, 1 fail, 77 when the backend's probe says it cannot run here. */
#include "test.h"

#include "flags/flag.h"
#include "flags/flag_fast.h"
#include "ipc/clock.h"
#include "ipc/pool.h"
#include "ipc/search.h"
#include "ipc/shared.h"

#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>

#define WORKERS 3
/* Liveness bound: a raise must reach every worker well within this. It detects a hang or a
 * lost raise, not slowness (the slowest backend sees a raise within milliseconds). */
#define SEEN_BOUND_NS (10ull * 1000000000ull)

struct shared {
    _Atomic unsigned ready; /* workers attached and spinning */
    _Atomic unsigned go;    /* the parent or worker 0 may raise */
    _Atomic uint64_t raised_at;
    _Atomic uint64_t seen_at[WORKERS];
    _Atomic int saw_raised_at_start[WORKERS];
};

static const struct flag_ops *ops;
static struct flag flag = FLAG_INIT;
static struct shared *sh;
static bool shared_prop;

/* Both read paths must agree: the dispatch call and the inline path the worker loop uses. */
static int check_both(struct flag *f)
{
    int slow = flag_is_raised(f);
    int64_t fast = ipc_check_spin(f, 1);
    if (ops->fast != FLAG_FAST_NOCHECK && slow != fast)
        T_FAIL("%s: is_raised says %d, the inline path says %lld", ops->name, slow,
               (long long)fast);
    return slow;
}

/* Worker: attach, report, spin until the flag is raised or the bound passes. Worker 0 raises
 * if the test asks it to (raise_by_worker). */
static int spin_worker(unsigned idx, void *arg)
{
    bool raise_by_worker = arg != NULL;
    if (flag_attach(&flag) < 0) {
        fprintf(stderr, "worker %u: attach: %s\n", idx, flag.errstr);
        return 2;
    }
    int at_start = flag_is_raised(&flag);
    atomic_store(&sh->saw_raised_at_start[idx], at_start);
    atomic_fetch_add(&sh->ready, 1);
    while (!atomic_load(&sh->go))
        ;
    if (raise_by_worker && idx == 0) {
        atomic_store(&sh->raised_at, ipc_now_ns());
        if (flag_raise(&flag) < 0) {
            fprintf(stderr, "worker 0: raise: %s\n", flag.errstr);
            return 3;
        }
    }
    uint64_t start = ipc_now_ns();
    for (;;) {
        int64_t r = ipc_check_spin(&flag, 1);
        if (r < 0) {
            fprintf(stderr, "worker %u: check: %s\n", idx, flag.errstr);
            return 4;
        }
        if (r > 0) {
            atomic_store(&sh->seen_at[idx], ipc_now_ns());
            break;
        }
        if (ipc_now_ns() - start > (shared_prop ? SEEN_BOUND_NS : 50000000ull))
            break; /* non-shared backends: a short look is enough to show nothing arrives */
    }
    flag_detach(&flag);
    return 0;
}

static void run_workers(bool raise_by_worker)
{
    memset(sh, 0, sizeof *sh);
    struct ipc_pool pool;
    int rc =
        ipc_pool_start(&pool, WORKERS, spin_worker, raise_by_worker ? (void *)1 : NULL, NULL, 0);
    if (rc < 0) {
        T_FAIL("cannot start workers: %s", strerror(-rc));
        return;
    }
    /* The parent joins after the fork, as the contract says: attached state (a descriptor, a
     * connection) is never inherited. */
    if (flag_attach(&flag) < 0)
        T_FAIL("parent attach: %s", flag.errstr);
    uint64_t t0 = ipc_now_ns();
    while (atomic_load(&sh->ready) < WORKERS && ipc_now_ns() - t0 < SEEN_BOUND_NS)
        usleep(100);
    T_EQ_INT(atomic_load(&sh->ready), WORKERS);
    atomic_store(&sh->go, 1);
    if (!raise_by_worker) {
        atomic_store(&sh->raised_at, ipc_now_ns());
        if (flag_raise(&flag) < 0)
            T_FAIL("parent raise: %s", flag.errstr);
    }
    unsigned failed = 0;
    rc = ipc_pool_wait(&pool, 30000, &failed);
    if (rc != 0) {
        char how[128] = "timed out";
        if (rc == 1)
            ipc_pool_describe(&pool, failed, how, sizeof how);
        T_FAIL("%s: worker %u: %s", ops->name, failed, how);
    }
    ipc_pool_destroy(&pool);
    for (unsigned i = 0; i < WORKERS; i++) {
        T_EQ_INT(atomic_load(&sh->saw_raised_at_start[i]), 0);
        uint64_t seen = atomic_load(&sh->seen_at[i]);
        if (shared_prop && !seen)
            T_FAIL("%s: worker %u never saw the raise (%s)", ops->name, i,
                   raise_by_worker ? "raised by worker 0" : "raised by the parent");
        if (!shared_prop && seen)
            T_FAIL("%s: not a shared backend, yet worker %u saw a raise", ops->name, i);
        if (seen && seen < atomic_load(&sh->raised_at))
            T_FAIL("%s: worker %u saw the raise before it happened", ops->name, i);
    }
}

/* Every call on a flag in the wrong state fails with -EBADF and says why. */
static void test_wrong_state(void)
{
    struct flag f = FLAG_INIT;
    f.ops = ops;
    T_EQ_INT(flag_attach(&f), -EBADF);
    T_STR_NONEMPTY(f.errstr);
    f.errstr[0] = '\0';
    T_EQ_INT(flag_raise(&f), -EBADF);
    T_STR_NONEMPTY(f.errstr);
    T_EQ_INT(flag_is_raised(&f), -EBADF);
    T_EQ_INT(flag_reset(&f), -EBADF);
    T_EQ_INT(flag_detach(&f), -EBADF);
    flag_close(&f); /* harmless on a closed flag */
    flag_close(&f);
}

static void test_lifecycle(void)
{
    T_EQ_INT(flag_open(&flag, ops, NULL), 0);
    T_EQ_INT(flag_open(&flag, ops, NULL), -EBUSY); /* open twice */
    T_STR_NONEMPTY(flag.errstr);
    T_EQ_INT(flag_raise(&flag), -EBADF); /* open but not attached */
    T_EQ_INT(flag_attach(&flag), 0);
    T_EQ_INT(flag_attach(&flag), -EBADF); /* attach twice */
    T_EQ_INT(check_both(&flag), 0);
    T_EQ_INT(flag_raise(&flag), 0);
    T_EQ_INT(check_both(&flag), shared_prop ? 1 : 0);
    T_EQ_INT(flag_raise(&flag), 0); /* idempotent */
    T_EQ_INT(check_both(&flag), shared_prop ? 1 : 0);
    T_EQ_INT(flag_reset(&flag), 0);
    T_EQ_INT(check_both(&flag), 0);
    T_EQ_INT(flag_detach(&flag), 0);
    T_EQ_INT(flag_detach(&flag), -EBADF);
    T_EQ_INT(flag_reset(&flag), 0); /* reset works while only open */
    flag_close(&flag);
    T_EQ_INT(flag.state, FLAG_CLOSED);
}

/* Raise seen by every forked worker, whoever raises; reset clears it for the next round. */
static void test_across_fork(void)
{
    T_EQ_INT(flag_open(&flag, ops, NULL), 0);
    run_workers(false); /* the parent raises; it stays attached */
    T_EQ_INT(check_both(&flag), shared_prop ? 1 : 0);
    T_EQ_INT(flag_reset(&flag), 0);
    T_EQ_INT(check_both(&flag), 0);
    T_EQ_INT(flag_detach(&flag), 0);
    run_workers(true); /* worker 0 raises, the others must stop */
    T_EQ_INT(check_both(&flag), shared_prop ? 1 : 0);
    T_EQ_INT(flag_reset(&flag), 0);
    flag_close(&flag);
}

/* A process that forks while attached hands its children an attached state; attaching again
 * there is refused, so a connection or descriptor is never silently shared across fork. */
static int attach_inherited(unsigned idx, void *arg)
{
    (void)idx, (void)arg;
    return flag_attach(&flag) == -EBADF ? 0 : 1;
}

static void test_inherited_attach_refused(void)
{
    T_EQ_INT(flag_open(&flag, ops, NULL), 0);
    T_EQ_INT(flag_attach(&flag), 0);
    struct ipc_pool pool;
    T_EQ_INT(ipc_pool_start(&pool, 1, attach_inherited, NULL, NULL, 0), 0);
    T_EQ_INT(ipc_pool_wait(&pool, 10000, NULL), 0);
    ipc_pool_destroy(&pool);
    flag_close(&flag);
}

/* The real worker loop stops early on a raise from elsewhere and counts its checks. */
static void test_search_stops(void)
{
    if (ops->fast == FLAG_FAST_NOCHECK || !shared_prop)
        return;
    T_EQ_INT(flag_open(&flag, ops, NULL), 0);
    T_EQ_INT(flag_attach(&flag), 0);
    T_EQ_INT(flag_raise(&flag), 0);
    _Atomic uint64_t raise_ns = 0;
    struct ipc_search s = {
        .n = 18446744073709551557u, /* prime: a full scan would take seconds */
        .range = {.lo = 3, .hi = UINT32_MAX},
        .check_every = 1000,
        .flag = &flag,
        .raise_ns = &raise_ns,
    };
    struct ipc_search_out out;
    ipc_search_run(&s, &out);
    T_TRUE(out.stopped);
    T_EQ_U64(out.checks, 1);
    T_EQ_U64(out.candidates, 1000);
    T_EQ_U64(out.factor, 0);
    T_EQ_INT(out.err, 0);
    flag_close(&flag);
}

/* Opening where nothing can be created fails cleanly: an error, no state, nothing left. */
static void test_open_failure(void)
{
    struct flag_config cfg = {.tmpdir = "/nonexistent/ipclab-conformance"};
    struct flag f = FLAG_INIT;
    int rc = flag_open(&f, ops, &cfg);
    if (rc < 0) {
        T_STR_NONEMPTY(f.errstr);
        T_EQ_INT(f.state, FLAG_CLOSED);
    } else {
        flag_close(&f); /* backends without files do not use tmpdir */
    }
}

/* locked: a worker that dies holding the lock must not hang everybody else. */
static int die_holding_lock(unsigned idx, void *arg)
{
    (void)idx, (void)arg;
    if (flag_attach(&flag) < 0 || flag_locked_lock(flag.word) < 0)
        return 2;
    _exit(0); /* exits with the robust mutex held */
}

static void test_owner_death(void)
{
    if (ops->fast != FLAG_FAST_MUTEX)
        return;
    T_EQ_INT(flag_open(&flag, ops, NULL), 0);
    struct ipc_pool pool;
    T_EQ_INT(ipc_pool_start(&pool, 1, die_holding_lock, NULL, NULL, 0), 0);
    T_EQ_INT(ipc_pool_wait(&pool, 10000, NULL), 0);
    ipc_pool_destroy(&pool);
    T_EQ_INT(flag_attach(&flag), 0);
    T_EQ_INT(check_both(&flag), 0); /* recovered, not deadlocked */
    T_EQ_INT(flag_raise(&flag), 0);
    T_EQ_INT(check_both(&flag), 1);
    flag_close(&flag);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: flag_conformance BACKEND\n");
        return 1;
    }
    ops = flag_backend_find(argv[1]);
    if (!ops) {
        fprintf(stderr, "no backend named '%s'\n", argv[1]);
        return 1;
    }
    char why[256];
    if (flag_probe(ops, why, sizeof why) < 0) {
        printf("skip: %s: %s\n", ops->name, why);
        return T_SKIP;
    }
    shared_prop = ops->props & FLAG_PROP_SHARED;
    T_TRUE(ops->open && ops->close && ops->probe);
    T_TRUE(ops->fast == FLAG_FAST_NOCHECK || ops->fast == FLAG_FAST_DISPATCH || ops->is_raised);

    /* Everything a backend creates goes under a private TMPDIR, which must end up empty. */
    char tmp[512];
    if (!t_private_tmpdir(tmp, sizeof tmp, "ipclab-conformance")) {
        perror("mkdtemp");
        return 1;
    }
    sh = ipc_shared_alloc(sizeof *sh);
    T_TRUE(sh != NULL);

    test_wrong_state();
    test_lifecycle();
    test_across_fork();
    test_inherited_attach_refused();
    test_search_stops();
    test_open_failure();
    test_owner_death();

    int left = t_count_entries(tmp);
    if (left != 0)
        T_FAIL("%s left %d entries in %s", ops->name, left, tmp);
    rmdir(tmp);
    ipc_shared_free(sh, sizeof *sh);
    return T_RESULT();
}
