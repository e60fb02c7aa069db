#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The C shim over Google Benchmark: what gbench_selftest registers comes out in the JSON as
# set (names, counters, times, repetitions, errors, context), and unknown flags are exit 2.
# Usage: gbench_test.sh PATH/TO/gbench_selftest
# The jq filters are single-quoted on purpose: their $n and $m are jq's, not the shell's.
# shellcheck disable=SC2016
set -u
SELFTEST=${1:?usage: gbench_test.sh PATH/TO/gbench_selftest}
NAME=gbench
. "$(dirname "$0")/lib.sh"
need jq

out=$work/out.json
"$SELFTEST" --benchmark_out="$out" --benchmark_out_format=json --benchmark_min_time=0.01 \
    >"$work/stdout" 2>"$work/stderr"
rc=$?
if [ "$rc" -ne 0 ]; then
    # the shim's and the selftest's own one-line errors, else whatever came last
    why=$(grep -E '^gbench(_selftest)?: ' "$work/stderr" | head -3 | tr '\n' ' ')
    fail "gbench_selftest exited $rc: ${why:-$(tail -n 1 "$work/stderr")}"
fi
jq -e '.benchmarks | length > 0' "$out" >/dev/null 2>&1 || {
    if [ -s "$out" ]; then
        fail "the JSON output has no benchmark rows"
    else
        fail "no JSON output"
    fi
    finish
}

# Filters get abs, rows(PREFIX) (the rows whose run_name starts with PREFIX) and $n, $m.
defs='def abs: if . < 0 then -. else . end;
      def rows($p): [.benchmarks[] | select(.run_name | startswith($p))];'
n=0 m=0
q() { jq -c --argjson n "$n" --argjson m "$m" "$defs $1" "$out" 2>&1; }
# expect DESCRIPTION FILTER [SHOW]: FILTER must yield true, else a failure showing SHOW's value.
expect() {
    [ "$(q "$2")" = true ] && return 0
    fail "$1${3:+: $(q "$3")}"
    return 1
}

# --- names: arguments as /name:value, then the library's own suffixes ------------------------
expect "argument families are misnamed" \
    'rows("selftest/args/") | map(.name) ==
        ["selftest/args/n:10/m:2/real_time", "selftest/args/n:20/m:3/real_time"]' \
    'rows("selftest/args/") | map(.name)'
expect "no manual-time row with its 64 fixed iterations in the name" \
    'rows("selftest/manual/") | map(.name) == ["selftest/manual/iterations:64/manual_time"]' \
    'rows("selftest/manual") | map(.name)'
expect "min_time, min_warmup_time or repetitions missing from the aggregates-only family" \
    'rows("selftest/reps_agg/") | length > 0 and all(.[]; .run_name ==
        "selftest/reps_agg/min_time:0.005/min_warmup_time:0.002/repeats:3")' \
    'rows("selftest/reps_agg") | map(.run_name) | unique'

# --- the argument family: counters with every flag, time unit, label -------------------------
for set in "10 2" "20 3"; do
    read -r n m <<<"$set"
    row='rows("selftest/args/n:\($n)/m:\($m)/") | .[0]'
    expect "args n:$n m:$m: row missing or not in microseconds" \
        "$row"' | .time_unit == "us" and .iterations > 0 and .real_time > 0' \
        "$row"' | {time_unit, iterations, real_time}' || continue
    expect "args n:$n m:$m: gb_range read back wrong" "$row"' | .n == $n and .m == $m' \
        "$row"' | {n, m}'
    expect "args n:$n m:$m: default counter iters is not the iteration count" \
        "$row"' | .iters == .iterations' "$row"' | {iters, iterations}'
    expect "args n:$n m:$m: avg-iterations counter is not 1000/iterations" \
        "$row"' | (.avg * .iterations / 1000 - 1 | abs) < 1e-9' "$row"' | {avg, iterations}'
    expect "args n:$n m:$m: inverted avg-iterations counter is not iterations/1000" \
        "$row"' | (.avg_inv * 1000 / .iterations - 1 | abs) < 1e-9' \
        "$row"' | {avg_inv, iterations}'
    # one item per iteration, over real time in microseconds per iteration
    expect "args n:$n m:$m: rate counter is not items per second of real time" \
        "$row"' | .items_rate > 0 and (.items_rate * .real_time / 1e6 - 1 | abs) < 1e-6' \
        "$row"' | {items_rate, real_time}'
    expect "args n:$n m:$m: wrong label" "$row"' | .label == "selftest-label"' "$row"' | .label'
done

# --- manual time: the reported time, not the clock's ----------------------------------------
expect "manual time is not what the family set" \
    'rows("selftest/manual/") | .[0] | .iterations == 64 and .time_unit == "ns" and
        (.real_time - 1500 | abs) < 0.01' \
    'rows("selftest/manual/") | .[0] | {iterations, real_time, time_unit}'

# --- repetitions: aggregates only, or every repetition as well ---------------------------------
expect "aggregates-only family has rows other than aggregates" \
    'rows("selftest/reps_agg/") | all(.[]; .run_type == "aggregate")' \
    'rows("selftest/reps_agg/") | map(.run_type)'
expect "aggregates-only family lacks mean/median/stddev/cv" \
    'rows("selftest/reps_agg/") | map(.aggregate_name) | sort ==
        ["cv", "mean", "median", "stddev"]' \
    'rows("selftest/reps_agg/") | map(.aggregate_name)'
expect "the other repeated family does not have its 3 repetitions" \
    'rows("selftest/reps_all/") | map(select(.run_type == "iteration")) |
        (map(.repetition_index) | sort) == [0, 1, 2] and all(.[]; .repetitions == 3)' \
    'rows("selftest/reps_all/") | map([.run_type, .repetition_index])'
expect "the other repeated family lacks its median" \
    'rows("selftest/reps_all/") | any(.[]; .aggregate_name == "median")'

# --- the failed family, the custom context ---------------------------------------------------
expect "no error row with the family's message" \
    'rows("selftest/error") | length == 1 and .[0].error_occurred == true and
        .[0].error_message == "deliberate failure"' \
    'rows("selftest/error") | map({error_occurred, error_message})'
expect "custom context missing" '.context.ipclab_selftest == "gbench"' '.context | keys'

# --- an unknown argument: exit 2, said on stderr, nothing run -------------------------------
"$SELFTEST" --benchmark_min_time=0.01 --no-such-flag >"$work/stdout" 2>"$work/stderr"
rc=$?
[ "$rc" -eq 2 ] || fail "an unknown argument exited $rc, expected 2"
grep -q -- '--no-such-flag' "$work/stderr" \
    || fail "the unknown argument is not named: $(cat "$work/stderr")"
[ ! -s "$work/stdout" ] \
    || fail "benchmarks ran despite an unknown argument: $(head -3 "$work/stdout")"

finish
