/* SPDX-License-Identifier: MIT */
/* `ipclab memo`: an expensive function memoised on disk, so that a second run of the command
 * (another process, another session) gets its result from the cache instead of computing it. */
#include "cli.h"

#include "../ipc/cleanup.h"
#include "../ipc/clock.h"
#include "../workloads/memo.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CMD "memo"
#define DEFAULT_N 10000000ull

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab memo [options]\n"
            "\n"
            "Count the primes below N by serial trial division (%s,\n"
            "version %u) through a memo cache on disk, as joblib's @memory.cache does: the\n"
            "result is keyed by an XXH3-128 hash of the function's name, its version and N,\n"
            "and kept between runs. The first run computes and stores it; the next run, a\n"
            "new process, reads it back from disk. An entry that does not verify (magic,\n"
            "format, key, length, XXH3-64 checksum of the value) is reported, recomputed\n"
            "and replaced.\n"
            "\n"
            "  -d, --dir D           the cache directory (default:\n"
            "                        $XDG_CACHE_HOME/ipclab/memo, else ~/.cache/ipclab/memo),\n"
            "                        created if absent; one that holds files the cache did\n"
            "                        not make is refused\n"
            "  -n, --n N             count the primes below N, 0..%llu\n"
            "                        (default %llu: seconds; 10^8: about a minute)\n"
            "      --clear           remove every file the cache made (only those: the\n"
            "                        directory is refused if it holds anything else), then\n"
            "                        stop; with --n, then make the call (it computes afresh)\n"
            "      --format F        table (default) | json (one JSON object per line)\n"
            "  -h, --help            this text\n"
            "\n"
            "json, the call: experiment \"memo\", action \"call\", function, version, n,\n"
            "result, source (\"disk\" or \"computed\"), served_from_disk, lookup (\"hit\",\n"
            "\"miss\" or \"corrupt\"), corrupt_reason (null unless corrupt), stored (the\n"
            "computed result was written), wall_ns (lookup + compute + store), lookup_ns,\n"
            "compute_ns and store_ns (null when served from disk), bytes (the entry's size,\n"
            "read or written), key (32 hex digits), path, dir.\n"
            "json, --clear: experiment \"memo\", action \"clear\", dir, removed (files).\n",
            WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, WL_MEMO_MAX_N, DEFAULT_N);
}

struct call {
    uint64_t n, result;
    enum wl_memo_status lookup;
    bool stored;
    uint64_t lookup_ns, compute_ns, store_ns, bytes;
    char key[WL_MEMO_KEY_HEX];
    char path[WL_MEMO_PATH_MAX];
};

/* The cache's error text names the directory as given: keep the message on one line. */
static const char *one_line(char *s)
{
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return s;
}

static void le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The decorated call, step by step so that each step is timed (workloads/ does not time). */
static int run_call(struct wl_memo *m, struct call *c)
{
    uint8_t arg[8];
    le64(arg, c->n);
    struct wl_memo_arg part = {arg, sizeof arg};
    struct wl_memo_key k;
    int rc = wl_memo_key(&k, WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, &part, 1);
    if (rc < 0)
        return cli_error(CLI_RUNTIME, CMD, "cannot make a key: %s", strerror(-rc));
    wl_memo_key_hex(&k, c->key);
    if (wl_memo_entry_path(m, &k, c->path, sizeof c->path) < 0)
        return cli_error(CLI_RUNTIME, CMD, "cache path too long");

    void *v = NULL;
    size_t vlen = 0;
    uint64_t t0 = ipc_now_ns();
    rc = wl_memo_get(m, &k, &v, &vlen);
    uint64_t t1 = ipc_now_ns();
    c->lookup_ns = t1 - t0;
    if (rc < 0)
        return cli_error(CLI_RUNTIME, CMD, "%s", one_line(m->errstr));
    if (rc == WL_MEMO_HIT && vlen == 8) {
        const uint8_t *p = v;
        c->result = 0;
        for (int i = 7; i >= 0; i--)
            c->result = c->result << 8 | p[i];
        free(v);
        c->lookup = WL_MEMO_HIT;
        c->bytes = WL_MEMO_HEADER_SIZE + vlen;
        return CLI_OK;
    }
    if (rc == WL_MEMO_HIT) {
        /* Verified, but not what this function stores: not trusted either. */
        snprintf(m->corrupt_why, sizeof m->corrupt_why, "a %zu-byte value, expected 8", vlen);
        free(v);
        rc = WL_MEMO_CORRUPT;
    }
    c->lookup = (enum wl_memo_status)rc;
    c->result = wl_count_primes_below(c->n);
    uint64_t t2 = ipc_now_ns();
    c->compute_ns = t2 - t1;
    uint8_t val[8];
    le64(val, c->result);
    /* Ctrl-C waits for the rename: no temp file is left in the user's cache directory. */
    sigset_t old;
    ipc_cleanup_block(&old);
    rc = wl_memo_put(m, &k, val, sizeof val);
    ipc_cleanup_unblock(&old);
    c->store_ns = ipc_now_ns() - t2;
    c->stored = rc == 0;
    c->bytes = c->stored ? WL_MEMO_HEADER_SIZE + sizeof val : 0;
    return CLI_OK;
}

static void print_ns_or_null(bool present, uint64_t ns)
{
    if (present)
        printf("%llu", (unsigned long long)ns);
    else
        printf("null");
}

static void print_call_json(const struct wl_memo *m, const struct call *c)
{
    bool disk = c->lookup == WL_MEMO_HIT;
    printf("{\"experiment\":\"memo\",\"action\":\"call\",\"function\":\"%s\",\"version\":%u"
           ",\"n\":%llu,\"result\":%llu,\"source\":\"%s\",\"served_from_disk\":%s"
           ",\"lookup\":\"%s\",\"corrupt_reason\":",
           WL_MEMO_FN_NAME, WL_MEMO_FN_VERSION, (unsigned long long)c->n,
           (unsigned long long)c->result, disk ? "disk" : "computed", disk ? "true" : "false",
           wl_memo_status_name(c->lookup));
    if (c->lookup == WL_MEMO_CORRUPT)
        cli_json_string(stdout, m->corrupt_why);
    else
        printf("null");
    printf(",\"stored\":%s,\"wall_ns\":%llu,\"lookup_ns\":%llu,\"compute_ns\":",
           c->stored ? "true" : "false",
           (unsigned long long)(c->lookup_ns + c->compute_ns + c->store_ns),
           (unsigned long long)c->lookup_ns);
    print_ns_or_null(!disk, c->compute_ns);
    printf(",\"store_ns\":");
    print_ns_or_null(!disk, c->store_ns);
    printf(",\"bytes\":%llu,\"key\":\"%s\",\"path\":", (unsigned long long)c->bytes, c->key);
    cli_json_string(stdout, c->path);
    printf(",\"dir\":");
    cli_json_string(stdout, m->dir);
    printf("}\n");
}

static void print_call_table(const struct wl_memo *m, const struct call *c)
{
    printf("# cache %s, entry %s.memo\n", m->dir, c->key);
    if (c->lookup == WL_MEMO_CORRUPT)
        printf("# the entry on disk did not verify (%s): not trusted, recomputed%s\n",
               m->corrupt_why, c->stored ? " and replaced" : "");
    if (c->lookup == WL_MEMO_HIT)
        printf("%s(%llu) = %llu, from disk in %.3f ms (%llu bytes read)\n", WL_MEMO_FN_NAME,
               (unsigned long long)c->n, (unsigned long long)c->result, (double)c->lookup_ns / 1e6,
               (unsigned long long)c->bytes);
    else
        printf("%s(%llu) = %llu, computed in %.3f ms (lookup %.3f ms, compute %.3f ms, "
               "store %.3f ms%s)\n",
               WL_MEMO_FN_NAME, (unsigned long long)c->n, (unsigned long long)c->result,
               (double)(c->lookup_ns + c->compute_ns + c->store_ns) / 1e6,
               (double)c->lookup_ns / 1e6, (double)c->compute_ns / 1e6, (double)c->store_ns / 1e6,
               c->stored ? "" : ", not stored");
}

int cmd_memo(int argc, char **argv)
{
    enum { OPT_CLEAR = 256, OPT_FORMAT };
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},   {"n", required_argument, NULL, 'n'},
        {"clear", no_argument, NULL, OPT_CLEAR}, {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},        {0, 0, 0, 0},
    };
    const char *dir = NULL;
    bool clear = false, json = false, have_n = false;
    struct call c = {.n = DEFAULT_N};

    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":d:n:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--dir: empty path");
            dir = optarg;
            break;
        case 'n':
            CLI_NUM_OPT(CMD, c.n, "n", 0, WL_MEMO_MAX_N);
            have_n = true;
            break;
        case OPT_CLEAR:
            clear = true;
            break;
        case OPT_FORMAT:
            if (cli_parse_format(CMD, optarg, &json) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(CMD, ch, argv);
        }
    }
    if (optind < argc)
        return cli_unexpected_arg(CMD, argv[optind]);

    char defdir[WL_MEMO_PATH_MAX];
    if (!dir) {
        int rc = wl_memo_default_dir(defdir, sizeof defdir);
        if (rc == -ENOENT)
            return cli_error(CLI_USAGE, CMD,
                             "no cache directory: HOME and XDG_CACHE_HOME are unset (give --dir)");
        if (rc < 0)
            return cli_error(CLI_USAGE, CMD, "the default cache directory's path is too long");
        dir = defdir;
    }
    struct wl_memo m;
    int rc = wl_memo_open(&m, dir);
    if (rc < 0) {
        /* A directory of someone else's files is a wrong --dir, not a failure of the run. */
        return cli_error(rc == -ENOTEMPTY || rc == -ENOTDIR || rc == -ENAMETOOLONG ? CLI_USAGE
                                                                                   : CLI_RUNTIME,
                         CMD, "%s", one_line(m.errstr));
    }
    if (clear) {
        uint64_t removed;
        sigset_t old;
        ipc_cleanup_block(&old);
        rc = wl_memo_clear(&m, false, &removed);
        ipc_cleanup_unblock(&old);
        if (rc < 0) {
            rc = cli_error(rc == -ENOTEMPTY ? CLI_USAGE : CLI_RUNTIME, CMD, "%s",
                           one_line(m.errstr));
            wl_memo_close(&m);
            return rc;
        }
        if (json) {
            printf("{\"experiment\":\"memo\",\"action\":\"clear\",\"dir\":");
            cli_json_string(stdout, m.dir);
            printf(",\"removed\":%llu}\n", (unsigned long long)removed);
        } else {
            printf("cleared %s: %llu file%s removed\n", m.dir, (unsigned long long)removed,
                   removed == 1 ? "" : "s");
        }
        if (!have_n || cli_flush() < 0) {
            wl_memo_close(&m);
            return CLI_OK;
        }
    }
    rc = run_call(&m, &c);
    if (rc == CLI_OK) {
        if (json)
            print_call_json(&m, &c);
        else
            print_call_table(&m, &c);
        if (c.lookup != WL_MEMO_HIT && !c.stored) {
            cli_flush();
            rc = cli_error(CLI_RUNTIME, CMD, "the result was computed but not stored: %s",
                           one_line(m.errstr));
        }
    }
    wl_memo_close(&m);
    return rc;
}
