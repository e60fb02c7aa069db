/* SPDX-License-Identifier: MIT */
/* Strict parsing and uniform one-line errors for every ipclab subcommand. */
#include "cli.h"

#include "../ipc/cpu.h"

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

const char *cli_quote_tail(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    if (n <= CLI_QUOTE_MAX || len < 4)
        return cli_quote(s, buf, len);
    memcpy(buf, "...", 3);
    cli_quote(s + n - CLI_QUOTE_MAX, buf + 3, len - 3);
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

int cli_option_cpu(const char *cmd, const char *name, const char *arg, const int *allowed,
                   int nallowed, int *cpu)
{
    uint64_t u;
    if (cli_option_u64(cmd, name, arg, 0, 65535, &u) != CLI_OK)
        return CLI_USAGE;
    if (nallowed > 0 && !ipc_cpu_in(allowed, nallowed, (int)u))
        return cli_error(CLI_USAGE, cmd, "--%s: CPU %llu is not one this process may use", name,
                         (unsigned long long)u);
    *cpu = (int)u;
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

/* Whether word is a cluster of short options (-xy) holding ch before its last character. */
static bool in_cluster(const char *word, char ch)
{
    if (!word || word[0] != '-' || word[1] == '-' || word[1] == '\0')
        return false;
    const char *p = strchr(word + 1, ch);
    return p && p[1] != '\0';
}

int cli_getopt_error(const char *cmd, int c, char *const *argv)
{
    /* The word getopt_long last stepped past is the offending one, but for an unknown short
     * option that is not the last of its cluster (-xy): getopt_long stays on that word,
     * argv[optind], to read y next, so argv[optind - 1] is the word before it, the subcommand's
     * own name in "ipclab verify -xy" (which said "unknown option 'verify'", found by
     * tests/fuzz/cli_getopt_fuzz.c). Name the option character then. optopt is that character
     * (a plain char, so negative for bytes >= 0x80); for a long option it is 0 or the option's
     * value, which the cluster test cannot mistake for anything but that same option. */
    int o = optopt < 0 ? optopt + 256 : optopt;
    if (c != ':' && o > 0 && o < 256 && in_cluster(argv[optind], (char)o)) {
        char opt[3] = {'-', (char)o, '\0'};
        return cli_error(CLI_USAGE, cmd, "unknown option '%s' (--help lists them)",
                         CLI_QUOTED(opt));
    }
    const char *opt = CLI_QUOTED(argv[optind - 1]);
    if (c == ':')
        return cli_error(CLI_USAGE, cmd, "option '%s' needs a value", opt);
    return cli_error(CLI_USAGE, cmd, "unknown option '%s' (--help lists them)", opt);
}

int cli_unexpected_arg(const char *cmd, const char *arg)
{
    return cli_error(CLI_USAGE, cmd, "unexpected argument '%s'", CLI_QUOTED(arg));
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), 0 if the byte there does not start one. p is NUL-terminated, and
 * NUL is no continuation byte, so no read goes past the end. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n;
    uint32_t cp, min;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, cp = p[0] & 0x1f, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, cp = p[0] & 0x0f, min = 0x800;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, cp = p[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_len(p);
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else if (n == 0) {
            /* JSON text is UTF-8, and a path or a reason may hold any byte: a byte that is not
             * part of a well-formed sequence was copied as it was, which made the whole line
             * unreadable for a JSON parser (found by tests/fuzz/cli_fuzz.c). Write U+FFFD, the
             * replacement character, as JSON encoders do. */
            fputs("\\ufffd", out);
        } else {
            fwrite(p, 1, n, out);
            p += n;
            continue;
        }
        p++;
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
