/* SPDX-License-Identifier: MIT */
/* Placement, backend selection and flag set-up shared by the benchmark families. */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_cfg bench_cfg;

bool bench_backend_selected(const char *name)
{
    if (!bench_cfg.backends || !*bench_cfg.backends)
        return true;
    size_t len = strlen(name);
    for (const char *p = bench_cfg.backends; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (end ? 1 : 0);
    }
    return false;
}

const char *bench_server_place_name(enum bench_server_place p)
{
    switch (p) {
    case SERVER_SAME_CORE:
        return "same-core";
    case SERVER_OTHER_CORE:
        return "other-core";
    default:
        return "none";
    }
}

int bench_server_cpu(enum bench_server_place p)
{
    switch (p) {
    case SERVER_SAME_CORE:
        return bench_cfg.cpu_main;
    case SERVER_OTHER_CORE:
        return bench_cfg.cpu_other;
    default:
        return -1;
    }
}

static void **allocated;
static size_t nallocated, capacity;

void *bench_alloc(size_t size)
{
    if (nallocated == capacity) {
        size_t cap = capacity ? capacity * 2 : 64;
        void **p = realloc(allocated, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "ipclab-bench: out of memory\n");
            exit(1);
        }
        allocated = p;
        capacity = cap;
    }
    void *p = calloc(1, size);
    if (!p) {
        fprintf(stderr, "ipclab-bench: out of memory\n");
        exit(1);
    }
    return allocated[nallocated++] = p;
}

void bench_free_all(void)
{
    while (nallocated)
        free(allocated[--nallocated]);
    free(allocated);
    allocated = NULL;
    capacity = 0;
}

void bench_skip(gb_state *st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gb_skip_with_error(st, msg);
}

int bench_flag_open(gb_state *st, struct flag *f, const struct flag_ops *ops,
                    enum bench_server_place place, unsigned participants)
{
    char why[256];
    if (flag_probe(ops, why, sizeof why) < 0) {
        bench_skip(st, "%s is not available here: %s", ops->name, why);
        return -1;
    }
    if (place == SERVER_OTHER_CORE && bench_cfg.cpu_other < 0) {
        bench_skip(st, "needs a second CPU for the server");
        return -1;
    }
    struct flag_config cfg = {.participants = participants};
    int cpu = bench_server_cpu(place);
    if (cpu >= 0) {
        cfg.pin_server = true;
        cfg.server_cpu = (unsigned)cpu;
    }
    *f = (struct flag)FLAG_INIT;
    if (flag_open(f, ops, &cfg) < 0) {
        bench_skip(st, "%s", f->errstr);
        return -1;
    }
    return 0;
}
