#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs after every other test: the suite left nothing behind. Every test ran with TMPDIR under
# DIR, so anything it created (temp dirs, sockets, flag files) lies there, and every process
# it started (workers, manager servers, redis-servers) carries that TMPDIR in its
# environment. Usage: leftovers_test.sh DIR
set -u
dir=${1:?usage: leftovers_test.sh DIR}
[ -d "$dir" ] || { echo "skip: $dir does not exist (the suite did not run)"; exit 77; }
bad=0

left=$(ls -A "$dir")
if [ -n "$left" ]; then
    echo "FAIL: left in $dir:" >&2
    ls -la "$dir" >&2
    bad=1
fi

for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = $$ ] && continue
    if tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -q "^TMPDIR=$dir\(/.*\)\{0,1\}$"; then
        echo "FAIL: process left running: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) (pid $pid)" >&2
        bad=1
    fi
done

[ "$bad" -eq 0 ] || exit 1
echo "leftovers: none"
