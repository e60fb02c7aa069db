#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad command lines for every subcommand `ipclab --help` lists, in one table: each must exit 2
# within 5 s, print nothing on stdout and exactly one line on stderr that names the bad value,
# and never crash. A few unusable paths, which ipclab finds only when it uses them, are runtime
# errors (exit 1) under the same rules. Usage: bad_input_test.sh PATH/TO/ipclab
set -u
IPCLAB=${1:?usage: bad_input_test.sh PATH/TO/ipclab}
NAME=bad-input
. "$(dirname "$0")/lib.sh"
need timeout

# Never the user's memo cache, never a path outside the work dir.
export XDG_CACHE_HOME=$work/xdg HOME=$work/home
C=$work/cache                                      # a memo dir that does not exist yet
F=$work/plain && echo x >"$F"                      # a regular file
D=$work/foreign && mkdir "$D" && echo x >"$D/notes" # a dir of files the memo cache did not make
M=$work/missing                                    # a path that does not exist
LONG=$(head -c 5000 /dev/zero | tr '\0' 'x')       # a 5000-byte word: the message quotes 40

# Each line: the exit status, a word the error must contain (taken literally; the bad value or,
# for a missing or empty value, the option), then the command line in shell words ($C, $F, $D,
# $M and $LONG expand). 2^64 = 18446744073709551616.
table=$(cat <<'EOF'
2 command              ''
2 nosuchcommand        nosuchcommand
2 --bogus              --bogus
2 nosuchcommand        help nosuchcommand

2 abc                  verify abc
2 -5                   verify -- -5
2 18446744073709551616 verify 18446744073709551616
2 99999999999999999999999 verify 99999999999999999999999
2 empty                verify ''
2 abc                  verify 7 abc
2 abc                  verify --workers abc 7
2 -1                   verify --workers -1 7
2 '0'                  verify --workers 0 7
2 100000               verify --workers 100000 7
2 18446744073709551616 verify --workers 18446744073709551616 7
2 --workers            verify --workers '' 7
2 '0'                  verify --check-every 0 7
2 -1                   verify --check-every -1 7
2 99999999999999999999999 verify --check-every 99999999999999999999999 7
2 x                    verify --serial-cutoff x 7
2 18446744073709551616 verify --serial-cutoff 18446744073709551616 7
2 '0'                  verify --repeat 0 7
2 nope                 verify --strategy nope 7
2 "''"                 verify --strategy '' 7
2 nope                 verify --flag nope 7
2 "''"                 verify --flag '' 7
2 xml                  verify --format xml 7
2 100000               verify --server-cpu 100000 7
2 abc                  verify --server-cpu abc 7
2 '0'                  verify --flag redis-tcp --redis-port 0 7
2 65536                verify --flag redis-tcp --redis-port 65536 7
2 18446744073709551616 verify --flag redis-tcp --redis-port 18446744073709551616 7
2 --redis-socket       verify --flag redis-unix --redis-socket '' 7
2 --redis-host         verify --flag redis-tcp --redis-host '' 7
2 --tmpdir             verify --tmpdir '' 7
2 --book               verify --book 7
2 --workers            verify 7 --workers
2 --flag               verify 7 --flag
2 --bogus              verify --bogus 7
2 -x                   verify -x 7
2 auto:abc             verify --check-every auto:abc 7
2 0%                   verify --check-every auto:0% 7
2 150%                 verify --check-every auto:150% 7
2 autox                verify --check-every autox 7
2 --check-every        verify --check-every auto: 7
2 --calibration        verify --calibration '' -k auto 7
2 --calibration        verify --calibration $F 7
2 missing              verify -k auto --calibration $M 7
2 plain                verify -k auto --calibration $F 7

2 nope                 model --flag nope
2 none                 model --flag none
2 "''"                 model --flag ''
2 0%                   model --target 0%
2 abc                  model --target abc
2 101%                 model --target 101%
2 --target             model --target ''
2 -1                   model --number -1
2 18446744073709551616 model --number 18446744073709551616
2 '0'                  model --workers 0
2 100000               model --workers 100000
2 xml                  model --format xml
2 100000               model --server-cpu 100000
2 --tmpdir             model --tmpdir ''
2 --calibration        model --calibration ''
2 missing              model --calibration $M
2 plain                model --calibration $F
2 foreign              model --calibration $D
2 stray                model stray
2 --bogus              model --bogus
2 -x                   model -x
2 --flag               model --flag

2 '0'                  pi --workers 0
2 100000               pi --workers 100000
2 -1                   pi --workers -1
2 abc                  pi --workers abc
2 18446744073709551616 pi --workers 18446744073709551616
2 --workers            pi --workers ''
2 '0'                  pi --samples 0
2 99999999999999999999999 pi --samples 99999999999999999999999
2 1e6                  pi --samples 1e6
2 nope                 pi --mode nope
2 '0'                  pi --repeat 0
2 18446744073709551616 pi --seed 18446744073709551616
2 -1                   pi --seed -1
2 '0'                  pi --mode gil-threads --gil-interval 0
2 xml                  pi --format xml
2 --samples            pi --samples
2 extra                pi extra
2 --bogus              pi --bogus

2 '0'                  counter --workers 0
2 100000               counter --workers 100000
2 -1                   counter --workers -1
2 99999999999999999999999 counter --workers 99999999999999999999999
2 --workers            counter --workers ''
2 '0'                  counter --increments 0
2 18446744073709551616 counter --increments 18446744073709551616
2 abc                  counter --increments abc
2 nope                 counter --variant nope
2 '0'                  counter --repeat 0
2 xml                  counter --format xml
2 --workers            counter --workers
2 extra                counter extra
2 --bogus              counter --bogus

2 nope                 find-primes --transport nope
2 "''"                 find-primes --transport ''
2 abc                  find-primes --n abc
2 -1                   find-primes --n -1
2 18446744073709551616 find-primes --n 18446744073709551616
2 --n                  find-primes --n ''
2 '0'                  find-primes --job-size 0
2 '0'                  find-primes --workers 0
2 100000               find-primes --workers 100000
2 99999999999999999999999 find-primes --workers 99999999999999999999999
2 '0'                  find-primes --repeat 0
2 xml                  find-primes --format xml
2 --tmpdir             find-primes --tmpdir ''
2 --n                  find-primes --n
2 extra                find-primes extra
2 --bogus              find-primes --bogus

2 xml                  flags --format xml
2 "''"                 flags --format ''
2 --format             flags --format
2 extra                flags extra
2 --bogus              flags --bogus

2 abc                  memo --dir "$C" --n abc
2 -1                   memo --dir "$C" --n -1
2 18446744073709551616 memo --dir "$C" --n 18446744073709551616
2 99999999999999999999999 memo --dir "$C" --n 99999999999999999999999
2 --n                  memo --dir "$C" --n ''
2 --dir                memo --dir '' --n 10
2 plain                memo --dir "$F" --n 10
2 notes                memo --dir "$D" --n 10
2 notes                memo --dir "$D" --clear
2 xml                  memo --dir "$C" --format xml
2 --dir                memo --n 10 --dir
2 --n                  memo --dir "$C" --n
2 extra                memo --dir "$C" extra
2 --bogus              memo --dir "$C" --bogus

2 nope                 payload --way nope
2 '0'                  payload --size 0
2 abc                  payload --size abc
2 -5                   payload --size -5
2 18446744073709551616 payload --size 18446744073709551616
2 --size               payload --size ''
2 '0'                  payload --size-mib 0
2 100000               payload --size-mib 100000
2 '0'                  payload --workers 0
2 100000               payload --workers 100000
2 '0'                  payload --repeat 0
2 '0'                  payload --rounds 0
2 18446744073709551616 payload --seed 18446744073709551616
2 -1                   payload --seed -1
2 --tmpdir             payload --tmpdir ''
2 xml                  payload --format xml
2 --way                payload --way
2 extra                payload extra
2 --bogus              payload --bogus

2 mode                 queue
2 nosuchmode           queue nosuchmode
2 "''"                 queue ''
2 nope                 queue run --transport nope
2 "''"                 queue run --transport ''
2 '0'                  queue run --workers 0
2 100000               queue run --workers 100000
2 abc                  queue run --workers abc
2 -1                   queue run --workers -1
2 '0'                  queue run --jobs 0
2 18446744073709551616 queue run --jobs 18446744073709551616
2 99999999999999999999999 queue run --jobs 99999999999999999999999
2 '0'                  queue run --size 0
2 --size               queue run --size ''
2 abc                  queue run --work-us abc
2 '0'                  queue run --timeout 0
2 '5'                  queue run --workers 2 --kill-worker 5 --kill-after 1
2 '0'                  queue run --kill-worker 0 --kill-after 0
2 100000               queue run --server-cpu 100000
2 --redis-socket       queue run --redis-socket ''
2 --tmpdir             queue run --tmpdir ''
2 xml                  queue run --format xml
2 --jobs               queue run --jobs
2 extra                queue run extra
2 --bogus              queue run --bogus
2 nope                 queue loss --transport nope
2 '0'                  queue loss --workers 0
2 '0'                  queue loss --timeout 0
2 extra                queue loss extra
2 nope                 queue bench --transport nope
2 '0'                  queue bench --size 0
2 65537                queue bench --size 65537
2 '0'                  queue bench --messages 0
2 18446744073709551616 queue bench --messages 18446744073709551616
2 '0'                  queue bench --round-trips 0
2 --workers            queue bench --workers 2
2 --size               queue bench --size
2 extra                queue bench extra

2 nope                 redis-bench --transport nope
2 "''"                 redis-bench --transport ''
2 '0'                  redis-bench --pipeline 0
2 18446744073709551616 redis-bench --pipeline 18446744073709551616
2 '0'                  redis-bench --clients 0
2 100000               redis-bench --clients 100000
2 '0'                  redis-bench --requests 0
2 abc                  redis-bench --requests abc
2 -5                   redis-bench --requests -5
2 99999999999999999999999 redis-bench --requests 99999999999999999999999
2 '0'                  redis-bench --seconds 0
2 abc                  redis-bench --seconds abc
2 -1                   redis-bench --seconds -1
2 --seconds            redis-bench --seconds ''
2 nope                 redis-bench --op nope
2 nope                 redis-bench --client nope
2 100000               redis-bench --client-cpu 100000
2 abc                  redis-bench --server-cpu abc
2 '0'                  redis-bench --redis-port 0
2 65536                redis-bench --redis-port 65536
2 99999999999999999999999 redis-bench --redis-port 99999999999999999999999
2 --redis-socket       redis-bench --redis-socket ''
2 '0'                  redis-bench --repeat 0
2 xml                  redis-bench --format xml
2 -P                   redis-bench -P
2 extra                redis-bench extra
2 --bogus              redis-bench --bogus

2 rng                  rng
2 bogus                rng bogus
2 "''"                 rng ''
2 nope                 rng streams --seeding nope
2 '1'                  rng streams --workers 1
2 '0'                  rng streams --workers 0
2 100000               rng streams --workers 100000
2 abc                  rng streams --workers abc
2 '0'                  rng streams --count 0
2 18446744073709551616 rng streams --count 18446744073709551616
2 '17'                 rng streams --show 17
2 18446744073709551616 rng streams --seed 18446744073709551616
2 xml                  rng streams --format xml
2 --workers            rng streams --workers
2 extra                rng streams extra
2 '0'                  rng throughput --threads 0
2 100000               rng throughput --threads 100000
2 nope                 rng throughput --mode nope
2 '0'                  rng throughput --numbers 0
2 99999999999999999999999 rng throughput --numbers 99999999999999999999999
2 '0'                  rng throughput --repeat 0
2 -1                   rng throughput --seed -1
2 extra                rng throughput extra
2 --bogus              rng throughput --bogus

2 mode                 spawn
2 nosuchmode           spawn nosuchmode
2 nope                 spawn latency --kind nope
2 nowhere              spawn latency --placement nowhere
2 '0'                  spawn latency --samples 0
2 abc                  spawn latency --samples abc
2 99999999999999999999999 spawn latency --samples 99999999999999999999999
2 --samples            spawn latency --samples ''
2 xml                  spawn latency --format xml
2 --kind               spawn latency --kind
2 extra                spawn latency extra
2 100000               spawn memory --parent-mib 100000
2 -1                   spawn memory --parent-mib -1
2 18446744073709551616 spawn memory --parent-mib 18446744073709551616
2 nope                 spawn memory --child nope
2 extra                spawn memory extra
2 --bogus              spawn memory --bogus

2 xxxxxxxxxx           verify --flag "$LONG" 7
2 xxxxxxxxxx           pi --mode "$LONG"
2 xxxxxxxxxx           queue run --transport "$LONG"

1 missing              verify --flag mmap --tmpdir "$M" 7
1 plain                verify --flag file --tmpdir "$F" 7
1 missing              payload --way file --size 64 --format json --tmpdir "$M"
EOF
)

# Every subcommand ipclab lists has cases here: a new one cannot be left out.
subcommands=$("$IPCLAB" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$subcommands" ] || fail "ipclab --help lists no subcommands"
for s in $subcommands; do
    grep -Eq "^[12] +[^ ]+ +$s( |\$)" <<<"$table" || fail "no bad-input case for subcommand '$s'"
done

cases=0
while IFS= read -r line; do
    [ -z "$line" ] && continue
    read -r want word rest <<<"$line"
    eval "word=$word"
    eval "args=($rest)"
    cases=$((cases + 1))
    what="ipclab ${args[*]:0:8}"
    what=${what:0:120}
    start=$(date +%s%N)
    timeout -s KILL 5 "$IPCLAB" "${args[@]}" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ "$rc" -ge 128 ]; then
        fail "$what: killed by signal $((rc - 128)) after $ms ms (a crash, or a hang past 5 s)"
        continue
    fi
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want (stderr: $(head -c 300 "$work/err"))"
    [ ! -s "$work/out" ] || fail "$what: printed on stdout: $(head -c 200 "$work/out")"
    lines=$(wc -l <"$work/err")
    [ "$lines" -eq 1 ] || fail "$what: $lines lines on stderr: $(head -c 300 "$work/err")"
    grep -qF -- "$word" "$work/err" || fail "$what: the error does not name '$word': $(head -c 300 "$work/err")"
    case "$(head -c 7 "$work/err")" in ipclab*) ;; *) fail "$what: the error does not start with 'ipclab'" ;; esac
done <<<"$table"

# A rejected command line made nothing: no memo cache, no temp file.
[ ! -e "$C" ] || fail "a rejected command line created $C"
[ ! -e "$M" ] || fail "a rejected command line created $M"
[ "$(ls -A "$D")" = notes ] || fail "a rejected command line changed $D: $(ls -A "$D")"
[ ! -e "$work/xdg" ] && [ ! -e "$work/home" ] || fail "a rejected command line made a cache"
tmp_empty || fail "left in TMPDIR: $(ls -A "$TMPDIR")"
echo "bad-input: $cases bad command lines over $(echo $subcommands | wc -w) subcommands"
finish
