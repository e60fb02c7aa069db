/* SPDX-License-Identifier: MIT */
/* `mmap`: the flag byte in a file-backed shared mapping (the chapter's mmap flag). Unlike
 * `raw`, the flag is a file any process can open and map; each worker maps it itself. */
#include "flag.h"
#include "flag_fast.h"
#include "shared_word.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAP_SIZE 4096

struct mmap_state {
    struct flag_tmpfile file;
    void *opener_map; /* the opener's own mapping, used for reset and close */
};

/*
 * Map the flag file and fault the page in for reading and writing now, so that the first
 * check or raise after an attach costs a load or a store, not a page fault (about 3 us here:
 * a raise-to-seen measured with fresh attaches was all faults). The write fault is taken
 * with a compare-and-swap of the current value by itself: it stores nothing new, so it
 * cannot undo a concurrent raise.
 */
static int map_fd(struct flag *f, int fd, void **out)
{
    void *p = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED)
        return flag_fail(f, -errno, "mmap: cannot map the flag file: %s", strerror(errno));
    unsigned char cur = __atomic_load_n((unsigned char *)p, __ATOMIC_RELAXED);
    __atomic_compare_exchange_n((unsigned char *)p, &cur, cur, false, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
    *out = p;
    return 0;
}

static int mmap_open(struct flag *f, const struct flag_config *cfg)
{
    struct mmap_state *s = calloc(1, sizeof *s);
    if (!s)
        return flag_fail(f, -ENOMEM, "mmap: out of memory");
    int rc = flag_tmpfile_open(f, cfg, &s->file, MAP_SIZE);
    if (rc == 0) {
        rc = map_fd(f, s->file.fd, &s->opener_map);
        if (rc < 0)
            flag_tmpfile_close(&s->file);
    }
    if (rc < 0) {
        free(s);
        return rc;
    }
    f->priv = s;
    f->word = s->opener_map;
    return 0;
}

/* Map the file again by its path, as an unrelated process would. */
static int mmap_attach(struct flag *f)
{
    struct mmap_state *s = f->priv;
    int fd = open(s->file.path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return flag_fail(f, -errno, "mmap: cannot open %s: %s", s->file.path, strerror(errno));
    void *p = NULL;
    int rc = map_fd(f, fd, &p);
    close(fd);
    if (rc < 0)
        return rc;
    f->word = p;
    return 0;
}

static int mmap_raise(struct flag *f)
{
    *(volatile unsigned char *)f->word = 1;
    return 0;
}

static int mmap_is_raised(struct flag *f)
{
    return flag_fast_volatile(f->word);
}

static int mmap_reset(struct flag *f)
{
    *(volatile unsigned char *)f->word = 0;
    return 0;
}

static int mmap_detach(struct flag *f)
{
    struct mmap_state *s = f->priv;
    if (f->word != s->opener_map)
        munmap(f->word, MAP_SIZE);
    f->word = s->opener_map;
    return 0;
}

static void mmap_close(struct flag *f)
{
    struct mmap_state *s = f->priv;
    munmap(s->opener_map, MAP_SIZE);
    flag_tmpfile_close(&s->file);
    free(s);
}

const struct flag_ops flag_mmap_ops = {
    .name = "mmap",
    .description = "byte in a file-backed MAP_SHARED mapping in a private temp dir, read inline",
    .fast = FLAG_FAST_VOLATILE,
    .props = FLAG_PROP_SHARED,
    .probe = flag_probe_always,
    .open = mmap_open,
    .attach = mmap_attach,
    .raise = mmap_raise,
    .is_raised = mmap_is_raised,
    .reset = mmap_reset,
    .detach = mmap_detach,
    .close = mmap_close,
};
