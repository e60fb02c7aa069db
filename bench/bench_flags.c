/* SPDX-License-Identifier: MIT */
/* The flag families: what one check costs (alone and contended), how long a raise takes to
 * be seen in another process, and the cache-line round trip that bounds it. */
#include "bench.h"

#include "../ipc/clock.h"
#include "../ipc/pool.h"
#include "../ipc/search.h"
#include "../ipc/shared.h"
#include "../ipc/spin.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Checks per batch: enough that the library's per-batch call (about 2 ns) vanishes for inline
 * checks, few enough that a batch of server round trips stays short. */
static int64_t batch_for(const struct flag_ops *ops)
{
    return ops->fast == FLAG_FAST_DISPATCH ? 16 : 4096;
}

static void common_settings(gb_bench *b)
{
    gb_use_real_time(b);
    gb_time_unit(b, GB_NS);
}

/* Measure checks of an attached flag in batches until the library has enough. */
static void measure_checks(gb_state *st, struct flag *f)
{
    int64_t batch = batch_for(f->ops);
    while (gb_keep_running_batch(st, batch)) {
        if (ipc_check_spin(f, (uint64_t)batch) < 0) {
            bench_skip(st, "%s", f->errstr);
            break;
        }
    }
}

/* ---- check/<backend>[/server:<placement>] ------------------------------------------------ */

struct check_case {
    const struct flag_ops *ops;
    enum bench_server_place place;
};

static void bm_check(gb_state *st, void *arg)
{
    const struct check_case *c = arg;
    struct flag f;
    if (bench_flag_open(st, &f, c->ops, c->place, 2) < 0)
        return;
    if (flag_attach(&f) < 0)
        bench_skip(st, "%s", f.errstr);
    else
        measure_checks(st, &f);
    flag_close(&f);
}

/* <family>/<backend>, with /server:<placement> for server backends. */
static void case_name(const char *family, const struct flag_ops *ops,
                      enum bench_server_place place, char *name, size_t len)
{
    if (place == SERVER_NONE)
        snprintf(name, len, "%s/%s", family, ops->name);
    else
        snprintf(name, len, "%s/%s/server:%s", family, ops->name, bench_server_place_name(place));
}

void bench_register_check(void)
{
    for (size_t i = 0; i < flag_backend_count; i++) {
        const struct flag_ops *ops = flag_backends[i];
        if (!bench_backend_selected(ops->name))
            continue;
        bool server = ops->props & FLAG_PROP_SERVER;
        for (int p = server ? SERVER_SAME_CORE : SERVER_NONE;
             p <= (server ? SERVER_OTHER_CORE : SERVER_NONE); p++) {
            struct check_case *c = bench_alloc(sizeof *c);
            *c = (struct check_case){.ops = ops, .place = (enum bench_server_place)p};
            char name[128];
            case_name("check", ops, c->place, name, sizeof name);
            common_settings(gb_register(name, bm_check, c));
        }
    }
}

/* ---- check-contended/<backend>/contender:<kind> ------------------------------------------ */

enum contender { CONTEND_FALSE_SHARING, CONTEND_POLLER };

struct contended_case {
    const struct flag_ops *ops;
    enum contender kind;
};

struct partner_ctl {
    alignas(IPC_CACHELINE) _Atomic uint64_t go;
    alignas(IPC_CACHELINE) _Atomic uint64_t ready;
    alignas(IPC_CACHELINE) _Atomic uint64_t done;
    alignas(IPC_CACHELINE) _Atomic int stop;
    char err[2 * FLAG_ERRSTR_LEN + 32];
};

struct contender_arg {
    struct partner_ctl *ctl;
    struct flag *f;
    enum contender kind;
};

/* The last byte of the flag's 64-byte line: a different variable on the same cache line, the
 * false sharing an unpadded flag suffers from a neighbour that is written all the time. */
#define NEIGHBOUR_OFFSET 63

static int contender(unsigned idx, void *p)
{
    (void)idx;
    struct contender_arg *a = p;
    if (flag_attach(a->f) < 0) {
        snprintf(a->ctl->err, sizeof a->ctl->err, "%s", a->f->errstr);
        return 1;
    }
    volatile unsigned char *neighbour = (unsigned char *)a->f->word + NEIGHBOUR_OFFSET;
    atomic_store(&a->ctl->ready, 1);
    unsigned char v = 0;
    while (!atomic_load_explicit(&a->ctl->stop, memory_order_relaxed)) {
        if (a->kind == CONTEND_FALSE_SHARING) {
            for (int i = 0; i < 256; i++)
                *neighbour = ++v;
        } else if (ipc_check_spin(a->f, 256) < 0) {
            snprintf(a->ctl->err, sizeof a->ctl->err, "%s", a->f->errstr);
            return 1;
        }
    }
    flag_detach(a->f);
    return 0;
}

/* Wait until *word reaches want; false on timeout or when the partner pool is gone. */
static bool wait_for(_Atomic uint64_t *word, uint64_t want)
{
    return ipc_spin_until(word, want, IPC_SPIN_PARTNER_TIMEOUT_NS);
}

/* Start one partner process pinned to the other CPU. */
static int start_partner(gb_state *st, struct ipc_pool *pool, ipc_worker_fn fn, void *arg)
{
    if (bench_cfg.cpu_other < 0) {
        bench_skip(st, "needs a second CPU for the partner process");
        return -1;
    }
    int rc = ipc_pool_start(pool, 1, fn, arg, &bench_cfg.cpu_other, 1);
    if (rc < 0) {
        bench_skip(st, "cannot start the partner process: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

static void stop_partner(struct ipc_pool *pool, struct partner_ctl *ctl)
{
    atomic_store(&ctl->stop, 1);
    ipc_pool_wait(pool, 10000, NULL);
    ipc_pool_destroy(pool);
}

static void bm_check_contended(gb_state *st, void *p)
{
    const struct contended_case *c = p;
    struct flag f;
    if (bench_flag_open(st, &f, c->ops, SERVER_SAME_CORE, 3) < 0)
        return;
    struct partner_ctl *ctl = ipc_shared_alloc(sizeof *ctl);
    struct contender_arg arg = {.ctl = ctl, .f = &f, .kind = c->kind};
    struct ipc_pool pool;
    if (!ctl) {
        bench_skip(st, "shared memory: %s", strerror(errno));
    } else if (start_partner(st, &pool, contender, &arg) == 0) {
        if (!wait_for(&ctl->ready, 1))
            bench_skip(st, "the contender did not start: %s", ctl->err);
        else if (flag_attach(&f) < 0)
            bench_skip(st, "%s", f.errstr);
        else
            measure_checks(st, &f);
        stop_partner(&pool, ctl);
        if (ctl->err[0] && !gb_error_occurred(st))
            bench_skip(st, "contender: %s", ctl->err);
    }
    ipc_shared_free(ctl, sizeof *ctl);
    flag_close(&f);
}

void bench_register_check_contended(void)
{
    static const char *const kinds[] = {"false-sharing", "poller"};
    for (size_t i = 0; i < flag_backend_count; i++) {
        const struct flag_ops *ops = flag_backends[i];
        if (!bench_backend_selected(ops->name) || !(ops->props & FLAG_PROP_SHARED))
            continue;
        /* False sharing needs a flag that is a word in shared memory. */
        bool word = ops->fast == FLAG_FAST_ACQUIRE || ops->fast == FLAG_FAST_VOLATILE ||
                    ops->fast == FLAG_FAST_MUTEX;
        for (int k = word ? CONTEND_FALSE_SHARING : CONTEND_POLLER; k <= CONTEND_POLLER; k++) {
            struct contended_case *c = bench_alloc(sizeof *c);
            *c = (struct contended_case){.ops = ops, .kind = (enum contender)k};
            char name[128];
            snprintf(name, sizeof name, "check-contended/%s/contender:%s", ops->name, kinds[k]);
            common_settings(gb_register(name, bm_check_contended, c));
        }
    }
}

/* ---- raise-to-seen/<backend>[/server:<placement>] ---------------------------------------- */

/*
 * A ping-pong through two flags of the backend, the benchmark process (raiser of `ping`) on
 * cpu_main and the partner on cpu_other: the raiser stamps the clock, raises ping and spins
 * on pong; the partner spins on ping and raises pong. Half the round trip is one raise seen in
 * another process. Between rounds both detach and the raiser resets both flags, the only
 * order the flag contract allows (a reset with nobody attached), then both attach again:
 * that set-up is outside the time reported (manual time).
 */
struct rts_arg {
    struct partner_ctl *ctl;
    struct flag *ping, *pong;
};

/* Spin on a flag until raised; 1, or -1 with the reason in err (timeout or error). */
static int spin_until_raised(struct flag *f, char *err, size_t len)
{
    uint64_t t0 = ipc_now_ns();
    for (;;) {
        int64_t r = ipc_check_spin(f, 1);
        if (r > 0)
            return 1;
        if (r < 0) {
            snprintf(err, len, "%s", f->errstr);
            return -1;
        }
        if (ipc_now_ns() - t0 > IPC_SPIN_PARTNER_TIMEOUT_NS) {
            snprintf(err, len, "%s: a raise was not seen within 10 s", f->ops->name);
            return -1;
        }
    }
}

static int rts_partner(unsigned idx, void *p)
{
    (void)idx;
    struct rts_arg *a = p;
    struct partner_ctl *ctl = a->ctl;
    uint64_t last = 0;
    for (;;) {
        uint64_t go;
        while ((go = atomic_load(&ctl->go)) == last) {
            if (atomic_load(&ctl->stop))
                return 0;
            ipc_cpu_relax();
        }
        last = go;
        if (flag_attach(a->ping) < 0 || flag_attach(a->pong) < 0) {
            snprintf(ctl->err, sizeof ctl->err, "partner attach: %s %s", a->ping->errstr,
                     a->pong->errstr);
            return 1;
        }
        atomic_store(&ctl->ready, go);
        if (spin_until_raised(a->ping, ctl->err, sizeof ctl->err) < 0)
            return 1;
        if (flag_raise(a->pong) < 0) {
            snprintf(ctl->err, sizeof ctl->err, "%s", a->pong->errstr);
            return 1;
        }
        flag_detach(a->ping);
        flag_detach(a->pong);
        atomic_store(&ctl->done, go);
    }
}

/* One round as the raiser; the round trip in ns, or 0 after gb_skip_with_error. */
static uint64_t rts_round(gb_state *st, struct rts_arg *a, uint64_t round)
{
    struct partner_ctl *ctl = a->ctl;
    atomic_store(&ctl->go, round);
    if (!wait_for(&ctl->ready, round)) {
        bench_skip(st, "the partner did not attach: %s", ctl->err);
        return 0;
    }
    if (flag_attach(a->ping) < 0 || flag_attach(a->pong) < 0) {
        bench_skip(st, "attach: %s %s", a->ping->errstr, a->pong->errstr);
        return 0;
    }
    char err[FLAG_ERRSTR_LEN] = "";
    uint64_t t0 = ipc_now_ns();
    int rc = flag_raise(a->ping);
    if (rc == 0)
        rc = spin_until_raised(a->pong, err, sizeof err);
    uint64_t t1 = ipc_now_ns();
    flag_detach(a->ping);
    flag_detach(a->pong);
    if (rc < 0) {
        bench_skip(st, "%s%s", err[0] ? err : a->ping->errstr, ctl->err);
        return 0;
    }
    if (!wait_for(&ctl->done, round)) {
        bench_skip(st, "the partner did not finish the round: %s", ctl->err);
        return 0;
    }
    if (flag_reset(a->ping) < 0 || flag_reset(a->pong) < 0) {
        bench_skip(st, "reset: %s %s", a->ping->errstr, a->pong->errstr);
        return 0;
    }
    return t1 - t0 ? t1 - t0 : 1;
}

static void bm_raise_to_seen(gb_state *st, void *p)
{
    const struct check_case *c = p;
    struct flag ping, pong;
    if (bench_flag_open(st, &ping, c->ops, c->place, 3) < 0)
        return;
    if (bench_flag_open(st, &pong, c->ops, c->place, 3) < 0) {
        flag_close(&ping);
        return;
    }
    struct partner_ctl *ctl = ipc_shared_alloc(sizeof *ctl);
    struct rts_arg arg = {.ctl = ctl, .ping = &ping, .pong = &pong};
    struct ipc_pool pool;
    if (!ctl) {
        bench_skip(st, "shared memory: %s", strerror(errno));
    } else if (start_partner(st, &pool, rts_partner, &arg) == 0) {
        uint64_t round = 0, total_ns = 0;
        while (gb_keep_running_batch(st, 1)) {
            uint64_t rtt = rts_round(st, &arg, ++round);
            if (!rtt)
                break;
            total_ns += rtt;
            gb_set_iteration_time(st, (double)rtt / 2e9);
        }
        if (!gb_error_occurred(st))
            gb_counter(st, "round_trip_ns", (double)total_ns, GB_COUNTER_AVG_ITERATIONS);
        stop_partner(&pool, ctl);
    }
    ipc_shared_free(ctl, sizeof *ctl);
    flag_close(&pong);
    flag_close(&ping);
}

void bench_register_raise_to_seen(void)
{
    for (size_t i = 0; i < flag_backend_count; i++) {
        const struct flag_ops *ops = flag_backends[i];
        if (!bench_backend_selected(ops->name) || !(ops->props & FLAG_PROP_SHARED))
            continue;
        bool server = ops->props & FLAG_PROP_SERVER;
        for (int p = server ? SERVER_SAME_CORE : SERVER_NONE;
             p <= (server ? SERVER_OTHER_CORE : SERVER_NONE); p++) {
            struct check_case *c = bench_alloc(sizeof *c);
            *c = (struct check_case){.ops = ops, .place = (enum bench_server_place)p};
            char name[128];
            case_name("raise-to-seen", ops, c->place, name, sizeof name);
            gb_bench *b = gb_register(name, bm_raise_to_seen, c);
            gb_use_manual_time(b);
            /* Rounds re-attach (a server connection, a ring): fewer for the costly kinds. */
            int rounds = bench_cfg.raise_rounds;
            if (ops->fast == FLAG_FAST_DISPATCH)
                rounds = rounds / 10 > 0 ? rounds / 10 : 1;
            gb_iterations(b, rounds);
            gb_time_unit(b, GB_NS);
        }
    }
}

/* ---- cacheline/pingpong --------------------------------------------------------------------- */

/* The floor under every in-memory raise-to-seen: one cache line handed to the other core and
 * back. One variable, as the flag is: the benchmark process writes an odd value, the partner
 * answers with the next even one, so each round trip is exactly two line transfers. */
struct pingpong {
    alignas(IPC_CACHELINE) _Atomic uint64_t ball;
    alignas(IPC_CACHELINE) _Atomic int stop;
};

static int pong_partner(unsigned idx, void *p)
{
    (void)idx;
    struct pingpong *pp = p;
    while (!atomic_load_explicit(&pp->stop, memory_order_relaxed)) {
        uint64_t v = atomic_load_explicit(&pp->ball, memory_order_acquire);
        if (v & 1)
            atomic_store_explicit(&pp->ball, v + 1, memory_order_release);
    }
    return 0;
}

static void bm_cacheline(gb_state *st, void *arg)
{
    (void)arg;
    struct pingpong *pp = ipc_shared_alloc(sizeof *pp);
    struct ipc_pool pool;
    if (!pp) {
        bench_skip(st, "shared memory: %s", strerror(errno));
        return;
    }
    if (start_partner(st, &pool, pong_partner, pp) == 0) {
        const int64_t batch = 256;
        uint64_t ball = 0, t0 = ipc_now_ns();
        while (gb_keep_running_batch(st, batch)) {
            for (int64_t i = 0; i < batch; i++) {
                atomic_store_explicit(&pp->ball, ++ball, memory_order_release);
                ball++;
                uint64_t spins = 0;
                while (atomic_load_explicit(&pp->ball, memory_order_acquire) != ball) {
                    if (++spins > (1ull << 32)) {
                        bench_skip(st, "the partner stopped answering");
                        goto out;
                    }
                }
            }
        }
        gb_counter(st, "one_way_ns", (double)(ipc_now_ns() - t0) / 2,
                   GB_COUNTER_AVG_ITERATIONS);
    out:
        atomic_store(&pp->stop, 1);
        ipc_pool_wait(&pool, 10000, NULL);
        ipc_pool_destroy(&pool);
    }
    ipc_shared_free(pp, sizeof *pp);
}

void bench_register_cacheline(void)
{
    char name[64];
    snprintf(name, sizeof name, "cacheline/pingpong/cpus:%d-%d", bench_cfg.cpu_main,
             bench_cfg.cpu_other);
    common_settings(gb_register(name, bm_cacheline, NULL));
}
