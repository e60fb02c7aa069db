/* SPDX-License-Identifier: MIT */
/* The find-primes family: counting the primes up to N with workers fed from a queue, by job
 * size and by worker count, per transport, against the serial loop; for the claims that tiny
 * jobs carry the most communication overhead, that job size has diminishing returns (C9),
 * that serial beats a queue when communication outweighs the work (C10), and that workers
 * beyond the physical cores add nothing (C3). */
#include "bench.h"

#include "../ipc/cpu.h"
#include "../ipc/find_primes.h"
#include "../ipc/redis_server.h"
#include "../ipc/topology.h"
#include "../workloads/prime.h"

#include <stdio.h>
#include <string.h>

/*
 * N per transport, fixed for all of a transport's points so that they compare. One number per
 * job is the slowest point: a job and a result message per number. Measured here at one
 * number per job: shm-ring and pipe about 6 us per job, socketpair and mq 9-12 us, so
 * N = 200000 keeps their slowest point at 1-2.5 s while the serial loop takes about 11 ms;
 * uring about 30 us (a blocking receive is handed to an io-wq kernel thread), so it gets
 * N = 50000 (1.5 s); a server transport about 120-180 us (round trips to redis-server), so it
 * gets N = 20000 (2.5-3.5 s). fp_n() is the one place this is decided; the serial baseline is
 * measured at every N used, named by its job size (= N), and each point's counter `n` and
 * label say which N it used.
 */
#define FP_N 200000
#define FP_N_SLOW 50000
#define FP_N_SERVER 20000
/* The worker sweep's job size, and the job-size sweep's worker count. */
#define SWEEP_JOB_SIZE 1000
#define SWEEP_WORKERS 2
/* A run that has not finished after this long has hung: the point fails instead. */
#define RUN_TIMEOUT_MS 120000
#define MAX_CPUS 1024

static const int64_t job_sizes[] = {1, 10, 100, 1000, 10000};

/* cpu_main, cpu_other, then the other CPUs this process may use: worker i runs on cpus[i]. */
static int cpus[MAX_CPUS];
static int ncpus;

static void place_workers(void)
{
    static int allowed[MAX_CPUS];
    int n = ipc_cpu_allowed(allowed, MAX_CPUS);
    ncpus = 0;
    cpus[ncpus++] = bench_cfg.cpu_main;
    if (bench_cfg.cpu_other >= 0)
        cpus[ncpus++] = bench_cfg.cpu_other;
    for (int i = 0; i < n && ncpus < MAX_CPUS; i++)
        if (!ipc_cpu_in(cpus, ncpus, allowed[i]))
            cpus[ncpus++] = allowed[i];
}

struct fp_case {
    const struct ipc_queue_ops *ops; /* NULL: serial, one job of N = job_size numbers */
    uint64_t n;
};

static uint64_t fp_n(const struct ipc_queue_ops *ops)
{
    if (ops->props & IPC_QUEUE_PROP_SERVER)
        return FP_N_SERVER;
    if (strcmp(ops->name, "uring") == 0)
        return FP_N_SLOW;
    return FP_N;
}

static void bm_find_primes(gb_state *st, void *arg)
{
    const struct fp_case *c = arg;
    struct ipc_fp_opts o = {
        .transport = c->ops,
        .n = c->ops ? c->n : (uint64_t)gb_range(st, 1),
        .workers = (unsigned)gb_range(st, 0),
        .job_size = (uint64_t)gb_range(st, 1),
        .timeout_ms = RUN_TIMEOUT_MS,
    };
    /* One CPU per worker while there are enough; beyond that none are pinned, so the workers
     * share the CPUs as the scheduler sees fit (pinning round-robin would double some up). */
    bool pinned = c->ops && o.workers <= (unsigned)ncpus;
    if (pinned) {
        o.cpus = cpus;
        o.ncpus = ncpus;
    }
    struct ipc_redis_server server;
    memset(&server, 0, sizeof server);
    if (c->ops) {
        char why[256];
        if (ipc_queue_probe(c->ops, why, sizeof why) < 0) {
            bench_skip(st, "%s is not available here: %s", c->ops->name, why);
            return;
        }
        /* A server transport gets a server started here, untimed, on cpu_main beside the
         * parent (as the verify harness places its servers), rather than one per run inside
         * the timed call: starting redis-server takes longer than many points. */
        if (c->ops->props & IPC_QUEUE_PROP_SERVER) {
            if (ipc_redis_server_start(&server, NULL, bench_cfg.cpu_main) < 0) {
                bench_skip(st, "cannot start redis-server: %s", server.errstr);
                return;
            }
            o.cfg.redis_socket = server.socket;
            o.cfg.redis_password = server.password;
        }
    }
    char label[64];
    snprintf(label, sizeof label, "n=%llu pin=%s", (unsigned long long)o.n,
             pinned ? "per-worker" : "none");
    gb_set_label(st, label);
    uint64_t reference = wl_count_primes_sieve(1, o.n);
    double jobs = 0, messages = 0, bytes = 0, queue_ns = 0;
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_fp_result r;
        char err[256];
        if (ipc_find_primes_run(&o, &r, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            goto out;
        }
        if (r.primes != reference) {
            bench_skip(st, "counted %llu primes up to %llu, the sieve %llu",
                       (unsigned long long)r.primes, (unsigned long long)o.n,
                       (unsigned long long)reference);
            goto out;
        }
        jobs += (double)r.jobs;
        messages += (double)r.messages;
        bytes += (double)r.bytes;
        queue_ns += (double)r.queue_ns;
    }
    gb_counter(st, "primes", (double)reference, GB_COUNTER_DEFAULT);
    gb_counter(st, "jobs", jobs, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "messages", messages, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "bytes", bytes, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "n", (double)o.n, GB_COUNTER_DEFAULT);
    /* The protocol alone (first job sent to last confirmation): the real time adds opening
     * the queues, forking the workers, reaping them and closing the queues. */
    if (c->ops)
        gb_counter(st, "queue_ns", queue_ns, GB_COUNTER_AVG_ITERATIONS);
out:
    ipc_redis_server_stop(&server);
}

static void common_settings(gb_bench *b)
{
    static const char *const arg_names[] = {"workers", "job_size"};
    gb_arg_names(b, arg_names, 2);
    gb_use_real_time(b);
    gb_time_unit(b, GB_MS);
}

/* Add {workers, job_size} unless it is there already. */
static void add_point(gb_bench *b, int64_t (*seen)[2], size_t *nseen, int64_t w, int64_t j)
{
    for (size_t i = 0; i < *nseen; i++)
        if (seen[i][0] == w && seen[i][1] == j)
            return;
    seen[*nseen][0] = w;
    seen[*nseen][1] = j;
    gb_args(b, seen[(*nseen)++], 2);
}

void bench_register_find_primes(void)
{
    place_workers();
    struct ipc_topology topo;
    ipc_topology_read(&topo);
    /* 1, 2, 4, and beyond the cores where the machine has more than 2. */
    int64_t workers[8];
    size_t nworkers = 0;
    const int64_t wanted[] = {1, 2, 4, topo.physical_cores, 2 * (int64_t)topo.logical_cpus};
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        int64_t w = wanted[i] > IPC_FP_MAX_WORKERS ? IPC_FP_MAX_WORKERS : wanted[i];
        bool dup = false;
        for (size_t k = 0; k < nworkers; k++)
            dup |= workers[k] == w;
        if (!dup && w >= 1)
            workers[nworkers++] = w;
    }

    /* The baseline first: the parent alone, at each N a transport uses. */
    static struct fp_case serial = {.ops = NULL};
    gb_bench *sb = gb_register("find-primes/serial", bm_find_primes, &serial);
    const int64_t sizes[] = {FP_N, FP_N_SLOW, FP_N_SERVER};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t args[2] = {1, sizes[i]};
        gb_args(sb, args, 2);
    }
    common_settings(sb);
    for (size_t t = 0; t < ipc_queue_transport_count; t++) {
        const struct ipc_queue_ops *ops = ipc_queue_transports[t];
        struct fp_case *c = bench_alloc(sizeof *c);
        *c = (struct fp_case){.ops = ops, .n = fp_n(ops)};
        char name[64];
        snprintf(name, sizeof name, "find-primes/%s", ops->name);
        gb_bench *b = gb_register(name, bm_find_primes, c);
        int64_t(*seen)[2] = bench_alloc(32 * sizeof *seen);
        size_t nseen = 0;
        /* Job sizes from one number up to N / workers (one job per worker), 2 workers. */
        for (size_t i = 0; i < sizeof job_sizes / sizeof job_sizes[0]; i++)
            if ((uint64_t)job_sizes[i] <= c->n / SWEEP_WORKERS)
                add_point(b, seen, &nseen, SWEEP_WORKERS, job_sizes[i]);
        add_point(b, seen, &nseen, SWEEP_WORKERS, (int64_t)(c->n / SWEEP_WORKERS));
        /* Workers at jobs of SWEEP_JOB_SIZE numbers. */
        for (size_t i = 0; i < nworkers; i++)
            add_point(b, seen, &nseen, workers[i], SWEEP_JOB_SIZE);
        common_settings(b);
    }
}
