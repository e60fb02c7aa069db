/* SPDX-License-Identifier: MIT */
/* The shared-counter family: lost updates and the cost of one increment for each of the four
 * ways N processes can increment one counter. */
#include "bench.h"

#include "../ipc/counter.h"

#include <stdint.h>
#include <stdio.h>

/* Increments by each worker per run: enough that the workers overlap for milliseconds, so
 * the lost fraction measures the variant and not the start-up skew between processes. */
#define INCREMENTS 1000000u

static int counter_cpus[2];

static void bm_counter(gb_state *st, void *arg)
{
    const enum ipc_counter_variant *variant = arg;
    counter_cpus[0] = bench_cfg.cpu_main;
    counter_cpus[1] = bench_cfg.cpu_other;
    struct ipc_counter_opts o = {
        .variant = *variant,
        .workers = (unsigned)gb_range(st, 0),
        .increments = INCREMENTS,
        .cpus = counter_cpus,
        .ncpus = bench_cfg.cpu_other >= 0 ? 2 : 1,
    };
    double lost_sum = 0, wall_ns = 0, increments = 0;
    uint64_t runs = 0;
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_counter_result r;
        char err[256];
        if (ipc_counter_run(&o, &r, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            return;
        }
        lost_sum += (double)r.lost / (double)r.expected;
        wall_ns += (double)r.wall_ns;
        increments += (double)r.expected;
        runs++;
    }
    if (!runs)
        return;
    gb_counter(st, "lost_fraction", lost_sum / (double)runs, GB_COUNTER_DEFAULT);
    /* The increments' own time (start signal to the last increment), not the iteration's,
     * which also holds the forks. */
    gb_counter(st, "ns_per_increment", wall_ns / increments, GB_COUNTER_DEFAULT);
}

void bench_register_counter(void)
{
    static const char *const arg_names[] = {"workers"};
    static const int64_t workers[] = {1, 2, 4};
    for (int v = 0; v < IPC_COUNTER_VARIANTS; v++) {
        enum ipc_counter_variant *arg = bench_alloc(sizeof *arg);
        *arg = (enum ipc_counter_variant)v;
        char name[64];
        snprintf(name, sizeof name, "counter/%s", ipc_counter_variant_name(*arg));
        gb_bench *b = gb_register(name, bm_counter, arg);
        for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++)
            gb_args(b, &workers[i], 1);
        gb_arg_names(b, arg_names, 1);
        gb_use_real_time(b);
        gb_time_unit(b, GB_MS);
    }
}
