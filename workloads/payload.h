/* SPDX-License-Identifier: MIT */
/* The large object handed to workers: an array of fixed-size records (standing in for the
 * chapter's dictionary of DataFrames), its serialised form, and the small summary a worker
 * computes from its share. */
#ifndef IPCLAB_WL_PAYLOAD_H
#define IPCLAB_WL_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Groups a record may belong to: the summary keeps a count and a sum per group. */
#define WL_PAYLOAD_GROUPS 8

/* One record: 64 bytes, one cache line, no padding. */
struct wl_record {
    uint64_t id;    /* its index in the object */
    uint32_t group; /* 0 .. WL_PAYLOAD_GROUPS-1 */
    uint32_t weight;
    uint64_t values[6];
};
#define WL_RECORD_SIZE 64

/* The default rounds of arithmetic per record in wl_payload_summarize: the work the chapter's
 * workers did on their data, a fixed cost per record (about 200 ns, 3 ns per byte, here)
 * rather than a bare pass over it, so that splitting the object over workers can pay off and
 * the cost of handing it over is of the same order as the work saved. */
#define WL_PAYLOAD_ROUNDS 8

/*
 * What a worker computes from its records. Every field is an integer combined by addition
 * modulo 2^64 (or max), so the summary of a whole object equals the merge of its parts' in
 * any split and any order: results of the different ways of running compare exactly.
 */
struct wl_payload_summary {
    uint64_t records;
    uint64_t digest;    /* sum of each record's mixed hash */
    uint64_t max_value; /* largest values[] entry */
    uint64_t group_count[WL_PAYLOAD_GROUPS];
    uint64_t group_weight[WL_PAYLOAD_GROUPS]; /* sum of weight per group */
};

/* Fill records[0..n) with the records of index first .. first+n-1 of the object made from
 * seed: a record depends only on (seed, its index), so chunks may be filled separately. */
void wl_payload_fill(struct wl_record *records, size_t n, uint64_t first, uint64_t seed);

/* An empty summary (what a worker with no records reports). */
void wl_payload_summary_init(struct wl_payload_summary *s);
/* Add the summary of records[0..n) to s, mixing each record's fields `rounds` times (>= 1;
 * the digest depends on it, the other fields do not). */
void wl_payload_summarize(const struct wl_record *records, size_t n, unsigned rounds,
                          struct wl_payload_summary *s);
/* Add part to total. */
void wl_payload_merge(struct wl_payload_summary *total, const struct wl_payload_summary *part);
bool wl_payload_summary_equal(const struct wl_payload_summary *a,
                              const struct wl_payload_summary *b);

/* Worker i's share of n records split over parts: [*first, *first + *count), sizes differing
 * by at most one (the first n % parts workers get the extra one); the shares tile [0, n). */
void wl_payload_share(uint64_t n, unsigned parts, unsigned i, uint64_t *first, uint64_t *count);

/* ---- the serialised form (what the pipe carries and the file holds) ----------------------- */

/*
 * A header then every record, each field little-endian in declaration order (the wire format
 * is the same on every machine, as pickle's is): header = magic "IPLP", version 1 (both
 * 32-bit), the record count (64-bit). Records are WL_RECORD_SIZE bytes each on the wire too,
 * so record i starts at WL_PAYLOAD_HEADER + i * WL_RECORD_SIZE and a reader may seek.
 */
#define WL_PAYLOAD_HEADER 16
#define WL_PAYLOAD_MAGIC 0x504c5049u /* "IPLP" read as little-endian */
#define WL_PAYLOAD_VERSION 1u

/* Bytes of the serialised form of n records. */
static inline uint64_t wl_payload_wire_size(uint64_t n)
{
    return WL_PAYLOAD_HEADER + n * WL_RECORD_SIZE;
}

void wl_payload_encode_header(unsigned char out[WL_PAYLOAD_HEADER], uint64_t n);
/* 0 with *n set if in[] is a header of this format and version; -1 otherwise. */
int wl_payload_decode_header(const unsigned char in[WL_PAYLOAD_HEADER], uint64_t *n);

/* Encode records[0..n) into out[n * WL_RECORD_SIZE] / decode them back. */
void wl_payload_encode(const struct wl_record *records, size_t n, unsigned char *out);
void wl_payload_decode(const unsigned char *in, size_t n, struct wl_record *records);

/* The whole object: header and records into out[wl_payload_wire_size(n)]. */
void wl_payload_serialize(const struct wl_record *records, size_t n, unsigned char *out);
/*
 * Parse a whole serialised object of len bytes into records[cap]: returns the record count,
 * or -1 if the header is not this format, the length does not match the count, or the count
 * exceeds cap. A record whose group is out of range is decoded as it is; wl_payload_summarize
 * folds the group into range, so bad data gives a wrong summary, never a bad access.
 */
int64_t wl_payload_deserialize(const unsigned char *in, size_t len, struct wl_record *records,
                               size_t cap);

#endif
