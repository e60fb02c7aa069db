/* SPDX-License-Identifier: MIT */
/* `ipclab model`: the flag's cost model per backend: measured inputs, the check interval it
 * chooses, and what it predicts there and at the chapter's fixed interval. */
#include "cli.h"

#include "../flags/flag.h"
#include "../ipc/calibrate.h"
#include "../ipc/cost_model.h"
#include "../ipc/cpu.h"
#include "../ipc/verify.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CMD "model"

/* The chapter's 18-digit prime: every candidate is tried, the longest search of its five. */
#define BOOK_PRIME 100109100129100151ull
#define BOOK_EVERY 1000

enum format { FORMAT_TABLE, FORMAT_JSON, FORMAT_TSV };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab model [options]\n"
            "\n"
            "The cost model of the flag, per backend, from inputs measured on this machine:\n"
            "  w  ns of trial division per candidate (an 18-digit prime, pinned like worker 0)\n"
            "  c  ns per check of the flag (a batch of back-to-back checks)\n"
            "  r  ns from a raise to the stop of a worker it stops: two workers forked and\n"
            "     pinned as the pool's, one checking after every candidate, the other\n"
            "     raising after 0.1 ms of search (the median of 41 rounds)\n"
            "Checking every K candidates predicts an overhead of c / (K w) and a stop that\n"
            "comes K w / 2 + r after the raise on average (K w + r at worst). The chosen K\n"
            "is the smallest whose predicted overhead is at most the target, and at most\n"
            "the candidates one worker gets for --number (beyond that nothing is checked).\n"
            "\n"
            "  -f, --flag NAME       a backend to model (repeatable; default: every available\n"
            "                        backend shared between processes)\n"
            "  -t, --target P%%       overhead target, 0%% < P <= 100%% (default 1%%)\n"
            "  -n, --number N        the number whose search bounds K (default the chapter's\n"
            "                        18-digit prime, %llu)\n"
            "  -w, --workers N       workers of the pool that searches it, 1..%d (default:\n"
            "                        CPUs available)\n"
            "      --calibration F   read the inputs from the calibration file F instead of\n"
            "                        measuring them\n"
            "      --no-pin          do not pin the measuring processes\n"
            "      --server-cpu N    pin a backend's server (manager, redis-server) to CPU N\n"
            "      --tmpdir DIR      where file-backed flags make their private directory\n"
            "      --format F        table (default) | json (one object per line) | tsv (a\n"
            "                        calibration file: ipclab verify --check-every auto\n"
            "                        --calibration F reuses it)\n"
            "  -h, --help            this text\n"
            "\n"
            "json fields: flag, available (and reason when not), work_ns, check_ns, raise_ns\n"
            "(null: not shared), source (calibrated or file), target, number, workers,\n"
            "max_check_every, check_every (chosen), target_met, predicted_overhead (a\n"
            "fraction), predicted_stop_ns, predicted_stop_worst_ns, and the same three\n"
            "predictions at the chapter's interval: book_check_every (1000),\n"
            "book_overhead, book_stop_ns.\n",
            BOOK_PRIME, IPC_VERIFY_MAX_WORKERS);
}

static void print_ns_json(double ns)
{
    if (ns >= 0)
        printf("%.1f", ns);
    else
        printf("null");
}

static void fmt_us(char *buf, size_t len, double ns)
{
    if (ns >= 0)
        snprintf(buf, len, "%.2f", ns / 1e3);
    else
        snprintf(buf, len, "-");
}

struct model_opts {
    double target;
    uint64_t number;
    struct ipc_verify_opts pool; /* strategy, workers, cpus: as `ipclab verify` */
    const char *calibration;
    struct flag_config cfg;
    enum format format;
};

static void print_row(const struct model_opts *m, const struct flag_ops *ops,
                      const struct ipc_cost_inputs *in)
{
    uint64_t max_k = ipc_verify_max_check_every(&m->pool, m->number), k;
    bool met = ipc_cost_choose_k(in, m->target, max_k, &k);
    uint64_t book = BOOK_EVERY < max_k ? BOOK_EVERY : max_k;
    const char *source = m->calibration ? "file" : "calibrated";
    switch (m->format) {
    case FORMAT_TSV:
        printf("%s\t%.4f\t%.3f\t", ops->name, in->work_ns, in->check_ns);
        if (in->raise_ns >= 0)
            printf("%.1f\n", in->raise_ns);
        else
            printf("-\n");
        return;
    case FORMAT_JSON:
        printf("{\"flag\":");
        cli_json_string(stdout, ops->name);
        printf(",\"available\":true,\"work_ns\":%.4f,\"check_ns\":%.3f,\"raise_ns\":",
               in->work_ns, in->check_ns);
        print_ns_json(in->raise_ns);
        printf(",\"source\":\"%s\",\"target\":%.6g,\"number\":\"%llu\",\"workers\":%u"
               ",\"max_check_every\":%llu,\"check_every\":%llu,\"target_met\":%s"
               ",\"predicted_overhead\":%.6g,\"predicted_stop_ns\":",
               source, m->target, (unsigned long long)m->number, m->pool.workers,
               (unsigned long long)max_k, (unsigned long long)k, met ? "true" : "false",
               ipc_cost_overhead(in, k));
        print_ns_json(ipc_cost_stop_avg_ns(in, k));
        printf(",\"predicted_stop_worst_ns\":");
        print_ns_json(ipc_cost_stop_worst_ns(in, k));
        printf(",\"book_check_every\":%llu,\"book_overhead\":%.6g,\"book_stop_ns\":",
               (unsigned long long)book, ipc_cost_overhead(in, book));
        print_ns_json(ipc_cost_stop_avg_ns(in, book));
        printf("}\n");
        return;
    case FORMAT_TABLE: {
        char r[24], stop[24], worst[24], bstop[24];
        if (in->raise_ns >= 0)
            snprintf(r, sizeof r, "%.0f", in->raise_ns);
        else
            snprintf(r, sizeof r, "-");
        fmt_us(stop, sizeof stop, ipc_cost_stop_avg_ns(in, k));
        fmt_us(worst, sizeof worst, ipc_cost_stop_worst_ns(in, k));
        fmt_us(bstop, sizeof bstop, ipc_cost_stop_avg_ns(in, book));
        printf("%-12s %7.3f %11.2f %9s %10llu %8.3f%s %10s %11s %12.2f %12s\n", ops->name,
               in->work_ns, in->check_ns, r, (unsigned long long)k, ipc_cost_overhead(in, k) * 100,
               met ? " " : "!", stop, worst, ipc_cost_overhead(in, book) * 100, bstop);
        return;
    }
    }
}

static void print_unavailable(const struct model_opts *m, const struct flag_ops *ops,
                              const char *why)
{
    if (m->format == FORMAT_JSON) {
        printf("{\"flag\":");
        cli_json_string(stdout, ops->name);
        printf(",\"available\":false,\"reason\":");
        cli_json_string(stdout, why);
        printf("}\n");
    } else {
        printf("# %s: not available here: %s\n", ops->name, why);
    }
}

/* Returned by inputs_for for a backend the calibration file has no row for, when the
 * backends were not named: the file decides which are modelled. */
#define NO_ROW (-1)

/* The inputs for one backend: from the file, or measured on a flag opened for the purpose.
 * CLI_OK, NO_ROW, or an exit status after a one-line error. */
static int inputs_for(const struct model_opts *m, const struct flag_ops *ops, bool explicit,
                      struct ipc_cost_inputs *in)
{
    char why[256];
    if (m->calibration) {
        int rc = ipc_calibration_read(m->calibration, ops->name, in, why, sizeof why);
        if (rc == -ENOENT && !explicit)
            return NO_ROW;
        if (rc < 0)
            return cli_error(CLI_USAGE, CMD, "--calibration %s: %s", CLI_QUOTED_PATH(m->calibration),
                             why);
        return CLI_OK;
    }
    struct flag f = FLAG_INIT;
    if (flag_open(&f, ops, &m->cfg) < 0)
        return cli_error(CLI_RUNTIME, CMD, "%s", f.errstr);
    int rc = ipc_calibrate(&f, m->pool.cpus, m->pool.ncpus, in, why, sizeof why);
    flag_close(&f);
    if (rc < 0)
        return cli_error(CLI_RUNTIME, CMD, "calibrating %s: %s", ops->name, why);
    return CLI_OK;
}

int cmd_model(int argc, char **argv)
{
    enum { OPT_CALIBRATION = 256, OPT_NO_PIN, OPT_SERVER_CPU, OPT_TMPDIR, OPT_FORMAT };
    static const struct option opts[] = {
        {"flag", required_argument, NULL, 'f'},
        {"target", required_argument, NULL, 't'},
        {"number", required_argument, NULL, 'n'},
        {"workers", required_argument, NULL, 'w'},
        {"calibration", required_argument, NULL, OPT_CALIBRATION},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"server-cpu", required_argument, NULL, OPT_SERVER_CPU},
        {"tmpdir", required_argument, NULL, OPT_TMPDIR},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    static int allowed[IPC_VERIFY_MAX_WORKERS];
    int nallowed = ipc_cpu_allowed(allowed, IPC_VERIFY_MAX_WORKERS);
    struct model_opts m = {.target = IPC_COST_DEFAULT_TARGET, .number = BOOK_PRIME};
    ipc_verify_opts_default(&m.pool, allowed, nallowed); /* the pool `ipclab verify` runs */
    const struct flag_ops *chosen[64];
    size_t nchosen = 0;
    bool pin = true;
    uint64_t u;
    char why[256];

    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:t:n:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            const struct flag_ops *ops = flag_backend_find(optarg);
            if (!ops)
                return cli_unknown(CMD, "flag backend", optarg, "'ipclab flags' lists them");
            if (ops->fast == FLAG_FAST_NOCHECK)
                return cli_error(CLI_USAGE, CMD, "--flag %s: never checked, nothing to model",
                                 ops->name);
            bool seen = false;
            for (size_t i = 0; i < nchosen; i++)
                seen |= chosen[i] == ops;
            if (!seen && nchosen < sizeof chosen / sizeof chosen[0])
                chosen[nchosen++] = ops;
            break;
        }
        case 't':
            if (ipc_cost_parse_target(optarg, &m.target, why, sizeof why) < 0)
                return cli_error(CLI_USAGE, CMD, "--target %s: %s", CLI_QUOTED(optarg), why);
            break;
        case 'n':
            CLI_NUM_OPT(CMD, m.number, "number", 0, UINT64_MAX);
            break;
        case 'w':
            CLI_NUM_OPT(CMD, u, "workers", 1, IPC_VERIFY_MAX_WORKERS);
            m.pool.workers = (unsigned)u;
            break;
        case OPT_CALIBRATION:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--calibration: empty path");
            m.calibration = optarg;
            break;
        case OPT_NO_PIN:
            pin = false;
            break;
        case OPT_SERVER_CPU: {
            int cpu;
            if (cli_option_cpu(CMD, "server-cpu", optarg, allowed, nallowed, &cpu) != CLI_OK)
                return CLI_USAGE;
            m.cfg.pin_server = true;
            m.cfg.server_cpu = (unsigned)cpu;
            break;
        }
        case OPT_TMPDIR:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--tmpdir: empty path");
            m.cfg.tmpdir = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "table") == 0)
                m.format = FORMAT_TABLE;
            else if (strcmp(optarg, "json") == 0)
                m.format = FORMAT_JSON;
            else if (strcmp(optarg, "tsv") == 0)
                m.format = FORMAT_TSV;
            else
                return cli_unknown(CMD, "format", optarg, "table, json, tsv");
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
        m.pool.cpus = NULL, m.pool.ncpus = 0;
    m.cfg.participants = 3; /* this process and the partner that sees the raise */
    if (m.calibration) { /* a bad file is bad input: said before anything is printed */
        struct ipc_cost_inputs unused;
        int rc = ipc_calibration_read(m.calibration, "", &unused, why, sizeof why);
        if (rc != -ENOENT) /* a valid file has no row for "" */
            return cli_error(CLI_USAGE, CMD, "--calibration %s: %s", CLI_QUOTED_PATH(m.calibration),
                             why);
    }
    bool explicit = nchosen > 0;
    /* Unnamed: every backend a raise reaches; with a file, every backend it has a row for. */
    if (!explicit)
        for (size_t i = 0; i < flag_backend_count && nchosen < 64; i++)
            if (m.calibration ? flag_backends[i]->fast != FLAG_FAST_NOCHECK
                              : flag_backends[i]->props & FLAG_PROP_SHARED)
                chosen[nchosen++] = flag_backends[i];

    switch (m.format) {
    case FORMAT_TSV:
        printf("# ipclab calibration: the cost model's inputs in ns (ipclab model --help)\n"
               "%s\n", IPC_CALIBRATION_HEADER);
        break;
    case FORMAT_TABLE:
        printf("# target %g%% overhead; K bounded by %llu, %u worker%s; predictions at the "
               "chosen K and at the chapter's K=%d\n",
               m.target * 100, (unsigned long long)m.number, m.pool.workers,
               m.pool.workers == 1 ? "" : "s", BOOK_EVERY);
        printf("%-12s %7s %11s %9s %10s %9s %10s %11s %12s %12s\n", "flag", "w_ns", "c_ns",
               "r_ns", "K", "ovh_%", "stop_us", "worst_us", "ovh_%@1000", "stop_us@1000");
        break;
    case FORMAT_JSON:
        break;
    }
    int rc = CLI_OK;
    for (size_t i = 0; i < nchosen && rc == CLI_OK; i++) {
        const struct flag_ops *ops = chosen[i];
        if (!m.calibration) {
            int probed = flag_probe(ops, why, sizeof why);
            if (probed < 0 && !why[0])
                snprintf(why, sizeof why, "%s", strerror(-probed));
            if (probed < 0 && explicit) {
                rc = cli_error(CLI_RUNTIME, CMD, "flag backend '%s' is not available here: %s",
                               ops->name, why);
                break;
            }
            if (probed < 0) {
                print_unavailable(&m, ops, why);
                continue;
            }
        }
        struct ipc_cost_inputs in;
        if ((rc = inputs_for(&m, ops, explicit, &in)) == NO_ROW) {
            rc = CLI_OK;
            continue;
        }
        if (rc != CLI_OK)
            break;
        print_row(&m, ops, &in);
        if (cli_flush() < 0)
            rc = CLI_RUNTIME;
    }
    return rc;
}
