/* SPDX-License-Identifier: MIT */
/* Anonymous shared memory inherited across fork: nothing to unlink, nothing to leak. */
#ifndef IPCLAB_IPC_SHARED_H
#define IPCLAB_IPC_SHARED_H

#include <stddef.h>

#define IPC_CACHELINE 64

/* A zero-filled MAP_SHARED|MAP_ANONYMOUS region of at least size bytes, page aligned (so its
 * first byte starts a cache line), shared with every process forked afterwards. NULL and
 * errno on failure. The kernel frees it when the last process unmaps it or exits. */
void *ipc_shared_alloc(size_t size);
void ipc_shared_free(void *p, size_t size);

#endif
