/* SPDX-License-Identifier: MIT */
/* Error recording shared by every backend. */
#include "flag.h"

#include <stdarg.h>
#include <stdio.h>

int flag_fail(struct flag *f, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->errstr, sizeof f->errstr, fmt, ap);
    va_end(ap);
    f->err = err;
    return err;
}

int flag_probe_always(char *why, size_t len)
{
    (void)why;
    (void)len;
    return 0;
}
