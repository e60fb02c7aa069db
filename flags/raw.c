/* SPDX-License-Identifier: MIT */
/* `raw`: the chapter's RawValue, a bare shared byte with no synchronisation (see flag_fast.h
 * for exactly how it is read and why that is enough for a one-way flag). */
#include "flag.h"
#include "flag_fast.h"
#include "shared_word.h"

#define WORD_SIZE 64

static int raw_open(struct flag *f, const struct flag_config *cfg)
{
    (void)cfg;
    return flag_word_open(f, WORD_SIZE);
}

static int raw_raise(struct flag *f)
{
    *(volatile unsigned char *)f->word = 1;
    return 0;
}

static int raw_is_raised(struct flag *f)
{
    return flag_fast_volatile(f->word);
}

static int raw_reset(struct flag *f)
{
    *(volatile unsigned char *)f->word = 0;
    return 0;
}

static void raw_close(struct flag *f)
{
    flag_word_close(f, WORD_SIZE);
}

const struct flag_ops flag_raw_ops = {
    .name = "raw",
    .description =
        "unsynchronised shared byte, volatile load (the chapter's RawValue), read inline",
    .fast = FLAG_FAST_VOLATILE,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = raw_open,
    .attach = NULL, /* the mapping is inherited over fork */
    .raise = raw_raise,
    .is_raised = raw_is_raised,
    .reset = raw_reset,
    .detach = NULL,
    .close = raw_close,
};
