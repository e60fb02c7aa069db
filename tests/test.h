/* SPDX-License-Identifier: MIT */
/* Minimal assertions for test programs: exit 0 pass, 1 fail, 77 skip; failures print both
 * values and where. */
#ifndef IPCLAB_TEST_H
#define IPCLAB_TEST_H

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_SKIP 77

static int t_failures;

#define T_FAIL(...)                                                                                \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        t_failures++;                                                                              \
    } while (0)

#define T_TRUE(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            T_FAIL("expected %s", #cond);                                                          \
    } while (0)

#define T_EQ_U64(got, want)                                                                        \
    do {                                                                                           \
        uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                                      \
        if (g_ != w_)                                                                              \
            T_FAIL("%s == %" PRIu64 ", expected %s == %" PRIu64, #got, g_, #want, w_);             \
    } while (0)

#define T_EQ_INT(got, want)                                                                        \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_)                                                                              \
            T_FAIL("%s == %lld, expected %s == %lld", #got, g_, #want, w_);                        \
    } while (0)

#define T_STR_NONEMPTY(s)                                                                          \
    do {                                                                                           \
        if (!(s)[0])                                                                               \
            T_FAIL("%s is empty", #s);                                                             \
    } while (0)

/* Entries in a directory other than . and .., or -1 if it cannot be read: the tests point
 * TMPDIR at a private directory and require it empty at the end. */
static inline int t_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* A private directory "<$TMPDIR or /tmp>/<name>-XXXXXX" for what the code under test creates;
 * then TMPDIR points at it. Returns buf, or NULL. */
static inline char *t_private_tmpdir(char *buf, size_t len, const char *name)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, len, "%s/%s-XXXXXX", base && *base ? base : "/tmp", name);
    if (!mkdtemp(buf))
        return NULL;
    setenv("TMPDIR", buf, 1);
    return buf;
}

/* Return from main with this. */
#define T_RESULT() (t_failures ? (fprintf(stderr, "%d failure(s)\n", t_failures), 1) : 0)

#endif
