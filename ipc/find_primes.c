/* SPDX-License-Identifier: MIT */
/* Find-primes: the jobs, their wire form, the workers' work, and the serial baseline. */
#include "find_primes.h"

#include "clock.h"

#include "../workloads/prime.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

uint64_t ipc_fp_njobs(uint64_t n, uint64_t job_size)
{
    if (n == 0 || job_size == 0)
        return 0;
    return n / job_size + (n % job_size != 0);
}

struct ipc_fp_job ipc_fp_job_at(uint64_t n, uint64_t job_size, uint64_t i)
{
    uint64_t lo = 1 + i * job_size;
    uint64_t hi = job_size > n - lo ? n : lo + job_size - 1; /* never overflows: lo <= n */
    return (struct ipc_fp_job){.lo = lo, .hi = hi};
}

static void put64(unsigned char *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

/*
 * The parent's side of a run. The job source hands out pointers into a ring of buffers: the
 * protocol sends a job before it asks for another, so one would do, and a ring keeps a few
 * earlier ones valid should it ever look ahead.
 */
#define JOB_RING 64

struct fp_run {
    const struct ipc_fp_opts *o;
    unsigned char jobs[JOB_RING][IPC_FP_JOB_BYTES];
    uint64_t primes;
    uint64_t results;
    uint64_t bad; /* results that cannot be a count for their job */
};

static const void *job_at(size_t i, size_t *len, void *arg)
{
    struct fp_run *run = arg;
    struct ipc_fp_job j = ipc_fp_job_at(run->o->n, run->o->job_size, i);
    unsigned char *buf = run->jobs[i % JOB_RING];
    put64(buf, j.lo);
    put64(buf + 8, j.hi);
    *len = IPC_FP_JOB_BYTES;
    return buf;
}

/* In a worker: the numbers of one job tested one by one. */
static int work(const void *job, size_t job_len, void *result, size_t *result_len, void *arg)
{
    (void)arg;
    if (job_len != IPC_FP_JOB_BYTES || *result_len < IPC_FP_RESULT_BYTES)
        return -EBADMSG;
    uint64_t lo = get64(job), hi = get64((const unsigned char *)job + 8);
    if (lo > hi || hi > IPC_FP_MAX_N)
        return -EBADMSG;
    put64(result, wl_count_primes_trial(lo, hi));
    *result_len = IPC_FP_RESULT_BYTES;
    return 0;
}

static void on_result(size_t i, const void *result, size_t len, void *arg)
{
    struct fp_run *run = arg;
    struct ipc_fp_job j = ipc_fp_job_at(run->o->n, run->o->job_size, i);
    uint64_t count = len == IPC_FP_RESULT_BYTES ? get64(result) : UINT64_MAX;
    if (count > j.hi - j.lo + 1) {
        run->bad++;
        return;
    }
    run->primes += count;
    run->results++;
}

static int check_opts(const struct ipc_fp_opts *o, char *err, size_t errlen)
{
    if (o->n > IPC_FP_MAX_N)
        snprintf(err, errlen, "n %llu is above %llu", (unsigned long long)o->n, IPC_FP_MAX_N);
    else if (o->job_size < 1)
        snprintf(err, errlen, "the job size must be at least 1");
    else if (o->transport && (o->workers < 1 || o->workers > IPC_FP_MAX_WORKERS))
        snprintf(err, errlen, "workers %u is not from 1 to %d", o->workers, IPC_FP_MAX_WORKERS);
    else if (o->cpus && o->ncpus < 1)
        snprintf(err, errlen, "a CPU list needs at least one CPU");
    else
        return 0;
    return -EINVAL;
}

int ipc_find_primes_run(const struct ipc_fp_opts *o, struct ipc_fp_result *r, char *err,
                        size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (errlen)
        err[0] = '\0';
    int rc = check_opts(o, err, errlen);
    if (rc < 0)
        return rc;
    uint64_t njobs = ipc_fp_njobs(o->n, o->job_size);

    if (!o->transport) {
        uint64_t t0 = ipc_now_ns();
        uint64_t primes = 0;
        /* Job by job, like the workers, so serial and queued runs do the same work. */
        for (uint64_t i = 0; i < njobs; i++) {
            struct ipc_fp_job j = ipc_fp_job_at(o->n, o->job_size, i);
            primes += wl_count_primes_trial(j.lo, j.hi);
        }
        r->wall_ns = ipc_now_ns() - t0;
        r->primes = primes;
        r->jobs = njobs;
        return 0;
    }

    if (njobs > SIZE_MAX) {
        snprintf(err, errlen, "%llu jobs are too many here", (unsigned long long)njobs);
        return -E2BIG;
    }
    struct fp_run run = {.o = o};
    struct ipc_workqueue_opts wo = {
        .transport = o->transport,
        .cfg = o->cfg,
        .workers = o->workers,
        .cpus = o->cpus,
        .ncpus = o->cpus ? o->ncpus : 0,
        .timeout_ms = o->timeout_ms,
        .kill_worker = -1,
    };
    struct ipc_workqueue_stats st;
    memset(&st, 0, sizeof st);
    uint64_t t0 = ipc_now_ns();
    rc = ipc_workqueue_run(&wo, (size_t)njobs, job_at, work, on_result, &run, &st, err, errlen);
    r->wall_ns = ipc_now_ns() - t0;
    r->stats = st;
    if (rc < 0)
        return rc;
    if (run.bad) {
        snprintf(err, errlen, "%llu result%s cannot be a count of primes for their job",
                 (unsigned long long)run.bad, run.bad == 1 ? "" : "s");
        return -EPROTO;
    }
    if (run.results != njobs || st.lost) {
        snprintf(err, errlen, "%llu of %llu jobs have no result (%llu lost, %u worker%s died)",
                 (unsigned long long)(njobs - run.results), (unsigned long long)njobs,
                 (unsigned long long)st.lost, st.died, st.died == 1 ? "" : "s");
        return -EPROTO;
    }
    r->primes = run.primes;
    r->jobs = st.jobs;
    r->messages = st.jobs + st.results + st.duplicates + o->workers + st.confirmed;
    r->bytes = st.jobs * IPC_FP_JOB_BYTES + (st.results + st.duplicates) * IPC_FP_RESULT_BYTES;
    r->queue_ns = st.wall_ns;
    return 0;
}
