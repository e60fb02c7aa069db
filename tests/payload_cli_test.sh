#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab payload`: bad options get one line and exit 2; runs give JSON Lines with every field,
# one digest for every way, the bytes each way moves, nothing left in TMPDIR, and a run that
# cannot fit in memory is refused with one line and exit 1 before anything is allocated.
# Usage: payload_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: payload_cli_test.sh PATH/TO/ipclab}
NAME=payload-cli
. "$(dirname "$0")/lib.sh"
need jq

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming the command.
expect_usage() {
    local rc err
    "$IPCLAB" payload "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    err=$(cat "$work/err")
    [ "$rc" -eq 2 ] || fail "ipclab payload $* exited $rc, expected 2 (stderr: $err)"
    [ ! -s "$work/out" ] || fail "ipclab payload $* printed on stdout: $(head -c 200 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] \
        || fail "ipclab payload $* printed $(wc -l <"$work/err") lines on stderr: $err"
    case "$err" in
        "ipclab payload: "*) ;;
        *) fail "ipclab payload $*: error does not start with 'ipclab payload: ': $err" ;;
    esac
}

# --- bad command lines ------------------------------------------------------------------------
expect_usage --way nope
expect_usage --way ""
expect_usage --way Pipe
expect_usage --size 0
expect_usage --size 63
expect_usage --size 1073741825
expect_usage --size 1e6
expect_usage --size -5
expect_usage --size " 64"
expect_usage --size 0x40
expect_usage --size 99999999999999999999999
expect_usage --size-mib 0
expect_usage --size-mib 1025
expect_usage --size-mib 1.5
expect_usage --size 4096 --size-mib 1
expect_usage --workers 0
expect_usage --workers 65
expect_usage --workers x
expect_usage --repeat 0
expect_usage --repeat 1001
expect_usage --rounds 0
expect_usage --rounds 1025
expect_usage --seed -1
expect_usage --seed 18446744073709551616
expect_usage --tmpdir ""
expect_usage --format xml
expect_usage --bogus
expect_usage -x
expect_usage extra
expect_usage --way
expect_usage --size 4096 --workers
expect_usage --way "$(head -c 5000 /dev/zero | tr '\0' 'x')"
expect_usage --size "$(head -c 5000 /dev/zero | tr '\0' '7')"
"$IPCLAB" payload --workers 999 2>&1 >/dev/null | grep -q "999" \
    || fail "--workers 999: the error does not quote the value"
"$IPCLAB" payload --way nope 2>&1 >/dev/null | grep -q "nope" \
    || fail "--way nope: the error does not quote the value"

# --- help: the ways and the limits are named ---------------------------------------------------
for args in "payload --help" "payload -h" "help payload"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab payload"*) ;; *) fail "ipclab $args: no usage text" ;; esac
    for word in serial pipe file shared MemAvailable 1073741824 1024 64 1000; do
        case "$out" in *"$word"*) ;; *) fail "ipclab $args: '$word' is not in the help" ;; esac
    done
done

# --- valid runs: fields, one digest, bytes moved, nothing left behind --------------------------
SIZE=200000 # 3125 records: more than one pipe buffer, not a power of two
"$IPCLAB" payload --size "$SIZE" --workers 3 --repeat 2 --rounds 3 --seed 9 --format json \
    >"$work/all.json" || fail "a run of every way failed"
[ "$(wc -l <"$work/all.json")" -eq 8 ] \
    || fail "expected 8 JSON lines (4 ways x 2 runs), got $(wc -l <"$work/all.json")"
jq -e -s 'map(.way) == ["serial","pipe","file","shared","serial","pipe","file","shared"] and
          map(.run) == [1,1,1,1,2,2,2,2]' "$work/all.json" >/dev/null \
    || fail "ways or runs out of order: $(jq -c -s 'map([.way, .run])' "$work/all.json")"
jq -e -s 'all(.[];
    .bytes == 200000 and .records == 3125 and .rounds == 3 and .seed == "9" and
    (if .way == "serial" then .workers == 0 else .workers == 3 end) and
    (.wall_ns | type == "number") and .wall_ns > 0 and
    (.vs_serial | type == "number") and .vs_serial > 0 and
    (if .way == "serial" then .vs_serial == 1 else true end) and
    (.digest | test("^[0-9a-f]{16}$")) and .agrees == true and
    (.pin | IN("per-worker", "none")) and
    (if .pin == "none" then .cpus == null else (.cpus | length) == .workers end))' \
    "$work/all.json" >/dev/null || fail "fields missing or wrong: $(head -2 "$work/all.json")"
[ "$(jq -s 'map(.digest) | unique | length' "$work/all.json")" -eq 1 ] \
    || fail "the ways disagree: $(jq -c -s 'map([.way, .digest])' "$work/all.json")"
wire=$((16 + 3125 * 64))
jq -e -s --argjson wire "$wire" --argjson b 200000 'all(.[];
    if .way == "pipe" then .bytes_moved == 3 * $wire
    elif .way == "file" then .bytes_moved == $wire + 3 * 16 + $b
    else .bytes_moved == 0 end)' "$work/all.json" >/dev/null \
    || fail "bytes_moved is wrong: $(jq -c -s 'map([.way, .bytes_moved])' "$work/all.json")"
tmp_empty || fail "files left in TMPDIR: $(ls -A "$TMPDIR")"

# the digest depends on the object (seed) and the work (rounds), not on the way or workers
a=$("$IPCLAB" payload --way shared --size 6400 --workers 1 --seed 9 --rounds 3 --format json \
    | jq -r .digest)
b=$("$IPCLAB" payload --way file --size 6400 --workers 2 --seed 9 --rounds 3 --format json \
    | jq -r .digest)
c=$("$IPCLAB" payload --way pipe --size 6400 --workers 2 --seed 10 --rounds 3 --format json \
    | jq -r .digest)
d=$("$IPCLAB" payload --way pipe --size 6400 --workers 2 --seed 9 --rounds 4 --format json \
    | jq -r .digest)
if [ -z "$a" ] || [ "$a" != "$b" ]; then
    fail "same object, same rounds, different digests: '$a' '$b'"
fi
[ "$a" != "$c" ] || fail "another seed gave the same digest"
[ "$a" != "$d" ] || fail "other rounds gave the same digest"

# a single way; --size-mib; sizes round down to whole records; one worker; more workers than
# records
"$IPCLAB" payload --way pipe --size-mib 1 --workers 2 --format json >"$work/one.json" \
    || fail "--way pipe --size-mib 1 failed"
jq -e '.way == "pipe" and .bytes == 1048576 and .records == 16384 and .vs_serial == null' \
    "$work/one.json" >/dev/null || fail "single way: $(cat "$work/one.json")"
"$IPCLAB" payload --way file --size 1000 --workers 1 --format json \
    | jq -e '.bytes == 960 and .records == 15 and .workers == 1' >/dev/null \
    || fail "1000 bytes do not round down to 15 records"
"$IPCLAB" payload --size 64 --workers 4 --format json >"$work/tiny.json" \
    || fail "one record over four workers failed"
[ "$(jq -s 'map(.digest) | unique | length' "$work/tiny.json")" -eq 1 ] \
    || fail "one record: the ways disagree"
"$IPCLAB" payload --way shared --size 6400 --workers 2 --no-pin --format json \
    | jq -e '.pin == "none" and .cpus == null' >/dev/null || fail "--no-pin still pinned"

# --tmpdir: the file goes there and goes away; a directory that does not exist is an error
mkdir "$work/elsewhere"
"$IPCLAB" payload --way file --size 6400 --tmpdir "$work/elsewhere" --format json >/dev/null \
    || fail "--tmpdir failed"
[ -z "$(ls -A "$work/elsewhere")" ] || fail "left in --tmpdir: $(ls -A "$work/elsewhere")"
"$IPCLAB" payload --way file --size 6400 --tmpdir "$work/missing" >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] || fail "--tmpdir missing: exit $rc, expected 1"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "--tmpdir missing: $(cat "$work/err")"

# --- memory: what cannot fit is refused, one line, exit 1, nothing allocated -------------------
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
# 1 GiB through pipes to 64 workers needs about 130 GiB
if [ "$avail" -lt 130000 ]; then
    "$IPCLAB" payload --way pipe --size-mib 1024 --workers 64 >"$work/out" 2>"$work/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "130 GiB run: exit $rc, expected 1"
    [ ! -s "$work/out" ] || fail "130 GiB run printed on stdout"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "130 GiB run: $(cat "$work/err")"
    grep -q "MemAvailable" "$work/err" || fail "130 GiB run: the error does not say why"
    # --way all is refused for its hungriest way
    "$IPCLAB" payload --size-mib 1024 --workers 64 >/dev/null 2>"$work/err"
    rc=$?
    if [ "$rc" -ne 1 ] || ! grep -q "pipe" "$work/err"; then
        fail "--way all with 130 GiB: exit $rc: $(cat "$work/err")"
    fi
fi

# --- the table says what ran ---------------------------------------------------------------------
"$IPCLAB" payload --size 6400 --workers 2 >"$work/table.txt" || fail "table output failed"
grep -q '^# payload: 6400 bytes (100 records of 64 bytes), 2 workers' "$work/table.txt" \
    || fail "table header: $(head -1 "$work/table.txt")"
for w in serial pipe file shared; do
    grep -Eq "^1 +$w +[0-9.]+ " "$work/table.txt" || fail "no table row for $w"
done

# a reader that goes away stops the runs, with the status of a SIGPIPE death
"$IPCLAB" payload --way serial --size 640 --repeat 1000 --format json 2>/dev/null | head -1 \
    >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 141 ] || fail "closed pipe: exit $rc, expected 141 (SIGPIPE)"

tmp_empty || fail "files left in TMPDIR: $(ls -A "$TMPDIR")"
finish
