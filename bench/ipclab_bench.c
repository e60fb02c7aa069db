/* SPDX-License-Identifier: MIT */
/* ipclab-bench: every benchmark family, run through Google Benchmark (JSON out). */
#include "bench.h"
#include "cli.h"

#include "../ipc/cleanup.h"
#include "../ipc/cpu.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CMD "bench"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab-bench [options] [--benchmark_* flags]\n"
            "\n"
            "Families: check/<backend>, check-contended/<backend>/contender:<kind>,\n"
            "raise-to-seen/<backend>, cacheline/pingpong, verify/<strategy>/<backend>,\n"
            "sweep/<backend> (server backends add /server:same-core|other-core),\n"
            "pi/<mode>, spawn/<kind>, spawn-memory/child:<c>, rng-streams/<seeding>,\n"
            "rng/<mode>, counter/<variant>, queue/<transport>, queue-latency/<transport>,\n"
            "queue-loss/<transport>, find-primes/<transport>, payload/<way>, memo/<cold|warm>,\n"
            "redis-bench/<ipclab|redis-benchmark>/<unix|tcp>/server:<other-core|same-core>.\n"
            "\n"
            "  --cpus A,B            the benchmark process runs on A, partner processes and\n"
            "                        worker 1 on B (default: the first two available CPUs)\n"
            "  --repetitions N       repetitions of every benchmark (default 5)\n"
            "  --min-time S          seconds per repetition of the batch families (0.2)\n"
            "  --sweep-budget S      seconds one sweep point may take; picks the number (0.5)\n"
            "  --raise-rounds N      round trips per raise-to-seen repetition (2000; a tenth\n"
            "                        for backends checked through a call)\n"
            "  --backends A,B,...    only these flag backends (default: all)\n"
            "  -h, --help            this text\n"
            "\n"
            "Google Benchmark's flags select and write the results, e.g.\n"
            "  --benchmark_filter='^check/' --benchmark_out=r.json --benchmark_out_format=json\n");
}

static int parse_cpus(const char *s, const int *allowed, int nallowed)
{
    char why[256];
    uint64_t a, b;
    const char *comma = strchr(s, ',');
    char first[32];
    if (!comma || (size_t)(comma - s) >= sizeof first)
        return cli_error(CLI_USAGE, CMD, "--cpus: expected A,B, got '%s'", CLI_QUOTED(s));
    memcpy(first, s, (size_t)(comma - s));
    first[comma - s] = '\0';
    if (cli_parse_u64(first, 0, 65535, &a, why, sizeof why) < 0 ||
        cli_parse_u64(comma + 1, 0, 65535, &b, why, sizeof why) < 0)
        return cli_error(CLI_USAGE, CMD, "--cpus: %s", why);
    if (a == b)
        return cli_error(CLI_USAGE, CMD, "--cpus: the two CPUs must differ");
    if (!ipc_cpu_in(allowed, nallowed, (int)a) || !ipc_cpu_in(allowed, nallowed, (int)b))
        return cli_error(CLI_USAGE, CMD, "--cpus: %s is not within this process's CPUs",
                         CLI_QUOTED(s));
    bench_cfg.cpu_main = (int)a;
    bench_cfg.cpu_other = (int)b;
    return CLI_OK;
}

/* Seconds as a decimal (0.05, 2): digits and at most one point, within [min, max]. */
static int seconds(const char *opt, const char *arg, double min, double max, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (!*arg || *end || arg[strspn(arg, "0123456789.")] || !(v >= min && v <= max))
        return cli_error(CLI_USAGE, CMD, "--%s: '%s' is not a number of seconds from %g to %g", opt,
                         CLI_QUOTED(arg), min, max);
    *out = v;
    return CLI_OK;
}

int main(int argc, char **argv)
{
    ipc_cleanup_install();
    int allowed[256];
    int nallowed = ipc_cpu_allowed(allowed, 256);
    bench_cfg = (struct bench_cfg){
        .cpu_main = nallowed > 0 ? allowed[0] : 0,
        .cpu_other = nallowed > 1 ? allowed[1] : -1,
        .repetitions = 5,
        .min_time = 0.2,
        .sweep_budget = 0.5,
        .raise_rounds = 2000,
    };

    /* Before the library sees argv: it answers --help with its own text and exits. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        }
    }
    /* Split argv: --benchmark_* flags go to the library after ours (so a user's flag wins),
     * the rest is parsed here. Repetitions and times are set as the library's own flags, not
     * per benchmark, because per-benchmark settings would be appended to every name. */
    char *gb_argv[argc + 4], *our_argv[argc + 1];
    int gb_argc = 1, our_argc = 1;
    gb_argv[0] = our_argv[0] = argv[0];
    char reps_flag[64], time_flag[64];
    gb_argv[gb_argc++] = reps_flag;
    gb_argv[gb_argc++] = time_flag;
    gb_argv[gb_argc++] = "--benchmark_min_warmup_time=0.05";
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--benchmark_", 12) == 0)
            gb_argv[gb_argc++] = argv[i];
        else
            our_argv[our_argc++] = argv[i];
    }
    gb_argv[gb_argc] = our_argv[our_argc] = NULL;
    argc = our_argc;
    argv = our_argv;
    static const struct option opts[] = {
        {"cpus", required_argument, NULL, 'c'},
        {"repetitions", required_argument, NULL, 'r'},
        {"min-time", required_argument, NULL, 'm'},
        {"sweep-budget", required_argument, NULL, 's'},
        {"raise-rounds", required_argument, NULL, 'R'},
        {"backends", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    opterr = 0;
    int c, rc = CLI_OK;
    uint64_t u;
    while (rc == CLI_OK && (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            rc = parse_cpus(optarg, allowed, nallowed > 0 ? nallowed : 0);
            break;
        case 'r':
            if ((rc = cli_option_u64(CMD, "repetitions", optarg, 1, 1000, &u)) == CLI_OK)
                bench_cfg.repetitions = (int)u;
            break;
        case 'm':
            rc = seconds("min-time", optarg, 0.001, 3600, &bench_cfg.min_time);
            break;
        case 's':
            rc = seconds("sweep-budget", optarg, 0.001, 3600, &bench_cfg.sweep_budget);
            break;
        case 'R':
            if ((rc = cli_option_u64(CMD, "raise-rounds", optarg, 1, 10000000, &u)) == CLI_OK)
                bench_cfg.raise_rounds = (int)u;
            break;
        case 'b':
            bench_cfg.backends = optarg;
            for (char *p = optarg, *e; *p; p = *e ? e + 1 : e) {
                e = p + strcspn(p, ",");
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(e - p), p);
                if (!flag_backend_find(name))
                    return cli_error(CLI_USAGE, CMD, "--backends: unknown backend '%s'",
                                     CLI_QUOTED(name));
            }
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(CMD, c, argv);
        }
    }
    if (rc != CLI_OK)
        return rc;
    if (optind < argc)
        return cli_unexpected_arg(CMD, argv[optind]);
    snprintf(reps_flag, sizeof reps_flag, "--benchmark_repetitions=%d", bench_cfg.repetitions);
    snprintf(time_flag, sizeof time_flag, "--benchmark_min_time=%g", bench_cfg.min_time);
    gb_initialize(&gb_argc, gb_argv);
    if (gb_argc > 1)
        return cli_error(CLI_USAGE, CMD, "unknown Google Benchmark flag '%s'",
                         CLI_QUOTED(gb_argv[1]));

    /* Everything measured here runs where the placement says, not where the scheduler likes. */
    if (ipc_cpu_pin(bench_cfg.cpu_main) < 0)
        return cli_error(CLI_RUNTIME, CMD, "cannot pin to CPU %d", bench_cfg.cpu_main);
    bench_add_context();
    bench_register_check();
    bench_register_check_contended();
    bench_register_raise_to_seen();
    bench_register_cacheline();
    bench_register_verify();
    bench_register_sweep();
    bench_register_model();
    bench_register_pi();
    bench_register_spawn();
    bench_register_rng();
    bench_register_counter();
    bench_register_queue();
    bench_register_find_primes();
    bench_register_payload();
    bench_register_memo();
    bench_register_redis();
    gb_run();
    gb_shutdown();
    bench_redis_stop();
    bench_free_all();
    ipc_cleanup_run();
    return CLI_OK;
}
