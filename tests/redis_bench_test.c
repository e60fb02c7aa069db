/* SPDX-License-Identifier: MIT */
/* ipclab's Redis load generator and the redis-benchmark runner: the CSV parser, latency
 * statistics and run sizing; real runs on unix and tcp whose every request the server counted
 * (INFO commandstats), reply checking, timeouts, and nothing left behind. */
#include "test.h"

#include "ipc/cleanup.h"
#include "ipc/clock.h"
#include "ipc/cpu.h"
#include "ipc/redis_bench.h"
#include "ipc/redis_benchmark_tool.h"
#include "ipc/redis_server.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef IPCLAB_HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

#define HDR                                                                                        \
    "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\","                   \
    "\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\""
#define ROW "\"GET\",\"123456.79\",\"0.123\",\"0.056\",\"0.119\",\"0.175\",\"0.215\",\"0.447\""

static bool one_line(const char *s)
{
    return s[0] && !strchr(s, '\n') && !strchr(s, '\r');
}

/* ---- the CSV parser ------------------------------------------------------------------------ */

static void test_csv(void)
{
    struct ipc_rb_result r;
    char err[256];
    /* Good: plain, with \r\n, with trailing empty lines, other test names. */
    static const struct {
        const char *text, *test;
        double rps, avg, p50, p99;
    } good[] = {
        {HDR "\n" ROW "\n", "GET", 123456.79, 123, 119, 215},
        {HDR "\r\n" ROW "\r\n", "GET", 123456.79, 123, 119, 215},
        {HDR "\n" ROW, "GET", 123456.79, 123, 119, 215},
        {HDR "\n" ROW "\n\n\r\n", "GET", 123456.79, 123, 119, 215},
        {HDR "\n\"SET\",\"5.00\",\"1.000\",\"1.000\",\"1.000\",\"1.000\",\"1.000\",\"1.000\"\n",
         "SET", 5, 1000, 1000, 1000},
        {HDR "\n\"INCR\",\"1.50\",\"0.000\",\"0.000\",\"0.000\",\"0.000\",\"0.000\",\"0.000\"\n",
         "INCR", 1.5, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        memset(&r, 0, sizeof r);
        r.requests = 77;
        err[0] = '\0';
        int rc = ipc_rb_parse_csv(good[i].text, good[i].test, &r, err, sizeof err);
        if (rc != 0) {
            T_FAIL("good CSV %zu rejected: %s", i, err);
            continue;
        }
        if (fabs(r.rps - good[i].rps) > 1e-6 || fabs(r.mean_us - good[i].avg) > 1e-6 ||
            fabs(r.p50_us - good[i].p50) > 1e-6 || fabs(r.p99_us - good[i].p99) > 1e-6)
            T_FAIL("good CSV %zu: rps %g mean %g p50 %g p99 %g", i, r.rps, r.mean_us, r.p50_us,
                   r.p99_us);
        T_EQ_U64(r.requests, 77); /* left alone */
    }

    /* Bad: each with a word its one-line reason must contain. */
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "no output"},
        {"\n", "header"},
        {ROW "\n", "header"},
        {"\"test\",\"rps\"\n" ROW "\n", "header"},
        {HDR " \n" ROW "\n", "header"},
        {HDR "\n", "no result row"},
        {HDR "\n\n" ROW "\n", "no result row"},
        {HDR "\n\"GET\",\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "7 fields"},
        {HDR "\n" ROW ",\"1.0\"\n", "9 fields"},
        {HDR "\nGET,\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not quoted"},
        {HDR "\n\"GET\",1.00,\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not quoted"},
        {HDR "\n\"GET\",\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\n", "closing quote"},
        {HDR "\n\"GET\";\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "commas"},
        {HDR "\n\"SET\",\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "test 'SET'"},
        {HDR "\n\"get\",\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "test 'get'"},
        {HDR "\n\"GET\",\"abc\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "rps is not a"},
        {HDR "\n\"GET\",\"\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "rps is not a"},
        {HDR "\n\"GET\",\"nan\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "finite"},
        {HDR "\n\"GET\",\"inf\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "finite"},
        {HDR "\n\"GET\",\"1.00\",\"-nan\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "finite"},
        {HDR "\n\"GET\",\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"INF\",\"0.1\"\n", "finite"},
        {HDR "\n\"GET\",\"-1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "negative"},
        {HDR "\n\"GET\",\"1.00\",\"0.1\",\"-0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "negative"},
        {HDR "\n\"GET\",\"1e5\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not a number"},
        {HDR "\n\"GET\",\"0x10\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not a number"},
        {HDR "\n\"GET\",\"1.2.3\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not a number"},
        {HDR "\n\"GET\",\" 1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not a number"},
        {HDR "\n\"GET\",\"1.\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not a number"},
        {HDR "\n\"GET\",\"+1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "not a number"},
        {HDR "\n\"GET\",\"0.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\"\n", "rps is 0.00"},
        {HDR "\n\"GET\",\"1.00\",\"0.1\",\"0.2\",\"0.1\",\"0.1\",\"0.1\",\"0.2\"\n", "out of order"},
        {HDR "\n\"GET\",\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.3\",\"0.2\",\"0.3\"\n", "out of order"},
        {HDR "\n\"GET\",\"1.00\",\"0.9\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.5\"\n", "out of order"},
        {HDR "\n" ROW "\n" ROW "\n", "unexpected line"},
        {HDR "\n" ROW "\nAll clients disconnected... aborting.\n", "unexpected line"},
        {HDR "\n\"GET\",\"1.00\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0.1\",\"0\x01\"\n",
         "not a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&r, 0, sizeof r);
        err[0] = '\0';
        int rc = ipc_rb_parse_csv(bad[i].text, "GET", &r, err, sizeof err);
        if (rc != -EPROTO) {
            T_FAIL("bad CSV %zu (%s) gave %d, expected -EPROTO", i, bad[i].why, rc);
            continue;
        }
        if (!one_line(err) || !strstr(err, bad[i].why))
            T_FAIL("bad CSV %zu: reason '%s' does not say '%s' in one line", i, err, bad[i].why);
        if (r.rps != 0)
            T_FAIL("bad CSV %zu: the result was written", i);
    }
}

/* ---- latency statistics, sizing, names ------------------------------------------------------ */

static void test_lat(void)
{
    /* Values 1000..1000000 ns in steps of 1000, weight 4 each, and one batch of 2 at 5 ms. */
    for (int exact = 1; exact >= 0; exact--) {
        struct ipc_rb_lat l;
        T_EQ_INT(ipc_rb_lat_init(&l, 1001, 4, exact ? 1001 : 0), 0);
        T_EQ_INT(l.exact, exact);
        /* In a scrambled order: the summary must sort. */
        for (uint64_t k = 0; k < 1000; k++)
            T_EQ_INT(ipc_rb_lat_add(&l, ((k * 7919) % 1000 + 1) * 1000, 4), 0);
        T_EQ_INT(ipc_rb_lat_add(&l, 5000000, 2), 0);
        double mean, p50, p99;
        ipc_rb_lat_summary(&l, &mean, &p50, &p99);
        /* W = 4002: p50 = rank 2001 -> value 501 (4 x 500 = 2000 < 2001); p99 = rank 3962 ->
         * value 991. Mean = (4 x 500500 + 2 x 5000) / 4002 (in us). */
        double want_mean = (4.0 * 500500 + 2 * 5000) / 4002;
        double tol = exact ? 1e-9 : 1e-3;
        if (fabs(p50 - 501) > 501 * tol || fabs(p99 - 991) > 991 * tol ||
            fabs(mean - want_mean) > 1e-9 * want_mean)
            T_FAIL("lat (%s): mean %.6f p50 %.6f p99 %.6f, expected %.6f 501 991",
                   exact ? "exact" : "histogram", mean, p50, p99, want_mean);
        ipc_rb_lat_free(&l);
    }
    /* The odd batch decides a percentile: 3 batches of 10 at 1, 2, 3 us, one of 70 at 9 us. */
    struct ipc_rb_lat l;
    T_EQ_INT(ipc_rb_lat_init(&l, 4, 10, 16), 0);
    ipc_rb_lat_add(&l, 9000, 70);
    ipc_rb_lat_add(&l, 3000, 10);
    ipc_rb_lat_add(&l, 1000, 10);
    ipc_rb_lat_add(&l, 2000, 10);
    double mean, p50, p99;
    ipc_rb_lat_summary(&l, &mean, &p50, &p99);
    T_TRUE(p50 == 9 && p99 == 9 && fabs(mean - 6.9) < 1e-9);
    ipc_rb_lat_free(&l);
    /* One sample; the empty case. */
    T_EQ_INT(ipc_rb_lat_init(&l, 1, 1, 1), 0);
    ipc_rb_lat_add(&l, 1234, 1);
    ipc_rb_lat_summary(&l, &mean, &p50, &p99);
    T_TRUE(mean == 1.234 && p50 == 1.234 && p99 == 1.234);
    ipc_rb_lat_free(&l);
    T_EQ_INT(ipc_rb_lat_init(&l, 0, 1, 0), 0);
    ipc_rb_lat_summary(&l, &mean, &p50, &p99);
    T_TRUE(mean == 0 && p50 == 0 && p99 == 0);
    ipc_rb_lat_free(&l);
    /* Huge values land in the histogram's last buckets without overflow. */
    T_EQ_INT(ipc_rb_lat_init(&l, 10, 1, 0), 0);
    ipc_rb_lat_add(&l, UINT64_MAX, 1);
    ipc_rb_lat_summary(&l, &mean, &p50, &p99);
    T_TRUE(fabs(p50 / 1e3 / (double)UINT64_MAX - 1e-6) < 1e-8);
    ipc_rb_lat_free(&l);
}

static void test_size_and_names(void)
{
    static const struct {
        double rate, secs;
        unsigned c, p;
        uint64_t want;
    } cases[] = {
        {100000, 0.5, 1, 1, 50000},
        {100000, 0.5, 3, 7, 50001},         /* rounded to a multiple of 21 */
        {1000, 0.5, 1, 1, 5000},            /* the lower bound */
        {1000, 0.5, 4, 256, 5120},          /* 4 x C x P = 4096 < 5000 -> 5120 = 5 x 1024 */
        {1000, 0.5, 16, 1024, 65536},       /* 4 x C x P */
        {1e9, 1, 1, 1, 20000000},           /* the upper bound */
        {1e9, 1, 3, 7, 19999980},           /* ... rounded down to a multiple of 21 */
        {1e9, 1, 1024, 65536, 67108864},    /* C x P beyond the upper bound: one batch each */
        {NAN, 1, 2, 2, 5000},
        {0, 1, 1, 1, 5000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t n = ipc_rb_size(cases[i].rate, cases[i].secs, cases[i].c, cases[i].p);
        if (n != cases[i].want)
            T_FAIL("ipc_rb_size case %zu: %llu, expected %llu", i, (unsigned long long)n,
                   (unsigned long long)cases[i].want);
    }
    enum ipc_rb_op op;
    for (int i = 0; i < IPC_RB_NOPS; i++) {
        T_EQ_INT(ipc_rb_op_parse(ipc_rb_op_name((enum ipc_rb_op)i), &op), 0);
        T_EQ_INT(op, i);
    }
    T_EQ_INT(ipc_rb_op_parse("GET", &op), -EINVAL);
    T_EQ_INT(ipc_rb_op_parse("", &op), -EINVAL);
    T_TRUE(strcmp(ipc_rb_op_title(IPC_RB_INCR), "INCR") == 0);
    const char *v = ipc_rb_set_value();
    T_EQ_INT(strlen(v), 3);
    for (int i = 0; i < 3; i++)
        T_TRUE(v[i] >= '0' && v[i] <= '0' + 63);
}

#ifdef IPCLAB_HAVE_HIREDIS

/* ---- against a real server ------------------------------------------------------------------ */

static struct ipc_redis_server srv;
static redisContext *admin;
static int cpu0;

static redisReply *cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(admin, fmt, ap);
    va_end(ap);
    if (!r) {
        fprintf(stderr, "admin command failed: %s\n", admin->errstr);
        exit(1);
    }
    return r;
}

static void cmd_ok(const char *fmt, const char *arg)
{
    redisReply *r = cmd(fmt, arg);
    if (r->type == REDIS_REPLY_ERROR)
        T_FAIL("%s %s: %s", fmt, arg, r->str);
    freeReplyObject(r);
}

/* calls of a command so far, from INFO commandstats (0 before the first). */
static uint64_t calls(const char *name)
{
    redisReply *r = cmd("INFO commandstats");
    uint64_t n = 0;
    char key[64];
    snprintf(key, sizeof key, "cmdstat_%s:calls=", name);
    const char *p = r->type == REDIS_REPLY_STRING ? strstr(r->str, key) : NULL;
    if (p)
        n = strtoull(p + strlen(key), NULL, 10);
    freeReplyObject(r);
    return n;
}

static char *get_value(const char *key)
{
    redisReply *r = cmd("GET %s", key);
    char *v = r->type == REDIS_REPLY_STRING ? strdup(r->str) : strdup("(not a string)");
    freeReplyObject(r);
    return v;
}

static struct ipc_rb_target unix_target(void)
{
    return (struct ipc_rb_target){.socket = srv.socket, .password = srv.password};
}

static struct ipc_rb_target tcp_target(void)
{
    return (struct ipc_rb_target){.host = "127.0.0.1", .port = srv.port,
                                  .password = srv.password};
}

static const char *stat_name(enum ipc_rb_op op)
{
    return ipc_rb_op_name(op);
}

/* Run ipclab's client and check that the server saw exactly N commands and the result adds up. */
static void check_run(const char *tr, struct ipc_rb_target t, enum ipc_rb_op op, unsigned c,
                      unsigned p, uint64_t n)
{
    struct ipc_rb_opts o = {.op = op, .pipeline = p, .clients = c, .requests = n, .cpu = cpu0};
    struct ipc_rb_result r;
    char err[512] = "";
    uint64_t before = calls(stat_name(op));
    int rc = ipc_rb_run(&t, &o, &r, err, sizeof err);
    if (rc != 0) {
        T_FAIL("%s %s C=%u P=%u N=%llu: %d %s", tr, ipc_rb_op_name(op), c, p,
               (unsigned long long)n, rc, err);
        return;
    }
    uint64_t seen = calls(stat_name(op)) - before;
    if (seen != n || r.requests != n)
        T_FAIL("%s %s C=%u P=%u N=%llu: the server counted %llu, the result says %llu", tr,
               ipc_rb_op_name(op), c, p, (unsigned long long)n, (unsigned long long)seen,
               (unsigned long long)r.requests);
    if (!(r.wall_ns > 0 && r.rps > 0 && r.mean_us > 0 && r.p50_us > 0 && r.p50_us <= r.p99_us &&
          r.exact && fabs(r.rps - (double)n * 1e9 / (double)r.wall_ns) < 1e-6 * r.rps))
        T_FAIL("%s C=%u P=%u N=%llu: wall %llu ns, rps %.1f, mean %.2f p50 %.2f p99 %.2f us", tr,
               c, p, (unsigned long long)n, (unsigned long long)r.wall_ns, r.rps, r.mean_us,
               r.p50_us, r.p99_us);
    /* The mean of per-batch latencies can never exceed the wall time. */
    if (r.mean_us * 1e3 > (double)r.wall_ns * 1.0001)
        T_FAIL("%s C=%u P=%u: mean %.2f us above the wall time %llu ns", tr, c, p, r.mean_us,
               (unsigned long long)r.wall_ns);
    T_EQ_INT(r.cpu_seen, cpu0);
}

static void test_runs(void)
{
    static const struct {
        unsigned c, p;
        uint64_t n;
    } shapes[] = {
        {1, 1, 1},     {1, 1, 1000},  {1, 16, 1000}, {2, 4, 999},  {3, 7, 1000},
        {1, 64, 10},   /* P > N */
        {8, 1, 5},     /* C > N */
        {4, 256, 100}, /* both */
        {2, 65536, 70000}, /* the longest pipeline, one batch cut short */
    };
    for (int tr = 0; tr < 2; tr++) {
        struct ipc_rb_target t = tr ? tcp_target() : unix_target();
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check_run(tr ? "tcp" : "unix", t, IPC_RB_GET, shapes[i].c, shapes[i].p, shapes[i].n);
    }

    /* SET stores redis-benchmark's value; INCR adds exactly N. */
    cmd_ok("DEL %s", "key:__rand_int__");
    check_run("unix", unix_target(), IPC_RB_SET, 2, 8, 100);
    char *v = get_value("key:__rand_int__");
    if (strcmp(v, ipc_rb_set_value()) != 0)
        T_FAIL("after SET the key holds '%s', expected '%s'", v, ipc_rb_set_value());
    free(v);
    cmd_ok("DEL %s", "counter:__rand_int__");
    check_run("tcp", tcp_target(), IPC_RB_INCR, 3, 4, 50);
    v = get_value("counter:__rand_int__");
    if (strcmp(v, "50") != 0)
        T_FAIL("after 50 INCRs the counter holds '%s'", v);
    free(v);
}

static void expect_fail(const char *what, struct ipc_rb_target t, struct ipc_rb_opts o, int want,
                        const char *words)
{
    struct ipc_rb_result r;
    char err[512] = "";
    int rc = ipc_rb_run(&t, &o, &r, err, sizeof err);
    if (rc != want)
        T_FAIL("%s: %d (%s), expected %d", what, rc, err, want);
    if (!one_line(err) || (words && !strstr(err, words)))
        T_FAIL("%s: reason '%s' is not one line saying '%s'", what, err, words ? words : "");
}

static void test_errors(const char *tmp)
{
    struct ipc_rb_opts o = {.op = IPC_RB_GET, .pipeline = 4, .clients = 2, .requests = 100,
                            .cpu = -1};
    /* An error reply ends the run with its text. */
    cmd_ok("DEL %s", "key:__rand_int__");
    cmd_ok("RPUSH key:__rand_int__ %s", "x");
    expect_fail("GET on a list", unix_target(), o, -EIO, "WRONGTYPE");
    cmd_ok("DEL %s", "key:__rand_int__");
    cmd_ok("SET counter:__rand_int__ %s", "abc");
    o.op = IPC_RB_INCR;
    expect_fail("INCR on a string", tcp_target(), o, -EIO, "not an integer");
    cmd_ok("DEL %s", "counter:__rand_int__");
    o.op = IPC_RB_GET;

    /* Bad options and targets. */
    struct ipc_rb_opts b = o;
    b.pipeline = 0;
    expect_fail("pipeline 0", unix_target(), b, -EINVAL, "pipeline");
    b = o, b.pipeline = IPC_RB_MAX_PIPELINE + 1;
    expect_fail("pipeline too long", unix_target(), b, -EINVAL, "pipeline");
    b = o, b.clients = IPC_RB_MAX_CLIENTS + 1;
    expect_fail("too many clients", unix_target(), b, -EINVAL, "clients");
    b = o, b.requests = 0;
    expect_fail("no requests", unix_target(), b, -EINVAL, "requests");
    b = o, b.op = (enum ipc_rb_op)7;
    expect_fail("bad op", unix_target(), b, -EINVAL, "operation");
    expect_fail("no target", (struct ipc_rb_target){0}, o, -EINVAL, "no server");
    expect_fail("port 0", (struct ipc_rb_target){.host = "127.0.0.1"}, o, -EINVAL, "no server");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such.sock", tmp);
    expect_fail("missing socket", (struct ipc_rb_target){.socket = missing}, o, -ENOENT,
                "no-such.sock");
    b = o, b.cpu = 100000;
    expect_fail("CPU out of range", unix_target(), b, -EINVAL, "pin");

    /* A server that never answers: a socket that listens and never accepts. */
    char path[600];
    snprintf(path, sizeof path, "%s/mute.sock", tmp);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t plen = strlen(path);
    if (plen >= sizeof a.sun_path)
        T_FAIL("%s is too long for a Unix socket", path);
    else
        memcpy(a.sun_path, path, plen + 1);
    if (fd < 0 || plen >= sizeof a.sun_path || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) {
        T_FAIL("mute socket: %s", strerror(errno));
    } else {
        b = o, b.timeout_ms = 300;
        uint64_t t0 = ipc_now_ns();
        expect_fail("mute server", (struct ipc_rb_target){.socket = path}, b, -ETIMEDOUT,
                    "no reply within 300 ms");
        if (ipc_now_ns() - t0 > 5000000000u)
            T_FAIL("a 300 ms timeout took %.1f s", (double)(ipc_now_ns() - t0) / 1e9);
        char why[256];
        if (ipc_redis_benchmark_find(NULL, 0, why, sizeof why) == 0) {
            struct ipc_rb_result r;
            char err[512] = "";
            t0 = ipc_now_ns();
            int rc = ipc_redis_benchmark_run(&(struct ipc_rb_target){.socket = path}, &b, &r, err,
                                             sizeof err);
            T_EQ_INT(rc, -ETIMEDOUT);
            if (!one_line(err) || !strstr(err, "killed"))
                T_FAIL("redis-benchmark timeout: '%s'", err);
            if (ipc_now_ns() - t0 > 5000000000u)
                T_FAIL("a 300 ms redis-benchmark timeout took %.1f s",
                       (double)(ipc_now_ns() - t0) / 1e9);
        }
    }
    if (fd >= 0)
        close(fd);
    unlink(path);
}

/* Children of this process other than the redis-server: none may be left. */
static int stray_children(void)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0 || pid == srv.proc.pid)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *p = strrchr(buf, ')');
        int ppid = 0;
        if (p && sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == getpid()) {
            fprintf(stderr, "stray child: %s\n", buf);
            n++;
        }
    }
    if (d)
        closedir(d);
    return n;
}

static void test_tool(void)
{
    char why[256];
    if (ipc_redis_benchmark_find(NULL, 0, why, sizeof why) < 0) {
        printf("note: %s: redis-benchmark runs not tested\n", why);
        return;
    }
    static const struct {
        enum ipc_rb_op op;
        unsigned c, p;
        uint64_t n;
    } runs[] = {
        {IPC_RB_GET, 1, 1, 20000},
        {IPC_RB_GET, 2, 16, 64000},
        {IPC_RB_INCR, 4, 8, 32000},
    };
    for (int tr = 0; tr < 2; tr++) {
        for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
            struct ipc_rb_target t = tr ? tcp_target() : unix_target();
            struct ipc_rb_opts o = {.op = runs[i].op, .pipeline = runs[i].p, .clients = runs[i].c,
                                    .requests = runs[i].n, .cpu = cpu0};
            struct ipc_rb_result r;
            char err[512] = "";
            uint64_t before = calls(stat_name(o.op));
            int rc = ipc_redis_benchmark_run(&t, &o, &r, err, sizeof err);
            if (rc != 0) {
                T_FAIL("redis-benchmark %s run %zu: %d %s", tr ? "tcp" : "unix", i, rc, err);
                continue;
            }
            uint64_t seen = calls(stat_name(o.op)) - before;
            if (seen != o.requests || r.requests != o.requests)
                T_FAIL("redis-benchmark %s run %zu: the server counted %llu, expected %llu", 
                       tr ? "tcp" : "unix", i, (unsigned long long)seen,
                       (unsigned long long)o.requests);
            if (!(r.rps > 0 && r.p50_us <= r.p99_us && r.mean_us > 0 && !r.exact &&
                  fabs((double)r.wall_ns - (double)r.requests / r.rps * 1e9) < 1e3))
                T_FAIL("redis-benchmark run %zu: wall %llu rps %.1f mean %.2f p50 %.2f p99 %.2f",
                       i, (unsigned long long)r.wall_ns, r.rps, r.mean_us, r.p50_us, r.p99_us);
            T_EQ_INT(r.cpu_seen, cpu0);
        }
    }
    /* Its SET stores what ipclab's does: the value recipe is redis-benchmark's. */
    cmd_ok("DEL %s", "key:__rand_int__");
    /* Enough requests to last a millisecond: redis-benchmark's rps is inf below that. */
    struct ipc_rb_opts o = {.op = IPC_RB_SET, .pipeline = 1, .clients = 1, .requests = 5000,
                            .cpu = -1};
    struct ipc_rb_result r;
    char err[512] = "";
    if (ipc_redis_benchmark_run(&(struct ipc_rb_target){.socket = srv.socket, .password = srv.password}, &o, &r, err,
                                sizeof err) != 0) {
        T_FAIL("redis-benchmark SET: %s", err);
    } else {
        char *v = get_value("key:__rand_int__");
        if (strcmp(v, ipc_rb_set_value()) != 0)
            T_FAIL("redis-benchmark's SET stored '%s', ipclab's stores '%s'", v,
                   ipc_rb_set_value());
        free(v);
    }
    /* With N not a multiple of P it sends whole pipelines: ceil(N / P) x P. */
    o = (struct ipc_rb_opts){.op = IPC_RB_GET, .pipeline = 64, .clients = 1, .requests = 1000,
                             .cpu = -1};
    uint64_t before = calls("get");
    if (ipc_redis_benchmark_run(&(struct ipc_rb_target){.socket = srv.socket, .password = srv.password}, &o, &r, err,
                                sizeof err) != 0)
        T_FAIL("redis-benchmark N=1000 P=64: %s", err);
    else
        T_EQ_U64(calls("get") - before, 1024);
    /* A failure is one line with its words. */
    o.requests = 100;
    int rc = ipc_redis_benchmark_run(&(struct ipc_rb_target){.socket = "/nonexistent/x.sock"}, &o,
                                     &r, err, sizeof err);
    T_EQ_INT(rc, -ECHILD);
    if (!one_line(err) || !strstr(err, "exited with status"))
        T_FAIL("redis-benchmark on a missing socket: '%s'", err);
    o.clients = 0;
    T_EQ_INT(ipc_redis_benchmark_run(&(struct ipc_rb_target){.socket = srv.socket, .password = srv.password}, &o, &r, err,
                                     sizeof err),
             -EINVAL);
}

/* A missing redis-benchmark: -ENOENT with the package to install, no child started. */
static void test_tool_missing(const char *tmp)
{
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", tmp, 1);
    char why[256] = "";
    T_EQ_INT(ipc_redis_benchmark_find(NULL, 0, why, sizeof why), -ENOENT);
    if (!strstr(why, "redis-tools"))
        T_FAIL("missing redis-benchmark: '%s' does not name redis-tools", why);
    struct ipc_rb_opts o = {.op = IPC_RB_GET, .pipeline = 1, .clients = 1, .requests = 10,
                            .cpu = -1};
    struct ipc_rb_result r;
    char err[512] = "";
    T_EQ_INT(ipc_redis_benchmark_run(&(struct ipc_rb_target){.socket = srv.socket, .password = srv.password}, &o, &r, err,
                                     sizeof err),
             -ENOENT);
    T_TRUE(one_line(err) && strstr(err, "redis-tools"));
    if (saved)
        setenv("PATH", saved, 1);
    else
        unsetenv("PATH");
    free(saved);
}

static void test_sizing(void)
{
    static const struct {
        unsigned c, p;
    } shapes[] = {{1, 1}, {2, 16}, {3, 7}, {1, 4096}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        struct ipc_rb_opts o = {.op = IPC_RB_GET, .pipeline = shapes[i].p,
                                .clients = shapes[i].c, .requests = 999999999, .cpu = cpu0};
        uint64_t n = 0, cp = (uint64_t)shapes[i].c * shapes[i].p;
        char err[512] = "";
        struct ipc_rb_target t = i % 2 ? tcp_target() : unix_target();
        uint64_t t0 = ipc_now_ns();
        int rc = ipc_rb_requests_for(&t, &o, 0.05, &n, err, sizeof err);
        double s = (double)(ipc_now_ns() - t0) / 1e9;
        if (rc != 0) {
            T_FAIL("sizing C=%u P=%u: %s", shapes[i].c, shapes[i].p, err);
            continue;
        }
        uint64_t lo = 4 * cp > IPC_RB_SIZE_MIN ? 4 * cp : IPC_RB_SIZE_MIN;
        if (n % cp || n < lo || n > IPC_RB_SIZE_MAX)
            T_FAIL("sizing C=%u P=%u gave %llu", shapes[i].c, shapes[i].p, (unsigned long long)n);
        if (s > 10)
            T_FAIL("sizing C=%u P=%u took %.1f s", shapes[i].c, shapes[i].p, s);
    }
}

#endif /* IPCLAB_HAVE_HIREDIS */

int main(void)
{
    ipc_cleanup_install();
    test_csv();
    test_lat();
    test_size_and_names();
#ifndef IPCLAB_HAVE_HIREDIS
    printf("skip: built without hiredis: only the parser and statistics were tested\n");
    return t_failures ? T_RESULT() : T_SKIP;
#else
    char why[256];
    if (ipc_redis_server_find(NULL, 0, why, sizeof why) < 0) {
        printf("skip: %s: only the parser and statistics were tested\n", why);
        return t_failures ? T_RESULT() : T_SKIP;
    }
    char tmp[512];
    if (!t_private_tmpdir(tmp, sizeof tmp, "ipclab-redis-bench-test")) {
        perror("mkdtemp");
        return 1;
    }
    int allowed[64];
    cpu0 = ipc_cpu_allowed(allowed, 64) > 0 ? allowed[0] : 0;
    int fds0 = t_count_entries("/proc/self/fd");
    if (ipc_redis_server_start(&srv, NULL, -1) < 0) {
        T_FAIL("cannot start redis-server: %s", srv.errstr);
        rmdir(tmp);
        return T_RESULT();
    }
    pid_t server_pid = srv.proc.pid;
    admin = redisConnectUnix(srv.socket);
    char auth_why[200] = "";
    if (!admin || admin->err || ipc_redis_auth(admin, srv.password, auth_why, sizeof auth_why) < 0) {
        T_FAIL("admin connection: %s", admin ? (auth_why[0] ? auth_why : admin->errstr) : "out of memory");
    } else {
        test_runs();
        test_sizing();
        test_errors(tmp);
        test_tool();
        test_tool_missing(tmp);
    }
    if (admin)
        redisFree(admin);
    T_EQ_INT(stray_children(), 0);
    ipc_redis_server_stop(&srv);
    if (kill(server_pid, 0) == 0 || errno != ESRCH)
        T_FAIL("redis-server %d is still there", (int)server_pid);
    T_TRUE(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
    if (t_count_entries("/proc/self/fd") != fds0)
        T_FAIL("%d descriptors open at the end, %d at the start",
               t_count_entries("/proc/self/fd"), fds0);
    if (t_count_entries(tmp) != 0)
        T_FAIL("left in %s: %d entries", tmp, t_count_entries(tmp));
    rmdir(tmp);
    return T_RESULT();
#endif
}
