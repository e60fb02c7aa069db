/* SPDX-License-Identifier: MIT */
#include "program.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int ipc_program_find(const char *name, char *path, size_t pathlen)
{
    const char *search = getenv("PATH");
    char fallback[256];
    if (!search) {
        size_t n = confstr(_CS_PATH, fallback, sizeof fallback);
        search = n > 0 && n <= sizeof fallback ? fallback : "/usr/bin:/bin";
    }
    for (const char *p = search;; p++) {
        const char *end = strchrnul(p, ':');
        int dirlen = end > p ? (int)(end - p) : 1;
        const char *dir = end > p ? p : ".";
        char cand[PATH_MAX];
        int n = snprintf(cand, sizeof cand, "%.*s/%s", dirlen, dir, name);
        if (n > 0 && (size_t)n < sizeof cand && is_executable_file(cand)) {
            if (pathlen) {
                if ((size_t)n >= pathlen)
                    return -ENAMETOOLONG;
                memcpy(path, cand, (size_t)n + 1);
            }
            return 0;
        }
        if (!*end)
            return -ENOENT;
        p = end;
    }
}
