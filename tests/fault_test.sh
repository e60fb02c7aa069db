#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A flag's server killed in the middle of a run (the manager server, redis-server over either
# transport): the run ends promptly with exit 1 and one line naming the backend, with no
# worker left running and nothing left in TMPDIR. Usage: fault_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: fault_test.sh PATH/TO/ipclab}
NAME=fault
. "$(dirname "$0")/lib.sh"
need pgrep jq
# With a server round trip every 1000 candidates a run on $BIG lasts far longer than the
# test, so only the fault can end it.

# children_of PID: its children, oldest first
children_of() { pgrep -P "$1" | sort -n | tr '\n' ' '; }

tried=0
for backend in manager redis-unix redis-tcp; do
    if ! "$IPCLAB" flags --format json | jq -s -e --arg b "$backend" \
            'any(.[]; .name == $b and .available)' >/dev/null; then
        echo "note: $backend is not available here, not tested"
        continue
    fi
    tried=$((tried + 1))
    "$IPCLAB" verify --flag "$backend" --workers 2 --format json "$BIG" >"$work/out" 2>"$work/err" &
    pid=$!
    server= kids=
    for _ in $(seq 500); do
        kids=$(children_of "$pid")
        if [ "$(echo "$kids" | wc -w)" -ge 3 ]; then # the server and two workers
            if [ "$backend" = manager ]; then
                server=${kids%% *} # started by open, before any worker
            else
                server=$(pgrep -P "$pid" -x redis-server)
            fi
            break
        fi
        sleep 0.02
    done
    if [ -z "$server" ]; then
        fail "$backend: the server and workers of $pid never appeared (children: $kids)"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        continue
    fi
    sleep 0.2
    kill -KILL "$server"
    # Bounded wait: a hang is a failure, not a stuck test.
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$backend: still running 15 s after its server died"
        kill -KILL "$pid"
    fi
    wait "$pid"; rc=$?
    [ "$rc" -eq 1 ] || fail "$backend: exit $rc after its server died, expected 1"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$backend: expected one line, got: $(cat "$work/err")"
    grep -q "$backend" "$work/err" || fail "$backend: the error does not name it: $(cat "$work/err")"
    for k in $kids; do
        kill -0 "$k" 2>/dev/null && fail "$backend: process $k outlived the run"
    done
    tmp_empty || fail "$backend: left $(ls -A "$TMPDIR")"
    echo "$backend: $(cat "$work/err")"
done

[ "$tried" -gt 0 ] || { echo "skip: no server backend available"; exit 77; }
finish
