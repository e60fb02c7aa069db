/* SPDX-License-Identifier: MIT */
/* `uring`: a work queue over a SOCK_SEQPACKET socketpair whose sends and receives go through
 * an io_uring made by each process when it attaches. */
#include "queue.h"

#include "fork_gen.h"

#include <stdio.h>

#ifdef IPCLAB_HAVE_URING

#include "clock.h"

#include <liburing.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * What lies underneath, and why.
 *
 * A SOCK_SEQPACKET socketpair: producers send on end 0, consumers receive on end 1, every
 * process holds both (inherited over fork). The kernel keeps each message whole: a send
 * queues one message or blocks, a receive takes exactly one message, both atomically. So
 * any number of producers and consumers share the ends with no length header and no lock,
 * and one io_uring request moves one message. A pipe would need a length header, two reads
 * per message under a process-shared lock (a consumer killed between them would leave the
 * stream torn for everyone) and a lock around every write larger than PIPE_BUF.
 *
 * Capacity: a send blocks while the sending end's buffer (SO_SNDBUF) is full. The kernel
 * counts bytes, not messages, so cfg->capacity sizes the buffer for at least that many
 * messages of max_msg bytes (more smaller ones fit); without it the kernel's default stays
 * (net.core.wmem_default: here 208 KiB, about 270 small messages or 3 of 64 KiB).
 *
 * What io_uring batches, and what it must not.
 *
 * Every operation is a single io_uring_enter(): it submits the request and waits for its
 * completion in the same call. A receive with a timeout is two linked requests, the recv and
 * an IORING_OP_LINK_TIMEOUT, submitted together; the kernel cancels the recv when the timer
 * fires, so a wait with a deadline costs no poll() and no separate cancel, and a message is
 * either taken whole by this recv or left in the queue (never lost in the race).
 *
 * Reads are not submitted ahead of the caller's recv, and sends are not held back to be
 * submitted in batches, although both would save system calls. A read submitted ahead takes
 * a message off the shared queue before its consumer asked for it: with several consumers a
 * worker that leaves after its sentinel would carry away the next job or a sibling's
 * sentinel, and that sibling would wait for ever. A send held back is not in the queue when
 * send() returns: a parent that sends its jobs and then waits for results on another queue
 * would wait for jobs that were never submitted.
 *
 * The fork trap: liburing keeps part of the SQ state in the process's own struct io_uring,
 * so a ring is made in attach, after fork, and used only by the process that made it, by
 * one thread at a time (not necessarily the one that attached: the work-queue protocol
 * sends from a feeder thread, so IORING_SETUP_SINGLE_ISSUER is not used).
 */

#define RING_ENTRIES 4 /* at most two requests are in flight: a recv and its timeout */

/* The kernel's accounting unit (skb truesize) exceeds the payload: measured on Linux 6.x,
 * a message of up to 64 bytes costs 768 bytes of send buffer, 1 KiB costs 2304, 64 KiB up to
 * about 70 KiB. This estimate stays above those, so a queue sized from it holds at least the
 * capacity asked for. */
static size_t truesize_estimate(size_t len)
{
    if (len <= 16384) {
        size_t p = 512;
        while (p < len + 320)
            p <<= 1;
        return p + 256;
    }
    return ((len + 4095) & ~(size_t)4095) + 16896;
}

/* Largest socket buffer asked for: the kernel keeps sk_sndbuf in an int. */
#define SNDBUF_LIMIT ((size_t)INT_MAX / 2)

enum kind { K_SEND = 1, K_RECV, K_TIMEOUT };

struct uring_state {
    int fd[2]; /* [0] producers send here, [1] consumers receive here */
    size_t max_msg;
    int sndbuf; /* bytes the kernel lets queue on fd[0] before a send blocks */
    /* This process's attachment; fork copies it, gen tells a copy from the original. */
    unsigned gen;
    bool have_ring;
    struct io_uring ring;
    uint64_t seq; /* numbers the requests, so a stale completion is never taken for ours */
};

static int set_sndbuf(struct ipc_queue *q, struct uring_state *s, size_t want)
{
    /* The kernel doubles what it is given (half is its bookkeeping allowance). */
    int half = (int)((want + 1) / 2);
    if (setsockopt(s->fd[0], SOL_SOCKET, SO_SNDBUF, &half, sizeof half) < 0)
        return ipc_queue_fail(q, -errno, "uring: SO_SNDBUF: %s", strerror(errno));
    int got;
    socklen_t len = sizeof got;
    if (getsockopt(s->fd[0], SOL_SOCKET, SO_SNDBUF, &got, &len) < 0)
        return ipc_queue_fail(q, -errno, "uring: SO_SNDBUF: %s", strerror(errno));
    /* Beyond net.core.wmem_max only a privileged process can go (SO_SNDBUFFORCE). */
    if ((size_t)got < want &&
        setsockopt(s->fd[0], SOL_SOCKET, SO_SNDBUFFORCE, &half, sizeof half) == 0 &&
        getsockopt(s->fd[0], SOL_SOCKET, SO_SNDBUF, &got, &len) < 0)
        return ipc_queue_fail(q, -errno, "uring: SO_SNDBUF: %s", strerror(errno));
    s->sndbuf = got;
    return 0;
}

/* Size the send buffer for the capacity asked for, or keep the kernel's default as long as
 * the largest message fits in it. */
static int size_buffer(struct ipc_queue *q, struct uring_state *s, unsigned capacity)
{
    int got;
    socklen_t len = sizeof got;
    if (getsockopt(s->fd[0], SOL_SOCKET, SO_SNDBUF, &got, &len) < 0)
        return ipc_queue_fail(q, -errno, "uring: SO_SNDBUF: %s", strerror(errno));
    s->sndbuf = got;
    /* A message larger than the buffer less a small reserve is refused outright. */
    size_t one = s->max_msg + 64;
    size_t per = truesize_estimate(s->max_msg);
    size_t want = capacity ? per * capacity : 0;
    if (capacity && want / capacity != per)
        want = SIZE_MAX;
    if (want < one)
        want = one;
    if (!capacity && (size_t)got >= want)
        return 0;
    if (want > SNDBUF_LIMIT)
        return ipc_queue_fail(q, -EINVAL,
                              "uring: %u messages of %zu bytes need %zu bytes of socket buffer, "
                              "more than the kernel can give (%zu)",
                              capacity, s->max_msg, want, SNDBUF_LIMIT);
    int rc = set_sndbuf(q, s, want);
    if (rc < 0)
        return rc;
    if ((size_t)s->sndbuf < want)
        return ipc_queue_fail(q, -ENOBUFS,
                              "uring: %u messages of %zu bytes need a %zu-byte socket buffer; "
                              "the kernel gave %d (raise net.core.wmem_max, or ask for fewer)",
                              capacity ? capacity : 1, s->max_msg, want, s->sndbuf);
    return 0;
}

static int uring_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    ipc_fork_gen_watch();
    size_t max_msg = cfg->max_msg ? cfg->max_msg : IPC_QUEUE_MAX_MSG;
    if (max_msg > IPC_QUEUE_MAX_MSG)
        return ipc_queue_fail(q, -EINVAL, "uring: max_msg %zu exceeds the %d-byte limit", max_msg,
                              IPC_QUEUE_MAX_MSG);
    struct uring_state *s = calloc(1, sizeof *s);
    if (!s)
        return ipc_queue_fail(q, -ENOMEM, "uring: out of memory");
    s->max_msg = max_msg;
    /* Close-on-exec: an exec'd helper (redis-server) must not hold the queue open. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->fd) < 0) {
        int err = -errno;
        free(s);
        return ipc_queue_fail(q, err, "uring: socketpair(SOCK_SEQPACKET): %s", strerror(-err));
    }
    int rc = size_buffer(q, s, cfg->capacity);
    if (rc < 0) {
        close(s->fd[0]);
        close(s->fd[1]);
        free(s);
        return rc;
    }
    q->priv = s;
    return 0;
}

static int uring_attach(struct ipc_queue *q)
{
    struct uring_state *s = q->priv;
    /* Normally empty here; anything else was copied over fork from an attached ancestor and
     * is that process's ring: forgotten, not used. */
    s->have_ring = false;
    s->gen = ipc_fork_gen();
    /* COOP_TASKRUN: completions are posted when this process enters the kernel, which it
     * does to wait anyway, rather than by interrupting it. */
    struct io_uring_params p = {.flags = IORING_SETUP_COOP_TASKRUN};
    int rc = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
    if (rc == -EINVAL) { /* a kernel before 5.19 lacks it; the ring works without */
        p = (struct io_uring_params){0};
        rc = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
    }
    if (rc < 0)
        return ipc_queue_fail(q, rc, "uring: cannot create this process's ring: %s", strerror(-rc));
    s->have_ring = true;
    s->seq = 0;
    return 0;
}

static int check_mine(struct ipc_queue *q, struct uring_state *s, const char *what)
{
    if (s->gen != ipc_fork_gen())
        return ipc_queue_fail(q, -EBADF,
                              "uring: %s: the ring was made by another process (a ring is not "
                              "shared over fork: detach, then attach in this process)",
                              what);
    if (!s->have_ring)
        return ipc_queue_fail(
            q, -EIO, "uring: %s: the ring failed earlier (detach, then attach again)", what);
    return 0;
}

/* io_uring_enter failed with a request possibly in flight, which may still write into the
 * caller's buffer: drop the ring (the kernel cancels what it holds) rather than return
 * while that can happen, and refuse later calls until the process attaches again. */
static int broken(struct ipc_queue *q, struct uring_state *s, const char *what, int err)
{
    io_uring_queue_exit(&s->ring);
    s->have_ring = false;
    return ipc_queue_fail(q, err, "uring: %s: io_uring_enter: %s", what, strerror(-err));
}

/*
 * Submit what is queued in the SQ and reap completions until the request numbered seq of
 * kind `kind` has completed (*res gets its result) and, when `linked`, its linked timeout
 * too. Completions of other requests (none are left behind, but a stale one costs nothing)
 * are consumed and ignored. Waiting is interrupted only by errors of io_uring_enter itself;
 * a signal just goes round again.
 */
static int complete(struct ipc_queue *q, struct uring_state *s, const char *what, enum kind kind,
                    bool linked, int *res)
{
    const uint64_t want = s->seq << 2 | kind, want_timer = s->seq << 2 | K_TIMEOUT;
    bool done = false, timer_done = !linked;
    for (;;) {
        unsigned head, seen = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(&s->ring, head, cqe)
        {
            if (cqe->user_data == want) {
                *res = cqe->res;
                done = true;
            } else if (cqe->user_data == want_timer) {
                timer_done = true;
            }
            seen++;
        }
        io_uring_cq_advance(&s->ring, seen);
        if (done && timer_done)
            return 0;
        /* Requests the kernel has not taken yet are submitted with the wait; otherwise the
         * wait alone (which returns at once if a completion is already there). */
        int rc = io_uring_sq_ready(&s->ring) ? io_uring_submit_and_wait(&s->ring, 1)
                                             : io_uring_wait_cqe(&s->ring, &cqe);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME)
            return broken(q, s, what, rc);
    }
}

static int uring_send(struct ipc_queue *q, const void *msg, size_t len)
{
    struct uring_state *s = q->priv;
    int rc = check_mine(q, s, "send");
    if (rc < 0)
        return rc;
    if (len > s->max_msg)
        return ipc_queue_fail(q, -EMSGSIZE, "uring: a %zu-byte message exceeds max_msg %zu", len,
                              s->max_msg);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (!sqe) /* cannot happen: every operation leaves the SQ empty */
        return ipc_queue_fail(q, -EBUSY, "uring: send: no free submission entry");
    s->seq++;
    /* Blocks (the kernel parks the request until there is room) while the queue is full. */
    io_uring_prep_send(sqe, s->fd[0], msg, len, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, s->seq << 2 | K_SEND);
    int res = 0;
    rc = complete(q, s, "send", K_SEND, false, &res);
    if (rc < 0)
        return rc;
    if (res < 0)
        return ipc_queue_fail(q, res, "uring: send of %zu bytes: %s", len, strerror(-res));
    if ((size_t)res != len) /* SOCK_SEQPACKET sends whole messages or nothing */
        return ipc_queue_fail(q, -EIO, "uring: send of %zu bytes sent %d", len, res);
    return 0;
}

/* One recv request, with a linked timeout of wait_ms when wait_ms > 0, and its result. */
static int recv_once(struct ipc_queue *q, struct uring_state *s, void *buf, size_t cap,
                     int64_t wait_ms, int *res)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    struct io_uring_sqe *tsqe = wait_ms > 0 ? io_uring_get_sqe(&s->ring) : NULL;
    if (!sqe || (wait_ms > 0 && !tsqe))
        return ipc_queue_fail(q, -EBUSY, "uring: recv: no free submission entry");
    s->seq++;
    /* MSG_TRUNC: the result is the message's real length, so a buffer too small is told
     * apart from a message that fits exactly. MSG_DONTWAIT fails at once instead of
     * parking the request when nothing is there. */
    io_uring_prep_recv(sqe, s->fd[1], buf, cap, MSG_TRUNC | (wait_ms == 0 ? MSG_DONTWAIT : 0));
    io_uring_sqe_set_data64(sqe, s->seq << 2 | K_RECV);
    /* Read by the kernel when it takes the requests, which happens before complete()
     * returns, so a local is fine. */
    struct __kernel_timespec ts = {.tv_sec = wait_ms / 1000,
                                   .tv_nsec = (long long)(wait_ms % 1000) * 1000000};
    if (tsqe) {
        sqe->flags |= IOSQE_IO_LINK;
        io_uring_prep_link_timeout(tsqe, &ts, 0);
        io_uring_sqe_set_data64(tsqe, s->seq << 2 | K_TIMEOUT);
    }
    return complete(q, s, "recv", K_RECV, tsqe != NULL, res);
}

static int uring_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct uring_state *s = q->priv;
    int rc = check_mine(q, s, "recv");
    if (rc < 0)
        return rc;
    if (cap > INT_MAX)
        cap = INT_MAX;
    uint64_t deadline = timeout_ms > 0 ? ipc_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    int64_t wait_ms = timeout_ms < 0 ? -1 : timeout_ms;
    int res;
    for (;;) {
        rc = recv_once(q, s, buf, cap, wait_ms, &res);
        if (rc < 0)
            return rc;
        /*
         * A recv the kernel cannot finish at once waits on the socket; when several
         * consumers wake for one message and another takes it, the kernel hands the request
         * to an io-wq thread that blocks in recv, and a timeout then interrupts that thread:
         * -EINTR rather than -ECANCELED. Neither took a message, so the wait goes on if its
         * time is not up.
         */
        if (res != -ECANCELED && res != -EINTR && res != -ETIME)
            break;
        if (timeout_ms > 0) {
            int64_t left = ((int64_t)deadline - (int64_t)ipc_now_ns()) / 1000000;
            if (left <= 0)
                break;
            wait_ms = left;
        }
    }
    if (res == -ECANCELED || res == -EINTR || res == -ETIME || res == -EAGAIN)
        return ipc_queue_fail(q, -ETIMEDOUT, "uring: nothing arrived within %d ms", timeout_ms);
    if (res < 0)
        return ipc_queue_fail(q, res, "uring: recv: %s", strerror(-res));
    if (res == 0) /* messages are never empty: every end of the pair is closed */
        return ipc_queue_fail(q, -EPIPE, "uring: recv: the queue is closed");
    if ((size_t)res > cap)
        return ipc_queue_fail(q, -EMSGSIZE,
                              "uring: a %d-byte message does not fit in %zu bytes (it is lost)",
                              res, cap);
    *len = (size_t)res;
    return 0;
}

static int uring_detach(struct ipc_queue *q)
{
    struct uring_state *s = q->priv;
    /* An inherited copy is unmapped and closed too: both act on this process only (the ring
     * lives on in the process that made it). */
    if (s->have_ring)
        io_uring_queue_exit(&s->ring);
    s->have_ring = false;
    return 0;
}

static void uring_close(struct ipc_queue *q)
{
    struct uring_state *s = q->priv;
    close(s->fd[0]);
    close(s->fd[1]);
    free(s);
}

static int uring_probe(char *why, size_t len)
{
    struct io_uring ring;
    int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) {
        if (rc == -EPERM)
            snprintf(why, len,
                     "io_uring is disabled here (sysctl kernel.io_uring_disabled or a seccomp "
                     "filter): %s",
                     strerror(-rc));
        else if (rc == -ENOSYS)
            snprintf(why, len, "no io_uring_setup (a seccomp filter or a kernel before 5.1): %s",
                     strerror(-rc));
        else
            snprintf(why, len, "io_uring_setup: %s", strerror(-rc));
        return rc;
    }
    struct io_uring_probe *p = io_uring_get_probe_ring(&ring);
    rc = 0;
    if (!p) {
        snprintf(why, len, "cannot list the kernel's io_uring opcodes (needs Linux 5.6+)");
        rc = -ENOTSUP;
    } else if (!io_uring_opcode_supported(p, IORING_OP_SEND) ||
               !io_uring_opcode_supported(p, IORING_OP_RECV) ||
               !io_uring_opcode_supported(p, IORING_OP_LINK_TIMEOUT)) {
        snprintf(why, len, "the kernel lacks io_uring SEND, RECV or LINK_TIMEOUT (needs 5.6+)");
        rc = -ENOTSUP;
    }
    io_uring_free_probe(p);
    io_uring_queue_exit(&ring);
    return rc;
}

#else /* !IPCLAB_HAVE_URING */

#define NOT_BUILT "built without liburing (liburing-dev)"

static int uring_probe(char *why, size_t len)
{
    snprintf(why, len, NOT_BUILT);
    return -ENOTSUP;
}

static int uring_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    (void)cfg;
    return ipc_queue_fail(q, -ENOTSUP, "uring: " NOT_BUILT);
}

static void uring_close(struct ipc_queue *q)
{
    (void)q;
}

/* open always fails, so nothing else is ever called. */
#define uring_attach NULL
#define uring_send NULL
#define uring_recv NULL
#define uring_detach NULL

#endif

const struct ipc_queue_ops ipc_queue_uring_ops = {
    .name = "uring",
    .description = "SOCK_SEQPACKET socketpair driven through a per-process io_uring (recv with a "
                   "linked timeout)",
    .props = 0,
    .probe = uring_probe,
    .open = uring_open,
    .attach = uring_attach,
    .send = uring_send,
    .recv = uring_recv,
    .ack = NULL,
    .recover = NULL,
    .detach = uring_detach,
    .close = uring_close,
};
