/* SPDX-License-Identifier: MIT */
/* The prime-verification harness: serial, pool and less-naive strategies over a flag. */
#ifndef IPCLAB_IPC_VERIFY_H
#define IPCLAB_IPC_VERIFY_H

#include "../flags/flag.h"
#include "../workloads/prime.h"

#include <stdbool.h>
#include <stdint.h>

enum ipc_strategy {
    IPC_STRATEGY_SERIAL,     /* the parent tries every candidate itself */
    IPC_STRATEGY_POOL,       /* the chapter's naive pool: W contiguous subranges, W processes */
    IPC_STRATEGY_LESS_NAIVE, /* small factors serially first, then the pool */
};

#define IPC_VERIFY_MAX_WORKERS 1024

/* Name <-> value; parse returns 0 or -EINVAL. */
const char *ipc_strategy_name(enum ipc_strategy s);
int ipc_strategy_parse(const char *name, enum ipc_strategy *out);

struct ipc_verify_opts {
    enum ipc_strategy strategy;
    unsigned workers;       /* 1..IPC_VERIFY_MAX_WORKERS */
    uint64_t check_every;   /* K >= 1: a flag check after every K candidates */
    uint64_t serial_cutoff; /* less-naive: candidates below this are tried serially first */
    const int *cpus;        /* worker i is pinned to cpus[i % ncpus]; NULL: no pinning */
    int ncpus;
};

/* `ipclab verify`'s defaults: the chapter's pool with one worker per CPU of cpus[0..ncpus),
 * worker i pinned to cpus[i] (ncpus < 1: one worker, nothing pinned), a check every 1000
 * candidates, small factors below 21 tried first by less-naive. cpus must outlive *o. */
void ipc_verify_opts_default(struct ipc_verify_opts *o, const int *cpus, int ncpus);

struct ipc_verify_result {
    uint64_t n;
    bool prime;
    uint64_t factor;         /* a proper divisor (the smallest one for serial); 0 if none */
    uint64_t wall_ns;        /* the whole number, forks and reaping included */
    uint64_t checks;         /* flag checks by all workers */
    double check_ns;         /* checks x the calibrated cost of one check */
    uint64_t candidates;     /* divisors tried by all workers, 2 included */
    int64_t stop_latency_ns; /* first raise -> last worker stopped; -1: nothing raised */
    unsigned processes;      /* worker processes forked (0 for serial) */
};

struct ipc_verify_ctl; /* shared result slots, private to verify.c */

/* A harness bound to one open flag. Errors are left in errstr (the hiredis pattern). */
struct ipc_verify {
    struct flag *flag;
    struct ipc_verify_opts opts;
    double check_cost_ns; /* one check, measured by ipc_verify_init (see search.h) */
    struct ipc_verify_ctl *ctl;
    size_t ctl_size;
    /* the number being verified, read by the forked workers */
    uint64_t n;
    struct wl_range pool_range;
    unsigned parts;
    char errstr[256];
};

/* Bind v to an open flag, allocate the shared result slots and measure the cost of one check
 * (the parent attaches, times a batch, detaches). With o->cpus the parent does this, and any
 * serial search later, pinned to o->cpus[0], where worker 0 runs. 0 or -errno with v->errstr
 * set. */
int ipc_verify_init(struct ipc_verify *v, struct flag *f, const struct ipc_verify_opts *o);

/*
 * Verify one number, every n in [0, 2^64-1]: reset the flag, run the strategy, fill *r.
 * 0 on success; on failure (a worker died or failed, a flag error) every worker is stopped
 * and reaped, v->errstr names what failed, and -errno (or -ECHILD for a dead worker) is
 * returned.
 */
int ipc_verify_number(struct ipc_verify *v, uint64_t n, struct ipc_verify_result *r);

/* The most candidates one search loop gets for n with o's strategy, workers and cutoff (at
 * least 1): a check interval beyond it is the same as never checking. */
uint64_t ipc_verify_max_check_every(const struct ipc_verify_opts *o, uint64_t n);

/* Release the result slots (the flag stays open: its opener closes it). */
void ipc_verify_fini(struct ipc_verify *v);

#endif
