/* SPDX-License-Identifier: MIT */
/* The verification harness end to end with one backend (argv[1]): every strategy, several
 * worker counts and check intervals, answers checked against serial trial division, and the
 * accounting (candidates, checks, stop latency) checked for consistency. */
#include "test.h"

#include "ipc/verify.h"
#include "workloads/prime.h"

#include <unistd.h>

static const struct flag_ops *ops;
static bool shared_prop;

/* 3 x the largest prime below 2^64/3: factor 3 sits at the start of worker 0's range, and a
 * worker that never saw the raise would try about 2^30 candidates (seconds). */
static const uint64_t STOP_EARLY_N = 18446744073709551597u;

static const uint64_t numbers[] = {
    0,
    1,
    2,
    3,
    4,
    5,
    8,
    9,
    15,
    25,
    27,
    49,
    97,
    121,
    169,
    221,
    1009,
    1024,
    7919,
    999983,                  /* prime */
    1000003ull * 999983ull,  /* two primes near 1e6: the factor is deep in the range */
    1000003ull * 1000003ull, /* a prime square: the factor is the last candidate */
    4294967291ull * 3,
    112272535095295ull, /* the chapter's first number */
    1099511627689ull,   /* prime near 2^40 */
    UINT64_MAX,         /* 3 * 5 * 17 * ... */
};
#define NNUMBERS (sizeof numbers / sizeof numbers[0])

static void check_one(const struct ipc_verify *v, const struct ipc_verify_result *r, uint64_t n)
{
    uint64_t want_factor;
    bool want_prime = wl_is_prime_serial(n, &want_factor);
    const char *s = ipc_strategy_name(v->opts.strategy);
    unsigned w = v->opts.workers;
    uint64_t k = v->opts.check_every;
    if (r->prime != want_prime)
        T_FAIL("%s/%s/w%u/k%" PRIu64 ": %" PRIu64 " reported %s", ops->name, s, w, k, n,
               r->prime ? "prime" : "composite");
    if (!want_prime && n >= 2 && (r->factor < 2 || r->factor >= n || n % r->factor))
        T_FAIL("%s/%s/w%u/k%" PRIu64 ": %" PRIu64 ": factor %" PRIu64 " is wrong", ops->name, s, w,
               k, n, r->factor);
    if (n < 2 && r->factor != 0)
        T_FAIL("%" PRIu64 " must have no factor, got %" PRIu64, n, r->factor);
    if (v->opts.strategy == IPC_STRATEGY_SERIAL && r->factor != want_factor)
        T_FAIL("serial must report the smallest factor of %" PRIu64 ": %" PRIu64 " not %" PRIu64, n,
               r->factor, want_factor);
    /* Candidates: never more than all of them; exactly all of them when nothing stops early. */
    uint64_t all = (n > 2 ? 1 : 0) + (n % 2 ? wl_range_count(wl_prime_candidates(n, 3)) : 0);
    if (r->candidates > all)
        T_FAIL("%" PRIu64 ": %" PRIu64 " candidates, but only %" PRIu64 " exist", n, r->candidates,
               all);
    if (want_prime && r->candidates != all)
        T_FAIL("%s/%s: prime %" PRIu64 ": tried %" PRIu64 " of %" PRIu64 " candidates", ops->name,
               s, n, r->candidates, all);
    if (ops->fast == FLAG_FAST_NOCHECK) {
        T_EQ_U64(r->checks, 0);
        T_EQ_INT(r->stop_latency_ns, -1);
    }
    if (r->checks > r->candidates / k + r->processes + 1)
        T_FAIL("%" PRIu64 ": %" PRIu64 " checks for %" PRIu64 " candidates every %" PRIu64, n,
               r->checks, r->candidates, k);
    if (r->stop_latency_ns >= 0 && r->factor == 0)
        T_FAIL("%" PRIu64 ": a stop latency without a factor", n);
    T_TRUE(r->wall_ns > 0 || n < 2);
}

static void run_config(enum ipc_strategy s, unsigned workers, uint64_t every)
{
    struct flag f = FLAG_INIT;
    if (flag_open(&f, ops, NULL) < 0) {
        T_FAIL("open %s: %s", ops->name, f.errstr);
        return;
    }
    static const int cpus[] = {0, 1};
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    struct ipc_verify_opts o = {
        .strategy = s,
        .workers = workers,
        .check_every = every,
        .serial_cutoff = 21,
        .cpus = online >= 2 ? cpus : NULL,
        .ncpus = online >= 2 ? 2 : 0,
    };
    struct ipc_verify v;
    if (ipc_verify_init(&v, &f, &o) < 0) {
        T_FAIL("init: %s", v.errstr);
        flag_close(&f);
        return;
    }
    if (ops->fast != FLAG_FAST_NOCHECK && !(v.check_cost_ns > 0))
        T_FAIL("%s: calibrated check cost %.3f ns", ops->name, v.check_cost_ns);
    for (size_t i = 0; i < NNUMBERS; i++) {
        /* Without a shared flag a pool scans all of a 2^64 number's 2^31 candidates: seconds
         * per number, already covered by the serial strategy and the CLI test. */
        if (!shared_prop && s != IPC_STRATEGY_SERIAL && numbers[i] > (1ull << 40))
            continue;
        /* Checking every few candidates a number with 5e5 of them costs 5e5 round trips on a
         * server backend (20 us each across cores): small intervals get small numbers. */
        if (every < 1000 && numbers[i] > (1ull << 32))
            continue;
        struct ipc_verify_result r;
        if (ipc_verify_number(&v, numbers[i], &r) < 0) {
            T_FAIL("%s: verify %" PRIu64 ": %s", ops->name, numbers[i], v.errstr);
            continue;
        }
        check_one(&v, &r, numbers[i]);
    }
    ipc_verify_fini(&v);
    flag_close(&f);
}

/* A raise stops the other workers: far fewer candidates than a full scan, and a stop latency. */
static void test_stop_early(enum ipc_strategy s)
{
    if (!shared_prop || ops->fast == FLAG_FAST_NOCHECK)
        return;
    struct flag f = FLAG_INIT;
    T_EQ_INT(flag_open(&f, ops, NULL), 0);
    struct ipc_verify_opts o = {
        .strategy = s, .workers = 2, .check_every = 1000, .serial_cutoff = 1};
    struct ipc_verify v;
    T_EQ_INT(ipc_verify_init(&v, &f, &o), 0);
    struct ipc_verify_result r;
    T_EQ_INT(ipc_verify_number(&v, STOP_EARLY_N, &r), 0);
    T_EQ_U64(r.factor, 3);
    T_TRUE(!r.prime);
    uint64_t half = wl_range_count(wl_prime_candidates(STOP_EARLY_N, 3)) / 2;
    if (r.candidates >= half / 100)
        T_FAIL("%s: %" PRIu64 " candidates tried; the raise should have stopped worker 1 long "
               "before %" PRIu64,
               ops->name, r.candidates, half / 100);
    T_TRUE(r.stop_latency_ns >= 0);
    T_TRUE(r.checks >= 1);
    T_EQ_U64(r.processes, 2);
    ipc_verify_fini(&v);
    flag_close(&f);
}

int main(int argc, char **argv)
{
    if (argc != 2 || !(ops = flag_backend_find(argv[1]))) {
        fprintf(stderr, "usage: verify_test BACKEND\n");
        return 1;
    }
    char why[256];
    if (flag_probe(ops, why, sizeof why) < 0) {
        printf("skip: %s: %s\n", ops->name, why);
        return T_SKIP;
    }
    shared_prop = ops->props & FLAG_PROP_SHARED;
    char tmp[512];
    if (!t_private_tmpdir(tmp, sizeof tmp, "ipclab-verify-test")) {
        perror("mkdtemp");
        return 1;
    }

    const enum ipc_strategy strategies[] = {IPC_STRATEGY_SERIAL, IPC_STRATEGY_POOL,
                                            IPC_STRATEGY_LESS_NAIVE};
    const unsigned workers[] = {1, 2, 3, 5};
    const uint64_t every[] = {1, 7, 1000};
    for (size_t si = 0; si < 3; si++)
        for (size_t wi = 0; wi < sizeof workers / sizeof workers[0]; wi++)
            for (size_t ki = 0; ki < sizeof every / sizeof every[0]; ki++) {
                if (strategies[si] == IPC_STRATEGY_SERIAL && wi > 0)
                    continue; /* workers do not matter */
                run_config(strategies[si], workers[wi], every[ki]);
            }
    test_stop_early(IPC_STRATEGY_POOL);
    test_stop_early(IPC_STRATEGY_LESS_NAIVE);

    if (t_count_entries(tmp) != 0)
        T_FAIL("%s left files in %s", ops->name, tmp);
    rmdir(tmp);
    return T_RESULT();
}
