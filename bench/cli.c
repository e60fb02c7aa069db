/* SPDX-License-Identifier: MIT */
/* Strict parsing and uniform one-line errors for every ipclab subcommand. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* Quote at most this much of a bad input: one line, even for a megabyte of garbage. */
#define QUOTE_MAX 40

static void quote(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    size_t keep = n > QUOTE_MAX ? QUOTE_MAX : n;
    size_t j = 0;
    for (size_t i = 0; i < keep && j + 5 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            j += (size_t)snprintf(buf + j, len - j, "\\x%02x", c);
        else
            buf[j++] = (char)c;
    }
    if (keep < n && j + 4 < len) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j < len ? j : len - 1] = '\0';
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t len)
{
    char q[4 * QUOTE_MAX + 8];
    quote(s, q, sizeof q);
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
