/* SPDX-License-Identifier: MIT */
/* What a worker costs: the latency of creating a thread, a forked process or a fork+exec, and
 * the memory a forked worker really adds (RSS, PSS, USS from /proc/<pid>/smaps_rollup). */
#ifndef IPCLAB_IPC_SPAWN_H
#define IPCLAB_IPC_SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- creation latency ----------------------------------------------------------------------- */

enum ipc_spawn_kind {
    IPC_SPAWN_THREAD,    /* pthread_create, then pthread_join */
    IPC_SPAWN_FORK,      /* fork, the child _exit()s at once, then waitpid */
    IPC_SPAWN_FORK_EXEC, /* fork, the child execs a tiny program (/bin/true), then waitpid */
};
#define IPC_SPAWN_KINDS 3

/* The program fork-exec runs unless told otherwise: it does nothing and exits 0. */
#define IPC_SPAWN_EXEC_DEFAULT "/bin/true"

/* Name <-> value ("thread", "fork", "fork-exec"); parse returns 0 or -EINVAL. */
const char *ipc_spawn_kind_name(enum ipc_spawn_kind k);
int ipc_spawn_kind_parse(const char *name, enum ipc_spawn_kind *out);

/*
 * One creation, timed from just before the create call (pthread_create / fork), on the one
 * CLOCK_MONOTONIC of ipc/clock.h:
 *
 *   start_ns       until the child runs its first instruction of our code: the thread's start
 *                  routine or the forked child's return from fork() takes a time stamp and
 *                  sends it back through a pipe. fork-exec: the exec'd program cannot stamp,
 *                  so this is the moment the parent sees the exec commit (the child's
 *                  close-on-exec end of the pipe closes once execve has replaced the image,
 *                  just before the new program's loader runs), i.e. equal to seen_ns.
 *   seen_ns        until the parent, blocked on that pipe, has been woken by the child: what a
 *                  parent handing work to a new worker waits at least.
 *   round_trip_ns  until the child is gone again: joined (thread) or reaped (process), the
 *                  exec'd program's whole run included.
 *
 * Placement: with cpu >= 0 the child runs that code on CPU cpu. A new thread or process always
 * starts on its creator's CPUs (the affinity mask is inherited), so when the creator is not
 * already pinned to exactly that CPU the child first pins itself there (one
 * sched_setaffinity, a migration when the CPU differs): that cost is part of start_ns, as it is
 * of pthread_create with an affinity attribute. child_cpu is where the child stamped (-1 for
 * fork-exec, where nothing of ours runs after exec).
 */
struct ipc_spawn_sample {
    uint64_t start_ns;
    uint64_t seen_ns;
    uint64_t round_trip_ns;
    int child_cpu;
};

/* How long a child may take to start or end before it counts as hung (killed, -ETIMEDOUT). */
#define IPC_SPAWN_TIMEOUT_MS 10000

/*
 * Create one child of kind k and time it as above. cpu: where the child runs (-1: wherever
 * it is created). exec_path: the program fork-exec runs, with no arguments (NULL:
 * IPC_SPAWN_EXEC_DEFAULT); ignored for the other kinds. Every process is registered with the
 * cleanup registry while it exists, and always reaped; a thread is always joined. Returns 0,
 * or -errno with a one-line reason in errstr[len] (a program that cannot be executed gives its
 * execve errno, e.g. -ENOENT, and its child is reaped).
 */
int ipc_spawn_once(enum ipc_spawn_kind k, int cpu, const char *exec_path,
                   struct ipc_spawn_sample *s, char *errstr, size_t len);

/* Order statistics of a set of samples (nanoseconds). Percentiles interpolate linearly between
 * the two nearest ranks, so min <= p10 <= median <= p90 <= max always holds. */
struct ipc_spawn_stats {
    double min, p10, median, p90, max, mean;
    size_t n;
};

/* Sort v[0..n) in place and summarise it; n == 0 gives all zeros. */
void ipc_spawn_stats(uint64_t *v, size_t n, struct ipc_spawn_stats *out);

/* ---- memory of a forked worker ---------------------------------------------------------- */

/* A process's memory from /proc/<pid>/smaps_rollup (and its page tables from
 * /proc/<pid>/status), in KiB. */
struct ipc_smaps {
    uint64_t rss_kib; /* every page mapped, shared ones counted in full in each process */
    uint64_t pss_kib; /* shared pages divided by the number of processes sharing them */
    uint64_t shared_clean_kib, shared_dirty_kib;
    uint64_t private_clean_kib, private_dirty_kib;
    uint64_t uss_kib;  /* Private_Clean + Private_Dirty: what the process's exit would free */
    uint64_t anon_kib; /* Anonymous */
    uint64_t swap_kib;
    uint64_t pte_kib; /* VmPTE: page tables, in none of the above; 0 if not read */
};

/* Parse the text of a smaps_rollup file into m (page tables untouched). Returns 0, or -EINVAL
 * when Rss, Pss or one of the four Shared/Private lines is missing or malformed. */
int ipc_smaps_parse(const char *text, struct ipc_smaps *m);

/* Read /proc/<pid>/smaps_rollup and the VmPTE line of /proc/<pid>/status (pid 0: this
 * process). 0 or -errno (-ENOENT: no such process, or a kernel before 4.14). */
int ipc_smaps_read(pid_t pid, struct ipc_smaps *m);

/* What the forked worker does with its parent's memory before it is measured. */
enum ipc_touch {
    IPC_TOUCH_IDLE,  /* nothing */
    IPC_TOUCH_READ,  /* reads every word of it */
    IPC_TOUCH_WRITE, /* writes one byte in every page of it, as a reference count update per
                        object would: the first write to a page copies the whole page */
};
#define IPC_TOUCHES 3

/* Name <-> value ("idle", "read", "write"); parse returns 0 or -EINVAL. */
const char *ipc_touch_name(enum ipc_touch t);
int ipc_touch_parse(const char *name, enum ipc_touch *out);

/* The largest parent buffer accepted (MiB): the writing worker doubles it. */
#define IPC_SPAWN_MAX_MIB 4096

/* A parent's private memory: anonymous, MAP_PRIVATE (copy-on-write across fork, as a heap),
 * every page written with non-zero bytes so it is really allocated and not the shared zero
 * page. */
struct ipc_parent_mem {
    unsigned char *p;
    size_t bytes;
};

/* Headroom kept free beyond the parent's buffer and a writing worker's copy of it. */
#define IPC_SPAWN_MEM_MARGIN_MIB 256

/* Map and fill mib MiB (0..IPC_SPAWN_MAX_MIB; 0 maps nothing). 0 or -errno (-ENOMEM also when
 * 2 x mib + IPC_SPAWN_MEM_MARGIN_MIB, the parent plus a writing worker's copy and headroom,
 * exceeds MemAvailable). */
int ipc_parent_mem_alloc(struct ipc_parent_mem *m, size_t mib);
void ipc_parent_mem_free(struct ipc_parent_mem *m);

/* MiB of memory available for new allocations without swapping (MemAvailable), or -errno. */
long ipc_mem_available_mib(void);

struct ipc_spawn_memory {
    struct ipc_smaps child;  /* the worker, after its pass over the memory */
    struct ipc_smaps parent; /* the parent at the same moment */
    uint64_t touch_ns;       /* from fork to the worker reporting its pass done */
};

/*
 * Fork one worker (through ipc/pool.h: pinned to cpu if cpu >= 0, dies with the parent) that
 * applies t to m, reports, and waits; measure the worker and the parent while both are alive;
 * then let it exit and reap it. 0, or -errno with a one-line reason in errstr[len] (a worker
 * that died or hung is killed and reaped).
 */
int ipc_spawn_memory(const struct ipc_parent_mem *m, enum ipc_touch t, int cpu,
                     struct ipc_spawn_memory *out, char *errstr, size_t len);

#endif
