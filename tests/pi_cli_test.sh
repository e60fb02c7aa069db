#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab pi`: bad options get one line and exit 2; valid runs give JSON Lines with every field,
# the same estimate in every mode for the same seed and workers, and a table that says what ran.
# Usage: pi_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: pi_cli_test.sh PATH/TO/ipclab}
NAME=pi-cli
. "$(dirname "$0")/lib.sh"
need jq

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming ipclab pi.
expect_usage() {
    local rc err
    "$IPCLAB" pi "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    err=$(cat "$work/err")
    [ "$rc" -eq 2 ] || fail "ipclab pi $* exited $rc, expected 2 (stderr: $err)"
    [ ! -s "$work/out" ] || fail "ipclab pi $* printed on stdout: $(head -c 200 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] \
        || fail "ipclab pi $* printed $(wc -l <"$work/err") lines on stderr: $err"
    case "$err" in
        "ipclab pi: "*) ;;
        *) fail "ipclab pi $*: error does not start with 'ipclab pi: ': $err" ;;
    esac
}

# --- bad command lines ------------------------------------------------------------------------
expect_usage --workers 0
expect_usage --workers 257
expect_usage --workers 99999999999999999999999
expect_usage --workers -1
expect_usage --workers x
expect_usage --workers ""
expect_usage --workers " 2"
expect_usage --workers 0x2
expect_usage --samples 0
expect_usage --samples 100000000001
expect_usage --samples 1e6
expect_usage --samples 1.5
expect_usage --samples -5
expect_usage --samples +5
expect_usage --mode nope
expect_usage --mode ""
expect_usage --mode GIL-threads
expect_usage --mode gil
expect_usage --repeat 0
expect_usage --repeat 1001
expect_usage --seed -1
expect_usage --seed 18446744073709551616
expect_usage --seed abc
expect_usage --mode gil-threads --gil-interval 0
expect_usage --mode gil-threads --gil-interval 100000000001
expect_usage --mode processes --gil-interval 5
expect_usage --gil-interval 5
expect_usage --format xml
expect_usage --format ""
expect_usage --bogus
expect_usage -x
expect_usage extra
expect_usage --workers
expect_usage --samples 10 --mode
expect_usage --samples "$(head -c 5000 /dev/zero | tr '\0' '7')"
expect_usage --mode "$(head -c 5000 /dev/zero | tr '\0' 'x')"
# the message names the bad value
"$IPCLAB" pi --workers 999 2>&1 >/dev/null | grep -q "999" \
    || fail "--workers 999: the error does not quote the value"
"$IPCLAB" pi --mode nope 2>&1 >/dev/null | grep -q "nope" \
    || fail "--mode nope: the error does not quote the value"

# --- help ---------------------------------------------------------------------------------
for args in "pi --help" "pi -h" "help pi"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab pi"*) ;; *) fail "ipclab $args: no usage text" ;; esac
    case "$out" in
        *"256"*"100000000000"*) ;;
        *) fail "ipclab $args: the limits are not named" ;;
    esac
done

# --- valid runs: fields and types ---------------------------------------------------------
S=300007
topo=$("$IPCLAB" pi --mode serial --samples 1000 --format json) || fail "a serial run failed"
phys=$(jq -r .physical_cores <<<"$topo")
logical=$(jq -r .logical_cpus <<<"$topo")
jq -e '.physical_cores >= 1 and .logical_cpus >= .physical_cores and
       (.topology_source == "hwloc" or .topology_source == "affinity")' <<<"$topo" >/dev/null \
    || fail "implausible topology: $topo"
over=$((2 * logical + 1))

: >"$work/all.json"
for mode in serial threads processes gil-threads; do
    for batch in "" --batch; do
        for w in 1 3 "$over"; do
            # shellcheck disable=SC2086
            "$IPCLAB" pi --mode "$mode" --workers "$w" --samples "$S" $batch --seed 11 \
                --format json >>"$work/all.json" \
                || fail "ipclab pi --mode $mode --workers $w $batch failed"
        done
    done
done
[ "$(wc -l <"$work/all.json")" -eq 24 ] \
    || fail "expected 24 JSON lines, got $(wc -l <"$work/all.json")"
jq -e -s --argjson s "$S" 'all(.[];
    (.mode | IN("serial", "threads", "processes", "gil-threads")) and
    (.workers | type == "number") and .samples == $s and (.batch | type == "boolean") and
    .seed == "11" and .run == 1 and
    (.pi | type == "number") and (.inside | type == "number") and .inside <= $s and
    .pi == 4 * .inside / $s and
    (.abs_error | type == "number") and
    ((.abs_error - ((.pi - 3.141592653589793) | fabs)) | fabs) < 1e-9 and
    .wall_ns > 0 and .samples_per_s > 0 and
    ((.samples_per_s - $s / (.wall_ns / 1e9)) | fabs) <= 1e-5 * .samples_per_s and
    (.physical_cores | type == "number") and (.logical_cpus | type == "number") and
    (.topology_source | type == "string") and
    (if .mode == "gil-threads"
     then .gil == 1048576 and .gil_emulated == true and (.gil_acquisitions | type == "number")
          and (.gil_handoffs | type == "number") and .gil_handoffs <= .gil_acquisitions
     else .gil == null and .gil_emulated == false and .gil_acquisitions == null
          and .gil_handoffs == null end) and
    (.pin | IN("per-worker", "shared-set")) and (.cpus | type == "array"))' "$work/all.json" \
    >/dev/null || fail "fields missing or wrong: $(head -2 "$work/all.json")"

# the estimate depends on the seed and the workers only: every mode and both kernels agree
for w in 1 3 "$over"; do
    n=$(jq -s --argjson w "$w" '[.[] | select(.workers == $w) | .inside] | unique | length' \
        "$work/all.json")
    [ "$n" -eq 1 ] || fail "$w workers: $n different estimates across modes and kernels: $(
        jq -c -s --argjson w "$w" '[.[] | select(.workers == $w) | [.mode, .batch, .inside]]' \
            "$work/all.json")"
done
# a 300k-sample estimate is within 5 standard deviations (0.015) of pi
jq -e -s 'all(.[]; .abs_error < 0.015)' "$work/all.json" >/dev/null \
    || fail "an estimate is far from pi: $(jq -c -s 'map(.pi) | unique' "$work/all.json")"

# placement: one CPU per worker up to the CPUs, then a shared set; serial is one thread
jq -e -s 'all(.[] | select(.mode != "serial" and .workers <= .logical_cpus);
              .pin == "per-worker" and (.cpus | length) == .workers)' "$work/all.json" >/dev/null \
    || fail "workers within the CPUs are not one per CPU"
jq -e -s 'all(.[] | select(.mode != "serial" and .workers > .logical_cpus);
              .pin == "shared-set" and (.cpus | length) == .logical_cpus)' "$work/all.json" \
    >/dev/null || fail "more workers than CPUs do not share the set"
jq -e -s 'all(.[] | select(.mode == "serial"); .pin == "per-worker" and (.cpus | length) == 1)' \
    "$work/all.json" >/dev/null || fail "serial is not one pinned thread"
"$IPCLAB" pi --mode threads --workers 2 --samples 1000 --no-pin --format json >"$work/nopin.json" \
    || fail "--no-pin failed"
jq -e '.pin == "none" and .cpus == null' "$work/nopin.json" >/dev/null \
    || fail "--no-pin still pinned: $(cat "$work/nopin.json")"

# defaults: processes on the physical cores; serial with one worker
"$IPCLAB" pi --samples 1000 --format json >"$work/default.json" || fail "the default run failed"
jq -e --argjson p "$phys" '.mode == "processes" and .workers == $p and .batch == false and
    .seed == "20140101"' "$work/default.json" >/dev/null \
    || fail "defaults are wrong: $(cat "$work/default.json")"
[ "$(jq .workers <<<"$topo")" -eq 1 ] || fail "serial does not default to one worker"

# the emulated lock hands over with a short interval, and says what it is
"$IPCLAB" pi --mode gil-threads --workers 3 --samples 2000000 --gil-interval 1000 --format json \
    >"$work/gil.json" || fail "gil-threads with --gil-interval failed"
jq -e '.gil == 1000 and .gil_acquisitions == 2001 and .gil_handoffs > 0' "$work/gil.json" \
    >/dev/null || fail "gil counts are wrong: $(cat "$work/gil.json")"
"$IPCLAB" pi --mode gil-threads --workers 2 --samples 100000 >"$work/gil.txt" \
    || fail "gil-threads table failed"
grep -q "emulated" "$work/gil.txt" || fail "the gil-threads table does not say it is an emulation"

# --repeat: numbered runs, the same estimate each time; another seed, another estimate
"$IPCLAB" pi --mode threads --workers 2 --samples 100000 --repeat 3 --format json \
    >"$work/rep.json" || fail "--repeat 3 failed"
[ "$(jq -r -s 'map(.run) | join(",")' "$work/rep.json")" = "1,2,3" ] \
    || fail "--repeat numbering is wrong"
[ "$(jq -s 'map(.inside) | unique | length' "$work/rep.json")" -eq 1 ] || fail "repeats differ"
a=$("$IPCLAB" pi --mode threads --workers 2 --samples 100000 --seed 1 --format json | jq .inside)
b=$("$IPCLAB" pi --mode threads --workers 2 --samples 100000 --seed 2 --format json | jq .inside)
c=$("$IPCLAB" pi --mode threads --workers 2 --samples 100000 --seed 3 --format json | jq .inside)
[ "$a" != "$b" ] || [ "$b" != "$c" ] || fail "three seeds gave one estimate ($a)"

# fewer samples than workers works
"$IPCLAB" pi --mode processes --workers 8 --samples 3 --format json \
    | jq -e '.inside <= 3' >/dev/null || fail "3 samples over 8 workers failed"

# the table says what ran
"$IPCLAB" pi --mode processes --workers 2 --samples 100000 --batch >"$work/table.txt" \
    || fail "table output failed"
grep -q '^# pi by Monte Carlo: processes, 2 workers, 100000 samples, batch' "$work/table.txt" \
    || fail "table header: $(head -1 "$work/table.txt")"
grep -Eq '^1 +3\.[0-9]+ ' "$work/table.txt" || fail "table row: $(tail -1 "$work/table.txt")"

# a reader that goes away stops the runs, with the status of a SIGPIPE death
"$IPCLAB" pi --mode serial --samples 1000 --repeat 1000 --format json 2>/dev/null \
    | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 141 ] || fail "closed pipe: exit $rc, expected 141 (SIGPIPE)"

finish
