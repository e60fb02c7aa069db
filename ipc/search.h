/* SPDX-License-Identifier: MIT */
/* The worker loop: trial division over a range, checking the flag every K candidates. */
#ifndef IPCLAB_IPC_SEARCH_H
#define IPCLAB_IPC_SEARCH_H

#include "../flags/flag.h"
#include "../workloads/prime.h"

#include <stdatomic.h>
#include <stdint.h>

struct ipc_search {
    uint64_t n;
    struct wl_range range;      /* odd candidates to try */
    uint64_t check_every;       /* K >= 1; ignored for FLAG_FAST_NOCHECK backends */
    struct flag *flag;          /* attached in the calling process */
    _Atomic uint64_t *raise_ns; /* shared: the first raiser stores its clock here */
};

struct ipc_search_out {
    uint64_t factor;     /* smallest divisor in the range up to where it stopped; 0 if none */
    uint64_t candidates; /* divisors tried */
    uint64_t checks;     /* flag checks made */
    uint64_t stop_ns;    /* clock when the loop ended */
    int err;             /* -errno of a failed check or raise (reason in flag->errstr) */
    bool stopped;        /* stopped because the flag was raised elsewhere */
};

/*
 * Try the range's candidates in chunks of K, checking the flag between chunks (none after
 * the last), the way the chapter's workers do. On a factor: stamp *raise_ns if it is still 0,
 * raise the flag, stop. The check is compiled inline for in-memory backends and goes through
 * the ops table otherwise (one loop, instantiated per read method).
 */
void ipc_search_run(const struct ipc_search *s, struct ipc_search_out *out);

/*
 * Make `iters` back-to-back checks of an attached flag through the same code path as the
 * loop above and return how many found it raised (so none is optimised away), or -errno.
 */
int64_t ipc_check_spin(struct flag *f, uint64_t iters);

/*
 * The cost of one check of an attached flag in ns, measured as a batch timed with the
 * monotonic clock (the batch grows until it lasts >= 200 us; the median of 5 batches).
 * 0 for backends that never check. Returns 0 or -errno.
 */
int ipc_check_cost(struct flag *f, double *ns_per_check);

#endif
