#!/usr/bin/env python3
"""Reproduces the structure of LCG's released 1k selections with `gleaner run lcg`.

LCG's `train_dataset.json` (shipped as data/alpaca-selections/lcg_centroid_train_1600.json)
holds its 40 clusters x 40 centroid-nearest rows with their cluster labels. We train the
multinomial NB classifier on it (`--pseudo-labels`), rank a pool of other real Alpaca records
by confidence, and write 1000 rows: 4 seeds per cluster, then the least confident pool rows.

Pool: every record of car_selected_1013.json, cherry_ifd_top6pct_3111.json and
lcg_distilbert_lr1e-6_1k.json, deduplicated by (instruction, input). The released NB file is
*not* in the pool, so any overlap past the seeds is found independently. LCG's own pool was
Alpaca-cleaned (51.7k rows, not available offline), so only a partial overlap is expected.

    python3 research/lcg/reproduce_release.py [--gleaner target/release/gleaner] [--out DIR]

Prints a report and writes it to research/lcg/reproduce_release.txt.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.environ.get("GLEANER_DATA", os.path.join(ROOT, "data"))
SEL = os.path.join(DATA, "alpaca-selections")


def load(name):
    with open(os.path.join(SEL, name), encoding="utf-8") as f:
        return json.load(f)


def key(r):
    return (r["instruction"], r.get("input", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--out", default="/tmp/gleaner-lcg-repro")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    pool, seen = [], set()
    for name in ("car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_distilbert_lr1e-6_1k.json"):
        for r in load(name):
            k = key(r)
            if k not in seen:
                seen.add(k)
                pool.append({"instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"]})
    pool_path = os.path.join(a.out, "pool.json")
    with open(pool_path, "w", encoding="utf-8") as f:
        json.dump(pool, f, indent=4, ensure_ascii=False)
    out_path = os.path.join(a.out, "lcg_nb_1k.json")
    cmd = [a.gleaner, "run", "lcg", pool_path, "-o", out_path, "--pseudo-labels",
           os.path.join(SEL, "lcg_centroid_train_1600.json"), "--budget", "1000", "--seeds", "4"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.time() - t0
    if p.returncode != 0:
        sys.exit(p.stderr)
    ours = json.load(open(out_path, encoding="utf-8"))
    released = load("lcg_multinomialnb_1k.json")
    train = load("lcg_centroid_train_1600.json")
    train_keys = set(key(r) for r in train)
    head_same = sum(key(a_) == key(b_) for a_, b_ in zip(ours[:160], released[:160]))
    ours_tail = set(key(r) for r in ours[160:])
    rel_tail = set(key(r) for r in released[160:])
    rel_tail_in_pool = rel_tail & seen
    lines = [
        "command: " + " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd[1:]),
        f"pool: {len(pool)} distinct real Alpaca records (CaR 1013 + Cherry 3111 + LCG-DistilBERT 1k, deduplicated)",
        f"gleaner wall time: {secs:.1f}s",
        "",
        f"first 160 rows equal to the released NB file's first 160, position by position: {head_same}/160",
        f"our 840 low-confidence rows that are in the 1600 labelled rows: {len(ours_tail & train_keys)} (released file: {len(rel_tail & train_keys)})",
        f"released NB 840 tail rows that exist in our pool: {len(rel_tail_in_pool)}",
        f"  of those, also in our 840: {len(ours_tail & rel_tail_in_pool)}",
        f"overlap of the two 840-row tails: {len(ours_tail & rel_tail)}",
        "",
        "stderr of the run:",
        p.stderr.strip(),
    ]
    report = "\n".join(lines)
    print(report)
    with open(os.path.join(HERE, "reproduce_release.txt"), "w", encoding="utf-8") as f:
        f.write(report + "\n")


if __name__ == "__main__":
    main()
