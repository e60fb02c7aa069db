/* SPDX-License-Identifier: MIT */
/* The redis-bench family: GET throughput and latency over a Unix socket and TCP loopback by
 * pipeline depth and clients, from ipclab's client and from redis-benchmark, one server. */
#include "bench.h"

#include "../ipc/cpu.h"
#include "../ipc/redis_bench.h"
#include "../ipc/redis_benchmark_tool.h"
#include "../ipc/redis_server.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * redis-bench/<ipclab|redis-benchmark>/<unix|tcp>/server:<other-core|same-core>/clients:C/
 * pipeline:P. The sweep is other-core (this process on cpu_main, redis-server on cpu_other)
 * for C in 1, 2, 4 and P in 1, 2, 4, ..., 256; same-core adds C = 1, P in 1, 16, 256 with the
 * server beside the client. Every repetition is one run (iterations fixed at 1) of N requests
 * whose manual time is the run's wall time; N is sized once per point (placement, transport,
 * C, P) to last RUN_SECONDS_PER_MIN_TIME x --min-time (0.25 s at the default 0.2) and the same
 * N serves both clients of the point. The two clients of a point are registered one after the
 * other, so they run minutes apart at most, not a whole sweep apart.
 */
#define RUN_SECONDS_PER_MIN_TIME 1.25

enum { CL_IPCLAB, CL_TOOL, NCLIENTS };
static const char *const client_names[NCLIENTS] = {"ipclab", "redis-benchmark"};

struct rb_case {
    int client;
    bool tcp, same_core;
};

/* One redis-server for the whole family: started by the first row that needs it (not at
 * registration, so a filtered run that selects none starts none), stopped at the end. */
static struct ipc_redis_server server;
static int server_state; /* 0: not tried, 1: running, -1: cannot start (server_why) */
static char server_why[300];

/* N per point, so that both clients of a point get the same. */
struct sized {
    bool tcp, same_core;
    unsigned clients, pipeline;
    uint64_t n;
};
static struct sized sized[64];
static size_t nsized;

void bench_redis_stop(void)
{
    if (server_state == 1)
        ipc_redis_server_stop(&server);
    server_state = 0;
}

/* Pin every thread of the server (redis-server has background threads) to one CPU. */
static int pin_server(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)server.proc.pid);
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int tid = atoi(e->d_name);
        if (tid > 0 && sched_setaffinity(tid, sizeof set, &set) < 0 && errno != ESRCH)
            rc = -errno;
    }
    closedir(d);
    return rc;
}

static int ensure_server(gb_state *st)
{
    if (server_state == 1 && !ipc_server_alive(&server.proc)) {
        ipc_redis_server_stop(&server);
        server_state = -1;
        snprintf(server_why, sizeof server_why, "redis-server died during the family");
    }
    if (server_state == 0) {
        char why[256];
        if (ipc_redis_server_find(NULL, 0, why, sizeof why) < 0) {
            snprintf(server_why, sizeof server_why, "%s", why);
            server_state = -1;
        } else if (ipc_redis_server_start(&server, NULL, bench_cfg.cpu_main) < 0) {
            snprintf(server_why, sizeof server_why, "cannot start redis-server: %s",
                     server.errstr);
            server_state = -1;
        } else {
            static bool registered;
            if (!registered)
                atexit(bench_redis_stop); /* main() calls it too; this covers exit() */
            registered = true;
            server_state = 1;
            /* GET then finds a 3-byte value, as after the SET of redis-benchmark's suite. */
            struct ipc_rb_target t = {.socket = server.socket, .password = server.password};
            struct ipc_rb_opts set = {.op = IPC_RB_SET, .pipeline = 1, .clients = 1,
                                      .requests = 1, .cpu = -1};
            struct ipc_rb_result r;
            char err[256];
            if (ipc_rb_available(NULL, 0) && ipc_rb_run(&t, &set, &r, err, sizeof err) < 0) {
                snprintf(server_why, sizeof server_why, "%s", err);
                bench_redis_stop();
                server_state = -1;
            }
        }
    }
    if (server_state < 0) {
        bench_skip(st, "%s", server_why);
        return -1;
    }
    return 0;
}

static struct sized *find_sized(const struct rb_case *c, unsigned clients, unsigned pipeline)
{
    for (size_t i = 0; i < nsized; i++)
        if (sized[i].tcp == c->tcp && sized[i].same_core == c->same_core &&
            sized[i].clients == clients && sized[i].pipeline == pipeline)
            return &sized[i];
    return NULL;
}

static void bm_redis(gb_state *st, void *arg)
{
    const struct rb_case *c = arg;
    unsigned clients = (unsigned)gb_range(st, 0), pipeline = (unsigned)gb_range(st, 1);
    int server_cpu = c->same_core ? bench_cfg.cpu_main : bench_cfg.cpu_other;
    char why[512];
    if (server_cpu < 0) {
        bench_skip(st, "needs a second CPU for the server");
        return;
    }
    if (c->client == CL_TOOL && ipc_redis_benchmark_find(NULL, 0, why, sizeof why) < 0) {
        bench_skip(st, "%s", why);
        return;
    }
    /* ipclab's client also sizes the runs of both. */
    if (!ipc_rb_available(why, sizeof why)) {
        bench_skip(st, "%s", why);
        return;
    }
    if (ensure_server(st) < 0)
        return;
    int rc = pin_server(server_cpu);
    if (rc < 0) {
        bench_skip(st, "cannot pin redis-server to CPU %d: %s", server_cpu, strerror(-rc));
        return;
    }
    struct ipc_rb_target t = {.socket = server.socket, .password = server.password};
    if (c->tcp)
        t = (struct ipc_rb_target){.host = "127.0.0.1", .port = server.port,
                                   .password = server.password};
    struct ipc_rb_opts o = {.op = IPC_RB_GET,
                            .pipeline = pipeline,
                            .clients = clients,
                            .cpu = bench_cfg.cpu_main};
    struct sized *s = find_sized(c, clients, pipeline);
    if (!s) {
        uint64_t n;
        double secs = RUN_SECONDS_PER_MIN_TIME * bench_cfg.min_time;
        if (ipc_rb_requests_for(&t, &o, secs, &n, why, sizeof why) < 0) {
            bench_skip(st, "sizing the run: %s", why);
            return;
        }
        if (nsized < sizeof sized / sizeof sized[0]) {
            s = &sized[nsized++];
            *s = (struct sized){c->tcp, c->same_core, clients, pipeline, n};
        } else {
            bench_skip(st, "more points than the size cache holds");
            return;
        }
    }
    o.requests = s->n;
    struct ipc_rb_result r = {0};
    while (gb_keep_running_batch(st, 1)) {
        rc = c->client == CL_IPCLAB ? ipc_rb_run(&t, &o, &r, why, sizeof why)
                                    : ipc_redis_benchmark_run(&t, &o, &r, why, sizeof why);
        if (rc < 0) {
            bench_skip(st, "%s", why);
            return;
        }
        gb_set_iteration_time(st, (double)r.wall_ns / 1e9);
    }
    int last = ipc_cpu_last_of(server.proc.pid);
    /* One run per repetition: plain values. */
    gb_counter(st, "requests", (double)r.requests, GB_COUNTER_DEFAULT);
    gb_counter(st, "rps", r.rps, GB_COUNTER_DEFAULT);
    gb_counter(st, "mean_us", r.mean_us, GB_COUNTER_DEFAULT);
    gb_counter(st, "p50_us", r.p50_us, GB_COUNTER_DEFAULT);
    gb_counter(st, "p99_us", r.p99_us, GB_COUNTER_DEFAULT);
    gb_counter(st, "pipeline", pipeline, GB_COUNTER_DEFAULT);
    gb_counter(st, "clients", clients, GB_COUNTER_DEFAULT);
    gb_counter(st, "client_cpu", r.cpu_seen, GB_COUNTER_DEFAULT);
    gb_counter(st, "server_cpu", last >= 0 ? last : server_cpu, GB_COUNTER_DEFAULT);
}

static void add_row(bool tcp, bool same_core, int64_t clients, int64_t pipeline)
{
    static const char *const arg_names[] = {"clients", "pipeline"};
    for (int k = 0; k < NCLIENTS; k++) {
        struct rb_case *c = bench_alloc(sizeof *c);
        *c = (struct rb_case){.client = k, .tcp = tcp, .same_core = same_core};
        char name[128];
        snprintf(name, sizeof name, "redis-bench/%s/%s/server:%s", client_names[k],
                 tcp ? "tcp" : "unix", same_core ? "same-core" : "other-core");
        gb_bench *b = gb_register(name, bm_redis, c);
        const int64_t args[2] = {clients, pipeline};
        gb_args(b, args, 2);
        gb_arg_names(b, arg_names, 2);
        gb_use_manual_time(b);
        gb_iterations(b, 1);
        gb_time_unit(b, GB_MS);
    }
}

/* "redis-benchmark 7.0.15 (git:...)" into the results' context, next to redis_server. */
static void add_version_context(void)
{
    char path[512], line[256] = "not found", cmd[600];
    if (ipc_redis_benchmark_find(path, sizeof path, NULL, 0) == 0 && !strchr(path, '\'')) {
        snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", path);
        FILE *p = popen(cmd, "r");
        if (p) {
            if (!fgets(line, sizeof line, p))
                snprintf(line, sizeof line, "unknown");
            line[strcspn(line, "\n")] = '\0';
            pclose(p);
        }
    }
    gb_add_custom_context("redis_benchmark", line);
}

void bench_register_redis(void)
{
    add_version_context();
    static const int64_t clients[] = {1, 2, 4};
    for (int tcp = 0; tcp <= 1; tcp++)
        for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++)
            for (int64_t p = 1; p <= 256; p *= 2)
                add_row(tcp, false, clients[i], p);
    static const int64_t same_core_pipelines[] = {1, 16, 256};
    for (int tcp = 0; tcp <= 1; tcp++)
        for (size_t i = 0; i < sizeof same_core_pipelines / sizeof same_core_pipelines[0]; i++)
            add_row(tcp, true, 1, same_core_pipelines[i]);
}
