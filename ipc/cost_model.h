/* SPDX-License-Identifier: MIT */
/* The cost model of the flag: what checking every K candidates costs a search, how late it
 * stops, and the K that keeps the cost under a target. Arithmetic only; the inputs are
 * measured by calibrate.h. */
#ifndef IPCLAB_IPC_COST_MODEL_H
#define IPCLAB_IPC_COST_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The measured inputs, all in ns. */
struct ipc_cost_inputs {
    double work_ns;  /* w: trial division of one candidate (> 0) */
    double check_ns; /* c: one check of the flag (>= 0; 0 for a flag never checked) */
    double raise_ns; /* r: a raise in one process seen by a checking process (< 0: unknown,
                      * e.g. a backend that is not shared between processes) */
};

/* The default target: checks may add at most 1% to the search. */
#define IPC_COST_DEFAULT_TARGET 0.01

/* True if the inputs can feed the model: w finite and > 0, c finite and >= 0, r finite. */
bool ipc_cost_inputs_valid(const struct ipc_cost_inputs *in);

/* Predicted overhead of checking every K >= 1 candidates, as a fraction of the search
 * time: c / (K * w). One check per K candidates of w ns each. */
double ipc_cost_overhead(const struct ipc_cost_inputs *in, uint64_t k);

/* Predicted extra stop latency at interval K, in ns: a raise lands, on average, half way
 * through the other worker's chunk of K candidates (K * w / 2; K * w at worst), and is seen
 * r ns after it. Negative (unknown) when r is. */
double ipc_cost_stop_avg_ns(const struct ipc_cost_inputs *in, uint64_t k);
double ipc_cost_stop_worst_ns(const struct ipc_cost_inputs *in, uint64_t k);

/*
 * The smallest K in [1, max_k] whose predicted overhead is at most target (a fraction,
 * 0 < target): ceil(c / (w * target)), clamped. max_k is the most candidates one search
 * loop can be given (a larger K is the same as never checking); max_k 0 counts as 1.
 * Returns true if that K meets the target, false if even max_k does not (K = max_k then).
 */
bool ipc_cost_choose_k(const struct ipc_cost_inputs *in, double target, uint64_t max_k,
                       uint64_t *k);

/*
 * Parse an overhead target written as a percentage such as "1%" or "0.5%": digits with at
 * most one '.', then '%', nothing else; 0 < value <= 100. Stores the fraction (0.01 for "1%").
 * 0, or -EINVAL with a one-line reason in why that does not repeat s (any byte may be in it:
 * the caller quotes it).
 */
int ipc_cost_parse_target(const char *s, double *fraction, char *why, size_t len);

#endif
