/* SPDX-License-Identifier: MIT */
/* `ipclab verify`: check numbers for primality with a strategy and a flag backend. */
#include "cli.h"
#include "verify_args.h"

#include "../flags/flag.h"
#include "../ipc/calibrate.h"
#include "../ipc/cost_model.h"
#include "../ipc/cpu.h"
#include "../ipc/verify.h"

#include <stdlib.h>
#include <string.h>

#define CMD "verify"


static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab verify [options] [NUMBER ...]\n"
            "\n"
            "Check each NUMBER (0 to 18446744073709551615) for primality by trial division.\n"
            "Without NUMBERs, reads one per line from standard input.\n"
            "\n"
            "  -s, --strategy S      serial | pool | less-naive (default pool)\n"
            "  -f, --flag NAME       flag backend the workers share (default atomic;\n"
            "                        'ipclab flags' lists them; none = the naive pool)\n"
            "  -w, --workers N       worker processes, 1..%d (default: CPUs available)\n"
            "  -k, --check-every K   check the flag after every K candidates (default 1000);\n"
            "                        auto: the smallest K whose predicted overhead is at\n"
            "                        most 1%% (auto:0.5%% for another target), chosen per\n"
            "                        number from the cost model (see ipclab model --help)\n"
            "      --calibration F   auto: take the model's inputs for the flag from the\n"
            "                        calibration file F (ipclab model --format tsv writes\n"
            "                        one, so does make bench) instead of measuring them\n"
            "  -c, --serial-cutoff C less-naive: try factors below C serially first (default 21)\n"
            "      --book            the chapter's five numbers\n"
            "  -r, --repeat R        verify every number R times (default 1)\n"
            "      --no-pin          do not pin worker i to the i-th available CPU\n"
            "      --tmpdir DIR      where file-backed flags make their private directory\n"
            "      --server-cpu N    pin the flag's server (manager, redis-server) to CPU N\n"
            "      --redis-socket P  redis-unix: use the Redis server on Unix socket P\n"
            "      --redis-host H    redis-tcp: use the Redis server on host H ...\n"
            "      --redis-port N    ... port N (default 6379); without these two options\n"
            "                        or --redis-socket, ipclab starts its own redis-server\n"
            "                        on a private socket and a free port, with a random\n"
            "                        password, and stops it after\n"
            "      --redis-password W  AUTH with W on a server given by the options above\n"
            "                        (or set IPCLAB_REDIS_PASSWORD: unlike an option, other\n"
            "                        users cannot read it in ps)\n"
            "      --format F        table (default) | json (one JSON object per line)\n"
            "  -h, --help            this text\n"
            "\n"
            "json fields: number and factor are decimal strings (factor null for primes and\n"
            "for 0 and 1); wall_ns covers forks and reaping; checks counts flag checks of\n"
            "all workers; check_ns = checks x check_cost_ns, the cost of one check measured\n"
            "once per run by timing a batch of back-to-back checks in this process\n"
            "(check_ns_method \"calibrated\"); candidates counts divisors tried, 2 included;\n"
            "stop_latency_ns runs from the first raise to the last worker leaving its loop\n"
            "(null when nothing was raised); cpus lists each worker's CPU (null: not pinned);\n"
            "server_cpu is where the flag's server is pinned (null: not pinned or no server)\n"
            "and server_last_cpu where it last ran. check_every_mode is fixed or auto; with\n"
            "auto: overhead_target (a fraction), the model's inputs work_ns, model_check_ns\n"
            "and raise_ns (null when unknown) from model_source (calibrated or file), and\n"
            "its predictions for the chosen check_every: predicted_overhead (a fraction),\n"
            "predicted_stop_ns (average) and predicted_stop_worst_ns, and target_met (false\n"
            "when even the largest useful K predicts more); all null with a fixed K.\n",
            IPC_VERIFY_MAX_WORKERS);
}

/* Numbers from stdin, one per line, surrounding blanks allowed; all read and checked before
 * any is verified, so bad input never leaves half a result behind. */
static int read_stdin(struct verify_args *args)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = CLI_OK;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            rc = cli_error(CLI_USAGE, CMD, "stdin line %lu: contains a NUL byte", lineno);
            break;
        }
        char *s = line, *e = line + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *e = '\0';
        uint64_t v;
        char why[256];
        if (cli_parse_u64(s, 0, UINT64_MAX, &v, why, sizeof why) < 0) {
            rc = cli_error(CLI_USAGE, CMD, "stdin line %lu: %s", lineno, why);
            break;
        }
        if (verify_args_push(args, v) < 0) {
            rc = cli_error(CLI_RUNTIME, CMD, "out of memory");
            break;
        }
    }
    if (rc == CLI_OK && ferror(stdin))
        rc = cli_error(CLI_RUNTIME, CMD, "reading standard input failed");
    free(line);
    return rc;
}

static void print_cpus(const struct ipc_verify_opts *o, unsigned processes)
{
    if (!o->cpus || processes == 0) {
        printf("null");
        return;
    }
    putchar('[');
    for (unsigned i = 0; i < processes; i++)
        printf("%s%d", i ? "," : "", o->cpus[i % (unsigned)o->ncpus]);
    putchar(']');
}

static void print_int_or_null(int v)
{
    if (v >= 0)
        printf("%d", v);
    else
        printf("null");
}


static void print_ns_or_null(double ns)
{
    if (ns >= 0)
        printf("%.1f", ns);
    else
        printf("null");
}

static void print_model_json(const struct verify_auto *a, uint64_t k)
{
    if (!a->on) {
        printf(",\"check_every_mode\":\"fixed\",\"overhead_target\":null,\"model_source\":null"
               ",\"work_ns\":null,\"model_check_ns\":null,\"raise_ns\":null"
               ",\"predicted_overhead\":null,\"predicted_stop_ns\":null"
               ",\"predicted_stop_worst_ns\":null,\"target_met\":null");
        return;
    }
    printf(",\"check_every_mode\":\"auto\",\"overhead_target\":%.6g,\"model_source\":\"%s\""
           ",\"work_ns\":%.4f,\"model_check_ns\":%.3f,\"raise_ns\":",
           a->target, a->calibration ? "file" : "calibrated", a->in.work_ns, a->in.check_ns);
    print_ns_or_null(a->in.raise_ns);
    printf(",\"predicted_overhead\":%.6g,\"predicted_stop_ns\":",
           ipc_cost_overhead(&a->in, k));
    print_ns_or_null(ipc_cost_stop_avg_ns(&a->in, k));
    printf(",\"predicted_stop_worst_ns\":");
    print_ns_or_null(ipc_cost_stop_worst_ns(&a->in, k));
    printf(",\"target_met\":%s", a->target_met ? "true" : "false");
}

static void print_json(const struct ipc_verify *v, const struct ipc_verify_result *r, unsigned run,
                       const struct verify_auto *a)
{
    const struct ipc_verify_opts *o = &v->opts;
    printf("{\"number\":\"%llu\",\"prime\":%s,\"factor\":", (unsigned long long)r->n,
           r->prime ? "true" : "false");
    if (r->factor)
        printf("\"%llu\"", (unsigned long long)r->factor);
    else
        printf("null");
    printf(",\"strategy\":\"%s\",\"flag\":", ipc_strategy_name(o->strategy));
    cli_json_string(stdout, v->flag->ops->name);
    printf(",\"workers\":%u,\"processes\":%u,\"check_every\":%llu,\"serial_cutoff\":%llu"
           ",\"run\":%u,\"wall_ns\":%llu,\"checks\":%llu,\"check_ns\":%.0f"
           ",\"check_cost_ns\":%.3f,\"check_ns_method\":\"calibrated\",\"candidates\":%llu"
           ",\"stop_latency_ns\":",
           o->workers, r->processes, (unsigned long long)o->check_every,
           (unsigned long long)o->serial_cutoff, run, (unsigned long long)r->wall_ns,
           (unsigned long long)r->checks, r->check_ns, v->check_cost_ns,
           (unsigned long long)r->candidates);
    if (r->stop_latency_ns >= 0)
        printf("%lld", (long long)r->stop_latency_ns);
    else
        printf("null");
    printf(",\"cpus\":");
    print_cpus(o, r->processes);
    const struct flag *f = v->flag;
    printf(",\"server_cpu\":");
    print_int_or_null(f->server_pid ? f->server_cpu : -1);
    printf(",\"server_last_cpu\":");
    print_int_or_null(f->server_pid ? ipc_cpu_last_of(f->server_pid) : -1);
    print_model_json(a, o->check_every);
    printf("}\n");
}

static void print_table_header(const struct ipc_verify *v, const struct verify_auto *a)
{
    const struct ipc_verify_opts *o = &v->opts;
    printf("# strategy %s, flag %s (one check %.2f ns, calibrated), %u worker%s",
           ipc_strategy_name(o->strategy), v->flag->ops->name, v->check_cost_ns, o->workers,
           o->workers == 1 ? "" : "s");
    if (o->cpus) {
        printf(" pinned to CPU");
        for (int i = 0; i < o->ncpus && (unsigned)i < o->workers; i++)
            printf("%s%d", i ? "," : " ", o->cpus[i]);
    }
    if (a->on)
        printf(", check every K chosen per number for at most %g%% overhead", a->target * 100);
    else
        printf(", check every %llu", (unsigned long long)o->check_every);
    const struct flag *f = v->flag;
    if (f->server_pid && f->server_cpu >= 0)
        printf(", server pid %d pinned to CPU %d", f->server_pid, f->server_cpu);
    else if (f->server_pid)
        printf(", server pid %d not pinned", f->server_pid);
    printf("\n");
    if (a->on) {
        printf("# model (%s): w %.3f ns per candidate, c %.3f ns per check, r ", 
               a->calibration ? a->calibration : "calibrated now", a->in.work_ns, a->in.check_ns);
        if (a->in.raise_ns >= 0)
            printf("%.0f ns raise-to-seen\n", a->in.raise_ns);
        else
            printf("unknown (%s is not shared between processes)\n", v->flag->ops->name);
    }
    printf("%-22s %-6s %-12s %10s %10s %10s %12s %10s", "number", "prime", "factor", "wall_ms",
           "checks", "check_ms", "candidates", "stop_us");
    if (a->on)
        printf(" %12s %9s %12s", "K", "pred_ovh%", "pred_stop_us");
    printf("\n");
}

static void print_table(const struct ipc_verify_result *r, const struct verify_auto *a, uint64_t k)
{
    char factor[24] = "-", stop[24] = "-";
    if (r->factor)
        snprintf(factor, sizeof factor, "%llu", (unsigned long long)r->factor);
    if (r->stop_latency_ns >= 0)
        snprintf(stop, sizeof stop, "%.1f", (double)r->stop_latency_ns / 1e3);
    printf("%-22llu %-6s %-12s %10.3f %10llu %10.3f %12llu %10s", (unsigned long long)r->n,
           r->prime ? "yes" : "no", factor, (double)r->wall_ns / 1e6, (unsigned long long)r->checks,
           r->check_ns / 1e6, (unsigned long long)r->candidates, stop);
    if (a->on) {
        char pstop[24] = "-";
        double ps = ipc_cost_stop_avg_ns(&a->in, k);
        if (ps >= 0)
            snprintf(pstop, sizeof pstop, "%.1f", ps / 1e3);
        printf(" %12llu %8.3f%s %12s", (unsigned long long)k, ipc_cost_overhead(&a->in, k) * 100,
               a->target_met ? " " : "!", pstop);
    }
    putchar('\n');
}

/* Verify every number with an open flag; CLI_OK or an exit status after a one-line error. */
static int run(struct verify_args *args, struct flag *f)
{
    struct verify_auto *a = &args->autok;
    struct ipc_verify v;
    char why[256];
    if (a->on && !a->calibration &&
        ipc_calibrate(f, args->o.cpus, args->o.ncpus, &a->in, why, sizeof why) < 0)
        return cli_error(CLI_RUNTIME, CMD, "calibrating %s: %s", args->ops->name, why);
    if (ipc_verify_init(&v, f, &args->o) < 0)
        return cli_error(CLI_RUNTIME, CMD, "%s", v.errstr);
    /* One measurement of c: the model's, when it was just made (same method). */
    if (a->on && !a->calibration)
        v.check_cost_ns = a->in.check_ns;
    if (!args->json)
        print_table_header(&v, a);
    int rc = CLI_OK;
    for (unsigned run = 1; run <= args->repeat && rc == CLI_OK; run++) {
        for (size_t i = 0; i < args->count && rc == CLI_OK; i++) {
            uint64_t n = args->numbers[i];
            struct ipc_verify_result r;
            if (a->on)
                a->target_met = ipc_cost_choose_k(&a->in, a->target,
                                                  ipc_verify_max_check_every(&v.opts, n),
                                                  &v.opts.check_every);
            if (ipc_verify_number(&v, n, &r) < 0) {
                rc = cli_error(CLI_RUNTIME, CMD, "%llu with flag %s: %s", (unsigned long long)n,
                               args->ops->name, v.errstr);
                break;
            }
            if (args->json)
                print_json(&v, &r, run, a);
            else
                print_table(&r, a, v.opts.check_every);
        }
        if (cli_flush() < 0 && rc == CLI_OK)
            rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
    }
    ipc_verify_fini(&v);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    static struct verify_args args; /* 4 KiB of allowed CPUs: not on the stack */
    int rc = verify_args_parse(argc, argv, &args);
    if (rc == CLI_OK && args.help) {
        usage(stdout);
        goto out;
    }
    if (rc == CLI_OK && !args.book && args.count == 0) {
        rc = read_stdin(&args);
        if (rc == CLI_OK && args.count == 0)
            rc = cli_error(CLI_USAGE, CMD, "no numbers on standard input");
    }
    if (rc != CLI_OK)
        goto out;

    const struct flag_ops *ops = args.ops;
    struct verify_auto *a = &args.autok;
    char why[256];
    if (a->on && a->calibration) { /* bad input, found before any server starts */
        int got = ipc_calibration_read(a->calibration, ops->name, &a->in, why, sizeof why);
        if (got < 0) {
            rc = cli_error(got == -ENOENT || got == -EINVAL ? CLI_USAGE : CLI_RUNTIME, CMD,
                           "--calibration %s: %s", CLI_QUOTED_PATH(a->calibration), why);
            goto out;
        }
    }
    int probed = flag_probe(ops, why, sizeof why);
    /* An existing Redis server makes a missing local redis-server binary irrelevant. */
    if (probed == -ENOENT && (args.cfg.redis_socket || args.cfg.redis_host))
        probed = 0;
    if (probed < 0) {
        rc = cli_error(CLI_RUNTIME, CMD, "flag backend '%s' is not available here: %s", ops->name,
                       why);
        goto out;
    }
    struct flag f = FLAG_INIT;
    if (flag_open(&f, ops, &args.cfg) < 0) {
        rc = cli_error(CLI_RUNTIME, CMD, "%s", f.errstr);
        goto out;
    }
    rc = run(&args, &f);
    flag_close(&f);
out:
    verify_args_free(&args);
    return rc;
}
