/* SPDX-License-Identifier: MIT */
/* Fuzz the payload's wire format reader (wl_payload_deserialize in workloads/payload.c): the
 * bytes come through a pipe or from a file the workers read.
 *
 * Input: byte 0 sets the reader's capacity (records), the rest is the serialised object.
 * Properties: the reader accepts exactly a header of this format and version whose count
 * matches the length and fits the capacity; what it accepts serialises back to the same bytes
 * (no information lost or invented), and summarising it never reads out of bounds, whatever
 * the groups hold. */
#include "fuzz.h"

#include "workloads/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cap = data[0] % 64;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    struct wl_record *records = malloc((cap ? cap : 1) * sizeof *records);
    FUZZ_CHECK(records != NULL, "out of memory");
    int64_t n = wl_payload_deserialize(in, len, records, cap);

    /* Independent reading of the header: "IPLP", version 1, a 64-bit count, little-endian. */
    bool ok = false;
    uint64_t count = 0;
    if (len >= WL_PAYLOAD_HEADER && memcmp(in, "IPLP", 4) == 0 && in[4] == 1 && in[5] == 0 &&
        in[6] == 0 && in[7] == 0) {
        for (int b = 7; b >= 0; b--)
            count = count << 8 | in[8 + b];
        ok = count <= cap && (len - WL_PAYLOAD_HEADER) % WL_RECORD_SIZE == 0 &&
             (len - WL_PAYLOAD_HEADER) / WL_RECORD_SIZE == count;
    }
    FUZZ_CHECK((n >= 0) == ok, "returned %lld for %zu bytes, count %llu, cap %zu", (long long)n,
               len, (unsigned long long)count, cap);
    if (n >= 0) {
        FUZZ_CHECK((uint64_t)n == count, "%lld records, header says %llu", (long long)n,
                   (unsigned long long)count);
        uint8_t *back = malloc(len);
        FUZZ_CHECK(back != NULL, "out of memory");
        wl_payload_serialize(records, (size_t)n, back);
        FUZZ_CHECK(memcmp(back, in, len) == 0, "does not serialise back to the same bytes");
        free(back);
        struct wl_payload_summary s;
        wl_payload_summary_init(&s);
        wl_payload_summarize(records, (size_t)n, 1, &s);
    }
    free(records);
    return 0;
}
