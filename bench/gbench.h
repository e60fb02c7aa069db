/* SPDX-License-Identifier: MIT */
/* A small C API over Google Benchmark (C++ only), so benchmark families are written in C. */
#ifndef IPCLAB_GBENCH_H
#define IPCLAB_GBENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One benchmark iteration is a batch chosen by the family: the out-of-line call into the
 * library costs about 2 ns here, more than the atomic check being measured, so C owns the
 * inner loop and the library only sees batches:
 *
 *     static void bm(gb_state *st, void *arg) {
 *         while (gb_keep_running_batch(st, 1024))
 *             for (int i = 0; i < 1024; i++) work();
 *     }
 *     gb_bench *b = gb_register("check/atomic", bm, arg);
 *     gb_use_real_time(b);
 *
 * Names are the schema: <experiment>/<backend-or-variant>/<param>:<value>. Argument names set
 * with gb_arg_names() are appended by the library as /<name>:<value>.
 */

typedef struct gb_state gb_state; /* benchmark::State */
typedef struct gb_bench gb_bench; /* benchmark::internal::Benchmark */

/* The function run for every repetition (and for the library's iteration-count probes). */
typedef void (*gb_fn)(gb_state *st, void *arg);

/* ---- registration ------------------------------------------------------------------------ */

/* Register fn under name (copied); arg is passed back unchanged. Never NULL. */
gb_bench *gb_register(const char *name, gb_fn fn, void *arg);

/* Add one set of arguments (a run per call); read back with gb_range(). */
void gb_args(gb_bench *b, const int64_t *args, size_t n);
/* Name the arguments: the run's name gets /<name>:<value> for each. */
void gb_arg_names(gb_bench *b, const char *const *names, size_t n);

void gb_use_real_time(gb_bench *b);   /* wall clock: anything that involves other processes */
void gb_use_manual_time(gb_bench *b); /* the family reports each iteration's time itself */
void gb_repetitions(gb_bench *b, int n);
/* Keep only the aggregates (mean, median, stddev, cv) in the output, not every repetition. */
void gb_report_aggregates_only(gb_bench *b, bool only);
void gb_min_time(gb_bench *b, double seconds);
void gb_min_warmup_time(gb_bench *b, double seconds);
void gb_iterations(gb_bench *b, int64_t n); /* a fixed count instead of the library's choice */

enum gb_time_unit { GB_NS, GB_US, GB_MS, GB_S };
void gb_time_unit(gb_bench *b, enum gb_time_unit unit);

/* ---- inside a benchmark function --------------------------------------------------------- */

/* True while the library wants another batch of n iterations; the timer runs around the
 * batches. Exactly Google Benchmark's KeepRunningBatch. */
bool gb_keep_running_batch(gb_state *st, int64_t n);

/* Argument i of this run (gb_args). */
int64_t gb_range(const gb_state *st, size_t i);
/* Iterations so far (after the loop: all of them). */
int64_t gb_iterations_done(const gb_state *st);

void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
/* With gb_use_manual_time: the time of the current iteration (or batch), in seconds. */
void gb_set_iteration_time(gb_state *st, double seconds);

/* Counter flags: Google Benchmark's benchmark::Counter::Flags, same values. */
enum {
    GB_COUNTER_DEFAULT = 0,
    GB_COUNTER_RATE = 1 << 0,           /* divided by the elapsed time */
    GB_COUNTER_AVG_ITERATIONS = 1 << 3, /* divided by the number of iterations */
    /* Bit 31. Not 1 << 31: in C that overflows int (undefined), and an enumerator is an int. */
    GB_COUNTER_INVERT = INT_MIN, /* 1/x after the above (rate -> time per unit) */
};
/* Set a user counter (it lands in the JSON next to the timings). */
void gb_counter(gb_state *st, const char *name, double value, unsigned flags);

void gb_set_label(gb_state *st, const char *label);
/* Mark this run failed with a one-line reason (the JSON carries it as error_message); the
 * function must then return without entering or continuing the batch loop. */
void gb_skip_with_error(gb_state *st, const char *message);
bool gb_error_occurred(const gb_state *st);

/* ---- the program ------------------------------------------------------------------------- */

/* Add key/value to the JSON "context" (environment: CPU, kernel, versions...). */
void gb_add_custom_context(const char *key, const char *value);

/* Let the library take its --benchmark_* flags out of argv; what remains is the caller's.
 * Call before gb_run(). */
void gb_initialize(int *argc, char **argv);
/* Run the registered benchmarks the flags select; returns how many ran. */
size_t gb_run(void);
void gb_shutdown(void);

/* gb_initialize, complain about unknown arguments (exit status 2), gb_run, gb_shutdown.
 * Returns the process exit status. */
int gb_main(int *argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
