/* SPDX-License-Identifier: MIT */
/* Physical cores vs logical CPUs, through hwloc (Debian libhwloc-dev) when it is built in. */
#include "topology.h"

#include "cpu.h"

#include <errno.h>

#ifdef IPCLAB_HAVE_HWLOC
#include <hwloc.h>
#endif

int ipc_topology_read(struct ipc_topology *t)
{
    int cpus[1024];
    int n = ipc_cpu_allowed(cpus, 1024);
    t->logical_cpus = n > 0 ? n : 1;
    t->physical_cores = t->logical_cpus;
    t->source = "affinity";
#ifdef IPCLAB_HAVE_HWLOC
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) < 0)
        return -ENOMEM;
    /* Only what this process may use: a container or taskset sees its own share. */
    hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING);
    int rc = hwloc_topology_load(topo);
    if (rc == 0) {
        int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
        int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
        if (cores > 0 && pus > 0) {
            t->physical_cores = cores;
            t->logical_cpus = pus;
            t->source = "hwloc";
        }
    }
    hwloc_topology_destroy(topo);
    return rc < 0 ? -EIO : 0;
#else
    return -ENOTSUP;
#endif
}
