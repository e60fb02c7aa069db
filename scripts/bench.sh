#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: verify the chapter's five numbers with every strategy and every available flag
# backend, repeated, then write medians and a short report into results/<run-id>/.
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
case "$profile" in
    quick) reps=1 ;;
    default) reps=5 ;;
    full) reps=11 ;;
    *) echo "bench.sh: unknown profile '$profile' (quick, default, full)" >&2; exit 2 ;;
esac
[ -x "$ipclab" ] || { echo "bench.sh: $ipclab is not built (run make)" >&2; exit 1; }
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
mapfile -t backends < <("$ipclab" flags --format json | jq -r 'select(.available) | .name')
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

steps=$((reps * ${#strategies[@]} * ${#backends[@]}))
step=0
start=$(date +%s)
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
} >"$partial/REPORT.md"

mv "$partial" "$final"
finished=1
ln -sfn "$run_id" "$out/latest"
echo "bench: results in $final (REPORT.md, summary.tsv, verify.jsonl)" >&2
