/* SPDX-License-Identifier: MIT */
/* The payload object: records made from a seed, their summary, shares and wire format. */
#include "payload.h"

#include <endian.h>
#include <string.h>

_Static_assert(sizeof(struct wl_record) == WL_RECORD_SIZE, "a record is 64 bytes, no padding");

/* splitmix64's output function: a bijective mix, cheap and good enough to make every field
 * depend on every bit of its input. */
static inline uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void wl_payload_fill(struct wl_record *records, size_t n, uint64_t first, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t id = first + i;
        uint64_t base = mix(seed ^ mix(id + 0x9e3779b97f4a7c15ull));
        struct wl_record *r = &records[i];
        r->id = id;
        r->group = (uint32_t)(base % WL_PAYLOAD_GROUPS);
        r->weight = (uint32_t)(base >> 32);
        for (int j = 0; j < 6; j++)
            r->values[j] = mix(base + (uint64_t)j * 0x9e3779b97f4a7c15ull);
    }
}

void wl_payload_summary_init(struct wl_payload_summary *s)
{
    *s = (struct wl_payload_summary){0};
}

void wl_payload_summarize(const struct wl_record *records, size_t n, unsigned rounds,
                          struct wl_payload_summary *s)
{
    for (size_t i = 0; i < n; i++) {
        const struct wl_record *r = &records[i];
        uint64_t h = r->id, hi = 0;
        /* A dependent chain through every field, `rounds` times: the compiler can neither
         * skip nor vectorise it away, so the cost per record is fixed. */
        for (unsigned k = 0; k < rounds; k++)
            for (int j = 0; j < 6; j++)
                h = mix(h ^ r->values[j]);
        for (int j = 0; j < 6; j++)
            hi = r->values[j] > hi ? r->values[j] : hi;
        /* Folded into range: a corrupt group (from a damaged stream) never indexes outside. */
        uint32_t g = r->group % WL_PAYLOAD_GROUPS;
        s->records++;
        s->digest += h;
        s->max_value = hi > s->max_value ? hi : s->max_value;
        s->group_count[g]++;
        s->group_weight[g] += r->weight;
    }
}

void wl_payload_merge(struct wl_payload_summary *total, const struct wl_payload_summary *part)
{
    total->records += part->records;
    total->digest += part->digest;
    if (part->max_value > total->max_value)
        total->max_value = part->max_value;
    for (int g = 0; g < WL_PAYLOAD_GROUPS; g++) {
        total->group_count[g] += part->group_count[g];
        total->group_weight[g] += part->group_weight[g];
    }
}

bool wl_payload_summary_equal(const struct wl_payload_summary *a,
                              const struct wl_payload_summary *b)
{
    if (a->records != b->records || a->digest != b->digest || a->max_value != b->max_value)
        return false;
    for (int g = 0; g < WL_PAYLOAD_GROUPS; g++)
        if (a->group_count[g] != b->group_count[g] || a->group_weight[g] != b->group_weight[g])
            return false;
    return true;
}

void wl_payload_share(uint64_t n, unsigned parts, unsigned i, uint64_t *first, uint64_t *count)
{
    if (parts == 0 || i >= parts) {
        *first = n;
        *count = 0;
        return;
    }
    uint64_t base = n / parts, extra = n % parts;
    *first = (uint64_t)i * base + (i < extra ? i : extra);
    *count = base + (i < extra ? 1 : 0);
}

/* ---- wire format ---- */

/* Fixed-width little-endian fields through memcpy: one move each on this machine (and a byte
 * swap on a big-endian one), as a pickle of an array buffer is little more than a copy. */
static inline void put32(unsigned char *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static inline void put64(unsigned char *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

static inline uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

static inline uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

void wl_payload_encode_header(unsigned char out[WL_PAYLOAD_HEADER], uint64_t n)
{
    put32(out, WL_PAYLOAD_MAGIC);
    put32(out + 4, WL_PAYLOAD_VERSION);
    put64(out + 8, n);
}

int wl_payload_decode_header(const unsigned char in[WL_PAYLOAD_HEADER], uint64_t *n)
{
    if (get32(in) != WL_PAYLOAD_MAGIC || get32(in + 4) != WL_PAYLOAD_VERSION)
        return -1;
    *n = get64(in + 8);
    return 0;
}

void wl_payload_encode(const struct wl_record *records, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++, out += WL_RECORD_SIZE) {
        const struct wl_record *r = &records[i];
        put64(out, r->id);
        put32(out + 8, r->group);
        put32(out + 12, r->weight);
        for (int j = 0; j < 6; j++)
            put64(out + 16 + 8 * j, r->values[j]);
    }
}

void wl_payload_decode(const unsigned char *in, size_t n, struct wl_record *records)
{
    for (size_t i = 0; i < n; i++, in += WL_RECORD_SIZE) {
        struct wl_record *r = &records[i];
        r->id = get64(in);
        r->group = get32(in + 8);
        r->weight = get32(in + 12);
        for (int j = 0; j < 6; j++)
            r->values[j] = get64(in + 16 + 8 * j);
    }
}

void wl_payload_serialize(const struct wl_record *records, size_t n, unsigned char *out)
{
    wl_payload_encode_header(out, n);
    wl_payload_encode(records, n, out + WL_PAYLOAD_HEADER);
}

int64_t wl_payload_deserialize(const unsigned char *in, size_t len, struct wl_record *records,
                               size_t cap)
{
    uint64_t n;
    if (len < WL_PAYLOAD_HEADER || wl_payload_decode_header(in, &n) < 0)
        return -1;
    /* The count is checked against the length before any multiplication can overflow. */
    if (n > (len - WL_PAYLOAD_HEADER) / WL_RECORD_SIZE || wl_payload_wire_size(n) != len ||
        n > cap || n > (uint64_t)INT64_MAX)
        return -1;
    wl_payload_decode(in + WL_PAYLOAD_HEADER, (size_t)n, records);
    return (int64_t)n;
}
