/* SPDX-License-Identifier: MIT */
/* The one clock every measurement in ipclab uses: CLOCK_MONOTONIC in nanoseconds. */
#ifndef IPCLAB_IPC_CLOCK_H
#define IPCLAB_IPC_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic and system-wide, so stamps taken in different processes compare directly (stop
 * latency subtracts a worker's stamp from another's). About 20 ns through the vDSO here. */
static inline uint64_t ipc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
