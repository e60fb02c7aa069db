/* SPDX-License-Identifier: MIT */
/* `ipclab flags`: every flag backend, whether it can run here, and what it is. */
#include "cli.h"

#include "../flags/flag.h"

#include <getopt.h>
#include <string.h>

#define CMD "flags"

static void usage(FILE *out)
{
    fprintf(out, "usage: ipclab flags [--format table|json]\n\n"
                 "List every flag backend: its name, whether it is available on this machine\n"
                 "(or why not) and a one-line description. json prints one object per line.\n");
}

/* How the harness reads it: compiled into the worker loop, or through the ops table. */
static const char *check_path(const struct flag_ops *ops)
{
    switch (ops->fast) {
    case FLAG_FAST_NOCHECK:
        return "never";
    case FLAG_FAST_DISPATCH:
        return "dispatch";
    default:
        return "inline";
    }
}

int cmd_flags(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    bool json = false;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cli_parse_format(CMD, optarg, &json) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_unexpected_arg(CMD, argv[optind]);

    if (!json)
        printf("%-12s %-10s %-30s %s\n", "NAME", "CHECK", "AVAILABLE", "DESCRIPTION");
    for (size_t i = 0; i < flag_backend_count; i++) {
        const struct flag_ops *ops = flag_backends[i];
        char why[256];
        int rc = flag_probe(ops, why, sizeof why);
        if (rc < 0 && !why[0])
            snprintf(why, sizeof why, "%s", strerror(-rc));
        if (json) {
            printf("{\"name\":");
            cli_json_string(stdout, ops->name);
            printf(",\"available\":%s,\"reason\":", rc == 0 ? "true" : "false");
            if (rc == 0)
                printf("null");
            else
                cli_json_string(stdout, why);
            printf(",\"check\":\"%s\",\"description\":", check_path(ops));
            cli_json_string(stdout, ops->description);
            printf("}\n");
        } else {
            char avail[300];
            snprintf(avail, sizeof avail, "%s%s", rc == 0 ? "yes" : "no: ", rc == 0 ? "" : why);
            printf("%-12s %-10s %-30s %s\n", ops->name, check_path(ops), avail, ops->description);
        }
    }
    return CLI_OK;
}
