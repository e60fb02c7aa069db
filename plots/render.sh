#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Turn a run's raw results into TSV, figures (PNG and SVG) and REPORT.md, without measuring.
# usage: render.sh RUN_DIR [plots|report|all]   (default all; TSV and summary are always made)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: render.sh RUN_DIR [plots|report|all]}
what=${2:-all}
case "$what" in plots|report|all) ;; *) echo "render.sh: unknown step '$what'" >&2; exit 2 ;; esac
[ -d "$run" ] || { echo "render.sh: $run is not a directory" >&2; exit 2; }
PY=/usr/bin/python3 # Debian's, whatever python3 comes first on PATH

"$PY" "$here/convert.py" "$run"

# figure name -> the TSV it reads
declare -A input=(
    [check_cost]=check.tsv [raise_to_seen]=raise_to_seen.tsv
    [sweep_overhead]=sweep_ratio.tsv [sweep_stop]=sweep_stop.tsv
    [model_overhead]=model_overhead.tsv [model_stop]=model_stop.tsv
    [verify_wall]=verify_totals.tsv
    [pi_speedup]=pi_speedup.tsv [pi_batch]=pi_batch.tsv
    [spawn_latency]=spawn_latency.tsv [spawn_memory]=spawn_memory.tsv
    [rng]=rng.tsv [counter]=counter.tsv
    [queue]=queue.tsv [find_primes_jobsize]=find_primes_jobsize.tsv
    [find_primes_workers]=find_primes_workers.tsv [payload]=payload.tsv
    [redis_bench]=redis_bench.tsv
)
if [ "$what" != report ]; then
    command -v gnuplot >/dev/null || { echo "render.sh: gnuplot is missing (scripts/deps.sh bench)" >&2; exit 1; }
    subtitle=$("$PY" "$here/report.py" --subtitle "$run" | tr -d "'")
    for fig in "${!input[@]}"; do
        tsv=$run/${input[$fig]}
        # A figure whose data this run did not measure (a header row only) is not drawn.
        [ "$(wc -l <"$tsv")" -gt 1 ] || { rm -f "$run/$fig.png" "$run/$fig.svg"; continue; }
        # Rendered under temporary names, renamed when complete.
        gnuplot -e "in='$tsv'; meta='$run/pi_meta.tsv'; lat='$run/queue_latency.tsv'; ratio='$run/redis_bench_ratio.tsv'; out='$run/.$fig.tmp'; subtitle='$subtitle'" \
            "$here/$fig.gp"
        for ext in png svg; do
            [ -s "$run/.$fig.tmp.$ext" ] || { echo "render.sh: $fig.$ext is empty" >&2; exit 1; }
            mv "$run/.$fig.tmp.$ext" "$run/$fig.$ext"
        done
    done
fi
if [ "$what" != plots ]; then
    "$PY" "$here/report.py" "$run"
fi
