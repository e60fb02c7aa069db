/* SPDX-License-Identifier: MIT */
/* Fuzz the parser of redis-benchmark's --csv output (ipc_rb_parse_csv in
 * ipc/redis_benchmark_tool.c): it reads what another program printed.
 *
 * Input: the output text (a NUL ends it, as it would end the C string). Properties, against an
 * independent reading of the grammar documented in redis_benchmark_tool.h: the parser succeeds
 * exactly when the text is the header, one row for "GET" of plain decimals in order, and only
 * empty lines after; on success every value is finite, none negative, rps > 0, the results are
 * the row's numbers (milliseconds as microseconds) and nothing else in the result changed; on
 * failure it returns -EPROTO with a one-line reason and leaves the result alone. */
#include "fuzz.h"

#include "ipc/redis_benchmark_tool.h"

#include <errno.h>
#include <math.h>

#define HEADER                                                                                     \
    "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\","                   \
    "\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\""

/* The next line of s (without \n, and without one \r before it); NULL at the end. */
static const char *line_at(const char **s, size_t *n)
{
    if (!**s)
        return NULL;
    const char *l = *s, *nl = strchr(l, '\n');
    *n = nl ? (size_t)(nl - l) : strlen(l);
    *s = nl ? nl + 1 : l + *n;
    if (*n && l[*n - 1] == '\r')
        (*n)--;
    return l;
}

/* A plain decimal: digits, optionally '.' and digits; under 64 characters. */
static bool decimal(const char *s, size_t n, double *v)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 0)
        return false;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return false;
    }
    if (i != n || n >= 64)
        return false;
    char buf[64];
    memcpy(buf, s, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    return true;
}

static bool oracle(const char *text, double v[8])
{
    const char *p = text, *l;
    size_t n;
    if (!(l = line_at(&p, &n)) || n != strlen(HEADER) || memcmp(l, HEADER, n) != 0)
        return false;
    if (!(l = line_at(&p, &n)))
        return false;
    /* "GET" then seven quoted decimals, separated by commas, nothing else. */
    size_t i = 0;
    for (int f = 0; f < 8; f++) {
        if (f && (i >= n || l[i++] != ','))
            return false;
        if (i >= n || l[i++] != '"')
            return false;
        const char *q = memchr(l + i, '"', n - i);
        if (!q)
            return false;
        size_t fl = (size_t)(q - (l + i));
        if (f == 0 ? fl != 3 || memcmp(l + i, "GET", 3) != 0 : !decimal(l + i, fl, &v[f]))
            return false;
        i += fl + 1;
    }
    if (i != n)
        return false;
    while ((l = line_at(&p, &n)))
        if (n)
            return false;
    return v[1] > 0 && v[3] <= v[4] && v[4] <= v[5] && v[5] <= v[6] && v[6] <= v[7] &&
           v[3] <= v[2] && v[2] <= v[7];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    const struct ipc_rb_result init = {.requests = 7,
                                       .wall_ns = 11,
                                       .rps = -1,
                                       .mean_us = -2,
                                       .p50_us = -3,
                                       .p99_us = -4,
                                       .cpu_seen = 5,
                                       .exact = true};
    struct ipc_rb_result r = init;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = ipc_rb_parse_csv(text, "GET", &r, err, sizeof err);
    double v[8];
    bool ok = oracle(text, v);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO, "rc %d", rc);
    FUZZ_CHECK((rc == 0) == ok, "parser %s what the grammar %s: '%s' (%s)",
               rc == 0 ? "accepts" : "rejects", ok ? "accepts" : "rejects", text, rc ? err : "");
    if (rc == 0) {
        double got[] = {r.rps, r.mean_us, r.p50_us, r.p99_us};
        for (int i = 0; i < 4; i++)
            FUZZ_CHECK(isfinite(got[i]) && got[i] >= 0, "value %d is %g", i, got[i]);
        FUZZ_CHECK(r.rps > 0, "rps %g", r.rps);
        FUZZ_CHECK(r.rps == v[1] && r.mean_us == v[2] * 1e3 && r.p50_us == v[4] * 1e3 &&
                       r.p99_us == v[6] * 1e3,
                   "values differ from the row's");
        FUZZ_CHECK(r.requests == init.requests && r.wall_ns == init.wall_ns &&
                       r.cpu_seen == init.cpu_seen && r.exact == init.exact,
                   "touched a field it does not set");
    } else {
        FUZZ_CHECK(memcmp(&r, &init, sizeof r) == 0, "a failed parse changed the result");
        size_t n = strnlen(err, sizeof err);
        FUZZ_CHECK(n < sizeof err && fuzz_one_line(err, n, false), "reason '%.*s'", (int)n, err);
    }
    free(text);
    return 0;
}
