/* SPDX-License-Identifier: MIT */
/* Fuzz `ipclab verify`'s command line through the parser ipclab itself runs
 * (bench/verify_args.c: getopt_long, the numeric options through cli_option_u64, names
 * through their parsers, --check-every auto[:P%], operands through cli_parse_u64, and the
 * CLI's error lines). The parse ends where cmd_verify would start probing the flag backend, so
 * no process is forked.
 *
 * Input: the words after `ipclab verify`, separated by NUL bytes (at most 32).
 * Properties: a parse that fails prints exactly one line, "ipclab verify: ...", with no control
 * character; one that succeeds prints nothing and every number it kept is within its option's
 * bounds; an error about an option names a word of the command line that is an option (starts
 * with '-') and holds the offending option, or for an unknown option inside a cluster of short
 * options (-xy) that option (-x), never the subcommand's name or an operand. */
#include "fuzz.h"

#include "bench/cli.h"
#include "bench/verify_args.h"

#define CMD "verify"
#define MAX_WORDS 32

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

    static struct verify_args p;
    struct fuzz_capture cap;
    fuzz_capture_begin(&cap);
    int rc = verify_args_parse(argc, argv, &p);
    fuzz_capture_end(&cap);
    int gc = p.getopt_c, gopt = p.getopt_opt;

    FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE, "rc %d", rc);
    if (rc == CLI_OK) {
        FUZZ_CHECK(cap.len == 0, "printed '%s' and succeeded", cap.buf);
        FUZZ_CHECK(p.help || (p.ops && p.o.workers >= 1 && p.o.workers <= IPC_VERIFY_MAX_WORKERS &&
                              p.o.check_every >= 1 && p.repeat >= 1 && p.repeat <= 1000000 &&
                              p.cfg.server_cpu <= 65535 && p.cfg.redis_port <= 65535 &&
                              p.autok.target > 0 && p.autok.target <= 1 &&
                              (!p.autok.calibration || p.autok.on) &&
                              (!p.book || p.count == 5)),
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
    verify_args_free(&p);
    free(cap.buf);
    free(buf);
    return 0;
}
