/* SPDX-License-Identifier: MIT */
/* `ipclab payload`: hand a large object to worker processes through a pipe, a file or a shared
 * mapping (or compute serially), check that every way gives the same result, and time each. */
#include "cli.h"

#include "../ipc/cpu.h"
#include "../ipc/payload.h"
#include "../ipc/topology.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#define CMD "payload"
#define MAX_REPEAT 1000
#define DEFAULT_MIB 64
#define MAX_CPUS 1024

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab payload [options]\n"
            "\n"
            "Make an object of 64-byte records (a stand-in for the chapter's dictionary of\n"
            "DataFrames) and have W worker processes each summarise their share of it,\n"
            "after handing it over one of four ways:\n"
            "  serial   the parent summarises the whole object alone (no workers)\n"
            "  pipe     serialise it once, write the whole of it through a pipe to every\n"
            "           worker in turn; each reads and deserialises all of it, then\n"
            "           summarises its share (passing it as an argument to multiprocessing)\n"
            "  file     serialise it once into a file in a private temp dir; each worker\n"
            "           reads and decodes only its share (the chapter's fix)\n"
            "  shared   it already lives in a shared mapping inherited over fork; workers\n"
            "           summarise their share in place: nothing is copied\n"
            "Every way must give the same summary (checked against one computed beforehand).\n"
            "\n"
            "  -W, --way WAY         serial | pipe | file | shared | all (default all, in\n"
            "                        that order, so each run's vs_serial has its baseline)\n"
            "  -s, --size BYTES      object size, %d..%llu bytes, rounded down to whole\n"
            "                        records (default %d MiB)\n"
            "  -m, --size-mib M      object size in MiB, 1..%llu\n"
            "  -w, --workers N       worker processes, 1..%d (default: physical cores)\n"
            "  -r, --repeat R        run every way R times, 1..%d (default 1)\n"
            "  -k, --rounds K        work per record: K rounds of mixing its fields,\n"
            "                        1..%d (default %d, about 3 ns per byte here)\n"
            "      --seed X          the object's content, 0..18446744073709551615\n"
            "                        (default %llu)\n"
            "      --no-pin          do not pin worker i to the i-th available CPU (workers\n"
            "                        beyond the CPUs are never pinned)\n"
            "      --tmpdir DIR      file: where the private directory goes (default\n"
            "                        $TMPDIR, else /tmp)\n"
            "      --format F        table (default) | json (one JSON object per run)\n"
            "  -h, --help            this text\n"
            "\n"
            "Memory: the object, plus for pipe a serialised copy and in every worker the\n"
            "bytes read and the object deserialised (1 GiB and 2 workers: 6 GiB), plus for\n"
            "file the file itself, must fit in MemAvailable with %d MiB to spare, or the\n"
            "run is refused before anything is allocated (exit status 1).\n"
            "\n"
            "json fields: way, bytes and records (the object), workers (0 for serial), rounds,\n"
            "seed (a decimal string), run, wall_ns (serialising, writing, forking, the work,\n"
            "reaping, merging; not making the object or removing the file), bytes_moved\n"
            "(through the kernel: pipe, workers x the serialised size; file, the bytes\n"
            "written plus those the workers read; serial and shared, 0), vs_serial (wall_ns\n"
            "over the serial run's of the same round, null when serial did not run), digest\n"
            "(the summary's hash, a hex string, the same for every way), agrees (true: it\n"
            "matches the reference), pin (per-worker or none) and cpus (null: not pinned).\n",
            IPC_PAYLOAD_MIN_BYTES, IPC_PAYLOAD_MAX_BYTES, DEFAULT_MIB, IPC_PAYLOAD_MAX_BYTES >> 20,
            IPC_PAYLOAD_MAX_WORKERS, MAX_REPEAT, IPC_PAYLOAD_MAX_ROUNDS, WL_PAYLOAD_ROUNDS,
            IPC_PAYLOAD_DEFAULT_SEED, IPC_PAYLOAD_MEM_MARGIN_MIB);
}

struct ctx {
    const struct ipc_payload *p;
    const struct ipc_payload_opts *o; /* way set per run */
    unsigned workers;
    bool json;
};

static void print_cpus(const struct ipc_payload_opts *o, unsigned workers)
{
    if (!o->cpus || workers == 0) {
        printf("null");
        return;
    }
    putchar('[');
    for (unsigned i = 0; i < workers; i++)
        printf("%s%d", i ? "," : "", o->cpus[i % (unsigned)o->ncpus]);
    putchar(']');
}

static void print_json(const struct ctx *c, const struct ipc_payload_result *r, unsigned run,
                       uint64_t serial_ns)
{
    const struct ipc_payload_opts *o = c->o;
    unsigned workers = o->way == IPC_PAYLOAD_SERIAL ? 0 : c->workers;
    printf("{\"way\":\"%s\",\"bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"workers\":%u"
           ",\"rounds\":%u,\"seed\":\"%" PRIu64 "\",\"run\":%u,\"wall_ns\":%" PRIu64
           ",\"bytes_moved\":%" PRIu64 ",\"vs_serial\":",
           ipc_payload_way_name(o->way), c->p->bytes, c->p->nrecords, workers, o->rounds,
           c->p->seed, run, r->wall_ns, r->bytes_moved);
    if (serial_ns)
        printf("%.6g", (double)r->wall_ns / (double)serial_ns);
    else
        printf("null");
    printf(",\"digest\":\"%016" PRIx64 "\",\"agrees\":true,\"pin\":\"%s\",\"cpus\":",
           r->summary.digest, o->cpus && workers ? "per-worker" : "none");
    print_cpus(o, workers);
    printf("}\n");
}

static void print_table_header(const struct ctx *c)
{
    const struct ipc_payload_opts *o = c->o;
    printf("# payload: %" PRIu64 " bytes (%" PRIu64 " record%s of %d bytes), %u worker%s",
           c->p->bytes, c->p->nrecords, c->p->nrecords == 1 ? "" : "s", WL_RECORD_SIZE, c->workers,
           c->workers == 1 ? "" : "s");
    if (o->cpus) {
        printf(" pinned to CPU%s", c->workers == 1 ? "" : "s");
        for (unsigned i = 0; i < c->workers; i++)
            printf("%s%d", i ? "," : " ", o->cpus[i % (unsigned)o->ncpus]);
    } else {
        printf(" not pinned");
    }
    printf(", %u rounds of work per record\n", o->rounds);
    printf("%-4s %-7s %12s %14s %10s  %s\n", "run", "way", "wall_ms", "bytes_moved", "vs_serial",
           "digest");
}

static void print_table(const struct ctx *c, const struct ipc_payload_result *r, unsigned run,
                        uint64_t serial_ns)
{
    char ratio[32] = "-";
    if (serial_ns)
        snprintf(ratio, sizeof ratio, "%.3f", (double)r->wall_ns / (double)serial_ns);
    printf("%-4u %-7s %12.3f %14" PRIu64 " %10s  %016" PRIx64 "\n", run,
           ipc_payload_way_name(c->o->way), (double)r->wall_ns / 1e6, r->bytes_moved, ratio,
           r->summary.digest);
}

int cmd_payload(int argc, char **argv)
{
    enum { OPT_SEED = 256, OPT_NO_PIN, OPT_TMPDIR, OPT_FORMAT };
    static const struct option opts[] = {
        {"way", required_argument, NULL, 'W'},
        {"size", required_argument, NULL, 's'},
        {"size-mib", required_argument, NULL, 'm'},
        {"workers", required_argument, NULL, 'w'},
        {"repeat", required_argument, NULL, 'r'},
        {"rounds", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"tmpdir", required_argument, NULL, OPT_TMPDIR},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    bool all = true, json = false, pin = true, size_set = false, mib_set = false;
    enum ipc_payload_way way = IPC_PAYLOAD_SERIAL;
    uint64_t bytes = (uint64_t)DEFAULT_MIB << 20, mib = 0, workers = 0, repeat = 1;
    uint64_t rounds = WL_PAYLOAD_ROUNDS, seed = IPC_PAYLOAD_DEFAULT_SEED;
    const char *tmpdir = NULL;

    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":W:s:m:w:r:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'W':
            if (strcmp(optarg, "all") == 0)
                all = true;
            else if (ipc_payload_way_parse(optarg, &way) == 0)
                all = false;
            else
                return cli_unknown(CMD, "way", optarg, "serial, pipe, file, shared, all");
            break;
        case 's':
            CLI_NUM_OPT(CMD, bytes, "size", IPC_PAYLOAD_MIN_BYTES, IPC_PAYLOAD_MAX_BYTES);
            size_set = true;
            break;
        case 'm':
            CLI_NUM_OPT(CMD, mib, "size-mib", 1, IPC_PAYLOAD_MAX_BYTES >> 20);
            mib_set = true;
            break;
        case 'w':
            CLI_NUM_OPT(CMD, workers, "workers", 1, IPC_PAYLOAD_MAX_WORKERS);
            break;
        case 'r':
            CLI_NUM_OPT(CMD, repeat, "repeat", 1, MAX_REPEAT);
            break;
        case 'k':
            CLI_NUM_OPT(CMD, rounds, "rounds", 1, IPC_PAYLOAD_MAX_ROUNDS);
            break;
        case OPT_SEED:
            CLI_NUM_OPT(CMD, seed, "seed", 0, UINT64_MAX);
            break;
        case OPT_NO_PIN:
            pin = false;
            break;
        case OPT_TMPDIR:
            if (!*optarg)
                return cli_error(CLI_USAGE, CMD, "--tmpdir: empty path");
            tmpdir = optarg;
            break;
        case OPT_FORMAT:
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
    if (size_set && mib_set)
        return cli_error(CLI_USAGE, CMD, "give --size or --size-mib, not both");
    if (mib_set)
        bytes = mib << 20;

    if (workers == 0) {
        struct ipc_topology topo;
        ipc_topology_read(&topo); /* on failure still filled from the affinity mask */
        workers = (uint64_t)topo.physical_cores;
        if (workers > IPC_PAYLOAD_MAX_WORKERS)
            workers = IPC_PAYLOAD_MAX_WORKERS;
    }
    static int allowed[MAX_CPUS];
    int nallowed = ipc_cpu_allowed(allowed, MAX_CPUS);
    struct ipc_payload_opts o = {
        .workers = (unsigned)workers,
        .rounds = (unsigned)rounds,
        .tmpdir = tmpdir,
    };
    /* One CPU per worker, or none: pinning more workers than CPUs round-robin would give some
     * CPUs two shares and measure that imbalance instead of the hand-off. */
    if (pin && nallowed > 0 && workers <= (uint64_t)nallowed) {
        o.cpus = allowed;
        o.ncpus = nallowed;
    }

    /* Refuse what does not fit before anything is allocated: the object and the hungriest
     * way that will run. */
    char err[256];
    uint64_t need = 0;
    const char *hungriest = NULL;
    for (int w = 0; w < IPC_PAYLOAD_NWAYS; w++) {
        if (!all && w != (int)way)
            continue;
        uint64_t n = ipc_payload_mem_needed((enum ipc_payload_way)w, bytes, (unsigned)workers);
        if (!hungriest || n > need) {
            need = n;
            hungriest = ipc_payload_way_name((enum ipc_payload_way)w);
        }
    }
    char what[96];
    snprintf(what, sizeof what, "a %" PRIu64 "-byte object with the %s way", bytes, hungriest);
    if (ipc_payload_mem_check(bytes + need, what, err, sizeof err) < 0)
        return cli_error(CLI_RUNTIME, CMD, "%s", err);

    struct ipc_payload p;
    if (ipc_payload_create(&p, bytes, seed, err, sizeof err) < 0)
        return cli_error(CLI_RUNTIME, CMD, "%s", err);
    /* The reference every way must match, computed here in this process, untimed. */
    struct wl_payload_summary ref;
    wl_payload_summary_init(&ref);
    wl_payload_summarize(p.records, (size_t)p.nrecords, o.rounds, &ref);

    struct ctx cx = {.p = &p, .o = &o, .workers = (unsigned)workers, .json = json};
    if (!json)
        print_table_header(&cx);
    int rc = CLI_OK;
    for (unsigned run = 1; run <= repeat && rc == CLI_OK; run++) {
        uint64_t serial_ns = 0;
        for (int w = 0; w < IPC_PAYLOAD_NWAYS && rc == CLI_OK; w++) {
            if (!all && w != (int)way)
                continue;
            o.way = (enum ipc_payload_way)w;
            struct ipc_payload_result r;
            if (ipc_payload_run(&p, &o, &r, err, sizeof err) < 0) {
                rc = cli_error(CLI_RUNTIME, CMD, "%s: %s", ipc_payload_way_name(o.way), err);
                break;
            }
            if (!wl_payload_summary_equal(&r.summary, &ref)) {
                rc = cli_error(CLI_RUNTIME, CMD,
                               "%s: the result disagrees with the reference (digest %016" PRIx64
                               ", %" PRIu64 " records; expected %016" PRIx64 ", %" PRIu64 ")",
                               ipc_payload_way_name(o.way), r.summary.digest, r.summary.records,
                               ref.digest, ref.records);
                break;
            }
            if (r.wall_ns == 0)
                r.wall_ns = 1;
            if (o.way == IPC_PAYLOAD_SERIAL)
                serial_ns = r.wall_ns;
            if (json)
                print_json(&cx, &r, run, serial_ns);
            else
                print_table(&cx, &r, run, serial_ns);
            if (cli_flush() < 0)
                rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
        }
    }
    ipc_payload_destroy(&p);
    return rc;
}
