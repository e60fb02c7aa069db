/* SPDX-License-Identifier: MIT */
/* Run Debian's redis-benchmark as a child (pinned, timed out, never orphaned), parse its CSV. */
#include "redis_benchmark_tool.h"

#include "clock.h"
#include "cpu.h"
#include "errbuf.h"
#include "program.h"
#include "server.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Output kept for parsing and for the error line; what comes beyond it is read and dropped,
 * so the child never blocks on a full pipe. Its --csv output is two short lines. */
#define KEEP_BYTES 65536
/* After a timeout: SIGTERM, this long to go, then SIGKILL. */
#define KILL_GRACE_MS 200

/* The exit statuses ipc_server_start's child uses before our function runs, and ours. */
#define EXIT_NO_PDEATHSIG 125
#define EXIT_NO_PIN 126
#define EXIT_NO_EXEC 127

#define CSV_HEADER                                                                                 \
    "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\","                   \
    "\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\""
#define CSV_FIELDS 8

/* Up to 120 bytes of s[0..n) fit for a one-line message: control bytes as \xNN, "..." when
 * cut. What redis-benchmark prints is not ours to trust with a terminal. */
static const char *shown(const char *s, size_t n, char *buf, size_t len)
{
    size_t j = 0, i = 0;
    for (; i < n && i < 120 && j + 5 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            j += (size_t)snprintf(buf + j, len - j, "\\x%02x", c);
        else
            buf[j++] = (char)c;
    }
    if (i < n && j + 4 < len) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j] = '\0';
    return buf;
}

#define SHOWN(s, n) shown((s), (n), (char[512]){0}, 512)

int ipc_redis_benchmark_find(char *path, size_t pathlen, char *why, size_t whylen)
{
    int rc = ipc_program_find("redis-benchmark", path, pathlen);
    if (rc == -ENAMETOOLONG)
        ipc_set_err(why, whylen, "the path of redis-benchmark is too long");
    else if (rc < 0)
        ipc_set_err(why, whylen, "redis-benchmark not found (Debian package redis-tools)");
    return rc;
}

/* ---- the CSV --------------------------------------------------------------------------------- */

/* The line at *p without its \n or \r\n, *p moved past it. False at the end of the text. */
static bool next_line(const char **p, const char **line, size_t *len)
{
    if (!**p)
        return false;
    const char *s = *p, *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    *p = nl ? nl + 1 : s + n;
    if (n && s[n - 1] == '\r')
        n--;
    *line = s;
    *len = n;
    return true;
}

static const char *const field_names[CSV_FIELDS] = {
    "test",           "rps",           "avg_latency_ms", "min_latency_ms",
    "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "max_latency_ms",
};

/* Whether w (lowercase) occurs in s[0..n), in any case: printf's nan, -nan, inf, INF. */
static bool has_word(const char *s, size_t n, const char *w)
{
    size_t m = strlen(w);
    for (size_t k = 0; k + m <= n; k++)
        if (strncasecmp(s + k, w, m) == 0)
            return true;
    return false;
}

/* A field as redis-benchmark prints a number ("%.2f", "%.3f"): digits, optionally a point and
 * more digits. Says what is wrong with it otherwise. */
static int parse_number(const char *s, size_t n, int idx, double *out, char *err, size_t errlen)
{
    size_t i = 0, digits = 0, frac = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, frac++;
        if (!frac)
            digits = 0; /* "12." is not what %.Nf prints */
    }
    if (i == n && digits) {
        char buf[64];
        if (n >= sizeof buf) {
            ipc_set_err(err, errlen, "field %s is too long ('%s')", field_names[idx], SHOWN(s, n));
            return -EPROTO;
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = strtod(buf, NULL);
        return 0;
    }
    if (idx == 1 && has_word(s, n, "inf"))
        /* It divides by its elapsed milliseconds: a run under one prints inf. */
        ipc_set_err(err, errlen,
                "field rps is not a finite number ('%s'): the run took less than "
                "redis-benchmark's 1 ms clock tick (give it more requests)",
                SHOWN(s, n));
    else if (has_word(s, n, "nan") || has_word(s, n, "inf"))
        ipc_set_err(err, errlen, "field %s is not a finite number ('%s')", field_names[idx],
                SHOWN(s, n));
    else if (n && s[0] == '-')
        ipc_set_err(err, errlen, "field %s is negative ('%s')", field_names[idx], SHOWN(s, n));
    else
        ipc_set_err(err, errlen, "field %s is not a number ('%s')", field_names[idx], SHOWN(s, n));
    return -EPROTO;
}

/* Split a row into its quoted fields; starts and lengths into f, count into *nf. */
static int split_row(const char *line, size_t len, const char **f, size_t *fl, int *nf, char *err,
                     size_t errlen)
{
    size_t i = 0;
    *nf = 0;
    for (;;) {
        if (i >= len || line[i] != '"') {
            ipc_set_err(err, errlen, "field %d of the row is not quoted: '%s'", *nf + 1,
                    SHOWN(line, len));
            return -EPROTO;
        }
        const char *q = memchr(line + i + 1, '"', len - i - 1);
        if (!q) {
            ipc_set_err(err, errlen, "field %d of the row has no closing quote: '%s'", *nf + 1,
                    SHOWN(line, len));
            return -EPROTO;
        }
        if (*nf < CSV_FIELDS) {
            f[*nf] = line + i + 1;
            fl[*nf] = (size_t)(q - (line + i + 1));
        }
        (*nf)++;
        i = (size_t)(q - line) + 1;
        if (i == len)
            break;
        if (line[i] != ',') {
            ipc_set_err(err, errlen, "fields of the row are not separated by commas: '%s'",
                    SHOWN(line, len));
            return -EPROTO;
        }
        i++;
    }
    if (*nf != CSV_FIELDS) {
        ipc_set_err(err, errlen, "the row has %d fields, expected %d: '%s'", *nf, CSV_FIELDS,
                SHOWN(line, len));
        return -EPROTO;
    }
    return 0;
}

int ipc_rb_parse_csv(const char *text, const char *test_name, struct ipc_rb_result *r, char *err,
                     size_t errlen)
{
    const char *p = text, *line;
    size_t len;
    if (!next_line(&p, &line, &len)) {
        ipc_set_err(err, errlen, "no output");
        return -EPROTO;
    }
    if (len != strlen(CSV_HEADER) || memcmp(line, CSV_HEADER, len) != 0) {
        ipc_set_err(err, errlen, "not redis-benchmark's CSV header: '%s'", SHOWN(line, len));
        return -EPROTO;
    }
    if (!next_line(&p, &line, &len) || len == 0) {
        ipc_set_err(err, errlen, "no result row after the CSV header");
        return -EPROTO;
    }
    const char *f[CSV_FIELDS];
    size_t fl[CSV_FIELDS];
    int nf;
    int rc = split_row(line, len, f, fl, &nf, err, errlen);
    if (rc < 0)
        return rc;
    if (fl[0] != strlen(test_name) || memcmp(f[0], test_name, fl[0]) != 0) {
        ipc_set_err(err, errlen, "the row is for test '%s', expected '%s'", SHOWN(f[0], fl[0]),
                test_name);
        return -EPROTO;
    }
    double v[CSV_FIELDS];
    for (int i = 1; i < CSV_FIELDS; i++)
        if ((rc = parse_number(f[i], fl[i], i, &v[i], err, errlen)) < 0)
            return rc;
    const char *rest_line;
    size_t rest_len;
    while (next_line(&p, &rest_line, &rest_len)) {
        if (rest_len) {
            ipc_set_err(err, errlen, "unexpected line after the result row: '%s'",
                    SHOWN(rest_line, rest_len));
            return -EPROTO;
        }
    }
    double rps = v[1], avg = v[2], min = v[3], p50 = v[4], p95 = v[5], p99 = v[6], max = v[7];
    if (!(rps > 0)) {
        ipc_set_err(err, errlen, "rps is %s", SHOWN(f[1], fl[1]));
        return -EPROTO;
    }
    if (!(min <= p50 && p50 <= p95 && p95 <= p99 && p99 <= max && min <= avg && avg <= max)) {
        ipc_set_err(err, errlen,
                "latencies out of order (avg %.3f, min %.3f, p50 %.3f, p95 %.3f, p99 %.3f, "
                "max %.3f ms)",
                avg, min, p50, p95, p99, max);
        return -EPROTO;
    }
    r->rps = rps;
    r->mean_us = avg * 1e3;
    r->p50_us = p50 * 1e3;
    r->p99_us = p99 * 1e3;
    return 0;
}

/* ---- the child ------------------------------------------------------------------------------- */

struct launch {
    char path[PATH_MAX];
    char clients[16], requests[24], pipeline[16], port[16];
    char *argv[24];
    int out_w, err_w; /* the write ends of the pipes */
};

/* Runs in the forked child (after pinning): stdio to /dev/null and the pipes, nothing else
 * inherited (a redis-server's pidfd, a hiredis connection), exec. */
static int exec_tool(void *arg)
{
    struct launch *l = arg;
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(l->out_w, 1) < 0 || dup2(l->err_w, 2) < 0)
        return EXIT_NO_EXEC;
    if (close_range(3, ~0u, 0) < 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
            close(fd);
    }
    execv(l->path, l->argv);
    return EXIT_NO_EXEC;
}

/* A pipe whose ends are both above stdio (so the child's dup2 onto 0-2 cannot clobber one),
 * close-on-exec, the read end non-blocking. */
static int make_pipe(int fds[2])
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        if (p[i] < 3) {
            int hi = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
            if (hi < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return -e;
            }
            close(p[i]);
            p[i] = hi;
        }
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fds[0] = p[0];
    fds[1] = p[1];
    return 0;
}

struct sink {
    int fd;    /* -1 at EOF */
    char *buf; /* KEEP_BYTES + 1 */
    size_t len;
};

/* Read what is there; keep the first KEEP_BYTES. */
static void drain(struct sink *s)
{
    char scratch[4096];
    for (;;) {
        bool keep = s->len < KEEP_BYTES;
        char *to = keep ? s->buf + s->len : scratch;
        size_t room = keep ? KEEP_BYTES - s->len : sizeof scratch;
        ssize_t n = read(s->fd, to, room);
        if (n > 0) {
            if (keep)
                s->len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close(s->fd); /* EOF, or an error that ends this stream as EOF would */
        s->fd = -1;
        return;
    }
}

/* The last non-empty line of buf, for the error message. */
static const char *last_line(char *buf, size_t len, size_t *n)
{
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    size_t start = len;
    while (start && buf[start - 1] != '\n')
        start--;
    *n = len - start;
    return buf + start;
}

static void describe_failure(const struct ipc_server *s, struct sink *out, struct sink *errs,
                             char *err, size_t errlen)
{
    int st = s->status;
    if (WIFSIGNALED(st)) {
        ipc_set_err(err, errlen, "redis-benchmark was killed by signal %d (%s)", WTERMSIG(st),
                strsignal(WTERMSIG(st)));
        return;
    }
    switch (WEXITSTATUS(st)) {
    case EXIT_NO_EXEC:
        ipc_set_err(err, errlen, "redis-benchmark could not be executed");
        return;
    case EXIT_NO_PIN:
        ipc_set_err(err, errlen, "redis-benchmark could not be pinned to CPU %d", s->cpu);
        return;
    case EXIT_NO_PDEATHSIG:
        ipc_set_err(err, errlen, "redis-benchmark could not be tied to its parent's life");
        return;
    }
    size_t n;
    const char *line = last_line(errs->buf, errs->len, &n);
    if (!n) /* it prints some errors (a bad option) on standard output */
        line = last_line(out->buf, out->len, &n);
    ipc_set_err(err, errlen, "redis-benchmark exited with status %d%s%s", WEXITSTATUS(st),
            n ? ": " : " and said nothing", n ? SHOWN(line, n) : "");
}

static int build_argv(struct launch *l, const struct ipc_rb_target *t, const struct ipc_rb_opts *o,
                      char *err, size_t errlen)
{
    if ((unsigned)o->op >= IPC_RB_NOPS || o->pipeline < 1 || o->pipeline > IPC_RB_MAX_PIPELINE ||
        o->clients < 1 || o->clients > IPC_RB_MAX_CLIENTS || o->requests < 1 ||
        o->requests > IPC_RB_MAX_REQUESTS || o->timeout_ms < 0) {
        ipc_set_err(err, errlen, "redis-benchmark: options out of range");
        return -EINVAL;
    }
    if (t->socket ? !*t->socket : !t->host || !*t->host || t->port < 1 || t->port > 65535) {
        ipc_set_err(err, errlen, "redis-benchmark: no server given");
        return -EINVAL;
    }
    snprintf(l->clients, sizeof l->clients, "%u", o->clients);
    snprintf(l->requests, sizeof l->requests, "%llu", (unsigned long long)o->requests);
    snprintf(l->pipeline, sizeof l->pipeline, "%u", o->pipeline);
    snprintf(l->port, sizeof l->port, "%d", t->port);
    int a = 0;
    l->argv[a++] = "redis-benchmark";
    if (t->socket) {
        l->argv[a++] = "-s";
        l->argv[a++] = (char *)t->socket;
    } else {
        l->argv[a++] = "-h"; /* host, not help: redis-benchmark's own convention */
        l->argv[a++] = (char *)t->host;
        l->argv[a++] = "-p";
        l->argv[a++] = l->port;
    }
    /* Only -a exists for it; ipclab's own server's password is random per run and the
     * server listens only on loopback and a 0700 directory, so a moment in ps costs little. */
    if (t->password && *t->password) {
        l->argv[a++] = "-a";
        l->argv[a++] = (char *)t->password;
    }
    char *const rest[] = {"-c", l->clients,  "-n", l->requests, "-P", l->pipeline,
                          "-t", (char *)ipc_rb_op_name(o->op), "--csv", NULL};
    _Static_assert(sizeof rest / sizeof rest[0] + 8 <= sizeof l->argv / sizeof l->argv[0],
                   "argv too small");
    memcpy(l->argv + a, rest, sizeof rest);
    return 0;
}

int ipc_redis_benchmark_run(const struct ipc_rb_target *t, const struct ipc_rb_opts *o,
                            struct ipc_rb_result *r, char *err, size_t errlen)
{
    struct launch *l = calloc(1, sizeof *l);
    struct sink out = {.fd = -1, .buf = malloc(KEEP_BYTES + 1)};
    struct sink errs = {.fd = -1, .buf = malloc(KEEP_BYTES + 1)};
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    struct ipc_server s = {.pid = 0, .pidfd = -1};
    int rc;
    if (!l || !out.buf || !errs.buf) {
        ipc_set_err(err, errlen, "redis-benchmark: out of memory");
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = build_argv(l, t, o, err, errlen)) < 0)
        goto out;
    if ((rc = ipc_redis_benchmark_find(l->path, sizeof l->path, err, errlen)) < 0)
        goto out;
    if ((rc = ipc_rb_ensure_fds(o->clients)) < 0) {
        ipc_set_err(err, errlen, "redis-benchmark: %u connections need %u file descriptors: %s",
                o->clients, o->clients + 64, strerror(-rc));
        goto out;
    }
    if ((rc = make_pipe(outp)) < 0 || (rc = make_pipe(errp)) < 0) {
        ipc_set_err(err, errlen, "redis-benchmark: pipe: %s", strerror(-rc));
        goto out;
    }
    l->out_w = outp[1];
    l->err_w = errp[1];
    uint64_t limit_ms = o->timeout_ms ? (uint64_t)o->timeout_ms
                                      : IPC_RBT_TIMEOUT_BASE_MS +
                                            o->requests * IPC_RBT_TIMEOUT_US_PER_REQUEST / 1000;
    uint64_t deadline = ipc_now_ns() + limit_ms * 1000000u;
    if ((rc = ipc_server_start(&s, o->cpu, exec_tool, l)) < 0) {
        ipc_set_err(err, errlen, "redis-benchmark: cannot start it: %s", strerror(-rc));
        goto out;
    }
    /* Ours now closed, so the pipes reach EOF when the child's copies go. */
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    out.fd = outp[0];
    errs.fd = errp[0];
    outp[0] = errp[0] = -1;

    bool exited = false;
    while (out.fd >= 0 || errs.fd >= 0 || !exited) {
        uint64_t now = ipc_now_ns();
        if (now >= deadline) {
            ipc_server_stop(&s, KILL_GRACE_MS);
            ipc_set_err(err, errlen, "redis-benchmark did not finish within %llu ms and was killed",
                    (unsigned long long)limit_ms);
            rc = -ETIMEDOUT;
            goto out;
        }
        uint64_t left = (deadline - now + 999999) / 1000000;
        struct pollfd p[3] = {
            {.fd = out.fd, .events = POLLIN},
            {.fd = errs.fd, .events = POLLIN},
            {.fd = exited ? -1 : s.pidfd, .events = POLLIN},
        };
        int n = poll(p, 3, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR) {
            rc = -errno;
            ipc_set_err(err, errlen, "redis-benchmark: poll: %s", strerror(errno));
            ipc_server_stop(&s, KILL_GRACE_MS);
            goto out;
        }
        if (n <= 0)
            continue;
        if (p[0].revents)
            drain(&out);
        if (p[1].revents)
            drain(&errs);
        if (p[2].revents)
            exited = true;
    }
    /* Exited but not reaped: /proc still shows the CPU it last ran on. */
    int cpu = ipc_cpu_last_of(s.pid);
    ipc_server_stop(&s, 0); /* reaps it: it is not alive, so no signal is sent */
    out.buf[out.len] = '\0';
    errs.buf[errs.len] = '\0';
    if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0) {
        describe_failure(&s, &out, &errs, err, errlen);
        rc = -ECHILD;
        goto out;
    }
    if (strlen(out.buf) != out.len) {
        ipc_set_err(err, errlen, "redis-benchmark's output holds a NUL byte");
        rc = -EPROTO;
        goto out;
    }
    struct ipc_rb_result res = {0};
    char why[256];
    if ((rc = ipc_rb_parse_csv(out.buf, ipc_rb_op_title(o->op), &res, why, sizeof why)) < 0) {
        ipc_set_err(err, errlen, "redis-benchmark's output: %s", why);
        goto out;
    }
    res.requests = o->requests;
    res.wall_ns = (uint64_t)((double)o->requests / res.rps * 1e9 + 0.5);
    res.cpu_seen = cpu >= 0 ? cpu : -1;
    res.exact = false;
    *r = res;
    rc = 0;
out:
    /* Every path: the child stopped and reaped (a no-op when it was), no descriptor left. */
    ipc_server_stop(&s, KILL_GRACE_MS);
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    if (out.fd >= 0)
        close(out.fd);
    if (errs.fd >= 0)
        close(errs.fd);
    free(out.buf);
    free(errs.buf);
    free(l);
    return rc;
}
