"""Selection from Python and whole recipes, against independent references (plain Python
sorts) and the CLI."""

from __future__ import annotations

import math
import random

import pyarrow.parquet as pq

import gleaner
from conftest import run_cli


def test_top_k_matches_a_sort() -> None:
    rng = random.Random(7)
    scores = [rng.random() for _ in range(50)] + [math.nan, 0.5, 0.5]
    sel = gleaner.select.top_k(scores, 10)
    ref = sorted((i for i in range(len(scores)) if not math.isnan(scores[i])), key=lambda i: (-scores[i], i))[:10]
    assert sel.indices == ref and set(sel.reasons) == {"top-k by score"}
    asc = gleaner.select.top_k(scores, 5, ascending=True, input_order=True)
    assert asc.indices == sorted(sorted(range(50), key=lambda i: (scores[i], i))[:5])


def test_car_top_then_cluster_best() -> None:
    scores = [0.9, 0.1, 0.8, 0.3, 0.2, 0.7]
    labels = [0, 1, 0, 2, 1, 0]
    sel = gleaner.select.car(scores, labels, n1=2, n2=1)
    # top 2 by score, then each cluster's best not kept, in descending string order of label
    assert sel.indices == [0, 2, 3, 4]
    assert sel.reasons == ["top-n1 by score"] * 2 + ["cluster pick"] * 2


def test_kmeans_facility_location_lcg() -> None:
    rng = random.Random(3)
    centers = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)]
    emb = [[cx + rng.gauss(0, 0.5), cy + rng.gauss(0, 0.5)] for cx, cy in centers for _ in range(20)]
    labels, distance = gleaner.select.kmeans(emb, 3, seed=1)
    # every true group lands in one cluster
    assert all(len(set(labels[g * 20 : (g + 1) * 20])) == 1 for g in range(3))
    assert len(set(labels)) == 3
    fl = gleaner.select.facility_location(emb, 3)
    assert len(fl.indices) == 3 and len({labels[i] for i in fl.indices}) == 3, "one pick per group"
    conf = [rng.random() for _ in emb]
    sel = gleaner.select.lcg(conf, labels, distance, 10, seeds=2)
    assert len(sel.indices) == 10 and len(set(sel.indices)) == 10
    assert sel.reasons[:6] == ["centroid seed"] * 6 and set(sel.reasons[6:]) == {"low confidence"}
    rest = sorted((i for i in range(len(emb)) if i not in sel.indices[:6]), key=lambda i: (conf[i], i))
    assert sel.indices[6:] == rest[:4]


def test_run_equals_cli(gleaner_bin, rows_parquet, tmp_path) -> None:
    res = gleaner.run("longest", rows_parquet, tmp_path / "py.parquet")
    run_cli(gleaner_bin, "run", "--recipe", "longest", rows_parquet, "-o", tmp_path / "cli.parquet")
    assert (tmp_path / "py.parquet").read_bytes() == (tmp_path / "cli.parquet").read_bytes()
    kept = pq.read_table(tmp_path / "py.parquet")
    src = pq.read_table(rows_parquet)
    assert kept.to_pylist() == [src.slice(i, 1).to_pylist()[0] for i in res.indices]
    assert len(res.reasons) == len(res.indices) and res.summary
