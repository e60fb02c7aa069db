/* SPDX-License-Identifier: MIT */
/* Pi by Monte Carlo: the generator streams, the sample kernels, the shares and the mode names. */
#include "pi.h"

#include <stdalign.h>
#include <string.h>

/* ---- the arithmetic ------------------------------------------------------------------------ */

#define GAMMA 0x9e3779b97f4a7c15ull

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The top 52 bits as the mantissa of a double in [1, 2), minus 1: exact, and unlike an
 * integer-to-double conversion it is a shift, an or and a subtraction, which baseline x86-64
 * SIMD has for 64-bit lanes. */
static inline double unit(uint64_t bits)
{
    uint64_t b = 0x3ff0000000000000ull | (bits >> 12);
    double d;
    memcpy(&d, &b, sizeof d);
    return d - 1.0;
}

struct wl_pi_stream wl_pi_stream(uint64_t seed, unsigned worker)
{
    /* Mixing the seed first keeps seed s + 1 from being seed s shifted by one draw. */
    return (struct wl_pi_stream){.state = mix64(seed) + ((uint64_t)worker << 56) * GAMMA};
}

static inline uint64_t count_each(uint64_t *state, uint64_t n)
{
    uint64_t s = *state, in = 0;
    for (uint64_t i = 0; i < n; i++) {
        s += GAMMA;
        double x = unit(mix64(s));
        s += GAMMA;
        double y = unit(mix64(s));
        in += x * x + y * y <= 1.0;
    }
    *state = s;
    return in;
}

/*
 * The build targets baseline x86-64 (two 64-bit lanes, no 64-bit multiply); on a machine
 * with AVX2 both kernels also get a four-lane version, picked when the program is loaded.
 * Both kernels get it so the comparison is between the two shapes of loop, not between
 * instruction sets: the per-sample loop stays scalar either way, since its draws run through
 * one chain of state updates the compiler does not split into lanes.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef KERNEL_CLONES
#define KERNEL_CLONES
#endif

KERNEL_CLONES uint64_t wl_pi_count_each(struct wl_pi_stream *s, uint64_t n)
{
    return count_each(&s->state, n);
}

KERNEL_CLONES uint64_t wl_pi_count_batch(struct wl_pi_stream *s, uint64_t n)
{
    /* The numpy shape: generate whole arrays, then test them in a loop of its own. Sample k
     * of the block is draws 2k + 1 and 2k + 2 after the block's start, as in count_each. */
    alignas(64) double xs[WL_PI_BLOCK], ys[WL_PI_BLOCK];
    uint64_t st = s->state, in = 0;
    for (; n >= WL_PI_BLOCK; n -= WL_PI_BLOCK) {
        for (uint64_t k = 0; k < WL_PI_BLOCK; k++) {
            xs[k] = unit(mix64(st + (2 * k + 1) * GAMMA));
            ys[k] = unit(mix64(st + (2 * k + 2) * GAMMA));
        }
        st += 2 * (uint64_t)WL_PI_BLOCK * GAMMA;
        uint64_t c = 0;
        for (uint64_t k = 0; k < WL_PI_BLOCK; k++)
            c += xs[k] * xs[k] + ys[k] * ys[k] <= 1.0;
        in += c;
    }
    in += count_each(&st, n);
    s->state = st;
    return in;
}

uint64_t wl_pi_share(uint64_t samples, unsigned workers, unsigned i)
{
    return samples / workers + (i < samples % workers ? 1 : 0);
}

/* ---- modes --------------------------------------------------------------------------------- */

static const char *const mode_names[WL_PI_NMODES] = {
    [WL_PI_SERIAL] = "serial",
    [WL_PI_THREADS] = "threads",
    [WL_PI_PROCESSES] = "processes",
    [WL_PI_GIL_THREADS] = "gil-threads",
};

const char *wl_pi_mode_name(enum wl_pi_mode m)
{
    return (unsigned)m < WL_PI_NMODES ? mode_names[m] : "?";
}

int wl_pi_mode_parse(const char *name, enum wl_pi_mode *out)
{
    for (int i = 0; i < WL_PI_NMODES; i++) {
        if (strcmp(name, mode_names[i]) == 0) {
            *out = (enum wl_pi_mode)i;
            return 0;
        }
    }
    return -1;
}
