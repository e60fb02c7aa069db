#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ipclab-bench end to end on a few cheap cases of every family: the names follow the schema,
# the counters and the environment land in the JSON, and bad options are usage errors.
# Usage: bench_smoke_test.sh PATH/TO/ipclab-bench
set -u
BENCH=${1:?usage: bench_smoke_test.sh PATH/TO/ipclab-bench}
NAME=bench-smoke
. "$(dirname "$0")/lib.sh"
need jq
[ "$(nproc)" -ge 2 ] || { echo "skip: the cross-core families need two CPUs"; exit 77; }

# bad options: one line, exit 2
for args in "--cpus 0,0" "--cpus 0" "--repetitions 0" "--min-time x" "--sweep-budget -1" \
            "--backends nope" "--benchmark_bogus=1" "extra"; do
    # shellcheck disable=SC2086
    "$BENCH" $args >/dev/null 2>"$work/err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "ipclab-bench $args exited $rc, expected 2"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "ipclab-bench $args: $(cat "$work/err")"
done
"$BENCH" --help | grep -q "usage: ipclab-bench" || fail "--help prints no usage"

filter='^(check/(none|atomic|pipe)/|check-contended/atomic/|raise-to-seen/(atomic|pipe)/'
filter+='|cacheline/|verify/less-naive/atomic/|sweep/atomic/check_every:1000/)'
"$BENCH" --repetitions 2 --min-time 0.01 --sweep-budget 0.05 --raise-rounds 50 \
    --benchmark_filter="$filter" --benchmark_out="$work/out.json" \
    --benchmark_out_format=json >"$work/stdout" 2>"$work/stderr" \
    || fail "ipclab-bench failed: $(tail -3 "$work/stderr")"
j=$work/out.json
[ -s "$j" ] || { fail "no JSON written"; finish; }

# every case ran, with no error, twice (repetitions) plus aggregates
for name in check/none/real_time check/atomic/real_time check/pipe/real_time \
            check-contended/atomic/contender:false-sharing/real_time \
            check-contended/atomic/contender:poller/real_time \
            raise-to-seen/atomic/iterations:50/manual_time \
            raise-to-seen/pipe/iterations:5/manual_time \
            verify/less-naive/atomic/check_every:1000/iterations:1/real_time \
            sweep/atomic/check_every:1000/composite:0/iterations:1/manual_time \
            sweep/atomic/check_every:1000/composite:1/iterations:1/manual_time; do
    n=$(jq --arg n "$name" '[.benchmarks[] | select(.name == $n and .run_type == "iteration")] | length' "$j")
    [ "$n" -eq 2 ] || fail "$name: $n repetitions in the JSON, expected 2"
    jq -e --arg n "$name" 'any(.benchmarks[]; .name == $n + "_median")' "$j" >/dev/null \
        || fail "$name: no median aggregate"
done
jq -e '[.benchmarks[] | select(.name | startswith("cacheline/pingpong/cpus:"))] | length == 2 + 4' \
    "$j" >/dev/null || fail "cacheline/pingpong missing"
errors=$(jq -r '.benchmarks[] | select(.error_occurred) | "\(.name): \(.error_message)"' "$j")
[ -z "$errors" ] || fail "runs with errors: $errors"

# counters where the families promise them
has() { # has NAME-PREFIX COUNTER [CONDITION]
    jq -e --arg n "$1" --arg c "$2" \
        "any(.benchmarks[]; (.name | startswith(\$n)) and .run_type == \"iteration\" and (.[\$c] | type == \"number\") ${3:+and ($3)})" \
        "$j" >/dev/null || fail "$1: counter $2 missing or implausible${3:+ ($3)}"
}
has raise-to-seen/atomic round_trip_ns '.round_trip_ns > 0'
has cacheline/pingpong one_way_ns '.one_way_ns > 0'
has verify/less-naive/atomic checks '.checks > 0'
has verify/less-naive/atomic candidates '.candidates > 100000000'
has verify/less-naive/atomic ns_per_check '.ns_per_check > 0'
has verify/less-naive/atomic stop_latency_ns '.stop_latency_ns >= 0'
has sweep/atomic/check_every:1000/composite:0 overhead '.overhead > -1'
has sweep/atomic/check_every:1000/composite:0 wall_none_ns '.wall_none_ns > 0'
has sweep/atomic/check_every:1000/composite:1 stop_latency_ns '.stop_latency_ns >= 0'
jq -e 'all(.benchmarks[] | select(.name | startswith("sweep/")); .label | test("^n=[0-9]+$"))' \
    "$j" >/dev/null || fail "sweep runs do not name their number in the label"

# the environment
for key in cpu_model affinity placement kernel compiler c_flags build_type git_sha liburing \
           hiredis redis_server libbenchmark_note; do
    jq -e --arg k "$key" '.context[$k] | type == "string" and length > 0' "$j" >/dev/null \
        || fail "context.$key missing"
done
tmp_empty || fail "left $(ls -A "$TMPDIR")"
finish
