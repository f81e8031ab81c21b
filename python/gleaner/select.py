"""Selection on collected scores: the global step after the per-row scores and embeddings
were computed (in ``datasets.map`` or Ray Data) and gathered. Every rule returns a
:class:`Selection`: row indices (into the rows given, in output order) and the reason each row
was kept, so ``ds.select(sel.indices)`` keeps them.

Memory: the rules hold what they are given; embeddings take ``n × dim × 4`` bytes as float32
(10M rows × 384 dims = 15 GB; keep float16 on disk to halve what is stored)."""

from __future__ import annotations

import math
from array import array
from typing import Any, NamedTuple, Sequence

import pyarrow as pa

from . import _gleaner

__all__ = ["Selection", "car", "top_k", "facility_location", "lcg", "kmeans"]


class Selection(NamedTuple):
    """Kept rows in output order, and why each was kept."""

    indices: list[int]
    reasons: list[str]


def _floats(values: Any) -> list[float]:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pylist()
    elif hasattr(values, "tolist"):
        values = values.tolist()
    return [math.nan if v is None else float(v) for v in values]


def _ints(values: Any) -> list[int]:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pylist()
    elif hasattr(values, "tolist"):
        values = values.tolist()
    return [int(v) for v in values]


def _matrix(embeddings: Any) -> tuple[bytes, int, int]:
    """Row-major float32 bytes, rows and dimension of a 2-D array-like: a pyarrow
    (fixed-size) list column, a numpy array, or a sequence of sequences."""
    if isinstance(embeddings, pa.ChunkedArray):
        embeddings = embeddings.combine_chunks()
    if isinstance(embeddings, pa.Array):
        n = len(embeddings)
        flat = embeddings.flatten()
        d = len(flat) // n if n else 0
        try:
            import numpy as np

            data = np.ascontiguousarray(flat.to_numpy(zero_copy_only=False), dtype=np.float32).tobytes()
        except ImportError:
            data = array("f", flat.to_pylist()).tobytes()
        return data, n, d
    if hasattr(embeddings, "shape") and hasattr(embeddings, "astype"):
        import numpy as np

        m = np.ascontiguousarray(embeddings, dtype=np.float32)
        if m.ndim != 2:
            raise ValueError(f"embeddings must be 2-D, got shape {m.shape}")
        return m.tobytes(), m.shape[0], m.shape[1]
    rows: Sequence[Sequence[float]] = list(embeddings)
    n = len(rows)
    d = len(rows[0]) if n else 0
    flat_list = array("f")
    for r in rows:
        if len(r) != d:
            raise ValueError("embeddings: rows of different lengths")
        flat_list.extend(float(x) for x in r)
    return flat_list.tobytes(), n, d


def car(scores: Any, labels: Any, n1: int = 1000, n2: int = 1) -> Selection:
    """CaR: the top ``n1`` rows by score, then the best ``n2`` of each cluster (``labels``)
    not yet kept."""
    return Selection(*_gleaner.car(_floats(scores), _ints(labels), n1, n2))


def top_k(
    scores: Any, n: int, *, ascending: bool = False, input_order: bool = False, later_first: bool = False
) -> Selection:
    """The best ``n`` rows by one score (NaN rows are never kept); ``ascending`` ranks lowest
    first, ``input_order`` returns them in row order, ``later_first`` breaks ties towards the
    later row (Cherry's script) instead of the earlier."""
    return Selection(*_gleaner.top_k(_floats(scores), n, ascending, input_order, later_first))


def facility_location(embeddings: Any, budget: int) -> Selection:
    """Greedy facility location (Superfiltering.D's diversity step) over the rows' embeddings:
    ``budget`` picks, in pick order."""
    data, n, d = _matrix(embeddings)
    return Selection(*_gleaner.facility_location(data, n, d, budget))


def lcg(
    confidence: Any,
    labels: Any,
    distance: Any,
    budget: int,
    *,
    seeds: int = 4,
    per_cluster_quota: int | None = None,
) -> Selection:
    """Low-Confidence Gold: per cluster (``labels``) its ``seeds`` rows nearest the centroid
    (``distance``, e.g. from :func:`kmeans`), then every other row by ascending classifier
    ``confidence`` until ``budget``."""
    return Selection(
        *_gleaner.lcg(_floats(confidence), _ints(labels), _floats(distance), budget, seeds, per_cluster_quota)
    )


def kmeans(embeddings: Any, k: int, *, seed: int = 42, n_init: int = 3) -> tuple[list[int], list[float]]:
    """k-means (Lloyd, k-means++ seeding, best of ``n_init``) over the rows' embeddings: each
    row's cluster id and its distance to that cluster's centre."""
    data, n, d = _matrix(embeddings)
    labels, distance = _gleaner.kmeans(data, n, d, k, seed, n_init)
    return list(labels), list(distance)
