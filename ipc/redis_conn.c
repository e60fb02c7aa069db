/* SPDX-License-Identifier: MIT */
#include "redis_conn.h"

#ifdef IPCLAB_HAVE_HIREDIS

#include "fork_gen.h"
#include "redis_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

void ipc_redis_conn_init(void)
{
    ipc_fork_gen_watch();
    /* A handler somebody installed is left alone. */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
        old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

int ipc_redis_classify(const redisContext *c, int saved_errno, const struct ipc_redis_timeout *t,
                       char *why, size_t len)
{
    int err = -EIO;
    switch (c->err) {
    case REDIS_ERR_IO:
        if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) {
            snprintf(why, len, "%s", t->text);
            return t->err;
        }
        err = saved_errno > 0 ? -saved_errno : -EIO;
        break;
    case REDIS_ERR_EOF:
        err = -ECONNRESET;
        break;
    case REDIS_ERR_PROTOCOL:
        err = -EPROTO;
        break;
    case REDIS_ERR_OOM:
        err = -ENOMEM;
        break;
    }
    snprintf(why, len, "%s", c->errstr[0] ? c->errstr : "unknown error");
    return err;
}

int ipc_redis_connect(const char *socket, const char *host, int port, struct timeval connect_tv,
                      struct timeval reply_tv, const char *password,
                      const struct ipc_redis_timeout *t, redisContext **out, char *why,
                      size_t len)
{
    *out = NULL;
    errno = 0;
    redisContext *c = socket ? redisConnectUnixWithTimeout(socket, connect_tv)
                             : redisConnectWithTimeout(host, port, connect_tv);
    int saved = errno;
    if (!c) {
        snprintf(why, len, "out of memory");
        return -ENOMEM;
    }
    int rc = 0;
    if (c->err) {
        rc = ipc_redis_classify(c, saved, t, why, len);
    } else if (redisSetTimeout(c, reply_tv) != REDIS_OK) {
        rc = ipc_redis_classify(c, errno, t, why, len);
    } else if (fcntl(c->fd, F_SETFD, FD_CLOEXEC) < 0) {
        rc = -errno;
        snprintf(why, len, "FD_CLOEXEC: %s", strerror(errno));
    } else {
        rc = ipc_redis_auth(c, password, why, len);
    }
    if (rc < 0) {
        redisFree(c);
        return rc;
    }
    *out = c;
    return 0;
}

#endif
