/* SPDX-License-Identifier: MIT */
/* The queue conformance suite for one transport (argv[1]): lifecycle and wrong-state errors,
 * message sizes, exactly-once delivery with several producers and consumers, receive
 * timeouts, the work-queue protocol with and without a killed worker, nothing left behind. */
#include "test.h"

#include "ipc/cleanup.h"
#include "ipc/clock.h"
#include "ipc/pool.h"
#include "ipc/queue.h"
#include "ipc/shared.h"
#include "ipc/workqueue.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct ipc_queue_ops *ops;
static bool reliable;

/* Liveness bounds: a broken transport must fail the test, not hang it. */
#define CHILD_TIMEOUT_MS 90000

/* ---- helpers -------------------------------------------------------------------------------- */

/* The first error a child met, for the parent to print. */
struct child_err {
    _Atomic int set;
    char text[512];
};

static void child_fail(struct child_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void child_fail(struct child_err *e, const char *fmt, ...)
{
    if (atomic_exchange(&e->set, 1))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
}

/* Run n children of fn and wait for them; a failure is reported with the child's words. */
static void run_children(const char *what, unsigned n, ipc_worker_fn fn, void *arg,
                         struct child_err *e)
{
    struct ipc_pool pool;
    int rc = ipc_pool_start(&pool, n, fn, arg, NULL, 0);
    if (rc < 0) {
        T_FAIL("%s: %s: cannot start %u children: %s", ops->name, what, n, strerror(-rc));
        return;
    }
    unsigned failed = 0;
    rc = ipc_pool_wait(&pool, CHILD_TIMEOUT_MS, &failed);
    if (rc == 1) {
        char how[128];
        ipc_pool_describe(&pool, failed, how, sizeof how);
        T_FAIL("%s: %s: child %u %s: %s", ops->name, what, failed, how,
               e->set ? e->text : "(no message)");
    } else if (rc < 0) {
        T_FAIL("%s: %s: children: %s (%s)", ops->name, what, strerror(-rc),
               e->set ? e->text : "no message");
    } else if (e->set) {
        T_FAIL("%s: %s: %s", ops->name, what, e->text);
    }
    ipc_pool_destroy(&pool);
}

static int count_fds(void)
{
    return t_count_entries("/proc/self/fd");
}

/* Queues of ours in /dev/mqueue if it is mounted (-1 if not). */
static int count_mqueue(void)
{
    return t_count_entries("/dev/mqueue");
}

static unsigned char pattern(uint64_t msg, size_t j)
{
    return (unsigned char)(msg * 131u + j * 7u + (j >> 8));
}

static void fill(unsigned char *b, size_t len, uint64_t msg)
{
    for (size_t j = 0; j < len; j++)
        b[j] = pattern(msg, j);
}

/* Index of the first wrong byte, or len. */
static size_t check_fill(const unsigned char *b, size_t len, uint64_t msg)
{
    for (size_t j = 0; j < len; j++)
        if (b[j] != pattern(msg, j))
            return j;
    return len;
}

static int open_queue(struct ipc_queue *q, size_t max_msg)
{
    struct ipc_queue_config cfg = {.max_msg = max_msg, .participants = 16};
    *q = (struct ipc_queue)IPC_QUEUE_INIT;
    int rc = ipc_queue_open(q, ops, &cfg);
    if (rc < 0)
        T_FAIL("%s: open: %s", ops->name, q->errstr);
    return rc;
}

/* ---- lifecycle and wrong-state errors ------------------------------------------------------ */

static void test_lifecycle(void)
{
    struct ipc_queue q = IPC_QUEUE_INIT;
    char buf[64];
    size_t len = 0;
    unsigned n = 99;

    /* Everything but open on a closed queue. */
    T_EQ_INT(ipc_queue_attach(&q), -EBADF);
    T_EQ_INT(ipc_queue_send(&q, "x", 1), -EBADF);
    T_EQ_INT(ipc_queue_recv(&q, buf, sizeof buf, &len, 0), -EBADF);
    T_EQ_INT(ipc_queue_ack(&q), -EBADF);
    T_EQ_INT(ipc_queue_detach(&q), -EBADF);
    T_EQ_INT(ipc_queue_recover(&q, &n), -EBADF);
    T_EQ_INT(n, 0);
    T_STR_NONEMPTY(q.errstr);
    ipc_queue_close(&q); /* safe on a closed queue */
    T_EQ_INT(q.state, IPC_QUEUE_CLOSED);

    if (open_queue(&q, 0) < 0)
        return;
    T_EQ_INT(q.state, IPC_QUEUE_OPEN);
    struct ipc_queue_config cfg = {0};
    T_EQ_INT(ipc_queue_open(&q, ops, &cfg), -EBUSY);
    T_EQ_INT(q.state, IPC_QUEUE_OPEN);
    /* Open but not attached here. */
    T_EQ_INT(ipc_queue_send(&q, "x", 1), -EBADF);
    T_EQ_INT(ipc_queue_recv(&q, buf, sizeof buf, &len, 0), -EBADF);
    T_EQ_INT(ipc_queue_ack(&q), -EBADF);
    T_EQ_INT(ipc_queue_detach(&q), -EBADF);
    int rc = ipc_queue_recover(&q, &n);
    if (reliable) {
        if (rc != 0)
            T_FAIL("%s: recover with nobody dead: %d (%s)", ops->name, rc, q.errstr);
        T_EQ_INT(n, 0);
    } else {
        T_EQ_INT(rc, -ENOTSUP);
        T_EQ_INT(n, 0);
    }

    if (ipc_queue_attach(&q) < 0) {
        T_FAIL("%s: attach: %s", ops->name, q.errstr);
        ipc_queue_close(&q);
        return;
    }
    T_EQ_INT(q.state, IPC_QUEUE_ATTACHED);
    T_EQ_INT(ipc_queue_attach(&q), -EBADF);
    T_EQ_INT(q.state, IPC_QUEUE_ATTACHED);
    /* Sizes outside 1..IPC_QUEUE_MAX_MSG. */
    static unsigned char big[IPC_QUEUE_MAX_MSG + 1];
    T_EQ_INT(ipc_queue_send(&q, big, 0), -EMSGSIZE);
    T_EQ_INT(ipc_queue_send(&q, big, IPC_QUEUE_MAX_MSG + 1), -EMSGSIZE);
    T_EQ_INT(ipc_queue_send(&q, big, SIZE_MAX), -EMSGSIZE);
    /* Nothing there yet. */
    T_EQ_INT(ipc_queue_recv(&q, buf, sizeof buf, &len, 0), -ETIMEDOUT);
    /* A round trip in one process. */
    T_EQ_INT(ipc_queue_send(&q, "hello", 5), 0);
    len = 0;
    rc = ipc_queue_recv(&q, buf, sizeof buf, &len, 5000);
    if (rc != 0)
        T_FAIL("%s: recv: %d (%s)", ops->name, rc, q.errstr);
    T_EQ_U64(len, 5);
    T_TRUE(memcmp(buf, "hello", 5) == 0);
    T_EQ_INT(ipc_queue_ack(&q), 0);
    T_EQ_INT(ipc_queue_detach(&q), 0);
    T_EQ_INT(q.state, IPC_QUEUE_OPEN);
    T_EQ_INT(ipc_queue_detach(&q), -EBADF);
    T_EQ_INT(ipc_queue_send(&q, "x", 1), -EBADF);
    /* Attach again after a detach, and close while attached (close detaches first). */
    T_EQ_INT(ipc_queue_attach(&q), 0);
    T_EQ_INT(ipc_queue_send(&q, "again", 5), 0);
    rc = ipc_queue_recv(&q, buf, sizeof buf, &len, 5000);
    if (rc != 0)
        T_FAIL("%s: recv after re-attach: %d (%s)", ops->name, rc, q.errstr);
    T_EQ_U64(len, 5);
    T_EQ_INT(ipc_queue_ack(&q), 0);
    /* Close with a message still queued: it goes with the queue. */
    T_EQ_INT(ipc_queue_send(&q, "left", 4), 0);
    ipc_queue_close(&q);
    T_EQ_INT(q.state, IPC_QUEUE_CLOSED);
    T_TRUE(q.priv == NULL);
    ipc_queue_close(&q);
    T_EQ_INT(ipc_queue_send(&q, "x", 1), -EBADF);

    /* A queue opened for small messages refuses larger ones and carries its limit. */
    if (open_queue(&q, 100) < 0)
        return;
    T_EQ_INT(ipc_queue_attach(&q), 0);
    T_EQ_INT(ipc_queue_send(&q, big, 101), -EMSGSIZE);
    T_STR_NONEMPTY(q.errstr);
    fill(big, 100, 7);
    T_EQ_INT(ipc_queue_send(&q, big, 100), 0);
    static unsigned char got[IPC_QUEUE_MAX_MSG];
    rc = ipc_queue_recv(&q, got, sizeof got, &len, 5000);
    if (rc != 0)
        T_FAIL("%s: recv 100: %d (%s)", ops->name, rc, q.errstr);
    T_EQ_U64(len, 100);
    T_EQ_U64(check_fill(got, 100, 7), 100);
    T_EQ_INT(ipc_queue_ack(&q), 0);
    ipc_queue_close(&q);
}

/* ---- sizes 1 B .. 64 KiB, and a buffer too small ------------------------------------------- */

static const size_t sizes[] = {1,    2,    3,    7,     8,     9,     15,    16,    63,    64,
                               65,   255,  256,  511,   512,   1000,  1024,  2047,  4088,  4091,
                               4092, 4093, 4095, 4096,  4097,  8176,  8183,  8184,  8185,  8191,
                               8192, 8193, 9000, 16383, 16384, 16385, 32768, 65535, 65536, 1};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define TOO_BIG 100
#define AFTER "after"

struct sizes_arg {
    struct ipc_queue *q;
    struct child_err err;
};

static int sizes_child(unsigned idx, void *p)
{
    struct sizes_arg *a = p;
    static unsigned char buf[IPC_QUEUE_MAX_MSG];
    if (ipc_queue_attach(a->q) < 0) {
        child_fail(&a->err, "attach: %s", a->q->errstr);
        return 1;
    }
    if (idx == 0) { /* the producer */
        for (size_t k = 0; k < NSIZES; k++) {
            fill(buf, sizes[k], k);
            if (ipc_queue_send(a->q, buf, sizes[k]) < 0) {
                child_fail(&a->err, "send %zu bytes: %s", sizes[k], a->q->errstr);
                return 1;
            }
        }
        fill(buf, TOO_BIG, 999);
        if (ipc_queue_send(a->q, buf, TOO_BIG) < 0 ||
            ipc_queue_send(a->q, AFTER, strlen(AFTER)) < 0) {
            child_fail(&a->err, "send: %s", a->q->errstr);
            return 1;
        }
        ipc_queue_detach(a->q);
        return 0;
    }
    for (size_t k = 0; k < NSIZES; k++) {
        size_t len = 0;
        memset(buf, 0, sizes[k] + 1 <= sizeof buf ? sizes[k] + 1 : sizeof buf);
        int rc = ipc_queue_recv(a->q, buf, sizeof buf, &len, CHILD_TIMEOUT_MS / 2);
        if (rc < 0) {
            child_fail(&a->err, "recv message %zu (%zu bytes): %s", k, sizes[k], a->q->errstr);
            return 1;
        }
        if (len != sizes[k]) {
            child_fail(&a->err, "message %zu: %zu bytes, sent %zu", k, len, sizes[k]);
            return 1;
        }
        size_t bad = check_fill(buf, len, k);
        if (bad != len) {
            child_fail(&a->err, "message %zu (%zu bytes): byte %zu is wrong", k, len, bad);
            return 1;
        }
        ipc_queue_ack(a->q);
    }
    /* A buffer too small: -EMSGSIZE, and the next message arrives intact. */
    size_t len = 0;
    int rc = ipc_queue_recv(a->q, buf, TOO_BIG - 1, &len, CHILD_TIMEOUT_MS / 2);
    if (rc != -EMSGSIZE) {
        child_fail(&a->err, "recv of %d bytes into %d: %d (%s), expected -EMSGSIZE", TOO_BIG,
                   TOO_BIG - 1, rc, a->q->errstr);
        return 1;
    }
    rc = ipc_queue_recv(a->q, buf, sizeof buf, &len, CHILD_TIMEOUT_MS / 2);
    /* A reliable transport may still hold the message that did not fit. */
    if (rc == 0 && reliable && len == TOO_BIG) {
        ipc_queue_ack(a->q);
        rc = ipc_queue_recv(a->q, buf, sizeof buf, &len, CHILD_TIMEOUT_MS / 2);
    }
    if (rc < 0 || len != strlen(AFTER) || memcmp(buf, AFTER, len) != 0) {
        child_fail(&a->err, "after -EMSGSIZE: rc %d, %zu bytes (%s)", rc, len,
                   rc < 0 ? a->q->errstr : "wrong message");
        return 1;
    }
    ipc_queue_ack(a->q);
    ipc_queue_detach(a->q);
    return 0;
}

static void test_sizes(void)
{
    struct ipc_queue q;
    if (open_queue(&q, 0) < 0)
        return;
    struct sizes_arg *a = ipc_shared_alloc(sizeof *a);
    a->q = &q;
    run_children("sizes", 2, sizes_child, a, &a->err);
    ipc_shared_free(a, sizeof *a);
    ipc_queue_close(&q);
}

/* ---- exactly once, many producers and consumers --------------------------------------------- */

#define MAXP 5
#define PER_PRODUCER 400

struct msg_hdr {
    uint32_t producer, seq, size;
};

/* Mostly small messages, some of several pages, some up to 64 KiB: big frames from several
 * writers at once are where a stream transport would interleave. */
static size_t msg_size(unsigned p, unsigned seq)
{
    uint32_t h = (p + 1) * 2654435761u ^ (seq + 1) * 40503u;
    h ^= h >> 13;
    if (seq % 41 == 7)
        return IPC_QUEUE_MAX_MSG - h % 2000;
    if (seq % 9 == 4)
        return 4000 + h % 6000;
    return sizeof(struct msg_hdr) + h % 300;
}

struct many_arg {
    struct ipc_queue *q;
    unsigned producers, consumers;
    _Atomic uint64_t received;
    _Atomic unsigned char count[MAXP][PER_PRODUCER];
    struct child_err err;
};

static int many_child(unsigned idx, void *p)
{
    struct many_arg *a = p;
    unsigned char *buf = malloc(IPC_QUEUE_MAX_MSG);
    if (!buf || ipc_queue_attach(a->q) < 0) {
        child_fail(&a->err, "attach: %s", a->q->errstr);
        return 1;
    }
    int status = 0;
    if (idx < a->producers) {
        for (unsigned seq = 0; seq < PER_PRODUCER && !status; seq++) {
            size_t size = msg_size(idx, seq);
            struct msg_hdr h = {idx, seq, (uint32_t)size};
            fill(buf, size, (uint64_t)idx << 32 | seq);
            memcpy(buf, &h, sizeof h);
            if (ipc_queue_send(a->q, buf, size) < 0) {
                child_fail(&a->err, "producer %u: send %u: %s", idx, seq, a->q->errstr);
                status = 1;
            }
        }
    } else {
        int64_t last[MAXP];
        for (unsigned i = 0; i < MAXP; i++)
            last[i] = -1;
        const uint64_t total = (uint64_t)a->producers * PER_PRODUCER;
        while (!status && atomic_load(&a->received) < total) {
            size_t len = 0;
            int rc = ipc_queue_recv(a->q, buf, IPC_QUEUE_MAX_MSG, &len, 100);
            if (rc == -ETIMEDOUT)
                continue;
            if (rc < 0) {
                child_fail(&a->err, "consumer %u: recv: %s", idx, a->q->errstr);
                status = 1;
                break;
            }
            struct msg_hdr h;
            if (len < sizeof h) {
                child_fail(&a->err, "consumer %u: a %zu-byte message", idx, len);
                status = 1;
                break;
            }
            memcpy(&h, buf, sizeof h);
            if (h.producer >= a->producers || h.seq >= PER_PRODUCER || h.size != len ||
                len != msg_size(h.producer, h.seq)) {
                child_fail(&a->err,
                           "consumer %u: bad message: producer %u seq %u size %u, %zu bytes", idx,
                           h.producer, h.seq, h.size, len);
                status = 1;
                break;
            }
            /* The header overwrote the pattern's first bytes; check the rest. */
            fill(buf, sizeof h, (uint64_t)h.producer << 32 | h.seq);
            size_t bad = check_fill(buf, len, (uint64_t)h.producer << 32 | h.seq);
            if (bad != len) {
                child_fail(&a->err, "consumer %u: producer %u seq %u: byte %zu of %zu is wrong",
                           idx, h.producer, h.seq, bad, len);
                status = 1;
                break;
            }
            if ((int64_t)h.seq <= last[h.producer]) {
                child_fail(&a->err, "consumer %u: producer %u's message %u after its %lld", idx,
                           h.producer, h.seq, (long long)last[h.producer]);
                status = 1;
            }
            last[h.producer] = h.seq;
            atomic_fetch_add(&a->count[h.producer][h.seq], 1);
            atomic_fetch_add(&a->received, 1);
            if (ipc_queue_ack(a->q) < 0) {
                child_fail(&a->err, "consumer %u: ack: %s", idx, a->q->errstr);
                status = 1;
            }
        }
    }
    ipc_queue_detach(a->q);
    free(buf);
    return status;
}

static void test_many(unsigned producers, unsigned consumers)
{
    struct ipc_queue q;
    if (open_queue(&q, 0) < 0)
        return;
    struct many_arg *a = ipc_shared_alloc(sizeof *a);
    a->q = &q;
    a->producers = producers;
    a->consumers = consumers;
    char what[64];
    snprintf(what, sizeof what, "%u producers, %u consumers", producers, consumers);
    run_children(what, producers + consumers, many_child, a, &a->err);
    unsigned lost = 0, dup = 0;
    for (unsigned p = 0; p < producers; p++) {
        for (unsigned s = 0; s < PER_PRODUCER; s++) {
            unsigned c = atomic_load(&a->count[p][s]);
            lost += c == 0;
            dup += c > 1 ? c - 1 : 0;
        }
    }
    if (lost || dup)
        T_FAIL("%s: %s: %u lost, %u duplicated of %u", ops->name, what, lost, dup,
               producers * PER_PRODUCER);
    ipc_shared_free(a, sizeof *a);
    ipc_queue_close(&q);
}

/* ---- receive timeouts ----------------------------------------------------------------------- */

struct late_arg {
    struct ipc_queue *q;
    struct child_err err;
};

static int late_sender(unsigned idx, void *p)
{
    (void)idx;
    struct late_arg *a = p;
    if (ipc_queue_attach(a->q) < 0) {
        child_fail(&a->err, "attach: %s", a->q->errstr);
        return 1;
    }
    usleep(300 * 1000);
    if (ipc_queue_send(a->q, "late", 4) < 0) {
        child_fail(&a->err, "send: %s", a->q->errstr);
        return 1;
    }
    ipc_queue_detach(a->q);
    return 0;
}

static void test_timeouts(void)
{
    struct ipc_queue q;
    if (open_queue(&q, 0) < 0)
        return;
    struct late_arg *a = ipc_shared_alloc(sizeof *a);
    a->q = &q;
    struct ipc_pool pool;
    if (ipc_pool_start(&pool, 1, late_sender, a, NULL, 0) < 0) {
        T_FAIL("fork");
        goto out;
    }
    if (ipc_queue_attach(&q) < 0) {
        T_FAIL("%s: attach: %s", ops->name, q.errstr);
        ipc_pool_destroy(&pool);
        goto out;
    }
    char buf[64];
    size_t len;
    /* Nothing yet: a zero timeout returns at once, a short one when it expires (not early). */
    uint64_t t0 = ipc_now_ns();
    T_EQ_INT(ipc_queue_recv(&q, buf, sizeof buf, &len, 0), -ETIMEDOUT);
    T_STR_NONEMPTY(q.errstr);
    uint64_t t1 = ipc_now_ns();
    T_EQ_INT(ipc_queue_recv(&q, buf, sizeof buf, &len, 60), -ETIMEDOUT);
    uint64_t t2 = ipc_now_ns();
    if (t2 - t1 < 55 * 1000000u)
        T_FAIL("%s: a 60 ms timeout returned after %.1f ms", ops->name, (t2 - t1) / 1e6);
    if (t1 - t0 > 10ull * 1000000000u || t2 - t1 > 10ull * 1000000000u)
        T_FAIL("%s: timeouts took %.1f and %.1f ms", ops->name, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    /* A message that comes while recv waits ends the wait. */
    int rc = ipc_queue_recv(&q, buf, sizeof buf, &len, 20000);
    if (rc != 0)
        T_FAIL("%s: the late message: %d (%s)", ops->name, rc, q.errstr);
    else if (len != 4 || memcmp(buf, "late", 4) != 0)
        T_FAIL("%s: the late message came wrong (%zu bytes)", ops->name, len);
    ipc_queue_ack(&q);
    unsigned failed;
    if (ipc_pool_wait(&pool, CHILD_TIMEOUT_MS, &failed) != 0)
        T_FAIL("%s: late sender: %s", ops->name, a->err.text);
    ipc_pool_destroy(&pool);
out:
    ipc_shared_free(a, sizeof *a);
    ipc_queue_close(&q);
}

/* ---- a producer killed in the middle of sending ---------------------------------------------- */

struct flood_arg {
    struct ipc_queue *q;
};

/* Send 64 KiB messages until killed. */
static int flood(unsigned idx, void *p)
{
    (void)idx;
    struct flood_arg *a = p;
    static unsigned char buf[IPC_QUEUE_MAX_MSG];
    memset(buf, 'f', sizeof buf);
    if (ipc_queue_attach(a->q) < 0)
        return 1;
    for (;;)
        if (ipc_queue_send(a->q, buf, sizeof buf) < 0)
            return 1;
}

/* One receive, which must return within its timeout plus a liveness bound. */
static int recv_bounded(struct ipc_queue *q, void *buf, size_t *len, int timeout_ms)
{
    uint64_t t0 = ipc_now_ns();
    int rc = ipc_queue_recv(q, buf, IPC_QUEUE_MAX_MSG, len, timeout_ms);
    double s = (double)(ipc_now_ns() - t0) / 1e9;
    if (s > timeout_ms / 1e3 + 10)
        T_FAIL("%s: a %d ms receive took %.1f s", ops->name, timeout_ms, s);
    return rc;
}

/*
 * A producer SIGKILLed while it floods the queue, quite likely in the middle of a 64 KiB
 * message: a receiver is never blocked past its timeout, and the queue either goes on (what
 * the dead producer left is dropped, a later message arrives) or fails with an error. shm-ring
 * (which repairs a slot whose claimer is gone) and mq (which drops a message's fragments when
 * its writer died) must go on; a byte stream cut mid-frame cannot, and says so.
 */
static void test_dead_producer(void)
{
    bool must_recover = strcmp(ops->name, "shm-ring") == 0 || strcmp(ops->name, "mq") == 0;
    static unsigned char buf[IPC_QUEUE_MAX_MSG];
    for (int trial = 0; trial < 3; trial++) {
        struct ipc_queue q;
        if (open_queue(&q, 0) < 0)
            return;
        struct flood_arg *a = ipc_shared_alloc(sizeof *a);
        a->q = &q;
        struct ipc_pool pool;
        if (ipc_pool_start(&pool, 1, flood, a, NULL, 0) < 0 || ipc_queue_attach(&q) < 0) {
            T_FAIL("%s: dead producer: start", ops->name);
            ipc_shared_free(a, sizeof *a);
            ipc_queue_close(&q);
            return;
        }
        size_t len;
        int rc = 0;
        for (int i = 0; i < 3 + trial && rc == 0; i++)
            rc = recv_bounded(&q, buf, &len, 20000);
        if (rc < 0)
            T_FAIL("%s: dead producer: recv before the kill: %s", ops->name, q.errstr);
        usleep((useconds_t)(trial * 37));
        kill(pool.procs[0].pid, SIGKILL);
        ipc_pool_wait(&pool, CHILD_TIMEOUT_MS, NULL); /* reaped: its pid is gone */
        ipc_pool_destroy(&pool);
        /* Drain what it left (a stuck slot is repaired after a second of waiting). */
        int drained = 0;
        while ((rc = recv_bounded(&q, buf, &len, 1500)) == 0 && drained++ < 10000)
            ;
        bool ok = rc == -ETIMEDOUT;
        if (ok && (rc = ipc_queue_send(&q, "marker", 6)) < 0)
            ok = false;
        while (ok && (rc = recv_bounded(&q, buf, &len, 5000)) == 0 && len != 6)
            ;
        if (ok && rc == 0 && memcmp(buf, "marker", 6) != 0)
            T_FAIL("%s: dead producer: the marker came wrong", ops->name);
        if (must_recover && (!ok || rc != 0))
            T_FAIL("%s: dead producer (trial %d): the queue did not go on: %d (%s)", ops->name,
                   trial, rc, q.errstr);
        if (!must_recover && rc < 0 && rc != -EPIPE && rc != -ETIMEDOUT && rc != -EPROTO)
            T_FAIL("%s: dead producer: unexpected error %d (%s)", ops->name, rc, q.errstr);
        ipc_shared_free(a, sizeof *a);
        ipc_queue_close(&q);
    }
}

/* ---- the work-queue protocol ---------------------------------------------------------------- */

#define WQ_MAXJOBS 2000

struct wq_arg {
    size_t njobs;
    unsigned char job[8192];         /* the job being sent (job_at runs on one thread) */
    unsigned char calls[WQ_MAXJOBS]; /* on_result per job */
    unsigned wrong;                  /* results that do not belong to their job */
    uint64_t fail_hash;              /* work fails on the job with this hash (0: never) */
    int sleep_ms;                    /* work sleeps this long per job */
    unsigned spin_us;                /* and computes this long */
    int empty_job;                   /* job_at gives this job 0 bytes (-1: none) */
};

static size_t job_len(size_t i)
{
    return i % 50 == 3 ? 3000 + (i * 13) % 4000 : 1 + (i * 37) % 200;
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static uint64_t job_hash(size_t i)
{
    static unsigned char b[8192];
    fill(b, job_len(i), i);
    return fnv(b, job_len(i));
}

static const void *wq_job(size_t i, size_t *len, void *arg)
{
    struct wq_arg *a = arg;
    *len = (int)i == a->empty_job ? 0 : job_len(i);
    fill(a->job, job_len(i), i);
    return a->job;
}

/* The result is the job's hash and length: the parent can tell it belongs to job i. */
static int wq_work(const void *job, size_t len, void *result, size_t *result_len, void *arg)
{
    struct wq_arg *a = arg;
    if (*result_len < 16)
        return -ENOBUFS;
    uint64_t h = fnv(job, len), l = len;
    if (a->fail_hash && h == a->fail_hash)
        return -EIO;
    if (a->sleep_ms)
        usleep((useconds_t)a->sleep_ms * 1000);
    for (uint64_t t0 = ipc_now_ns(); ipc_now_ns() - t0 < a->spin_us * 1000u;)
        ;
    memcpy(result, &h, 8);
    memcpy((char *)result + 8, &l, 8);
    *result_len = 16;
    return 0;
}

static void wq_result(size_t i, const void *result, size_t len, void *arg)
{
    struct wq_arg *a = arg;
    uint64_t h, l;
    if (i >= a->njobs || len != 16) {
        a->wrong++;
        return;
    }
    memcpy(&h, result, 8);
    memcpy(&l, (const char *)result + 8, 8);
    if (h != job_hash(i) || l != job_len(i))
        a->wrong++;
    if (a->calls[i] < 255)
        a->calls[i]++;
}

static struct wq_arg *wq_new(size_t njobs)
{
    struct wq_arg *a = calloc(1, sizeof *a);
    a->njobs = njobs;
    a->empty_job = -1;
    return a;
}

static int wq_run(const struct ipc_queue_ops *t, unsigned workers, size_t njobs, int kill_worker,
                  unsigned kill_after, int timeout_ms, struct wq_arg *a,
                  struct ipc_workqueue_stats *st, char *err, size_t errlen)
{
    static int cpus[2] = {0, 1};
    struct ipc_workqueue_opts o = {
        .transport = t,
        .cfg = {.max_msg = 8000}, /* jobs are at most 7000 bytes */
        .workers = workers,
        .cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? cpus : NULL,
        .ncpus = 2,
        .timeout_ms = timeout_ms,
        .kill_worker = kill_worker,
        .kill_after = kill_after,
    };
    return ipc_workqueue_run(&o, njobs, wq_job, wq_work, wq_result, a, st, err, errlen);
}

/* Every job done exactly once, every worker confirmed, nobody died. */
static void test_protocol(const struct ipc_queue_ops *t, unsigned workers, size_t njobs)
{
    struct wq_arg *a = wq_new(njobs);
    struct ipc_workqueue_stats st;
    char err[256];
    int rc = wq_run(t, workers, njobs, -1, 0, CHILD_TIMEOUT_MS, a, &st, err, sizeof err);
    if (rc != 0) {
        T_FAIL("%s: protocol, %u workers, %zu jobs: %d (%s)", t->name, workers, njobs, rc, err);
    } else {
        T_EQ_U64(st.jobs, njobs);
        T_EQ_U64(st.results, njobs);
        T_EQ_U64(st.duplicates, 0);
        T_EQ_U64(st.lost, 0);
        T_EQ_U64(st.confirmed, workers);
        T_EQ_U64(st.died, 0);
        T_EQ_U64(st.requeued, 0);
        T_TRUE(st.wall_ns > 0);
        T_EQ_U64(a->wrong, 0);
        for (size_t i = 0; i < njobs; i++)
            if (a->calls[i] != 1)
                T_FAIL("%s: %u workers: job %zu: %u results passed on", t->name, workers, i,
                       a->calls[i]);
    }
    free(a);
}

/* Worker kill_worker dies after taking its kill_after-th job: on a reliable transport nothing
 * is lost; on the others exactly that job is, and the run still ends cleanly. */
static void test_killed(const struct ipc_queue_ops *t, unsigned workers, size_t njobs,
                        unsigned kill_after)
{
    bool rel = t->props & IPC_QUEUE_PROP_RELIABLE;
    struct wq_arg *a = wq_new(njobs);
    /* Jobs of some work, so that every worker gets its share: with none, one worker may take
     * every job before the one to be killed has started. */
    a->spin_us = 20;
    struct ipc_workqueue_stats st;
    char err[256];
    int rc = wq_run(t, workers, njobs, 0, kill_after, CHILD_TIMEOUT_MS, a, &st, err, sizeof err);
    if (rc != 0) {
        T_FAIL("%s: killed worker (%u workers, %zu jobs, after %u): %d (%s)", t->name, workers,
               njobs, kill_after, rc, err);
        free(a);
        return;
    }
    T_EQ_U64(st.died, 1);
    T_EQ_U64(st.jobs, njobs);
    T_EQ_U64(st.results + st.lost, njobs);
    /* The survivors and the replacement; on a reliable transport a second replacement when the
     * others had left before the dead worker's job came back. */
    if (st.confirmed < workers || st.confirmed > workers + (rel ? st.died : 0))
        T_FAIL("%s: %u workers, %u died, %u confirmed", t->name, workers, st.died, st.confirmed);
    T_EQ_U64(a->wrong, 0);
    if (rel) {
        T_EQ_U64(st.lost, 0);
        T_EQ_U64(st.requeued, st.died);
        /* A duplicate needs a death between sending a result and the ack: not this one. */
        T_TRUE(st.duplicates <= st.died);
    } else {
        T_EQ_U64(st.lost, st.died);
        T_EQ_U64(st.requeued, 0);
        T_EQ_U64(st.duplicates, 0);
    }
    size_t missing = 0;
    for (size_t i = 0; i < njobs; i++) {
        if (a->calls[i] > 1)
            T_FAIL("%s: job %zu passed on %u times", t->name, i, a->calls[i]);
        missing += a->calls[i] == 0;
    }
    T_EQ_U64(missing, st.lost);
    free(a);
}

static bool no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* A run that cannot finish in time (slow jobs, a full job queue): -ETIMEDOUT, promptly,
 * every process reaped. */
static void test_protocol_timeout(const struct ipc_queue_ops *t)
{
    struct wq_arg *a = wq_new(WQ_MAXJOBS);
    a->sleep_ms = 20;
    struct ipc_workqueue_stats st;
    char err[256] = "";
    uint64_t t0 = ipc_now_ns();
    int rc = wq_run(t, 2, WQ_MAXJOBS, -1, 0, 300, a, &st, err, sizeof err);
    double s = (double)(ipc_now_ns() - t0) / 1e9;
    T_EQ_INT(rc, -ETIMEDOUT);
    T_STR_NONEMPTY(err);
    if (s > 30)
        T_FAIL("%s: a 300 ms run took %.1f s to give up", t->name, s);
    T_TRUE(no_children());
    free(a);
}

/* A job the work function fails: the run fails with its error, nothing hangs. */
static void test_protocol_error(const struct ipc_queue_ops *t)
{
    struct wq_arg *a = wq_new(300);
    a->fail_hash = job_hash(150);
    struct ipc_workqueue_stats st;
    char err[256] = "";
    int rc = wq_run(t, 2, 300, -1, 0, CHILD_TIMEOUT_MS, a, &st, err, sizeof err);
    T_EQ_INT(rc, -EIO);
    if (!strstr(err, "job 150"))
        T_FAIL("%s: the error does not name the job: %s", t->name, err);
    T_TRUE(no_children());
    free(a);

    /* A job the parent cannot send (0 bytes): the run fails at once, nothing hangs. */
    a = wq_new(300);
    a->empty_job = 100;
    err[0] = '\0';
    rc = wq_run(t, 2, 300, -1, 0, CHILD_TIMEOUT_MS, a, &st, err, sizeof err);
    T_EQ_INT(rc, -EINVAL);
    if (!strstr(err, "job 100"))
        T_FAIL("%s: the error does not name the job: %s", t->name, err);
    T_TRUE(no_children());
    free(a);

    /* Options the protocol refuses. */
    a = wq_new(10);
    T_EQ_INT(wq_run(t, 0, 10, -1, 0, 1000, a, &st, err, sizeof err), -EINVAL);
    T_EQ_INT(wq_run(t, IPC_WORKQUEUE_MAX_WORKERS + 1, 10, -1, 0, 1000, a, &st, err, sizeof err),
             -EINVAL);
    T_EQ_INT(wq_run(t, 2, 10, 2, 1, 1000, a, &st, err, sizeof err), -EINVAL);
    T_EQ_INT(wq_run(t, 2, 10, 0, 0, 1000, a, &st, err, sizeof err), -EINVAL);
    free(a);
}

/* ---- a reliable transport for the protocol's recovery path ---------------------------------- */

/*
 * The transports built here lose what a dead consumer held; the recovery path of the
 * protocol (recover, requeue at the head, a replacement worker) needs a reliable one. This
 * one lives only in the test: a ring of messages in shared memory under a robust lock, each
 * received message kept under its receiver's pid until ack, put back at the head by recover
 * once that pid no longer exists.
 */
#define TR_SLOTS 32
#define TR_MSG 8192
#define TR_TAKERS 64

struct tr_shared {
    pthread_mutex_t lock;
    _Atomic uint32_t changed; /* futex: bumped on every push and pop */
    unsigned head, count;
    uint32_t len[TR_SLOTS];
    unsigned char data[TR_SLOTS][TR_MSG];
    struct {
        pid_t pid;
        uint32_t len;
        unsigned char data[TR_MSG];
    } taken[TR_TAKERS];
};

static int tr_lock(struct tr_shared *s)
{
    int rc = pthread_mutex_lock(&s->lock);
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&s->lock);
    return -rc;
}

static void tr_changed(struct tr_shared *s)
{
    atomic_fetch_add(&s->changed, 1);
    syscall(SYS_futex, &s->changed, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Unlock and wait for a change, at most until deadline (0: 50 ms slices for ever). */
static int tr_wait(struct tr_shared *s, uint32_t seen, uint64_t deadline)
{
    pthread_mutex_unlock(&s->lock);
    uint64_t now = ipc_now_ns();
    if (deadline && now >= deadline)
        return -ETIMEDOUT;
    uint64_t ns = deadline && deadline - now < 50000000u ? deadline - now : 50000000u;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};
    syscall(SYS_futex, &s->changed, FUTEX_WAIT, seen, &ts, NULL, 0);
    return tr_lock(s);
}

static int tr_probe(char *why, size_t len)
{
    (void)why, (void)len;
    return 0;
}

static int tr_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    if (cfg->max_msg > TR_MSG)
        return ipc_queue_fail(q, -EMSGSIZE, "test-reliable: messages up to %d bytes", TR_MSG);
    struct tr_shared *s = ipc_shared_alloc(sizeof *s);
    if (!s)
        return ipc_queue_fail(q, -ENOMEM, "test-reliable: shared memory");
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&s->lock, &at);
    pthread_mutexattr_destroy(&at);
    q->priv = s;
    return 0;
}

static int tr_send(struct ipc_queue *q, const void *msg, size_t len)
{
    struct tr_shared *s = q->priv;
    if (len > TR_MSG)
        return ipc_queue_fail(q, -EMSGSIZE, "test-reliable: %zu bytes", len);
    int rc = tr_lock(s);
    /* Senders leave the last slots free: recover() must always find room. */
    while (rc == 0 && s->count >= TR_SLOTS - 8)
        rc = tr_wait(s, atomic_load(&s->changed), 0);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "test-reliable: lock");
    unsigned tail = (s->head + s->count++) % TR_SLOTS;
    s->len[tail] = (uint32_t)len;
    memcpy(s->data[tail], msg, len);
    pthread_mutex_unlock(&s->lock);
    tr_changed(s);
    return 0;
}

static int tr_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct tr_shared *s = q->priv;
    uint64_t deadline = timeout_ms < 0 ? 0 : ipc_now_ns() + (uint64_t)timeout_ms * 1000000u + 1;
    int rc = tr_lock(s);
    while (rc == 0 && s->count == 0)
        rc = tr_wait(s, atomic_load(&s->changed), deadline);
    if (rc == -ETIMEDOUT)
        return ipc_queue_fail(q, rc, "test-reliable: nothing within %d ms", timeout_ms);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "test-reliable: lock");
    unsigned h = s->head;
    if (s->len[h] > cap) { /* stays at the head: a reliable queue loses nothing */
        pthread_mutex_unlock(&s->lock);
        return ipc_queue_fail(q, -EMSGSIZE, "test-reliable: %u bytes into %zu", s->len[h], cap);
    }
    int slot = -1;
    pid_t me = getpid();
    for (int i = 0; i < TR_TAKERS; i++) {
        if (s->taken[i].pid == me) {
            slot = i; /* a receive without an ack acknowledges the previous message */
            break;
        }
        if (slot < 0 && s->taken[i].pid == 0)
            slot = i;
    }
    if (slot < 0) {
        pthread_mutex_unlock(&s->lock);
        return ipc_queue_fail(q, -ENOSPC, "test-reliable: too many receivers");
    }
    s->taken[slot].pid = me;
    s->taken[slot].len = s->len[h];
    memcpy(s->taken[slot].data, s->data[h], s->len[h]);
    memcpy(buf, s->data[h], s->len[h]);
    *len = s->len[h];
    s->head = (h + 1) % TR_SLOTS;
    s->count--;
    pthread_mutex_unlock(&s->lock);
    tr_changed(s);
    return 0;
}

static int tr_ack(struct ipc_queue *q)
{
    struct tr_shared *s = q->priv;
    if (tr_lock(s) < 0)
        return ipc_queue_fail(q, -EIO, "test-reliable: lock");
    for (int i = 0; i < TR_TAKERS; i++)
        if (s->taken[i].pid == getpid())
            s->taken[i].pid = 0;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int tr_recover(struct ipc_queue *q, unsigned *requeued)
{
    struct tr_shared *s = q->priv;
    if (tr_lock(s) < 0)
        return ipc_queue_fail(q, -EIO, "test-reliable: lock");
    for (int i = 0; i < TR_TAKERS; i++) {
        pid_t p = s->taken[i].pid;
        if (p == 0 || kill(p, 0) == 0 || errno != ESRCH)
            continue;
        if (s->count == TR_SLOTS) {
            pthread_mutex_unlock(&s->lock);
            return ipc_queue_fail(q, -ENOSPC, "test-reliable: full, cannot requeue");
        }
        s->head = (s->head + TR_SLOTS - 1) % TR_SLOTS;
        s->count++;
        s->len[s->head] = s->taken[i].len;
        memcpy(s->data[s->head], s->taken[i].data, s->taken[i].len);
        s->taken[i].pid = 0;
        (*requeued)++;
    }
    pthread_mutex_unlock(&s->lock);
    tr_changed(s);
    return 0;
}

static void tr_close(struct ipc_queue *q)
{
    struct tr_shared *s = q->priv;
    pthread_mutex_destroy(&s->lock);
    ipc_shared_free(s, sizeof *s);
}

static const struct ipc_queue_ops test_reliable_ops = {
    .name = "test-reliable",
    .description = "the test's own reliable queue in shared memory",
    .props = IPC_QUEUE_PROP_RELIABLE,
    .probe = tr_probe,
    .open = tr_open,
    .send = tr_send,
    .recv = tr_recv,
    .ack = tr_ack,
    .recover = tr_recover,
    .close = tr_close,
};

/* ---- main ----------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc != 2 || !(ops = ipc_queue_find(argv[1]))) {
        fprintf(stderr, "usage: queue_test TRANSPORT\n");
        return 1;
    }
    /* Writes to a pipe whose readers are gone must be EPIPE errors, as in ipclab itself. */
    ipc_cleanup_install();
    char why[256];
    if (ipc_queue_probe(ops, why, sizeof why) < 0) {
        printf("skip: %s: %s\n", ops->name, why);
        return T_SKIP;
    }
    reliable = ops->props & IPC_QUEUE_PROP_RELIABLE;
    char tmp[512];
    if (!t_private_tmpdir(tmp, sizeof tmp, "ipclab-queue-test")) {
        perror("mkdtemp");
        return 1;
    }
    int fds0 = count_fds(), mq0 = count_mqueue();
    long online = sysconf(_SC_NPROCESSORS_ONLN);

    test_lifecycle();
    test_sizes();
    test_many(1, 1);
    test_many(2, 2);
    test_many(5, 5);
    test_many(5, 1);
    test_many(1, 5);
    test_timeouts();
    test_dead_producer();

    test_protocol(ops, 1, 300);
    test_protocol(ops, 2, 300);
    test_protocol(ops, (unsigned)(online > 0 ? online : 1) + 3, 300); /* more than CPUs */
    test_protocol(ops, 3, 0);
    test_killed(ops, 1, 200, 5);
    test_killed(ops, 2, 400, 3);
    test_killed(ops, 3, 2000, 2);
    test_protocol_timeout(ops);
    test_protocol_error(ops);
    /* The recovery path over the test's reliable queue, once (with the pipe suite). */
    if (strcmp(ops->name, "pipe") == 0) {
        test_protocol(&test_reliable_ops, 2, 300);
        test_killed(&test_reliable_ops, 1, 200, 5);
        test_killed(&test_reliable_ops, 1, 20, 20); /* dies on the last job */
        test_killed(&test_reliable_ops, 2, 400, 3);
        test_killed(&test_reliable_ops, 3, 2000, 10);
    }

    T_TRUE(no_children());
    if (count_fds() != fds0)
        T_FAIL("%s: %d descriptors open at the end, %d at the start", ops->name, count_fds(), fds0);
    if (count_mqueue() != mq0)
        T_FAIL("%s: %d entries in /dev/mqueue at the end, %d at the start", ops->name,
               count_mqueue(), mq0);
    if (t_count_entries(tmp) != 0)
        T_FAIL("%s left files in %s", ops->name, tmp);
    rmdir(tmp);
    return T_RESULT();
}
