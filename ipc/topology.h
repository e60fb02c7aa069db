/* SPDX-License-Identifier: MIT */
/* How many physical cores and logical CPUs this process may use: the chapter's point that
 * hyperthreads are not extra cores for CPU-bound work needs the difference. */
#ifndef IPCLAB_IPC_TOPOLOGY_H
#define IPCLAB_IPC_TOPOLOGY_H

struct ipc_topology {
    int physical_cores; /* cores with at least one CPU this process may run on */
    int logical_cpus;   /* CPUs (hardware threads) this process may run on */
    const char *source; /* "hwloc", or "affinity" when built without hwloc */
};

/* Fill t (restricted to this process's CPU binding). 0, or -errno with t still filled from
 * the affinity mask (physical_cores = logical_cpus then: nothing better is known). */
int ipc_topology_read(struct ipc_topology *t);

#endif
