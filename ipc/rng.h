/* SPDX-License-Identifier: MIT */
/* Random generators under concurrency, measured: the streams of forked workers compared, and
 * generator throughput in threads, shared behind a lock or one per thread (claim C8). */
#ifndef IPCLAB_IPC_RNG_H
#define IPCLAB_IPC_RNG_H

#include "../workloads/rng.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- random streams in forked workers ---------------------------------------------------- */

#define IPC_RNG_MAX_WORKERS 256
#define IPC_RNG_MAX_COUNT 1000000u
/* workers x count: the outputs travel back in shared memory, 8 bytes each (128 MiB). */
#define IPC_RNG_MAX_VALUES (UINT64_C(1) << 24)

struct ipc_rng_streams_opts {
    enum wl_seeding seeding;
    unsigned workers; /* 1..IPC_RNG_MAX_WORKERS */
    uint64_t count;   /* outputs per worker, 1..IPC_RNG_MAX_COUNT */
    uint64_t seed;    /* what the parent seeds its generator with, before forking */
    const int *cpus;  /* worker i is pinned to cpus[i % ncpus]; NULL: not pinned */
    int ncpus;
};

struct ipc_rng_streams {
    unsigned workers;
    uint64_t count;
    uint64_t *values;         /* worker i's first count outputs at values[i * count ...] */
    pid_t *pids;              /* each worker's process id, as the worker saw it */
    uint64_t pairs;           /* workers x (workers - 1) / 2 */
    uint64_t identical_pairs; /* pairs of workers whose count outputs are all equal */
    unsigned distinct_streams;
    uint64_t wall_ns;         /* forks, drawing and reaping */
    struct wl_xoshiro parent; /* the parent's generator as seeded, before any fork */
    void *map;                /* private: the shared mapping holding values and pids */
    size_t mapped;
};

/*
 * The parent seeds one generator, forks the workers (ipc/pool); worker i takes its generator
 * as o->seeding says (wl_rng_for_worker with its own copy of the parent's, its index and its
 * pid), writes its first count outputs to shared memory and exits. Then the streams are
 * compared. 0 with *s filled (release with ipc_rng_streams_free), or -errno with a one-line
 * reason in err and nothing to release.
 */
int ipc_rng_streams_run(const struct ipc_rng_streams_opts *o, struct ipc_rng_streams *s, char *err,
                        size_t errlen);
void ipc_rng_streams_free(struct ipc_rng_streams *s);

/* ---- generator throughput in threads ----------------------------------------------------- */

enum ipc_rng_mode {
    /* One generator behind a mutex, every thread drawing from it in turn: the chapter's threads
     * sharing Python's generator in series. */
    IPC_RNG_LOCKED_SHARED,
    /* A generator per thread (the shared seed jumped by the thread's index): no sharing. */
    IPC_RNG_PER_THREAD,
};
#define IPC_RNG_MODES 2

#define IPC_RNG_MAX_THREADS 256
#define IPC_RNG_MAX_NUMBERS 1000000000u /* per thread */

/* "locked-shared", "per-thread"; NULL out of range. Parse: 0, or -1 for an unknown name. */
const char *ipc_rng_mode_name(enum ipc_rng_mode m);
int ipc_rng_mode_parse(const char *name, enum ipc_rng_mode *out);

struct ipc_rng_throughput_opts {
    enum ipc_rng_mode mode;
    unsigned threads; /* 1..IPC_RNG_MAX_THREADS */
    uint64_t numbers; /* drawn by each thread, 1..IPC_RNG_MAX_NUMBERS */
    uint64_t seed;
    const int *cpus; /* thread i is pinned to cpus[i % ncpus]; NULL: inherit the caller's mask */
    int ncpus;
};

struct ipc_rng_throughput_result {
    uint64_t numbers; /* drawn in all: threads x numbers */
    uint64_t wall_ns; /* from the start signal (all threads created) to the last thread done */
    /* The sum of every output drawn, modulo 2^64. For locked-shared it is the sum of the first
     * threads x numbers outputs of the generator seeded with seed, whatever the interleaving;
     * for per-thread the sum over i of thread i's first numbers outputs (seed jumped i times). */
    uint64_t checksum;
};

/* Create the threads, start them together, join them all. 0, or -errno with a one-line
 * reason in err (every thread created is joined either way). */
int ipc_rng_throughput_run(const struct ipc_rng_throughput_opts *o,
                           struct ipc_rng_throughput_result *r, char *err, size_t errlen);

#endif
