/* SPDX-License-Identifier: MIT */
/* The environment of a benchmark run, written into the JSON context so that a result can be
 * compared with another machine's, or told apart from a run on a busy or different one. */
#include "bench.h"

#include "../flags/flag.h"
#include "../ipc/cpu.h"
#include "../ipc/topology.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef IPCLAB_HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

#ifndef IPCLAB_C_FLAGS
#define IPCLAB_C_FLAGS "unknown"
#endif
#ifndef IPCLAB_BUILD_TYPE
#define IPCLAB_BUILD_TYPE "unknown"
#endif
#ifndef IPCLAB_SOURCE_DIR
#define IPCLAB_SOURCE_DIR "."
#endif

/* First line of a command's output, trailing newline removed; "unknown" if it fails. */
static void first_line(const char *cmd, char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)len, p))
        out[strcspn(out, "\n")] = '\0';
    else
        snprintf(out, len, "unknown");
    pclose(p);
}

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *fp = fopen("/proc/cpuinfo", "re");
    if (!fp)
        return;
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += 1 + strspn(v + 1, " \t");
                v[strcspn(v, "\n")] = '\0';
                snprintf(out, len, "%s", v);
            }
            break;
        }
    }
    fclose(fp);
}

void bench_add_context(void)
{
    char buf[512];
    cpu_model(buf, sizeof buf);
    gb_add_custom_context("cpu_model", buf);

    snprintf(buf, sizeof buf, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    gb_add_custom_context("cpus_online", buf);
    int cpus[256];
    int n = ipc_cpu_allowed(cpus, 256);
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && off < sizeof buf; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%d", i ? "," : "", cpus[i]);
    gb_add_custom_context("affinity", buf);
    struct ipc_topology topo;
    ipc_topology_read(&topo);
    snprintf(buf, sizeof buf, "%d", topo.physical_cores);
    gb_add_custom_context("physical_cores", buf);
    snprintf(buf, sizeof buf, "%d", topo.logical_cpus);
    gb_add_custom_context("logical_cpus", buf);
    gb_add_custom_context("topology_source", topo.source);
    snprintf(buf, sizeof buf,
             "benchmark process on CPU %d; partner processes and worker 1 on CPU %d; "
             "server:same-core = CPU %d, server:other-core = CPU %d; verify, sweep and model put "
             "their server on CPU %d",
             bench_cfg.cpu_main, bench_cfg.cpu_other, bench_cfg.cpu_main, bench_cfg.cpu_other,
             bench_cfg.cpu_main);
    gb_add_custom_context("placement", buf);

    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
        gb_add_custom_context("kernel", buf);
    }
#ifdef __VERSION__
    gb_add_custom_context("compiler", "gcc-compatible " __VERSION__);
#endif
    gb_add_custom_context("c_flags", IPCLAB_C_FLAGS);
    gb_add_custom_context("build_type", IPCLAB_BUILD_TYPE);

    first_line("git -C '" IPCLAB_SOURCE_DIR "' rev-parse HEAD 2>/dev/null", buf, sizeof buf);
    char dirty[16];
    first_line("git -C '" IPCLAB_SOURCE_DIR "' status --porcelain --untracked-files=no "
               "2>/dev/null | head -1 | wc -l",
               dirty, sizeof dirty);
    if (strcmp(dirty, "0") != 0 && strcmp(buf, "unknown") != 0)
        strncat(buf, "-dirty", sizeof buf - strlen(buf) - 1);
    gb_add_custom_context("git_sha", buf);

#ifdef IPCLAB_URING_VERSION
    gb_add_custom_context("liburing", IPCLAB_URING_VERSION);
#else
    gb_add_custom_context("liburing", "not built");
#endif
#ifdef IPCLAB_HAVE_HIREDIS
    snprintf(buf, sizeof buf, "%d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    gb_add_custom_context("hiredis", buf);
#else
    gb_add_custom_context("hiredis", "not built");
#endif
    first_line("redis-server --version 2>/dev/null", buf, sizeof buf);
    gb_add_custom_context("redis_server", buf);

    gb_add_custom_context(
        "libbenchmark_note",
        "Debian's libbenchmark (1.7.1) reports itself as a debug build (library_build_type) "
        "and cannot be rebuilt here; it only runs the batches: the loops measured are "
        "ipclab's own, compiled with c_flags");
    snprintf(buf, sizeof buf, "%d", bench_cfg.repetitions);
    gb_add_custom_context("repetitions", buf);
    snprintf(buf, sizeof buf, "%.3f", bench_cfg.sweep_budget);
    gb_add_custom_context("sweep_budget_s", buf);
}
