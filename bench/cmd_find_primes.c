/* SPDX-License-Identifier: MIT */
/* `ipclab find-primes`: count the primes up to N with workers fed from a queue in jobs of J
 * numbers, or serially, check the count against a sieve, and time it. */
#include "cli.h"

#include "../ipc/cpu.h"
#include "../ipc/find_primes.h"
#include "../ipc/redis_server.h"
#include "../ipc/topology.h"
#include "../workloads/prime.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#define CMD "find-primes"
#define MAX_REPEAT 1000
#define DEFAULT_N 200000
#define DEFAULT_JOB_SIZE 1000
#define MAX_CPUS 1024

/* "serial, mq, pipe, ..." for help and errors. */
static void transport_list(char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "serial");
    for (size_t i = 0; i < ipc_queue_transport_count && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, ", %s", ipc_queue_transports[i]->name);
}

static void usage(FILE *out)
{
    char names[256];
    transport_list(names, sizeof names);
    fprintf(out,
            "usage: ipclab find-primes [options]\n"
            "\n"
            "Count the primes in 1..N, each number tested by trial division by the odd\n"
            "numbers up to its square root, in jobs of J consecutive numbers: the parent\n"
            "sends the jobs on a queue, W worker processes take them one at a time and send\n"
            "back a count each, then a sentinel per worker ends the run and each worker\n"
            "confirms it. serial: the parent does every job itself, no queue, no processes.\n"
            "The count is checked against a segmented sieve (a different method).\n"
            "\n"
            "  -t, --transport T     %s\n"
            "                        (default pipe; one that cannot run here says why)\n"
            "  -n, --n N             0..%llu (default %d)\n"
            "  -j, --job-size J      numbers per job, 1..%llu (default %d; more than N:\n"
            "                        one job)\n"
            "  -w, --workers W       worker processes, 1..%d (default: physical cores)\n"
            "  -r, --repeat R        run R times, 1..%d (default 1)\n"
            "      --no-pin          do not pin worker i to the i-th available CPU (workers\n"
            "                        beyond the CPUs are never pinned)\n"
            "      --tmpdir DIR      where transports make their private files (default\n"
            "                        $TMPDIR, else /tmp)\n"

            "      --format F        table (default) | json (one JSON object per run)\n"
            "  -h, --help            this text\n"
            "\n"
            "A server transport (redis) gets one private redis-server, started before the\n"
            "first run and stopped after the last, so its start-up is not timed.\n"
            "\n"
            "json fields: transport, n, job_size, workers (0 for serial), run, primes,\n"
            "reference (the sieve's count), jobs, messages (jobs, results, a sentinel and a\n"
            "confirmation per worker; serial 0), bytes (job and result bodies, 16 and 8\n"
            "bytes each; the protocol's headers are not counted), wall_ns (the whole run:\n"
            "opening the queues, forking, every job, reaping, closing; serial: the loop),\n"
            "queue_ns (first job sent to last confirmation; serial null), ns_per_job\n"
            "(wall_ns / jobs), physical_cores and logical_cpus this process may use, pin\n"
            "(per-worker or none) and cpus (null: not pinned).\n",
            names, IPC_FP_MAX_N, DEFAULT_N, IPC_FP_MAX_N, DEFAULT_JOB_SIZE, IPC_FP_MAX_WORKERS,
            MAX_REPEAT);
}

struct ctx {
    const struct ipc_fp_opts *o;
    const struct ipc_topology *topo;
    const char *transport;
    uint64_t reference;
};

static void print_cpus(const struct ipc_fp_opts *o)
{
    if (!o->cpus || !o->transport) {
        printf("null");
        return;
    }
    putchar('[');
    for (unsigned i = 0; i < o->workers; i++)
        printf("%s%d", i ? "," : "", o->cpus[i % (unsigned)o->ncpus]);
    putchar(']');
}

static void print_json(const struct ctx *c, const struct ipc_fp_result *r, unsigned run)
{
    const struct ipc_fp_opts *o = c->o;
    printf("{\"transport\":");
    cli_json_string(stdout, c->transport);
    printf(",\"n\":%" PRIu64 ",\"job_size\":%" PRIu64 ",\"workers\":%u,\"run\":%u"
           ",\"primes\":%" PRIu64 ",\"reference\":%" PRIu64 ",\"jobs\":%" PRIu64
           ",\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"wall_ns\":%" PRIu64 ",\"queue_ns\":",
           o->n, o->job_size, o->transport ? o->workers : 0, run, r->primes, c->reference, r->jobs,
           r->messages, r->bytes, r->wall_ns);
    if (o->transport)
        printf("%" PRIu64, r->queue_ns);
    else
        printf("null");
    printf(",\"ns_per_job\":");
    if (r->jobs)
        printf("%.1f", (double)r->wall_ns / (double)r->jobs);
    else
        printf("null");
    printf(",\"physical_cores\":%d,\"logical_cpus\":%d,\"pin\":\"%s\",\"cpus\":",
           c->topo->physical_cores, c->topo->logical_cpus,
           o->cpus && o->transport ? "per-worker" : "none");
    print_cpus(o);
    printf("}\n");
}

static void print_table_header(const struct ctx *c)
{
    const struct ipc_fp_opts *o = c->o;
    uint64_t njobs = ipc_fp_njobs(o->n, o->job_size);
    printf("# find-primes: primes in 1..%" PRIu64 " (sieve: %" PRIu64 "), %" PRIu64
           " job%s of %" PRIu64 " number%s, ",
           o->n, c->reference, njobs, njobs == 1 ? "" : "s", o->job_size,
           o->job_size == 1 ? "" : "s");
    if (!o->transport) {
        printf("serial: no queue, no processes\n");
    } else {
        printf("transport %s, %u worker%s", c->transport, o->workers, o->workers == 1 ? "" : "s");
        if (o->cpus) {
            printf(" pinned to CPU%s", o->workers == 1 ? "" : "s");
            for (unsigned i = 0; i < o->workers; i++)
                printf("%s%d", i ? "," : " ", o->cpus[i % (unsigned)o->ncpus]);
        } else {
            printf(" not pinned");
        }
        printf(" (%d physical core%s)\n", c->topo->physical_cores,
               c->topo->physical_cores == 1 ? "" : "s");
    }
    printf("%-4s %10s %12s %12s %10s %10s %12s %12s\n", "run", "primes", "wall_ms", "queue_ms",
           "jobs", "messages", "bytes", "us_per_job");
}

static void print_table(const struct ctx *c, const struct ipc_fp_result *r, unsigned run)
{
    char queue[32] = "-", per_job[32] = "-";
    if (c->o->transport)
        snprintf(queue, sizeof queue, "%.3f", (double)r->queue_ns / 1e6);
    if (r->jobs)
        snprintf(per_job, sizeof per_job, "%.3f", (double)r->wall_ns / (double)r->jobs / 1e3);
    printf("%-4u %10" PRIu64 " %12.3f %12s %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %12s\n", run,
           r->primes, (double)r->wall_ns / 1e6, queue, r->jobs, r->messages, r->bytes, per_job);
}

int cmd_find_primes(int argc, char **argv)
{
    enum { OPT_NO_PIN = 256, OPT_TMPDIR, OPT_FORMAT };
    static const struct option opts[] = {
        {"transport", required_argument, NULL, 't'},
        {"n", required_argument, NULL, 'n'},
        {"job-size", required_argument, NULL, 'j'},
        {"workers", required_argument, NULL, 'w'},
        {"repeat", required_argument, NULL, 'r'},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"tmpdir", required_argument, NULL, OPT_TMPDIR},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct ipc_fp_opts o = {.n = DEFAULT_N, .job_size = DEFAULT_JOB_SIZE, .timeout_ms = -1};
    const char *transport = "pipe";
    bool json = false, pin = true;
    uint64_t repeat = 1, workers = 0;

    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":t:n:j:w:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            transport = optarg;
            break;
        case 'n':
            CLI_NUM_OPT(CMD, o.n, "n", 0, IPC_FP_MAX_N);
            break;
        case 'j':
            CLI_NUM_OPT(CMD, o.job_size, "job-size", 1, IPC_FP_MAX_N);
            break;
        case 'w':
            CLI_NUM_OPT(CMD, workers, "workers", 1, IPC_FP_MAX_WORKERS);
            break;
        case 'r':
            CLI_NUM_OPT(CMD, repeat, "repeat", 1, MAX_REPEAT);
            break;
        case OPT_NO_PIN:
            pin = false;
            break;
        case OPT_TMPDIR:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--tmpdir: empty path");
            o.cfg.tmpdir = optarg;
            break;
        case OPT_FORMAT:
            if (cli_parse_format(CMD, optarg, &json) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_unexpected_arg(CMD, argv[optind]);
    if (strcmp(transport, "serial") != 0) {
        o.transport = ipc_queue_find(transport);
        if (!o.transport) {
            char names[256];
            transport_list(names, sizeof names);
            return cli_unknown(CMD, "transport", transport, names);
        }
    } else if (workers > 1) {
        return cli_error(CLI_USAGE, CMD, "--workers applies to queue transports, not serial");
    }

    struct ipc_topology topo;
    ipc_topology_read(&topo); /* on failure still filled from the affinity mask */
    if (workers == 0)
        workers = (uint64_t)topo.physical_cores;
    if (workers > IPC_FP_MAX_WORKERS)
        workers = IPC_FP_MAX_WORKERS;
    o.workers = o.transport ? (unsigned)workers : 1;
    static int allowed[MAX_CPUS];
    int nallowed = ipc_cpu_allowed(allowed, MAX_CPUS);
    /* One CPU per worker, or none: round-robin pinning of more workers than CPUs would make
     * some CPUs share their time and measure that instead. */
    if (o.transport && pin && nallowed > 0 && o.workers <= (unsigned)nallowed) {
        o.cpus = allowed;
        o.ncpus = nallowed;
    }

    struct ipc_redis_server server;
    memset(&server, 0, sizeof server);
    if (o.transport) {
        char why[256];
        if (ipc_queue_probe(o.transport, why, sizeof why) < 0)
            return cli_error(CLI_RUNTIME, CMD, "transport '%s' is not available here: %s",
                             o.transport->name, why);
        /* A server transport's server is started once here, before the clock, rather than
         * by every run: its start-up is not what is measured. */
        if (o.transport->props & IPC_QUEUE_PROP_SERVER) {
            if (ipc_redis_server_start(&server, o.cfg.tmpdir, -1) < 0)
                return cli_error(CLI_RUNTIME, CMD, "cannot start redis-server: %s", server.errstr);
            o.cfg.redis_socket = server.socket;
            o.cfg.redis_password = server.password;
        }
    }

    struct ctx cx = {
        .o = &o,
        .topo = &topo,
        .transport = o.transport ? o.transport->name : "serial",
        .reference = wl_count_primes_sieve(1, o.n),
    };
    if (!json)
        print_table_header(&cx);
    int rc = CLI_OK;
    for (unsigned run = 1; run <= repeat && rc == CLI_OK; run++) {
        struct ipc_fp_result r;
        char err[256];
        if (ipc_find_primes_run(&o, &r, err, sizeof err) < 0) {
            rc = cli_error(CLI_RUNTIME, CMD, "%s: %s", cx.transport, err);
            break;
        }
        if (r.primes != cx.reference) {
            rc = cli_error(CLI_RUNTIME, CMD,
                           "%s counted %" PRIu64 " primes in 1..%" PRIu64 ", the sieve %" PRIu64,
                           cx.transport, r.primes, o.n, cx.reference);
            break;
        }
        if (r.wall_ns == 0)
            r.wall_ns = 1;
        if (json)
            print_json(&cx, &r, run);
        else
            print_table(&cx, &r, run);
        if (cli_flush() < 0)
            rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
    }
    ipc_redis_server_stop(&server);
    return rc;
}
