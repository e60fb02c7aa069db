#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interrupting `make bench` (scripts/bench.sh) and a verify run with a flag server.
#
# bench.sh, interrupted during a benchmark family (one with a redis-server among them) and
# during the verify loop, by Ctrl-C (SIGINT to its process group), by SIGTERM to the group and
# by SIGINT or SIGTERM to bench.sh alone: it exits 130 / 143 at once, none of its
# processes is left, no .partial directory is left in the results dir, and the complete run
# already there is untouched byte for byte with `latest` still pointing at it. Families other
# than the one interrupted are stood in for by a stub, so the test reaches each point in
# seconds; the interrupted family is the real ipclab-bench.
#
# `ipclab verify` with a flag server (manager, redis-unix, redis-tcp), SIGTERM, SIGINT or SIGHUP
# to ipclab alone: it exits with the signal's status, stops its server and workers and removes
# the socket files and private directories (tests/cleanup_test.sh covers the file-backed flags).
#
# Usage: interrupt_bench_test.sh PATH/TO/ipclab
set -u
set -m # job control: each background job is a process group of its own, as at a terminal
IPCLAB=${1:?usage: interrupt_bench_test.sh PATH/TO/ipclab}
NAME=interrupt-bench
. "$(dirname "$0")/lib.sh"
need pgrep jq sha256sum
here=$(cd "$(dirname "$0")" && pwd)
BENCH_SH=$here/../scripts/bench.sh
FIXTURE=$here/fixtures/run
REAL_BENCH=$(dirname "$IPCLAB")/ipclab-bench
[ -x "$REAL_BENCH" ] || { echo "skip: $REAL_BENCH is not built"; exit 77; }
IPCLAB=$(cd "$(dirname "$IPCLAB")" && pwd)/$(basename "$IPCLAB")

have() { "$IPCLAB" flags --format json | jq -s -e --arg b "$1" 'any(.[]; .name == $b and .available)' >/dev/null; }

# ours: processes of this test (its TMPDIR in their environment) but the test shell itself:
# ipclab, ipclab-bench, redis-server, jq, and bench.sh with its subshells
ours() {
    local p pid comm
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        { [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ]; } && continue
        read -r comm 2>/dev/null <"$p/comm" || continue
        case "$comm" in
            ipclab | ipclab-bench | redis-server | redis-benchmar* | jq) ;;
            bash) grep -q bench.sh "$p/cmdline" 2>/dev/null || continue ;;
            *) continue ;;
        esac
        grep -qzxF "TMPDIR=$TMPDIR" "$p/environ" 2>/dev/null || continue
        echo "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")(pid $pid)"
    done
}

# none_left LABEL: no process of ours left (3 s for the ones dying of their parent's death)
none_left() {
    local left
    for _ in $(seq 60); do
        left=$(ours)
        [ -z "$left" ] && return 0
        sleep 0.05
    done
    fail "$1: left running: $left"
}

# ended PID LABEL: wait for it, at most 15 s; sets $rc and $secs
ended() {
    local start; start=$(date +%s%N)
    for _ in $(seq 300); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$1" 2>/dev/null; then
        fail "$2: still running 15 s after the signal"
        kill -KILL -- "-$1"
    fi
    wait "$1" 2>/dev/null
    rc=$?
    secs=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
}

scenarios=0

# --- bench.sh ---------------------------------------------------------------------------------
# The stand-in ipclab-bench: the real one for the family whose filter matches $BENCH_REAL, an
# empty result at once for the others.
mkdir "$work/bin"
ln -s "$IPCLAB" "$work/bin/ipclab"
cat >"$work/bin/ipclab-bench" <<EOF
#!/usr/bin/env bash
case "\$*" in *"\${BENCH_REAL:-no family}"*) exec "$REAL_BENCH" "\$@" ;; esac
for a; do
    case "\$a" in --benchmark_out=*) echo '{"context": {}, "benchmarks": []}' >"\${a#*=}" ;; esac
done
EOF
chmod +x "$work/bin/ipclab-bench"

# A results dir holding one complete earlier run and `latest`.
results=$work/results
old=20260101T000000Z-0123abc
mkdir "$results"
cp -a "$FIXTURE" "$results/$old"
ln -s "$old" "$results/latest"
snapshot() { (cd "$results" && find . -mindepth 1 -exec stat -c '%n %F %s %Y' {} + | sort && find . -type f -exec sha256sum {} + | sort); }
before=$(snapshot)

# doing PID WHAT: the child of bench.sh PID doing WHAT (family: the real ipclab-bench, not the
# stand-in; verify: an ipclab verify), if there is one
doing() {
    local k
    for k in $(pgrep -P "$1"); do
        case "$2" in
            family) [ "$(readlink "/proc/$k/exe" 2>/dev/null)" = "$REAL_BENCH_EXE" ] && echo "$k" ;;
            verify) case "$(tr '\0' ' ' 2>/dev/null <"/proc/$k/cmdline")" in *" verify "*) echo "$k" ;; esac ;;
        esac
    done
}
REAL_BENCH_EXE=$(readlink -f "$REAL_BENCH")

# interrupt_bench LABEL REAL-FAMILY WHAT SIGNAL TARGET: run bench.sh, wait until it is doing WHAT
# (family: the real ipclab-bench on the family matching REAL-FAMILY; verify: the verify loop),
# then send SIGNAL to TARGET (group: the whole process group, as Ctrl-C does; script: bench.sh
# alone).
interrupt_bench() {
    local label=$1 real=$2 waitfor=$3 sig=$4 target=$5 child='' want
    scenarios=$((scenarios + 1))
    (cd "$work" && BENCH_REAL=$real exec bash "$BENCH_SH" --profile quick --ipclab "$work/bin/ipclab" \
        --out "$results") >"$work/out" 2>"$work/err" </dev/null &
    local pid=$!
    for _ in $(seq 600); do
        child=$(doing "$pid" "$waitfor" | head -1)
        [ -n "$child" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$child" ]; then
        fail "$label: bench.sh never got to its $waitfor: $(tail -3 "$work/err")"
        kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return
    fi
    # Well inside it: the family has started its workers or server, the verify its workers.
    sleep 0.5
    if [ "$target" = group ]; then kill -"$sig" -- "-$pid"; else kill -"$sig" "$pid"; fi
    ended "$pid" "$label"
    want=$((128 + $(kill -l "$sig")))
    [ "$rc" -eq "$want" ] || fail "$label: exit $rc, expected $want: $(tail -3 "$work/err")"
    none_left "$label"
    local now; now=$(ls -A "$results" | tr '\n' ' ')
    [ "$now" = "$old latest " ] || fail "$label: the results dir holds: $now"
    [ "$(readlink "$results/latest")" = "$old" ] || fail "$label: latest points at $(readlink "$results/latest")"
    [ "$(snapshot)" = "$before" ] || fail "$label: the earlier run changed: $(diff <(echo "$before") <(snapshot) | head -5)"
    diff -r "$FIXTURE" "$results/$old" >/dev/null || fail "$label: the earlier run differs from the fixture"
    tmp_empty || fail "$label: left in TMPDIR: $(ls -A "$TMPDIR")"
    echo "$label: exit $rc after ${secs}s ($(grep -c '^\[' "$work/err") steps started)"
}

interrupt_bench "Ctrl-C during family check" '^check/' family INT group
if command -v redis-server >/dev/null; then
    # ipclab-bench's redis-bench family runs a redis-server (and redis-benchmark if installed)
    interrupt_bench "SIGTERM to the group during family redis-bench" '^redis-bench/' family TERM group
fi
interrupt_bench "SIGTERM to the group during verify" '' verify TERM group
# Alone: bench.sh waits for each step in the background, so its trap runs at once and stops
# the step (a family can last minutes), whatever the step is.
interrupt_bench "SIGINT to bench.sh alone during verify" '' verify INT script
interrupt_bench "SIGTERM to bench.sh alone during verify" '' verify TERM script
interrupt_bench "SIGINT to bench.sh alone during family check" '^check/' family INT script
if command -v redis-server >/dev/null; then
    interrupt_bench "SIGTERM to bench.sh alone during family redis-bench" '^redis-bench/' family TERM script
fi

# --- verify with a flag server: the signal to ipclab alone -------------------------------------
# children PID: its children, oldest first
children() { pgrep -P "$1" | sort -n | tr '\n' ' '; }
for run in manager:TERM redis-unix:TERM redis-tcp:TERM redis-unix:INT manager:HUP; do
    backend=${run%%:*} sig=${run##*:}
    label="verify --flag $backend, SIG$sig"
    if ! have "$backend"; then echo "note: $backend is not available here, not tested"; continue; fi
    scenarios=$((scenarios + 1))
    "$IPCLAB" verify --flag "$backend" --workers 2 --format json "$BIG" >"$work/out" 2>"$work/err" &
    pid=$!
    kids=
    for _ in $(seq 250); do
        kids=$(children "$pid")
        [ "$(echo "$kids" | wc -w)" -ge 3 ] && break # the server and two workers
        sleep 0.02
    done
    [ "$(echo "$kids" | wc -w)" -ge 3 ] || fail "$label: the server and workers never appeared: $kids"
    # what it made in TMPDIR: the private directory with the server's socket
    made=$(ls -A "$TMPDIR")
    [ -n "$made" ] || fail "$label: nothing in TMPDIR while running (where is the socket?)"
    sleep 0.2
    kill -"$sig" "$pid"
    ended "$pid" "$label"
    want=$((128 + $(kill -l "$sig")))
    [ "$rc" -eq "$want" ] || fail "$label: exit $rc, expected $want: $(cat "$work/err")"
    for k in $kids; do
        for _ in $(seq 100); do kill -0 "$k" 2>/dev/null || break; sleep 0.02; done
        kill -0 "$k" 2>/dev/null && fail "$label: $(cat "/proc/$k/comm") (pid $k) outlived ipclab"
    done
    none_left "$label"
    tmp_empty || fail "$label: left in TMPDIR: $(ls -AR "$TMPDIR")"
    echo "$label: exit $rc after ${secs}s, removed $made"
done

echo "interrupt-bench: $scenarios scenarios"
finish
