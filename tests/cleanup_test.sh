#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Failures clean up: a killed worker, Ctrl-C, SIGTERM, a closed pipe and a SIGKILLed parent
# leave no worker process and (but for SIGKILL, which cannot be caught) no temp file behind.
# Usage: cleanup_test.sh PATH/TO/ipclab
set -u
set -m # job control: background jobs get their own process group and a default SIGINT
IPCLAB=${1:?usage: cleanup_test.sh PATH/TO/ipclab}
NAME=cleanup
. "$(dirname "$0")/lib.sh"
need pgrep

# start_run FLAG: start a verify run in the background; sets $pid and $children once both
# workers exist.
start_run() {
    "$IPCLAB" verify --flag "$1" --workers 2 --format json "$BIG" >"$work/out" 2>"$work/err" &
    pid=$!
    children=
    for _ in $(seq 200); do
        children=$(pgrep -P "$pid" | tr '\n' ' ')
        [ "$(echo "$children" | wc -w)" -ge 2 ] && return 0
        sleep 0.02
    done
    fail "the workers of $pid never appeared"
}

# all_gone PIDS...: every one has exited (and been reaped by somebody)
all_gone() {
    for _ in $(seq 100); do
        local alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && return 0
        sleep 0.02
    done
    return 1
}

# 1. a worker killed mid-run: exit 1, a message naming the worker and the signal, the other
#    worker stopped, nothing left
start_run mmap
victim=${children%% *}
kill -KILL "$victim"
wait "$pid"; rc=$?
[ "$rc" -eq 1 ] || fail "killed worker: exit $rc, expected 1"
grep -q "worker [0-9] (pid $victim) killed by signal 9" "$work/err" \
    || fail "killed worker: message was: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "killed worker: more than one line: $(cat "$work/err")"
# shellcheck disable=SC2086
all_gone $children || fail "killed worker: a sibling survived"
tmp_empty || fail "killed worker: left $(ls -A "$TMPDIR")"

# 2./3. SIGINT and SIGTERM to the parent only: it stops its workers, cleans, dies of the signal
for sig in INT TERM; do
    for flag in mmap file; do
        start_run "$flag"
        sleep 0.1
        kill -"$sig" "$pid"
        wait "$pid"; rc=$?
        want=$((128 + $(kill -l "$sig")))
        [ "$rc" -eq "$want" ] || fail "SIG$sig ($flag): exit $rc, expected $want"
        # shellcheck disable=SC2086
        all_gone $children || fail "SIG$sig ($flag): workers survived"
        tmp_empty || fail "SIG$sig ($flag): left $(ls -A "$TMPDIR")"
    done
done

# 4. Ctrl-C at a terminal: SIGINT to the whole process group at once
start_run mmap
sleep 0.1
kill -INT -- "-$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 130 ] || fail "Ctrl-C: exit $rc, expected 130"
# shellcheck disable=SC2086
all_gone $children || fail "Ctrl-C: workers survived"
tmp_empty || fail "Ctrl-C: left $(ls -A "$TMPDIR")"

# 5. the reader goes away (ipclab verify | head -1): SIGPIPE still cleans up
"$IPCLAB" verify --flag file --format json --repeat 1000000 7 | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 141 ] || fail "closed pipe: exit $rc, expected 141 (SIGPIPE)"
tmp_empty || fail "closed pipe: left $(ls -A "$TMPDIR")"

# 6. the parent SIGKILLed: nothing can clean up its files, but its workers must not outlive it
start_run atomic
kill -KILL "$pid"
wait "$pid" 2>/dev/null
# shellcheck disable=SC2086
all_gone $children || fail "parent SIGKILLed: orphaned workers $children survived"

finish
