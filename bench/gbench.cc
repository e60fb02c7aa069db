/* SPDX-License-Identifier: MIT */
/* bench/gbench.h on Google Benchmark 1.7: thin forwarding, argument checks, no C++ exceptions. */
#include "bench/gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

using benchmark::Counter;

static_assert(static_cast<unsigned>(GB_COUNTER_DEFAULT) ==
                  static_cast<unsigned>(Counter::kDefaults),
              "GB_COUNTER_DEFAULT differs from Counter::kDefaults");
static_assert(static_cast<unsigned>(GB_COUNTER_RATE) == static_cast<unsigned>(Counter::kIsRate),
              "GB_COUNTER_RATE differs from Counter::kIsRate");
static_assert(static_cast<unsigned>(GB_COUNTER_AVG_ITERATIONS) ==
                  static_cast<unsigned>(Counter::kAvgIterations),
              "GB_COUNTER_AVG_ITERATIONS differs from Counter::kAvgIterations");
static_assert(static_cast<unsigned>(GB_COUNTER_INVERT) == static_cast<unsigned>(Counter::kInvert),
              "GB_COUNTER_INVERT differs from Counter::kInvert");

/*
 * gb_bench is a thin wrapper rather than the library's Benchmark pointer cast: State does not
 * expose how many arguments a run has, and its range() only asserts (compiled out under
 * NDEBUG), so the count recorded here is what lets gb_range() refuse an out-of-range index
 * instead of reading past a vector. The wrapper is owned by the registered lambda, so it lives
 * exactly as long as the library's Benchmark it points to.
 */
struct gb_bench {
    benchmark::internal::Benchmark *b;
    gb_fn fn;
    void *arg;
    size_t width;   /* arguments per set (from gb_args or gb_arg_names); 0 until known */
    bool have_args; /* gb_args was called: runs have `width` arguments */
};

/*
 * gb_state lives on the stack of one call of the family's function: the State plus that run's
 * argument count. The extra indirection costs one load per batch, which the batch amortizes.
 */
struct gb_state {
    benchmark::State &st;
    size_t nargs;
};

/* A misuse of the API: the caller's bug, so stop where a debugger or core dump can see it. */
[[noreturn]] static void misuse(const char *fn, const char *why) noexcept
{
    std::fprintf(stderr, "gbench: %s: %s\n", fn, why);
    std::abort();
}

/* A C++ exception (in practice std::bad_alloc) cannot cross into C: report it and exit 1. */
[[noreturn]] static void failed(const char *fn, const char *what) noexcept
{
    std::fflush(stdout);
    std::fprintf(stderr, "gbench: %s: %s\n", fn, what);
    std::_Exit(1);
}

/* Run f, turning any exception into a one-line error; every entry point goes through this. */
template <typename F> static auto guard(const char *fn, F &&f) noexcept -> decltype(f())
{
    try {
        return f();
    } catch (const std::exception &e) {
        failed(fn, e.what());
    } catch (...) {
        failed(fn, "unknown C++ exception");
    }
}

static benchmark::internal::Benchmark *bm(gb_bench *b, const char *fn)
{
    if (b == nullptr)
        misuse(fn, "NULL benchmark");
    return b->b;
}

static benchmark::State &st(gb_state *s, const char *fn)
{
    if (s == nullptr)
        misuse(fn, "NULL state");
    return s->st;
}

static const benchmark::State &st(const gb_state *s, const char *fn)
{
    if (s == nullptr)
        misuse(fn, "NULL state");
    return s->st;
}

/* ---- registration ------------------------------------------------------------------------ */

gb_bench *gb_register(const char *name, gb_fn fn, void *arg)
{
    return guard(__func__, [&] {
        if (name == nullptr || fn == nullptr)
            misuse("gb_register", "name and fn must not be NULL");
        auto owned = std::make_unique<gb_bench>();
        gb_bench *w = owned.get();
        w->fn = fn;
        w->arg = arg;
        w->b = benchmark::RegisterBenchmark(name, [self = std::move(owned)](benchmark::State &s) {
            gb_state gs{s, self->have_args ? self->width : 0};
            self->fn(&gs, self->arg);
        });
        return w;
    });
}

void gb_args(gb_bench *b, const int64_t *args, size_t n)
{
    guard(__func__, [&] {
        auto *p = bm(b, "gb_args");
        if (args == nullptr || n == 0)
            misuse("gb_args", "an argument set needs at least one argument");
        if (b->width != 0 && n != b->width)
            misuse("gb_args", "every argument set (and the names) must have the same length");
        p->Args(std::vector<int64_t>(args, args + n));
        b->width = n;
        b->have_args = true;
    });
}

void gb_arg_names(gb_bench *b, const char *const *names, size_t n)
{
    guard(__func__, [&] {
        auto *p = bm(b, "gb_arg_names");
        if (names == nullptr || n == 0)
            misuse("gb_arg_names", "at least one name is needed");
        if (b->width != 0 && n != b->width)
            misuse("gb_arg_names", "one name per argument of the sets given to gb_args");
        std::vector<std::string> v;
        for (size_t i = 0; i < n; i++) {
            if (names[i] == nullptr)
                misuse("gb_arg_names", "NULL name");
            v.emplace_back(names[i]);
        }
        p->ArgNames(v);
        b->width = n;
    });
}

/* The rest take the library's own checks (they abort naming the failed condition). */
void gb_use_real_time(gb_bench *b)
{
    guard(__func__, [&] { bm(b, "gb_use_real_time")->UseRealTime(); });
}

void gb_use_manual_time(gb_bench *b)
{
    guard(__func__, [&] { bm(b, "gb_use_manual_time")->UseManualTime(); });
}

void gb_repetitions(gb_bench *b, int n)
{
    guard(__func__, [&] { bm(b, "gb_repetitions")->Repetitions(n); });
}

void gb_report_aggregates_only(gb_bench *b, bool only)
{
    guard(__func__, [&] { bm(b, "gb_report_aggregates_only")->ReportAggregatesOnly(only); });
}

void gb_min_time(gb_bench *b, double seconds)
{
    guard(__func__, [&] { bm(b, "gb_min_time")->MinTime(seconds); });
}

void gb_min_warmup_time(gb_bench *b, double seconds)
{
    guard(__func__, [&] { bm(b, "gb_min_warmup_time")->MinWarmUpTime(seconds); });
}

void gb_iterations(gb_bench *b, int64_t n)
{
    guard(__func__, [&] { bm(b, "gb_iterations")->Iterations(n); });
}

void gb_time_unit(gb_bench *b, enum gb_time_unit unit)
{
    guard(__func__, [&] {
        auto *p = bm(b, "gb_time_unit");
        switch (unit) {
        case GB_NS:
            p->Unit(benchmark::kNanosecond);
            return;
        case GB_US:
            p->Unit(benchmark::kMicrosecond);
            return;
        case GB_MS:
            p->Unit(benchmark::kMillisecond);
            return;
        case GB_S:
            p->Unit(benchmark::kSecond);
            return;
        }
        misuse("gb_time_unit", "unknown time unit");
    });
}

/* ---- inside a benchmark function --------------------------------------------------------- */

bool gb_keep_running_batch(gb_state *s, int64_t n)
{
    return guard(__func__, [&] {
        /* The library only asserts this; n <= 0 would never end the loop. */
        if (n <= 0)
            misuse("gb_keep_running_batch", "the batch size must be positive");
        return st(s, "gb_keep_running_batch").KeepRunningBatch(n);
    });
}

int64_t gb_range(const gb_state *s, size_t i)
{
    return guard(__func__, [&] {
        const benchmark::State &state = st(s, "gb_range");
        if (i >= s->nargs)
            misuse("gb_range", "argument index out of range (see gb_args)");
        return state.range(i);
    });
}

int64_t gb_iterations_done(const gb_state *s)
{
    return guard(__func__, [&] { return st(s, "gb_iterations_done").iterations(); });
}

void gb_pause_timing(gb_state *s)
{
    guard(__func__, [&] { st(s, "gb_pause_timing").PauseTiming(); });
}

void gb_resume_timing(gb_state *s)
{
    guard(__func__, [&] { st(s, "gb_resume_timing").ResumeTiming(); });
}

void gb_set_iteration_time(gb_state *s, double seconds)
{
    guard(__func__, [&] { st(s, "gb_set_iteration_time").SetIterationTime(seconds); });
}

void gb_counter(gb_state *s, const char *name, double value, unsigned flags)
{
    guard(__func__, [&] {
        benchmark::State &state = st(s, "gb_counter");
        if (name == nullptr)
            misuse("gb_counter", "NULL name");
        /* Via the enum's underlying type: converting 1u << 31 straight to an enum whose range
         * is that of int would be undefined. */
        using U = std::underlying_type_t<Counter::Flags>;
        auto f = static_cast<Counter::Flags>(static_cast<U>(flags));
        state.counters[name] = Counter(value, f);
    });
}

void gb_set_label(gb_state *s, const char *label)
{
    guard(__func__, [&] { st(s, "gb_set_label").SetLabel(label != nullptr ? label : ""); });
}

void gb_skip_with_error(gb_state *s, const char *message)
{
    guard(__func__, [&] {
        st(s, "gb_skip_with_error").SkipWithError(message != nullptr ? message : "error");
    });
}

bool gb_error_occurred(const gb_state *s)
{
    return guard(__func__, [&] { return st(s, "gb_error_occurred").error_occurred(); });
}

/* ---- the program ------------------------------------------------------------------------- */

void gb_add_custom_context(const char *key, const char *value)
{
    guard(__func__, [&] {
        if (key == nullptr || value == nullptr)
            misuse("gb_add_custom_context", "NULL key or value");
        benchmark::AddCustomContext(key, value);
    });
}

void gb_initialize(int *argc, char **argv)
{
    guard(__func__, [&] {
        if (argc == nullptr || argv == nullptr)
            misuse("gb_initialize", "NULL argc or argv");
        benchmark::Initialize(argc, argv);
    });
}

size_t gb_run(void)
{
    return guard(__func__, [] { return benchmark::RunSpecifiedBenchmarks(); });
}

void gb_shutdown(void)
{
    guard(__func__, [] { benchmark::Shutdown(); });
}

int gb_main(int *argc, char **argv)
{
    gb_initialize(argc, argv);
    /* One "unrecognized command-line flag" line per leftover argument, on stderr. */
    bool unknown =
        guard(__func__, [&] { return benchmark::ReportUnrecognizedArguments(*argc, argv); });
    if (unknown) {
        gb_shutdown();
        return 2;
    }
    gb_run();
    gb_shutdown();
    return 0;
}
