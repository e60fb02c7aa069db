/* SPDX-License-Identifier: MIT */
/* `ipclab redis-bench`: Redis over a Unix socket vs TCP loopback, throughput by pipeline depth,
 * measured by ipclab's client and by redis-benchmark side by side on one server. */
#include "cli.h"

#include "../ipc/cpu.h"
#include "../ipc/redis_bench.h"
#include "../ipc/redis_benchmark_tool.h"
#include "../ipc/redis_server.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define CMD "redis-bench"
#define MAX_CPUS 1024
#define MAX_REPEAT 10000u
#define DEFAULT_SECONDS 0.5
#define MIN_SECONDS 0.01
#define MAX_SECONDS 3600.0
#define DEFAULT_REDIS_PORT 6379

enum { CL_IPCLAB, CL_TOOL, NCLIENTS };
enum { TR_UNIX, TR_TCP, NTRANSPORTS };
static const char *const client_names[NCLIENTS] = {"ipclab", "redis-benchmark"};
static const char *const transport_names[NTRANSPORTS] = {"unix", "tcp"};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab redis-bench [options]\n"
            "\n"
            "Redis over a Unix socket vs TCP loopback: requests per second and latency by\n"
            "pipeline depth, measured by ipclab's own client (hiredis, C connections in one\n"
            "poll loop, P requests in flight on each) and by redis-benchmark with the same\n"
            "settings, one after the other on the same server. Both send exactly\n"
            "redis-benchmark's commands: GET key:__rand_int__, SET key:__rand_int__ <3\n"
            "bytes>, INCR counter:__rand_int__.\n"
            "\n"
            "  -t, --transport T     unix | tcp | both (default both)\n"
            "  -P, --pipeline P      requests in flight per client, 1..%u (default 1)\n"
            "  -c, --clients C       connections, 1..%u (default 1)\n"
            "  -n, --requests N      requests per run, 1..%llu (default: by --seconds)\n"
            "      --seconds S       size each run to last about S seconds, %g..%g (default\n"
            "                        %g): a pilot run of ipclab's client measures the rate,\n"
            "                        N = rate x S, clamped to [max(4 C P, %u), %u] and\n"
            "                        rounded to a multiple of C x P; once per transport, the\n"
            "                        same N for both clients\n"
            "      --op OP           get | set | incr (default get)\n"
            "      --client K        ipclab | redis-benchmark | both (default both: each run\n"
            "                        with both, and ipclab's rps as a fraction of\n"
            "                        redis-benchmark's; when one of them cannot run here it\n"
            "                        says why on stderr and the other runs alone)\n"
            "      --client-cpu N    pin the client to CPU N (default: the first available)\n"
            "      --server-cpu N    pin ipclab's redis-server to CPU N (default: the second\n"
            "                        available, or the first when there is only one)\n"
            "      --no-pin          pin nothing\n"
            "      --redis-socket P  use the Redis server on Unix socket P (unix) ...\n"
            "      --redis-host H    ... and/or on host H (tcp) ...\n"
            "      --redis-port N    ... port N (default %d); without these ipclab starts\n"
            "                        its own redis-server (private socket and port) once,\n"
            "                        and stops it at the end, Ctrl-C included, with a random\n"
            "                        password\n"
            "      --redis-password W  AUTH with W on a server given above (or set\n"
            "                        IPCLAB_REDIS_PASSWORD, which ps does not show)\n"
            "  -r, --repeat R        runs of everything, 1..%u (default 1)\n"
            "      --format F        table (default) | json (one JSON object per line)\n"
            "  -h, --help            this text\n"
            "\n"
            "Order: for each run, each transport, each client, so slow drift hits both\n"
            "clients alike. ipclab's own server gets key:__rand_int__ SET once first, so GET\n"
            "finds a 3-byte value, as in redis-benchmark's default suite.\n"
            "\n"
            "json fields: client, transport, op, pipeline, clients, requests, wall_ns (first\n"
            "write to last reply; redis-benchmark: requests / its rps), rps, mean_us, p50_us,\n"
            "p99_us (latency of a request: from its batch's write to the batch's last reply;\n"
            "redis-benchmark's ends at the batch's first read, shorter for long pipelines),\n"
            "client_cpu (where the client ran at its end), server_cpu (where ipclab's\n"
            "redis-server last ran; null for a server ipclab did not start), placement\n"
            "(same-core | other-core: the server's CPU relative to the client's; unpinned:\n"
            "--no-pin or a server ipclab did not start), run (1..R).\n"
            "\n"
            "redis-benchmark sends whole pipelines only: with N not a multiple of P it sends\n"
            "up to P - 1 requests more (ipclab's client sends exactly N). It times a run in\n"
            "milliseconds. Percentiles are exact (sorted) for ipclab's client up to %u\n"
            "batches, within 0.1%% beyond; redis-benchmark's come from its histogram.\n",
            IPC_RB_MAX_PIPELINE, IPC_RB_MAX_CLIENTS, IPC_RB_MAX_REQUESTS, MIN_SECONDS, MAX_SECONDS,
            DEFAULT_SECONDS, IPC_RB_SIZE_MIN, IPC_RB_SIZE_MAX, DEFAULT_REDIS_PORT, MAX_REPEAT,
            IPC_RB_EXACT_MAX_BATCHES);
}

/* Seconds as a plain decimal (0.5, 2): digits and at most one point, within the limits. */
static int parse_seconds(const char *arg, double *out)
{
    size_t digits = strspn(arg, "0123456789."), points = 0;
    for (const char *p = arg; *p; p++)
        points += *p == '.';
    char *end;
    double v = strtod(arg, &end);
    if (!*arg || arg[digits] || points > 1 || *end || !(v >= MIN_SECONDS && v <= MAX_SECONDS))
        return cli_error(CLI_USAGE, CMD, "--seconds: '%s' is not a number of seconds from %g to %g",
                         CLI_QUOTED(arg), MIN_SECONDS, MAX_SECONDS);
    *out = v;
    return CLI_OK;
}

/* "unix", "tcp" or "both" into the selection. */
static int parse_choice2(const char *what, const char *arg, const char *const names[2], bool sel[2])
{
    if (strcmp(arg, "both") == 0) {
        sel[0] = sel[1] = true;
        return CLI_OK;
    }
    for (int i = 0; i < 2; i++) {
        if (strcmp(arg, names[i]) == 0) {
            sel[i] = true;
            sel[1 - i] = false;
            return CLI_OK;
        }
    }
    char choices[64];
    snprintf(choices, sizeof choices, "%s, %s, both", names[0], names[1]);
    return cli_unknown(CMD, what, arg, choices);
}

struct cfg {
    bool transport[NTRANSPORTS], transport_set;
    bool client[NCLIENTS];
    struct ipc_rb_opts o;
    uint64_t requests; /* 0: sized by seconds */
    double seconds;
    bool seconds_set, pin, json;
    int client_cpu, server_cpu; /* -1: not given */
    const char *socket, *host;
    const char *password; /* --redis-password, for a server ipclab did not start */
    int port;
    unsigned repeat;
};

static int parse(int argc, char **argv, struct cfg *c, const int *allowed, int nallowed)
{
    enum {
        OPT_SECONDS = 256,
        OPT_OP,
        OPT_CLIENT,
        OPT_SERVER_CPU,
        OPT_CLIENT_CPU,
        OPT_NO_PIN,
        OPT_REDIS_SOCKET,
        OPT_REDIS_HOST,
        OPT_REDIS_PORT,
        OPT_REDIS_PASSWORD,
        OPT_FORMAT,
    };
    static const struct option opts[] = {
        {"transport", required_argument, NULL, 't'},
        {"pipeline", required_argument, NULL, 'P'},
        {"clients", required_argument, NULL, 'c'},
        {"requests", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, OPT_SECONDS},
        {"op", required_argument, NULL, OPT_OP},
        {"client", required_argument, NULL, OPT_CLIENT},
        {"server-cpu", required_argument, NULL, OPT_SERVER_CPU},
        {"client-cpu", required_argument, NULL, OPT_CLIENT_CPU},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"redis-socket", required_argument, NULL, OPT_REDIS_SOCKET},
        {"redis-host", required_argument, NULL, OPT_REDIS_HOST},
        {"redis-port", required_argument, NULL, OPT_REDIS_PORT},
        {"redis-password", required_argument, NULL, OPT_REDIS_PASSWORD},
        {"repeat", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    uint64_t u;
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":t:P:c:n:r:h", opts, NULL)) != -1) {
        switch (o) {
        case 't':
            if (parse_choice2("transport", optarg, transport_names, c->transport) != CLI_OK)
                return CLI_USAGE;
            c->transport_set = true;
            break;
        case 'P':
            CLI_NUM_OPT(CMD, u, "pipeline", 1, IPC_RB_MAX_PIPELINE);
            c->o.pipeline = (unsigned)u;
            break;
        case 'c':
            CLI_NUM_OPT(CMD, u, "clients", 1, IPC_RB_MAX_CLIENTS);
            c->o.clients = (unsigned)u;
            break;
        case 'n':
            CLI_NUM_OPT(CMD, c->requests, "requests", 1, IPC_RB_MAX_REQUESTS);
            break;
        case OPT_SECONDS:
            if (parse_seconds(optarg, &c->seconds) != CLI_OK)
                return CLI_USAGE;
            c->seconds_set = true;
            break;
        case OPT_OP:
            if (ipc_rb_op_parse(optarg, &c->o.op) < 0)
                return cli_unknown(CMD, "op", optarg, "get, set, incr");
            break;
        case OPT_CLIENT:
            if (parse_choice2("client", optarg, client_names, c->client) != CLI_OK)
                return CLI_USAGE;
            break;
        case OPT_SERVER_CPU:
        case OPT_CLIENT_CPU: {
            const char *name = o == OPT_SERVER_CPU ? "server-cpu" : "client-cpu";
            if (cli_option_cpu(CMD, name, optarg, allowed, nallowed,
                               o == OPT_SERVER_CPU ? &c->server_cpu : &c->client_cpu) != CLI_OK)
                return CLI_USAGE;
            break;
        }
        case OPT_NO_PIN:
            c->pin = false;
            break;
        case OPT_REDIS_SOCKET:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-socket: empty path");
            c->socket = optarg;
            break;
        case OPT_REDIS_HOST:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-host: empty host name");
            c->host = optarg;
            break;
        case OPT_REDIS_PORT:
            CLI_NUM_OPT(CMD, u, "redis-port", 1, 65535);
            c->port = (int)u;
            break;
        case OPT_REDIS_PASSWORD:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-password: empty password");
            c->password = optarg;
            break;
        case 'r':
            CLI_NUM_OPT(CMD, u, "repeat", 1, MAX_REPEAT);
            c->repeat = (unsigned)u;
            break;
        case OPT_FORMAT:
            if (cli_parse_format(CMD, optarg, &c->json) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            return cli_getopt_error(CMD, o, argv);
        }
    }
    if (optind < argc)
        return cli_unexpected_arg(CMD, argv[optind]);
    if (c->requests && c->seconds_set)
        return cli_error(CLI_USAGE, CMD, "give either --requests or --seconds, not both");
    if (!c->pin && (c->client_cpu >= 0 || c->server_cpu >= 0))
        return cli_error(CLI_USAGE, CMD, "--no-pin contradicts --%s",
                         c->client_cpu >= 0 ? "client-cpu" : "server-cpu");
    if (c->port && !c->host)
        c->host = "127.0.0.1";
    if (c->host && !c->port)
        c->port = DEFAULT_REDIS_PORT;
    bool external = c->socket || c->host;
    if (external && c->server_cpu >= 0)
        return cli_error(CLI_USAGE, CMD,
                         "--server-cpu pins ipclab's own redis-server, not one given with "
                         "--redis-socket or --redis-host");
    if (external && !c->transport_set) {
        c->transport[TR_UNIX] = c->socket != NULL;
        c->transport[TR_TCP] = c->host != NULL;
    }
    if (external && c->transport[TR_UNIX] && !c->socket)
        return cli_error(CLI_USAGE, CMD,
                         "transport unix needs --redis-socket when the server is given");
    if (external && c->transport[TR_TCP] && !c->host)
        return cli_error(CLI_USAGE, CMD,
                         "transport tcp needs --redis-host or --redis-port when the server is "
                         "given");
    return CLI_OK;
}

/* Which clients can run; prints why one cannot. CLI_OK, or CLI_RUNTIME when none can. */
static int check_clients(struct cfg *c)
{
    char why[NCLIENTS][256];
    bool ok[NCLIENTS];
    ok[CL_IPCLAB] = ipc_rb_available(why[CL_IPCLAB], sizeof why[CL_IPCLAB]);
    ok[CL_TOOL] = ipc_redis_benchmark_find(NULL, 0, why[CL_TOOL], sizeof why[CL_TOOL]) == 0;
    bool both = c->client[CL_IPCLAB] && c->client[CL_TOOL];
    for (int k = 0; k < NCLIENTS; k++) {
        if (!c->client[k] || ok[k])
            continue;
        if (!both)
            return cli_error(CLI_RUNTIME, CMD, "%s", why[k]);
        if (!ok[1 - k])
            return cli_error(CLI_RUNTIME, CMD, "no client can run here: %s; %s", why[0], why[1]);
        /* One line on stderr, not a row on stdout: the JSON stays one kind of object. */
        fprintf(stderr, "ipclab %s: %s; running %s's client only\n", CMD, why[k],
                client_names[1 - k]);
        c->client[k] = false;
    }
    if (!c->requests && !ok[CL_IPCLAB])
        return cli_error(CLI_RUNTIME, CMD,
                         "sizing a run by --seconds takes ipclab's client, which cannot run "
                         "here (%s): give --requests",
                         why[CL_IPCLAB]);
    return CLI_OK;
}

static void print_json(const struct cfg *c, int client, int tr, const struct ipc_rb_result *r,
                       int server_cpu, const char *placement, unsigned run)
{
    printf("{\"client\":\"%s\",\"transport\":\"%s\",\"op\":\"%s\",\"pipeline\":%u,\"clients\":%u"
           ",\"requests\":%llu,\"wall_ns\":%llu,\"rps\":%.1f,\"mean_us\":%.3f,\"p50_us\":%.3f"
           ",\"p99_us\":%.3f,\"client_cpu\":",
           client_names[client], transport_names[tr], ipc_rb_op_name(c->o.op), c->o.pipeline,
           c->o.clients, (unsigned long long)r->requests, (unsigned long long)r->wall_ns, r->rps,
           r->mean_us, r->p50_us, r->p99_us);
    if (r->cpu_seen >= 0)
        printf("%d", r->cpu_seen);
    else
        printf("null");
    printf(",\"server_cpu\":");
    if (server_cpu >= 0)
        printf("%d", server_cpu);
    else
        printf("null");
    printf(",\"placement\":\"%s\",\"run\":%u}\n", placement, run);
}

static void print_row(int client, int tr, const struct ipc_rb_result *r, int server_cpu,
                      unsigned run)
{
    char srv[16] = "-", cli[16] = "-";
    if (server_cpu >= 0)
        snprintf(srv, sizeof srv, "%d", server_cpu);
    if (r->cpu_seen >= 0)
        snprintf(cli, sizeof cli, "%d", r->cpu_seen);
    printf("%-15s %-9s %4u %10llu %12.0f %9.2f %9.2f %9.2f %4s %4s\n", client_names[client],
           transport_names[tr], run, (unsigned long long)r->requests, r->rps, r->mean_us,
           r->p50_us, r->p99_us, cli, srv);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
    double *s = malloc(n * sizeof *s);
    if (!s)
        return v[0];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

/* The claim's numbers, under the table: unix over tcp per client, ipclab over redis-benchmark
 * per transport, from the median rps of the runs. */
static void print_summary(const struct cfg *c, double *rps[NCLIENTS][NTRANSPORTS])
{
    const char *over = c->repeat > 1 ? "median rps of the runs" : "rps";
    if (c->transport[TR_UNIX] && c->transport[TR_TCP]) {
        printf("# unix / tcp (%s):", over);
        for (int k = 0; k < NCLIENTS; k++)
            if (c->client[k])
                printf(" %s %.2f", client_names[k],
                       median(rps[k][TR_UNIX], c->repeat) / median(rps[k][TR_TCP], c->repeat));
        printf("\n");
    }
    if (c->client[CL_IPCLAB] && c->client[CL_TOOL]) {
        printf("# ipclab / redis-benchmark (%s):", over);
        for (int t = 0; t < NTRANSPORTS; t++)
            if (c->transport[t])
                printf(" %s %.2f", transport_names[t],
                       median(rps[CL_IPCLAB][t], c->repeat) / median(rps[CL_TOOL][t], c->repeat));
        printf("\n");
    }
}

int cmd_redis_bench(int argc, char **argv)
{
    static int allowed[MAX_CPUS];
    int nallowed = ipc_cpu_allowed(allowed, MAX_CPUS);
    struct cfg c = {
        .transport = {true, true},
        .client = {true, true},
        .o = {.op = IPC_RB_GET, .pipeline = 1, .clients = 1, .cpu = -1},
        .seconds = DEFAULT_SECONDS,
        .pin = true,
        .client_cpu = -1,
        .server_cpu = -1,
        .repeat = 1,
    };
    int rc = parse(argc, argv, &c, allowed, nallowed > 0 ? nallowed : 0);
    if (rc < 0)
        return CLI_OK; /* --help */
    if (rc != CLI_OK)
        return rc;
    /* The server first: without it nothing runs, and that is the one thing to say. */
    bool own = !c.socket && !c.host;
    /* hiredis and redis-benchmark cut a longer path short, connecting to another socket. */
    size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
    if (c.socket && strlen(c.socket) > sun_max)
        return cli_error(CLI_RUNTIME, CMD,
                         "--redis-socket: socket path '%s' is too long (%zu bytes, at most %zu)",
                         CLI_QUOTED(c.socket), strlen(c.socket), sun_max);
    char why[256];
    if (own && ipc_redis_server_find(NULL, 0, why, sizeof why) < 0)
        return cli_error(CLI_RUNTIME, CMD, "%s", why);
    if ((rc = check_clients(&c)) != CLI_OK)
        return rc;

    /* Placement: the client on the first CPU, the server on another when there is one. */
    const char *placement = "unpinned";
    int server_pin = -1;
    if (c.pin && nallowed > 0) {
        if (c.client_cpu < 0)
            c.client_cpu = allowed[0];
        if (own) {
            server_pin = c.server_cpu;
            for (int i = 0; server_pin < 0 && i < nallowed; i++)
                if (allowed[i] != c.client_cpu)
                    server_pin = allowed[i];
            if (server_pin < 0)
                server_pin = c.client_cpu;
            placement = server_pin == c.client_cpu ? "same-core" : "other-core";
        }
    }
    c.o.cpu = c.pin ? c.client_cpu : -1;

    double *rps[NCLIENTS][NTRANSPORTS] = {{0}};
    double *store = calloc((size_t)NCLIENTS * NTRANSPORTS * c.repeat, sizeof *store);
    if (!store)
        return cli_error(CLI_RUNTIME, CMD, "out of memory");
    for (int k = 0; k < NCLIENTS; k++)
        for (int t = 0; t < NTRANSPORTS; t++)
            rps[k][t] = store + ((size_t)k * NTRANSPORTS + t) * c.repeat;

    static struct ipc_redis_server server;
    memset(&server, 0, sizeof server);
    struct ipc_rb_target target[NTRANSPORTS] = {
        {.socket = c.socket, .password = ipc_redis_password_or_env(c.password)},
        {.host = c.host, .port = c.port, .password = ipc_redis_password_or_env(c.password)},
    };
    char err[512];
    if (own) {
        if (ipc_redis_server_start(&server, NULL, server_pin) < 0) {
            rc = cli_error(CLI_RUNTIME, CMD, "%s", server.errstr);
            goto out;
        }
        target[TR_UNIX].socket = server.socket;
        target[TR_TCP].host = "127.0.0.1";
        target[TR_TCP].port = server.port;
        target[TR_UNIX].password = target[TR_TCP].password = server.password;
        /* GET then finds a value, as after the SET of redis-benchmark's default suite. */
        if (c.o.op == IPC_RB_GET && ipc_rb_available(NULL, 0)) {
            struct ipc_rb_opts set = {.op = IPC_RB_SET, .pipeline = 1, .clients = 1,
                                      .requests = 1, .cpu = -1};
            struct ipc_rb_result r;
            if (ipc_rb_run(&target[TR_UNIX], &set, &r, err, sizeof err) < 0) {
                rc = cli_error(CLI_RUNTIME, CMD, "%s", err);
                goto out;
            }
        }
    }

    uint64_t n[NTRANSPORTS] = {c.requests, c.requests};
    for (int t = 0; t < NTRANSPORTS; t++) {
        if (!c.transport[t] || c.requests)
            continue;
        if (ipc_rb_requests_for(&target[t], &c.o, c.seconds, &n[t], err, sizeof err) < 0) {
            rc = cli_error(CLI_RUNTIME, CMD, "sizing the %s run: %s", transport_names[t], err);
            goto out;
        }
    }

    if (!c.json) {
        printf("# redis-bench: %s, pipeline %u, %u client%s; requests per run:",
               ipc_rb_op_title(c.o.op), c.o.pipeline, c.o.clients, c.o.clients == 1 ? "" : "s");
        for (int t = 0; t < NTRANSPORTS; t++)
            if (c.transport[t])
                printf(" %s %llu", transport_names[t], (unsigned long long)n[t]);
        if (!c.requests)
            printf(" (sized for %g s)", c.seconds);
        printf("\n# server: ");
        if (own)
            printf("ipclab's redis-server (%s, 127.0.0.1:%d)", server.socket, server.port);
        else
            printf("%s%s", c.socket ? c.socket : "", c.socket && c.host ? ", " : "");
        if (!own && c.host)
            printf("%s:%d", c.host, c.port);
        if (server_pin >= 0)
            printf(" on CPU %d", server_pin);
        if (c.o.cpu >= 0)
            printf("; client on CPU %d", c.o.cpu);
        printf(": %s\n", placement);
        printf("%-15s %-9s %4s %10s %12s %9s %9s %9s %4s %4s\n", "client", "transport", "run",
               "requests", "rps", "mean_us", "p50_us", "p99_us", "cpu", "srv");
    }
    if (cli_flush() < 0) {
        rc = CLI_RUNTIME;
        goto out;
    }
    for (unsigned run = 1; run <= c.repeat && rc == CLI_OK; run++) {
        for (int t = 0; t < NTRANSPORTS && rc == CLI_OK; t++) {
            if (!c.transport[t])
                continue;
            struct ipc_rb_opts o = c.o;
            o.requests = n[t];
            for (int k = 0; k < NCLIENTS; k++) {
                if (!c.client[k])
                    continue;
                struct ipc_rb_result r;
                int e = k == CL_IPCLAB ? ipc_rb_run(&target[t], &o, &r, err, sizeof err)
                                       : ipc_redis_benchmark_run(&target[t], &o, &r, err,
                                                                 sizeof err);
                if (e < 0) {
                    rc = cli_error(CLI_RUNTIME, CMD, "%s over %s: %s", client_names[k],
                                   transport_names[t], err);
                    break;
                }
                int scpu = own ? ipc_cpu_last_of(server.proc.pid) : -1;
                rps[k][t][run - 1] = r.rps;
                if (c.json)
                    print_json(&c, k, t, &r, scpu, placement, run);
                else
                    print_row(k, t, &r, scpu, run);
                if (cli_flush() < 0) {
                    rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
                    break;
                }
            }
            if (rc == CLI_OK && !c.json && c.client[CL_IPCLAB] && c.client[CL_TOOL])
                printf("# %s, run %u: ipclab's rps is %.2f of redis-benchmark's\n",
                       transport_names[t], run,
                       rps[CL_IPCLAB][t][run - 1] / rps[CL_TOOL][t][run - 1]);
        }
    }
    if (rc == CLI_OK && !c.json)
        print_summary(&c, rps);
out:
    ipc_redis_server_stop(&server);
    free(store);
    return rc;
}
