/* SPDX-License-Identifier: MIT */
/* Random number generators for parallel workers: xoshiro256** with its jump, seeded through
 * splitmix64, and the three ways a forked worker can come by its generator. */
#ifndef IPCLAB_WL_RNG_H
#define IPCLAB_WL_RNG_H

#include <stdint.h>

/*
 * splitmix64 (Steele, Lea and Flood; Vigna's splitmix64.c): a 64-bit counter advanced by the
 * golden-ratio gamma and passed through a strong finaliser. It turns any seed, 0 included,
 * into well-spread words, which is what seeding xoshiro needs (its authors' advice).
 */
#define WL_SPLITMIX64_GAMMA 0x9e3779b97f4a7c15u

/* The finaliser alone: a bijection on 64-bit words where every input bit affects every output
 * bit. wl_splitmix64_mix(0) == 0, so callers add something first (the stream adds gamma). */
static inline uint64_t wl_splitmix64_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The next output of the splitmix64 stream whose state is *state (advanced). From state 0 the
 * stream starts 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f. */
static inline uint64_t wl_splitmix64_next(uint64_t *state)
{
    *state += WL_SPLITMIX64_GAMMA;
    return wl_splitmix64_mix(*state);
}

/*
 * xoshiro256** (Blackman and Vigna, 2018): 256 bits of state, period 2^256 - 1, 64-bit
 * outputs. The state must not be all zero (it would stay zero); every seeding function here
 * guarantees that. A plain value: copying the struct copies the stream, which is exactly what
 * fork() does to a generator seeded before it.
 */
struct wl_xoshiro {
    uint64_t s[4];
};

static inline uint64_t wl_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64-bit output; advances g. Inline: the throughput experiment draws hundreds of
 * millions of these and a call would be a third of the cost. */
static inline uint64_t wl_xoshiro_next(struct wl_xoshiro *g)
{
    uint64_t *s = g->s;
    const uint64_t result = wl_rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = wl_rotl64(s[3], 45);
    return result;
}

/* A double uniform in [0, 1): the top 53 bits of the next output. */
static inline double wl_xoshiro_double(struct wl_xoshiro *g)
{
    return (double)(wl_xoshiro_next(g) >> 11) * 0x1.0p-53;
}

/* Seed g from one 64-bit seed: s[0..3] are the first four outputs of the splitmix64 stream
 * started at seed (the authors' recommended seeding). Never all zero. Seed 42 gives the
 * outputs 1546998764402558742, 6990951692964543102, ... */
void wl_xoshiro_seed(struct wl_xoshiro *g, uint64_t seed);

/* Set the state directly (the reference test vectors are given as states). An all-zero state
 * is replaced by the seeding of 0, since it would never leave zero. */
void wl_xoshiro_set_state(struct wl_xoshiro *g, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3);

/* Advance g by 2^128 outputs (the authors' jump polynomial): 2^128 non-overlapping streams of
 * 2^128 outputs each, so worker i jumping i times draws from a stream no other worker reaches.
 * Costs 256 steps. */
void wl_xoshiro_jump(struct wl_xoshiro *g);

/*
 * A per-worker seed: seed, worker index and process id folded in one after the other, each
 * through the splitmix64 finaliser, so neighbouring indices or pids give unrelated seeds (a
 * plain seed + idx would give xoshiro neighbouring states, fine for xoshiro seeded through
 * splitmix64 but a trap with weaker generators). Distinct (idx, pid) pairs give distinct seeds
 * except with probability about 2^-64 per pair.
 */
uint64_t wl_seed_derive(uint64_t seed, uint64_t idx, uint64_t pid);

/* How a forked worker gets its generator. */
enum wl_seeding {
    WL_SEEDING_INHERITED,  /* the parent's generator, seeded once before fork: the trap */
    WL_SEEDING_PER_WORKER, /* reseeded in the worker from wl_seed_derive(seed, idx, pid) */
    WL_SEEDING_JUMP,       /* the parent's generator jumped idx times: independent streams */
};
#define WL_SEEDING_COUNT 3

/* "inherited", "per-worker", "jump"; NULL for a value out of range. */
const char *wl_seeding_name(enum wl_seeding s);
/* Name -> value; 0, or -1 for an unknown name. */
int wl_seeding_parse(const char *name, enum wl_seeding *out);

/*
 * The generator worker idx (process id pid) draws from, given its copy of the parent's
 * generator `inherited` (seeded from `seed` before the fork): for INHERITED a copy of it, for
 * PER_WORKER a fresh seeding from wl_seed_derive(seed, idx, pid), for JUMP a copy jumped idx
 * times (worker 0 keeps the parent's stream).
 */
void wl_rng_for_worker(struct wl_xoshiro *g, const struct wl_xoshiro *inherited, enum wl_seeding s,
                       uint64_t seed, unsigned idx, uint64_t pid);

#endif
