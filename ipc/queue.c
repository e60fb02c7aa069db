/* SPDX-License-Identifier: MIT */
/* The queue wrappers (state checks, errors) and the registry of transports. */
#include "queue.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const struct ipc_queue_ops ipc_queue_mq_ops;
extern const struct ipc_queue_ops ipc_queue_pipe_ops;
extern const struct ipc_queue_ops ipc_queue_redis_ops;
extern const struct ipc_queue_ops ipc_queue_shm_ring_ops;
extern const struct ipc_queue_ops ipc_queue_socketpair_ops;
extern const struct ipc_queue_ops ipc_queue_uring_ops;

/* Sorted by name. */
const struct ipc_queue_ops *const ipc_queue_transports[] = {
    &ipc_queue_mq_ops,         &ipc_queue_pipe_ops,  &ipc_queue_redis_ops,
    &ipc_queue_shm_ring_ops,   &ipc_queue_socketpair_ops, &ipc_queue_uring_ops,
};
const size_t ipc_queue_transport_count =
    sizeof ipc_queue_transports / sizeof ipc_queue_transports[0];

const struct ipc_queue_ops *ipc_queue_find(const char *name)
{
    for (size_t i = 0; i < ipc_queue_transport_count; i++)
        if (strcmp(ipc_queue_transports[i]->name, name) == 0)
            return ipc_queue_transports[i];
    return NULL;
}

int ipc_queue_fail(struct ipc_queue *q, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->errstr, sizeof q->errstr, fmt, ap);
    va_end(ap);
    q->err = err;
    return err;
}

static const char *name_of(const struct ipc_queue *q)
{
    return q->ops ? q->ops->name : "queue";
}

int ipc_queue_open(struct ipc_queue *q, const struct ipc_queue_ops *ops,
                   const struct ipc_queue_config *cfg)
{
    if (q->state != IPC_QUEUE_CLOSED)
        return ipc_queue_fail(q, -EBUSY, "%s: queue already open", ops->name);
    static const struct ipc_queue_config defaults = {0};
    *q = (struct ipc_queue)IPC_QUEUE_INIT;
    q->ops = ops;
    int rc = ops->open(q, cfg ? cfg : &defaults);
    if (rc < 0) {
        q->state = IPC_QUEUE_CLOSED;
        q->priv = NULL;
        return rc;
    }
    q->state = IPC_QUEUE_OPEN;
    return 0;
}

int ipc_queue_attach(struct ipc_queue *q)
{
    if (q->state != IPC_QUEUE_OPEN)
        return ipc_queue_fail(q, -EBADF, "%s: attach needs an open, unattached queue",
                              name_of(q));
    int rc = q->ops->attach ? q->ops->attach(q) : 0;
    if (rc == 0)
        q->state = IPC_QUEUE_ATTACHED;
    return rc;
}

int ipc_queue_send(struct ipc_queue *q, const void *msg, size_t len)
{
    if (q->state != IPC_QUEUE_ATTACHED)
        return ipc_queue_fail(q, -EBADF, "%s: send needs an attached queue", name_of(q));
    if (len == 0 || len > IPC_QUEUE_MAX_MSG)
        return ipc_queue_fail(q, -EMSGSIZE, "%s: a message is 1 to %d bytes, not %zu",
                              name_of(q), IPC_QUEUE_MAX_MSG, len);
    return q->ops->send(q, msg, len);
}

int ipc_queue_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    if (q->state != IPC_QUEUE_ATTACHED)
        return ipc_queue_fail(q, -EBADF, "%s: recv needs an attached queue", name_of(q));
    return q->ops->recv(q, buf, cap, len, timeout_ms);
}

int ipc_queue_ack(struct ipc_queue *q)
{
    if (q->state != IPC_QUEUE_ATTACHED)
        return ipc_queue_fail(q, -EBADF, "%s: ack needs an attached queue", name_of(q));
    return q->ops->ack ? q->ops->ack(q) : 0;
}

int ipc_queue_recover(struct ipc_queue *q, unsigned *requeued)
{
    *requeued = 0;
    if (q->state == IPC_QUEUE_CLOSED)
        return ipc_queue_fail(q, -EBADF, "%s: recover needs an open queue", name_of(q));
    if (!(q->ops->props & IPC_QUEUE_PROP_RELIABLE) || !q->ops->recover)
        return ipc_queue_fail(q, -ENOTSUP,
                              "%s: not a reliable queue: work taken by a dead worker is lost",
                              name_of(q));
    return q->ops->recover(q, requeued);
}

int ipc_queue_detach(struct ipc_queue *q)
{
    if (q->state != IPC_QUEUE_ATTACHED)
        return ipc_queue_fail(q, -EBADF, "%s: detach needs an attached queue", name_of(q));
    int rc = q->ops->detach ? q->ops->detach(q) : 0;
    q->state = IPC_QUEUE_OPEN;
    return rc;
}

void ipc_queue_close(struct ipc_queue *q)
{
    if (q->state == IPC_QUEUE_CLOSED)
        return;
    if (q->state == IPC_QUEUE_ATTACHED)
        ipc_queue_detach(q);
    q->ops->close(q);
    q->state = IPC_QUEUE_CLOSED;
    q->priv = NULL;
}
