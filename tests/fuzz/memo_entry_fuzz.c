/* SPDX-License-Identifier: MIT */
/* Fuzz the memo cache's entry reader (workloads/memo.c, wl_memo_get and wl_memo_call_u64): the
 * directory may have been written by anybody, so every byte of an entry file is input.
 *
 * Input: byte 0 says how to lay the rest down as the entry of one of four keys, then the rest
 * is the file. Bits 0-1: the key; bit 2: put that key into header bytes 16..31; bit 3: put
 * the length of what follows the header into bytes 32..39; bit 4: put its XXH3-64 into bytes
 * 40..47 (the fix-ups let the fuzzer reach every check after the one it is not fuzzing);
 * bit 5: look up through wl_memo_call_u64 instead of wl_memo_get; bits 6-7: lay it down as a
 * regular file (0, 1), a symbolic link to one (2) or a FIFO (3).
 *
 * Properties: the lookup of an entry that exists is never a miss and never an error; a hit
 * returns exactly the value whose entry, as the real writer (wl_memo_put) writes it for that
 * key, is byte for byte the file; anything else is CORRUPT with a one-line reason, and the
 * counters add up. Through wl_memo_call_u64 the result is the stored 8-byte value on a hit and
 * the function's own value otherwise, and the entry then holds it. */
#include "fuzz.h"

#include "workloads/memo.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#define NKEYS 4
#define FN_NAME "memo_entry_fuzz"

static char tmp[256], entry[WL_MEMO_PATH_MAX], side[WL_MEMO_PATH_MAX + 8];
static struct wl_memo cache, ref; /* the cache read, and one the real writer fills */
static struct wl_memo_key keys[NKEYS];

static uint64_t fn(uint64_t arg)
{
    return arg * 0x9e3779b97f4a7c15ull + 1;
}

static void key_of(unsigned i, struct wl_memo_key *k)
{
    uint8_t a[8];
    for (int b = 0; b < 8; b++)
        a[b] = (uint8_t)((uint64_t)i >> (8 * b));
    struct wl_memo_arg part = {a, sizeof a};
    FUZZ_CHECK(wl_memo_key(k, FN_NAME, 1, &part, 1) == 0, "wl_memo_key");
}

static void cleanup(void)
{
    wl_memo_close(&cache);
    wl_memo_close(&ref);
    fuzz_rm_tree(tmp);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    struct stat sb;
    FUZZ_CHECK(fstat(fd, &sb) == 0, "fstat");
    uint8_t *b = malloc((size_t)sb.st_size + 1);
    FUZZ_CHECK(b != NULL, "out of memory");
    FUZZ_CHECK(read(fd, b, (size_t)sb.st_size) == sb.st_size, "short read of %s", path);
    close(fd);
    *len = (size_t)sb.st_size;
    return b;
}

static void write_file(const char *path, const uint8_t *b, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
    FUZZ_CHECK(len == 0 || write(fd, b, len) == (ssize_t)len, "write %s", path);
    close(fd);
}

/* The bytes the real writer puts into the entry of k holding value[len]. */
static uint8_t *writer_bytes(const struct wl_memo_key *k, const void *value, size_t len, size_t *n)
{
    FUZZ_CHECK(wl_memo_put(&ref, k, value, len) == 0, "wl_memo_put: %s", ref.errstr);
    char path[WL_MEMO_PATH_MAX + 64];
    FUZZ_CHECK(wl_memo_entry_path(&ref, k, path, sizeof path) == 0, "path");
    return read_file(path, n);
}

static void init(void)
{
    fuzz_mkdtemp(tmp, sizeof tmp, "memo-entry");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cache", tmp);
    FUZZ_CHECK(wl_memo_open(&cache, dir) == 0, "wl_memo_open: %s", cache.errstr);
    snprintf(dir, sizeof dir, "%s/ref", tmp);
    FUZZ_CHECK(wl_memo_open(&ref, dir) == 0, "wl_memo_open: %s", ref.errstr);
    /* A side file for the symlink case: not in the cache directory (it would be foreign). */
    snprintf(side, sizeof side, "%s/side", tmp);
    for (unsigned i = 0; i < NKEYS; i++)
        key_of(i, &keys[i]);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tmp[0])
        init();
    if (size < 1)
        return 0;
    unsigned ctl = data[0], ki = ctl & 3, how = ctl >> 6;
    const struct wl_memo_key *k = &keys[ki];
    size_t len = size - 1;
    uint8_t *file = malloc(len ? len : 1);
    FUZZ_CHECK(file != NULL, "out of memory");
    if (len)
        memcpy(file, data + 1, len);
    if (len >= WL_MEMO_HEADER_SIZE) {
        uint64_t vlen = len - WL_MEMO_HEADER_SIZE, sum = XXH3_64bits(file + 48, vlen);
        if (ctl & 4)
            memcpy(file + 16, k->b, WL_MEMO_KEY_SIZE);
        for (int b = 0; b < 8; b++) {
            if (ctl & 8)
                file[32 + b] = (uint8_t)(vlen >> (8 * b));
            if (ctl & 16)
                file[40 + b] = (uint8_t)(sum >> (8 * b));
        }
    }

    FUZZ_CHECK(wl_memo_entry_path(&cache, k, entry, sizeof entry) == 0, "path");
    unlink(entry);
    if (how < 2) {
        write_file(entry, file, len);
    } else if (how == 2) {
        write_file(side, file, len);
        FUZZ_CHECK(symlink(side, entry) == 0, "symlink: %s", strerror(errno));
    } else {
        FUZZ_CHECK(mkfifo(entry, 0600) == 0, "mkfifo: %s", strerror(errno));
    }

    struct wl_memo_stats before = cache.stats;
    int st;
    void *value = NULL;
    size_t vlen = 0;
    uint64_t result = 0, arg = ki;
    struct wl_memo_outcome out;
    if (ctl & 32) {
        int rc = wl_memo_call_u64(&cache, FN_NAME, 1, fn, arg, &result, &out);
        FUZZ_CHECK(rc == 0, "wl_memo_call_u64: %d %s", rc, cache.errstr);
        st = (int)out.status;
    } else {
        st = wl_memo_get(&cache, k, &value, &vlen);
    }
    FUZZ_CHECK(st == WL_MEMO_HIT || st == WL_MEMO_CORRUPT,
               "the entry exists, yet the lookup says %d (%s)", st, cache.errstr);
    const struct wl_memo_stats *a = &cache.stats;
    FUZZ_CHECK(a->hits + a->misses == before.hits + before.misses + 1 && a->corrupt <= a->misses &&
                   a->stores >= before.stores,
               "counters: hits %llu misses %llu corrupt %llu", (unsigned long long)a->hits,
               (unsigned long long)a->misses, (unsigned long long)a->corrupt);
    if (st == WL_MEMO_CORRUPT) {
        FUZZ_CHECK(a->corrupt == before.corrupt + 1, "a corrupt entry not counted");
        FUZZ_CHECK(fuzz_one_line(cache.corrupt_why, strlen(cache.corrupt_why), false),
                   "corrupt_why '%s'", cache.corrupt_why);
    } else {
        FUZZ_CHECK(how < 3, "a FIFO was a hit");
        /* A hit: the file must be exactly what the real writer writes for this value. */
        const void *v = value;
        size_t n = vlen;
        uint8_t le[8];
        if (ctl & 32) {
            for (int b = 0; b < 8; b++)
                le[b] = (uint8_t)(result >> (8 * b));
            v = le, n = 8;
        }
        FUZZ_CHECK(len == WL_MEMO_HEADER_SIZE + n, "a hit of %zu bytes from a %zu-byte file", n,
                   len);
        size_t wn;
        uint8_t *w = writer_bytes(k, v, n, &wn);
        FUZZ_CHECK(wn == len && memcmp(w, file, len) == 0,
                   "a hit whose file is not what the writer writes for its value");
        free(w);
    }
    if (ctl & 32) {
        /* The result is the function's unless a verified 8-byte value was served. */
        if (st != WL_MEMO_HIT)
            FUZZ_CHECK(result == fn(arg), "computed %llu", (unsigned long long)result);
        /* Either way the entry now holds the result. */
        void *v2;
        size_t n2;
        int rc = wl_memo_get(&cache, k, &v2, &n2);
        /* rename replaces whatever was there, a FIFO or a symlink too: the store succeeds. */
        FUZZ_CHECK(st == WL_MEMO_HIT || out.stored, "not stored: %d %s", out.store_err,
                   cache.errstr);
        {
            FUZZ_CHECK(rc == WL_MEMO_HIT && n2 == 8, "after the call: %d", rc);
            uint64_t got = 0;
            for (int b = 7; b >= 0; b--)
                got = got << 8 | ((uint8_t *)v2)[b];
            FUZZ_CHECK(got == result, "holds %llu, returned %llu", (unsigned long long)got,
                       (unsigned long long)result);
            free(v2);
        }
    }
    free(value);
    free(file);
    unlink(entry);
    return 0;
}
