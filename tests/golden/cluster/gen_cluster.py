#!/usr/bin/env python3
"""Golden fixtures for gleaner-cluster (PCA, k-means, facility location) on REAL embeddings.

Regenerate (from the repo root, after `bash scripts/ref-env.sh` has written .venv-ref/READY):

    .venv-ref/bin/python tests/golden/cluster/gen_cluster.py

Inputs
  data/alpaca-selections/*.json (bundled real Alpaca records) and the local sentence-transformers
  model ~/.cache/gleaner/models/all-MiniLM-L6-v2 (HF_HUB_OFFLINE=1).

Texts (deterministic): CaR's embedding string
  "Instruction: " + instruction + " Input: " + input + " Response: " + output
  from car_selected_1013.json (all records, file order), then cherry_ifd_top6pct_3111.json
  records 0, 2, 4, ... (file order), skipping exact duplicate strings, until N_TEXTS = 1500.

Writes, next to this file:
  emb.npy                  float32 (1500, 384): SentenceTransformer.encode (model defaults:
                           max_seq_length 256, mean pooling, the model's Normalize module, so
                           rows are unit length)
  pca_components.npy       float64 (k, 384): sklearn PCA(n_components=0.95).components_
                           fitted on emb.astype(float64) (solver "auto" -> "full" SVD here)
  pca_transform_head.npy   float64 (32, k): that PCA's transform of rows 0..31
  cluster_golden.json      everything else: PCA counts and ratios, sklearn KMeans inertias on
                           the PCA output, the float64 facility-location greedy reference,
                           versions and timings

Facility location reference (Superfiltering.D, docs/methods.md §3.5): rows 0..799 of emb.npy as given
(already unit length), s_ij = exp(-||x_i - x_j||_2 / 384) with the distance computed in float64
from exact coordinate differences, s_ii = 1 (submodlib's helper.cpp euclidean kernel), and
plain (non-lazy) greedy for budget 50: gain_j = sum_i max(0, s_ij - cur_i), np.argmax (lowest
index on ties). For each step the relative gap between the best and the second-best gain is
stored, so the Rust test can tell a real disagreement from a near-tie.
"""
import json
import math
import os
import platform
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA = os.path.join(ROOT, "data", "alpaca-selections")
MODEL_DIR = os.path.expanduser(
    os.environ.get("GLEANER_MINILM_DIR", "~/.cache/gleaner/models/all-MiniLM-L6-v2"))
N_TEXTS = 1500
FL_N = 800
FL_BUDGET = 50
KM_SEEDS = 20


def car_text(r):
    return ("Instruction: " + r.get("instruction", "") + " Input: " + r.get("input", "")
            + " Response: " + r.get("output", ""))


def select_texts():
    texts, sources, seen = [], [], set()
    plan = [("car_selected_1013.json", 0, 1), ("cherry_ifd_top6pct_3111.json", 0, 2)]
    for fname, start, step in plan:
        recs = json.load(open(os.path.join(DATA, fname), encoding="utf-8"))
        for i in range(start, len(recs), step):
            t = car_text(recs[i])
            if t in seen:
                continue
            seen.add(t)
            texts.append(t)
            sources.append([fname, i])
            if len(texts) == N_TEXTS:
                return texts, sources
    raise SystemExit(f"only {len(texts)} texts available")


def main():
    import sklearn
    import torch
    from sentence_transformers import SentenceTransformer
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    torch.set_num_threads(2)
    timings = {}
    texts, sources = select_texts()

    t0 = time.time()
    model = SentenceTransformer(MODEL_DIR, device="cpu")
    emb = model.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
    emb = np.ascontiguousarray(emb, dtype="<f4")
    timings["embed_s"] = round(time.time() - t0, 2)
    np.save(os.path.join(HERE, "emb.npy"), emb)
    norms = np.linalg.norm(emb.astype(np.float64), axis=1)

    # ---- PCA ---------------------------------------------------------------------------
    x64 = emb.astype(np.float64)
    pca = PCA(n_components=0.95, random_state=42).fit(x64)
    k = int(pca.n_components_)
    full = PCA(n_components=None).fit(x64)  # every ratio, for the cut-off margin
    cum = np.cumsum(full.explained_variance_ratio_)
    pca_ce = PCA(n_components=0.95, svd_solver="covariance_eigh").fit(x64)
    pca32 = PCA(n_components=0.95).fit(emb)
    np.save(os.path.join(HERE, "pca_components.npy"),
            np.ascontiguousarray(pca.components_, dtype="<f8"))
    head = pca.transform(x64[:32])
    np.save(os.path.join(HERE, "pca_transform_head.npy"), np.ascontiguousarray(head, dtype="<f8"))
    ev = full.explained_variance_
    gaps = [float(min(ev[c - 1] - ev[c] if c > 0 else np.inf, ev[c] - ev[c + 1]))
            for c in range(k)]

    # ---- k-means on the PCA output (CaR: k = floor(sqrt(n / 2))) ------------------------
    y = pca.transform(x64)
    n_clusters = int(math.sqrt(len(texts) / 2))
    t0 = time.time()
    km = KMeans(n_clusters=n_clusters, random_state=42, n_init="auto").fit(y)
    timings["kmeans_auto_s"] = round(time.time() - t0, 3)
    km10 = KMeans(n_clusters=n_clusters, random_state=42, n_init=10).fit(y)
    seeds = [float(KMeans(n_clusters=n_clusters, random_state=s, n_init=1).fit(y).inertia_)
             for s in range(KM_SEEDS)]

    # ---- facility location, naive float64 greedy ----------------------------------------
    xf = emb[:FL_N].astype(np.float64)
    dim = xf.shape[1]
    sim = np.empty((FL_N, FL_N))
    for i in range(FL_N):
        dist = np.sqrt(((xf - xf[i]) ** 2).sum(axis=1))
        sim[i] = np.exp(-dist / dim)
    np.fill_diagonal(sim, 1.0)
    cur = np.zeros(FL_N)
    picked = np.zeros(FL_N, dtype=bool)
    picks, gains, gap_rel = [], [], []
    for _ in range(FL_BUDGET):
        g = np.maximum(sim - cur[:, None], 0.0).sum(axis=0)
        g[picked] = -np.inf
        j = int(np.argmax(g))
        best = g[j]
        g2 = g.copy()
        g2[j] = -np.inf
        second = g2.max()
        picks.append(j)
        gains.append(float(best))
        gap_rel.append(float((best - second) / best))
        picked[j] = True
        cur = np.maximum(cur, sim[:, j])

    out = {
        "description": "gleaner-cluster golden data; see gen_cluster.py for how each value is made",
        "model_dir": "~/.cache/gleaner/models/all-MiniLM-L6-v2",
        "text_format": "\"Instruction: \" + instruction + \" Input: \" + input + \" Response: \" + output",
        "selection": "car_selected_1013.json all records, then cherry_ifd_top6pct_3111.json "
                     "records 0, 2, 4, ...; exact duplicate strings skipped; first 1500",
        "sources": sources,
        "n": len(texts),
        "d": int(emb.shape[1]),
        "row_norm_min": float(norms.min()),
        "row_norm_max": float(norms.max()),
        "pca": {
            "target": 0.95,
            "svd_solver_used": pca._fit_svd_solver,
            "n_components": k,
            "explained_variance": pca.explained_variance_.tolist(),
            "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
            "cumsum_at_k_minus_1": float(cum[k - 2]),
            "cumsum_at_k": float(cum[k - 1]),
            "eigen_gap_per_component": gaps,
            "covariance_eigh_n_components": int(pca_ce.n_components_),
            "covariance_eigh_max_abs_component_diff": float(
                np.abs(pca_ce.components_[:k] - pca.components_).max()),
            "covariance_eigh_max_abs_ratio_diff": float(
                np.abs(pca_ce.explained_variance_ratio_[:k]
                       - pca.explained_variance_ratio_).max()),
            "float32_input_n_components": int(pca32.n_components_),
            "transform_head_rows": 32,
        },
        "kmeans": {
            "data": "sklearn PCA(0.95) transform of emb.astype(float64)",
            "k": n_clusters,
            "random_state": 42,
            "n_init_auto": int(km._n_init),
            "inertia_auto": float(km.inertia_),
            "n_iter_auto": int(km.n_iter_),
            "inertia_n_init_10": float(km10.inertia_),
            "inertia_n_init_1_random_states_0_19": seeds,
        },
        "facility": {
            "rows": FL_N,
            "budget": FL_BUDGET,
            "kernel": "exp(-||xi - xj||_2 / 384), diagonal 1, float64 exact differences",
            "picks": picks,
            "gains": gains,
            "gap_rel": gap_rel,
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__,
            "sentence-transformers": __import__("sentence_transformers").__version__,
        },
        "timings": timings,
    }
    with open(os.path.join(HERE, "cluster_golden.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"texts {len(texts)}  pca k={k} (cov_eigh {pca_ce.n_components_}, f32 {pca32.n_components_})"
          f"  kmeans k={n_clusters} inertia auto={km.inertia_:.4f} n_init10={km10.inertia_:.4f}"
          f" seeds min/med/max={min(seeds):.4f}/{np.median(seeds):.4f}/{max(seeds):.4f}")
    print(f"facility picks[:10]={picks[:10]} min gap_rel={min(gap_rel):.3e}")


if __name__ == "__main__":
    sys.exit(main())
