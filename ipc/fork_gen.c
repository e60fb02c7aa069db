/* SPDX-License-Identifier: MIT */
#include "fork_gen.h"

#include <pthread.h>

static unsigned gen;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    gen++;
}

static void watch(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

void ipc_fork_gen_watch(void)
{
    pthread_once(&once, watch);
}

unsigned ipc_fork_gen(void)
{
    return gen;
}
