/* SPDX-License-Identifier: MIT */
/* Shared by the benchmark families of ipclab-bench: placement, options, flag set-up. */
#ifndef IPCLAB_BENCH_H
#define IPCLAB_BENCH_H

#include "gbench.h"

#include "../flags/flag.h"

#include <stdbool.h>

/* What every family needs to know; set once by main() before registration. */
struct bench_cfg {
    int cpu_main;   /* the benchmark process and worker 0 */
    int cpu_other;  /* the partner process (contender, checker, worker 1); -1 if only one CPU */
    int repetitions;
    double min_time;        /* seconds per repetition for batch families */
    double sweep_budget;    /* seconds one sweep point may take (picks the number's size) */
    int raise_rounds;       /* round trips per repetition of raise-to-seen (in-memory) */
    const char *backends;   /* comma-separated backend names, NULL = all */
};

extern struct bench_cfg bench_cfg;

/* True if the backend is selected with --backends (or no selection was made). */
bool bench_backend_selected(const char *name);

/* Placement of a server backend's server relative to the benchmark process. */
enum bench_server_place { SERVER_NONE, SERVER_SAME_CORE, SERVER_OTHER_CORE };
const char *bench_server_place_name(enum bench_server_place p);
/* The CPU to pin the server to for a placement, or -1. */
int bench_server_cpu(enum bench_server_place p);

/*
 * Open a flag for a benchmark: probe it (an unusable backend becomes a skipped run that says
 * why, so names and plot series stay stable), place its server, size it for `participants`.
 * Returns 0, or -1 after gb_skip_with_error (the caller returns at once).
 */
int bench_flag_open(gb_state *st, struct flag *f, const struct flag_ops *ops,
                    enum bench_server_place place, unsigned participants);

/* Zeroed memory that lives until bench_free_all() (the families' per-case arguments: the
 * library keeps pointers to them until the end of the run). Never NULL: exits on failure. */
void *bench_alloc(size_t size);
void bench_free_all(void);

/* gb_skip_with_error with printf formatting. */
void bench_skip(gb_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registration of the families (bench_flags.c, bench_verify.c). */
void bench_register_check(void);
void bench_register_check_contended(void);
void bench_register_raise_to_seen(void);
void bench_register_cacheline(void);
void bench_register_verify(void);
void bench_register_sweep(void);
void bench_register_model(void);
void bench_register_pi(void);      /* bench_pi.c */
void bench_register_spawn(void);   /* bench_spawn.c */
void bench_register_rng(void);     /* bench_rng.c */
void bench_register_counter(void); /* bench_counter.c */
void bench_register_queue(void);   /* bench_queue.c */
void bench_register_find_primes(void); /* bench_find_primes.c */
void bench_register_payload(void); /* bench_payload.c */
void bench_register_memo(void);    /* bench_memo.c */
void bench_register_redis(void);   /* bench_redis.c */
/* Stop the redis-bench family's redis-server, if it started one (before ipc_cleanup_run). */
void bench_redis_stop(void);

/* The environment into the JSON context (bench_env.c). */
void bench_add_context(void);

#endif
