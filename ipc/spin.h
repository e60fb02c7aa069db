/* SPDX-License-Identifier: MIT */
/* Busy-waiting between two processes that share memory: a polite spin, and a wait for a
 * shared word that gives up instead of hanging when the other process is gone. */
#ifndef IPCLAB_IPC_SPIN_H
#define IPCLAB_IPC_SPIN_H

#include "clock.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A partner process that has not answered within this long is dead or stuck. */
#define IPC_SPIN_PARTNER_TIMEOUT_NS (10ull * 1000000000ull)

/* One round of a spin loop: tells the core (and a hypervisor watching for PAUSE) that this
 * is a wait, which frees the sibling hyperthread and spares the memory pipeline. */
static inline void ipc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spin until *word == want: true, or false after timeout_ns. */
static inline bool ipc_spin_until(_Atomic uint64_t *word, uint64_t want, uint64_t timeout_ns)
{
    uint64_t t0 = ipc_now_ns();
    while (atomic_load(word) != want) {
        if (ipc_now_ns() - t0 > timeout_ns)
            return false;
        ipc_cpu_relax();
    }
    return true;
}

#endif
