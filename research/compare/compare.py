#!/usr/bin/env python3
"""Compares the selections of car, superfilter and lcg on the same real Alpaca records.

Pool: every 6th record of the 6,124 bundled real Alpaca records (data/alpaca-selections:
CaR 1013, Cherry 3111, LCG-NB 1k, LCG-DistilBERT 1k; output-less rows left out), about
1,000 records. Each method keeps 10% of the pool. The IFD scores (SmolLM2-135M-Instruct,
template none) come from the superfilter run; the quality scores from gleaner's default
quality model (car's run); the clusters from car's k-means (k = sqrt(n/2)), so "clusters
covered" is measured on one common clustering.

    python3 research/compare/compare.py [--gleaner target/release/gleaner] [--every 6]

Writes research/compare/compare.txt (the table and the commands) and the raw per-method
selections under /tmp/gleaner-compare.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SEL = os.path.join(ROOT, "data", "alpaca-selections")
FILES = ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json", "lcg_distilbert_lr1e-6_1k.json"]


def key(r):
    return (r["instruction"], r.get("input", ""), r["output"])


def run(cmd):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    return time.time() - t0, p.stderr


def side_column(g, side, column):
    """Reads one column of a Parquet side file (pyarrow: the reference venv, or bench/work/pydeps)."""
    sys.path.insert(0, os.path.join(ROOT, "bench", "work", "pydeps"))
    import pyarrow.parquet as pq
    t = pq.read_table(side).to_pydict()
    return dict(zip(t["row_index"], t[column]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--every", type=int, default=6)
    ap.add_argument("--out", default="/tmp/gleaner-compare")
    a = ap.parse_args()
    g = a.gleaner
    os.makedirs(a.out, exist_ok=True)
    allrecs = []
    for f in FILES:
        for r in json.load(open(os.path.join(SEL, f), encoding="utf-8")):
            if r.get("output"):
                allrecs.append({"instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"]})
    pool = allrecs[:: a.every]
    n = len(pool)
    budget = n // 10
    pool_path = os.path.join(a.out, "pool.json")
    json.dump(pool, open(pool_path, "w", encoding="utf-8"), indent=4, ensure_ascii=False)
    work = os.path.join(a.out, "work")
    cmds = {
        "superfilter": [g, "run", "superfilter", pool_path, "-o", os.path.join(a.out, "superfilter.json"), "--work-dir", work, "--budget", str(budget)],
        "car": [g, "run", "car", pool_path, "-o", os.path.join(a.out, "car.json"), "--work-dir", work, "--quality-model", "default", "--n1", str(budget // 2), "--n2", "1"],
        "lcg": [g, "run", "lcg", pool_path, "-o", os.path.join(a.out, "lcg.json"), "--work-dir", work, "--budget", str(budget), "--k", "10", "--pseudo", "20", "--seeds", "2"],
    }
    times = {}
    for m, c in cmds.items():
        times[m], _ = run(c)
    ifd = side_column(g, os.path.join(work, "ifd-none.parquet"), "ifd_ppl")
    quality = side_column(g, os.path.join(work, "quality.parquet"), "quality")
    cluster = side_column(g, os.path.join(work, "clusters.parquet"), "cluster")
    index = {}
    for i, r in enumerate(pool):
        index.setdefault(key(r), i)
    sel = {}
    for m in cmds:
        recs = json.load(open(os.path.join(a.out, m + ".json"), encoding="utf-8"))
        sel[m] = [index[key(r)] for r in recs]
    k = len(set(cluster.values()))

    def mean(xs):
        xs = [x for x in xs if isinstance(x, (int, float)) and x == x]
        return statistics.fmean(xs) if xs else float("nan")

    lines = [f"pool: {n} real Alpaca records (every {a.every}th of the bundled selections); budget about 10% each", ""]
    lines.append("| method | kept | clusters covered (of %d) | mean quality | mean ifd_ppl | mean response chars | median response chars |" % k)
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for m, s in [("all rows", list(range(n)))] + list(sel.items()):
        lens = [len(pool[i]["output"]) for i in s]
        lines.append("| %s | %d | %d | %.4f | %.4f | %.0f | %.0f |" % (
            m, len(s), len({cluster[i] for i in s}), mean(quality[i] for i in s), mean(ifd[i] for i in s),
            statistics.fmean(lens), statistics.median(lens)))
    lines += ["", "pairwise overlap (rows in both):", ""]
    ms = list(sel)
    lines.append("| | " + " | ".join(ms) + " |")
    lines.append("|---|" + "---:|" * len(ms))
    for x in ms:
        lines.append("| %s | " % x + " | ".join(str(len(set(sel[x]) & set(sel[y]))) for y in ms) + " |")
    lines += ["", "commands:"] + ["  " + " ".join(os.path.relpath(p, ROOT) if p.startswith(ROOT) else p for p in c[1:]) for c in cmds.values()]
    text = "\n".join(lines)
    print(text)
    open(os.path.join(HERE, "compare.txt"), "w", encoding="utf-8").write(text + "\n")


if __name__ == "__main__":
    main()
