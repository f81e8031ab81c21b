#!/usr/bin/env python3
"""Convert throughput: `gleaner convert` next to Python's json module on the same file.

The input is the largest bundled real file (data/alpaca-selections/cherry_ifd_top6pct_3111.json,
2.7 MB) replicated N times into one JSON array (default 40 → ~108 MB), written with
json.dump(indent=4) like the original. Measured, each best of --repeat runs:
- python-load: `json.load` of the file (parsing only);
- python-load+jsonl: `json.load` then writing JSONL with json.dumps per record;
- gleaner JSON→JSONL: `gleaner convert big.json -o big.jsonl`;
- gleaner JSON→Parquet: `gleaner convert big.json -o big.parquet`.
MB/s = input bytes / seconds. Appends rows to --out (CSV).

    python3 bench/io/bench_convert.py [--copies 40] [--repeat 3] [--out bench/results/io.csv]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def best(fn, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "bench", "work", "io"))
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "io.csv"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    src = json.load(open(os.path.join(ROOT, "data", "alpaca-selections", "cherry_ifd_top6pct_3111.json"), encoding="utf-8"))
    big = os.path.join(a.work, "big.json")
    json.dump(src * a.copies, open(big, "w", encoding="utf-8"), indent=4)
    size = os.path.getsize(big)
    mb = size / 1e6
    rows = len(src) * a.copies

    def py_load():
        json.load(open(big, encoding="utf-8"))

    def py_jsonl():
        recs = json.load(open(big, encoding="utf-8"))
        with open(os.path.join(a.work, "py.jsonl"), "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    def gl(ext):
        return lambda: subprocess.run([a.gleaner, "convert", big, "-o", os.path.join(a.work, "g." + ext)], check=True, capture_output=True)

    results = [
        ("python json.load", best(py_load, a.repeat)),
        ("python json.load + JSONL write", best(py_jsonl, a.repeat)),
        ("gleaner convert JSON->JSONL", best(gl("jsonl"), a.repeat)),
        ("gleaner convert JSON->Parquet", best(gl("parquet"), a.repeat)),
    ]
    new = not os.path.exists(a.out)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["tool", "rows", "input_mb", "seconds", "mb_per_s", "load_1min_at_start"])
        load = os.getloadavg()[0]
        for name, s in results:
            w.writerow([name, rows, "%.1f" % mb, "%.3f" % s, "%.1f" % (mb / s), "%.2f" % load])
            print("%-32s %8.3fs %8.1f MB/s" % (name, s, mb / s))
    print("input: %d rows, %.1f MB; python %s" % (rows, mb, sys.version.split()[0]))


if __name__ == "__main__":
    main()
