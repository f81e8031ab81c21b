#!/usr/bin/env python3
"""PCA(0.95) + k-means on 50,000 x 384 embeddings: scikit-learn vs gleaner-cluster, same data,
same run.

    .venv-ref/bin/python bench/cluster/bench_cluster.py [--rows 50000] [--threads N] [--fl]

Data: the 1,500 REAL all-MiniLM-L6-v2 embeddings of Alpaca records in
tests/golden/cluster/emb.npy (made by gen_cluster.py), replicated to --rows rows: row i is
emb[i % 1500] plus Gaussian jitter (sigma 0.005 per coordinate, numpy seed 0), then
L2-renormalised, float32. This is stated in results.csv's data note and in machine.txt. It
keeps the real embedding geometry (topic clusters, anisotropic spectrum) at the benchmark
size; it is not 50,000 distinct texts.

Steps, each timed in this process (scikit-learn) or by the Rust example (gleaner):
  scikit-learn  PCA(n_components=0.95, random_state=42).fit_transform   (solver auto ->
                covariance_eigh at this shape), then
                KMeans(n_clusters=floor(sqrt(n/2)), random_state=42) (n_init "auto" = 1)
  gleaner       Pca::fit_transform(Variance(0.95)), then kmeans() with n_init 1 and with the
                default n_init, and the mini-batch mode (batch 1024)
  --fl          also gleaner facility location on the first 10,400 rows, budget 1,040
                (Superfiltering.D's shipped sizes); no Python counterpart is run (submodlib is
                not installed in the reference venv)

Writes bench/cluster/results.csv (tool, step, seconds, inertia, n_components, threads, note)
and bench/cluster/machine.txt (lscpu, uptime before and after, versions). Check `uptime`
first: timings taken while other jobs load the machine are not comparable.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
EMB = os.path.join(ROOT, "tests", "golden", "cluster", "emb.npy")
JITTER = 0.005


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"({cmd}: {e})"


def make_data(rows):
    base = np.load(EMB).astype(np.float64)
    rng = np.random.default_rng(0)
    x = base[np.arange(rows) % base.shape[0]] + rng.normal(0.0, JITTER, size=(rows, base.shape[1]))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--fl", action="store_true", help="also time gleaner facility location")
    ap.add_argument("--skip-sklearn", action="store_true")
    args = ap.parse_args()

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    uptime_before = sh("uptime")

    x = make_data(args.rows)
    n, d = x.shape
    k = int(math.sqrt(n / 2))
    note = (f"{n}x{d} = 1500 real MiniLM Alpaca embeddings replicated with N(0,{JITTER}^2) "
            f"jitter, L2-renormalised")
    print(f"data: {note}; k = {k}; threads = {args.threads}", file=sys.stderr)
    rows = []

    tmp = tempfile.mkdtemp(prefix="gleaner-bench-cluster-")
    path = os.path.join(tmp, "data.npy")
    np.save(path, x)

    if not args.skip_sklearn:
        from threadpoolctl import threadpool_limits
        import sklearn
        from sklearn.cluster import KMeans
        from sklearn.decomposition import PCA

        with threadpool_limits(limits=args.threads):
            t0 = time.perf_counter()
            pca = PCA(n_components=0.95, random_state=42)
            y = pca.fit_transform(x)
            t_pca = time.perf_counter() - t0
            rows.append(["scikit-learn " + sklearn.__version__, "pca_0.95 (" + pca._fit_svd_solver
                         + ", float32 input)", f"{t_pca:.4f}", "", pca.n_components_, args.threads, note])
            t0 = time.perf_counter()
            km = KMeans(n_clusters=k, random_state=42).fit(y)
            t_km = time.perf_counter() - t0
            rows.append(["scikit-learn " + sklearn.__version__,
                         f"kmeans_lloyd_n_init{km._n_init} ({km.n_iter_} iterations)",
                         f"{t_km:.4f}", f"{km.inertia_:.6f}", pca.n_components_, args.threads, note])
        print(f"sklearn: pca {t_pca:.2f}s k={pca.n_components_}; kmeans {t_km:.2f}s "
              f"inertia {km.inertia_:.4f}", file=sys.stderr)

    cmd = ["cargo", "run", "--release", "-q", "-p", "gleaner-cluster", "--example",
           "bench_cluster", "--", path, str(k)]
    if args.fl:
        cmd += ["--fl", "10400", "1040"]
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "gleaner-cluster", "--example",
                    "bench_cluster"], cwd=ROOT, check=True)
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        step = r["step"] + (f" ({r['iterations']} iterations)" if "iterations" in r else "") + (
            f" ({r['evaluations']} column evaluations)" if "evaluations" in r else "")
        rows.append(["gleaner", step, f"{r['seconds']:.4f}",
                     "" if r["inertia"] is None else f"{r['inertia']:.6f}",
                     "" if r["n_components"] is None else r["n_components"], r["threads"], note])
        print(f"gleaner: {step} {r['seconds']:.2f}s inertia {r['inertia']}", file=sys.stderr)

    with open(os.path.join(HERE, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tool", "step", "seconds", "inertia", "n_components", "threads", "note"])
        w.writerows(rows)
    with open(os.path.join(HERE, "machine.txt"), "w") as f:
        f.write(f"uptime before: {uptime_before}\nuptime after:  {sh('uptime')}\n")
        f.write(f"python {sys.version.split()[0]}, numpy {np.__version__}\n")
        f.write(f"rustc: {sh('rustc --version')}\n")
        f.write(f"data: {note}\n\n")
        f.write(sh("lscpu") + "\n")
    os.remove(path)
    os.rmdir(tmp)
    print(f"wrote {os.path.join(HERE, 'results.csv')} and machine.txt", file=sys.stderr)


if __name__ == "__main__":
    main()
