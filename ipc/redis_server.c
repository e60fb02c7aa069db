/* SPDX-License-Identifier: MIT */
/* Start and stop a private redis-server per use, leaving no process, socket or file behind. */
#include "redis_server.h"

#include "clock.h"
#include "errbuf.h"
#include "program.h"
#include "tmpdir.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef IPCLAB_HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

/* A port that was free when we looked may be taken before redis binds it; try a new one. */
#define PORT_ATTEMPTS 5
/* After SIGTERM redis exits at its next cron tick (100 ms at the default hz); give it ten. */
#define STOP_GRACE_MS 1000
/* One readiness probe; short, because the loop around it retries until the deadline. */
#define PING_TIMEOUT_MS 500

/* The exit statuses ipc_server_start's child uses before fn runs, and ours if exec fails. */
#define EXIT_NO_PDEATHSIG 125
#define EXIT_NO_PIN 126
#define EXIT_NO_EXEC 127

#define REDIS_ARGC_MAX 32

/* Everything the forked child needs, prepared before fork so the child only dups and execs. */
struct launch {
    char path[PATH_MAX];
    char port[16];
    char *argv[REDIS_ARGC_MAX];
};

static int fail(struct ipc_redis_server *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ipc_redis_server *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errstr, sizeof r->errstr, fmt, ap);
    va_end(ap);
    return err;
}

int ipc_redis_server_find(char *path, size_t pathlen, char *why, size_t whylen)
{
    int rc = ipc_program_find("redis-server", path, pathlen);
    if (rc == -ENAMETOOLONG)
        ipc_set_err(why, whylen, "the path of redis-server is too long");
    else if (rc < 0)
        ipc_set_err(why, whylen, "redis-server not found on PATH (apt-get install redis-server)");
    return rc;
}

/* A TCP port on 127.0.0.1 the kernel considers free right now (bind to 0, read, close). */
static int pick_port(struct ipc_redis_server *r)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(r, -errno, "redis-server: socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int rc = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
        rc = fail(r, -errno, "redis-server: cannot find a free port on 127.0.0.1: %s",
                  strerror(errno));
    else
        r->port = ntohs(a.sin_port);
    close(fd);
    return rc;
}

/* Runs in the forked child: stdio to /dev/null, no inherited descriptors, exec. */
static int exec_redis(void *arg)
{
    struct launch *l = arg;
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
        return EXIT_NO_EXEC;
    /* A long-lived server must not hold the parent's pipes and sockets open: a worker
     * waiting for EOF on a pipe, or a peer waiting for a close, would wait for redis. */
    if (close_range(3, ~0u, 0) < 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
            close(fd);
    }
    execv(l->path, l->argv);
    return EXIT_NO_EXEC;
}

static void build_argv(struct launch *l, const struct ipc_redis_server *r)
{
    snprintf(l->port, sizeof l->port, "%d", r->port);
    /* clang-format off */
    char *const args[] = {
        "redis-server",
        (char *)r->conf, /* a config file must come first; it holds requirepass */
        "--port", l->port,
        "--bind", "127.0.0.1",
        "--protected-mode", "yes",
        "--unixsocket", (char *)r->socket,
        "--unixsocketperm", "700",
        "--dir", (char *)r->dir,
        "--logfile", (char *)r->log,
        "--dbfilename", "dump.rdb",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        NULL,
    };
    /* clang-format on */
    _Static_assert(sizeof args / sizeof args[0] <= REDIS_ARGC_MAX, "argv too small");
    memcpy(l->argv, args, sizeof args);
}

/* The last non-empty line of the log without redis's "pid:role date time level" prefix. */
static void log_last_line(const struct ipc_redis_server *r, char *out, size_t len, bool *in_use)
{
    out[0] = '\0';
    *in_use = false;
    int fd = open(r->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[8192];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = size > 0 ? pread(fd, buf, sizeof buf - 1, from) : 0;
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    *in_use = strstr(buf, "Address already in use") != NULL;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    const char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    /* "pid:role day month year time level message": skip five fields and the level. */
    const char *msg = line;
    for (int spaces = 0; *msg && spaces < 5; msg++)
        spaces += *msg == ' ';
    if (msg[0] && strchr(".-*#", msg[0]) && msg[1] == ' ')
        line = msg + 2;
    size_t linelen = strlen(line);
    if (linelen >= len)
        linelen = len - 1; /* a long line is cut, not dropped */
    memcpy(out, line, linelen);
    out[linelen] = '\0';
}

static int count_lines(const char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

/*
 * Send commands over the Unix socket and read up to len - 1 bytes of what comes back,
 * until `lines` newlines, EOF or PING_TIMEOUT_MS. Returns the byte count, or -1 if the command could
 * not be sent. Raw, so this file needs no client library; MSG_NOSIGNAL, so a server that dies
 * meanwhile cannot raise SIGPIPE.
 */
static ssize_t ask_raw(const char *path, const char *cmd, char *reply, size_t len, int lines)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path)
        return -1;
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 0, .tv_usec = PING_TIMEOUT_MS * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    size_t cmdlen = strlen(cmd), got = 0;
    ssize_t rc = -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        send(fd, cmd, cmdlen, MSG_NOSIGNAL) == (ssize_t)cmdlen) {
        while (got + 1 < len && count_lines(reply, got) < lines) {
            ssize_t n = recv(fd, reply + got, len - 1 - got, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        reply[got] = '\0';
        rc = (ssize_t)got;
    }
    close(fd);
    return rc;
}

/* One command after AUTH with the server's password (both in one write); what follows AUTH's
 * "+OK" line in reply, or -1. */
static ssize_t ask(const struct ipc_redis_server *r, const char *cmd, char *reply, size_t len)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n%s",
                     strlen(r->password), r->password, cmd);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    char both[512];
    ssize_t got = ask_raw(r->socket, buf, both, sizeof both, 2);
    if (got < 5 || strncmp(both, "+OK\r\n", 5) != 0)
        return got < 0 ? -1 : 0;
    size_t rest = (size_t)got - 5 < len - 1 ? (size_t)got - 5 : len - 1;
    memcpy(reply, both + 5, rest);
    reply[rest] = '\0';
    return (ssize_t)rest;
}

static bool answers_ping(const struct ipc_redis_server *r)
{
    char reply[16];
    return ask(r, "*1\r\n$4\r\nPING\r\n", reply, sizeof reply) > 0 &&
           strcmp(reply, "+PONG\r\n") == 0;
}

/* Why the server exited before answering; -errno, and whether its log can say more. */
static int describe_exit(const struct ipc_redis_server *r, char *out, size_t len, bool *log_helps)
{
    int status = r->proc.status;
    *log_helps = false;
    if (WIFSIGNALED(status)) {
        snprintf(out, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
        return -ECHILD;
    }
    switch (WEXITSTATUS(status)) {
    case EXIT_NO_EXEC:
        snprintf(out, len, "could not be executed");
        return -ENOEXEC;
    case EXIT_NO_PIN:
        snprintf(out, len, "could not be pinned to CPU %d", r->proc.cpu);
        return -EINVAL;
    case EXIT_NO_PDEATHSIG:
        snprintf(out, len, "could not be tied to its parent's life (PR_SET_PDEATHSIG)");
        return -ECHILD;
    default:
        snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
        *log_helps = true;
        return -ECHILD;
    }
}

/*
 * Wait until the server answers PING, bounded. 0 when ready; -EADDRINUSE when it exited
 * because the port was taken meanwhile (the caller retries); other -errno with errstr set.
 * The server is stopped on every failure.
 */
static int wait_ready(struct ipc_redis_server *r)
{
    uint64_t deadline = ipc_now_ns() + (uint64_t)IPC_REDIS_START_TIMEOUT_MS * 1000000u;
    int nap_ms = 1;
    for (;;) {
        if (access(r->socket, F_OK) == 0 && answers_ping(r))
            return 0;
        /* Sleep on the pidfd: wake at once if the server exits. */
        struct pollfd p = {.fd = r->proc.pidfd, .events = POLLIN};
        int pr = poll(&p, 1, nap_ms);
        if (pr > 0 || !ipc_server_alive(&r->proc)) {
            ipc_server_stop(&r->proc, 0);
            char line[IPC_REDIS_ERRSTR_LEN], how[80];
            bool in_use, log_helps;
            int err = describe_exit(r, how, sizeof how, &log_helps);
            if (!log_helps)
                return fail(r, err, "redis-server %s", how);
            log_last_line(r, line, sizeof line, &in_use);
            if (in_use)
                return fail(r, -EADDRINUSE, "redis-server: 127.0.0.1:%d: %s", r->port, line);
            if (line[0])
                return fail(r, err, "redis-server %s: %s", how, line);
            return fail(r, err, "redis-server %s before answering PING (empty log)", how);
        }
        if (ipc_now_ns() > deadline) {
            ipc_server_stop(&r->proc, STOP_GRACE_MS);
            return fail(r, -ETIMEDOUT, "redis-server did not answer PING on %s within %d ms",
                        r->socket, IPC_REDIS_START_TIMEOUT_MS);
        }
        if (nap_ms < 20)
            nap_ms *= 2;
    }
}

/* Remove whatever is in the private directory (a file redis made that we did not expect),
 * then the directory itself. The directory is ours alone (0700, mkdtemp). */
static void remove_dir(struct ipc_redis_server *r)
{
    if (!r->dir[0])
        return;
    DIR *d = opendir(r->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    ipc_tmp_remove(r->dir);
    r->dir[0] = '\0';
}

static void forget_paths(struct ipc_redis_server *r)
{
    char *const paths[] = {r->rdb, r->socket, r->log, r->conf};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (paths[i][0])
            ipc_tmp_remove(paths[i]);
        paths[i][0] = '\0';
    }
    remove_dir(r);
}

/* A random password in a 0600 config file in the 0700 directory: a server on loopback and a
 * private socket is reachable by every local user over TCP, and protected mode does not stop
 * a local client. */
static int write_conf(struct ipc_redis_server *r)
{
    unsigned char raw[IPC_REDIS_PASSWORD_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return fail(r, -EIO, "redis-server: no random bytes for its password: %s",
                    strerror(errno));
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(r->password + 2 * i, 3, "%02x", raw[i]);
    int fd = ipc_tmpfile_create(r->dir, "redis.conf", r->conf, sizeof r->conf);
    if (fd < 0) {
        r->conf[0] = '\0';
        return fail(r, fd, "redis-server: cannot create %s/redis.conf: %s", r->dir,
                    strerror(-fd));
    }
    char line[64];
    int n = snprintf(line, sizeof line, "requirepass %s\n", r->password);
    bool ok = write(fd, line, (size_t)n) == n;
    int err = errno;
    close(fd);
    if (!ok)
        return fail(r, -err, "redis-server: cannot write %s: %s", r->conf, strerror(err));
    return 0;
}

/* The directory, the log (created here, so redis appends to our 0600 file) and the other
 * paths redis will create, all registered before redis exists. */
static int prepare_dir(struct ipc_redis_server *r, const char *tmpdir)
{
    int rc = ipc_tmpdir_create(tmpdir, r->dir, sizeof r->dir);
    if (rc < 0) {
        r->dir[0] = '\0';
        /* Name the directory actually tried: the one given, else $TMPDIR's value, else /tmp. */
        const char *env = getenv("TMPDIR");
        const char *where = tmpdir && *tmpdir ? tmpdir : env && *env ? env : "/tmp";
        return fail(r, rc, "redis-server: cannot create a private directory in '%s': %s",
                    where, strerror(-rc));
    }
    struct sockaddr_un a;
    int n = snprintf(r->socket, sizeof r->socket, "%s/redis.sock", r->dir);
    if (n < 0 || (size_t)n >= sizeof a.sun_path) {
        r->socket[0] = '\0';
        return fail(r, -ENAMETOOLONG, "redis-server: socket path %s/redis.sock is too long",
                    r->dir);
    }
    rc = ipc_cleanup_add_path(r->socket);
    if (rc < 0) {
        r->socket[0] = '\0';
        return fail(r, rc, "redis-server: cannot register %s/redis.sock: %s", r->dir,
                    strerror(-rc));
    }
    int fd = ipc_tmpfile_create(r->dir, "redis.log", r->log, sizeof r->log);
    if (fd < 0) {
        r->log[0] = '\0';
        return fail(r, fd, "redis-server: cannot create %s/redis.log: %s", r->dir, strerror(-fd));
    }
    close(fd);
    if ((rc = write_conf(r)) < 0)
        return rc;
    n = snprintf(r->rdb, sizeof r->rdb, "%s/dump.rdb", r->dir);
    rc = n > 0 && (size_t)n < sizeof r->rdb ? ipc_cleanup_add_path(r->rdb) : -ENAMETOOLONG;
    if (rc < 0) {
        r->rdb[0] = '\0';
        return fail(r, rc, "redis-server: cannot register %s/dump.rdb: %s", r->dir, strerror(-rc));
    }
    return 0;
}

int ipc_redis_server_start(struct ipc_redis_server *r, const char *tmpdir, int cpu)
{
    memset(r, 0, sizeof *r);
    r->proc.pidfd = -1;
    r->proc.cpu = -1;
    struct launch *l = calloc(1, sizeof *l);
    if (!l)
        return fail(r, -ENOMEM, "redis-server: out of memory");
    char why[IPC_REDIS_ERRSTR_LEN];
    int rc = ipc_redis_server_find(l->path, sizeof l->path, why, sizeof why);
    if (rc < 0)
        fail(r, rc, "%s", why);
    else
        rc = prepare_dir(r, tmpdir);
    for (int attempt = 0; rc == 0; attempt++) {
        if ((rc = pick_port(r)) < 0)
            break;
        build_argv(l, r);
        /* Each attempt reads a fresh log, so an old bind error is not mistaken for a new one. */
        if (truncate(r->log, 0) < 0) {
            rc = fail(r, -errno, "redis-server: cannot truncate %s: %s", r->log, strerror(errno));
            break;
        }
        rc = ipc_server_start(&r->proc, cpu, exec_redis, l);
        if (rc < 0) {
            fail(r, rc, "redis-server: cannot start it: %s", strerror(-rc));
            break;
        }
        rc = wait_ready(r);
        if (rc != -EADDRINUSE)
            break;
        if (attempt + 1 >= PORT_ATTEMPTS) {
            fail(r, rc,
                 "redis-server: %d free ports in a row were taken before it could bind "
                 "them (last 127.0.0.1:%d)",
                 PORT_ATTEMPTS, r->port);
            break;
        }
        rc = 0;
    }
    free(l);
    if (rc < 0) {
        ipc_server_stop(&r->proc, STOP_GRACE_MS);
        forget_paths(r);
        r->port = 0;
    }
    return rc;
}

void ipc_redis_server_stop(struct ipc_redis_server *r)
{
    /* Redis acts on SIGTERM only at its next cron tick (up to 100 ms at the default hz 10);
     * SHUTDOWN NOSAVE is immediate, and the reply we wait for is the socket closing. */
    if (r->proc.pid > 0 && ipc_server_alive(&r->proc)) {
        char reply[64];
        ask(r, "*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n", reply, sizeof reply);
    }
    ipc_server_stop(&r->proc, STOP_GRACE_MS);
    forget_paths(r);
    r->port = 0;
}

int ipc_redis_auth(void *redis_context, const char *password, char *err, size_t errlen)
{
    if (!password || !*password)
        return 0;
#ifndef IPCLAB_HAVE_HIREDIS
    (void)redis_context;
    snprintf(err, errlen, "AUTH: built without hiredis");
    return -ENOTSUP;
#else
    redisContext *c = redis_context;
    redisReply *reply = redisCommand(c, "AUTH %s", password);
    int rc = 0;
    if (!reply) {
        snprintf(err, errlen, "AUTH: %s", c->errstr[0] ? c->errstr : "no reply");
        rc = -EIO;
    } else if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "AUTH refused: %.*s", (int)reply->len, reply->str);
        rc = -EACCES;
    }
    if (reply)
        freeReplyObject(reply);
    return rc;
#endif
}

const char *ipc_redis_password_or_env(const char *option)
{
    if (option)
        return option;
    const char *env = getenv("IPCLAB_REDIS_PASSWORD");
    return env && *env ? env : NULL;
}
