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
