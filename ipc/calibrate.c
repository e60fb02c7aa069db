/* SPDX-License-Identifier: MIT */
/* The cost model's inputs, measured for an open flag and cached per backend and placement,
 * or read from a calibration file. */
#include "calibrate.h"

#include "clock.h"
#include "cpu.h"
#include "pool.h"
#include "search.h"
#include "shared.h"
#include "spin.h"

#include "../workloads/prime.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAISE_ROUNDS 41

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof v[0], cmp_double);
    return v[n / 2];
}

double ipc_calibrate_work_ns(void)
{
    static double w;
    if (w > 0)
        return w;
    const uint64_t batch = 1u << 18;
    struct wl_range r = {.lo = 3, .hi = 3 + 2 * (batch - 1)};
    double samples[5];
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = ipc_now_ns();
        /* a prime: nothing divides, so every candidate of the batch is tried */
        volatile uint64_t sink = wl_trial_divide(IPC_CALIBRATE_WORK_PRIME, r);
        (void)sink;
        samples[i] = (double)(ipc_now_ns() - t0) / (double)batch;
    }
    w = median(samples, 5);
    return w;
}

/* ---- r: a raise in one worker seen by another, both in the middle of a search ------------- */

/*
 * r is what a raise costs a search that is stopped by it, so it is measured the way the pool
 * runs, not with a handshake: each round forks two workers, pinned like the pool's, that run
 * the worker loop (search.h). Worker 1 searches a prime checking the flag after every
 * candidate; worker 0 searches a composite whose factor 100003 it finds after about 50000
 * candidates (0.1 ms here), checking every 10000, then stamps the clock and raises, exactly as
 * a worker does. r is worker 1's stop stamp minus the raise stamp. In long-lived processes
 * with the raise path warm a raise is seen in 0.1 us here; in workers forked for the number,
 * as the pool's are, the first raise runs code and touches pages the new process has not
 * used yet, and takes 1-3 us.
 */
#define RAISER_N 100003000700021ull /* 100003 x 1000000007 */
#define RAISER_FACTOR 100003ull

struct rts_ctl {
    alignas(64) _Atomic uint64_t ready; /* worker 1 is attached and searching */
    alignas(64) _Atomic uint64_t raise_ns;
    alignas(64) _Atomic uint64_t seen_ns;
    char err[FLAG_ERRSTR_LEN];
};

struct rts_arg {
    struct rts_ctl *ctl;
    struct flag *f;
};

static int rts_worker(unsigned idx, void *p)
{
    struct rts_arg *a = p;
    struct rts_ctl *ctl = a->ctl;
    struct flag *f = a->f;
    if (flag_attach(f) < 0) {
        snprintf(ctl->err, sizeof ctl->err, "%s", f->errstr);
        return 1;
    }
    _Atomic uint64_t unused = 0; /* the prime has no factor to raise for */
    struct ipc_search s = {.flag = f};
    if (idx == 1) {
        /* 1.6e8 candidates: about 0.4 s of search for a flag that is never raised */
        s.n = IPC_CALIBRATE_WORK_PRIME;
        s.check_every = 1;
        s.raise_ns = &unused;
        atomic_store(&ctl->ready, 1);
    } else {
        s.n = RAISER_N;
        /* a few checks before the factor, as a pool worker makes: the flag's page is then
         * mapped for reading, as in the pool, and the raise pays only the write fault */
        s.check_every = 10000;
        s.raise_ns = &ctl->raise_ns;
        if (!ipc_spin_until(&ctl->ready, 1, IPC_SPIN_PARTNER_TIMEOUT_NS)) {
            snprintf(ctl->err, sizeof ctl->err, "the checking worker did not start");
            return 1;
        }
    }
    s.range = wl_prime_candidates(s.n, 3);
    struct ipc_search_out out;
    ipc_search_run(&s, &out);
    const char *bad = out.err < 0                            ? f->errstr
                      : idx == 1 && !out.stopped             ? "the raise was not seen"
                      : idx == 0 && out.factor != RAISER_FACTOR ? "the raiser's search went wrong"
                                                             : NULL;
    if (bad) {
        snprintf(ctl->err, sizeof ctl->err, "%s", bad);
        return 1;
    }
    if (idx == 1)
        atomic_store(&ctl->seen_ns, out.stop_ns);
    flag_detach(f);
    return 0;
}

static int fail(char *why, size_t len, int err, const char *what, const char *detail)
{
    snprintf(why, len, "%s%s%s", what, detail && detail[0] ? ": " : "", detail ? detail : "");
    return err;
}

/* One round: the one-way time in ns, or -errno with why set. f is open, not attached. */
static int64_t rts_round(struct rts_arg *a, const int *cpus, int ncpus, char *why, size_t len)
{
    struct rts_ctl *ctl = a->ctl;
    memset(ctl, 0, sizeof *ctl);
    int rc = flag_reset(a->f); /* nobody attached: the only time the contract allows it */
    if (rc < 0)
        return fail(why, len, rc, "raise-to-seen", a->f->errstr);
    struct ipc_pool pool;
    if ((rc = ipc_pool_start(&pool, 2, rts_worker, a, cpus, cpus ? ncpus : 0)) < 0)
        return fail(why, len, rc, "raise-to-seen: cannot start the workers", strerror(-rc));
    unsigned failed = 0;
    rc = ipc_pool_wait(&pool, 10000, &failed);
    if (rc != 0) {
        char how[128] = "";
        if (rc == 1 && !ctl->err[0])
            ipc_pool_describe(&pool, failed, how, sizeof how);
        ipc_pool_destroy(&pool);
        return fail(why, len, rc == 1 ? -ECHILD : rc, "raise-to-seen",
                    ctl->err[0] ? ctl->err : rc == 1 ? how : strerror(-rc));
    }
    ipc_pool_destroy(&pool);
    uint64_t raised = atomic_load(&ctl->raise_ns), seen = atomic_load(&ctl->seen_ns);
    return seen > raised ? (int64_t)(seen - raised) : 0;
}

static int measure_raise(struct flag *f, const int *cpus, int ncpus, double *ns, char *why,
                         size_t len)
{
    struct rts_ctl *ctl = ipc_shared_alloc(sizeof *ctl);
    if (!ctl)
        return fail(why, len, -errno, "raise-to-seen: shared memory", strerror(errno));
    struct rts_arg arg = {.ctl = ctl, .f = f};
    double samples[RAISE_ROUNDS];
    int rc = 0;
    for (int i = 0; i < RAISE_ROUNDS && rc == 0; i++) {
        int64_t t = rts_round(&arg, cpus, ncpus, why, len);
        if (t < 0)
            rc = (int)t;
        else
            samples[i] = (double)t;
    }
    ipc_shared_free(ctl, sizeof *ctl);
    /* the last round's raise: the flag is left clear, as it was given */
    int rrc = flag_reset(f);
    if (rc == 0 && rrc < 0)
        rc = fail(why, len, rrc, "raise-to-seen", f->errstr);
    if (rc == 0)
        *ns = median(samples, RAISE_ROUNDS);
    return rc;
}

/* ---- all three, cached ----------------------------------------------------------------- */

struct cached {
    const struct flag_ops *ops;
    int cpu_main, cpu_other;
    struct ipc_cost_inputs in;
};

static struct cached cache[64];
static size_t ncached;

int ipc_calibrate(struct flag *f, const int *cpus, int ncpus, struct ipc_cost_inputs *in,
                  char *why, size_t len)
{
    if (len)
        why[0] = '\0';
    if (cpus && ncpus < 1)
        cpus = NULL;
    int cpu_main = cpus ? cpus[0] : -1, cpu_other = cpus ? cpus[1 % ncpus] : -1;
    for (size_t i = 0; i < ncached; i++) {
        if (cache[i].ops == f->ops && cache[i].cpu_main == cpu_main &&
            cache[i].cpu_other == cpu_other) {
            *in = cache[i].in;
            return 0;
        }
    }
    cpu_set_t saved;
    bool pinned = cpus && sched_getaffinity(0, sizeof saved, &saved) == 0 &&
                  ipc_cpu_pin(cpu_main) == 0;
    struct ipc_cost_inputs m = {.work_ns = ipc_calibrate_work_ns(), .raise_ns = -1};
    int rc = flag_attach(f);
    if (rc == 0) {
        rc = ipc_check_cost(f, &m.check_ns);
        int rc2 = flag_detach(f);
        if (rc == 0)
            rc = rc2;
    }
    if (rc < 0)
        fail(why, len, rc, f->errstr, NULL);
    else if (f->ops->props & FLAG_PROP_SHARED)
        rc = measure_raise(f, cpus, ncpus, &m.raise_ns, why, len);
    if (pinned)
        sched_setaffinity(0, sizeof saved, &saved);
    if (rc < 0)
        return rc;
    if (ncached < sizeof cache / sizeof cache[0])
        cache[ncached++] = (struct cached){f->ops, cpu_main, cpu_other, m};
    *in = m;
    return 0;
}

/* ---- the calibration file ------------------------------------------------------------------ */

/* A finite number >= 0 taking the whole field, or "-" (stored as -1) where dash_ok. */
static bool parse_field(const char *s, bool dash_ok, double *v)
{
    if (dash_ok && strcmp(s, "-") == 0) {
        *v = -1;
        return true;
    }
    if (!*s || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return !*end && errno == 0 && isfinite(*v) && *v >= 0;
}

int ipc_calibration_read(const char *path, const char *flag, struct ipc_cost_inputs *in,
                         char *why, size_t len)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int err = errno;
        snprintf(why, len, "%s", strerror(err));
        return err == ENOENT ? -EINVAL : -err; /* a missing file is not a missing row */
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    bool header = false;
    int rc = -ENOENT;
    while ((n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if ((size_t)n != strlen(line)) {
            snprintf(why, len, "line %lu: contains a NUL byte", lineno);
            rc = -EINVAL;
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (!header) {
            if (strcmp(line, IPC_CALIBRATION_HEADER) != 0) {
                snprintf(why, len, "line %lu: not a calibration file (the header is '%s')",
                         lineno, "flag<TAB>work_ns<TAB>check_ns<TAB>raise_ns");
                rc = -EINVAL;
                break;
            }
            header = true;
            continue;
        }
        char *field[5] = {0};
        int nf = 0;
        for (char *s = line, *tab; nf < 5; s = tab + 1) {
            field[nf++] = s;
            if (!(tab = strchr(s, '\t')))
                break;
            *tab = '\0';
        }
        struct ipc_cost_inputs row;
        if (nf != 4 || !field[0][0] || !parse_field(field[1], false, &row.work_ns) || !(row.work_ns > 0) ||
            !parse_field(field[2], false, &row.check_ns) ||
            !parse_field(field[3], true, &row.raise_ns)) {
            snprintf(why, len, "line %lu: a row is a flag name and three numbers >= 0 "
                     "(work_ns above 0, raise_ns may be -), tab-separated", lineno);
            rc = -EINVAL;
            break;
        }
        if (strcmp(field[0], flag) == 0) {
            if (rc == 0) {
                snprintf(why, len, "line %lu: a second row for %s", lineno, flag);
                rc = -EINVAL;
                break;
            }
            *in = row;
            rc = 0;
        }
    }
    if (rc != -EINVAL && ferror(fp)) {
        snprintf(why, len, "%s", strerror(EIO));
        rc = -EIO;
    } else if (rc == -ENOENT && !header) {
        snprintf(why, len, "empty (no header)");
        rc = -EINVAL;
    } else if (rc == -ENOENT) {
        snprintf(why, len, "no row for flag %s", flag);
    }
    free(line);
    fclose(fp);
    return rc;
}
