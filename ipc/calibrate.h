/* SPDX-License-Identifier: MIT */
/* Measure the cost model's inputs on this machine (work per candidate, cost of a check,
 * raise-to-seen) for an open flag, and read them back from a calibration file. */
#ifndef IPCLAB_IPC_CALIBRATE_H
#define IPCLAB_IPC_CALIBRATE_H

#include "../flags/flag.h"
#include "cost_model.h"

#include <stddef.h>

/* The prime w is measured on: 18 digits like the chapter's numbers, so every division in the
 * batch is a full 64-bit one and none stops early on a factor. */
#define IPC_CALIBRATE_WORK_PRIME 100000000000000003ull

/*
 * Measure all three inputs for f (open in this process, not attached), once per backend and
 * placement for the life of the process; later calls return the cached figures.
 * - w: trial division of IPC_CALIBRATE_WORK_PRIME, ns per candidate (median of 5 batches of
 *   2^18 candidates, about 0.4 ms each here);
 * - c: ipc_check_cost() on an attached f (search.h);
 * - r: from a raise to the stop of a worker it stops, measured as the pool runs: each of 41
 *   rounds forks two workers (worker i pinned to cpus[i % ncpus]) that run the search loop,
 *   worker 1 on a prime checking after every candidate, worker 0 on a composite whose factor
 *   it finds after 0.1 ms; r is worker 1's stop stamp minus worker 0's raise stamp (the
 *   median); -1 for a backend that is not FLAG_PROP_SHARED.
 * This process does w and c pinned to cpus[0]. cpus NULL: nothing is pinned.
 * 0, or -errno with a one-line reason in why (f is left open, clear, not attached).
 */
int ipc_calibrate(struct flag *f, const int *cpus, int ncpus, struct ipc_cost_inputs *in,
                  char *why, size_t len);

/* Only w, measured as above (cached; on the CPU the caller runs on at the first call). */
double ipc_calibrate_work_ns(void);

/*
 * A calibration file: the model's inputs measured once and reused (`ipclab model --format
 * tsv` writes one, so does `make bench`). Text, tab-separated, '#' lines are comments:
 *     flag    work_ns check_ns        raise_ns
 *     atomic  1.652   0.610   92.0
 * the header first, then one row per backend; raise_ns "-" when unknown. Read the row of
 * `flag` into *in (always ipc_cost_inputs_valid: work_ns > 0, the others finite, >= 0 or -1).
 * 0; -ENOENT if the file has no row for it; another -errno (unreadable, malformed: the line is
 * named) with a one-line reason in why that does not name the file (a path may hold any byte:
 * the caller quotes it).
 */
int ipc_calibration_read(const char *path, const char *flag, struct ipc_cost_inputs *in,
                         char *why, size_t len);

/* The header line of a calibration file (no newline). */
#define IPC_CALIBRATION_HEADER "flag\twork_ns\tcheck_ns\traise_ns"

#endif
