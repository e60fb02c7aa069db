/* SPDX-License-Identifier: MIT */
/* What every fuzz harness shares: property checks that abort with what was seen, a captured
 * stderr (the CLI's one-line errors are part of what the harnesses check), temp dirs. */
#ifndef IPCLAB_FUZZ_H
#define IPCLAB_FUZZ_H

#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The entry point libFuzzer calls, and tests/fuzz/driver.c without it. Returns 0; a property
 * that does not hold aborts (libFuzzer then saves the input as a crash reproducer). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The real stderr while fuzz_capture_begin() has swapped it out, so a failing check is seen. */
static FILE *fuzz_real_stderr;

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (fuzz_real_stderr)                                                                  \
                stderr = fuzz_real_stderr;                                                         \
            fprintf(stderr, "%s:%d: property does not hold: %s\n  ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* stderr into a memory buffer until fuzz_capture_end (glibc's stderr is an assignable
 * variable); the text is NUL-terminated, free it with free(). Sanitizer reports write to
 * file descriptor 2 and are not captured. */
struct fuzz_capture {
    char *buf;
    size_t len;
    FILE *mem;
};

static inline void fuzz_capture_begin(struct fuzz_capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->mem = open_memstream(&c->buf, &c->len);
    FUZZ_CHECK(c->mem != NULL, "open_memstream failed");
    fuzz_real_stderr = stderr;
    stderr = c->mem;
}

static inline void fuzz_capture_end(struct fuzz_capture *c)
{
    stderr = fuzz_real_stderr;
    fuzz_real_stderr = NULL;
    FUZZ_CHECK(fclose(c->mem) == 0, "closing the capture failed");
    c->mem = NULL;
}

/* The input as a NUL-terminated string (a C parser sees only what comes before a NUL). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL, "out of memory");
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Whether s[0..n) holds a control character (C0 or DEL). */
static inline bool fuzz_has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* A one-line message as the CLI and the parsers promise: not empty, no control character but
 * the final newline when newline is true, none at all otherwise. */
static inline bool fuzz_one_line(const char *s, size_t n, bool newline)
{
    if (newline) {
        if (n < 2 || s[n - 1] != '\n')
            return false;
        n--;
    }
    return n > 0 && !fuzz_has_control(s, n);
}

static inline int fuzz_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Harness scaffolding only: remove a temp tree the harness made. */
static inline void fuzz_rm_tree(const char *path)
{
    nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new private directory under $TMPDIR (or /tmp) into buf; aborts on failure. */
static inline void fuzz_mkdtemp(char *buf, size_t len, const char *what)
{
    const char *t = getenv("TMPDIR");
    int n = snprintf(buf, len, "%s/ipclab-fuzz-%s-XXXXXX", t && *t ? t : "/tmp", what);
    FUZZ_CHECK(n > 0 && (size_t)n < len, "TMPDIR is too long");
    FUZZ_CHECK(mkdtemp(buf) != NULL, "mkdtemp %s failed", buf);
}

#endif
