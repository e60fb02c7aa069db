/* SPDX-License-Identifier: MIT */
/* `ipclab rng`: random numbers in parallel: the seeding trap of forked workers and its fixes,
 * and what sharing one generator between threads costs. */
#include "cli.h"

#include "../ipc/cpu.h"
#include "../ipc/rng.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#define CMD "rng"
#define MAX_SHOW 16
#define MAX_REPEAT 1000
#define DEFAULT_SEED 42

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab rng streams [options]\n"
            "       ipclab rng throughput [options]\n"
            "\n"
            "streams: the parent seeds a xoshiro256** generator, forks N workers, and each\n"
            "worker returns its first K outputs; then the streams are compared pairwise.\n"
            "  inherited    the worker uses the generator it inherited by fork: the trap,\n"
            "               every worker draws the same numbers\n"
            "  per-worker   the worker reseeds from the seed mixed with its index and pid\n"
            "               through splitmix64\n"
            "  jump         one seed, worker i jumps ahead i x 2^128 outputs: independent,\n"
            "               non-overlapping streams, reproducible from the seed alone\n"
            "\n"
            "  -s, --seeding S       inherited | per-worker | jump | all (default all)\n"
            "  -w, --workers N       worker processes, 2..%d (default 4)\n"
            "  -k, --count K         outputs per worker, 1..%u (default 1000);\n"
            "                        N x K at most %llu\n"
            "      --show S          first outputs to show per worker, 0..%d (default 3)\n"
            "\n"
            "throughput: N threads draw M numbers each, either from one generator behind a\n"
            "mutex (locked-shared: the chapter's threads sharing the generator in series) or\n"
            "from a generator of their own (per-thread: the seed jumped by the thread's index).\n"
            "\n"
            "  -m, --mode M          locked-shared | per-thread | all (default all)\n"
            "  -t, --threads N       threads, 1..%d (default: CPUs available)\n"
            "  -n, --numbers M       numbers per thread, 1..%u (default 1000000)\n"
            "  -r, --repeat R        run every mode R times, 1..%d (default 1)\n"
            "\n"
            "both:\n"
            "      --seed S          the parent's seed, 0..18446744073709551615 (default %d)\n"
            "      --no-pin          do not pin worker/thread i to the i-th available CPU\n"
            "      --format F        table (default) | json (one JSON object per line)\n"
            "  -h, --help            this text\n"
            "\n"
            "streams json: experiment \"rng-streams\", seeding, workers, count, seed (decimal\n"
            "string), pairs (N(N-1)/2), identical_pairs (pairs whose K outputs are all equal),\n"
            "identical_pairs_fraction, distinct_streams, wall_ns (forks to reaping), pids,\n"
            "cpus (null: not pinned), first (per worker, its first S outputs as decimal strings).\n"
            "throughput json: experiment \"rng-throughput\", mode, threads, numbers_per_thread,\n"
            "numbers, wall_ns (start signal to the last thread done, thread creation excluded),\n"
            "numbers_per_s, ns_per_number (wall_ns / numbers), checksum (sum of all outputs mod\n"
            "2^64, decimal string: for locked-shared it depends only on seed and numbers, not on\n"
            "the interleaving), run, cpus.\n",
            IPC_RNG_MAX_WORKERS, IPC_RNG_MAX_COUNT, (unsigned long long)IPC_RNG_MAX_VALUES,
            MAX_SHOW, IPC_RNG_MAX_THREADS, IPC_RNG_MAX_NUMBERS, MAX_REPEAT, DEFAULT_SEED);
}

static void print_cpu_list(const int *cpus, int ncpus, unsigned n)
{
    if (!cpus) {
        printf("null");
        return;
    }
    putchar('[');
    for (unsigned i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", cpus[i % (unsigned)ncpus]);
    putchar(']');
}

static void print_pinning(const int *cpus, int ncpus, unsigned n)
{
    if (!cpus) {
        printf(", not pinned");
        return;
    }
    printf(", pinned to CPU");
    for (int i = 0; i < ncpus && (unsigned)i < n; i++)
        printf("%s%d", i ? "," : " ", cpus[i]);
}

/* ---- streams ----------------------------------------------------------------------------- */

static void streams_json(const struct ipc_rng_streams_opts *o, const struct ipc_rng_streams *s,
                         uint64_t show)
{
    printf("{\"experiment\":\"rng-streams\",\"seeding\":\"%s\",\"workers\":%u,\"count\":%llu"
           ",\"seed\":\"%llu\",\"pairs\":%llu,\"identical_pairs\":%llu"
           ",\"identical_pairs_fraction\":%.6g,\"distinct_streams\":%u,\"wall_ns\":%llu,\"pids\":[",
           wl_seeding_name(o->seeding), s->workers, (unsigned long long)s->count,
           (unsigned long long)o->seed, (unsigned long long)s->pairs,
           (unsigned long long)s->identical_pairs, (double)s->identical_pairs / (double)s->pairs,
           s->distinct_streams, (unsigned long long)s->wall_ns);
    for (unsigned i = 0; i < s->workers; i++)
        printf("%s%d", i ? "," : "", (int)s->pids[i]);
    printf("],\"cpus\":");
    print_cpu_list(o->cpus, o->ncpus, s->workers);
    printf(",\"first\":[");
    for (unsigned i = 0; i < s->workers; i++) {
        printf("%s[", i ? "," : "");
        for (uint64_t k = 0; k < show; k++)
            printf("%s\"%" PRIu64 "\"", k ? "," : "", s->values[i * s->count + k]);
        putchar(']');
    }
    printf("]}\n");
}

static void streams_table(const struct ipc_rng_streams_opts *o, const struct ipc_rng_streams *s,
                          uint64_t show)
{
    char pairs[48], distinct[32];
    snprintf(pairs, sizeof pairs, "%llu of %llu", (unsigned long long)s->identical_pairs,
             (unsigned long long)s->pairs);
    snprintf(distinct, sizeof distinct, "%u of %u", s->distinct_streams, s->workers);
    printf("%-11s %-20s %-17s %10.3f\n", wl_seeding_name(o->seeding), pairs, distinct,
           (double)s->wall_ns / 1e6);
    for (unsigned i = 0; show && i < s->workers; i++) {
        printf("    worker %u (pid %d):", i, (int)s->pids[i]);
        for (uint64_t k = 0; k < show; k++)
            printf(" %016" PRIx64, s->values[i * s->count + k]);
        printf("%s\n", show < s->count ? " ..." : "");
    }
}

static int cmd_streams(int argc, char **argv, const int *allowed, int nallowed)
{
    enum { OPT_SEED = 256, OPT_SHOW, OPT_NO_PIN, OPT_FORMAT };
    static const struct option opts[] = {
        {"seeding", required_argument, NULL, 's'},
        {"workers", required_argument, NULL, 'w'},
        {"count", required_argument, NULL, 'k'},
        {"show", required_argument, NULL, OPT_SHOW},
        {"seed", required_argument, NULL, OPT_SEED},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct ipc_rng_streams_opts o = {
        .workers = 4,
        .count = 1000,
        .seed = DEFAULT_SEED,
        .cpus = nallowed > 0 ? allowed : NULL,
        .ncpus = nallowed > 0 ? nallowed : 0,
    };
    bool all = true, json = false, pin = true;
    uint64_t show = 3, u;
    int c;
    while ((c = getopt_long(argc, argv, ":s:w:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (strcmp(optarg, "all") == 0)
                all = true;
            else if (wl_seeding_parse(optarg, &o.seeding) == 0)
                all = false;
            else
                return cli_unknown(CMD, "seeding", optarg, "inherited, per-worker, jump, all");
            break;
        case 'w':
            CLI_NUM_OPT(CMD, u, "workers", 2, IPC_RNG_MAX_WORKERS);
            o.workers = (unsigned)u;
            break;
        case 'k':
            CLI_NUM_OPT(CMD, o.count, "count", 1, IPC_RNG_MAX_COUNT);
            break;
        case OPT_SHOW:
            CLI_NUM_OPT(CMD, show, "show", 0, MAX_SHOW);
            break;
        case OPT_SEED:
            CLI_NUM_OPT(CMD, o.seed, "seed", 0, UINT64_MAX);
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
    if ((uint64_t)o.workers * o.count > IPC_RNG_MAX_VALUES)
        return cli_error(CLI_USAGE, CMD, "--workers %u x --count %llu is more than %llu outputs",
                         o.workers, (unsigned long long)o.count,
                         (unsigned long long)IPC_RNG_MAX_VALUES);
    if (!pin)
        o.cpus = NULL, o.ncpus = 0;
    if (show > o.count)
        show = o.count;

    if (!json) {
        printf("# %u workers forked from a parent seeded with %llu, first %llu outputs each",
               o.workers, (unsigned long long)o.seed, (unsigned long long)o.count);
        print_pinning(o.cpus, o.ncpus, o.workers);
        printf("\n%-11s %-20s %-17s %10s\n", "seeding", "identical pairs", "distinct streams",
               "wall_ms");
    }
    if (cli_flush() < 0)
        return CLI_RUNTIME;
    int first = all ? 0 : (int)o.seeding, last = all ? WL_SEEDING_COUNT - 1 : (int)o.seeding;
    for (int sd = first; sd <= last; sd++) {
        o.seeding = (enum wl_seeding)sd;
        struct ipc_rng_streams s;
        char err[256];
        if (ipc_rng_streams_run(&o, &s, err, sizeof err) < 0)
            return cli_error(CLI_RUNTIME, CMD, "%s", err);
        if (json)
            streams_json(&o, &s, show);
        else
            streams_table(&o, &s, show);
        ipc_rng_streams_free(&s);
        if (cli_flush() < 0)
            return CLI_RUNTIME;
    }
    return CLI_OK;
}

/* ---- throughput -------------------------------------------------------------------------- */

static void throughput_json(const struct ipc_rng_throughput_opts *o,
                            const struct ipc_rng_throughput_result *r, unsigned run)
{
    double secs = (double)r->wall_ns / 1e9;
    printf("{\"experiment\":\"rng-throughput\",\"mode\":\"%s\",\"threads\":%u"
           ",\"numbers_per_thread\":%llu,\"numbers\":%llu,\"wall_ns\":%llu,\"numbers_per_s\":%.6g"
           ",\"ns_per_number\":%.4f,\"checksum\":\"%" PRIu64 "\",\"run\":%u,\"cpus\":",
           ipc_rng_mode_name(o->mode), o->threads, (unsigned long long)o->numbers,
           (unsigned long long)r->numbers, (unsigned long long)r->wall_ns,
           secs > 0 ? (double)r->numbers / secs : 0.0, (double)r->wall_ns / (double)r->numbers,
           r->checksum, run);
    print_cpu_list(o->cpus, o->ncpus, o->threads);
    printf("}\n");
}

static void throughput_table(const struct ipc_rng_throughput_opts *o,
                             const struct ipc_rng_throughput_result *r)
{
    double secs = (double)r->wall_ns / 1e9;
    printf("%-14s %7u %12llu %10.3f %12.2f %11.3f  %016" PRIx64 "\n", ipc_rng_mode_name(o->mode),
           o->threads, (unsigned long long)r->numbers, (double)r->wall_ns / 1e6,
           secs > 0 ? (double)r->numbers / secs / 1e6 : 0.0,
           (double)r->wall_ns / (double)r->numbers, r->checksum);
}

static int cmd_throughput(int argc, char **argv, const int *allowed, int nallowed)
{
    enum { OPT_SEED = 256, OPT_NO_PIN, OPT_FORMAT };
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 't'},
        {"numbers", required_argument, NULL, 'n'},
        {"repeat", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct ipc_rng_throughput_opts o = {
        .threads = nallowed > 0 ? (unsigned)nallowed : 1,
        .numbers = 1000000,
        .seed = DEFAULT_SEED,
        .cpus = nallowed > 0 ? allowed : NULL,
        .ncpus = nallowed > 0 ? nallowed : 0,
    };
    if (o.threads > IPC_RNG_MAX_THREADS)
        o.threads = IPC_RNG_MAX_THREADS;
    bool all = true, json = false, pin = true;
    uint64_t repeat = 1, u;
    int c;
    while ((c = getopt_long(argc, argv, ":m:t:n:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (strcmp(optarg, "all") == 0)
                all = true;
            else if (ipc_rng_mode_parse(optarg, &o.mode) == 0)
                all = false;
            else
                return cli_unknown(CMD, "mode", optarg, "locked-shared, per-thread, all");
            break;
        case 't':
            CLI_NUM_OPT(CMD, u, "threads", 1, IPC_RNG_MAX_THREADS);
            o.threads = (unsigned)u;
            break;
        case 'n':
            CLI_NUM_OPT(CMD, o.numbers, "numbers", 1, IPC_RNG_MAX_NUMBERS);
            break;
        case 'r':
            CLI_NUM_OPT(CMD, repeat, "repeat", 1, MAX_REPEAT);
            break;
        case OPT_SEED:
            CLI_NUM_OPT(CMD, o.seed, "seed", 0, UINT64_MAX);
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

    if (!json) {
        printf("# %u thread%s x %llu numbers, seed %llu", o.threads, o.threads == 1 ? "" : "s",
               (unsigned long long)o.numbers, (unsigned long long)o.seed);
        print_pinning(o.cpus, o.ncpus, o.threads);
        printf("\n%-14s %7s %12s %10s %12s %11s  %s\n", "mode", "threads", "numbers", "wall_ms",
               "M numbers/s", "ns/number", "checksum");
    }
    /* The header out before a run that may take minutes. */
    if (cli_flush() < 0)
        return CLI_RUNTIME;
    int first = all ? 0 : (int)o.mode, last = all ? IPC_RNG_MODES - 1 : (int)o.mode;
    for (unsigned run = 1; run <= repeat; run++) {
        for (int m = first; m <= last; m++) {
            o.mode = (enum ipc_rng_mode)m;
            struct ipc_rng_throughput_result r;
            char err[256];
            if (ipc_rng_throughput_run(&o, &r, err, sizeof err) < 0)
                return cli_error(CLI_RUNTIME, CMD, "%s", err);
            if (json)
                throughput_json(&o, &r, run);
            else
                throughput_table(&o, &r);
            if (cli_flush() < 0)
                return CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
        }
    }
    return CLI_OK;
}

int cmd_rng(int argc, char **argv)
{
    optind = 0;
    opterr = 0;
    if (argc < 2)
        return cli_error(CLI_USAGE, CMD, "which experiment? streams or throughput (--help)");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    static int allowed[IPC_RNG_MAX_WORKERS];
    int nallowed = ipc_cpu_allowed(allowed, IPC_RNG_MAX_WORKERS);
    /* getopt sees the experiment's name as its argv[0]. */
    if (strcmp(sub, "streams") == 0)
        return cmd_streams(argc - 1, argv + 1, allowed, nallowed);
    if (strcmp(sub, "throughput") == 0)
        return cmd_throughput(argc - 1, argv + 1, allowed, nallowed);
    return cli_unknown(CMD, "experiment", sub, "streams, throughput");
}
