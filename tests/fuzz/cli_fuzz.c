/* SPDX-License-Identifier: MIT */
/* Fuzz the CLI's parsers of what the user types (bench/cli.c): the strict number parser every
 * subcommand's NUMBER operands and numeric options go through (`ipclab verify 123`,
 * `--workers 4`), the quoting of user text in error lines, --format, and the JSON string
 * printer that writes user-given paths into JSON Lines.
 *
 * Input: byte 0 picks what is fuzzed, the rest is the user's text (bytes 1 and 2 pick the
 * bounds of a number). Properties, not just "no crash":
 *  - a number is accepted exactly when it is a non-empty run of digits whose value is within
 *    [min, max] (an independent 128-bit reading), and then the value prints back as the input
 *    without its leading zeros; a rejection leaves *out alone and explains itself in one line;
 *  - cli_option_u64 prints exactly one line ("ipclab <cmd>: --<name>: <why>") when it fails,
 *    nothing when it succeeds;
 *  - cli_quote's output has no control character and is exactly the input's first
 *    CLI_QUOTE_MAX characters, escaped, with "..." exactly when the input was longer;
 *    cli_quote_tail's the same of its last CLI_QUOTE_MAX characters, "..." first;
 *  - cli_json_string prints one valid JSON string (RFC 8259, UTF-8) that decodes to the input,
 *    every byte of it that is not well-formed UTF-8 read as U+FFFD;
 *  - --format accepts "table" and "json" only; every usage error is one line. */
#include "fuzz.h"

#include "bench/cli.h"

#define CMD "fuzz"

static const uint64_t mins[] = {0, 1, 7, 1000, 65535, UINT64_MAX};
static const uint64_t maxs[] = {UINT64_MAX, 65535, 1000000, 64, 1, 0};
#define NBOUNDS (sizeof mins / sizeof mins[0])

/* Independent reading: 1 and the value if s is digits only and fits in 64 bits. */
static bool oracle_u64(const char *s, uint64_t *v)
{
    if (!*s)
        return false;
    unsigned __int128 acc = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        acc = acc * 10 + (unsigned)(*p - '0');
        if (acc > UINT64_MAX)
            return false;
    }
    *v = (uint64_t)acc;
    return true;
}

static void fuzz_u64(const char *s, uint64_t min, uint64_t max, size_t whylen)
{
    uint64_t want = 0, got = 0xdeadbeefcafef00dull;
    bool ok = oracle_u64(s, &want) && want >= min && want <= max;
    char why[300];
    memset(why, 'x', sizeof why);
    int rc = cli_parse_u64(s, min, max, &got, why, whylen);
    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
    FUZZ_CHECK((rc == 0) == ok, "'%s' in [%llu, %llu]: rc %d, expected %s", s,
               (unsigned long long)min, (unsigned long long)max, rc, ok ? "accept" : "reject");
    if (ok) {
        FUZZ_CHECK(got == want, "'%s' read as %llu", s, (unsigned long long)got);
        /* Canonical text: the value prints back as the input without leading zeros. */
        const char *canon = s;
        while (canon[0] == '0' && canon[1])
            canon++;
        char back[24];
        snprintf(back, sizeof back, "%llu", (unsigned long long)got);
        FUZZ_CHECK(strcmp(back, canon) == 0, "'%s' -> %s", s, back);
    } else {
        FUZZ_CHECK(got == 0xdeadbeefcafef00dull, "rejected '%s' but wrote %llu", s,
                   (unsigned long long)got);
        size_t n = strnlen(why, whylen);
        FUZZ_CHECK(n < whylen, "why not terminated within %zu bytes", whylen);
        FUZZ_CHECK(whylen < 64 || fuzz_one_line(why, n, false), "why '%s'", why);
    }
}

static void fuzz_option(const char *s, uint64_t min, uint64_t max)
{
    uint64_t v = 0;
    struct fuzz_capture c;
    fuzz_capture_begin(&c);
    int rc = cli_option_u64(CMD, "opt", s, min, max, &v);
    fuzz_capture_end(&c);
    uint64_t want;
    bool ok = oracle_u64(s, &want) && want >= min && want <= max;
    FUZZ_CHECK(rc == (ok ? CLI_OK : CLI_USAGE), "rc %d for '%s'", rc, s);
    if (ok) {
        FUZZ_CHECK(c.len == 0 && v == want, "printed '%s', value %llu", c.buf,
                   (unsigned long long)v);
    } else {
        FUZZ_CHECK(fuzz_one_line(c.buf, c.len, true), "not one line: '%s'", c.buf);
        FUZZ_CHECK(strncmp(c.buf, "ipclab " CMD ": --opt: ", strlen("ipclab " CMD ": --opt: ")) ==
                       0,
                   "'%s'", c.buf);
    }
    free(c.buf);
}

/* What cli_quote must write for s: its first CLI_QUOTE_MAX characters, control characters and
 * DEL as \xNN, then "..." if there were more (an independent writing of the contract). */
static void expected_quote(const char *s, char *out, size_t len)
{
    size_t j = 0, i = 0;
    for (; s[i] && i < CLI_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            j += (size_t)snprintf(out + j, len - j, "\\x%02x", c);
        else
            out[j++] = (char)c;
    }
    if (s[i])
        j += (size_t)snprintf(out + j, len - j, "...");
    out[j] = '\0';
}

static void fuzz_quote(const char *s)
{
    char buf[CLI_QUOTE_SIZE];
    memset(buf, 'x', sizeof buf);
    const char *q = cli_quote(s, buf, sizeof buf);
    FUZZ_CHECK(q == buf, "returns another buffer");
    size_t qn = strnlen(q, sizeof buf);
    FUZZ_CHECK(qn < sizeof buf, "not terminated");
    FUZZ_CHECK(!fuzz_has_control(q, qn), "control character in '%s'", q);
    char want[4 * CLI_QUOTE_SIZE];
    expected_quote(s, want, sizeof want);
    FUZZ_CHECK(strcmp(q, want) == 0, "'%s', expected '%s'", q, want);
    /* The macro form used in argument lists gives the same text. */
    FUZZ_CHECK(strcmp(CLI_QUOTED(s), q) == 0, "CLI_QUOTED differs");
    /* A path's quote: its last CLI_QUOTE_MAX characters, "..." first when cut. */
    size_t n = strlen(s);
    const char *tail = CLI_QUOTED_PATH(s);
    char want_tail[4 * CLI_QUOTE_SIZE + 3] = "";
    if (n > CLI_QUOTE_MAX)
        strcpy(want_tail, "...");
    expected_quote(n > CLI_QUOTE_MAX ? s + n - CLI_QUOTE_MAX : s, want_tail + strlen(want_tail),
                   sizeof want_tail - strlen(want_tail));
    FUZZ_CHECK(strcmp(tail, want_tail) == 0, "path '%s', expected '%s'", tail, want_tail);
}

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF), 0 if there is none; *cp gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, v = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, v = s[0] & 0x0f, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, v = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decode a JSON string literal that must be all of j[0..n) into out (UTF-8); false if it is
 * not valid JSON text for one string. */
static bool json_decode(const char *j, size_t n, char *out, size_t *outn)
{
    const unsigned char *s = (const unsigned char *)j;
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return false;
    size_t o = 0;
    for (size_t i = 1; i < n - 1;) {
        uint32_t cp;
        if (s[i] == '"' || s[i] < 0x20)
            return false;
        if (s[i] != '\\') {
            size_t l = utf8_seq(s + i, n - 1 - i, &cp);
            if (!l)
                return false;
            memcpy(out + o, s + i, l);
            o += l, i += l;
            continue;
        }
        if (i + 1 >= n - 1)
            return false;
        char e = (char)s[i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            out[o++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            i += 2;
            continue;
        }
        if (e != 'u' || i + 6 > n - 1)
            return false;
        unsigned v;
        char hex[5] = {0};
        memcpy(hex, s + i + 2, 4);
        if (strspn(hex, "0123456789abcdefABCDEF") != 4 || sscanf(hex, "%x", &v) != 1)
            return false;
        if (v >= 0xd800 && v <= 0xdfff)
            return false; /* the printer has no reason to write surrogate pairs */
        o += put_utf8(v, out + o);
        i += 6;
    }
    *outn = o;
    return true;
}

static void fuzz_json(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FUZZ_CHECK(f != NULL, "open_memstream");
    cli_json_string(f, s);
    FUZZ_CHECK(fclose(f) == 0, "fclose");
    size_t sn = strlen(s);
    char *dec = malloc(3 * len + 8);
    FUZZ_CHECK(dec != NULL, "out of memory");
    size_t dn = 0;
    FUZZ_CHECK(json_decode(buf, len, dec, &dn), "not one valid JSON string: %s", buf);
    /* The input, with every byte that is not part of well-formed UTF-8 as U+FFFD. */
    char *want = malloc(3 * sn + 1);
    FUZZ_CHECK(want != NULL, "out of memory");
    size_t wn = 0;
    for (size_t i = 0; i < sn;) {
        uint32_t cp;
        size_t l = utf8_seq((const unsigned char *)s + i, sn - i, &cp);
        if (l) {
            memcpy(want + wn, s + i, l);
            wn += l, i += l;
        } else {
            memcpy(want + wn, "\xef\xbf\xbd", 3);
            wn += 3, i++;
        }
    }
    FUZZ_CHECK(dn == wn && memcmp(dec, want, wn) == 0, "%s does not decode to the input", buf);
    free(want);
    free(dec);
    free(buf);
}

static void fuzz_format(const char *s)
{
    bool json = true;
    struct fuzz_capture c;
    fuzz_capture_begin(&c);
    int rc = cli_parse_format(CMD, s, &json);
    fuzz_capture_end(&c);
    if (strcmp(s, "json") == 0 || strcmp(s, "table") == 0) {
        FUZZ_CHECK(rc == CLI_OK && json == (s[0] == 'j') && c.len == 0, "rc %d", rc);
    } else {
        FUZZ_CHECK(rc == CLI_USAGE && json && fuzz_one_line(c.buf, c.len, true), "rc %d, '%s'", rc,
                   c.buf);
    }
    free(c.buf);
    /* The other one-line errors that quote user text. */
    fuzz_capture_begin(&c);
    rc = cli_unexpected_arg(CMD, s);
    int rc2 = cli_unknown(CMD, "thing", s, "a, b");
    fuzz_capture_end(&c);
    FUZZ_CHECK(rc == CLI_USAGE && rc2 == CLI_USAGE, "rc %d %d", rc, rc2);
    char *nl = memchr(c.buf, '\n', c.len);
    FUZZ_CHECK(nl && fuzz_one_line(c.buf, (size_t)(nl + 1 - c.buf), true) &&
                   fuzz_one_line(nl + 1, c.len - (size_t)(nl + 1 - c.buf), true),
               "not two lines: '%s'", c.buf);
    free(c.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 4;
    if (mode == 0) {
        if (size < 3)
            return 0;
        uint64_t min = mins[data[1] % NBOUNDS], max = maxs[data[2] % NBOUNDS];
        /* Bytes 1 and 2 also pick a short why buffer now and then (callers use 256). */
        size_t whylen = data[1] >= 0xf0 ? (size_t)(data[2] % 64 + 1) : 256;
        char *s = fuzz_strndup(data + 3, size - 3);
        fuzz_u64(s, min, max, whylen);
        fuzz_option(s, min, max);
        free(s);
        return 0;
    }
    char *s = fuzz_strndup(data + 1, size - 1);
    if (mode == 1)
        fuzz_quote(s);
    else if (mode == 2)
        fuzz_json(s);
    else
        fuzz_format(s);
    free(s);
    return 0;
}
