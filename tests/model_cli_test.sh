#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab model` and `ipclab verify --check-every auto`: the model's table, JSON and
# calibration file agree with each other; a calibration file written by `model` gives `verify`
# exactly the K that `model` predicts from it; a costlier check gets a larger K, a tighter
# target a larger K, and K stays within [1, candidates per worker]; answers stay right; bad
# input is one line and exit 2; nothing is left in TMPDIR.
# Usage: model_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: model_cli_test.sh PATH/TO/ipclab}
NAME=model-cli
. "$(dirname "$0")/lib.sh"
need jq

PRIME=100109100129100151   # the chapter's 18-digit prime
COMPOSITE=100000000063137227 # 94868329 x 1054092563

# expect_usage CMD ARGS...: exit 2, nothing on stdout, one line on stderr naming the command.
expect_usage() {
    local cmd=$1 rc err
    shift
    "$IPCLAB" "$cmd" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    err=$(cat "$work/err")
    [ "$rc" -eq 2 ] || fail "ipclab $cmd $* exited $rc, expected 2 (stderr: $err)"
    [ ! -s "$work/out" ] || fail "ipclab $cmd $* printed on stdout: $(head -c 200 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "ipclab $cmd $*: $(wc -l <"$work/err") lines: $err"
    case "$err" in "ipclab $cmd: "*) ;; *) fail "ipclab $cmd $*: unexpected error: $err" ;; esac
}

# --- bad input ---------------------------------------------------------------------------------
printf 'flag\twork_ns\tcheck_ns\traise_ns\natomic\t1\tfast\t1\n' >"$work/bad.tsv"
printf 'x\n' >"$work/plain"
for t in auto: auto:0% auto:150% auto:abc auto:1 auto:1%% auto:-1% autox auto:1e2% 'auto: 1%'; do
    expect_usage verify --check-every "$t" 7
done
expect_usage verify --calibration "$work/bad.tsv" 7                   # without auto
expect_usage verify -k auto --calibration "$work/bad.tsv" 7
expect_usage verify -k auto --calibration "$work/plain" 7
expect_usage verify -k auto --calibration "$work/missing" 7
expect_usage verify -k auto --calibration '' 7
for a in "--flag nope" "--flag none" "--target 0%" "--target 5" "--target abc" "--number -1" \
         "--number 18446744073709551616" "--workers 0" "--workers 100000" "--format xml" \
         "--server-cpu 100000" "--tmpdir ''" "--calibration ''" "stray" "--bogus" "-x"; do
    eval "expect_usage model $a"
done
# control bytes in a value or a path never reach the terminal raw (one line, quoted)
expect_usage verify --check-every $'auto:0\x01' 7
expect_usage model --target $'1\n%'
expect_usage verify -k auto --calibration "$work/no"$'\n'"such" 7
expect_usage model --calibration "$work/no"$'\n'"such"
expect_usage model --calibration "$work/bad.tsv"
expect_usage model --calibration "$work/plain"
expect_usage model --calibration "$work/missing"

# --- model: measured inputs, three formats -----------------------------------------------------
"$IPCLAB" model --flag atomic --flag locked --format json >"$work/model.jsonl" 2>"$work/err" \
    || fail "model --format json failed: $(cat "$work/err")"
jq -se 'length == 2 and (map(.flag) == ["atomic", "locked"]) and all(.[];
        .available and .source == "calibrated" and .work_ns > 0 and .check_ns > 0
        and .raise_ns > 0 and .target == 0.01 and .number == "'$PRIME'"
        and .check_every >= 1 and .check_every <= .max_check_every
        and ((.target_met | not) or .predicted_overhead <= .target)
        and .predicted_stop_ns > .raise_ns and .predicted_stop_worst_ns > .predicted_stop_ns
        and .book_check_every == 1000)' "$work/model.jsonl" >/dev/null \
    || fail "model json: $(cat "$work/model.jsonl")"
"$IPCLAB" model --flag atomic >"$work/table" 2>"$work/err" || fail "model table: $(cat "$work/err")"
grep -q '^flag .* K ' "$work/table" || fail "model table has no header: $(cat "$work/table")"
grep -q '^atomic ' "$work/table" || fail "model table has no atomic row: $(cat "$work/table")"

# a calibration file with a cheap and a costly check, as `model --format tsv` writes it
"$IPCLAB" model --flag atomic --flag null --format tsv >"$work/cal.tsv" 2>"$work/err" \
    || fail "model --format tsv: $(cat "$work/err")"
grep -q $'^atomic\t[0-9.]*\t[0-9.]*\t[0-9.]*$' "$work/cal.tsv" || fail "tsv: $(cat "$work/cal.tsv")"
grep -q $'^null\t[0-9.]*\t[0-9.]*\t-$' "$work/cal.tsv" || fail "tsv (null has no r): $(cat "$work/cal.tsv")"
w=$(awk -F'\t' '$1 == "atomic" { print $2 }' "$work/cal.tsv")
{ grep -v '^redis-unix' "$work/cal.tsv"; printf 'redis-unix\t%s\t25000\t40000\n' "$w"; } >"$work/cal2.tsv"

# the file's inputs, not new measurements: K = ceil(c / (w x target)), smallest meeting it
"$IPCLAB" model --calibration "$work/cal2.tsv" --format json >"$work/from_file.jsonl" 2>"$work/err" \
    || fail "model --calibration: $(cat "$work/err")"
jq -se 'map(.flag) == ["atomic", "null", "redis-unix"] and all(.[]; .source == "file")' \
    "$work/from_file.jsonl" >/dev/null || fail "model from a file: $(cat "$work/from_file.jsonl")"
k_atomic=$(jq -r 'select(.flag == "atomic") | .check_every' "$work/from_file.jsonl")
k_redis=$(jq -r 'select(.flag == "redis-unix") | .check_every' "$work/from_file.jsonl")
want=$(awk -v w="$w" 'BEGIN { x = 25000 / (w * 0.01); k = int(x); if (k < x) k++; print k }')
[ "$k_redis" = "$want" ] || fail "redis-unix from the file: K $k_redis, expected ceil(25000/($w x 1%)) = $want"
[ "$k_redis" -gt $((1000 * k_atomic)) ] || fail "K(redis-unix) $k_redis is not >> K(atomic) $k_atomic"

# --- verify --check-every auto ----------------------------------------------------------------
# the same file gives verify exactly model's K, and the answers stay right
"$IPCLAB" verify -k auto --calibration "$work/cal2.tsv" --format json --workers 2 "$PRIME" \
    >"$work/v.jsonl" 2>"$work/err" || fail "verify auto from a file: $(cat "$work/err")"
jq -e '.prime and .check_every_mode == "auto" and .model_source == "file"
       and .check_every == '"$k_atomic"' and .overhead_target == 0.01 and .target_met
       and .predicted_overhead <= 0.01 and .predicted_stop_ns > 0' "$work/v.jsonl" >/dev/null \
    || fail "verify auto (file): $(cat "$work/v.jsonl")"
"$IPCLAB" verify -k auto:0.5% --calibration "$work/cal2.tsv" --format json --workers 2 "$PRIME" \
    >"$work/v05.jsonl" 2>"$work/err" || fail "verify auto:0.5%: $(cat "$work/err")"
k05=$(jq -r .check_every "$work/v05.jsonl")
[ "$k05" -ge $((2 * k_atomic - 2)) ] || fail "a target half as large: K $k05 vs $k_atomic"

# K bounds: a check costing 1 s (never meets 1%) is checked at most once per worker's range
{ grep -v '^atomic' "$work/cal2.tsv"; printf 'atomic\t%s\t1000000000\t100\n' "$w"; } >"$work/slow.tsv"
for s in "pool 250" "serial 499"; do
    set -- $s
    "$IPCLAB" verify -k auto --calibration "$work/slow.tsv" -s "$1" --workers 2 --format json \
        1000003 >"$work/b.jsonl" 2>"$work/err" || fail "verify bound ($1): $(cat "$work/err")"
    jq -e '.prime and .check_every == '"$2"' and (.target_met | not) and .checks == 0' \
        "$work/b.jsonl" >/dev/null || fail "K bound with $1: $(cat "$work/b.jsonl")"
done
"$IPCLAB" verify -k auto --calibration "$work/slow.tsv" --format json 2 4 9 >"$work/b.jsonl" \
    2>"$work/err" || fail "verify 2 4 9: $(cat "$work/err")"
jq -se 'map(.check_every) == [1, 1, 1] and map(.prime) == [true, false, false]' \
    "$work/b.jsonl" >/dev/null || fail "K for numbers with no search: $(cat "$work/b.jsonl")"

# measured now (no file), a fixed K has null model fields, the table shows K
"$IPCLAB" verify -k auto --format json --workers 2 "$COMPOSITE" >"$work/m.jsonl" 2>"$work/err" \
    || fail "verify auto (measured): $(cat "$work/err")"
jq -e '.factor == "94868329" and .model_source == "calibrated" and .work_ns > 0
       and .model_check_ns == .check_cost_ns and .raise_ns > 0 and .stop_latency_ns != null' \
    "$work/m.jsonl" >/dev/null || fail "verify auto (measured): $(cat "$work/m.jsonl")"
"$IPCLAB" verify --format json 15 | jq -e '.check_every_mode == "fixed" and .predicted_overhead == null
    and .work_ns == null' >/dev/null || fail "a fixed K reports model fields"
"$IPCLAB" verify -k auto --calibration "$work/cal2.tsv" "$PRIME" >"$work/t" 2>"$work/err" \
    || fail "verify auto table: $(cat "$work/err")"
grep -q '^# model (.*cal2.tsv): w ' "$work/t" || fail "verify auto table header: $(cat "$work/t")"
grep -q "^$PRIME .* $k_atomic " "$work/t" || fail "verify auto table row: $(cat "$work/t")"

tmp_empty || fail "left in TMPDIR: $(ls -A "$TMPDIR")"
finish
