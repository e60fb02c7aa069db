#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The results-to-report path on a checked-in fixture (tests/fixtures/run: real short runs,
# trimmed, with mmap's check cost edited to 5 ns; the sweep of atomic, locked and redis-unix and
# the model family from one run with the cost model's counters, manager's sweep from before
# them): every figure renders to a non-empty PNG and SVG, and the claims table has the verdicts
# the data implies: C14 (raw cheaper than locked) holds, C15 (mmap about as cheap as raw) does
# not, C20 (one K for every flag) differs in C (redis-unix at K=1000), the other measured claims
# hold; with job size 1 and the pipe hand-off edited to be cheap, C9 and C6 do not, and with
# every flag cheap and quick at K=1000, C20 holds. Bad input is a one-line error.
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
for fig in check_cost raise_to_seen sweep_overhead sweep_stop model_overhead model_stop \
           verify_wall pi_speedup pi_batch spawn_latency spawn_memory rng counter queue \
           find_primes_jobsize find_primes_workers payload redis_bench; do
    [ -s "$run/$fig.png" ] || fail "$fig.png missing or empty"
    [ -s "$run/$fig.svg" ] || fail "$fig.svg missing or empty"
    head -c 8 "$run/$fig.png" | od -An -c | grep -q 'P   N   G' || fail "$fig.png is not a PNG"
    grep -q '<svg' "$run/$fig.svg" || fail "$fig.svg is not an SVG"
    grep -q "($fig.svg)" "$run/REPORT.md" || fail "REPORT.md does not show $fig"
done
for tsv in check raise_to_seen sweep_ratio sweep_stop model_overhead model_stop verify_totals \
           pi_speedup pi_meta pi_batch spawn_latency spawn_memory rng counter queue queue_latency \
           find_primes_jobsize find_primes_workers payload redis_bench redis_bench_ratio; do
    [ "$(wc -l <"$run/$tsv.tsv")" -gt 1 ] || fail "$tsv.tsv has no data rows"
done
# the model's TSVs: a measured and a predicted column per backend with predictions (manager's
# sweep rows are from before the model: not there), one row per K of the sweep
for tsv in model_overhead model_stop; do
    want=check_every
    for b in atomic locked redis-unix; do want="$want	$b measured	$b predicted"; done
    [ "$(head -1 "$run/$tsv.tsv")" = "$want" ] || fail "$tsv.tsv header: $(head -1 "$run/$tsv.tsv")"
    [ "$(wc -l <"$run/$tsv.tsv")" -eq 8 ] || fail "$tsv.tsv: expected K = 1 to 10^6, got $(wc -l <"$run/$tsv.tsv") lines"
done
# the cost model's section: a row per backend of the model family, at its own K and at 1000
grep -q '^## Cost model' "$run/REPORT.md" || fail "REPORT.md has no Cost model section"
for b in atomic locked redis-unix; do
    for iv in 'auto (1%)' 1000; do
        grep -qF "| $b | $iv |" "$run/REPORT.md" || fail "the Cost model table has no row '$b | $iv'"
    done
done
grep -q 'c / (K x w)' "$run/REPORT.md" || fail "the Cost model section does not give the formulas"
verdict() { grep "^| $1 |" "$run/REPORT.md" | awk -F'|' '{print $6}' | sed 's/^ *\*\*//; s/\*\* *$//'; }
[ "$(verdict C14)" = "holds" ] || fail "C14 verdict is '$(verdict C14)', expected holds"
[ "$(verdict C15)" = "does not hold here" ] || fail "C15 verdict is '$(verdict C15)', expected does not hold here"
# the fixture's other families, from a real short run: these are what the data says
for c in C1 C2 C4 C6 C7 C8 C9 C10 C16 C17 C18 C19; do
    [ "$(verdict $c)" = "holds" ] || fail "$c verdict is '$(verdict $c)', expected holds"
done
[ "$(verdict C5)" = "differs in C" ] || fail "C5 verdict is '$(verdict C5)', expected differs in C"
# redis-unix at K=1000 costs far more than 5%; the model's K cuts it
[ "$(verdict C20)" = "differs in C" ] || fail "C20 verdict is '$(verdict C20)', expected differs in C"
grep '^| C20 |' "$run/REPORT.md" | grep -q 'redis-unix: the model.s K=' || fail "C20 does not name redis-unix and its K"
grep -q 'C15_mmap_vs_raw' "$run/REPORT.md" || fail "the thresholds are not in the report"
[ ! -e "$run/.check_cost.tmp.png" ] || fail "a temporary figure was left behind"

# the same data with job size 1 as fast as the best and the pipe hand-off cheaper than serial:
# the verdicts follow the numbers
alt=$work/alt
cp -r "$SRC/tests/fixtures/run" "$alt"
jq '(.benchmarks[] | select(.name | test("^find-primes/pipe/workers:2/job_size:1/")) | .real_time) |= 8.5
    | (.benchmarks[] | select(.name | test("^payload/pipe/")) | .real_time) |= 0.001
    | (.benchmarks[] | select(.name | test("^redis-bench/redis-benchmark/tcp/")) | .rps) |= 1e9
    | (.benchmarks[] | select(.name | test("^model/[^/]+/interval:1000/")) | .overhead) |= 0.001
    | (.benchmarks[] | select(.name | test("^model/[^/]+/interval:1000/number:composite/"))
       | .stop_latency_ns) |= 1000' \
    "$SRC/tests/fixtures/run/bench.json" >"$alt/bench.json" || fail "jq could not edit the fixture"
"$SRC/plots/render.sh" "$alt" report >/dev/null 2>&1 || fail "render.sh report failed on the edited fixture"
run=$alt
[ "$(verdict C9)" = "does not hold here" ] || fail "edited C9 verdict is '$(verdict C9)', expected does not hold here"
[ "$(verdict C6)" = "does not hold here" ] || fail "edited C6 verdict is '$(verdict C6)', expected does not hold here"
# TCP far faster than the Unix socket everywhere: no advantage, nothing to shrink
[ "$(verdict C17)" = "does not hold here" ] || fail "edited C17 verdict is '$(verdict C17)', expected does not hold here"
[ "$(verdict C18)" = "does not hold here" ] || fail "edited C18 verdict is '$(verdict C18)', expected does not hold here"
# every flag at K=1000: +0.1% and stopped in 1 us
[ "$(verdict C20)" = "holds" ] || fail "edited C20 verdict is '$(verdict C20)', expected holds"
run=$work/run

# without the model family, and with sweep rows from before the model: no Cost model section,
# C20 not measured, the model figures not drawn (a header row only) nor linked
old=$work/old
cp -r "$SRC/tests/fixtures/run" "$old"
jq 'del(.benchmarks[] | select(.name | test("^model/")))
    | (.benchmarks[] | select(.name | test("^sweep/"))) |=
        del(.k, .work_ns, .model_check_ns, .raise_ns, .predicted_overhead, .predicted_stop_ns)' \
    "$SRC/tests/fixtures/run/bench.json" >"$old/bench.json" || fail "jq could not edit the fixture"
"$SRC/plots/render.sh" "$old" >/dev/null 2>"$work/err" || fail "render.sh failed without the model: $(cat "$work/err")"
run=$old
[ "$(verdict C20)" = "not measured" ] || fail "C20 without the model family is '$(verdict C20)', expected not measured"
grep -q '^## Cost model' "$old/REPORT.md" && fail "a Cost model section without the model"
[ ! -e "$old/model_overhead.svg" ] || fail "model_overhead drawn without predictions"
grep -q 'model_overhead.svg' "$old/REPORT.md" && fail "REPORT.md links model_overhead, not drawn"
run=$work/run

# the model family for in-memory backends only (CI's quick profile: atomic): one kind of flag
# cannot say "every kind", C20 is not measured
mem=$work/mem
cp -r "$SRC/tests/fixtures/run" "$mem"
jq 'del(.benchmarks[] | select(.name | test("^model/(redis-unix|manager|redis-tcp)/")))' \
    "$SRC/tests/fixtures/run/bench.json" >"$mem/bench.json" || fail "jq could not edit the fixture"
"$SRC/plots/render.sh" "$mem" report >/dev/null 2>&1 || fail "render.sh report failed (in-memory model only)"
run=$mem
[ "$(verdict C20)" = "not measured" ] \
    || fail "C20 with in-memory backends only is '$(verdict C20)', expected not measured"
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
# a model row whose interval is neither auto nor a number: the same
jq '(.benchmarks[] | select(.name | test("^model/atomic/interval:auto/number:prime/"))
     | .name, .run_name) |= sub("interval:auto"; "interval:sometimes")' \
    "$SRC/tests/fixtures/run/bench.json" >"$bad/bench.json" || fail "jq could not edit the fixture"
"$SRC/plots/render.sh" "$bad" >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] || fail "bad model interval: exit $rc, expected 1"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "bad model interval: $(cat "$work/err")"
grep -q Traceback "$work/err" && fail "bad model interval: a Python traceback"
"$SRC/plots/render.sh" "$work/nonexistent" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing run directory is not a usage error"
finish
