/* SPDX-License-Identifier: MIT */
/* `ipclab spawn`: what a worker costs, in creation time (thread, fork, fork+exec) and in memory
 * (RSS, PSS and USS of a forked worker that reads, writes or ignores its parent's data). */
#include "cli.h"

#include "../ipc/cpu.h"
#include "../ipc/spawn.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "spawn"

#define MAX_SAMPLES 100000
#define WARMUP 3
#define DEFAULT_SAMPLES 1000
#define DEFAULT_SAMPLES_EXEC 200
#define MAX_SIZES 16

static const size_t default_mib[] = {0, 64, 256, 1024};

/* The explanation of the memory figures, in --help and in every JSON line of `memory`. */
#define MEMORY_NOTE                                                                                \
    "RSS counts every page a process maps, shared ones in full in each process; PSS divides "      \
    "each shared page among its sharers; USS (Private_Clean + Private_Dirty) is what the "         \
    "worker's exit would free. A forked C worker shares its parent's pages copy-on-write: "        \
    "reading them copies nothing, so its USS stays at its stack and the few libc pages it "        \
    "writes, plus page tables (VmPTE, in none of the three). Only a page it writes is copied. "    \
    "A forked Python worker costs the chapter's 10-20 MB because CPython writes a reference "      \
    "count into every object it touches, reads included, and its garbage collector writes "        \
    "object headers: each page of the parent's heap it uses becomes a private copy, and a "        \
    "spawned (fork+exec) worker builds a whole interpreter of its own."

/* text on lines of at most 80 columns, each starting with prefix, broken at spaces. */
static void print_wrapped(FILE *out, const char *prefix, const char *text)
{
    size_t width = 80 - strlen(prefix);
    const char *s = text;
    while (*s) {
        size_t n = strlen(s);
        if (n > width) {
            n = width;
            while (n > 0 && s[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        fprintf(out, "%s%.*s\n", prefix, (int)n, s);
        s += n;
        while (*s == ' ')
            s++;
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ipclab spawn latency [options]\n"
            "       ipclab spawn memory [options]\n"
            "\n"
            "latency: how long creating a thread, a forked process and a fork+exec takes.\n"
            "Each sample times one child from just before pthread_create / fork:\n"
            "  start       until the child runs its first instruction: the thread's start\n"
            "              routine or the forked child stamps the (system-wide monotonic)\n"
            "              clock and sends the stamp back through a pipe. fork-exec runs\n"
            "              %s, which cannot stamp: its start is the moment the parent\n"
            "              sees the exec commit (the pipe's close-on-exec end closing once\n"
            "              execve has replaced the image, just before the loader runs)\n"
            "  seen        until the parent, blocked on the pipe, is woken by the child\n"
            "  round trip  until the child is gone again: joined or reaped (fork-exec: the\n"
            "              program's whole run included)\n"
            "The parent is pinned to the first CPU this process may use. same-core runs the\n"
            "child there too; other-core on the second CPU: the child is created on the\n"
            "parent's CPU (the affinity mask is inherited) and pins itself first, a migration\n"
            "that is part of start, as in pthread_create with an affinity attribute. A\n"
            "wake-up across cores can cost ten times one on the same core (VMs especially).\n"
            "fork's cost grows with the parent's mapped memory: its page tables are copied.\n"
            "\n"
            "  -k, --kind K          thread | fork | fork-exec | all (default all)\n"
            "  -p, --placement P     same-core | other-core | all (default all; other-core\n"
            "                        needs two CPUs)\n"
            "  -n, --samples N       samples per row, 1..%d (default %d, %d for\n"
            "                        fork-exec), after %d discarded warm-up samples\n"
            "      --format F        table (default) | json (one JSON object per line)\n"
            "\n"
            "json fields (latency): mode \"latency\", kind, placement, parent_cpu, child_cpu,\n"
            "samples, warmup, exec_path (fork-exec, else null), start_method (\"child-stamp\",\n"
            "or \"exec-commit-seen\" for fork-exec), and for start, seen and round_trip:\n"
            "<x>_median_ns, <x>_p10_ns, <x>_p90_ns, <x>_min_ns, <x>_max_ns, <x>_mean_ns;\n"
            "misplaced: samples whose child stamped on another CPU than child_cpu (null for\n"
            "fork-exec).\n"
            "\n"
            "memory: the parent fills M MiB of private anonymous memory (a heap), forks a\n"
            "worker that reads every word of it, writes one byte in every page of it, or\n"
            "does nothing; while the worker waits, its RSS, PSS and USS and the parent's are\n"
            "read from /proc/<pid>/smaps_rollup.\n"
            "\n"
            "  -m, --parent-mib M    0..%d, up to %d times for several sizes (default\n"
            "                        0, 64, 256, 1024, leaving out those that do not fit).\n"
            "                        2 x M + %d MiB (the parent, a writing worker's copy,\n"
            "                        headroom) must fit in MemAvailable\n"
            "  -c, --child C         read | write | idle | all (default all)\n"
            "      --format F        table (default) | json (one JSON object per line)\n"
            "\n"
            "json fields (memory): mode \"memory\", parent_mib, child, page_size, touch_ns\n"
            "(fork to the worker's pass done), child_rss_kib, child_pss_kib, child_uss_kib,\n"
            "child_shared_kib (Shared_Clean + Shared_Dirty), child_pte_kib, parent_rss_kib,\n"
            "parent_pss_kib, parent_uss_kib, parent_pte_kib, note (the text below).\n"
            "\n",
            IPC_SPAWN_EXEC_DEFAULT, MAX_SAMPLES, DEFAULT_SAMPLES, DEFAULT_SAMPLES_EXEC, WARMUP,
            IPC_SPAWN_MAX_MIB, MAX_SIZES, IPC_SPAWN_MEM_MARGIN_MIB);
    print_wrapped(out, "", MEMORY_NOTE);
    fprintf(out, "\n  -h, --help            this text\n");
}

/* ---- latency -------------------------------------------------------------------------------- */

enum placement { SAME_CORE, OTHER_CORE, PLACEMENTS };
static const char *const placement_names[PLACEMENTS] = {"same-core", "other-core"};

struct row {
    enum ipc_spawn_kind kind;
    enum placement place;
    int parent_cpu, child_cpu;
    size_t samples;
    struct ipc_spawn_stats start, seen, rt;
    size_t misplaced;
};

static void print_stats_json(const char *name, const struct ipc_spawn_stats *s)
{
    printf(",\"%s_median_ns\":%.0f,\"%s_p10_ns\":%.0f,\"%s_p90_ns\":%.0f,\"%s_min_ns\":%.0f"
           ",\"%s_max_ns\":%.0f,\"%s_mean_ns\":%.0f",
           name, s->median, name, s->p10, name, s->p90, name, s->min, name, s->max, name, s->mean);
}

static void print_latency_json(const struct row *r)
{
    bool exec = r->kind == IPC_SPAWN_FORK_EXEC;
    printf("{\"mode\":\"latency\",\"kind\":\"%s\",\"placement\":\"%s\",\"parent_cpu\":%d"
           ",\"child_cpu\":%d,\"samples\":%zu,\"warmup\":%d,\"exec_path\":",
           ipc_spawn_kind_name(r->kind), placement_names[r->place], r->parent_cpu, r->child_cpu,
           r->samples, WARMUP);
    if (exec)
        cli_json_string(stdout, IPC_SPAWN_EXEC_DEFAULT);
    else
        printf("null");
    printf(",\"start_method\":\"%s\"", exec ? "exec-commit-seen" : "child-stamp");
    print_stats_json("start", &r->start);
    print_stats_json("seen", &r->seen);
    print_stats_json("round_trip", &r->rt);
    if (exec)
        printf(",\"misplaced\":null}\n");
    else
        printf(",\"misplaced\":%zu}\n", r->misplaced);
}

static void print_latency_header(int parent_cpu, const char *skipped)
{
    printf("# creation latency in us; parent pinned to CPU %d; %d warm-up samples discarded "
           "per row\n"
           "# start: create call -> child's first instruction (fork-exec: exec commit seen);\n"
           "# seen: -> parent woken by the child; round trip: -> joined / reaped\n",
           parent_cpu, WARMUP);
    if (skipped)
        printf("# %s\n", skipped);
    printf("%-10s %-11s %-5s %7s %9s %-17s %-17s %9s %10s %s\n", "kind", "placement", "cpus",
           "samples", "start", "(p10-p90)", "(min-max)", "seen", "round_trip", "(p10-p90)");
}

static void range_us(char *buf, size_t len, double a, double b)
{
    snprintf(buf, len, "(%.1f-%.1f)", a / 1e3, b / 1e3);
}

static void print_latency_table(const struct row *r)
{
    char cpus[16], sp[32], sm[32], rp[32];
    snprintf(cpus, sizeof cpus, "%d>%d", r->parent_cpu, r->child_cpu);
    range_us(sp, sizeof sp, r->start.p10, r->start.p90);
    range_us(sm, sizeof sm, r->start.min, r->start.max);
    range_us(rp, sizeof rp, r->rt.p10, r->rt.p90);
    printf("%-10s %-11s %-5s %7zu %9.1f %-17s %-17s %9.1f %10.1f %s%s\n",
           ipc_spawn_kind_name(r->kind), placement_names[r->place], cpus, r->samples,
           r->start.median / 1e3, sp, sm, r->seen.median / 1e3, r->rt.median / 1e3, rp,
           r->misplaced ? "  (child ran elsewhere in some samples)" : "");
}

/* All samples of one row. Returns CLI_OK or CLI_RUNTIME (error printed). */
static int measure_row(struct row *r, uint64_t *start, uint64_t *seen, uint64_t *rt)
{
    char err[256];
    for (size_t i = 0; i < WARMUP + r->samples; i++) {
        struct ipc_spawn_sample s;
        if (ipc_spawn_once(r->kind, r->child_cpu, NULL, &s, err, sizeof err) < 0)
            return cli_error(CLI_RUNTIME, CMD, "%s", err);
        if (i < WARMUP)
            continue;
        size_t j = i - WARMUP;
        start[j] = s.start_ns;
        seen[j] = s.seen_ns;
        rt[j] = s.round_trip_ns;
        if (r->kind != IPC_SPAWN_FORK_EXEC && s.child_cpu != r->child_cpu)
            r->misplaced++;
    }
    ipc_spawn_stats(start, r->samples, &r->start);
    ipc_spawn_stats(seen, r->samples, &r->seen);
    ipc_spawn_stats(rt, r->samples, &r->rt);
    return CLI_OK;
}

static int run_latency(int argc, char **argv)
{
    enum { OPT_FORMAT = 256 };
    static const struct option opts[] = {
        {"kind", required_argument, NULL, 'k'},    {"placement", required_argument, NULL, 'p'},
        {"samples", required_argument, NULL, 'n'}, {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},          {0, 0, 0, 0},
    };
    bool kinds[IPC_SPAWN_KINDS] = {true, true, true};
    bool places[PLACEMENTS] = {true, true};
    bool places_all = true, json = false;
    uint64_t samples = 0; /* 0: the defaults */
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":k:p:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': {
            enum ipc_spawn_kind k;
            if (strcmp(optarg, "all") == 0) {
                kinds[0] = kinds[1] = kinds[2] = true;
            } else if (ipc_spawn_kind_parse(optarg, &k) == 0) {
                kinds[0] = kinds[1] = kinds[2] = false;
                kinds[k] = true;
            } else {
                return cli_unknown(CMD, "kind", optarg, "thread, fork, fork-exec, all");
            }
            break;
        }
        case 'p':
            if (strcmp(optarg, "all") == 0) {
                places[SAME_CORE] = places[OTHER_CORE] = places_all = true;
            } else if (strcmp(optarg, "same-core") == 0 || strcmp(optarg, "other-core") == 0) {
                bool same = optarg[0] == 's';
                places[SAME_CORE] = same;
                places[OTHER_CORE] = !same;
                places_all = false;
            } else {
                return cli_unknown(CMD, "placement", optarg, "same-core, other-core, all");
            }
            break;
        case 'n':
            CLI_NUM_OPT(CMD, samples, "samples", 1, MAX_SAMPLES);
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

    int allowed[2];
    int nallowed = ipc_cpu_allowed(allowed, 2);
    if (nallowed < 1)
        return cli_error(CLI_RUNTIME, CMD, "cannot read this process's CPUs: %s",
                         strerror(-nallowed));
    const char *skipped = NULL;
    if (places[OTHER_CORE] && nallowed < 2) {
        if (!places_all)
            return cli_error(CLI_RUNTIME, CMD, "other-core needs two CPUs; this process has one");
        places[OTHER_CORE] = false;
        skipped = "other-core skipped: this process may use one CPU only";
    }
    cpu_set_t saved;
    bool restore = sched_getaffinity(0, sizeof saved, &saved) == 0;
    int rc = ipc_cpu_pin(allowed[0]);
    if (rc < 0)
        return cli_error(CLI_RUNTIME, CMD, "cannot pin to CPU %d: %s", allowed[0], strerror(-rc));

    size_t cap = samples ? samples : DEFAULT_SAMPLES;
    uint64_t *buf = malloc(3 * cap * sizeof *buf);
    if (!buf)
        return cli_error(CLI_RUNTIME, CMD, "out of memory");
    if (!json)
        print_latency_header(allowed[0], skipped);
    rc = CLI_OK;
    for (int k = 0; k < IPC_SPAWN_KINDS && rc == CLI_OK; k++) {
        if (!kinds[k])
            continue;
        for (int p = 0; p < PLACEMENTS && rc == CLI_OK; p++) {
            if (!places[p])
                continue;
            struct row r = {
                .kind = (enum ipc_spawn_kind)k,
                .place = (enum placement)p,
                .parent_cpu = allowed[0],
                .child_cpu = allowed[p == SAME_CORE ? 0 : 1],
                .samples = samples                    ? samples
                           : k == IPC_SPAWN_FORK_EXEC ? DEFAULT_SAMPLES_EXEC
                                                      : DEFAULT_SAMPLES,
            };
            rc = measure_row(&r, buf, buf + cap, buf + 2 * cap);
            if (rc != CLI_OK)
                break;
            if (json)
                print_latency_json(&r);
            else
                print_latency_table(&r);
            if (cli_flush() < 0)
                rc = CLI_RUNTIME; /* nobody reads the results any more: stop measuring */
        }
    }
    free(buf);
    if (restore)
        sched_setaffinity(0, sizeof saved, &saved);
    return rc;
}

/* ---- memory --------------------------------------------------------------------------------- */

static void print_memory_json(size_t mib, enum ipc_touch t, const struct ipc_spawn_memory *m)
{
    const struct ipc_smaps *c = &m->child, *p = &m->parent;
    printf("{\"mode\":\"memory\",\"parent_mib\":%zu,\"child\":\"%s\",\"page_size\":%ld"
           ",\"touch_ns\":%llu,\"child_rss_kib\":%llu,\"child_pss_kib\":%llu,\"child_uss_kib\":%llu"
           ",\"child_shared_kib\":%llu,\"child_pte_kib\":%llu,\"parent_rss_kib\":%llu"
           ",\"parent_pss_kib\":%llu,\"parent_uss_kib\":%llu,\"parent_pte_kib\":%llu,\"note\":",
           mib, ipc_touch_name(t), sysconf(_SC_PAGESIZE), (unsigned long long)m->touch_ns,
           (unsigned long long)c->rss_kib, (unsigned long long)c->pss_kib,
           (unsigned long long)c->uss_kib,
           (unsigned long long)(c->shared_clean_kib + c->shared_dirty_kib),
           (unsigned long long)c->pte_kib, (unsigned long long)p->rss_kib,
           (unsigned long long)p->pss_kib, (unsigned long long)p->uss_kib,
           (unsigned long long)p->pte_kib);
    cli_json_string(stdout, MEMORY_NOTE);
    printf("}\n");
}

static void print_memory_header(void)
{
    printf("# memory of a forked worker and of its parent, KiB, from /proc/<pid>/smaps_rollup\n"
           "# (USS = Private_Clean + Private_Dirty; pte = page tables, VmPTE); touch: fork to\n"
           "# the worker's pass over the parent's memory done\n");
    printf("%10s %-6s %10s %10s %10s %9s  %10s %10s %10s %9s\n", "parent_mib", "child", "rss",
           "pss", "uss", "pte", "parent_rss", "parent_pss", "parent_uss", "touch_ms");
}

static void print_memory_table(size_t mib, enum ipc_touch t, const struct ipc_spawn_memory *m)
{
    const struct ipc_smaps *c = &m->child, *p = &m->parent;
    printf("%10zu %-6s %10llu %10llu %10llu %9llu  %10llu %10llu %10llu %9.2f\n", mib,
           ipc_touch_name(t), (unsigned long long)c->rss_kib, (unsigned long long)c->pss_kib,
           (unsigned long long)c->uss_kib, (unsigned long long)c->pte_kib,
           (unsigned long long)p->rss_kib, (unsigned long long)p->pss_kib,
           (unsigned long long)p->uss_kib, (double)m->touch_ns / 1e6);
}

static int run_memory(int argc, char **argv)
{
    enum { OPT_FORMAT = 256 };
    static const struct option opts[] = {
        {"parent-mib", required_argument, NULL, 'm'},
        {"child", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    size_t sizes[MAX_SIZES];
    size_t nsizes = 0;
    bool touches[IPC_TOUCHES] = {true, true, true};
    bool json = false;
    uint64_t u;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            CLI_NUM_OPT(CMD, u, "parent-mib", 0, IPC_SPAWN_MAX_MIB);
            if (nsizes == MAX_SIZES)
                return cli_error(CLI_USAGE, CMD, "--parent-mib: at most %d sizes", MAX_SIZES);
            sizes[nsizes++] = (size_t)u;
            break;
        case 'c': {
            enum ipc_touch t;
            if (strcmp(optarg, "all") == 0) {
                touches[0] = touches[1] = touches[2] = true;
            } else if (ipc_touch_parse(optarg, &t) == 0) {
                touches[0] = touches[1] = touches[2] = false;
                touches[t] = true;
            } else {
                return cli_unknown(CMD, "child", optarg, "read, write, idle, all");
            }
            break;
        }
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
    /* Refuse before allocating anything: a run that would push the machine into the OOM
     * killer helps nobody. Of the default sizes, those that do not fit are left out. */
    long avail = ipc_mem_available_mib();
    char skipped[128] = "";
    if (nsizes == 0) {
        for (size_t i = 0; i < sizeof default_mib / sizeof default_mib[0]; i++) {
            if (avail < 0 || (long)(2 * default_mib[i] + IPC_SPAWN_MEM_MARGIN_MIB) <= avail)
                sizes[nsizes++] = default_mib[i];
            else if (!skipped[0])
                snprintf(skipped, sizeof skipped,
                         "%zu MiB and up left out: MemAvailable is %ld MiB", default_mib[i], avail);
        }
    }
    for (size_t i = 0; i < nsizes; i++) {
        size_t need = 2 * sizes[i] + IPC_SPAWN_MEM_MARGIN_MIB;
        if (sizes[i] > 0 && avail >= 0 && (long)need > avail)
            return cli_error(CLI_RUNTIME, CMD,
                             "--parent-mib %zu needs about %zu MiB free (the parent and a "
                             "writing worker's copy), MemAvailable is %ld MiB",
                             sizes[i], need, avail);
    }

    if (!json) {
        print_memory_header();
        if (skipped[0])
            printf("# %s\n", skipped);
    }
    int rc = CLI_OK;
    char err[256];
    for (size_t i = 0; i < nsizes && rc == CLI_OK; i++) {
        struct ipc_parent_mem pm;
        int e = ipc_parent_mem_alloc(&pm, sizes[i]);
        if (e < 0) {
            rc = cli_error(CLI_RUNTIME, CMD, "cannot fill %zu MiB: %s", sizes[i], strerror(-e));
            break;
        }
        for (int t = 0; t < IPC_TOUCHES && rc == CLI_OK; t++) {
            if (!touches[t])
                continue;
            struct ipc_spawn_memory m;
            if (ipc_spawn_memory(&pm, (enum ipc_touch)t, -1, &m, err, sizeof err) < 0) {
                rc = cli_error(CLI_RUNTIME, CMD, "%zu MiB: %s", sizes[i], err);
                break;
            }
            if (json)
                print_memory_json(sizes[i], (enum ipc_touch)t, &m);
            else
                print_memory_table(sizes[i], (enum ipc_touch)t, &m);
            if (cli_flush() < 0)
                rc = CLI_RUNTIME;
        }
        ipc_parent_mem_free(&pm);
    }
    if (rc == CLI_OK && !json) {
        print_wrapped(stdout, "# ", MEMORY_NOTE);
        if (cli_flush() < 0)
            rc = CLI_RUNTIME;
    }
    return rc;
}

int cmd_spawn(int argc, char **argv)
{
    if (argc < 2)
        return cli_error(CLI_USAGE, CMD, "no mode given (latency, memory; --help explains)");
    const char *mode = argv[1];
    if (strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(mode, "latency") == 0)
        return run_latency(argc - 1, argv + 1);
    if (strcmp(mode, "memory") == 0)
        return run_memory(argc - 1, argv + 1);
    return cli_unknown(CMD, "mode", mode, "latency, memory");
}
