#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turn a run's raw results (Google Benchmark JSON, verify JSON Lines) into the TSV files the
gnuplot scripts read and the summary.json the report is written from.

usage: convert.py RUN_DIR

Reads RUN_DIR/bench.json and RUN_DIR/bench-<family>.json (ipclab-bench, one file per family
run), RUN_DIR/verify.jsonl (ipclab verify) and RUN_DIR/flags.jsonl (ipclab flags); any of
them may be missing. Every output file is written
to a temporary name and renamed, so a file that exists is complete.
"""

import glob
import json
import math
import os
import re
import statistics
import sys

SERVER_BACKENDS = {"manager", "redis-unix", "redis-tcp"}
BASELINES = {"none", "null"}
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# The library appends these to a benchmark's name; the schema is what comes before them
# (not threads:N: ipclab never uses the library's threads, and rng/ has an argument of that name).
SUFFIX = re.compile(r"(/(real_time|manual_time|iterations:\d+|repeats:\d+))+$")


class InputError(Exception):
    """A results file that cannot be read: reported in one line, never a traceback."""


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: {e}") from e


def read_jsonl(path):
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError as e:
                        raise InputError(f"{path}:{lineno}: {e}") from e
    except FileNotFoundError:
        return []
    # The lines are decoded as they are read, outside the per-line try: bytes that are not
    # UTF-8 raised a traceback here (found by tests/fuzz/convert_fuzz.py).
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: {e}") from e
    return rows


def number(v):
    """v if it is a finite JSON number (not a bool), else None. An integer too large for a
    float is no measurement either: math.isfinite and arithmetic with floats raised
    OverflowError on one (found by tests/fuzz/convert_fuzz.py)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return v if math.isfinite(v) else None
    except OverflowError:
        return None


def int_param(params, key, name):
    """A whole-number parameter of a benchmark name ("workers:2"), 0 when absent. Anything
    else is bad input, not a ValueError traceback (found by tests/fuzz/convert_fuzz.py)."""
    v = params.get(key, "0")
    if not re.fullmatch(r"[0-9]+", v):
        raise InputError(f"benchmark {name!r}: {key} is not a whole number")
    return int(v)


def stats(values):
    """Median, min, max of the finite values, or None."""
    vals = [v for v in values if number(v) is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def schema_name(name):
    return SUFFIX.sub("", name)


def parse_params(parts):
    params = {}
    for p in parts:
        if ":" in p:
            k, v = p.split(":", 1)
            params[k] = v
    return params


def group_benchmarks(bench):
    """{schema name: {"time_ns": [...], counters: [...], "label": str, "errors": [...]}}."""
    groups = {}
    if not bench:
        return groups
    benchmarks = bench.get("benchmarks")
    if not isinstance(benchmarks, list):
        raise InputError("bench.json has no 'benchmarks' list")
    for b in benchmarks:
        if not isinstance(b, dict) or b.get("run_type", "iteration") != "iteration":
            continue
        name = b.get("run_name") or b.get("name")
        if not isinstance(name, str):
            continue
        g = groups.setdefault(schema_name(name), {"time_ns": [], "counters": {}, "errors": []})
        if b.get("error_occurred"):
            g["errors"].append(str(b.get("error_message", "error")))
            continue
        # A time_unit that is not a string cannot be looked up (unhashable: a traceback), and
        # a real_time too large for a float cannot be scaled (found by
        # tests/fuzz/convert_fuzz.py).
        tu = b.get("time_unit", "ns")
        unit = UNIT_NS.get(tu, 1.0) if isinstance(tu, str) else 1.0
        if number(b.get("real_time")) is not None:
            g["time_ns"].append(b["real_time"] * unit)
        if b.get("label"):
            g["label"] = b["label"]
        for k, v in b.items():
            if k in ("real_time", "cpu_time", "iterations", "repetitions", "repetition_index",
                     "threads", "family_index", "per_family_instance_index"):
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                g["counters"].setdefault(k, []).append(v)
    return groups


def read_bench(run_dir):
    """All of a run's Google Benchmark files as one: benchmarks concatenated, contexts merged
    (they describe the same machine and build)."""
    paths = [os.path.join(run_dir, "bench.json")] + \
        sorted(glob.glob(os.path.join(run_dir, "bench-*.json")))
    merged = None
    for path in paths:
        data = read_json(path)
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
            raise InputError(f"{path}: not a Google Benchmark JSON file")
        # A context that is not an object cannot be merged (a float raised a TypeError here;
        # found by running the fuzzer's mutants of the sweep and model rows).
        if not isinstance(data.get("context") or {}, dict):
            raise InputError(f"{path}: 'context' is not an object")
        if merged is None:
            merged = {"context": {}, "benchmarks": []}
        merged["context"].update(data.get("context") or {})
        merged["benchmarks"].extend(data["benchmarks"])
    return merged


# The counters of a sweep or model row that feed or come from the cost model: the interval
# K, w, c, r (ns), the predicted overhead (a fraction, like `overhead`) and stop latency (ns);
# raise_ns and predicted_stop_ns are absent for a backend that is not shared. Kept as medians
# (numbers): they are the model's, not a measurement's spread.
MODEL_FIELDS = ("k", "work_ns", "model_check_ns", "raise_ns", "predicted_overhead",
                "predicted_stop_ns")
# What the report needs besides to test the model against a point, kept as statistics like
# every measurement: the overhead (a fraction), the checks made (both workers), the candidates
# and the wall time without a flag.
MODEL_MEASURED = ("overhead", "checks", "candidates", "wall_none_ns")
MODEL_NUMBERS = ("prime", "composite")


def model_row(rows, name, backend, params, counters):
    """Keep one model/<backend>/interval:<auto|K>/number:<prime|composite> row's counters in
    rows[backend][interval][number]."""
    interval = params.get("interval")
    if interval != "auto":
        if interval is None or not re.fullmatch(r"[0-9]+", interval) or int(interval) == 0:
            raise InputError(f"benchmark {name!r}: interval is neither auto nor a positive "
                             f"whole number")
        # written as convert.py writes numbers ("1000", not "01000"), so claims.py finds the
        # chapter's interval under "1000"
        interval = str(int(interval))
    number_ = params.get("number")
    if number_ not in MODEL_NUMBERS:
        raise InputError(f"benchmark {name!r}: number is neither prime nor composite")
    point = {f: med(counters.get(f)) for f in MODEL_FIELDS + ("target",)}
    point.update({f: counters.get(f) for f in ("overhead", "stop_latency_ns")})
    rows.setdefault(backend, {}).setdefault(interval, {})[number_] = point


def model_summary(rows):
    """Per backend: w, c, r (the median over the backend's model rows: one benchmark process
    measures them once per backend and reuses them, a run of several processes may differ), and per interval the K chosen, the measured (statistics) and predicted
    (a number) overhead on the prime (every candidate is tried) and stop latency on the
    composite (worker 1 is stopped by the flag). The composite's overhead is not kept: the
    flag saves worker 1's remaining work there, so it is negative and says nothing of the
    check's cost; the prime has no stop latency."""
    out = {}
    for backend, intervals in sorted(rows.items()):
        points = [p for iv in intervals.values() for p in iv.values()]

        def pooled(field):
            return med(stats([p[field] for p in points]))
        entry = {"work_ns": pooled("work_ns"), "check_ns": pooled("model_check_ns"),
                 "raise_ns": pooled("raise_ns"), "intervals": {}}
        for interval, nums in sorted(intervals.items()):
            prime, comp = nums.get("prime") or {}, nums.get("composite") or {}
            entry["intervals"][interval] = {
                "k": prime.get("k"), "k_composite": comp.get("k"),
                "target": next((r["target"] for r in (prime, comp)
                                if r.get("target") is not None), None),
                "overhead": prime.get("overhead"),
                "predicted_overhead": prime.get("predicted_overhead"),
                "stop_latency_ns": comp.get("stop_latency_ns"),
                "predicted_stop_ns": comp.get("predicted_stop_ns"),
            }
        out[backend] = entry
    return out


def summarise(run_dir):
    bench = read_bench(run_dir)
    verify = read_jsonl(os.path.join(run_dir, "verify.jsonl"))
    # Only rows that are objects with a name describe a backend (a row of another type raised
    # AttributeError or TypeError here; found by tests/fuzz/convert_fuzz.py).
    flags = {f["name"]: f for f in read_jsonl(os.path.join(run_dir, "flags.jsonl"))
             if isinstance(f, dict) and isinstance(f.get("name"), str)}
    env = read_json(os.path.join(run_dir, "env.json")) or {}
    groups = group_benchmarks(bench)

    summary = {"env": env, "context": (bench or {}).get("context", {}), "check": {},
               "contended": {}, "raise": {}, "cacheline": None, "sweep": {}, "verify": {},
               "pi": {}, "spawn": {}, "spawn_memory": {}, "rng_streams": {}, "rng": {},
               "counter": {}, "queue": {}, "queue_latency": {}, "queue_loss": {},
               "find_primes": {}, "payload": {}, "memo": {}, "redis_bench": {}, "model": {},
               "errors": {}, "repetitions": 0}
    reps = 0
    model_rows = {}
    for name, g in sorted(groups.items()):
        if g["errors"] and not g["time_ns"]:
            summary["errors"][name] = g["errors"][0]
            continue
        parts = name.split("/")
        family, params = parts[0], parse_params(parts[2:])
        backend = parts[1] if len(parts) > 1 else ""
        t = stats(g["time_ns"])
        if t is None:
            continue
        reps = max(reps, t["n"])
        counters = {k: stats(v) for k, v in g["counters"].items()}
        if family == "check":
            summary["check"][backend + ("/" + params["server"] if "server" in params else "")] = {
                "backend": backend, "server": params.get("server"), "ns": t}
        elif family == "check-contended":
            summary["contended"].setdefault(backend, {})[params.get("contender", "?")] = t
        elif family == "raise-to-seen":
            key = backend + ("/" + params["server"] if "server" in params else "")
            summary["raise"][key] = {"backend": backend, "server": params.get("server"), "ns": t}
        elif family == "cacheline":
            summary["cacheline"] = {"round_trip_ns": t, "one_way_ns": counters.get("one_way_ns")}
        elif family == "sweep":
            k = int_param(params, "check_every", name)
            kind = "composite" if params.get("composite") == "1" else "prime"
            ov = counters.get("overhead")
            point = {
                "ratio": None if ov is None else {x: 1 + ov[x] for x in ("median", "min", "max")},
                "stop_latency_ns": counters.get("stop_latency_ns"),
                "ns_per_check": counters.get("ns_per_check"),
                "label": g.get("label", ""),
            }
            # The cost model's inputs and predictions at this K; rows from before the model
            # have none of them (None here: such a point is measured, not predicted).
            point.update({f: med(counters.get(f)) for f in MODEL_FIELDS})
            point.update({f: counters.get(f) for f in MODEL_MEASURED})
            summary["sweep"].setdefault(backend, {}).setdefault(kind, {})[k] = point
        elif family == "model":
            model_row(model_rows, name, backend, params, counters)
        elif family == "pi":
            summary["pi"].setdefault(backend, {})["%s/%s" % (
                params.get("workers", "?"), params.get("batch", "0"))] = {
                "workers": int_param(params, "workers", name), "batch": params.get("batch") == "1",
                "samples_per_s": counters.get("samples_per_s"), "ns": t}
        elif family == "spawn":
            summary["spawn"][backend + "/" + params.get("placement", "?")] = {
                "kind": backend, "placement": params.get("placement"), "ns": t,
                "round_trip_ns": counters.get("round_trip_ns")}
        elif family == "spawn-memory":
            # spawn-memory/child:<read|write>/parent_mib:<M>: the variant is a param itself
            summary["spawn_memory"].setdefault(backend.split(":", 1)[-1], {})[
                int_param(params, "parent_mib", name)] = {
                k: counters.get(k) for k in ("rss_kib", "pss_kib", "uss_kib")}
        elif family == "rng-streams":
            summary["rng_streams"][backend] = counters.get("identical_pairs_fraction")
        elif family == "rng":
            summary["rng"]["%s/%s" % (backend, params.get("threads", "?"))] = {
                "mode": backend, "threads": int_param(params, "threads", name),
                "numbers_per_s": counters.get("numbers_per_s")}
        elif family in ("queue", "queue-latency"):
            summary["queue" if family == "queue" else "queue_latency"].setdefault(backend, {})[
                int_param(params, "size", name)] = {"ns": t,
                                                    "msgs_per_s": counters.get("msgs_per_s")}
        elif family == "queue-loss":
            summary["queue_loss"][backend] = {k: counters.get(k)
                                              for k in ("lost_jobs", "requeued", "duplicates")}
        elif family == "find-primes":
            summary["find_primes"].setdefault(backend, {})["%s/%s" % (
                params.get("workers", "?"), params.get("job_size", "?"))] = {
                "workers": int_param(params, "workers", name),
                "job_size": int_param(params, "job_size", name), "ns": t,
                "n": med(counters.get("n"))}
        elif family == "payload":
            summary["payload"].setdefault(backend, {})[int_param(params, "size_kib", name)] = t
        elif family == "memo":
            summary["memo"][backend] = {"ns": t,
                                        "served_from_disk": counters.get("served_from_disk")}
        elif family == "redis-bench":
            # redis-bench/<client>/<transport>/server:<placement>/clients:C/pipeline:P
            transport = parts[2] if len(parts) > 2 else "?"
            summary["redis_bench"].setdefault(backend, {}).setdefault(transport, {}).setdefault(
                params.get("server", "?"), {})["%s/%s" % (
                    params.get("clients", "?"), params.get("pipeline", "?"))] = {
                "clients": int_param(params, "clients", name),
                "pipeline": int_param(params, "pipeline", name),
                "rps": counters.get("rps"), "p50_us": counters.get("p50_us"),
                "p99_us": counters.get("p99_us"), "requests": counters.get("requests")}
        elif family == "counter":
            summary["counter"]["%s/%s" % (backend, params.get("workers", "?"))] = {
                "variant": backend, "workers": int_param(params, "workers", name),
                "lost_fraction": counters.get("lost_fraction"),
                "ns_per_increment": counters.get("ns_per_increment")}
    summary["repetitions"] = reps
    summary["model"] = model_summary(model_rows)

    # Verify: medians per strategy, flag and number; totals over the numbers.
    cells = {}
    for r in verify:
        # Strings, as ipclab verify writes them: cells are sorted by these and the flag heads a
        # TSV row, so a number or a list in one raised a TypeError there (found by
        # tests/fuzz/convert_fuzz.py).
        key = tuple(r.get(k) for k in ("strategy", "flag", "number")) \
            if isinstance(r, dict) else None
        if key is None or not all(isinstance(k, str) for k in key):
            raise InputError("verify.jsonl: a row without strategy, flag and number strings")
        cells.setdefault(key, []).append(r)
    verify_reps = 0
    for (strategy, flag, number), rows in sorted(cells.items()):
        wall = stats([r.get("wall_ns") for r in rows])
        if wall is None:  # the totals and the report divide by it (a traceback without one)
            raise InputError(f"verify.jsonl: no wall_ns for {number!r} "
                             f"({strategy!r}, {flag!r})")
        stop = stats([r.get("stop_latency_ns") for r in rows if r.get("stop_latency_ns") is not None])
        verify_reps = max(verify_reps, len(rows))
        summary["verify"].setdefault(flag, {}).setdefault(strategy, {})[number] = {
            "wall_ns": wall, "stop_latency_ns": stop, "prime": rows[0].get("prime"),
            "factor": rows[0].get("factor"), "checks": rows[0].get("checks")}
    summary["verify_repetitions"] = verify_reps
    # check names a kind of backend in the TSVs: a string or nothing (found by convert_fuzz.py).
    summary["flags"] = {n: {"check": f.get("check") if isinstance(f.get("check"), str) else None,
                            "available": f.get("available")}
                        for n, f in flags.items() if n}
    return summary


def fmt(v):
    return "NaN" if v is None else ("%.6g" % v)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def kind_of(summary, backend, server):
    if backend in BASELINES:
        return "baseline"
    if server or backend in SERVER_BACKENDS:
        return "server"
    return summary["flags"].get(backend, {}).get("check") or "dispatch"


def label_of(backend, server):
    if server == "same-core":
        return backend + " (server same core)"
    if server == "other-core":
        return backend + " (server other core)"
    return backend


def write_tsvs(summary, run_dir):
    out = {}
    # 1. ns per check, sorted by cost; contended figures alongside
    lines = ["label\tkind\tmedian_ns\tmin_ns\tmax_ns\tfalse_sharing_ns\tpoller_ns"]
    for key, c in sorted(summary["check"].items(), key=lambda kv: kv[1]["ns"]["median"]):
        cont = summary["contended"].get(c["backend"], {}) if not c["server"] or \
            c["server"] == "same-core" else {}
        fs, po = cont.get("false-sharing"), cont.get("poller")
        lines.append("\t".join([label_of(c["backend"], c["server"]),
                                kind_of(summary, c["backend"], c["server"]),
                                fmt(c["ns"]["median"]), fmt(c["ns"]["min"]), fmt(c["ns"]["max"]),
                                fmt(fs and fs["median"]), fmt(po and po["median"])]))
    out["check.tsv"] = lines
    # 5. raise-to-seen, with the cache line one way as the reference
    lines = ["label\tkind\tmedian_ns\tmin_ns\tmax_ns"]
    rows = sorted(summary["raise"].values(), key=lambda r: r["ns"]["median"])
    cl = summary["cacheline"]
    if cl and cl.get("one_way_ns"):
        ow = cl["one_way_ns"]
        lines.append("\t".join(["cache line, one way", "reference", fmt(ow["median"]),
                                fmt(ow["min"]), fmt(ow["max"])]))
    for r in rows:
        lines.append("\t".join([label_of(r["backend"], r["server"]),
                                kind_of(summary, r["backend"], r["server"]),
                                fmt(r["ns"]["median"]), fmt(r["ns"]["min"]), fmt(r["ns"]["max"])]))
    out["raise_to_seen.tsv"] = lines
    # 3./4. the sweep: one column per backend, one row per interval
    backends = sorted(summary["sweep"])
    for name, kind, field, scale in (("sweep_ratio.tsv", "prime", "ratio", 1.0),
                                     ("sweep_stop.tsv", "composite", "stop_latency_ns", 1e-3)):
        ks = sorted({k for b in backends for k in summary["sweep"][b].get(kind, {})})
        lines = ["check_every\t" + "\t".join(backends)]
        for k in ks:
            vals = []
            for b in backends:
                point = summary["sweep"][b].get(kind, {}).get(k)
                v = point and point.get(field)
                vals.append(fmt(v["median"] * scale if v else None))
            lines.append("\t".join([str(k)] + vals))
        out[name] = lines
    # 2. verify: total of the per-number medians, per flag and strategy
    strategies = ["serial", "pool", "less-naive"]
    lines = ["flag\t" + "\t".join(strategies)]
    for flag in sorted(summary["verify"]):
        totals = []
        for s in strategies:
            cell = summary["verify"][flag].get(s)
            totals.append(fmt(sum(v["wall_ns"]["median"] for v in cell.values()) / 1e6
                              if cell else None))
        lines.append("\t".join([flag] + totals))
    out["verify_totals.tsv"] = lines
    out.update(model_tsvs(summary))
    out.update(processes_vs_threads_tsvs(summary))
    out.update(queue_tsvs(summary))
    out.update(redis_bench_tsvs(summary))
    for name, rows in out.items():
        write_atomic(os.path.join(run_dir, name), "\n".join(rows) + "\n")
    return sorted(out)


def model_tsvs(summary):
    """The cost model against the sweep: one row per K, and per backend a measured column
    and a predicted one ("<backend> measured", "<backend> predicted", in that order, the
    figures pair them by position). Overhead in percent on the prime (every candidate
    tried), stop latency in microseconds on the composite. A backend with no prediction at
    any K (rows from before the model; no stop prediction for a backend that is not shared)
    is left out: its measurements are in the sweep's own figures."""
    out = {}
    sweep = summary["sweep"]
    for name, kind, field, predicted, scale in (
            ("model_overhead.tsv", "prime", "overhead", "predicted_overhead", 100.0),
            ("model_stop.tsv", "composite", "stop_latency_ns", "predicted_stop_ns", 1e-3)):
        backends = sorted(b for b in sweep
                          if any(p.get(predicted) is not None
                                 for p in sweep[b].get(kind, {}).values()))
        columns = {"%s %s" % (b, what): (b, f) for b in backends
                   for what, f in (("measured", field), ("predicted", predicted))}

        def value(col, k, kind=kind, scale=scale, columns=columns, field=field):
            b, f = columns[col]
            v = (sweep[b].get(kind, {}).get(k) or {}).get(f)
            # measured: statistics, take the median; predicted: already a number
            v = med(v) if f == field else v
            return None if v is None else v * scale
        lines = wide(lambda col, kind=kind, columns=columns:
                     sweep[columns[col][0]].get(kind, {}).keys(), list(columns), value)
        out[name] = ["check_every" + lines[0]] + lines[1:]
    return out


def wide(rows_key, columns, value):
    """A TSV with one row per key and one column per series: value(series, key) or None."""
    keys = sorted({k for c in columns for k in rows_key(c)})
    lines = ["\t".join([""] + columns)]
    for k in keys:
        lines.append("\t".join([str(k)] + [fmt(value(c, k)) for c in columns]))
    return lines


def queue_tsvs(summary):
    """The TSV files of the queue, find-primes and payload figures."""
    out = {}
    for name, key, scale in (("queue.tsv", "queue", None), ("queue_latency.tsv",
                                                            "queue_latency", 1e-3)):
        data = summary.get(key, {})
        ts = sorted(data)

        def value(t, size, data=data, scale=scale):
            p = data[t].get(size)
            if not p:
                return None
            if scale is None:
                return med(p.get("msgs_per_s"))
            return p["ns"]["median"] * scale
        lines = wide(lambda t, data=data: data[t].keys(), ts, value)
        lines[0] = "size" + lines[0]
        out[name] = lines
    fp = summary.get("find_primes", {})
    serial = fp.get("serial", {})
    # Transports whose one-number-per-job point would take minutes count fewer numbers: their
    # column says so, and the serial line is the one for the largest N.
    serial_pt = max(serial.values(), key=lambda p: p["job_size"]) if serial else None
    serial_ms = med(serial_pt["ns"], 1e-6) if serial_pt else None
    ts = sorted(t for t in fp if t != "serial")
    top_n = serial_pt["job_size"] if serial_pt else None

    def title(t):
        ns_ = {p.get("n") for p in fp[t].values() if p.get("n")}
        n = max(ns_) if ns_ else None
        return t if n is None or n == top_n else "%s (N=%d)" % (t, n)

    def by_job(t, j):
        p = fp[t].get("2/%d" % j)
        return p and p["ns"]["median"] * 1e-6
    lines = wide(lambda t: [p["job_size"] for p in fp[t].values() if p["workers"] == 2], ts,
                 by_job)
    lines = ["\t".join(["job_size"] + [title(t) for t in ts] + ["serial"])] + \
        [row + "\t" + fmt(serial_ms) for row in lines[1:]]
    out["find_primes_jobsize.tsv"] = lines

    def by_workers(t, w):
        p = fp[t].get("%d/1000" % w)
        return p and p["ns"]["median"] * 1e-6
    lines = wide(lambda t: [p["workers"] for p in fp[t].values() if p["job_size"] == 1000], ts,
                 by_workers)
    out["find_primes_workers.tsv"] = ["\t".join(["workers"] + [title(t) for t in ts])] + \
        lines[1:]
    pl = summary.get("payload", {})
    ways = [w for w in ("serial", "pipe", "file", "shared") if w in pl]
    lines = wide(lambda w: pl[w].keys(), ways,
                 lambda w, s: pl[w].get(s) and pl[w][s]["median"] * 1e-6)
    out["payload.tsv"] = ["size_kib" + lines[0]] + lines[1:]
    return out


REDIS_CLIENTS = ("ipclab", "redis-benchmark")


def redis_bench_tsvs(summary):
    """Requests/s by pipeline depth per client, transport and client count (server on the
    other core), and the unix/tcp ratio of each client at each client count."""
    rb = summary.get("redis_bench", {})

    def point(client, transport, c, p):
        pt = rb.get(client, {}).get(transport, {}).get("other-core", {}).get("%d/%d" % (c, p))
        return pt and med(pt.get("rps"))
    counts = sorted({pt["clients"] for cl in rb.values() for tr in cl.values()
                     for pts in tr.values() for pt in pts.values()})
    depths = sorted({pt["pipeline"] for cl in rb.values() for tr in cl.values()
                     for pts in tr.values() for pt in pts.values()})
    series = [(cl, tr, c) for cl in REDIS_CLIENTS if cl in rb for c in counts
              for tr in ("unix", "tcp")]
    lines = ["\t".join(["pipeline"] + ["%s %s c%d" % x for x in series])]
    for p in depths:
        lines.append("\t".join([str(p)] + [fmt(point(cl, tr, c, p)) for cl, tr, c in series]))
    out = {"redis_bench.tsv": lines if series else lines[:1]}

    def ratio(cl, c, p):
        u, t = point(cl, "unix", c, p), point(cl, "tcp", c, p)
        return u / t if u and t else None
    pairs = [(cl, c) for cl in REDIS_CLIENTS if cl in rb for c in counts]
    lines = ["\t".join(["pipeline"] + ["%s c%d" % x for x in pairs])]
    for p in depths:
        lines.append("\t".join([str(p)] + [fmt(ratio(cl, c, p)) for cl, c in pairs]))
    out["redis_bench_ratio.tsv"] = lines if pairs else lines[:1]
    return out


def med(st, scale=1.0):
    return None if not st else st["median"] * scale


def processes_vs_threads_tsvs(summary):
    """The TSV files of the pi, spawn, rng and counter figures."""
    out = {}
    ctx = summary.get("context", {})
    # pi: speedup over serial with one worker, per-sample; and per-sample vs batch throughput
    pi = summary.get("pi", {})
    base = pi.get("serial", {}).get("1/0")
    base_rate = med(base and base["samples_per_s"])
    modes = [m for m in ("serial", "threads", "gil-threads", "processes") if m in pi]
    workers = sorted({p["workers"] for m in modes for p in pi[m].values()})
    lines = ["\t".join(["workers"] + modes)]
    for w in workers if base_rate else []:
        row = []
        for m in modes:
            p = pi[m].get("%d/0" % w)
            rate = med(p and p["samples_per_s"])
            row.append(fmt(rate / base_rate if rate else None))
        lines.append("\t".join([str(w)] + row))
    out["pi_speedup.tsv"] = lines
    out["pi_meta.tsv"] = ["physical_cores\tlogical_cpus",
                          "%s\t%s" % (ctx.get("physical_cores", "NaN"),
                                      ctx.get("logical_cpus", "NaN"))]
    lines = ["mode\tper_sample\tbatch"]
    for m in modes:
        one, blk = pi[m].get("1/0"), pi[m].get("1/1")
        lines.append("\t".join([m, fmt(med(one and one["samples_per_s"], 1e-6)),
                                fmt(med(blk and blk["samples_per_s"], 1e-6))]))
    out["pi_batch.tsv"] = lines if len(lines) > 1 and modes else lines[:1]
    # spawn: creation latency, and the memory of a forked worker
    lines = ["label\tmedian_us\tmin_us\tmax_us"]
    for key, sp in sorted(summary.get("spawn", {}).items(), key=lambda kv: kv[1]["ns"]["median"]):
        lines.append("\t".join(["%s (%s)" % (sp["kind"], (sp["placement"] or "").replace("-", " ")),
                                fmt(sp["ns"]["median"] / 1e3), fmt(sp["ns"]["min"] / 1e3),
                                fmt(sp["ns"]["max"] / 1e3)]))
    out["spawn_latency.tsv"] = lines
    mem = summary.get("spawn_memory", {})
    sizes = sorted({m for child in mem.values() for m in child})
    lines = ["parent_mib\trss_read\tpss_read\tuss_read\trss_write\tpss_write\tuss_write"]
    for m in sizes:
        row = [str(m)]
        for child in ("read", "write"):
            point = mem.get(child, {}).get(m) or {}
            for k in ("rss_kib", "pss_kib", "uss_kib"):
                row.append(fmt(med(point.get(k), 1 / 1024)))
        lines.append("\t".join(row))
    out["spawn_memory.tsv"] = lines
    # rng throughput and the counter variants
    lines = ["label\tmedian_mnps\tmin_mnps\tmax_mnps"]
    for key, r in sorted(summary.get("rng", {}).items(),
                         key=lambda kv: (kv[1]["mode"], kv[1]["threads"])):
        st = r["numbers_per_s"]
        if st:
            lines.append("\t".join(["%s, %d thread%s" % (r["mode"], r["threads"],
                                                          "" if r["threads"] == 1 else "s"),
                                    fmt(st["median"] / 1e6), fmt(st["min"] / 1e6),
                                    fmt(st["max"] / 1e6)]))
    out["rng.tsv"] = lines
    lines = ["variant\tworkers\tlost_pct\tns_per_increment"]
    order = {"unsynchronised": 0, "locked-get-set": 1, "locked-rmw": 2, "atomic": 3}
    for key, c in sorted(summary.get("counter", {}).items(),
                         key=lambda kv: (order.get(kv[1]["variant"], 9), kv[1]["workers"])):
        lines.append("\t".join([c["variant"], str(c["workers"]),
                                fmt(med(c["lost_fraction"], 100)),
                                fmt(med(c["ns_per_increment"]))]))
    out["counter.tsv"] = lines
    return out


def main(argv):
    if len(argv) != 2:
        print("usage: convert.py RUN_DIR", file=sys.stderr)
        return 2
    run_dir = argv[1]
    if not os.path.isdir(run_dir):
        print(f"convert.py: {run_dir} is not a directory", file=sys.stderr)
        return 2
    try:
        summary = summarise(run_dir)
    except InputError as e:
        print(f"convert.py: {e}", file=sys.stderr)
        return 1
    write_atomic(os.path.join(run_dir, "summary.json"), json.dumps(summary, indent=1) + "\n")
    write_tsvs(summary, run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
