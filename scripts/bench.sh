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

steps=$((2 + reps * ${#strategies[@]} * ${#backends[@]}))
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

# TSV, figures and the report, from the raw results only (make plots / make report redo this).
printf '[%d/%d] figures and report\n' "$steps" "$steps" >&2
"$(dirname "$0")/../plots/render.sh" "$partial"

mv "$partial" "$final"
finished=1
ln -sfn "$run_id" "$out/latest"
echo "bench: results in $final (REPORT.md, figures, bench.json, verify.jsonl)" >&2
