#!/usr/bin/env python3
"""Scale runs with wall time and peak RSS per stage: 200,000 records through embed -> PCA +
k-means -> selection (preset lcg), and `run car` on the 6,124 real records (preset car).

    python3 research/scale/scale.py [--preset lcg] [--rows 200000] [--precision auto]
        [--gleaner target/release/gleaner] [--out research/scale/scale.txt]
    python3 research/scale/scale.py --preset car --rows 0 --out research/scale/car_6k.txt

Data: the 6,124 bundled real Alpaca records (data/alpaca-selections: CaR 1013, Cherry 3111,
LCG-NB 1k, LCG-DistilBERT 1k, deduplicated on instruction+input+output, output-less rows left
out), replicated to --rows rows. Copy c >= 1 of a record gets " (variant c)" appended to its
instruction, so every row is a distinct text with its own row id; the embedding work per row is
that of a real instruction. Written as JSONL under /tmp/gleaner-scale.

--rows 0 uses the 6,124 records once, unchanged.

Preset car: `gleaner run car POOL.jsonl -o SEL.jsonl --quality-model default` (quality scoring
with gleaner's default scorer, CaR text embeddings, PCA 0.95, k = sqrt(n/2), n1 1000, n2 1).

Preset lcg: `gleaner run lcg BIG.jsonl -o SEL.jsonl --k-rule sqrt-n-8` (LCG's embedded text
"input + ' ' + instruction"; all-MiniLM-L6-v2; PCA 0.95; k-means with k = sqrt(n/8); the
NB classifier; budget 1000), under /usr/bin/time -v. gleaner prints its own per-stage table
(wall seconds and peak RSS at the end of each stage); the script adds the process peak RSS
and compares it with the embedding matrix (rows x 384 x 4 bytes) plus the model file.

Writes research/scale/scale.txt (commands, the stage table, peak RSS, machine load). Check
`uptime` first: run it on a quiet machine.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "regression", "presets"))
from pool import pool  # noqa: E402  (the one home of the real-record pool)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--preset", choices=["lcg", "car"], default="lcg")
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--work", default="/tmp/gleaner-scale")
    ap.add_argument("--out", default=os.path.join(HERE, "scale.txt"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    base = pool()
    rows = args.rows or len(base)
    big = os.path.join(args.work, f"alpaca_{rows}.jsonl")
    with open(big, "w", encoding="utf-8") as f:
        for i in range(rows):
            r = dict(base[i % len(base)])
            c = i // len(base)
            if c:
                r["instruction"] = f"{r['instruction']} (variant {c})"
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    sel = os.path.join(args.work, "selected.jsonl")
    wd = os.path.join(args.work, "work")
    subprocess.run(["rm", "-rf", wd, sel])
    cmd = ["/usr/bin/time", "-v", args.gleaner, "--precision", args.precision, "run", args.preset, big,
           "-o", sel, "--work-dir", wd]
    cmd += ["--k-rule", "sqrt-n-8"] if args.preset == "lcg" else ["--quality-model", "default"]
    up0 = open("/proc/loadavg").read().split()[0]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
    wall = time.perf_counter() - t0
    up1 = open("/proc/loadavg").read().split()[0]
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-4000:])
        sys.exit(f"failed: {' '.join(cmd)}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    stage = p.stderr[p.stderr.index("  stage "):]
    stage = stage[: stage.index("Command being timed")] if "Command being timed" in stage else stage
    stage = "\n".join(line for line in stage.splitlines() if not line.startswith("\t"))
    model = os.path.expanduser("~/.cache/gleaner/models/all-MiniLM-L6-v2/model.safetensors")
    model_mb = os.path.getsize(model) / 2**20 if os.path.exists(model) else float("nan")
    matrix_mb = rows * 384 * 4 / 2**20
    kept = sum(1 for _ in open(sel, encoding="utf-8"))
    summary = [line for line in p.stderr.splitlines() if "rows in" in line or "kept" in line or "dropped" in line]
    lines = [
        f"# scale run, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"command: {' '.join(cmd)}",
        f"data: {len(base)} real Alpaca records replicated to {rows} distinct rows ({big})",
        f"1-min load before / after: {up0} / {up1}; cpu: {os.cpu_count()} cores",
        f"process wall: {wall:.1f} s; peak RSS (time -v): {rss_kb / 1024:.0f} MiB",
        f"embedding matrix {rows} x 384 f32: {matrix_mb:.0f} MiB; model file {model_mb:.0f} MiB; "
        f"sum {matrix_mb + model_mb:.0f} MiB; peak RSS / sum = {rss_kb / 1024 / (matrix_mb + model_mb):.2f}",
        f"selected rows written: {kept}",
        "",
        "gleaner's stage table (wall s, peak RSS MiB at the end of the stage):",
        stage.rstrip(),
        "",
        "summary lines:",
        *summary,
    ]
    open(args.out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
