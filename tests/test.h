/* SPDX-License-Identifier: MIT */
/* Minimal assertions for test programs: exit 0 pass, 1 fail, 77 skip; failures print both
 * values and where. */
#ifndef IPCLAB_TEST_H
#define IPCLAB_TEST_H

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

/* Return from main with this. */
#define T_RESULT() (t_failures ? (fprintf(stderr, "%d failure(s)\n", t_failures), 1) : 0)

#endif
