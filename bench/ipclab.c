/* SPDX-License-Identifier: MIT */
/* The ipclab command: one experiment at a time. */
#include "cli.h"

#include "../ipc/cleanup.h"

#include <signal.h>
#include <string.h>

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"counter", cmd_counter, "N processes increment one shared counter, four ways"},
    {"find-primes", cmd_find_primes, "count primes with workers fed from a queue, by job size"},
    {"flags", cmd_flags, "list the flag backends and whether each can run here"},
    {"memo", cmd_memo, "a function's results cached on disk, kept between runs"},
    {"model", cmd_model, "the flag's cost model: check cost, stop latency, the interval to use"},
    {"payload", cmd_payload, "hand a large object to workers: pipe, file, shared memory, serial"},
    {"pi", cmd_pi, "estimate pi by Monte Carlo with threads, GIL threads or processes"},
    {"queue", cmd_queue, "work queues between processes: transports, sentinels, lost work"},
    {"redis-bench", cmd_redis_bench, "Redis over a Unix socket vs TCP, by pipeline depth"},
    {"rng", cmd_rng, "random streams in forked workers: the seeding trap and its fixes"},
    {"spawn", cmd_spawn, "what a thread, a fork and a fork+exec cost: time and memory"},
    {"verify", cmd_verify, "check numbers for primality with a strategy and a flag backend"},
};
#define NSUB (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: ipclab <command> [options]   (ipclab <command> --help for details)\n\n"
                 "ipclab rebuilds the experiments of a book chapter on Python's multiprocessing\n"
                 "natively in C and measures what each inter-process mechanism costs.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < NSUB; i++)
        fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\nexit status: 0 ok, 1 runtime error, 2 usage error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "ipclab: no command given (ipclab --help lists them)\n");
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (strcmp(name, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < NSUB; i++) {
                if (strcmp(argv[2], subcommands[i].name) == 0) {
                    char *args[] = {argv[2], "--help", NULL};
                    return subcommands[i].run(2, args);
                }
            }
            fprintf(stderr, "ipclab: unknown command '%s'\n", CLI_QUOTED(argv[2]));
            return CLI_USAGE;
        }
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < NSUB; i++) {
        if (strcmp(name, subcommands[i].name) == 0) {
            /* Before anything is created: workers, temp dirs and servers go away on Ctrl-C. */
            ipc_cleanup_install();
            int rc = subcommands[i].run(argc - 1, argv + 1);
            ipc_cleanup_run();
            if (cli_flush() < 0) {
                if (cli_stdout_closed) {
                    /* The reader went away (ipclab ... | head): end as a SIGPIPE death would. */
                    signal(SIGPIPE, SIG_DFL);
                    raise(SIGPIPE);
                }
                if (rc == CLI_OK) {
                    perror("ipclab: writing output");
                    rc = CLI_RUNTIME;
                }
            }
            return rc;
        }
    }
    fprintf(stderr, "ipclab: unknown command '%s' (ipclab --help lists them)\n", CLI_QUOTED(name));
    return CLI_USAGE;
}
