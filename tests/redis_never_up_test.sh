#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A Redis server that never comes up, every way ipclab can meet one:
#  (a) ipclab's own server finds its port taken: it retries on another port (a stand-in
#      redis-server takes the port it is given before the real one starts, so the real one's
#      bind fails) and gives up with one line after 5 attempts; a server given with
#      --redis-host/--redis-port that is not Redis (a listener that never answers, one that
#      answers HTTP, nothing listening) is one line, exit 1, in bounded time;
#  (b) an unusable socket path (--redis-socket to a missing dir, a regular file, a directory,
#      a path over 107 bytes) and a TMPDIR where ipclab cannot make its server's directory
#      (missing, a file, not writable, so deep that the socket path is too long);
#  (c) a redis-server earlier in PATH that exits at once, or says why in its log and exits, or
#      hangs without listening and ignores SIGTERM: reported within the start timeout (5 s),
#      the hanging one killed.
# Each: exit 1, nothing on stdout but a table header, one line on stderr, no process and no
# file left. Usage: redis_never_up_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: redis_never_up_test.sh PATH/TO/ipclab}
NAME=redis-never-up
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, as the plots use: no virtualenv between the test and it
need redis-server jq pgrep timeout "$PY"
REAL=$(command -v redis-server)
TESTTMP=$TMPDIR # a case may run with another TMPDIR; what it leaves is looked for in both

# ours: processes other than this shell with this test's TMPDIR or the one of the case running
# (ipclab, redis-server, the hanging stand-in)
ours() {
    local p pid comm
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        { [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ]; } && continue
        read -r comm 2>/dev/null <"$p/comm" || continue
        case "$comm" in ipclab | redis-server | sleep) ;; *) continue ;; esac
        grep -qzxF -e "TMPDIR=$TESTTMP" -e "TMPDIR=$TMPDIR" "$p/environ" 2>/dev/null || continue
        echo "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")(pid $pid)"
    done
}

cases=0
# expect_fail LABEL SECONDS WORD CMD...: exit 1 within SECONDS, one line on stderr containing
# WORD, on stdout at most a table header (lines starting with '#' or a column heading), and
# afterwards no process and nothing in TMPDIR (also when TMPDIR was overridden for the run).
expect_fail() {
    local label=$1 limit=$2 word=$3 start ms left
    shift 3
    cases=$((cases + 1))
    start=$(date +%s%N)
    timeout -s KILL $((limit + 5)) "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    [ "$rc" -eq 1 ] || fail "$label: exit $rc, expected 1: $(cat "$work/err")"
    [ "$ms" -le $((limit * 1000)) ] || fail "$label: took $ms ms, more than $limit s"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$label: expected one line on stderr: $(cat "$work/err")"
    grep -qF -- "$word" "$work/err" || fail "$label: the error does not say '$word': $(cat "$work/err")"
    if grep -qv '^#\|^transport \|^client ' "$work/out"; then
        fail "$label: printed results: $(head -3 "$work/out")"
    fi
    for _ in $(seq 50); do
        left=$(ours)
        [ -z "$left" ] && break
        sleep 0.02
    done
    [ -z "$left" ] || fail "$label: left running: $left"
    [ -z "$(ls -A "$TESTTMP")" ] || fail "$label: left in TMPDIR: $(ls -A "$TESTTMP")"
    echo "$label: ${ms} ms: $(cat "$work/err")"
}

# --- (a) the port ------------------------------------------------------------------------------
# A stand-in redis-server that binds the port it was given on its first $TAKE starts and then
# execs the real one, which inherits the socket: the real server's own bind fails with
# "Address already in use", exactly as when another process takes the port meanwhile.
mkdir "$work/taker"
cat >"$work/taker/redis-server" <<EOF
#!$PY
import os, socket, sys
count = os.environ["STARTS_FILE"]
n = int(open(count).read()) if os.path.exists(count) else 0
open(count, "w").write(str(n + 1))
if n < int(os.environ["TAKE"]):
    port = int(sys.argv[sys.argv.index("--port") + 1])
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen()
    s.set_inheritable(True)
os.execv("$REAL", sys.argv)
EOF
chmod +x "$work/taker/redis-server"
starts=$work/starts
for cmd in "verify --flag redis-tcp --format json 1000000007" \
           "find-primes -t redis --n 1000 --workers 2 --format json"; do
    rm -f "$starts"
    cases=$((cases + 1))
    # shellcheck disable=SC2086
    STARTS_FILE=$starts TAKE=2 PATH="$work/taker:$PATH" timeout -s KILL 20 "$IPCLAB" $cmd \
        >"$work/out" 2>"$work/err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$cmd with its first two ports taken: exit $rc: $(cat "$work/err")"
    [ "$(cat "$starts" 2>/dev/null)" = 3 ] \
        || fail "$cmd: redis-server started $(cat "$starts" 2>/dev/null) times, expected 3"
    jq -e '.prime == true or .primes == 168' "$work/out" >/dev/null \
        || fail "$cmd: wrong result on the third port: $(cat "$work/out")"
    tmp_empty || fail "$cmd: left in TMPDIR: $(ls -A "$TMPDIR")"
    echo "port taken twice, then free: $cmd: ok after $(cat "$starts" 2>/dev/null) starts"
done
rm -f "$starts"
STARTS_FILE=$starts TAKE=1000 PATH="$work/taker:$PATH" \
    expect_fail "every port taken" 10 "5 free ports in a row were taken" \
    "$IPCLAB" verify --flag redis-tcp 7
[ "$(cat "$starts" 2>/dev/null)" = 5 ] || fail "every port taken: $(cat "$starts") starts, expected 5"

# A given server that is not Redis.
# listener MODE: a listener on a free port of 127.0.0.1 in the background; sets $port, $holder.
# silent: accepts (the kernel's backlog) and never answers; http: answers every connection
# with an HTTP error and closes it.
listener() {
    "$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    if sys.argv[1] == "silent":
        time.sleep(1)
    else:
        c, _ = s.accept()
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        c.close()
' "$1" >"$work/port" &
    holder=$!
    port=
    for _ in $(seq 100); do
        port=$(cat "$work/port")
        [ -n "$port" ] && break
        sleep 0.02
    done
}
listener silent
expect_fail "--redis-port $port: a listener that never answers" 10 "redis-tcp" \
    "$IPCLAB" verify --flag redis-tcp --redis-host 127.0.0.1 --redis-port "$port" 7
kill "$holder"; wait "$holder" 2>/dev/null
listener http
expect_fail "--redis-port $port: an HTTP server" 3 "redis-tcp" \
    "$IPCLAB" verify --flag redis-tcp --redis-host 127.0.0.1 --redis-port "$port" 7
expect_fail "redis-bench --redis-port $port: an HTTP server" 3 "$port" \
    "$IPCLAB" redis-bench --redis-host 127.0.0.1 --redis-port "$port" -n 100 --client ipclab
kill "$holder"; wait "$holder" 2>/dev/null
# the port is free again: nobody listens
expect_fail "--redis-port $port: nothing listening" 3 "$port" \
    "$IPCLAB" verify --flag redis-tcp --redis-host 127.0.0.1 --redis-port "$port" 7
expect_fail "redis-bench --redis-port $port: nothing listening" 3 "$port" \
    "$IPCLAB" redis-bench --redis-host 127.0.0.1 --redis-port "$port" -n 100 --client ipclab

# --- (b) unusable paths --------------------------------------------------------------------------
echo x >"$work/plain"
mkdir "$work/adir"
long=$work/$(head -c 110 /dev/zero | tr '\0' 's')
for sock in /nonexistent/dir/sock "$work/plain" "$work/adir" "$long"; do
    shown=$(basename "$sock")
    [ "$sock" = "$long" ] && shown=${sock:0:30} # the message may shorten a long path
    expect_fail "verify --redis-socket ${sock:0:50}" 3 "$shown" \
        "$IPCLAB" verify --flag redis-unix --redis-socket "$sock" 7
    expect_fail "queue run --redis-socket ${sock:0:50}" 3 "$shown" \
        "$IPCLAB" queue run -t redis --redis-socket "$sock" --jobs 10 --format json
    expect_fail "redis-bench --redis-socket ${sock:0:50}" 3 "$shown" \
        "$IPCLAB" redis-bench --redis-socket "$sock" -n 100 --client ipclab
done
[ "$(cat "$work/plain")" = x ] && [ -z "$(ls -A "$work/adir")" ] || fail "a socket path was written to"

# TMPDIR where ipclab cannot make its server's private directory, or where the socket path in
# it would be too long (the directory made is removed again).
pad=$((90 - ${#work}))
[ "$pad" -ge 1 ] || pad=1
deep=$work/$(head -c "$pad" /dev/zero | tr '\0' 'd') # + /ipclab-XXXXXX/redis.sock > 107 bytes
mkdir "$deep"
bad_tmpdirs="$work/missing $work/plain /proc/self $deep"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$work/readonly" && chmod 0500 "$work/readonly"
    bad_tmpdirs+=" $work/readonly"
fi
for t in $bad_tmpdirs; do
    for cmd in "verify --flag redis-unix 7" "find-primes -t redis --n 100" \
               "queue run -t redis --jobs 10 --format json" "redis-bench -n 100 --client ipclab"; do
        # shellcheck disable=SC2086
        TMPDIR=$t expect_fail "TMPDIR=${t:0:40}: ${cmd%% *}" 3 "redis-server" "$IPCLAB" $cmd
        [ "$t" = "$deep" ] && { [ -z "$(ls -A "$deep")" ] || fail "left in $deep: $(ls -A "$deep")"; }
    done
done
rmdir "$deep"
[ ! -e "$work/missing" ] || fail "a missing TMPDIR was created"

# --- (c) a redis-server that fails or hangs ------------------------------------------------------
mkdir "$work/exits" "$work/says" "$work/hangs"
printf '#!/bin/sh\nexit 1\n' >"$work/exits/redis-server"
# like a real server refusing its configuration: the reason in its log, then exit 1
cat >"$work/says/redis-server" <<'EOF'
#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = --logfile ] && log=$2; shift; done
echo "4242:C 01 Jan 2026 00:00:00.000 # Fatal error, can't open config file 'nowhere.conf'" >>"$log"
exit 1
EOF
# never listens, ignores SIGTERM: only SIGKILL ends it
printf '#!/bin/bash\ntrap "" TERM\nexec sleep 600\n' >"$work/hangs/redis-server"
chmod +x "$work/exits/redis-server" "$work/says/redis-server" "$work/hangs/redis-server"
for cmd in "verify --flag redis-unix 7" "find-primes -t redis --n 100" \
           "queue run -t redis --jobs 10 --format json" "redis-bench -n 100 --client ipclab"; do
    # shellcheck disable=SC2086
    PATH="$work/exits:$PATH" expect_fail "exits at once: ${cmd%% *}" 3 "exited with status 1" \
        "$IPCLAB" $cmd
done
PATH="$work/says:$PATH" expect_fail "says why and exits" 3 "can't open config file 'nowhere.conf'" \
    "$IPCLAB" verify --flag redis-tcp 7
# start timeout 5 s, then SIGTERM, a second's grace and SIGKILL
PATH="$work/hangs:$PATH" expect_fail "hangs, ignoring SIGTERM" 8 "did not answer PING" \
    "$IPCLAB" verify --flag redis-unix 7

echo "redis-never-up: $cases cases"
finish
