/* SPDX-License-Identifier: MIT */
/* State and concurrency, measured: a counter shared by N forked processes incremented four
 * ways (claim C16). */
#ifndef IPCLAB_IPC_COUNTER_H
#define IPCLAB_IPC_COUNTER_H

#include <stddef.h>
#include <stdint.h>

/* ---- the shared counter ------------------------------------------------------------------ */

enum ipc_counter_variant {
    /* A plain shared word, read and written with no synchronisation (RawValue += 1): lost
     * updates whenever two processes interleave a read and a write. */
    IPC_COUNTER_UNSYNCHRONISED,
    /* Read under the lock, then write read+1 under the lock, the lock released in between:
     * what `value.value += 1` does with a multiprocessing.Value, whose implicit lock guards
     * each get and each set separately. Still loses updates. */
    IPC_COUNTER_LOCKED_GET_SET,
    /* One lock held across the read-modify-write (`with value.get_lock(): value.value += 1`). */
    IPC_COUNTER_LOCKED_RMW,
    /* A single atomic fetch-and-add. */
    IPC_COUNTER_ATOMIC,
};
#define IPC_COUNTER_VARIANTS 4

#define IPC_COUNTER_MAX_WORKERS 256
#define IPC_COUNTER_MAX_INCREMENTS 1000000000u /* per worker */

/* "unsynchronised", "locked-get-set", "locked-rmw", "atomic"; NULL out of range. */
const char *ipc_counter_variant_name(enum ipc_counter_variant v);
/* Name -> value: 0, or -1 for an unknown name. */
int ipc_counter_variant_parse(const char *name, enum ipc_counter_variant *out);

struct ipc_counter_opts {
    enum ipc_counter_variant variant;
    unsigned workers;    /* 1..IPC_COUNTER_MAX_WORKERS processes */
    uint64_t increments; /* 1..IPC_COUNTER_MAX_INCREMENTS by each worker */
    const int *cpus;     /* worker i is pinned to cpus[i % ncpus]; NULL: not pinned */
    int ncpus;
};

struct ipc_counter_result {
    uint64_t expected; /* workers x increments */
    uint64_t final;    /* the counter's value after every worker exited */
    int64_t lost;      /* expected - final: updates overwritten by another process */
    uint64_t wall_ns;  /* from the start signal (every worker forked and waiting) to the last
                        * worker's last increment: the increments alone, no fork, no exit */
    uint64_t total_ns; /* the whole run: shared memory, forks, increments, reaping */
};

/*
 * One run: a fresh counter at 0 in anonymous shared memory (a process-shared robust mutex
 * beside it for the locked variants), `workers` processes forked through ipc/pool, held at a
 * start line until all are up so that they really run at the same time, then each increments
 * `increments` times. Returns 0 with *r filled, or -errno with a one-line reason in err (bad
 * options: -EINVAL; a worker that died: -ECHILD; every worker is killed and reaped either way).
 */
int ipc_counter_run(const struct ipc_counter_opts *o, struct ipc_counter_result *r, char *err,
                    size_t errlen);

#endif
