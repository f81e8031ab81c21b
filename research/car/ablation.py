#!/usr/bin/env python3
"""CaR ablation: top-n1 only vs n1 + the best n2 of each cluster.

Runs `gleaner run car` once on a real pool (quality from gleaner's default scorer, MiniLM,
PCA 0.95, k-means with k = sqrt(n/2)), then `gleaner select car` on its side files with
n2 = 0 (top-n1 only) and n2 = 1 (CaR), for a few n1. Reports kept rows, clusters covered and
the mean quality of each selection.

Pool: the bundled real Alpaca selections (data/alpaca-selections, records with an output), or
every --every-th of them.

    python3 research/car/ablation.py [--every 6] [--gleaner target/release/gleaner]

Writes research/car/ablation.txt.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SEL = os.path.join(ROOT, "data", "alpaca-selections")
FILES = ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json", "lcg_distilbert_lr1e-6_1k.json"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--every", type=int, default=6)
    ap.add_argument("--out", default="/tmp/gleaner-compare", help="work folder; shared with research/compare so side files are reused")
    a = ap.parse_args()
    g = a.gleaner
    os.makedirs(a.out, exist_ok=True)
    pool = []
    for f in FILES:
        for r in json.load(open(os.path.join(SEL, f), encoding="utf-8")):
            if r.get("output"):
                pool.append({"instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"]})
    pool = pool[:: a.every]
    n = len(pool)
    pool_path = os.path.join(a.out, "pool.json")
    json.dump(pool, open(pool_path, "w", encoding="utf-8"), indent=4, ensure_ascii=False)
    work = os.path.join(a.out, "work")
    base = [g, "run", "car", pool_path, "-o", os.path.join(a.out, "car.json"), "--work-dir", work, "--quality-model", "default"]
    p = subprocess.run(base, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr)
    sys.path.insert(0, os.path.join(ROOT, "bench", "work", "pydeps"))
    import pyarrow.parquet as pq
    q = pq.read_table(os.path.join(work, "quality.parquet")).to_pydict()
    c = pq.read_table(os.path.join(work, "clusters.parquet")).to_pydict()
    quality = dict(zip(q["row_index"], q["quality"]))
    cluster = dict(zip(c["row_index"], c["cluster"]))
    k = len(set(cluster.values()))
    index = {}
    for i, r in enumerate(pool):
        index.setdefault((r["instruction"], r["input"], r["output"]), i)
    lines = [f"pool: {n} real Alpaca records (every {a.every}th of data/alpaca-selections); k = {k} clusters", "",
             "| n1 | n2 | kept | clusters covered | mean quality (kept) | mean quality (all) |", "|---:|---:|---:|---:|---:|---:|"]
    allq = statistics.fmean(quality.values())
    for n1 in (n // 100, n // 20, n // 10):
        for n2 in (0, 1):
            out = os.path.join(a.out, f"sel_{n1}_{n2}.json")
            cmd = [g, "select", "car", pool_path, "-o", out, "--score", os.path.join(work, "quality.parquet"),
                   "--cluster", os.path.join(work, "clusters.parquet"), "--n1", str(n1), "--n2", str(n2)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(p.stderr)
            rows = [index[(r["instruction"], r.get("input", ""), r["output"])] for r in json.load(open(out, encoding="utf-8"))]
            lines.append("| %d | %d | %d | %d of %d | %.4f | %.4f |" % (
                n1, n2, len(rows), len({cluster[i] for i in rows}), k, statistics.fmean(quality[i] for i in rows), allq))
    lines += ["", "commands:", "  " + " ".join(base[1:]), "  select car POOL -o OUT --score WORK/quality.parquet --cluster WORK/clusters.parquet --n1 N1 --n2 N2"]
    text = "\n".join(lines)
    print(text)
    open(os.path.join(HERE, "ablation.txt"), "w", encoding="utf-8").write(text + "\n")


if __name__ == "__main__":
    main()
