/* SPDX-License-Identifier: MIT */
/* Strict parsing and uniform one-line errors for every ipclab subcommand. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

const char *cli_quote(const char *s, char *buf, size_t len)
{
    size_t i = 0, j = 0;
    /* Stops at CLI_QUOTE_MAX without reading further: the input may be megabytes long. */
    for (; s[i] && i < CLI_QUOTE_MAX && j + 5 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            j += (size_t)snprintf(buf + j, len - j, "\\x%02x", c);
        else
            buf[j++] = (char)c;
    }
    if (s[i] && j + 4 < len) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j] = '\0';
    return buf;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t len)
{
    char q[CLI_QUOTE_SIZE];
    cli_quote(s, q, sizeof q);
    if (*s == '\0') {
        snprintf(why, len, "empty value, expected a number from %llu to %llu",
                 (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            snprintf(why, len, "'%s' is not a number from %llu to %llu", q, (unsigned long long)min,
                     (unsigned long long)max);
            return -1;
        }
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            snprintf(why, len, "'%s' is out of range (%llu to %llu)", q, (unsigned long long)min,
                     (unsigned long long)max);
            return -1;
        }
        v = v * 10 + d;
    }
    if (v < min || v > max) {
        snprintf(why, len, "'%s' is out of range (%llu to %llu)", q, (unsigned long long)min,
                 (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_error(int code, const char *cmd, const char *fmt, ...)
{
    fprintf(stderr, "ipclab %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_option_u64(const char *cmd, const char *name, const char *arg, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    char why[256];
    if (cli_parse_u64(arg, min, max, out, why, sizeof why) < 0)
        return cli_error(CLI_USAGE, cmd, "--%s: %s", name, why);
    return CLI_OK;
}

int cli_unknown(const char *cmd, const char *what, const char *arg, const char *choices)
{
    return cli_error(CLI_USAGE, cmd, "unknown %s '%s' (%s)", what, CLI_QUOTED(arg), choices);
}

int cli_parse_format(const char *cmd, const char *arg, bool *json)
{
    if (strcmp(arg, "json") == 0)
        *json = true;
    else if (strcmp(arg, "table") == 0)
        *json = false;
    else
        return cli_unknown(cmd, "format", arg, "table, json");
    return CLI_OK;
}

int cli_getopt_error(const char *cmd, int c, char *const *argv)
{
    /* The word getopt_long last stepped past: the offending one, unless getopt_long stopped
     * inside a cluster of short options (-xb), where it is the word before. */
    const char *opt = CLI_QUOTED(argv[optind - 1]);
    if (c == ':')
        return cli_error(CLI_USAGE, cmd, "option '%s' needs a value", opt);
    return cli_error(CLI_USAGE, cmd, "unknown option '%s' (--help lists them)", opt);
}

int cli_unexpected_arg(const char *cmd, const char *arg)
{
    return cli_error(CLI_USAGE, cmd, "unexpected argument '%s'", CLI_QUOTED(arg));
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

bool cli_stdout_closed;

int cli_flush(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    if (errno == EPIPE)
        cli_stdout_closed = true;
    return -1;
}
