/* SPDX-License-Identifier: MIT */
/* `ipclab verify`'s command line, parsed apart from running it, so that the command-line
 * fuzzer (tests/fuzz/cli_getopt_fuzz.c) runs exactly the parser ipclab runs. */
#ifndef IPCLAB_BENCH_VERIFY_ARGS_H
#define IPCLAB_BENCH_VERIFY_ARGS_H

#include "../flags/flag.h"
#include "../ipc/cost_model.h"
#include "../ipc/verify.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --check-every auto[:P%] and --calibration; `in` and `target_met` are filled by the run. */
struct verify_auto {
    bool on;
    double target;           /* a fraction */
    const char *calibration; /* a file, or NULL: measure the inputs */
    struct ipc_cost_inputs in;
    bool target_met; /* for the number being verified */
};

struct verify_args {
    struct ipc_verify_opts o; /* o.cpus points into allowed: never copy the struct */
    int allowed[IPC_VERIFY_MAX_WORKERS];
    int nallowed;
    const struct flag_ops *ops;
    struct flag_config cfg;
    struct verify_auto autok;
    bool book, json, help;
    uint64_t repeat;
    uint64_t *numbers; /* the NUMBER operands or the book's; stdin is the caller's */
    size_t count, cap;
    int getopt_c, getopt_opt; /* getopt_long's return and optopt when it found the error */
};

/*
 * Parse `verify [options] [NUMBER ...]` (argv[0] is "verify"). CLI_OK with *a filled (help
 * set for -h: nothing else is then meaningful), CLI_USAGE after one error line on stderr, or
 * CLI_RUNTIME (out of memory). Prints nothing else. Free with verify_args_free, whatever the
 * result.
 */
int verify_args_parse(int argc, char **argv, struct verify_args *a);

/* Append a number; 0 or -1 (out of memory). */
int verify_args_push(struct verify_args *a, uint64_t n);

void verify_args_free(struct verify_args *a);

#endif
