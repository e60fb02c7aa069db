/* SPDX-License-Identifier: MIT */
/* The spawn families: how long a thread, a fork and a fork+exec take to start (same CPU and
 * other CPU), and what memory a forked worker adds when it reads or writes its parent's. */
#include "bench.h"

#include "../ipc/spawn.h"

#include <stdio.h>

/* ---- spawn/<thread|fork|fork-exec>/placement:<same-core|other-core> ------------------------- */

struct latency_case {
    enum ipc_spawn_kind kind;
    bool other_core;
};

/* One iteration is one child; its time is the creation latency (create call to the child's
 * first instruction, see ipc/spawn.h), its round trip a counter. The benchmark process is
 * pinned to cpu_main, so a same-core child starts there without pinning itself. */
static void bm_spawn(gb_state *st, void *arg)
{
    const struct latency_case *c = arg;
    int cpu = c->other_core ? bench_cfg.cpu_other : bench_cfg.cpu_main;
    if (cpu < 0) {
        bench_skip(st, "needs a second CPU");
        return;
    }
    double round_trip = 0, seen = 0, misplaced = 0;
    char err[256];
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_spawn_sample s;
        if (ipc_spawn_once(c->kind, cpu, NULL, &s, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            return;
        }
        gb_set_iteration_time(st, (double)s.start_ns / 1e9);
        round_trip += (double)s.round_trip_ns;
        seen += (double)s.seen_ns;
        if (c->kind != IPC_SPAWN_FORK_EXEC && s.child_cpu != cpu)
            misplaced++;
    }
    gb_counter(st, "round_trip_ns", round_trip, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "seen_ns", seen, GB_COUNTER_AVG_ITERATIONS);
    /* Children that stamped on another CPU than asked: 0 unless pinning silently failed. */
    if (c->kind != IPC_SPAWN_FORK_EXEC)
        gb_counter(st, "misplaced", misplaced, GB_COUNTER_DEFAULT);
}

/* ---- spawn-memory/child:<read|write>/parent_mib:<M> ------------------------------------------ */

/* Children per repetition: the figures hardly vary (page counts), the time does a little. */
#define MEMORY_ITERATIONS 3

static void bm_spawn_memory(gb_state *st, void *arg)
{
    enum ipc_touch touch = *(const enum ipc_touch *)arg;
    size_t mib = (size_t)gb_range(st, 0);
    struct ipc_parent_mem pm;
    int rc = ipc_parent_mem_alloc(&pm, mib);
    if (rc < 0) {
        bench_skip(st,
                   "cannot fill %zu MiB (the parent and a worker's copy must fit in "
                   "MemAvailable): error %d",
                   mib, rc);
        return;
    }
    double rss = 0, pss = 0, uss = 0, pte = 0, prss = 0, ppss = 0, puss = 0, n = 0;
    char err[256];
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_spawn_memory m;
        if (ipc_spawn_memory(&pm, touch, -1, &m, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            ipc_parent_mem_free(&pm);
            return;
        }
        /* The time of an iteration: fork to the worker's pass over the memory done. */
        gb_set_iteration_time(st, (double)m.touch_ns / 1e9);
        rss += (double)m.child.rss_kib;
        pss += (double)m.child.pss_kib;
        uss += (double)m.child.uss_kib;
        pte += (double)m.child.pte_kib;
        prss += (double)m.parent.rss_kib;
        ppss += (double)m.parent.pss_kib;
        puss += (double)m.parent.uss_kib;
        n++;
    }
    ipc_parent_mem_free(&pm);
    if (n == 0)
        return;
    /* Plain values (the mean of this repetition's workers), not rates. */
    gb_counter(st, "rss_kib", rss / n, GB_COUNTER_DEFAULT);
    gb_counter(st, "pss_kib", pss / n, GB_COUNTER_DEFAULT);
    gb_counter(st, "uss_kib", uss / n, GB_COUNTER_DEFAULT);
    gb_counter(st, "pte_kib", pte / n, GB_COUNTER_DEFAULT);
    gb_counter(st, "parent_rss_kib", prss / n, GB_COUNTER_DEFAULT);
    gb_counter(st, "parent_pss_kib", ppss / n, GB_COUNTER_DEFAULT);
    gb_counter(st, "parent_uss_kib", puss / n, GB_COUNTER_DEFAULT);
}

void bench_register_spawn(void)
{
    static const enum ipc_spawn_kind kinds[] = {IPC_SPAWN_THREAD, IPC_SPAWN_FORK,
                                                IPC_SPAWN_FORK_EXEC};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (int other = 0; other <= 1; other++) {
            struct latency_case *c = bench_alloc(sizeof *c);
            *c = (struct latency_case){.kind = kinds[k], .other_core = other};
            char name[128];
            snprintf(name, sizeof name, "spawn/%s/placement:%s", ipc_spawn_kind_name(kinds[k]),
                     other ? "other-core" : "same-core");
            gb_bench *b = gb_register(name, bm_spawn, c);
            gb_use_manual_time(b);
            gb_time_unit(b, GB_US);
        }
    }

    static const enum ipc_touch touches[] = {IPC_TOUCH_READ, IPC_TOUCH_WRITE};
    static const char *const arg_names[] = {"parent_mib"};
    static const int64_t sizes[] = {0, 64, 256, 1024};
    for (size_t t = 0; t < sizeof touches / sizeof touches[0]; t++) {
        enum ipc_touch *arg = bench_alloc(sizeof *arg);
        *arg = touches[t];
        char name[128];
        snprintf(name, sizeof name, "spawn-memory/child:%s", ipc_touch_name(touches[t]));
        gb_bench *b = gb_register(name, bm_spawn_memory, arg);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            gb_args(b, &sizes[i], 1);
        gb_arg_names(b, arg_names, 1);
        gb_use_manual_time(b);
        gb_iterations(b, MEMORY_ITERATIONS);
        gb_time_unit(b, GB_MS);
    }
}
