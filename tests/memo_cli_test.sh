#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipclab memo`: bad command lines are one-line usage errors; the first run computes and stores,
# a second run (another process) reports "from disk" with the same result; a damaged entry is
# reported and recomputed; --clear empties the cache; a directory of foreign files is refused
# and left untouched. Usage: memo_cli_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: memo_cli_test.sh PATH/TO/ipclab}
NAME=memo-cli
. "$(dirname "$0")/lib.sh"
need jq

# Never the user's real cache: every run below names its directory or sets these.
export XDG_CACHE_HOME=$work/xdg HOME=$work/home

# expect_usage ARGS...: exit 2, nothing on stdout, exactly one line on stderr naming ipclab memo.
expect_usage() {
    local rc
    "$IPCLAB" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    [ "$rc" -eq 2 ] || fail "ipclab $* exited $rc, expected 2 (stderr: $(cat "$work/err"))"
    [ ! -s "$work/out" ] || fail "ipclab $* printed on stdout: $(head -c 200 "$work/out")"
    [ "$(wc -l <"$work/err")" -eq 1 ] \
        || fail "ipclab $* printed $(wc -l <"$work/err") lines on stderr: $(cat "$work/err")"
    grep -q '^ipclab memo: ' "$work/err" \
        || fail "ipclab $*: error does not start with 'ipclab memo:': $(cat "$work/err")"
}

c=$work/cache

# --- bad command lines ------------------------------------------------------------------
expect_usage memo --n x --dir "$c"
expect_usage memo --n -1 --dir "$c"
expect_usage memo --n "" --dir "$c"
expect_usage memo --n 1e6 --dir "$c"
expect_usage memo --n 100000001 --dir "$c"
expect_usage memo --n 99999999999999999999999 --dir "$c"
expect_usage memo --n " 7" --dir "$c"
expect_usage memo --n --dir "$c"
expect_usage memo --dir "$c" --n
expect_usage memo --dir ""
expect_usage memo --dir
expect_usage memo --format xml --dir "$c"
expect_usage memo --format "" --dir "$c"
expect_usage memo --bogus --dir "$c"
expect_usage memo --dir "$c" extra
expect_usage memo --dir "$c" "$(printf 'two\nlines')"
expect_usage memo --dir "$c" --n "$(head -c 5000 /dev/zero | tr '\0' '7')"
[ ! -e "$c" ] || fail "a rejected command line created $c"

# --- help -------------------------------------------------------------------------------------
for args in "memo --help" "memo -h" "help memo"; do
    # shellcheck disable=SC2086
    out=$("$IPCLAB" $args 2>&1) || fail "ipclab $args exited non-zero"
    case "$out" in *"usage: ipclab memo"*) ;; *) fail "ipclab $args: no usage text" ;; esac
done

# --- first run computes, second run is served from disk ---------------------------------------
"$IPCLAB" memo --dir "$c" --n 100000 --format json >"$work/first.json" || fail "first run failed"
jq -e '.experiment == "memo" and .action == "call" and .function == "count_primes_below" and
    .version == 1 and .n == 100000 and .result == 9592 and .source == "computed" and
    .served_from_disk == false and .lookup == "miss" and .corrupt_reason == null and
    .stored == true and .compute_ns > 0 and .store_ns > 0 and .lookup_ns > 0 and
    .wall_ns == .lookup_ns + .compute_ns + .store_ns and .bytes == 56 and
    (.key | test("^[0-9a-f]{32}$")) and .path == .dir + "/" + .key + ".memo"' \
    "$work/first.json" >/dev/null || fail "first run: $(cat "$work/first.json")"
[ "$(wc -l <"$work/first.json")" -eq 1 ] || fail "first run printed more than one line"
entry=$(jq -r .path "$work/first.json")
[ "$(stat -c %s "$entry" 2>/dev/null)" = 56 ] || fail "no 56-byte entry at $entry"
head -1 "$c/CACHEDIR.TAG" 2>/dev/null \
    | grep -q '^Signature: 8a477f597d28d172789f06886806bc55$' || fail "the cache is not tagged"

"$IPCLAB" memo --dir "$c" --n 100000 --format json >"$work/second.json" || fail "second run failed"
jq -e --slurpfile a "$work/first.json" '.source == "disk" and .served_from_disk == true and
    .lookup == "hit" and .result == $a[0].result and .key == $a[0].key and .stored == false and
    .compute_ns == null and .store_ns == null and .wall_ns == .lookup_ns and .bytes == 56' \
    "$work/second.json" >/dev/null || fail "second run: $(cat "$work/second.json")"

"$IPCLAB" memo --dir "$c" --n 100000 >"$work/third.txt" || fail "table run failed"
grep -q '^count_primes_below(100000) = 9592, from disk in [0-9.]* ms' "$work/third.txt" \
    || fail "the table does not say 'from disk': $(cat "$work/third.txt")"

# another argument is another entry
"$IPCLAB" memo --dir "$c" --n 1000 --format json >"$work/other.json" || fail "--n 1000 failed"
jq -e --slurpfile a "$work/first.json" '.source == "computed" and .result == 168 and
    .key != $a[0].key' "$work/other.json" >/dev/null || fail "--n 1000: $(cat "$work/other.json")"
"$IPCLAB" memo --dir "$c" --n 1000 >"$work/other.txt" || fail "--n 1000 table failed"
grep -q '^count_primes_below(1000) = 168, from disk' "$work/other.txt" \
    || fail "--n 1000 second run: $(cat "$work/other.txt")"

# --- a damaged entry is reported, recomputed and replaced ------------------------------------
printf '\x5a' | dd of="$entry" bs=1 seek=50 conv=notrunc status=none
"$IPCLAB" memo --dir "$c" --n 100000 --format json >"$work/corrupt.json" \
    || fail "run on a corrupt entry failed"
jq -e '.lookup == "corrupt" and (.corrupt_reason | test("checksum")) and .source == "computed" and
    .result == 9592 and .stored == true' "$work/corrupt.json" >/dev/null \
    || fail "corrupt entry: $(cat "$work/corrupt.json")"
truncate -s 30 "$entry"
"$IPCLAB" memo --dir "$c" --n 100000 >"$work/truncated.txt" \
    || fail "run on a truncated entry failed"
grep -q 'did not verify (truncated' "$work/truncated.txt" \
    || fail "truncated entry not reported: $(cat "$work/truncated.txt")"
grep -q '^count_primes_below(100000) = 9592, computed in' "$work/truncated.txt" \
    || fail "truncated entry not recomputed: $(cat "$work/truncated.txt")"
"$IPCLAB" memo --dir "$c" --n 100000 --format json | jq -e '.source == "disk" and .result == 9592' \
    >/dev/null || fail "the replaced entry is not served from disk"

# --- --clear ------------------------------------------------------------------------------------
"$IPCLAB" memo --dir "$c" --clear >"$work/clear.txt" || fail "--clear failed"
grep -q "^cleared .*: 2 files removed$" "$work/clear.txt" \
    || fail "--clear: $(cat "$work/clear.txt")"
[ ! -e "$entry" ] || fail "--clear left the entry"
[ "$(ls -A "$c")" = CACHEDIR.TAG ] || fail "--clear left: $(ls -A "$c")"
"$IPCLAB" memo --dir "$c" --clear --format json >"$work/clear.json" || fail "--clear json failed"
jq -e '.experiment == "memo" and .action == "clear" and .removed == 0' "$work/clear.json" \
    >/dev/null || fail "--clear json: $(cat "$work/clear.json")"
"$IPCLAB" memo --dir "$c" --n 1000 --format json >/dev/null || fail "refill failed"
"$IPCLAB" memo --dir "$c" --clear --n 1000 --format json >"$work/clearcall.json" \
    || fail "--clear --n failed"
jq -e -s 'length == 2 and .[0].action == "clear" and .[0].removed == 1 and
    .[1].action == "call" and .[1].source == "computed" and .[1].result == 168' \
    "$work/clearcall.json" >/dev/null || fail "--clear --n: $(cat "$work/clearcall.json")"

# --- a directory of foreign files is refused and left as it was --------------------------------
f=$work/foreign
mkdir "$f" && echo "mine" >"$f/notes.txt"
expect_usage memo --dir "$f" --n 1000
grep -q "notes.txt" "$work/err" || fail "the refusal does not name the foreign file"
expect_usage memo --dir "$f" --clear
[ "$(ls -A "$f")" = notes.txt ] && [ "$(cat "$f/notes.txt")" = mine ] \
    || fail "the foreign directory was changed: $(ls -A "$f")"
# foreign files next to the cache's: refused too, the entries stay
echo "mine" >"$c/notes.txt"
expect_usage memo --dir "$c" --clear
[ -n "$(ls "$c"/*.memo 2>/dev/null)" ] || fail "a refused --clear removed entries"
rm "$c/notes.txt"
mkdir "$c/sub"
expect_usage memo --dir "$c" --clear
rmdir "$c/sub"
echo x >"$work/plain"
expect_usage memo --dir "$work/plain" --n 10

# --- the default directory ----------------------------------------------------------------------
"$IPCLAB" memo --n 1000 --format json >"$work/xdg.json" || fail "default dir (XDG) failed"
jq -e --arg d "$work/xdg/ipclab/memo" '.dir == $d and .source == "computed"' "$work/xdg.json" \
    >/dev/null || fail "XDG_CACHE_HOME not used: $(cat "$work/xdg.json")"
env -u XDG_CACHE_HOME "$IPCLAB" memo --n 1000 --format json >"$work/home.json" \
    || fail "default dir (HOME) failed"
jq -e --arg d "$work/home/.cache/ipclab/memo" '.dir == $d' "$work/home.json" >/dev/null \
    || fail "HOME/.cache not used: $(cat "$work/home.json")"
XDG_CACHE_HOME=relative "$IPCLAB" memo --n 1000 --format json | jq -e '.source == "disk"' \
    >/dev/null || fail "a relative XDG_CACHE_HOME was not ignored"
[ ! -e relative ] || fail "a relative XDG_CACHE_HOME created ./relative"
env -u XDG_CACHE_HOME -u HOME "$IPCLAB" memo --n 10 >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] \
    || fail "no HOME and no XDG_CACHE_HOME: exit $rc, $(cat "$work/err")"

tmp_empty || fail "left $(ls -A "$TMPDIR")"
finish
