/* SPDX-License-Identifier: MIT */
/* The memo cache on disk: a second process is served from disk; corrupt, truncated or foreign
 * entries are detected, counted and recomputed, never trusted; concurrent writers leave a
 * valid entry and readers never see a partial one; keys separate versions and arguments; clear
 * removes only the cache's files and a directory of foreign files is refused. */
#include "test.h"

#include "ipc/clock.h"
#include "ipc/pool.h"
#include "ipc/shared.h"
#include "workloads/memo.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define N 100000
#define PRIMES_BELOW_N 9592 /* pi(10^5) */

static char tmp[512];

/* "<tmp>/<name>" (not created: the cache creates what it needs). */
static const char *path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmp, name);
    return buf;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Test scaffolding only: the cache itself never removes what it did not make. */
static void rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void entry_path_of(const struct wl_memo *m, uint64_t n, uint32_t version, char *buf,
                          size_t len)
{
    uint8_t a[8];
    for (int i = 0; i < 8; i++)
        a[i] = (uint8_t)(n >> (8 * i));
    struct wl_memo_arg part = {a, 8};
    struct wl_memo_key k;
    wl_memo_key(&k, WL_MEMO_FN_NAME, version, &part, 1);
    wl_memo_entry_path(m, &k, buf, len);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* ---- two processes, one after the other -------------------------------------------------- */

struct proc_out {
    int rc, status, stored;
    uint64_t result, calls;
    char err[256];
};

static uint64_t calls; /* per process: fork copies it as 0 into each child */

static uint64_t counting_fn(uint64_t n)
{
    calls++;
    return wl_count_primes_below(n);
}

/* Gives a wrong answer on purpose: a result that still comes out right was not computed. */
static uint64_t poisoned_fn(uint64_t n)
{
    (void)n;
    calls++;
    return 424242;
}

struct session_arg {
    const char *dir;
    wl_memo_u64_fn fn;
    struct proc_out *out;
};

static int session(unsigned idx, void *p)
{
    const struct session_arg *a = p;
    struct proc_out *o = &a->out[idx];
    struct wl_memo m;
    o->rc = wl_memo_open(&m, a->dir);
    if (o->rc < 0) {
        snprintf(o->err, sizeof o->err, "%s", m.errstr);
        return 1;
    }
    struct wl_memo_outcome oc;
    o->rc = wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, a->fn, N, &o->result, &oc);
    o->status = (int)oc.status;
    o->stored = oc.stored;
    o->calls = calls;
    wl_memo_close(&m);
    return o->rc < 0;
}

static int run_sessions(const char *dir, wl_memo_u64_fn fn, unsigned n, struct proc_out *out)
{
    struct session_arg a = {dir, fn, out};
    struct ipc_pool pool;
    int rc = ipc_pool_start(&pool, n, session, &a, NULL, 0);
    if (rc < 0)
        return rc;
    rc = ipc_pool_wait(&pool, 60000, NULL);
    ipc_pool_destroy(&pool);
    return rc;
}

static void test_second_process_from_disk(void)
{
    char dir[600];
    path_in(dir, sizeof dir, "two-processes");
    struct proc_out *out = ipc_shared_alloc(2 * sizeof *out);
    T_TRUE(out != NULL);
    if (!out)
        return;
    T_EQ_INT(run_sessions(dir, counting_fn, 1, &out[0]), 0);
    T_EQ_INT(out[0].status, WL_MEMO_MISS);
    T_EQ_INT(out[0].stored, 1);
    T_EQ_U64(out[0].calls, 1);
    T_EQ_U64(out[0].result, PRIMES_BELOW_N);
    /* A new process with a function that would answer wrongly: the right answer, no call. */
    T_EQ_INT(run_sessions(dir, poisoned_fn, 1, &out[1]), 0);
    T_EQ_INT(out[1].status, WL_MEMO_HIT);
    T_EQ_INT(out[1].stored, 0);
    T_EQ_U64(out[1].calls, 0);
    T_EQ_U64(out[1].result, out[0].result);
    if (out[0].err[0] || out[1].err[0])
        T_FAIL("session errors: '%s' '%s'", out[0].err, out[1].err);
    ipc_shared_free(out, 2 * sizeof *out);

    /* And this process, a third, sees the same entry. */
    struct wl_memo m;
    T_EQ_INT(wl_memo_open(&m, dir), 0);
    uint64_t r = 0;
    struct wl_memo_outcome oc;
    calls = 0;
    T_EQ_INT(wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, poisoned_fn, N, &r, &oc), 0);
    T_EQ_U64(r, PRIMES_BELOW_N);
    T_EQ_U64(calls, 0);
    T_EQ_U64(oc.bytes, WL_MEMO_HEADER_SIZE + 8);
    T_EQ_U64(m.stats.hits, 1);
    T_EQ_U64(m.stats.misses, 0);
    wl_memo_close(&m);
}

/* ---- corrupt entries ----------------------------------------------------------------------- */

enum damage {
    FLIP_VALUE,
    FLIP_CHECKSUM,
    FLIP_MAGIC,
    FLIP_FORMAT,
    FLIP_RESERVED,
    FLIP_KEY,
    LENGTH_LONGER,
    LENGTH_HUGE,
    TRUNCATE_VALUE,
    TRUNCATE_HEADER,
    TRUNCATE_EMPTY,
    TRAILING_BYTE,
    SYMLINK,
    DIRECTORY,
    WRONG_VALUE_SIZE,
    DAMAGES
};

static const char *const damage_names[DAMAGES] = {
    "flip a value byte",
    "flip a checksum byte",
    "wrong magic",
    "another format version",
    "reserved word set",
    "another key",
    "length + 1",
    "length 2^56",
    "truncate the value",
    "truncate the header",
    "empty file",
    "a trailing byte",
    "symlink",
    "directory",
    "4-byte value",
};

static void flip(const char *path, off_t off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    uint8_t b = 0;
    T_TRUE(fd >= 0 && pread(fd, &b, 1, off) == 1);
    b ^= mask;
    T_TRUE(fd >= 0 && pwrite(fd, &b, 1, off) == 1);
    if (fd >= 0)
        close(fd);
}

static void damage(struct wl_memo *m, const char *path, enum damage d)
{
    char other[700];
    switch (d) {
    case FLIP_VALUE:
        flip(path, WL_MEMO_HEADER_SIZE + 3, 0x10);
        break;
    case FLIP_CHECKSUM:
        flip(path, 40, 0x01);
        break;
    case FLIP_MAGIC:
        flip(path, 0, 0x20);
        break;
    case FLIP_FORMAT:
        flip(path, 8, 0x02);
        break;
    case FLIP_RESERVED:
        flip(path, 12, 0x80);
        break;
    case FLIP_KEY:
        flip(path, 16 + 7, 0x04);
        break;
    case LENGTH_LONGER:
        flip(path, 32, 0x01); /* 8 -> 9: the file is a byte short of what it claims */
        break;
    case LENGTH_HUGE:
        flip(path, 32 + 7, 0x01);
        break;
    case TRUNCATE_VALUE:
        T_EQ_INT(truncate(path, WL_MEMO_HEADER_SIZE + 4), 0);
        break;
    case TRUNCATE_HEADER:
        T_EQ_INT(truncate(path, 20), 0);
        break;
    case TRUNCATE_EMPTY:
        T_EQ_INT(truncate(path, 0), 0);
        break;
    case TRAILING_BYTE: {
        int fd = open(path, O_WRONLY | O_APPEND);
        T_TRUE(fd >= 0 && write(fd, "x", 1) == 1);
        if (fd >= 0)
            close(fd);
        break;
    }
    case SYMLINK:
        /* A valid entry, reached through a link: still not an entry the cache wrote. */
        path_in(other, sizeof other, "symlink-target");
        T_EQ_INT(rename(path, other), 0);
        T_EQ_INT(symlink(other, path), 0);
        break;
    case DIRECTORY:
        T_EQ_INT(unlink(path), 0);
        T_EQ_INT(mkdir(path, 0700), 0);
        break;
    case WRONG_VALUE_SIZE: {
        /* A well-formed entry, but not one this function could have written. */
        uint8_t a[8];
        for (int i = 0; i < 8; i++)
            a[i] = (uint8_t)((uint64_t)N >> (8 * i));
        struct wl_memo_arg part = {a, 8};
        struct wl_memo_key k;
        T_EQ_INT(wl_memo_key(&k, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, &part, 1), 0);
        T_EQ_INT(wl_memo_put(m, &k, "abcd", 4), 0);
        break;
    }
    case DAMAGES:
        break;
    }
}

/* Undo what damage() added besides the entry, so the directory holds only cache files. */
static void undamage(const char *path, enum damage d)
{
    char other[700];
    (void)path;
    if (d == SYMLINK)
        unlink(path_in(other, sizeof other, "symlink-target"));
}

static void test_corrupt_entries(void)
{
    for (int d = 0; d < DAMAGES; d++) {
        char dir[600], name[64], entry[WL_MEMO_PATH_MAX];
        snprintf(name, sizeof name, "corrupt-%d", d);
        path_in(dir, sizeof dir, name);
        struct wl_memo m;
        T_EQ_INT(wl_memo_open(&m, dir), 0);
        uint64_t r = 0;
        struct wl_memo_outcome oc;
        calls = 0;
        T_EQ_INT(wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, counting_fn, N, &r, &oc),
                 0);
        T_TRUE(oc.stored);
        entry_path_of(&m, N, WL_MEMO_FN_VERSION, entry, sizeof entry);
        T_EQ_INT(file_size(entry), WL_MEMO_HEADER_SIZE + 8);
        damage(&m, entry, (enum damage)d);
        wl_memo_close(&m);

        /* A new session finds the damage, says why, counts it, recomputes and replaces. */
        bool odd_type = d == SYMLINK || d == DIRECTORY;
        T_EQ_INT(wl_memo_open(&m, dir), odd_type ? -ENOTEMPTY : 0);
        if (odd_type) {
            /* open refuses a directory holding such things; get on a cache opened before
             * they appeared must not trust them either. */
            char moved[700];
            path_in(moved, sizeof moved, "moved-entry");
            T_EQ_INT(rename(entry, moved), 0);
            T_EQ_INT(wl_memo_open(&m, dir), 0);
            T_EQ_INT(rename(moved, entry), 0);
        }
        calls = 0;
        r = 0;
        T_EQ_INT(wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, counting_fn, N, &r, &oc),
                 0);
        if (oc.status != WL_MEMO_CORRUPT)
            T_FAIL("damage '%s': lookup %s, expected corrupt", damage_names[d],
                   wl_memo_status_name(oc.status));
        T_STR_NONEMPTY(m.corrupt_why);
        T_EQ_U64(calls, 1);
        T_EQ_U64(r, PRIMES_BELOW_N);
        T_EQ_U64(m.stats.corrupt, 1);
        T_EQ_U64(m.stats.misses, 1);
        T_EQ_U64(m.stats.hits, 0);
        if (d == DIRECTORY) {
            /* rename cannot replace a directory with a file: the store fails, reported. */
            T_TRUE(!oc.stored && oc.store_err < 0);
            rmdir(entry);
        } else {
            T_TRUE(oc.stored);
            T_EQ_INT(file_size(entry), WL_MEMO_HEADER_SIZE + 8);
            /* Replaced: served from disk again, no further call. */
            T_EQ_INT(
                wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, poisoned_fn, N, &r, &oc),
                0);
            T_EQ_INT(oc.status, WL_MEMO_HIT);
            T_EQ_U64(r, PRIMES_BELOW_N);
            T_EQ_U64(calls, 1);
            T_EQ_U64(m.stats.hits, 1);
        }
        undamage(entry, (enum damage)d);
        if (t_failures)
            fprintf(stderr, "  (after damage '%s': %s)\n", damage_names[d], m.corrupt_why);
        uint64_t removed = 0;
        T_EQ_INT(wl_memo_clear(&m, true, &removed), 0);
        wl_memo_close(&m);
        T_EQ_INT(t_count_entries(dir), 0);
        T_EQ_INT(rmdir(dir), 0);
        if (t_failures)
            return;
    }
}

/* Direct gets: a corrupt entry is reported as such, with nothing returned. */
static void test_get_reports(void)
{
    char dir[600], entry[WL_MEMO_PATH_MAX];
    path_in(dir, sizeof dir, "get");
    struct wl_memo m;
    T_EQ_INT(wl_memo_open(&m, dir), 0);
    struct wl_memo_arg part = {"x", 1};
    struct wl_memo_key k;
    T_EQ_INT(wl_memo_key(&k, "f", 1, &part, 1), 0);
    void *v = NULL;
    size_t len = 0;
    T_EQ_INT(wl_memo_get(&m, &k, &v, &len), WL_MEMO_MISS);
    static const char value[] = "a value of some length";
    T_EQ_INT(wl_memo_put(&m, &k, value, sizeof value), 0);
    T_EQ_INT(wl_memo_get(&m, &k, &v, &len), WL_MEMO_HIT);
    T_EQ_U64(len, sizeof value);
    T_TRUE(v && memcmp(v, value, sizeof value) == 0);
    free(v);
    /* An empty value is a value. */
    struct wl_memo_key k0;
    T_EQ_INT(wl_memo_key(&k0, "f", 1, NULL, 0), 0);
    T_EQ_INT(wl_memo_put(&m, &k0, NULL, 0), 0);
    v = NULL;
    T_EQ_INT(wl_memo_get(&m, &k0, &v, &len), WL_MEMO_HIT);
    T_EQ_U64(len, 0);
    T_TRUE(v != NULL);
    free(v);
    T_EQ_INT(wl_memo_entry_path(&m, &k, entry, sizeof entry), 0);
    flip(entry, WL_MEMO_HEADER_SIZE, 1);
    v = NULL;
    T_EQ_INT(wl_memo_get(&m, &k, &v, &len), WL_MEMO_CORRUPT);
    T_TRUE(v == NULL);
    T_TRUE(strstr(m.corrupt_why, "checksum") != NULL);
    T_EQ_U64(m.stats.hits, 2);
    T_EQ_U64(m.stats.misses, 2);
    T_EQ_U64(m.stats.corrupt, 1);
    T_EQ_U64(m.stats.stores, 2);
    /* Too large to store: refused before anything is read or written. */
    T_EQ_INT(wl_memo_put(&m, &k, value, (size_t)WL_MEMO_MAX_VALUE + 1), -EFBIG);
    T_EQ_INT(wl_memo_clear(&m, true, NULL), 0);
    wl_memo_close(&m);
    T_EQ_INT(rmdir(dir), 0);
}

/* ---- concurrent writers and readers -------------------------------------------------------- */

#define BIG (1u << 20)
#define WRITES 3

struct race {
    _Atomic unsigned ready, writers_done;
    _Atomic uint64_t reads, hits, bad;
    uint64_t results[2];
    int statuses[2];
    char why[512];
    const char *dir;
};

static void start_together(struct race *r, unsigned n)
{
    atomic_fetch_add(&r->ready, 1);
    uint64_t deadline = ipc_now_ns() + 30000000000u;
    while (atomic_load(&r->ready) < n && ipc_now_ns() < deadline)
        ;
}

/* Workers 0 and 1 write 1 MiB values of their own byte under one key; worker 2 reads it all the
 * while and checks every value it is given is complete and uniform. */
static int race_worker(unsigned idx, void *p)
{
    struct race *r = p;
    struct wl_memo m;
    /* The directory is fresh: the three also race to create and tag it. */
    start_together(r, 3);
    if (wl_memo_open(&m, r->dir) < 0) {
        snprintf(r->why, sizeof r->why, "open: %s", m.errstr);
        return 1;
    }
    struct wl_memo_arg part = {"race", 4};
    struct wl_memo_key k;
    if (wl_memo_key(&k, "big", 1, &part, 1) < 0)
        return 1;
    int rc = 0;
    if (idx < 2) {
        uint8_t *v = malloc(BIG);
        if (!v)
            return 1;
        memset(v, 'A' + (int)idx, BIG);
        for (int i = 0; i < WRITES && rc == 0; i++)
            if (wl_memo_put(&m, &k, v, BIG) < 0) {
                snprintf(r->why, sizeof r->why, "put: %s", m.errstr);
                rc = 1;
            }
        free(v);
        atomic_fetch_add(&r->writers_done, 1);
    } else {
        uint64_t deadline = ipc_now_ns() + 60000000000u;
        while (atomic_load(&r->writers_done) < 2 && ipc_now_ns() < deadline) {
            void *v;
            size_t len;
            int s = wl_memo_get(&m, &k, &v, &len);
            atomic_fetch_add(&r->reads, 1);
            if (s == WL_MEMO_HIT) {
                atomic_fetch_add(&r->hits, 1);
                const uint8_t *b = v;
                bool ok = len == BIG && (b[0] == 'A' || b[0] == 'B');
                for (size_t i = 1; ok && i < len; i++)
                    ok = b[i] == b[0];
                free(v);
                if (!ok)
                    atomic_fetch_add(&r->bad, 1);
            } else if (s != WL_MEMO_MISS) {
                atomic_fetch_add(&r->bad, 1);
                snprintf(r->why, sizeof r->why, "get: %d %s", s,
                         s == WL_MEMO_CORRUPT ? m.corrupt_why : m.errstr);
            }
        }
        if (atomic_load(&r->writers_done) < 2)
            rc = 1;
    }
    wl_memo_close(&m);
    return rc;
}

/* Two sessions make the same memoised call at once on a fresh cache. */
static int call_worker(unsigned idx, void *p)
{
    struct race *r = p;
    start_together(r, 2);
    struct wl_memo m;
    if (wl_memo_open(&m, r->dir) < 0) {
        snprintf(r->why, sizeof r->why, "open: %s", m.errstr);
        return 1;
    }
    struct wl_memo_outcome oc;
    int rc = wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, wl_count_primes_below, N,
                              &r->results[idx], &oc);
    r->statuses[idx] = (int)oc.status;
    if (rc < 0 || oc.store_err)
        snprintf(r->why, sizeof r->why, "call: %s", m.errstr);
    wl_memo_close(&m);
    return rc < 0 || oc.store_err;
}

static void test_concurrent_fill(void)
{
    struct race *r = ipc_shared_alloc(sizeof *r);
    T_TRUE(r != NULL);
    if (!r)
        return;
    uint64_t reads = 0, hits = 0;
    for (int round = 0; round < 5 && !t_failures; round++) {
        char dir[600], name[64];
        snprintf(name, sizeof name, "race-%d", round);
        path_in(dir, sizeof dir, name);
        memset(r, 0, sizeof *r);
        r->dir = dir;
        struct ipc_pool pool;
        T_EQ_INT(ipc_pool_start(&pool, 3, race_worker, r, NULL, 0), 0);
        unsigned failed = 0;
        int rc = ipc_pool_wait(&pool, 120000, &failed);
        ipc_pool_destroy(&pool);
        if (rc != 0)
            T_FAIL("round %d: worker %u failed (%d): %s", round, failed, rc, r->why);
        if (r->bad)
            T_FAIL("round %d: the reader got %llu bad values of %llu: %s", round,
                   (unsigned long long)r->bad, (unsigned long long)r->reads, r->why);
        reads += r->reads;
        hits += r->hits;

        /* The last complete writer won; nothing half-written is left. */
        struct wl_memo m;
        T_EQ_INT(wl_memo_open(&m, dir), 0);
        struct wl_memo_arg part = {"race", 4};
        struct wl_memo_key k;
        T_EQ_INT(wl_memo_key(&k, "big", 1, &part, 1), 0);
        void *v = NULL;
        size_t len = 0;
        T_EQ_INT(wl_memo_get(&m, &k, &v, &len), WL_MEMO_HIT);
        T_EQ_U64(len, BIG);
        const uint8_t *b = v;
        bool uniform = v && len == BIG && (b[0] == 'A' || b[0] == 'B');
        for (size_t i = 1; uniform && i < len; i++)
            uniform = b[i] == b[0];
        T_TRUE(uniform);
        free(v);
        T_EQ_INT(t_count_entries(dir), 2); /* the tag and the entry: no temp file */

        /* The same memoised call made by two sessions at once. */
        memset(r, 0, sizeof *r);
        r->dir = dir;
        T_EQ_INT(ipc_pool_start(&pool, 2, call_worker, r, NULL, 0), 0);
        rc = ipc_pool_wait(&pool, 60000, &failed);
        ipc_pool_destroy(&pool);
        if (rc != 0)
            T_FAIL("round %d: call worker %u failed (%d): %s", round, failed, rc, r->why);
        T_EQ_U64(r->results[0], PRIMES_BELOW_N);
        T_EQ_U64(r->results[1], PRIMES_BELOW_N);
        uint64_t result = 0;
        struct wl_memo_outcome oc;
        T_EQ_INT(
            wl_memo_call_u64(&m, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, poisoned_fn, N, &result, &oc),
            0);
        T_EQ_INT(oc.status, WL_MEMO_HIT);
        T_EQ_U64(result, PRIMES_BELOW_N);
        T_EQ_INT(t_count_entries(dir), 3);
        T_EQ_INT(wl_memo_clear(&m, true, NULL), 0);
        wl_memo_close(&m);
        T_EQ_INT(rmdir(dir), 0);
    }
    /* Not a requirement (the reader may lose every race), just what the runs covered. */
    fprintf(stderr, "concurrent fill: %llu reads during the writes, %llu of them hits\n",
            (unsigned long long)reads, (unsigned long long)hits);
    ipc_shared_free(r, sizeof *r);
}

/* ---- keys ------------------------------------------------------------------------------------ */

static void key_of(struct wl_memo_key *k, const char *name, uint32_t version, const char *a,
                   const char *b)
{
    struct wl_memo_arg args[2] = {{a, a ? strlen(a) : 0}, {b, b ? strlen(b) : 0}};
    T_EQ_INT(wl_memo_key(k, name, version, args, b ? 2 : a ? 1 : 0), 0);
}

static bool same(const struct wl_memo_key *x, const struct wl_memo_key *y)
{
    return memcmp(x->b, y->b, sizeof x->b) == 0;
}

static void le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_keys(void)
{
    struct wl_memo_key k1, k2;
    key_of(&k1, "f", 1, "ab", "c");
    key_of(&k2, "f", 1, "ab", "c");
    T_TRUE(same(&k1, &k2));
    key_of(&k2, "f", 2, "ab", "c");
    T_TRUE(!same(&k1, &k2));
    key_of(&k2, "g", 1, "ab", "c");
    T_TRUE(!same(&k1, &k2));
    key_of(&k2, "f", 1, "a", "bc");
    T_TRUE(!same(&k1, &k2));
    key_of(&k2, "f", 1, "abc", NULL);
    T_TRUE(!same(&k1, &k2));
    key_of(&k1, "f", 1, NULL, NULL);
    key_of(&k2, "f", 1, "", NULL);
    T_TRUE(!same(&k1, &k2));

    /* The documented encoding, built here by hand and hashed in one go. */
    uint8_t buf[64];
    size_t n = 0;
    le(buf + n, WL_MEMO_FORMAT, 4), n += 4;
    le(buf + n, 1, 8), n += 8;
    buf[n++] = 'f';
    le(buf + n, 7, 4), n += 4;
    le(buf + n, 2, 8), n += 8;
    le(buf + n, 2, 8), n += 8;
    memcpy(buf + n, "ab", 2), n += 2;
    le(buf + n, 1, 8), n += 8;
    buf[n++] = 'c';
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(buf, n));
    key_of(&k1, "f", 7, "ab", "c");
    T_TRUE(memcmp(k1.b, c.digest, sizeof k1.b) == 0);
    char hex[WL_MEMO_KEY_HEX];
    wl_memo_key_hex(&k1, hex);
    T_EQ_U64(strlen(hex), 32);
    T_EQ_U64(strspn(hex, "0123456789abcdef"), 32);

    struct wl_memo_arg many[WL_MEMO_MAX_ARGS + 1] = {{0}};
    T_EQ_INT(wl_memo_key(&k1, "f", 1, many, WL_MEMO_MAX_ARGS), 0);
    T_EQ_INT(wl_memo_key(&k1, "f", 1, many, WL_MEMO_MAX_ARGS + 1), -EINVAL);
    struct wl_memo_arg nodata = {NULL, 3};
    T_EQ_INT(wl_memo_key(&k1, "f", 1, &nodata, 1), -EINVAL);

    /* On disk: another version or another argument is a miss next to a stored entry. */
    char dir[600];
    path_in(dir, sizeof dir, "keys");
    struct wl_memo m;
    T_EQ_INT(wl_memo_open(&m, dir), 0);
    uint64_t r;
    struct wl_memo_outcome oc;
    T_EQ_INT(wl_memo_call_u64(&m, "count", 1, wl_count_primes_below, 1000, &r, &oc), 0);
    T_EQ_INT(oc.status, WL_MEMO_MISS);
    T_EQ_U64(r, 168);
    T_EQ_INT(wl_memo_call_u64(&m, "count", 1, poisoned_fn, 1000, &r, &oc), 0);
    T_EQ_INT(oc.status, WL_MEMO_HIT);
    T_EQ_U64(r, 168);
    T_EQ_INT(wl_memo_call_u64(&m, "count", 2, wl_count_primes_below, 1000, &r, &oc), 0);
    T_EQ_INT(oc.status, WL_MEMO_MISS);
    T_EQ_INT(wl_memo_call_u64(&m, "count", 1, wl_count_primes_below, 1001, &r, &oc), 0);
    T_EQ_INT(oc.status, WL_MEMO_MISS);
    T_EQ_U64(r, 168);
    T_EQ_INT(wl_memo_call_u64(&m, "count2", 1, wl_count_primes_below, 1000, &r, &oc), 0);
    T_EQ_INT(oc.status, WL_MEMO_MISS);
    T_EQ_INT(t_count_entries(dir), 5); /* the tag and four entries */
    T_EQ_INT(wl_memo_clear(&m, true, NULL), 0);
    wl_memo_close(&m);
    T_EQ_INT(rmdir(dir), 0);
}

/* ---- the directory: clear, foreign files, creation ------------------------------------------- */

static void touch(const char *dir, const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    T_TRUE(fd >= 0);
    if (fd >= 0)
        close(fd);
}

static bool exists(const char *dir, const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    return lstat(p, &sb) == 0;
}

static void test_clear_and_foreign(void)
{
    char dir[600];
    path_in(dir, sizeof dir, "clear");
    struct wl_memo m;
    T_EQ_INT(wl_memo_open(&m, dir), 0);
    T_TRUE(exists(dir, "CACHEDIR.TAG"));
    uint64_t r;
    struct wl_memo_outcome oc;
    for (uint64_t n = 10; n < 13; n++)
        T_EQ_INT(wl_memo_call_u64(&m, "count", 1, wl_count_primes_below, n, &r, &oc), 0);
    /* A temp file a killed writer left behind is the cache's too. */
    touch(dir, ".tmp-0123456789abcdef0123456789abcdef-aZ09xY");
    T_EQ_INT(t_count_entries(dir), 5);

    /* A foreign file: clear refuses and removes nothing, open refuses. */
    touch(dir, "notes.txt");
    uint64_t removed = 99;
    T_EQ_INT(wl_memo_clear(&m, false, &removed), -ENOTEMPTY);
    T_EQ_U64(removed, 0);
    T_TRUE(strstr(m.errstr, "notes.txt") != NULL);
    T_EQ_INT(t_count_entries(dir), 6);
    struct wl_memo m2;
    T_EQ_INT(wl_memo_open(&m2, dir), -ENOTEMPTY);
    T_TRUE(strstr(m2.errstr, "notes.txt") != NULL);
    char p[700];
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    T_EQ_INT(unlink(p), 0);

    /* Names that look like the cache's but are not quite. */
    static const char *const lookalikes[] = {
        "0123456789ABCDEF0123456789abcdef.memo", /* upper case */
        "0123456789abcdef0123456789abcde.memo",  /* 31 digits */
        "0123456789abcdef0123456789abcdef.memo~",
        ".tmp-0123456789abcdef0123456789abcdef-aZ09x",
        ".tmp-tag-a-b-c-",
        "CACHEDIR.TAG.bak",
    };
    for (size_t i = 0; i < sizeof lookalikes / sizeof lookalikes[0]; i++) {
        touch(dir, lookalikes[i]);
        if (wl_memo_clear(&m, false, NULL) != -ENOTEMPTY)
            T_FAIL("'%s' was taken for a cache file", lookalikes[i]);
        snprintf(p, sizeof p, "%s/%s", dir, lookalikes[i]);
        T_EQ_INT(unlink(p), 0);
    }
    /* A subdirectory, even with an entry's name, is not the cache's. */
    snprintf(p, sizeof p, "%s/00000000000000000000000000000000.memo", dir);
    T_EQ_INT(mkdir(p, 0700), 0);
    T_EQ_INT(wl_memo_clear(&m, false, NULL), -ENOTEMPTY);
    T_EQ_INT(rmdir(p), 0);

    /* Only the cache's files: clear removes the entries and the temp file, keeps the tag. */
    T_EQ_INT(wl_memo_clear(&m, false, &removed), 0);
    T_EQ_U64(removed, 4);
    T_EQ_INT(t_count_entries(dir), 1);
    T_TRUE(exists(dir, "CACHEDIR.TAG"));
    T_EQ_INT(wl_memo_call_u64(&m, "count", 1, wl_count_primes_below, 10, &r, &oc), 0);
    T_EQ_INT(oc.status, WL_MEMO_MISS);
    T_EQ_U64(r, 4);
    T_EQ_INT(wl_memo_clear(&m, true, &removed), 0);
    T_EQ_U64(removed, 1);
    T_EQ_INT(t_count_entries(dir), 0);
    wl_memo_close(&m);

    /* An existing directory of someone else's: refused, and nothing written into it. */
    touch(dir, "thesis.tex");
    T_EQ_INT(wl_memo_open(&m, dir), -ENOTEMPTY);
    T_EQ_INT(t_count_entries(dir), 1);
    T_TRUE(!exists(dir, "CACHEDIR.TAG"));
    snprintf(p, sizeof p, "%s/thesis.tex", dir);
    T_EQ_INT(unlink(p), 0);
    /* Another program's cache tag is not ipclab's. */
    snprintf(p, sizeof p, "%s/CACHEDIR.TAG", dir);
    FILE *f = fopen(p, "w");
    T_TRUE(f != NULL);
    if (f) {
        fputs("Signature: 8a477f597d28d172789f06886806bc55\n# another tool\n", f);
        fclose(f);
    }
    T_EQ_INT(wl_memo_open(&m, dir), -ENOTEMPTY);
    T_EQ_INT(unlink(p), 0);
    /* An existing empty directory is taken and tagged. */
    T_EQ_INT(wl_memo_open(&m, dir), 0);
    T_TRUE(exists(dir, "CACHEDIR.TAG"));
    T_EQ_INT(wl_memo_clear(&m, true, NULL), 0);
    wl_memo_close(&m);
    T_EQ_INT(rmdir(dir), 0);

    /* Missing parents are created; a file is not a directory. */
    char deep[700];
    snprintf(deep, sizeof deep, "%s/deep/er/cache/", tmp);
    T_EQ_INT(wl_memo_open(&m, deep), 0);
    T_TRUE(strcmp(m.dir + strlen(m.dir) - 6, "/cache") == 0); /* trailing slash dropped */
    T_EQ_INT(wl_memo_clear(&m, true, NULL), 0);
    wl_memo_close(&m);
    path_in(p, sizeof p, "deep");
    rm_tree(p);
    path_in(p, sizeof p, "plain-file");
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    T_TRUE(fd >= 0);
    if (fd >= 0)
        close(fd);
    T_EQ_INT(wl_memo_open(&m, p), -ENOTDIR);
    T_EQ_INT(unlink(p), 0);
    T_EQ_INT(wl_memo_open(&m, ""), -EINVAL);
}

static void test_default_dir(void)
{
    char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char saved_xdg[1024] = "", saved_home[1024] = "";
    if (xdg)
        snprintf(saved_xdg, sizeof saved_xdg, "%s", xdg);
    if (home)
        snprintf(saved_home, sizeof saved_home, "%s", home);
    char buf[WL_MEMO_PATH_MAX];
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    setenv("HOME", "/home/u", 1);
    T_EQ_INT(wl_memo_default_dir(buf, sizeof buf), 0);
    T_TRUE(strcmp(buf, "/x/cache/ipclab/memo") == 0);
    setenv("XDG_CACHE_HOME", "relative", 1); /* the XDG spec: ignored */
    T_EQ_INT(wl_memo_default_dir(buf, sizeof buf), 0);
    T_TRUE(strcmp(buf, "/home/u/.cache/ipclab/memo") == 0);
    unsetenv("XDG_CACHE_HOME");
    T_EQ_INT(wl_memo_default_dir(buf, sizeof buf), 0);
    T_TRUE(strcmp(buf, "/home/u/.cache/ipclab/memo") == 0);
    T_EQ_INT(wl_memo_default_dir(buf, 10), -ENAMETOOLONG);
    unsetenv("HOME");
    T_EQ_INT(wl_memo_default_dir(buf, sizeof buf), -ENOENT);
    if (xdg)
        setenv("XDG_CACHE_HOME", saved_xdg, 1);
    if (home)
        setenv("HOME", saved_home, 1);
}

static void test_count_primes(void)
{
    static const struct {
        uint64_t n, count;
    } known[] = {{0, 0},
                 {1, 0},
                 {2, 0},
                 {3, 1},
                 {4, 2},
                 {10, 4},
                 {11, 4},
                 {12, 5},
                 {100, 25},
                 {1000, 168},
                 {N, PRIMES_BELOW_N}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        T_EQ_U64(wl_count_primes_below(known[i].n), known[i].count);
}

int main(void)
{
    if (!t_private_tmpdir(tmp, sizeof tmp, "ipclab-memo-test")) {
        perror("memo_test: private temp dir");
        return 1;
    }
    test_count_primes();
    test_keys();
    test_default_dir();
    test_second_process_from_disk();
    test_get_reports();
    test_corrupt_entries();
    test_clear_and_foreign();
    test_concurrent_fill();

    /* Every test cleaned up through the cache; what it could not is a failure, then removed. */
    char two[700];
    path_in(two, sizeof two, "two-processes");
    struct wl_memo m;
    if (wl_memo_open(&m, two) == 0) {
        T_EQ_INT(wl_memo_clear(&m, true, NULL), 0);
        wl_memo_close(&m);
        T_EQ_INT(rmdir(two), 0);
    }
    int left = t_count_entries(tmp);
    if (left != 0)
        T_FAIL("%d entries left in %s", left, tmp);
    rm_tree(tmp);
    return T_RESULT();
}
