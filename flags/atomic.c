/* SPDX-License-Identifier: MIT */
/* `atomic`: a C11 atomic byte in anonymous shared memory; release on raise, acquire on check. */
#include "flag.h"
#include "flag_fast.h"
#include "shared_word.h"

#define WORD_SIZE 64

static int atomic_open(struct flag *f, const struct flag_config *cfg)
{
    (void)cfg;
    return flag_word_open(f, WORD_SIZE);
}

static int atomic_raise(struct flag *f)
{
    atomic_store_explicit((_Atomic unsigned char *)f->word, 1, memory_order_release);
    return 0;
}

static int atomic_is_raised(struct flag *f)
{
    return flag_fast_acquire(f->word);
}

static int atomic_reset(struct flag *f)
{
    atomic_store_explicit((_Atomic unsigned char *)f->word, 0, memory_order_release);
    return 0;
}

static void atomic_close(struct flag *f)
{
    flag_word_close(f, WORD_SIZE);
}

const struct flag_ops flag_atomic_ops = {
    .name = "atomic",
    .description = "C11 atomic byte in shared memory, release store / acquire load, read inline",
    .fast = FLAG_FAST_ACQUIRE,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = atomic_open,
    .attach = NULL, /* the mapping is inherited over fork */
    .raise = atomic_raise,
    .is_raised = atomic_is_raised,
    .reset = atomic_reset,
    .detach = NULL,
    .close = atomic_close,
};
