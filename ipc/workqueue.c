/* SPDX-License-Identifier: MIT */
/* The chapter's work-queue protocol over any transport (jobs, sentinels, results,
 * confirmations, dead workers), and the sessions that measure a transport's throughput and
 * latency between two processes. */
#include "workqueue.h"

#include "cleanup.h"
#include "clock.h"
#include "errbuf.h"
#include "pool.h"
#include "shared.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * How a run goes:
 *
 *   parent, feeder thread   jobs 0..n-1, then one sentinel per worker, on the job queue;
 *                           then, on request, recover() and extra sentinels
 *   parent, main thread     results and confirmations from the result queue; worker deaths
 *                           through the pidfds; the end of the run
 *   workers                 recv a job, compute, send the result, ack; on the sentinel, ack,
 *                           confirm and exit
 *
 * Sending and collecting run on two threads because both queues are bounded: a parent that
 * sent and collected in turn would block sending a job while every worker blocks sending a
 * result it never collects. The feeder is the only user of the parent's attachment to the job
 * queue (recover() included, which is why the main thread asks it to recover rather than
 * calling it), the main thread the only user of the result queue's.
 *
 * A dead worker (killed by a signal) is replaced by a spare: spares are forked with the
 * workers, before anybody attached (a process forked after the parent attached would inherit
 * its per-process queue state), and wait on a pipe until the parent wakes one. Each death also
 * gets one extra sentinel, because the replacement needs one and the dead worker may have
 * taken its own with it; sentinels left over at the end go with the queue. On a reliable
 * transport the feeder first puts the dead worker's unacknowledged job back at the head of
 * the queue, so a live worker takes it before any sentinel behind it. What the dead worker
 * held on any other transport is gone: it is counted as lost when every worker has finished.
 *
 * If the run fails (a worker error, a timeout, more deaths than spares, a transport error),
 * every worker is killed; the feeder may then be blocked sending into a full job queue that
 * nobody reads, so one more reserved process, the drainer, is woken to receive and discard
 * until the feeder has stopped.
 */

enum { MSG_JOB = 1, MSG_SENTINEL, MSG_RESULT, MSG_CONFIRM };

/* Every protocol message starts with this. */
struct wq_hdr {
    uint32_t kind;
    uint32_t worker; /* the sender of a result or confirmation */
    uint64_t index;  /* the job */
};
#define HDR sizeof(struct wq_hdr)

#define MAX_SPARES 4
#define MAX_PROCS (IPC_WORKQUEUE_MAX_WORKERS + MAX_SPARES + 1)
#define ERR_LEN 200
/* How often the main thread looks at the pidfds while results keep coming. */
#define CHECK_NS (10 * 1000000u)
/* The main thread's longest wait for a result before it looks at the workers again. */
#define SLICE_MS 20

struct wq_shared {
    _Atomic int feeder_done;                 /* tells the drainer it can stop */
    _Atomic unsigned char active[MAX_PROCS]; /* a spare took its wake-up */
    _Atomic int status[MAX_PROCS];           /* a worker's failing errno */
    char err[MAX_PROCS][ERR_LEN];            /* and its reason */
};

/* Everything a child needs; each child gets its copy at fork. */
struct wq_ctx {
    const struct ipc_workqueue_opts *o;
    struct ipc_queue jobs, results; /* open, not attached: children attach after fork */
    ipc_work_fn work;
    void *arg;
    struct wq_shared *sh;
    unsigned workers, spares, base; /* base: id of the pool's first process */
    size_t max_payload;
    int wake_rd, wake_wr, drain_rd, drain_wr;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- the workers ---------------------------------------------------------------------------- */

static int worker_fail(struct wq_ctx *c, unsigned id, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int worker_fail(struct wq_ctx *c, unsigned id, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->sh->err[id], ERR_LEN, fmt, ap);
    va_end(ap);
    atomic_store(&c->sh->status[id], err < 0 ? err : -EIO);
    return 1;
}

static int work_loop(struct wq_ctx *c, unsigned id)
{
    const struct ipc_workqueue_opts *o = c->o;
    if (ipc_queue_attach(&c->jobs) < 0)
        return worker_fail(c, id, c->jobs.err, "worker %u: %s", id, c->jobs.errstr);
    if (ipc_queue_attach(&c->results) < 0)
        return worker_fail(c, id, c->results.err, "worker %u: %s", id, c->results.errstr);
    unsigned char *in = malloc(IPC_QUEUE_MAX_MSG), *out = malloc(HDR + c->max_payload);
    if (!in || !out)
        return worker_fail(c, id, -ENOMEM, "worker %u: out of memory", id);
    unsigned taken = 0;
    int status = 0;
    for (;;) {
        size_t len = 0;
        struct wq_hdr h;
        if (ipc_queue_recv(&c->jobs, in, IPC_QUEUE_MAX_MSG, &len, -1) < 0) {
            status = worker_fail(c, id, c->jobs.err, "worker %u: %s", id, c->jobs.errstr);
            break;
        }
        if (len < HDR) {
            status = worker_fail(c, id, -EPROTO, "worker %u: a %zu-byte message", id, len);
            break;
        }
        memcpy(&h, in, HDR);
        if (h.kind == MSG_SENTINEL) {
            ipc_queue_ack(&c->jobs);
            struct wq_hdr r = {.kind = MSG_CONFIRM, .worker = id};
            if (ipc_queue_send(&c->results, &r, HDR) < 0)
                status = worker_fail(c, id, c->results.err, "worker %u: confirm: %s", id,
                                     c->results.errstr);
            break;
        }
        if (h.kind != MSG_JOB) {
            status = worker_fail(c, id, -EPROTO, "worker %u: message of kind %u", id, h.kind);
            break;
        }
        /* Fault injection: die holding a job that was received and not yet done. */
        if (o->kill_worker >= 0 && id == (unsigned)o->kill_worker && ++taken == o->kill_after)
            raise(SIGKILL);
        size_t rlen = c->max_payload;
        int rc = c->work(in + HDR, len - HDR, out + HDR, &rlen, c->arg);
        if (rc < 0) {
            status = worker_fail(c, id, rc, "worker %u: job %llu: %s", id,
                                 (unsigned long long)h.index, strerror(-rc));
            break;
        }
        if (rlen > c->max_payload) {
            status =
                worker_fail(c, id, -EOVERFLOW, "worker %u: job %llu: a %zu-byte result exceeds %zu",
                            id, (unsigned long long)h.index, rlen, c->max_payload);
            break;
        }
        struct wq_hdr r = {.kind = MSG_RESULT, .worker = id, .index = h.index};
        memcpy(out, &r, HDR);
        if (ipc_queue_send(&c->results, out, HDR + rlen) < 0) {
            status = worker_fail(c, id, c->results.err, "worker %u: %s", id, c->results.errstr);
            break;
        }
        /* Acknowledged only once the result is out: a worker that dies in between has its
         * job redone on a reliable transport (a duplicate the parent counts), never lost. */
        ipc_queue_ack(&c->jobs);
    }
    ipc_queue_detach(&c->results);
    ipc_queue_detach(&c->jobs);
    free(in);
    free(out);
    return status;
}

/* Receive and discard jobs until the feeder has stopped and the queue is quiet. */
static int drain_loop(struct wq_ctx *c, unsigned id)
{
    if (ipc_queue_attach(&c->jobs) < 0)
        return worker_fail(c, id, c->jobs.err, "drainer: %s", c->jobs.errstr);
    unsigned char *in = malloc(IPC_QUEUE_MAX_MSG);
    if (!in)
        return 1;
    for (;;) {
        size_t len;
        int rc = ipc_queue_recv(&c->jobs, in, IPC_QUEUE_MAX_MSG, &len, 50);
        if (rc == 0) {
            ipc_queue_ack(&c->jobs);
            continue;
        }
        if (atomic_load(&c->sh->feeder_done))
            break;
        if (rc != -ETIMEDOUT && rc != -EMSGSIZE)
            usleep(10000); /* a broken queue: keep trying while the feeder runs */
    }
    ipc_queue_detach(&c->jobs);
    free(in);
    return 0;
}

static int wait_byte(int fd)
{
    char b;
    ssize_t r;
    while ((r = read(fd, &b, 1)) < 0 && errno == EINTR)
        ;
    return r == 1 ? b : -1;
}

static int child_main(unsigned idx, void *p)
{
    struct wq_ctx *c = p;
    unsigned id = c->base + idx;
    /* Only the parent may hold the write ends: a spare waits for end of file on them. */
    close_fd(&c->wake_wr);
    close_fd(&c->drain_wr);
    if (id >= c->workers && id < c->workers + c->spares) {
        close_fd(&c->drain_rd);
        int b = wait_byte(c->wake_rd);
        close_fd(&c->wake_rd);
        if (b < 0)
            return 0; /* not needed */
        atomic_store(&c->sh->active[id], 1);
        return work_loop(c, id);
    }
    if (id == c->workers + c->spares) {
        close_fd(&c->wake_rd);
        int b = wait_byte(c->drain_rd);
        close_fd(&c->drain_rd);
        return b < 0 ? 0 : drain_loop(c, id);
    }
    close_fd(&c->wake_rd);
    close_fd(&c->drain_rd);
    return work_loop(c, id);
}

/* ---- the feeder thread ---------------------------------------------------------------------- */

struct feeder {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ipc_queue *q;
    struct wq_shared *sh;
    size_t njobs, max_payload;
    ipc_job_fn job_at;
    void *arg;
    unsigned sentinels;
    /* Under mu: */
    unsigned recover_requests, extra_sentinels;
    unsigned recovers_done; /* recover requests carried out */
    bool sentinels_started; /* requests taken from now on come after a sentinel */
    bool stop, quit, idle, finished;
    /* Written by the feeder, read after join (or under mu): */
    unsigned requeued;
    uint64_t sent_jobs;
    int error;
    char errstr[ERR_LEN];
    unsigned char *buf;
};

/* Take the pending requests; false if the feeder must stop. */
static bool take_requests(struct feeder *f, unsigned *recover, unsigned *sentinels, bool wait,
                          bool before_sentinel)
{
    pthread_mutex_lock(&f->mu);
    if (before_sentinel)
        f->sentinels_started = true;
    while (wait && !f->stop && !f->quit && !f->recover_requests && !f->extra_sentinels) {
        f->idle = true;
        pthread_cond_broadcast(&f->cv);
        pthread_cond_wait(&f->cv, &f->mu);
    }
    f->idle = false;
    bool go = !f->stop && !(wait && f->quit && !f->recover_requests && !f->extra_sentinels);
    *recover = f->recover_requests;
    f->recover_requests = 0;
    /* Extra sentinels wait for the last phase: during the jobs they would end workers early. */
    if (sentinels) {
        *sentinels = f->extra_sentinels;
        f->extra_sentinels = 0;
    }
    pthread_mutex_unlock(&f->mu);
    return go;
}

static int feeder_fail(struct feeder *f, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int feeder_fail(struct feeder *f, int err, const char *fmt, ...)
{
    pthread_mutex_lock(&f->mu);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->errstr, sizeof f->errstr, fmt, ap);
    va_end(ap);
    f->error = err < 0 ? err : -EIO;
    pthread_mutex_unlock(&f->mu);
    return -1;
}

static int do_recover(struct feeder *f, unsigned n)
{
    if (!n)
        return 0;
    unsigned requeued = 0;
    if (ipc_queue_recover(f->q, &requeued) < 0)
        return feeder_fail(f, f->q->err, "recover: %s", f->q->errstr);
    pthread_mutex_lock(&f->mu);
    f->requeued += requeued;
    f->recovers_done += n;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int send_sentinel(struct feeder *f)
{
    struct wq_hdr h = {.kind = MSG_SENTINEL};
    if (ipc_queue_send(f->q, &h, HDR) < 0)
        return feeder_fail(f, f->q->err, "sentinel: %s", f->q->errstr);
    return 0;
}

static void *feeder_main(void *p)
{
    struct feeder *f = p;
    unsigned recover, extra;
    for (size_t i = 0; i < f->njobs; i++) {
        if (!take_requests(f, &recover, NULL, false, false) || do_recover(f, recover) < 0)
            goto out;
        size_t len = 0;
        const void *job = f->job_at(i, &len, f->arg);
        if (!job || len == 0 || len > f->max_payload) {
            feeder_fail(f, -EINVAL, "job %zu: %s %zu bytes (1 to %zu)", i, job ? "has" : "is NULL,",
                        len, f->max_payload);
            goto out;
        }
        struct wq_hdr h = {.kind = MSG_JOB, .index = i};
        memcpy(f->buf, &h, HDR);
        memcpy(f->buf + HDR, job, len);
        if (ipc_queue_send(f->q, f->buf, HDR + len) < 0) {
            feeder_fail(f, f->q->err, "job %zu: %s", i, f->q->errstr);
            goto out;
        }
        f->sent_jobs++;
    }
    for (unsigned w = 0; w < f->sentinels; w++)
        if (!take_requests(f, &recover, NULL, false, true) || do_recover(f, recover) < 0 ||
            send_sentinel(f) < 0)
            goto out;
    /* Everything planned is out; now serve the main thread until it is done. */
    while (take_requests(f, &recover, &extra, true, true)) {
        if (do_recover(f, recover) < 0)
            goto out;
        while (extra-- > 0)
            if (send_sentinel(f) < 0)
                goto out;
    }
out:
    pthread_mutex_lock(&f->mu);
    f->finished = true;
    f->idle = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    atomic_store(&f->sh->feeder_done, 1);
    return NULL;
}

static void feeder_request(struct feeder *f, unsigned recover, unsigned sentinels)
{
    pthread_mutex_lock(&f->mu);
    f->recover_requests += recover;
    f->extra_sentinels += sentinels;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/*
 * Ask for a recovery and wait until it is done, if that matters: a spare woken before the
 * dead worker's job is back could take a sentinel instead, leaving the job to a second spare.
 * While the feeder is still sending jobs it handles the request before its first sentinel, so
 * the spare can go at once. Bounded: a feeder blocked on a full queue nobody reads any more
 * recovers only once the spare reads (the end of the run then catches any leftover).
 */
static void feeder_recover(struct feeder *f)
{
    pthread_mutex_lock(&f->mu);
    unsigned target = f->recovers_done + f->recover_requests + 1;
    f->recover_requests++;
    f->extra_sentinels++;
    pthread_cond_broadcast(&f->cv);
    if (f->sentinels_started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        while (f->recovers_done < target && !f->finished &&
               pthread_cond_timedwait(&f->cv, &f->mu, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&f->mu);
}

/* True when the feeder has sent everything asked of it and waits (or failed: see error). */
static bool feeder_idle(struct feeder *f, int *error)
{
    pthread_mutex_lock(&f->mu);
    bool idle = f->idle && !f->recover_requests && !f->extra_sentinels;
    *error = f->error;
    pthread_mutex_unlock(&f->mu);
    return idle;
}

/* ---- the parent ----------------------------------------------------------------------------- */

/* One process of the run as the main thread sees it. */
struct proc {
    struct ipc_proc *p;
    unsigned id;
    bool exited, dead, confirmed;
};

/* Reap one exited process exactly as the pool does (signals blocked, deregistered), so that
 * the pool later neither waits for it nor signals a pid the kernel may have reused. */
static void reap_proc(struct ipc_proc *w)
{
    sigset_t old;
    ipc_cleanup_block(&old);
    while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR)
        ;
    ipc_cleanup_del_pid(w->pid);
    ipc_cleanup_unblock(&old);
    w->reaped = true;
    close_fd(&w->pidfd);
}

struct run {
    const struct ipc_workqueue_opts *o;
    struct wq_ctx c;
    struct feeder f;
    struct ipc_pool pools[3]; /* workers, spares, drainer */
    bool started[3], feeder_started;
    struct proc *procs;
    unsigned nprocs;
    unsigned activations, spares_left, finished;
    unsigned char *done; /* a bit per job */
    bool reliable;
    struct ipc_workqueue_stats *st;
    char *err;
    size_t errlen;
};

static int wake_spare(struct run *r, size_t njobs)
{
    if (r->spares_left == 0 && r->st->died > r->c.spares) {
        ipc_set_err(r->err, r->errlen, "%u workers died, more than the %u spares", r->st->died,
                r->c.spares);
        return -ECHILD;
    }
    if (r->spares_left == 0) {
        ipc_set_err(r->err, r->errlen,
                "%llu of %zu jobs have no result and no spare worker is left to redo them",
                (unsigned long long)(njobs - r->st->results), njobs);
        return -ECHILD;
    }
    ssize_t n;
    while ((n = write(r->c.wake_wr, "w", 1)) < 0 && errno == EINTR)
        ;
    if (n != 1) {
        ipc_set_err(r->err, r->errlen, "waking a spare worker: %s", strerror(errno));
        return -errno;
    }
    r->spares_left--;
    r->activations++;
    return 0;
}

/* Look at every process that has exited since the last look. 0, or -errno with err set. */
static int check_procs(struct run *r, size_t njobs)
{
    struct pollfd fds[MAX_PROCS];
    unsigned which[MAX_PROCS], n = 0;
    for (unsigned i = 0; i < r->nprocs; i++) {
        if (!r->procs[i].exited) {
            fds[n] = (struct pollfd){.fd = r->procs[i].p->pidfd, .events = POLLIN};
            which[n++] = i;
        }
    }
    if (n == 0 || poll(fds, n, 0) <= 0)
        return 0;
    for (unsigned k = 0; k < n; k++) {
        if (!fds[k].revents)
            continue;
        struct proc *w = &r->procs[which[k]];
        reap_proc(w->p);
        w->exited = true;
        int status = w->p->status;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue; /* a spare not needed, or a worker after its confirmation */
        if (WIFEXITED(status)) {
            int e = atomic_load(&r->c.sh->status[w->id]);
            if (r->c.sh->err[w->id][0])
                ipc_set_err(r->err, r->errlen, "%s", r->c.sh->err[w->id]);
            else
                ipc_set_err(r->err, r->errlen, "worker %u: exit status %d", w->id, WEXITSTATUS(status));
            return e < 0 ? e : -EIO;
        }
        /* Killed. A worker that had confirmed held nothing; otherwise it may have held a job
         * (or its sentinel): recover on a reliable transport, and a spare with a sentinel of
         * its own takes its place. */
        w->dead = true;
        r->st->died++;
        if (w->confirmed)
            continue;
        r->finished++; /* a worker is finished once it confirmed or died */
        if (r->reliable)
            feeder_recover(&r->f);
        else
            feeder_request(&r->f, 0, 1);
        int rc = wake_spare(r, njobs);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int handle_message(struct run *r, const unsigned char *buf, size_t len, size_t njobs,
                          ipc_result_fn on_result, void *arg)
{
    struct wq_hdr h;
    if (len < HDR) {
        ipc_set_err(r->err, r->errlen, "a %zu-byte message on the result queue", len);
        return -EPROTO;
    }
    memcpy(&h, buf, HDR);
    if (h.kind == MSG_RESULT && h.index < njobs) {
        if (r->done[h.index / 8] & (1u << (h.index % 8))) {
            r->st->duplicates++;
        } else {
            r->done[h.index / 8] |= (unsigned char)(1u << (h.index % 8));
            r->st->results++;
            if (on_result)
                on_result((size_t)h.index, buf + HDR, len - HDR, arg);
        }
        return 0;
    }
    if (h.kind == MSG_CONFIRM && h.worker < r->nprocs && !r->procs[h.worker].confirmed) {
        struct proc *w = &r->procs[h.worker];
        w->confirmed = true;
        r->st->confirmed++;
        if (!w->dead) /* (one that died after confirming was counted then) */
            r->finished++;
        return 0;
    }
    ipc_set_err(r->err, r->errlen,
            "unexpected message on the result queue (kind %u, worker %u, job %llu)", h.kind,
            h.worker, (unsigned long long)h.index);
    return -EPROTO;
}

/* Spares that took a wake-up (or died: a spare killed before it could say so took one too,
 * as far as the parent can tell). */
static unsigned spares_taken(const struct run *r)
{
    unsigned n = 0;
    for (unsigned i = r->c.workers; i < r->nprocs; i++)
        n += atomic_load(&r->c.sh->active[i]) || r->procs[i].dead;
    return n;
}

/* Stop the feeder, which may be blocked sending into a full job queue nobody reads any more. */
static void stop_feeder(struct run *r)
{
    if (!r->feeder_started)
        return;
    pthread_mutex_lock(&r->f.mu);
    r->f.stop = true;
    pthread_cond_broadcast(&r->f.cv);
    pthread_mutex_unlock(&r->f.mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    if (pthread_timedjoin_np(r->f.thread, NULL, &ts) != 0) {
        if (r->c.drain_wr >= 0) {
            ssize_t n;
            while ((n = write(r->c.drain_wr, "d", 1)) < 0 && errno == EINTR)
                ;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 10;
        if (pthread_timedjoin_np(r->f.thread, NULL, &ts) != 0) {
            /* The queue is broken beyond draining: the last resort. */
            pthread_cancel(r->f.thread);
            pthread_join(r->f.thread, NULL);
        }
    }
    r->feeder_started = false;
}

/* Wait (bounded) for the processes still running to exit by themselves, then reap them. */
static void end_pools(struct run *r, int timeout_ms)
{
    for (int i = 0; i < 3; i++) {
        if (!r->started[i])
            continue;
        if (timeout_ms > 0)
            ipc_pool_wait(&r->pools[i], timeout_ms, NULL);
        ipc_pool_destroy(&r->pools[i]);
        r->started[i] = false;
    }
}

static int start_pools(struct run *r, const struct ipc_workqueue_opts *o)
{
    int rot[2][256];
    const int *cpus[3] = {o->cpus, NULL, NULL};
    unsigned counts[3] = {r->c.workers, r->c.spares, 1};
    /* Spares and the drainer continue the placement where the workers' ends. */
    if (o->cpus && o->ncpus > 0) {
        int n = o->ncpus > 256 ? 256 : o->ncpus;
        for (int k = 0; k < n; k++) {
            rot[0][k] = o->cpus[(r->c.workers + (unsigned)k) % (unsigned)n];
            rot[1][k] = o->cpus[(r->c.workers + r->c.spares + (unsigned)k) % (unsigned)n];
        }
        cpus[1] = rot[0];
        cpus[2] = rot[1];
    }
    unsigned base = 0;
    for (int i = 0; i < 3; i++) {
        r->c.base = base;
        int rc = ipc_pool_start(&r->pools[i], counts[i], child_main, &r->c, cpus[i],
                                cpus[i] ? (o->ncpus > 256 ? 256 : o->ncpus) : 0);
        if (rc < 0) {
            ipc_set_err(r->err, r->errlen, "starting %u processes: %s", counts[i], strerror(-rc));
            return rc;
        }
        r->started[i] = true;
        base += counts[i];
    }
    /* The workers and spares, for the main thread's bookkeeping (not the drainer). */
    r->nprocs = r->c.workers + r->c.spares;
    r->procs = calloc(r->nprocs, sizeof *r->procs);
    if (!r->procs) {
        ipc_set_err(r->err, r->errlen, "out of memory");
        return -ENOMEM;
    }
    for (unsigned i = 0; i < r->nprocs; i++) {
        struct ipc_pool *p = i < r->c.workers ? &r->pools[0] : &r->pools[1];
        unsigned k = i < r->c.workers ? i : i - r->c.workers;
        r->procs[i] = (struct proc){.p = &p->procs[k], .id = i};
    }
    return 0;
}

static int check_opts(const struct ipc_workqueue_opts *o, char *err, size_t errlen)
{
    if (!o->transport) {
        ipc_set_err(err, errlen, "no transport");
        return -EINVAL;
    }
    if (o->workers < 1 || o->workers > IPC_WORKQUEUE_MAX_WORKERS) {
        ipc_set_err(err, errlen, "%u workers: 1 to %d", o->workers, IPC_WORKQUEUE_MAX_WORKERS);
        return -EINVAL;
    }
    if (o->kill_worker >= (int)o->workers || (o->kill_worker >= 0 && o->kill_after < 1)) {
        ipc_set_err(err, errlen, "kill worker %d after %u jobs: no such worker or no job",
                o->kill_worker, o->kill_after);
        return -EINVAL;
    }
    return 0;
}

/* Whether the feeder is idle; its error (with err set), if it failed. */
static int feeder_state(struct run *r, bool *idle)
{
    int ferr;
    *idle = feeder_idle(&r->f, &ferr);
    if (ferr < 0) {
        pthread_mutex_lock(&r->f.mu);
        ipc_set_err(r->err, r->errlen, "%s", r->f.errstr);
        pthread_mutex_unlock(&r->f.mu);
    }
    return ferr;
}

/* Collect until every worker is finished, the queue is empty and nothing is owed. */
static int collect(struct run *r, size_t njobs, ipc_result_fn on_result, void *arg,
                   uint64_t deadline, uint64_t *t_last)
{
    unsigned char *buf = malloc(IPC_QUEUE_MAX_MSG);
    if (!buf) {
        ipc_set_err(r->err, r->errlen, "out of memory");
        return -ENOMEM;
    }
    struct ipc_queue *q = &r->c.results;
    uint64_t last_check = 0;
    int rc = 0;
    for (;;) {
        uint64_t now = ipc_now_ns();
        int slice = SLICE_MS;
        if (deadline) {
            if (now >= deadline) {
                ipc_set_err(r->err, r->errlen,
                        "timed out after %d ms: %llu of %zu results, %u of %u confirmations",
                        r->o->timeout_ms, (unsigned long long)r->st->results, njobs,
                        r->st->confirmed, r->c.workers + r->activations);
                rc = -ETIMEDOUT;
                break;
            }
            uint64_t left = (deadline - now + 999999) / 1000000;
            if (left < (uint64_t)slice)
                slice = (int)left;
        }
        size_t len = 0;
        int got = ipc_queue_recv(q, buf, IPC_QUEUE_MAX_MSG, &len, slice);
        if (got == 0) {
            *t_last = ipc_now_ns();
            if ((rc = handle_message(r, buf, len, njobs, on_result, arg)) < 0)
                break;
            ipc_queue_ack(q);
        } else if (got != -ETIMEDOUT) {
            ipc_set_err(r->err, r->errlen, "result queue: %s", q->errstr);
            rc = got;
            break;
        }
        /* The pidfds and the feeder: when the queue is quiet, and every CHECK_NS while
         * results keep coming. */
        bool idle = false;
        if (got != 0 || ipc_now_ns() - last_check >= CHECK_NS) {
            last_check = ipc_now_ns();
            if ((rc = check_procs(r, njobs)) < 0 || (rc = feeder_state(r, &idle)) < 0)
                break;
        }
        /* The end needs every worker woken and finished (confirmed or dead), and the feeder
         * done with whatever was asked of it. */
        if (r->finished < r->c.workers + r->activations || spares_taken(r) < r->activations)
            continue;
        if ((rc = feeder_state(r, &idle)) < 0)
            break;
        if (!idle)
            continue;
        /* Every worker is done and the feeder owes nothing. What finished processes sent is
         * in the queue by now: drain it. */
        while ((got = ipc_queue_recv(q, buf, IPC_QUEUE_MAX_MSG, &len, 0)) == 0) {
            *t_last = ipc_now_ns();
            if ((rc = handle_message(r, buf, len, njobs, on_result, arg)) < 0)
                break;
            ipc_queue_ack(q);
        }
        if (rc < 0)
            break;
        if (got != -ETIMEDOUT) {
            ipc_set_err(r->err, r->errlen, "result queue: %s", q->errstr);
            rc = got;
            break;
        }
        if (r->reliable && r->st->results < njobs) {
            /* Requeued work nobody was left to take (the others took their sentinels before
             * it came back): one more spare, with a sentinel of its own. */
            feeder_request(&r->f, 0, 1);
            if ((rc = wake_spare(r, njobs)) < 0)
                break;
            continue;
        }
        break;
    }
    free(buf);
    return rc;
}

int ipc_workqueue_run(const struct ipc_workqueue_opts *o, size_t njobs, ipc_job_fn job_at,
                      ipc_work_fn work, ipc_result_fn on_result, void *arg,
                      struct ipc_workqueue_stats *stats, char *err, size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    if (errlen)
        err[0] = '\0';
    int rc = check_opts(o, err, errlen);
    if (rc < 0)
        return rc;
    struct run *r = calloc(1, sizeof *r);
    if (!r) {
        ipc_set_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->o = o;
    r->st = stats;
    r->err = err;
    r->errlen = errlen;
    r->reliable = o->transport->props & IPC_QUEUE_PROP_RELIABLE;
    struct wq_ctx *c = &r->c;
    c->o = o;
    c->work = work;
    c->arg = arg;
    c->workers = o->workers;
    c->spares = o->workers < MAX_SPARES ? o->workers : MAX_SPARES;
    c->wake_rd = c->wake_wr = c->drain_rd = c->drain_wr = -1;
    r->spares_left = c->spares;
    /* cfg.max_msg bounds a job or result; the protocol's header comes on top. */
    struct ipc_queue_config cfg = o->cfg;
    c->max_payload = cfg.max_msg && cfg.max_msg < IPC_QUEUE_MAX_MSG - HDR ? cfg.max_msg
                                                                          : IPC_QUEUE_MAX_MSG - HDR;
    cfg.max_msg = c->max_payload + HDR;
    if (!cfg.participants)
        cfg.participants = c->workers + c->spares + 2; /* + the drainer and the parent */
    pthread_mutex_init(&r->f.mu, NULL);
    pthread_cond_init(&r->f.cv, NULL);

    r->done = calloc(njobs / 8 + 1, 1);
    c->sh = ipc_shared_alloc(sizeof *c->sh);
    int fds[2][2] = {{-1, -1}, {-1, -1}};
    if (!r->done || !c->sh) {
        ipc_set_err(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    c->jobs = (struct ipc_queue)IPC_QUEUE_INIT;
    c->results = (struct ipc_queue)IPC_QUEUE_INIT;
    if (ipc_queue_open(&c->jobs, o->transport, &cfg) < 0) {
        ipc_set_err(err, errlen, "job queue: %s", c->jobs.errstr);
        rc = c->jobs.err;
        goto out;
    }
    if (ipc_queue_open(&c->results, o->transport, &cfg) < 0) {
        ipc_set_err(err, errlen, "result queue: %s", c->results.errstr);
        rc = c->results.err;
        goto out;
    }
    if (pipe2(fds[0], O_CLOEXEC) < 0 || pipe2(fds[1], O_CLOEXEC) < 0) {
        rc = -errno;
        ipc_set_err(err, errlen, "pipe: %s", strerror(errno));
        goto out;
    }
    c->wake_rd = fds[0][0], c->wake_wr = fds[0][1];
    c->drain_rd = fds[1][0], c->drain_wr = fds[1][1];
    if ((rc = start_pools(r, o)) < 0)
        goto out;
    close_fd(&c->wake_rd);
    close_fd(&c->drain_rd);

    /* The parent joins both queues only now: children forked before it attached. */
    if (ipc_queue_attach(&c->jobs) < 0) {
        ipc_set_err(err, errlen, "job queue: %s", c->jobs.errstr);
        rc = c->jobs.err;
        goto out;
    }
    if (ipc_queue_attach(&c->results) < 0) {
        ipc_set_err(err, errlen, "result queue: %s", c->results.errstr);
        rc = c->results.err;
        goto out;
    }
    struct feeder *f = &r->f;
    f->q = &c->jobs;
    f->sh = c->sh;
    f->njobs = njobs;
    f->max_payload = c->max_payload;
    f->job_at = job_at;
    f->arg = arg;
    f->sentinels = c->workers;
    f->buf = malloc(HDR + c->max_payload);
    if (!f->buf) {
        ipc_set_err(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    uint64_t t0 = ipc_now_ns(), t_last = t0;
    uint64_t deadline = o->timeout_ms >= 0 ? t0 + (uint64_t)o->timeout_ms * 1000000u : 0;
    /* The feeder runs with the cleanup signals blocked: the handler belongs to the main
     * thread, which may be inside a queue call the handler must not interrupt halfway. */
    sigset_t old;
    ipc_cleanup_block(&old);
    rc = -pthread_create(&f->thread, NULL, feeder_main, f);
    ipc_cleanup_unblock(&old);
    if (rc < 0) {
        ipc_set_err(err, errlen, "feeder thread: %s", strerror(-rc));
        goto out;
    }
    r->feeder_started = true;

    rc = collect(r, njobs, on_result, arg, deadline, &t_last);
    stats->wall_ns = t_last - t0;
    if (rc == 0) {
        pthread_mutex_lock(&f->mu);
        f->quit = true;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->thread, NULL);
        r->feeder_started = false;
        if (f->error < 0) {
            ipc_set_err(err, errlen, "%s", f->errstr);
            rc = f->error;
        }
    }
out:
    if (rc < 0) {
        /* Workers and spares first (the drainer must survive them), then the feeder. */
        for (int i = 0; i < 2; i++)
            if (r->started[i]) {
                ipc_pool_destroy(&r->pools[i]);
                r->started[i] = false;
            }
        stop_feeder(r);
    }
    /* End of file on the pipes: spares never woken and the drainer (if idle) exit. */
    close_fd(&c->wake_wr);
    close_fd(&c->drain_wr);
    close_fd(&c->wake_rd);
    close_fd(&c->drain_rd);
    end_pools(r, 10000);
    pthread_mutex_destroy(&r->f.mu);
    pthread_cond_destroy(&r->f.cv);
    stats->jobs = r->f.sent_jobs;
    stats->requeued = r->f.requeued;
    if (rc == 0)
        stats->lost = njobs - stats->results;
    ipc_queue_close(&c->results);
    ipc_queue_close(&c->jobs);
    ipc_shared_free(c->sh, sizeof *c->sh);
    free(r->f.buf);
    free(r->procs);
    free(r->done);
    free(r);
    return rc;
}

/* ---- measurement sessions ------------------------------------------------------------------- */

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/* Wait while *word == val, at most ms milliseconds (shared across processes: no PRIVATE). */
static void futex_wait_ms(_Atomic uint32_t *word, uint32_t val, int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    futex(word, FUTEX_WAIT, val, &ts);
}

static void futex_wake_all(_Atomic uint32_t *word)
{
    futex(word, FUTEX_WAKE, INT_MAX, NULL);
}

enum { QB_RUN = 1, QB_QUIT };
#define QB_STALL_NS (30ull * 1000000000u)

struct qb_shared {
    _Atomic uint32_t cmd_seq;  /* the parent bumps it to hand out a command */
    _Atomic uint32_t done[2];  /* each partner sets it to the command it finished */
    _Atomic uint64_t progress; /* messages received / round trips made so far */
    int cmd;
    uint64_t n;
    uint64_t t_first, t_last, ns;
    size_t nsamples;
    char err[2][ERR_LEN];
    uint64_t samples[]; /* round trips of the last run */
};

struct ipc_qbench {
    enum ipc_qbench_mode mode;
    size_t size, max_samples, shared_size;
    unsigned nq;
    struct ipc_queue q[2];
    struct qb_shared *sh;
    struct ipc_pool pool;
    bool started, broken;
};

static int partner_fail(struct qb_shared *sh, unsigned idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int partner_fail(struct qb_shared *sh, unsigned idx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->err[idx], ERR_LEN, fmt, ap);
    va_end(ap);
    return 1;
}

/* The stream's messages carry their number in the first 8 bytes (when they have 8). */
static void stamp(unsigned char *buf, size_t size, uint64_t seq)
{
    memcpy(buf, &seq, size < 8 ? size : 8);
}

static bool stamped(const unsigned char *buf, size_t size, uint64_t seq)
{
    return memcmp(buf, &seq, size < 8 ? size : 8) == 0;
}

static int run_partner(struct ipc_qbench *b, unsigned idx, unsigned char *buf, uint64_t *seq)
{
    struct qb_shared *sh = b->sh;
    uint64_t n = sh->n;
    size_t len;
    if (b->mode == IPC_QBENCH_STREAM && idx == 0) {
        sh->t_first = ipc_now_ns();
        for (uint64_t i = 0; i < n; i++, (*seq)++) {
            stamp(buf, b->size, *seq);
            if (ipc_queue_send(&b->q[0], buf, b->size) < 0)
                return partner_fail(sh, idx, "send: %s", b->q[0].errstr);
        }
    } else if (b->mode == IPC_QBENCH_STREAM) {
        for (uint64_t i = 0; i < n; i++, (*seq)++) {
            if (ipc_queue_recv(&b->q[0], buf, b->size, &len, -1) < 0)
                return partner_fail(sh, idx, "recv: %s", b->q[0].errstr);
            if (len != b->size || !stamped(buf, len, *seq))
                return partner_fail(sh, idx,
                                    "message %llu: %zu bytes or wrong number (expected %zu bytes)",
                                    (unsigned long long)*seq, len, b->size);
            ipc_queue_ack(&b->q[0]);
            atomic_store_explicit(&sh->progress, i + 1, memory_order_relaxed);
        }
        sh->t_last = ipc_now_ns();
    } else if (idx == 0) {
        uint64_t t0 = ipc_now_ns(), prev = t0;
        for (uint64_t i = 0; i < n; i++, (*seq)++) {
            stamp(buf, b->size, *seq);
            if (ipc_queue_send(&b->q[0], buf, b->size) < 0)
                return partner_fail(sh, idx, "send: %s", b->q[0].errstr);
            if (ipc_queue_recv(&b->q[1], buf, b->size, &len, -1) < 0)
                return partner_fail(sh, idx, "recv: %s", b->q[1].errstr);
            if (len != b->size || !stamped(buf, len, *seq))
                return partner_fail(sh, idx, "echo %llu: %zu bytes or wrong number",
                                    (unsigned long long)*seq, len);
            ipc_queue_ack(&b->q[1]);
            uint64_t t = ipc_now_ns();
            if (i < b->max_samples)
                sh->samples[i] = t - prev;
            prev = t;
            atomic_store_explicit(&sh->progress, i + 1, memory_order_relaxed);
        }
        sh->ns = prev - t0;
        sh->nsamples = n < b->max_samples ? n : b->max_samples;
    } else {
        for (uint64_t i = 0; i < n; i++) {
            if (ipc_queue_recv(&b->q[0], buf, b->size, &len, -1) < 0)
                return partner_fail(sh, idx, "recv: %s", b->q[0].errstr);
            ipc_queue_ack(&b->q[0]);
            if (ipc_queue_send(&b->q[1], buf, len) < 0)
                return partner_fail(sh, idx, "send: %s", b->q[1].errstr);
        }
    }
    return 0;
}

static int partner_main(unsigned idx, void *p)
{
    struct ipc_qbench *b = p;
    struct qb_shared *sh = b->sh;
    for (unsigned i = 0; i < b->nq; i++)
        if (ipc_queue_attach(&b->q[i]) < 0)
            return partner_fail(sh, idx, "attach: %s", b->q[i].errstr);
    unsigned char *buf = calloc(1, b->size);
    if (!buf)
        return partner_fail(sh, idx, "out of memory");
    for (size_t j = 0; j < b->size; j++)
        buf[j] = (unsigned char)(j * 7 + 1);
    uint32_t mine = 0;
    uint64_t seq = 0;
    int status = 0;
    for (;;) {
        uint32_t cur;
        while ((cur = atomic_load_explicit(&sh->cmd_seq, memory_order_acquire)) == mine)
            futex_wait_ms(&sh->cmd_seq, mine, 1000);
        mine = cur;
        if (sh->cmd == QB_QUIT)
            break;
        if ((status = run_partner(b, idx, buf, &seq)) != 0)
            break;
        atomic_store_explicit(&sh->done[idx], mine, memory_order_release);
        futex_wake_all(&sh->done[idx]);
    }
    for (unsigned i = 0; i < b->nq; i++)
        ipc_queue_detach(&b->q[i]);
    free(buf);
    return status;
}

struct ipc_qbench *ipc_qbench_start(const struct ipc_queue_ops *ops,
                                    const struct ipc_queue_config *cfg, enum ipc_qbench_mode mode,
                                    size_t size, size_t max_samples, const int *cpus, char *err,
                                    size_t errlen)
{
    if (size < 1 || size > IPC_QUEUE_MAX_MSG) {
        ipc_set_err(err, errlen, "message size %zu: 1 to %d", size, IPC_QUEUE_MAX_MSG);
        return NULL;
    }
    struct ipc_qbench *b = calloc(1, sizeof *b);
    if (!b) {
        ipc_set_err(err, errlen, "out of memory");
        return NULL;
    }
    b->mode = mode;
    b->size = size;
    b->max_samples = mode == IPC_QBENCH_PINGPONG ? max_samples : 0;
    b->nq = mode == IPC_QBENCH_PINGPONG ? 2 : 1;
    b->shared_size = sizeof *b->sh + b->max_samples * sizeof(uint64_t);
    b->sh = ipc_shared_alloc(b->shared_size);
    if (!b->sh) {
        ipc_set_err(err, errlen, "shared memory: %s", strerror(errno));
        free(b);
        return NULL;
    }
    struct ipc_queue_config c = cfg ? *cfg : (struct ipc_queue_config){0};
    if (!c.max_msg)
        c.max_msg = size;
    if (!c.participants)
        c.participants = 3;
    for (unsigned i = 0; i < b->nq; i++) {
        b->q[i] = (struct ipc_queue)IPC_QUEUE_INIT;
        if (ipc_queue_open(&b->q[i], ops, &c) < 0) {
            ipc_set_err(err, errlen, "%s", b->q[i].errstr);
            ipc_qbench_stop(b);
            return NULL;
        }
    }
    int rc = ipc_pool_start(&b->pool, 2, partner_main, b, cpus, cpus ? 2 : 0);
    if (rc < 0) {
        ipc_set_err(err, errlen, "starting the two partner processes: %s", strerror(-rc));
        ipc_qbench_stop(b);
        return NULL;
    }
    b->started = true;
    return b;
}

/* The partner that failed or died, described; -1 if both run. */
static int partner_gone(struct ipc_qbench *b, char *err, size_t errlen)
{
    struct pollfd fds[2];
    for (unsigned i = 0; i < 2; i++)
        fds[i] = (struct pollfd){.fd = b->pool.procs[i].pidfd, .events = POLLIN};
    if (poll(fds, 2, 0) <= 0)
        return -1;
    for (unsigned i = 0; i < 2; i++) {
        if (!fds[i].revents)
            continue;
        /* Reap it through the pool, which stops the other partner too. */
        unsigned failed = i;
        ipc_pool_wait(&b->pool, 0, &failed);
        char how[128];
        ipc_pool_describe(&b->pool, failed, how, sizeof how);
        ipc_set_err(err, errlen, "partner %u %s%s%s", failed, how, b->sh->err[failed][0] ? ": " : "",
                b->sh->err[failed]);
        return (int)failed;
    }
    return -1;
}

int ipc_qbench_run(struct ipc_qbench *b, uint64_t n, uint64_t *ns, char *err, size_t errlen)
{
    if (b->broken) {
        ipc_set_err(err, errlen, "the session has failed before");
        return -EPIPE;
    }
    struct qb_shared *sh = b->sh;
    sh->n = n;
    sh->cmd = QB_RUN;
    atomic_store(&sh->progress, 0);
    uint32_t seq = atomic_load(&sh->cmd_seq) + 1;
    atomic_store_explicit(&sh->cmd_seq, seq, memory_order_release);
    futex_wake_all(&sh->cmd_seq);
    uint64_t last_progress = 0, since = ipc_now_ns();
    for (unsigned i = 0; i < 2; i++) {
        uint32_t d;
        while ((d = atomic_load_explicit(&sh->done[i], memory_order_acquire)) != seq) {
            futex_wait_ms(&sh->done[i], d, 100);
            if (atomic_load_explicit(&sh->done[i], memory_order_acquire) == seq)
                break;
            if (partner_gone(b, err, errlen) >= 0) {
                b->broken = true;
                return -EPIPE;
            }
            uint64_t p = atomic_load_explicit(&sh->progress, memory_order_relaxed);
            uint64_t now = ipc_now_ns();
            if (p != last_progress) {
                last_progress = p;
                since = now;
            } else if (now - since > QB_STALL_NS) {
                ipc_set_err(err, errlen, "no progress for 30 s (%llu of %llu done)",
                        (unsigned long long)p, (unsigned long long)n);
                b->broken = true;
                ipc_pool_destroy(&b->pool);
                b->started = false;
                return -ETIMEDOUT;
            }
        }
    }
    if (ns)
        *ns = b->mode == IPC_QBENCH_STREAM ? sh->t_last - sh->t_first : sh->ns;
    return 0;
}

const uint64_t *ipc_qbench_samples(const struct ipc_qbench *b, size_t *count)
{
    *count = b->sh->nsamples;
    return b->sh->samples;
}

void ipc_qbench_stop(struct ipc_qbench *b)
{
    if (!b)
        return;
    if (b->started) {
        b->sh->cmd = QB_QUIT;
        atomic_fetch_add_explicit(&b->sh->cmd_seq, 1, memory_order_release);
        futex_wake_all(&b->sh->cmd_seq);
        ipc_pool_wait(&b->pool, 10000, NULL);
        ipc_pool_destroy(&b->pool);
    }
    for (unsigned i = 0; i < b->nq; i++)
        ipc_queue_close(&b->q[i]);
    ipc_shared_free(b->sh, b->shared_size);
    free(b);
}
