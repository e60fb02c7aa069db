/* SPDX-License-Identifier: MIT */
/* Uses every function of bench/gbench.h; gbench_test.sh checks the JSON it writes. */
#include "bench/gbench.h"

#include <stdio.h>

/* The avg-iterations counters report this divided by the iteration count (or, inverted, the
 * iteration count divided by it), which the test can recompute from the JSON. */
#define AVG_TOTAL 1000.0
/* The manual-time family: a fixed number of iterations, each reported as taking MANUAL_NS. */
#define MANUAL_ITERS 64
#define MANUAL_BATCH 8
#define MANUAL_NS 1500.0
#define BATCH 64

/* Where the work goes, so the compiler cannot drop the loops. */
static volatile uint64_t sink;
/* What bm_paused expects as its arg, to see the pointer come back unchanged. */
static uint64_t scratch[BATCH];
/* Checks that cannot show in the JSON; main() turns them into exit status 1. */
static int selftest_failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "gbench_selftest: %s\n", what);
        selftest_failures++;
    }
}

/* Two named arguments, real time in microseconds, every counter flag and a label. */
static void bm_args(gb_state *st, void *arg)
{
    check(arg == NULL, "bm_args: arg is not the NULL it was registered with");
    check(!gb_error_occurred(st), "bm_args: an error before any was reported");
    int64_t n = gb_range(st, 0), m = gb_range(st, 1);
    uint64_t items = 0;
    while (gb_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH; i++)
            sink += (uint64_t)(n * m + i);
        items += BATCH;
    }
    gb_counter(st, "n", (double)n, GB_COUNTER_DEFAULT);
    gb_counter(st, "m", (double)m, GB_COUNTER_DEFAULT);
    gb_counter(st, "iters", (double)gb_iterations_done(st), GB_COUNTER_DEFAULT);
    gb_counter(st, "items_rate", (double)items, GB_COUNTER_RATE);
    gb_counter(st, "avg", AVG_TOTAL, GB_COUNTER_AVG_ITERATIONS);
    gb_counter(st, "avg_inv", AVG_TOTAL, GB_COUNTER_AVG_ITERATIONS | GB_COUNTER_INVERT);
    gb_set_label(st, "selftest-label");
}

/* Each batch reports its own time: MANUAL_NS per iteration, whatever the clock says. */
static void bm_manual(gb_state *st, void *arg)
{
    (void)arg;
    while (gb_keep_running_batch(st, MANUAL_BATCH)) {
        for (int i = 0; i < MANUAL_BATCH; i++)
            sink += (uint64_t)i;
        gb_set_iteration_time(st, MANUAL_BATCH * MANUAL_NS * 1e-9);
    }
}

static void bm_work(gb_state *st, void *arg)
{
    (void)arg;
    while (gb_keep_running_batch(st, BATCH))
        for (int i = 0; i < BATCH; i++)
            sink += (uint64_t)i;
}

/* Untimed setup inside every batch. */
static void bm_paused(gb_state *st, void *arg)
{
    uint64_t *buf = arg;
    check(buf == scratch, "bm_paused: arg did not come back unchanged");
    while (gb_keep_running_batch(st, BATCH)) {
        gb_pause_timing(st);
        for (int i = 0; i < BATCH; i++)
            buf[i] = (uint64_t)i * 3;
        gb_resume_timing(st);
        for (int i = 0; i < BATCH; i++)
            sink += buf[i];
    }
}

/* Fails before its loop, as a family does when its setup cannot be done. */
static void bm_error(gb_state *st, void *arg)
{
    (void)arg;
    check(!gb_error_occurred(st), "bm_error: an error before any was reported");
    gb_skip_with_error(st, "deliberate failure");
    check(gb_error_occurred(st), "bm_error: gb_error_occurred is false after gb_skip_with_error");
}

int main(int argc, char **argv)
{
    static const int64_t set1[] = {10, 2}, set2[] = {20, 3};
    static const char *const names[] = {"n", "m"};

    gb_bench *b = gb_register("selftest/args", bm_args, NULL);
    gb_args(b, set1, 2);
    gb_args(b, set2, 2);
    gb_arg_names(b, names, 2);
    gb_use_real_time(b);
    gb_time_unit(b, GB_US);

    b = gb_register("selftest/manual", bm_manual, NULL);
    gb_use_manual_time(b);
    gb_iterations(b, MANUAL_ITERS);

    b = gb_register("selftest/reps_agg", bm_work, NULL);
    gb_repetitions(b, 3);
    gb_report_aggregates_only(b, true);
    gb_min_time(b, 0.005);
    gb_min_warmup_time(b, 0.002);

    b = gb_register("selftest/reps_all", bm_paused, scratch);
    gb_repetitions(b, 3);
    gb_report_aggregates_only(b, false);

    gb_register("selftest/error", bm_error, NULL);

    gb_add_custom_context("ipclab_selftest", "gbench");

    int rc = gb_main(&argc, argv);
    return rc != 0 ? rc : selftest_failures != 0;
}
