#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab rng`: bad command lines are one-line usage errors; streams shows the trap (every
# inherited stream identical) and its fixes in valid JSON; throughput draws what it says.
# Usage: rng_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: rng_cli_test.sh PATH/TO/ipclab}
NAME=rng-cli
. "$(dirname "$0")/lib.sh"
need jq

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming ipclab.
expect_usage() {
    local rc
    "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    [ "$rc" -eq 2 ] || fail "ipclab $* exited $rc, expected 2 (stderr: $(cat "$work/err"))"
    [ ! -s "$work/out" ] || fail "ipclab $* printed on stdout: $(head -c 200 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] \
        || fail "ipclab $* printed $(wc -l <"$work/err") lines on stderr"
    grep -q '^ipclab rng: ' "$work/err" || fail "ipclab $*: error does not start with 'ipclab rng:'"
}

# --- bad command lines ------------------------------------------------------------------
expect_usage rng
expect_usage rng bogus
expect_usage rng ""
expect_usage rng "$(printf 'two\nlines')"
expect_usage rng --seeding jump
expect_usage rng streams --seeding nope
expect_usage rng streams --seeding ""
expect_usage rng streams --workers 1
expect_usage rng streams --workers 257
expect_usage rng streams --workers x
expect_usage rng streams --workers -2
expect_usage rng streams --workers 99999999999999999999999
expect_usage rng streams --workers
expect_usage rng streams --count 0
expect_usage rng streams --count 1000001
expect_usage rng streams --count 1e3
expect_usage rng streams --workers 256 --count 1000000
expect_usage rng streams --show 17
expect_usage rng streams --seed -1
expect_usage rng streams --seed 18446744073709551616
expect_usage rng streams --format xml
expect_usage rng streams --threads 2
expect_usage rng streams --bogus
expect_usage rng streams extra
expect_usage rng throughput --threads 0
expect_usage rng throughput --threads 257
expect_usage rng throughput --mode nope
expect_usage rng throughput --mode "$(printf 'a\nb')"
expect_usage rng throughput --numbers 0
expect_usage rng throughput --numbers 1000000001
expect_usage rng throughput --repeat 0
expect_usage rng throughput --repeat 1001
expect_usage rng throughput --format csv
expect_usage rng throughput --count 5
expect_usage rng throughput extra
expect_usage rng throughput "$(head -c 5000 /dev/zero | tr '\0' 'x')"

# --- help ---------------------------------------------------------------------------------
for args in "rng --help" "rng -h" "help rng" "rng streams --help" "rng throughput -h"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab rng"*) ;; *) fail "ipclab $args: no usage text" ;; esac
done

# --- streams: the trap and its fixes ---------------------------------------------------------
"$IPCLAB" rng streams --format json --workers 5 --count 200 >"$work/streams.json" \
    || fail "rng streams --format json failed"
[ "$(wc -l <"$work/streams.json")" -eq 3 ] \
    || fail "streams printed $(wc -l <"$work/streams.json") lines, expected 3"
jq -e -s 'map(.seeding) == ["inherited", "per-worker", "jump"]' "$work/streams.json" >/dev/null \
    || fail "streams seedings: $(jq -c -s 'map(.seeding)' "$work/streams.json")"
jq -e -s 'all(.[]; .experiment == "rng-streams" and .workers == 5 and .count == 200 and
    .seed == "42" and .pairs == 10 and (.wall_ns | type == "number") and
    (.pids | length == 5 and (unique | length) == 5) and
    (.cpus == null or (.cpus | length) == 5) and
    (.first | length == 5 and all(.[]; length == 3 and all(.[]; test("^[0-9]+$")))))' \
    "$work/streams.json" >/dev/null \
    || fail "streams json lacks fields: $(head -c 400 "$work/streams.json")"
# inherited: every pair identical, one stream, the parent's: seed 42 through splitmix64 starts
# xoshiro256** at 1546998764402558742
jq -e -s '.[0] | .identical_pairs == 10 and .identical_pairs_fraction == 1 and
    .distinct_streams == 1 and (.first | unique | length) == 1 and
    .first[0][0] == "1546998764402558742"' "$work/streams.json" >/dev/null \
    || fail "the inherited trap did not show: $(head -1 "$work/streams.json" | head -c 400)"
# the fixes: no pair identical, five streams
jq -e -s '.[1:] | all(.[]; .identical_pairs == 0 and .identical_pairs_fraction == 0 and
    .distinct_streams == 5 and (.first | unique | length) == 5)' "$work/streams.json" >/dev/null \
    || fail "per-worker or jump gave identical streams"
# jump keeps the parent's stream for worker 0 and moves the others away from it
jq -e -s '.[2].first[0] == .[0].first[0] and .[2].first[1] != .[0].first[0]' \
    "$work/streams.json" >/dev/null || fail "jump's worker 0 is not the parent's stream"
# another seed, another parent stream
"$IPCLAB" rng streams --format json --seeding inherited --seed 7 --workers 2 --count 5 \
    >"$work/seed7.json" || fail "rng streams --seed 7 failed"
jq -e '.seed == "7" and .first[0][0] != "1546998764402558742" and .identical_pairs == 1' \
    "$work/seed7.json" >/dev/null || fail "--seed 7: $(cat "$work/seed7.json")"
# --show and --no-pin
"$IPCLAB" rng streams --format json --seeding jump --show 0 --no-pin >"$work/show.json" \
    || fail "rng streams --show 0 --no-pin failed"
jq -e '.cpus == null and (.first | all(.[]; length == 0))' "$work/show.json" >/dev/null \
    || fail "--show 0 --no-pin: $(cat "$work/show.json")"
# the table says it too
"$IPCLAB" rng streams --workers 4 >"$work/streams.txt" || fail "rng streams table failed"
grep -q '^inherited  *6 of 6  *1 of 4 ' "$work/streams.txt" \
    || fail "table: $(cat "$work/streams.txt")"
grep -q '^per-worker  *0 of 6  *4 of 4 ' "$work/streams.txt" \
    || fail "table: $(cat "$work/streams.txt")"
[ "$(grep -c '^    worker ' "$work/streams.txt")" -eq 12 ] || fail "table lacks the worker lines"

# --- throughput -------------------------------------------------------------------------------
"$IPCLAB" rng throughput --format json --threads 2 --numbers 20000 >"$work/tp.json" \
    || fail "rng throughput --format json failed"
jq -e -s 'map(.mode) == ["locked-shared", "per-thread"] and all(.[];
    .experiment == "rng-throughput" and .threads == 2 and .numbers_per_thread == 20000 and
    .numbers == 40000 and .wall_ns > 0 and .numbers_per_s > 0 and .ns_per_number > 0 and
    (.checksum | test("^[0-9]+$")) and .run == 1)' "$work/tp.json" >/dev/null \
    || fail "throughput json: $(cat "$work/tp.json")"
# locked-shared draws the shared generator's first N x M outputs whoever draws them: the same
# checksum for 4 x 10000 and 1 x 40000; per-thread with one thread is that same stream
sum() { "$IPCLAB" rng throughput --format json "$@" | jq -r .checksum; }
a=$(sum --mode locked-shared --threads 4 --numbers 10000)
b=$(sum --mode locked-shared --threads 1 --numbers 40000)
c=$(sum --mode per-thread --threads 1 --numbers 40000)
d=$(sum --mode per-thread --threads 4 --numbers 10000)
[ -n "$a" ] || fail "no locked-shared checksum"
[ "$a" = "$b" ] || fail "locked-shared checksum depends on the threads: $a vs $b"
[ "$b" = "$c" ] || fail "one thread: locked-shared $b vs per-thread $c"
[ "$c" != "$d" ] || fail "per-thread with 4 threads drew the single stream"
runs=$("$IPCLAB" rng throughput --format json --mode per-thread --threads 1 --numbers 10 \
    --repeat 3 | jq -r -s 'map(.run) | join(",")')
[ "$runs" = "1,2,3" ] || fail "--repeat numbering is wrong: $runs"
"$IPCLAB" rng throughput --threads 2 --numbers 1000 >"$work/tp.txt" \
    || fail "throughput table failed"
grep -q '^locked-shared  *2  *2000 ' "$work/tp.txt" \
    || fail "throughput table: $(cat "$work/tp.txt")"
grep -q '^per-thread  *2  *2000 ' "$work/tp.txt" || fail "throughput table: $(cat "$work/tp.txt")"

tmp_empty || fail "left $(ls -A "$TMPDIR")"
finish
