"""Shared fixtures: a few real Alpaca rows as Parquet, the CLI binary, and the skip rule
(a missing prerequisite skips locally and fails when the environment variable CI is set)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
# Real records: the first rows of Cherry's IFD top-6% Alpaca selection (data/README.md: origin
# and licence, CC BY-NC 4.0).
SOURCE = REPO / "data" / "alpaca-selections" / "cherry_ifd_top6pct_3111.json"
ROWS = 12


def require(ok: object, why: str) -> None:
    """Skips (prints `SKIPPED: why`) unless `ok`; fails instead when CI is set."""
    if ok:
        return
    print(f"SKIPPED: {why}")
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI is set, so a missing prerequisite fails)")
    pytest.skip(why)


def need(module: str):
    """Imports `module`, or skips (fails under CI) when it is not installed."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        require(False, f"the Python package `{module}` is not installed")


def real_rows(n: int = ROWS) -> list[dict]:
    rows = json.loads(SOURCE.read_text())[:n]
    # one row whose score the CLI cannot compute (empty output → NaN, 0 tokens)
    rows[3] = dict(rows[3], output="")
    return rows


@pytest.fixture(scope="session")
def rows_parquet(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("rows") / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(real_rows()), path)
    return path


@pytest.fixture(scope="session")
def gleaner_bin() -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = pathlib.Path(os.environ.get("GLEANER_BIN", target / "release" / "gleaner"))
    require(path.is_file(), f"the gleaner binary ({path}; build it with cargo build --release -p gleaner)")
    return path


def run_cli(gleaner_bin: pathlib.Path, *args: object) -> None:
    r = subprocess.run([str(gleaner_bin), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, f"gleaner {' '.join(map(str, args))} failed:\n{r.stderr}"


def load(factory, **kwargs):
    """A scorer, or a skip (failure under CI) when its model is not installed."""
    import gleaner

    try:
        return factory(**kwargs)
    except gleaner.GleanerError as e:
        msg = str(e)
        require("not installed" not in msg and "not found" not in msg and "no such" not in msg.lower(), msg)
        raise


@pytest.fixture(scope="session")
def ifd():
    import gleaner

    return load(gleaner.IfdScorer, num_threads=2)


@pytest.fixture(scope="session")
def cli_ifd(gleaner_bin, rows_parquet, tmp_path_factory) -> pa.Table:
    """The CLI's IFD side file over the same rows, in row order."""
    out = tmp_path_factory.mktemp("cli") / "ifd.parquet"
    run_cli(gleaner_bin, "score", "ifd", rows_parquet, "-o", out)
    return pq.read_table(out).sort_by("row_index")
