#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every flag backend available here through a short `ipclab verify`, every queue transport
# through `ipclab queue run`, `queue loss` (a worker killed) and `find-primes`, and the other
# subcommands once each: after each run nothing of ipclab's is left in /dev/shm, /dev/mqueue
# (where mounted), TMPDIR or the process table (no process with this test's TMPDIR in its
# environment). Usage: every_backend_leftovers_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: every_backend_leftovers_test.sh PATH/TO/ipclab}
NAME=every-backend
. "$(dirname "$0")/lib.sh"
need jq timeout

export XDG_CACHE_HOME=$work/xdg HOME=$work/home # memo's default dir, never the user's

ipc_listing() { ls -A /dev/shm 2>/dev/null; [ -d /dev/mqueue ] && ls -A /dev/mqueue; }
ipc_before=$(ipc_listing)
[ -d /dev/mqueue ] || echo "note: /dev/mqueue is not mounted here: POSIX queues are not listed"

# ours: processes other than this shell with this test's TMPDIR in their environment, among
# those ipclab makes: its own forks (ipclab) and what it execs (redis-server, redis-benchmark,
# fork+exec's /bin/true)
ours() {
    local p pid comm
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        { [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ]; } && continue
        read -r comm 2>/dev/null <"$p/comm" || continue
        case "$comm" in ipclab | redis-server | redis-benchmar* | true) ;; *) continue ;; esac
        grep -qzxF "TMPDIR=$TMPDIR" "$p/environ" 2>/dev/null || continue
        echo "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")(pid $pid)"
    done
}

runs=0
# run LABEL JQ-CHECK ARGS...: ipclab ARGS exits 0 within 60 s, its JSON passes JQ-CHECK (slurped),
# and it left nothing behind
run() {
    local label=$1 check=$2 left now
    shift 2
    runs=$((runs + 1))
    timeout -s KILL 60 "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    [ "$rc" -eq 0 ] || fail "$label: exit $rc: $(head -3 "$work/err")"
    [ "$rc" -ne 0 ] || jq -e -s "$check" "$work/out" >/dev/null \
        || fail "$label: unexpected output: $(head -c 400 "$work/out")"
    for _ in $(seq 50); do # (a worker dying of its parent's death may take a moment)
        left=$(ours)
        [ -z "$left" ] && break
        sleep 0.02
    done
    [ -z "$left" ] || fail "$label: left running: $left"
    tmp_empty || fail "$label: left in TMPDIR: $(ls -A "$TMPDIR")"
    now=$(ipc_listing)
    [ "$now" = "$ipc_before" ] \
        || fail "$label: /dev/shm or /dev/mqueue changed: $(diff <(echo "$ipc_before") <(echo "$now") | grep '^[<>]' | tr '\n' ' ')"
}

# --- every flag backend -------------------------------------------------------------------------
# 1000036000099 = 1000003 x 1000033: the factor lies in worker 1's half, so worker 0 is stopped
# by the flag (none: it searches its whole half); 1000000007 is prime.
backends=$("$IPCLAB" flags --format json | jq -r 'select(.available) | .name')
[ -n "$backends" ] || fail "no flag backend is available"
for b in $backends; do
    run "verify --flag $b" 'length == 2 and .[0].factor == "1000003" and .[1].prime == true' \
        verify --flag "$b" --workers 2 --format json 1000036000099 1000000007
    run "verify --strategy less-naive --flag $b" '.[0].factor == "1000003"' \
        verify --strategy less-naive --flag "$b" --workers 3 --format json 1000036000099
done
echo "flag backends: $(echo $backends)"

# --- every queue transport ----------------------------------------------------------------------
transports=$("$IPCLAB" queue run --transport all --jobs 1 --workers 1 --format json \
    | jq -r 'select(.available) | .transport')
tmp_empty || fail "listing the transports left $(ls -A "$TMPDIR")"
[ -n "$transports" ] || fail "no queue transport is available"
for t in $transports; do
    run "queue run -t $t" '.[0].results == 300 and .[0].lost == 0' \
        queue run -t "$t" --workers 2 --jobs 300 --size 100 --format json
    # What is lost is queue_test's and kill-worker's business; here the kill must leave
    # nothing behind. On a slow run (sanitizers) the other worker may take every job before
    # worker 0 reaches its 50th, and then nobody dies: that is reported as such.
    run "queue loss -t $t" '(.[0].died == 1 or (.[0].died == 0 and .[0].lost == 0)) and .[0].results + .[0].lost == 400' \
        queue loss -t "$t" --workers 2 --jobs 400 --work-us 200 --format json
    run "find-primes -t $t" '.[0].primes == 2262 and .[0].reference == 2262' \
        find-primes -t "$t" --n 20000 --job-size 500 --workers 2 --format json
done
echo "queue transports: $(echo $transports)"

# --- the other subcommands, once each -------------------------------------------------------------
run "pi" '.[0].inside > 0' pi --mode processes --workers 2 --samples 20000 --format json
run "counter" 'length == 4' counter --workers 2 --increments 10000 --format json
run "payload" 'map(.digest) | unique | length == 1' payload --size 6400 --workers 2 --format json
run "spawn latency" 'length >= 3' spawn latency --samples 3 --format json
run "spawn memory" 'length == 3' spawn memory --parent-mib 1 --format json
run "rng streams" 'length == 3' rng streams --workers 2 --count 10 --format json
run "rng throughput" 'length == 2' rng throughput --threads 2 --numbers 1000 --format json
run "memo" '.[0].result == 168' memo --dir "$work/memo" --n 1000 --format json
if command -v redis-server >/dev/null; then
    run "redis-bench" 'length >= 2' redis-bench --client ipclab -n 2000 --format json
fi

echo "every-backend: $runs runs"
finish
