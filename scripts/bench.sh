#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: run the benchmark families (ipclab-bench, Google Benchmark JSON), verify the
# chapter's five numbers with every strategy and flag backend, then write the figures and the
# report into results/<run-id>/.
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
        -h|--help) sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

# What each profile measures. quick is CI's smoke test (about a minute); default is the main
# job (about 25 minutes on two cores); full repeats more, with longer runs, for publication.
# Each family is one step: "name|expected seconds|ipclab-bench arguments".
servers='manager|redis-unix|redis-tcp'
sweep_backends=atomic,raw,mmap,locked,signal,uring,eventfd,manager,redis-unix,redis-tcp
case "$profile" in
    quick)
        reps=1 server_reps=1
        verify_skip="^($servers)\$" # server backends take seconds per number at K=1000
        common="--repetitions 1 --min-time 0.02"
        families=("check|3|$common --benchmark_filter=^check/"
                  "raise-to-seen|15|$common --raise-rounds 200 --benchmark_filter=^raise-to-seen/(atomic|raw|mmap|locked)/"
                  "cacheline|1|$common --benchmark_filter=^cacheline/"
                  "sweep|5|$common --sweep-budget 0.1 --benchmark_filter=^sweep/atomic/check_every:(1|1000|1000000)/"
                  "model|4|$common --benchmark_filter=^model/atomic/"
                  "pi|10|$common --benchmark_filter=^pi/(serial|gil-threads|processes)/workers:(1|2)/batch:0/"
                  "spawn|5|$common --benchmark_filter=^spawn/(thread|fork)/placement:same-core/"
                  "rng|3|$common --benchmark_filter=^rng-streams/"
                  "counter|5|$common --benchmark_filter=^counter/.*/workers:2/"
                  "queue|10|$common --benchmark_filter=^queue(-latency)?/(pipe|shm-ring)/size:(8|4096)/|^queue-loss/(pipe|shm-ring)/"
                  "find-primes|10|$common --benchmark_filter=^find-primes/(serial|pipe/workers:2/job_size:(1|1000|10000)/)"
                  "payload|10|$common --benchmark_filter=^payload/.*/size_kib:(1|4096)/"
                  "memo|3|$common --benchmark_filter=^memo/"
                  "redis-bench|12|$common --benchmark_filter=^redis-bench/.*/server:other-core/clients:1/pipeline:(1|16|256)/") ;;
    default|full)
        # Server backends take 10-30 s per five-number run: fewer repetitions of those.
        if [ "$profile" = default ]; then
            reps=5 server_reps=3 common="--repetitions 5 --sweep-budget 0.3" scale=1
        else
            reps=11 server_reps=5 common="--repetitions 11 --min-time 0.5 --sweep-budget 2" scale=4
        fi
        verify_skip='^$'
        families=("check|$((25 * scale))|$common --benchmark_filter=^check/"
                  "check-contended|$((27 * scale))|$common --benchmark_filter=^check-contended/"
                  "raise-to-seen|$((30 * scale))|$common --benchmark_filter=^raise-to-seen/"
                  "cacheline|$((5 * scale))|$common --benchmark_filter=^cacheline/"
                  "sweep|$((290 * scale))|$common --backends $sweep_backends --benchmark_filter=^sweep/"
                  "model|$((140 * scale))|$common --backends $sweep_backends --benchmark_filter=^model/"
                  "pi|$((40 * scale))|$common --benchmark_filter=^pi/"
                  "spawn|$((80 * scale))|$common --benchmark_filter=^spawn"
                  "rng|$((14 * scale))|$common --benchmark_filter=^rng"
                  "counter|$((23 * scale))|$common --benchmark_filter=^counter/"
                  "queue|$((200 * scale))|$common --benchmark_filter=^queue"
                  "find-primes|$((125 * scale))|$common --benchmark_filter=^find-primes/"
                  "payload|$((65 * scale))|$common --benchmark_filter=^payload/"
                  "memo|$((5 * scale))|$common --benchmark_filter=^memo/"
                  "redis-bench|$((250 * scale))|$common --benchmark_filter=^redis-bench/") ;;
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
# Each measuring command runs in the background while the script waits for it: bash runs a
# trap only once a foreground command has finished, which for a whole family could be
# minutes; `wait` returns at once on a signal, and the EXIT trap stops the command (which
# cleans up after itself on SIGTERM) before removing the partial directory.
child=0
on_exit() {
    if [ "$child" -ne 0 ]; then
        # (set -e still applies here: the command's death by SIGTERM must not end the trap)
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    [ $finished -eq 1 ] || rm -rf "$partial"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
run() { # run CMD...: in the background, waited for; its exit status
    "$@" &
    child=$!
    local rc=0
    wait "$child" || rc=$?
    child=0
    return $rc
}

workers=$(nproc)
strategies=(serial pool less-naive)
mapfile -t backends < <("$ipclab" flags --format json | jq -r 'select(.available) | .name' |
                       grep -Ev "$verify_skip")
"$ipclab" flags --format json >"$partial/flags.jsonl"

# The environment of the whole run (ipclab-bench adds its own, in more detail, to bench.json).
jq -n \
    --arg run_id "$run_id" --arg profile "$profile" --argjson reps "$reps" \
    --arg git_sha "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
    --argjson cpus "$(nproc)" --arg kernel "$(uname -sr)" \
    --arg affinity "$(taskset -pc $$ 2>/dev/null | sed 's/.*: //')" \
    --argjson workers "$workers" \
    '{run_id: $run_id, profile: $profile, repetitions: $reps, git_sha: $git_sha,
      cpu_model: $cpu, cpus: $cpus, kernel: $kernel, affinity: $affinity, workers: $workers,
      verify_placement: "worker i pinned to the i-th CPU of the affinity mask"}' \
    >"$partial/env.json"

# Progress: steps are weighted by their expected seconds, so the estimate of the time left
# does not treat a ten-minute family like a one-second verify.
is_server() { case "$1" in manager|redis-unix|redis-tcp) return 0 ;; *) return 1 ;; esac; }
verify_seconds() { if is_server "$1"; then echo 12; else echo 1; fi; }
# verify_reps STRATEGY BACKEND: how many five-number runs. The default profile skips serial with
# a server backend: one process checking a server nobody else talks to adds nothing the check
# family does not measure, and it is a third of the profile's server time.
verify_reps() {
    if ! is_server "$2"; then echo "$reps"
    elif [ "$1" = serial ] && [ "$profile" = default ]; then echo 0
    else echo "$server_reps"; fi
}
total_weight=3 steps=$((${#families[@]} + 2))
for f in "${families[@]}"; do total_weight=$((total_weight + $(cut -d'|' -f2 <<<"$f"))); done
for s in "${strategies[@]}"; do
    for b in "${backends[@]}"; do
        total_weight=$((total_weight + $(verify_reps "$s" "$b") * $(verify_seconds "$b")))
        steps=$((steps + $(verify_reps "$s" "$b")))
    done
done
step=0 done_weight=0 start=$(date +%s)
progress() { # progress WEIGHT MESSAGE...
    local w=$1; shift
    step=$((step + 1))
    local elapsed=$(($(date +%s) - start)) left="?"
    [ "$done_weight" -gt 0 ] && left=$(( elapsed * (total_weight - done_weight) / done_weight ))
    printf '[%d/%d] %s  (elapsed %ds, about %ss left)\n' "$step" "$steps" "$*" "$elapsed" "$left" >&2
    done_weight=$((done_weight + w))
}

for f in "${families[@]}"; do
    IFS='|' read -r name weight args <<<"$f"
    progress "$weight" "ipclab-bench: $name ($profile profile)"
    # The library writes its JSON itself; it is renamed into place only once complete.
    # shellcheck disable=SC2086
    run "$ipclab_bench" $args --benchmark_out="$partial/bench-$name.json.tmp" \
        --benchmark_out_format=json >"$partial/bench-$name.log" 2>&1 \
        || { echo "bench.sh: ipclab-bench ($name) failed:" >&2; tail -5 "$partial/bench-$name.log" >&2; exit 1; }
    mv "$partial/bench-$name.json.tmp" "$partial/bench-$name.json"
done

# The cost model's inputs for every flag backend, as a calibration file that
# `ipclab verify --check-every auto --calibration` and `ipclab model --calibration` reuse.
progress 3 "ipclab model: the cost model's inputs per backend"
run "$ipclab" model --format tsv >"$partial/calibration.tsv.tmp" \
    || { echo "bench.sh: ipclab model failed" >&2; exit 1; }
mv "$partial/calibration.tsv.tmp" "$partial/calibration.tsv"

for rep in $(seq "$reps"); do
    # Repetitions outermost: drift on a shared machine spreads over every configuration.
    for s in "${strategies[@]}"; do
        for b in "${backends[@]}"; do
            [ "$rep" -le "$(verify_reps "$s" "$b")" ] || continue
            progress "$(verify_seconds "$b")" "verify --book $s/$b, run $rep/$(verify_reps "$s" "$b")"
            run "$ipclab" verify --book --format json --strategy "$s" --flag "$b" \
                --workers "$workers" >"$partial/verify.tmp"
            jq -c --argjson rep "$rep" '.run = $rep' "$partial/verify.tmp" >>"$partial/verify.jsonl"
        done
    done
done

# TSV, figures and the report, from the raw results only (make plots / make report redo this).
progress 0 "figures and report"
rm -f "$partial/verify.tmp"
run "$(dirname "$0")/../plots/render.sh" "$partial"

mv "$partial" "$final"
finished=1
ln -sfn "$run_id" "$out/latest"
echo "bench: results in $final (REPORT.md, figures, bench-*.json, verify.jsonl, calibration.tsv)" >&2
