/* SPDX-License-Identifier: MIT */
/* The spawn experiment's measuring code: smaps_rollup parsing, on fixed text and on real
 * processes (a worker that writes its parent's memory owns a copy of it, one that reads it
 * does not), the latency samples and their statistics, and that every child is reaped, every
 * thread joined and every descriptor closed, failures included. */
#include "test.h"

#include "ipc/cpu.h"
#include "ipc/spawn.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB_TEST 64

/* Under ThreadSanitizer (make test-tsan) every access also writes the runtime's shadow memory,
 * so a worker's RSS, PSS and USS measure the sanitizer, not copy-on-write; and the runtime
 * starts a thread of its own with the first pthread_create, which then stays. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif

/* No child of this process exists, running or zombie. */
static void expect_no_children(const char *when)
{
    errno = 0;
    pid_t p = waitpid(-1, NULL, WNOHANG);
    if (p != -1 || errno != ECHILD)
        T_FAIL("%s: a child is left (waitpid gave %d, errno %d)", when, (int)p, errno);
}

static void test_names(void)
{
    for (int k = 0; k < IPC_SPAWN_KINDS; k++) {
        enum ipc_spawn_kind got;
        T_EQ_INT(ipc_spawn_kind_parse(ipc_spawn_kind_name((enum ipc_spawn_kind)k), &got), 0);
        T_EQ_INT(got, k);
    }
    for (int t = 0; t < IPC_TOUCHES; t++) {
        enum ipc_touch got;
        T_EQ_INT(ipc_touch_parse(ipc_touch_name((enum ipc_touch)t), &got), 0);
        T_EQ_INT(got, t);
    }
    enum ipc_spawn_kind k;
    enum ipc_touch t;
    T_EQ_INT(ipc_spawn_kind_parse("process", &k), -EINVAL);
    T_EQ_INT(ipc_spawn_kind_parse("", &k), -EINVAL);
    T_EQ_INT(ipc_touch_parse("Read", &t), -EINVAL);
}

static void test_parse(void)
{
    const char *text = "55f75c7ac000-7ffefefdf000 ---p 00000000 00:00 0    [rollup]\n"
                       "Rss:                1616 kB\n"
                       "Pss:                 447 kB\n"
                       "Pss_Dirty:           112 kB\n"
                       "Shared_Clean:       1428 kB\n"
                       "Shared_Dirty:          4 kB\n"
                       "Private_Clean:        76 kB\n"
                       "Private_Dirty:       112 kB\n"
                       "Anonymous:           116 kB\n"
                       "Swap:                  8 kB\n"
                       "SwapPss:               3 kB\n";
    struct ipc_smaps m;
    T_EQ_INT(ipc_smaps_parse(text, &m), 0);
    T_EQ_U64(m.rss_kib, 1616);
    T_EQ_U64(m.pss_kib, 447); /* not Pss_Dirty, which starts the same */
    T_EQ_U64(m.shared_clean_kib, 1428);
    T_EQ_U64(m.shared_dirty_kib, 4);
    T_EQ_U64(m.private_clean_kib, 76);
    T_EQ_U64(m.private_dirty_kib, 112);
    T_EQ_U64(m.uss_kib, 76 + 112);
    T_EQ_U64(m.anon_kib, 116);
    T_EQ_U64(m.swap_kib, 8); /* not SwapPss */

    /* A missing or malformed line is an error, never a silent zero. */
    T_EQ_INT(ipc_smaps_parse("Rss: 5 kB\nPss: 3 kB\n", &m), -EINVAL);
    T_EQ_INT(ipc_smaps_parse("", &m), -EINVAL);
    T_EQ_INT(ipc_smaps_parse("Rss: x kB\nPss: 1 kB\nShared_Clean: 1 kB\nShared_Dirty: 1 kB\n"
                             "Private_Clean: 1 kB\nPrivate_Dirty: 1 kB\n",
                             &m),
             -EINVAL);
    T_EQ_INT(ipc_smaps_parse("Rss: 1 MB\nPss: 1 kB\nShared_Clean: 1 kB\nShared_Dirty: 1 kB\n"
                             "Private_Clean: 1 kB\nPrivate_Dirty: 1 kB\n",
                             &m),
             -EINVAL);
}

static void test_read_self(void)
{
    struct ipc_smaps m;
    int rc = ipc_smaps_read(0, &m);
    T_EQ_INT(rc, 0);
    if (rc < 0)
        return;
    T_TRUE(m.rss_kib > 0);
    T_TRUE(m.pss_kib <= m.rss_kib);
    T_TRUE(m.uss_kib <= m.pss_kib);
    T_EQ_U64(m.rss_kib,
             m.shared_clean_kib + m.shared_dirty_kib + m.private_clean_kib + m.private_dirty_kib);
    T_TRUE(m.pte_kib > 0);
    T_EQ_INT(ipc_smaps_read(999999999, &m), -ENOENT);
}

static void test_stats(void)
{
    uint64_t odd[] = {5, 1, 3, 2, 4};
    struct ipc_spawn_stats s;
    ipc_spawn_stats(odd, 5, &s);
    T_EQ_U64(s.n, 5);
    T_TRUE(s.min == 1 && s.max == 5 && s.median == 3 && s.mean == 3);
    T_TRUE(s.p10 > 1.39 && s.p10 < 1.41); /* 1 + 0.4 x (2 - 1) */
    T_TRUE(s.p90 > 4.59 && s.p90 < 4.61);
    T_EQ_U64(odd[0], 1); /* sorted in place */
    T_EQ_U64(odd[4], 5);
    uint64_t even[] = {40, 10, 30, 20};
    ipc_spawn_stats(even, 4, &s);
    T_TRUE(s.median == 25);
    uint64_t one[] = {7};
    ipc_spawn_stats(one, 1, &s);
    T_TRUE(s.min == 7 && s.p10 == 7 && s.median == 7 && s.p90 == 7 && s.max == 7);
    ipc_spawn_stats(NULL, 0, &s);
    T_EQ_U64(s.n, 0);
}

/* Samples of every kind where asked: positive, in the order the definitions imply, on the CPU
 * asked, and summarised in order. */
static void test_latency(int cpu, int expect_cpu, const char *where)
{
    enum { N = 20 };
    for (int k = 0; k < IPC_SPAWN_KINDS; k++) {
        enum ipc_spawn_kind kind = (enum ipc_spawn_kind)k;
        uint64_t start[N], rt[N];
        for (int i = 0; i < N; i++) {
            struct ipc_spawn_sample s = {0};
            char err[256] = "";
            int rc = ipc_spawn_once(kind, cpu, NULL, &s, err, sizeof err);
            if (rc < 0) {
                T_FAIL("%s %s: %s", ipc_spawn_kind_name(kind), where, err);
                return;
            }
            if (s.start_ns == 0 || s.seen_ns < s.start_ns || s.round_trip_ns < s.seen_ns)
                T_FAIL("%s %s: start %" PRIu64 " seen %" PRIu64 " round trip %" PRIu64
                       " are not positive and ordered",
                       ipc_spawn_kind_name(kind), where, s.start_ns, s.seen_ns, s.round_trip_ns);
            if (kind == IPC_SPAWN_FORK_EXEC)
                T_EQ_INT(s.child_cpu, -1);
            else if (s.child_cpu != expect_cpu)
                T_FAIL("%s %s: the child ran on CPU %d, not %d", ipc_spawn_kind_name(kind), where,
                       s.child_cpu, expect_cpu);
            start[i] = s.start_ns;
            rt[i] = s.round_trip_ns;
        }
        struct ipc_spawn_stats a, b;
        ipc_spawn_stats(start, N, &a);
        ipc_spawn_stats(rt, N, &b);
        T_TRUE(a.min > 0);
        T_TRUE(a.min <= a.p10 && a.p10 <= a.median && a.median <= a.p90 && a.p90 <= a.max);
        T_TRUE(b.min <= b.median && b.median <= b.max);
        T_TRUE(a.median <= b.median);
        expect_no_children(ipc_spawn_kind_name(kind));
    }
}

static void test_exec_failures(void)
{
    struct ipc_spawn_sample s;
    char err[256] = "";
    int rc = ipc_spawn_once(IPC_SPAWN_FORK_EXEC, -1, "/nonexistent/ipclab-no-such-program", &s, err,
                            sizeof err);
    T_EQ_INT(rc, -ENOENT);
    T_TRUE(strstr(err, "/nonexistent/ipclab-no-such-program") != NULL);
    expect_no_children("missing program");

    /* Not executable: the errno of execve, not a hang or a crash. */
    err[0] = '\0';
    rc = ipc_spawn_once(IPC_SPAWN_FORK_EXEC, -1, "/proc/self/status", &s, err, sizeof err);
    T_EQ_INT(rc, -EACCES);
    T_STR_NONEMPTY(err);
    expect_no_children("not executable");

    /* A program that runs and fails: its status is reported. */
    if (access("/bin/false", X_OK) == 0) {
        err[0] = '\0';
        rc = ipc_spawn_once(IPC_SPAWN_FORK_EXEC, -1, "/bin/false", &s, err, sizeof err);
        T_EQ_INT(rc, -ECHILD);
        T_TRUE(strstr(err, "exit status 1") != NULL);
        expect_no_children("failing program");
    }

    /* A CPU this machine does not have: the child cannot pin itself, says so, is reaped. */
    for (int k = 0; k < IPC_SPAWN_KINDS; k++) {
        err[0] = '\0';
        rc = ipc_spawn_once((enum ipc_spawn_kind)k, 1000, NULL, &s, err, sizeof err);
        T_EQ_INT(rc, -EINVAL);
        T_TRUE(strstr(err, "CPU 1000") != NULL);
        expect_no_children("unusable CPU");
    }
}

static void test_memory(void)
{
    if (UNDER_TSAN) {
        fprintf(stderr, "note: memory test skipped under ThreadSanitizer (shadow memory)\n");
        return;
    }
    struct ipc_parent_mem pm;
    T_EQ_INT(ipc_parent_mem_alloc(&pm, IPC_SPAWN_MAX_MIB + 1), -EINVAL);
    int rc = ipc_parent_mem_alloc(&pm, MIB_TEST);
    if (rc == -ENOMEM) {
        fprintf(stderr, "note: not enough memory for the %d MiB memory test\n", MIB_TEST);
        return;
    }
    T_EQ_INT(rc, 0);
    if (rc < 0)
        return;
    const uint64_t m_kib = MIB_TEST * 1024;
    struct ipc_spawn_memory r[IPC_TOUCHES];
    for (int t = 0; t < IPC_TOUCHES; t++) {
        char err[256] = "";
        rc = ipc_spawn_memory(&pm, (enum ipc_touch)t, -1, &r[t], err, sizeof err);
        if (rc < 0) {
            T_FAIL("%s worker: %s", ipc_touch_name((enum ipc_touch)t), err);
            ipc_parent_mem_free(&pm);
            return;
        }
        expect_no_children(ipc_touch_name((enum ipc_touch)t));
        /* Every worker maps the parent's memory: RSS counts it whatever the worker does. */
        if (r[t].child.rss_kib < m_kib)
            T_FAIL("%s worker: RSS %" PRIu64 " KiB < the parent's %" PRIu64 " KiB",
                   ipc_touch_name((enum ipc_touch)t), r[t].child.rss_kib, m_kib);
        T_TRUE(r[t].child.pss_kib <= r[t].child.rss_kib);
        T_TRUE(r[t].child.uss_kib <= r[t].child.pss_kib);
        T_TRUE(r[t].touch_ns > 0);
    }
    const struct ipc_smaps *rd = &r[IPC_TOUCH_READ].child, *wr = &r[IPC_TOUCH_WRITE].child;
    const struct ipc_smaps *idle = &r[IPC_TOUCH_IDLE].child;
    /* One write per page copies every page: the writer owns M MiB of its own. */
    if (wr->uss_kib < m_kib)
        T_FAIL("writing worker: USS %" PRIu64 " KiB < %" PRIu64 " KiB written", wr->uss_kib, m_kib);
    /* Reading copies nothing: well below M (a quarter is far above its stack and libc). */
    if (rd->uss_kib >= m_kib / 4)
        T_FAIL("reading worker: USS %" PRIu64 " KiB, expected well below %" PRIu64 " KiB",
               rd->uss_kib, m_kib);
    if (idle->uss_kib >= m_kib / 4)
        T_FAIL("idle worker: USS %" PRIu64 " KiB, expected well below %" PRIu64 " KiB",
               idle->uss_kib, m_kib);
    /* Shared pages are split in PSS: a reader carries about half the parent's memory. */
    if (rd->pss_kib < m_kib / 2 - m_kib / 8 || rd->pss_kib > m_kib / 2 + m_kib / 4)
        T_FAIL("reading worker: PSS %" PRIu64 " KiB, expected about half of %" PRIu64 " KiB",
               rd->pss_kib, m_kib);
    /* The parent's pages are its own again once the writer has its copies. */
    if (r[IPC_TOUCH_WRITE].parent.uss_kib < m_kib)
        T_FAIL("parent beside a writer: USS %" PRIu64 " KiB < %" PRIu64 " KiB",
               r[IPC_TOUCH_WRITE].parent.uss_kib, m_kib);
    if (r[IPC_TOUCH_READ].parent.uss_kib >= m_kib / 2)
        T_FAIL("parent beside a reader: USS %" PRIu64 " KiB, its pages should be shared",
               r[IPC_TOUCH_READ].parent.uss_kib);
    /* Copying page tables is what a fork of a big parent costs even when nothing is copied:
     * at least 8 bytes per 4 KiB page. */
    T_TRUE(rd->pte_kib >= m_kib / 512);
    ipc_parent_mem_free(&pm);

    /* No memory at all: a worker still runs and is measured. */
    T_EQ_INT(ipc_parent_mem_alloc(&pm, 0), 0);
    char err[256] = "";
    struct ipc_spawn_memory z;
    T_EQ_INT(ipc_spawn_memory(&pm, IPC_TOUCH_WRITE, -1, &z, err, sizeof err), 0);
    T_TRUE(z.child.rss_kib > 0);
    ipc_parent_mem_free(&pm);
    expect_no_children("empty parent");
}

int main(void)
{
    int fds_before = t_count_entries("/proc/self/fd");
    int tasks_before = t_count_entries("/proc/self/task");
    test_names();
    test_parse();
    test_read_self();
    test_stats();

    int cpus[2];
    int n = ipc_cpu_allowed(cpus, 2);
    T_TRUE(n >= 1);
    if (n >= 1) {
        /* The parent on the first CPU: same-core children start there, other-core ones move. */
        T_EQ_INT(ipc_cpu_pin(cpus[0]), 0);
        test_latency(cpus[0], cpus[0], "same-core");
        if (n >= 2)
            test_latency(cpus[1], cpus[1], "other-core");
        test_latency(-1, cpus[0], "not placed"); /* inherits the parent's CPU */
    }
    test_exec_failures();
    test_memory();

    /* Every pipe closed, every thread joined. */
    T_EQ_INT(t_count_entries("/proc/self/fd"), fds_before);
    if (UNDER_TSAN)
        T_TRUE(t_count_entries("/proc/self/task") <= tasks_before + 1);
    else
        T_EQ_INT(t_count_entries("/proc/self/task"), tasks_before);
    expect_no_children("the end");
    return T_RESULT();
}
