/* SPDX-License-Identifier: MIT */
/* Pi by Monte Carlo over workers: the shares of workloads/pi.h computed serially, on threads, on
 * forked processes, or on threads under an emulated global interpreter lock. */
#ifndef IPCLAB_IPC_PI_H
#define IPCLAB_IPC_PI_H

#include "../workloads/pi.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gil-threads: samples a thread computes between offers of the lock. CPython offers it every
 * 5 ms (sys.getswitchinterval()); a million samples is a few ms here. */
#define IPC_PI_DEFAULT_GIL_INTERVAL 1048576ull
#define IPC_PI_MAX_GIL_INTERVAL WL_PI_MAX_SAMPLES

/*
 * How each enum wl_pi_mode runs:
 *   WL_PI_SERIAL       the calling thread computes every worker's share, one after another
 *   WL_PI_THREADS      one pthread per worker
 *   WL_PI_PROCESSES    one forked process per worker (ipc/pool.h), counts in shared memory
 *   WL_PI_GIL_THREADS  one pthread per worker, computing only while holding one global lock
 */

/* Where the workers run, given `ncpus` CPUs to use. */
enum ipc_pi_pin {
    IPC_PI_PIN_NONE,       /* not pinned: the inherited affinity */
    IPC_PI_PIN_PER_WORKER, /* worker i on cpus[i] (serial: the one thread on cpus[0]) */
    IPC_PI_PIN_SHARED_SET, /* more workers than CPUs: each may run on any of cpus[0..ncpus);
                            * pinning worker i to cpus[i % ncpus] would give some CPUs more
                            * shares than others and measure that imbalance instead */
};
enum ipc_pi_pin ipc_pi_pinning(enum wl_pi_mode m, unsigned workers, int ncpus);
const char *ipc_pi_pin_name(enum ipc_pi_pin p); /* "none", "per-worker", "shared-set" */

struct ipc_pi_opts {
    enum wl_pi_mode mode;
    unsigned workers;      /* 1..WL_PI_MAX_WORKERS */
    uint64_t samples;      /* 1..WL_PI_MAX_SAMPLES, split with wl_pi_share */
    bool batch;            /* wl_pi_count_batch instead of wl_pi_count_each */
    uint64_t seed;         /* streams from wl_pi_stream(seed, worker) */
    uint64_t gil_interval; /* gil-threads: samples between offers of the lock, >= 1 */
    const int *cpus;       /* CPUs to use (see enum ipc_pi_pin); NULL: no pinning */
    int ncpus;
};

struct ipc_pi_result {
    uint64_t inside; /* samples inside the quarter circle, all workers */
    double pi;       /* 4 * inside / samples */
    /* gil-threads only (0 otherwise): */
    uint64_t gil_acquisitions; /* times a thread took the lock */
    uint64_t gil_handoffs;     /* acquisitions by a thread other than the previous holder */
    uint64_t gil_overlaps;     /* acquisitions while another thread was still computing:
                                * 0 unless the lock fails to serialise (an instrument) */
};

/*
 * Estimate pi as o says. The estimate depends only on (seed, workers, samples): not on the
 * mode, batch, pinning or the lock's interval, since every worker draws its own stream and
 * the integer counts add up in any order. Blocks until every worker has finished; threads
 * are joined and processes reaped before it returns. Returns 0, or -errno with a one-line
 * reason in err (a bad option, a thread or process that could not start, a worker process
 * that died); nothing is left running either way. Times nothing and prints nothing: the
 * caller times the call.
 */
int ipc_pi_run(const struct ipc_pi_opts *o, struct ipc_pi_result *r, char *err, size_t errlen);

#endif
