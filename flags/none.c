/* SPDX-License-Identifier: MIT */
/* `none`: no flag at all. Workers search their whole range, as the chapter's naive pool does;
 * the baseline every other backend's overhead is measured against. */
#include "flag.h"

static int none_open(struct flag *f, const struct flag_config *cfg)
{
    (void)f;
    (void)cfg;
    return 0;
}

static void none_close(struct flag *f)
{
    (void)f;
}

const struct flag_ops flag_none_ops = {
    .name = "none",
    .description = "no flag: every worker searches its whole range (the naive pool; baseline)",
    .fast = FLAG_FAST_NOCHECK,
    .props = 0,
    .probe = flag_probe_always,
    .open = none_open,
    .attach = NULL,
    .raise = NULL,
    .is_raised = NULL,
    .reset = NULL,
    .detach = NULL,
    .close = none_close,
};
