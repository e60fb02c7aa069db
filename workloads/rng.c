/* SPDX-License-Identifier: MIT */
/* xoshiro256** seeding and jumping, and the per-worker choice of generator. */
#include "rng.h"

#include <string.h>

void wl_xoshiro_seed(struct wl_xoshiro *g, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        g->s[i] = wl_splitmix64_next(&st);
    /* Four consecutive splitmix64 outputs are a bijection of four distinct counter values, so
     * they cannot all be zero; no fix-up needed. */
}

void wl_xoshiro_set_state(struct wl_xoshiro *g, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3)
{
    if ((s0 | s1 | s2 | s3) == 0) {
        wl_xoshiro_seed(g, 0);
        return;
    }
    g->s[0] = s0;
    g->s[1] = s1;
    g->s[2] = s2;
    g->s[3] = s3;
}

void wl_xoshiro_jump(struct wl_xoshiro *g)
{
    /* The coefficients of the jump polynomial from the authors' xoshiro256starstar.c: the
     * state after 2^128 steps is the XOR of the states after the steps whose bit is set. The
     * engine is linear over GF(2), so this is exact. */
    static const uint64_t jump[] = {0x180ec6d33cfd0aba, 0xd5a61266f0c9392c, 0xa9582618e03fc9aa,
                                    0x39abdc4529b1661c};
    uint64_t acc[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        for (int b = 0; b < 64; b++) {
            if (jump[i] & (UINT64_C(1) << b))
                for (int k = 0; k < 4; k++)
                    acc[k] ^= g->s[k];
            wl_xoshiro_next(g);
        }
    }
    memcpy(g->s, acc, sizeof acc);
}

uint64_t wl_seed_derive(uint64_t seed, uint64_t idx, uint64_t pid)
{
    /* Each input is added with its own odd multiplier of gamma before the finaliser, so the
     * three fields cannot cancel each other by symmetry (seed=a, idx=b vs seed=b, idx=a). */
    uint64_t h = wl_splitmix64_mix(seed + WL_SPLITMIX64_GAMMA);
    h = wl_splitmix64_mix(h ^ (idx + 1) * (WL_SPLITMIX64_GAMMA * 3));
    h = wl_splitmix64_mix(h ^ (pid + 1) * (WL_SPLITMIX64_GAMMA * 5));
    return h;
}

static const char *const seeding_names[WL_SEEDING_COUNT] = {
    [WL_SEEDING_INHERITED] = "inherited",
    [WL_SEEDING_PER_WORKER] = "per-worker",
    [WL_SEEDING_JUMP] = "jump",
};

const char *wl_seeding_name(enum wl_seeding s)
{
    return (unsigned)s < WL_SEEDING_COUNT ? seeding_names[s] : NULL;
}

int wl_seeding_parse(const char *name, enum wl_seeding *out)
{
    for (unsigned i = 0; i < WL_SEEDING_COUNT; i++) {
        if (strcmp(name, seeding_names[i]) == 0) {
            *out = (enum wl_seeding)i;
            return 0;
        }
    }
    return -1;
}

void wl_rng_for_worker(struct wl_xoshiro *g, const struct wl_xoshiro *inherited, enum wl_seeding s,
                       uint64_t seed, unsigned idx, uint64_t pid)
{
    switch (s) {
    case WL_SEEDING_PER_WORKER:
        wl_xoshiro_seed(g, wl_seed_derive(seed, idx, pid));
        break;
    case WL_SEEDING_JUMP:
        *g = *inherited;
        for (unsigned i = 0; i < idx; i++)
            wl_xoshiro_jump(g);
        break;
    case WL_SEEDING_INHERITED:
    default:
        *g = *inherited;
        break;
    }
}
