/* SPDX-License-Identifier: MIT */
/* The worker loop, instantiated once per flag read method so in-memory checks are inline. */
#include "search.h"

#include "../flags/flag_fast.h"
#include "clock.h"

#include <stdlib.h>

/* The read methods, all with one signature: the flag (for dispatch) and its shared word (for
 * the inline reads, loaded once per loop). */
static inline int check_nocheck(struct flag *f, void *word)
{
    (void)f, (void)word;
    return 0;
}

static inline int check_dispatch(struct flag *f, void *word)
{
    (void)word;
    return flag_is_raised(f);
}

static inline int check_acquire(struct flag *f, void *word)
{
    (void)f;
    return flag_fast_acquire(word);
}

static inline int check_volatile(struct flag *f, void *word)
{
    (void)f;
    return flag_fast_volatile(word);
}

static inline int check_sigatomic(struct flag *f, void *word)
{
    (void)f;
    return flag_fast_sigatomic(word);
}

static inline int check_mutex(struct flag *f, void *word)
{
    (void)f;
    return flag_fast_mutex(word);
}

/*
 * One loop per read method (Concurrency Kit's regressions do the same with macros): the
 * indirect call of the dispatch path costs more than an atomic load, so a shared loop that
 * called through the table would measure the call, not the flag.
 */
#define DEFINE_SEARCH(NAME, CHECK)                                                                 \
    static void search_##NAME(const struct ipc_search *s, struct ipc_search_out *o)                \
    {                                                                                              \
        struct flag *f = s->flag;                                                                  \
        void *word = f->word;                                                                      \
        uint64_t every = s->check_every ? s->check_every : 1;                                      \
        uint64_t d = s->range.lo, hi = s->range.hi;                                                \
        uint64_t candidates = 0, checks = 0;                                                       \
        while (d <= hi) {                                                                          \
            uint64_t left = (hi - d) / 2 + 1;                                                      \
            uint64_t take = left < every ? left : every;                                           \
            struct wl_range chunk = {.lo = d, .hi = d + 2 * (take - 1)};                           \
            uint64_t factor = wl_trial_divide(s->n, chunk);                                        \
            if (factor) {                                                                          \
                candidates += (factor - d) / 2 + 1;                                                \
                o->factor = factor;                                                                \
                raise_found(s, o);                                                                 \
                break;                                                                             \
            }                                                                                      \
            candidates += take;                                                                    \
            if (chunk.hi >= hi)                                                                    \
                break;                                                                             \
            d = chunk.hi + 2;                                                                      \
            checks++;                                                                              \
            int raised = CHECK(f, word);                                                           \
            if (__builtin_expect(raised != 0, 0)) {                                                \
                if (raised < 0)                                                                    \
                    o->err = raised;                                                               \
                else                                                                               \
                    o->stopped = true;                                                             \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        o->stop_ns = ipc_now_ns();                                                                 \
        o->candidates = candidates;                                                                \
        o->checks = checks;                                                                        \
    }                                                                                              \
                                                                                                   \
    static int64_t spin_##NAME(struct flag *f, uint64_t iters)                                     \
    {                                                                                              \
        void *word = f->word;                                                                      \
        int64_t seen = 0;                                                                          \
        for (uint64_t i = 0; i < iters; i++) {                                                     \
            int raised = CHECK(f, word);                                                           \
            if (raised < 0)                                                                        \
                return raised;                                                                     \
            seen += raised;                                                                        \
        }                                                                                          \
        return seen;                                                                               \
    }

static void raise_found(const struct ipc_search *s, struct ipc_search_out *o)
{
    if (s->flag->ops->fast == FLAG_FAST_NOCHECK)
        return;
    uint64_t expected = 0;
    atomic_compare_exchange_strong(s->raise_ns, &expected, ipc_now_ns());
    int rc = flag_raise(s->flag);
    if (rc < 0)
        o->err = rc;
}

DEFINE_SEARCH(nocheck, check_nocheck)
DEFINE_SEARCH(dispatch, check_dispatch)
DEFINE_SEARCH(acquire, check_acquire)
DEFINE_SEARCH(volatile, check_volatile)
DEFINE_SEARCH(mutex, check_mutex)
DEFINE_SEARCH(sigatomic, check_sigatomic)

void ipc_search_run(const struct ipc_search *s, struct ipc_search_out *o)
{
    *o = (struct ipc_search_out){0};
    /* The loop stamps the clock only when it ends (or raises). The first clock read of a
     * freshly forked process faults in the vDSO's data page, 40-60 us in this VM, which would
     * land inside the stop latency it stamps: pay it here, before the search. */
    (void)ipc_now_ns();
    switch (s->flag->ops->fast) {
    case FLAG_FAST_NOCHECK: {
        /* No flag: one chunk, the whole range, as the chapter's naive pool. */
        struct ipc_search whole = *s;
        whole.check_every = UINT64_MAX;
        search_nocheck(&whole, o);
        return;
    }
    case FLAG_FAST_DISPATCH:
        search_dispatch(s, o);
        return;
    case FLAG_FAST_ACQUIRE:
        search_acquire(s, o);
        return;
    case FLAG_FAST_VOLATILE:
        search_volatile(s, o);
        return;
    case FLAG_FAST_MUTEX:
        search_mutex(s, o);
        return;
    case FLAG_FAST_SIGATOMIC:
        search_sigatomic(s, o);
        return;
    }
    o->err = -EINVAL;
}

int64_t ipc_check_spin(struct flag *f, uint64_t iters)
{
    switch (f->ops->fast) {
    case FLAG_FAST_NOCHECK:
        return spin_nocheck(f, iters);
    case FLAG_FAST_DISPATCH:
        return spin_dispatch(f, iters);
    case FLAG_FAST_ACQUIRE:
        return spin_acquire(f, iters);
    case FLAG_FAST_VOLATILE:
        return spin_volatile(f, iters);
    case FLAG_FAST_MUTEX:
        return spin_mutex(f, iters);
    case FLAG_FAST_SIGATOMIC:
        return spin_sigatomic(f, iters);
    }
    return -EINVAL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ipc_check_cost(struct flag *f, double *ns_per_check)
{
    *ns_per_check = 0;
    if (f->ops->fast == FLAG_FAST_NOCHECK)
        return 0;
    const uint64_t min_batch_ns = 200000;
    uint64_t iters = 16;
    for (;;) {
        uint64_t t0 = ipc_now_ns();
        int64_t rc = ipc_check_spin(f, iters);
        uint64_t dt = ipc_now_ns() - t0;
        if (rc < 0)
            return (int)rc;
        if (dt >= min_batch_ns || iters >= (1u << 26))
            break;
        iters *= 2;
    }
    double samples[5];
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = ipc_now_ns();
        int64_t rc = ipc_check_spin(f, iters);
        uint64_t dt = ipc_now_ns() - t0;
        if (rc < 0)
            return (int)rc;
        samples[i] = (double)dt / (double)iters;
    }
    qsort(samples, 5, sizeof samples[0], cmp_double);
    *ns_per_check = samples[2];
    return 0;
}
