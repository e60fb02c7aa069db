#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: run the benchmark families (ipclab-bench, Google Benchmark JSON), verify the
# chapter's five numbers with every strategy and flag backend, then write medians, a plot and
# a short report into results/<run-id>/.
# usage: bench.sh [--profile quick|default|full] [--ipclab PATH] [--out DIR]
set -euo pipefail

profile=default
ipclab=build/ipclab
out=results
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) profile=${2:?--profile needs a value}; shift 2 ;;
        --ipclab) ipclab=${2:?--ipclab needs a value}; shift 2 ;;
        --out) out=${2:?--out needs a value}; shift 2 ;;
        -h|--help) sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
# What each profile measures. quick is CI's smoke test (a few minutes); default is the main
# job (about 15 minutes on two cores); full repeats more for publication.
servers='manager|redis-unix|redis-tcp'
case "$profile" in
    quick)
        reps=1
        verify_skip="^($servers)\$" # server backends take seconds per number at K=1000
        gb_args=(--repetitions 1 --min-time 0.02 --raise-rounds 200 --sweep-budget 0.1
                 --benchmark_filter="^(check/|raise-to-seen/(atomic|raw|mmap|locked)/|cacheline/|sweep/atomic/check_every:(1|1000|1000000)/)") ;;
    default)
        reps=5
        verify_skip='^$'
        gb_args=(--repetitions 5 --benchmark_filter='^(check|check-contended|raise-to-seen|cacheline|sweep)/') ;;
    full)
        reps=11
        verify_skip='^$'
        gb_args=(--repetitions 11 --min-time 0.5 --sweep-budget 2 --benchmark_filter='^(check|check-contended|raise-to-seen|cacheline|sweep)/') ;;
    *) echo "bench.sh: unknown profile '$profile' (quick, default, full)" >&2; exit 2 ;;
esac
[ -x "$ipclab" ] || { echo "bench.sh: $ipclab is not built (run make)" >&2; exit 1; }
ipclab_bench=$(dirname "$ipclab")/ipclab-bench
[ -x "$ipclab_bench" ] || { echo "bench.sh: $ipclab_bench is not built (run make)" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench.sh: jq is missing (scripts/deps.sh bench)" >&2; exit 1; }

sha=$(git rev-parse --short HEAD 2>/dev/null || echo nogit)
run_id=$(date -u +%Y%m%dT%H%M%SZ)-$sha
final=$out/$run_id
partial=$out/.$run_id.partial
mkdir -p "$partial"
# An interrupted run leaves no half-written directory behind, and earlier runs untouched.
finished=0
trap '[ $finished -eq 1 ] || rm -rf "$partial"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

workers=$(nproc)
strategies=(serial pool less-naive)
mapfile -t backends < <("$ipclab" flags --format json | jq -r 'select(.available) | .name' |
                       grep -Ev "$verify_skip")
"$ipclab" flags --format json >"$partial/flags.jsonl"

# The environment, so a result can be compared with another machine's.
jq -n \
    --arg run_id "$run_id" --arg profile "$profile" --argjson reps "$reps" \
    --arg git_sha "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
    --argjson cpus "$(nproc)" --arg kernel "$(uname -sr)" \
    --arg compiler "$(cc --version | head -1)" \
    --arg build_type "$(grep -m1 CMAKE_BUILD_TYPE: "$(dirname "$ipclab")/CMakeCache.txt" 2>/dev/null | cut -d= -f2)" \
    --arg affinity "$(taskset -pc $$ 2>/dev/null | sed 's/.*: //')" \
    --argjson workers "$workers" \
    '{run_id: $run_id, profile: $profile, repetitions: $reps, git_sha: $git_sha,
      cpu_model: $cpu, cpus: $cpus, kernel: $kernel, compiler: $compiler,
      build_type: $build_type, affinity: $affinity, workers: $workers,
      placement: "worker i pinned to the i-th CPU of the affinity mask"}' >"$partial/env.json"

steps=$((1 + reps * ${#strategies[@]} * ${#backends[@]}))
step=1
start=$(date +%s)
printf '[1/%d] ipclab-bench: check, contention, raise-to-seen, cache line, sweep (%s profile)\n' \
    "$steps" "$profile" >&2
# The library writes the JSON itself; it is renamed into place only once complete.
"$ipclab_bench" "${gb_args[@]}" --benchmark_out="$partial/bench.json.tmp" \
    --benchmark_out_format=json >"$partial/bench.log" 2>&1 \
    || { echo "bench.sh: ipclab-bench failed; see $partial/bench.log" >&2; tail -5 "$partial/bench.log" >&2; exit 1; }
mv "$partial/bench.json.tmp" "$partial/bench.json"
for rep in $(seq "$reps"); do
    # Repetitions outermost: drift on a shared machine spreads over every configuration.
    for s in "${strategies[@]}"; do
        for b in "${backends[@]}"; do
            step=$((step + 1))
            elapsed=$(($(date +%s) - start))
            eta=$(( step > 1 ? elapsed * (steps - step + 1) / (step - 1) : 0 ))
            printf '[%d/%d] verify --book %s/%s, run %d/%d  (elapsed %ds, about %ds left)\n' \
                "$step" "$steps" "$s" "$b" "$rep" "$reps" "$elapsed" "$eta" >&2
            "$ipclab" verify --book --format json --strategy "$s" --flag "$b" \
                --workers "$workers" | jq -c --argjson rep "$rep" '.run = $rep' \
                >>"$partial/verify.jsonl"
        done
    done
done

# Medians (and min..max) per strategy, flag and number.
jq -r -s '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  ["strategy", "flag", "number", "runs", "wall_ms_median", "wall_ms_min", "wall_ms_max",
   "checks", "check_ns_median", "check_cost_ns_median", "stop_latency_us_median"],
  (group_by([.strategy, .flag, .number])[] |
    [.[0].strategy, .[0].flag, .[0].number, length,
     (map(.wall_ns / 1e6) | median), (map(.wall_ns / 1e6) | min), (map(.wall_ns / 1e6) | max),
     (map(.checks) | median), (map(.check_ns) | median), (map(.check_cost_ns) | median),
     (map(select(.stop_latency_ns != null) | .stop_latency_ns / 1e3) |
        if length > 0 then median else "" end)])
  | @tsv' "$partial/verify.jsonl" >"$partial/summary.tsv"

# Totals over the five numbers, one row per flag, one column per strategy: the plot's input.
{
    printf 'flag'; printf '\t%s' "${strategies[@]}"; echo
    for b in "${backends[@]}"; do
        printf '%s' "$b"
        for s in "${strategies[@]}"; do
            awk -F'\t' -v s="$s" -v f="$b" '$1 == s && $2 == f { t += $5 } END { printf "\t%.3f", t }' \
                "$partial/summary.tsv"
        done
        echo
    done
} >"$partial/totals.tsv"
subtitle="$(jq -r '"\(.cpu_model), \(.cpus) CPUs, \(.workers) workers; median of \(.repetitions) run(s)"' "$partial/env.json")"
gnuplot -e "in='$partial/totals.tsv'; out='$partial/verify_wall'; subtitle='$subtitle'" \
    "$(dirname "$0")/../plots/verify_wall.gp"

# The report: totals over the five numbers per strategy and flag, and the two ratios that
# matter most here.
prime=100109100129100151
median_wall() { # strategy flag number -> median ms
    awk -F'\t' -v s="$1" -v f="$2" -v n="$3" '$1 == s && $2 == f && $3 == n { print $5 }' \
        "$partial/summary.tsv"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.3f", a / b }'; }
{
    echo "# ipclab bench: the chapter's five numbers"
    echo
    echo "Run \`$run_id\`, profile \`$profile\`, median of $reps run(s) per cell."
    echo
    echo '```'
    jq -r 'to_entries[] | "\(.key): \(.value)"' "$partial/env.json"
    echo '```'
    echo
    echo "## Total wall time of the five numbers (ms, sum of per-number medians)"
    echo
    echo "![verify wall time](verify_wall.svg)"
    echo
    printf '| flag |'; printf ' %s |' "${strategies[@]}"; echo
    printf '|---|'; printf -- '---:|%.0s' "${strategies[@]}"; echo
    awk -F'\t' 'NR > 1 { printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %.1f |", $i; print "" }' \
        "$partial/totals.tsv"
    echo
    echo "## Derived figures ($prime, a prime: every candidate is tried)"
    echo
    sp=$(ratio "$(median_wall serial atomic $prime)" "$(median_wall pool atomic $prime)")
    ov=$(ratio "$(median_wall pool atomic $prime)" "$(median_wall pool none $prime)")
    ovs=$(ratio "$(median_wall serial atomic $prime)" "$(median_wall serial none $prime)")
    echo "- speedup of pool ($workers workers) over serial, flag atomic: **$sp x**"
    echo "- wall time with the atomic flag checked every 1000 candidates / with no flag: pool **$ov**, serial **$ovs**"
    echo
    echo "Per-number medians: \`summary.tsv\`; every run: \`verify.jsonl\`."
    echo
    echo "## Benchmark families (ipclab-bench, median of repetitions)"
    echo
    echo "| benchmark | time per iteration | counters |"
    echo "|---|---:|---|"
    # Medians when there were repetitions; the single runs otherwise.
    jq -r '[.benchmarks[] | select(.run_type == "aggregate" and .aggregate_name == "median")] as $m |
        (if ($m | length) > 0 then $m else [.benchmarks[] | select(.run_type == "iteration")] end)[] |
        "| \(.name | sub("_median$"; "")) | \(.real_time * 1000 | round / 1000) \(.time_unit) | " +
        ([to_entries[] | select(.key | IN("name","family_index","per_family_instance_index",
            "run_name","run_type","repetitions","threads","aggregate_name","aggregate_unit",
            "iterations","real_time","cpu_time","time_unit","label","repetition_index",
            "error_occurred","error_message") | not) | select(.value | type == "number") |
          "\(.key)=\(.value * 1000 | round / 1000)"] | join(" ")) +
        (if .label then " (" + .label + ")" else "" end) +
        (if .error_occurred then " not measured: " + .error_message else "" end) + " |"' \
        "$partial/bench.json"
    echo
    echo "Every repetition and the environment: \`bench.json\` (compare two runs with compare.py)."
} >"$partial/REPORT.md"

mv "$partial" "$final"
finished=1
ln -sfn "$run_id" "$out/latest"
echo "bench: results in $final (REPORT.md, bench.json, summary.tsv, verify.jsonl)" >&2
