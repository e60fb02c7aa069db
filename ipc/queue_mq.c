/* SPDX-License-Identifier: MIT */
/* `mq`: the queue as a POSIX message queue under a private name, with messages larger than
 * the system's message size limit sent as fragments. */
#include "queue.h"

#include "cleanup.h"
#include "clock.h"
#include "shared.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* From queue_pipe.c. */
uint64_t ipc_qdeadline(int timeout_ms);
int ipc_qremaining_ms(uint64_t deadline);
int ipc_qlock_init(pthread_mutex_t *m);
int ipc_qlock_take(pthread_mutex_t *m, uint64_t deadline, bool *owner_died);

/*
 * Limits. Linux caps a queue's message size at /proc/sys/fs/mqueue/msgsize_max (8 KiB by
 * default) and its length at msg_max (10), and a user's queues at RLIMIT_MSGQUEUE bytes.
 * A privileged process may exceed the first two; this transport does not, so that it
 * behaves (and measures) the same for every user. A queue whose largest message does not
 * fit in one mq message sends each message as fragments of at most msgsize_max bytes:
 *
 *  - every fragment starts with the message's total length and the fragment's offset;
 *  - a writer sends all fragments of a message under a process-shared lock, so fragments of
 *    different messages never interleave, and a reader receives them all under a second lock,
 *    so two readers never split one message;
 *  - a reader that finds a fragment with a non-zero offset where a message should start
 *    drops fragments until the next start: that is what is left of a message whose reader
 *    died halfway (it is lost, as on any unreliable transport);
 *  - a reader waiting for the rest of a message whose writer died (the write lock is free or
 *    its owner dead, and nothing comes for STALL_MS) drops the beginning and waits for the
 *    next message.
 *
 * A queue whose messages all fit (max_msg + 8 <= msgsize_max) needs no lock at all: each
 * message is one mq message, which the kernel delivers whole and once.
 *
 * The name: "/ipclab-<pid>-<64 random bits>", created O_CREAT|O_EXCL with mode 0600, and
 * unlinked right after the two descriptors are open, with the cleanup signals blocked in
 * between. The descriptors are inherited over fork, so nobody needs the name again, and a
 * queue with no name cannot outlive its processes even if they are all SIGKILLed: nothing
 * can be left behind for the cleanup registry to remove.
 */

struct frag_hdr {
    uint32_t total;  /* the whole message's length */
    uint32_t offset; /* of this fragment's payload within it */
};
#define FRAG_HDR sizeof(struct frag_hdr)

#define MQ_DIR "/proc/sys/fs/mqueue/"
#define STALL_MS 2000

struct mq_shared {
    pthread_mutex_t wlock, rlock; /* fragmented queues only */
};

struct mq_state {
    mqd_t wr;        /* blocking: send waits while the queue is full */
    mqd_t rd;        /* non-blocking: receive waits in poll(), which has a timeout */
    size_t max_msg;  /* largest message (payload) */
    size_t msgsize;  /* the queue's mq_msgsize: header + payload of one fragment */
    bool fragmented; /* some messages need several fragments */
    struct mq_shared *sh;
    unsigned char *sbuf, *buf; /* one fragment out, one in (each process has its copy) */
};

static long read_limit(const char *name, long fallback)
{
    char path[128];
    snprintf(path, sizeof path, MQ_DIR "%s", name);
    FILE *f = fopen(path, "r");
    long v = fallback;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1 || v <= 0)
            v = fallback;
        fclose(f);
    }
    return v;
}

static int mq_probe(char *why, size_t len)
{
    /* A tiny queue, created and removed at once: the kernel may lack POSIX queues. */
    char name[64];
    snprintf(name, sizeof name, "/ipclab-probe-%d", (int)getpid());
    struct mq_attr a = {.mq_maxmsg = 1, .mq_msgsize = 16};
    sigset_t old;
    ipc_cleanup_block(&old);
    mqd_t d = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &a);
    int err = d == (mqd_t)-1 ? errno : 0;
    if (d != (mqd_t)-1) {
        mq_unlink(name);
        mq_close(d);
    }
    ipc_cleanup_unblock(&old);
    if (err == EEXIST)
        return 0; /* a leftover of ours; creating under a random name will work */
    if (err) {
        snprintf(why, len, "POSIX message queues: mq_open: %s", strerror(err));
        return -err;
    }
    return 0;
}

static void free_state(struct mq_state *s)
{
    if (s->wr != (mqd_t)-1)
        mq_close(s->wr);
    if (s->rd != (mqd_t)-1)
        mq_close(s->rd);
    if (s->sh) {
        pthread_mutex_destroy(&s->sh->wlock);
        pthread_mutex_destroy(&s->sh->rlock);
        ipc_shared_free(s->sh, sizeof *s->sh);
    }
    free(s->sbuf);
    free(s->buf);
    free(s);
}

static int mq_open_queue(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    size_t max_msg = cfg->max_msg ? cfg->max_msg : IPC_QUEUE_MAX_MSG;
    if (max_msg > IPC_QUEUE_MAX_MSG)
        return ipc_queue_fail(q, -EINVAL, "mq: max_msg %zu exceeds %d", max_msg, IPC_QUEUE_MAX_MSG);
    long msgsize_max = read_limit("msgsize_max", 8192);
    long msg_max = read_limit("msg_max", 10);
    if (msgsize_max <= (long)FRAG_HDR)
        return ipc_queue_fail(q, -EMSGSIZE, "mq: msgsize_max %ld leaves no room for a message",
                              msgsize_max);
    struct mq_state *s = calloc(1, sizeof *s);
    if (!s)
        return ipc_queue_fail(q, -ENOMEM, "mq: out of memory");
    s->wr = s->rd = (mqd_t)-1;
    s->max_msg = max_msg;
    s->msgsize = FRAG_HDR + max_msg;
    if ((long)s->msgsize > msgsize_max) {
        s->msgsize = (size_t)msgsize_max;
        s->fragmented = true;
    }
    long maxmsg = cfg->capacity ? (long)cfg->capacity : msg_max;
    if (maxmsg > msg_max)
        maxmsg = msg_max;
    s->buf = malloc(s->msgsize);
    s->sbuf = malloc(s->msgsize);
    if (!s->buf || !s->sbuf) {
        free_state(s);
        return ipc_queue_fail(q, -ENOMEM, "mq: out of memory");
    }
    if (s->fragmented) {
        int rc;
        s->sh = ipc_shared_alloc(sizeof *s->sh);
        if (!s->sh || (rc = ipc_qlock_init(&s->sh->wlock)) < 0 ||
            (rc = ipc_qlock_init(&s->sh->rlock)) < 0) {
            free_state(s);
            return ipc_queue_fail(q, -ENOMEM, "mq: shared locks");
        }
    }
    uint64_t rnd;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) {
        int err = errno;
        free_state(s);
        return ipc_queue_fail(q, -err, "mq: getrandom: %s", strerror(err));
    }
    char name[64];
    snprintf(name, sizeof name, "/ipclab-%d-%016llx", (int)getpid(), (unsigned long long)rnd);
    struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = (long)s->msgsize};
    sigset_t old;
    ipc_cleanup_block(&old);
    s->wr = mq_open(name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600, &a);
    int err = s->wr == (mqd_t)-1 ? errno : 0;
    if (!err) {
        s->rd = mq_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (s->rd == (mqd_t)-1)
            err = errno;
        mq_unlink(name);
    }
    ipc_cleanup_unblock(&old);
    if (err) {
        free_state(s);
        if (err == EMFILE || err == ENOMEM)
            return ipc_queue_fail(q, -err,
                                  "mq: mq_open: %s (%ld messages of %zu bytes; "
                                  "RLIMIT_MSGQUEUE bounds a user's queues)",
                                  strerror(err), maxmsg, FRAG_HDR + max_msg);
        return ipc_queue_fail(q, -err,
                              "mq: mq_open (%ld messages of %zu bytes, limits %ld and %ld): %s",
                              maxmsg, FRAG_HDR + max_msg, msg_max, msgsize_max, strerror(err));
    }
    q->priv = s;
    return 0;
}

static int send_frag(struct ipc_queue *q, struct mq_state *s, const struct frag_hdr *h,
                     const void *data, size_t len)
{
    memcpy(s->sbuf, h, FRAG_HDR);
    memcpy(s->sbuf + FRAG_HDR, data, len);
    while (mq_send(s->wr, (const char *)s->sbuf, FRAG_HDR + len, 0) < 0) {
        if (errno != EINTR)
            return ipc_queue_fail(q, -errno, "mq: mq_send: %s", strerror(errno));
    }
    return 0;
}

static int mq_send_msg(struct ipc_queue *q, const void *msg, size_t len)
{
    struct mq_state *s = q->priv;
    if (len > s->max_msg)
        return ipc_queue_fail(q, -EMSGSIZE, "mq: %zu bytes exceed this queue's max_msg %zu", len,
                              s->max_msg);
    struct frag_hdr h = {.total = (uint32_t)len, .offset = 0};
    if (FRAG_HDR + len <= s->msgsize && !s->fragmented)
        return send_frag(q, s, &h, msg, len);
    bool died;
    int rc = ipc_qlock_take(&s->sh->wlock, 0, &died);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "mq: write lock: %s", strerror(-rc));
    /* A writer that died halfway left a message without its end; readers drop it when the
     * next message starts, so there is nothing to repair here. */
    const size_t room = s->msgsize - FRAG_HDR;
    for (size_t off = 0; off < len && rc == 0; off += room) {
        h.offset = (uint32_t)off;
        rc = send_frag(q, s, &h, (const char *)msg + off, len - off < room ? len - off : room);
    }
    pthread_mutex_unlock(&s->sh->wlock);
    return rc;
}

/* Not an error: recv_frag() found that the writer of the message being received died before
 * its last fragment. */
#define WRITER_GONE 1

/* One fragment into s->buf; *n its size. Waits until deadline (0: for ever). With stall set
 * (in the middle of a message), returns WRITER_GONE after STALL_MS without a fragment if no
 * writer is inside a message any more. */
static int recv_frag(struct ipc_queue *q, struct mq_state *s, size_t *n, uint64_t deadline,
                     int timeout_ms, bool stall)
{
    int waited = 0;
    for (;;) {
        ssize_t r = mq_receive(s->rd, (char *)s->buf, s->msgsize, NULL);
        if (r >= 0) {
            *n = (size_t)r;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return ipc_queue_fail(q, -errno, "mq: mq_receive: %s", strerror(errno));
        /* A Linux mqd_t is a descriptor: poll() waits for a message, with a timeout. */
        int ms = stall ? 200 : ipc_qremaining_ms(deadline);
        struct pollfd p = {.fd = (int)s->rd, .events = POLLIN};
        int pr = poll(&p, 1, ms);
        if (pr > 0 || (pr < 0 && errno == EINTR))
            continue;
        if (pr < 0)
            return ipc_queue_fail(q, -errno, "mq: poll: %s", strerror(errno));
        if (!stall)
            return ipc_queue_fail(q, -ETIMEDOUT, "mq: no message within %d ms", timeout_ms);
        if ((waited += 200) < STALL_MS)
            continue;
        waited = 0;
        int t = pthread_mutex_trylock(&s->sh->wlock);
        if (t == EBUSY)
            continue; /* a writer is at work: the rest is coming */
        if (t == EOWNERDEAD)
            pthread_mutex_consistent(&s->sh->wlock);
        if (t == 0 || t == EOWNERDEAD)
            pthread_mutex_unlock(&s->sh->wlock);
        if (poll(&p, 1, 0) > 0)
            continue;
        return WRITER_GONE;
    }
}

static int mq_recv_msg(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct mq_state *s = q->priv;
    uint64_t deadline = ipc_qdeadline(timeout_ms);
    size_t n;
    struct frag_hdr h;
    if (!s->fragmented) {
        int rc = recv_frag(q, s, &n, deadline, timeout_ms, false);
        if (rc < 0)
            return rc;
        memcpy(&h, s->buf, FRAG_HDR);
        if (n < FRAG_HDR || h.offset != 0 || h.total != n - FRAG_HDR)
            return ipc_queue_fail(q, -EPROTO, "mq: a corrupt message (%zu bytes)", n);
        if (h.total > cap)
            return ipc_queue_fail(q, -EMSGSIZE,
                                  "mq: a %u-byte message does not fit in %zu bytes (dropped)",
                                  h.total, cap);
        memcpy(buf, s->buf + FRAG_HDR, h.total);
        *len = h.total;
        return 0;
    }
    bool died;
    int rc = ipc_qlock_take(&s->sh->rlock, deadline, &died);
    if (rc == -ETIMEDOUT)
        return ipc_queue_fail(q, rc, "mq: no message within %d ms", timeout_ms);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "mq: read lock: %s", strerror(-rc));
    size_t got = 0;
    uint32_t total = 0;
    bool started = false;
    for (;;) {
        rc = recv_frag(q, s, &n, deadline, timeout_ms, started);
        if (rc == WRITER_GONE) {
            started = false; /* the rest will never come: drop the beginning, wait for more */
            continue;
        }
        if (rc < 0)
            break;
        memcpy(&h, s->buf, FRAG_HDR);
        size_t flen = n - FRAG_HDR;
        if (n < FRAG_HDR || h.total == 0 || h.total > IPC_QUEUE_MAX_MSG ||
            (size_t)h.offset + flen > h.total) {
            rc = ipc_queue_fail(q, -EPROTO, "mq: a corrupt fragment (%zu bytes)", n);
            break;
        }
        if (h.offset == 0) {
            /* A message starts (any unfinished one before it was left by a dead process). */
            started = true;
            total = h.total;
            got = 0;
        } else if (!started || h.total != total || h.offset != got) {
            started = false; /* the rest of a message whose reader died: drop it */
            continue;
        }
        if (total <= cap)
            memcpy((char *)buf + got, s->buf + FRAG_HDR, flen);
        got += flen;
        if (got == total)
            break;
    }
    pthread_mutex_unlock(&s->sh->rlock);
    if (rc < 0)
        return rc;
    if (total > cap)
        return ipc_queue_fail(
            q, -EMSGSIZE, "mq: a %u-byte message does not fit in %zu bytes (dropped)", total, cap);
    *len = total;
    return 0;
}

static void mq_close_queue(struct ipc_queue *q)
{
    if (q->priv)
        free_state(q->priv);
}

const struct ipc_queue_ops ipc_queue_mq_ops = {
    .name = "mq",
    .description = "POSIX message queue (private name, unlinked at once), messages larger "
                   "than msgsize_max as fragments under process-shared locks",
    .props = 0, /* a message received by a consumer that dies is gone */
    .probe = mq_probe,
    .open = mq_open_queue,
    .attach = NULL, /* the descriptors are inherited */
    .send = mq_send_msg,
    .recv = mq_recv_msg,
    .ack = NULL,
    .recover = NULL,
    .detach = NULL,
    .close = mq_close_queue,
};
