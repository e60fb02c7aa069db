# SPDX-License-Identifier: MIT
# Shared by the shell tests: requirements, failure counting, a private work dir. Source it
# after setting NAME; then `finish` ends the test with the right status.

# need CMD...: skip (exit 77) unless every command exists
need() {
    for c in "$@"; do
        command -v "$c" >/dev/null || { echo "skip: $c is not installed (scripts/deps.sh installs it)"; exit 77; }
    done
}

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# A private work dir under the suite's TMPDIR, with TMPDIR/ipclab's files in $work/tmp; on
# exit any child still running is killed and the dir removed.
work=$(mktemp -d "${TMPDIR:-/tmp}/ipclab-$NAME-XXXXXX")
trap 'pkill -KILL -P $$ 2>/dev/null; rm -rf "$work"' EXIT
export TMPDIR=$work/tmp
mkdir "$TMPDIR"

# The largest prime below 2^64: 2^31 candidates, seconds of work, long enough to interrupt.
BIG=18446744073709551557

tmp_empty() { [ -z "$(ls -A "$TMPDIR")" ]; }

finish() {
    [ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
    echo "$NAME: all passed"
    exit 0
}
