#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab spawn`: bad command lines get one line and exit 2; short real runs give JSON Lines
# with every field, typed and consistent. Usage: spawn_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: spawn_cli_test.sh PATH/TO/ipclab}
NAME=spawn-cli
. "$(dirname "$0")/lib.sh"
need jq

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming ipclab.
expect_usage() {
    local rc err
    "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    err=$(cat "$work/err")
    [ "$rc" -eq 2 ] || fail "ipclab $* exited $rc, expected 2 (stderr: $err)"
    [ ! -s "$work/out" ] || fail "ipclab $* printed on stdout: $(head -3 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "ipclab $* printed $(wc -l <"$work/err") lines on stderr: $err"
    case "$err" in "ipclab spawn: "*) ;; *) fail "ipclab $*: error does not start with 'ipclab spawn:': $err" ;; esac
}

# --- bad command lines ------------------------------------------------------------------
expect_usage spawn
expect_usage spawn nosuchmode
expect_usage spawn "$(head -c 5000 /dev/zero | tr '\0' 'x')"
expect_usage spawn --bogus
expect_usage spawn latency extra
expect_usage spawn latency --bogus
expect_usage spawn latency --kind
expect_usage spawn latency --kind process
expect_usage spawn latency --kind ""
expect_usage spawn latency --placement nowhere
expect_usage spawn latency --samples 0
expect_usage spawn latency --samples 100001
expect_usage spawn latency --samples -5
expect_usage spawn latency --samples 1e3
expect_usage spawn latency --samples 99999999999999999999999
expect_usage spawn latency --samples ""
expect_usage spawn latency --format xml
expect_usage spawn memory extra
expect_usage spawn memory --parent-mib 4097
expect_usage spawn memory --parent-mib -1
expect_usage spawn memory --parent-mib 1.5
expect_usage spawn memory --parent-mib ""
expect_usage spawn memory --parent-mib
expect_usage spawn memory --child sleep
expect_usage spawn memory --format yaml
expect_usage spawn memory --samples 5
args=()
for _ in $(seq 17); do args+=(--parent-mib 0); done
expect_usage spawn memory "${args[@]}"

# --- help ---------------------------------------------------------------------------------
for args in "spawn --help" "spawn -h" "help spawn" "spawn latency --help" "spawn memory -h"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *usage:*smaps_rollup*reference*) ;; *) fail "ipclab $args: no full usage text" ;; esac
done

# --- latency ------------------------------------------------------------------------------
ncpus=$(nproc)
"$IPCLAB" spawn latency --samples 15 --format json >"$work/lat.json" 2>"$work/err" \
    || fail "spawn latency failed: $(cat "$work/err")"
[ ! -s "$work/err" ] || fail "spawn latency wrote on stderr: $(cat "$work/err")"
want=3; [ "$ncpus" -ge 2 ] && want=6
[ "$(wc -l <"$work/lat.json")" -eq "$want" ] \
    || fail "spawn latency printed $(wc -l <"$work/lat.json") lines, expected $want"
jq -e -s 'length > 0 and all(.[];
    .mode == "latency" and (.kind | IN("thread", "fork", "fork-exec")) and
    (.placement | IN("same-core", "other-core")) and .samples == 15 and .warmup == 3 and
    (.parent_cpu | type) == "number" and (.child_cpu | type) == "number" and
    ((.placement == "same-core") == (.parent_cpu == .child_cpu)) and
    (if .kind == "fork-exec"
     then .exec_path == "/bin/true" and .start_method == "exec-commit-seen" and .misplaced == null
     else .exec_path == null and .start_method == "child-stamp" and .misplaced == 0 end) and
    (. as $o | all(("start", "seen", "round_trip"); . as $x |
        [$o["\($x)_min_ns"], $o["\($x)_p10_ns"], $o["\($x)_median_ns"], $o["\($x)_p90_ns"],
         $o["\($x)_max_ns"]] as $v |
        ($v | all(type == "number")) and $v[0] > 0 and $v == ($v | sort) and
        $o["\($x)_mean_ns"] >= $v[0] and $o["\($x)_mean_ns"] <= $v[4])) and
    .start_median_ns <= .round_trip_median_ns and .seen_min_ns >= .start_min_ns)' \
    "$work/lat.json" >/dev/null || fail "spawn latency JSON is malformed: $(head -2 "$work/lat.json")"
# every kind, each placement once per kind, in a stable order
[ "$(jq -r -s 'map(.kind) | unique | join(",")' "$work/lat.json")" = "fork,fork-exec,thread" ] \
    || fail "spawn latency kinds: $(jq -r -s 'map(.kind) | join(",")' "$work/lat.json")"

# one kind, one placement
"$IPCLAB" spawn latency --kind thread --placement same-core --samples 5 --format json \
    >"$work/one.json" || fail "spawn latency --kind thread failed"
jq -e -s 'length == 1 and .[0].kind == "thread" and .[0].placement == "same-core" and
          .[0].samples == 5' "$work/one.json" >/dev/null || fail "one row: $(cat "$work/one.json")"
if [ "$ncpus" -ge 2 ]; then
    "$IPCLAB" spawn latency --kind fork --placement other-core --samples 5 --format json \
        >"$work/other.json" || fail "spawn latency other-core failed"
    jq -e '.placement == "other-core" and .parent_cpu != .child_cpu' "$work/other.json" >/dev/null \
        || fail "other-core row: $(cat "$work/other.json")"
fi

# the table says what it measured
"$IPCLAB" spawn latency --kind fork-exec --samples 3 >"$work/lat.txt" || fail "latency table failed"
grep -q '^# creation latency in us' "$work/lat.txt" || fail "latency table header: $(head -1 "$work/lat.txt")"
grep -q '^fork-exec  *same-core ' "$work/lat.txt" || fail "latency table row: $(cat "$work/lat.txt")"

# --- memory -------------------------------------------------------------------------------
"$IPCLAB" spawn memory --parent-mib 0 --parent-mib 32 --format json >"$work/mem.json" 2>"$work/err" \
    || fail "spawn memory failed: $(cat "$work/err")"
[ "$(wc -l <"$work/mem.json")" -eq 6 ] || fail "spawn memory printed $(wc -l <"$work/mem.json") lines, expected 6"
jq -e -s 'all(.[];
    .mode == "memory" and (.parent_mib | IN(0, 32)) and (.child | IN("idle", "read", "write")) and
    .page_size > 0 and .touch_ns > 0 and (.note | test("reference count")) and
    (. as $o | all("child_rss_kib", "child_pss_kib", "child_uss_kib", "child_shared_kib",
                   "child_pte_kib", "parent_rss_kib", "parent_pss_kib", "parent_uss_kib",
                   "parent_pte_kib"; ($o[.] | type) == "number" and $o[.] >= 0)) and
    .child_uss_kib <= .child_pss_kib and .child_pss_kib <= .child_rss_kib and
    .child_rss_kib >= .parent_mib * 1024)' "$work/mem.json" >/dev/null \
    || fail "spawn memory JSON is malformed: $(jq -c 'del(.note)' "$work/mem.json" | head -2)"
# copy-on-write: a writer owns its 32 MiB, a reader shares them
jq -e -s '(map(select(.parent_mib == 32 and .child == "write"))[0].child_uss_kib >= 32768) and
          (map(select(.parent_mib == 32 and .child == "read"))[0].child_uss_kib < 8192)' \
    "$work/mem.json" >/dev/null || fail "copy-on-write not visible: $(jq -c 'del(.note)' "$work/mem.json")"

"$IPCLAB" spawn memory --parent-mib 8 --child read >"$work/mem.txt" || fail "memory table failed"
[ "$(grep -c '^ *8 read ' "$work/mem.txt")" -eq 1 ] || fail "memory table rows: $(cat "$work/mem.txt")"
grep -q '^# .*reference count' "$work/mem.txt" || fail "memory table has no note"

# a reader that went away stops the run, as a SIGPIPE death
"$IPCLAB" spawn memory --parent-mib 0 --parent-mib 0 --parent-mib 0 | head -1 >/dev/null
st=("${PIPESTATUS[@]}")
[ "${st[0]}" -eq 141 ] || [ "${st[0]}" -eq 0 ] || fail "spawn memory | head: exit ${st[0]}"

finish
