/* SPDX-License-Identifier: MIT */
/* The shared counter: the unsynchronised and the separately locked get/set variants really
 * lose updates when two processes on two CPUs race, the lock held across the read-modify-write
 * and the atomic add never do, and a single worker never loses anything. */
#include "test.h"

#include "ipc/counter.h"
#include "ipc/cpu.h"

#include <errno.h>

/* Bounded retries for the racy variants: a loss is overwhelmingly likely in one run of a
 * million increments each, but the scheduler may keep the two apart now and then. */
#define MAX_TRIES 20

static int allowed[IPC_COUNTER_MAX_WORKERS];
static int nallowed;

static int run(enum ipc_counter_variant v, unsigned workers, uint64_t increments,
               struct ipc_counter_result *r)
{
    struct ipc_counter_opts o = {
        .variant = v,
        .workers = workers,
        .increments = increments,
        .cpus = allowed,
        .ncpus = nallowed,
    };
    char err[256] = "";
    int rc = ipc_counter_run(&o, r, err, sizeof err);
    if (rc != 0) {
        T_FAIL("%s, %u workers x %" PRIu64 ": %s", ipc_counter_variant_name(v), workers, increments,
               err);
        return -1;
    }
    /* Whatever the variant, the accounting holds together. */
    T_EQ_U64(r->expected, (uint64_t)workers * increments);
    T_EQ_INT(r->lost, (int64_t)(r->expected - r->final));
    T_TRUE(r->final <= r->expected);
    T_TRUE(r->final >= 1);
    T_TRUE(r->wall_ns > 0);
    T_TRUE(r->total_ns >= r->wall_ns);
    return 0;
}

static void test_single_worker(void)
{
    for (int v = 0; v < IPC_COUNTER_VARIANTS; v++) {
        struct ipc_counter_result r;
        if (run((enum ipc_counter_variant)v, 1, 200000, &r) == 0) {
            T_EQ_U64(r.final, 200000);
            T_EQ_INT(r.lost, 0);
        }
    }
}

static void test_never_loses(enum ipc_counter_variant v)
{
    static const unsigned workers[] = {2, 3, 4, 2, 2};
    for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++) {
        struct ipc_counter_result r;
        if (run(v, workers[i], 100000, &r) == 0 && r.lost != 0)
            T_FAIL("%s lost %lld of %" PRIu64 " updates with %u workers",
                   ipc_counter_variant_name(v), (long long)r.lost, r.expected, workers[i]);
    }
}

/* Two workers pinned to two different CPUs (the pool pins worker i to allowed[i]). */
static void test_loses(enum ipc_counter_variant v, uint64_t increments)
{
    int tries = 0;
    struct ipc_counter_result r = {0};
    while (tries < MAX_TRIES) {
        tries++;
        if (run(v, 2, increments, &r) < 0)
            return;
        if (r.lost > 0)
            break;
    }
    if (r.lost <= 0)
        T_FAIL("%s never lost an update in %d runs of 2 x %" PRIu64 " increments",
               ipc_counter_variant_name(v), tries, increments);
    else
        printf("%s: lost %lld of %" PRIu64 " updates (run %d)\n", ipc_counter_variant_name(v),
               (long long)r.lost, r.expected, tries);
}

static void test_names(void)
{
    for (int v = 0; v < IPC_COUNTER_VARIANTS; v++) {
        enum ipc_counter_variant got;
        T_EQ_INT(
            ipc_counter_variant_parse(ipc_counter_variant_name((enum ipc_counter_variant)v), &got),
            0);
        T_EQ_INT(got, v);
    }
    enum ipc_counter_variant got;
    T_EQ_INT(ipc_counter_variant_parse("locked", &got), -1);
    T_TRUE(ipc_counter_variant_name((enum ipc_counter_variant)IPC_COUNTER_VARIANTS) == NULL);
}

static void test_bad_options(void)
{
    struct ipc_counter_result r;
    char err[256] = "";
    struct ipc_counter_opts o = {.variant = IPC_COUNTER_ATOMIC, .workers = 0, .increments = 1};
    T_EQ_INT(ipc_counter_run(&o, &r, err, sizeof err), -EINVAL);
    T_STR_NONEMPTY(err);
    o.workers = IPC_COUNTER_MAX_WORKERS + 1;
    T_EQ_INT(ipc_counter_run(&o, &r, err, sizeof err), -EINVAL);
    o.workers = 1;
    o.increments = 0;
    T_EQ_INT(ipc_counter_run(&o, &r, err, sizeof err), -EINVAL);
    o.increments = (uint64_t)IPC_COUNTER_MAX_INCREMENTS + 1;
    T_EQ_INT(ipc_counter_run(&o, &r, err, sizeof err), -EINVAL);
    o.increments = 1;
    o.variant = (enum ipc_counter_variant)IPC_COUNTER_VARIANTS;
    T_EQ_INT(ipc_counter_run(&o, &r, err, sizeof err), -EINVAL);
}

int main(void)
{
    nallowed = ipc_cpu_allowed(allowed, IPC_COUNTER_MAX_WORKERS);
    if (nallowed < 1) {
        fprintf(stderr, "cannot read this process's CPUs\n");
        return 1;
    }
    test_names();
    test_bad_options();
    test_single_worker();
    test_never_loses(IPC_COUNTER_LOCKED_RMW);
    test_never_loses(IPC_COUNTER_ATOMIC);
    if (nallowed >= 2) {
        test_loses(IPC_COUNTER_UNSYNCHRONISED, 1000000);
        test_loses(IPC_COUNTER_LOCKED_GET_SET, 1000000);
    } else {
        printf("skip: lost updates need two CPUs to race on; this process may use one\n");
    }
    return T_RESULT();
}
