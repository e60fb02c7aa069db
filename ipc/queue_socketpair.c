/* SPDX-License-Identifier: MIT */
/* `socketpair`: the queue as a Unix stream socket pair inherited over fork, with the framing
 * engine of queue_pipe.c (length headers, whole-frame writes and reads under process-shared
 * locks: a stream socket gives no PIPE_BUF atomicity, so writers always lock). */
#include "queue.h"

#include <stdbool.h>

/* From queue_pipe.c. */
int ipc_qstream_open(struct ipc_queue *q, const struct ipc_queue_config *cfg, bool socket);
int ipc_qstream_send(struct ipc_queue *q, const void *msg, size_t len);
int ipc_qstream_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms);
void ipc_qstream_close(struct ipc_queue *q);

static int socketpair_probe(char *why, size_t len)
{
    (void)why, (void)len;
    return 0;
}

static int socketpair_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    return ipc_qstream_open(q, cfg, true);
}

const struct ipc_queue_ops ipc_queue_socketpair_ops = {
    .name = "socketpair",
    .description = "Unix stream socket pair inherited over fork, length-prefixed frames, "
                   "every write and read of a frame under process-shared locks",
    .props = 0, /* a message read by a consumer that dies is gone */
    .probe = socketpair_probe,
    .open = socketpair_open,
    .attach = NULL, /* both ends are inherited */
    .send = ipc_qstream_send,
    .recv = ipc_qstream_recv,
    .ack = NULL,
    .recover = NULL,
    .detach = NULL,
    .close = ipc_qstream_close,
};
