/* SPDX-License-Identifier: MIT */
/* `ipclab queue`: work queues between processes over each transport: the chapter's protocol
 * (run), what a dead worker costs (loss, claim C19), and throughput and latency (bench). */
#include "cli.h"

#include "../ipc/clock.h"
#include "../ipc/cpu.h"
#include "../ipc/queue.h"
#include "../ipc/workqueue.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CMD "queue"

#define HDR_BYTES 16 /* the protocol's header on each job and result */
#define MAX_JOB (IPC_QUEUE_MAX_MSG - HDR_BYTES)
#define MAX_JOBS 10000000u
#define MAX_MESSAGES 100000000u
#define MAX_ROUND_TRIPS 10000000u
#define MAX_SAMPLES 1000000u
#define MAX_TIMEOUT_S 86400u
#define DEFAULT_TIMEOUT_S 600u
#define MAX_CPUS 1024
#define MAX_WORK_US 1000000u
#define LOSS_WORK_US 20

static const size_t bench_sizes[] = {8, 64, 512, 4096, 65536};
#define NSIZES (sizeof bench_sizes / sizeof bench_sizes[0])

/* "  name        text" with text broken at spaces into lines of at most 80 columns. */
static void print_item(FILE *out, const char *name, const char *text)
{
    const size_t indent = 14, width = 80 - indent;
    fprintf(out, "  %-11s ", name);
    const char *s = text;
    while (*s) {
        size_t n = strlen(s);
        if (n > width) {
            n = width;
            while (n > 0 && s[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        fprintf(out, "%.*s\n", (int)n, s);
        s += n;
        while (*s == ' ')
            s++;
        if (*s)
            fprintf(out, "%*s", (int)indent, "");
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ipclab queue run [options]\n"
                 "       ipclab queue loss [options]\n"
                 "       ipclab queue bench [options]\n"
                 "\n"
                 "Work queues between processes, one transport at a time ('all': each in turn;\n"
                 "one that cannot run here is listed with the reason):\n\n");
    for (size_t i = 0; i < ipc_queue_transport_count; i++) {
        const struct ipc_queue_ops *t = ipc_queue_transports[i];
        char text[512];
        snprintf(text, sizeof text, "%s%s", t->description,
                 t->props & IPC_QUEUE_PROP_RELIABLE ? " [reliable]" : "");
        print_item(out, t->name, text);
    }
    fprintf(out,
            "\nA reliable transport keeps a message a consumer received until it acknowledges\n"
            "it, and gives it back if the consumer dies; the others lose it.\n"
            "\n"
            "run: the chapter's protocol. The parent sends J jobs of B bytes and then one\n"
            "sentinel per worker on a job queue; N workers answer each job with a result (the\n"
            "job's 64-bit FNV-1a hash, checked by the parent) on a result queue and, on their\n"
            "sentinel, a confirmation, then exit. A worker that dies is replaced by a spare;\n"
            "on a reliable transport its job is requeued, on the others it is lost.\n"
            "\n"
            "  -t, --transport T     a transport or all (default all)\n"
            "  -w, --workers N       worker processes, 1..%d (default: CPUs available)\n"
            "  -j, --jobs J          jobs, 1..%u (default 10000)\n"
            "  -s, --size B          bytes per job, 1..%d (a message is 1..%d bytes,\n"
            "                        %d of them the protocol's header; default 64)\n"
            "      --work-us U       each job keeps its worker busy U microseconds,\n"
            "                        0..%u (default 0)\n"
            "      --kill-worker I   worker I (0..N-1) SIGKILLs itself after taking ...\n"
            "      --kill-after K    ... its K-th job (1..J), before doing it\n"
            "      --timeout S       give up after S seconds, 1..%u (default %u)\n"
            "\n"
            "loss: claim C19, a plain queue loses its work when a process dies. As run, with\n"
            "worker 0 killed mid-run: --kill-after defaults to J / N / 4; --workers to 2,\n"
            "--jobs to 2000, --work-us to %d (so that every worker gets its share of the\n"
            "jobs: with no work, one worker may take them all before another starts).\n"
            "\n"
            "bench: one producer process sends messages of B bytes to one consumer process\n"
            "(throughput, the consumer checks each message's length and number), and a\n"
            "message goes back and forth through two queues (latency: a round trip / 2).\n"
            "The two processes run on the first two CPUs this process may use.\n"
            "\n"
            "  -t, --transport T     a transport or all (default all)\n"
            "  -s, --size B          bytes per message, 1..%d (default: 8, 64, 512, 4096\n"
            "                        and 65536)\n"
            "  -m, --messages M      messages for throughput, 1..%u (default: 64 MiB\n"
            "                        worth, 1000..200000), after M/10 (at most 1000)\n"
            "                        unmeasured\n"
            "  -r, --round-trips R   round trips for latency, 1..%u (default 5000),\n"
            "                        after 100 unmeasured; percentiles from the first %u\n"
            "\n"
            "every mode:\n"
            "      --no-pin          do not pin processes to CPUs\n"
            "      --tmpdir DIR      where transports make their private files\n"
            "      --server-cpu N    pin a transport's server (redis-server) to CPU N\n"
            "      --redis-socket P  redis: use the Redis server on Unix socket P\n"
            "      --redis-password W  AUTH with W on that server (or IPCLAB_REDIS_PASSWORD;\n"
            "                        ipclab's own server gets a random password)\n"
            "      --format F        table (default) | json (one JSON object per line)\n"
            "  -h, --help            this text\n"
            "\n"
            "json fields (run, loss): mode, transport, available (false: reason says why and\n"
            "nothing else follows), reliable, workers, jobs (asked), size, work_us,\n"
            "kill_worker and\n"
            "kill_after (null: none), sent (jobs sent), results (distinct jobs answered),\n"
            "duplicates (extra results of jobs redone), lost (jobs never answered), confirmed\n"
            "(workers, replacements included, that confirmed their sentinel), died,\n"
            "requeued (messages a reliable transport gave back), wall_ns (first job sent to\n"
            "the last result or confirmation), jobs_per_s (results / wall), cpus (worker i\n"
            "on cpus[i %% n]; null: not pinned).\n"
            "json fields (bench): mode, transport, available, reason, size, messages,\n"
            "stream_ns (first send to last receive), msgs_per_s, bytes_per_s, round_trips,\n"
            "latency_ns (mean one-way: round trips' total / R / 2), latency_p50_ns,\n"
            "latency_p99_ns, latency_min_ns (percentiles of round trip / 2), cpus.\n",
            IPC_WORKQUEUE_MAX_WORKERS, MAX_JOBS, MAX_JOB, IPC_QUEUE_MAX_MSG, HDR_BYTES, MAX_WORK_US,
            MAX_TIMEOUT_S, DEFAULT_TIMEOUT_S, LOSS_WORK_US, IPC_QUEUE_MAX_MSG, MAX_MESSAGES,
            MAX_ROUND_TRIPS, MAX_SAMPLES);
}

/* ---- options every mode shares ---------------------------------------------------------- */

struct common {
    const char *transport; /* NULL: all */
    bool json, pin;
    struct ipc_queue_config cfg;
    int allowed[MAX_CPUS];
    int nallowed;
};

enum {
    OPT_NO_PIN = 256,
    OPT_TMPDIR,
    OPT_SERVER_CPU,
    OPT_REDIS_SOCKET,
    OPT_REDIS_PASSWORD,
    OPT_FORMAT,
    OPT_KILL_WORKER,
    OPT_KILL_AFTER,
    OPT_TIMEOUT,
    OPT_WORK_US,
};

/* The options of every mode; CLI_OK, CLI_USAGE after an error, or -1: not one of them. */
static int common_option(struct common *c, int opt, const char *arg)
{
    switch (opt) {
    case 't':
        if (strcmp(arg, "all") == 0) {
            c->transport = NULL;
        } else if (ipc_queue_find(arg)) {
            c->transport = arg;
        } else {
            char choices[256] = "";
            for (size_t i = 0; i < ipc_queue_transport_count; i++) {
                strcat(choices, ipc_queue_transports[i]->name);
                strcat(choices, ", ");
            }
            strcat(choices, "all");
            return cli_unknown(CMD, "transport", arg, choices);
        }
        return CLI_OK;
    case OPT_NO_PIN:
        c->pin = false;
        return CLI_OK;
    case OPT_TMPDIR:
        if (!*arg)
            return cli_error(CLI_USAGE, CMD, "--tmpdir: empty path");
        c->cfg.tmpdir = arg;
        return CLI_OK;
    case OPT_SERVER_CPU: {
        int cpu;
        if (cli_option_cpu(CMD, "server-cpu", arg, c->allowed, c->nallowed, &cpu) != CLI_OK)
            return CLI_USAGE;
        c->cfg.pin_server = true;
        c->cfg.server_cpu = (unsigned)cpu;
        return CLI_OK;
    }
    case OPT_REDIS_SOCKET:
        if (!*arg)
            return cli_error(CLI_USAGE, CMD, "--redis-socket: empty path");
        c->cfg.redis_socket = arg;
        return CLI_OK;
    case OPT_REDIS_PASSWORD:
        if (!*arg)
            return cli_error(CLI_USAGE, CMD, "--redis-password: empty password");
        c->cfg.redis_password = arg;
        return CLI_OK;
    case OPT_FORMAT:
        return cli_parse_format(CMD, arg, &c->json);
    default:
        return -1;
    }
}

/* The long options of every mode; each mode's table starts with these. */
#define COMMON_OPTIONS 8
static const struct option common_options[COMMON_OPTIONS] = {
    {"transport", required_argument, NULL, 't'},
    {"no-pin", no_argument, NULL, OPT_NO_PIN},
    {"tmpdir", required_argument, NULL, OPT_TMPDIR},
    {"server-cpu", required_argument, NULL, OPT_SERVER_CPU},
    {"redis-socket", required_argument, NULL, OPT_REDIS_SOCKET},
    {"redis-password", required_argument, NULL, OPT_REDIS_PASSWORD},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"help", no_argument, NULL, 'h'},
};

/* common_options followed by a mode's own (terminated by a zero entry) into all. */
static void join_options(struct option *all, const struct option *own)
{
    memcpy(all, common_options, sizeof common_options);
    size_t n = 0;
    while (own[n].name)
        n++;
    memcpy(all + COMMON_OPTIONS, own, (n + 1) * sizeof *own);
}

static void common_init(struct common *c)
{
    memset(c, 0, sizeof *c);
    c->pin = true;
    c->nallowed = ipc_cpu_allowed(c->allowed, MAX_CPUS);
}

/* Whether transport i is selected; prints why not when it cannot run here (all) or fails
 * (one named). *rc becomes CLI_RUNTIME for a named transport that cannot run. */
static bool usable(const struct common *c, const struct ipc_queue_ops *t, const char *mode, int *rc)
{
    if (c->transport && strcmp(c->transport, t->name) != 0)
        return false;
    char why[256];
    int p = ipc_queue_probe(t, why, sizeof why);
    /* An existing Redis server makes a missing local redis-server binary irrelevant. */
    if (p == -ENOENT && c->cfg.redis_socket)
        p = 0;
    if (p == 0)
        return true;
    if (c->transport) {
        *rc = cli_error(CLI_RUNTIME, CMD, "transport '%s' is not available here: %s", t->name, why);
        return false;
    }
    if (c->json) {
        printf("{\"mode\":\"%s\",\"transport\":", mode);
        cli_json_string(stdout, t->name);
        printf(",\"available\":false,\"reason\":");
        cli_json_string(stdout, why);
        printf("}\n");
    } else {
        printf("# %s: not available here: %s\n", t->name, why);
    }
    return false;
}

static void print_cpus(const int *cpus, int ncpus, unsigned n)
{
    if (!cpus) {
        printf("null");
        return;
    }
    putchar('[');
    for (unsigned i = 0; i < n && i < (unsigned)ncpus; i++)
        printf("%s%d", i ? "," : "", cpus[i]);
    putchar(']');
}

/* ---- run and loss ------------------------------------------------------------------------ */

struct job_ctx {
    size_t size;
    uint64_t work_ns;      /* each job keeps its worker busy this long */
    unsigned char *job;    /* the feeder thread's buffer */
    unsigned char *expect; /* the main thread's */
    uint64_t wrong;
};

static void make_job(unsigned char *b, size_t size, size_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15u + 1;
    for (size_t k = 0; k < size; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[k] = (unsigned char)x;
    }
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static const void *job_at(size_t i, size_t *len, void *arg)
{
    struct job_ctx *c = arg;
    make_job(c->job, c->size, i);
    *len = c->size;
    return c->job;
}

static int work(const void *job, size_t len, void *result, size_t *result_len, void *arg)
{
    const struct job_ctx *c = arg;
    if (*result_len < 8)
        return -ENOBUFS;
    /* Busy, not asleep: the job holds its CPU as computation would. */
    for (uint64_t t0 = c->work_ns ? ipc_now_ns() : 0; c->work_ns && ipc_now_ns() - t0 < c->work_ns;)
        ;
    uint64_t h = fnv1a(job, len);
    memcpy(result, &h, 8);
    *result_len = 8;
    return 0;
}

static void on_result(size_t i, const void *result, size_t len, void *arg)
{
    struct job_ctx *c = arg;
    make_job(c->expect, c->size, i);
    uint64_t h = fnv1a(c->expect, c->size);
    if (len != 8 || memcmp(result, &h, 8) != 0)
        c->wrong++;
}

struct run_opts {
    unsigned workers;
    uint64_t jobs, size, kill_after, timeout_s, work_us;
    int kill_worker;
    bool kill_after_set;
};

static void print_run_header(const char *mode, const struct run_opts *r, const int *cpus, int ncpus)
{
    printf("# %s: %u worker%s, %llu jobs of %llu bytes and %llu us of work", mode, r->workers,
           r->workers == 1 ? "" : "s", (unsigned long long)r->jobs, (unsigned long long)r->size,
           (unsigned long long)r->work_us);
    if (r->kill_worker >= 0)
        printf(", worker %d killed after taking its job %llu", r->kill_worker,
               (unsigned long long)r->kill_after);
    if (cpus) {
        printf(", pinned to CPU");
        for (int i = 0; i < ncpus && (unsigned)i < r->workers; i++)
            printf("%s%d", i ? "," : " ", cpus[i]);
    } else {
        printf(", not pinned");
    }
    printf("\n%-11s %-8s %8s %8s %6s %6s %9s %5s %8s %10s %10s\n", "transport", "reliable", "sent",
           "results", "dups", "lost", "confirmed", "died", "requeued", "wall_ms", "jobs/s");
}

static void print_run_row(const struct ipc_queue_ops *t, const struct ipc_workqueue_stats *st)
{
    double rate = st->wall_ns ? (double)st->results * 1e9 / (double)st->wall_ns : 0;
    printf("%-11s %-8s %8llu %8llu %6llu %6llu %9u %5u %8u %10.3f %10.0f\n", t->name,
           t->props & IPC_QUEUE_PROP_RELIABLE ? "yes" : "no", (unsigned long long)st->jobs,
           (unsigned long long)st->results, (unsigned long long)st->duplicates,
           (unsigned long long)st->lost, st->confirmed, st->died, st->requeued,
           (double)st->wall_ns / 1e6, rate);
}

static void print_run_json(const char *mode, const struct ipc_queue_ops *t,
                           const struct run_opts *r, const struct ipc_workqueue_stats *st,
                           const int *cpus, int ncpus)
{
    double rate = st->wall_ns ? (double)st->results * 1e9 / (double)st->wall_ns : 0;
    printf("{\"mode\":\"%s\",\"transport\":", mode);
    cli_json_string(stdout, t->name);
    printf(",\"available\":true,\"reliable\":%s,\"workers\":%u,\"jobs\":%llu,\"size\":%llu"
           ",\"work_us\":%llu",
           t->props & IPC_QUEUE_PROP_RELIABLE ? "true" : "false", r->workers,
           (unsigned long long)r->jobs, (unsigned long long)r->size,
           (unsigned long long)r->work_us);
    if (r->kill_worker >= 0)
        printf(",\"kill_worker\":%d,\"kill_after\":%llu", r->kill_worker,
               (unsigned long long)r->kill_after);
    else
        printf(",\"kill_worker\":null,\"kill_after\":null");
    printf(",\"sent\":%llu,\"results\":%llu,\"duplicates\":%llu,\"lost\":%llu,\"confirmed\":%u"
           ",\"died\":%u,\"requeued\":%u,\"wall_ns\":%llu,\"jobs_per_s\":%.1f,\"cpus\":",
           (unsigned long long)st->jobs, (unsigned long long)st->results,
           (unsigned long long)st->duplicates, (unsigned long long)st->lost, st->confirmed,
           st->died, st->requeued, (unsigned long long)st->wall_ns, rate);
    print_cpus(cpus, ncpus, r->workers);
    printf("}\n");
}

static int run_mode(int argc, char **argv, bool loss)
{
    const char *mode = loss ? "loss" : "run";
    static const struct option own[] = {
        {"workers", required_argument, NULL, 'w'},
        {"jobs", required_argument, NULL, 'j'},
        {"size", required_argument, NULL, 's'},
        {"kill-worker", required_argument, NULL, OPT_KILL_WORKER},
        {"kill-after", required_argument, NULL, OPT_KILL_AFTER},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"work-us", required_argument, NULL, OPT_WORK_US},
        {0, 0, 0, 0},
    };
    struct option opts[COMMON_OPTIONS + sizeof own / sizeof own[0]];
    join_options(opts, own);
    static struct common c;
    common_init(&c);
    struct run_opts r = {
        .work_us = loss ? LOSS_WORK_US : 0,
        .workers = loss ? 2 : (c.nallowed > 0 ? (unsigned)c.nallowed : 1),
        .jobs = loss ? 2000 : 10000,
        .size = 64,
        .kill_worker = loss ? 0 : -1,
        .timeout_s = DEFAULT_TIMEOUT_S,
    };
    bool kill_worker_set = false;
    uint64_t u;
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":t:w:j:s:h", opts, NULL)) != -1) {
        int rc = common_option(&c, o, optarg);
        if (rc == CLI_OK)
            continue;
        if (rc > 0)
            return rc;
        switch (o) {
        case 'w':
            CLI_NUM_OPT(CMD, u, "workers", 1, IPC_WORKQUEUE_MAX_WORKERS);
            r.workers = (unsigned)u;
            break;
        case 'j':
            CLI_NUM_OPT(CMD, r.jobs, "jobs", 1, MAX_JOBS);
            break;
        case 's':
            CLI_NUM_OPT(CMD, r.size, "size", 1, MAX_JOB);
            break;
        case OPT_KILL_WORKER:
            CLI_NUM_OPT(CMD, u, "kill-worker", 0, IPC_WORKQUEUE_MAX_WORKERS - 1);
            r.kill_worker = (int)u;
            kill_worker_set = true;
            break;
        case OPT_KILL_AFTER:
            CLI_NUM_OPT(CMD, r.kill_after, "kill-after", 1, MAX_JOBS);
            r.kill_after_set = true;
            break;
        case OPT_TIMEOUT:
            CLI_NUM_OPT(CMD, r.timeout_s, "timeout", 1, MAX_TIMEOUT_S);
            break;
        case OPT_WORK_US:
            CLI_NUM_OPT(CMD, r.work_us, "work-us", 0, MAX_WORK_US);
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(CMD, o, argv);
        }
    }
    if (optind < argc)
        return cli_unexpected_arg(CMD, argv[optind]);
    if (!loss && kill_worker_set != r.kill_after_set)
        return cli_error(CLI_USAGE, CMD, "--kill-worker and --kill-after go together");
    if (r.kill_worker >= (int)r.workers)
        return cli_error(CLI_USAGE, CMD, "--kill-worker: worker %d does not exist (%u workers)",
                         r.kill_worker, r.workers);
    /* A quarter of worker 0's share: early enough that it surely gets there. */
    if (loss && !r.kill_after_set)
        r.kill_after = r.jobs / r.workers / 4 ? r.jobs / r.workers / 4 : 1;
    if (r.kill_worker >= 0 && r.kill_after > r.jobs)
        return cli_error(CLI_USAGE, CMD, "--kill-after: %llu is more than the %llu jobs",
                         (unsigned long long)r.kill_after, (unsigned long long)r.jobs);

    const int *cpus = c.pin && c.nallowed > 0 ? c.allowed : NULL;
    int ncpus = cpus ? c.nallowed : 0;
    struct job_ctx jc = {.size = r.size,
                         .work_ns = r.work_us * 1000,
                         .job = malloc(r.size),
                         .expect = malloc(r.size)};
    if (!jc.job || !jc.expect) {
        free(jc.job);
        free(jc.expect);
        return cli_error(CLI_RUNTIME, CMD, "out of memory");
    }
    if (!c.json)
        print_run_header(mode, &r, cpus, ncpus);
    int rc = cli_flush() < 0 ? CLI_RUNTIME : CLI_OK;
    for (size_t i = 0; i < ipc_queue_transport_count && rc == CLI_OK; i++) {
        const struct ipc_queue_ops *t = ipc_queue_transports[i];
        if (!usable(&c, t, mode, &rc))
            continue;
        struct ipc_workqueue_opts wo = {
            .transport = t,
            .cfg = c.cfg,
            .workers = r.workers,
            .cpus = cpus,
            .ncpus = ncpus,
            .timeout_ms = (int)(r.timeout_s * 1000),
            .kill_worker = r.kill_worker,
            .kill_after = (unsigned)r.kill_after,
        };
        wo.cfg.max_msg = r.size > 8 ? r.size : 8; /* jobs and 8-byte results */
        jc.wrong = 0;
        struct ipc_workqueue_stats st;
        char err[256];
        if (ipc_workqueue_run(&wo, r.jobs, job_at, work, on_result, &jc, &st, err, sizeof err) <
            0) {
            rc = cli_error(CLI_RUNTIME, CMD, "%s: %s", t->name, err);
            break;
        }
        if (c.json)
            print_run_json(mode, t, &r, &st, cpus, ncpus);
        else
            print_run_row(t, &st);
        if (!c.json && r.kill_worker >= 0 && st.died == 0)
            printf("# %s: worker %d never took %llu jobs (the others were faster):\n"
                   "# nobody died\n",
                   t->name, r.kill_worker, (unsigned long long)r.kill_after);
        if (jc.wrong)
            rc = cli_error(CLI_RUNTIME, CMD, "%s: %llu results did not match their jobs", t->name,
                           (unsigned long long)jc.wrong);
        if (cli_flush() < 0 && rc == CLI_OK)
            rc = CLI_RUNTIME;
    }
    if (loss && !c.json && rc == CLI_OK)
        printf("# C19: a transport that is not reliable loses the job the killed worker held "
               "(lost = died);\n# a reliable one gives it back (requeued) and loses nothing.\n");
    free(jc.job);
    free(jc.expect);
    return rc;
}

/* ---- bench ---------------------------------------------------------------------------------- */

struct bench_row {
    size_t size;
    uint64_t messages, stream_ns, round_trips, rt_ns;
    double p50, p99, min;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int measure(const struct ipc_queue_ops *t, const struct ipc_queue_config *cfg,
                   const int *cpus, struct bench_row *row, char *err, size_t errlen)
{
    struct ipc_queue_config qc = *cfg;
    qc.max_msg = row->size;
    struct ipc_qbench *b =
        ipc_qbench_start(t, &qc, IPC_QBENCH_STREAM, row->size, 0, cpus, err, errlen);
    if (!b)
        return -1;
    uint64_t warm = row->messages / 10 < 1000 ? row->messages / 10 : 1000;
    int rc = warm ? ipc_qbench_run(b, warm, NULL, err, errlen) : 0;
    if (rc == 0)
        rc = ipc_qbench_run(b, row->messages, &row->stream_ns, err, errlen);
    ipc_qbench_stop(b);
    if (rc < 0)
        return -1;
    size_t keep = row->round_trips < MAX_SAMPLES ? row->round_trips : MAX_SAMPLES;
    b = ipc_qbench_start(t, &qc, IPC_QBENCH_PINGPONG, row->size, keep, cpus, err, errlen);
    if (!b)
        return -1;
    rc = ipc_qbench_run(b, 100, NULL, err, errlen);
    if (rc == 0)
        rc = ipc_qbench_run(b, row->round_trips, &row->rt_ns, err, errlen);
    if (rc == 0) {
        size_t n;
        const uint64_t *s = ipc_qbench_samples(b, &n);
        uint64_t *v = malloc((n ? n : 1) * sizeof *v);
        if (!v) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else if (n) {
            memcpy(v, s, n * sizeof *v);
            qsort(v, n, sizeof *v, cmp_u64);
            row->min = (double)v[0] / 2;
            row->p50 = (double)v[n / 2] / 2;
            row->p99 = (double)v[(n - 1) * 99 / 100] / 2;
        }
        free(v);
    }
    ipc_qbench_stop(b);
    return rc < 0 ? -1 : 0;
}

static void print_bench_json(const struct ipc_queue_ops *t, const struct bench_row *r,
                             const int *cpus)
{
    double secs = (double)r->stream_ns / 1e9;
    printf("{\"mode\":\"bench\",\"transport\":");
    cli_json_string(stdout, t->name);
    printf(",\"available\":true,\"reason\":null,\"size\":%zu,\"messages\":%llu,\"stream_ns\":%llu"
           ",\"msgs_per_s\":%.1f,\"bytes_per_s\":%.1f,\"round_trips\":%llu,\"latency_ns\":%.1f"
           ",\"latency_p50_ns\":%.1f,\"latency_p99_ns\":%.1f,\"latency_min_ns\":%.1f,\"cpus\":",
           r->size, (unsigned long long)r->messages, (unsigned long long)r->stream_ns,
           (double)r->messages / secs, (double)r->messages * (double)r->size / secs,
           (unsigned long long)r->round_trips, (double)r->rt_ns / (double)r->round_trips / 2,
           r->p50, r->p99, r->min);
    print_cpus(cpus, 2, 2);
    printf("}\n");
}

static void print_bench_row(const struct ipc_queue_ops *t, const struct bench_row *r)
{
    double secs = (double)r->stream_ns / 1e9;
    printf("%-11s %7zu %9llu %12.0f %10.2f %9llu %9.2f %9.2f %9.2f\n", t->name, r->size,
           (unsigned long long)r->messages, (double)r->messages / secs,
           (double)r->messages * (double)r->size / secs / 1e6, (unsigned long long)r->round_trips,
           (double)r->rt_ns / (double)r->round_trips / 2 / 1e3, r->p50 / 1e3, r->p99 / 1e3);
}

static int bench_mode(int argc, char **argv)
{
    static const struct option own[] = {
        {"size", required_argument, NULL, 's'},
        {"messages", required_argument, NULL, 'm'},
        {"round-trips", required_argument, NULL, 'r'},
        {0, 0, 0, 0},
    };
    struct option opts[COMMON_OPTIONS + sizeof own / sizeof own[0]];
    join_options(opts, own);
    static struct common c;
    common_init(&c);
    uint64_t size = 0, messages = 0, round_trips = 5000;
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":t:s:m:r:h", opts, NULL)) != -1) {
        int rc = common_option(&c, o, optarg);
        if (rc == CLI_OK)
            continue;
        if (rc > 0)
            return rc;
        switch (o) {
        case 's':
            CLI_NUM_OPT(CMD, size, "size", 1, IPC_QUEUE_MAX_MSG);
            break;
        case 'm':
            CLI_NUM_OPT(CMD, messages, "messages", 1, MAX_MESSAGES);
            break;
        case 'r':
            CLI_NUM_OPT(CMD, round_trips, "round-trips", 1, MAX_ROUND_TRIPS);
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(CMD, o, argv);
        }
    }
    if (optind < argc)
        return cli_unexpected_arg(CMD, argv[optind]);
    int pair[2];
    const int *cpus = NULL;
    if (c.pin && c.nallowed > 0) {
        pair[0] = c.allowed[0];
        pair[1] = c.allowed[c.nallowed > 1 ? 1 : 0];
        cpus = pair;
    }
    if (!c.json) {
        printf("# one producer -> one consumer (throughput); round trip / 2 (latency)");
        if (cpus)
            printf("; processes on CPU %d and %d\n", cpus[0], cpus[1]);
        else
            printf("; not pinned\n");
        printf("%-11s %7s %9s %12s %10s %9s %9s %9s %9s\n", "transport", "size", "messages",
               "msgs/s", "MB/s", "rtrips", "lat_us", "p50_us", "p99_us");
    }
    int rc = cli_flush() < 0 ? CLI_RUNTIME : CLI_OK;
    for (size_t i = 0; i < ipc_queue_transport_count && rc == CLI_OK; i++) {
        const struct ipc_queue_ops *t = ipc_queue_transports[i];
        if (!usable(&c, t, "bench", &rc))
            continue;
        for (size_t k = 0; k < NSIZES && rc == CLI_OK; k++) {
            struct bench_row row = {.size = size ? size : bench_sizes[k],
                                    .round_trips = round_trips};
            if (messages) {
                row.messages = messages;
            } else {
                uint64_t m = (64u << 20) / row.size;
                row.messages = m < 1000 ? 1000 : m > 200000 ? 200000 : m;
            }
            char err[256];
            if (measure(t, &c.cfg, cpus, &row, err, sizeof err) < 0) {
                rc = cli_error(CLI_RUNTIME, CMD, "%s, %zu bytes: %s", t->name, row.size, err);
                break;
            }
            if (c.json)
                print_bench_json(t, &row, cpus);
            else
                print_bench_row(t, &row);
            if (cli_flush() < 0)
                rc = CLI_RUNTIME;
            if (size)
                break;
        }
    }
    return rc;
}

int cmd_queue(int argc, char **argv)
{
    if (argc < 2)
        return cli_error(CLI_USAGE, CMD, "no mode given (run, loss, bench; --help explains)");
    const char *mode = argv[1];
    if (strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(mode, "run") == 0)
        return run_mode(argc - 1, argv + 1, false);
    if (strcmp(mode, "loss") == 0)
        return run_mode(argc - 1, argv + 1, true);
    if (strcmp(mode, "bench") == 0)
        return bench_mode(argc - 1, argv + 1);
    return cli_unknown(CMD, "mode", mode, "run, loss, bench");
}
