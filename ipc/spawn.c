/* SPDX-License-Identifier: MIT */
/* Creation latency of threads and processes, and the memory a forked worker adds. */
#include "spawn.h"

#include "cleanup.h"
#include "clock.h"
#include "cpu.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const kind_names[IPC_SPAWN_KINDS] = {"thread", "fork", "fork-exec"};
static const char *const touch_names[IPC_TOUCHES] = {"idle", "read", "write"};

const char *ipc_spawn_kind_name(enum ipc_spawn_kind k)
{
    return (unsigned)k < IPC_SPAWN_KINDS ? kind_names[k] : "?";
}

int ipc_spawn_kind_parse(const char *name, enum ipc_spawn_kind *out)
{
    for (unsigned i = 0; i < IPC_SPAWN_KINDS; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum ipc_spawn_kind)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *ipc_touch_name(enum ipc_touch t)
{
    return (unsigned)t < IPC_TOUCHES ? touch_names[t] : "?";
}

int ipc_touch_parse(const char *name, enum ipc_touch *out)
{
    for (unsigned i = 0; i < IPC_TOUCHES; i++) {
        if (strcmp(name, touch_names[i]) == 0) {
            *out = (enum ipc_touch)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- creation latency ----------------------------------------------------------------------- */

/* What a new child sends back: where and when it ran, or why it could not. Far below PIPE_BUF,
 * so one write() is one atomic message. */
struct hello {
    uint64_t t_ns;
    int32_t err;   /* errno of a failed pin or execve; 0 */
    int32_t cpu;   /* where the child stamped */
    int32_t stage; /* fork-exec: what failed, STAGE_PIN or STAGE_EXEC */
};
enum { STAGE_PIN, STAGE_EXEC };

/* True when the caller may run on exactly that CPU and no other: a child then starts there
 * without pinning itself. */
static bool pinned_exactly_to(int cpu)
{
    cpu_set_t set;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof set, &set) < 0)
        return false;
    return CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set);
}

/* The first code a thread or forked child runs: move where it belongs, stamp, tell. Only
 * async-signal-safe calls, as a forked child of a threaded parent may make. */
static void say_hello(int fd, int pin_cpu)
{
    struct hello h = {0};
    if (pin_cpu >= 0) {
        int rc = ipc_cpu_pin(pin_cpu);
        if (rc < 0)
            h.err = -rc;
    }
    h.t_ns = ipc_now_ns();
    h.cpu = sched_getcpu();
    /* Nothing to do if it fails: the parent then sees EOF or its timeout. */
    ssize_t w = write(fd, &h, sizeof h);
    (void)w;
}

struct thread_arg {
    int fd;
    int pin_cpu;
};

static void *thread_main(void *p)
{
    const struct thread_arg *a = p;
    say_hello(a->fd, a->pin_cpu);
    return NULL;
}

/* Wait for the child's message: 1 with *h filled, 0 on EOF (fork-exec: the exec committed; a
 * fork child: it died before writing), or -errno (-ETIMEDOUT after IPC_SPAWN_TIMEOUT_MS). */
static int await_hello(int fd, struct hello *h)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    uint64_t deadline = ipc_now_ns() + (uint64_t)IPC_SPAWN_TIMEOUT_MS * 1000000u;
    for (;;) {
        uint64_t now = ipc_now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        int r = poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            continue;
        ssize_t n = read(fd, h, sizeof *h);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        return n == (ssize_t)sizeof *h ? 1 : -EPROTO;
    }
}

/* Reap a registered child, deregistering it with the signals blocked (a handler running in
 * between could otherwise SIGKILL a pid already reused). Returns the time it was reaped. */
static uint64_t reap(pid_t pid, int *status)
{
    sigset_t old;
    ipc_cleanup_block(&old);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    uint64_t t = ipc_now_ns();
    ipc_cleanup_del_pid(pid);
    ipc_cleanup_unblock(&old);
    return t;
}

/* Wait at most IPC_SPAWN_TIMEOUT_MS for a process we do not control (an exec'd program) to
 * exit, then kill it; either way it is reaped. Returns the time it was reaped, *hung set. */
static uint64_t reap_bounded(pid_t pid, int *status, bool *hung)
{
    *hung = false;
    int pfd = pidfd_open(pid, 0);
    if (pfd >= 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        int r;
        while ((r = poll(&p, 1, IPC_SPAWN_TIMEOUT_MS)) < 0 && errno == EINTR)
            ;
        if (r == 0) {
            *hung = true;
            kill(pid, SIGKILL);
        }
        close(pfd);
    }
    return reap(pid, status);
}

static int sample_thread(int pin_cpu, int rfd, int wfd, struct ipc_spawn_sample *s, char *errstr,
                         size_t len)
{
    struct thread_arg a = {.fd = wfd, .pin_cpu = pin_cpu};
    pthread_t th;
    uint64_t t0 = ipc_now_ns();
    int rc = pthread_create(&th, NULL, thread_main, &a);
    if (rc != 0) {
        snprintf(errstr, len, "pthread_create: %s", strerror(rc));
        return -rc;
    }
    struct hello h;
    int got = await_hello(rfd, &h);
    uint64_t t2 = ipc_now_ns();
    /* The thread has written or is about to: it always ends by itself, so join it whatever
     * happened (a thread is never left behind). */
    pthread_join(th, NULL);
    uint64_t t3 = ipc_now_ns();
    if (got <= 0) {
        snprintf(errstr, len, "thread: no word from the new thread: %s",
                 got == 0 ? "pipe closed" : strerror(-got));
        return got == 0 ? -EPIPE : got;
    }
    if (h.err) {
        snprintf(errstr, len, "thread: cannot pin to CPU %d: %s", pin_cpu, strerror(h.err));
        return -h.err;
    }
    s->start_ns = h.t_ns > t0 ? h.t_ns - t0 : 0;
    s->seen_ns = t2 - t0;
    s->round_trip_ns = t3 - t0;
    s->child_cpu = h.cpu;
    return 0;
}

static void describe_status(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
}

static int sample_fork(bool exec, int pin_cpu, const char *path, int rfd, int wfd,
                       struct ipc_spawn_sample *s, char *errstr, size_t len)
{
    const char *what = exec ? "fork-exec" : "fork";
    pid_t parent = getpid();
    char *const argv[] = {(char *)path, NULL};
    fflush(NULL); /* buffered output must not be inherited, and printed twice (untimed) */
    sigset_t old;
    /* Signals blocked across fork: the child must not run the parent's cleanup handler (it
     * would kill the parent's other children) before it is gone or has exec'd. */
    ipc_cleanup_block(&old);
    uint64_t t0 = ipc_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        if (!exec) {
            say_hello(wfd, pin_cpu);
            _exit(0);
        }
        struct hello h = {.stage = STAGE_PIN};
        int prc = pin_cpu >= 0 ? ipc_cpu_pin(pin_cpu) : 0;
        if (prc < 0)
            h.err = -prc;
        /* An exec'd program is not ours: make it die with the parent (getppid() closes the
         * race with a parent that died first), give it default signal handling and the
         * parent's mask before exec, as a pool worker gets. */
        if (!h.err && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
            _exit(125);
        ipc_cleanup_child();
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (!h.err) {
            h.stage = STAGE_EXEC;
            execve(path, argv, environ);
            h.err = errno;
        }
        ssize_t w = write(wfd, &h, sizeof h);
        (void)w;
        _exit(127);
    }
    int err = pid < 0 ? -errno : ipc_cleanup_add_pid(pid);
    ipc_cleanup_unblock(&old);
    /* Our copy of the write end must go, or a child that dies (or execs) gives no EOF. */
    close(wfd);
    if (pid < 0) {
        snprintf(errstr, len, "%s: fork: %s", what, strerror(-err));
        return err;
    }
    struct hello h;
    int got = err < 0 ? err : await_hello(rfd, &h);
    uint64_t t2 = ipc_now_ns();
    if (got < 0)
        kill(pid, SIGKILL); /* hung or unregistered: it must not outlive this call */
    int status = 0;
    bool hung = false;
    uint64_t t3 = exec && got == 0 ? reap_bounded(pid, &status, &hung) : reap(pid, &status);
    if (err < 0) {
        snprintf(errstr, len, "%s: cannot register the child: %s", what, strerror(-err));
        return err;
    }
    if (got < 0) {
        snprintf(errstr, len, "%s: no word from the child: %s", what, strerror(-got));
        return got;
    }
    if (got == 1 && h.err) {
        if (exec && h.stage == STAGE_EXEC)
            snprintf(errstr, len, "fork-exec: cannot run %s: %s", path, strerror(h.err));
        else
            snprintf(errstr, len, "%s: cannot pin the child to CPU %d: %s", what, pin_cpu,
                     strerror(h.err));
        return -h.err;
    }
    char how[96];
    describe_status(status, how, sizeof how);
    if (hung) {
        snprintf(errstr, len, "fork-exec: %s still ran after %d ms: killed", path,
                 IPC_SPAWN_TIMEOUT_MS);
        return -ETIMEDOUT;
    }
    if (!exec && got == 0) {
        snprintf(errstr, len, "fork: the child ended before it said hello (%s)", how);
        return -ECHILD;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(errstr, len, "%s: the child failed (%s)", exec ? path : what, how);
        return -ECHILD;
    }
    if (exec) {
        /* Nothing of ours runs after exec: the commit seen by the parent is the start. */
        s->start_ns = t2 - t0;
        s->child_cpu = -1;
    } else {
        s->start_ns = h.t_ns > t0 ? h.t_ns - t0 : 0;
        s->child_cpu = h.cpu;
    }
    s->seen_ns = t2 - t0;
    s->round_trip_ns = t3 - t0;
    return 0;
}

int ipc_spawn_once(enum ipc_spawn_kind k, int cpu, const char *exec_path,
                   struct ipc_spawn_sample *s, char *errstr, size_t len)
{
    if ((unsigned)k >= IPC_SPAWN_KINDS) {
        snprintf(errstr, len, "unknown kind of child %d", (int)k);
        return -EINVAL;
    }
    if (!exec_path)
        exec_path = IPC_SPAWN_EXEC_DEFAULT;
    int pin_cpu = cpu >= 0 && !pinned_exactly_to(cpu) ? cpu : -1;
    int fds[2];
    /* Close-on-exec: fork-exec learns of a successful exec from the EOF this gives. */
    if (pipe2(fds, O_CLOEXEC) < 0) {
        int err = errno;
        snprintf(errstr, len, "pipe: %s", strerror(err));
        return -err;
    }
    int rc;
    if (k == IPC_SPAWN_THREAD) {
        rc = sample_thread(pin_cpu, fds[0], fds[1], s, errstr, len);
        close(fds[1]);
    } else {
        /* It closes the write end itself, as soon as the child has its copy. */
        rc = sample_fork(k == IPC_SPAWN_FORK_EXEC, pin_cpu, exec_path, fds[0], fds[1], s, errstr,
                         len);
    }
    close(fds[0]);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Linear interpolation between the closest ranks (the "R-7" definition). */
static double quantile(const uint64_t *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n)
        return (double)v[n - 1];
    double frac = pos - (double)lo;
    return (double)v[lo] + frac * ((double)v[lo + 1] - (double)v[lo]);
}

void ipc_spawn_stats(uint64_t *v, size_t n, struct ipc_spawn_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    out->n = n;
    out->min = (double)v[0];
    out->max = (double)v[n - 1];
    out->p10 = quantile(v, n, 0.10);
    out->median = quantile(v, n, 0.50);
    out->p90 = quantile(v, n, 0.90);
    out->mean = sum / (double)n;
}

/* ---- memory of a forked worker ---------------------------------------------------------- */

/* The whole of a small /proc file, NUL-terminated; bytes read or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, len - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* The value of "Key:   123 kB" lines; -1 when the key is absent or the value malformed. */
static long long field_kib(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            const char *p = line + klen + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p < '0' || *p > '9')
                return -1;
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            while (*end == ' ' || *end == '\t')
                end++;
            if (strncmp(end, "kB", 2) != 0 || v > (unsigned long long)INT64_MAX)
                return -1;
            return (long long)v;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

int ipc_smaps_parse(const char *text, struct ipc_smaps *m)
{
    long long rss = field_kib(text, "Rss"), pss = field_kib(text, "Pss");
    long long sc = field_kib(text, "Shared_Clean"), sd = field_kib(text, "Shared_Dirty");
    long long pc = field_kib(text, "Private_Clean"), pd = field_kib(text, "Private_Dirty");
    if (rss < 0 || pss < 0 || sc < 0 || sd < 0 || pc < 0 || pd < 0)
        return -EINVAL;
    /* USS is their sum: two values that each fit may not fit together (signed overflow,
     * undefined; seen reviewing the parser for tests/fuzz/smaps_fuzz.c, whose property and
     * UBSan catch it). No real process has 8 EiB: malformed. */
    if (pd > INT64_MAX - pc)
        return -EINVAL;
    long long anon = field_kib(text, "Anonymous"), swap = field_kib(text, "Swap");
    m->rss_kib = (uint64_t)rss;
    m->pss_kib = (uint64_t)pss;
    m->shared_clean_kib = (uint64_t)sc;
    m->shared_dirty_kib = (uint64_t)sd;
    m->private_clean_kib = (uint64_t)pc;
    m->private_dirty_kib = (uint64_t)pd;
    m->uss_kib = (uint64_t)(pc + pd);
    m->anon_kib = anon > 0 ? (uint64_t)anon : 0;
    m->swap_kib = swap > 0 ? (uint64_t)swap : 0;
    return 0;
}

int ipc_smaps_read(pid_t pid, struct ipc_smaps *m)
{
    char path[64], buf[8192];
    memset(m, 0, sizeof *m);
    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    else
        snprintf(path, sizeof path, "/proc/self/smaps_rollup");
    ssize_t n = read_small(path, buf, sizeof buf);
    if (n < 0)
        return (int)n;
    int rc = ipc_smaps_parse(buf, m);
    if (rc < 0)
        return rc;
    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    if (read_small(path, buf, sizeof buf) > 0) {
        long long pte = field_kib(buf, "VmPTE");
        m->pte_kib = pte > 0 ? (uint64_t)pte : 0;
    }
    return 0;
}

long ipc_mem_available_mib(void)
{
    char buf[8192];
    ssize_t n = read_small("/proc/meminfo", buf, sizeof buf);
    if (n < 0)
        return (long)n;
    long long kib = field_kib(buf, "MemAvailable");
    return kib < 0 ? -EINVAL : (long)(kib / 1024);
}

int ipc_parent_mem_alloc(struct ipc_parent_mem *m, size_t mib)
{
    m->p = NULL;
    m->bytes = 0;
    if (mib > IPC_SPAWN_MAX_MIB)
        return -EINVAL;
    if (mib == 0)
        return 0;
    long avail = ipc_mem_available_mib();
    if (avail >= 0 && (long)(2 * mib + IPC_SPAWN_MEM_MARGIN_MIB) > avail)
        return -ENOMEM;
    size_t bytes = mib << 20;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    /* Non-zero, so every page is a real private page (never the shared zero page) and the
     * reading worker's sum depends on all of it. */
    memset(p, 0x5a, bytes);
    m->p = p;
    m->bytes = bytes;
    return 0;
}

void ipc_parent_mem_free(struct ipc_parent_mem *m)
{
    if (m->p)
        munmap(m->p, m->bytes);
    m->p = NULL;
    m->bytes = 0;
}

struct mem_arg {
    const struct ipc_parent_mem *m;
    enum ipc_touch touch;
    int ready[2]; /* worker -> parent: its pass is done */
    int go[2];    /* parent -> worker: EOF when it may exit */
};

struct mem_report {
    uint64_t t_ns;
    uint64_t sum; /* of what the reading worker read: sent so the reads cannot be dropped */
};

static int mem_worker(unsigned idx, void *p)
{
    (void)idx;
    const struct mem_arg *a = p;
    close(a->ready[0]);
    close(a->go[1]);
    struct mem_report r = {0};
    const struct ipc_parent_mem *m = a->m;
    if (a->touch == IPC_TOUCH_READ) {
        const uint64_t *w = (const uint64_t *)(const void *)m->p;
        size_t nw = m->bytes / sizeof *w;
        for (size_t i = 0; i < nw; i++)
            r.sum += w[i];
    } else if (a->touch == IPC_TOUCH_WRITE) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        for (size_t off = 0; off < m->bytes; off += page)
            m->p[off]++;
    }
    r.t_ns = ipc_now_ns();
    if (write(a->ready[1], &r, sizeof r) != (ssize_t)sizeof r)
        return 3;
    /* Stay alive, unchanged, until the parent has measured: EOF on go. */
    char c;
    while (read(a->go[0], &c, 1) < 0 && errno == EINTR)
        ;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int ipc_spawn_memory(const struct ipc_parent_mem *m, enum ipc_touch t, int cpu,
                     struct ipc_spawn_memory *out, char *errstr, size_t len)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)t >= IPC_TOUCHES) {
        snprintf(errstr, len, "unknown worker behaviour %d", (int)t);
        return -EINVAL;
    }
    struct mem_arg a = {.m = m, .touch = t, .ready = {-1, -1}, .go = {-1, -1}};
    if (pipe2(a.ready, O_CLOEXEC) < 0 || pipe2(a.go, O_CLOEXEC) < 0) {
        int err = errno;
        close_fd(&a.ready[0]);
        close_fd(&a.ready[1]);
        snprintf(errstr, len, "pipe: %s", strerror(err));
        return -err;
    }
    struct ipc_pool pool;
    uint64_t t0 = ipc_now_ns();
    int rc = ipc_pool_start(&pool, 1, mem_worker, &a, cpu >= 0 ? &cpu : NULL, cpu >= 0 ? 1 : 0);
    close_fd(&a.ready[1]);
    close_fd(&a.go[0]);
    if (rc < 0) {
        close_fd(&a.ready[0]);
        close_fd(&a.go[1]);
        snprintf(errstr, len, "fork: %s", strerror(-rc));
        return rc;
    }
    /* A pass over 4 GiB takes seconds; a dead or stuck worker must not hang the caller. */
    int timeout_ms = IPC_SPAWN_TIMEOUT_MS + (int)(m->bytes >> 20) * 20;
    struct pollfd pfd = {.fd = a.ready[0], .events = POLLIN};
    struct mem_report r;
    ssize_t n = -1;
    int pr;
    while ((pr = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (pr > 0)
        while ((n = read(a.ready[0], &r, sizeof r)) < 0 && errno == EINTR)
            ;
    if (n != (ssize_t)sizeof r) {
        close_fd(&a.go[1]);
        unsigned failed = 0;
        int w = ipc_pool_wait(&pool, pr > 0 ? 1000 : 0, &failed);
        char how[128] = "did not report in time";
        if (w == 1)
            ipc_pool_describe(&pool, failed, how, sizeof how);
        snprintf(errstr, len, "the %s worker %s", ipc_touch_name(t), how);
        ipc_pool_destroy(&pool);
        close_fd(&a.ready[0]);
        return pr == 0 ? -ETIMEDOUT : -ECHILD;
    }
    out->touch_ns = r.t_ns > t0 ? r.t_ns - t0 : 0;
    pid_t pid = pool.procs[0].pid;
    rc = ipc_smaps_read(pid, &out->child);
    int rc2 = rc < 0 ? 0 : ipc_smaps_read(0, &out->parent);
    close_fd(&a.go[1]); /* the worker may go */
    unsigned failed = 0;
    int w = ipc_pool_wait(&pool, IPC_SPAWN_TIMEOUT_MS, &failed);
    if (w != 0) {
        char how[128] = "did not exit in time";
        if (w == 1)
            ipc_pool_describe(&pool, failed, how, sizeof how);
        snprintf(errstr, len, "the %s worker %s", ipc_touch_name(t), how);
        rc = w == 1 ? -ECHILD : w;
    } else if (rc < 0 || rc2 < 0) {
        snprintf(errstr, len, "/proc/%d/smaps_rollup: %s", rc < 0 ? (int)pid : (int)getpid(),
                 strerror(rc < 0 ? -rc : -rc2));
        rc = rc < 0 ? rc : rc2;
    }
    ipc_pool_destroy(&pool);
    close_fd(&a.ready[0]);
    return rc;
}
