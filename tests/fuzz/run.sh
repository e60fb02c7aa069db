#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fuzz: every libFuzzer harness of a build made with IPCLAB_FUZZ=ON for SECONDS each, and the
# results converter's Python mutation fuzzer for SECONDS, as many at once as there are CPUs
# (FUZZ_JOBS to change it). make fuzz and make fuzz-smoke run it.
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS
#
# Each harness starts from its seed corpus (tests/fuzz/corpus/<name>, read only) and keeps what
# it learns in BUILD_DIR/fuzz/corpus/<name>, so longer runs build on earlier ones. One line per
# harness says how many inputs it ran. A crash or a property that does not hold fails the run
# and leaves its reproducer in BUILD_DIR/fuzz/crashes/ (the line says how to replay it); the
# log is BUILD_DIR/fuzz/logs/<name>.log.
set -u
build=${1:?usage: run.sh BUILD_DIR SECONDS}
secs=${2:?usage: run.sh BUILD_DIR SECONDS}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$build" && pwd) || exit 2
out=$build/fuzz
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
names=(cli cli_getopt memo_entry memo_dir rb_csv smaps payload)

mkdir -p "$out/crashes" "$out/logs" "$out/tmp" || exit 2
for n in "${names[@]}"; do
    [ -x "$build/tests/fuzz/${n}_fuzz" ] || { echo "fuzz: $build/tests/fuzz/${n}_fuzz missing (make fuzz builds it)" >&2; exit 2; }
    mkdir -p "$out/corpus/$n"
done

# One harness: its line on stdout, status 0 or 1.
fuzz_one() {
    local n=$1 log=$out/logs/$1.log
    local before start=$SECONDS
    before=$(ls "$out/crashes" | grep -c "^$n-")
    # The memo harnesses make their temp dirs under TMPDIR; a crash would leave them there.
    TMPDIR=$out/tmp "$build/tests/fuzz/${n}_fuzz" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/$n-" \
        "$out/corpus/$n" "$src/tests/fuzz/corpus/$n" >"$log" 2>&1
    local rc=$? took=$((SECONDS - start))
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    local crash
    crash=$(ls -t "$out/crashes" | grep "^$n-" | head -1)
    if [ $rc -eq 0 ] && [ "$(ls "$out/crashes" | grep -c "^$n-")" -eq "$before" ]; then
        printf 'fuzz: %-10s %10s executions in %s s, no failure\n' "$n" "${execs:-?}" "$took"
        return 0
    fi
    printf 'fuzz: %-10s %10s executions in %s s, FAILED (exit %d): %s\n' "$n" "${execs:-?}" \
        "$took" "$rc" "$(grep -m1 -E 'property does not hold|ERROR: |runtime error' "$log")"
    [ -n "$crash" ] && echo "      reproduce: $build/tests/fuzz/${n}_fuzz $out/crashes/$crash"
    echo "      log: $log"
    return 1
}

# The converter: its regression cases, then mutants for SECONDS, one kept per kind of failure.
# A new seed each run (FUZZ_SEED to repeat one): the seed is printed. It takes one CPU, as a
# harness does, in the same pool (7 harnesses on 2 CPUs leave one free in the last round).
fuzz_convert() {
    local seed=${FUZZ_SEED:-$(date +%s)} log=$out/logs/convert.log
    /usr/bin/python3 "$src/tests/fuzz/convert_fuzz.py" --seconds "$secs" --seed "$seed" \
        --jobs 1 --keep "$out/crashes/convert" --keep-going >"$log" 2>&1
    local rc=$?
    printf 'fuzz: %-10s %s\n' convert "$(tail -1 "$log" | sed 's/^convert_fuzz: //')"
    if [ $rc -ne 0 ]; then
        echo "      FAILED: mutants kept in $out/crashes/convert (FAILURE.txt in each)"
        echo "      log: $log"
        return 1
    fi
}

fail=0
running=0
for n in "${names[@]}" convert; do
    if [ "$n" = convert ]; then
        fuzz_convert &
    else
        fuzz_one "$n" &
    fi
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || fail=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || fail=1
    running=$((running - 1))
done
rm -rf "$out/tmp"

if [ $fail -ne 0 ]; then
    echo "fuzz: FAILED: reproducers in $out/crashes" >&2
    exit 1
fi
echo "fuzz: every harness and the converter ran ${secs} s without a failure"
