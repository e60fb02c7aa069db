/* SPDX-License-Identifier: MIT */
/* Error messages into callers' buffers. */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

static void vset(char *buf, size_t len, const char *fmt, va_list ap)
{
    if (buf && len)
        vsnprintf(buf, len, fmt, ap);
}

void ipc_set_err(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(buf, len, fmt, ap);
    va_end(ap);
}

int ipc_errf(char *buf, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(buf, len, fmt, ap);
    va_end(ap);
    return rc;
}
