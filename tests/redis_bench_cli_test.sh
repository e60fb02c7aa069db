#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab redis-bench`: bad input gets one line and exit 2; runs with each client give JSON with
# every field; a missing redis-benchmark or redis-server is one clear line; an existing server
# is used as given; Ctrl-C leaves no server, no redis-benchmark and no file behind.
# Usage: redis_bench_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: redis_bench_cli_test.sh PATH/TO/ipclab}
NAME=redis-bench-cli
. "$(dirname "$0")/lib.sh"
need jq

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming the command.
expect_usage() {
    local rc
    "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    [ "$rc" -eq 2 ] || fail "ipclab $* exited $rc, expected 2 (stderr: $(cat "$work/err"))"
    [ ! -s "$work/out" ] || fail "ipclab $* printed on stdout: $(head -3 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "ipclab $* printed $(wc -l <"$work/err") lines on stderr: $(cat "$work/err")"
    case "$(cat "$work/err")" in "ipclab redis-bench: "*) ;; *) fail "ipclab $*: error does not start with 'ipclab redis-bench: ': $(cat "$work/err")" ;; esac
}

# expect_usage_says WORD ARGS...: as expect_usage, and the line names WORD (the bad value).
expect_usage_says() {
    local word=$1
    shift
    expect_usage "$@"
    grep -qF -- "$word" "$work/err" || fail "ipclab $*: error does not name '$word': $(cat "$work/err")"
}

# --- bad command lines: all refused before any server starts -----------------------------------
expect_usage_says nope redis-bench --transport nope
expect_usage redis-bench -t ""
expect_usage redis-bench -t "$(printf 'un\nix')"
expect_usage_says 0 redis-bench -P 0
expect_usage_says 65537 redis-bench --pipeline 65537
expect_usage_says x redis-bench -P x
expect_usage_says 0 redis-bench -c 0
expect_usage_says 1025 redis-bench --clients 1025
expect_usage_says 0 redis-bench -n 0
expect_usage_says 1000000001 redis-bench --requests 1000000001
expect_usage_says 1e3 redis-bench -n 1e3
expect_usage_says -5 redis-bench -n -5
expect_usage_says 0 redis-bench --seconds 0
expect_usage_says abc redis-bench --seconds abc
expect_usage_says 1.2.3 redis-bench --seconds 1.2.3
expect_usage_says 3601 redis-bench --seconds 3601
expect_usage_says -1 redis-bench --seconds -1
expect_usage_says 1e1 redis-bench --seconds 1e1
expect_usage redis-bench -n 100 --seconds 1
expect_usage_says del redis-bench --op del
expect_usage_says GET redis-bench --op GET
expect_usage_says redis redis-bench --client redis
expect_usage_says 99999 redis-bench --server-cpu 99999
expect_usage_says -1 redis-bench --client-cpu -1
expect_usage redis-bench --no-pin --client-cpu 0
expect_usage redis-bench --no-pin --server-cpu 0
expect_usage redis-bench --redis-socket ""
expect_usage redis-bench --redis-host ""
expect_usage_says 0 redis-bench --redis-port 0
expect_usage_says 65536 redis-bench --redis-port 65536
expect_usage redis-bench --redis-socket /nonexistent.sock --server-cpu 0
expect_usage redis-bench --redis-socket /nonexistent.sock -t tcp
expect_usage redis-bench --redis-port 6380 -t unix
expect_usage_says 0 redis-bench -r 0
expect_usage_says 10001 redis-bench --repeat 10001
expect_usage_says xml redis-bench --format xml
expect_usage_says --bogus redis-bench --bogus
expect_usage_says extra redis-bench extra
expect_usage_says -P redis-bench -P
expect_usage redis-bench "$(head -c 5000 /dev/zero | tr '\0' 'x')"
[ "$(wc -c <"$work/err")" -lt 300 ] || fail "a 5000-byte argument was echoed whole"

# --- help --------------------------------------------------------------------------------------
FIELDS="client transport op pipeline clients requests wall_ns rps mean_us p50_us p99_us client_cpu server_cpu placement run"
for args in "redis-bench --help" "redis-bench -h" "help redis-bench"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab redis-bench"*) ;; *) fail "ipclab $args: no usage text" ;; esac
    for f in $FIELDS; do
        case "$out" in *"$f"*) ;; *) fail "ipclab $args does not describe field $f" ;; esac
    done
done
"$IPCLAB" --help | grep -q "redis-bench" || fail "ipclab --help does not list redis-bench"

if ! command -v redis-server >/dev/null; then
    echo "skip: redis-server is not installed: only the command line was tested"
    [ "$failures" -eq 0 ] || finish
    exit 77
fi
have_rb=1
command -v redis-benchmark >/dev/null || { have_rb=0; echo "note: no redis-benchmark: its runs are not tested"; }
ncpu=$(nproc)

# check_json FILE CLIENT N P C PLACEMENT: one line per transport, every field, nothing else.
check_json() {
    local file=$1 client=$2 n=$3 p=$4 c=$5 placement=$6
    jq -e -s --arg cl "$client" --argjson n "$n" --argjson p "$p" --argjson c "$c" \
        --arg pl "$placement" --arg fields "$FIELDS" '
        length == 2 and (map(.transport) == ["unix", "tcp"]) and
        all(.[]; (keys_unsorted | join(" ")) == $fields and
            .client == $cl and .op == "get" and .pipeline == $p and .clients == $c and
            .requests == $n and .wall_ns > 0 and .rps > 0 and .mean_us > 0 and .p50_us > 0 and
            .p50_us <= .p99_us and (.client_cpu | type) == "number" and
            (.server_cpu | type) == "number" and .placement == $pl and .run == 1 and
            ((.requests / .wall_ns * 1e9 - .rps) | fabs) < .rps * 1e-3)' "$file" >/dev/null
}

placement=same-core
[ "$ncpu" -ge 2 ] && placement=other-core
clients="ipclab"
[ "$have_rb" -eq 1 ] && clients="ipclab redis-benchmark"
for client in $clients; do
    "$IPCLAB" redis-bench --client "$client" -P 4 -c 2 -n 20000 --format json \
        >"$work/run.json" 2>"$work/err" || fail "redis-bench --client $client failed: $(cat "$work/err")"
    [ ! -s "$work/err" ] || fail "redis-bench --client $client wrote on stderr: $(cat "$work/err")"
    check_json "$work/run.json" "$client" 20000 4 2 "$placement" \
        || fail "redis-bench --client $client: $(cat "$work/run.json")"
    if [ "$placement" = other-core ]; then
        jq -e -s 'all(.[]; .client_cpu != .server_cpu)' "$work/run.json" >/dev/null \
            || fail "other-core, but client and server on one CPU: $(cat "$work/run.json")"
    fi
done

# both clients, sized by --seconds, the table with the comparison lines, set and incr
if [ "$have_rb" -eq 1 ]; then
    "$IPCLAB" redis-bench --seconds 0.05 -P 16 >"$work/table.txt" 2>"$work/err" \
        || fail "redis-bench (both, sized) failed: $(cat "$work/err")"
    grep -q '^# redis-bench: GET, pipeline 16, 1 client; requests per run: unix [0-9]* tcp [0-9]* (sized for 0.05 s)' \
        "$work/table.txt" || fail "table header: $(head -2 "$work/table.txt")"
    [ "$(grep -Ec '^(ipclab|redis-benchmark) +(unix|tcp) +1 ' "$work/table.txt")" -eq 4 ] \
        || fail "table rows: $(cat "$work/table.txt")"
    grep -q "^# unix, run 1: ipclab's rps is [0-9.]* of redis-benchmark's" "$work/table.txt" \
        || fail "no ipclab/redis-benchmark line: $(cat "$work/table.txt")"
    grep -q '^# unix / tcp (rps): ipclab [0-9.]* redis-benchmark [0-9.]*' "$work/table.txt" \
        || fail "no unix/tcp line: $(cat "$work/table.txt")"
    for op in set incr; do
        "$IPCLAB" redis-bench --op $op -t tcp -n 10000 -P 8 --format json -r 2 >"$work/op.json" \
            2>"$work/err" || fail "redis-bench --op $op failed: $(cat "$work/err")"
        jq -e -s --arg op $op 'length == 4 and all(.[]; .op == $op and .requests == 10000) and
            (map(.run) == [1, 1, 2, 2]) and (map(.client) | unique) == ["ipclab", "redis-benchmark"]' \
            "$work/op.json" >/dev/null || fail "redis-bench --op $op: $(cat "$work/op.json")"
    done
fi

# sized by --seconds: a multiple of C x P, at least max(4 C P, 5000)
"$IPCLAB" redis-bench --client ipclab -t unix -c 3 -P 7 --seconds 0.05 --format json \
    >"$work/sized.json" || fail "redis-bench --seconds failed"
jq -e '.requests % 21 == 0 and .requests >= 5000' "$work/sized.json" >/dev/null \
    || fail "sized run: $(cat "$work/sized.json")"
# unpinned; pinned by hand to one CPU
"$IPCLAB" redis-bench --client ipclab -t unix -n 3000 --no-pin --format json >"$work/np.json" \
    || fail "redis-bench --no-pin failed"
jq -e '.placement == "unpinned"' "$work/np.json" >/dev/null || fail "--no-pin: $(cat "$work/np.json")"
cpu=$(jq -r '.client_cpu' "$work/run.json" | head -1)
"$IPCLAB" redis-bench --client ipclab -t tcp -n 3000 --client-cpu "$cpu" --server-cpu "$cpu" \
    --format json >"$work/same.json" || fail "redis-bench same CPU failed"
jq -e --argjson c "$cpu" '.placement == "same-core" and .client_cpu == $c and .server_cpu == $c' \
    "$work/same.json" >/dev/null || fail "same CPU: $(cat "$work/same.json")"

# --- an existing server ------------------------------------------------------------------------
redis-server --port 0 --unixsocket "$work/own.sock" --save "" --appendonly no \
    --dir "$work" --daemonize no >/dev/null 2>&1 &
ext=$!
for _ in $(seq 100); do [ -S "$work/own.sock" ] && break; sleep 0.05; done
"$IPCLAB" redis-bench --redis-socket "$work/own.sock" --client ipclab -n 2000 --format json \
    >"$work/ext.json" 2>"$work/err" || fail "redis-bench on an existing server: $(cat "$work/err")"
jq -e -s 'length == 1 and .[0].transport == "unix" and .[0].placement == "unpinned" and
    .[0].server_cpu == null and .[0].requests == 2000' "$work/ext.json" >/dev/null \
    || fail "existing server: $(cat "$work/ext.json")"
kill "$ext"
wait "$ext" 2>/dev/null
# nobody listening: a runtime error, one line
"$IPCLAB" redis-bench --redis-socket "$work/own.sock" --client ipclab -n 100 >/dev/null \
    2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] \
    || fail "a dead server: exit $rc, stderr $(cat "$work/err")"

# --- missing programs --------------------------------------------------------------------------
mkdir "$work/bin" "$work/empty"
ln -s "$(command -v redis-server)" "$work/bin/redis-server"
PATH="$work/bin" "$IPCLAB" redis-bench -t unix -n 2000 --format json >"$work/one.json" \
    2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] || fail "--client both without redis-benchmark exited $rc: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "redis-tools" "$work/err" \
    || fail "--client both without redis-benchmark: stderr $(cat "$work/err")"
jq -e -s 'length == 1 and .[0].client == "ipclab"' "$work/one.json" >/dev/null \
    || fail "--client both without redis-benchmark: $(cat "$work/one.json")"
PATH="$work/bin" "$IPCLAB" redis-bench --client redis-benchmark -n 2000 >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] && [ ! -s "$work/out" ] && [ "$(wc -l <"$work/err")" -eq 1 ] \
    && grep -q "redis-benchmark not found (Debian package redis-tools)" "$work/err" \
    || fail "--client redis-benchmark without it: exit $rc, $(cat "$work/err")"
PATH="$work/empty" "$IPCLAB" redis-bench -n 2000 >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] && [ ! -s "$work/out" ] && [ "$(wc -l <"$work/err")" -eq 1 ] \
    && grep -q "redis-server not found" "$work/err" \
    || fail "without redis-server: exit $rc, $(cat "$work/err")"

# --- Ctrl-C and kill: nothing left running, nothing left on disk --------------------------------
# ours: a process of this test's TMPDIR (ipclab, its redis-server, its redis-benchmark)
ours() {
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "TMPDIR=$TMPDIR"; then
            case "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" in
            *redis*) echo "${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" ;;
            esac
        fi
    done
}
set -m # job control: a background job gets a default SIGINT, as at a terminal
interrupt() { # SIG CHILD-NAME ARGS...: interrupt once CHILD-NAME runs under ipclab
    local sig=$1 child=$2
    shift 2
    "$IPCLAB" redis-bench "$@" >/dev/null 2>&1 &
    local pid=$! seen=0
    for _ in $(seq 200); do
        pgrep -P "$pid" -x "$child" >/dev/null && { seen=1; break; }
        sleep 0.05
    done
    [ "$seen" -eq 1 ] || fail "SIG$sig: $child never started under ipclab redis-bench $*"
    sleep 0.3
    kill -"$sig" "$pid"
    wait "$pid" 2>/dev/null
    local rc=$?
    [ "$rc" -eq $((128 + $(kill -l "$sig"))) ] || fail "redis-bench $* after SIG$sig exited $rc"
    sleep 0.2
    local left
    left=$(ours)
    [ -z "$left" ] || fail "left running after SIG$sig: $left"
    tmp_empty || fail "left in TMPDIR after SIG$sig: $(ls -A "$TMPDIR")"
}
interrupt INT redis-server --client ipclab -t unix -n 100000000
interrupt TERM redis-server --client ipclab -t tcp -n 100000000
if [ "$have_rb" -eq 1 ]; then
    interrupt INT redis-benchmark --client redis-benchmark -t unix -n 100000000
    interrupt TERM redis-benchmark --client redis-benchmark -t tcp -n 100000000
fi
set +m

tmp_empty || fail "left in TMPDIR: $(ls -A "$TMPDIR")"
finish
