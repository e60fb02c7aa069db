/* SPDX-License-Identifier: MIT */
/* The trial-division workload against an independent oracle (Miller-Rabin) and the edges of
 * 64-bit arithmetic: isqrt near 2^64, squares of primes just below 2^32, range splits. */
#include "test.h"

#include "workloads/prime.h"

/* Deterministic Miller-Rabin for all 64-bit n (these bases suffice below 3.3e24). */
static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t powmod(uint64_t a, uint64_t e, uint64_t m)
{
    uint64_t r = 1;
    a %= m;
    while (e) {
        if (e & 1)
            r = mulmod(r, a, m);
        a = mulmod(a, a, m);
        e >>= 1;
    }
    return r;
}

static bool oracle_prime(uint64_t n)
{
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2)
        return false;
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (n == bases[i])
            return true;
        if (n % bases[i] == 0)
            return false;
    }
    uint64_t d = n - 1;
    int s = 0;
    while (d % 2 == 0)
        d /= 2, s++;
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        bool composite = true;
        for (int r = 1; r < s && composite; r++) {
            x = mulmod(x, x, n);
            if (x == n - 1)
                composite = false;
        }
        if (composite)
            return false;
    }
    return true;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void)
{
    uint64_t x = rng_state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return rng_state = x;
}

static void check_isqrt(uint64_t n)
{
    uint64_t r = wl_isqrt(n);
    unsigned __int128 r2 = (unsigned __int128)r * r, r1 = (unsigned __int128)(r + 1) * (r + 1);
    if (!(r2 <= n && n < r1))
        T_FAIL("isqrt(%" PRIu64 ") = %" PRIu64 " is wrong", n, r);
}

static void test_isqrt(void)
{
    for (uint64_t n = 0; n < 200000; n++)
        check_isqrt(n);
    const uint64_t top = UINT32_MAX; /* the largest possible root */
    for (uint64_t r = top - 100; r <= top; r++) {
        check_isqrt(r * r);
        check_isqrt(r * r - 1);
        if (r < top)
            check_isqrt(r * r + 2 * r); /* (r+1)^2 - 1 */
    }
    check_isqrt(UINT64_MAX);
    check_isqrt(UINT64_MAX - 1);
    T_EQ_U64(wl_isqrt(UINT64_MAX), UINT32_MAX);
    T_EQ_U64(wl_isqrt(top * top), top);
    T_EQ_U64(wl_isqrt(top * top - 1), top - 1);
    for (int i = 0; i < 1000000; i++)
        check_isqrt(next_random());
    for (int shift = 0; shift < 64; shift++) {
        uint64_t p = (uint64_t)1 << shift;
        check_isqrt(p), check_isqrt(p - 1), check_isqrt(p + 1);
    }
}

static void check_against_oracle(uint64_t n)
{
    uint64_t factor;
    bool prime = wl_is_prime_serial(n, &factor);
    bool want = oracle_prime(n);
    if (prime != want)
        T_FAIL("%" PRIu64 ": trial division says %s, Miller-Rabin says %s", n,
               prime ? "prime" : "composite", want ? "prime" : "composite");
    if (!prime && n >= 2 && (factor < 2 || factor >= n || n % factor != 0))
        T_FAIL("%" PRIu64 ": factor %" PRIu64 " is not a proper divisor", n, factor);
    if (!prime && n >= 2)
        for (uint64_t d = 2; d < factor && d < 1000; d++)
            if (n % d == 0)
                T_FAIL("%" PRIu64 ": factor %" PRIu64 " is not the smallest (%" PRIu64 ")", n,
                       factor, d);
}

static void test_serial(void)
{
    uint64_t f;
    T_TRUE(!wl_is_prime_serial(0, &f));
    T_EQ_U64(f, 0);
    T_TRUE(!wl_is_prime_serial(1, &f));
    T_EQ_U64(f, 0);
    T_TRUE(wl_is_prime_serial(2, &f));
    T_TRUE(wl_is_prime_serial(3, &f));
    T_TRUE(!wl_is_prime_serial(4, &f));
    T_EQ_U64(f, 2);
    T_TRUE(!wl_is_prime_serial(9, &f));
    T_EQ_U64(f, 3);
    T_TRUE(!wl_is_prime_serial(UINT64_MAX, &f)); /* 3 * 5 * 17 * 257 * 641 * 65537 * 6700417 */
    T_EQ_U64(f, 3);
    T_TRUE(!wl_is_prime_serial(112272535095295u, &f)); /* the chapter's first number */
    T_EQ_U64(f, 5);
    for (uint64_t n = 0; n < 100000; n++)
        check_against_oracle(n);
    /* Random numbers up to 2^40: trial division of a 2^40 prime is 5e5 candidates, fast. */
    for (int i = 0; i < 300; i++)
        check_against_oracle(next_random() >> 24);
    /* Known primes, including the largest below 2^32 and 2^40. */
    const uint64_t primes[] = {4294967291u, 4294967279u, 1099511627689u, 1000000007u};
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++) {
        T_TRUE(oracle_prime(primes[i]));
        check_against_oracle(primes[i]);
    }
}

/* The edges that overflow a naive `i * i <= n` loop, checked on the range's last candidates
 * only (a full scan near 2^64 takes seconds; it belongs in a benchmark). */
static void test_edges(void)
{
    const uint64_t p = 4294967291u; /* largest prime below 2^32 */
    const uint64_t sq = p * p;      /* 18446744030759878681 */
    struct wl_range r = wl_prime_candidates(sq, 3);
    T_EQ_U64(r.lo, 3);
    T_EQ_U64(r.hi, p); /* the factor is exactly the root: it must be a candidate */
    struct wl_range top = {.lo = p - 20000, .hi = r.hi};
    T_EQ_U64(wl_trial_divide(sq, top), p);

    const uint64_t max_prime = 18446744073709551557u; /* largest prime below 2^64 */
    T_TRUE(oracle_prime(max_prime));
    r = wl_prime_candidates(max_prime, 3);
    T_EQ_U64(r.hi, UINT32_MAX); /* 4294967295, odd: d + 2 must not be squared */
    top = (struct wl_range){.lo = UINT32_MAX - 200000, .hi = r.hi};
    T_EQ_U64(wl_trial_divide(max_prime, top), 0);

    r = wl_prime_candidates(UINT64_MAX, 3);
    T_EQ_U64(r.hi, UINT32_MAX);
    /* Tiny n: nothing to try. */
    T_TRUE(wl_range_empty(wl_prime_candidates(3, 3)));
    T_TRUE(wl_range_empty(wl_prime_candidates(8, 3)));
    r = wl_prime_candidates(9, 3);
    T_EQ_U64(r.lo, 3);
    T_EQ_U64(r.hi, 3);
    r = wl_prime_candidates(1000000, 20); /* from even: starts at the next odd */
    T_EQ_U64(r.lo, 21);
    T_EQ_U64(r.hi, 999);
}

static void test_below(void)
{
    struct wl_range r = wl_prime_candidates_below(1000000, 21);
    T_EQ_U64(r.lo, 3);
    T_EQ_U64(r.hi, 19);
    r = wl_prime_candidates_below(1000000, 20);
    T_EQ_U64(r.hi, 19);
    T_TRUE(wl_range_empty(wl_prime_candidates_below(1000000, 3)));
    T_TRUE(wl_range_empty(wl_prime_candidates_below(1000000, 0)));
    r = wl_prime_candidates_below(121, 1000); /* clipped to isqrt = 11 */
    T_EQ_U64(r.hi, 11);
    /* below + pool from the same cutoff cover every candidate exactly once */
    for (uint64_t cut = 0; cut < 40; cut++) {
        uint64_t n = 1000003;
        struct wl_range a = wl_prime_candidates_below(n, cut);
        struct wl_range b = wl_prime_candidates(n, cut);
        T_EQ_U64(wl_range_count(a) + wl_range_count(b), wl_range_count(wl_prime_candidates(n, 3)));
        if (!wl_range_empty(a) && !wl_range_empty(b))
            T_EQ_U64(a.hi + 2, b.lo);
    }
}

static void test_split(void)
{
    const uint64_t counts[] = {0, 1, 2, 3, 7, 100, 1001, 2147483648u};
    const unsigned parts[] = {1, 2, 3, 4, 5, 8, 1024};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        struct wl_range r = {.lo = 3, .hi = 3 + 2 * counts[i] - 2};
        if (counts[i] == 0)
            r = (struct wl_range){.lo = 3, .hi = 1};
        if (counts[i] == 2147483648u)
            r = (struct wl_range){.lo = 1, .hi = UINT32_MAX};
        T_EQ_U64(wl_range_count(r), counts[i]);
        for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++) {
            uint64_t next = r.lo, total = 0, biggest = 0, smallest = UINT64_MAX;
            for (unsigned k = 0; k < parts[j]; k++) {
                struct wl_range s = wl_range_split(r, parts[j], k);
                uint64_t c = wl_range_count(s);
                if (c) {
                    if (s.lo != next)
                        T_FAIL("count %" PRIu64 " parts %u: part %u starts at %" PRIu64
                               ", expected %" PRIu64,
                               counts[i], parts[j], k, s.lo, next);
                    next = s.hi + 2;
                }
                total += c;
                biggest = c > biggest ? c : biggest;
                smallest = c < smallest ? c : smallest;
            }
            T_EQ_U64(total, counts[i]);
            T_TRUE(biggest - smallest <= 1);
            if (counts[i])
                T_EQ_U64(next, r.hi + 2);
        }
    }
}

int main(void)
{
    test_isqrt();
    test_serial();
    test_edges();
    test_below();
    test_split();
    return T_RESULT();
}
