/* SPDX-License-Identifier: MIT */
/* Fuzz the memo cache's reading of its directory (workloads/memo.c, wl_memo_open and
 * wl_memo_clear): anybody may have put anything into it, and the cache must tell its own files
 * from foreign ones by name, type and (for CACHEDIR.TAG) content, and touch nothing foreign.
 *
 * Input: up to 8 directory entries separated by NUL bytes, each a type byte (modulo 4: regular
 * file, directory, symbolic link, FIFO), a name ('/' read as '_') ended by byte 0x01, and for
 * a file its content.
 *
 * Properties, against an independent reading of the format in workloads/memo.h: wl_memo_open
 * succeeds exactly when every entry is a regular file named as the cache names its files (and
 * a CACHEDIR.TAG holds ipclab's tag text exactly); it then adds only the tag, and
 * wl_memo_clear(untag) leaves the directory empty having counted every entry and temp file.
 * Otherwise it fails with -ENOTEMPTY and a one-line reason, and the directory is as it was. */
#include "fuzz.h"

#include "workloads/memo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define MAX_ENTRIES 8
#define MAX_NAME 200

/* The tag the cache writes (workloads/memo.c), restated: the harness's own copy. */
static const char tag[] = "Signature: 8a477f597d28d172789f06886806bc55\n"
                          "# This file is a cache directory tag created by ipclab memo.\n"
                          "# For information about cache directory tags, see "
                          "https://bford.info/cachedir/\n";

static char base[256];

static void cleanup(void)
{
    fuzz_rm_tree(base);
}

static bool span(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return false;
    return true;
}

#define HEX "0123456789abcdef"
#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

enum kind { FOREIGN, TAG, ENTRY, TEMP };

/* What the format in memo.h says name is. */
static enum kind kind_of(const char *name)
{
    size_t n = strlen(name);
    if (strcmp(name, "CACHEDIR.TAG") == 0)
        return TAG;
    if (n == 37 && span(name, 32, HEX) && strcmp(name + 32, ".memo") == 0)
        return ENTRY;
    if (n == 5 + 32 + 1 + 6 && strncmp(name, ".tmp-", 5) == 0 && span(name + 5, 32, HEX) &&
        name[37] == '-' && span(name + 38, 6, ALNUM))
        return TEMP;
    if (n == 9 + 6 && strncmp(name, ".tmp-tag-", 9) == 0 && span(name + 9, 6, ALNUM))
        return TEMP;
    return FOREIGN;
}

static bool tag_ok(int dfd)
{
    int fd = openat(dfd, "CACHEDIR.TAG", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    char buf[sizeof tag + 1];
    ssize_t r = read(fd, buf, sizeof buf);
    close(fd);
    return r == (ssize_t)sizeof tag - 1 && memcmp(buf, tag, sizeof tag - 1) == 0;
}

struct listing {
    char *names[MAX_ENTRIES + 2];
    int n;
    bool acceptable; /* the cache must accept this directory */
    int files;       /* entries and temp files: what clear removes and counts */
    bool has_tag;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir, struct listing *l)
{
    memset(l, 0, sizeof *l);
    l->acceptable = true;
    DIR *d = opendir(dir);
    FUZZ_CHECK(d != NULL, "opendir %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        FUZZ_CHECK(l->n < MAX_ENTRIES + 2, "more entries than were made");
        l->names[l->n++] = strdup(e->d_name);
        struct stat sb;
        FUZZ_CHECK(fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0, "stat");
        enum kind k = kind_of(e->d_name);
        if (!S_ISREG(sb.st_mode) || k == FOREIGN || (k == TAG && !tag_ok(dirfd(d))))
            l->acceptable = false;
        l->files += k == ENTRY || k == TEMP;
        l->has_tag |= k == TAG;
    }
    closedir(d);
    qsort(l->names, (size_t)l->n, sizeof l->names[0], by_name);
}

static void free_listing(struct listing *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->names[i]);
}

static void make_entry(int dfd, unsigned type, const char *name, const uint8_t *content,
                       size_t clen)
{
    int fd;
    switch (type % 4) {
    case 0:
        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            FUZZ_CHECK(clen == 0 || write(fd, content, clen) == (ssize_t)clen, "write");
            close(fd);
        }
        break;
    case 1:
        mkdirat(dfd, name, 0700);
        break;
    case 2:
        symlinkat("CACHEDIR.TAG", dfd, name);
        break;
    default:
        mkfifoat(dfd, name, 0600);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0]) {
        fuzz_mkdtemp(base, sizeof base, "memo-dir");
        atexit(cleanup);
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/d", base);
    FUZZ_CHECK(mkdir(dir, 0700) == 0, "mkdir %s: %s", dir, strerror(errno));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    FUZZ_CHECK(dfd >= 0, "open %s", dir);

    size_t i = 0;
    for (int made = 0; i < size && made < MAX_ENTRIES; made++) {
        const uint8_t *rec = data + i, *end = memchr(rec, 0, size - i);
        size_t rlen = end ? (size_t)(end - rec) : size - i;
        i += rlen + 1;
        if (rlen < 2)
            continue;
        const uint8_t *sep = memchr(rec + 1, 1, rlen - 1);
        size_t nlen = sep ? (size_t)(sep - rec - 1) : rlen - 1;
        char name[MAX_NAME + 1];
        if (nlen > MAX_NAME)
            nlen = MAX_NAME;
        for (size_t j = 0; j < nlen; j++)
            name[j] = rec[1 + j] == '/' ? '_' : (char)rec[1 + j];
        name[nlen] = '\0';
        if (!nlen || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        const uint8_t *content = sep ? sep + 1 : rec + rlen;
        make_entry(dfd, rec[0], name, content, (size_t)(rec + rlen - content));
    }
    close(dfd);

    struct listing before, after;
    list(dir, &before);
    struct wl_memo m;
    int rc = wl_memo_open(&m, dir);
    list(dir, &after);
    if (before.acceptable) {
        FUZZ_CHECK(rc == 0, "refused a cache directory: %d %s", rc, m.errstr);
        /* Only the tag was added, and it is the real one. */
        FUZZ_CHECK(after.acceptable && after.has_tag &&
                       after.n == before.n + (before.has_tag ? 0 : 1),
                   "open left %d entries (had %d)", after.n, before.n);
        uint64_t removed = 99;
        rc = wl_memo_clear(&m, true, &removed);
        FUZZ_CHECK(rc == 0, "clear: %d %s", rc, m.errstr);
        FUZZ_CHECK(removed == (uint64_t)before.files, "clear removed %llu of %d files",
                   (unsigned long long)removed, before.files);
        wl_memo_close(&m);
        FUZZ_CHECK(rmdir(dir) == 0, "clear left something: %s", strerror(errno));
    } else {
        FUZZ_CHECK(rc == -ENOTEMPTY, "accepted or failed otherwise: %d %s", rc, m.errstr);
        FUZZ_CHECK(fuzz_one_line(m.errstr, strlen(m.errstr), false), "errstr '%s'", m.errstr);
        FUZZ_CHECK(m.dirfd < 0, "a refused cache left its directory open");
        FUZZ_CHECK(after.n == before.n, "%d entries before, %d after", before.n, after.n);
        for (int j = 0; j < before.n; j++)
            FUZZ_CHECK(strcmp(before.names[j], after.names[j]) == 0, "'%s' became '%s'",
                       before.names[j], after.names[j]);
        fuzz_rm_tree(dir);
    }
    free_listing(&before);
    free_listing(&after);
    return 0;
}
