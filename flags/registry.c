/* SPDX-License-Identifier: MIT */
/* The explicit, sorted table of every flag backend. A backend that cannot run here keeps its
 * entry (its probe says why) so names and plot series stay stable. */
#include "flag.h"

#include <string.h>

extern const struct flag_ops flag_atomic_ops;
extern const struct flag_ops flag_eventfd_ops;
extern const struct flag_ops flag_file_ops;
extern const struct flag_ops flag_locked_ops;
extern const struct flag_ops flag_manager_ops;
extern const struct flag_ops flag_mmap_ops;
extern const struct flag_ops flag_none_ops;
extern const struct flag_ops flag_null_ops;
extern const struct flag_ops flag_pipe_ops;
extern const struct flag_ops flag_raw_ops;
extern const struct flag_ops flag_redis_tcp_ops;
extern const struct flag_ops flag_redis_unix_ops;
extern const struct flag_ops flag_signal_ops;
extern const struct flag_ops flag_uring_ops;

/* Sorted by name (tests/registry_test checks it). */
const struct flag_ops *const flag_backends[] = {
    &flag_atomic_ops,     &flag_eventfd_ops,   &flag_file_ops,    &flag_locked_ops,
    &flag_manager_ops,    &flag_mmap_ops,      &flag_none_ops,    &flag_null_ops,
    &flag_pipe_ops,       &flag_raw_ops,       &flag_redis_tcp_ops, &flag_redis_unix_ops,
    &flag_signal_ops,     &flag_uring_ops,
};
const size_t flag_backend_count = sizeof flag_backends / sizeof flag_backends[0];

const struct flag_ops *flag_backend_find(const char *name)
{
    for (size_t i = 0; i < flag_backend_count; i++)
        if (strcmp(flag_backends[i]->name, name) == 0)
            return flag_backends[i];
    return NULL;
}
