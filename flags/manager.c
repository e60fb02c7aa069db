/* SPDX-License-Identifier: MIT */
/* `manager`: the chapter's Manager().Value. A server process owns the flag; every check and
 * raise is a request/response round trip over the worker's own Unix stream connection. */
#include "flag.h"
#include "shared_word.h"

#include "../ipc/server.h"
#include "../ipc/tmpdir.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* The protocol: one byte each way. */
#define REQ_CHECK 'C'
#define REQ_RAISE 'R'
#define REQ_RESET 'Z'
#define REP_CLEAR '0'
#define REP_RAISED '1'
#define REP_OK 'K'

/* A live server answers in microseconds; this bounds the wait on a stuck one. */
#define REPLY_TIMEOUT_S 5

struct manager_state {
    char dir[IPC_CLEANUP_PATH_MAX];
    char sock[IPC_CLEANUP_PATH_MAX];
    int listen_fd; /* the opener's copy, closed once the server runs */
    int conn;      /* this process's connection: the opener's, or its own once attached */
    int opener_conn;
    struct ipc_server server;
};

/* ---- the server -------------------------------------------------------------------------- */

static int serve(void *arg)
{
    int lfd = *(int *)arg;
    signal(SIGPIPE, SIG_IGN); /* a worker that died mid-request must not take the server */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        return 3;
    unsigned char value = 0;
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno != EINTR)
            return 4;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                if (c >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0)
                    close(c);
                continue;
            }
            unsigned char req, rep;
            if (recv(fd, &req, 1, 0) != 1) { /* EOF or error: the client is gone */
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                continue;
            }
            switch (req) {
            case REQ_CHECK:
                rep = value ? REP_RAISED : REP_CLEAR;
                break;
            case REQ_RAISE:
                value = 1;
                rep = REP_OK;
                break;
            case REQ_RESET:
                value = 0;
                rep = REP_OK;
                break;
            default:
                rep = '?';
            }
            send(fd, &rep, 1, MSG_NOSIGNAL);
        }
    }
}

/* ---- the client -------------------------------------------------------------------------- */

static int connect_to(struct flag *f, const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return flag_fail(f, -errno, "manager: socket: %s", strerror(errno));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int err = errno;
        close(fd);
        return flag_fail(f, -err, "manager: connect %s: %s", path, strerror(err));
    }
    return fd;
}

/* One round trip. Returns the reply byte or -errno with the reason on the flag. */
static int request(struct flag *f, unsigned char req)
{
    struct manager_state *s = f->priv;
    unsigned char rep;
    if (send(s->conn, &req, 1, MSG_NOSIGNAL) != 1)
        return flag_fail(f, -errno, "manager: send to the server: %s", strerror(errno));
    ssize_t n = recv(s->conn, &rep, 1, 0);
    if (n == 1)
        return rep;
    if (n == 0)
        return flag_fail(f, -ECONNRESET, "manager: the server closed the connection (died?)");
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return flag_fail(f, -ETIMEDOUT, "manager: no reply from the server in %d s",
                         REPLY_TIMEOUT_S);
    return flag_fail(f, -errno, "manager: reply from the server: %s", strerror(errno));
}

static int manager_open(struct flag *f, const struct flag_config *cfg)
{
    struct manager_state *s = calloc(1, sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "manager: out of memory");
    s->listen_fd = s->conn = s->opener_conn = -1;
    f->priv = s;
    int rc = ipc_tmpdir_create(cfg->tmpdir, s->dir, sizeof s->dir);
    if (rc < 0) {
        s->dir[0] = '\0';
        flag_fail(f, rc, "manager: cannot create a private directory: %s", strerror(-rc));
        goto fail;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(s->sock, sizeof s->sock, "%s/manager.sock", s->dir);
    if (n < 0 || (size_t)n >= sizeof addr.sun_path) {
        rc = flag_fail(f, -ENAMETOOLONG, "manager: socket path too long: %s", s->sock);
        s->sock[0] = '\0';
        goto fail;
    }
    memcpy(addr.sun_path, s->sock, (size_t)n + 1);
    /* Bind and listen here, before the server exists: connections made before it reaches
     * accept() wait in the backlog, so open never races the server's start-up. */
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0) {
        rc = flag_fail(f, -errno, "manager: socket: %s", strerror(errno));
        goto fail;
    }
    if ((rc = ipc_cleanup_add_path(s->sock)) < 0) {
        flag_fail(f, rc, "manager: %s", strerror(-rc));
        s->sock[0] = '\0';
        goto fail;
    }
    if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(s->listen_fd, SOMAXCONN) < 0) {
        rc = flag_fail(f, -errno, "manager: listen on %s: %s", s->sock, strerror(errno));
        goto fail;
    }
    int cpu = cfg->pin_server ? (int)cfg->server_cpu : -1;
    rc = ipc_server_start(&s->server, cpu, serve, &s->listen_fd);
    if (rc < 0) {
        flag_fail(f, rc, "manager: cannot start the server: %s", strerror(-rc));
        goto fail;
    }
    close(s->listen_fd);
    s->listen_fd = -1;
    f->server_pid = s->server.pid;
    f->server_cpu = cpu;
    rc = connect_to(f, s->sock);
    if (rc < 0)
        goto fail;
    s->conn = s->opener_conn = rc;
    return 0;
fail:
    f->priv = s;
    f->ops->close(f);
    return rc;
}

static int manager_attach(struct flag *f)
{
    struct manager_state *s = f->priv;
    /* Never the opener's connection: two processes on one stream would read each other's
     * replies. */
    int fd = connect_to(f, s->sock);
    if (fd < 0)
        return fd;
    s->conn = fd;
    return 0;
}

static int expect_ok(struct flag *f, int rep)
{
    if (rep < 0)
        return rep;
    return rep == REP_OK ? 0 : flag_fail(f, -EPROTO, "manager: unexpected reply 0x%02x", rep);
}

static int manager_raise(struct flag *f)
{
    return expect_ok(f, request(f, REQ_RAISE));
}

static int manager_reset(struct flag *f)
{
    return expect_ok(f, request(f, REQ_RESET));
}

static int manager_is_raised(struct flag *f)
{
    int rep = request(f, REQ_CHECK);
    if (rep < 0)
        return rep;
    if (rep == REP_RAISED || rep == REP_CLEAR)
        return rep == REP_RAISED;
    return flag_fail(f, -EPROTO, "manager: unexpected reply 0x%02x", rep);
}

static int manager_detach(struct flag *f)
{
    struct manager_state *s = f->priv;
    if (s->conn != s->opener_conn)
        close(s->conn);
    s->conn = s->opener_conn;
    return 0;
}

static void manager_close(struct flag *f)
{
    struct manager_state *s = f->priv;
    if (s->opener_conn >= 0)
        close(s->opener_conn);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    ipc_server_stop(&s->server, 1000);
    if (s->sock[0])
        ipc_tmp_remove(s->sock);
    if (s->dir[0])
        ipc_tmp_remove(s->dir);
    free(s);
}

const struct flag_ops flag_manager_ops = {
    .name = "manager",
    .description = "a server process owns the flag; check and raise are round trips on a Unix "
                   "socket (the chapter's Manager)",
    .fast = FLAG_FAST_DISPATCH,
    .props = FLAG_PROP_SHARED | FLAG_PROP_SERVER,
    .probe = flag_probe_always,
    .open = manager_open,
    .attach = manager_attach,
    .raise = manager_raise,
    .is_raised = manager_is_raised,
    .reset = manager_reset,
    .detach = manager_detach,
    .close = manager_close,
};
