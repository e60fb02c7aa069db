#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages ipclab needs, only those missing.
# usage: scripts/deps.sh [build|test|bench|fuzz|valgrind|all]...   (default: all)
# As root it runs apt-get; otherwise it prints the exact apt-get line to run and exits 1.
set -euo pipefail

build=(cmake make gcc g++ libc6-dev pkg-config libbenchmark-dev liburing-dev libhiredis-dev
       libhwloc-dev libxxhash-dev)
test=(jq procps redis-server python3 gnuplot-nox)
bench=(jq gnuplot-nox redis-server python3 libbenchmark-tools python3-scipy)
# make fuzz: libFuzzer ships in libclang-rt-14-dev (libclang_rt.fuzzer*.a), not in clang itself.
fuzz=(clang libclang-rt-14-dev python3)
# make valgrind: memcheck (scripts/valgrind.sh also needs jq, from test, and gcc, from build).
valgrind=(valgrind)

want=()
[ $# -gt 0 ] || set -- all
for group in "$@"; do
    case "$group" in
        build) want+=("${build[@]}") ;;
        test) want+=("${build[@]}" "${test[@]}") ;;
        bench) want+=("${build[@]}" "${bench[@]}") ;;
        fuzz) want+=("${build[@]}" "${fuzz[@]}") ;;
        valgrind) want+=("${build[@]}" "${valgrind[@]}") ;;
        all) want+=("${build[@]}" "${test[@]}" "${bench[@]}" "${fuzz[@]}" "${valgrind[@]}") ;;
        *) echo "deps.sh: unknown group '$group' (build, test, bench, fuzz, valgrind, all)" >&2; exit 2 ;;
    esac
done

missing=()
for pkg in $(printf '%s\n' "${want[@]}" | sort -u); do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "ipclab needs these Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine; update once, then install.
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
