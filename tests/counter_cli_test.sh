#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab counter`: bad command lines are one-line usage errors; the JSON adds up, the correct
# variants lose nothing, one worker loses nothing. Usage: counter_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: counter_cli_test.sh PATH/TO/ipclab}
NAME=counter-cli
. "$(dirname "$0")/lib.sh"
need jq

expect_usage() {
    local rc
    "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    [ "$rc" -eq 2 ] || fail "ipclab $* exited $rc, expected 2 (stderr: $(cat "$work/err"))"
    [ ! -s "$work/out" ] || fail "ipclab $* printed on stdout: $(head -c 200 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] \
        || fail "ipclab $* printed $(wc -l <"$work/err") lines on stderr"
    grep -q '^ipclab counter: ' "$work/err" \
        || fail "ipclab $*: error does not start with 'ipclab counter:'"
}

# --- bad command lines ------------------------------------------------------------------
expect_usage counter --variant nope
expect_usage counter --variant ""
expect_usage counter --variant "$(printf 'atomic\nx')"
expect_usage counter --variant locked
expect_usage counter --workers 0
expect_usage counter --workers 257
expect_usage counter --workers -1
expect_usage counter --workers 2x
expect_usage counter --workers 99999999999999999999999
expect_usage counter --workers
expect_usage counter --increments 0
expect_usage counter --increments 1000000001
expect_usage counter --increments 1e6
expect_usage counter --repeat 0
expect_usage counter --repeat 1001
expect_usage counter --format xml
expect_usage counter --bogus
expect_usage counter extra
expect_usage counter "$(head -c 5000 /dev/zero | tr '\0' 'x')"

for args in "counter --help" "counter -h" "help counter"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab counter"*) ;; *) fail "ipclab $args: no usage text" ;; esac
done

# --- every variant, JSON that adds up ----------------------------------------------------------
"$IPCLAB" counter --format json --workers 2 --increments 100000 >"$work/all.json" \
    || fail "counter --format json failed"
jq -e -s 'map(.variant) == ["unsynchronised", "locked-get-set", "locked-rmw", "atomic"]' \
    "$work/all.json" >/dev/null || fail "variants: $(jq -c -s 'map(.variant)' "$work/all.json")"
jq -e -s 'all(.[]; .workers == 2 and .increments == 100000 and .expected == 200000 and
    .final <= .expected and .final >= 1 and .lost == .expected - .final and
    (.lost_fraction - .lost / .expected | fabs) < 1e-9 and .wall_ns > 0 and
    .total_ns >= .wall_ns and (.ns_per_increment - .wall_ns / .expected | fabs) < 0.01 and
    .run == 1 and (.cpus == null or (.cpus | length) == 2))' "$work/all.json" >/dev/null \
    || fail "counter json does not add up: $(cat "$work/all.json")"
jq -e -s '.[2:] | all(.[]; .lost == 0 and .final == 200000)' "$work/all.json" >/dev/null \
    || fail "locked-rmw or atomic lost updates: $(cat "$work/all.json")"

# one worker loses nothing, whatever the variant
"$IPCLAB" counter --format json --workers 1 --increments 50000 >"$work/one.json" \
    || fail "counter --workers 1 failed"
jq -e -s 'length == 4 and all(.[]; .lost == 0 and .final == 50000)' "$work/one.json" >/dev/null \
    || fail "one worker lost updates: $(cat "$work/one.json")"

# more workers than CPUs, repeated, unpinned
"$IPCLAB" counter --format json --variant atomic --workers 5 --increments 20000 --repeat 2 \
    --no-pin >"$work/rep.json" || fail "counter --repeat 2 failed"
jq -e -s 'map(.run) == [1, 2] and all(.[]; .final == 100000 and .cpus == null)' \
    "$work/rep.json" >/dev/null || fail "--repeat/--no-pin: $(cat "$work/rep.json")"

# the table
"$IPCLAB" counter --workers 2 --increments 1000 >"$work/table.txt" || fail "counter table failed"
[ "$(wc -l <"$work/table.txt")" -eq 6 ] || fail "table: $(cat "$work/table.txt")"
grep -q '^atomic  *2  *2000  *2000  *0 ' "$work/table.txt" \
    || fail "table row: $(cat "$work/table.txt")"

tmp_empty || fail "left $(ls -A "$TMPDIR")"
finish
