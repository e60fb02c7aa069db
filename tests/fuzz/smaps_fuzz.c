/* SPDX-License-Identifier: MIT */
/* Fuzz the parser of /proc/<pid>/smaps_rollup (ipc_smaps_parse in ipc/spawn.c): the kernel
 * writes it, but its format is not ours and a container may show something else.
 *
 * Input: the file's text (a NUL ends it, as read_small's buffer would). Properties, against an
 * independent reading ("Key:" at the start of a line, blanks, digits, blanks, "kB"; the first
 * such line of a key counts): the parse succeeds exactly when Rss, Pss and the four
 * Shared/Private lines read as numbers that fit, and then every field is what its line says,
 * USS is Private_Clean + Private_Dirty, and absent or malformed optional lines read as 0. */
#include "fuzz.h"

#include "ipc/spawn.h"

#include <errno.h>

/* The value of the first line starting with "key:", -1 if absent or malformed, -2 if it does
 * not fit in an int64. */
static long long value_of(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *l = text; *l;) {
        if (strncmp(l, key, kl) == 0 && l[kl] == ':') {
            const char *p = l + kl + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p < '0' || *p > '9')
                return -1;
            unsigned __int128 v = 0;
            while (*p >= '0' && *p <= '9') {
                v = v * 10 + (unsigned)(*p++ - '0');
                if (v > INT64_MAX)
                    v = (unsigned __int128)INT64_MAX + 1; /* saturate: too big either way */
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (strncmp(p, "kB", 2) != 0)
                return -1;
            return v > INT64_MAX ? -2 : (long long)v;
        }
        const char *nl = strchr(l, '\n');
        if (!nl)
            break;
        l = nl + 1;
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct ipc_smaps m;
    memset(&m, 0xa5, sizeof m);
    int rc = ipc_smaps_parse(text, &m);
    static const char *const req[] = {"Rss",          "Pss",           "Shared_Clean",
                                      "Shared_Dirty", "Private_Clean", "Private_Dirty"};
    long long v[6];
    bool ok = true;
    for (int i = 0; i < 6; i++) {
        v[i] = value_of(text, req[i]);
        ok &= v[i] >= 0;
    }
    /* USS is the sum of the two private counts: one that does not fit is not a reading. */
    ok &= !ok || (unsigned long long)v[4] + (unsigned long long)v[5] <= INT64_MAX;
    FUZZ_CHECK(rc == 0 || rc == -EINVAL, "rc %d", rc);
    FUZZ_CHECK((rc == 0) == ok, "parse %s, expected %s: '%s'", rc ? "fails" : "succeeds",
               ok ? "success" : "failure", text);
    if (rc == 0) {
        FUZZ_CHECK(
            m.rss_kib == (uint64_t)v[0] && m.pss_kib == (uint64_t)v[1] &&
                m.shared_clean_kib == (uint64_t)v[2] && m.shared_dirty_kib == (uint64_t)v[3] &&
                m.private_clean_kib == (uint64_t)v[4] && m.private_dirty_kib == (uint64_t)v[5],
            "a field differs from its line");
        FUZZ_CHECK(m.uss_kib == (uint64_t)v[4] + (uint64_t)v[5], "uss %llu",
                   (unsigned long long)m.uss_kib);
        long long anon = value_of(text, "Anonymous"), swap = value_of(text, "Swap");
        FUZZ_CHECK(m.anon_kib == (anon > 0 ? (uint64_t)anon : 0) &&
                       m.swap_kib == (swap > 0 ? (uint64_t)swap : 0),
                   "anon %llu swap %llu", (unsigned long long)m.anon_kib,
                   (unsigned long long)m.swap_kib);
    }
    free(text);
    return 0;
}
