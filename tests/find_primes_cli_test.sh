#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab find-primes`: bad options get one line and exit 2; runs give JSON Lines with every
# field and the sieve's count for serial and every usable transport, jobs, messages and bytes
# as the protocol implies, an unusable transport is one line and exit 1, and nothing is left
# in TMPDIR.
# Usage: find_primes_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: find_primes_cli_test.sh PATH/TO/ipclab}
NAME=find-primes-cli
. "$(dirname "$0")/lib.sh"
need jq

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming the command.
expect_usage() {
    local rc err
    "$IPCLAB" find-primes "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    err=$(cat "$work/err")
    [ "$rc" -eq 2 ] || fail "ipclab find-primes $* exited $rc, expected 2 (stderr: $err)"
    [ ! -s "$work/out" ] \
        || fail "ipclab find-primes $* printed on stdout: $(head -c 200 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] \
        || fail "ipclab find-primes $* printed $(wc -l <"$work/err") lines on stderr: $err"
    case "$err" in
        "ipclab find-primes: "*) ;;
        *) fail "ipclab find-primes $*: error does not start with 'ipclab find-primes: ': $err" ;;
    esac
}

# --- bad command lines ------------------------------------------------------------------------
expect_usage --transport nope
expect_usage --transport ""
expect_usage --transport Pipe
expect_usage --transport "$(head -c 5000 /dev/zero | tr '\0' 'x')"
expect_usage --n -1
expect_usage --n 100000001
expect_usage --n 1e6
expect_usage --n " 5"
expect_usage --n 0x10
expect_usage --n 99999999999999999999999
expect_usage --n ""
expect_usage --job-size 0
expect_usage --job-size 100000001
expect_usage --job-size 1.5
expect_usage --workers 0
expect_usage --workers 257
expect_usage --workers two
expect_usage --transport serial --workers 2
expect_usage --repeat 0
expect_usage --repeat 1001
expect_usage --tmpdir ""
expect_usage --format xml
expect_usage --bogus
expect_usage -x
expect_usage extra
expect_usage --n
expect_usage --n 10 --job-size
"$IPCLAB" find-primes --workers 999 2>&1 >/dev/null | grep -q "999" \
    || fail "--workers 999: the error does not quote the value"
"$IPCLAB" find-primes --transport nope 2>&1 >/dev/null | grep -q "nope" \
    || fail "--transport nope: the error does not quote the value"
"$IPCLAB" find-primes --transport nope 2>&1 >/dev/null | grep -q "pipe" \
    || fail "--transport nope: the error does not list the transports"

# --- help -------------------------------------------------------------------------------------
for args in "find-primes --help" "find-primes -h" "help find-primes"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab find-primes"*) ;; *) fail "ipclab $args: no usage text" ;; esac
    for word in serial pipe 100000000 256 1000; do
        case "$out" in *"$word"*) ;; *) fail "ipclab $args: '$word' is not in the help" ;; esac
    done
done

# --- serial: the sieve's count, edge cases included ----------------------------------------------
for n_pi in 0:0 1:0 2:1 3:2 4:2 100:25 10000:1229; do
    n=${n_pi%%:*} pi=${n_pi##*:}
    "$IPCLAB" find-primes --transport serial --n "$n" --job-size 7 --format json >"$work/s.json" \
        || fail "serial --n $n failed"
    jq -e --argjson n "$n" --argjson pi "$pi" '.transport == "serial" and .n == $n and
        .primes == $pi and .reference == $pi and .workers == 0 and .messages == 0 and
        .bytes == 0 and .queue_ns == null and .pin == "none" and .cpus == null and
        .jobs == (($n + 6) / 7 | floor)' "$work/s.json" >/dev/null \
        || fail "serial --n $n: $(cat "$work/s.json")"
done

# --- every transport that runs here: the same count, the protocol's messages and bytes ----------
usable=0
for t in mq pipe redis shm-ring socketpair uring; do
    "$IPCLAB" find-primes --transport "$t" --n 3000 --job-size 100 --workers 3 --repeat 2 \
        --format json >"$work/$t.json" 2>"$work/$t.err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "is not available here" "$work/$t.err"; then
        [ "$(wc -l <"$work/$t.err")" -eq 1 ] || fail "$t unusable: $(cat "$work/$t.err")"
        [ ! -s "$work/$t.json" ] || fail "$t unusable but printed results"
        echo "$t: not usable here: $(cat "$work/$t.err")"
        continue
    fi
    [ "$rc" -eq 0 ] || { fail "$t: exit $rc: $(cat "$work/$t.err")"; continue; }
    usable=$((usable + 1))
    jq -e -s --arg t "$t" 'length == 2 and map(.run) == [1, 2] and all(.[];
        .transport == $t and .n == 3000 and .job_size == 100 and .workers == 3 and
        .primes == 430 and .reference == 430 and .jobs == 30 and
        .messages == 2 * 30 + 2 * 3 and .bytes == 30 * (16 + 8) and
        .wall_ns > 0 and (.queue_ns | type == "number") and .queue_ns <= .wall_ns and
        ((.ns_per_job - .wall_ns / .jobs) | fabs) <= 0.051 and
        .physical_cores >= 1 and .logical_cpus >= .physical_cores and
        (.pin | IN("per-worker", "none")) and
        (if .pin == "none" then .cpus == null else (.cpus | length) == 3 end))' \
        "$work/$t.json" >/dev/null || fail "$t: fields missing or wrong: $(head -1 "$work/$t.json")"
done
[ "$usable" -gt 0 ] || echo "no queue transport usable here: only serial was tested"

# one job per worker, more workers than jobs, jobs larger than N, N = 0, one worker
if "$IPCLAB" find-primes --transport pipe --n 10 --format json >/dev/null 2>&1; then
    "$IPCLAB" find-primes --n 1000 --job-size 500 --workers 2 --format json \
        | jq -e '.primes == 168 and .jobs == 2 and .transport == "pipe"' >/dev/null \
        || fail "default transport, two jobs: wrong"
    "$IPCLAB" find-primes --n 100 --job-size 1000 --workers 5 --format json \
        | jq -e '.primes == 25 and .jobs == 1 and .messages == 2 + 10' >/dev/null \
        || fail "one job, five workers: wrong"
    "$IPCLAB" find-primes --n 0 --workers 2 --format json \
        | jq -e '.primes == 0 and .jobs == 0 and .messages == 4 and .ns_per_job == null' \
        >/dev/null || fail "n = 0: wrong"
    "$IPCLAB" find-primes --n 500 --job-size 1 --workers 1 --no-pin --format json \
        | jq -e '.primes == 95 and .jobs == 500 and .pin == "none" and .cpus == null' \
        >/dev/null || fail "one number per job, one unpinned worker: wrong"
    # the table says what ran
    "$IPCLAB" find-primes --n 2000 --job-size 100 --workers 2 >"$work/table.txt" \
        || fail "table output failed"
    want='^# find-primes: primes in 1..2000 (sieve: 303), 20 jobs of 100 numbers, transport pipe'
    grep -q "$want, 2 workers" "$work/table.txt" || fail "table header: $(head -1 "$work/table.txt")"
    grep -Eq '^1 +303 ' "$work/table.txt" || fail "table row: $(tail -1 "$work/table.txt")"
fi

# a reader that goes away stops the runs, with the status of a SIGPIPE death
"$IPCLAB" find-primes --transport serial --n 100 --repeat 1000 --format json 2>/dev/null \
    | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 141 ] || fail "closed pipe: exit $rc, expected 141 (SIGPIPE)"

tmp_empty || fail "files left in TMPDIR: $(ls -A "$TMPDIR")"
finish
