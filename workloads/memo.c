/* SPDX-License-Identifier: MIT */
/* The memo cache on disk: keys, verified entries, atomic replacement, and the directory's
 * bookkeeping (create, tag, refuse foreign files, clear). */
#include "memo.h"

#include "prime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define ENTRY_SUFFIX ".memo"
#define TAG_NAME "CACHEDIR.TAG"
#define TMP_PREFIX ".tmp-"
#define TMP_TAG ".tmp-tag-"

/* The Cache Directory Tagging Specification wants exactly this first line; the rest is ours,
 * and the whole text must match for the tag to count as the cache's own. */
static const char tag_text[] =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by ipclab memo.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n";

/* The longest name the cache makes: ".tmp-" + 32 hex + "-XXXXXX". */
#define LONGEST_NAME (sizeof TMP_PREFIX - 1 + 2 * WL_MEMO_KEY_SIZE + 7)

static int fail(struct wl_memo *m, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct wl_memo *m, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->errstr, sizeof m->errstr, fmt, ap);
    va_end(ap);
    return err;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

const char *wl_memo_status_name(enum wl_memo_status s)
{
    switch (s) {
    case WL_MEMO_HIT:
        return "hit";
    case WL_MEMO_MISS:
        return "miss";
    case WL_MEMO_CORRUPT:
        return "corrupt";
    }
    return "?";
}

int wl_memo_default_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/ipclab/memo", xdg);
    else if (home && *home)
        n = snprintf(buf, len, "%s/.cache/ipclab/memo", home);
    else
        return -ENOENT;
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- keys ------------------------------------------------------------------------------------ */

int wl_memo_key(struct wl_memo_key *k, const char *name, uint32_t version,
                const struct wl_memo_arg *args, size_t nargs)
{
    if (!name || nargs > WL_MEMO_MAX_ARGS || (nargs && !args))
        return -EINVAL;
    for (size_t i = 0; i < nargs; i++)
        if (!args[i].data && args[i].len)
            return -EINVAL;
    XXH3_state_t *s = XXH3_createState();
    if (!s)
        return -ENOMEM;
    uint8_t w[8];
    XXH3_128bits_reset(s);
    put_le32(w, WL_MEMO_FORMAT);
    XXH3_128bits_update(s, w, 4);
    size_t nlen = strlen(name);
    put_le64(w, nlen);
    XXH3_128bits_update(s, w, 8);
    XXH3_128bits_update(s, name, nlen);
    put_le32(w, version);
    XXH3_128bits_update(s, w, 4);
    put_le64(w, nargs);
    XXH3_128bits_update(s, w, 8);
    for (size_t i = 0; i < nargs; i++) {
        put_le64(w, args[i].len);
        XXH3_128bits_update(s, w, 8);
        if (args[i].len)
            XXH3_128bits_update(s, args[i].data, args[i].len);
    }
    XXH128_hash_t h = XXH3_128bits_digest(s);
    XXH3_freeState(s);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(k->b, c.digest, WL_MEMO_KEY_SIZE);
    return 0;
}

void wl_memo_key_hex(const struct wl_memo_key *k, char out[WL_MEMO_KEY_HEX])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < WL_MEMO_KEY_SIZE; i++) {
        out[2 * i] = hex[k->b[i] >> 4];
        out[2 * i + 1] = hex[k->b[i] & 15];
    }
    out[2 * WL_MEMO_KEY_SIZE] = '\0';
}

static void entry_name(const struct wl_memo_key *k, char out[WL_MEMO_KEY_HEX + 8])
{
    wl_memo_key_hex(k, out);
    strcat(out, ENTRY_SUFFIX);
}

int wl_memo_entry_path(const struct wl_memo *m, const struct wl_memo_key *k, char *buf, size_t len)
{
    char name[WL_MEMO_KEY_HEX + 8];
    entry_name(k, name);
    int n = snprintf(buf, len, "%s/%s", m->dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- the directory --------------------------------------------------------------------------- */

enum kind { KIND_FOREIGN, KIND_TAG, KIND_ENTRY, KIND_TEMP };

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* mkstemp fills its six X's from [A-Za-z0-9]. */
static bool mkstemp_suffix(const char *s)
{
    if (strlen(s) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* What a name in the directory is, by name alone (the caller checks it is a regular file). */
static enum kind classify(const char *name)
{
    const size_t hexlen = 2 * WL_MEMO_KEY_SIZE, plen = sizeof TMP_PREFIX - 1;
    size_t n = strlen(name);
    if (strcmp(name, TAG_NAME) == 0)
        return KIND_TAG;
    if (n == hexlen + sizeof ENTRY_SUFFIX - 1 && all_hex(name, hexlen) &&
        strcmp(name + hexlen, ENTRY_SUFFIX) == 0)
        return KIND_ENTRY;
    if (strncmp(name, TMP_TAG, sizeof TMP_TAG - 1) == 0 &&
        mkstemp_suffix(name + sizeof TMP_TAG - 1))
        return KIND_TEMP;
    if (n == plen + hexlen + 7 && strncmp(name, TMP_PREFIX, plen) == 0 &&
        all_hex(name + plen, hexlen) && name[plen + hexlen] == '-' &&
        mkstemp_suffix(name + plen + hexlen + 1))
        return KIND_TEMP;
    return KIND_FOREIGN;
}

static bool tag_is_ours(int dirfd)
{
    int fd = openat(dirfd, TAG_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    char buf[sizeof tag_text + 1];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf && (r = read(fd, buf + got, sizeof buf - got)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return got == sizeof tag_text - 1 && memcmp(buf, tag_text, got) == 0;
}

/*
 * Go through the directory: every entry must be one the cache makes, and a regular file.
 * With remove, unlink the entries and temp files (and the tag if untag) after the whole
 * directory was found clean. *has_tag: an ipclab tag is there. Returns 0, -ENOTEMPTY with
 * errstr naming the first foreign entry, or -errno.
 */
static int scan(struct wl_memo *m, bool remove, bool untag, bool *has_tag, uint64_t *removed)
{
    int fd = openat(m->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(m, -errno, "cannot read '%s': %s", m->dir, strerror(errno));
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = errno;
        close(fd);
        return fail(m, -err, "cannot read '%s': %s", m->dir, strerror(err));
    }
    int rc = 0;
    bool tag = false;
    uint64_t n = 0;
    for (int pass = 0; pass < (remove ? 2 : 1) && rc == 0; pass++) {
        rewinddir(d);
        for (;;) {
            /* readdir() tells the end from an error only by errno, so it is cleared before
             * every call: the ENOENT of a file another process removed meanwhile (skipped
             * below) must not read as a failure of the directory. */
            errno = 0;
            struct dirent *e = readdir(d);
            if (!e)
                break;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            enum kind k = classify(e->d_name);
            struct stat sb;
            if (pass == 0) {
                if (k != KIND_FOREIGN &&
                    fstatat(m->dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
                    if (errno == ENOENT) /* renamed or removed by another process meanwhile */
                        continue;
                    rc = fail(m, -errno, "cannot stat '%s/%s': %s", m->dir, e->d_name,
                              strerror(errno));
                    break;
                }
                if (k == KIND_TAG && S_ISREG(sb.st_mode) && !tag_is_ours(m->dirfd))
                    k = KIND_FOREIGN;
                if (k == KIND_FOREIGN || !S_ISREG(sb.st_mode)) {
                    char q[64];
                    snprintf(q, sizeof q, "%.40s%s", e->d_name,
                             strlen(e->d_name) > 40 ? "..." : "");
                    for (char *p = q; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f)
                            *p = '?';
                    rc = fail(m, -ENOTEMPTY,
                              "'%s' holds '%s', which the memo cache did not make: not a cache "
                              "directory",
                              m->dir, q);
                    break;
                }
                tag |= k == KIND_TAG;
            } else if (k == KIND_ENTRY || k == KIND_TEMP || (k == KIND_TAG && untag)) {
                if (unlinkat(m->dirfd, e->d_name, 0) < 0) {
                    if (errno == ENOENT)
                        continue;
                    rc = fail(m, -errno, "cannot remove '%s/%s': %s", m->dir, e->d_name,
                              strerror(errno));
                    break;
                }
                if (k != KIND_TAG)
                    n++;
            }
        }
        if (rc == 0 && errno)
            rc = fail(m, -errno, "cannot read '%s': %s", m->dir, strerror(errno));
    }
    closedir(d);
    if (has_tag)
        *has_tag = tag;
    if (removed)
        *removed = n;
    return rc;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/*
 * Write a new file into the directory under final_name: a temp file made by mkstemp from
 * tmp_name_prefix, the two buffers, fsync, rename, fsync of the directory. The temp file is
 * removed on every failure.
 */
static int replace_file(struct wl_memo *m, const char *tmp_name_prefix, const char *final_name,
                        const void *a, size_t alen, const void *b, size_t blen)
{
    char path[WL_MEMO_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%sXXXXXX", m->dir, tmp_name_prefix);
    if (n < 0 || (size_t)n >= sizeof path)
        return fail(m, -ENAMETOOLONG, "path too long in '%s'", m->dir);
    const char *tmp_name = path + n - strlen(tmp_name_prefix) - 6;
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return fail(m, -errno, "cannot create a file in '%s': %s", m->dir, strerror(errno));
    int rc = write_all(fd, a, alen);
    if (rc == 0 && blen)
        rc = write_all(fd, b, blen);
    /* The data must be on disk before the name points at it: after a crash the entry is then
     * either the old file or the complete new one, never a new name with missing blocks. */
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && renameat(m->dirfd, tmp_name, m->dirfd, final_name) < 0)
        rc = -errno;
    if (rc < 0) {
        int err = rc;
        unlinkat(m->dirfd, tmp_name, 0);
        return fail(m, err, "cannot write '%s/%s': %s", m->dir, final_name, strerror(-err));
    }
    /* And the rename itself survives a crash only once the directory is synced. */
    if (fsync(m->dirfd) < 0)
        return fail(m, -errno, "cannot sync '%s': %s", m->dir, strerror(errno));
    return 0;
}

static int mkdirs(struct wl_memo *m, const char *dir)
{
    char path[WL_MEMO_PATH_MAX];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return fail(m, -errno, "cannot create '%s': %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return fail(m, -errno, "cannot create '%s': %s", path, strerror(errno));
    return 0;
}

int wl_memo_open(struct wl_memo *m, const char *dir)
{
    memset(m, 0, sizeof *m);
    m->dirfd = -1;
    if (!dir || !*dir)
        return fail(m, -EINVAL, "empty cache directory name");
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len + 1 + LONGEST_NAME >= sizeof m->dir)
        return fail(m, -ENAMETOOLONG, "cache directory name too long (%zu bytes)", len);
    memcpy(m->dir, dir, len);
    m->dir[len] = '\0';
    int rc = mkdirs(m, m->dir);
    if (rc < 0)
        return rc;
    m->dirfd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->dirfd < 0)
        return fail(m, -errno, "cannot open '%s': %s", m->dir, strerror(errno));
    bool has_tag;
    rc = scan(m, false, false, &has_tag, NULL);
    if (rc == 0 && !has_tag)
        rc = replace_file(m, TMP_TAG, TAG_NAME, tag_text, sizeof tag_text - 1, NULL, 0);
    if (rc < 0) {
        close(m->dirfd);
        m->dirfd = -1;
    }
    return rc;
}

void wl_memo_close(struct wl_memo *m)
{
    if (m->dirfd >= 0)
        close(m->dirfd);
    m->dirfd = -1;
}

int wl_memo_clear(struct wl_memo *m, bool untag, uint64_t *removed)
{
    if (removed)
        *removed = 0;
    int rc = scan(m, true, untag, NULL, removed);
    if (rc == 0 && fsync(m->dirfd) < 0)
        rc = fail(m, -errno, "cannot sync '%s': %s", m->dir, strerror(errno));
    return rc;
}

/* ---- entries --------------------------------------------------------------------------------- */

static int read_full(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ENODATA; /* shrank under us: the caller treats it as corrupt */
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return 0;
}

static int corrupt(struct wl_memo *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int corrupt(struct wl_memo *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->corrupt_why, sizeof m->corrupt_why, fmt, ap);
    va_end(ap);
    m->stats.misses++;
    m->stats.corrupt++;
    return WL_MEMO_CORRUPT;
}

int wl_memo_get(struct wl_memo *m, const struct wl_memo_key *k, void **value, size_t *len)
{
    char name[WL_MEMO_KEY_HEX + 8];
    entry_name(k, name);
    /* O_NONBLOCK: a FIFO planted under an entry's name must not block the open; O_NOFOLLOW:
     * a symlink is not an entry the cache wrote. */
    int fd = openat(m->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            m->stats.misses++;
            return WL_MEMO_MISS;
        }
        if (errno == ELOOP)
            return corrupt(m, "not a regular file (a symbolic link)");
        return fail(m, -errno, "cannot open '%s/%s': %s", m->dir, name, strerror(errno));
    }
    int rc;
    uint8_t h[WL_MEMO_HEADER_SIZE];
    struct stat sb;
    void *buf = NULL;
    if (fstat(fd, &sb) < 0) {
        rc = fail(m, -errno, "cannot stat '%s/%s': %s", m->dir, name, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = corrupt(m, "not a regular file");
        goto out;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size < WL_MEMO_HEADER_SIZE) {
        rc = corrupt(m, "truncated: %llu bytes, shorter than the %d-byte header",
                     (unsigned long long)size, WL_MEMO_HEADER_SIZE);
        goto out;
    }
    rc = read_full(fd, h, sizeof h, 0);
    if (rc == -ENODATA) {
        rc = corrupt(m, "truncated while being read");
        goto out;
    }
    if (rc < 0) {
        rc = fail(m, rc, "cannot read '%s/%s': %s", m->dir, name, strerror(-rc));
        goto out;
    }
    if (memcmp(h, WL_MEMO_MAGIC, 8) != 0) {
        rc = corrupt(m, "bad magic: not a memo entry");
        goto out;
    }
    uint32_t format = get_le32(h + 8), reserved = get_le32(h + 12);
    uint64_t vlen = get_le64(h + 32), sum = get_le64(h + 40);
    if (format != WL_MEMO_FORMAT) {
        rc = corrupt(m, "format version %u, expected %u", format, WL_MEMO_FORMAT);
        goto out;
    }
    if (reserved != 0) {
        rc = corrupt(m, "reserved header word is %u, expected 0", reserved);
        goto out;
    }
    if (memcmp(h + 16, k->b, WL_MEMO_KEY_SIZE) != 0) {
        rc = corrupt(m, "holds another key than its name says");
        goto out;
    }
    if (vlen > WL_MEMO_MAX_VALUE) {
        rc = corrupt(m, "header claims a %llu-byte value, more than the %u-byte limit",
                     (unsigned long long)vlen, WL_MEMO_MAX_VALUE);
        goto out;
    }
    if (size != WL_MEMO_HEADER_SIZE + vlen) {
        rc = corrupt(m, "%s: %llu bytes, the header says %llu",
                     size < WL_MEMO_HEADER_SIZE + vlen ? "truncated" : "trailing bytes",
                     (unsigned long long)size, (unsigned long long)(WL_MEMO_HEADER_SIZE + vlen));
        goto out;
    }
    buf = malloc(vlen ? vlen : 1);
    if (!buf) {
        rc = fail(m, -ENOMEM, "out of memory for a %llu-byte value", (unsigned long long)vlen);
        goto out;
    }
    rc = read_full(fd, buf, vlen, WL_MEMO_HEADER_SIZE);
    if (rc == -ENODATA) {
        rc = corrupt(m, "truncated while being read");
        goto out;
    }
    if (rc < 0) {
        rc = fail(m, rc, "cannot read '%s/%s': %s", m->dir, name, strerror(-rc));
        goto out;
    }
    if (XXH3_64bits(buf, vlen) != sum) {
        rc = corrupt(m, "value checksum mismatch");
        goto out;
    }
    *value = buf;
    *len = vlen;
    buf = NULL;
    m->stats.hits++;
    rc = WL_MEMO_HIT;
out:
    free(buf);
    close(fd);
    return rc;
}

int wl_memo_put(struct wl_memo *m, const struct wl_memo_key *k, const void *value, size_t len)
{
    if (len > WL_MEMO_MAX_VALUE)
        return fail(m, -EFBIG, "a %zu-byte value is more than the %u-byte limit", len,
                    WL_MEMO_MAX_VALUE);
    if (!value && len)
        return fail(m, -EINVAL, "no value");
    uint8_t h[WL_MEMO_HEADER_SIZE];
    memcpy(h, WL_MEMO_MAGIC, 8);
    put_le32(h + 8, WL_MEMO_FORMAT);
    put_le32(h + 12, 0);
    memcpy(h + 16, k->b, WL_MEMO_KEY_SIZE);
    put_le64(h + 32, len);
    put_le64(h + 40, XXH3_64bits(len ? value : "", len));
    char name[WL_MEMO_KEY_HEX + 8], prefix[sizeof TMP_PREFIX + WL_MEMO_KEY_HEX + 1];
    entry_name(k, name);
    snprintf(prefix, sizeof prefix, TMP_PREFIX "%.*s-", 2 * WL_MEMO_KEY_SIZE, name);
    int rc = replace_file(m, prefix, name, h, sizeof h, value, len);
    if (rc == 0)
        m->stats.stores++;
    return rc;
}

/* ---- the memoised call ----------------------------------------------------------------------- */

int wl_memo_call_u64(struct wl_memo *m, const char *name, uint32_t version, wl_memo_u64_fn fn,
                     uint64_t arg, uint64_t *result, struct wl_memo_outcome *out)
{
    *out = (struct wl_memo_outcome){0};
    uint8_t a[8];
    put_le64(a, arg);
    struct wl_memo_arg part = {a, sizeof a};
    struct wl_memo_key k;
    int rc = wl_memo_key(&k, name, version, &part, 1);
    if (rc < 0)
        return fail(m, rc, "cannot make a key: %s", strerror(-rc));
    void *v;
    size_t vlen;
    rc = wl_memo_get(m, &k, &v, &vlen);
    if (rc < 0)
        return rc;
    if (rc == WL_MEMO_HIT) {
        if (vlen == 8) {
            *result = get_le64(v);
            free(v);
            out->status = WL_MEMO_HIT;
            out->bytes = WL_MEMO_HEADER_SIZE + 8;
            return 0;
        }
        /* A verified entry of the wrong size was written by something else than this call:
         * not trusted either. */
        free(v);
        m->stats.hits--;
        rc = corrupt(m, "a %zu-byte value, expected 8", vlen);
    }
    out->status = (enum wl_memo_status)rc;
    *result = fn(arg);
    put_le64(a, *result);
    out->store_err = wl_memo_put(m, &k, a, sizeof a);
    out->stored = out->store_err == 0;
    out->bytes = out->stored ? WL_MEMO_HEADER_SIZE + 8 : 0;
    return 0;
}

/* ---- the expensive function ------------------------------------------------------------------ */

uint64_t wl_count_primes_below(uint64_t n)
{
    if (n <= 2)
        return 0;
    uint64_t count = 1, factor; /* 2 */
    for (uint64_t k = 3; k < n; k += 2)
        count += wl_is_prime_serial(k, &factor);
    return count;
}
