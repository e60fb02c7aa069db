/* SPDX-License-Identifier: MIT */
/* Debian's redis-benchmark run against the same server with the same settings as ipclab's. */
#ifndef IPCLAB_IPC_REDIS_BENCHMARK_TOOL_H
#define IPCLAB_IPC_REDIS_BENCHMARK_TOOL_H

#include "redis_bench.h"

#include <stddef.h>

/* ipc_redis_benchmark_run's default for opts.timeout_ms: a whole run may take this long plus
 * 100 us per request (10 000 requests per second, slower than any loopback run). */
#define IPC_RBT_TIMEOUT_BASE_MS 60000
#define IPC_RBT_TIMEOUT_US_PER_REQUEST 100

/*
 * Look for an executable `redis-benchmark` in $PATH. 0 with its path in path[pathlen], or
 * -ENOENT with "redis-benchmark not found (Debian package redis-tools)" in why. Either buffer
 * may be NULL when its length is 0.
 */
int ipc_redis_benchmark_find(char *path, size_t pathlen, char *why, size_t whylen);

/*
 * Run `redis-benchmark -s SOCKET | -h HOST -p PORT -c C -n N -P P -t OP --csv` and parse what
 * it prints (ipc_rb_parse_csv). Its standard output and error go to pipes (the last line of
 * its error output, or else of its output, explains a failure); its standard input is
 * /dev/null. The child is pinned to opts->cpu before exec when cpu >= 0, dies with the caller
 * (PR_SET_PDEATHSIG), is registered with the cleanup registry (Ctrl-C kills it), and is
 * killed and reaped when the whole run exceeds opts->timeout_ms (0: IPC_RBT_TIMEOUT_BASE_MS
 * + IPC_RBT_TIMEOUT_US_PER_REQUEST per request). Nothing of it outlives the call.
 *
 * On success r holds requests = N, rps as printed, wall_ns = N / rps, mean_us, p50_us and
 * p99_us from its milliseconds, cpu_seen = the CPU it last ran on (read from /proc before it
 * is reaped), exact = false (its percentiles come from an HDR histogram).
 *
 * Note what redis-benchmark does differently: it sends whole pipelines only (with N not a
 * multiple of P, up to P - 1 requests more than N reach the server and count in its rps),
 * it times the run in milliseconds (a run must be long enough for that: ~1 % at 100 ms),
 * it does not check replies (an error reply counts as an answer), and its latency ends at
 * the first read of a batch's replies. Before the run it sends CONFIG GET save and
 * CONFIG GET appendonly on a connection of its own.
 *
 * 0, or -errno with a one-line reason in err: -ENOENT (not installed), -ETIMEDOUT (killed),
 * -ECHILD (it failed: its exit status and last words), -EPROTO (output not understood).
 */
int ipc_redis_benchmark_run(const struct ipc_rb_target *t, const struct ipc_rb_opts *o,
                            struct ipc_rb_result *r, char *err, size_t errlen);

/*
 * Parse redis-benchmark's --csv output (7.0):
 *
 *     "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
 *         "p99_latency_ms","max_latency_ms"                          (one line)
 *     "GET","123456.79","0.123","0.056","0.119","0.175","0.215","0.447"
 *
 * Strict: the header exactly, then exactly one row, for test_name ("GET"), every field
 * quoted, every number plain decimal (digits and at most one point: no sign, exponent, inf
 * or nan), rps > 0, min <= p50 <= p95 <= p99 <= max and min <= avg <= max; lines may end in
 * \r\n; nothing but empty lines after the row. Sets r->rps, mean_us, p50_us and p99_us (in
 * microseconds) and leaves the other fields alone. 0, or -EPROTO with a one-line reason.
 */
int ipc_rb_parse_csv(const char *text, const char *test_name, struct ipc_rb_result *r, char *err,
                     size_t errlen);

#endif
