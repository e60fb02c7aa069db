/* SPDX-License-Identifier: MIT */
/* ipclab's Redis load generator: C pipelined hiredis connections in one poll() loop. */
#include "redis_bench.h"

#include "clock.h"
#include "cpu.h"
#include "errbuf.h"
#include "redis_server.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const char *const op_names[IPC_RB_NOPS] = {"get", "set", "incr"};
static const char *const op_titles[IPC_RB_NOPS] = {"GET", "SET", "INCR"};

const char *ipc_rb_op_name(enum ipc_rb_op op)
{
    return (unsigned)op < IPC_RB_NOPS ? op_names[op] : "?";
}

const char *ipc_rb_op_title(enum ipc_rb_op op)
{
    return (unsigned)op < IPC_RB_NOPS ? op_titles[op] : "?";
}

int ipc_rb_op_parse(const char *s, enum ipc_rb_op *op)
{
    for (unsigned i = 0; i < IPC_RB_NOPS; i++) {
        if (strcmp(s, op_names[i]) == 0) {
            *op = (enum ipc_rb_op)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *ipc_rb_set_value(void)
{
    /* redis-benchmark's genBenchmarkRandomData(data, 3) on its first call: a static LCG
     * state seeded with 1234, one step per byte. Computed, not typed in, so the recipe is
     * what is checked (the test compares it with what redis-benchmark's SET stored). */
    static char value[4];
    if (!value[0]) {
        uint32_t state = 1234;
        for (int i = 0; i < 3; i++) {
            state = state * 1103515245u + 12345u;
            value[i] = (char)('0' + ((state >> 16) & 63));
        }
    }
    return value;
}

int ipc_rb_ensure_fds(unsigned clients)
{
    /* The connections, stdio, a few for the caller (pidfds, pipes, redis-server's). */
    rlim_t need = (rlim_t)clients + 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
            return -EMFILE;
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return -errno;
    }
    return 0;
}

uint64_t ipc_rb_size(double rate, double seconds, unsigned clients, unsigned pipeline)
{
    uint64_t cp = (uint64_t)(clients ? clients : 1) * (pipeline ? pipeline : 1);
    uint64_t lo = 4 * cp > IPC_RB_SIZE_MIN ? 4 * cp : IPC_RB_SIZE_MIN;
    lo = (lo + cp - 1) / cp * cp;
    uint64_t hi = IPC_RB_SIZE_MAX / cp ? IPC_RB_SIZE_MAX / cp * cp : cp;
    double want = rate * seconds;
    uint64_t n;
    if (!(want > 0)) /* also NaN */
        n = lo;
    else if (want >= (double)hi)
        n = hi;
    else
        n = (uint64_t)llround(want / (double)cp) * cp;
    if (n < lo)
        n = lo;
    if (n > hi)
        n = hi;
    return n;
}

/* ---- latency accumulator -------------------------------------------------------------------- */

/* Log-linear buckets: values below 2^SUB_BITS exactly, above that SUB_BITS - 1 bits of
 * mantissa, so a bucket is at most 1/1024 of its value wide (0.1 %, as the histogram
 * redis-benchmark keeps with 3 significant digits). */
#define SUB_BITS 10
#define SUB_COUNT (1u << SUB_BITS)
#define HALF (SUB_COUNT / 2)
#define NBUCKETS (SUB_COUNT + (64 - SUB_BITS) * HALF)

static size_t bucket_of(uint64_t v)
{
    if (v < SUB_COUNT)
        return (size_t)v;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - (SUB_BITS - 1);
    return SUB_COUNT + (size_t)(shift - 1) * HALF + (size_t)((v >> shift) - HALF);
}

/* The middle of bucket i (its value for values below SUB_COUNT). */
static double bucket_value(size_t i)
{
    if (i < SUB_COUNT)
        return (double)i;
    unsigned shift = (unsigned)((i - SUB_COUNT) / HALF) + 1;
    uint64_t m = (i - SUB_COUNT) % HALF + HALF;
    return ((double)m + 0.5) * (double)(1ull << shift);
}

int ipc_rb_lat_init(struct ipc_rb_lat *l, uint64_t batches, unsigned weight, uint64_t max_exact)
{
    memset(l, 0, sizeof *l);
    l->weight = weight ? weight : 1;
    l->exact = batches <= max_exact;
    if (l->exact) {
        l->cap = batches ? (size_t)batches : 1;
        l->v = malloc(l->cap * sizeof *l->v);
        if (!l->v)
            return -ENOMEM;
    } else {
        l->hist = calloc(NBUCKETS, sizeof *l->hist);
        if (!l->hist)
            return -ENOMEM;
    }
    return 0;
}

int ipc_rb_lat_add(struct ipc_rb_lat *l, uint64_t ns, uint64_t weight)
{
    if (!l->exact) {
        l->hist[bucket_of(ns)] += weight;
    } else if (weight == l->weight) {
        if (l->n == l->cap) {
            size_t cap = l->cap * 2;
            uint64_t *v = realloc(l->v, cap * sizeof *v);
            if (!v)
                return -ENOMEM;
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++] = ns;
    } else {
        if (l->nodd == l->capodd) {
            size_t cap = l->capodd ? l->capodd * 2 : 4;
            struct ipc_rb_lat_odd *o = realloc(l->odd, cap * sizeof *o);
            if (!o)
                return -ENOMEM;
            l->odd = o;
            l->capodd = cap;
        }
        l->odd[l->nodd++] = (struct ipc_rb_lat_odd){ns, weight};
    }
    l->total_w += weight;
    l->sum += (double)ns * (double)weight;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_odd(const void *a, const void *b)
{
    const struct ipc_rb_lat_odd *x = a, *y = b;
    return cmp_u64(&x->ns, &y->ns);
}

/* Nearest rank of percentile p (1..100) in a total weight w: the smallest rank whose
 * cumulative weight reaches p % of w. */
static uint64_t rank_of(uint64_t w, unsigned p)
{
    uint64_t r = (w / 100) * p + ((w % 100) * p + 99) / 100;
    return r ? r : 1;
}

void ipc_rb_lat_summary(struct ipc_rb_lat *l, double *mean_us, double *p50_us, double *p99_us)
{
    *mean_us = *p50_us = *p99_us = 0;
    if (!l->total_w)
        return;
    *mean_us = l->sum / (double)l->total_w / 1e3;
    const uint64_t ranks[2] = {rank_of(l->total_w, 50), rank_of(l->total_w, 99)};
    double *outs[2] = {p50_us, p99_us};
    unsigned k = 0;
    uint64_t cum = 0;
    if (!l->exact) {
        for (size_t i = 0; i < NBUCKETS && k < 2; i++) {
            cum += l->hist[i];
            while (k < 2 && cum >= ranks[k])
                *outs[k++] = bucket_value(i) / 1e3;
        }
        return;
    }
    /* Walk the two sorted lists together, in order of value. */
    /* Not qsort(NULL, 0): its pointer is declared non-null even for no elements. */
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, cmp_u64);
    if (l->nodd)
        qsort(l->odd, l->nodd, sizeof *l->odd, cmp_odd);
    size_t i = 0, j = 0;
    while (k < 2 && (i < l->n || j < l->nodd)) {
        uint64_t v;
        if (j >= l->nodd || (i < l->n && l->v[i] <= l->odd[j].ns)) {
            v = l->v[i++];
            cum += l->weight;
        } else {
            v = l->odd[j].ns;
            cum += l->odd[j++].w;
        }
        while (k < 2 && cum >= ranks[k])
            *outs[k++] = (double)v / 1e3;
    }
}

void ipc_rb_lat_free(struct ipc_rb_lat *l)
{
    free(l->v);
    free(l->odd);
    free(l->hist);
    memset(l, 0, sizeof *l);
}

#ifdef IPCLAB_HAVE_HIREDIS

#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

bool ipc_rb_available(char *why, size_t len)
{
    if (why && len)
        why[0] = '\0';
    return true;
}

/* One connection and the batch it has in flight. */
struct client {
    redisContext *ctx;
    uint64_t t0;       /* when its batch was written */
    unsigned batch;    /* requests in the batch */
    unsigned pending;  /* replies still to come */
};

struct run {
    const struct ipc_rb_target *t;
    const struct ipc_rb_opts *o;
    char where[300];   /* the target, for messages */
    char *cmd;         /* the command, RESP-formatted */
    size_t cmdlen;
    char *batch;       /* P copies of it */
    struct client *c;
    struct pollfd *pfd;
    uint64_t issued, answered, t_first, t_last;
    struct ipc_rb_lat lat;
    char *err;
    size_t errlen;
};

/*
 * hiredis writes with write(2), so a server that dies would raise SIGPIPE and kill the
 * process silently. ipclab's main() ignores SIGPIPE already; a program that calls this
 * without doing so (a test) must not die either. A handler somebody installed is left alone.
 */
static void ignore_sigpipe_if_default(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
        old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

/* A failed context as -errno and a message. */
static int ctx_fail(struct run *b, const redisContext *c, int saved, const char *what)
{
    int rc = -EIO;
    const char *why = c->errstr[0] ? c->errstr : "unknown error";
    switch (c->err) {
    case REDIS_ERR_IO:
        if (saved == EAGAIN || saved == EWOULDBLOCK) {
            /* SO_SNDTIMEO / SO_RCVTIMEO expired: hiredis reports the bare EAGAIN. */
            ipc_set_err(b->err, b->errlen, "%s: %s: no progress within %d ms", b->where, what,
                    b->o->timeout_ms ? b->o->timeout_ms : IPC_RB_DEFAULT_TIMEOUT_MS);
            return -ETIMEDOUT;
        }
        rc = saved > 0 ? -saved : -EIO;
        break;
    case REDIS_ERR_EOF:
        rc = -ECONNRESET;
        break;
    case REDIS_ERR_PROTOCOL:
        rc = -EPROTO;
        break;
    case REDIS_ERR_OOM:
        rc = -ENOMEM;
        break;
    }
    ipc_set_err(b->err, b->errlen, "%s: %s: %s", b->where, what, why);
    return rc;
}

static int connect_one(struct run *b, struct client *cl)
{
    int ms = b->o->timeout_ms ? b->o->timeout_ms : IPC_RB_DEFAULT_TIMEOUT_MS;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    errno = 0;
    redisContext *c = b->t->socket ? redisConnectUnixWithTimeout(b->t->socket, tv)
                                   : redisConnectWithTimeout(b->t->host, b->t->port, tv);
    int saved = errno;
    if (!c) {
        ipc_set_err(b->err, b->errlen, "%s: connect: out of memory", b->where);
        return -ENOMEM;
    }
    int rc = 0;
    if (c->err) {
        rc = ctx_fail(b, c, saved, "connect");
    } else if (redisSetTimeout(c, tv) != REDIS_OK) {
        /* Blocking writes and reads then fail after the timeout instead of hanging on a
         * stuck server. */
        rc = ctx_fail(b, c, errno, "set timeouts");
    } else if (fcntl(c->fd, F_SETFD, FD_CLOEXEC) < 0) {
        /* A redis-benchmark or redis-server started later must not hold it open. */
        rc = -errno;
        ipc_set_err(b->err, b->errlen, "%s: FD_CLOEXEC: %s", b->where, strerror(errno));
    } else {
        char why[200];
        if ((rc = ipc_redis_auth(c, b->t->password, why, sizeof why)) < 0)
            ipc_set_err(b->err, b->errlen, "%s: %s", b->where, why);
    }
    if (rc < 0) {
        redisFree(c);
        return rc;
    }
    /* Keep the reader's buffer between batches, as redis-benchmark does ("suppress hiredis
     * cleanup of unused buffers for max speed"), so the two do the same work per reply. */
    c->reader->maxbuf = 0;
    cl->ctx = c;
    return 0;
}

/* Queue the next batch on client i and write it all (blocking). A client with nothing left
 * to send leaves the poll set. */
static int start_batch(struct run *b, size_t i)
{
    struct client *cl = &b->c[i];
    uint64_t left = b->o->requests - b->issued;
    if (left == 0) {
        cl->batch = cl->pending = 0;
        b->pfd[i].fd = -1;
        return 0;
    }
    unsigned k = left < b->o->pipeline ? (unsigned)left : b->o->pipeline;
    b->issued += k;
    if (redisAppendFormattedCommand(cl->ctx, b->batch, (size_t)k * b->cmdlen) != REDIS_OK)
        return ctx_fail(b, cl->ctx, errno, "append");
    cl->batch = cl->pending = k;
    cl->t0 = ipc_now_ns();
    if (!b->t_first)
        b->t_first = cl->t0;
    int done = 0;
    while (!done) {
        errno = 0;
        if (redisBufferWrite(cl->ctx, &done) != REDIS_OK)
            return ctx_fail(b, cl->ctx, errno, "write");
    }
    return 0;
}

/* Whether a reply is what op gets; a message for err otherwise. */
static int check_reply(struct run *b, const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR) {
        ipc_set_err(b->err, b->errlen, "%s: %s: error reply: %.200s", b->where,
                ipc_rb_op_title(b->o->op), r->str ? r->str : "");
        return -EIO;
    }
    bool ok = false;
    switch (b->o->op) {
    case IPC_RB_GET:
        ok = r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL;
        break;
    case IPC_RB_SET:
        ok = r->type == REDIS_REPLY_STATUS && r->str && strcmp(r->str, "OK") == 0;
        break;
    case IPC_RB_INCR:
        ok = r->type == REDIS_REPLY_INTEGER;
        break;
    }
    if (!ok) {
        ipc_set_err(b->err, b->errlen, "%s: %s: unexpected reply of type %d", b->where,
                ipc_rb_op_title(b->o->op), r->type);
        return -EPROTO;
    }
    return 0;
}

/* Read what client i has for us, take every complete reply; on its batch's last one record
 * the latency and write the next batch at once. */
static int on_readable(struct run *b, size_t i)
{
    struct client *cl = &b->c[i];
    errno = 0;
    if (redisBufferRead(cl->ctx) != REDIS_OK)
        return ctx_fail(b, cl->ctx, errno, "read");
    while (cl->pending > 0) {
        void *rep = NULL;
        if (redisGetReplyFromReader(cl->ctx, &rep) != REDIS_OK)
            return ctx_fail(b, cl->ctx, errno, "reply");
        if (!rep)
            return 0;
        int rc = check_reply(b, rep);
        freeReplyObject(rep);
        if (rc < 0)
            return rc;
        cl->pending--;
    }
    uint64_t now = ipc_now_ns();
    b->t_last = now;
    b->answered += cl->batch;
    if (ipc_rb_lat_add(&b->lat, now - cl->t0, cl->batch) < 0) {
        ipc_set_err(b->err, b->errlen, "latency samples: out of memory");
        return -ENOMEM;
    }
    return start_batch(b, i);
}

static int loop(struct run *b)
{
    size_t n = b->o->clients;
    for (size_t i = 0; i < n; i++) {
        b->pfd[i] = (struct pollfd){.fd = b->c[i].ctx->fd, .events = POLLIN};
        int rc = start_batch(b, i);
        if (rc < 0)
            return rc;
    }
    int ms = b->o->timeout_ms ? b->o->timeout_ms : IPC_RB_DEFAULT_TIMEOUT_MS;
    while (b->answered < b->o->requests) {
        int ready = poll(b->pfd, n, ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            ipc_set_err(b->err, b->errlen, "poll: %s", strerror(errno));
            return -errno;
        }
        if (ready == 0) {
            ipc_set_err(b->err, b->errlen,
                    "%s: no reply within %d ms (%llu of %llu requests answered)", b->where, ms,
                    (unsigned long long)b->answered, (unsigned long long)b->o->requests);
            return -ETIMEDOUT;
        }
        for (size_t i = 0; i < n && ready > 0; i++) {
            if (b->pfd[i].fd < 0 || !b->pfd[i].revents)
                continue;
            ready--;
            int rc = on_readable(b, i);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int check_opts(const struct ipc_rb_target *t, const struct ipc_rb_opts *o, char *err,
                      size_t errlen)
{
    if ((unsigned)o->op >= IPC_RB_NOPS)
        ipc_set_err(err, errlen, "unknown operation %d", (int)o->op);
    else if (o->pipeline < 1 || o->pipeline > IPC_RB_MAX_PIPELINE)
        ipc_set_err(err, errlen, "pipeline %u is not within 1..%u", o->pipeline, IPC_RB_MAX_PIPELINE);
    else if (o->clients < 1 || o->clients > IPC_RB_MAX_CLIENTS)
        ipc_set_err(err, errlen, "clients %u is not within 1..%u", o->clients, IPC_RB_MAX_CLIENTS);
    else if (o->requests < 1 || o->requests > IPC_RB_MAX_REQUESTS)
        ipc_set_err(err, errlen, "requests %llu is not within 1..%llu",
                (unsigned long long)o->requests, IPC_RB_MAX_REQUESTS);
    else if (o->timeout_ms < 0)
        ipc_set_err(err, errlen, "negative timeout");
    else if (t->socket ? !*t->socket : !t->host || !*t->host || t->port < 1 || t->port > 65535)
        ipc_set_err(err, errlen, "no server given (a Unix socket, or a host and a port 1..65535)");
    else
        return 0;
    return -EINVAL;
}

/* The command as redis-benchmark formats it (redisFormatCommand with the same format). */
static int format_cmd(enum ipc_rb_op op, char **cmd)
{
    switch (op) {
    case IPC_RB_GET:
        return redisFormatCommand(cmd, "GET key%s:__rand_int__", "");
    case IPC_RB_SET:
        return redisFormatCommand(cmd, "SET key%s:__rand_int__ %s", "", ipc_rb_set_value());
    case IPC_RB_INCR:
        return redisFormatCommand(cmd, "INCR counter%s:__rand_int__", "");
    }
    return -1;
}

int ipc_rb_run(const struct ipc_rb_target *t, const struct ipc_rb_opts *o, struct ipc_rb_result *r,
               char *err, size_t errlen)
{
    int rc = check_opts(t, o, err, errlen);
    if (rc < 0)
        return rc;
    ignore_sigpipe_if_default();
    struct run b = {.t = t, .o = o, .err = err, .errlen = errlen};
    if (t->socket)
        snprintf(b.where, sizeof b.where, "%.250s", t->socket);
    else
        snprintf(b.where, sizeof b.where, "%.250s:%d", t->host, t->port);
    int len = format_cmd(o->op, &b.cmd);
    if (len <= 0) {
        ipc_set_err(err, errlen, "cannot format the command: out of memory");
        return -ENOMEM;
    }
    b.cmdlen = (size_t)len;
    uint64_t batches = (o->requests + o->pipeline - 1) / o->pipeline;
    b.batch = malloc(b.cmdlen * o->pipeline);
    b.c = calloc(o->clients, sizeof *b.c);
    b.pfd = calloc(o->clients, sizeof *b.pfd);
    if (!b.batch || !b.c || !b.pfd ||
        ipc_rb_lat_init(&b.lat, batches, o->pipeline, IPC_RB_EXACT_MAX_BATCHES) < 0) {
        ipc_set_err(err, errlen, "out of memory for %u clients and %llu batches", o->clients,
                (unsigned long long)batches);
        rc = -ENOMEM;
        goto out;
    }
    /* Built once, sent as is: the P copies redis-benchmark keeps in each client's buffer. */
    for (unsigned i = 0; i < o->pipeline; i++)
        memcpy(b.batch + (size_t)i * b.cmdlen, b.cmd, b.cmdlen);

    cpu_set_t old;
    bool pinned = false;
    if (o->cpu >= CPU_SETSIZE) {
        ipc_set_err(err, errlen, "cannot pin to CPU %d: out of range", o->cpu);
        rc = -EINVAL;
        goto out;
    }
    if (o->cpu >= 0) {
        if (sched_getaffinity(0, sizeof old, &old) < 0 || ipc_cpu_pin(o->cpu) < 0) {
            rc = -errno;
            ipc_set_err(err, errlen, "cannot pin to CPU %d: %s", o->cpu, strerror(errno));
            goto out;
        }
        pinned = true;
    }
    if ((rc = ipc_rb_ensure_fds(o->clients)) < 0) {
        ipc_set_err(err, errlen, "%u connections need %u file descriptors: %s", o->clients,
                o->clients + 64, strerror(-rc));
        goto unpin;
    }
    for (unsigned i = 0; i < o->clients; i++)
        if ((rc = connect_one(&b, &b.c[i])) < 0)
            goto unpin;
    if ((rc = loop(&b)) < 0)
        goto unpin;
    memset(r, 0, sizeof *r);
    r->requests = b.answered;
    r->wall_ns = b.t_last - b.t_first;
    r->rps = r->wall_ns ? (double)r->requests * 1e9 / (double)r->wall_ns : 0;
    ipc_rb_lat_summary(&b.lat, &r->mean_us, &r->p50_us, &r->p99_us);
    r->exact = b.lat.exact;
    r->cpu_seen = ipc_cpu_current();
unpin:
    if (pinned)
        sched_setaffinity(0, sizeof old, &old);
out:
    if (b.c)
        for (unsigned i = 0; i < o->clients; i++)
            if (b.c[i].ctx)
                redisFree(b.c[i].ctx);
    ipc_rb_lat_free(&b.lat);
    free(b.c);
    free(b.pfd);
    free(b.batch);
    redisFreeCommand(b.cmd);
    return rc;
}

int ipc_rb_requests_for(const struct ipc_rb_target *t, const struct ipc_rb_opts *o,
                        double seconds, uint64_t *n, char *err, size_t errlen)
{
    struct ipc_rb_opts p = *o;
    uint64_t cp = (uint64_t)o->clients * o->pipeline;
    uint64_t cap = ipc_rb_size(INFINITY, 1, o->clients, o->pipeline);
    uint64_t m = cp > IPC_RB_PILOT_MIN ? cp : (IPC_RB_PILOT_MIN + cp - 1) / cp * cp;
    if (m > cap)
        m = cap;
    struct ipc_rb_result r;
    for (;;) {
        p.requests = m;
        int rc = ipc_rb_run(t, &p, &r, err, errlen);
        if (rc < 0)
            return rc;
        if (r.wall_ns >= IPC_RB_PILOT_NS || m >= cap)
            break;
        /* Aim a little past the pilot's length; at most 20x per step, in case the first
         * run was mostly start-up. */
        double grow = r.wall_ns ? 1.2 * IPC_RB_PILOT_NS / (double)r.wall_ns : 20;
        grow = grow < 2 ? 2 : grow > 20 ? 20 : grow;
        uint64_t next = (uint64_t)((double)m * grow);
        next = (next + cp - 1) / cp * cp;
        m = next > cap ? cap : next;
    }
    *n = ipc_rb_size(r.rps, seconds, o->clients, o->pipeline);
    return 0;
}

#else /* !IPCLAB_HAVE_HIREDIS */

#define NO_HIREDIS "ipclab's Redis client is not built: hiredis was missing (apt-get install "    \
                   "libhiredis-dev, then rebuild)"

bool ipc_rb_available(char *why, size_t len)
{
    ipc_set_err(why, len, NO_HIREDIS);
    return false;
}

int ipc_rb_run(const struct ipc_rb_target *t, const struct ipc_rb_opts *o, struct ipc_rb_result *r,
               char *err, size_t errlen)
{
    (void)t, (void)o, (void)r;
    ipc_set_err(err, errlen, NO_HIREDIS);
    return -ENOTSUP;
}

int ipc_rb_requests_for(const struct ipc_rb_target *t, const struct ipc_rb_opts *o,
                        double seconds, uint64_t *n, char *err, size_t errlen)
{
    (void)t, (void)o, (void)seconds, (void)n;
    ipc_set_err(err, errlen, NO_HIREDIS);
    return -ENOTSUP;
}

#endif
