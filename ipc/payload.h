/* SPDX-License-Identifier: MIT */
/* Handing a large object to worker processes four ways (serialised through a pipe to each,
 * through a file, through a shared mapping, or not at all), for the chapter's finding that
 * pickling a big argument can make the parallel version slower than the serial one. */
#ifndef IPCLAB_IPC_PAYLOAD_H
#define IPCLAB_IPC_PAYLOAD_H

#include "../workloads/payload.h"

#include <stddef.h>
#include <stdint.h>

/* The object's size: 1 GiB at most (its pipe hand-off to two workers needs six times that);
 * one record (64 bytes) at least. */
#define IPC_PAYLOAD_MAX_BYTES (1ull << 30)
#define IPC_PAYLOAD_MIN_BYTES WL_RECORD_SIZE
#define IPC_PAYLOAD_MAX_WORKERS 64
/* Rounds of work per record (wl_payload_summarize); WL_PAYLOAD_ROUNDS by default. */
#define IPC_PAYLOAD_MAX_ROUNDS 1024
/* Memory kept free beyond what a run needs: the check refuses a run that would leave less of
 * MemAvailable than this, rather than let the machine swap or the OOM killer choose. */
#define IPC_PAYLOAD_MEM_MARGIN_MIB 256
#define IPC_PAYLOAD_DEFAULT_SEED 20140101ull

enum ipc_payload_way {
    IPC_PAYLOAD_SERIAL, /* the parent summarises the whole object itself: no workers */
    IPC_PAYLOAD_PIPE,   /* serialised once; the whole serialised object written through a pipe
                         * (default size, 64 KiB) to every worker, which reads it all,
                         * deserialises it all, and summarises its share: what passing the
                         * object as an argument to multiprocessing's workers does */
    IPC_PAYLOAD_FILE,   /* serialised once into a file in a private temp dir; each worker opens
                         * it and reads and decodes only its share (the chapter's fix) */
    IPC_PAYLOAD_SHARED, /* the object already lives in a shared mapping inherited over fork:
                         * workers summarise their share in place, nothing is copied */
    IPC_PAYLOAD_NWAYS
};

const char *ipc_payload_way_name(enum ipc_payload_way w); /* "serial", "pipe", "file", "shared" */
int ipc_payload_way_parse(const char *s, enum ipc_payload_way *w); /* 0, or -1 if unknown */

/* The object: records in a MAP_SHARED anonymous mapping (ipc/shared.h), so the shared way can
 * hand it over by fork alone and every other way reads the very same bytes. */
struct ipc_payload {
    struct wl_record *records;
    uint64_t nrecords;
    uint64_t bytes; /* nrecords * WL_RECORD_SIZE */
    uint64_t seed;
};

/*
 * Make the object: bytes rounded down to whole records (IPC_PAYLOAD_MIN_BYTES ..
 * IPC_PAYLOAD_MAX_BYTES, else -EINVAL), filled from seed (wl_payload_fill). -ENOMEM when it
 * would not fit in MemAvailable with the margin (checked before mapping anything). 0, or
 * -errno with a one-line reason in err; p is zeroed on failure.
 */
int ipc_payload_create(struct ipc_payload *p, uint64_t bytes, uint64_t seed, char *err,
                       size_t errlen);
/* Unmap the object; safe on a zeroed or destroyed one. */
void ipc_payload_destroy(struct ipc_payload *p);

/*
 * Bytes a run of `way` needs beyond the object itself, for an object of `bytes` bytes and
 * `workers` workers: pipe: the serialised copy plus, in every worker, the bytes read and the
 * deserialised records; file: the file (page cache, or memory itself on tmpfs) and the
 * chunk buffers; serial and shared: nothing.
 */
uint64_t ipc_payload_mem_needed(enum ipc_payload_way way, uint64_t bytes, unsigned workers);

/*
 * Refuse a run that does not fit: `need` bytes plus IPC_PAYLOAD_MEM_MARGIN_MIB against
 * MemAvailable (/proc/meminfo). 0 if it fits; -ENOMEM with "<what> needs N MiB, MemAvailable
 * is M MiB (keeping K MiB free)" in err; -errno if MemAvailable cannot be read.
 */
int ipc_payload_mem_check(uint64_t need, const char *what, char *err, size_t errlen);

struct ipc_payload_opts {
    enum ipc_payload_way way;
    unsigned workers; /* 1..IPC_PAYLOAD_MAX_WORKERS (serial: ignored) */
    unsigned rounds;  /* work per record, 1..IPC_PAYLOAD_MAX_ROUNDS; 0: WL_PAYLOAD_ROUNDS */
    const int *cpus;  /* worker i pinned to cpus[i % ncpus]; NULL: not pinned */
    int ncpus;
    const char *tmpdir; /* file: where the private directory goes (NULL: $TMPDIR, else /tmp) */
};

struct ipc_payload_result {
    struct wl_payload_summary summary; /* of the whole object, merged from the workers */
    uint64_t bytes_moved; /* bytes copied through the kernel for the hand-off: pipe, workers x
                           * the serialised size; file, the bytes written plus the bytes the
                           * workers read; serial and shared, 0 */
    uint64_t wall_ns;     /* from the start of the hand-off (serialising, creating the file,
                           * forking) to the merged summary, workers reaped; not making the
                           * object, not removing the file afterwards */
};

/*
 * Summarise object p the way o says. The summary is the same for every way, worker count and
 * pinning (the shares tile the object and summaries merge exactly); it depends on the object
 * and the rounds only. Checks the memory the way needs first (ipc_payload_mem_check: -ENOMEM,
 * nothing started). Every worker is reaped and the file and its directory removed before it
 * returns, whatever happened; a worker that fails or dies stops the others. Returns 0, or
 * -errno with a one-line reason in err.
 */
int ipc_payload_run(const struct ipc_payload *p, const struct ipc_payload_opts *o,
                    struct ipc_payload_result *r, char *err, size_t errlen);

#endif
