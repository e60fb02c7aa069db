/* SPDX-License-Identifier: MIT */
/* The cost model's arithmetic: overhead and stop latency at an interval, and the interval
 * for a target. */
#include "cost_model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ipc_cost_inputs_valid(const struct ipc_cost_inputs *in)
{
    return isfinite(in->work_ns) && in->work_ns > 0 && isfinite(in->check_ns) &&
           in->check_ns >= 0 && isfinite(in->raise_ns);
}

double ipc_cost_overhead(const struct ipc_cost_inputs *in, uint64_t k)
{
    return in->check_ns / ((double)(k ? k : 1) * in->work_ns);
}

static double stop_ns(const struct ipc_cost_inputs *in, uint64_t k, double share)
{
    if (in->raise_ns < 0)
        return -1;
    return (double)(k ? k : 1) * in->work_ns * share + in->raise_ns;
}

double ipc_cost_stop_avg_ns(const struct ipc_cost_inputs *in, uint64_t k)
{
    return stop_ns(in, k, 0.5);
}

double ipc_cost_stop_worst_ns(const struct ipc_cost_inputs *in, uint64_t k)
{
    return stop_ns(in, k, 1.0);
}

bool ipc_cost_choose_k(const struct ipc_cost_inputs *in, double target, uint64_t max_k,
                       uint64_t *k)
{
    if (max_k < 1)
        max_k = 1;
    /* c / (K w) <= target  <=>  K >= c / (w target); computed in double, so compared
     * against max_k before converting (a huge ratio would overflow uint64_t). */
    double want = in->check_ns / (in->work_ns * target);
    if (!(want <= (double)max_k)) { /* also catches NaN */
        *k = max_k;
        return ipc_cost_overhead(in, max_k) <= target;
    }
    uint64_t chosen = want <= 1 ? 1 : (uint64_t)ceil(want);
    /* ceil of a rounded quotient can land one short of the target: step up if so. */
    while (chosen < max_k && ipc_cost_overhead(in, chosen) > target)
        chosen++;
    if (chosen > max_k)
        chosen = max_k;
    *k = chosen;
    return ipc_cost_overhead(in, chosen) <= target;
}

int ipc_cost_parse_target(const char *s, double *fraction, char *why, size_t len)
{
    size_t n = strlen(s), digits = 0, dots = 0;
    bool ok = n >= 2 && s[n - 1] == '%';
    for (size_t i = 0; ok && i + 1 < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && dots == 0)
            dots++;
        else
            ok = false;
    }
    if (!ok || digits == 0 || n > 32) {
        snprintf(why, len, "not a percentage such as 1%% or 0.5%%");
        return -EINVAL;
    }
    char num[32];
    memcpy(num, s, n - 1);
    num[n - 1] = '\0';
    double pct = strtod(num, NULL);
    if (!(pct > 0) || pct > 100) {
        snprintf(why, len, "an overhead target must be above 0%% and at most 100%%");
        return -EINVAL;
    }
    *fraction = pct / 100;
    return 0;
}
