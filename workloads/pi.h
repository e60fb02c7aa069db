/* SPDX-License-Identifier: MIT */
/* Pi by Monte Carlo: per-worker random streams, the sample kernels (one sample at a time or in
 * blocks), each worker's share of the samples, and the names of the four ways of running the
 * shares (serial, threads, processes, and threads under an emulated global interpreter lock). */
#ifndef IPCLAB_WL_PI_H
#define IPCLAB_WL_PI_H

#include <stdint.h>

#define WL_PI_MAX_WORKERS 256
/* Minutes of work for one worker; also keeps every worker far inside its own slice of the
 * generator (2^56 draws, see wl_pi_stream). */
#define WL_PI_MAX_SAMPLES 100000000000ull
/* Samples per block in batch mode: x and y arrays of this many doubles each (64 KiB). */
#define WL_PI_BLOCK 4096
#define WL_PI_DEFAULT_SEED 20140101ull

/* ---- the arithmetic ------------------------------------------------------------------------ */

/*
 * One worker's generator: splitmix64, whose k-th output is a fixed bijective mix of
 * state + k * gamma. Counter based, so a block of outputs can be computed in any order (the
 * batch kernel computes them in SIMD lanes) and still be the same numbers as when they are
 * drawn one by one.
 */
struct wl_pi_stream {
    uint64_t state; /* advanced by gamma per draw */
};

/*
 * The stream of worker `worker` (0..WL_PI_MAX_WORKERS-1) for `seed`: worker w starts 2^56
 * counter steps after worker w-1, so workers never share a number as long as each draws
 * fewer than 2^56 (two per sample; WL_PI_MAX_SAMPLES is far below). Same seed and worker,
 * same stream: in a thread, in a child process, or in a loop of the serial run.
 */
struct wl_pi_stream wl_pi_stream(uint64_t seed, unsigned worker);

/*
 * Draw n samples (x then y, each uniform in [0, 1) with 52 random bits) from s and return how
 * many fall inside the quarter circle x^2 + y^2 <= 1; s advances by 2n draws.
 * wl_pi_count_each draws and tests one sample at a time; wl_pi_count_batch fills x and y
 * arrays of WL_PI_BLOCK samples first and then counts in a separate loop (the remainder one by
 * one). Both see the same samples in the same order, so they return the same count and leave
 * s in the same state.
 */
uint64_t wl_pi_count_each(struct wl_pi_stream *s, uint64_t n);
uint64_t wl_pi_count_batch(struct wl_pi_stream *s, uint64_t n);

/* Share of worker i when `samples` are split over `workers`: sizes differ by at most one,
 * the first samples % workers workers get the extra one. */
uint64_t wl_pi_share(uint64_t samples, unsigned workers, unsigned i);

/* ---- the ways of running it ---------------------------------------------------------------- */

enum wl_pi_mode {
    WL_PI_SERIAL,      /* one thread computes every worker's share, one after another */
    WL_PI_THREADS,     /* one thread per worker */
    WL_PI_PROCESSES,   /* one process per worker, counts in shared memory */
    WL_PI_GIL_THREADS, /* one thread per worker, computing only while holding one global lock */
};
#define WL_PI_NMODES 4

/* Name <-> value ("serial", "threads", "processes", "gil-threads"); parse returns 0 or -1. */
const char *wl_pi_mode_name(enum wl_pi_mode m);
int wl_pi_mode_parse(const char *name, enum wl_pi_mode *out);

#endif
