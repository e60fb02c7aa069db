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
# Backends whose checks go to a server process: the others are in-memory flags.
SERVER_BACKENDS = {"manager", "redis-unix", "redis-tcp"}


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


def pct_of(v):
    """An overhead (a fraction) for a table: +1.75%, -0.0231%, +1681%."""
    if v is None:
        return "-"
    return ("%+.0f%%" if abs(v) >= 10 else "%+.3g%%") % (100 * v)


def unsigned(text):
    return text[1:] if text.startswith("+") else text


def error_of(e):
    return "-" if e is None else "%+.0f%%" % e


def span(values, fmt):
    """"a" or "a-b" for the smallest and largest of values, each written with fmt; a unit
    both share is written once ("15-17.2 us", "1.9-14%")."""
    lo, hi = fmt(min(values)), fmt(max(values))
    if lo == hi:
        return lo
    for sep in (" ", "%", "x"):
        a, b = lo.rpartition(sep), hi.rpartition(sep)
        if a[1] and a[1:] == b[1:] and a[0] and b[0]:
            return "%s-%s%s%s" % (a[0], b[0], sep, a[2])
    return "%s-%s" % (lo, hi)


def times(v):
    """A ratio for prose: 0.034x, 2.7x, 169x."""
    return ("%.2g" if v < 10 else "%.0f") % v + "x"


def ks_of(ks):
    return ", ".join("%d" % k for k in ks)


def sweep_point(points, k):
    """A sweep point by K: the keys are numbers in convert.py and strings in summary.json."""
    return points.get(str(k)) or points.get(k) or {}


def model_verdicts(points, measured, predicted, noise=None):
    """[(K, measured, predicted, error %, status)] for the sweep points of one backend and
    number, K ascending; status is "holds" (|error| within model_within), "under" (measured
    above the prediction), "over", or "noise" (neither measured nor predicted above the
    noise level: the point does not test the model)."""
    within = claims.t("model_within")
    out = []
    for k, p in sorted(points.items(), key=lambda kv: int(kv[0])):
        m, pr = measured(p), p.get(predicted)
        err = claims.model_error(m, pr)
        if err is None:
            continue
        if noise is not None and max(abs(m), pr) <= noise:
            status = "noise"
        else:
            status = "holds" if abs(err) <= within else ("under" if err > 0 else "over")
        out.append((int(k), m, pr, err, status))
    return out


def holds_words(rows):
    """Where the model holds, in words: "holds within ±X% for K >= k" when the points that
    hold are every tested K from some K up, else the Ks themselves."""
    tested = [r for r in rows if r[4] != "noise"]
    good = [r for r in tested if r[4] == "holds"]
    if not good:
        return None
    x = "±%.0f%%" % max(abs(r[3]) for r in good)
    if len(good) == len(tested):
        return "holds within %s at every K tested (%s)" % (x, ks_of(r[0] for r in good))
    if len(good) > 1 and tested[-len(good):] == good:
        return "holds within %s for K >= %d" % (x, good[0][0])
    return "holds within %s at K = %s" % (x, ks_of(r[0] for r in good))


def ratio_span(rows):
    return span([r[1] / r[2] for r in rows], times) + " the prediction"


def overhead_words(backend, points, noise, c_ns):
    """One backend's overhead on the sweep's prime, model against measurement, in words."""
    rows = model_verdicts(points, lambda p: claims.med(p.get("overhead")),
                          "predicted_overhead", noise)
    if not rows:
        return None
    words = []
    h = holds_words(rows)
    if h:
        words.append(h)
    under = [r for r in rows if r[4] == "under"]
    if under:
        w = "under-predicts at K = %s (measured %s)" % (ks_of(r[0] for r in under),
                                                       ratio_span(under))
        # What each check cost the search, from the measurement alone: the extra wall time
        # over the checks one worker made (the two check in parallel). The model charges c.
        per = []
        for k, m, _, _, _ in under:
            p = sweep_point(points, k)
            checks, wall = claims.med(p.get("checks")), claims.med(p.get("wall_none_ns"))
            if checks and wall:
                per.append(m * wall / (checks / 2))
        if len(per) == len(under) and c_ns and \
                min(per) > c_ns * (1 + claims.t("model_within") / 100):
            w += ": each check cost the search %s (extra wall time / checks per worker), " \
                 "not c = %s" % (span(per, claims.ns), claims.ns(c_ns))
        words.append(w)
    over = [r for r in rows if r[4] == "over"]
    if over:
        w = "over-predicts at K = %s (measured %s)" % (ks_of(r[0] for r in over),
                                                      ratio_span(over))
        share = []
        for k, _, _, _, _ in over:
            p = sweep_point(points, k)
            cand, wall = claims.med(p.get("candidates")), claims.med(p.get("wall_none_ns"))
            if cand and wall and p.get("work_ns"):
                share.append(cand / 2 * p["work_ns"] / wall)
        if len(share) == len(over) and max(share) < claims.t("model_search_share"):
            w += ": at these points the search (candidates / 2 x w) is only %s of the wall " \
                 "time without a flag, the rest is starting the pool, and the model divides " \
                 "the checks' cost by the search alone" % span(
                     [100 * v for v in share], lambda v: "%.2g%%" % v)
        words.append(w)
    quiet = [r for r in rows if r[4] == "noise"]
    if quiet:
        words.append("not tested at K = %s: measured and predicted (at most %s) are both "
                     "within the noise" % (ks_of(r[0] for r in quiet),
                                           unsigned(pct_of(max(r[2] for r in quiet)))))
    return "- %s: %s." % (backend, "; ".join(words))


def stop_words(backend, points):
    """One backend's stop latency on the sweep's composite, model against measurement."""
    rows = model_verdicts(points, lambda p: claims.med(p.get("stop_latency_ns")),
                          "predicted_stop_ns")
    if not rows:
        return None
    words = []
    h = holds_words(rows)
    if h:
        words.append(h)
    for status, verb in (("under", "under-predicts"), ("over", "over-predicts")):
        sel = [r for r in rows if r[4] == status]
        if sel:
            words.append("%s at K = %s (measured %s where the model says %s)" % (
                verb, ks_of(r[0] for r in sel), span([r[1] for r in sel], claims.ns),
                span([r[2] for r in sel], claims.ns)))
    return "- %s: %s." % (backend, "; ".join(words))


def stop_floor(s):
    """The sentence on a stop-latency floor far above r, when every in-memory backend with an
    r (in the sweep or the model family) shows one; else None."""
    floors = {}
    for b in sorted(set(s.get("sweep", {})) | set(s.get("model", {}))):
        if b in SERVER_BACKENDS:
            continue
        pts = list(s.get("sweep", {}).get(b, {}).get("composite", {}).values())
        r = [p["raise_ns"] for p in pts if p.get("raise_ns") is not None]
        stops = [claims.med(p.get("stop_latency_ns")) for p in pts]
        m = s.get("model", {}).get(b, {})
        if m.get("raise_ns") is not None:
            r.append(m["raise_ns"])
        stops += [claims.med(iv.get("stop_latency_ns"))
                  for iv in m.get("intervals", {}).values()]
        stops = [v for v in stops if v is not None]
        if r and stops:
            floors[b] = (min(stops), sorted(r)[len(r) // 2])
    if not floors or any(lo < claims.t("model_stop_floor_x") * max(r, 0)
                         for lo, r in floors.values()):
        return None
    names = sorted(floors)
    return ("- Stop latency has a floor the model misses: on every in-memory backend (%s) the "
            "measured stop latency never fell below %s (%s), while r is %s. The search pays "
            "it on top of K x w / 2: r, measured with a partner that does nothing but check, "
            "does not show it." % (
                ", ".join(names), span([floors[b][0] for b in names], claims.ns),
                ", ".join("%s %s" % (b, claims.ns(floors[b][0])) for b in names),
                span([floors[b][1] for b in names], claims.ns)))


def error_table(backends, sweep, kind, measured, predicted, show, noise=None):
    """Per K (rows) and backend (columns): measured vs predicted, and the error ("noise"
    where neither exceeds the noise level)."""
    ks = sorted({int(k) for b in backends for k in sweep[b].get(kind, {})})
    out = ["| K | " + " | ".join(backends) + " |", "|---:|" + "---:|" * len(backends)]
    for k in ks:
        cells = []
        for b in backends:
            p = sweep_point(sweep[b].get(kind, {}), k)
            m, pr = measured(p), p.get(predicted)
            quiet = noise is not None and m is not None and pr is not None and \
                max(abs(m), pr) <= noise
            cells.append("-" if m is None or pr is None else "%s vs %s (%s)" % (
                show(m), show(pr), "noise" if quiet else error_of(claims.model_error(m, pr))))
        out.append("| %d | %s |" % (k, " | ".join(cells)))
    return out + [""]


def cost_model(run_dir, s):
    """The cost model: its formulas, the model family (the chapter's K=1000 and the model's
    own K on the chapter's numbers) and the sweep (every K) against its predictions."""
    model, sweep = s.get("model", {}), s.get("sweep", {})
    # The sweep's backends with a prediction (rows from before the model have none).
    predicted = {kind: sorted(b for b in sweep if any(
        p.get(field) is not None for p in sweep[b].get(kind, {}).values()))
        for kind, field in (("prime", "predicted_overhead"), ("composite", "predicted_stop_ns"))}
    if not model and not predicted["prime"] and not predicted["composite"]:
        return []
    out = ["## Cost model\n",
           "With w the work of trial division per candidate, c the cost of one check of the "
           "flag and r the time from a raise to a check that sees it, checking every K "
           "candidates costs the search\n",
           "- overhead(K) = c / (K x w) of its time (one check per K candidates), and",
           "- stop latency(K) = K x w / 2 + r (a raise lands half way through a worker's chunk "
           "of K candidates, on average).\n",
           "The model's K for a target overhead is the smallest with c / (K x w) <= target "
           "(`ipclab verify --check-every auto`). w, c and r are measured on this machine once "
           "per backend by the benchmark process (and cached for its other points), pinned "
           "where the workers run: w and c where worker 0 runs, r between two freshly forked "
           "workers running the search loop, as the pool's do (one raising after 0.1 ms, the "
           "other checking after every candidate). "
           "Error = (measured - predicted) / predicted; the model holds at a point within "
           "±%g%% (`model_within`).\n" % claims.t("model_within")]
    if any(b in SERVER_BACKENDS for b in set(model) | set(predicted["prime"])
           | set(predicted["composite"])):
        out.append("A server backend's server runs on worker 0's CPU here (placement: %s), so "
                   "during a search its answers compete with worker 0's divisions for that "
                   "CPU, which c, measured with that CPU otherwise idle, does not include.\n"
                   % s.get("context", {}).get("placement", "not recorded"))
    noise, quiet = claims.overhead_noise(s)
    if model:
        out.append("On the chapter's numbers (overhead on the prime %s, every candidate tried; "
                   "stop latency on the composite 100000000063137227 = 94868329 x 1054092563, "
                   "where worker 1 is stopped by the flag), at the model's K for its target "
                   "and at the chapter's K=1000:\n" % BOOK_PRIME)
        out.append("| backend | interval | K | w | c | r | overhead predicted | measured | "
                   "error | stop predicted | measured | error |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        marked = False
        for b in sorted(model):
            m = model[b]
            # the model's own interval first, then the fixed ones
            for iv in sorted(m.get("intervals", {}), key=lambda i: (i != "auto", i)):
                p = claims.model_point(s, b, iv)
                k, kc = p["k"], m["intervals"][iv].get("k_composite")
                kcell = "-" if k is None else "%d" % k
                if kc is not None and k is not None and kc != k:
                    kcell += " / %d" % kc  # the composite's, when it differs
                name = iv if iv != "auto" or not p["target"] else \
                    "auto (%g%%)" % (100 * p["target"])
                ov, pov = p["overhead"], p["predicted_overhead"]
                oerr = error_of(claims.model_error(ov, pov))
                if ov is not None and pov is not None and max(abs(ov), pov) <= noise:
                    oerr += " (noise)"
                    marked = True
                out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    b, name, kcell, fmt_ns(m.get("work_ns")), fmt_ns(m.get("check_ns")),
                    fmt_ns(m.get("raise_ns")), unsigned(pct_of(pov)), pct_of(ov), oerr,
                    fmt_ns(p["predicted_stop_ns"]), fmt_ns(p["stop_ns"]),
                    error_of(claims.model_error(p["stop_ns"], p["predicted_stop_ns"]))))
        out.append("")
        if marked:
            out.append("(noise): measured and predicted overhead are both within this run's "
                       "noise, ±%.0f%% (%s): the error says nothing about the model.\n"
                       % (100 * noise, "from the sweep, below" if quiet else
                          "`model_noise_floor`"))
    if predicted["prime"] or predicted["composite"]:
        out.append(figure(run_dir, "model_overhead", "overhead vs K, measured and predicted"))
        out.append(figure(run_dir, "model_stop", "stop latency vs K, measured and predicted"))
        out.append("Over the sweep (every K; each point searches the largest number that fits "
                   "its time budget, so the smallest K search smaller numbers):\n")
    if predicted["prime"]:
        out.append("Overhead on a prime, measured vs predicted (error):\n")
        out.extend(error_table(predicted["prime"], sweep, "prime",
                               lambda p: claims.med(p.get("overhead")), "predicted_overhead",
                               lambda v: unsigned(pct_of(v)), noise))
        if quiet:
            out.append("This run's noise in a measured overhead: ±%.0f%%, the largest of %d "
                       "sweep points where the model predicts under %g%% (`model_quiet`). "
                       "Where neither the measured nor the predicted overhead exceeds it, a "
                       "point does not test the model.\n" % (
                           100 * noise, quiet, 100 * claims.t("model_quiet")))
        else:
            out.append("Measured overheads under %g%% (`model_noise_floor`) are taken as "
                       "noise.\n" % (100 * noise))
        for b in predicted["prime"]:
            c_ns = next((p["model_check_ns"] for p in sweep[b]["prime"].values()
                         if p.get("model_check_ns") is not None), None)
            line = overhead_words(b, sweep[b]["prime"], noise, c_ns)
            if line:
                out.append(line)
        out.append("")
    if predicted["composite"]:
        out.append("Stop latency on a composite, measured vs predicted (error):\n")
        out.extend(error_table(predicted["composite"], sweep, "composite",
                               lambda p: claims.med(p.get("stop_latency_ns")),
                               "predicted_stop_ns", claims.ns))
        for b in predicted["composite"]:
            line = stop_words(b, sweep[b]["composite"])
            if line:
                out.append(line)
    floor = stop_floor(s)
    if floor:
        out.append(floor)
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

    out.extend(cost_model(run_dir, s))

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
