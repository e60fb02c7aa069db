#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A mutation fuzzer for the report's result-file reader, plots/convert.py (stdlib only).

usage: convert_fuzz.py [--count N] [--seconds S] [--seed N] [--jobs J] [--keep DIR]

Takes the fixture run (tests/fixtures/run/*.json, *.jsonl), mutates it (byte flips,
insertions and truncations of a file; in the parsed JSON: values swapped for other types,
keys deleted, huge numbers, NaN and Infinity, numbers as strings, benchmark names whose
parameters are not numbers, duplicated or dropped rows), and runs /usr/bin/python3
plots/convert.py on each mutant run directory in a temp dir. A mutant fails the run if
convert.py
  - exits with anything but 0 (converted) or 1 (bad input, reported), e.g. 2 or a signal,
  - prints a Python traceback, or
  - exits 1 with other than exactly one line on stderr.
The first failing mutant is kept under --keep (default build-fuzz/convert-crashes) with the
command that reproduces it, and the exit status is 1. The run stops after --count mutants or
--seconds, whichever comes first (default: 200 mutants); the same --seed gives the same
mutants. Before the mutants it runs the regression cases in tests/fuzz/corpus/convert/ (one
run directory each, the failures it found before, made small). The last line says how many
mutants ran.
"""

import argparse
import concurrent.futures
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
CONVERT = os.path.join(SRC, "plots", "convert.py")
FIXTURES = os.path.join(SRC, "tests", "fixtures", "run")
# Regression cases: one run directory each, from the failures this fuzzer found.
REGRESSIONS = os.path.join(HERE, "corpus", "convert")
PYTHON = "/usr/bin/python3"
TIMEOUT_S = 60

# Values a field may be swapped for: every JSON type, edge numbers, numbers as text.
ODD_VALUES = [None, True, False, 0, -1, 1, 2 ** 64, 10 ** 400, -10 ** 400, 1e308, -1e308,
              5e-324, float("nan"), float("inf"), float("-inf"), "", "NaN", "nan", "inf",
              "-Infinity", "1e999", "0x10", "12", "x", "\u00e9\u2603", "a/b:c", "\x00",
              [], [1, 2], [None], {}, {"a": 1}, {"median": 1}]
# Parameter values for benchmark names ("check_every:1000" -> "check_every:<this>").
ODD_PARAMS = ["", "x", "-1", "1.5", "1e3", "nan", "inf", "0", "99999999999999999999999",
              " 7", "\u0663", "1_0", "::", "/"]


def load_fixtures():
    files = {}
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith((".json", ".jsonl")):
            with open(os.path.join(FIXTURES, name), "rb") as f:
                files[name] = f.read()
    return files


def nodes(v, path=()):
    """Every (container, key) pair under v, for picking a place to mutate."""
    out = []
    if isinstance(v, dict):
        for k in list(v):
            out.append((v, k))
            out.extend(nodes(v[k]))
    elif isinstance(v, list):
        for i in range(len(v)):
            out.append((v, i))
            out.extend(nodes(v[i]))
    return out


def mutate_name(rng, name):
    parts = name.split("/")
    choice = rng.randrange(6)
    if choice == 0 and len(parts) > 2:  # a parameter's value that is not a number
        i = rng.randrange(2, len(parts))
        k = parts[i].split(":", 1)[0]
        parts[i] = k + ":" + rng.choice(ODD_PARAMS)
    elif choice == 1:  # fewer parts
        parts = parts[:rng.randrange(len(parts) + 1)]
    elif choice == 2:  # another family for the same parameters
        parts[0] = rng.choice(["check", "check-contended", "raise-to-seen", "cacheline",
                               "sweep", "model", "pi", "spawn", "spawn-memory", "rng-streams", "rng",
                               "queue", "queue-latency", "queue-loss", "find-primes",
                               "payload", "memo", "redis-bench", "counter", ""])
    elif choice == 3:  # a part dropped or duplicated
        i = rng.randrange(len(parts))
        parts.insert(i, parts[i]) if rng.random() < 0.5 else parts.pop(i)
    elif choice == 4:
        parts.append(rng.choice(["real_time", "iterations:x", "threads:2", "k:v", ""]))
    else:
        parts = [p.replace(":", rng.choice(["", "::", ":"])) for p in parts]
    return "/".join(parts)


def mutate_tree(rng, doc):
    """1 to 4 structural mutations of a parsed JSON document; returns the new document."""
    for _ in range(rng.randint(1, 4)):
        places = nodes(doc)
        if not places:
            return rng.choice(ODD_VALUES)
        container, key = rng.choice(places)
        value = container[key]
        r = rng.random()
        if isinstance(value, str) and "/" in value and r < 0.5:
            container[key] = mutate_name(rng, value)
        elif r < 0.35:
            container[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif r < 0.5 and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                big = value * 1e300
            except OverflowError:  # an integer beyond any float already
                big = float("inf")
            container[key] = rng.choice([str(value), -value, big, 0, float("nan")])
        elif r < 0.65:
            del container[key]
        elif r < 0.8 and isinstance(container, list):
            container.insert(key, copy.deepcopy(value))
        elif r < 0.9 and isinstance(container, list) and len(container) > 3:
            del container[rng.randrange(len(container)):]  # a tail lost
        else:
            if isinstance(container, dict):  # a key renamed
                container[rng.choice(["name", "run_name", "real_time", "time_unit", "x", ""])] = \
                    container.pop(key)
            else:
                container[key] = {"name": value}
    return doc


def mutate_bytes(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if not b:
            b += bytes([rng.randrange(256)])
        elif r < 0.4:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif r < 0.6:
            b[rng.randrange(len(b))] = rng.choice(b'{}[]",:0123456789-.eE \n\x00\xff')
        elif r < 0.8:
            i = rng.randrange(len(b) + 1)
            b[i:i] = rng.choice([b"NaN", b"Infinity", b"-", b"1e999", b"\n", b"\xc3", b'"', b"{}"])
        else:
            del b[rng.randrange(len(b)):]  # truncated
    return bytes(b)


def mutant(rng, files):
    """A mutated copy of the fixture files: {name: bytes}."""
    out = dict(files)
    for _ in range(1 if rng.random() < 0.8 else 2):
        name = rng.choice(sorted(out))
        data = out[name]
        if rng.random() < 0.25:
            out[name] = mutate_bytes(rng, data)
        elif name.endswith(".jsonl"):
            lines = data.split(b"\n")
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(len(lines))
                try:  # a line already mangled to bytes that are not JSON stays as it is
                    lines[i] = json.dumps(mutate_tree(rng, json.loads(lines[i]))).encode()
                except ValueError:
                    pass
            if rng.random() < 0.1:
                lines.append(json.dumps(rng.choice(ODD_VALUES)).encode())
            out[name] = b"\n".join(lines)
        else:
            try:
                doc = json.loads(data)
            except ValueError:
                out[name] = mutate_bytes(rng, data)
                continue
            out[name] = json.dumps(mutate_tree(rng, doc)).encode()
        if rng.random() < 0.05 and len(out) > 1:
            del out[name]
    if rng.random() < 0.05:  # a family file beside bench.json
        out["bench-extra.json"] = out.get("bench.json", b"{}")
    return out


def load_regressions():
    """[(case name, {file name: bytes})] from REGRESSIONS, sorted."""
    cases = []
    for case in sorted(os.listdir(REGRESSIONS)) if os.path.isdir(REGRESSIONS) else []:
        d = os.path.join(REGRESSIONS, case)
        files = {}
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                files[name] = f.read()
        cases.append((case, files))
    return cases


def run_one(files):
    """Run convert.py on a run directory holding files; (verdict or None, rc, stderr)."""
    with tempfile.TemporaryDirectory(prefix="ipclab-convert-fuzz-") as d:
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        try:
            p = subprocess.run([PYTHON, CONVERT, d], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return "took longer than %d s" % TIMEOUT_S, None, ""
    err = p.stderr.decode("utf-8", "replace")
    lines = err.splitlines()
    if p.returncode not in (0, 1):
        return "exit status %d" % p.returncode, p.returncode, err
    if "Traceback (most recent call last)" in err:
        return "a traceback", p.returncode, err
    if p.returncode == 1 and len(lines) != 1:
        return "exit 1 with %d lines on stderr" % len(lines), p.returncode, err
    return None, p.returncode, err


def signature(verdict, err):
    """What tells one failure from another: the verdict, the innermost frame, the exception."""
    lines = err.strip().splitlines()
    frames = [ln.strip() for ln in lines if ln.strip().startswith("File ")]
    exc = lines[-1].split(":", 1)[0] if lines else ""
    return " | ".join(x for x in (verdict, frames[-1] if frames else "", exc) if x)


def keep(files, where, seed, index, verdict, err):
    os.makedirs(where, exist_ok=True)
    d = tempfile.mkdtemp(prefix="mutant-%d-%d-" % (seed, index), dir=where)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    with open(os.path.join(d, "FAILURE.txt"), "w", encoding="utf-8") as f:
        f.write("convert.py: %s (seed %d, mutant %d)\nreproduce: %s %s %s\n\n%s"
                % (verdict, seed, index, PYTHON, CONVERT, d, err))
    return d


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=None, help="mutants to run (default 200)")
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at once")
    ap.add_argument("--keep", default=os.path.join(SRC, "build-fuzz", "convert-crashes"),
                    help="where a failing mutant is kept")
    ap.add_argument("--keep-going", action="store_true",
                    help="do not stop at a failure; keep one mutant per kind of failure")
    a = ap.parse_args(argv[1:])
    count = a.count if a.count is not None else (None if a.seconds else 200)
    files = load_fixtures()
    if not files:
        print("convert_fuzz: no fixtures in %s" % FIXTURES, file=sys.stderr)
        return 1
    start = time.monotonic()
    regressions = load_regressions()
    for case, files_c in regressions:
        verdict, rc, err = run_one(files_c)
        if verdict:
            where = keep(files_c, a.keep, a.seed, 0, verdict, err)
            print("convert_fuzz: regression case %s: convert.py: %s\n%s\nconvert_fuzz: kept in %s"
                  % (case, verdict, err.rstrip(), where), file=sys.stderr)
            return 1
    rng = random.Random(a.seed)
    ran = exit_ok = exit_bad_input = 0
    failed = None
    kinds = {}  # with --keep-going: a failure's kind (where it was raised) -> mutant kept

    def more():
        return (count is None or ran < count) and \
            (a.seconds is None or time.monotonic() - start < a.seconds) and \
            (failed is None or a.keep_going)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        while more():
            # One batch at a time, made in order from the one generator: the seed decides.
            n = max(1, a.jobs) if count is None else min(max(1, a.jobs), count - ran)
            batch = [mutant(rng, files) for _ in range(n)]
            for i, (files_i, res) in enumerate(zip(batch, pool.map(run_one, batch))):
                verdict, rc, err = res
                ran += 1
                if verdict is None:
                    exit_ok += rc == 0
                    exit_bad_input += rc == 1
                elif failed is None or a.keep_going:
                    kind = signature(verdict, err)
                    if kind not in kinds:
                        kinds[kind] = keep(files_i, a.keep, a.seed, ran, verdict, err)
                        if failed is None:
                            failed = (ran, verdict, kinds[kind], err)
    took = time.monotonic() - start
    if failed:
        index, verdict, where, err = failed
        tail = err.strip().splitlines()[-3:] if err.strip() else []
        print("convert_fuzz: mutant %d (seed %d): convert.py: %s" % (index, a.seed, verdict),
              file=sys.stderr)
        for line in tail:
            print("    " + line, file=sys.stderr)
        print("convert_fuzz: kept in %s (FAILURE.txt says how to reproduce)" % where,
              file=sys.stderr)
    for kind, where in sorted(kinds.items()):
        print("convert_fuzz: %s: %s" % (kind, where), file=sys.stderr)
    print("convert_fuzz: %d regression cases passed; %d mutants in %.1f s (seed %d): %d "
          "converted, %d reported bad input, %d failed"
          % (len(regressions), ran, took, a.seed, exit_ok, exit_bad_input,
             ran - exit_ok - exit_bad_input))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
