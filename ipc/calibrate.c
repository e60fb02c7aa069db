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

#define RAISE_ROUNDS 21

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

/* ---- r: one raise seen by a partner -------------------------------------------------------- */

struct rts_ctl {
    alignas(64) _Atomic uint64_t go;    /* round the partner should attach for */
    alignas(64) _Atomic uint64_t ready; /* round it is attached and checking for */
    alignas(64) _Atomic uint64_t seen_ns;
    alignas(64) _Atomic uint64_t done; /* round it has seen the raise and detached for */
    alignas(64) _Atomic int stop;
    char err[FLAG_ERRSTR_LEN];
};

struct rts_arg {
    struct rts_ctl *ctl;
    struct flag *f;
};

static int rts_partner(unsigned idx, void *p)
{
    (void)idx;
    struct rts_arg *a = p;
    struct rts_ctl *ctl = a->ctl;
    for (uint64_t last = 0;;) {
        uint64_t go;
        while ((go = atomic_load(&ctl->go)) == last) {
            if (atomic_load(&ctl->stop))
                return 0;
            ipc_cpu_relax();
        }
        last = go;
        if (flag_attach(a->f) < 0) {
            snprintf(ctl->err, sizeof ctl->err, "%s", a->f->errstr);
            return 1;
        }
        atomic_store(&ctl->ready, go);
        uint64_t t0 = ipc_now_ns();
        int64_t seen;
        /* the check the search loop makes, back to back, until it sees the raise */
        while ((seen = ipc_check_spin(a->f, 1)) == 0) {
            if (ipc_now_ns() - t0 > IPC_SPIN_PARTNER_TIMEOUT_NS) {
                snprintf(ctl->err, sizeof ctl->err, "%s: a raise was not seen within 10 s",
                         a->f->ops->name);
                return 1;
            }
        }
        atomic_store(&ctl->seen_ns, ipc_now_ns());
        if (seen < 0) {
            snprintf(ctl->err, sizeof ctl->err, "%s", a->f->errstr);
            return 1;
        }
        flag_detach(a->f);
        atomic_store(&ctl->done, go);
    }
}

static int fail(char *why, size_t len, int err, const char *what, const char *detail)
{
    snprintf(why, len, "%s%s%s", what, detail && detail[0] ? ": " : "", detail ? detail : "");
    return err;
}

/* One round as the raiser: the one-way time in ns, or -errno with why set. */
static int64_t rts_round(struct rts_arg *a, uint64_t round, char *why, size_t len)
{
    struct rts_ctl *ctl = a->ctl;
    struct flag *f = a->f;
    atomic_store(&ctl->go, round);
    if (!ipc_spin_until(&ctl->ready, round, IPC_SPIN_PARTNER_TIMEOUT_NS))
        return fail(why, len, -ETIMEDOUT, "raise-to-seen: the partner did not attach", ctl->err);
    if (flag_attach(f) < 0)
        return fail(why, len, f->err ? f->err : -EIO, "raise-to-seen", f->errstr);
    uint64_t t0 = ipc_now_ns();
    int rc = flag_raise(f);
    flag_detach(f);
    if (rc < 0)
        return fail(why, len, rc, "raise-to-seen", f->errstr);
    if (!ipc_spin_until(&ctl->done, round, IPC_SPIN_PARTNER_TIMEOUT_NS))
        return fail(why, len, -ETIMEDOUT, "raise-to-seen: the partner did not see the raise",
                    ctl->err);
    /* nobody attached now: the only time the contract allows a reset */
    if ((rc = flag_reset(f)) < 0)
        return fail(why, len, rc, "raise-to-seen", f->errstr);
    uint64_t seen = atomic_load(&ctl->seen_ns);
    return seen > t0 ? (int64_t)(seen - t0) : 0;
}

static int measure_raise(struct flag *f, const int *cpus, int ncpus, double *ns, char *why,
                         size_t len)
{
    struct rts_ctl *ctl = ipc_shared_alloc(sizeof *ctl);
    if (!ctl)
        return fail(why, len, -errno, "raise-to-seen: shared memory", strerror(errno));
    struct rts_arg arg = {.ctl = ctl, .f = f};
    struct ipc_pool pool;
    int rc = ipc_pool_start(&pool, 1, rts_partner, &arg, cpus ? &cpus[1 % ncpus] : NULL,
                            cpus ? 1 : 0);
    if (rc < 0) {
        ipc_shared_free(ctl, sizeof *ctl);
        return fail(why, len, rc, "raise-to-seen: cannot start the partner", strerror(-rc));
    }
    double samples[RAISE_ROUNDS];
    for (uint64_t i = 0; i < RAISE_ROUNDS && rc == 0; i++) {
        int64_t t = rts_round(&arg, i + 1, why, len);
        if (t < 0)
            rc = (int)t;
        else
            samples[i] = (double)t;
    }
    atomic_store(&ctl->stop, 1);
    unsigned failed = 0;
    int wrc = ipc_pool_wait(&pool, rc == 0 ? 10000 : 0, &failed);
    if (rc == 0 && wrc != 0)
        rc = fail(why, len, -ECHILD, "raise-to-seen: the partner failed", ctl->err);
    ipc_pool_destroy(&pool);
    ipc_shared_free(ctl, sizeof *ctl);
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
        snprintf(why, len, "calibration file '%s': %s", path, strerror(err));
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
            snprintf(why, len, "%s:%lu: contains a NUL byte", path, lineno);
            rc = -EINVAL;
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (!header) {
            if (strcmp(line, IPC_CALIBRATION_HEADER) != 0) {
                snprintf(why, len, "%s:%lu: not a calibration file (the header is '%s')", path,
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
            snprintf(why, len, "%s:%lu: a row is a flag name and three numbers >= 0 "
                     "(work_ns above 0, raise_ns may be -), tab-separated", path, lineno);
            rc = -EINVAL;
            break;
        }
        if (strcmp(field[0], flag) == 0) {
            if (rc == 0) {
                snprintf(why, len, "%s:%lu: a second row for %s", path, lineno, flag);
                rc = -EINVAL;
                break;
            }
            *in = row;
            rc = 0;
        }
    }
    if (rc != -EINVAL && ferror(fp)) {
        snprintf(why, len, "calibration file '%s': %s", path, strerror(EIO));
        rc = -EIO;
    } else if (rc == -ENOENT && !header) {
        snprintf(why, len, "calibration file '%s' is empty (no header)", path);
        rc = -EINVAL;
    } else if (rc == -ENOENT) {
        snprintf(why, len, "calibration file '%s' has no row for flag %s", path, flag);
    }
    free(line);
    fclose(fp);
    return rc;
}
