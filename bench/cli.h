/* SPDX-License-Identifier: MIT */
/* Shared pieces of the ipclab command: exit codes, strict number parsing, error output. */
#ifndef IPCLAB_CLI_H
#define IPCLAB_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_USAGE = 2 };

/*
 * Parse a decimal number in [min, max]: digits only (no sign, no spaces, no hex, no
 * exponent), not empty, no overflow. Returns 0, or -1 with a one-line reason in why[len]
 * that quotes the input.
 */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t len);

/* "ipclab <cmd>: <message>\n" on stderr; returns code, so callers write return cli_error(...). */
int cli_error(int code, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Flush stdout; 0, or -1 if the output is gone (then stop producing it). Remembers a closed
 * pipe so main() can end with the conventional SIGPIPE status after cleaning up. */
int cli_flush(void);
extern bool cli_stdout_closed;

/* Print a string as a JSON string literal (quotes and escapes included). */
void cli_json_string(FILE *out, const char *s);

/* Subcommands: argc/argv start at the subcommand's own name. */
int cmd_flags(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
