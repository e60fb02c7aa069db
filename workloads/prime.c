/* SPDX-License-Identifier: MIT */
/* Prime verification by trial division: isqrt, candidate ranges and their split. */
#include "prime.h"

#include <math.h>

static const struct wl_range EMPTY = {.lo = 3, .hi = 1};

uint64_t wl_isqrt(uint64_t n)
{
    /* The double estimate is within one or two of the truth; fix it up in integers. The
     * estimate for n near 2^64 is 2^32, whose square overflows, hence the clamp first. */
    uint64_t r = (uint64_t)sqrt((double)n);
    if (r > UINT32_MAX)
        r = UINT32_MAX;
    while (r * r > n)
        r--;
    while (r < UINT32_MAX && (r + 1) * (r + 1) <= n)
        r++;
    return r;
}

struct wl_range wl_prime_candidates(uint64_t n, uint64_t from)
{
    uint64_t hi = wl_isqrt(n);
    if (hi % 2 == 0)
        hi = hi ? hi - 1 : 0;
    uint64_t lo = from < 3 ? 3 : from | 1; /* from | 1 cannot wrap: it only sets bit 0 */
    if (hi < 3 || lo > hi)
        return EMPTY;
    return (struct wl_range){.lo = lo, .hi = hi};
}

struct wl_range wl_prime_candidates_below(uint64_t n, uint64_t below)
{
    struct wl_range r = wl_prime_candidates(n, 3);
    if (wl_range_empty(r))
        return r;
    if (below <= 3)
        return EMPTY;
    uint64_t top = (below - 1) | 1; /* largest odd < below */
    if (top >= below)
        top -= 2;
    if (top < r.hi)
        r.hi = top;
    return r;
}

struct wl_range wl_range_split(struct wl_range r, unsigned parts, unsigned i)
{
    uint64_t count = wl_range_count(r);
    if (parts == 0 || i >= parts || count == 0)
        return EMPTY;
    uint64_t base = count / parts, extra = count % parts;
    uint64_t before = (uint64_t)i * base + (i < extra ? i : extra);
    uint64_t mine = base + (i < extra ? 1 : 0);
    if (mine == 0)
        return EMPTY;
    uint64_t lo = r.lo + 2 * before;
    return (struct wl_range){.lo = lo, .hi = lo + 2 * (mine - 1)};
}

bool wl_is_prime_serial(uint64_t n, uint64_t *factor)
{
    *factor = 0;
    if (n < 2)
        return false;
    if (n % 2 == 0) {
        if (n == 2)
            return true;
        *factor = 2;
        return false;
    }
    *factor = wl_trial_divide(n, wl_prime_candidates(n, 3));
    return *factor == 0;
}

uint64_t wl_count_primes_trial(uint64_t lo, uint64_t hi)
{
    uint64_t count = 0, factor;
    for (uint64_t n = lo; n <= hi; n++) {
        count += wl_is_prime_serial(n, &factor);
        if (n == UINT64_MAX) /* n++ would wrap to 0 and go round again */
            break;
    }
    return count;
}

/* Odd numbers per sieve segment: one byte each, 32 KiB, so a segment stays in L1. */
#define SEGMENT 32768
/* isqrt(WL_SIEVE_MAX) = 63245: the largest base prime ever needed. */
#define BASE_MAX 63246
/* Odd primes below BASE_MAX: 6365 (pi(63246) = 6366, less the prime 2). */
#define BASE_PRIMES 6400

uint64_t wl_count_primes_sieve(uint64_t lo, uint64_t hi)
{
    if (hi > WL_SIEVE_MAX)
        return UINT64_MAX;
    if (lo > hi)
        return 0;
    uint64_t count = lo <= 2 && hi >= 2;
    uint64_t first = lo < 3 ? 3 : lo | 1;
    if (first > hi)
        return count;

    /* The odd base primes up to isqrt(hi), by a plain sieve of their own range. */
    uint32_t root = (uint32_t)wl_isqrt(hi);
    _Static_assert(BASE_MAX > 63245, "BASE_MAX must cover isqrt(WL_SIEVE_MAX)");
    unsigned char composite[BASE_MAX / 2 + 1] = {0}; /* index i stands for 2i + 1 */
    uint32_t primes[BASE_PRIMES];
    uint32_t nprimes = 0;
    for (uint32_t p = 3; p <= root; p += 2) {
        if (composite[p / 2])
            continue;
        primes[nprimes++] = p;
        for (uint32_t m = p * p; m <= root; m += 2 * p)
            composite[m / 2] = 1;
    }

    unsigned char seg[SEGMENT];
    for (uint64_t start = first; start <= hi;) {
        uint64_t odds = (hi - start) / 2 + 1;
        uint32_t len = odds < SEGMENT ? (uint32_t)odds : SEGMENT;
        uint64_t last = start + 2 * (len - 1);
        for (uint32_t i = 0; i < len; i++)
            seg[i] = 0;
        for (uint32_t i = 0; i < nprimes; i++) {
            uint64_t p = primes[i];
            if (p * p > last)
                break;
            /* The first odd multiple of p in the segment that is not p itself. */
            uint64_t m = (start + p - 1) / p * p;
            if (m < p * p)
                m = p * p;
            if (m % 2 == 0)
                m += p;
            for (; m <= last; m += 2 * p)
                seg[(m - start) / 2] = 1;
        }
        for (uint32_t i = 0; i < len; i++)
            count += !seg[i];
        if (last >= hi)
            break;
        start = last + 2;
    }
    return count;
}
