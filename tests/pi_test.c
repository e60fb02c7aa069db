/* SPDX-License-Identifier: MIT */
/* Pi by Monte Carlo: the generator is splitmix64, both kernels see the same samples, the
 * estimate converges, every mode gives the same estimate for the same seed and split, the
 * emulated GIL lets one thread compute at a time and does hand over, and bad options and
 * unusable CPUs are errors that leave nothing behind. */
#include "test.h"

#include "ipc/cpu.h"
#include "ipc/pi.h"
#include "ipc/topology.h"
#include "workloads/pi.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>

static int cpus[1024];
static int ncpus;
static struct ipc_topology topo;

/* splitmix64 as published with xoshiro (prng.di.unimi.it/splitmix64.c), written out again. */
static uint64_t ref_next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The reference count: x and y from consecutive draws, top 52 bits as a fraction, by division
 * rather than the kernels' exponent trick. */
static uint64_t ref_count(uint64_t state, uint64_t n)
{
    uint64_t in = 0;
    for (uint64_t i = 0; i < n; i++) {
        double x = (double)(ref_next(&state) >> 12) / 4503599627370496.0;
        double y = (double)(ref_next(&state) >> 12) / 4503599627370496.0;
        in += x * x + y * y <= 1.0;
    }
    return in;
}

static void test_topology(void)
{
    T_TRUE(topo.physical_cores >= 1);
    T_TRUE(topo.logical_cpus >= 1);
    if (topo.physical_cores > topo.logical_cpus)
        T_FAIL("physical_cores %d > logical_cpus %d", topo.physical_cores, topo.logical_cpus);
    T_TRUE(topo.source && topo.source[0]);
}

static void test_generator(void)
{
    /* The published first outputs from state 0. */
    uint64_t x = 0;
    T_EQ_U64(ref_next(&x), 0xe220a8397b1dcdafull);
    T_EQ_U64(ref_next(&x), 0x6e789e6aa1b965f4ull);

    for (uint64_t start = 0; start < 3; start++) {
        struct wl_pi_stream s = {.state = start * 0x0123456789abcdefull};
        T_EQ_U64(wl_pi_count_each(&s, 5000), ref_count(start * 0x0123456789abcdefull, 5000));
        /* Two draws per sample. */
        T_EQ_U64(s.state, start * 0x0123456789abcdefull + 10000 * 0x9e3779b97f4a7c15ull);
    }

    /* Workers' streams start apart, and a seed is not the previous one shifted by a draw. */
    for (unsigned w = 1; w < WL_PI_MAX_WORKERS; w++)
        T_TRUE(wl_pi_stream(7, w).state != wl_pi_stream(7, w - 1).state);
    struct wl_pi_stream a = wl_pi_stream(1, 0), b = wl_pi_stream(2, 0);
    T_TRUE(b.state - a.state != 0x9e3779b97f4a7c15ull);
    T_TRUE(a.state - b.state != 0x9e3779b97f4a7c15ull);
}

static void test_batch_equals_each(void)
{
    static const uint64_t ns[] = {
        0, 1, 2, WL_PI_BLOCK - 1, WL_PI_BLOCK, WL_PI_BLOCK + 1, 3 * WL_PI_BLOCK + 17, 100000};
    for (uint64_t seed = 0; seed < 4; seed++) {
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            struct wl_pi_stream e = wl_pi_stream(seed, (unsigned)i);
            struct wl_pi_stream b = e;
            uint64_t ce = wl_pi_count_each(&e, ns[i]);
            uint64_t cb = wl_pi_count_batch(&b, ns[i]);
            if (ce != cb || e.state != b.state)
                T_FAIL("seed %" PRIu64 ", n %" PRIu64 ": each %" PRIu64 " vs batch %" PRIu64
                       ", states %" PRIx64 " vs %" PRIx64,
                       seed, ns[i], ce, cb, e.state, b.state);
            if (ns[i] > 0 && ce > ns[i])
                T_FAIL("%" PRIu64 " inside of %" PRIu64, ce, ns[i]);
        }
    }
    /* Continuing a stream across calls draws the same numbers as one long call. */
    struct wl_pi_stream one = wl_pi_stream(9, 3), two = one;
    uint64_t whole = wl_pi_count_batch(&one, 50000);
    uint64_t parts = wl_pi_count_each(&two, 12345);
    parts += wl_pi_count_batch(&two, 50000 - 12345);
    T_EQ_U64(parts, whole);
    T_EQ_U64(two.state, one.state);
}

static void test_share(void)
{
    static const uint64_t samples[] = {1, 2, 7, 255, 256, 1000003, WL_PI_MAX_SAMPLES};
    static const unsigned workers[] = {1, 2, 3, 7, 255, 256};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        for (size_t j = 0; j < sizeof workers / sizeof workers[0]; j++) {
            uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
            for (unsigned w = 0; w < workers[j]; w++) {
                uint64_t s = wl_pi_share(samples[i], workers[j], w);
                sum += s;
                lo = s < lo ? s : lo;
                hi = s > hi ? s : hi;
            }
            T_EQ_U64(sum, samples[i]);
            T_TRUE(hi - lo <= 1);
        }
    }
}

static struct ipc_pi_opts opts(enum wl_pi_mode m, unsigned workers, uint64_t samples, bool batch,
                               uint64_t seed)
{
    return (struct ipc_pi_opts){
        .mode = m,
        .workers = workers,
        .samples = samples,
        .batch = batch,
        .seed = seed,
        .gil_interval = 4096,
        .cpus = cpus,
        .ncpus = ncpus,
    };
}

static bool run(const struct ipc_pi_opts *o, struct ipc_pi_result *r)
{
    char err[256];
    int rc = ipc_pi_run(o, r, err, sizeof err);
    if (rc < 0)
        T_FAIL("%s, %u workers, %" PRIu64 " samples: %s (%d)", wl_pi_mode_name(o->mode), o->workers,
               o->samples, err, rc);
    return rc == 0;
}

/* |estimate - pi| within 5 standard deviations of the binomial count: 4 sqrt(p(1-p)/S),
 * p = pi/4, about 0.0082 for S = 10^6. A correct estimator fails this once in 1.7 million
 * runs; a biased or degenerate generator fails it at once. */
static void test_converges(void)
{
    const uint64_t S = 1000000;
    double p = M_PI / 4, bound = 5 * 4 * sqrt(p * (1 - p) / (double)S);
    double first = NAN;
    bool differs = false;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        struct ipc_pi_opts o = opts(WL_PI_PROCESSES, 2, S, seed & 1, seed);
        struct ipc_pi_result r;
        if (!run(&o, &r))
            continue;
        if (fabs(r.pi - M_PI) > bound)
            T_FAIL("seed %" PRIu64 ": estimate %.6f is %.6f from pi, bound %.6f", seed, r.pi,
                   fabs(r.pi - M_PI), bound);
        T_TRUE(r.pi == 4.0 * (double)r.inside / (double)S);
        if (first != first)
            first = r.pi;
        else if (r.pi != first)
            differs = true;
    }
    /* A generator that ignored the seed would give one estimate for all five. */
    T_TRUE(differs);
}

/*
 * By design the estimate depends on (seed, workers, samples) only: worker i always draws
 * wl_pi_stream(seed, i) for wl_pi_share(samples, workers, i) samples, whichever mode runs it
 * (serial computes the same shares one after another), with or without batch and pinning.
 * Checked against the same sum computed here, share by share.
 */
static void test_modes_agree(void)
{
    const uint64_t S = 1000003, seed = 42;
    unsigned over = 2 * (unsigned)topo.logical_cpus + 1; /* beyond the cores */
    const unsigned workers[] = {1, 2, 3, 5, over};
    for (size_t j = 0; j < sizeof workers / sizeof workers[0]; j++) {
        unsigned w = workers[j];
        uint64_t want = 0;
        for (unsigned i = 0; i < w; i++) {
            struct wl_pi_stream s = wl_pi_stream(seed, i);
            want += wl_pi_count_each(&s, wl_pi_share(S, w, i));
        }
        for (int m = 0; m < WL_PI_NMODES; m++) {
            for (int variant = 0; variant < 3; variant++) {
                struct ipc_pi_opts o = opts((enum wl_pi_mode)m, w, S, variant & 1, seed);
                if (variant == 2) { /* not pinned */
                    o.cpus = NULL;
                    o.ncpus = 0;
                }
                struct ipc_pi_result r;
                if (!run(&o, &r))
                    continue;
                if (r.inside != want)
                    T_FAIL("%s, %u workers, batch %d, pinned %d: inside %" PRIu64
                           ", expected %" PRIu64,
                           wl_pi_mode_name(o.mode), w, o.batch, o.cpus != NULL, r.inside, want);
            }
        }
    }
    /* Fewer samples than workers: the extra workers draw nothing. */
    struct ipc_pi_opts o = opts(WL_PI_THREADS, 5, 3, false, seed);
    struct ipc_pi_result r;
    if (run(&o, &r))
        T_TRUE(r.inside <= 3);
}

/* The lock serialises: at no moment do two threads compute (the run's instrument counts any
 * acquisition made while another thread was still inside), every interval is one acquisition,
 * and with several threads the lock does change hands. */
static void test_gil(void)
{
    const unsigned workers[] = {2, 4, 2 * (unsigned)topo.logical_cpus + 1};
    for (size_t j = 0; j < sizeof workers / sizeof workers[0]; j++) {
        for (int pinned = 0; pinned <= 1; pinned++) {
            unsigned w = workers[j];
            struct ipc_pi_opts o = opts(WL_PI_GIL_THREADS, w, 8000000, pinned, 5);
            if (!pinned) {
                o.cpus = NULL;
                o.ncpus = 0;
            }
            struct ipc_pi_result r;
            if (!run(&o, &r))
                continue;
            uint64_t intervals = 0;
            for (unsigned i = 0; i < w; i++)
                intervals += (wl_pi_share(o.samples, w, i) + o.gil_interval - 1) / o.gil_interval;
            T_EQ_U64(r.gil_overlaps, 0);
            T_EQ_U64(r.gil_acquisitions, intervals);
            if (r.gil_handoffs == 0)
                T_FAIL("%u gil-threads (pinned %d): the lock never changed hands in %" PRIu64
                       " acquisitions",
                       w, pinned, r.gil_acquisitions);
            T_TRUE(r.gil_handoffs < r.gil_acquisitions);
        }
    }
    /* Other modes report no lock. */
    struct ipc_pi_opts o = opts(WL_PI_THREADS, 2, 100000, false, 5);
    struct ipc_pi_result r;
    if (run(&o, &r))
        T_EQ_U64(r.gil_acquisitions + r.gil_handoffs + r.gil_overlaps, 0);
}

static void expect_error(const struct ipc_pi_opts *o, int want, const char *what)
{
    struct ipc_pi_result r;
    char err[256] = "untouched";
    int rc = ipc_pi_run(o, &r, err, sizeof err);
    if (rc >= 0 || (want && rc != want))
        T_FAIL("%s: returned %d, expected %s", what, rc, want ? "that error" : "an error");
    if (!err[0] || strcmp(err, "untouched") == 0)
        T_FAIL("%s: no reason given", what);
}

static void test_bad_options(void)
{
    struct ipc_pi_opts o = opts(WL_PI_THREADS, 0, 1000, false, 1);
    expect_error(&o, -EINVAL, "0 workers");
    o.workers = WL_PI_MAX_WORKERS + 1;
    expect_error(&o, -EINVAL, "too many workers");
    o = opts(WL_PI_PROCESSES, 2, 0, false, 1);
    expect_error(&o, -EINVAL, "0 samples");
    o.samples = WL_PI_MAX_SAMPLES + 1;
    expect_error(&o, -EINVAL, "too many samples");
    o = opts(WL_PI_GIL_THREADS, 2, 1000, false, 1);
    o.gil_interval = 0;
    expect_error(&o, -EINVAL, "gil interval 0");
    o = opts((enum wl_pi_mode)WL_PI_NMODES, 2, 1000, false, 1);
    expect_error(&o, -EINVAL, "unknown mode");
    int negative = -1;
    o = opts(WL_PI_THREADS, 2, 1000, false, 1);
    o.cpus = &negative;
    o.ncpus = 1;
    expect_error(&o, -EINVAL, "CPU -1");

    /* A CPU this process may not use: every mode fails cleanly and says why. */
    int other = -1;
    for (int c = CPU_SETSIZE - 1; c >= 0 && other < 0; c--)
        if (!ipc_cpu_in(cpus, ncpus, c))
            other = c;
    if (other < 0)
        return;
    cpu_set_t before, after;
    T_EQ_INT(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
    for (int m = 0; m < WL_PI_NMODES; m++) {
        o = opts((enum wl_pi_mode)m, 1, 100000, false, 1);
        o.cpus = &other;
        o.ncpus = 1;
        char what[64];
        snprintf(what, sizeof what, "%s on CPU %d", wl_pi_mode_name(o.mode), other);
        expect_error(&o, 0, what);
    }
    T_EQ_INT(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
    T_TRUE(CPU_EQUAL(&before, &after));
}

static void test_serial_restores_affinity(void)
{
    cpu_set_t before, after;
    T_EQ_INT(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
    struct ipc_pi_opts o = opts(WL_PI_SERIAL, 3, 100000, true, 1);
    struct ipc_pi_result r;
    run(&o, &r);
    T_EQ_INT(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
    T_TRUE(CPU_EQUAL(&before, &after));
}

static void test_names(void)
{
    for (int m = 0; m < WL_PI_NMODES; m++) {
        enum wl_pi_mode back;
        T_EQ_INT(wl_pi_mode_parse(wl_pi_mode_name((enum wl_pi_mode)m), &back), 0);
        T_EQ_INT(back, m);
    }
    enum wl_pi_mode x;
    T_EQ_INT(wl_pi_mode_parse("gil", &x), -1);
    T_EQ_INT(wl_pi_mode_parse("", &x), -1);
    T_EQ_INT(ipc_pi_pinning(WL_PI_THREADS, 4, 0), IPC_PI_PIN_NONE);
    T_EQ_INT(ipc_pi_pinning(WL_PI_THREADS, 2, 2), IPC_PI_PIN_PER_WORKER);
    T_EQ_INT(ipc_pi_pinning(WL_PI_PROCESSES, 3, 2), IPC_PI_PIN_SHARED_SET);
    T_EQ_INT(ipc_pi_pinning(WL_PI_SERIAL, 3, 2), IPC_PI_PIN_PER_WORKER);
}

int main(void)
{
    ncpus = ipc_cpu_allowed(cpus, 1024);
    if (ncpus < 1) {
        fprintf(stderr, "cannot read the affinity mask: %d\n", ncpus);
        return 1;
    }
    ipc_topology_read(&topo);
    test_topology();
    test_generator();
    test_batch_equals_each();
    test_share();
    test_names();
    test_converges();
    test_modes_agree();
    test_gil();
    test_bad_options();
    test_serial_restores_affinity();
    return T_RESULT();
}
