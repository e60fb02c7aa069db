#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make valgrind`: short runs of every ipclab subcommand, and `verify` once per flag backend,
# under valgrind memcheck; fails on any memcheck error (definite leaks included).
# usage: scripts/valgrind.sh PATH/TO/ipclab
#
# Forked workers stay under memcheck whatever --trace-children says: a fork is a copy of the
# valgrind process, and each child's errors and leaks land in its own log (%p). The option
# only follows execve, and ipclab execs nothing of its own, only redis-server, redis-benchmark
# and spawn's /bin/true: those are skipped (third-party, and slow under valgrind), so the
# option costs nothing and would catch a future self-exec.
#
# Debian 12's valgrind 3.19 does not know pidfd_open (syscall 434), which every pool of worker
# processes and every server in ipclab is watched through: where a probe shows that, ipclab
# runs with scripts/valgrind-pidfd.c preloaded, a stand-in built here (see its comment); a
# valgrind that knows the syscall runs ipclab as it is. A run valgrind still cannot carry out
# (another unhandled syscall) is SKIPPED with the syscall named, not failed; `verify` then falls
# back to the serial strategy, which still takes the backend through its whole lifecycle.
set -uo pipefail

IPCLAB=${1:?usage: scripts/valgrind.sh PATH/TO/ipclab}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (scripts/deps.sh valgrind)" >&2; exit 1; }
command -v jq >/dev/null || { echo "valgrind.sh: jq is not installed (scripts/deps.sh test)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ipclab-vg.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work XDG_CACHE_HOME=$work/xdg

VG=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --trace-children=yes --trace-children-skip='*/redis-server,*/redis-benchmark,*/true'
    --child-silent-after-fork=no)

declare -A SYSCALL_NAMES=([434]=pidfd_open [435]=clone3 [424]=pidfd_send_signal
                          [438]=pidfd_getfd [425]=io_uring_setup [426]=io_uring_enter)
ok=0 failed=0 skipped=0 n=0
start=$(date +%s)
# Set by vg: why the last run was skipped (empty: it was not).
skip_reason=

# vg NAME ARGS...: run ipclab ARGS under memcheck. 0 passed, 1 failed, 2 skipped.
vg() {
    local name=$1 rc logs errs unhandled
    shift
    n=$((n + 1))
    local dir=$work/logs/$n
    mkdir -p "$dir"
    skip_reason=
    timeout 600 "${VG[@]}" --log-file="$dir/vg.%p.log" "$IPCLAB" "$@" \
        >"$dir/stdout" 2>"$dir/stderr" </dev/null
    rc=$?
    logs=("$dir"/vg.*.log)
    errs=$(cat "${logs[@]}" 2>/dev/null | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' |
           awk '{s += $1} END {print s + 0}')
    unhandled=$(cat "${logs[@]}" 2>/dev/null |
                sed -n 's/.*unhandled [a-z0-9-]* syscall: \([0-9]*\).*/\1/p' | sort -un | head -1)
    if [ "$errs" -gt 0 ]; then
        echo "FAIL  $name: $errs memcheck error(s): ipclab $*" >&2
        for log in "${logs[@]}"; do
            grep -q 'ERROR SUMMARY: [1-9]' "$log" || continue
            grep -m1 '^==[0-9]*== Command:' "$log" >&2
            sed -n '/^==[0-9]*== Parent PID:/,/^==[0-9]*== HEAP SUMMARY:/p' "$log" |
                grep -v -e '^==[0-9]*== *$' -e 'Parent PID:' -e 'HEAP SUMMARY:' | head -80 >&2
            grep -A12 'definitely lost in loss record' "$log" | head -60 >&2
        done
        failed=$((failed + 1))
        return 1
    fi
    if [ "$rc" -ne 0 ] && [ -n "$unhandled" ]; then
        skip_reason="valgrind $(valgrind --version | sed 's/valgrind-//') does not handle syscall $unhandled (${SYSCALL_NAMES[$unhandled]:-see /usr/include/asm/unistd_64.h})"
        return 2
    fi
    if [ "$rc" -ne 0 ]; then
        echo "FAIL  $name: ipclab exited $rc under valgrind: ipclab $*" >&2
        tail -5 "$dir/stderr" >&2
        failed=$((failed + 1))
        return 1
    fi
    echo "ok    $name"
    ok=$((ok + 1))
    return 0
}

# check NAME ARGS...: vg, and a skip is reported as one.
check() {
    local name=$1
    vg "$@"
    if [ $? -eq 2 ]; then
        echo "SKIP  $name: $skip_reason" >&2
        skipped=$((skipped + 1))
    fi
}

echo "valgrind.sh: $(valgrind --version), memcheck on $IPCLAB" >&2

# Can this valgrind run a worker process? If only pidfd_open is missing, preload the stand-in.
vg probe pi --mode processes --workers 1 --samples 1000 >/dev/null
if [ $? -eq 2 ] && [[ $skip_reason == *"syscall 434 "* ]]; then
    shim=$work/valgrind-pidfd.so
    ${CC:-cc} -O2 -Wall -Wextra -shared -fPIC -o "$shim" "$(dirname "$0")/valgrind-pidfd.c" ||
        exit 1
    # valgrind passes LD_PRELOAD on to ipclab after its own preloads.
    export LD_PRELOAD=$shim${LD_PRELOAD:+:$LD_PRELOAD}
    echo "valgrind.sh: $skip_reason: ipclab runs with scripts/valgrind-pidfd.c preloaded" >&2
    vg probe pi --mode processes --workers 1 --samples 1000 >/dev/null
fi
ok=0 # the probe is not one of the checks

# verify, once per flag backend: two worker processes, or the serial strategy where valgrind
# cannot fork a pool (see the top of this file).
N=1000003
for b in $("$IPCLAB" flags --format json | jq -r 'select(.available) | .name'); do
    vg "verify/$b" verify --workers 2 --flag "$b" --format json "$N"
    if [ $? -eq 2 ]; then
        echo "SKIP  verify/$b (2 workers): $skip_reason; serial strategy instead" >&2
        skipped=$((skipped + 1))
        check "verify/$b/serial" verify --strategy serial --flag "$b" --format json "$N"
    fi
done
for b in $("$IPCLAB" flags --format json | jq -r 'select(.available | not) | .name'); do
    echo "SKIP  verify/$b: not available here: $("$IPCLAB" flags --format json |
        jq -r --arg b "$b" 'select(.name == $b) | .reason')" >&2
    skipped=$((skipped + 1))
done

# One short run of each other subcommand (several where its modes take different paths).
S=(--samples 200000)
check pi/serial pi --mode serial "${S[@]}" --format json
check pi/threads pi --mode threads --workers 2 "${S[@]}" --format json
check pi/gil-threads pi --mode gil-threads --workers 2 --batch --gil-interval 10000 "${S[@]}" --format json
check pi/processes pi --mode processes --workers 2 "${S[@]}" --format json
check spawn/latency/thread spawn latency --kind thread --samples 5 --format json
check spawn/latency/fork spawn latency --kind fork --samples 5 --format json
check spawn/latency/fork-exec spawn latency --kind fork-exec --samples 3 --format json
check spawn/memory spawn memory --parent-mib 1 --child all --format json
check rng/streams rng streams --seeding all --workers 2 --count 100
check rng/throughput rng throughput --mode all --threads 2 --numbers 10000
check counter counter --variant all --workers 2 --increments 1000 --format json
# Each transport but uring: valgrind does not see the kernel fill a buffer through io_uring
# (a recv submitted on the ring), so every byte uring delivers would be reported uninitialised.
for t in mq pipe redis shm-ring socketpair; do
    check "queue/run/$t" queue run --transport "$t" --workers 2 --jobs 50 --format json
done
echo "SKIP  queue/run/uring: memcheck cannot see what the kernel writes through io_uring" \
     "(every received byte would look uninitialised)" >&2
skipped=$((skipped + 1))
check queue/bench queue bench --transport pipe --size 64 --messages 200 --round-trips 50 --format json
check find-primes/serial find-primes --transport serial --n 5000 --format json
check find-primes/pipe find-primes --transport pipe --n 5000 --job-size 500 --workers 2 --format json
check payload payload --way all --size 65536 --workers 2 --format json
check memo/cold memo --dir "$work/memo" --n 20000 --format json
check memo/warm memo --dir "$work/memo" --n 20000 --format json
# the cost model: measured for an in-memory and a file-backed flag (with a partner process),
# and verify with the K it picks
check model model --flag atomic --flag file --format json
check verify/auto verify --check-every auto:0.5% --workers 2 --format json "$N"

echo "valgrind: $ok passed, $failed failed, $skipped skipped ($(($(date +%s) - start)) s)"
[ "$failed" -eq 0 ]
