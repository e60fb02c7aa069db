/* SPDX-License-Identifier: MIT */
/* Anonymous shared mappings for flags and worker result slots. */
#include "shared.h"

#include <sys/mman.h>

void *ipc_shared_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void ipc_shared_free(void *p, size_t size)
{
    if (p)
        munmap(p, size);
}
