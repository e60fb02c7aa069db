/* SPDX-License-Identifier: MIT */
/* `shm-ring`: a bounded multi-producer multi-consumer ring of message slots in anonymous shared
 * memory, lock-free, with futex wake-ups so that an empty or full ring costs no CPU. */
#include "queue.h"

#include "clock.h"
#include "shared.h"
#include "spin.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * The ring is Dmitry Vyukov's bounded MPMC queue over fixed-size slots. Each slot has a
 * sequence number; with capacity C (a power of two), slot i starts at seq = i and:
 *
 *   a producer that claims position p (a CAS on `enq` from p to p+1) may write slot p % C
 *   once its seq == p, and publishes it by storing seq = p + 1;
 *   a consumer that claims position p (a CAS on `deq`) may read the slot once seq == p + 1,
 *   and frees it for the producer of position p + C by storing seq = p + C.
 *
 * Memory ordering. The claims (`enq`, `deq`) are relaxed: they only hand out positions.
 * Everything else rides on the slot's seq: the producer writes the message, then stores seq
 * with release; the consumer loads seq with acquire before it reads the message, so it sees
 * all of it; symmetrically the consumer's release store after reading and the next
 * producer's acquire load keep the producer from overwriting a message still being read.
 * Messages from one producer take increasing positions, so any one consumer receives them
 * in order.
 *
 * Blocking. A consumer that finds the ring empty (or a producer that finds it full) sleeps on
 * a futex in an event count {seq, waiters}:
 *
 *   waiter:   waiters++; fence(seq_cst); e = seq; try again; futex_wait(&seq, e); waiters--
 *   notifier: (after publishing) fence(seq_cst); if (waiters) { seq++; futex_wake(&seq, 1) }
 *
 * The two seq_cst fences make it a Dekker pattern: either the waiter's second try sees the
 * new message, or the notifier sees the waiter and bumps seq, so the futex_wait either
 * returns at once (seq moved) or is woken. A notifier finding no waiter pays one fence, no
 * system call. Before it sleeps, a waiter polls for up to 20 us (a bounded spin: a partner on
 * another CPU often answers sooner than a sleep and a wake-up would take). Sleeps are cut
 * into 250 ms slices, a safety net for a waiter woken and killed before it could take the
 * message its wake-up was for.
 *
 * Deaths. A process that dies while it waits (or anywhere outside a claimed slot) harms
 * nobody: it only leaves `waiters` one too high, which costs notifiers a needless wake-up
 * call. One that dies between claiming a slot and releasing it would leave that slot for ever
 * unpublished (or unfreed) and stop the ring there, so a claimer writes its pid into the
 * slot's `owner` while it works on it (and clears it before it publishes or frees the slot).
 * A waiter that has found the ring stopped at the same position for a second looks at that
 * slot: claimed, and its owner gone (kill(pid, 0) fails with ESRCH, so the owner must have
 * been reaped), it repairs it. A dead consumer's slot is freed (the message it took is lost,
 * as on every transport that is not reliable); a dead producer's slot is published as a hole,
 * which consumers skip. The repairer takes over by a CAS on `owner`, so two waiters never
 * both repair one slot. The only death not repaired is in the few instructions between a
 * claim and the store of the pid.
 */

struct evcount {
    _Atomic uint32_t seq;     /* futex word */
    _Atomic uint32_t waiters; /* processes between "going to sleep" and "awake again" */
};

struct ring {
    alignas(IPC_CACHELINE) _Atomic uint64_t enq; /* next position a producer claims */
    alignas(IPC_CACHELINE) _Atomic uint64_t deq; /* next position a consumer claims */
    alignas(IPC_CACHELINE) struct evcount items; /* consumers wait here when empty */
    alignas(IPC_CACHELINE) struct evcount space; /* producers wait here when full */
    alignas(IPC_CACHELINE) uint64_t capacity;    /* read-only from here on */
    uint64_t mask;
    size_t stride, max_msg, bytes;
};

struct slot {
    _Atomic uint64_t seq;
    uint32_t len;          /* HOLE: a dead producer's slot, skipped */
    _Atomic int32_t owner; /* pid of the process between claim and publish / free, or 0 */
    unsigned char data[];  /* max_msg bytes, the slot padded to a whole number of lines */
};

/* How long this process has waited at one position (kept across calls: a caller may wait
 * in many short receives). */
struct stall {
    uint64_t pos, since;
};

/* Each process's view: the shared ring, its own pid, taken at attach (getpid() is a system
 * call; a claim must not pay for one), and its waits. */
struct ring_proc {
    struct ring *r;
    int32_t me;
    struct stall send_stall, recv_stall;
};

#define HOLE UINT32_MAX
#define STALL_NS 1000000000u

#define RING_HDR ((sizeof(struct ring) + IPC_CACHELINE - 1) / IPC_CACHELINE * IPC_CACHELINE)
#define SLICE_MS 250
#define SPIN_NS 20000u
#define MAX_CAPACITY 65536u
#define MAX_BYTES (1ull << 30)
/* Default capacity: as many slots as fit in this much memory, within [16, 1024]. */
#define DEFAULT_BYTES (4u << 20)

static struct slot *slot_at(struct ring *r, uint64_t pos)
{
    return (struct slot *)((unsigned char *)r + RING_HDR + (pos & r->mask) * r->stride);
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
    /* No FUTEX_PRIVATE_FLAG: the word is shared between processes. */
    return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static void notify(struct evcount *ec)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ec->waiters, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&ec->seq, 1, memory_order_release);
        futex(&ec->seq, FUTEX_WAKE, 1, NULL);
    }
}

/* Sleep until notified (or a slice or the deadline passes), unless ready() says the wait is
 * over already. The caller tries again after this returns. */
static void wait_for(struct evcount *ec, uint64_t deadline, bool (*ready)(struct ring *),
                     struct ring *r)
{
    /* A partner on another CPU usually answers within microseconds, far sooner than a futex
     * sleep and wake-up (several microseconds each, more in a VM): look for a while first. */
    uint64_t spin_end = ipc_now_ns() + SPIN_NS;
    do {
        for (int i = 0; i < 64; i++) {
            if (ready(r))
                return;
            ipc_cpu_relax();
        }
    } while (ipc_now_ns() < spin_end);
    atomic_fetch_add_explicit(&ec->waiters, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t e = atomic_load_explicit(&ec->seq, memory_order_acquire);
    if (!ready(r)) {
        uint64_t ns = (uint64_t)SLICE_MS * 1000000u;
        if (deadline) {
            uint64_t now = ipc_now_ns();
            ns = now >= deadline ? 0 : deadline - now < ns ? deadline - now : ns;
        }
        if (ns) {
            struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                                  .tv_nsec = (long)(ns % 1000000000u)};
            futex(&ec->seq, FUTEX_WAIT, e, &ts);
        }
    }
    atomic_fetch_sub_explicit(&ec->waiters, 1, memory_order_relaxed);
}

/* Whether the next position to consume (produce) looks published (free): a hint for waiters. */
static bool has_item(struct ring *r)
{
    uint64_t pos = atomic_load_explicit(&r->deq, memory_order_relaxed);
    return atomic_load_explicit(&slot_at(r, pos)->seq, memory_order_acquire) == pos + 1;
}

static bool has_space(struct ring *r)
{
    uint64_t pos = atomic_load_explicit(&r->enq, memory_order_relaxed);
    return atomic_load_explicit(&slot_at(r, pos)->seq, memory_order_acquire) == pos;
}

static int ring_probe(char *why, size_t len)
{
    (void)why, (void)len;
    return 0;
}

static uint64_t pow2_floor(uint64_t v)
{
    uint64_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

static int ring_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    size_t max_msg = cfg->max_msg ? cfg->max_msg : IPC_QUEUE_MAX_MSG;
    if (max_msg > IPC_QUEUE_MAX_MSG)
        return ipc_queue_fail(q, -EINVAL, "shm-ring: max_msg %zu exceeds %d", max_msg,
                              IPC_QUEUE_MAX_MSG);
    size_t stride =
        (sizeof(struct slot) + max_msg + IPC_CACHELINE - 1) / IPC_CACHELINE * IPC_CACHELINE;
    uint64_t cap;
    if (cfg->capacity) {
        if (cfg->capacity > MAX_CAPACITY)
            return ipc_queue_fail(q, -EINVAL, "shm-ring: capacity %u exceeds %u", cfg->capacity,
                                  MAX_CAPACITY);
        cap = pow2_floor(cfg->capacity);
        if (cap < cfg->capacity)
            cap *= 2; /* at least what was asked */
    } else {
        cap = pow2_floor(DEFAULT_BYTES / stride);
        cap = cap < 16 ? 16 : cap > 1024 ? 1024 : cap;
    }
    if (cap < 2)
        cap = 2;
    size_t bytes = RING_HDR + (size_t)cap * stride;
    if (bytes > MAX_BYTES)
        return ipc_queue_fail(q, -ENOMEM, "shm-ring: %llu slots of %zu bytes exceed %llu MiB",
                              (unsigned long long)cap, stride, MAX_BYTES >> 20);
    struct ring *r = ipc_shared_alloc(bytes);
    if (!r)
        return ipc_queue_fail(q, -errno, "shm-ring: %zu bytes of shared memory: %s", bytes,
                              strerror(errno));
    /* Zero-filled memory: positions, counts and waiters start at 0; only the slots' sequence
     * numbers need their start values, before any other process can see the ring. */
    r->capacity = cap;
    r->mask = cap - 1;
    r->stride = stride;
    r->max_msg = max_msg;
    r->bytes = bytes;
    for (uint64_t i = 0; i < cap; i++)
        atomic_init(&slot_at(r, i)->seq, i);
    struct ring_proc *p = malloc(sizeof *p);
    if (!p) {
        ipc_shared_free(r, bytes);
        return ipc_queue_fail(q, -ENOMEM, "shm-ring: out of memory");
    }
    *p = (struct ring_proc){.r = r};
    q->priv = p;
    return 0;
}

static int ring_attach(struct ipc_queue *q)
{
    struct ring_proc *p = q->priv;
    p->me = (int32_t)getpid();
    return 0;
}

static bool gone(int32_t pid)
{
    return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}

/* The ring is full at enq position pos: if the slot's message was claimed by a consumer that
 * is gone, free the slot (its message is lost with the consumer). */
static void repair_consumer(struct ring *r, uint64_t pos)
{
    struct slot *s = slot_at(r, pos);
    uint64_t p = pos - r->capacity; /* the position whose message fills the slot */
    if (atomic_load_explicit(&s->seq, memory_order_acquire) != p + 1 ||
        atomic_load_explicit(&r->deq, memory_order_relaxed) <= p)
        return; /* not stuck in a consumer's hands: simply full */
    int32_t o = atomic_load_explicit(&s->owner, memory_order_relaxed);
    if (!gone(o) || !atomic_compare_exchange_strong(&s->owner, &o, 0))
        return;
    uint64_t want = p + 1;
    atomic_compare_exchange_strong_explicit(&s->seq, &want, p + r->capacity, memory_order_release,
                                            memory_order_relaxed);
    notify(&r->space);
}

/* The ring is empty at deq position pos: if a producer that is gone claimed the slot, publish
 * it as a hole for consumers to skip. */
static void repair_producer(struct ring *r, uint64_t pos)
{
    struct slot *s = slot_at(r, pos);
    if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos ||
        atomic_load_explicit(&r->enq, memory_order_relaxed) <= pos)
        return; /* not claimed: simply empty */
    int32_t o = atomic_load_explicit(&s->owner, memory_order_relaxed);
    if (!gone(o) || !atomic_compare_exchange_strong(&s->owner, &o, 0))
        return;
    s->len = HOLE;
    uint64_t want = pos;
    atomic_compare_exchange_strong_explicit(&s->seq, &want, pos + 1, memory_order_release,
                                            memory_order_relaxed);
    notify(&r->items);
}

static bool stalled(struct stall *st, uint64_t pos)
{
    uint64_t now = ipc_now_ns();
    if (pos != st->pos || st->since == 0) {
        st->pos = pos;
        st->since = now;
        return false;
    }
    if (now - st->since < STALL_NS)
        return false;
    st->since = now;
    return true;
}

/* 1 sent, 0 full. */
static int try_send(struct ring *r, int32_t me, const void *msg, size_t len)
{
    uint64_t pos = atomic_load_explicit(&r->enq, memory_order_relaxed);
    struct slot *s;
    for (;;) {
        s = slot_at(r, pos);
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->enq, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (dif < 0) {
            return 0; /* the slot still holds the message of position pos - capacity */
        } else {
            pos = atomic_load_explicit(&r->enq, memory_order_relaxed);
        }
    }
    atomic_store_explicit(&s->owner, me, memory_order_relaxed);
    memcpy(s->data, msg, len);
    s->len = (uint32_t)len;
    atomic_store_explicit(&s->owner, 0, memory_order_relaxed);
    atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
    notify(&r->items);
    return 1;
}

/* 1 received (or dropped: *len > cap), 0 empty. */
static int try_recv(struct ring *r, int32_t me, void *buf, size_t cap, size_t *len)
{
    uint64_t pos;
    struct slot *s;
again:
    pos = atomic_load_explicit(&r->deq, memory_order_relaxed);
    for (;;) {
        s = slot_at(r, pos);
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->deq, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (dif < 0) {
            return 0; /* not yet published */
        } else {
            pos = atomic_load_explicit(&r->deq, memory_order_relaxed);
        }
    }
    atomic_store_explicit(&s->owner, me, memory_order_relaxed);
    uint32_t n = s->len;
    if (n != HOLE && n <= cap)
        memcpy(buf, s->data, n);
    atomic_store_explicit(&s->owner, 0, memory_order_relaxed);
    atomic_store_explicit(&s->seq, pos + r->capacity, memory_order_release);
    notify(&r->space);
    if (n == HOLE)
        goto again; /* what a dead producer left: nothing to deliver */
    *len = n;
    return 1;
}

static int ring_send(struct ipc_queue *q, const void *msg, size_t len)
{
    struct ring_proc *p = q->priv;
    struct ring *r = p->r;
    if (len > r->max_msg)
        return ipc_queue_fail(q, -EMSGSIZE, "shm-ring: %zu bytes exceed this queue's max_msg %zu",
                              len, r->max_msg);
    while (!try_send(r, p->me, msg, len)) {
        wait_for(&r->space, 0, has_space, r);
        uint64_t pos = atomic_load_explicit(&r->enq, memory_order_relaxed);
        if (stalled(&p->send_stall, pos))
            repair_consumer(r, pos);
    }
    return 0;
}

static int ring_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct ring_proc *p = q->priv;
    struct ring *r = p->r;
    uint64_t deadline = timeout_ms < 0 ? 0 : ipc_now_ns() + (uint64_t)timeout_ms * 1000000u;
    size_t n;
    while (!try_recv(r, p->me, buf, cap, &n)) {
        uint64_t pos = atomic_load_explicit(&r->deq, memory_order_relaxed);
        if (stalled(&p->recv_stall, pos))
            repair_producer(r, pos);
        if (timeout_ms >= 0 && ipc_now_ns() >= deadline)
            return ipc_queue_fail(q, -ETIMEDOUT, "shm-ring: no message within %d ms", timeout_ms);
        wait_for(&r->items, deadline, has_item, r);
    }
    if (n > cap)
        return ipc_queue_fail(q, -EMSGSIZE,
                              "shm-ring: a %zu-byte message does not fit in %zu bytes (dropped)", n,
                              cap);
    *len = n;
    return 0;
}

static void ring_close(struct ipc_queue *q)
{
    struct ring_proc *p = q->priv;
    if (!p)
        return;
    ipc_shared_free(p->r, p->r->bytes);
    free(p);
}

const struct ipc_queue_ops ipc_queue_shm_ring_ops = {
    .name = "shm-ring",
    .description = "lock-free multi-producer multi-consumer ring of slots in shared memory, "
                   "futex wake-ups when empty or full",
    .props = 0, /* a message received by a consumer that dies is gone */
    .probe = ring_probe,
    .open = ring_open,
    .attach = ring_attach, /* the mapping is inherited; the pid is this process's */
    .send = ring_send,
    .recv = ring_recv,
    .ack = NULL,
    .recover = NULL,
    .detach = NULL,
    .close = ring_close,
};
