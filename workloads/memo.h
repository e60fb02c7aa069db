/* SPDX-License-Identifier: MIT */
/* A memo cache on disk (joblib's @memory.cache): a function's results kept in a directory,
 * keyed by a hash of the function's name, version and arguments, valid across processes. */
#ifndef IPCLAB_WL_MEMO_H
#define IPCLAB_WL_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The directory holds only files the cache makes:
 *
 *   CACHEDIR.TAG                  the Cache Directory Tagging Specification's tag (backup tools
 *                                 skip the directory), with ipclab's comment line
 *   <32 hex digits>.memo          one entry: the key in hex
 *   .tmp-<32 hex digits>-XXXXXX   an entry being written (mkstemp's suffix)
 *   .tmp-tag-XXXXXX               the tag being written
 *
 * An entry is a 48-byte header followed by the value (all integers little-endian):
 *
 *   0  magic "IPCLMEMO"      8  format version (u32)   12  reserved, 0 (u32)
 *   16 key (16 bytes)        32 value length (u64)      40  XXH3-64 of the value (u64)
 *
 * A writer fills a temp file in the same directory, fsyncs it, renames it over the entry and
 * fsyncs the directory: rename is atomic, so a reader opens either the old complete file or
 * the new complete file, and when two processes fill the same entry at once the last rename
 * wins with a complete file. No locks: both computed the same value.
 */

#define WL_MEMO_MAGIC "IPCLMEMO"
#define WL_MEMO_FORMAT 1u
#define WL_MEMO_HEADER_SIZE 48
/* The largest value an entry may hold; a header that claims more is corrupt. */
#define WL_MEMO_MAX_VALUE (64u << 20)
/* At most this many argument parts in a key. */
#define WL_MEMO_MAX_ARGS 64
#define WL_MEMO_KEY_SIZE 16
#define WL_MEMO_KEY_HEX (2 * WL_MEMO_KEY_SIZE + 1)
/* Paths: the directory's plus the longest name in it must fit. */
#define WL_MEMO_PATH_MAX 4096

/* What a key hashes: a function (name and version) applied to arguments. */
struct wl_memo_arg {
    const void *data;
    size_t len;
};

/* XXH3-128 in its canonical (big-endian) byte order: the same bytes on every machine. */
struct wl_memo_key {
    uint8_t b[WL_MEMO_KEY_SIZE];
};

/*
 * Counts since wl_memo_open. Every lookup is a hit or a miss; corrupt counts the misses that
 * found an entry which did not verify (so corrupt <= misses). stores counts completed puts.
 */
struct wl_memo_stats {
    uint64_t hits, misses, corrupt, stores;
};

struct wl_memo {
    int dirfd;                  /* the cache directory, open (O_DIRECTORY) */
    char dir[WL_MEMO_PATH_MAX]; /* its path as given (mkstemp needs a path) */
    struct wl_memo_stats stats;
    char errstr[256];      /* why the last call failed */
    char corrupt_why[128]; /* why the last corrupt entry did not verify */
};

/* What a lookup found. */
enum wl_memo_status {
    WL_MEMO_HIT = 0, /* a verified entry: its value is returned */
    WL_MEMO_MISS,    /* no entry */
    WL_MEMO_CORRUPT, /* an entry that did not verify (corrupt_why says how): a miss */
};

/* "hit", "miss", "corrupt". */
const char *wl_memo_status_name(enum wl_memo_status s);

/*
 * The default cache directory: $XDG_CACHE_HOME/ipclab/memo when XDG_CACHE_HOME is an absolute
 * path (the XDG spec ignores relative ones), else $HOME/.cache/ipclab/memo. Returns 0, -ENOENT
 * when neither variable is usable, -ENAMETOOLONG when the path does not fit in buf[len].
 */
int wl_memo_default_dir(char *buf, size_t len);

/*
 * Hash a call into a key: XXH3-128 of the byte string
 *   u32 WL_MEMO_FORMAT, u64 strlen(name), name, u32 version, u64 nargs,
 *   then per argument u64 len, data
 * (integers little-endian). Every length is in the string, so ("ab", "c") and ("a", "bc")
 * differ, and a new version or format gives new keys. nargs <= WL_MEMO_MAX_ARGS. Returns 0,
 * -EINVAL (too many arguments, or NULL data with a length), -ENOMEM.
 */
int wl_memo_key(struct wl_memo_key *k, const char *name, uint32_t version,
                const struct wl_memo_arg *args, size_t nargs);

/* The key as 32 lowercase hex digits and a NUL (the entry's file name without ".memo"). */
void wl_memo_key_hex(const struct wl_memo_key *k, char out[WL_MEMO_KEY_HEX]);

/*
 * Open the cache in dir, creating it (and missing parents, mode 0700) if absent, and tag it.
 * A directory that exists must be empty or hold only the cache's own files (list above): one
 * that holds anything else (a foreign file, a subdirectory, a symlink) is refused with
 * -ENOTEMPTY and errstr naming the entry, and nothing is written into it. Other failures:
 * -errno (-ENOTDIR, -EACCES, -ENAMETOOLONG...) with errstr. On success m is ready and its
 * stats zero; close it with wl_memo_close.
 */
int wl_memo_open(struct wl_memo *m, const char *dir);
void wl_memo_close(struct wl_memo *m);

/*
 * Look k up. On WL_MEMO_HIT, *value is a malloc'd copy of the verified value (the caller
 * frees it; non-NULL even when *len is 0) and *len its length. An entry is trusted only if it
 * is a regular file of exactly header + length bytes with the magic, this format version, a
 * zero reserved word, the key asked for, a length <= WL_MEMO_MAX_VALUE and the value's
 * checksum; anything else is WL_MEMO_CORRUPT with corrupt_why set, left in place for a put to
 * replace. Updates stats. Returns the status, or -errno (read error, out of memory) with
 * errstr, counted as neither.
 */
int wl_memo_get(struct wl_memo *m, const struct wl_memo_key *k, void **value, size_t *len);

/*
 * Store value[len] (len <= WL_MEMO_MAX_VALUE, else -EFBIG) under k, replacing any entry:
 * temp file, fsync, rename, fsync of the directory (see above). On failure the temp file is
 * removed and the old entry, if any, stays. Returns 0 or -errno with errstr. A clear running
 * at the same time may remove the temp file: the put then fails with -ENOENT.
 */
int wl_memo_put(struct wl_memo *m, const struct wl_memo_key *k, const void *value, size_t len);

/*
 * Remove every entry and temp file (and, with untag, the tag too, leaving the directory
 * empty for the caller to remove). Checks first: if the directory holds anything the cache
 * did not make, removes nothing and returns -ENOTEMPTY with errstr naming it. *removed (if
 * not NULL) gets the number of files removed, the tag not counted. Returns 0 or -errno.
 */
int wl_memo_clear(struct wl_memo *m, bool untag, uint64_t *removed);

/* "<dir>/<hex>.memo" for k into buf[len]; 0 or -ENAMETOOLONG. */
int wl_memo_entry_path(const struct wl_memo *m, const struct wl_memo_key *k, char *buf, size_t len);

/* ---- the memoised call (the decorator) ------------------------------------------------------ */

/* A function from a 64-bit argument to a 64-bit result, pure: same argument, same result. */
typedef uint64_t (*wl_memo_u64_fn)(uint64_t arg);

/* How a memoised call was answered. */
struct wl_memo_outcome {
    enum wl_memo_status status; /* what the lookup found: hit = served from disk */
    bool stored;                /* the computed result was written to the cache */
    int store_err;              /* 0, or the -errno of a failed put (the result is still right) */
    uint64_t bytes;             /* the entry's size on disk, read or written */
};

/*
 * The @memory.cache pattern for fn(arg), keyed by (name, version, arg as 8 little-endian
 * bytes): a verified entry holding an 8-byte value is returned without calling fn; otherwise
 * (absent, corrupt, or a value of another length, which counts as corrupt) fn runs and its
 * result is stored. *result is fn(arg) in every case that returns 0; a failed store is not a
 * failure of the call (see store_err). Returns 0, or -errno (lookup error, bad name) with
 * errstr and *result unset.
 */
int wl_memo_call_u64(struct wl_memo *m, const char *name, uint32_t version, wl_memo_u64_fn fn,
                     uint64_t arg, uint64_t *result, struct wl_memo_outcome *out);

/* ---- the expensive function the experiments memoise ------------------------------------------ */

/* The largest n the experiments accept: about a minute of trial division here. */
#define WL_MEMO_MAX_N 100000000ull
#define WL_MEMO_FN_NAME "count_primes_below"
#define WL_MEMO_FN_VERSION 1u

/* The number of primes p < n, each candidate checked by the serial trial division of
 * workloads/prime.h: work grows like n^1.5 / log n, so the cost is visible (10^6: a tenth
 * of a second, 10^7: seconds). */
uint64_t wl_count_primes_below(uint64_t n);

#endif
