/* SPDX-License-Identifier: MIT */
/* Fuzz a subcommand's command line as `ipclab verify` reads it (bench/cmd_verify.c): the same
 * getopt_long table and loop, numeric options through CLI_NUM_OPT (cli_option_u64), names
 * through their parsers, operands through cli_parse_u64, and the CLI's error lines
 * (cli_getopt_error, cli_unknown, cli_error). The parse ends where cmd_verify would start
 * probing the flag backend, so no process is forked.
 *
 * Input: the words after `ipclab verify`, separated by NUL bytes (at most 32).
 * Properties: a parse that fails prints exactly one line, "ipclab verify: ...", with no control
 * character; one that succeeds prints nothing and every number it kept is within its option's
 * bounds; an error about an option names a word of the command line that is an option (starts
 * with '-') and holds the offending option, or for an unknown option inside a cluster of short
 * options (-xy) that option (-x), never the subcommand's name or an operand. */
#include "fuzz.h"

#include "bench/cli.h"
#include "flags/flag.h"
#include "ipc/verify.h"

#include <getopt.h>

#define CMD "verify"
#define MAX_WORDS 32

enum {
    OPT_BOOK = 256,
    OPT_NO_PIN,
    OPT_TMPDIR,
    OPT_FORMAT,
    OPT_SERVER_CPU,
    OPT_REDIS_SOCKET,
    OPT_REDIS_HOST,
    OPT_REDIS_PORT,
};

/* cmd_verify's table and short options, verbatim. */
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
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0},
};
#define SHORTOPTS ":s:f:w:k:c:r:h"

struct parsed {
    uint64_t workers, check_every, serial_cutoff, repeat, server_cpu, redis_port;
    size_t numbers;
};

/* The loop of cmd_verify up to the flag probe. Returns CLI_OK or CLI_USAGE; *gc and *gopt
 * get what getopt_long returned and optopt when the error was getopt's. */
static int parse(int argc, char **argv, struct parsed *p, int *gc, int *gopt)
{
    enum ipc_strategy strategy;
    const char *flag_name = "atomic";
    bool book = false, json = false;
    uint64_t u;
    *gc = 0;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, SHORTOPTS, opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (ipc_strategy_parse(optarg, &strategy) < 0)
                return cli_unknown(CMD, "strategy", optarg, "serial, pool, less-naive");
            break;
        case 'f':
            flag_name = optarg;
            break;
        case 'w':
            CLI_NUM_OPT(CMD, p->workers, "workers", 1, IPC_VERIFY_MAX_WORKERS);
            break;
        case 'k':
            CLI_NUM_OPT(CMD, p->check_every, "check-every", 1, UINT64_MAX);
            break;
        case 'c':
            CLI_NUM_OPT(CMD, p->serial_cutoff, "serial-cutoff", 0, UINT64_MAX);
            break;
        case 'r':
            CLI_NUM_OPT(CMD, p->repeat, "repeat", 1, 1000000);
            break;
        case OPT_BOOK:
            book = true;
            break;
        case OPT_NO_PIN:
            break;
        case OPT_TMPDIR:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--tmpdir: empty path");
            break;
        case OPT_SERVER_CPU:
            CLI_NUM_OPT(CMD, u, "server-cpu", 0, 65535);
            p->server_cpu = u;
            break;
        case OPT_REDIS_SOCKET:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-socket: empty path");
            break;
        case OPT_REDIS_HOST:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--redis-host: empty host name");
            break;
        case OPT_REDIS_PORT:
            CLI_NUM_OPT(CMD, u, "redis-port", 1, 65535);
            p->redis_port = u;
            break;
        case OPT_FORMAT:
            if (cli_parse_format(CMD, optarg, &json) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h':
            return CLI_OK; /* cmd_verify prints its usage on stdout and succeeds */
        default:
            *gc = c;
            *gopt = optopt;
            return cli_getopt_error(CMD, c, argv);
        }
    }
    if (!flag_backend_find(flag_name))
        return cli_unknown(CMD, "flag backend", flag_name, "'ipclab flags' lists them");
    if (book && optind < argc)
        return cli_error(CLI_USAGE, CMD, "give either --book or numbers, not both");
    for (int i = optind; i < argc; i++) {
        uint64_t v;
        char why[256];
        if (cli_parse_u64(argv[i], 0, UINT64_MAX, &v, why, sizeof why) < 0)
            return cli_error(CLI_USAGE, CMD, "%s", why);
        p->numbers++;
    }
    return CLI_OK;
}

/* Whether word may be what an error about option c (getopt's return) with optopt names. */
static bool names_option(const char *word, int c, int opt)
{
    if (word[0] != '-' || word[1] == '\0')
        return false; /* the subcommand's name, an operand or "-" (an operand too) */
    bool isshort = word[1] != '-';
    char ch = (char)opt;
    if (c == ':') /* a missing value: the option's word (its last character, if short) */
        return !isshort || (opt > 0 && opt < 256 && word[strlen(word) - 1] == ch);
    if (opt == 0) /* an unknown or ambiguous long option */
        return !isshort;
    /* An unknown short option (its character is in the word), or a long option without a
     * value given one (--help=x: optopt is the option's value). */
    return isshort ? opt < 256 && ch && strchr(word + 1, ch) != NULL : strchr(word, '=') != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fuzz_strndup(data, size);
    char *argv[MAX_WORDS + 2], *orig[MAX_WORDS + 2];
    int argc = 0;
    argv[argc++] = "verify";
    for (size_t i = 0; i <= size && argc <= MAX_WORDS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    if (size == 0)
        argc = 1;
    argv[argc] = NULL;
    memcpy(orig, argv, sizeof argv);

    struct parsed p = {.workers = 1, .check_every = 1000, .serial_cutoff = 21, .repeat = 1};
    int gc = 0, gopt = 0;
    struct fuzz_capture cap;
    fuzz_capture_begin(&cap);
    int rc = parse(argc, argv, &p, &gc, &gopt);
    fuzz_capture_end(&cap);

    FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE, "rc %d", rc);
    if (rc == CLI_OK) {
        FUZZ_CHECK(cap.len == 0, "printed '%s' and succeeded", cap.buf);
        FUZZ_CHECK(p.workers >= 1 && p.workers <= IPC_VERIFY_MAX_WORKERS && p.check_every >= 1 &&
                       p.repeat >= 1 && p.repeat <= 1000000 && p.server_cpu <= 65535 &&
                       p.redis_port <= 65535,
                   "a value out of its bounds");
    } else {
        FUZZ_CHECK(fuzz_one_line(cap.buf, cap.len, true), "not one line: '%s'", cap.buf);
        FUZZ_CHECK(strncmp(cap.buf, "ipclab " CMD ": ", strlen("ipclab " CMD ": ")) == 0, "'%s'",
                   cap.buf);
    }
    if (rc == CLI_USAGE && gc) {
        /* The word in quotes must be one of the command line's, and an option. */
        bool found = false;
        for (int i = 0; i < argc && !found; i++) {
            char want[CLI_QUOTE_SIZE + 64];
            if (gc == ':')
                snprintf(want, sizeof want, "ipclab " CMD ": option '%s' needs a value\n",
                         CLI_QUOTED(orig[i]));
            else
                snprintf(want, sizeof want,
                         "ipclab " CMD ": unknown option '%s' (--help lists them)\n",
                         CLI_QUOTED(orig[i]));
            found = strcmp(want, cap.buf) == 0 && names_option(orig[i], gc, gopt);
            /* Or, for an unknown short option inside a cluster (-xy), the option itself. */
            char ch = (char)gopt, dash[3] = {'-', ch, '\0'};
            snprintf(want, sizeof want, "ipclab " CMD ": unknown option '%s' (--help lists them)\n",
                     CLI_QUOTED(dash));
            found |= gc == '?' && gopt != 0 && gopt < 256 && strcmp(want, cap.buf) == 0 &&
                     orig[i][0] == '-' && orig[i][1] != '-' && strchr(orig[i] + 1, ch);
        }
        FUZZ_CHECK(found, "'%s' (getopt returned %d, optopt %d) does not name the option", cap.buf,
                   gc, gopt);
    }
    free(cap.buf);
    free(buf);
    return 0;
}
