/* SPDX-License-Identifier: MIT */
/* Prime verification by trial division: the arithmetic only, correct for every 64-bit n. */
#ifndef IPCLAB_WL_PRIME_H
#define IPCLAB_WL_PRIME_H

#include <stdbool.h>
#include <stdint.h>

/* floor(sqrt(n)) for every n in [0, 2^64-1]; never overflows (the result is at most 2^32-1). */
uint64_t wl_isqrt(uint64_t n);

/*
 * An inclusive range of odd candidate divisors [lo, hi]; empty when lo > hi.
 * Both ends are odd and hi <= 2^32-1, so lo + 2 never overflows.
 */
struct wl_range {
    uint64_t lo, hi;
};

static inline bool wl_range_empty(struct wl_range r)
{
    return r.lo > r.hi;
}

/* Number of odd candidates in r (0 when empty). */
static inline uint64_t wl_range_count(struct wl_range r)
{
    return wl_range_empty(r) ? 0 : (r.hi - r.lo) / 2 + 1;
}

/*
 * The odd candidates of n that trial division must try: [first odd >= from, largest odd <=
 * isqrt(n)]. from below 3 is raised to 3. Empty when there is nothing to try.
 */
struct wl_range wl_prime_candidates(uint64_t n, uint64_t from);

/* Odd candidates strictly below `below` (and at least 3), clipped to wl_prime_candidates(n, 3). */
struct wl_range wl_prime_candidates_below(uint64_t n, uint64_t below);

/*
 * Part `i` of `parts` contiguous subranges of r, in order, sizes differing by at most one
 * candidate (earlier parts get the extra ones). Parts beyond the candidate count are empty.
 * Together the parts cover r exactly once.
 */
struct wl_range wl_range_split(struct wl_range r, unsigned parts, unsigned i);

/*
 * The smallest divisor of n in the odd range r, or 0 if none divides n. Inline because the
 * flag harness calls it once per chunk of `check_every` candidates and the call must cost
 * nothing next to the divisions (about 1.65 ns each here).
 */
static inline uint64_t wl_trial_divide(uint64_t n, struct wl_range r)
{
    for (uint64_t d = r.lo; d <= r.hi; d += 2)
        if (n % d == 0)
            return d;
    return 0;
}

/* The whole answer, serially: true if n is prime; otherwise *factor is its smallest proper
 * divisor (0 for n < 2, which are not prime and have none). */
bool wl_is_prime_serial(uint64_t n, uint64_t *factor);

/* ---- counting primes in a range (find-primes) ----------------------------------------------- */

/*
 * Primes in [lo, hi] (inclusive; 0 when lo > hi), each number tested on its own with
 * wl_is_prime_serial: the chapter's per-number work, trial division by the odd candidates up
 * to its square root, so a job's cost grows with its numbers as in the chapter and not with a
 * sieve's shared bookkeeping. Correct for every 64-bit range; slow by design.
 */
uint64_t wl_count_primes_trial(uint64_t lo, uint64_t hi);

/* The reference count: primes up to WL_SIEVE_MAX, a segmented sieve of Eratosthenes with a
 * fixed 32 KiB segment on the stack (no allocation). An independent method, to check
 * wl_count_primes_trial against. */
#define WL_SIEVE_MAX 4000000000ull

/* Primes in [lo, hi], both at most WL_SIEVE_MAX (0 when lo > hi); UINT64_MAX if hi is
 * beyond WL_SIEVE_MAX. */
uint64_t wl_count_primes_sieve(uint64_t lo, uint64_t hi);

#endif
