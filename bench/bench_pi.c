/* SPDX-License-Identifier: MIT */
/* The pi family: Monte Carlo throughput per mode and worker count, one sample at a time or in
 * blocks, for the claims on threads under a GIL, processes, and workers beyond the cores. */
#include "bench.h"

#include "../ipc/cpu.h"
#include "../ipc/pi.h"
#include "../ipc/topology.h"
#include "../workloads/pi.h"

#include <math.h>
#include <stdio.h>

/* One iteration is one whole estimate: about 70 ms of one worker here one sample at a time,
 * long enough that starting 2 x CPUs threads or processes is a small part of it. */
#define BENCH_SAMPLES (1ull << 24)
#define MIN_MAX_WORKERS 4

/* cpu_main, cpu_other, then the other CPUs this process may use: worker i runs on cpus[i]. */
static int cpus[WL_PI_MAX_WORKERS];
static int ncpus;

static void place_workers(void)
{
    static int allowed[1024];
    int n = ipc_cpu_allowed(allowed, 1024);
    ncpus = 0;
    cpus[ncpus++] = bench_cfg.cpu_main;
    if (bench_cfg.cpu_other >= 0)
        cpus[ncpus++] = bench_cfg.cpu_other;
    for (int i = 0; i < n && ncpus < WL_PI_MAX_WORKERS; i++)
        if (!ipc_cpu_in(cpus, ncpus, allowed[i]))
            cpus[ncpus++] = allowed[i];
}

/*
 * The first quarter second of work on an idle CPU runs about a third slower here (82 ms vs
 * 56 ms for the same estimate: clock ramp or the hypervisor's scheduling), longer than the
 * library's warm-up. The family's first case is serial, the baseline of every speedup, so
 * before it every CPU the family uses computes untimed for a while.
 */
static void warm_up(void)
{
    static bool warm;
    if (warm)
        return;
    warm = true;
    struct ipc_pi_opts o = {
        .mode = WL_PI_PROCESSES,
        .workers = (unsigned)ncpus,
        .samples = 4 * BENCH_SAMPLES * (uint64_t)ncpus,
        .seed = WL_PI_DEFAULT_SEED,
        .cpus = cpus,
        .ncpus = ncpus,
    };
    struct ipc_pi_result r;
    char err[256];
    ipc_pi_run(&o, &r, err, sizeof err); /* a failure shows again, and is reported, in the case */
}

static void bm_pi(gb_state *st, void *arg)
{
    const enum wl_pi_mode *mode = arg;
    warm_up();
    struct ipc_pi_opts o = {
        .mode = *mode,
        .workers = (unsigned)gb_range(st, 0),
        .samples = BENCH_SAMPLES,
        .batch = gb_range(st, 1) != 0,
        .seed = WL_PI_DEFAULT_SEED,
        .gil_interval = IPC_PI_DEFAULT_GIL_INTERVAL,
        .cpus = cpus,
        .ncpus = ncpus,
    };
    gb_set_label(st, ipc_pi_pin_name(ipc_pi_pinning(o.mode, o.workers, o.ncpus)));
    double abs_error = 0, handoffs = 0;
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_pi_result r;
        char err[256];
        if (ipc_pi_run(&o, &r, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            return;
        }
        abs_error += fabs(r.pi - M_PI);
        handoffs += (double)r.gil_handoffs;
    }
    double done = (double)gb_iterations_done(st);
    gb_counter(st, "samples_per_s", done * (double)BENCH_SAMPLES, GB_COUNTER_RATE);
    gb_counter(st, "abs_error", abs_error, GB_COUNTER_AVG_ITERATIONS);
    if (o.mode == WL_PI_GIL_THREADS)
        gb_counter(st, "gil_handoffs", handoffs, GB_COUNTER_AVG_ITERATIONS);
}

void bench_register_pi(void)
{
    static const char *const arg_names[] = {"workers", "batch"};
    static enum wl_pi_mode modes[WL_PI_NMODES];
    place_workers();
    struct ipc_topology topo;
    ipc_topology_read(&topo);
    /* Up to twice the logical CPUs, so the curve shows what lies beyond the cores. */
    int64_t max_workers = 2 * (int64_t)topo.logical_cpus;
    if (max_workers < MIN_MAX_WORKERS)
        max_workers = MIN_MAX_WORKERS;
    if (max_workers > WL_PI_MAX_WORKERS)
        max_workers = WL_PI_MAX_WORKERS;
    for (int m = 0; m < WL_PI_NMODES; m++) {
        modes[m] = (enum wl_pi_mode)m;
        char name[64];
        snprintf(name, sizeof name, "pi/%s", wl_pi_mode_name(modes[m]));
        gb_bench *b = gb_register(name, bm_pi, &modes[m]);
        /* serial is the baseline: its N shares would run one after another anyway. */
        int64_t top = modes[m] == WL_PI_SERIAL ? 1 : max_workers;
        for (int64_t w = 1; w <= top; w++) {
            for (int64_t batch = 0; batch <= 1; batch++) {
                int64_t args[2] = {w, batch};
                gb_args(b, args, 2);
            }
        }
        gb_arg_names(b, arg_names, 2);
        gb_use_real_time(b);
        gb_time_unit(b, GB_MS);
    }
}
