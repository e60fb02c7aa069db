#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A worker SIGKILLed in the middle of a run, in every subcommand that forks workers: verify
# (with an in-memory flag and with each kind of flag server), pi's processes, find-primes over
# plain queues (the job is lost: exit 1, one line saying so) and over redis (the job comes back:
# exit 0, the right count), queue run (a spare takes the dead worker's place; more deaths than
# spares end the run with exit 1). Every run ends within 10 s of the kill, its other processes
# are gone, and nothing is left in TMPDIR or /dev/shm (/dev/mqueue too, where it is mounted).
# Usage: kill_worker_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: kill_worker_test.sh PATH/TO/ipclab}
NAME=kill-worker
. "$(dirname "$0")/lib.sh"
need pgrep jq

have() { "$IPCLAB" flags --format json | jq -s -e --arg b "$1" 'any(.[]; .name == $b and .available)' >/dev/null; }
have_redis=0
command -v redis-server >/dev/null && have_redis=1

ipc_listing() { ls -A /dev/shm 2>/dev/null; [ -d /dev/mqueue ] && ls -A /dev/mqueue; }
ipc_before=$(ipc_listing)
[ -d /dev/mqueue ] || echo "note: /dev/mqueue is not mounted here: POSIX queues are not listed"

# children PID [COMM]: its children (with that name), oldest first
children() {
    if [ $# -gt 1 ]; then pgrep -P "$1" -x "$2"; else pgrep -P "$1"; fi | sort -n | tr '\n' ' '
}

# await_children PID N: until PID has N children (5 s at most); 1 if it never does
await_children() {
    for _ in $(seq 250); do
        [ "$(children "$1" | wc -w)" -ge "$2" ] && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

# busiest PIDS...: the live one that used the most CPU (a worker at work, not an idle spare,
# nor one killed already and not yet reaped)
busiest() {
    local best='' most=-1 p t
    for p in "$@"; do
        t=$(awk '$3 != "Z" { print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
        [ -n "$t" ] && [ "$t" -gt "$most" ] && best=$p most=$t
    done
    echo "$best"
}

# kill_at_work PIDS...: SIGKILL the busiest of them while it is computing, so that it holds a
# job: stopped first, it is killed only if it was stopped in user space (/proc/PID/syscall
# starts with -1), not inside a system call such as a receive on an empty queue. Prints its pid.
kill_at_work() {
    local v
    for _ in $(seq 200); do
        v=$(busiest "$@")
        [ -n "$v" ] || return 1
        kill -STOP "$v" 2>/dev/null || continue
        for _ in $(seq 50); do # until it has stopped
            [ "$(awk '{ print $3 }' "/proc/$v/stat" 2>/dev/null)" = T ] && break
            sleep 0.002
        done
        if [ "$(cut -d' ' -f1 "/proc/$v/syscall" 2>/dev/null)" = -1 ]; then
            kill -KILL "$v"
            echo "$v"
            return 0
        fi
        kill -CONT "$v"
        sleep 0.005
    done
    return 1
}

# ended PID LABEL: wait for the run, at most 10 s; sets $rc and $secs
ended() {
    local start; start=$(date +%s%N)
    for _ in $(seq 200); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$1" 2>/dev/null; then
        fail "$2: still running 10 s after the kill"
        kill -KILL "$1"
    fi
    wait "$1"
    rc=$?
    secs=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
}

# gone LABEL PIDS...: every one has exited (2 s at most)
gone() {
    local label=$1 p alive
    shift
    for _ in $(seq 100); do
        alive=
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive+="$p "; done
        [ -z "$alive" ] && return 0
        sleep 0.02
    done
    fail "$label: outlived the run: $(for p in $alive; do tr '\0' ' ' <"/proc/$p/cmdline"; echo -n "(pid $p) "; done)"
}

# clean LABEL: nothing of ipclab's in TMPDIR, /dev/shm or /dev/mqueue
clean() {
    tmp_empty || fail "$1: left in TMPDIR: $(ls -A "$TMPDIR")"
    local now; now=$(ipc_listing)
    [ "$now" = "$ipc_before" ] || fail "$1: /dev/shm or /dev/mqueue changed: $(diff <(echo "$ipc_before") <(echo "$now") | grep '^[<>]' | tr '\n' ' ')"
}

# one_line LABEL: stderr is exactly one line
one_line() {
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$1: expected one line on stderr, got: $(cat "$work/err")"
}

scenarios=0

# --- verify: a worker of the pool, with an in-memory flag and with a flag server -------------
# $BIG is prime: 2^31 candidates, far longer than the test, so only the kill can end the run.
for backend in atomic manager redis-unix; do
    if ! have "$backend"; then echo "note: $backend is not available here, not tested"; continue; fi
    label="verify --flag $backend"
    scenarios=$((scenarios + 1))
    "$IPCLAB" verify --strategy less-naive --flag "$backend" --workers 2 --format json "$BIG" \
        >"$work/out" 2>"$work/err" &
    pid=$!
    want=2
    [ "$backend" = atomic ] || want=3 # the server, then the workers
    if ! await_children "$pid" "$want"; then
        fail "$label: the workers never appeared (children: $(children "$pid"))"
        kill -KILL "$pid"; wait "$pid"; continue
    fi
    kids=$(children "$pid")
    case "$backend" in
        manager) workers=${kids#* } ;;                   # the server is forked first
        redis-unix) workers=$(children "$pid" ipclab) ;; # not the redis-server
        *) workers=$kids ;;
    esac
    sleep 0.2
    # shellcheck disable=SC2086
    victim=$(busiest $workers)
    kill -KILL "$victim"
    ended "$pid" "$label"
    [ "$rc" -eq 1 ] || fail "$label: exit $rc after a worker was killed, expected 1"
    one_line "$label"
    grep -q "worker [0-9] (pid $victim) killed by signal 9" "$work/err" \
        || fail "$label: the error does not name the dead worker $victim: $(cat "$work/err")"
    # shellcheck disable=SC2086
    gone "$label" $kids
    clean "$label"
    echo "$label: ${secs}s: $(cat "$work/err")"
done

# --- pi, processes mode ----------------------------------------------------------------------
label="pi --mode processes"
scenarios=$((scenarios + 1))
"$IPCLAB" pi --mode processes --workers 2 --samples 100000000000 --format json \
    >"$work/out" 2>"$work/err" &
pid=$!
if await_children "$pid" 2; then
    kids=$(children "$pid")
    sleep 0.2
    kill -KILL "${kids%% *}"
    ended "$pid" "$label"
    [ "$rc" -eq 1 ] || fail "$label: exit $rc after a worker was killed, expected 1"
    one_line "$label"
    grep -q "worker process [0-9] of 2 failed: killed by signal 9" "$work/err" \
        || fail "$label: the error does not name the dead worker: $(cat "$work/err")"
    [ ! -s "$work/out" ] || fail "$label: printed a result: $(cat "$work/out")"
    # shellcheck disable=SC2086
    gone "$label" $kids
    clean "$label"
    echo "$label: ${secs}s: $(cat "$work/err")"
else
    fail "$label: the workers never appeared"
    kill -KILL "$pid"; wait "$pid"
fi

# --- find-primes: a plain queue loses the dead worker's job, redis gives it back ---------------
# 12 jobs of 500 000 numbers, tens of milliseconds each, about a second of work on two workers:
# the queue never runs dry before the end, and the worker killed is in the middle of a job.
transports="pipe shm-ring uring"
[ "$have_redis" -eq 1 ] && transports+=" redis"
for t in $transports; do
    label="find-primes -t $t"
    "$IPCLAB" find-primes -t "$t" --n 6000000 --job-size 500000 --workers 2 --format json \
        >"$work/out" 2>"$work/err" &
    pid=$!
    want=5 # two workers, two spares, the drainer
    [ "$t" = redis ] && want=6
    if ! await_children "$pid" "$want"; then
        wait "$pid"
        rc=$?
        if [ "$rc" -eq 1 ] && grep -q "is not available here" "$work/err"; then
            echo "note: $t is not available here, not tested"
        else
            fail "$label: the workers never appeared: exit $rc, $(cat "$work/err")"
        fi
        continue
    fi
    scenarios=$((scenarios + 1))
    kids=$(children "$pid")
    sleep 0.3
    # shellcheck disable=SC2046
    victim=$(kill_at_work $(children "$pid" ipclab)) || fail "$label: no worker was at work"
    ended "$pid" "$label"
    if [ "$t" = redis ]; then
        [ "$rc" -eq 0 ] || fail "$label: exit $rc after a worker was killed, expected 0: $(cat "$work/err")"
        jq -e '.primes == 412849 and .reference == 412849 and .jobs == 12' "$work/out" >/dev/null \
            || fail "$label: the recovered run counted wrong: $(cat "$work/out")"
        [ ! -s "$work/err" ] || fail "$label: wrote on stderr: $(cat "$work/err")"
        echo "$label: ${secs}s: recovered, $(jq -r '"\(.primes) primes"' "$work/out" 2>/dev/null)"
    else
        [ "$rc" -eq 1 ] || fail "$label: exit $rc after a worker was killed, expected 1"
        one_line "$label"
        grep -q "^ipclab find-primes: $t: 1 of 12 jobs have no result (1 lost, 1 worker died)$" \
            "$work/err" || fail "$label: unexpected error: $(cat "$work/err")"
        [ ! -s "$work/out" ] || fail "$label: printed a wrong count: $(cat "$work/out")"
        echo "$label: ${secs}s: $(cat "$work/err")"
    fi
    # shellcheck disable=SC2086
    gone "$label" $kids
    clean "$label"
done

# --- queue run: a spare replaces a dead worker; more deaths than spares end the run -----------
# 2000 jobs of 1 ms on two workers: about a second.
for t in pipe redis; do
    [ "$t" = redis ] && [ "$have_redis" -eq 0 ] && continue
    label="queue run -t $t, one worker killed"
    scenarios=$((scenarios + 1))
    "$IPCLAB" queue run -t "$t" --workers 2 --jobs 2000 --work-us 1000 --format json \
        >"$work/out" 2>"$work/err" &
    pid=$!
    want=5
    [ "$t" = redis ] && want=6
    if ! await_children "$pid" "$want"; then
        fail "$label: the workers never appeared: $(cat "$work/err")"
        kill -KILL "$pid"; wait "$pid"; continue
    fi
    kids=$(children "$pid")
    sleep 0.2
    # shellcheck disable=SC2046
    kill_at_work $(children "$pid" ipclab) >/dev/null || fail "$label: no worker was at work"
    ended "$pid" "$label"
    [ "$rc" -eq 0 ] || fail "$label: exit $rc, expected 0 (a spare takes over): $(cat "$work/err")"
    if [ "$t" = redis ]; then
        jq -e '.died == 1 and .lost == 0 and .requeued == 1 and .results == 2000' "$work/out" \
            >/dev/null || fail "$label: $(cat "$work/out")"
    else
        jq -e '.died == 1 and .lost == 1 and .requeued == 0 and .results == 1999' "$work/out" \
            >/dev/null || fail "$label: $(cat "$work/out")"
    fi
    # shellcheck disable=SC2086
    gone "$label" $kids
    clean "$label"
    echo "$label: ${secs}s: $(jq -c '{died, lost, requeued, results}' "$work/out" 2>/dev/null)"
done

# Two workers have two spares: a third death (the workers, then a spare that took over) is
# one too many.
label="queue run -t pipe, three workers killed"
scenarios=$((scenarios + 1))
"$IPCLAB" queue run -t pipe --workers 2 --jobs 4000 --work-us 1000 --format json \
    >"$work/out" 2>"$work/err" &
pid=$!
if await_children "$pid" 5; then
    kids=$(children "$pid")
    killed=
    for _ in 1 2 3; do
        sleep 0.2
        # shellcheck disable=SC2046
        victim=$(busiest $(children "$pid" ipclab))
        [ -n "$victim" ] && kill -KILL "$victim" && killed+="$victim "
    done
    ended "$pid" "$label"
    [ "$rc" -eq 1 ] || fail "$label: exit $rc, expected 1 (killed $killed)"
    one_line "$label"
    # A kill that lands while the victim writes a frame cuts the stream, which nobody can
    # resynchronise: that error comes first then, and names what happened just as well.
    grep -Eq "^ipclab queue: pipe: (3 workers died, more than the 2 spares|.*the stream is cut: a process died in the middle of a frame)$" "$work/err" \
        || fail "$label: unexpected error: $(cat "$work/err")"
    [ ! -s "$work/out" ] || fail "$label: printed a result: $(cat "$work/out")"
    # shellcheck disable=SC2086
    gone "$label" $kids
    clean "$label"
    echo "$label: ${secs}s: $(cat "$work/err")"
else
    fail "$label: the workers never appeared"
    kill -KILL "$pid"; wait "$pid"
fi

echo "kill-worker: $scenarios scenarios"
finish
