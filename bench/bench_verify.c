/* SPDX-License-Identifier: MIT */
/* The end-to-end families: the chapter's five numbers per strategy and backend, and the sweep
 * of the check interval that shows where a check's cost disappears into the work and where
 * checking too rarely delays the stop. */
#include "bench.h"

#include "../ipc/calibrate.h"
#include "../ipc/clock.h"
#include "../ipc/cost_model.h"
#include "../ipc/verify.h"
#include "../workloads/prime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint64_t book_numbers[] = {
    112272535095295u, 100109100129100369u, 100109100129101027u,
    100109100129100151u, 100109100129162907u,
};

/* Both families: two workers, pinned to the two CPUs, as the chapter's pool but on this
 * machine's cores; a server (if any) shares the first CPU. */
static int harness_cpus[2];

static int harness_open(gb_state *st, struct flag *f, const struct flag_ops *ops,
                        struct ipc_verify *v, enum ipc_strategy strategy, uint64_t every)
{
    if (bench_cfg.cpu_other < 0) {
        bench_skip(st, "needs two CPUs for the two workers");
        return -1;
    }
    if (bench_flag_open(st, f, ops, SERVER_SAME_CORE, 3) < 0)
        return -1;
    harness_cpus[0] = bench_cfg.cpu_main;
    harness_cpus[1] = bench_cfg.cpu_other;
    struct ipc_verify_opts o = {
        .strategy = strategy,
        .workers = 2,
        .check_every = every,
        .serial_cutoff = 21,
        .cpus = harness_cpus,
        .ncpus = 2,
    };
    if (ipc_verify_init(v, f, &o) < 0) {
        bench_skip(st, "%s", v->errstr);
        flag_close(f);
        return -1;
    }
    return 0;
}

static void harness_close(struct flag *f, struct ipc_verify *v)
{
    ipc_verify_fini(v);
    flag_close(f);
}

/* ---- verify/<strategy>/<backend>/check_every:<K> -------------------------------------------- */

struct verify_case {
    const struct flag_ops *ops;
    enum ipc_strategy strategy;
};

static void bm_verify(gb_state *st, void *p)
{
    const struct verify_case *c = p;
    struct flag f;
    struct ipc_verify v;
    if (harness_open(st, &f, c->ops, &v, c->strategy, (uint64_t)gb_range(st, 0)) < 0)
        return;
    double checks = 0, candidates = 0, stop_sum = 0;
    unsigned stops = 0;
    while (gb_keep_running_batch(st, 1)) {
        for (size_t i = 0; i < sizeof book_numbers / sizeof book_numbers[0]; i++) {
            struct ipc_verify_result r;
            if (ipc_verify_number(&v, book_numbers[i], &r) < 0) {
                bench_skip(st, "%s", v.errstr);
                goto out;
            }
            checks += (double)r.checks;
            candidates += (double)r.candidates;
            if (r.stop_latency_ns >= 0) {
                stop_sum += (double)r.stop_latency_ns;
                stops++;
            }
        }
    }
    gb_counter(st, "checks", checks, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "candidates", candidates, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "ns_per_check", v.check_cost_ns, GB_COUNTER_DEFAULT);
    if (stops)
        gb_counter(st, "stop_latency_ns", stop_sum / stops, GB_COUNTER_DEFAULT);
out:
    harness_close(&f, &v);
}

void bench_register_verify(void)
{
    static const char *const arg_names[] = {"check_every"};
    const int64_t every = 1000; /* the chapter's interval; the sweep varies it */
    for (int s = IPC_STRATEGY_SERIAL; s <= IPC_STRATEGY_LESS_NAIVE; s++) {
        for (size_t i = 0; i < flag_backend_count; i++) {
            const struct flag_ops *ops = flag_backends[i];
            if (!bench_backend_selected(ops->name))
                continue;
            struct verify_case *c = bench_alloc(sizeof *c);
            *c = (struct verify_case){.ops = ops, .strategy = (enum ipc_strategy)s};
            char name[128];
            snprintf(name, sizeof name, "verify/%s/%s", ipc_strategy_name(c->strategy),
                     ops->name);
            gb_bench *b = gb_register(name, bm_verify, c);
            gb_args(b, &every, 1);
            gb_arg_names(b, arg_names, 1);
            gb_use_real_time(b);
            gb_iterations(b, 1);
            gb_time_unit(b, GB_MS);
        }
    }
}

/* ---- sweep/<backend>/check_every:<K>/composite:<0|1> ---------------------------------------- */

/*
 * Every point is paired: the same number verified without a flag (`none`) and with the
 * backend, back to back, so the overhead is a ratio measured under the same conditions.
 * A server check every candidate costs thousands of times the division it guards, so the
 * number is picked per point from a ladder: the largest whose predicted time fits the
 * budget (--sweep-budget). Primes try every candidate; composites have their smallest factor
 * at 30% of the square root, in worker 0's half, so worker 1 must be stopped by the flag.
 */
static const uint64_t prime_ladder[] = {
    100000000000000003u, 1000000000000037u, 10000000000037u, 100000000003u, 1000000007u,
};
static const uint64_t composite_ladder[] = {
    100000000063137227u, /* 94868329 x 1054092563 */
    999999994620853u,    /* 9486847 x 105409099 */
    10000004567569u,     /* 948707 x 10540667 */
    100000221539u,       /* 94873 x 1054043 */
    1000038197u,         /* 9491 x 105367 */
};
#define LADDER (sizeof prime_ladder / sizeof prime_ladder[0])

static uint64_t pick_number(bool composite, uint64_t every, double check_ns)
{
    const uint64_t *ladder = composite ? composite_ladder : prime_ladder;
    for (size_t i = 0; i < LADDER; i++) {
        double cand = (double)wl_range_count(wl_prime_candidates(ladder[i], 3));
        double predicted = cand / 2 * (ipc_calibrate_work_ns() + check_ns / (double)every) / 1e9;
        if (predicted <= bench_cfg.sweep_budget)
            return ladder[i];
    }
    return ladder[LADDER - 1];
}

/* The two harnesses of a paired point: the backend's and the `none` baseline's. */
struct paired {
    struct flag f, fnone;
    struct ipc_verify v, vnone;
    struct ipc_cost_inputs model; /* the cost model's inputs for the backend, this placement */
};

static int paired_open(gb_state *st, struct paired *p, const struct flag_ops *ops, uint64_t every)
{
    if (harness_open(st, &p->f, ops, &p->v, IPC_STRATEGY_POOL, every) < 0)
        return -1;
    if (harness_open(st, &p->fnone, flag_backend_find("none"), &p->vnone, IPC_STRATEGY_POOL,
                     every) < 0) {
        harness_close(&p->f, &p->v);
        return -1;
    }
    char why[256];
    if (ipc_calibrate(&p->f, harness_cpus, 2, &p->model, why, sizeof why) < 0) {
        bench_skip(st, "calibrating the cost model: %s", why);
        harness_close(&p->fnone, &p->vnone);
        harness_close(&p->f, &p->v);
        return -1;
    }
    return 0;
}

static void paired_close(struct paired *p)
{
    harness_close(&p->fnone, &p->vnone);
    harness_close(&p->f, &p->v);
}

/*
 * Verify n without a flag and with the backend, back to back, once per iteration; report
 * the overhead (wall with / without - 1), the stop latency, and the model's inputs and
 * predictions at the backend's interval next to them. 0, or -1 after bench_skip.
 */
static int paired_measure(gb_state *st, struct paired *p, uint64_t n)
{
    char label[96];
    snprintf(label, sizeof label, "n=%llu", (unsigned long long)n);
    gb_set_label(st, label);
    double ratio_sum = 0, none_sum = 0, stop_sum = 0, checks = 0;
    unsigned stops = 0;
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_verify_result base, r;
        if (ipc_verify_number(&p->vnone, n, &base) < 0 || ipc_verify_number(&p->v, n, &r) < 0) {
            bench_skip(st, "%s%s", p->vnone.errstr, p->v.errstr);
            return -1;
        }
        gb_set_iteration_time(st, (double)r.wall_ns / 1e9);
        ratio_sum += (double)r.wall_ns / (double)base.wall_ns - 1;
        none_sum += (double)base.wall_ns;
        checks += (double)r.checks;
        if (r.stop_latency_ns >= 0) {
            stop_sum += (double)r.stop_latency_ns;
            stops++;
        }
    }
    uint64_t k = p->v.opts.check_every, max_k = ipc_verify_max_check_every(&p->v.opts, n);
    uint64_t k_eff = k < max_k ? k : max_k; /* beyond max_k nothing is checked */
    const struct ipc_cost_inputs *m = &p->model;
    gb_counter(st, "overhead", ratio_sum, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "wall_none_ns", none_sum, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "checks", checks, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "ns_per_check", p->v.check_cost_ns, GB_COUNTER_DEFAULT);
    gb_counter(st, "candidates", (double)wl_range_count(wl_prime_candidates(n, 3)),
               GB_COUNTER_DEFAULT);
    if (stops)
        gb_counter(st, "stop_latency_ns", stop_sum / stops, GB_COUNTER_DEFAULT);
    gb_counter(st, "k", (double)k, GB_COUNTER_DEFAULT);
    gb_counter(st, "work_ns", m->work_ns, GB_COUNTER_DEFAULT);
    gb_counter(st, "model_check_ns", m->check_ns, GB_COUNTER_DEFAULT);
    gb_counter(st, "predicted_overhead", ipc_cost_overhead(m, k_eff), GB_COUNTER_DEFAULT);
    if (m->raise_ns >= 0) {
        gb_counter(st, "raise_ns", m->raise_ns, GB_COUNTER_DEFAULT);
        gb_counter(st, "predicted_stop_ns", ipc_cost_stop_avg_ns(m, k_eff), GB_COUNTER_DEFAULT);
    }
    return 0;
}

static void bm_sweep(gb_state *st, void *arg)
{
    const struct flag_ops *ops = arg;
    uint64_t every = (uint64_t)gb_range(st, 0);
    bool composite = gb_range(st, 1) != 0;
    struct paired p;
    if (paired_open(st, &p, ops, every) < 0)
        return;
    paired_measure(st, &p, pick_number(composite, every, p.v.check_cost_ns));
    paired_close(&p);
}

void bench_register_sweep(void)
{
    static const char *const arg_names[] = {"check_every", "composite"};
    for (size_t i = 0; i < flag_backend_count; i++) {
        const struct flag_ops *ops = flag_backends[i];
        if (!bench_backend_selected(ops->name) || ops->fast == FLAG_FAST_NOCHECK)
            continue;
        char name[128];
        snprintf(name, sizeof name, "sweep/%s", ops->name);
        gb_bench *b = gb_register(name, bm_sweep, (void *)ops);
        for (int composite = 0; composite <= 1; composite++) {
            for (int64_t k = 1; k <= 1000000; k *= 10) {
                int64_t args[2] = {k, composite};
                gb_args(b, args, 2);
            }
        }
        gb_arg_names(b, arg_names, 2);
        gb_use_manual_time(b);
        gb_iterations(b, 1);
        gb_time_unit(b, GB_MS);
    }
}

/* ---- model/<backend>/interval:<auto|1000>/number:<prime|composite> -------------------------- */

/*
 * The cost model put to the test on the chapter's scale: the interval the model chooses for
 * a 1% overhead (as `ipclab verify --check-every auto` does) against the chapter's fixed
 * 1000, each paired with the `none` baseline like a sweep point, on the chapter's 18-digit
 * prime (overhead: every candidate is tried) and on a composite whose smallest factor lies at
 * 30% of its square root, in worker 0's half (stop latency: worker 1 is stopped by the flag).
 */
static const uint64_t model_numbers[] = {
    100109100129100151u, /* the chapter's prime */
    100000000063137227u, /* 94868329 x 1054092563 */
};
#define MODEL_BOOK_EVERY 1000

struct model_case {
    const struct flag_ops *ops;
    bool fixed;     /* the chapter's K = 1000, else the model's choice */
    bool composite; /* model_numbers[1], else [0] */
};

static void bm_model(gb_state *st, void *arg)
{
    const struct model_case *c = arg;
    uint64_t n = model_numbers[c->composite];
    struct paired p;
    if (paired_open(st, &p, c->ops, MODEL_BOOK_EVERY) < 0)
        return;
    if (!c->fixed) {
        uint64_t k;
        ipc_cost_choose_k(&p.model, IPC_COST_DEFAULT_TARGET,
                          ipc_verify_max_check_every(&p.v.opts, n), &k);
        p.v.opts.check_every = k;
    }
    if (paired_measure(st, &p, n) == 0)
        gb_counter(st, "target", c->fixed ? 0 : IPC_COST_DEFAULT_TARGET, GB_COUNTER_DEFAULT);
    paired_close(&p);
}

void bench_register_model(void)
{
    for (size_t i = 0; i < flag_backend_count; i++) {
        const struct flag_ops *ops = flag_backends[i];
        if (!bench_backend_selected(ops->name) || !(ops->props & FLAG_PROP_SHARED))
            continue;
        for (int fixed = 0; fixed <= 1; fixed++) {
            for (int composite = 0; composite <= 1; composite++) {
                struct model_case *c = bench_alloc(sizeof *c);
                *c = (struct model_case){.ops = ops, .fixed = fixed, .composite = composite};
                char name[128];
                snprintf(name, sizeof name, "model/%s/interval:%s/number:%s", ops->name,
                         fixed ? "1000" : "auto", composite ? "composite" : "prime");
                gb_bench *b = gb_register(name, bm_model, c);
                gb_use_manual_time(b);
                gb_iterations(b, 1);
                gb_time_unit(b, GB_MS);
            }
        }
    }
}
