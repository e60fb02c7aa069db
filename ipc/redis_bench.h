/* SPDX-License-Identifier: MIT */
/* ipclab's Redis load generator: redis-benchmark's GET/SET/INCR runs, rebuilt on hiredis. */
#ifndef IPCLAB_IPC_REDIS_BENCH_H
#define IPCLAB_IPC_REDIS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The model is redis-benchmark (7.0, src/redis-benchmark.c), so that the two clients can be
 * run side by side on one server and their numbers compared: ONE process, C connections
 * driven by one poll() loop, each keeping a pipeline of P requests in flight as one batch
 * (send P commands, wait for all P replies, send the next P) until N requests are answered.
 * The commands are byte for byte the ones redis-benchmark sends without -r:
 *
 *     GET key:__rand_int__
 *     SET key:__rand_int__ <3 bytes>    (redis-benchmark's -d 3 default; see ipc_rb_set_value)
 *     INCR counter:__rand_int__
 *
 * One difference on purpose: redis-benchmark sends whole batches only, so with N not a
 * multiple of P it sends up to P - 1 requests more than asked; here the last batch is cut
 * short and exactly N requests reach the server. With N a multiple of P (what
 * ipc_rb_requests_for returns) the two send exactly the same.
 */

#define IPC_RB_MAX_PIPELINE 65536u
#define IPC_RB_MAX_CLIENTS 1024u
#define IPC_RB_MAX_REQUESTS 1000000000ull

/* ipc_rb_run's default for opts.timeout_ms: the longest wait for a reply before giving up. */
#define IPC_RB_DEFAULT_TIMEOUT_MS 10000

/* ipc_rb_requests_for's bounds (see there). */
#define IPC_RB_SIZE_MIN 5000u
#define IPC_RB_SIZE_MAX 20000000u
#define IPC_RB_PILOT_MIN 2000u
#define IPC_RB_PILOT_NS 50000000u

/* Batch latencies are kept one by one (8 bytes each) up to this many batches and the
 * percentiles computed exactly by sorting; beyond it (N / P above 16 Mi, minutes of P = 1)
 * they go into a log-linear histogram, percentiles then within 0.1 %. */
#define IPC_RB_EXACT_MAX_BATCHES (1u << 24)

enum ipc_rb_op { IPC_RB_GET, IPC_RB_SET, IPC_RB_INCR };
#define IPC_RB_NOPS 3

/* "get", "set", "incr" (lowercase: the CLI, bench names and redis-benchmark's -t). */
const char *ipc_rb_op_name(enum ipc_rb_op op);
/* "GET", "SET", "INCR": the test's title in redis-benchmark's output (its CSV "test"). */
const char *ipc_rb_op_title(enum ipc_rb_op op);
/* Name -> op. 0, or -EINVAL for anything else (case matters). */
int ipc_rb_op_parse(const char *s, enum ipc_rb_op *op);

/* The 3-byte value SET stores, the one redis-benchmark 7.0 sends: since 6.2 (#7196) its
 * value is not "xxx" but the first bytes of a fixed-seed LCG, '0' + 6 bits each. */
const char *ipc_rb_set_value(void);

/* Where the server is: a Unix socket (socket non-NULL), else TCP host:port. */
struct ipc_rb_target {
    const char *socket;
    const char *host;
    int port;
    const char *password; /* AUTH with it first; NULL or "" for none */
};

struct ipc_rb_opts {
    enum ipc_rb_op op;
    unsigned pipeline; /* P: requests in flight per client, 1..IPC_RB_MAX_PIPELINE */
    unsigned clients;  /* C: connections, 1..IPC_RB_MAX_CLIENTS (all are opened, even when
                          there are fewer batches than clients, as redis-benchmark does) */
    uint64_t requests; /* N: 1..IPC_RB_MAX_REQUESTS (ignored by ipc_rb_requests_for) */
    int cpu;           /* pin the calling thread here for the run (-1: leave it) */
    int timeout_ms;    /* 0: the default. ipclab's client: the longest wait for a reply.
                          redis-benchmark (ipc/redis_benchmark_tool.h): the whole run. */
};

struct ipc_rb_result {
    uint64_t requests; /* N answered */
    uint64_t wall_ns;  /* first write to last reply (redis-benchmark: N / its rps) */
    double rps;        /* N / wall */
    double mean_us, p50_us, p99_us; /* request latency, see ipc_rb_run */
    int cpu_seen;      /* the CPU the client ran on at the end, -1 if unknown */
    bool exact;        /* percentiles computed exactly (false: from the histogram) */
};

/*
 * Run N requests of opts->op against the target with C clients and pipeline P, pinned to
 * opts->cpu (the previous affinity is restored afterwards). Every reply's type is checked
 * (GET: a bulk string or nil, SET: +OK, INCR: an integer); an error reply ends the run with
 * its text.
 *
 * Latency is per batch, from its write to its last reply, and counts once for every request
 * in the batch (the weight redis-benchmark gives it too). redis-benchmark stops its clock at
 * the first read of a batch's replies, not the last: the same for P = 1, shorter for long
 * pipelines. mean_us, p50_us and p99_us (nearest rank) are over the N requests.
 *
 * 0 with *r filled, or -errno with a one-line reason in err: -EINVAL (bad options), -ENOTSUP
 * (built without hiredis), connection errors, -ETIMEDOUT (no reply for timeout_ms), -EIO (an
 * error reply), -EPROTO (a reply of the wrong type or not RESP). No connection outlives it.
 */
int ipc_rb_run(const struct ipc_rb_target *t, const struct ipc_rb_opts *o, struct ipc_rb_result *r,
               char *err, size_t errlen);

/*
 * Size a run by duration: run a pilot with ipclab's client (from max(IPC_RB_PILOT_MIN, C * P)
 * requests, growing until one lasts IPC_RB_PILOT_NS) and return in *n the requests that take
 * about `seconds` at that rate, as ipc_rb_size() rounds them. opts->requests is ignored.
 * 0, or ipc_rb_run's errors. The pilot's requests reach the server (they also warm it up).
 */
int ipc_rb_requests_for(const struct ipc_rb_target *t, const struct ipc_rb_opts *o,
                        double seconds, uint64_t *n, char *err, size_t errlen);

/*
 * rate * seconds, clamped to [max(4 * C * P, IPC_RB_SIZE_MIN), IPC_RB_SIZE_MAX] and rounded
 * to a multiple of C * P, so that every client sends the same number of whole batches (and
 * redis-benchmark sends exactly N). When C * P is so large that the bounds cross, the upper
 * one wins, but never fewer than C * P requests (one batch each).
 */
uint64_t ipc_rb_size(double rate, double seconds, unsigned clients, unsigned pipeline);

/* Whether ipclab's client is built (hiredis); false with the reason in why. */
bool ipc_rb_available(char *why, size_t len);

/* Raise the soft RLIMIT_NOFILE, if needed and allowed, so that C connections fit (1024
 * clients do not fit the usual soft limit of 1024). Children inherit it. 0 or -errno. */
int ipc_rb_ensure_fds(unsigned clients);

/* ---- latency accumulator (used by ipc_rb_run; public for the tests) --------------------- */

/* Weighted samples in nanoseconds. Samples of the usual weight are stored as one word each;
 * the few of another weight (a last, shorter batch) on the side. */
struct ipc_rb_lat {
    unsigned weight;      /* the usual weight */
    bool exact;
    uint64_t *v;          /* exact: samples of the usual weight */
    size_t n, cap;
    struct ipc_rb_lat_odd {
        uint64_t ns, w;
    } *odd;               /* exact: samples of another weight */
    size_t nodd, capodd;
    uint64_t *hist;       /* not exact: weight per bucket */
    uint64_t total_w;
    double sum;           /* sum of ns * weight */
};

/* Prepare for about `batches` samples of weight `weight`: exact if batches <= max_exact
 * (the space is allocated now), else a histogram. 0 or -ENOMEM. */
int ipc_rb_lat_init(struct ipc_rb_lat *l, uint64_t batches, unsigned weight, uint64_t max_exact);
/* Add a sample. 0 or -ENOMEM. */
int ipc_rb_lat_add(struct ipc_rb_lat *l, uint64_t ns, uint64_t weight);
/* Mean, p50 and p99 (nearest rank over the total weight) in microseconds; zeros if empty.
 * Sorts the samples in place. */
void ipc_rb_lat_summary(struct ipc_rb_lat *l, double *mean_us, double *p50_us, double *p99_us);
void ipc_rb_lat_free(struct ipc_rb_lat *l);

#endif
