/* SPDX-License-Identifier: MIT */
/* Find-primes: trial-division counts against a sieve and known values of pi(n) (edges 0..3
 * included), sieve segment boundaries, jobs that tile 1..N exactly once, the serial run, and
 * every usable queue transport giving the same count for several job sizes and worker counts,
 * with the jobs, messages and bytes the protocol implies. Takes an optional list of transports
 * (default: all registered). */
#include "test.h"

#include "ipc/cpu.h"
#include "ipc/find_primes.h"
#include "workloads/prime.h"

#include <errno.h>
#include <unistd.h>

static int cpus[1024];
static int ncpus;

/* pi(n), from the published tables. */
static const struct {
    uint64_t n, pi;
} known[] = {
    {0, 0},
    {1, 0},
    {2, 1},
    {3, 2},
    {4, 2},
    {5, 3},
    {10, 4},
    {100, 25},
    {1000, 168},
    {10000, 1229},
    {100000, 9592},
    {200000, 17984},
    {1000000, 78498},
    {10000000, 664579},
    {100000000, 5761455},
};

static void test_counts(void)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        T_EQ_U64(wl_count_primes_sieve(1, known[i].n), known[i].pi);
        T_EQ_U64(wl_count_primes_sieve(0, known[i].n), known[i].pi);
        if (known[i].n <= 200000)
            T_EQ_U64(wl_count_primes_trial(1, known[i].n), known[i].pi);
    }
    T_EQ_U64(wl_count_primes_trial(0, 0), 0);
    T_EQ_U64(wl_count_primes_trial(5, 4), 0); /* empty */
    T_EQ_U64(wl_count_primes_sieve(5, 4), 0);
    T_EQ_U64(wl_count_primes_trial(2, 2), 1);
    T_EQ_U64(wl_count_primes_sieve(2, 2), 1);
    T_EQ_U64(wl_count_primes_sieve(3, 3), 1);
    T_EQ_U64(wl_count_primes_sieve(4, 4), 0);
    T_EQ_U64(wl_count_primes_sieve(9, 9), 0); /* 3 x 3: a base prime's square */
    T_EQ_U64(wl_count_primes_sieve(1, WL_SIEVE_MAX + 1), UINT64_MAX);

    /* Ranges that start and end on either side of the sieve's 65536-number segments, and of
     * squares of primes, against trial division. */
    static const uint64_t edges[] = {1,      2,      3,      65535,  65536,  65537,  131071,
                                     131072, 131073, 196607, 196609, 250000, 250001, 251001};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        for (size_t j = i; j < sizeof edges / sizeof edges[0]; j++) {
            uint64_t s = wl_count_primes_sieve(edges[i], edges[j]);
            uint64_t t = wl_count_primes_trial(edges[i], edges[j]);
            if (s != t)
                T_FAIL("[%" PRIu64 ", %" PRIu64 "]: sieve %" PRIu64 ", trial %" PRIu64, edges[i],
                       edges[j], s, t);
        }
    }
    /* The top of the sieve's range, where the base primes reach isqrt(WL_SIEVE_MAX). */
    T_EQ_U64(wl_count_primes_sieve(WL_SIEVE_MAX - 3000, WL_SIEVE_MAX),
             wl_count_primes_trial(WL_SIEVE_MAX - 3000, WL_SIEVE_MAX));
    /* A range ending at 2^64 - 1 ends (and holds no prime: 2^64 - 2 is even, 2^64 - 1 is
     * divisible by 3). */
    T_EQ_U64(wl_count_primes_trial(UINT64_MAX - 1, UINT64_MAX), 0);
}

static void test_jobs(void)
{
    static const uint64_t ns[] = {0, 1, 2, 3, 10, 99, 100, 101, 1000, 12345};
    static const uint64_t js[] = {1, 2, 3, 7, 10, 99, 100, 101, 5000, 100000};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t b = 0; b < sizeof js / sizeof js[0]; b++) {
            uint64_t n = ns[a], J = js[b], jobs = ipc_fp_njobs(n, J);
            T_EQ_U64(jobs, (n + J - 1) / J);
            uint64_t next = 1;
            for (uint64_t i = 0; i < jobs; i++) {
                struct ipc_fp_job j = ipc_fp_job_at(n, J, i);
                if (j.lo != next || j.hi < j.lo || j.hi > n ||
                    (i + 1 < jobs && j.hi - j.lo + 1 != J)) {
                    T_FAIL("n %" PRIu64 ", J %" PRIu64 ", job %" PRIu64 ": [%" PRIu64 ", %" PRIu64
                           "], expected to start at %" PRIu64,
                           n, J, i, j.lo, j.hi, next);
                    break;
                }
                next = j.hi + 1;
            }
            T_EQ_U64(next, n + 1); /* every number once, none beyond n */
        }
    }
    T_EQ_U64(ipc_fp_njobs(IPC_FP_MAX_N, 1), IPC_FP_MAX_N);
    struct ipc_fp_job last = ipc_fp_job_at(IPC_FP_MAX_N, 3, ipc_fp_njobs(IPC_FP_MAX_N, 3) - 1);
    T_EQ_U64(last.hi, IPC_FP_MAX_N);
}

static void test_serial(void)
{
    static const uint64_t ns[] = {0, 1, 2, 3, 4, 10, 100, 1000, 99991, 200000};
    static const uint64_t js[] = {1, 3, 1000, 200000};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t b = 0; b < sizeof js / sizeof js[0]; b++) {
            if (ns[a] > 1000 && js[b] < 1000)
                continue; /* the same work, more slowly */
            struct ipc_fp_opts o = {.n = ns[a], .job_size = js[b]};
            struct ipc_fp_result r;
            char err[256];
            if (ipc_find_primes_run(&o, &r, err, sizeof err) < 0) {
                T_FAIL("serial n %" PRIu64 ": %s", ns[a], err);
                continue;
            }
            T_EQ_U64(r.primes, wl_count_primes_sieve(1, ns[a]));
            T_EQ_U64(r.jobs, ipc_fp_njobs(ns[a], js[b]));
            T_EQ_U64(r.messages, 0);
            T_EQ_U64(r.bytes, 0);
            T_EQ_U64(r.queue_ns, 0);
        }
    }
}

static void test_bad_options(void)
{
    struct ipc_fp_result r;
    char err[256];
    struct ipc_fp_opts o = {.n = IPC_FP_MAX_N + 1, .job_size = 1};
    T_EQ_INT(ipc_find_primes_run(&o, &r, err, sizeof err), -EINVAL);
    T_STR_NONEMPTY(err);
    o = (struct ipc_fp_opts){.n = 10, .job_size = 0};
    T_EQ_INT(ipc_find_primes_run(&o, &r, err, sizeof err), -EINVAL);
    const struct ipc_queue_ops *any = ipc_queue_transports[0];
    o = (struct ipc_fp_opts){.transport = any, .n = 10, .job_size = 1, .workers = 0};
    T_EQ_INT(ipc_find_primes_run(&o, &r, err, sizeof err), -EINVAL);
    o.workers = IPC_FP_MAX_WORKERS + 1;
    T_EQ_INT(ipc_find_primes_run(&o, &r, err, sizeof err), -EINVAL);
}

/* One transport: several job sizes and worker counts, counts against the sieve. Returns false
 * if the transport cannot run here (said on stderr). */
static bool test_transport(const struct ipc_queue_ops *ops, const char *tmp)
{
    char why[256];
    if (ipc_queue_probe(ops, why, sizeof why) < 0) {
        fprintf(stderr, "%s: not usable here, not tested: %s\n", ops->name, why);
        return false;
    }
    /* N small enough that one number per job stays quick on a server transport. */
    static const uint64_t ns[] = {0, 1, 3, 5000};
    static const uint64_t js[] = {1, 7, 1000, 5000};
    static const unsigned ws[] = {1, 2, 3};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t b = 0; b < sizeof js / sizeof js[0]; b++) {
            for (size_t c = 0; c < sizeof ws / sizeof ws[0]; c++) {
                if (ns[a] < 5000 && (b > 1 || c == 1))
                    continue; /* the edge cases: a few combinations are enough */
                struct ipc_fp_opts o = {
                    .transport = ops,
                    .n = ns[a],
                    .job_size = js[b],
                    .workers = ws[c],
                    .cpus = c == 1 ? cpus : NULL, /* pinned and not */
                    .ncpus = c == 1 ? ncpus : 0,
                    .timeout_ms = 60000, /* a hang fails the test instead of stalling it */
                };
                struct ipc_fp_result r;
                char err[256];
                if (ipc_find_primes_run(&o, &r, err, sizeof err) < 0) {
                    T_FAIL("%s, n %" PRIu64 ", J %" PRIu64 ", %u workers: %s", ops->name, ns[a],
                           js[b], ws[c], err);
                    continue;
                }
                uint64_t jobs = ipc_fp_njobs(ns[a], js[b]);
                if (r.primes != wl_count_primes_sieve(1, ns[a]))
                    T_FAIL("%s, n %" PRIu64 ", J %" PRIu64 ", %u workers: %" PRIu64
                           " primes, expected %" PRIu64,
                           ops->name, ns[a], js[b], ws[c], r.primes,
                           wl_count_primes_sieve(1, ns[a]));
                T_EQ_U64(r.jobs, jobs);
                T_EQ_U64(r.stats.results, jobs);
                T_EQ_U64(r.stats.lost, 0);
                T_EQ_U64(r.stats.confirmed, ws[c]);
                T_EQ_U64(r.messages, 2 * jobs + 2 * ws[c]);
                T_EQ_U64(r.bytes, jobs * (IPC_FP_JOB_BYTES + IPC_FP_RESULT_BYTES));
                T_TRUE(r.wall_ns >= r.queue_ns);
                int left = t_count_entries(tmp);
                if (left != 0)
                    T_FAIL("%s: %d entries left in %s", ops->name, left, tmp);
            }
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    char tmp[512];
    if (!t_private_tmpdir(tmp, sizeof tmp, "find-primes-test")) {
        perror("private TMPDIR");
        return 1;
    }
    int n = ipc_cpu_allowed(cpus, 1024);
    ncpus = n > 0 ? n : 0;
    test_counts();
    test_jobs();
    test_serial();
    test_bad_options();
    unsigned usable = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            const struct ipc_queue_ops *ops = ipc_queue_find(argv[i]);
            if (!ops)
                T_FAIL("no transport named %s", argv[i]);
            else
                usable += test_transport(ops, tmp);
        }
    } else {
        for (size_t i = 0; i < ipc_queue_transport_count; i++)
            usable += test_transport(ipc_queue_transports[i], tmp);
    }
    if (usable == 0)
        fprintf(stderr, "no queue transport usable here: only the serial path was tested\n");
    int left = t_count_entries(tmp);
    if (left != 0)
        T_FAIL("%d entries left in %s", left, tmp);
    else
        rmdir(tmp);
    return T_RESULT();
}
