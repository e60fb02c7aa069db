/* SPDX-License-Identifier: MIT */
/* `null`: checks go through the ops table but touch no shared memory, so its cost is the
 * harness's own (the indirect call and the loop), the floor under every dispatched backend. */
#include "flag.h"

static int null_open(struct flag *f, const struct flag_config *cfg)
{
    (void)f;
    (void)cfg;
    return 0;
}

/* Out of line on purpose: the point is the call through the table. */
static int null_nothing(struct flag *f)
{
    (void)f;
    return 0;
}

static int null_is_raised(struct flag *f)
{
    (void)f;
    return 0;
}

static void null_close(struct flag *f)
{
    (void)f;
}

const struct flag_ops flag_null_ops = {
    .name = "null",
    .description = "dispatch through the ops table, no shared state (the harness-cost baseline)",
    .fast = FLAG_FAST_DISPATCH,
    .props = 0,
    .probe = flag_probe_always,
    .open = null_open,
    .attach = NULL,
    .raise = null_nothing,
    .is_raised = null_is_raised,
    .reset = null_nothing,
    .detach = NULL,
    .close = null_close,
};
