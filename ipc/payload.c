/* SPDX-License-Identifier: MIT */
/* The payload hand-off: the object in a shared mapping, and the four ways of giving it to
 * workers (serial, pipe, file, shared), each timed from the start of the hand-off to the
 * merged result. */
#include "payload.h"

#include "cleanup.h"
#include "clock.h"
#include "pool.h"
#include "shared.h"
#include "spawn.h"
#include "tmpdir.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Records encoded or decoded per chunk by the file way: 1 MiB, so the parent's and each
 * worker's buffer stay small whatever the object's size. */
#define CHUNK_RECORDS 16384u
#define CHUNK_BYTES ((uint64_t)CHUNK_RECORDS * WL_RECORD_SIZE)

/* How a worker says what went wrong (its exit status); the parent turns it into words. */
enum {
    EXIT_READ = 3,   /* read failed or the stream ended early */
    EXIT_FORMAT = 4, /* not a serialised object, or not the one expected */
    EXIT_NOMEM = 5,
    EXIT_OPEN = 6, /* could not open the file */
};

static const char *const way_names[IPC_PAYLOAD_NWAYS] = {"serial", "pipe", "file", "shared"};

const char *ipc_payload_way_name(enum ipc_payload_way w)
{
    return (unsigned)w < IPC_PAYLOAD_NWAYS ? way_names[w] : "?";
}

int ipc_payload_way_parse(const char *s, enum ipc_payload_way *w)
{
    for (int i = 0; i < IPC_PAYLOAD_NWAYS; i++) {
        if (strcmp(s, way_names[i]) == 0) {
            *w = (enum ipc_payload_way)i;
            return 0;
        }
    }
    return -1;
}

/* ---- memory ------------------------------------------------------------------------------- */

uint64_t ipc_payload_mem_needed(enum ipc_payload_way way, uint64_t bytes, unsigned workers)
{
    uint64_t n = bytes / WL_RECORD_SIZE, wire = wl_payload_wire_size(n);
    switch (way) {
    case IPC_PAYLOAD_PIPE:
        return wire + (uint64_t)workers * (wire + n * WL_RECORD_SIZE);
    case IPC_PAYLOAD_FILE:
        return wire + (1 + (uint64_t)workers) * 2 * CHUNK_BYTES;
    default:
        return 0;
    }
}

int ipc_payload_mem_check(uint64_t need, const char *what, char *err, size_t errlen)
{
    long avail = ipc_mem_available_mib();
    if (avail < 0) {
        snprintf(err, errlen, "cannot read MemAvailable from /proc/meminfo: %s",
                 strerror((int)-avail));
        return (int)avail;
    }
    uint64_t need_mib = (need + (1u << 20) - 1) >> 20;
    if (need_mib + IPC_PAYLOAD_MEM_MARGIN_MIB > (uint64_t)avail) {
        snprintf(err, errlen, "%s needs %llu MiB, MemAvailable is %ld MiB (keeping %d MiB free)",
                 what, (unsigned long long)need_mib, avail, IPC_PAYLOAD_MEM_MARGIN_MIB);
        return -ENOMEM;
    }
    return 0;
}

/* ---- the object ----------------------------------------------------------------------------- */

int ipc_payload_create(struct ipc_payload *p, uint64_t bytes, uint64_t seed, char *err,
                       size_t errlen)
{
    *p = (struct ipc_payload){0};
    if (bytes < IPC_PAYLOAD_MIN_BYTES || bytes > IPC_PAYLOAD_MAX_BYTES) {
        snprintf(err, errlen, "object size %llu bytes is not from %d to %llu",
                 (unsigned long long)bytes, IPC_PAYLOAD_MIN_BYTES, IPC_PAYLOAD_MAX_BYTES);
        return -EINVAL;
    }
    uint64_t n = bytes / WL_RECORD_SIZE;
    int rc = ipc_payload_mem_check(n * WL_RECORD_SIZE, "the object", err, errlen);
    if (rc < 0)
        return rc;
    struct wl_record *r = ipc_shared_alloc((size_t)(n * WL_RECORD_SIZE));
    if (!r) {
        rc = -errno;
        snprintf(err, errlen, "cannot map %llu bytes for the object: %s",
                 (unsigned long long)(n * WL_RECORD_SIZE), strerror(errno));
        return rc;
    }
    wl_payload_fill(r, (size_t)n, 0, seed);
    *p = (struct ipc_payload){
        .records = r, .nrecords = n, .bytes = n * WL_RECORD_SIZE, .seed = seed};
    return 0;
}

void ipc_payload_destroy(struct ipc_payload *p)
{
    if (p->records)
        ipc_shared_free(p->records, (size_t)p->bytes);
    *p = (struct ipc_payload){0};
}

/* ---- plumbing ------------------------------------------------------------------------------- */

/* Each worker's summary, alone on its cache lines. */
struct slot {
    alignas(IPC_CACHELINE) struct wl_payload_summary summary;
    uint64_t done;
};

struct run {
    const struct ipc_payload *p;
    const struct ipc_payload_opts *o;
    unsigned workers, rounds;
    struct slot *slots;
    int (*pipes)[2];  /* pipe: worker i reads pipes[i][0], the parent writes pipes[i][1] */
    const char *path; /* file: the serialised object */
};

static int read_full(int fd, void *buf, size_t len)
{
    unsigned char *b = buf;
    while (len) {
        ssize_t n = read(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    unsigned char *b = buf;
    while (len) {
        ssize_t n = pread(fd, b, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* 0 or -errno (-EPIPE when the reader is gone: SIGPIPE is blocked around the writes). */
static int write_full(int fd, const void *buf, size_t len)
{
    const unsigned char *b = buf;
    while (len) {
        ssize_t n = write(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- the workers ---------------------------------------------------------------------------- */

static int worker_shared(unsigned idx, void *arg)
{
    struct run *run = arg;
    uint64_t first, count;
    wl_payload_share(run->p->nrecords, run->workers, idx, &first, &count);
    struct slot *s = &run->slots[idx];
    wl_payload_summary_init(&s->summary);
    wl_payload_summarize(run->p->records + first, (size_t)count, run->rounds, &s->summary);
    s->done = 1;
    return 0;
}

/* What unpickling an argument does: read the whole stream, decode the whole object, and only
 * then look at the part this worker needs. */
static int worker_pipe(unsigned idx, void *arg)
{
    struct run *run = arg;
    int fd = run->pipes[idx][0];
    /* Only this worker's read end stays open here: a write end left open in a worker would
     * keep another worker's pipe alive after the parent is gone. */
    for (unsigned i = 0; i < run->workers; i++) {
        close(run->pipes[i][1]);
        if (i != idx)
            close(run->pipes[i][0]);
    }
    unsigned char hdr[WL_PAYLOAD_HEADER];
    uint64_t n;
    if (read_full(fd, hdr, sizeof hdr) < 0)
        return EXIT_READ;
    if (wl_payload_decode_header(hdr, &n) < 0 || n != run->p->nrecords)
        return EXIT_FORMAT;
    size_t wire = (size_t)wl_payload_wire_size(n);
    unsigned char *buf = malloc(wire);
    struct wl_record *obj = malloc((size_t)n * WL_RECORD_SIZE);
    if (!buf || !obj)
        return EXIT_NOMEM; /* _exit follows: the process's memory goes with it */
    memcpy(buf, hdr, sizeof hdr);
    if (read_full(fd, buf + sizeof hdr, wire - sizeof hdr) < 0)
        return EXIT_READ;
    if (wl_payload_deserialize(buf, wire, obj, (size_t)n) != (int64_t)n)
        return EXIT_FORMAT;
    uint64_t first, count;
    wl_payload_share(n, run->workers, idx, &first, &count);
    struct slot *s = &run->slots[idx];
    wl_payload_summary_init(&s->summary);
    wl_payload_summarize(obj + first, (size_t)count, run->rounds, &s->summary);
    s->done = 1;
    free(obj);
    free(buf);
    return 0;
}

/* What loading from a file allows: open it, seek to this worker's share, decode only that. */
static int worker_file(unsigned idx, void *arg)
{
    struct run *run = arg;
    int fd = open(run->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return EXIT_OPEN;
    unsigned char hdr[WL_PAYLOAD_HEADER];
    uint64_t n;
    if (pread_full(fd, hdr, sizeof hdr, 0) < 0)
        return EXIT_READ;
    if (wl_payload_decode_header(hdr, &n) < 0 || n != run->p->nrecords)
        return EXIT_FORMAT;
    uint64_t first, count;
    wl_payload_share(n, run->workers, idx, &first, &count);
    unsigned char *buf = malloc(CHUNK_BYTES);
    struct wl_record *recs = malloc(CHUNK_BYTES);
    if (!buf || !recs)
        return EXIT_NOMEM;
    struct slot *s = &run->slots[idx];
    wl_payload_summary_init(&s->summary);
    for (uint64_t done = 0; done < count;) {
        size_t k = count - done < CHUNK_RECORDS ? (size_t)(count - done) : CHUNK_RECORDS;
        if (pread_full(fd, buf, k * WL_RECORD_SIZE,
                       WL_PAYLOAD_HEADER + (first + done) * WL_RECORD_SIZE) < 0)
            return EXIT_READ;
        wl_payload_decode(buf, k, recs);
        wl_payload_summarize(recs, k, run->rounds, &s->summary);
        done += k;
    }
    s->done = 1;
    free(recs);
    free(buf);
    close(fd);
    return 0;
}

/* ---- the parent's side ---------------------------------------------------------------------- */

static int start(struct ipc_pool *pool, struct run *run, ipc_worker_fn fn, char *err, size_t errlen)
{
    const struct ipc_payload_opts *o = run->o;
    int rc = ipc_pool_start(pool, run->workers, fn, run, o->cpus, o->cpus ? o->ncpus : 0);
    if (rc < 0)
        snprintf(err, errlen, "cannot start %u worker processes: %s", run->workers, strerror(-rc));
    return rc;
}

/* Wait for every worker; on failure say which one and how, in the worker's own terms. */
static int finish(struct ipc_pool *pool, struct run *run, char *err, size_t errlen)
{
    unsigned failed = 0;
    int rc = ipc_pool_wait(pool, -1, &failed);
    if (rc == 1) {
        char how[96];
        ipc_pool_describe(pool, failed, how, sizeof how);
        int st = pool->procs[failed].status;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
        snprintf(err, errlen, "%s worker %u of %u failed: %s%s", way_names[run->o->way], failed + 1,
                 run->workers, how,
                 code == EXIT_READ     ? " (its read failed or the data ended early)"
                 : code == EXIT_FORMAT ? " (the data was not the serialised object)"
                 : code == EXIT_NOMEM  ? " (out of memory)"
                 : code == EXIT_OPEN   ? " (could not open the file)"
                                       : "");
        rc = -ECHILD;
    } else if (rc < 0) {
        snprintf(err, errlen, "waiting for the workers: %s", strerror(-rc));
    }
    ipc_pool_destroy(pool);
    return rc;
}

static int merge(struct run *run, struct wl_payload_summary *total, char *err, size_t errlen)
{
    wl_payload_summary_init(total);
    for (unsigned i = 0; i < run->workers; i++) {
        if (!run->slots[i].done) {
            snprintf(err, errlen, "worker %u of %u exited without a result", i + 1, run->workers);
            return -EPROTO;
        }
        wl_payload_merge(total, &run->slots[i].summary);
    }
    return 0;
}

static int run_shared(struct run *run, char *err, size_t errlen)
{
    struct ipc_pool pool;
    int rc = start(&pool, run, worker_shared, err, errlen);
    return rc < 0 ? rc : finish(&pool, run, err, errlen);
}

/*
 * Block SIGPIPE while writing to the workers, so a worker that died makes write() fail with
 * EPIPE instead of killing the parent (whatever the caller's disposition of SIGPIPE), and
 * afterwards discard a SIGPIPE raised meanwhile unless one was pending before.
 */
struct sigpipe_guard {
    sigset_t old;
    bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static int run_pipe(struct run *run, uint64_t *moved, char *err, size_t errlen)
{
    const struct ipc_payload *p = run->p;
    size_t wire = (size_t)wl_payload_wire_size(p->nrecords);
    int rc = 0;
    unsigned made = 0;
    unsigned char *buf = NULL;
    struct ipc_pool pool;
    struct sigpipe_guard g;
    run->pipes = malloc(run->workers * sizeof *run->pipes);
    if (!run->pipes) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (; made < run->workers; made++) {
        if (pipe2(run->pipes[made], O_CLOEXEC) < 0) {
            rc = -errno;
            snprintf(err, errlen, "cannot create pipe %u of %u: %s", made + 1, run->workers,
                     strerror(errno));
            goto out;
        }
    }
    /* Serialised once, as pickle.dumps would be, before any worker exists. */
    buf = malloc(wire);
    if (!buf) {
        rc = -ENOMEM;
        snprintf(err, errlen, "no memory for the %zu-byte serialised object", wire);
        goto out;
    }
    wl_payload_serialize(p->records, (size_t)p->nrecords, buf);
    if ((rc = start(&pool, run, worker_pipe, err, errlen)) < 0)
        goto out;
    for (unsigned i = 0; i < run->workers; i++) {
        close(run->pipes[i][0]);
        run->pipes[i][0] = -1;
    }
    /* One worker after another, as one feeder writes the tasks: worker i + 1 waits while
     * worker i's copy goes through. */
    sigpipe_block(&g);
    for (unsigned i = 0; i < run->workers && rc == 0; i++) {
        int w = write_full(run->pipes[i][1], buf, wire);
        if (w < 0 && w != -EPIPE) {
            rc = w;
            snprintf(err, errlen, "writing to worker %u of %u: %s", i + 1, run->workers,
                     strerror(-w));
        }
        /* A worker that is gone (EPIPE) is reported by finish() with how it ended. */
        if (w == 0)
            *moved += wire;
        close(run->pipes[i][1]);
        run->pipes[i][1] = -1;
    }
    sigpipe_restore(&g);
    if (rc < 0) {
        ipc_pool_destroy(&pool); /* kills and reaps them all */
        goto out;
    }
    rc = finish(&pool, run, err, errlen);
out:
    for (unsigned i = 0; i < made; i++) {
        if (run->pipes[i][0] >= 0)
            close(run->pipes[i][0]);
        if (run->pipes[i][1] >= 0)
            close(run->pipes[i][1]);
    }
    free(run->pipes);
    run->pipes = NULL;
    free(buf);
    return rc;
}

/* Serialise the object into fd in chunks (no second copy of the whole object in memory). */
static int write_object(int fd, const struct ipc_payload *p, uint64_t *moved)
{
    unsigned char hdr[WL_PAYLOAD_HEADER];
    wl_payload_encode_header(hdr, p->nrecords);
    int rc = write_full(fd, hdr, sizeof hdr);
    if (rc < 0)
        return rc;
    *moved += sizeof hdr;
    unsigned char *buf = malloc(CHUNK_BYTES);
    if (!buf)
        return -ENOMEM;
    for (uint64_t done = 0; done < p->nrecords && rc == 0;) {
        size_t k =
            p->nrecords - done < CHUNK_RECORDS ? (size_t)(p->nrecords - done) : CHUNK_RECORDS;
        wl_payload_encode(p->records + done, k, buf);
        rc = write_full(fd, buf, k * WL_RECORD_SIZE);
        if (rc == 0)
            *moved += k * WL_RECORD_SIZE;
        done += k;
    }
    free(buf);
    return rc;
}

/* The file way up to the merged result; the caller removes path and dir. */
static int run_file(struct run *run, const char *dir, char *path, size_t pathlen, uint64_t *moved,
                    char *err, size_t errlen)
{
    int fd = ipc_tmpfile_create(dir, "payload.bin", path, pathlen);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(-fd));
        path[0] = '\0';
        return fd;
    }
    int rc = write_object(fd, run->p, moved);
    close(fd);
    if (rc < 0) {
        snprintf(err, errlen, "writing %s: %s", path, strerror(-rc));
        return rc;
    }
    run->path = path;
    struct ipc_pool pool;
    if ((rc = start(&pool, run, worker_file, err, errlen)) < 0)
        return rc;
    rc = finish(&pool, run, err, errlen);
    if (rc == 0) {
        /* Every worker read its header and its share. */
        *moved += (uint64_t)run->workers * WL_PAYLOAD_HEADER + run->p->bytes;
    }
    return rc;
}

/* ---- the entry point ------------------------------------------------------------------------ */

static int check_opts(const struct ipc_payload *p, const struct ipc_payload_opts *o, char *err,
                      size_t errlen)
{
    if (!p->records || p->nrecords == 0)
        snprintf(err, errlen, "no object");
    else if ((unsigned)o->way >= IPC_PAYLOAD_NWAYS)
        snprintf(err, errlen, "unknown way %d", (int)o->way);
    else if (o->way != IPC_PAYLOAD_SERIAL &&
             (o->workers < 1 || o->workers > IPC_PAYLOAD_MAX_WORKERS))
        snprintf(err, errlen, "workers %u is not from 1 to %d", o->workers,
                 IPC_PAYLOAD_MAX_WORKERS);
    else if (o->rounds > IPC_PAYLOAD_MAX_ROUNDS)
        snprintf(err, errlen, "rounds %u is not from 1 to %d", o->rounds, IPC_PAYLOAD_MAX_ROUNDS);
    else if (o->cpus && o->ncpus < 1)
        snprintf(err, errlen, "a CPU list needs at least one CPU");
    else
        return 0;
    return -EINVAL;
}

int ipc_payload_run(const struct ipc_payload *p, const struct ipc_payload_opts *o,
                    struct ipc_payload_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (errlen)
        err[0] = '\0';
    int rc = check_opts(p, o, err, errlen);
    if (rc < 0)
        return rc;
    bool parallel = o->way != IPC_PAYLOAD_SERIAL;
    unsigned workers = parallel ? o->workers : 0;
    char what[64];
    snprintf(what, sizeof what, "the %s hand-off", way_names[o->way]);
    if ((rc = ipc_payload_mem_check(ipc_payload_mem_needed(o->way, p->bytes, workers), what, err,
                                    errlen)) < 0)
        return rc;

    struct run run = {
        .p = p,
        .o = o,
        .workers = workers,
        .rounds = o->rounds ? o->rounds : WL_PAYLOAD_ROUNDS,
    };
    size_t slots_size = (workers ? workers : 1) * sizeof(struct slot);
    if (parallel && !(run.slots = ipc_shared_alloc(slots_size))) {
        rc = -errno;
        snprintf(err, errlen, "shared memory for the results: %s", strerror(errno));
        return rc;
    }
    char dir[IPC_CLEANUP_PATH_MAX] = "", path[IPC_CLEANUP_PATH_MAX] = "";
    if (o->way == IPC_PAYLOAD_FILE) {
        /* The private directory is made before the clock starts: it is where the file goes,
         * not part of writing it. */
        if ((rc = ipc_tmpdir_create(o->tmpdir, dir, sizeof dir)) < 0) {
            snprintf(err, errlen, "cannot create a private directory under %s: %s",
                     o->tmpdir ? o->tmpdir : "$TMPDIR", strerror(-rc));
            ipc_shared_free(run.slots, slots_size);
            return rc;
        }
    }

    uint64_t t0 = ipc_now_ns();
    switch (o->way) {
    case IPC_PAYLOAD_SERIAL:
        wl_payload_summary_init(&r->summary);
        wl_payload_summarize(p->records, (size_t)p->nrecords, run.rounds, &r->summary);
        break;
    case IPC_PAYLOAD_PIPE:
        rc = run_pipe(&run, &r->bytes_moved, err, errlen);
        break;
    case IPC_PAYLOAD_FILE:
        rc = run_file(&run, dir, path, sizeof path, &r->bytes_moved, err, errlen);
        break;
    default:
        rc = run_shared(&run, err, errlen);
        break;
    }
    if (rc == 0 && parallel)
        rc = merge(&run, &r->summary, err, errlen);
    r->wall_ns = ipc_now_ns() - t0;

    if (path[0])
        ipc_tmp_remove(path);
    if (dir[0])
        ipc_tmp_remove(dir);
    if (run.slots)
        ipc_shared_free(run.slots, slots_size);
    if (rc < 0)
        memset(r, 0, sizeof *r);
    return rc;
}
