#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write RUN_DIR/REPORT.md from RUN_DIR/summary.json (made by convert.py): the environment,
the claims table with computed verdicts, and one section per experiment with its figures
and numbers.

usage: report.py RUN_DIR          write REPORT.md
       report.py --subtitle RUN_DIR   print the one-line figure subtitle (machine, runs)
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import claims  # noqa: E402  (next to this file)

BOOK_PRIME = "100109100129100151"


def load(run_dir):
    path = os.path.join(run_dir, "summary.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"report.py: {path}: {e} (run convert.py first)")


def subtitle(s):
    ctx, env = s.get("context", {}), s.get("env", {})
    cpu = ctx.get("cpu_model") or env.get("cpu_model") or "unknown CPU"
    cpus = ctx.get("cpus_online") or env.get("cpus") or "?"
    reps = s.get("repetitions") or env.get("repetitions") or 1
    return "%s, %s CPUs; median of %s run%s" % (cpu, cpus, reps, "" if reps == 1 else "s")


def fmt_ns(v):
    return "-" if v is None else claims.ns(v)


def figure(run_dir, name, alt):
    if os.path.exists(os.path.join(run_dir, name + ".svg")):
        return "![%s](%s.svg)\n" % (alt, name)
    return "(figure %s not rendered)\n" % name


def tsv_table(run_dir, name, headers):
    """A TSV file of the run as a Markdown table, with the given column titles."""
    path = os.path.join(run_dir, name)
    try:
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f][1:]
    except OSError:
        return []
    if not rows:
        return []
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        cells = []
        for c in r:
            try:
                v = float(c)
                cells.append("-" if v != v else ("%.4g" % v))
            except ValueError:
                cells.append(c)
        out.append("| " + " | ".join(cells) + " |")
    return out + [""]


def processes_vs_threads(run_dir, s):
    """The sections of the pi, spawn, rng and counter experiments, where measured."""
    out = []
    ctx = s.get("context", {})
    if s.get("pi"):
        out.append("## Processes vs threads: pi by Monte Carlo\n")
        out.append("%s physical cores, %s logical CPUs (%s). `gil-threads` is an emulation: "
                   "threads that must hold one lock to advance and hand it over at a fixed "
                   "interval, as CPython's interpreter does.\n" % (
                       ctx.get("physical_cores", "?"), ctx.get("logical_cpus", "?"),
                       ctx.get("topology_source", "?")))
        out.append(figure(run_dir, "pi_speedup", "speedup vs workers per mode"))
        out.extend(tsv_table(run_dir, "pi_speedup.tsv",
                             ["workers"] + [m for m in ("serial", "threads", "gil-threads",
                                                        "processes") if m in s["pi"]]))
        out.append(figure(run_dir, "pi_batch", "one sample at a time vs blocks"))
        out.extend(tsv_table(run_dir, "pi_batch.tsv",
                             ["mode", "per sample (M samples/s)", "blocks (M samples/s)"]))
    if s.get("spawn") or s.get("spawn_memory"):
        out.append("## What a worker costs to start and to keep\n")
        out.append(figure(run_dir, "spawn_latency", "creation latency"))
        out.extend(tsv_table(run_dir, "spawn_latency.tsv",
                             ["kind (placement)", "median us", "min us", "max us"]))
        out.append(figure(run_dir, "spawn_memory", "memory of a forked worker"))
        out.extend(tsv_table(run_dir, "spawn_memory.tsv",
                             ["parent MiB", "RSS read", "PSS read", "USS read", "RSS write",
                              "PSS write", "USS write"]))
    if s.get("rng") or s.get("rng_streams"):
        out.append("## Random numbers in forked workers\n")
        streams = s.get("rng_streams", {})
        if streams:
            out.append("| seeding | identical worker pairs |")
            out.append("|---|---:|")
            for k, v in sorted(streams.items()):
                out.append("| %s | %s |" % (k, "-" if not v else "%.0f%%" % (100 * v["median"])))
            out.append("")
        out.append(figure(run_dir, "rng", "generator throughput"))
        out.extend(tsv_table(run_dir, "rng.tsv", ["threads", "median M/s", "min", "max"]))
    if s.get("counter"):
        out.append("## A shared counter\n")
        out.append(figure(run_dir, "counter", "lost updates and cost per increment"))
        out.extend(tsv_table(run_dir, "counter.tsv",
                             ["variant", "workers", "lost updates %", "ns per increment"]))
    return out


def queues(run_dir, s):
    """The sections of the queue, find-primes, payload and memo experiments, where measured."""
    out = []
    if s.get("queue") or s.get("queue_loss"):
        out.append("## Work queues\n")
        out.append(figure(run_dir, "queue", "throughput and latency by message size"))
        out.extend(tsv_table(run_dir, "queue.tsv", ["size (B)"] + sorted(s.get("queue", {}))))
        loss = s.get("queue_loss", {})
        if loss:
            out.append("A worker killed in the middle of a run:\n")
            out.append("| transport | jobs lost | requeued | duplicates |")
            out.append("|---|---:|---:|---:|")
            for k, v in sorted(loss.items()):
                cells = ["-" if not v.get(c) else "%g" % v[c]["median"]
                         for c in ("lost_jobs", "requeued", "duplicates")]
                out.append("| %s | %s |" % (k, " | ".join(cells)))
            out.append("")
    if s.get("find_primes"):
        out.append("## Finding primes with a queue of jobs\n")
        out.append(figure(run_dir, "find_primes_jobsize", "time vs job size"))
        out.append(figure(run_dir, "find_primes_workers", "time vs workers"))
    if s.get("payload"):
        out.append("## Passing a large object to workers\n")
        out.append(figure(run_dir, "payload", "time by object size and hand-off"))
        out.extend(tsv_table(run_dir, "payload.tsv",
                             ["size (KiB)"] + [w for w in ("serial", "pipe", "file", "shared")
                                               if w in s["payload"]]))
    if s.get("memo"):
        out.append("## A memo cache on disk\n")
        for k, v in sorted(s["memo"].items()):
            disk = v.get("served_from_disk")
            out.append("- %s: %s%s" % (k, fmt_ns(v["ns"]["median"]),
                                       " (from disk)" if disk and disk["median"] >= 1 else ""))
        out.append("")
    return out


def redis_bench(run_dir, s):
    """Redis over a Unix socket and TCP loopback, ipclab's client beside redis-benchmark."""
    rb = s.get("redis_bench", {})
    if not rb:
        return []
    out = ["## Redis: Unix socket vs TCP loopback by pipeline depth\n",
           figure(run_dir, "redis_bench", "requests per second and the Unix/TCP ratio by depth")]

    def rps(client, transport, clients, depth, place="other-core"):
        p = rb.get(client, {}).get(transport, {}).get(place, {}).get("%d/%d" % (clients, depth))
        return p and p.get("rps") and p["rps"]["median"]

    def p99(client, transport, clients, depth):
        p = rb.get(client, {}).get(transport, {}).get("other-core", {}).get(
            "%d/%d" % (clients, depth))
        return p and p.get("p99_us") and p["p99_us"]["median"]

    def k(v):
        return "-" if not v else "%.0f k" % (v / 1e3)

    def x(a, b):
        return "-" if not a or not b else "%.2f" % (a / b)
    counts = sorted({p["clients"] for cl in rb.values() for tr in cl.values()
                     for pts in tr.values() for p in pts.values()})
    depths = sorted({p["pipeline"] for cl in rb.values() for tr in cl.values()
                     for pts in tr.values() for p in pts.values()})
    for c in counts:
        out.append("Requests per second, %d client%s, server on the other core (redis-benchmark "
                   "= rb; ipclab/rb is ipclab's client as a fraction of redis-benchmark's):\n"
                   % (c, "" if c == 1 else "s"))
        out.append("| depth | ipclab unix | ipclab tcp | unix/tcp | rb unix | rb tcp | unix/tcp "
                   "| ipclab/rb unix | ipclab/rb tcp | ipclab p99 unix (us) |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for d in depths:
            iu, it = rps("ipclab", "unix", c, d), rps("ipclab", "tcp", c, d)
            ru, rt = rps("redis-benchmark", "unix", c, d), rps("redis-benchmark", "tcp", c, d)
            q = p99("ipclab", "unix", c, d)
            out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                d, k(iu), k(it), x(iu, it), k(ru), k(rt), x(ru, rt), x(iu, ru), x(it, rt),
                "-" if q is None else "%.1f" % q))
        out.append("")
    same = [(cl, tr, d) for cl in sorted(rb) for tr in ("unix", "tcp") for d in depths
            if rps(cl, tr, 1, d, "same-core")]
    if same:
        out.append("Server on the client's own core (one client):\n")
        out.append("| client | transport | depth | same core | other core |")
        out.append("|---|---|---:|---:|---:|")
        for cl, tr, d in same:
            out.append("| %s | %s | %d | %s | %s |" % (cl, tr, d, k(rps(cl, tr, 1, d, "same-core")),
                                                      k(rps(cl, tr, 1, d))))
        out.append("")
    return out


def write(run_dir):
    s = load(run_dir)
    out = []
    env, ctx = s.get("env", {}), s.get("context", {})
    out.append("# ipclab report\n")
    out.append("Run `%s`, profile `%s`. %s.\n" % (env.get("run_id", os.path.basename(run_dir)),
                                                 env.get("profile", "?"), subtitle(s)))
    out.append("## Environment\n\n```")
    keys = ["cpu_model", "cpus_online", "affinity", "placement", "kernel", "compiler",
            "c_flags", "build_type", "git_sha", "liburing", "hiredis", "redis_server",
            "libbenchmark_note"]
    for k in keys:
        if k in ctx:
            out.append("%s: %s" % (k, ctx[k]))
    for k in ("library_build_type", "host_name", "date"):
        if k in ctx:
            out.append("%s: %s" % (k, ctx[k]))
    for k, v in env.items():
        if k not in ctx:
            out.append("%s: %s" % (k, v))
    out.append("```\n")

    out.append("## The chapter's claims on this machine\n")
    out.append("| id | claim | experiment | figure | verdict | measured |")
    out.append("|---|---|---|---|---|---|")
    for cid, claim, experiment, fig, verdict, detail in claims.evaluate(s):
        # Only figures this run drew: a claim judged from a fallback has none of its own.
        drawn = fig and os.path.exists(os.path.join(run_dir, fig + ".svg"))
        link = "[%s](%s.svg)" % (fig, fig) if drawn else "-"
        out.append("| %s | %s | %s | %s | **%s** | %s |" % (cid, claim, experiment, link,
                                                              verdict, detail))
    out.append("\nThresholds behind the verdicts (`plots/claims.py`):\n")
    for key, (value, meaning) in claims.THRESHOLDS.items():
        out.append("- `%s` = %g: %s" % (key, value, meaning))
    out.append("")

    if s.get("check"):
        out.append("## What one check costs\n")
        out.append(figure(run_dir, "check_cost", "ns per check by backend"))
        out.append("| backend | median | min | max | false sharing | poller on the other core |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for key, c in sorted(s["check"].items(), key=lambda kv: kv[1]["ns"]["median"]):
            # The contended runs put a server on the benchmark's own core.
            cont = s.get("contended", {}).get(c["backend"], {}) \
                if c.get("server") in (None, "same-core") else {}
            fs, po = cont.get("false-sharing"), cont.get("poller")
            out.append("| %s | %s | %s | %s | %s | %s |" % (
                key, fmt_ns(c["ns"]["median"]), fmt_ns(c["ns"]["min"]), fmt_ns(c["ns"]["max"]),
                fmt_ns(fs and fs["median"]), fmt_ns(po and po["median"])))
        out.append("")

    if s.get("raise"):
        out.append("## From a raise to a check that sees it\n")
        out.append(figure(run_dir, "raise_to_seen", "raise-to-seen latency by backend"))
        cl = s.get("cacheline")
        if cl and cl.get("one_way_ns"):
            out.append("A cache line to the other core and back: %s (one way %s).\n" % (
                fmt_ns(cl["round_trip_ns"]["median"]), fmt_ns(cl["one_way_ns"]["median"])))
        out.append("| backend | median | min | max |")
        out.append("|---|---:|---:|---:|")
        for key, r in sorted(s["raise"].items(), key=lambda kv: kv[1]["ns"]["median"]):
            out.append("| %s | %s | %s | %s |" % (key, fmt_ns(r["ns"]["median"]),
                                                  fmt_ns(r["ns"]["min"]), fmt_ns(r["ns"]["max"])))
        out.append("")

    if s.get("sweep"):
        out.append("## How often to check\n")
        out.append(figure(run_dir, "sweep_overhead", "overhead vs check interval"))
        out.append(figure(run_dir, "sweep_stop", "stop latency vs check interval"))
        backends = sorted(s["sweep"])
        ks = sorted({int(k) for b in backends for k in s["sweep"][b].get("prime", {})})
        out.append("Wall time with the flag / without (a prime: every candidate tried):\n")
        out.append("| K | " + " | ".join(backends) + " |")
        out.append("|---:|" + "---:|" * len(backends))
        for k in ks:
            cells = []
            for b in backends:
                r = claims.sweep_ratio(s, b, k)
                cells.append("-" if r is None else "%.3g" % r)
            out.append("| %d | %s |" % (k, " | ".join(cells)))
        out.append("\nEach point verifies a number without a flag and then with the backend, "
                   "back to back; the number is the largest of a ladder that fits the "
                   "point's time budget (the label in `bench.json`).\n")

    if s.get("verify"):
        out.append("## The chapter's five numbers\n")
        out.append(figure(run_dir, "verify_wall", "end-to-end time per backend and strategy"))
        out.append("Total of the per-number medians (ms), median of %s run(s):\n" %
                   s.get("verify_repetitions", "?"))
        out.append("| flag | serial | pool | less-naive |")
        out.append("|---|---:|---:|---:|")
        for flag in sorted(s["verify"]):
            cells = []
            for strat in ("serial", "pool", "less-naive"):
                cell = s["verify"][flag].get(strat)
                cells.append("-" if not cell else "%.1f" % (
                    sum(v["wall_ns"]["median"] for v in cell.values()) / 1e6))
            out.append("| %s | %s |" % (flag, " | ".join(cells)))
        atomic = s["verify"].get("atomic", {})
        ser = atomic.get("serial", {}).get(BOOK_PRIME)
        pool = atomic.get("pool", {}).get(BOOK_PRIME)
        none_pool = s["verify"].get("none", {}).get("pool", {}).get(BOOK_PRIME)
        if ser and pool:
            out.append("\nOn %s (a prime), flag atomic: serial / pool = **%.2fx**." % (
                BOOK_PRIME, ser["wall_ns"]["median"] / pool["wall_ns"]["median"]))
        if pool and none_pool:
            out.append("Checking the atomic flag every 1000 candidates vs no flag: %s." %
                       claims.pct(pool["wall_ns"]["median"] / none_pool["wall_ns"]["median"]))
        out.append("")

    out.extend(processes_vs_threads(run_dir, s))
    out.extend(queues(run_dir, s))
    out.extend(redis_bench(run_dir, s))

    if s.get("errors"):
        out.append("## Not measured in this run\n")
        for name, msg in sorted(s["errors"].items()):
            out.append("- `%s`: %s" % (name, msg))
        out.append("")

    out.append("Raw data: `bench-<family>.json` (every repetition and the environment; compare "
               "two runs with `make compare A=... B=...`), `verify.jsonl`, the TSV files behind "
               "the figures.\n")
    path = os.path.join(run_dir, "REPORT.md")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    os.replace(path + ".tmp", path)


def main(argv):
    if len(argv) == 3 and argv[1] == "--subtitle":
        print(subtitle(load(argv[2])))
        return 0
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: report.py [--subtitle] RUN_DIR", file=sys.stderr)
        return 2
    write(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
