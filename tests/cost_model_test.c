/* SPDX-License-Identifier: MIT */
/* The flag's cost model. Without arguments: its arithmetic on fixture inputs, the interval it
 * chooses (the smallest meeting the target, within its bounds), target parsing, calibration
 * files and the K bound per strategy. With "real": the inputs measured for the real atomic and
 * redis-unix backends, and the interval they lead to. */
#include "test.h"

#include "ipc/calibrate.h"
#include "ipc/cost_model.h"
#include "ipc/cpu.h"
#include "ipc/redis_server.h"
#include "ipc/verify.h"
#include "workloads/prime.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

#define T_NEAR(got, want, tol)                                                                     \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        if (!(fabs(g_ - w_) <= (tol)))                                                             \
            T_FAIL("%s == %.9g, expected %.9g (within %g)", #got, g_, w_, (double)(tol));        \
    } while (0)

/* ---- arithmetic on fixture inputs ---------------------------------------------------------- */

static void test_formulas(void)
{
    /* this machine's trial division and an atomic load; a Redis round trip */
    const struct ipc_cost_inputs atomic = {.work_ns = 1.65, .check_ns = 0.5, .raise_ns = 100};
    const struct ipc_cost_inputs redis = {.work_ns = 1.65, .check_ns = 20000, .raise_ns = 30000};
    T_NEAR(ipc_cost_overhead(&atomic, 1), 0.5 / 1.65, 1e-12);
    T_NEAR(ipc_cost_overhead(&atomic, 1000), 0.5 / 1650, 1e-15);
    T_NEAR(ipc_cost_overhead(&redis, 1000), 20000.0 / 1650, 1e-9);
    T_NEAR(ipc_cost_stop_avg_ns(&atomic, 1000), 1000 * 1.65 / 2 + 100, 1e-9);
    T_NEAR(ipc_cost_stop_worst_ns(&atomic, 1000), 1000 * 1.65 + 100, 1e-9);
    T_NEAR(ipc_cost_stop_avg_ns(&redis, 1), 1.65 / 2 + 30000, 1e-9);
    /* K = 0 is treated as 1, never a division by zero */
    T_NEAR(ipc_cost_overhead(&atomic, 0), ipc_cost_overhead(&atomic, 1), 0);
    const struct ipc_cost_inputs unknown_r = {.work_ns = 2, .check_ns = 1, .raise_ns = -1};
    T_TRUE(ipc_cost_stop_avg_ns(&unknown_r, 10) < 0);
    T_TRUE(ipc_cost_stop_worst_ns(&unknown_r, 10) < 0);

    /* the chosen K: 0.5 / (1.65 x 0.01) = 30.3 -> 31; 20000 / 0.0165 = 1212121.2 -> 1212122 */
    uint64_t k;
    T_TRUE(ipc_cost_choose_k(&atomic, 0.01, UINT64_MAX, &k));
    T_EQ_U64(k, 31);
    T_TRUE(ipc_cost_choose_k(&redis, 0.01, UINT64_MAX, &k));
    T_EQ_U64(k, 1212122);
    T_TRUE(ipc_cost_choose_k(&redis, 0.001, UINT64_MAX, &k));
    T_EQ_U64(k, 12121213);
    /* exactly on the target: c / (K w) = 1 / (50 x 2) = 1% */
    const struct ipc_cost_inputs exact = {.work_ns = 2, .check_ns = 1, .raise_ns = 0};
    T_TRUE(ipc_cost_choose_k(&exact, 0.01, 1000, &k));
    T_EQ_U64(k, 50);
    /* a free check, or a target that any K meets: K = 1 */
    const struct ipc_cost_inputs free_check = {.work_ns = 2, .check_ns = 0, .raise_ns = 0};
    T_TRUE(ipc_cost_choose_k(&free_check, 0.01, 1000, &k));
    T_EQ_U64(k, 1);
    T_TRUE(ipc_cost_choose_k(&atomic, 1.0, 1000, &k));
    T_EQ_U64(k, 1);

    /* bounds: never above max_k (then the target may be missed), never below 1 */
    T_TRUE(!ipc_cost_choose_k(&redis, 0.01, 1000, &k));
    T_EQ_U64(k, 1000);
    T_TRUE(!ipc_cost_choose_k(&redis, 0.01, 0, &k));
    T_EQ_U64(k, 1);
    const struct ipc_cost_inputs huge = {.work_ns = 1e-300, .check_ns = 1e300, .raise_ns = 0};
    T_TRUE(!ipc_cost_choose_k(&huge, 0.01, UINT64_MAX, &k)); /* no overflow, the bound */
    T_EQ_U64(k, UINT64_MAX);
    const struct ipc_cost_inputs nan_c = {.work_ns = 2, .check_ns = NAN, .raise_ns = 0};
    T_TRUE(!ipc_cost_inputs_valid(&nan_c));
    ipc_cost_choose_k(&nan_c, 0.01, 77, &k);
    T_EQ_U64(k, 77);

    T_TRUE(ipc_cost_inputs_valid(&atomic));
    T_TRUE(ipc_cost_inputs_valid(&unknown_r));
    T_TRUE(!ipc_cost_inputs_valid(&(struct ipc_cost_inputs){.work_ns = 0, .check_ns = 1}));
    T_TRUE(!ipc_cost_inputs_valid(&(struct ipc_cost_inputs){.work_ns = 1, .check_ns = -1}));
    T_TRUE(!ipc_cost_inputs_valid(
        &(struct ipc_cost_inputs){.work_ns = INFINITY, .check_ns = 1, .raise_ns = 0}));
}

/* For many inputs: the chosen K meets the target (or is max_k), and K - 1 would not. */
static void test_choose_is_smallest(void)
{
    uint64_t x = 88172645463325252ull; /* xorshift64: a fixed, reproducible sequence */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        struct ipc_cost_inputs in = {
            .work_ns = 0.1 + (double)(x % 100000) / 1000,         /* 0.1 .. 100 ns */
            .check_ns = (double)((x >> 17) % 10000000) / 100,     /* 0 .. 100 us */
            .raise_ns = 0,
        };
        double target = (double)(1 + (x >> 40) % 10000) / 100000; /* 0.001% .. 10% */
        uint64_t max_k = 1 + (x >> 24) % 5000000, k;
        bool met = ipc_cost_choose_k(&in, target, max_k, &k);
        if (k < 1 || k > max_k) {
            T_FAIL("K %" PRIu64 " outside [1, %" PRIu64 "]", k, max_k);
            break;
        }
        if (met != (ipc_cost_overhead(&in, k) <= target) || (!met && k != max_k)) {
            T_FAIL("K %" PRIu64 ": met %d, overhead %.9g, target %.9g, max %" PRIu64, k, met,
                   ipc_cost_overhead(&in, k), target, max_k);
            break;
        }
        if (k > 1 && ipc_cost_overhead(&in, k - 1) <= target) {
            T_FAIL("K %" PRIu64 " is not the smallest: K-1 has overhead %.9g <= %.9g", k,
                   ipc_cost_overhead(&in, k - 1), target);
            break;
        }
    }
}

static void test_parse_target(void)
{
    static const struct {
        const char *s;
        double want; /* < 0: refused */
    } cases[] = {
        {"1%", 0.01},  {"0.5%", 0.005}, {"100%", 1.0}, {"12.%", 0.12}, {".5%", 0.005},
        {"0.001%", 0.00001},
        {"0%", -1},    {"0.0%", -1},    {"100.1%", -1}, {"150%", -1},  {"1", -1},
        {"%", -1},     {"", -1},        {"abc%", -1},   {"1%%", -1},   {"-1%", -1},
        {"1 %", -1},   {" 1%", -1},     {"1e2%", -1},   {"1.2.3%", -1}, {".%", -1},
        {"nan%", -1},  {"inf%", -1},    {"0x10%", -1},
        {"1000000000000000000000000000000000%", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = -7;
        char why[256] = "";
        int rc = ipc_cost_parse_target(cases[i].s, &got, why, sizeof why);
        if (cases[i].want < 0) {
            if (rc != -EINVAL || !why[0])
                T_FAIL("'%s' accepted (%g) or refused without a reason", cases[i].s, got);
        } else if (rc != 0 || fabs(got - cases[i].want) > 1e-15) {
            T_FAIL("'%s': rc %d, %.17g, expected %g (%s)", cases[i].s, rc, got, cases[i].want,
                   why);
        }
    }
}

/* ---- calibration files --------------------------------------------------------------------- */

static char dir[512];

static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp || fwrite(text, 1, len, fp) != len) {
        T_FAIL("cannot write %s", path);
        if (fp)
            fclose(fp);
        return path;
    }
    fclose(fp);
    return path;
}

#define WRITE(name, text) write_file(name, text, sizeof text - 1)
#define HEADER "flag\twork_ns\tcheck_ns\traise_ns\n"

static void test_calibration_file(void)
{
    struct ipc_cost_inputs in;
    char why[256];
    const char *good = WRITE("good.tsv", "# ipclab calibration\n" HEADER "atomic\t1.652\t0.610\t92.0\n"
                                         "null\t1.6\t2.1\t-\n\nredis-unix\t1.65\t21000\t30500.5\r\n");
    T_EQ_INT(ipc_calibration_read(good, "atomic", &in, why, sizeof why), 0);
    T_NEAR(in.work_ns, 1.652, 1e-12);
    T_NEAR(in.check_ns, 0.61, 1e-12);
    T_NEAR(in.raise_ns, 92, 1e-12);
    T_EQ_INT(ipc_calibration_read(good, "null", &in, why, sizeof why), 0);
    T_TRUE(in.raise_ns < 0);
    T_EQ_INT(ipc_calibration_read(good, "redis-unix", &in, why, sizeof why), 0); /* CRLF */
    T_NEAR(in.raise_ns, 30500.5, 1e-9);
    T_EQ_INT(ipc_calibration_read(good, "locked", &in, why, sizeof why), -ENOENT);
    T_TRUE(strstr(why, "no row for flag locked") != NULL);

    static const struct {
        const char *name, *text;
    } bad[] = {
        {"empty", ""},
        {"comments-only", "# nothing\n"},
        {"no-header", "atomic\t1\t1\t1\n"},
        {"other-header", "flag work_ns check_ns raise_ns\natomic\t1\t1\t1\n"},
        {"three-fields", HEADER "atomic\t1\t1\n"},
        {"five-fields", HEADER "atomic\t1\t1\t1\t1\n"},
        {"trailing-tab", HEADER "atomic\t1\t1\t1\t\n"},
        {"word", HEADER "atomic\tfast\t1\t1\n"},
        {"negative", HEADER "atomic\t1\t-1\t1\n"},
        {"zero-work", HEADER "atomic\t0\t1\t1\n"},
        {"nan", HEADER "atomic\tnan\t1\t1\n"},
        {"inf", HEADER "atomic\t1\tinf\t1\n"},
        {"huge", HEADER "atomic\t1\t1e999\t1\n"},
        {"dash-work", HEADER "atomic\t-\t1\t1\n"},
        {"space", HEADER "atomic\t 1\t1\t1\n"},
        {"empty-name", HEADER "\t1\t1\t1\n"},
        {"twice", HEADER "atomic\t1\t1\t1\natomic\t2\t2\t2\n"},
        {"bad-later-row", HEADER "atomic\t1\t1\t1\nlocked\tx\t1\t1\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = write_file(bad[i].name, bad[i].text, strlen(bad[i].text));
        why[0] = '\0';
        int rc = ipc_calibration_read(p, "atomic", &in, why, sizeof why);
        if (rc != -EINVAL || !why[0] || strchr(why, '\n'))
            T_FAIL("%s: rc %d (%s), expected -EINVAL with one line", bad[i].name, rc, why);
    }
    const char *nul = write_file("nul", HEADER "atomic\t1\0\t1\t1\n", sizeof HEADER + 8);
    T_EQ_INT(ipc_calibration_read(nul, "atomic", &in, why, sizeof why), -EINVAL);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    T_EQ_INT(ipc_calibration_read(missing, "atomic", &in, why, sizeof why), -EINVAL);
    T_TRUE(strstr(why, "No such file") != NULL);
    T_TRUE(ipc_calibration_read(dir, "atomic", &in, why, sizeof why) < 0); /* a directory */
}

/* ---- the K bound per strategy ------------------------------------------------------------- */

static void test_max_check_every(void)
{
    struct ipc_verify_opts o = {.strategy = IPC_STRATEGY_POOL, .workers = 2, .serial_cutoff = 21};
    /* 1000003 is prime; odd candidates 3..999: 499 */
    T_EQ_U64(wl_range_count(wl_prime_candidates(1000003, 3)), 499);
    T_EQ_U64(ipc_verify_max_check_every(&o, 1000003), 250);
    o.workers = 3;
    T_EQ_U64(ipc_verify_max_check_every(&o, 1000003), 167);
    o.workers = 1000; /* more workers than candidates: one each */
    T_EQ_U64(ipc_verify_max_check_every(&o, 1000003), 1);
    o.strategy = IPC_STRATEGY_SERIAL;
    T_EQ_U64(ipc_verify_max_check_every(&o, 1000003), 499);
    o.strategy = IPC_STRATEGY_LESS_NAIVE; /* candidates from 21: 21..999, 490, over 1000 */
    T_EQ_U64(ipc_verify_max_check_every(&o, 1000003), 1);
    o.workers = 2;
    T_EQ_U64(ipc_verify_max_check_every(&o, 1000003), 245);
    for (uint64_t n = 0; n < 10; n++) /* no search loop: 0, 1, 2 and even numbers; 9: {3} */
        if (n < 3 || n % 2 == 0 || n == 9)
            T_EQ_U64(ipc_verify_max_check_every(&o, n), 1);
    o.strategy = IPC_STRATEGY_POOL;
    T_EQ_U64(ipc_verify_max_check_every(&o, UINT64_MAX), (2147483647ull + 1) / 2);
}

/* ---- real backends ---------------------------------------------------------------------------- */

static int real_inputs(const char *name, const int *cpus, int ncpus, struct ipc_cost_inputs *in)
{
    const struct flag_ops *ops = flag_backend_find(name);
    char why[256];
    if (!ops || flag_probe(ops, why, sizeof why) < 0) {
        printf("skip: %s is not available here: %s\n", name, ops ? why : "unknown");
        return T_SKIP;
    }
    struct flag f = FLAG_INIT;
    struct flag_config cfg = {.participants = 3};
    if (flag_open(&f, ops, &cfg) < 0) {
        T_FAIL("%s: open: %s", name, f.errstr);
        return 1;
    }
    int rc = ipc_calibrate(&f, cpus, ncpus, in, why, sizeof why);
    if (rc < 0)
        T_FAIL("%s: calibrate: %s", name, why);
    /* cached: the same figures again, and the flag left clear and usable */
    struct ipc_cost_inputs again;
    if (rc == 0 && ipc_calibrate(&f, cpus, ncpus, &again, why, sizeof why) == 0)
        T_TRUE(memcmp(in, &again, sizeof again) == 0);
    if (flag_attach(&f) == 0) {
        T_EQ_INT(flag_is_raised(&f), 0);
        flag_detach(&f);
    } else {
        T_FAIL("%s: attach after calibrating: %s", name, f.errstr);
    }
    flag_close(&f);
    if (rc == 0) {
        printf("%-10s w %.3f ns  c %.2f ns  r %.0f ns\n", name, in->work_ns, in->check_ns,
               in->raise_ns);
        T_TRUE(ipc_cost_inputs_valid(in));
        T_TRUE(in->raise_ns > 0); /* both are shared: a raise is seen, after some time */
    }
    return rc == 0 ? 0 : 1;
}

static int test_real(void)
{
    int cpus[2], n = ipc_cpu_allowed(cpus, 2);
    struct ipc_cost_inputs atomic, redis;
    int rc = real_inputs("atomic", n > 0 ? cpus : NULL, n, &atomic);
    if (rc)
        return rc;
    if ((rc = real_inputs("redis-unix", n > 0 ? cpus : NULL, n, &redis)))
        return rc;
    /* The chapter's 18-digit prime searched by two workers: K may go up to 79 million. */
    struct ipc_verify_opts o = {.strategy = IPC_STRATEGY_POOL, .workers = 2};
    uint64_t max_k = ipc_verify_max_check_every(&o, 100109100129100151ull), ka, kr;
    bool met_a = ipc_cost_choose_k(&atomic, IPC_COST_DEFAULT_TARGET, max_k, &ka);
    bool met_r = ipc_cost_choose_k(&redis, IPC_COST_DEFAULT_TARGET, max_k, &kr);
    printf("K for 1%%: atomic %" PRIu64 ", redis-unix %" PRIu64 " (%.0fx), bound %" PRIu64 "\n",
           ka, kr, (double)kr / (double)ka, max_k);
    T_TRUE(met_a && met_r);
    T_TRUE(ka >= 1 && kr <= max_k);
    /* a server round trip against a cached load: orders of magnitude apart */
    T_TRUE(redis.check_ns > 100 * atomic.check_ns);
    T_TRUE(kr > 1000 * ka);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "real") == 0) {
        int rc = test_real();
        return rc ? rc : T_RESULT();
    }
    if (!t_private_tmpdir(dir, sizeof dir, "cost-model")) {
        perror("mkdtemp");
        return 1;
    }
    test_formulas();
    test_choose_is_smallest();
    test_parse_target();
    test_calibration_file();
    test_max_check_every();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        T_FAIL("cannot remove %s", dir);
    return T_RESULT();
}
