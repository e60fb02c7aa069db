/* SPDX-License-Identifier: MIT */
/* `ipclab verify`: check numbers for primality with a strategy and a flag backend. */
#include "cli.h"

#include "../flags/flag.h"
#include "../ipc/calibrate.h"
#include "../ipc/cost_model.h"
#include "../ipc/cpu.h"
#include "../ipc/verify.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CMD "verify"

/* The chapter's own five numbers. */
static const char *const book_numbers[] = {
    "112272535095295",    "100109100129100369", "100109100129101027",
    "100109100129100151", "100109100129162907",
};

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

struct numbers {
    uint64_t *v;
    size_t n, cap;
};

static int push(struct numbers *ns, uint64_t v)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        uint64_t *p = realloc(ns->v, cap * sizeof *p);
        if (!p)
            return -1;
        ns->v = p;
        ns->cap = cap;
    }
    ns->v[ns->n++] = v;
    return 0;
}

/* Numbers from stdin, one per line, surrounding blanks allowed; all read and checked before
 * any is verified, so bad input never leaves half a result behind. */
static int read_stdin(struct numbers *ns)
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
        if (push(ns, v) < 0) {
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

/* --check-every auto: the target, the model's inputs and where they came from. */
struct auto_k {
    bool on;
    double target;
    const char *calibration; /* a file, or NULL: measured */
    struct ipc_cost_inputs in;
    bool target_met; /* for the current number */
};

static void print_ns_or_null(double ns)
{
    if (ns >= 0)
        printf("%.1f", ns);
    else
        printf("null");
}

static void print_model_json(const struct auto_k *a, uint64_t k)
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
                       const struct auto_k *a)
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

static void print_table_header(const struct ipc_verify *v, const struct auto_k *a)
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

static void print_table(const struct ipc_verify_result *r, const struct auto_k *a, uint64_t k)
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

int cmd_verify(int argc, char **argv)
{
    enum {
        OPT_BOOK = 256,
        OPT_NO_PIN,
        OPT_TMPDIR,
        OPT_FORMAT,
        OPT_SERVER_CPU,
        OPT_REDIS_SOCKET,
        OPT_REDIS_HOST,
        OPT_REDIS_PORT,
        OPT_REDIS_PASSWORD,
        OPT_CALIBRATION,
    };
    static const struct option opts[] = {
        {"strategy", required_argument, NULL, 's'},
        {"flag", required_argument, NULL, 'f'},
        {"workers", required_argument, NULL, 'w'},
        {"check-every", required_argument, NULL, 'k'},
        {"serial-cutoff", required_argument, NULL, 'c'},
        {"repeat", required_argument, NULL, 'r'},
        {"book", no_argument, NULL, OPT_BOOK},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"tmpdir", required_argument, NULL, OPT_TMPDIR},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"server-cpu", required_argument, NULL, OPT_SERVER_CPU},
        {"redis-socket", required_argument, NULL, OPT_REDIS_SOCKET},
        {"redis-host", required_argument, NULL, OPT_REDIS_HOST},
        {"redis-port", required_argument, NULL, OPT_REDIS_PORT},
        {"redis-password", required_argument, NULL, OPT_REDIS_PASSWORD},
        {"calibration", required_argument, NULL, OPT_CALIBRATION},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    static int allowed[IPC_VERIFY_MAX_WORKERS];
    int nallowed = ipc_cpu_allowed(allowed, IPC_VERIFY_MAX_WORKERS);
    struct ipc_verify_opts o;
    ipc_verify_opts_default(&o, allowed, nallowed);
    const char *flag_name = "atomic";
    struct flag_config cfg = {0};
    bool book = false, json = false, pin = true;
    struct auto_k a = {.target = IPC_COST_DEFAULT_TARGET};
    uint64_t repeat = 1, u;

    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":s:f:w:k:c:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (ipc_strategy_parse(optarg, &o.strategy) < 0)
                return cli_unknown(CMD, "strategy", optarg, "serial, pool, less-naive");
            break;
        case 'f':
            flag_name = optarg;
            break;
        case 'w':
            CLI_NUM_OPT(CMD, u, "workers", 1, IPC_VERIFY_MAX_WORKERS);
            o.workers = (unsigned)u;
            break;
        case 'k':
            if (strncmp(optarg, "auto", 4) == 0 && (optarg[4] == '\0' || optarg[4] == ':')) {
                char why[256];
                a.on = true;
                a.target = IPC_COST_DEFAULT_TARGET;
                if (optarg[4] == ':' && ipc_cost_parse_target(optarg + 5, &a.target, why,
                                                              sizeof why) < 0)
                    return cli_error(CLI_USAGE, CMD, "--check-every %s: %s",
                                     CLI_QUOTED(optarg), why);
                break;
            }
            a.on = false;
            CLI_NUM_OPT(CMD, o.check_every, "check-every", 1, UINT64_MAX);
            break;
        case OPT_CALIBRATION:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--calibration: empty path");
            a.calibration = optarg;
            break;
        case 'c':
            CLI_NUM_OPT(CMD, o.serial_cutoff, "serial-cutoff", 0, UINT64_MAX);
            break;
        case 'r':
            CLI_NUM_OPT(CMD, repeat, "repeat", 1, 1000000);
            break;
        case OPT_BOOK:
            book = true;
            break;
        case OPT_NO_PIN:
            pin = false;
            break;
        case OPT_TMPDIR:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--tmpdir: empty path");
            cfg.tmpdir = optarg;
            break;
        case OPT_SERVER_CPU: {
            int cpu;
            if (cli_option_cpu(CMD, "server-cpu", optarg, allowed, nallowed, &cpu) != CLI_OK)
                return CLI_USAGE;
            cfg.pin_server = true;
            cfg.server_cpu = (unsigned)cpu;
            break;
        }
        case OPT_REDIS_SOCKET:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-socket: empty path");
            cfg.redis_socket = optarg;
            break;
        case OPT_REDIS_HOST:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-host: empty host name");
            cfg.redis_host = optarg;
            break;
        case OPT_REDIS_PORT:
            CLI_NUM_OPT(CMD, u, "redis-port", 1, 65535);
            cfg.redis_port = (unsigned)u;
            break;
        case OPT_REDIS_PASSWORD:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-password: empty password");
            cfg.redis_password = optarg;
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
    if (!pin)
        o.cpus = NULL, o.ncpus = 0;
    if (a.calibration && !a.on)
        return cli_error(CLI_USAGE, CMD, "--calibration needs --check-every auto");
    if (cfg.redis_port && !cfg.redis_host)
        cfg.redis_host = "127.0.0.1";
    cfg.participants = o.workers + 1; /* the workers and the parent (calibration, serial) */

    const struct flag_ops *ops = flag_backend_find(flag_name);
    if (!ops)
        return cli_unknown(CMD, "flag backend", flag_name, "'ipclab flags' lists them");

    struct numbers ns = {0};
    int rc = CLI_OK;
    if (book && optind < argc) {
        rc = cli_error(CLI_USAGE, CMD, "give either --book or numbers, not both");
    } else if (book) {
        for (size_t i = 0; i < sizeof book_numbers / sizeof book_numbers[0] && rc == 0; i++)
            if (push(&ns, strtoull(book_numbers[i], NULL, 10)) < 0)
                rc = cli_error(CLI_RUNTIME, CMD, "out of memory");
    } else if (optind < argc) {
        for (int i = optind; i < argc && rc == CLI_OK; i++) {
            uint64_t v;
            char why[256];
            if (cli_parse_u64(argv[i], 0, UINT64_MAX, &v, why, sizeof why) < 0)
                rc = cli_error(CLI_USAGE, CMD, "%s", why);
            else if (push(&ns, v) < 0)
                rc = cli_error(CLI_RUNTIME, CMD, "out of memory");
        }
    } else {
        rc = read_stdin(&ns);
        if (rc == CLI_OK && ns.n == 0)
            rc = cli_error(CLI_USAGE, CMD, "no numbers on standard input");
    }
    if (rc != CLI_OK) {
        free(ns.v);
        return rc;
    }

    char why[256];
    if (a.on && a.calibration) { /* bad input, found before any server starts */
        int got = ipc_calibration_read(a.calibration, ops->name, &a.in, why, sizeof why);
        if (got == 0 && !ipc_cost_inputs_valid(&a.in))
            got = -EINVAL, snprintf(why, sizeof why, "%s: unusable inputs", a.calibration);
        if (got < 0) {
            free(ns.v);
            return cli_error(got == -ENOENT || got == -EINVAL ? CLI_USAGE : CLI_RUNTIME, CMD,
                             "%s", why);
        }
    }
    int probed = flag_probe(ops, why, sizeof why);
    /* An existing Redis server makes a missing local redis-server binary irrelevant. */
    if (probed == -ENOENT && (cfg.redis_socket || cfg.redis_host))
        probed = 0;
    if (probed < 0) {
        free(ns.v);
        return cli_error(CLI_RUNTIME, CMD, "flag backend '%s' is not available here: %s", ops->name,
                         why);
    }
    struct flag f = FLAG_INIT;
    if (flag_open(&f, ops, &cfg) < 0) {
        free(ns.v);
        return cli_error(CLI_RUNTIME, CMD, "%s", f.errstr);
    }
    struct ipc_verify v;
    if (a.on && !a.calibration && ipc_calibrate(&f, o.cpus, o.ncpus, &a.in, why, sizeof why) < 0) {
        flag_close(&f);
        free(ns.v);
        return cli_error(CLI_RUNTIME, CMD, "calibrating %s: %s", ops->name, why);
    }
    if (ipc_verify_init(&v, &f, &o) < 0) {
        rc = cli_error(CLI_RUNTIME, CMD, "%s", v.errstr);
    } else {
        /* One measurement of c: the model's, when it was just made (same method). */
        if (a.on && !a.calibration)
            v.check_cost_ns = a.in.check_ns;
        if (!json)
            print_table_header(&v, &a);
        for (unsigned run = 1; run <= repeat && rc == CLI_OK; run++) {
            for (size_t i = 0; i < ns.n && rc == CLI_OK; i++) {
                struct ipc_verify_result r;
                if (a.on)
                    a.target_met = ipc_cost_choose_k(&a.in, a.target,
                                                     ipc_verify_max_check_every(&v.opts, ns.v[i]),
                                                     &v.opts.check_every);
                if (ipc_verify_number(&v, ns.v[i], &r) < 0) {
                    rc = cli_error(CLI_RUNTIME, CMD, "%llu with flag %s: %s",
                                   (unsigned long long)ns.v[i], ops->name, v.errstr);
                    break;
                }
                if (json)
                    print_json(&v, &r, run, &a);
                else
                    print_table(&r, &a, v.opts.check_every);
            }
            if (cli_flush() < 0 && rc == CLI_OK)
                rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
        }
        ipc_verify_fini(&v);
    }
    flag_close(&f);
    free(ns.v);
    return rc;
}
