/* SPDX-License-Identifier: MIT */
/* `ipclab verify`'s options and operands, checked and kept, nothing run. */
#include "verify_args.h"

#include "cli.h"

#include "../ipc/cpu.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CMD "verify"

/* The chapter's own five numbers. */
static const uint64_t book_numbers[] = {
    112272535095295u, 100109100129100369u, 100109100129101027u,
    100109100129100151u, 100109100129162907u,
};

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

int verify_args_push(struct verify_args *a, uint64_t n)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        uint64_t *p = realloc(a->numbers, cap * sizeof *p);
        if (!p)
            return -1;
        a->numbers = p;
        a->cap = cap;
    }
    a->numbers[a->count++] = n;
    return 0;
}

void verify_args_free(struct verify_args *a)
{
    free(a->numbers);
    a->numbers = NULL;
    a->count = a->cap = 0;
}

/* --check-every K, auto or auto:P%. */
static int check_every(struct verify_args *a, const char *arg)
{
    if (strncmp(arg, "auto", 4) == 0 && (arg[4] == '\0' || arg[4] == ':')) {
        char why[256];
        a->autok.on = true;
        a->autok.target = IPC_COST_DEFAULT_TARGET;
        if (arg[4] == ':' && ipc_cost_parse_target(arg + 5, &a->autok.target, why, sizeof why) < 0)
            return cli_error(CLI_USAGE, CMD, "--check-every %s: %s", CLI_QUOTED(arg), why);
        return CLI_OK;
    }
    a->autok.on = false;
    return cli_option_u64(CMD, "check-every", arg, 1, UINT64_MAX, &a->o.check_every);
}

/* A path, host or password option: anything but empty. */
static int nonempty(const char *arg, const char *option, const char *what, const char **dst)
{
    if (!*arg)
        return cli_error(CLI_USAGE, CMD, "--%s: empty %s", option, what);
    *dst = arg;
    return CLI_OK;
}

int verify_args_parse(int argc, char **argv, struct verify_args *a)
{
    memset(a, 0, sizeof *a);
    a->nallowed = ipc_cpu_allowed(a->allowed, IPC_VERIFY_MAX_WORKERS);
    ipc_verify_opts_default(&a->o, a->allowed, a->nallowed);
    a->autok.target = IPC_COST_DEFAULT_TARGET;
    a->repeat = 1;
    const char *flag_name = "atomic";
    bool pin = true;
    uint64_t u;
    int rc = CLI_OK, cpu;

    optind = 0;
    opterr = 0;
    int c;
    while (rc == CLI_OK && (c = getopt_long(argc, argv, ":s:f:w:k:c:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (ipc_strategy_parse(optarg, &a->o.strategy) < 0)
                rc = cli_unknown(CMD, "strategy", optarg, "serial, pool, less-naive");
            break;
        case 'f':
            flag_name = optarg;
            break;
        case 'w':
            if ((rc = cli_option_u64(CMD, "workers", optarg, 1, IPC_VERIFY_MAX_WORKERS, &u)) ==
                CLI_OK)
                a->o.workers = (unsigned)u;
            break;
        case 'k':
            rc = check_every(a, optarg);
            break;
        case 'c':
            rc = cli_option_u64(CMD, "serial-cutoff", optarg, 0, UINT64_MAX, &a->o.serial_cutoff);
            break;
        case 'r':
            rc = cli_option_u64(CMD, "repeat", optarg, 1, 1000000, &a->repeat);
            break;
        case OPT_CALIBRATION:
            rc = nonempty(optarg, "calibration", "path", &a->autok.calibration);
            break;
        case OPT_BOOK:
            a->book = true;
            break;
        case OPT_NO_PIN:
            pin = false;
            break;
        case OPT_TMPDIR:
            rc = nonempty(optarg, "tmpdir", "path", &a->cfg.tmpdir);
            break;
        case OPT_SERVER_CPU:
            rc = cli_option_cpu(CMD, "server-cpu", optarg, a->allowed, a->nallowed, &cpu);
            if (rc == CLI_OK) {
                a->cfg.pin_server = true;
                a->cfg.server_cpu = (unsigned)cpu;
            }
            break;
        case OPT_REDIS_SOCKET:
            rc = nonempty(optarg, "redis-socket", "path", &a->cfg.redis_socket);
            break;
        case OPT_REDIS_HOST:
            rc = nonempty(optarg, "redis-host", "host name", &a->cfg.redis_host);
            break;
        case OPT_REDIS_PORT:
            if ((rc = cli_option_u64(CMD, "redis-port", optarg, 1, 65535, &u)) == CLI_OK)
                a->cfg.redis_port = (unsigned)u;
            break;
        case OPT_REDIS_PASSWORD:
            rc = nonempty(optarg, "redis-password", "password", &a->cfg.redis_password);
            break;
        case OPT_FORMAT:
            rc = cli_parse_format(CMD, optarg, &a->json);
            break;
        case 'h':
            a->help = true;
            return CLI_OK;
        default:
            a->getopt_c = c;
            a->getopt_opt = optopt;
            return cli_getopt_error(CMD, c, argv);
        }
    }
    if (rc != CLI_OK)
        return CLI_USAGE;
    if (!pin)
        a->o.cpus = NULL, a->o.ncpus = 0;
    if (a->autok.calibration && !a->autok.on)
        return cli_error(CLI_USAGE, CMD, "--calibration needs --check-every auto");
    if (a->cfg.redis_port && !a->cfg.redis_host)
        a->cfg.redis_host = "127.0.0.1";
    a->cfg.participants = a->o.workers + 1; /* the workers and the parent (calibration, serial) */
    if (!(a->ops = flag_backend_find(flag_name)))
        return cli_unknown(CMD, "flag backend", flag_name, "'ipclab flags' lists them");

    if (a->book && optind < argc)
        return cli_error(CLI_USAGE, CMD, "give either --book or numbers, not both");
    for (size_t i = 0; a->book && i < sizeof book_numbers / sizeof book_numbers[0]; i++)
        if (verify_args_push(a, book_numbers[i]) < 0)
            return cli_error(CLI_RUNTIME, CMD, "out of memory");
    for (int i = optind; i < argc; i++) {
        uint64_t v;
        char why[256];
        if (cli_parse_u64(argv[i], 0, UINT64_MAX, &v, why, sizeof why) < 0)
            return cli_error(CLI_USAGE, CMD, "%s", why);
        if (verify_args_push(a, v) < 0)
            return cli_error(CLI_RUNTIME, CMD, "out of memory");
    }
    return CLI_OK;
}
