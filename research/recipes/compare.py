#!/usr/bin/env python3
"""Every bundled recipe (but pre-experience, which picks prompts for a warm-up model rather than
a training set) against the two baselines, on real records, at one budget.

    python3 research/recipes/compare.py [--rows 1000] [--budget 100] [--seed 0]
        [--gleaner target/release/gleaner] [--out research/recipes/compare.md]

Data: a seeded random sample of --rows records from the 5,795 distinct real Alpaca records of
data/alpaca-selections (tests/regression/presets/pool.py builds the pool). Those records come
from four released selections, so for each record we know whether Cherry's LLaMA-7B IFD kept
it (cherry_ifd_top6pct_3111.json, Cherry's top 6% of Alpaca) and whether CaR's IQS + clusters
kept it (car_selected_1013.json). A method that agrees with a reference keeps its records more
often than random does.

Every recipe runs with `--budget` (the selection's size; CaR's n1, so CaR adds one row per
cluster) in one shared work directory, so the IFD, quality and embedding side files are
computed once and reused by the recipes that need them. Reports, per recipe: rows kept, the
share of kept rows in Cherry's and in CaR's released picks (against their base rates in the
sample), and the mean response length in characters. Writes a Markdown table to --out and the
raw per-recipe numbers as CSV beside it.
"""
import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SEL = os.path.join(ROOT, "data", "alpaca-selections")
RECIPES = ["random", "longest", "car", "cherry", "superfilter", "superfilter-d", "lcg",
           "ifd-length", "ifd-quality-car", "lcg-quality-floor"]


def key(r):
    return (r.get("instruction", ""), r.get("input", ""), r.get("output", ""))


def released(name):
    return {key(r) for r in json.load(open(os.path.join(SEL, name), encoding="utf-8"))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--work", default="/tmp/gleaner-compare")
    ap.add_argument("--out", default=os.path.join(HERE, "compare.md"))
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    pool_path = os.path.join(args.work, "pool.json")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests/regression/presets/pool.py"), pool_path], check=True)
    pool = json.load(open(pool_path, encoding="utf-8"))
    sample = random.Random(args.seed).sample(pool, args.rows)
    inp = os.path.join(args.work, f"sample_{args.rows}.json")
    json.dump(sample, open(inp, "w", encoding="utf-8"), ensure_ascii=False)
    cherry, car = released("cherry_ifd_top6pct_3111.json"), released("car_selected_1013.json")
    base_cherry = sum(key(r) in cherry for r in sample) / len(sample)
    base_car = sum(key(r) in car for r in sample) / len(sample)
    shared = os.path.join(args.work, "work")
    rows = []
    for name in RECIPES:
        out = os.path.join(args.work, f"{name}.json")
        cmd = [args.gleaner, "run", "--recipe", name, inp, "-o", out, "--work-dir", shared,
               "--budget", str(args.budget)]
        t0 = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"{name} failed:\n{p.stderr}")
        secs = time.time() - t0
        shutil.copy(os.path.join(shared, "summary.json"), os.path.join(args.work, f"{name}.summary.json"))
        kept = json.load(open(out, encoding="utf-8"))
        n = len(kept)
        rows.append({
            "recipe": name, "kept": n,
            "in_cherry": sum(key(r) in cherry for r in kept) / max(n, 1),
            "in_car": sum(key(r) in car for r in kept) / max(n, 1),
            "response_chars": sum(len(r.get("output", "")) for r in kept) / max(n, 1),
            "wall_s": round(secs, 1),
        })
        print(f"{name}: {n} kept in {secs:.0f}s", file=sys.stderr)
    with open(os.path.splitext(args.out)[0] + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(args.out, "w") as f:
        f.write(f"# Recipes against the baselines ({time.strftime('%Y-%m-%d', time.gmtime())})\n\n")
        f.write(f"`python3 research/recipes/compare.py --rows {args.rows} --budget {args.budget} --seed {args.seed}`: "
                f"{args.rows} real Alpaca records drawn at random (seed {args.seed}) from the 5,795 of "
                f"data/alpaca-selections; every recipe at `--budget {args.budget}`, default precision, one "
                f"shared work directory (wall times include side files computed for later recipes).\n\n")
        f.write(f"Base rates in the sample: {base_cherry:.3f} of the records are in Cherry's released picks, "
                f"{base_car:.3f} in CaR's.\n\n")
        f.write("| recipe | kept | share in Cherry's picks | share in CaR's picks | mean response chars | wall s |\n")
        f.write("|---|---:|---:|---:|---:|---:|\n")
        for r in rows:
            f.write(f"| `{r['recipe']}` | {r['kept']} | {r['in_cherry']:.3f} | {r['in_car']:.3f} | "
                    f"{r['response_chars']:.0f} | {r['wall_s']} |\n")
    print(open(args.out).read())


if __name__ == "__main__":
    main()
