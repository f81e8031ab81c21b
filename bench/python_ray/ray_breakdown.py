"""Where the Ray path's time goes: Ray Data, 2 actors x 1 CPU, batch 32, on the pre-split blocks
that bench_python_ray_ifd.py writes (run it first). Each actor wraps gleaner.IfdScorer and
times its model load and its calls; prints the wall time and, per actor, load, scoring time,
and when its first batch started and its last finished (seconds after the job started).

    .venv-test/bin/python bench/python_ray/ray_breakdown.py
"""
import os, sys, time, pathlib
import pyarrow as pa, pyarrow.parquet as pq, ray, gleaner
work = pathlib.Path(__file__).resolve().parents[2] / "bench" / "results" / "python-ray-work"
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"; os.environ["RAY_AUTH_MODE"] = "disabled"

class Timed:
    def __init__(self):
        t0 = time.perf_counter()
        self.s = gleaner.IfdScorer()
        self.load = time.perf_counter() - t0
        self.busy = 0.0; self.first = None; self.last = None; self.pid = os.getpid()
    def __call__(self, b):
        t0 = time.perf_counter()
        if self.first is None: self.first = time.time()
        out = self.s(b)
        self.busy += time.perf_counter() - t0
        self.last = time.time()
        n = out.num_rows
        return out.append_column("busy", pa.array([self.busy] * n)).append_column("load", pa.array([self.load] * n)) \
                  .append_column("pid", pa.array([self.pid] * n)).append_column("first", pa.array([self.first] * n)).append_column("last", pa.array([self.last] * n))

ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
ray.data.DataContext.get_current().enable_progress_bars = False
parts = [pq.read_table(p) for p in sorted((work / "ray").glob("*.parquet"))]
t0w = time.time(); t0 = time.perf_counter()
mat = ray.data.from_arrow(parts).map_batches(Timed, batch_format="pyarrow", batch_size=32,
    compute=ray.data.ActorPoolStrategy(size=2), num_cpus=1).materialize()
wall = time.perf_counter() - t0
t = pa.concat_tables([ray.get(r) for r in mat.to_arrow_refs()])
ray.shutdown()
import collections
per = collections.defaultdict(lambda: [0, 0, 0, 0])
for pid, busy, load, first, last in zip(*(t[c].to_pylist() for c in ["pid", "busy", "load", "first", "last"])):
    p = per[pid]; p[0] = max(p[0], busy); p[1] = load; p[2] = first if p[2] == 0 else min(p[2], first); p[3] = max(p[3], last)
print(f"wall {wall:.1f}")
for pid, (busy, load, first, last) in per.items():
    print(f"actor {pid}: load {load:.1f} s, scoring {busy:.1f} s, first batch at +{first - t0w:.1f} s, last done at +{last - t0w:.1f} s")
