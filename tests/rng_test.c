/* SPDX-License-Identifier: MIT */
/* The generators against their published reference outputs, and the seeding trap for real:
 * forked workers that inherit a seeded generator draw identical streams, per-worker seeding
 * and jumping give distinct ones; the thread throughput run draws exactly the right numbers. */
#include "test.h"

#include "ipc/cpu.h"
#include "ipc/rng.h"
#include "workloads/rng.h"

#include <errno.h>

static int allowed[IPC_RNG_MAX_WORKERS];
static int nallowed;

/* The reference outputs of xoshiro256** from the state {1, 2, 3, 4}, as produced by the
 * authors' xoshiro256starstar.c (they are the test vectors of Rust's rand_xoshiro). */
static void test_xoshiro_reference(void)
{
    static const uint64_t want[] = {
        11520u,
        0u,
        1509978240u,
        1215971899390074240u,
        1216172134540287360u,
        607988272756665600u,
        16172922978634559625u,
        8476171486693032832u,
        10595114339597558777u,
        2904607092377533576u,
    };
    struct wl_xoshiro g;
    wl_xoshiro_set_state(&g, 1, 2, 3, 4);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        T_EQ_U64(wl_xoshiro_next(&g), want[i]);
}

/* The splitmix64 stream from seeds 0 and 1234567 (the values Vigna's splitmix64.c gives). */
static void test_splitmix64_reference(void)
{
    uint64_t st = 0;
    T_EQ_U64(wl_splitmix64_next(&st), 0xe220a8397b1dcdafu);
    T_EQ_U64(wl_splitmix64_next(&st), 0x6e789e6aa1b965f4u);
    T_EQ_U64(wl_splitmix64_next(&st), 0x06c45d188009454fu);
    st = 1234567;
    T_EQ_U64(wl_splitmix64_next(&st), 6457827717110365317u);
    T_EQ_U64(wl_splitmix64_next(&st), 3203168211198807973u);
    T_EQ_U64(wl_splitmix64_next(&st), 9817491932198370423u);
}

/* Seeding through splitmix64 (s[i] = its i-th output): seed 42 starts with these outputs, the
 * same as every other implementation of the recommended seeding. */
static void test_seeding_reference(void)
{
    struct wl_xoshiro g;
    wl_xoshiro_seed(&g, 42);
    T_EQ_U64(wl_xoshiro_next(&g), 1546998764402558742u);
    T_EQ_U64(wl_xoshiro_next(&g), 6990951692964543102u);
    T_EQ_U64(wl_xoshiro_next(&g), 12544586762248559009u);
    /* The all-zero state is refused (it would output zeros for ever). */
    wl_xoshiro_set_state(&g, 0, 0, 0, 0);
    T_TRUE((g.s[0] | g.s[1] | g.s[2] | g.s[3]) != 0);
}

/*
 * The jump from the state {0, 0, 0, 1}: the state the authors' C code reaches, as recorded
 * by a test suite that runs it (xoshiro-fortran's C/Fortran comparison). The linear engine,
 * and so the jump, is the same for xoshiro256+, ++ and **.
 */
static void test_jump_reference(void)
{
    struct wl_xoshiro g;
    wl_xoshiro_set_state(&g, 0, 0, 0, 1);
    wl_xoshiro_jump(&g);
    T_EQ_U64(g.s[0], 0x934d05e8b2076310u);
    T_EQ_U64(g.s[1], 0xeabdd0bf76a1be51u);
    T_EQ_U64(g.s[2], 0x75dd6a992accb1e8u);
    T_EQ_U64(g.s[3], 0xc660c602a7330187u);
}

/* A jumped generator draws a stream that shares nothing with the unjumped one. */
static void test_jump_differs(void)
{
    enum { N = 2000 };
    static uint64_t a[N], b[N];
    struct wl_xoshiro g, j;
    wl_xoshiro_seed(&g, 42);
    j = g;
    wl_xoshiro_jump(&j);
    T_TRUE(memcmp(&g, &j, sizeof g) != 0);
    for (int i = 0; i < N; i++) {
        a[i] = wl_xoshiro_next(&g);
        b[i] = wl_xoshiro_next(&j);
    }
    /* 2^128 outputs apart, so not even a shifted copy: no value of one appears in the other
     * (a chance collision among 4 million 64-bit pairs has probability about 2^-42). */
    int common = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
            common += a[i] == b[k];
    T_EQ_INT(common, 0);
    /* Jumping twice is not jumping once. */
    struct wl_xoshiro j2;
    wl_xoshiro_seed(&j2, 42);
    wl_xoshiro_jump(&j2);
    wl_xoshiro_jump(&j2);
    T_TRUE(wl_xoshiro_next(&j2) != b[0]);
}

static void test_seed_derive(void)
{
    enum { N = 1000 };
    static uint64_t seen[N];
    for (unsigned i = 0; i < N; i++) {
        seen[i] = wl_seed_derive(42, i, 4242);
        for (unsigned k = 0; k < i; k++)
            if (seen[k] == seen[i])
                T_FAIL("wl_seed_derive(42, %u, 4242) == wl_seed_derive(42, %u, 4242)", i, k);
    }
    T_TRUE(wl_seed_derive(42, 0, 1) != wl_seed_derive(42, 0, 2));
    T_TRUE(wl_seed_derive(42, 1, 2) != wl_seed_derive(42, 2, 1));
    T_TRUE(wl_seed_derive(1, 2, 3) != wl_seed_derive(2, 1, 3));
    T_EQ_U64(wl_seed_derive(7, 8, 9), wl_seed_derive(7, 8, 9));
}

static void test_names(void)
{
    for (int s = 0; s < WL_SEEDING_COUNT; s++) {
        enum wl_seeding got;
        T_EQ_INT(wl_seeding_parse(wl_seeding_name((enum wl_seeding)s), &got), 0);
        T_EQ_INT(got, s);
    }
    enum wl_seeding got;
    T_EQ_INT(wl_seeding_parse("Inherited", &got), -1);
    T_EQ_INT(wl_seeding_parse("", &got), -1);
    T_TRUE(wl_seeding_name((enum wl_seeding)WL_SEEDING_COUNT) == NULL);
    for (int m = 0; m < IPC_RNG_MODES; m++) {
        enum ipc_rng_mode mode;
        T_EQ_INT(ipc_rng_mode_parse(ipc_rng_mode_name((enum ipc_rng_mode)m), &mode), 0);
        T_EQ_INT(mode, m);
    }
    enum ipc_rng_mode mode;
    T_EQ_INT(ipc_rng_mode_parse("locked", &mode), -1);
}

/* Row i of a streams result. */
static const uint64_t *row(const struct ipc_rng_streams *s, unsigned i)
{
    return s->values + (size_t)i * s->count;
}

/* Pairs of identical rows, counted here the slow way, independently of the code under test. */
static uint64_t identical_pairs(const struct ipc_rng_streams *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < s->workers; i++)
        for (unsigned k = i + 1; k < s->workers; k++)
            n += memcmp(row(s, i), row(s, k), s->count * sizeof(uint64_t)) == 0;
    return n;
}

/* Does row i equal the first count outputs of g? */
static int row_is_stream(const struct ipc_rng_streams *s, unsigned i, struct wl_xoshiro g)
{
    for (uint64_t k = 0; k < s->count; k++)
        if (row(s, i)[k] != wl_xoshiro_next(&g))
            return 0;
    return 1;
}

static void run_streams(enum wl_seeding seeding, unsigned workers, uint64_t count, uint64_t seed,
                        struct ipc_rng_streams *s)
{
    struct ipc_rng_streams_opts o = {
        .seeding = seeding,
        .workers = workers,
        .count = count,
        .seed = seed,
        .cpus = allowed,
        .ncpus = nallowed,
    };
    char err[256] = "";
    int rc = ipc_rng_streams_run(&o, s, err, sizeof err);
    if (rc != 0) {
        T_FAIL("%s, %u workers: %s", wl_seeding_name(seeding), workers, err);
        memset(s, 0, sizeof *s);
    }
}

static void test_streams(unsigned workers, uint64_t count, uint64_t seed)
{
    struct wl_xoshiro parent;
    wl_xoshiro_seed(&parent, seed);
    uint64_t pairs = (uint64_t)workers * (workers - 1) / 2;

    /* The trap: every forked worker draws the parent's stream. */
    struct ipc_rng_streams s;
    run_streams(WL_SEEDING_INHERITED, workers, count, seed, &s);
    if (s.values) {
        T_EQ_U64(s.pairs, pairs);
        T_EQ_U64(s.identical_pairs, pairs);
        T_EQ_U64(identical_pairs(&s), pairs);
        T_EQ_INT(s.distinct_streams, 1);
        for (unsigned i = 0; i < workers; i++)
            if (!row_is_stream(&s, i, parent))
                T_FAIL("inherited: worker %u did not draw the parent's stream", i);
        /* They really were different processes. */
        for (unsigned i = 0; i < workers; i++)
            for (unsigned k = i + 1; k < workers; k++)
                if (s.pids[i] == s.pids[k] || s.pids[i] <= 0)
                    T_FAIL("inherited: workers %u and %u share pid %d", i, k, (int)s.pids[i]);
        ipc_rng_streams_free(&s);
    }

    /* Per-worker seeding: the seed mixed with the index and the worker's own pid. */
    run_streams(WL_SEEDING_PER_WORKER, workers, count, seed, &s);
    if (s.values) {
        T_EQ_U64(s.identical_pairs, 0);
        T_EQ_U64(identical_pairs(&s), 0);
        T_EQ_INT(s.distinct_streams, workers);
        for (unsigned i = 0; i < workers; i++) {
            struct wl_xoshiro g;
            wl_xoshiro_seed(&g, wl_seed_derive(seed, i, (uint64_t)s.pids[i]));
            if (!row_is_stream(&s, i, g))
                T_FAIL("per-worker: worker %u's stream is not its derived seed's", i);
            if (row_is_stream(&s, i, parent))
                T_FAIL("per-worker: worker %u drew the parent's stream", i);
        }
        ipc_rng_streams_free(&s);
    }

    /* Jump: worker i draws the parent's stream jumped i times. */
    run_streams(WL_SEEDING_JUMP, workers, count, seed, &s);
    if (s.values) {
        T_EQ_U64(s.identical_pairs, 0);
        T_EQ_U64(identical_pairs(&s), 0);
        T_EQ_INT(s.distinct_streams, workers);
        struct wl_xoshiro g = parent;
        for (unsigned i = 0; i < workers; i++) {
            if (!row_is_stream(&s, i, g))
                T_FAIL("jump: worker %u's stream is not the parent's jumped %u times", i, i);
            wl_xoshiro_jump(&g);
        }
        ipc_rng_streams_free(&s);
    }
}

static void test_streams_bad_options(void)
{
    struct ipc_rng_streams s;
    char err[256];
    struct ipc_rng_streams_opts o = {.workers = 0, .count = 10};
    T_EQ_INT(ipc_rng_streams_run(&o, &s, err, sizeof err), -EINVAL);
    T_STR_NONEMPTY(err);
    o.workers = IPC_RNG_MAX_WORKERS + 1;
    T_EQ_INT(ipc_rng_streams_run(&o, &s, err, sizeof err), -EINVAL);
    o.workers = 2;
    o.count = 0;
    T_EQ_INT(ipc_rng_streams_run(&o, &s, err, sizeof err), -EINVAL);
    o.count = IPC_RNG_MAX_COUNT;
    o.workers = IPC_RNG_MAX_WORKERS; /* 256 million outputs: over the product limit */
    T_EQ_INT(ipc_rng_streams_run(&o, &s, err, sizeof err), -EINVAL);
    o.workers = 2;
    o.seeding = (enum wl_seeding)WL_SEEDING_COUNT;
    T_EQ_INT(ipc_rng_streams_run(&o, &s, err, sizeof err), -EINVAL);
}

static uint64_t stream_sum(struct wl_xoshiro g, uint64_t n)
{
    uint64_t sum = 0;
    for (uint64_t k = 0; k < n; k++)
        sum += wl_xoshiro_next(&g);
    return sum;
}

static void test_throughput(enum ipc_rng_mode mode, unsigned threads, uint64_t numbers)
{
    struct ipc_rng_throughput_opts o = {
        .mode = mode,
        .threads = threads,
        .numbers = numbers,
        .seed = 7,
        .cpus = allowed,
        .ncpus = nallowed,
    };
    struct ipc_rng_throughput_result r;
    char err[256] = "";
    if (ipc_rng_throughput_run(&o, &r, err, sizeof err) != 0) {
        T_FAIL("%s, %u threads: %s", ipc_rng_mode_name(mode), threads, err);
        return;
    }
    T_EQ_U64(r.numbers, (uint64_t)threads * numbers);
    T_TRUE(r.wall_ns > 0);
    struct wl_xoshiro g;
    wl_xoshiro_seed(&g, 7);
    uint64_t want = 0;
    if (mode == IPC_RNG_LOCKED_SHARED) {
        /* Every output of the shared generator was drawn exactly once, whoever drew it. */
        want = stream_sum(g, (uint64_t)threads * numbers);
    } else {
        for (unsigned i = 0; i < threads; i++) {
            want += stream_sum(g, numbers);
            wl_xoshiro_jump(&g);
        }
    }
    if (r.checksum != want)
        T_FAIL("%s, %u threads x %" PRIu64 ": checksum %" PRIu64 ", expected %" PRIu64,
               ipc_rng_mode_name(mode), threads, numbers, r.checksum, want);
}

static void test_throughput_bad_options(void)
{
    struct ipc_rng_throughput_result r;
    char err[256];
    struct ipc_rng_throughput_opts o = {.threads = 0, .numbers = 10};
    T_EQ_INT(ipc_rng_throughput_run(&o, &r, err, sizeof err), -EINVAL);
    o.threads = IPC_RNG_MAX_THREADS + 1;
    T_EQ_INT(ipc_rng_throughput_run(&o, &r, err, sizeof err), -EINVAL);
    o.threads = 1;
    o.numbers = 0;
    T_EQ_INT(ipc_rng_throughput_run(&o, &r, err, sizeof err), -EINVAL);
    o.numbers = (uint64_t)IPC_RNG_MAX_NUMBERS + 1;
    T_EQ_INT(ipc_rng_throughput_run(&o, &r, err, sizeof err), -EINVAL);
}

int main(void)
{
    nallowed = ipc_cpu_allowed(allowed, IPC_RNG_MAX_WORKERS);
    if (nallowed < 1) {
        fprintf(stderr, "cannot read this process's CPUs\n");
        return 1;
    }
    test_xoshiro_reference();
    test_splitmix64_reference();
    test_seeding_reference();
    test_jump_reference();
    test_jump_differs();
    test_seed_derive();
    test_names();
    test_streams(4, 1000, 42);
    test_streams(2, 1, 0);
    test_streams(16, 64, UINT64_MAX);
    test_streams_bad_options();
    for (int m = 0; m < IPC_RNG_MODES; m++) {
        test_throughput((enum ipc_rng_mode)m, 1, 1000);
        test_throughput((enum ipc_rng_mode)m, 2, 50000);
        test_throughput((enum ipc_rng_mode)m, 5, 20000);
    }
    test_throughput_bad_options();
    return T_RESULT();
}
