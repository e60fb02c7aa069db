/* SPDX-License-Identifier: MIT */
/* CPU affinity helpers: placement decides cross-core costs (about 10x on this VM), so every
 * worker is pinned and its CPU recorded. */
#include "cpu.h"

#include <errno.h>
#include <sched.h>

int ipc_cpu_allowed(int *cpus, int max)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        return -errno;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    return n > 0 ? n : -ENODEV;
}

int ipc_cpu_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) < 0 ? -errno : 0;
}

int ipc_cpu_current(void)
{
    return sched_getcpu();
}
