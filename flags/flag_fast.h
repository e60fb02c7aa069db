/* SPDX-License-Identifier: MIT */
/* Inline flag reads for the in-memory backends: what the worker loop compiles in directly. */
#ifndef IPCLAB_FLAG_FAST_H
#define IPCLAB_FLAG_FAST_H

#include "flag.h"

#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>

/*
 * Each reader returns 1 if raised, 0 if clear, -errno on error, and must behave exactly like
 * the backend's ops->is_raised: the conformance suite checks both paths. It takes the shared
 * word itself (f->word, alone on its own 64-byte cache line), not the flag, so a loop loads
 * the pointer once: after an acquire load the compiler may not reuse an earlier load of
 * f->word, and re-reading it would double the cost of a check.
 */

/* atomic: acquire pairs with the raiser's release store. On x86-64 it is a plain load; the
 * ordering costs nothing here but is what makes "seen raised" carry the raiser's writes. */
static inline int flag_fast_acquire(const void *word)
{
    return atomic_load_explicit((const _Atomic unsigned char *)word, memory_order_acquire);
}

/*
 * raw and mmap: a volatile byte load, the C view of the chapter's RawValue (a bare ctypes byte
 * with no lock). volatile, not a relaxed atomic, because that is what the chapter's flag is:
 * unsynchronised memory. volatile forces a fresh load on every check; without it the compiler
 * may keep the byte in a register for the whole loop and never see the raise. A byte load is
 * single-copy atomic on every target ipclab runs on, so no read is torn. The C11 memory model
 * calls the concurrent write and read a data race; it is harmless for a one-way flag that only
 * ever goes 0 -> 1 while workers run: a stale read costs one more chunk of work, never a wrong
 * answer. (On x86-64 this compiles to the same instruction as the atomic acquire load.)
 */
static inline int flag_fast_volatile(const void *word)
{
    return *(const volatile unsigned char *)word;
}

/* signal: the word is this process's own `volatile sig_atomic_t`, written only by its signal
 * handler; the one type C lets a handler write and the interrupted code read. */
static inline int flag_fast_sigatomic(const void *word)
{
    return *(const volatile sig_atomic_t *)word != 0;
}

/* locked: the chapter's Value, whose every access takes its lock. A robust process-shared
 * mutex, so a worker that dies holding it cannot hang the others. */
struct flag_locked_word {
    alignas(64) pthread_mutex_t mutex;
    unsigned char value;
};

/* Take the lock, recovering it if its previous owner died (EOWNERDEAD): the protected byte is
 * always consistent, so recovery only needs pthread_mutex_consistent(). 0 or -errno. */
int flag_locked_lock_slow(struct flag_locked_word *w, int rc);

static inline int flag_locked_lock(struct flag_locked_word *w)
{
    int rc = pthread_mutex_lock(&w->mutex);
    return __builtin_expect(rc == 0, 1) ? 0 : flag_locked_lock_slow(w, rc);
}

static inline int flag_fast_mutex(void *word)
{
    struct flag_locked_word *w = word;
    int rc = flag_locked_lock(w);
    if (rc < 0)
        return rc;
    int v = w->value;
    pthread_mutex_unlock(&w->mutex);
    return v;
}

#endif
