/* SPDX-License-Identifier: MIT */
/* `redis-unix` and `redis-tcp`: the flag is a key in a redis-server, one round trip per check;
 * one implementation, two ways to connect (a Unix socket, TCP on 127.0.0.1). */
#include "flag.h"

#include <stdio.h>

#ifdef IPCLAB_HAVE_HIREDIS

#include "../ipc/fork_gen.h"
#include "../ipc/redis_conn.h"
#include "../ipc/redis_server.h"

#include <hiredis/hiredis.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/un.h>
#include <unistd.h>

/* A dead or stuck server must turn into an error within this, never a hang. */
#define TIMEOUT_S 5
#define DEFAULT_PORT 6379
#define KEY_MAX 64
#define HOST_MAX 256

enum via { VIA_UNIX, VIA_TCP };

/* A command formatted once at open, so a check sends bytes and parses a reply, nothing more. */
struct cmd {
    const char *name;
    char *buf;
    int len;
};

/* One process's connection. hiredis keeps a failed context's errstr and refuses every later
 * command without touching errno, so the first failure is kept here and reported again. */
struct conn {
    redisContext *ctx;
    unsigned gen; /* fork generation it was made in (see ipc_fork_gen) */
    int err;      /* -errno of its first failure, or 0 */
    char why[128];
};

struct redis_state {
    enum via via;
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char host[HOST_MAX];
    char password[128]; /* AUTH on every connection; "" for a server without one */
    int port;
    char key[KEY_MAX];
    struct cmd get, set, del;
    bool own_server;
    struct ipc_redis_server server;
    unsigned opener_gen;  /* fork generation of the opener */
    struct conn parent;   /* the opener's, for reset and close */
    struct conn attached; /* this process's, while attached */
};

static const char *name_of(const struct flag *f)
{
    return f->ops->name;
}

/* A socket timeout is a timeout here: the flag's server did not answer. */
#define STR_(x) #x
#define STR(x) STR_(x)
static const struct ipc_redis_timeout timeout = {-ETIMEDOUT,
                                                 "no reply within " STR(TIMEOUT_S) " s"};

/* A new connection from this process, with command timeouts and close-on-exec. */
static int connect_new(struct flag *f, struct redis_state *s, struct conn *out)
{
    struct timeval tv = {.tv_sec = TIMEOUT_S};
    char what[HOST_MAX + 32];
    if (s->via == VIA_UNIX)
        snprintf(what, sizeof what, "connect to %s", s->socket);
    else
        snprintf(what, sizeof what, "connect to %s:%d", s->host, s->port);
    redisContext *c;
    char why[200];
    int rc = ipc_redis_connect(s->via == VIA_UNIX ? s->socket : NULL, s->host, s->port, tv, tv,
                               s->password, &timeout, &c, why, sizeof why);
    if (rc < 0)
        return flag_fail(f, rc, "%s: %s: %s", name_of(f), what, why);
    *out = (struct conn){.ctx = c, .gen = ipc_fork_gen()};
    return 0;
}

static void disconnect(struct conn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    *c = (struct conn){0};
}

/* Made by this process (not copied over fork from an ancestor) and still open. */
static bool mine(const struct conn *c)
{
    return c->ctx && c->gen == ipc_fork_gen();
}

/* Send a pre-formatted command and read its reply. 0 with *reply set, or -errno. */
static int run(struct flag *f, struct conn *c, const struct cmd *cmd, redisReply **reply)
{
    if (c->err)
        return flag_fail(f, c->err, "%s: %s: %s (the connection failed earlier)", name_of(f),
                         cmd->name, c->why);
    void *r = NULL;
    errno = 0;
    if (redisAppendFormattedCommand(c->ctx, cmd->buf, (size_t)cmd->len) != REDIS_OK ||
        redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
        int saved = errno;
        if (r)
            freeReplyObject(r);
        c->err = ipc_redis_classify(c->ctx, saved, &timeout, c->why, sizeof c->why);
        return flag_fail(f, c->err, "%s: %s: %s", name_of(f), cmd->name, c->why);
    }
    redisReply *rep = r;
    if (rep->type == REDIS_REPLY_ERROR) {
        int rc = flag_fail(f, -EIO, "%s: %s: %s", name_of(f), cmd->name,
                           rep->str ? rep->str : "error reply");
        freeReplyObject(rep);
        return rc;
    }
    *reply = rep;
    return 0;
}

static int unexpected(struct flag *f, const struct cmd *cmd, redisReply *rep)
{
    int type = rep->type;
    freeReplyObject(rep);
    return flag_fail(f, -EPROTO, "%s: %s: unexpected reply type %d", name_of(f), cmd->name, type);
}

static int do_set(struct flag *f, struct conn *c)
{
    struct redis_state *s = f->priv;
    redisReply *rep;
    int rc = run(f, c, &s->set, &rep);
    if (rc < 0)
        return rc;
    if (rep->type != REDIS_REPLY_STATUS)
        return unexpected(f, &s->set, rep);
    freeReplyObject(rep);
    return 0;
}

static int do_get(struct flag *f, struct conn *c)
{
    struct redis_state *s = f->priv;
    redisReply *rep;
    int rc = run(f, c, &s->get, &rep);
    if (rc < 0)
        return rc;
    if (rep->type == REDIS_REPLY_NIL)
        rc = 0;
    else if (rep->type == REDIS_REPLY_STRING && rep->len == 1 && rep->str[0] == '1')
        rc = 1;
    else if (rep->type == REDIS_REPLY_STRING)
        rc = flag_fail(f, -EPROTO, "%s: %s: unexpected value \"%.32s\"", name_of(f), s->get.name,
                       rep->str);
    else
        return unexpected(f, &s->get, rep);
    freeReplyObject(rep);
    return rc;
}

static int do_del(struct flag *f, struct conn *c)
{
    struct redis_state *s = f->priv;
    redisReply *rep;
    int rc = run(f, c, &s->del, &rep);
    if (rc < 0)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return unexpected(f, &s->del, rep);
    freeReplyObject(rep);
    return 0;
}

static int format_cmd(struct flag *f, struct cmd *cmd, const char *name, const char *fmt,
                      const char *key)
{
    cmd->name = name;
    cmd->len = redisFormatCommand(&cmd->buf, fmt, key);
    if (cmd->len < 0) {
        cmd->buf = NULL;
        return flag_fail(f, -ENOMEM, "%s: cannot format %s: out of memory", name_of(f), name);
    }
    return 0;
}

/* A key nobody else uses: this pid plus 64 random bits, so flags opened by several processes
 * on one shared server never collide, and a stale key from an earlier run is never read. */
static int make_key(struct flag *f, struct redis_state *s)
{
    unsigned char rnd[8];
    ssize_t n;
    while ((n = getrandom(rnd, sizeof rnd, 0)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof rnd)
        return flag_fail(f, n < 0 ? -errno : -EIO, "%s: getrandom: %s", name_of(f),
                         n < 0 ? strerror(errno) : "short read");
    int len = snprintf(s->key, sizeof s->key, "ipclab:flag:%d:", (int)getpid());
    for (size_t i = 0; i < sizeof rnd; i++)
        len += snprintf(s->key + len, sizeof s->key - (size_t)len, "%02x", rnd[i]);
    int rc = format_cmd(f, &s->get, "GET", "GET %s", s->key);
    if (rc == 0)
        rc = format_cmd(f, &s->set, "SET", "SET %s 1", s->key);
    if (rc == 0)
        rc = format_cmd(f, &s->del, "DEL", "DEL %s", s->key);
    return rc;
}

/* Where to connect: the server the caller named, or a private one started now. */
static int choose_server(struct flag *f, struct redis_state *s, const struct flag_config *cfg)
{
    const char *pw = ipc_redis_password_or_env(cfg->redis_password);
    if (pw && strlen(pw) >= sizeof s->password)
        return flag_fail(f, -ENAMETOOLONG, "%s: the Redis password is too long (%zu bytes)",
                         name_of(f), strlen(pw));
    snprintf(s->password, sizeof s->password, "%s", pw ? pw : "");
    if (s->via == VIA_UNIX && cfg->redis_socket) {
        if (strlen(cfg->redis_socket) >= sizeof s->socket)
            return flag_fail(f, -ENAMETOOLONG, "%s: socket path %s is too long", name_of(f),
                             cfg->redis_socket);
        strcpy(s->socket, cfg->redis_socket);
        return 0;
    }
    if (s->via == VIA_TCP && (cfg->redis_host || cfg->redis_port)) {
        const char *host = cfg->redis_host ? cfg->redis_host : "127.0.0.1";
        if (strlen(host) >= sizeof s->host)
            return flag_fail(f, -ENAMETOOLONG, "%s: host name %.40s... is too long", name_of(f),
                             host);
        if (cfg->redis_port > 65535)
            return flag_fail(f, -EINVAL, "%s: port %u is out of range", name_of(f),
                             cfg->redis_port);
        strcpy(s->host, host);
        s->port = cfg->redis_port ? (int)cfg->redis_port : DEFAULT_PORT;
        return 0;
    }
    int cpu = cfg->pin_server ? (int)cfg->server_cpu : -1;
    int rc = ipc_redis_server_start(&s->server, cfg->tmpdir, cpu);
    if (rc < 0)
        return flag_fail(f, rc, "%s: %s", name_of(f), s->server.errstr);
    s->own_server = true;
    snprintf(s->password, sizeof s->password, "%s", s->server.password);
    strcpy(s->socket, s->server.socket);
    strcpy(s->host, "127.0.0.1");
    s->port = s->server.port;
    f->server_pid = (int)s->server.proc.pid;
    f->server_cpu = cpu;
    return 0;
}

/* Undo open, in the opener, whatever got done. */
static void teardown(struct flag *f, struct redis_state *s)
{
    disconnect(&s->parent);
    if (s->own_server)
        ipc_redis_server_stop(&s->server);
    redisFreeCommand(s->get.buf);
    redisFreeCommand(s->set.buf);
    redisFreeCommand(s->del.buf);
    free(s);
    f->priv = NULL;
    f->server_pid = 0;
    f->server_cpu = -1;
}

static int redis_open(struct flag *f, const struct flag_config *cfg, enum via via)
{
    ipc_redis_conn_init();
    struct redis_state *s = calloc(1, sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "%s: out of memory", name_of(f));
    s->via = via;
    s->opener_gen = ipc_fork_gen();
    f->priv = s;
    int rc = make_key(f, s);
    if (rc == 0)
        rc = choose_server(f, s, cfg);
    if (rc == 0)
        rc = connect_new(f, s, &s->parent);
    /* Start clear even on a shared server, and prove the server answers before any fork. */
    if (rc == 0)
        rc = do_del(f, &s->parent);
    if (rc < 0)
        teardown(f, s);
    return rc;
}

static int redis_unix_open(struct flag *f, const struct flag_config *cfg)
{
    return redis_open(f, cfg, VIA_UNIX);
}

static int redis_tcp_open(struct flag *f, const struct flag_config *cfg)
{
    return redis_open(f, cfg, VIA_TCP);
}

static int redis_attach(struct flag *f)
{
    struct redis_state *s = f->priv;
    ipc_redis_conn_init();
    /* Normally empty here; anything else was copied over fork from an ancestor that was
     * attached, and is that process's to free, so it is only forgotten. */
    s->attached = (struct conn){0};
    return connect_new(f, s, &s->attached);
}

static int not_mine(struct flag *f, const char *what)
{
    return flag_fail(f, -EBADF,
                     "%s: %s: the connection was inherited over fork; attach in this process",
                     name_of(f), what);
}

static int redis_raise(struct flag *f)
{
    struct redis_state *s = f->priv;
    return mine(&s->attached) ? do_set(f, &s->attached) : not_mine(f, "SET");
}

static int redis_is_raised(struct flag *f)
{
    struct redis_state *s = f->priv;
    return mine(&s->attached) ? do_get(f, &s->attached) : not_mine(f, "GET");
}

/* Reset may run attached or merely open, in the opener or (rarely) in a child: use a
 * connection this process made, or a short-lived one. */
static int redis_reset(struct flag *f)
{
    struct redis_state *s = f->priv;
    if (mine(&s->attached))
        return do_del(f, &s->attached);
    if (mine(&s->parent))
        return do_del(f, &s->parent);
    struct conn c = {0};
    int rc = connect_new(f, s, &c);
    if (rc == 0) {
        rc = do_del(f, &c);
        disconnect(&c);
    }
    return rc;
}

static int redis_detach(struct flag *f)
{
    struct redis_state *s = f->priv;
    if (mine(&s->attached))
        disconnect(&s->attached);
    s->attached = (struct conn){0};
    return 0;
}

static void redis_close(struct flag *f)
{
    struct redis_state *s = f->priv;
    if (s->opener_gen != ipc_fork_gen()) {
        /* Not the opener: the connection and the server belong to the process that opened
         * the flag. Drop this copy of the bookkeeping only. */
        free(s);
        return;
    }
    /* Best effort: on a shared server the key should not outlive the flag, but a server
     * that died must not stop the rest of the cleanup. */
    if (mine(&s->parent))
        do_del(f, &s->parent);
    teardown(f, s);
}

static int redis_probe(char *why, size_t len)
{
    return ipc_redis_server_find(NULL, 0, why, len);
}

#else /* !IPCLAB_HAVE_HIREDIS */

static int redis_probe(char *why, size_t len)
{
    snprintf(why, len, "built without hiredis (libhiredis-dev)");
    return -ENOTSUP;
}

static int redis_unavailable(struct flag *f, const struct flag_config *cfg)
{
    (void)cfg;
    return flag_fail(f, -ENOTSUP, "%s: built without hiredis (libhiredis-dev)", f->ops->name);
}

static void redis_close(struct flag *f)
{
    (void)f;
}

/* open always fails, so nothing else is ever called. */
#define redis_unix_open redis_unavailable
#define redis_tcp_open redis_unavailable
#define redis_attach NULL
#define redis_raise NULL
#define redis_is_raised NULL
#define redis_reset NULL
#define redis_detach NULL

#endif

const struct flag_ops flag_redis_unix_ops = {
    .name = "redis-unix",
    .description = "key in a redis-server over a Unix socket, GET to check, SET to raise",
    .fast = FLAG_FAST_DISPATCH,
    .props = FLAG_PROP_SHARED | FLAG_PROP_SERVER,
    .probe = redis_probe,
    .open = redis_unix_open,
    .attach = redis_attach,
    .raise = redis_raise,
    .is_raised = redis_is_raised,
    .reset = redis_reset,
    .detach = redis_detach,
    .close = redis_close,
};

const struct flag_ops flag_redis_tcp_ops = {
    .name = "redis-tcp",
    .description = "key in a redis-server over TCP, GET to check, SET to raise",
    .fast = FLAG_FAST_DISPATCH,
    .props = FLAG_PROP_SHARED | FLAG_PROP_SERVER,
    .probe = redis_probe,
    .open = redis_tcp_open,
    .attach = redis_attach,
    .raise = redis_raise,
    .is_raised = redis_is_raised,
    .reset = redis_reset,
    .detach = redis_detach,
    .close = redis_close,
};
