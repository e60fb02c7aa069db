/* SPDX-License-Identifier: MIT */
/* libFuzzer's standalone mode for builds without libFuzzer (gcc, make test): run the harness
 * once on every file named on the command line, and on every file in a named directory (sorted,
 * dot files skipped), so that ctest replays the seed corpora with the normal compiler. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>

static unsigned long runs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            uint8_t *p = realloc(buf, cap *= 2);
            if (!p)
                free(buf);
            buf = p;
        }
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read it\n", path);
        free(buf);
        return -1;
    }
    /* Exactly len bytes, as libFuzzer passes them: AddressSanitizer sees a read past the end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    runs++;
    return 0;
}

static int no_dots(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (!S_ISDIR(sb.st_mode)) {
            if (run_file(argv[i]) < 0)
                return 1;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, no_dots, alphasort);
        if (n < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int rc = 0;
        for (int j = 0; j < n; j++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
            if (rc == 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
                rc = run_file(path);
            free(names[j]);
        }
        free(names);
        if (rc < 0)
            return 1;
    }
    /* An empty corpus would pass while testing nothing. */
    if (runs == 0) {
        fprintf(stderr, "%s: no input files\n", argv[0]);
        return 1;
    }
    printf("%s: %lu inputs, every property held\n", argv[0], runs);
    return 0;
}
