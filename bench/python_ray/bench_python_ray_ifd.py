#!/usr/bin/env python3
"""IFD throughput of the three ways to run gleaner's IFD scorer on the same rows, in one run:
the CLI (`gleaner score ifd`), Python `datasets.map(batched=True)` with `gleaner.IfdScorer`,
and Ray Data `map_batches(gleaner.IfdScorer, ...)` on 2 actors x 1 CPU. Run it through
run.sh (it builds the venv and the wheel):

    bench/python_ray/run.sh [--n 1000] [--force]

Data: the first --n records of data/alpaca-selections/cherry_ifd_top6pct_3111.json (real Alpaca
pairs; data/README.md), written once to WORK/rows.parquet (and, for Ray, to WORK/ray/ as 4
Parquet files of consecutive rows, the pre-split input of the README's Ray recipe).
Model: SmolLM2-135M-Instruct, template none, max_length 1024, precision auto, as each path's
default. Threads: the CLI and the datasets path use every core (2 here); Ray runs
ray.init(num_cpus=2) with ActorPoolStrategy(size=2), num_cpus=1 per actor, so 1 thread each.

Timing (wall clock, time.perf_counter):
  cli       the whole `gleaner score ifd` process (read, model load, scoring, side file write);
  datasets  IfdScorer(...) construction (model load) + ds.map(batched=True, batch_size=--batch)
            + reading the scores back; the Parquet load_dataset is outside the timer;
  ray       ray.data.from_arrow(pre-split blocks).map_batches(...).materialize() (actor start-up and model
            load in each actor included); ray.init and shutdown are timed separately (ray_init_s).
tokens = the scored response tokens of the CLI's side file, sum(tokens_direct + tokens_cond),
the same count for every path; tokens_per_s = tokens / seconds; overhead_vs_cli =
seconds / cli seconds - 1 (the issue's target: below 10 %).
Memory: peak_rss_mb of the Ray run = the largest sum, over 0.2 s samples, of the RSS of this
driver process and all its descendants (GCS, raylet, workers, actors); for the CLI, the
child's ru_maxrss; for datasets, this process's ru_maxrss at the end of that path.
Agreement: every score column of the Python and Ray paths against the CLI's side file
(bitwise equal rows, max |difference|).

Writes --out (raw CSV, one row per path) and --machine (machine description, load average
before and after). Refuses to start when the 1-minute load average is above 1.5 unless --force.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pathlib
import platform
import resource
import subprocess
import sys
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "alpaca-selections" / "cherry_ifd_top6pct_3111.json"
COLUMNS = ["loss_direct", "loss_cond", "ifd_ppl", "ifd_loss", "tokens_direct", "tokens_cond"]


def tree_rss_bytes(root: int) -> int:
    """RSS of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read()
            fields = stat[stat.rindex(")") + 2 :].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = pages * page
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(os.getpid()))
            self.stop.wait(0.2)


def compare(got: dict[str, list], cli: dict[str, list]) -> tuple[int, float]:
    """Rows (over all score columns) not bitwise equal to the CLI's, and the max |difference|."""
    bad, worst = 0, 0.0
    for c in COLUMNS:
        for a, b in zip(got[c], cli[c]):
            if a is None or b is None:
                bad += a is not b
                continue
            if a == b or (math.isnan(a) and math.isnan(b)):
                continue
            bad += 1
            worst = max(worst, abs(a - b))
    return bad, worst


def load_avg() -> str:
    return open("/proc/loadavg").read().strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128, help="rows per datasets.map batch")
    ap.add_argument("--ray-batch", type=int, default=32,
                    help="rows per Ray batch: smaller batches balance the 2 actors (each batch is one "
                         "actor's work; with 128 rows, 8 batches of uneven length left one actor idle "
                         "at the end: +15.7%% over the CLI in one run; 32-row batches took 6-7%% less time in Ray-only runs)")
    ap.add_argument("--gleaner", default=str(pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "release" / "gleaner"))
    ap.add_argument("--work", default=str(REPO / "bench" / "results" / "python-ray-work"))
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "python_ray_ifd.csv"))
    ap.add_argument("--machine", default=str(REPO / "bench" / "results" / "machine_python_ray_ifd.txt"))
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    start_load = load_avg()
    if float(start_load.split()[0]) > 1.5 and not a.force:
        sys.exit(f"load average {start_load}: the machine is busy; rerun when quiet, or pass --force")

    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    import gleaner

    work = pathlib.Path(a.work)
    (work / "ray").mkdir(parents=True, exist_ok=True)
    rows = json.loads(DATA.read_text())[: a.n]
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, work / "rows.parquet")
    for old in (work / "ray").glob("*.parquet"):
        old.unlink()
    step = math.ceil(len(rows) / 4)
    for i in range(4):
        pq.write_table(table.slice(i * step, step).append_column("row", pa.array(range(i * step, min((i + 1) * step, len(rows))))),
                       work / "ray" / f"part-{i}.parquet")
    results = []

    # 1. CLI
    side = work / "cli.parquet"
    for p in work.glob("cli.parquet*"):
        p.unlink()
    t0 = time.perf_counter()
    subprocess.run([a.gleaner, "score", "ifd", str(work / "rows.parquet"), "-o", str(side)], check=True,
                   stderr=subprocess.DEVNULL)
    cli_s = time.perf_counter() - t0
    cli_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    cli_t = pq.read_table(side).sort_by("row_index")
    cli = {c: cli_t[c].to_pylist() for c in COLUMNS}
    tokens = sum(cli["tokens_direct"]) + sum(cli["tokens_cond"])
    results.append(dict(path="cli", seconds=cli_s, peak_rss_mb=cli_rss, mismatched=0, max_abs_diff=0.0,
                        note=f"gleaner score ifd rows.parquet (all cores, {os.cpu_count()})"))

    # 2. datasets.map(batched=True)
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    ds = datasets.load_dataset("parquet", data_files=str(work / "rows.parquet"), split="train",
                               cache_dir=str(work / "hf-cache"))
    t0 = time.perf_counter()
    scorer = gleaner.IfdScorer()
    out = ds.map(scorer, batched=True, batch_size=a.batch, load_from_cache_file=False)
    got = {c: out[c] for c in COLUMNS}
    ds_s = time.perf_counter() - t0
    bad, worst = compare(got, cli)
    model = scorer.model
    results.append(dict(path="datasets.map", seconds=ds_s, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                        mismatched=bad, max_abs_diff=worst,
                        note=f"datasets {datasets.__version__}, batched=True, batch_size={a.batch}, threads={scorer.num_threads}"))
    del scorer

    # 3. Ray Data, 2 actors x 1 CPU
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ["RAY_AUTH_MODE"] = "disabled"
    sampler = Sampler()
    sampler.start()
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    init_s = time.perf_counter() - t0
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    t0 = time.perf_counter()
    # pre-split blocks, read in the driver: with 2 CPUs held by 2 actors, a read_parquet step
    # (which needs tasks of its own) never gets a CPU and the job hangs (README, "Scaling out")
    parts = [pq.read_table(p) for p in sorted((work / "ray").glob("*.parquet"))]
    mat = ray.data.from_arrow(parts).map_batches(
        gleaner.IfdScorer,
        batch_format="pyarrow",
        batch_size=a.ray_batch,
        compute=ray.data.ActorPoolStrategy(size=2),
        num_cpus=1,
    ).materialize()
    ray_s = time.perf_counter() - t0
    res = pa.concat_tables([ray.get(r) for r in mat.to_arrow_refs()]).sort_by("row")
    ray.shutdown()
    sampler.stop.set()
    sampler.join()
    bad, worst = compare({c: res[c].to_pylist() for c in COLUMNS}, cli)
    results.append(dict(path="ray-data-2-actors", seconds=ray_s, peak_rss_mb=sampler.peak / 2**20, mismatched=bad,
                        max_abs_diff=worst, ray_init_s=init_s,
                        note=f"ray {ray.__version__}, ray.init(num_cpus=2), ActorPoolStrategy(size=2), num_cpus=1, "
                             f"batch_size={a.ray_batch}, 4 input files; peak = driver + descendants RSS"))

    end_load = load_avg()
    loaded = "yes" if float(end_load.split()[0]) > 2.5 or a.force else "no"
    fields = ["path", "rows", "tokens", "seconds", "tokens_per_s", "overhead_vs_cli", "peak_rss_mb", "ray_init_s",
              "mismatched_values", "max_abs_diff", "note"]
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in results:
            w.writerow(dict(
                path=r["path"], rows=len(rows), tokens=tokens, seconds=f"{r['seconds']:.3f}",
                tokens_per_s=f"{tokens / r['seconds']:.1f}", overhead_vs_cli=f"{r['seconds'] / cli_s - 1:+.4f}",
                peak_rss_mb=f"{r['peak_rss_mb']:.0f}", ray_init_s=f"{r.get('ray_init_s', 0):.2f}" if "ray_init_s" in r else "",
                mismatched_values=r["mismatched"], max_abs_diff=f"{r['max_abs_diff']:.3g}", note=r["note"] + f"; loaded={loaded}"))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
    git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    pathlib.Path(a.machine).write_text(
        f"bench/python_ray/bench_python_ray_ifd.py --n {a.n} --batch {a.batch} --ray-batch {a.ray_batch} at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n"
        f"git: {git}\ncpu: {cpu}; cores: {os.cpu_count()}; amx: {'yes' if 'amx_bf16' in flags else 'no'}; memory: {mem}\n"
        f"kernel: {platform.release()}; python {platform.python_version()}; gleaner {gleaner.__version__} "
        f"(model {model[0]}, {model[1]}); pyarrow {pa.__version__}; "
        f"datasets {datasets.__version__}; ray {ray.__version__}\n"
        f"load average start: {start_load}\nload average end:   {end_load}\n")
    print(open(a.out).read())


if __name__ == "__main__":
    main()
