/* SPDX-License-Identifier: MIT */
/* Helpers shared by backends: an anonymous shared word, a private temp file. */
#ifndef IPCLAB_FLAG_SHARED_WORD_H
#define IPCLAB_FLAG_SHARED_WORD_H

#include "flag.h"

#include "../ipc/cleanup.h"

#include <stddef.h>

/* Map a zeroed anonymous shared region of `size` bytes (page aligned, so the word starts a
 * cache line and nothing else shares it) into f->word. 0 or -errno with f->errstr set. */
int flag_word_open(struct flag *f, size_t size);
void flag_word_close(struct flag *f, size_t size);

/* A private temp dir holding one zero-filled file of `size` bytes. */
struct flag_tmpfile {
    char dir[IPC_CLEANUP_PATH_MAX];
    char path[IPC_CLEANUP_PATH_MAX];
    int fd; /* the opener's descriptor, -1 when closed */
};

/* Create it under cfg->tmpdir (mode 0700 dir, 0600 file, exclusive). 0 or -errno with
 * f->errstr set; on failure nothing is left behind. */
int flag_tmpfile_open(struct flag *f, const struct flag_config *cfg, struct flag_tmpfile *t,
                      size_t size);
/* Close the descriptor, remove the file and the directory. */
void flag_tmpfile_close(struct flag_tmpfile *t);

#endif
