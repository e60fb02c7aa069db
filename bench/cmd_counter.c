/* SPDX-License-Identifier: MIT */
/* `ipclab counter`: N processes increment one shared counter, four ways, and count what got
 * lost. */
#include "cli.h"

#include "../ipc/counter.h"
#include "../ipc/cpu.h"

#include <getopt.h>
#include <string.h>

#define CMD "counter"
#define MAX_REPEAT 1000

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: ipclab counter [options]\n"
        "\n"
        "N worker processes increment one counter in shared memory M times each, started\n"
        "together; the final count is compared with N x M. Variants:\n"
        "  unsynchronised   a plain shared word, load and store (RawValue += 1)\n"
        "  locked-get-set   lock, read, unlock; lock, write read+1, unlock (Value += 1:\n"
        "                   its implicit lock guards the get and the set, not the pair)\n"
        "  locked-rmw       one lock held across read, add and write (get_lock())\n"
        "  atomic           an atomic fetch-and-add\n"
        "The locks are a process-shared robust mutex in the same shared memory.\n"
        "\n"
        "  -v, --variant V       one of the above, or all (default all)\n"
        "  -w, --workers N       worker processes, 1..%d (default: CPUs available, at least 2)\n"
        "  -m, --increments M    increments by each worker, 1..%u (default 1000000)\n"
        "  -r, --repeat R        run every variant R times, 1..%d (default 1)\n"
        "      --no-pin          do not pin worker i to the i-th available CPU\n"
        "      --format F        table (default) | json (one JSON object per line)\n"
        "  -h, --help            this text\n"
        "\n"
        "json fields: variant, workers, increments (per worker), expected (N x M), final,\n"
        "lost (expected - final), lost_fraction (lost / expected), wall_ns (start signal to\n"
        "the last worker's last increment: no fork, no exit), ns_per_increment (wall_ns /\n"
        "expected: time per increment across all workers), total_ns (forks and reaping\n"
        "included), run (1..R), cpus (each worker's CPU; null: not pinned).\n",
        IPC_COUNTER_MAX_WORKERS, IPC_COUNTER_MAX_INCREMENTS, MAX_REPEAT);
}

static void print_cpus(const struct ipc_counter_opts *o)
{
    if (!o->cpus) {
        printf("null");
        return;
    }
    putchar('[');
    for (unsigned i = 0; i < o->workers; i++)
        printf("%s%d", i ? "," : "", o->cpus[i % (unsigned)o->ncpus]);
    putchar(']');
}

static double ns_per_increment(const struct ipc_counter_result *r)
{
    return (double)r->wall_ns / (double)r->expected;
}

static void print_json(const struct ipc_counter_opts *o, const struct ipc_counter_result *r,
                       unsigned run)
{
    printf("{\"variant\":\"%s\",\"workers\":%u,\"increments\":%llu,\"expected\":%llu"
           ",\"final\":%llu,\"lost\":%lld,\"lost_fraction\":%.9g,\"wall_ns\":%llu"
           ",\"ns_per_increment\":%.4f,\"total_ns\":%llu,\"run\":%u,\"cpus\":",
           ipc_counter_variant_name(o->variant), o->workers, (unsigned long long)o->increments,
           (unsigned long long)r->expected, (unsigned long long)r->final, (long long)r->lost,
           (double)r->lost / (double)r->expected, (unsigned long long)r->wall_ns,
           ns_per_increment(r), (unsigned long long)r->total_ns, run);
    print_cpus(o);
    printf("}\n");
}

static void print_table_header(const struct ipc_counter_opts *o)
{
    printf("# %u worker%s x %llu increments", o->workers, o->workers == 1 ? "" : "s",
           (unsigned long long)o->increments);
    if (o->cpus) {
        printf(", pinned to CPU");
        for (int i = 0; i < o->ncpus && (unsigned)i < o->workers; i++)
            printf("%s%d", i ? "," : " ", o->cpus[i]);
    } else {
        printf(", not pinned");
    }
    printf("\n%-15s %7s %12s %12s %12s %8s %10s %9s\n", "variant", "workers", "expected", "final",
           "lost", "lost_%", "wall_ms", "ns/incr");
}

static void print_table(const struct ipc_counter_opts *o, const struct ipc_counter_result *r)
{
    printf("%-15s %7u %12llu %12llu %12lld %8.3f %10.3f %9.2f\n",
           ipc_counter_variant_name(o->variant), o->workers, (unsigned long long)r->expected,
           (unsigned long long)r->final, (long long)r->lost,
           100.0 * (double)r->lost / (double)r->expected, (double)r->wall_ns / 1e6,
           ns_per_increment(r));
}

int cmd_counter(int argc, char **argv)
{
    enum { OPT_NO_PIN = 256, OPT_FORMAT };
    static const struct option opts[] = {
        {"variant", required_argument, NULL, 'v'},
        {"workers", required_argument, NULL, 'w'},
        {"increments", required_argument, NULL, 'm'},
        {"repeat", required_argument, NULL, 'r'},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    static int allowed[IPC_COUNTER_MAX_WORKERS];
    int nallowed = ipc_cpu_allowed(allowed, IPC_COUNTER_MAX_WORKERS);
    struct ipc_counter_opts o = {
        .workers = nallowed > 2 ? (unsigned)nallowed : 2,
        .increments = 1000000,
        .cpus = nallowed > 0 ? allowed : NULL,
        .ncpus = nallowed > 0 ? nallowed : 0,
    };
    bool all = true, json = false, pin = true;
    uint64_t repeat = 1, u;

    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":v:w:m:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (strcmp(optarg, "all") == 0) {
                all = true;
            } else if (ipc_counter_variant_parse(optarg, &o.variant) == 0) {
                all = false;
            } else {
                return cli_unknown(CMD, "variant", optarg,
                                   "unsynchronised, locked-get-set, locked-rmw, atomic, all");
            }
            break;
        case 'w':
            CLI_NUM_OPT(CMD, u, "workers", 1, IPC_COUNTER_MAX_WORKERS);
            o.workers = (unsigned)u;
            break;
        case 'm':
            CLI_NUM_OPT(CMD, o.increments, "increments", 1, IPC_COUNTER_MAX_INCREMENTS);
            break;
        case 'r':
            CLI_NUM_OPT(CMD, repeat, "repeat", 1, MAX_REPEAT);
            break;
        case OPT_NO_PIN:
            pin = false;
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
    if (!pin)
        o.cpus = NULL, o.ncpus = 0;

    int first = all ? 0 : (int)o.variant, last = all ? IPC_COUNTER_VARIANTS - 1 : (int)o.variant;
    if (!json)
        print_table_header(&o);
    /* The header out before a run that may take minutes (and before any fork). */
    if (cli_flush() < 0)
        return CLI_RUNTIME;
    int rc = CLI_OK;
    for (unsigned run = 1; run <= repeat && rc == CLI_OK; run++) {
        for (int v = first; v <= last && rc == CLI_OK; v++) {
            o.variant = (enum ipc_counter_variant)v;
            struct ipc_counter_result r;
            char err[256];
            if (ipc_counter_run(&o, &r, err, sizeof err) < 0) {
                rc = cli_error(CLI_RUNTIME, CMD, "%s", err);
                break;
            }
            if (json)
                print_json(&o, &r, run);
            else
                print_table(&o, &r);
            if (cli_flush() < 0)
                rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
        }
    }
    return rc;
}
