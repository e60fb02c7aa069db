/* SPDX-License-Identifier: MIT */
/* `pipe`: the queue as a pipe inherited over fork, messages framed by a length header; also
 * the framing engine that `socketpair` shares and the process-shared locks `mq` uses. */
#include "queue.h"

#include "clock.h"
#include "shared.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

/*
 * Two hazards make a byte stream a poor queue for many processes, and each gets its fix:
 *
 *  - Writers. POSIX makes a pipe write of at most PIPE_BUF bytes atomic: it never interleaves
 *    with another writer's. A frame that fits (header + payload <= PIPE_BUF) is therefore
 *    written with one writev() and no lock, the cheapest correct way. A larger frame may be
 *    split by the kernel whenever the pipe is full, so a queue whose largest frame exceeds
 *    PIPE_BUF puts every write under a process-shared lock held for the whole frame (all of
 *    them, small ones too: an unlocked small write could land between two pieces of a big
 *    one). A stream socket gives no atomicity at all, so `socketpair` always locks.
 *  - Readers. Reading the header and then the payload are two reads; two consumers could
 *    take one header each and split a message. Every read of a frame is under a second
 *    process-shared lock, for both transports.
 *
 * The locks are robust mutexes in anonymous shared memory. A process that dies holding one
 * while it waits for data harms nobody: the next taker gets EOWNERDEAD and carries on. One
 * that dies in the middle of a frame leaves the stream cut mid-message, which no reader can
 * resynchronise; a flag in the shared block records which case it was, and a cut stream fails
 * every later call with -EPIPE instead of delivering garbage (a reader still drops the bytes
 * it finds, so that no writer stays blocked on a full buffer for ever).
 */

/* ---- shared with queue_socketpair.c and queue_mq.c (they repeat these prototypes) -------- */

uint64_t ipc_qdeadline(int timeout_ms);
int ipc_qremaining_ms(uint64_t deadline);
int ipc_qlock_init(pthread_mutex_t *m);
int ipc_qlock_take(pthread_mutex_t *m, uint64_t deadline, bool *owner_died);
int ipc_qstream_open(struct ipc_queue *q, const struct ipc_queue_config *cfg, bool socket);
int ipc_qstream_send(struct ipc_queue *q, const void *msg, size_t len);
int ipc_qstream_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms);
void ipc_qstream_close(struct ipc_queue *q);

/* A deadline on the monotonic clock for a timeout in ms: 0 means none (-1, wait for ever). */
uint64_t ipc_qdeadline(int timeout_ms)
{
    if (timeout_ms < 0)
        return 0;
    return ipc_now_ns() + (uint64_t)timeout_ms * 1000000u + 1; /* never 0 */
}

/* Milliseconds left until deadline, rounded up, for poll(): -1 without a deadline. */
int ipc_qremaining_ms(uint64_t deadline)
{
    if (deadline == 0)
        return -1;
    uint64_t now = ipc_now_ns();
    if (now >= deadline)
        return 0;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* A process-shared robust mutex in shared memory. 0 or -errno. */
int ipc_qlock_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
    if (rc == 0)
        rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
    return -rc;
}

/*
 * Take m before deadline (ipc_qdeadline; 0 = wait for ever). 0 when held; *owner_died tells
 * whether the previous holder died holding it (the mutex is made consistent again: what it
 * guarded is the caller's to judge). -ETIMEDOUT, or -errno.
 */
int ipc_qlock_take(pthread_mutex_t *m, uint64_t deadline, bool *owner_died)
{
    *owner_died = false;
    int rc;
    if (deadline == 0) {
        rc = pthread_mutex_lock(m);
    } else {
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                              .tv_nsec = (long)(deadline % 1000000000u)};
#if defined(__SANITIZE_THREAD__)
        /* gcc 12's ThreadSanitizer does not intercept pthread_mutex_clocklock: told nothing,
         * it does not know the lock is held and reports every unlock. A timed lock may fail,
         * like a trylock; EOWNERDEAD means held. */
        __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
        rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
        unsigned failed = rc == 0 || rc == EOWNERDEAD ? 0 : __tsan_mutex_try_lock_failed;
        __tsan_mutex_post_lock(m, __tsan_mutex_try_lock | failed, 0);
#else
        rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
#endif
    }
    if (rc == EOWNERDEAD) {
        *owner_died = true;
        rc = pthread_mutex_consistent(m);
    }
    return -rc;
}

/* ---- the framing engine ------------------------------------------------------------------- */

/* A frame is this header and then len payload bytes. */
struct frame_hdr {
    uint32_t len;
};

/* How long a reader in the middle of a frame waits without progress before it asks whether
 * the writer of that frame is still there. Frames are written whole (atomically or under the
 * lock), so a live writer never leaves one unfinished this long unless the reader is starved. */
#define STALL_MS 2000

struct stream_shared {
    pthread_mutex_t wlock;       /* held for a whole frame by a writer */
    pthread_mutex_t rlock;       /* held for a whole frame by a reader */
    _Atomic int writer_midframe; /* the wlock holder has written part of a frame */
    _Atomic int reader_midframe; /* the rlock holder has read part of a frame */
    _Atomic int broken;          /* a process died mid-frame: the stream is cut */
};

struct stream {
    const char *name;
    bool socket;      /* a stream socket pair (send/recv) rather than a pipe (write/read) */
    bool lock_writes; /* frames can exceed PIPE_BUF (always for sockets) */
    int rd, wr;       /* inherited by every process; rd is non-blocking, wr blocking */
    size_t max_msg;
    struct stream_shared *sh;
    unsigned char scratch[4096]; /* where the payload of a too-large message is dropped */
};

int ipc_qstream_open(struct ipc_queue *q, const struct ipc_queue_config *cfg, bool socket)
{
    const char *name = socket ? "socketpair" : "pipe";
    size_t max_msg = cfg->max_msg ? cfg->max_msg : IPC_QUEUE_MAX_MSG;
    if (max_msg > IPC_QUEUE_MAX_MSG)
        return ipc_queue_fail(q, -EINVAL, "%s: max_msg %zu exceeds %d", name, max_msg,
                              IPC_QUEUE_MAX_MSG);
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return ipc_queue_fail(q, -ENOMEM, "%s: out of memory", name);
    s->name = name;
    s->socket = socket;
    s->max_msg = max_msg;
    s->lock_writes = socket || sizeof(struct frame_hdr) + max_msg > PIPE_BUF;
    s->sh = ipc_shared_alloc(sizeof *s->sh);
    int fds[2] = {-1, -1};
    int err = 0;
    const char *what = "shared memory";
    if (!s->sh)
        err = -errno;
    if (!err &&
        ((err = ipc_qlock_init(&s->sh->wlock)) < 0 || (err = ipc_qlock_init(&s->sh->rlock)) < 0))
        what = "process-shared mutex";
    if (!err) {
        what = socket ? "socketpair" : "pipe";
        int r = socket ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)
                       : pipe2(fds, O_CLOEXEC);
        if (r < 0)
            err = -errno;
    }
    if (!err) {
        /* socketpair: fds[0] writes, fds[1] reads (each end could do both; one direction
         * keeps the two transports alike). */
        s->rd = socket ? fds[1] : fds[0];
        s->wr = socket ? fds[0] : fds[1];
        /* Readers poll before they read and read only under the lock, but a frame's rest is
         * read with a stall check, which needs reads that do not block. The write end stays
         * blocking: send blocks while the queue is full, as the interface says. */
        what = "fcntl";
        int fl = fcntl(s->rd, F_GETFL);
        if (fl < 0 || fcntl(s->rd, F_SETFL, fl | O_NONBLOCK) < 0)
            err = -errno;
    }
    if (!err && cfg->capacity) {
        /* Room for `capacity` of the largest frames, as far as the system allows (pipes:
         * /proc/sys/fs/pipe-max-size; sockets: net.core.wmem_max). Best effort: the
         * kernel's default buffer works too, only with fewer messages in flight. */
        size_t want = (size_t)cfg->capacity * (sizeof(struct frame_hdr) + max_msg);
        int v = want > INT_MAX / 2 ? INT_MAX / 2 : (int)want;
        if (socket) {
            setsockopt(s->wr, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
            setsockopt(s->rd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
        } else {
            fcntl(s->wr, F_SETPIPE_SZ, v);
        }
    }
    if (err) {
        char why[96];
        snprintf(why, sizeof why, "%s", strerror(-err));
        if (fds[0] >= 0)
            close(fds[0]);
        if (fds[1] >= 0)
            close(fds[1]);
        ipc_shared_free(s->sh, sizeof *s->sh);
        free(s);
        return ipc_queue_fail(q, err, "%s: %s: %s", name, what, why);
    }
    q->priv = s;
    return 0;
}

static int cut(struct ipc_queue *q, const struct stream *s)
{
    return ipc_queue_fail(
        q, -EPIPE, "%s: the stream is cut: a process died in the middle of a frame", s->name);
}

static ssize_t do_write(const struct stream *s, const struct iovec *iov, int n)
{
    if (s->socket) {
        struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
        return sendmsg(s->wr, &m, MSG_NOSIGNAL); /* a gone reader is -EPIPE, not a signal */
    }
    return writev(s->wr, iov, n);
}

int ipc_qstream_send(struct ipc_queue *q, const void *msg, size_t len)
{
    struct stream *s = q->priv;
    if (len > s->max_msg)
        return ipc_queue_fail(q, -EMSGSIZE, "%s: %zu bytes exceed this queue's max_msg %zu",
                              s->name, len, s->max_msg);
    struct frame_hdr h = {.len = (uint32_t)len};
    struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof h},
                           {.iov_base = (void *)msg, .iov_len = len}};
    size_t total = sizeof h + len;
    if (!s->lock_writes) {
        /* One write of at most PIPE_BUF bytes: all of it or nothing, never interleaved. */
        if (atomic_load(&s->sh->broken))
            return cut(q, s);
        ssize_t n;
        while ((n = do_write(s, iov, 2)) < 0 && errno == EINTR)
            ;
        if (n < 0)
            return ipc_queue_fail(q, -errno, "%s: write: %s", s->name, strerror(errno));
        if ((size_t)n != total) /* cannot happen for a pipe: POSIX atomicity */
            return ipc_queue_fail(q, -EIO, "%s: short atomic write (%zd of %zu)", s->name, n,
                                  total);
        return 0;
    }
    bool died;
    int rc = ipc_qlock_take(&s->sh->wlock, 0, &died);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "%s: write lock: %s", s->name, strerror(-rc));
    if (died && atomic_load(&s->sh->writer_midframe))
        atomic_store(&s->sh->broken, 1);
    if (atomic_load(&s->sh->broken)) {
        pthread_mutex_unlock(&s->sh->wlock);
        return cut(q, s);
    }
    atomic_store(&s->sh->writer_midframe, 1);
    int iovcnt = 2;
    struct iovec *v = iov;
    rc = 0;
    while (total > 0) {
        ssize_t n = do_write(s, v, iovcnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        total -= (size_t)n;
        while (iovcnt > 0 && (size_t)n >= v->iov_len) {
            n -= (ssize_t)v->iov_len;
            v++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            v->iov_base = (char *)v->iov_base + n;
            v->iov_len -= (size_t)n;
        }
    }
    /* A failed write may have left part of a frame: the stream is cut for everyone. */
    if (rc < 0 && total < sizeof h + len)
        atomic_store(&s->sh->broken, 1);
    else
        atomic_store(&s->sh->writer_midframe, 0);
    pthread_mutex_unlock(&s->sh->wlock);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "%s: write: %s", s->name, strerror(-rc));
    return 0;
}

static ssize_t do_read(const struct stream *s, void *buf, size_t n)
{
    if (s->socket)
        return recv(s->rd, buf, n, MSG_DONTWAIT);
    return read(s->rd, buf, n);
}

/*
 * The rest of a frame whose first byte is in: n bytes into buf (or dropped into scratch if
 * buf is NULL). A writer delivers a frame whole, so this waits only while the writer is still
 * writing; if nothing comes for STALL_MS and no writer holds the frame (or one died holding
 * it), the frame will never be finished. 0, or -errno with q->errstr set.
 */
static int read_rest(struct ipc_queue *q, struct stream *s, unsigned char *buf, size_t n)
{
    int waited = 0;
    while (n > 0) {
        unsigned char *dst = buf ? buf : s->scratch;
        size_t want = buf ? n : (n < sizeof s->scratch ? n : sizeof s->scratch);
        ssize_t r = do_read(s, dst, want);
        if (r > 0) {
            n -= (size_t)r;
            if (buf)
                buf += r;
            waited = 0;
            continue;
        }
        if (r == 0)
            return ipc_queue_fail(q, -EPIPE, "%s: every writer has gone", s->name);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return ipc_queue_fail(q, -errno, "%s: read: %s", s->name, strerror(errno));
        struct pollfd p = {.fd = s->rd, .events = POLLIN};
        int pr = poll(&p, 1, 200);
        if (pr > 0 || (pr < 0 && errno == EINTR))
            continue;
        if (pr < 0)
            return ipc_queue_fail(q, -errno, "%s: poll: %s", s->name, strerror(errno));
        if ((waited += 200) < STALL_MS)
            continue;
        waited = 0;
        if (atomic_load(&s->sh->broken))
            return cut(q, s);
        int t = pthread_mutex_trylock(&s->sh->wlock);
        if (t == EBUSY)
            continue; /* a writer is at work: its frame is coming */
        if (t == EOWNERDEAD) {
            pthread_mutex_consistent(&s->sh->wlock);
            atomic_store(&s->sh->broken, 1);
        }
        if (t == 0 || t == EOWNERDEAD)
            pthread_mutex_unlock(&s->sh->wlock);
        /* Nobody is writing, yet the frame is unfinished: unless its last bytes landed just
         * now, its writer is gone. */
        if (poll(&p, 1, 0) > 0)
            continue;
        atomic_store(&s->sh->broken, 1);
        return cut(q, s);
    }
    return 0;
}

/* On a cut stream: drop what is there now (up to 1 MiB a call), so that a writer blocked on a
 * full buffer is released (to find the stream cut on its next send) instead of waiting for
 * ever for readers that can no longer make sense of the bytes. */
static void discard(struct stream *s)
{
    for (size_t total = 0; total < (1u << 20);) {
        ssize_t r = do_read(s, s->scratch, sizeof s->scratch);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            break;
        total += r > 0 ? (size_t)r : 0;
    }
}

int ipc_qstream_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct stream *s = q->priv;
    uint64_t deadline = ipc_qdeadline(timeout_ms);
    bool died;
    int rc = ipc_qlock_take(&s->sh->rlock, deadline, &died);
    if (rc == -ETIMEDOUT)
        return ipc_queue_fail(q, rc, "%s: no message within %d ms", s->name, timeout_ms);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "%s: read lock: %s", s->name, strerror(-rc));
    /* A reader that died waiting for data left the stream intact; one that died inside a
     * frame did not. */
    if (died && atomic_load(&s->sh->reader_midframe))
        atomic_store(&s->sh->broken, 1);
    if (atomic_load(&s->sh->broken)) {
        rc = cut(q, s);
        goto out;
    }
    for (;;) {
        struct pollfd p = {.fd = s->rd, .events = POLLIN};
        int pr = poll(&p, 1, ipc_qremaining_ms(deadline));
        if (pr > 0)
            break;
        if (pr == 0) {
            rc = ipc_queue_fail(q, -ETIMEDOUT, "%s: no message within %d ms", s->name, timeout_ms);
            goto out;
        }
        if (errno != EINTR) {
            rc = ipc_queue_fail(q, -errno, "%s: poll: %s", s->name, strerror(errno));
            goto out;
        }
    }
    atomic_store(&s->sh->reader_midframe, 1);
    struct frame_hdr h;
    rc = read_rest(q, s, (unsigned char *)&h, sizeof h);
    if (rc == 0 && (h.len == 0 || h.len > IPC_QUEUE_MAX_MSG)) {
        atomic_store(&s->sh->broken, 1);
        rc = ipc_queue_fail(q, -EPROTO, "%s: corrupt frame header (length %u)", s->name, h.len);
    }
    if (rc == 0 && h.len > cap) {
        /* Read and drop the payload: the next frame must start where the reader looks. */
        rc = read_rest(q, s, NULL, h.len);
        if (rc == 0)
            rc = ipc_queue_fail(q, -EMSGSIZE,
                                "%s: a %u-byte message does not fit in %zu bytes (dropped)",
                                s->name, h.len, cap);
    } else if (rc == 0) {
        rc = read_rest(q, s, buf, h.len);
        if (rc == 0)
            *len = h.len;
    }
    if (rc == 0 || rc == -EMSGSIZE)
        atomic_store(&s->sh->reader_midframe, 0);
    else
        atomic_store(&s->sh->broken, 1);
out:
    if (atomic_load(&s->sh->broken))
        discard(s);
    pthread_mutex_unlock(&s->sh->rlock);
    return rc;
}

void ipc_qstream_close(struct ipc_queue *q)
{
    struct stream *s = q->priv;
    if (!s)
        return;
    close(s->rd);
    close(s->wr);
    pthread_mutex_destroy(&s->sh->wlock);
    pthread_mutex_destroy(&s->sh->rlock);
    ipc_shared_free(s->sh, sizeof *s->sh);
    free(s);
}

/* ---- the pipe transport ------------------------------------------------------------------- */

static int pipe_probe(char *why, size_t len)
{
    (void)why, (void)len;
    return 0;
}

static int pipe_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    return ipc_qstream_open(q, cfg, false);
}

const struct ipc_queue_ops ipc_queue_pipe_ops = {
    .name = "pipe",
    .description = "pipe inherited over fork, length-prefixed frames: atomic writes up to "
                   "PIPE_BUF, larger frames and every read under process-shared locks",
    .props = 0, /* a message read by a consumer that dies is gone */
    .probe = pipe_probe,
    .open = pipe_open,
    .attach = NULL, /* both ends are inherited */
    .send = ipc_qstream_send,
    .recv = ipc_qstream_recv,
    .ack = NULL,
    .recover = NULL,
    .detach = NULL,
    .close = ipc_qstream_close,
};
