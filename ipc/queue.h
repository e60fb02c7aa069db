/* SPDX-License-Identifier: MIT */
/* A work queue between processes: one interface, one ops table per transport. */
#ifndef IPCLAB_IPC_QUEUE_H
#define IPCLAB_IPC_QUEUE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A queue carries byte messages (1 .. IPC_QUEUE_MAX_MSG bytes) from any number of producer
 * processes to any number of consumer processes; each message is received exactly once
 * (while nobody dies). Message boundaries are kept, and messages from one producer arrive
 * in the order it sent them.
 *
 * Lifecycle, as for flags (flags/flag.h):
 *
 *   probe   may this transport run here?                       (any process)
 *   open    create the queue, empty                            (the parent, before fork)
 *   attach  join it from this process                          (each worker after fork, and
 *                                                               the parent if it sends or
 *                                                               receives)
 *   send / recv / ack                                          (attached processes)
 *   recover move work taken by dead consumers back to the queue (the parent; reliable only)
 *   detach  leave it                                           (each process that attached)
 *   close   destroy the queue and everything it created        (the parent, after workers)
 *
 * Every function returns 0 or a negative errno; a one-line reason is left in q->errstr.
 * Callers use the static inline wrappers below; the contracts are written on them.
 */

#define IPC_QUEUE_MAX_MSG (64 * 1024)
#define IPC_QUEUE_ERRSTR_LEN 200

struct ipc_queue;

/* Properties the protocol, the tests and the report rely on. */
#define IPC_QUEUE_PROP_RELIABLE 0x1u /* a message received but not acked by a consumer that
                                      * died is not lost: recover() puts it back */
#define IPC_QUEUE_PROP_SERVER 0x2u   /* messages live in a server process (placement matters) */

/* What a transport may need when it opens. Zero-initialise; zero fields take defaults. */
struct ipc_queue_config {
    const char *tmpdir;       /* parent of private temp dirs [$TMPDIR, else /tmp] */
    size_t max_msg;           /* largest message that will be sent [IPC_QUEUE_MAX_MSG] */
    unsigned capacity;        /* messages the queue holds before send blocks [transport's] */
    unsigned participants;    /* most processes attached at once, parent included [16] */
    bool pin_server;          /* pin a server process (redis-server) to server_cpu */
    unsigned server_cpu;
    const char *redis_socket; /* an existing Redis server instead of ipclab's own */
    const char *redis_password; /* AUTH on it (else $IPCLAB_REDIS_PASSWORD); ipclab's own
                                 * server has a random one */
};

struct ipc_queue_ops {
    const char *name;        /* lowercase-hyphenated, stable: CLI, bench names, plots */
    const char *description; /* one line */
    unsigned props;
    /* probe, open and close are mandatory; NULL elsewhere means "nothing to do" (ack,
     * recover on unreliable transports, attach/detach on inherited ones). */
    int (*probe)(char *why, size_t len);
    int (*open)(struct ipc_queue *q, const struct ipc_queue_config *cfg);
    int (*attach)(struct ipc_queue *q);
    int (*send)(struct ipc_queue *q, const void *msg, size_t len);
    int (*recv)(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms);
    int (*ack)(struct ipc_queue *q);
    int (*recover)(struct ipc_queue *q, unsigned *requeued);
    int (*detach)(struct ipc_queue *q);
    void (*close)(struct ipc_queue *q);
};

enum ipc_queue_state { IPC_QUEUE_CLOSED = 0, IPC_QUEUE_OPEN, IPC_QUEUE_ATTACHED };

struct ipc_queue {
    const struct ipc_queue_ops *ops;
    void *priv;                 /* transport state */
    enum ipc_queue_state state; /* this process's view: fork copies it, attach advances it */
    int err;
    char errstr[IPC_QUEUE_ERRSTR_LEN];
};

#define IPC_QUEUE_INIT {0}

/* Record an error on q and return err (negative). */
int ipc_queue_fail(struct ipc_queue *q, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every transport, sorted by name (queue_registry.c), usable here or not (probe says). */
extern const struct ipc_queue_ops *const ipc_queue_transports[];
extern const size_t ipc_queue_transport_count;
const struct ipc_queue_ops *ipc_queue_find(const char *name);

/* ---- the wrappers: the contracts ---------------------------------------------------------- */

/* 0 if the transport can run here; else -errno and a one-line reason in why[len]. */
static inline int ipc_queue_probe(const struct ipc_queue_ops *ops, char *why, size_t len)
{
    if (len)
        why[0] = '\0';
    return ops->probe(why, len);
}

/* Create an empty queue in the parent before forking; q zeroed (IPC_QUEUE_INIT) or closed.
 * On failure -errno with q->errstr set, nothing left behind, q closed. */
int ipc_queue_open(struct ipc_queue *q, const struct ipc_queue_ops *ops,
                   const struct ipc_queue_config *cfg);

/* Join from this process, after fork; per-process resources (a connection, a ring) are made
 * here and never shared across fork. -EBADF unless open and not yet attached here. */
int ipc_queue_attach(struct ipc_queue *q);

/* Send one message of 1..max_msg bytes; blocks while the queue is full. -EMSGSIZE if too
 * large, -EBADF if not attached, -EPIPE/-ECONNRESET if the queue is gone. */
int ipc_queue_send(struct ipc_queue *q, const void *msg, size_t len);

/*
 * Receive one message into buf[cap]; *len gets its size. Blocks up to timeout_ms (-1: for
 * ever, 0: do not wait): -ETIMEDOUT if nothing arrived, -EMSGSIZE if cap is too small (the
 * message is then lost on unreliable transports). On a reliable transport the message stays
 * owned by this process until ipc_queue_ack(); if it dies first, recover() requeues it.
 */
int ipc_queue_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms);

/* The last message received by this process is done (reliable transports drop their copy;
 * others have nothing to do). */
int ipc_queue_ack(struct ipc_queue *q);

/* In the parent, after consumers died: put every message they received but never acked back
 * at the head of the queue; *requeued gets how many. -ENOTSUP on unreliable transports (the
 * work is lost: the chapter's point about a non-persistent Queue). */
int ipc_queue_recover(struct ipc_queue *q, unsigned *requeued);

int ipc_queue_detach(struct ipc_queue *q);

/* Destroy the queue (the opener, after its workers): free memory, close descriptors, remove
 * files and POSIX objects, stop servers. Detaches first if attached. Safe on a closed queue. */
void ipc_queue_close(struct ipc_queue *q);

#endif
