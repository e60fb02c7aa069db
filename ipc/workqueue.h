/* SPDX-License-Identifier: MIT */
/* The chapter's work-queue protocol over any queue transport: jobs out, results back, a
 * sentinel per worker that says "no more work", and each worker's confirmation that it saw
 * it before it exits. */
#ifndef IPCLAB_IPC_WORKQUEUE_H
#define IPCLAB_IPC_WORKQUEUE_H

#include "queue.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Runs in a worker for each job: compute a result of at most *result_len bytes into result
 * and set *result_len. Returns 0, or a negative errno that fails the run (the worker reports
 * it and exits non-zero).
 */
typedef int (*ipc_work_fn)(const void *job, size_t job_len, void *result, size_t *result_len,
                           void *arg);

/* The parent's source of jobs: job i (0 <= i < njobs) as a pointer and a length (1 ..
 * IPC_QUEUE_MAX_MSG - a small header). Called in the parent only. */
typedef const void *(*ipc_job_fn)(size_t i, size_t *len, void *arg);

/* Called in the parent for the first result of each job (a job redone after a worker died
 * may produce a second result, which is counted in duplicates and not passed on). */
typedef void (*ipc_result_fn)(size_t i, const void *result, size_t len, void *arg);

struct ipc_workqueue_opts {
    const struct ipc_queue_ops *transport;
    struct ipc_queue_config cfg; /* for both queues (jobs and results) */
    unsigned workers;            /* 1 .. IPC_WORKQUEUE_MAX_WORKERS */
    const int *cpus;             /* worker i pinned to cpus[i % ncpus]; NULL: not pinned */
    int ncpus;
    int timeout_ms;              /* the whole run; -1: none (a dead worker is noticed anyway) */
    /* Fault injection for tests and the loss experiment: worker `kill_worker` (if >= 0)
     * SIGKILLs itself after receiving its `kill_after`-th job, before computing it. */
    int kill_worker;
    unsigned kill_after;
};

#define IPC_WORKQUEUE_MAX_WORKERS 256

struct ipc_workqueue_stats {
    uint64_t jobs;        /* jobs sent */
    uint64_t results;     /* distinct jobs with a result */
    uint64_t duplicates;  /* extra results of jobs already done */
    uint64_t lost;        /* jobs with no result at the end (work lost with a dead worker) */
    unsigned confirmed;   /* workers that confirmed their sentinel */
    unsigned died;        /* workers that died */
    unsigned requeued;    /* messages recover() put back after a death (reliable only) */
    uint64_t wall_ns;     /* first job sent to last result and confirmation received */
};

/*
 * Fork the workers, send every job then one sentinel per worker on the job queue, collect
 * results and confirmations on the result queue, reap the workers. A worker that dies is
 * reported in stats: on a reliable transport its unacknowledged job is recovered and done by
 * another worker; on the others it is lost (stats->lost), which is not an error of the run
 * but the behaviour being measured. Returns 0 when the run completed (every job accounted
 * for, every surviving worker confirmed), or -errno with a one-line reason in err (a
 * transport error, a timeout); every worker is stopped and reaped and both queues closed in
 * all cases.
 */
int ipc_workqueue_run(const struct ipc_workqueue_opts *o, size_t njobs, ipc_job_fn job_at,
                      ipc_work_fn work, ipc_result_fn on_result, void *arg,
                      struct ipc_workqueue_stats *stats, char *err, size_t errlen);

/* ---- measuring a transport: one producer to one consumer, and ping-pong ------------------ */

/*
 * A measurement session (workqueue.c): the queue(s) of one transport and two partner
 * processes forked for it, pinned to cpus[0] and cpus[1] (NULL: not pinned), driven by the
 * caller through shared memory so it never blocks on the queue itself (a dead partner is an
 * error, not a hang).
 *   STREAM    one queue; partner 0 sends messages of `size` bytes, partner 1 receives them
 *             and checks their length and sequence number.
 *   PINGPONG  two queues; partner 0 sends a message on the first and waits for it on the
 *             second, where partner 1 echoes it: a round trip, twice the one-way latency.
 */
enum ipc_qbench_mode { IPC_QBENCH_STREAM, IPC_QBENCH_PINGPONG };

struct ipc_qbench;

/* Open the queue(s) with cfg (max_msg defaults to size) and start the partners. PINGPONG
 * keeps the time of each of the first max_samples round trips (ipc_qbench_samples). Returns
 * the session, or NULL with a one-line reason in err. */
struct ipc_qbench *ipc_qbench_start(const struct ipc_queue_ops *ops,
                                    const struct ipc_queue_config *cfg,
                                    enum ipc_qbench_mode mode, size_t size, size_t max_samples,
                                    const int *cpus, char *err, size_t errlen);

/* STREAM: n messages, returning once partner 1 has received all of them; *ns (if not NULL)
 * from partner 0's first send to partner 1's last receive (both stamp the monotonic clock).
 * PINGPONG: n round trips; *ns their total as partner 0 measured it. 0, or -errno with a
 * one-line reason in err (a partner failed or died, or made no progress for 30 s: then it
 * was stopped and the session can only be stopped). */
int ipc_qbench_run(struct ipc_qbench *b, uint64_t n, uint64_t *ns, char *err, size_t errlen);

/* PINGPONG: the round trips of the last run in ns, min(n, max_samples) of them. */
const uint64_t *ipc_qbench_samples(const struct ipc_qbench *b, size_t *count);

/* Stop the partners, close the queues, free the session. NULL is fine. */
void ipc_qbench_stop(struct ipc_qbench *b);

#endif
