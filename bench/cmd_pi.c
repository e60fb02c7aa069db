/* SPDX-License-Identifier: MIT */
/* `ipclab pi`: estimate pi by Monte Carlo serially, with threads, with processes, or with
 * threads under an emulated global interpreter lock, and time it. */
#include "cli.h"

#include "../ipc/clock.h"
#include "../ipc/cpu.h"
#include "../ipc/pi.h"
#include "../ipc/topology.h"
#include "../workloads/pi.h"

#include <getopt.h>
#include <math.h>

#define CMD "pi"
#define MAX_REPEAT 1000
#define DEFAULT_SAMPLES 10000000ull
/* CPUs read from the affinity mask; more than a worker count needs, for a shared set. */
#define MAX_CPUS 1024

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab pi [options]\n"
            "\n"
            "Estimate pi from S random points in the unit square: 4 x the fraction inside the\n"
            "quarter circle. The S samples are split over N workers; worker i draws its own\n"
            "splitmix64 stream from the seed, so the estimate depends only on the seed, N and\n"
            "S, never on the mode, --batch or pinning.\n"
            "\n"
            "  -m, --mode M          serial | threads | processes | gil-threads (default\n"
            "                        processes). serial: the N shares one after another\n"
            "                        in one thread. gil-threads: N threads that compute\n"
            "                        only while holding one lock, offered to a waiting\n"
            "                        thread every --gil-interval samples; an emulation of\n"
            "                        CPython's global interpreter lock, not CPython\n"
            "  -w, --workers N       1..%d (default: physical cores; serial: 1)\n"
            "  -s, --samples S       1..%llu (default %llu)\n"
            "  -b, --batch           generate blocks of %d x and y values into arrays,\n"
            "                        then test the block (numpy's shape) instead of one\n"
            "                        sample at a time: the same samples, the same estimate\n"
            "  -r, --repeat R        run R times, 1..%d (default 1)\n"
            "      --seed X          0..18446744073709551615 (default %llu)\n"
            "      --gil-interval K  gil-threads: samples between offers of the lock,\n"
            "                        1..%llu (default %llu; CPython offers\n"
            "                        it every 5 ms)\n"
            "      --no-pin          do not pin the workers (default: worker i on the i-th\n"
            "                        available CPU; with more workers than CPUs every worker\n"
            "                        may use all of them, so the shares stay balanced)\n"
            "      --format F        table (default) | json (one JSON object per run)\n"
            "  -h, --help            this text\n"
            "\n"
            "json fields: mode, workers, samples, batch, seed (a decimal string), run, pi,\n"
            "inside (samples inside the quarter circle), abs_error (|pi - estimate|), wall_ns\n"
            "(the whole run: thread or process start, work, join or reap), samples_per_s,\n"
            "physical_cores and logical_cpus this process may use and topology_source (hwloc,\n"
            "or affinity when physical cores cannot be told apart), gil (the lock's interval\n"
            "in samples; null unless gil-threads), gil_emulated, gil_acquisitions and\n"
            "gil_handoffs (takes of the lock, and takes by a thread other than the last\n"
            "holder; null unless gil-threads), pin (per-worker, shared-set or none) and cpus\n"
            "(per-worker: each worker's CPU; shared-set: the CPUs all workers share; none:\n"
            "null).\n",
            WL_PI_MAX_WORKERS, WL_PI_MAX_SAMPLES, DEFAULT_SAMPLES, WL_PI_BLOCK, MAX_REPEAT,
            WL_PI_DEFAULT_SEED, IPC_PI_MAX_GIL_INTERVAL, IPC_PI_DEFAULT_GIL_INTERVAL);
}

struct run_info {
    const struct ipc_pi_opts *o;
    const struct ipc_topology *topo;
    enum ipc_pi_pin pin;
};

/* The CPUs the JSON reports: one per worker, or the shared set. */
static void print_cpus(const struct run_info *ri)
{
    const struct ipc_pi_opts *o = ri->o;
    int n = 0;
    if (ri->pin == IPC_PI_PIN_PER_WORKER)
        n = o->mode == WL_PI_SERIAL ? 1 : (int)o->workers;
    else if (ri->pin == IPC_PI_PIN_SHARED_SET)
        n = o->ncpus;
    if (n == 0) {
        printf("null");
        return;
    }
    putchar('[');
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", o->cpus[i]);
    putchar(']');
}

static void print_json(const struct run_info *ri, const struct ipc_pi_result *r, unsigned run,
                       uint64_t wall_ns)
{
    const struct ipc_pi_opts *o = ri->o;
    bool gil = o->mode == WL_PI_GIL_THREADS;
    printf("{\"mode\":\"%s\",\"workers\":%u,\"samples\":%llu,\"batch\":%s,\"seed\":\"%llu\""
           ",\"run\":%u,\"pi\":%.17g,\"inside\":%llu,\"abs_error\":%.9e,\"wall_ns\":%llu"
           ",\"samples_per_s\":%.6e,\"physical_cores\":%d,\"logical_cpus\":%d"
           ",\"topology_source\":",
           wl_pi_mode_name(o->mode), o->workers, (unsigned long long)o->samples,
           o->batch ? "true" : "false", (unsigned long long)o->seed, run, r->pi,
           (unsigned long long)r->inside, fabs(r->pi - M_PI), (unsigned long long)wall_ns,
           (double)o->samples / ((double)wall_ns / 1e9), ri->topo->physical_cores,
           ri->topo->logical_cpus);
    cli_json_string(stdout, ri->topo->source);
    if (gil)
        printf(",\"gil\":%llu,\"gil_emulated\":true,\"gil_acquisitions\":%llu"
               ",\"gil_handoffs\":%llu",
               (unsigned long long)o->gil_interval, (unsigned long long)r->gil_acquisitions,
               (unsigned long long)r->gil_handoffs);
    else
        printf(",\"gil\":null,\"gil_emulated\":false,\"gil_acquisitions\":null"
               ",\"gil_handoffs\":null");
    printf(",\"pin\":\"%s\",\"cpus\":", ipc_pi_pin_name(ri->pin));
    print_cpus(ri);
    printf("}\n");
}

static void print_table_header(const struct run_info *ri)
{
    const struct ipc_pi_opts *o = ri->o;
    printf("# pi by Monte Carlo: %s, %u worker%s, %llu samples, %s, seed %llu\n",
           wl_pi_mode_name(o->mode), o->workers, o->workers == 1 ? "" : "s",
           (unsigned long long)o->samples, o->batch ? "batch" : "one sample at a time",
           (unsigned long long)o->seed);
    if (o->mode == WL_PI_GIL_THREADS)
        printf("# GIL emulated in C: one lock, offered to a waiting thread every %llu samples\n",
               (unsigned long long)o->gil_interval);
    printf("# %d physical core%s, %d logical CPU%s (%s); ", ri->topo->physical_cores,
           ri->topo->physical_cores == 1 ? "" : "s", ri->topo->logical_cpus,
           ri->topo->logical_cpus == 1 ? "" : "s", ri->topo->source);
    if (ri->pin == IPC_PI_PIN_NONE) {
        printf("not pinned\n");
    } else {
        int n = ri->pin == IPC_PI_PIN_SHARED_SET ? o->ncpus
                : o->mode == WL_PI_SERIAL        ? 1
                                                 : (int)o->workers;
        printf("%s CPU%s", ri->pin == IPC_PI_PIN_SHARED_SET ? "all workers share" : "pinned to",
               n == 1 ? "" : "s");
        for (int i = 0; i < n; i++)
            printf("%s%d", i ? "," : " ", o->cpus[i]);
        printf("\n");
    }
    printf("%-5s %-18s %12s %12s %12s", "run", "pi", "abs_error", "wall_ms", "Msamples/s");
    if (o->mode == WL_PI_GIL_THREADS)
        printf(" %12s", "gil_handoffs");
    printf("\n");
}

static void print_table(const struct ipc_pi_opts *o, const struct ipc_pi_result *r, unsigned run,
                        uint64_t wall_ns)
{
    printf("%-5u %-18.12f %12.3e %12.3f %12.2f", run, r->pi, fabs(r->pi - M_PI),
           (double)wall_ns / 1e6, (double)o->samples / ((double)wall_ns / 1e3));
    if (o->mode == WL_PI_GIL_THREADS)
        printf(" %12llu", (unsigned long long)r->gil_handoffs);
    printf("\n");
}

int cmd_pi(int argc, char **argv)
{
    enum { OPT_SEED = 256, OPT_GIL_INTERVAL, OPT_NO_PIN, OPT_FORMAT };
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"workers", required_argument, NULL, 'w'},
        {"samples", required_argument, NULL, 's'},
        {"batch", no_argument, NULL, 'b'},
        {"repeat", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"gil-interval", required_argument, NULL, OPT_GIL_INTERVAL},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct ipc_pi_opts o = {
        .mode = WL_PI_PROCESSES,
        .samples = DEFAULT_SAMPLES,
        .seed = WL_PI_DEFAULT_SEED,
        .gil_interval = IPC_PI_DEFAULT_GIL_INTERVAL,
    };
    bool json = false, pin = true, gil_interval_set = false;
    uint64_t repeat = 1, workers = 0;

    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:w:s:br:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (wl_pi_mode_parse(optarg, &o.mode) < 0)
                return cli_unknown(CMD, "mode", optarg, "serial, threads, processes, gil-threads");
            break;
        case 'w':
            CLI_NUM_OPT(CMD, workers, "workers", 1, WL_PI_MAX_WORKERS);
            break;
        case 's':
            CLI_NUM_OPT(CMD, o.samples, "samples", 1, WL_PI_MAX_SAMPLES);
            break;
        case 'b':
            o.batch = true;
            break;
        case 'r':
            CLI_NUM_OPT(CMD, repeat, "repeat", 1, MAX_REPEAT);
            break;
        case OPT_SEED:
            CLI_NUM_OPT(CMD, o.seed, "seed", 0, UINT64_MAX);
            break;
        case OPT_GIL_INTERVAL:
            CLI_NUM_OPT(CMD, o.gil_interval, "gil-interval", 1, IPC_PI_MAX_GIL_INTERVAL);
            gil_interval_set = true;
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
    if (gil_interval_set && o.mode != WL_PI_GIL_THREADS)
        return cli_error(CLI_USAGE, CMD, "--gil-interval applies to --mode gil-threads only");

    struct ipc_topology topo;
    ipc_topology_read(&topo); /* on failure still filled from the affinity mask */
    if (workers == 0) {
        workers = o.mode == WL_PI_SERIAL ? 1 : (uint64_t)topo.physical_cores;
        if (workers > WL_PI_MAX_WORKERS)
            workers = WL_PI_MAX_WORKERS;
    }
    o.workers = (unsigned)workers;

    static int allowed[MAX_CPUS];
    int nallowed = ipc_cpu_allowed(allowed, MAX_CPUS);
    if (pin && nallowed > 0) {
        o.cpus = allowed;
        o.ncpus = nallowed;
    }
    struct run_info ri = {
        .o = &o,
        .topo = &topo,
        .pin = ipc_pi_pinning(o.mode, o.workers, o.cpus ? o.ncpus : 0),
    };

    if (!json)
        print_table_header(&ri);
    int rc = CLI_OK;
    for (unsigned run = 1; run <= repeat && rc == CLI_OK; run++) {
        struct ipc_pi_result r;
        char err[256];
        uint64_t t0 = ipc_now_ns();
        int e = ipc_pi_run(&o, &r, err, sizeof err);
        uint64_t wall = ipc_now_ns() - t0;
        if (e < 0) {
            rc = cli_error(CLI_RUNTIME, CMD, "%s", err);
            break;
        }
        if (wall == 0)
            wall = 1;
        if (json)
            print_json(&ri, &r, run, wall);
        else
            print_table(&o, &r, run, wall);
        if (cli_flush() < 0)
            rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
    }
    return rc;
}
