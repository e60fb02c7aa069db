/* SPDX-License-Identifier: MIT */
/* `locked`: the chapter's Value: a byte guarded by a process-shared lock that both check and
 * raise take. */
#include "flag.h"
#include "flag_fast.h"
#include "shared_word.h"

#include <string.h>

int flag_locked_lock_slow(struct flag_locked_word *w, int rc)
{
    if (rc == EOWNERDEAD) {
        /* The owner died mid-check or mid-raise; the byte is written in one store, so it is
         * consistent either way. Mark the mutex usable again and carry on holding it. */
        rc = pthread_mutex_consistent(&w->mutex);
        if (rc == 0)
            return 0;
    }
    return -rc;
}

static int locked_open(struct flag *f, const struct flag_config *cfg)
{
    (void)cfg;
    int rc = flag_word_open(f, sizeof(struct flag_locked_word));
    if (rc < 0)
        return rc;
    struct flag_locked_word *w = f->word;
    pthread_mutexattr_t attr;
    rc = pthread_mutexattr_init(&attr);
    if (rc == 0)
        rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(&w->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
        flag_word_close(f, sizeof(struct flag_locked_word));
        return flag_fail(f, -rc, "locked: process-shared robust mutex: %s", strerror(rc));
    }
    return 0;
}

static int locked_set(struct flag *f, unsigned char v)
{
    struct flag_locked_word *w = f->word;
    int rc = flag_locked_lock(w);
    if (rc < 0)
        return flag_fail(f, rc, "locked: lock: %s", strerror(-rc));
    w->value = v;
    pthread_mutex_unlock(&w->mutex);
    return 0;
}

static int locked_raise(struct flag *f)
{
    return locked_set(f, 1);
}

static int locked_reset(struct flag *f)
{
    return locked_set(f, 0);
}

static int locked_is_raised(struct flag *f)
{
    int rc = flag_fast_mutex(f->word);
    if (rc < 0)
        return flag_fail(f, rc, "locked: lock: %s", strerror(-rc));
    return rc;
}

static void locked_close(struct flag *f)
{
    struct flag_locked_word *w = f->word;
    pthread_mutex_destroy(&w->mutex);
    flag_word_close(f, sizeof(struct flag_locked_word));
}

const struct flag_ops flag_locked_ops = {
    .name = "locked",
    .description = "byte guarded by a process-shared robust mutex on check and raise (Value)",
    .fast = FLAG_FAST_MUTEX,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = locked_open,
    .attach = NULL, /* the mapping is inherited over fork */
    .raise = locked_raise,
    .is_raised = locked_is_raised,
    .reset = locked_reset,
    .detach = NULL,
    .close = locked_close,
};
