/* SPDX-License-Identifier: MIT */
/* `uring`: one io_uring mailbox per participant; a raise sends IORING_OP_MSG_RING to every
 * mailbox and a check reads its own mailbox's completion queue in user space, no syscall. */
#include "flag.h"

#include <stdio.h>

#ifdef IPCLAB_HAVE_URING

#include "shared_word.h"

#include <liburing.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * Why the rings are split this way.
 *
 * A MSG_RING needs the target ring's descriptor in the sender's process, so the mailboxes are
 * created by the opener before it forks: every worker inherits every mailbox's descriptor and
 * its MAP_SHARED ring mapping, and can message any other worker without passing descriptors.
 *
 * liburing keeps part of the submission queue state (sqe_head, sqe_tail) in the process's own
 * struct io_uring, so an SQ used by successive forked processes goes out of sync with the
 * kernel. Mailbox SQs are therefore never used. A completion queue has no such private state:
 * its head and tail live in the shared mapping, so any process may read it, as long as only
 * one advances it at a time (here: nobody but reset, which runs with no worker running).
 * Each process that attaches sends through a "sender" ring of its own, created after fork.
 *
 * A mailbox only ever receives raise messages; a CQE is never consumed by a check, so a raise
 * stays visible until reset, also to a process that claims the slot later.
 */

/* The raise message, as the target sees it: user_data and res of the CQE it finds. */
#define RAISE_DATA 0x6970636c61627566ull /* "ipclabuf" */
#define RAISE_RES 1u

struct uring_state {
    unsigned n;            /* mailboxes, one per participant */
    struct io_uring *mail; /* the mailboxes, inherited over fork */
    _Atomic pid_t *owner;  /* = f->word: the pid attached to each mailbox, 0 = free */
    size_t table_size;     /* bytes mapped at f->word */
    unsigned entries;      /* a power of two >= n: a sender's SQ, a mailbox's CQ (one round) */
    /* This process's attachment (fork copies these; a copy in a child is refused by pid). */
    unsigned slot;
    pid_t pid;
    bool have_sender;
    struct io_uring sender;
};

static unsigned pow2_at_least(unsigned n)
{
    unsigned p = 1;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

/* True if the ring's CQ holds a raise. User space only: the CQ head is ours to read (the
 * kernel never writes it), the tail is loaded with acquire, which pairs with the kernel's
 * release store after it writes the CQE. No io_uring_peek_cqe / io_uring_wait_cqe: both may
 * enter the kernel (to flush an overflow, to run task work), and a check must not. */
static bool has_raise(const struct io_uring *ring)
{
    unsigned head;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(ring, head, cqe)
    {
        if (cqe->user_data == RAISE_DATA)
            return true;
    }
    return false;
}

/* Empty a mailbox CQ, overflowed completions included: with IORING_FEAT_NODROP the kernel
 * keeps CQEs that did not fit in a list of its own and posts every later CQE behind them, so
 * a mailbox left with an overflow would hide the next round's raise. */
static int drain(struct flag *f, struct io_uring *box, unsigned idx)
{
    for (;;) {
        io_uring_cq_advance(box, io_uring_cq_ready(box));
        if (!io_uring_cq_has_overflow(box))
            return 0;
        int rc = io_uring_get_events(box); /* flushes the overflow list into the CQ */
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN)
            return flag_fail(f, rc, "uring: flushing mailbox %u: %s", idx, strerror(-rc));
    }
}

static void destroy(struct flag *f, struct uring_state *s, unsigned mailboxes)
{
    for (unsigned i = 0; i < mailboxes; i++)
        io_uring_queue_exit(&s->mail[i]);
    if (f->word)
        flag_word_close(f, s->table_size);
    free(s->mail);
    free(s);
}

static int uring_open(struct flag *f, const struct flag_config *cfg)
{
    unsigned n = cfg->participants ? cfg->participants : FLAG_DEFAULT_PARTICIPANTS;
    struct uring_state *s = calloc(1, sizeof *s);
    if (!s || !(s->mail = calloc(n, sizeof *s->mail))) {
        free(s);
        return flag_fail(f, -ENOMEM, "uring: out of memory");
    }
    s->n = n;
    s->entries = pow2_at_least(n);
    s->table_size = n * sizeof *s->owner;
    int rc = flag_word_open(f, s->table_size);
    if (rc < 0) {
        destroy(f, s, 0);
        return rc;
    }
    s->owner = f->word;
    /* The SQ is never used: one entry. The CQ holds a full round of raises (each mailbox gets
     * at most one message per raiser running at once, and raisers are attached processes). */
    for (unsigned i = 0; i < n; i++) {
        struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE, .cq_entries = s->entries};
        rc = io_uring_queue_init_params(1, &s->mail[i], &p);
        if (rc < 0) {
            flag_fail(f, rc, "uring: cannot create mailbox ring %u of %u: %s", i + 1, n,
                      strerror(-rc));
            destroy(f, s, i);
            return rc;
        }
    }
    f->priv = s;
    return 0;
}

static bool exists(pid_t pid)
{
    return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Claim a free mailbox; if none, take one whose owner is gone (killed without detaching). The
 * compare-and-swap makes two processes racing for one slot agree on a single winner. */
static int claim(struct uring_state *s, pid_t me)
{
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < s->n; i++) {
            pid_t cur = atomic_load(&s->owner[i]);
            if ((cur == 0 || (pass == 1 && cur != me && !exists(cur))) &&
                atomic_compare_exchange_strong(&s->owner[i], &cur, me)) {
                s->slot = i;
                return 0;
            }
        }
    }
    return -EBUSY;
}

static void release(struct uring_state *s)
{
    /* Only the claimer releases: a child that inherited the attachment over fork does not
     * own the slot and leaves it alone. */
    pid_t me = getpid();
    atomic_compare_exchange_strong(&s->owner[s->slot], &me, 0);
}

static int uring_attach(struct flag *f)
{
    struct uring_state *s = f->priv;
    pid_t me = getpid();
    if (claim(s, me) < 0)
        return flag_fail(f, -EBUSY,
                         "uring: all %u mailboxes are held by live processes (raise "
                         "participants)",
                         s->n);
    /* Created here, after fork, so its SQ state belongs to this process alone. */
    int rc = io_uring_queue_init(s->entries, &s->sender, 0);
    if (rc < 0) {
        release(s);
        return flag_fail(f, rc, "uring: cannot create this process's sender ring: %s",
                         strerror(-rc));
    }
    s->pid = me;
    s->have_sender = true;
    return 0;
}

/* After a failed submission unsent SQEs may sit in the sender's SQ, and liburing cannot take
 * them back: replace the ring so the next raise starts clean. Returns err. */
static int renew_sender(struct uring_state *s, int err)
{
    io_uring_queue_exit(&s->sender);
    s->have_sender = io_uring_queue_init(s->entries, &s->sender, 0) == 0;
    return err;
}

/* Submit the queued messages and wait until each has completed; the first failed message
 * (negative res) is the error. */
static int send_queued(struct flag *f, struct uring_state *s, unsigned queued)
{
    struct io_uring *r = &s->sender;
    int err = 0;
    unsigned done = 0;
    while (done < queued) {
        /* Submits whatever is still in the SQ and waits for the rest in one system call;
         * a signal or a transient shortage just goes round again. */
        int rc = io_uring_submit_and_wait(r, queued - done);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            return renew_sender(s,
                                flag_fail(f, rc, "uring: submitting the raise: %s", strerror(-rc)));
        unsigned head, seen = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(r, head, cqe)
        {
            if (cqe->res < 0 && err == 0)
                err = flag_fail(f, cqe->res, "uring: message to mailbox %llu: %s",
                                (unsigned long long)cqe->user_data, strerror(-cqe->res));
            seen++;
        }
        io_uring_cq_advance(r, seen);
        done += seen;
    }
    return err;
}

/*
 * Send a raise to every mailbox that does not hold one yet, own and unclaimed ones included
 * (a process that attaches after the raise must still see it). Skipping a mailbox that already
 * holds a raise keeps raise idempotent in effect and bounds what a round can put in a CQ: only
 * raisers that looked before the first message landed send, and they are attached processes.
 *
 * Ordering: the raiser's earlier writes precede its io_uring_enter(); the kernel posts each
 * CQE during that call (or from a worker it hands the request to afterwards) and publishes it
 * with a release store of the CQ tail, which a check loads with acquire. So a process that
 * sees the raise also sees what the raiser wrote before raising.
 */
static int uring_raise(struct flag *f)
{
    struct uring_state *s = f->priv;
    if (getpid() != s->pid)
        return flag_fail(f, -EBADF,
                         "uring: attached in pid %d, not here: a sender ring is not shared "
                         "over fork (detach, then attach in this process)",
                         (int)s->pid);
    if (!s->have_sender)
        return flag_fail(f, -EIO,
                         "uring: no sender ring after an earlier failure (detach, "
                         "then attach again)");
    unsigned queued = 0;
    for (unsigned i = 0; i < s->n; i++) {
        if (has_raise(&s->mail[i]))
            continue;
        struct io_uring_sqe *sqe = io_uring_get_sqe(&s->sender);
        if (!sqe) { /* not with entries >= n, but cheap to handle */
            int rc = send_queued(f, s, queued);
            if (rc < 0)
                return rc;
            queued = 0;
            if (!(sqe = io_uring_get_sqe(&s->sender)))
                return flag_fail(f, -EBUSY, "uring: sender ring has no free entry");
        }
        io_uring_prep_msg_ring(sqe, s->mail[i].ring_fd, RAISE_RES, RAISE_DATA, 0);
        io_uring_sqe_set_data64(sqe, i);
        queued++;
    }
    return queued ? send_queued(f, s, queued) : 0;
}

/* The check: loads from this process's mailbox CQ, nothing else. */
static int uring_is_raised(struct flag *f)
{
    struct uring_state *s = f->priv;
    return has_raise(&s->mail[s->slot]);
}

static int uring_reset(struct flag *f)
{
    struct uring_state *s = f->priv;
    for (unsigned i = 0; i < s->n; i++) {
        int rc = drain(f, &s->mail[i], i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int uring_detach(struct flag *f)
{
    struct uring_state *s = f->priv;
    release(s);
    if (s->have_sender)
        io_uring_queue_exit(&s->sender);
    s->have_sender = false;
    s->pid = 0;
    return 0;
}

static void uring_close(struct flag *f)
{
    struct uring_state *s = f->priv;
    destroy(f, s, s->n);
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
        snprintf(why, len, "cannot list the kernel's io_uring opcodes (needs Linux 5.18+)");
        rc = -ENOTSUP;
    } else if (!io_uring_opcode_supported(p, IORING_OP_MSG_RING)) {
        snprintf(why, len, "the kernel lacks IORING_OP_MSG_RING (needs Linux 5.18+)");
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

static int uring_open(struct flag *f, const struct flag_config *cfg)
{
    (void)cfg;
    return flag_fail(f, -ENOTSUP, "uring: " NOT_BUILT);
}

static void uring_close(struct flag *f)
{
    (void)f;
}

#define uring_attach NULL
#define uring_raise NULL
#define uring_is_raised NULL
#define uring_reset NULL
#define uring_detach NULL

#endif

const struct flag_ops flag_uring_ops = {
    .name = "uring",
    .description = "io_uring mailbox per process: raise sends MSG_RING to each, check reads own "
                   "CQ in user space",
    .fast = FLAG_FAST_DISPATCH,
    .props = FLAG_PROP_SHARED,
    .probe = uring_probe,
    .open = uring_open,
    .attach = uring_attach,
    .raise = uring_raise,
    .is_raised = uring_is_raised,
    .reset = uring_reset,
    .detach = uring_detach,
    .close = uring_close,
};
