/* SPDX-License-Identifier: MIT */
/* CPU placement: which CPUs this process may use, and pinning a process to one of them. */
#ifndef IPCLAB_IPC_CPU_H
#define IPCLAB_IPC_CPU_H

/* Fill cpus[] with the CPU numbers in this process's affinity mask, ascending; returns how
 * many (at least 1) or -errno. */
int ipc_cpu_allowed(int *cpus, int max);

/* Pin the calling process to one CPU. 0 or -errno. */
int ipc_cpu_pin(int cpu);

/* The CPU the caller runs on now, or -1. */
int ipc_cpu_current(void);

/* The CPU process pid last ran on (field 39 of /proc/<pid>/stat), or -errno. */
int ipc_cpu_last_of(int pid);

/* True if cpu is one of cpus[0..n). */
int ipc_cpu_in(const int *cpus, int n, int cpu);

#endif
