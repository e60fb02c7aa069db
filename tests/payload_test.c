/* SPDX-License-Identifier: MIT */
/* The payload hand-off: the wire format round-trips and rejects what is not an object, shares
 * tile the object and summaries merge exactly, all four ways give the same summary for many
 * sizes and worker counts, the bytes each way moves, nothing left in TMPDIR, and the memory
 * check refuses what cannot fit. */
#include "test.h"

#include "ipc/cpu.h"
#include "ipc/payload.h"
#include "ipc/spawn.h"

#include <errno.h>
#include <unistd.h>

static int cpus[1024];
static int ncpus;

static void test_wire_format(void)
{
    enum { N = 37 };
    static struct wl_record a[N], b[N];
    static unsigned char buf[WL_PAYLOAD_HEADER + N * WL_RECORD_SIZE];
    wl_payload_fill(a, N, 0, 5);
    T_EQ_U64(wl_payload_wire_size(N), sizeof buf);
    wl_payload_serialize(a, N, buf);
    T_EQ_INT(wl_payload_deserialize(buf, sizeof buf, b, N), N);
    T_TRUE(memcmp(a, b, sizeof a) == 0);
    /* Little-endian on the wire whatever the machine: record 0's id (0) then group. */
    T_EQ_INT(buf[0], 'I');
    T_EQ_INT(buf[1], 'P');
    T_EQ_INT(buf[2], 'L');
    T_EQ_INT(buf[3], 'P');
    T_EQ_INT(buf[8], N);
    T_EQ_INT(buf[16 + 64 + 0], 1); /* record 1's id, low byte first */

    /* What is not a whole object of this format is refused. */
    T_EQ_INT(wl_payload_deserialize(buf, sizeof buf - 1, b, N), -1);
    T_EQ_INT(wl_payload_deserialize(buf, sizeof buf + 0, b, N - 1), -1); /* too many for cap */
    T_EQ_INT(wl_payload_deserialize(buf, WL_PAYLOAD_HEADER - 1, b, N), -1);
    buf[0] ^= 1;
    T_EQ_INT(wl_payload_deserialize(buf, sizeof buf, b, N), -1);
    buf[0] ^= 1;
    buf[4] = 2; /* another version */
    T_EQ_INT(wl_payload_deserialize(buf, sizeof buf, b, N), -1);
    buf[4] = 1;
    /* A count that would overflow the length computation. */
    unsigned char hdr[WL_PAYLOAD_HEADER];
    wl_payload_encode_header(hdr, UINT64_MAX / 2);
    memcpy(buf, hdr, sizeof hdr);
    T_EQ_INT(wl_payload_deserialize(buf, sizeof buf, b, N), -1);
    /* An empty object is a valid object. */
    wl_payload_encode_header(hdr, 0);
    T_EQ_INT(wl_payload_deserialize(hdr, sizeof hdr, b, N), 0);

    /* Filling in chunks gives the same records as filling at once. */
    wl_payload_fill(b, 10, 0, 5);
    wl_payload_fill(b + 10, N - 10, 10, 5);
    T_TRUE(memcmp(a, b, sizeof a) == 0);
    /* Another seed, other records. */
    wl_payload_fill(b, N, 0, 6);
    T_TRUE(memcmp(a, b, sizeof a) != 0);
}

static void test_shares_and_merge(void)
{
    static const uint64_t ns[] = {0, 1, 2, 7, 64, 1000, 1001};
    enum { N = 1001 };
    static struct wl_record r[N];
    wl_payload_fill(r, N, 0, 9);
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        struct wl_payload_summary whole;
        wl_payload_summary_init(&whole);
        wl_payload_summarize(r, (size_t)ns[k], 3, &whole);
        T_EQ_U64(whole.records, ns[k]);
        for (unsigned parts = 1; parts <= 9; parts++) {
            uint64_t next = 0, lo = UINT64_MAX, hi = 0;
            struct wl_payload_summary merged;
            wl_payload_summary_init(&merged);
            /* Backwards, so the merge order differs from the record order. */
            for (unsigned i = parts; i-- > 0;) {
                uint64_t first, count;
                wl_payload_share(ns[k], parts, i, &first, &count);
                struct wl_payload_summary part;
                wl_payload_summary_init(&part);
                wl_payload_summarize(r + first, (size_t)count, 3, &part);
                wl_payload_merge(&merged, &part);
                lo = count < lo ? count : lo;
                hi = count > hi ? count : hi;
            }
            for (unsigned i = 0; i < parts; i++) {
                uint64_t first, count;
                wl_payload_share(ns[k], parts, i, &first, &count);
                if (first != next)
                    T_FAIL("n %" PRIu64 ", %u parts: part %u starts at %" PRIu64
                           ", expected %" PRIu64,
                           ns[k], parts, i, first, next);
                next = first + count;
            }
            T_EQ_U64(next, ns[k]);
            T_TRUE(hi - lo <= 1);
            if (!wl_payload_summary_equal(&merged, &whole))
                T_FAIL("n %" PRIu64 ", %u parts: merged summary differs", ns[k], parts);
        }
    }
    /* The digest depends on the rounds; the counts do not. */
    struct wl_payload_summary a, b;
    wl_payload_summary_init(&a);
    wl_payload_summary_init(&b);
    wl_payload_summarize(r, N, 1, &a);
    wl_payload_summarize(r, N, 2, &b);
    T_TRUE(a.digest != b.digest);
    T_EQ_U64(a.group_count[3], b.group_count[3]);
    T_EQ_U64(a.max_value, b.max_value);
    /* Every group is used and the counts add up. */
    uint64_t total = 0;
    for (int g = 0; g < WL_PAYLOAD_GROUPS; g++) {
        T_TRUE(a.group_count[g] > 0);
        total += a.group_count[g];
    }
    T_EQ_U64(total, N);
    /* A corrupt group is folded into range, not used as an index. */
    struct wl_record bad = r[0];
    bad.group = 0xffffffffu;
    wl_payload_summary_init(&a);
    wl_payload_summarize(&bad, 1, 1, &a);
    T_EQ_U64(a.group_count[0xffffffffu % WL_PAYLOAD_GROUPS], 1);
}

static bool run_way(const struct ipc_payload *p, enum ipc_payload_way way, unsigned workers,
                    bool pin, struct ipc_payload_result *r)
{
    struct ipc_payload_opts o = {
        .way = way,
        .workers = workers,
        .rounds = 2,
        .cpus = pin ? cpus : NULL,
        .ncpus = pin ? ncpus : 0,
    };
    char err[256];
    int rc = ipc_payload_run(p, &o, r, err, sizeof err);
    if (rc < 0)
        T_FAIL("%s, %u workers, %" PRIu64 " bytes: %s (%d)", ipc_payload_way_name(way), workers,
               p->bytes, err, rc);
    return rc == 0;
}

static void test_ways_agree(const char *tmp)
{
    /* One record, a few, more workers than records, an odd count, a size that is not a whole
     * number of records, and more than a pipe's buffer and a file chunk. */
    static const uint64_t sizes[] = {64, 64 * 3, 1000, 64 * 1001, 3u << 20};
    static const unsigned workers[] = {1, 2, 5};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct ipc_payload p;
        char err[256];
        if (ipc_payload_create(&p, sizes[s], 77, err, sizeof err) < 0) {
            T_FAIL("create %" PRIu64 " bytes: %s", sizes[s], err);
            continue;
        }
        T_EQ_U64(p.nrecords, sizes[s] / WL_RECORD_SIZE);
        T_EQ_U64(p.bytes, p.nrecords * WL_RECORD_SIZE);
        struct wl_payload_summary ref;
        wl_payload_summary_init(&ref);
        wl_payload_summarize(p.records, (size_t)p.nrecords, 2, &ref);
        T_EQ_U64(ref.records, p.nrecords);
        uint64_t wire = wl_payload_wire_size(p.nrecords);
        for (int w = 0; w < IPC_PAYLOAD_NWAYS; w++) {
            for (size_t k = 0; k < sizeof workers / sizeof workers[0]; k++) {
                for (int pin = 0; pin <= 1; pin++) {
                    struct ipc_payload_result r;
                    if (!run_way(&p, (enum ipc_payload_way)w, workers[k], pin, &r))
                        continue;
                    if (!wl_payload_summary_equal(&r.summary, &ref))
                        T_FAIL("%s, %u workers, %" PRIu64 " bytes: summary differs "
                               "(digest %016" PRIx64 " vs %016" PRIx64 ")",
                               ipc_payload_way_name((enum ipc_payload_way)w), workers[k], p.bytes,
                               r.summary.digest, ref.digest);
                    T_TRUE(r.wall_ns > 0);
                    uint64_t want = w == IPC_PAYLOAD_PIPE ? workers[k] * wire
                                    : w == IPC_PAYLOAD_FILE
                                        ? wire + workers[k] * WL_PAYLOAD_HEADER + p.bytes
                                        : 0;
                    T_EQ_U64(r.bytes_moved, want);
                    int left = t_count_entries(tmp);
                    if (left != 0)
                        T_FAIL("%s: %d entries left in %s", ipc_payload_way_name(w), left, tmp);
                }
            }
        }
        ipc_payload_destroy(&p);
        T_TRUE(p.records == NULL);
        ipc_payload_destroy(&p); /* twice is safe */
    }
}

static void test_bad_options(const char *tmp)
{
    struct ipc_payload p;
    char err[256];
    T_EQ_INT(ipc_payload_create(&p, 0, 1, err, sizeof err), -EINVAL);
    T_STR_NONEMPTY(err);
    T_EQ_INT(ipc_payload_create(&p, IPC_PAYLOAD_MIN_BYTES - 1, 1, err, sizeof err), -EINVAL);
    T_EQ_INT(ipc_payload_create(&p, IPC_PAYLOAD_MAX_BYTES + 1, 1, err, sizeof err), -EINVAL);
    T_TRUE(p.records == NULL);
    if (ipc_payload_create(&p, 4096, 1, err, sizeof err) < 0) {
        T_FAIL("create: %s", err);
        return;
    }
    struct ipc_payload_result r;
    struct ipc_payload_opts o = {.way = IPC_PAYLOAD_SHARED, .workers = 0};
    T_EQ_INT(ipc_payload_run(&p, &o, &r, err, sizeof err), -EINVAL);
    T_STR_NONEMPTY(err);
    o.workers = IPC_PAYLOAD_MAX_WORKERS + 1;
    T_EQ_INT(ipc_payload_run(&p, &o, &r, err, sizeof err), -EINVAL);
    o.workers = 2;
    o.rounds = IPC_PAYLOAD_MAX_ROUNDS + 1;
    T_EQ_INT(ipc_payload_run(&p, &o, &r, err, sizeof err), -EINVAL);
    o.rounds = 0; /* the default */
    o.way = IPC_PAYLOAD_NWAYS;
    T_EQ_INT(ipc_payload_run(&p, &o, &r, err, sizeof err), -EINVAL);
    /* A file way that cannot make its directory fails cleanly. */
    o.way = IPC_PAYLOAD_FILE;
    o.tmpdir = "/nonexistent/ipclab-payload-test";
    int rc = ipc_payload_run(&p, &o, &r, err, sizeof err);
    T_TRUE(rc < 0);
    T_STR_NONEMPTY(err);
    T_EQ_INT(t_count_entries(tmp), 0);
    /* Ways by name. */
    for (int w = 0; w < IPC_PAYLOAD_NWAYS; w++) {
        enum ipc_payload_way back;
        T_EQ_INT(ipc_payload_way_parse(ipc_payload_way_name(w), &back), 0);
        T_EQ_INT(back, w);
    }
    enum ipc_payload_way x;
    T_EQ_INT(ipc_payload_way_parse("all", &x), -1);
    T_EQ_INT(ipc_payload_way_parse("Pipe", &x), -1);
    ipc_payload_destroy(&p);
}

static void test_memory_check(void)
{
    char err[256];
    long avail = ipc_mem_available_mib();
    if (avail < 0) {
        fprintf(stderr, "MemAvailable unreadable: memory check not tested\n");
        return;
    }
    /* Something that fits and something that does not, whatever this machine has. */
    T_EQ_INT(ipc_payload_mem_check(1 << 20, "a small run", err, sizeof err), 0);
    uint64_t over = ((uint64_t)avail + 1) << 20;
    T_EQ_INT(ipc_payload_mem_check(over, "too much", err, sizeof err), -ENOMEM);
    if (!strstr(err, "too much") || !strstr(err, "MemAvailable"))
        T_FAIL("the refusal does not say what and why: %s", err);
    /* The margin counts: exactly MemAvailable is refused too. */
    T_EQ_INT(ipc_payload_mem_check((uint64_t)avail << 20, "all of it", err, sizeof err), -ENOMEM);
    T_EQ_INT(ipc_payload_mem_check(UINT64_MAX - (1u << 20), "absurd", err, sizeof err), -ENOMEM);

    /* What each way needs. */
    uint64_t b = 1u << 20, n = b / WL_RECORD_SIZE, wire = wl_payload_wire_size(n);
    T_EQ_U64(ipc_payload_mem_needed(IPC_PAYLOAD_SERIAL, b, 4), 0);
    T_EQ_U64(ipc_payload_mem_needed(IPC_PAYLOAD_SHARED, b, 4), 0);
    T_EQ_U64(ipc_payload_mem_needed(IPC_PAYLOAD_PIPE, b, 4), wire + 4 * (wire + b));
    T_TRUE(ipc_payload_mem_needed(IPC_PAYLOAD_FILE, b, 4) >= wire);

    /* The largest object with the most workers through pipes: 130 GiB. */
    uint64_t huge =
        ipc_payload_mem_needed(IPC_PAYLOAD_PIPE, IPC_PAYLOAD_MAX_BYTES, IPC_PAYLOAD_MAX_WORKERS);
    if (huge >> 20 > (uint64_t)avail)
        T_EQ_INT(ipc_payload_mem_check(huge, "pipe", err, sizeof err), -ENOMEM);
    else
        fprintf(stderr, "this machine has %ld MiB available: the 130 GiB case fits\n", avail);
}

int main(void)
{
    char tmp[512];
    if (!t_private_tmpdir(tmp, sizeof tmp, "payload-test")) {
        perror("private TMPDIR");
        return 1;
    }
    int n = ipc_cpu_allowed(cpus, 1024);
    ncpus = n > 0 ? n : 0;
    test_wire_format();
    test_shares_and_merge();
    test_ways_agree(tmp);
    test_bad_options(tmp);
    test_memory_check();
    int left = t_count_entries(tmp);
    if (left != 0)
        T_FAIL("%d entries left in %s", left, tmp);
    else
        rmdir(tmp);
    return T_RESULT();
}
