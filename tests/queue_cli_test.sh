#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab queue`: bad input gets one line and exit 2; run, loss and bench give valid JSON whose
# accounting adds up; a timeout and Ctrl-C end a run cleanly. Usage: queue_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: queue_cli_test.sh PATH/TO/ipclab}
NAME=queue-cli
. "$(dirname "$0")/lib.sh"
need jq

# The transports ipclab must be able to run anywhere (the others may lack a library or a server).
MINE="mq pipe shm-ring socketpair"

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming ipclab.
expect_usage() {
    local rc
    "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    [ "$rc" -eq 2 ] || fail "ipclab $* exited $rc, expected 2 (stderr: $(cat "$work/err"))"
    [ ! -s "$work/out" ] || fail "ipclab $* printed on stdout: $(head -3 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "ipclab $* printed $(wc -l <"$work/err") lines on stderr: $(cat "$work/err")"
    case "$(cat "$work/err")" in "ipclab queue: "*) ;; *) fail "ipclab $*: error does not start with 'ipclab queue: ': $(cat "$work/err")" ;; esac
}

# --- bad command lines ------------------------------------------------------------------------
expect_usage queue
expect_usage queue nosuchmode
expect_usage queue ""
for mode in run loss bench; do
    expect_usage queue $mode --transport nope
    expect_usage queue $mode --transport ""
    expect_usage queue $mode -t "$(printf 'pi\npe')"
    expect_usage queue $mode --format xml
    expect_usage queue $mode --bogus
    expect_usage queue $mode extra
    expect_usage queue $mode --transport
    expect_usage queue $mode --tmpdir ""
    expect_usage queue $mode --server-cpu 99999
    expect_usage queue $mode --server-cpu -1
    expect_usage queue $mode --redis-socket ""
done
for mode in run loss; do
    expect_usage queue $mode --workers 0
    expect_usage queue $mode --workers 257
    expect_usage queue $mode --workers -1
    expect_usage queue $mode --workers x
    expect_usage queue $mode --workers 99999999999999999999999
    expect_usage queue $mode --jobs 0
    expect_usage queue $mode --jobs 10000001
    expect_usage queue $mode --jobs 1e3
    expect_usage queue $mode --size 0
    expect_usage queue $mode --size 65521 # a job and the protocol's 16-byte header exceed 64 KiB
    expect_usage queue $mode --size 65537
    expect_usage queue $mode --size " 64"
    expect_usage queue $mode --work-us 1000001
    expect_usage queue $mode --timeout 0
    expect_usage queue $mode --timeout 86401
    expect_usage queue $mode --kill-after 0
    expect_usage queue $mode --workers 2 --kill-worker 2 --kill-after 1
    expect_usage queue $mode --jobs 10 --kill-worker 0 --kill-after 11
done
expect_usage queue run --kill-worker 0
expect_usage queue run --kill-after 3
expect_usage queue bench --size 0
expect_usage queue bench --size 65537
expect_usage queue bench --size -8
expect_usage queue bench --messages 0
expect_usage queue bench --messages 100000001
expect_usage queue bench --round-trips 0
expect_usage queue bench --round-trips 10000001
expect_usage queue bench --workers 2
expect_usage queue run --messages 5
expect_usage queue run "$(head -c 5000 /dev/zero | tr '\0' 'x')"

# --- help -------------------------------------------------------------------------------------
for args in "queue --help" "queue -h" "help queue" "queue run --help" "queue loss -h" \
            "queue bench --help"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab queue run"*) ;; *) fail "ipclab $args: no usage text" ;; esac
    for t in $MINE; do
        case "$out" in *"  $t "*) ;; *) fail "ipclab $args does not list transport $t" ;; esac
    done
done

# --- run --------------------------------------------------------------------------------------
for t in $MINE; do
    "$IPCLAB" queue run -t "$t" --workers 3 --jobs 300 --size 1000 --format json \
        >"$work/run.json" 2>"$work/err" || fail "queue run -t $t failed: $(cat "$work/err")"
    [ "$(wc -l <"$work/run.json")" -eq 1 ] || fail "queue run -t $t printed $(wc -l <"$work/run.json") lines"
    jq -e --arg t "$t" '
        .mode == "run" and .transport == $t and .available == true and .reliable == false and
        .workers == 3 and .jobs == 300 and .size == 1000 and .work_us == 0 and .sent == 300 and
        .results == 300 and
        .duplicates == 0 and .lost == 0 and .confirmed == 3 and .died == 0 and .requeued == 0 and
        .kill_worker == null and .kill_after == null and (.wall_ns | type == "number") and
        .wall_ns > 0 and .jobs_per_s > 0 and (.cpus == null or (.cpus | type == "array"))' \
        "$work/run.json" >/dev/null || fail "queue run -t $t: $(cat "$work/run.json")"
done
# the smallest and the largest job
for size in 1 65520; do
    "$IPCLAB" queue run -t pipe --workers 2 --jobs 50 --size $size --format json >"$work/run.json" \
        || fail "queue run --size $size failed"
    jq -e '.results == 50 and .lost == 0' "$work/run.json" >/dev/null \
        || fail "queue run --size $size: $(cat "$work/run.json")"
done
# more workers than jobs and than CPUs, unpinned
"$IPCLAB" queue run -t socketpair --workers 7 --jobs 3 --no-pin --format json >"$work/run.json" \
    || fail "queue run --workers 7 --jobs 3 failed"
jq -e '.results == 3 and .confirmed == 7 and .cpus == null' "$work/run.json" >/dev/null \
    || fail "queue run --workers 7 --jobs 3: $(cat "$work/run.json")"
# every transport: one valid line each, those that ran with every job done or accounted for
"$IPCLAB" queue run --jobs 200 --workers 2 --format json >"$work/all.json" 2>"$work/err" \
    || fail "queue run (all transports) failed: $(cat "$work/err")"
jq -e -s '
    (map(.transport) | sort) == (map(.transport) | unique) and
    all(.[]; .mode == "run" and (.available | type == "boolean")) and
    all(.[] | select(.available); .sent == 200 and .results == 200 and .lost == 0) and
    all(.[] | select(.available | not); (.reason | type == "string") and (.reason | length > 0))' \
    "$work/all.json" >/dev/null || fail "queue run (all): $(cat "$work/all.json")"
for t in $MINE; do
    jq -e -s --arg t "$t" 'any(.[]; .transport == $t and .available)' "$work/all.json" >/dev/null \
        || fail "queue run (all) did not run $t"
done
# the table names what ran
"$IPCLAB" queue run -t mq --workers 2 --jobs 100 >"$work/table.txt" || fail "queue run table failed"
grep -q '^# run: 2 workers, 100 jobs of 64 bytes and 0 us of work' "$work/table.txt" || fail "table header: $(head -1 "$work/table.txt")"
grep -Eq '^mq +no +100 +100 +0 +0 +2 +0 +0 ' "$work/table.txt" || fail "table row: $(tail -1 "$work/table.txt")"

# --- a worker killed: run and loss (claim C19) ------------------------------------------------
for t in $MINE; do
    "$IPCLAB" queue run -t "$t" --workers 1 --jobs 100 --kill-worker 0 --kill-after 10 \
        --work-us 5 --format json >"$work/kill.json" 2>"$work/err" || fail "queue run -t $t with a kill failed: $(cat "$work/err")"
    jq -e '.died == 1 and .lost == 1 and .results == 99 and .requeued == 0 and
           .confirmed == 1 and .kill_worker == 0 and .kill_after == 10' "$work/kill.json" \
        >/dev/null || fail "queue run -t $t, one worker killed: $(cat "$work/kill.json")"
done
"$IPCLAB" queue loss --format json >"$work/loss.json" 2>"$work/err" \
    || fail "queue loss failed: $(cat "$work/err")"
jq -e -s '
    all(.[]; .mode == "loss") and
    all(.[] | select(.available); .workers == 2 and .jobs == 2000 and .kill_worker == 0 and
        .work_us == 20 and .kill_after == 250 and .died == 1 and .results + .lost == 2000 and
        .duplicates <= .died) and
    all(.[] | select(.available and .reliable); .lost == 0 and .requeued == .died) and
    all(.[] | select(.available and (.reliable | not)); .lost == .died and .requeued == 0)' \
    "$work/loss.json" >/dev/null || fail "queue loss: $(cat "$work/loss.json")"
"$IPCLAB" queue loss -t pipe >"$work/loss.txt" || fail "queue loss table failed"
grep -q '^# C19: ' "$work/loss.txt" || fail "queue loss table does not state the claim"

# --- bench ------------------------------------------------------------------------------------
for t in $MINE; do
    "$IPCLAB" queue bench -t "$t" --size 100 --messages 3000 --round-trips 300 --format json \
        >"$work/bench.json" 2>"$work/err" || fail "queue bench -t $t failed: $(cat "$work/err")"
    jq -e --arg t "$t" '
        .mode == "bench" and .transport == $t and .available and .size == 100 and
        .messages == 3000 and .round_trips == 300 and .stream_ns > 0 and .msgs_per_s > 0 and
        (.bytes_per_s / .msgs_per_s - 100 | fabs) < 0.01 and .latency_ns > 0 and
        .latency_min_ns > 0 and .latency_min_ns <= .latency_p50_ns and
        .latency_p50_ns <= .latency_p99_ns' \
        "$work/bench.json" >/dev/null || fail "queue bench -t $t: $(cat "$work/bench.json")"
done
# the default sizes, 1 byte and 64 KiB
"$IPCLAB" queue bench -t shm-ring --messages 500 --round-trips 50 --format json >"$work/sizes.json" \
    || fail "queue bench sizes failed"
[ "$(jq -r -s 'map(.size) | join(",")' "$work/sizes.json")" = "8,64,512,4096,65536" ] \
    || fail "queue bench sizes: $(jq -r -s 'map(.size) | join(",")' "$work/sizes.json")"
for size in 1 65536; do
    "$IPCLAB" queue bench -t mq --size $size --messages 200 --round-trips 20 --format json \
        >"$work/b.json" || fail "queue bench --size $size failed"
    jq -e --argjson s $size '.size == $s and .msgs_per_s > 0' "$work/b.json" >/dev/null \
        || fail "queue bench --size $size: $(cat "$work/b.json")"
done
"$IPCLAB" queue bench -t socketpair --size 64 --messages 500 --round-trips 50 >"$work/bench.txt" \
    || fail "queue bench table failed"
grep -Eq '^socketpair +64 +500 ' "$work/bench.txt" || fail "bench table: $(cat "$work/bench.txt")"

# --- a run that cannot finish in time is a runtime error, promptly ----------------------------
start=$(date +%s)
"$IPCLAB" queue run -t pipe --workers 2 --jobs 10000000 --size 65520 --timeout 1 \
    >/dev/null 2>"$work/err" </dev/null
rc=$?
[ "$rc" -eq 1 ] || fail "a timed-out run exited $rc, expected 1"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "a timed-out run: $(cat "$work/err")"
grep -q "timed out" "$work/err" || fail "a timed-out run does not say so: $(cat "$work/err")"
[ $(($(date +%s) - start)) -lt 30 ] || fail "a 1 s timeout took $(($(date +%s) - start)) s"

# --- Ctrl-C and kill: nothing left running ---------------------------------------------------
set -m # job control: a background job gets a default SIGINT, as at a terminal
for sig in INT TERM; do
    "$IPCLAB" queue run -t socketpair --workers 3 --jobs 10000000 --size 4096 >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
    kill -"$sig" "$pid"
    wait "$pid" 2>/dev/null # (and the shell's job report)
    rc=$?
    [ "$rc" -eq $((128 + $(kill -l "$sig"))) ] || fail "queue run after SIG$sig exited $rc"
    sleep 0.2
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "TMPDIR=$TMPDIR"; then
            case "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" in
            *"queue run"*) fail "left running after SIG$sig: pid ${p#/proc/}" ;;
            esac
        fi
    done
done
set +m

tmp_empty || fail "left in TMPDIR: $(ls -A "$TMPDIR")"
finish
