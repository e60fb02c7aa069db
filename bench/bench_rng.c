/* SPDX-License-Identifier: MIT */
/* The random-number families: the seeding trap across fork (how many forked workers draw the
 * same stream) and what sharing one generator between threads costs. */
#include "bench.h"

#include "../ipc/rng.h"

#include <stdint.h>
#include <stdio.h>

/* Worker i (thread or process) on cpus[i % 2]: the benchmark's two CPUs. */
static int bench_cpus[2];

static int bench_ncpus(void)
{
    bench_cpus[0] = bench_cfg.cpu_main;
    bench_cpus[1] = bench_cfg.cpu_other;
    return bench_cfg.cpu_other >= 0 ? 2 : 1;
}

/* ---- rng-streams/<seeding> ---------------------------------------------------------------- */

#define STREAM_WORKERS 4
#define STREAM_COUNT 1000

static void bm_streams(gb_state *st, void *arg)
{
    const enum wl_seeding *seeding = arg;
    struct ipc_rng_streams_opts o = {
        .seeding = *seeding,
        .workers = STREAM_WORKERS,
        .count = STREAM_COUNT,
        .cpus = bench_cpus,
        .ncpus = bench_ncpus(),
    };
    double fraction_sum = 0;
    uint64_t runs = 0;
    while (gb_keep_running_batch(st, 1)) {
        /* A new seed every run: the trap (or its absence) must not depend on one seed. */
        o.seed = runs;
        struct ipc_rng_streams s;
        char err[256];
        if (ipc_rng_streams_run(&o, &s, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            return;
        }
        fraction_sum += (double)s.identical_pairs / (double)s.pairs;
        runs++;
        ipc_rng_streams_free(&s);
    }
    gb_counter(st, "identical_pairs_fraction", runs ? fraction_sum / (double)runs : 0,
               GB_COUNTER_DEFAULT);
}

/* ---- rng/<mode>/threads:<N> --------------------------------------------------------------- */

/*
 * One iteration is one whole run: create the threads, start them together, join them, so
 * thread creation (tens of microseconds) is in the real time; the numbers per thread are
 * chosen per mode so that it stays under 1% of an iteration (per-thread: about 1 ns per
 * number) without making a contended locked-shared iteration last seconds.
 */
struct tp_case {
    enum ipc_rng_mode mode;
    uint64_t numbers; /* per thread */
};

static void bm_throughput(gb_state *st, void *arg)
{
    const struct tp_case *c = arg;
    struct ipc_rng_throughput_opts o = {
        .mode = c->mode,
        .threads = (unsigned)gb_range(st, 0),
        .numbers = c->numbers,
        .cpus = bench_cpus,
        .ncpus = bench_ncpus(),
    };
    double numbers = 0;
    uint64_t runs = 0;
    while (gb_keep_running_batch(st, 1)) {
        o.seed = runs++;
        struct ipc_rng_throughput_result r;
        char err[256];
        if (ipc_rng_throughput_run(&o, &r, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            return;
        }
        numbers += (double)r.numbers;
    }
    gb_counter(st, "numbers_per_s", numbers, GB_COUNTER_RATE);
}

void bench_register_rng(void)
{
    for (int s = 0; s < WL_SEEDING_COUNT; s++) {
        enum wl_seeding *arg = bench_alloc(sizeof *arg);
        *arg = (enum wl_seeding)s;
        char name[64];
        snprintf(name, sizeof name, "rng-streams/%s", wl_seeding_name(*arg));
        gb_bench *b = gb_register(name, bm_streams, arg);
        gb_use_real_time(b);
        gb_time_unit(b, GB_US);
    }
    static const char *const arg_names[] = {"threads"};
    static const int64_t threads[] = {1, 2, 4};
    for (int m = 0; m < IPC_RNG_MODES; m++) {
        struct tp_case *c = bench_alloc(sizeof *c);
        c->mode = (enum ipc_rng_mode)m;
        c->numbers = c->mode == IPC_RNG_PER_THREAD ? UINT64_C(1) << 24 : UINT64_C(1) << 20;
        char name[64];
        snprintf(name, sizeof name, "rng/%s", ipc_rng_mode_name(c->mode));
        gb_bench *b = gb_register(name, bm_throughput, c);
        for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
            gb_args(b, &threads[i], 1);
        gb_arg_names(b, arg_names, 1);
        gb_use_real_time(b);
        gb_time_unit(b, GB_MS);
    }
}
