"""gleaner: score instruction/response pairs (IFD, quality, embeddings) and select a small,
diverse subset, from Python.

- :class:`IfdScorer`, :class:`QualityScorer`, :class:`Embedder`: callable classes for
  ``datasets.map(batched=True)`` and ``ray.data.Dataset.map_batches``;
- :mod:`gleaner.select`: the selection rules on collected scores;
- :func:`run`: a whole recipe (as ``gleaner run --recipe``).

Thread budget: ``num_threads=`` per object, else ``GLEANER_NUM_THREADS``, else
``OMP_NUM_THREADS`` (Ray sets it to an actor's ``num_cpus``), else every core. After a
``fork`` (``datasets.map(num_proc=N)``), a child uses one thread unless a budget was given.
"""

from __future__ import annotations

from os import PathLike
from typing import NamedTuple

from . import select
from ._batch import FieldError
from ._gleaner import GleanerError, __version__
from ._gleaner import run as _run
from ._scorers import Embedder, IfdScorer, QualityScorer

__all__ = [
    "Embedder",
    "FieldError",
    "GleanerError",
    "IfdScorer",
    "QualityScorer",
    "RunResult",
    "__version__",
    "run",
    "select",
]


class RunResult(NamedTuple):
    """What :func:`run` kept: input row indices in output order, the reason for each, and the
    summary the CLI prints."""

    indices: list[int]
    reasons: list[str]
    summary: str


def run(
    recipe: str, input: str | PathLike[str], output: str | PathLike[str], *, work_dir: str | PathLike[str] | None = None
) -> RunResult:
    """Runs a recipe (a bundled name such as ``"cherry"``, or a TOML file) over ``input`` and
    writes the kept records to ``output``, with the side files and ``summary.json`` in
    ``work_dir`` (default ``OUTPUT.gleaner/``), exactly as ``gleaner run --recipe``."""
    return RunResult(*_run(str(recipe), input, output, work_dir))
