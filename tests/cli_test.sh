#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ipclab command: bad input gets one line and exit 2, good input gets right answers in
# valid JSON, and --help works everywhere. Usage: cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: cli_test.sh PATH/TO/ipclab}
NAME=cli
. "$(dirname "$0")/lib.sh"
need jq

# expect_usage CMD...: exit 2, nothing on stdout, exactly one line on stderr naming ipclab.
expect_usage() {
    local out err rc
    "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    out=$(cat "$work/out"); err=$(cat "$work/err")
    [ "$rc" -eq 2 ] || fail "ipclab $* exited $rc, expected 2 (stderr: $err)"
    [ -z "$out" ] || fail "ipclab $* printed on stdout: $out"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "ipclab $* printed $(wc -l <"$work/err") lines on stderr: $err"
    case "$err" in ipclab*) ;; *) fail "ipclab $*: error does not start with 'ipclab': $err" ;; esac
}

# expect_usage_stdin INPUT CMD...: as above with INPUT on stdin.
expect_usage_stdin() {
    local input=$1 rc; shift
    printf '%b' "$input" | "$IPCLAB" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "stdin '$input': ipclab $* exited $rc, expected 2 ($(cat "$work/err"))"
    [ ! -s "$work/out" ] || fail "stdin '$input': printed on stdout: $(cat "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "stdin '$input': $(wc -l <"$work/err") lines on stderr"
}

# --- bad command lines ------------------------------------------------------------------
expect_usage
expect_usage nosuchcommand
expect_usage verify abc
expect_usage verify -- -5
expect_usage verify -5
expect_usage verify 18446744073709551616
expect_usage verify 99999999999999999999999999999999
expect_usage verify ""
expect_usage verify " 7"
expect_usage verify +7
expect_usage verify 0x10
expect_usage verify 1e6
expect_usage verify 7.0
expect_usage verify 7 abc
expect_usage verify --flag nope 7
expect_usage verify --flag "" 7
expect_usage verify --strategy nope 7
expect_usage verify --workers 0 7
expect_usage verify --workers 1025 7
expect_usage verify --workers 99999999999999999999999 7
expect_usage verify --workers -1 7
expect_usage verify --check-every 0 7
expect_usage verify --check-every -1 7
expect_usage verify --check-every x 7
expect_usage verify --serial-cutoff -3 7
expect_usage verify --repeat 0 7
expect_usage verify --format xml 7
expect_usage verify --tmpdir "" 7
expect_usage verify --book 7
expect_usage verify --bogus 7
expect_usage verify --workers
expect_usage verify --server-cpu 99999 7
expect_usage verify --server-cpu -1 7
expect_usage verify --server-cpu x 7
expect_usage verify --redis-port 0 --flag redis-tcp 7
expect_usage verify --redis-port 65536 --flag redis-tcp 7
expect_usage verify --redis-socket "" --flag redis-unix 7
expect_usage verify --redis-host "" --flag redis-tcp 7
expect_usage flags --format xml
expect_usage flags extra
expect_usage help nosuchcommand
expect_usage_stdin '' verify
expect_usage_stdin '\n' verify
expect_usage_stdin '7\n\n11\n' verify
expect_usage_stdin '7\nabc\n' verify
expect_usage_stdin '7\n-1\n' verify
expect_usage_stdin '18446744073709551616\n' verify
expect_usage_stdin '7 11\n' verify
# a long garbage argument is quoted, shortened, on one line
expect_usage verify "$(head -c 5000 /dev/zero | tr '\0' 'x')"

# --- help everywhere ------------------------------------------------------------------------
for args in "--help" "help" "flags --help" "verify --help" "help verify" "verify -h"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *usage:*) ;; *) fail "ipclab $args: no usage text" ;; esac
done

# --- flags ----------------------------------------------------------------------------------
"$IPCLAB" flags --format json >"$work/flags.json" || fail "ipclab flags --format json failed"
jq -e -s 'length >= 14 and all(.[]; .name and .description and (.available|type=="boolean"))' \
    "$work/flags.json" >/dev/null || fail "ipclab flags json is malformed"
for b in none null atomic raw locked mmap file eventfd pipe signal manager; do
    jq -e -s --arg b "$b" 'any(.[]; .name == $b and .available)' "$work/flags.json" >/dev/null \
        || fail "backend $b is missing or unavailable"
done
"$IPCLAB" flags | grep -q '^atomic ' || fail "ipclab flags table lacks atomic"

# --- right answers ------------------------------------------------------------------------
# result NUMBER ARGS...: prints "prime factor" from the JSON line
result() {
    local n=$1; shift
    "$IPCLAB" verify --format json "$@" "$n" | jq -r '"\(.prime) \(.factor)"'
}
expect() {
    local want=$1 n=$2; shift 2
    local got; got=$(result "$n" "$@")
    [ "$got" = "$want" ] || fail "verify $* $n: got '$got', expected '$want'"
}
for s in serial pool less-naive; do
    for f in none atomic locked file; do
        expect "false null" 0 --strategy "$s" --flag "$f"
        expect "false null" 1 --strategy "$s" --flag "$f"
        expect "true null" 2 --strategy "$s" --flag "$f"
        expect "true null" 3 --strategy "$s" --flag "$f"
        expect "false 2" 4 --strategy "$s" --flag "$f"
        expect "false 3" 9 --strategy "$s" --flag "$f" --workers 3
        expect "false 3" 18446744073709551615 --strategy "$s" --flag "$f"
        expect "true null" 1000000007 --strategy "$s" --flag "$f" --check-every 7
    done
done
# the square of the largest prime below 2^32: the factor is exactly the square root,
# the last candidate of the last worker's range
expect "false 4294967291" 18446744030759878681 --workers 2 --flag atomic

# the chapter's five numbers, as JSON Lines, with every field present and typed
"$IPCLAB" verify --book --format json --workers 2 >"$work/book.json" || fail "verify --book failed"
[ "$(wc -l <"$work/book.json")" -eq 5 ] || fail "verify --book printed $(wc -l <"$work/book.json") lines"
jq -e -s '
  map("\(.number) \(.prime) \(.factor)") == [
    "112272535095295 false 5",
    "100109100129100369 false 95362951",
    "100109100129101027 false 171656941",
    "100109100129100151 true null",
    "100109100129162907 true null"]' "$work/book.json" >/dev/null \
    || fail "the chapter's numbers came out wrong: $(cat "$work/book.json")"
jq -e -s 'all(.[];
    (.number|type=="string") and (.strategy=="pool") and (.flag=="atomic") and
    (.workers==2) and (.check_every==1000) and (.wall_ns|type=="number") and
    (.checks|type=="number") and (.check_ns|type=="number") and
    (.candidates|type=="number") and (.check_ns_method=="calibrated") and
    ((.stop_latency_ns|type)=="number" or .stop_latency_ns==null) and
    (.cpus==null or (.cpus|type)=="array") and (.server_cpu==null))' "$work/book.json" >/dev/null \
    || fail "verify json lacks fields: $(head -1 "$work/book.json")"
# primes raise nothing; the composite found by a pool worker has a stop latency
jq -e -s '.[3].stop_latency_ns == null and .[1].stop_latency_ns != null' "$work/book.json" \
    >/dev/null || fail "stop_latency_ns is wrong in $(cat "$work/book.json")"

# numbers from stdin, with blanks and CRLF line ends
printf ' 7 \r\n11\n\t13\n' | "$IPCLAB" verify --format json >"$work/stdin.json" \
    || fail "verify from stdin failed"
[ "$(jq -r -s 'map(.number) | join(",")' "$work/stdin.json")" = "7,11,13" ] \
    || fail "stdin numbers came out as $(cat "$work/stdin.json")"

# --repeat prints every run, numbered
[ "$("$IPCLAB" verify --format json --repeat 3 7 11 | jq -r -s 'map(.run) | join(",")')" = "1,1,2,2,3,3" ] \
    || fail "--repeat numbering is wrong"

# a server backend pinned where asked, and says so
"$IPCLAB" verify --flag manager --server-cpu 0 --format json 9 >"$work/server.json" \
    || fail "verify --flag manager --server-cpu 0 failed"
jq -e '.server_cpu == 0 and .server_last_cpu == 0 and .factor == "3"' "$work/server.json" >/dev/null \
    || fail "manager server placement not recorded: $(cat "$work/server.json")"

# the table format says what ran
"$IPCLAB" verify --strategy less-naive --flag raw 25 >"$work/table.txt" || fail "table output failed"
grep -q 'strategy less-naive, flag raw' "$work/table.txt" || fail "table header: $(head -1 "$work/table.txt")"
grep -q '^25 .* no .* 5 ' "$work/table.txt" || fail "table row: $(tail -1 "$work/table.txt")"

# a runtime error (unusable --tmpdir) is exit 1 with one line
"$IPCLAB" verify --flag mmap --tmpdir /nonexistent/dir 7 >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] || fail "unusable --tmpdir exited $rc, expected 1"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "unusable --tmpdir: $(cat "$work/err")"

finish
