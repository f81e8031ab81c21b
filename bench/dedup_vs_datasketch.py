#!/usr/bin/env python3
"""Deduplication speed, same data, same run: datasketch MinHash-LSH and a pure-numpy exact dedup
against `gleaner dedup` (minhash and exact). Each tool runs in its own child process; wall time
and the child's peak RSS (getrusage RUSAGE_CHILDREN, measured by a fresh launcher per run) are
recorded.

    bash bench/dedup_vs_datasketch.sh [--rows N] [--threshold 0.8] [--perms 128]

Data: the real Alpaca records of data/alpaca-selections (CaR, Cherry, both LCG selections and
LCG's centroid set; about 7,700 records, duplicates across the selections included). With
--rows larger than that, records are replicated and replica k > 0 of a record gets the prefix
"[k] " on its instruction (so replicas are near-duplicates, not exact ones): this is stated in
the CSV's data column.

Compared text: instruction, input and output joined by newlines (gleaner `--fields all`).

  datasketch  normalisation like gleaner's (NFKC, lower case, punctuation -> space, whitespace
              folded), word 5-gram shingles, MinHash(num_perm) via update_batch, MinHashLSH(
              threshold, num_perm) with datasketch's own bands x rows; every row inserted then
              queried; candidates are taken as duplicates (datasketch does not verify) and
              merged with a union-find.
  numpy exact the same normalisation in Python, a 64-bit blake2b of each normalised text,
              np.unique(return_index) keeps the first of each.
  gleaner     gleaner dedup IN -o OUT --method minhash|exact (same threshold and permutations;
              bands x rows derived by gleaner; candidates verified by exact Jaccard).

Writes CSV rows (tool, method, rows, threads, seconds, records_per_s, peak_rss_mib,
duplicates_dropped, data) to --csv and a machine description to --machine.
"""
import argparse
import csv
import hashlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCES = ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json",
           "lcg_distilbert_lr1e-6_1k.json", "lcg_centroid_train_1600.json"]
PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text):
    t = unicodedata.normalize("NFKC", text).lower()
    t = "".join(" " if (unicodedata.category(c).startswith("P") or c.isspace()) else c for c in t)
    return " ".join(t.split())


def texts_of(path):
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            yield "\n".join(x for x in (r.get("instruction", ""), r.get("input", ""), r.get("output", "")) if x)


def make_data(rows, out):
    recs = []
    for s in SOURCES:
        for r in json.load(open(os.path.join(ROOT, "data", "alpaca-selections", s))):
            recs.append({"instruction": r.get("instruction", ""), "input": r.get("input", "") or "",
                         "output": r.get("output", "") or ""})
    n = rows or len(recs)
    with open(out, "w") as f:
        for i in range(n):
            r = dict(recs[i % len(recs)])
            k = i // len(recs)
            if k:
                r["instruction"] = f"[{k}] " + r["instruction"]
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    note = f"{len(recs)} real Alpaca records" + (f" replicated to {n} (replica k>0: instruction prefixed '[k] ')" if n > len(recs) else f" (first {n})" if n < len(recs) else "")
    return n, note


def run_datasketch(path, threshold, perms):
    import numpy as np
    from datasketch import MinHash, MinHashLSH
    lsh = MinHashLSH(threshold=threshold, num_perm=perms)
    sigs = []
    for i, t in enumerate(texts_of(path)):
        w = normalize(t).split()
        n = min(5, len(w))
        sh = {" ".join(w[j:j + n]).encode() for j in range(len(w) - n + 1)} if w else set()
        m = MinHash(num_perm=perms)
        m.update_batch(list(sh))
        lsh.insert(i, m)
        sigs.append(m)
    parent = list(range(len(sigs)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([find(i) for i in range(len(sigs))])
    print(json.dumps({"duplicates": int(len(roots) - len(np.unique(roots))), "bands": lsh.b, "rows": lsh.r}))


def run_numpy_exact(path):
    import numpy as np
    keys = np.fromiter((int.from_bytes(hashlib.blake2b(normalize(t).encode(), digest_size=8).digest(), "little")
                        for t in texts_of(path)), dtype=np.uint64)
    _, first = np.unique(keys, return_index=True)
    print(json.dumps({"duplicates": int(len(keys) - len(first))}))


def measure(cmd):
    """Runs cmd in a fresh launcher process; returns (seconds, peak RSS MiB of cmd, stdout)."""
    launcher = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
                "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);dt=time.perf_counter()-t;"
                "sys.stderr.write(p.stderr);"
                "print(json.dumps({'s':dt,'rss':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,'rc':p.returncode,'out':p.stdout}))")
    p = subprocess.run([sys.executable, "-c", launcher] + cmd, capture_output=True, text=True, check=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if r["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return r["s"], r["rss"] / 1024.0, r["out"], p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=0, help="rows (0: every real record once)")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--perms", type=int, default=128)
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--work", default=os.path.join(ROOT, "bench", "work", "dedup"))
    ap.add_argument("--csv", default=os.path.join(ROOT, "bench", "results", "dedup.csv"))
    ap.add_argument("--machine", default=os.path.join(ROOT, "bench", "results", "machine_dedup.txt"))
    ap.add_argument("--skip-datasketch", action="store_true", help="gleaner only (scale runs)")
    ap.add_argument("--_datasketch", help=argparse.SUPPRESS)
    ap.add_argument("--_numpy", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._datasketch:
        return run_datasketch(a._datasketch, a.threshold, a.perms)
    if a._numpy:
        return run_numpy_exact(a._numpy)
    os.makedirs(a.work, exist_ok=True)
    data = os.path.join(a.work, "pool.jsonl")
    n, note = make_data(a.rows, data)
    threads = os.cpu_count()
    uptime0 = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    runs = []
    if not a.skip_datasketch:
        runs.append(("datasketch", "minhash", [sys.executable, __file__, "--_datasketch", data,
                                               "--threshold", str(a.threshold), "--perms", str(a.perms)]))
        runs.append(("numpy", "exact", [sys.executable, __file__, "--_numpy", data]))
    for method in ("minhash", "exact"):
        runs.append(("gleaner", method, [a.gleaner, "dedup", data, "-o", os.path.join(a.work, f"out-{method}.jsonl"),
                                         "--method", method, "--threshold", str(a.threshold), "--perms", str(a.perms),
                                         "--work-dir", os.path.join(a.work, f"gleaner-{method}"),
                                         # the HTML report is not part of what the other tools do
                                         "--no-report"]))
    results = []
    for tool, method, cmd in runs:
        s, rss, out, err = measure(cmd)
        if tool == "gleaner":
            m = re.search(r"(\d+) duplicates", err)
            dups = int(m.group(1)) if m else -1
            extra = ""
        else:
            o = json.loads(out.strip().splitlines()[-1])
            dups = o["duplicates"]
            extra = f" (datasketch bands x rows {o['bands']} x {o['rows']})" if "bands" in o else ""
        print(f"{tool:<10} {method:<8} {n} rows  {s:8.2f} s  {n / s:10.0f} rec/s  peak RSS {rss:7.0f} MiB  duplicates {dups}{extra}")
        results.append({"tool": tool, "method": method, "rows": n, "threads": threads, "seconds": round(s, 3),
                        "records_per_s": round(n / s, 1), "peak_rss_mib": round(rss, 1), "duplicates_dropped": dups,
                        "data": note + extra})
    uptime1 = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    os.makedirs(os.path.dirname(a.csv), exist_ok=True)
    new = not os.path.exists(a.csv)
    with open(a.csv, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(results[0].keys()))
        if new:
            w.writeheader()
        w.writerows(results)
    by = {(r["tool"], r["method"]): r for r in results}
    ratios = []
    if ("datasketch", "minhash") in by:
        ratios.append(f"gleaner minhash / datasketch: {by[('datasketch', 'minhash')]['seconds'] / by[('gleaner', 'minhash')]['seconds']:.1f}x")
        ratios.append(f"gleaner exact / numpy exact: {by[('numpy', 'exact')]['seconds'] / by[('gleaner', 'exact')]['seconds']:.1f}x")
    for r in ratios:
        print(r)
    try:
        import datasketch
        import numpy
        versions = f"python {platform.python_version()}, datasketch {datasketch.__version__}, numpy {numpy.__version__}"
    except ImportError:
        versions = f"python {platform.python_version()}"
    gv = subprocess.run([a.gleaner, "--version"], capture_output=True, text=True).stdout.strip()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
    mem = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout.splitlines()[1]
    with open(a.machine, "a") as f:
        f.write(f"== dedup_vs_datasketch {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC ==\n"
                f"uptime start: {uptime0}\nuptime end:   {uptime1}\n"
                f"cpu: {model}; cores (nproc): {threads}; memory: {mem}\n{versions}; gleaner: {gv}\n"
                f"rows {n}, threshold {a.threshold}, perms {a.perms}; data: {note}\n" + "\n".join(ratios) + "\n\n")


if __name__ == "__main__":
    main()
