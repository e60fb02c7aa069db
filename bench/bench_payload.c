/* SPDX-License-Identifier: MIT */
/* The payload family: an object of 1 KiB to 256 MiB handed to two workers through a pipe, a
 * file or a shared mapping, against the parent computing alone, for the claim that a
 * serialised hand-off can make the parallel version slower than serial (C6). */
#include "bench.h"

#include "../ipc/payload.h"

#include <inttypes.h>
#include <stdio.h>

/*
 * Object sizes in KiB. 1 GiB is left out: its pipe hand-off needs 6 GiB and a minute per
 * repetition; `ipclab payload --size-mib 1024` measures it on request. PAYLOAD_BENCH_MAX_KIB
 * is the cap.
 */
static const int64_t sizes_kib[] = {1, 16, 256, 4096, 65536, 262144};
#define PAYLOAD_BENCH_MAX_KIB 262144
#define WORKERS 2

/* Worker 0 on cpu_main (with the benchmark process, which writes the pipes and waits), worker
 * 1 on cpu_other: the two cores of the chapter's machine's point of view. */
static int cpus[WORKERS];

/*
 * One object at a time, kept across the calls of a case (every repetition calls the function
 * again) and replaced when the size changes: making 256 MiB of records takes longer than
 * handing them over, and the library's timer is not running then anyway.
 */
static struct ipc_payload object;
static struct wl_payload_summary reference;

static int object_for(gb_state *st, uint64_t bytes)
{
    if (object.records && object.bytes == bytes)
        return 0;
    ipc_payload_destroy(&object);
    char err[256];
    if (ipc_payload_create(&object, bytes, IPC_PAYLOAD_DEFAULT_SEED, err, sizeof err) < 0) {
        bench_skip(st, "%s", err);
        return -1;
    }
    wl_payload_summary_init(&reference);
    wl_payload_summarize(object.records, (size_t)object.nrecords, WL_PAYLOAD_ROUNDS, &reference);
    return 0;
}

static void bm_payload(gb_state *st, void *arg)
{
    const enum ipc_payload_way *way = arg;
    if (*way != IPC_PAYLOAD_SERIAL && bench_cfg.cpu_other < 0) {
        bench_skip(st, "needs two CPUs for the two workers");
        return;
    }
    uint64_t kib = (uint64_t)gb_range(st, 0);
    if (object_for(st, kib * 1024) < 0)
        return;
    cpus[0] = bench_cfg.cpu_main;
    cpus[1] = bench_cfg.cpu_other;
    struct ipc_payload_opts o = {
        .way = *way,
        .workers = WORKERS,
        .rounds = WL_PAYLOAD_ROUNDS,
        .cpus = cpus,
        .ncpus = WORKERS,
    };
    double moved = 0, handoff = 0;
    char err[256];
    while (gb_keep_running_batch(st, 1)) {
        struct ipc_payload_result r;
        if (ipc_payload_run(&object, &o, &r, err, sizeof err) < 0) {
            bench_skip(st, "%s", err);
            return;
        }
        if (!wl_payload_summary_equal(&r.summary, &reference)) {
            bench_skip(st,
                       "the result disagrees with the serial reference (digest %016" PRIx64
                       ", expected %016" PRIx64 ")",
                       r.summary.digest, reference.digest);
            return;
        }
        moved += (double)r.bytes_moved;
        handoff += (double)r.wall_ns;
    }
    gb_counter(st, "bytes_moved", moved, GB_COUNTER_AVG_ITERATIONS);
    /* The hand-off alone, as ipc_payload_run times it: without the memory check, the file's
     * directory and its removal, which the real time includes. */
    gb_counter(st, "handoff_ns", handoff, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "workers", *way == IPC_PAYLOAD_SERIAL ? 0 : WORKERS, GB_COUNTER_DEFAULT);
}

void bench_register_payload(void)
{
    static const char *const arg_names[] = {"size_kib"};
    static enum ipc_payload_way ways[IPC_PAYLOAD_NWAYS];
    for (int w = 0; w < IPC_PAYLOAD_NWAYS; w++) {
        ways[w] = (enum ipc_payload_way)w;
        char name[64];
        snprintf(name, sizeof name, "payload/%s", ipc_payload_way_name(ways[w]));
        gb_bench *b = gb_register(name, bm_payload, &ways[w]);
        for (size_t i = 0; i < sizeof sizes_kib / sizeof sizes_kib[0]; i++)
            if (sizes_kib[i] <= PAYLOAD_BENCH_MAX_KIB)
                gb_args(b, &sizes_kib[i], 1);
        gb_arg_names(b, arg_names, 1);
        gb_use_real_time(b);
        gb_time_unit(b, GB_MS);
    }
}
