/* SPDX-License-Identifier: MIT */
/* Shared pieces of the ipclab command: exit codes, strict number parsing, error output. */
#ifndef IPCLAB_CLI_H
#define IPCLAB_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_USAGE = 2 };

/* Every error is one line on stderr, so that scripts can read it and tests can count it.
 * Anything the user typed goes into a message through cli_quote(); a raw "%s" of argv would
 * let a newline, an escape sequence or a megabyte of garbage through. */

/* At most this many characters of the input are shown; a buffer of CLI_QUOTE_SIZE holds
 * them even when every one is escaped. */
#define CLI_QUOTE_MAX 40
#define CLI_QUOTE_SIZE (4 * CLI_QUOTE_MAX + 8)

/*
 * Copy s into buf[len] fit for a one-line message: control characters and DEL as \xNN, at
 * most CLI_QUOTE_MAX input characters, "..." when some were left out. Always terminated
 * (len > 0). Adds no quote marks: the message's format has them. Returns buf.
 */
const char *cli_quote(const char *s, char *buf, size_t len);

/* The same for a path, whose end names it: its last CLI_QUOTE_MAX characters, "..." first
 * when some were left out. buf holds CLI_QUOTE_SIZE + 3. */
const char *cli_quote_tail(const char *s, char *buf, size_t len);
#define CLI_QUOTED_PATH(s) cli_quote_tail((s), (char[CLI_QUOTE_SIZE + 3]){0}, CLI_QUOTE_SIZE + 3)

/* cli_quote() into a buffer that lives until the end of the enclosing block, for use right
 * in an argument list: cli_error(..., "'%s'", CLI_QUOTED(arg)). */
#define CLI_QUOTED(s) cli_quote((s), (char[CLI_QUOTE_SIZE]){0}, CLI_QUOTE_SIZE)

/*
 * Parse a decimal number in [min, max]: digits only (no sign, no spaces, no hex, no
 * exponent), not empty, no overflow. Returns 0, or -1 with a one-line reason in why[len]
 * that quotes the input through cli_quote().
 */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t len);

/* "ipclab <cmd>: <message>\n" on stderr; returns code, so callers write return cli_error(...).
 * Strings from the user must come through cli_quote() / CLI_QUOTED(). */
int cli_error(int code, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The value arg of option --name as a number in [min, max] (cli_parse_u64's rules). Returns
 * CLI_OK with *out set, or CLI_USAGE after "ipclab <cmd>: --<name>: <reason>". */
int cli_option_u64(const char *cmd, const char *name, const char *arg, uint64_t min, uint64_t max,
                   uint64_t *out);

/* The value arg of option --name as a CPU number (0..65535) that is one of allowed[0..nallowed)
 * (nallowed < 1: any). CLI_OK with *cpu set, or CLI_USAGE after a one-line error. */
int cli_option_cpu(const char *cmd, const char *name, const char *arg, const int *allowed,
                   int nallowed, int *cpu);

/* Inside a getopt loop: dst = optarg as a number in [min, max], or return CLI_USAGE from the
 * calling function after the error above. The caller includes <getopt.h>. */
#define CLI_NUM_OPT(cmd, dst, name, min, max)                                                      \
    do {                                                                                           \
        uint64_t cli_v_;                                                                           \
        if (cli_option_u64((cmd), (name), optarg, (min), (max), &cli_v_) != CLI_OK)                \
            return CLI_USAGE;                                                                      \
        (dst) = cli_v_;                                                                            \
    } while (0)

/* "unknown <what> '<arg>' (<choices>)", arg quoted; returns CLI_USAGE. */
int cli_unknown(const char *cmd, const char *what, const char *arg, const char *choices);

/* --format: "table" sets *json false, "json" true (the last one given wins); anything else is
 * "unknown format" and CLI_USAGE with *json untouched. Returns CLI_OK or CLI_USAGE. */
int cli_parse_format(const char *cmd, const char *arg, bool *json);

/*
 * The error for what getopt_long returned when run with opterr = 0 and a leading ':' in its
 * short options: ':' is an option without its value, anything else an unknown option. Both
 * name argv[optind - 1], quoted. Returns CLI_USAGE.
 */
int cli_getopt_error(const char *cmd, int c, char *const *argv);

/* An operand where the command takes none: "unexpected argument '<arg>'"; returns CLI_USAGE. */
int cli_unexpected_arg(const char *cmd, const char *arg);

/* Flush stdout; 0, or -1 if the output is gone (then stop producing it). Remembers a closed
 * pipe so main() can end with the conventional SIGPIPE status after cleaning up. */
int cli_flush(void);
extern bool cli_stdout_closed;

/* Print a string as a JSON string literal (quotes and escapes included). JSON is UTF-8: a
 * byte of s that is not part of a well-formed UTF-8 sequence is written as \ufffd. */
void cli_json_string(FILE *out, const char *s);

/* Subcommands: argc/argv start at the subcommand's own name. */
int cmd_counter(int argc, char **argv);
int cmd_find_primes(int argc, char **argv);
int cmd_flags(int argc, char **argv);
int cmd_memo(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_payload(int argc, char **argv);
int cmd_pi(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_redis_bench(int argc, char **argv);
int cmd_rng(int argc, char **argv);
int cmd_spawn(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
