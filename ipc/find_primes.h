/* SPDX-License-Identifier: MIT */
/* Counting the primes up to N with workers fed from a work queue, in jobs of J consecutive
 * numbers: the chapter's balance between many tiny jobs (communication dominates) and a few
 * large ones; or serially, with no queue and no processes, as the baseline. */
#ifndef IPCLAB_IPC_FIND_PRIMES_H
#define IPCLAB_IPC_FIND_PRIMES_H

#include "queue.h"
#include "workqueue.h"

#include <stddef.h>
#include <stdint.h>

/* N up to 10^8: about half a minute of trial division on one CPU here, and at one number per
 * job 10^8 jobs; the count is checked against wl_count_primes_sieve, which reaches further. */
#define IPC_FP_MAX_N 100000000ull
#define IPC_FP_MAX_WORKERS IPC_WORKQUEUE_MAX_WORKERS

/* A job on the wire: the numbers lo..hi (inclusive), two little-endian 64-bit words. Its
 * result: the count of primes among them, one little-endian 64-bit word. */
#define IPC_FP_JOB_BYTES 16
#define IPC_FP_RESULT_BYTES 8

struct ipc_fp_job {
    uint64_t lo, hi;
};

/* Jobs for the numbers 1..n in jobs of job_size (>= 1) numbers: ceil(n / job_size); 0 for
 * n = 0. */
uint64_t ipc_fp_njobs(uint64_t n, uint64_t job_size);

/* Job i (< ipc_fp_njobs) of that split: lo = 1 + i * job_size, hi = min(n, lo + job_size - 1).
 * The jobs cover 1..n exactly once, in order; all but the last hold job_size numbers. */
struct ipc_fp_job ipc_fp_job_at(uint64_t n, uint64_t job_size, uint64_t i);

struct ipc_fp_opts {
    const struct ipc_queue_ops *transport; /* NULL: serial (no queue, no processes) */
    struct ipc_queue_config cfg;           /* passed to the transport (tmpdir, a server...) */
    uint64_t n;                            /* count the primes in 1..n, n <= IPC_FP_MAX_N */
    uint64_t job_size;                     /* numbers per job, >= 1 (larger than n: one job) */
    unsigned workers;                      /* 1..IPC_FP_MAX_WORKERS; serial: ignored */
    const int *cpus;                       /* worker i pinned to cpus[i % ncpus]; NULL: not */
    int ncpus;
    int timeout_ms; /* the whole queue run; -1: none (a dead worker is noticed anyway) */
};

struct ipc_fp_result {
    uint64_t primes;   /* primes in 1..n */
    uint64_t jobs;     /* jobs done (serial: the same split, computed in turn) */
    uint64_t messages; /* queue messages: jobs, results, a sentinel and a confirmation per
                        * worker (serial: 0) */
    uint64_t bytes;    /* bytes of job and result bodies sent; the protocol's own headers and
                        * the coordination messages are not counted (serial: 0) */
    uint64_t wall_ns;  /* the whole run: serial, the loop; queue, ipc_workqueue_run (opening
                        * the queues, forking, every job, reaping, closing) */
    uint64_t queue_ns; /* queue: first job sent to last result and confirmation (the
                        * protocol's own stats.wall_ns); serial: 0 */
    struct ipc_workqueue_stats stats; /* queue: as ipc_workqueue_run reports them */
};

/*
 * Count the primes in 1..n as o says: each job's numbers tested one by one by trial division
 * (wl_count_primes_trial), in a worker of the pool or, serially, in the caller. The count
 * does not depend on the transport, the job size or the workers. A run in which any job has
 * no result (a worker died on a transport that loses its work) is an error, not a smaller
 * count. Returns 0, or -errno with a one-line reason in err; every worker is reaped and both
 * queues closed before it returns.
 */
int ipc_find_primes_run(const struct ipc_fp_opts *o, struct ipc_fp_result *r, char *err,
                        size_t errlen);

#endif
