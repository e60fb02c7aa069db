/* SPDX-License-Identifier: MIT */
/* The queue families: throughput and one-way latency of every transport by message size, and
 * what a worker killed mid-run costs on each (claim C19). */
#include "bench.h"

#include "../ipc/clock.h"
#include "../ipc/queue.h"
#include "../ipc/workqueue.h"

#include <stdio.h>
#include <string.h>

static const int64_t sizes[] = {8, 64, 512, 4096, 65536};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* The loss run: two workers on the two CPUs, jobs of 20 us of work (with none, one worker may
 * take every job before the other has started), worker 0 killed after a quarter of its share. */
#define LOSS_JOBS 400
#define LOSS_WORK_NS 20000u
#define LOSS_KILL_AFTER 50
#define LOSS_SIZE 64
#define LOSS_TIMEOUT_MS 60000

static int pair[2];

/* Probe the transport and check the placement; false after gb_skip_with_error. */
static bool usable(gb_state *st, const struct ipc_queue_ops *ops)
{
    char why[256];
    if (ipc_queue_probe(ops, why, sizeof why) < 0) {
        bench_skip(st, "%s", why);
        return false;
    }
    if (bench_cfg.cpu_other < 0) {
        bench_skip(st, "needs two CPUs for the two processes");
        return false;
    }
    pair[0] = bench_cfg.cpu_main;
    pair[1] = bench_cfg.cpu_other;
    return true;
}

static struct ipc_qbench *start(gb_state *st, const struct ipc_queue_ops *ops,
                                enum ipc_qbench_mode mode, size_t size)
{
    if (!usable(st, ops))
        return NULL;
    struct ipc_queue_config cfg = {.max_msg = size};
    char err[256];
    struct ipc_qbench *b = ipc_qbench_start(ops, &cfg, mode, size, 0, pair, err, sizeof err);
    if (!b)
        bench_skip(st, "%s", err);
    return b;
}

/* Messages per batch: about 4 MiB of them, so that the two wake-ups that start and end a
 * batch (tens of microseconds) stay near 1% of it even for 64 KiB messages. */
static int64_t stream_batch(size_t size)
{
    int64_t n = (int64_t)((4u << 20) / size);
    return n < 64 ? 64 : n > 16384 ? 16384 : n;
}

/* ---- queue/<transport>/size:<B> ----------------------------------------------------------- */

static void bm_throughput(gb_state *st, void *arg)
{
    const struct ipc_queue_ops *ops = arg;
    size_t size = (size_t)gb_range(st, 0);
    struct ipc_qbench *b = start(st, ops, IPC_QBENCH_STREAM, size);
    if (!b)
        return;
    int64_t batch = stream_batch(size);
    char err[256];
    /* One batch unmeasured: page faults in the queue's buffers, the partners' first wake-up. */
    if (ipc_qbench_run(b, (uint64_t)batch, NULL, err, sizeof err) < 0) {
        bench_skip(st, "%s", err);
        ipc_qbench_stop(b);
        return;
    }
    double total = 0;
    while (gb_keep_running_batch(st, batch)) {
        if (ipc_qbench_run(b, (uint64_t)batch, NULL, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            break;
        }
        total += (double)batch;
    }
    if (!gb_error_occurred(st)) {
        gb_counter(st, "msgs_per_s", total, GB_COUNTER_RATE);
        gb_counter(st, "bytes_per_s", total * (double)size, GB_COUNTER_RATE);
    }
    ipc_qbench_stop(b);
}

/* ---- queue-latency/<transport>/size:<B> --------------------------------------------------- */

static void bm_latency(gb_state *st, void *arg)
{
    const struct ipc_queue_ops *ops = arg;
    size_t size = (size_t)gb_range(st, 0);
    struct ipc_qbench *b = start(st, ops, IPC_QBENCH_PINGPONG, size);
    if (!b)
        return;
    const int64_t batch = 64;
    char err[256];
    if (ipc_qbench_run(b, 100, NULL, err, sizeof err) < 0) {
        bench_skip(st, "%s", err);
        ipc_qbench_stop(b);
        return;
    }
    double total_ns = 0;
    while (gb_keep_running_batch(st, batch)) {
        uint64_t ns;
        if (ipc_qbench_run(b, (uint64_t)batch, &ns, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            break;
        }
        /* The pinger's own clock around the batch: one-way = round trip / 2. */
        gb_set_iteration_time(st, (double)ns / 2e9);
        total_ns += (double)ns;
    }
    if (!gb_error_occurred(st))
        gb_counter(st, "round_trip_ns", total_ns, GB_COUNTER_AVG_ITERATIONS);
    ipc_qbench_stop(b);
}

/* ---- queue-loss/<transport> --------------------------------------------------------------- */

static unsigned char loss_job[LOSS_SIZE];

static const void *loss_job_at(size_t i, size_t *len, void *arg)
{
    (void)arg;
    for (size_t k = 0; k < sizeof loss_job; k++)
        loss_job[k] = (unsigned char)(i * 31 + k);
    *len = sizeof loss_job;
    return loss_job;
}

/* 20 us of busy work, then the job's first and last bytes: what is measured is the
 * accounting, the work only spreads the jobs over both workers. */
static int loss_work(const void *job, size_t len, void *result, size_t *result_len, void *arg)
{
    (void)arg;
    uint64_t t0 = ipc_now_ns();
    while (ipc_now_ns() - t0 < LOSS_WORK_NS)
        ;
    const unsigned char *j = job;
    unsigned char r[2] = {j[0], j[len - 1]};
    memcpy(result, r, sizeof r);
    *result_len = sizeof r;
    return 0;
}

static void bm_loss(gb_state *st, void *arg)
{
    const struct ipc_queue_ops *ops = arg;
    if (!usable(st, ops))
        return;
    struct ipc_workqueue_opts o = {
        .transport = ops,
        .cfg = {.max_msg = LOSS_SIZE},
        .workers = 2,
        .cpus = pair,
        .ncpus = 2,
        .timeout_ms = LOSS_TIMEOUT_MS,
        .kill_worker = 0,
        .kill_after = LOSS_KILL_AFTER,
    };
    double lost = 0, requeued = 0, duplicates = 0, died = 0;
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_workqueue_stats s;
        char err[256];
        if (ipc_workqueue_run(&o, LOSS_JOBS, loss_job_at, loss_work, NULL, NULL, &s, err,
                              sizeof err) < 0) {
            bench_skip(st, "%s", err);
            break;
        }
        lost += (double)s.lost;
        requeued += s.requeued;
        duplicates += (double)s.duplicates;
        died += s.died;
    }
    if (!gb_error_occurred(st)) {
        /* One run per repetition (iterations fixed at 1): plain values. */
        gb_counter(st, "lost_jobs", lost, GB_COUNTER_DEFAULT);
        gb_counter(st, "requeued", requeued, GB_COUNTER_DEFAULT);
        gb_counter(st, "duplicates", duplicates, GB_COUNTER_DEFAULT);
        gb_counter(st, "died", died, GB_COUNTER_DEFAULT);
        gb_counter(st, "jobs", LOSS_JOBS, GB_COUNTER_DEFAULT);
    }
}

void bench_register_queue(void)
{
    static const char *const arg_names[] = {"size"};
    for (size_t i = 0; i < ipc_queue_transport_count; i++) {
        /* The ops tables are static: the library may keep pointers to them. */
        void *ops = (void *)ipc_queue_transports[i];
        const char *name = ipc_queue_transports[i]->name;
        char full[128];

        snprintf(full, sizeof full, "queue/%s", name);
        gb_bench *b = gb_register(full, bm_throughput, ops);
        for (size_t k = 0; k < NSIZES; k++)
            gb_args(b, &sizes[k], 1);
        gb_arg_names(b, arg_names, 1);
        gb_use_real_time(b);
        gb_time_unit(b, GB_NS);

        snprintf(full, sizeof full, "queue-latency/%s", name);
        b = gb_register(full, bm_latency, ops);
        for (size_t k = 0; k < NSIZES; k++)
            gb_args(b, &sizes[k], 1);
        gb_arg_names(b, arg_names, 1);
        gb_use_manual_time(b);
        gb_time_unit(b, GB_NS);

        snprintf(full, sizeof full, "queue-loss/%s", name);
        b = gb_register(full, bm_loss, ops);
        gb_use_real_time(b);
        gb_iterations(b, 1);
        gb_time_unit(b, GB_MS);
    }
}
