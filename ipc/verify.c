/* SPDX-License-Identifier: MIT */
/* The prime-verification harness: run a strategy for one number and account for its checks. */
#include "verify.h"

#include "clock.h"
#include "cpu.h"
#include "pool.h"
#include "search.h"
#include "shared.h"

#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

/* One slot per worker, each on its own cache lines so workers never write a shared line. */
struct slot {
    alignas(IPC_CACHELINE) struct ipc_search_out out;
    char errstr[FLAG_ERRSTR_LEN];
};

struct ipc_verify_ctl {
    alignas(IPC_CACHELINE) _Atomic uint64_t raise_ns;
    struct slot slots[];
};

static const char *const strategy_names[] = {
    [IPC_STRATEGY_SERIAL] = "serial",
    [IPC_STRATEGY_POOL] = "pool",
    [IPC_STRATEGY_LESS_NAIVE] = "less-naive",
};

const char *ipc_strategy_name(enum ipc_strategy s)
{
    return (unsigned)s < sizeof strategy_names / sizeof strategy_names[0] ? strategy_names[s] : "?";
}

int ipc_strategy_parse(const char *name, enum ipc_strategy *out)
{
    for (unsigned i = 0; i < sizeof strategy_names / sizeof strategy_names[0]; i++) {
        if (strcmp(name, strategy_names[i]) == 0) {
            *out = (enum ipc_strategy)i;
            return 0;
        }
    }
    return -EINVAL;
}

void ipc_verify_opts_default(struct ipc_verify_opts *o, const int *cpus, int ncpus)
{
    *o = (struct ipc_verify_opts){
        .strategy = IPC_STRATEGY_POOL,
        .workers = ncpus > 0 ? (unsigned)ncpus : 1,
        .check_every = 1000,
        .serial_cutoff = 21,
        .cpus = ncpus > 0 ? cpus : NULL,
        .ncpus = ncpus > 0 ? ncpus : 0,
    };
}

static int fail(struct ipc_verify *v, int err, const char *fmt, const char *arg)
{
    snprintf(v->errstr, sizeof v->errstr, fmt, arg);
    return err;
}

/* Work the parent does itself (calibration, serial search) runs where worker 0 would, so its
 * figures do not depend on where the scheduler happened to put the parent. */
static bool pin_self(const struct ipc_verify *v, cpu_set_t *saved)
{
    if (!v->opts.cpus || v->opts.ncpus < 1 || sched_getaffinity(0, sizeof *saved, saved) < 0)
        return false;
    return ipc_cpu_pin(v->opts.cpus[0]) == 0;
}

static void unpin_self(bool pinned, const cpu_set_t *saved)
{
    if (pinned)
        sched_setaffinity(0, sizeof *saved, saved);
}

int ipc_verify_init(struct ipc_verify *v, struct flag *f, const struct ipc_verify_opts *o)
{
    memset(v, 0, sizeof *v);
    v->flag = f;
    v->opts = *o;
    if (o->workers < 1 || o->workers > IPC_VERIFY_MAX_WORKERS || o->check_every < 1)
        return fail(v, -EINVAL, "invalid options: workers 1..1024 and check_every >= 1%s", "");
    v->ctl_size = sizeof(struct ipc_verify_ctl) + o->workers * sizeof(struct slot);
    v->ctl = ipc_shared_alloc(v->ctl_size);
    if (!v->ctl)
        return fail(v, -errno, "shared result slots: %s", strerror(errno));
    cpu_set_t saved;
    bool pinned = pin_self(v, &saved);
    int rc = flag_attach(f);
    if (rc == 0) {
        rc = ipc_check_cost(f, &v->check_cost_ns);
        int rc2 = flag_detach(f);
        if (rc == 0)
            rc = rc2;
    }
    unpin_self(pinned, &saved);
    if (rc < 0) {
        fail(v, rc, "%s", f->errstr);
        ipc_verify_fini(v);
        return rc;
    }
    return 0;
}

void ipc_verify_fini(struct ipc_verify *v)
{
    ipc_shared_free(v->ctl, v->ctl_size);
    v->ctl = NULL;
}

static void search_range(struct ipc_verify *v, struct wl_range r, struct ipc_search_out *out)
{
    struct ipc_search s = {
        .n = v->n,
        .range = r,
        .check_every = v->opts.check_every,
        .flag = v->flag,
        .raise_ns = &v->ctl->raise_ns,
    };
    ipc_search_run(&s, out);
}

/* Runs in a forked worker: its own connection/mapping via attach, its subrange, its slot. */
static int worker(unsigned idx, void *arg)
{
    struct ipc_verify *v = arg;
    struct slot *slot = &v->ctl->slots[idx];
    struct flag *f = v->flag;
    if (flag_attach(f) < 0) {
        memcpy(slot->errstr, f->errstr, sizeof slot->errstr);
        return 1;
    }
    search_range(v, wl_range_split(v->pool_range, v->parts, idx), &slot->out);
    if (slot->out.err < 0)
        memcpy(slot->errstr, f->errstr, sizeof slot->errstr);
    flag_detach(f);
    return slot->out.err < 0 ? 1 : 0;
}

/* Fold one search's figures into the result. */
static void account(struct ipc_verify_result *r, const struct ipc_search_out *o,
                    uint64_t *last_stop)
{
    r->candidates += o->candidates;
    r->checks += o->checks;
    if (o->factor && (!r->factor || o->factor < r->factor))
        r->factor = o->factor;
    if (o->stop_ns > *last_stop)
        *last_stop = o->stop_ns;
}

static int run_serial(struct ipc_verify *v, struct wl_range r, struct ipc_verify_result *res,
                      uint64_t *last_stop)
{
    struct flag *f = v->flag;
    cpu_set_t saved;
    bool pinned = pin_self(v, &saved);
    int rc = flag_attach(f);
    if (rc < 0) {
        unpin_self(pinned, &saved);
        return fail(v, rc, "%s", f->errstr);
    }
    struct ipc_search_out out;
    search_range(v, r, &out);
    flag_detach(f);
    unpin_self(pinned, &saved);
    if (out.err < 0)
        return fail(v, out.err, "%s", f->errstr);
    account(res, &out, last_stop);
    return 0;
}

static int run_pool(struct ipc_verify *v, struct wl_range r, struct ipc_verify_result *res,
                    uint64_t *last_stop)
{
    uint64_t count = wl_range_count(r);
    v->pool_range = r;
    v->parts = count < v->opts.workers ? (unsigned)count : v->opts.workers;
    if (v->parts == 0)
        return 0;
    memset(v->ctl->slots, 0, v->parts * sizeof(struct slot));
    struct ipc_pool pool;
    int rc = ipc_pool_start(&pool, v->parts, worker, v, v->opts.cpus, v->opts.ncpus);
    if (rc < 0)
        return fail(v, rc, "cannot start the workers: %s", strerror(-rc));
    res->processes = v->parts;
    unsigned failed = 0;
    rc = ipc_pool_wait(&pool, -1, &failed);
    if (rc == 1) {
        char how[128];
        ipc_pool_describe(&pool, failed, how, sizeof how);
        const char *why = v->ctl->slots[failed].errstr;
        if (why[0])
            snprintf(v->errstr, sizeof v->errstr, "worker %u (pid %d) failed: %s", failed,
                     (int)pool.procs[failed].pid, why);
        else
            snprintf(v->errstr, sizeof v->errstr, "worker %u (pid %d) %s", failed,
                     (int)pool.procs[failed].pid, how);
        rc = -ECHILD;
    } else if (rc < 0) {
        fail(v, rc, "waiting for the workers: %s", strerror(-rc));
    }
    ipc_pool_destroy(&pool);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < v->parts; i++)
        account(res, &v->ctl->slots[i].out, last_stop);
    return 0;
}

uint64_t ipc_verify_max_check_every(const struct ipc_verify_opts *o, uint64_t n)
{
    if (n < 3 || n % 2 == 0)
        return 1; /* no search loop runs */
    uint64_t count;
    unsigned parts = o->workers;
    switch (o->strategy) {
    case IPC_STRATEGY_SERIAL:
        count = wl_range_count(wl_prime_candidates(n, 3));
        parts = 1;
        break;
    case IPC_STRATEGY_LESS_NAIVE:
        count = wl_range_count(
            wl_prime_candidates(n, o->serial_cutoff > 3 ? o->serial_cutoff : 3));
        break;
    default:
        count = wl_range_count(wl_prime_candidates(n, 3));
    }
    if (parts < 1)
        parts = 1;
    uint64_t most = count / parts + (count % parts != 0);
    return most ? most : 1;
}

int ipc_verify_number(struct ipc_verify *v, uint64_t n, struct ipc_verify_result *r)
{
    *r = (struct ipc_verify_result){.n = n, .stop_latency_ns = -1};
    v->errstr[0] = '\0';
    int rc = flag_reset(v->flag);
    if (rc < 0)
        return fail(v, rc, "%s", v->flag->errstr);
    atomic_store(&v->ctl->raise_ns, 0);
    v->n = n;
    uint64_t t0 = ipc_now_ns(), last_stop = 0;

    if (n < 2)
        goto done; /* 0 and 1: not prime, no factor */
    if (n > 2)
        r->candidates = 1; /* the division by 2 */
    if (n % 2 == 0) {
        r->factor = n == 2 ? 0 : 2;
        goto done;
    }
    struct wl_range all = wl_prime_candidates(n, 3);
    switch (v->opts.strategy) {
    case IPC_STRATEGY_SERIAL:
        rc = run_serial(v, all, r, &last_stop);
        break;
    case IPC_STRATEGY_POOL:
        rc = run_pool(v, all, r, &last_stop);
        break;
    case IPC_STRATEGY_LESS_NAIVE: {
        /* The chapter's refinement: most composites have a small factor, found faster by
         * the parent alone than by starting a pool. No flag here, as in the chapter. */
        struct wl_range small = wl_prime_candidates_below(n, v->opts.serial_cutoff);
        r->factor = wl_trial_divide(n, small);
        r->candidates += r->factor ? (r->factor - small.lo) / 2 + 1 : wl_range_count(small);
        if (!r->factor) {
            uint64_t from = v->opts.serial_cutoff > 3 ? v->opts.serial_cutoff : 3;
            rc = run_pool(v, wl_prime_candidates(n, from), r, &last_stop);
        }
        break;
    }
    default:
        rc = fail(v, -EINVAL, "unknown strategy%s", "");
    }
    if (rc < 0)
        return rc;
done:
    r->wall_ns = ipc_now_ns() - t0;
    r->prime = n >= 2 && r->factor == 0;
    r->check_ns = (double)r->checks * v->check_cost_ns;
    uint64_t raised = atomic_load(&v->ctl->raise_ns);
    if (raised)
        r->stop_latency_ns = last_stop > raised ? (int64_t)(last_stop - raised) : 0;
    return 0;
}
