#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The results-to-report path on a checked-in fixture (tests/fixtures/run: real short runs,
# trimmed, with mmap's check cost edited to 5 ns): every figure renders to a non-empty PNG and
# SVG, and the claims table has the verdicts the data implies: C14 (raw cheaper than locked)
# holds, C15 (mmap about as cheap as raw) does not, the other measured claims hold; with job size
# 1 and the pipe hand-off edited to be cheap, C9 and C6 do not. Bad input is a one-line error.
# Usage: plots_test.sh SOURCE_DIR
set -u
SRC=${1:?usage: plots_test.sh SOURCE_DIR}
NAME=plots
. "$SRC/tests/lib.sh"
need gnuplot /usr/bin/python3

run=$work/run
cp -r "$SRC/tests/fixtures/run" "$run"
"$SRC/plots/render.sh" "$run" >"$work/out" 2>"$work/err" || fail "render.sh failed: $(cat "$work/err")"
[ ! -s "$work/err" ] || fail "render.sh (gnuplot) printed warnings: $(head -5 "$work/err")"
for fig in check_cost raise_to_seen sweep_overhead sweep_stop verify_wall pi_speedup pi_batch \
           spawn_latency spawn_memory rng counter queue find_primes_jobsize find_primes_workers \
           payload redis_bench; do
    [ -s "$run/$fig.png" ] || fail "$fig.png missing or empty"
    [ -s "$run/$fig.svg" ] || fail "$fig.svg missing or empty"
    head -c 8 "$run/$fig.png" | od -An -c | grep -q 'P   N   G' || fail "$fig.png is not a PNG"
    grep -q '<svg' "$run/$fig.svg" || fail "$fig.svg is not an SVG"
    grep -q "($fig.svg)" "$run/REPORT.md" || fail "REPORT.md does not show $fig"
done
for tsv in check raise_to_seen sweep_ratio sweep_stop verify_totals pi_speedup pi_meta pi_batch \
           spawn_latency spawn_memory rng counter queue queue_latency find_primes_jobsize \
           find_primes_workers payload redis_bench redis_bench_ratio; do
    [ "$(wc -l <"$run/$tsv.tsv")" -gt 1 ] || fail "$tsv.tsv has no data rows"
done
verdict() { grep "^| $1 |" "$run/REPORT.md" | awk -F'|' '{print $6}' | sed 's/^ *\*\*//; s/\*\* *$//'; }
[ "$(verdict C14)" = "holds" ] || fail "C14 verdict is '$(verdict C14)', expected holds"
[ "$(verdict C15)" = "does not hold here" ] || fail "C15 verdict is '$(verdict C15)', expected does not hold here"
# the fixture's other families, from a real short run: these are what the data says
for c in C1 C2 C4 C6 C7 C8 C9 C10 C16 C17 C18 C19; do
    [ "$(verdict $c)" = "holds" ] || fail "$c verdict is '$(verdict $c)', expected holds"
done
[ "$(verdict C5)" = "differs in C" ] || fail "C5 verdict is '$(verdict C5)', expected differs in C"
grep -q 'C15_mmap_vs_raw' "$run/REPORT.md" || fail "the thresholds are not in the report"
[ ! -e "$run/.check_cost.tmp.png" ] || fail "a temporary figure was left behind"

# the same data with job size 1 as fast as the best and the pipe hand-off cheaper than serial:
# the verdicts follow the numbers
alt=$work/alt
cp -r "$SRC/tests/fixtures/run" "$alt"
jq '(.benchmarks[] | select(.name | test("^find-primes/pipe/workers:2/job_size:1/")) | .real_time) |= 8.5
    | (.benchmarks[] | select(.name | test("^payload/pipe/")) | .real_time) |= 0.001
    | (.benchmarks[] | select(.name | test("^redis-bench/redis-benchmark/tcp/")) | .rps) |= 1e9' \
    "$SRC/tests/fixtures/run/bench.json" >"$alt/bench.json" || fail "jq could not edit the fixture"
"$SRC/plots/render.sh" "$alt" report >/dev/null 2>&1 || fail "render.sh report failed on the edited fixture"
run=$alt
[ "$(verdict C9)" = "does not hold here" ] || fail "edited C9 verdict is '$(verdict C9)', expected does not hold here"
[ "$(verdict C6)" = "does not hold here" ] || fail "edited C6 verdict is '$(verdict C6)', expected does not hold here"
# TCP far faster than the Unix socket everywhere: no advantage, nothing to shrink
[ "$(verdict C17)" = "does not hold here" ] || fail "edited C17 verdict is '$(verdict C17)', expected does not hold here"
[ "$(verdict C18)" = "does not hold here" ] || fail "edited C18 verdict is '$(verdict C18)', expected does not hold here"
run=$work/run

# re-rendering only the report, and only the plots, works on the same results
"$SRC/plots/render.sh" "$run" report >/dev/null 2>&1 || fail "render.sh report failed"
"$SRC/plots/render.sh" "$run" plots >/dev/null 2>&1 || fail "render.sh plots failed"

# a broken results file: one line, exit 1, no traceback
bad=$work/bad
cp -r "$SRC/tests/fixtures/run" "$bad"
echo '{"benchmarks": [' >"$bad/bench.json"
"$SRC/plots/render.sh" "$bad" >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] || fail "broken bench.json: exit $rc, expected 1"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "broken bench.json: $(cat "$work/err")"
grep -q Traceback "$work/err" && fail "broken bench.json: a Python traceback"
"$SRC/plots/render.sh" "$work/nonexistent" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing run directory is not a usage error"
finish
