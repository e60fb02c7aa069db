/* SPDX-License-Identifier: MIT */
/* The memo_entry harness's seed corpus, written by the real writer (wl_memo_put): entries of
 * the harness's four keys with values of several lengths, each prefixed with the harness's
 * control byte (the key; bit 5 for wl_memo_call_u64 on the 8-byte ones).
 *
 *   memo_seeds write DIR    (re)write DIR/writer-*
 *   memo_seeds check DIR    exit 1 unless DIR/writer-* are exactly what write would write
 *                           (ctest: the corpus still is what the writer produces) */
#include "fuzz.h"

#include "workloads/memo.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define FN_NAME "memo_entry_fuzz" /* as in memo_entry_fuzz.c */

static uint64_t fn(uint64_t arg)
{
    return arg * 0x9e3779b97f4a7c15ull + 1; /* as in memo_entry_fuzz.c */
}

static uint8_t *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    uint8_t *b = NULL;
    if (fstat(fd, &sb) == 0 && (b = malloc((size_t)sb.st_size + 1)) &&
        read(fd, b, (size_t)sb.st_size) != sb.st_size) {
        free(b);
        b = NULL;
    }
    close(fd);
    *len = b ? (size_t)sb.st_size : 0;
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "check") != 0)) {
        fprintf(stderr, "usage: memo_seeds write|check DIR\n");
        return 2;
    }
    bool write_mode = argv[1][0] == 'w';
    char tmp[256], cdir[300];
    fuzz_mkdtemp(tmp, sizeof tmp, "memo-seeds");
    snprintf(cdir, sizeof cdir, "%s/c", tmp);
    struct wl_memo m;
    if (wl_memo_open(&m, cdir) < 0) {
        fprintf(stderr, "memo_seeds: %s\n", m.errstr);
        fuzz_rm_tree(tmp);
        return 1;
    }
    static const size_t lens[] = {0, 1, 8, 31, 200};
    int bad = 0;
    for (unsigned k = 0; k < 4; k++) {
        uint8_t a[8];
        for (int b = 0; b < 8; b++)
            a[b] = (uint8_t)((uint64_t)k >> (8 * b));
        struct wl_memo_arg part = {a, sizeof a};
        struct wl_memo_key key;
        wl_memo_key(&key, FN_NAME, 1, &part, 1);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            uint8_t value[200];
            for (size_t i = 0; i < n; i++)
                value[i] = (uint8_t)(i * 37 + k);
            unsigned ctl = k;
            if (n == 8) { /* the value wl_memo_call_u64 stores for argument k */
                uint64_t r = fn(k);
                for (int b = 0; b < 8; b++)
                    value[b] = (uint8_t)(r >> (8 * b));
                ctl |= 32;
            }
            char epath[WL_MEMO_PATH_MAX + 64];
            size_t elen;
            uint8_t *e;
            if (wl_memo_put(&m, &key, value, n) < 0 ||
                wl_memo_entry_path(&m, &key, epath, sizeof epath) < 0 ||
                !(e = slurp(epath, &elen))) {
                fprintf(stderr, "memo_seeds: writing an entry failed: %s\n", m.errstr);
                bad = 1;
                break;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/writer-k%u-len%zu", argv[2], k, n);
            if (write_mode) {
                FILE *f = fopen(path, "wb");
                if (!f || fputc((int)ctl, f) == EOF || fwrite(e, 1, elen, f) != elen ||
                    fclose(f) != 0) {
                    fprintf(stderr, "memo_seeds: cannot write %s\n", path);
                    bad = 1;
                }
            } else {
                size_t have_len;
                uint8_t *have = slurp(path, &have_len);
                if (!have || have_len != elen + 1 || have[0] != ctl ||
                    memcmp(have + 1, e, elen) != 0) {
                    fprintf(stderr,
                            "memo_seeds: %s is not what the writer writes now (run "
                            "'memo_seeds write %s' and commit the result)\n",
                            path, argv[2]);
                    bad = 1;
                }
                free(have);
            }
            free(e);
        }
    }
    wl_memo_clear(&m, true, NULL);
    wl_memo_close(&m);
    fuzz_rm_tree(tmp);
    if (!bad)
        printf("memo_seeds: %s %s\n", argv[2], write_mode ? "written" : "is the writer's output");
    return bad;
}
