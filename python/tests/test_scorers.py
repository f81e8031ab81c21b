"""The scorers against the CLI on the same real rows, in every batch kind, plus pickling,
forking, thread budgets and bad batches."""

from __future__ import annotations

import math
import multiprocessing
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gleaner
from conftest import load, need, real_rows, run_cli

IFD_COLUMNS = ["loss_direct", "loss_cond", "ifd_ppl", "ifd_loss", "tokens_direct", "tokens_cond"]


def same(a: list, b: list) -> bool:
    """Bit-for-bit equality, NaN equal to NaN."""
    return len(a) == len(b) and all(
        (x == y) or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
        for x, y in zip(a, b)
    )


def assert_ifd_equal(got: pa.Table | dict, cli: pa.Table) -> None:
    for c in IFD_COLUMNS:
        g = got[c].to_pylist() if isinstance(got, pa.Table) else list(got[c])
        assert same(g, cli[c].to_pylist()), f"{c}: python {g} != cli {cli[c].to_pylist()}"


def test_import() -> None:
    assert gleaner.__version__
    assert {"IfdScorer", "QualityScorer", "Embedder", "run", "select"} <= set(dir(gleaner))


def test_ifd_pyarrow_equals_cli(ifd, rows_parquet, cli_ifd) -> None:
    t = pq.read_table(rows_parquet)
    out = ifd(t)
    assert isinstance(out, pa.Table)
    assert out.column_names == t.column_names + ifd.columns, "columns are added, none dropped"
    assert ifd.columns[:6] == IFD_COLUMNS
    assert out.num_rows == t.num_rows
    assert_ifd_equal(out, cli_ifd)
    # the empty output: NaN and 0 tokens, as the CLI writes
    assert math.isnan(out["ifd_ppl"][3].as_py()) and out["tokens_direct"][3].as_py() == 0
    assert pa.types.is_int64(out.schema.field("tokens_cond").type)


def test_datasets_map_local_parquet(ifd, rows_parquet, cli_ifd, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = need("datasets")
    ds = datasets.load_dataset("parquet", data_files=str(rows_parquet), split="train", cache_dir=str(tmp_path))
    # batches of 5 rows: the default dict batch of datasets.map(batched=True)
    scored = ds.map(ifd, batched=True, batch_size=5)
    assert scored.num_rows == ds.num_rows
    assert scored.column_names == ds.column_names + ifd.columns
    assert_ifd_equal(scored.data.table, cli_ifd)


def test_polars_frame(rows_parquet, gleaner_bin, tmp_path) -> None:
    pl = need("polars")
    df = pl.read_parquet(rows_parquet)
    q = load(gleaner.QualityScorer, num_threads=2)
    out = q(df)
    assert isinstance(out, pl.DataFrame) and out.columns == df.columns + ["quality"]
    run_cli(gleaner_bin, "score", "quality", rows_parquet, "-o", tmp_path / "q.parquet")
    cli = pq.read_table(tmp_path / "q.parquet").sort_by("row_index")
    assert same(out["quality"].to_list(), cli["quality"].to_pylist())

    emb = load(gleaner.Embedder, num_threads=2)
    out = emb(df)
    assert isinstance(out, pl.DataFrame) and out.columns == df.columns + ["embedding"]
    run_cli(gleaner_bin, "embed", rows_parquet, "-o", tmp_path / "e.parquet")
    cli = pq.read_table(tmp_path / "e.parquet").sort_by("row_index")
    arrow = emb(pq.read_table(rows_parquet))["embedding"]
    assert arrow.type == pa.list_(pa.float32(), 384), "embedding is a fixed-size list of float32"
    assert arrow.to_pylist() == cli["embedding"].to_pylist(), "embeddings equal the CLI's bit for bit"
    assert out["embedding"].to_list() == cli["embedding"].to_pylist()


def test_fields_mapping(ifd, rows_parquet, cli_ifd) -> None:
    t = pq.read_table(rows_parquet).rename_columns(["prompt", "context", "response"])
    mapped = gleaner.IfdScorer(num_threads=2, fields={"instruction": "prompt", "input": "context", "output": "response"})
    assert_ifd_equal(mapped(t), cli_ifd)


def test_pickle_is_small_and_deterministic(ifd, rows_parquet) -> None:
    a = pickle.dumps(ifd)
    b = pickle.dumps(gleaner.IfdScorer(num_threads=2))
    assert a == b, "two scorers with the same options pickle to the same bytes"
    assert len(a) < 1000, f"the pickle holds options, not weights ({len(a)} bytes)"
    back = pickle.loads(a)
    t = pq.read_table(rows_parquet).slice(0, 3)
    assert back(t).equals(ifd(t))


def _score_in_child(scorer, rows, q) -> None:
    out = scorer(pa.Table.from_pylist(rows))
    q.put((out["ifd_ppl"].to_pylist(), scorer.num_threads))


def test_fork_after_use(ifd, cli_ifd) -> None:
    rows = real_rows()[:4]
    ifd(pa.Table.from_pylist(rows))  # the parent's pool threads now exist
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_score_in_child, args=(ifd, rows, q))
    p.start()
    p.join(timeout=180)
    if p.is_alive():
        p.kill()
        pytest.fail("the forked child hung: the fork guard did not give it a fresh pool")
    assert p.exitcode == 0
    ppl, threads = q.get(timeout=5)
    assert same(ppl, cli_ifd["ifd_ppl"].to_pylist()[:4])
    assert threads == 2, "an explicit num_threads is kept in the child"


def test_datasets_num_proc_2(ifd, rows_parquet, cli_ifd, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = need("datasets")
    ds = datasets.load_dataset("parquet", data_files=str(rows_parquet), split="train", cache_dir=str(tmp_path))
    scored = ds.map(ifd, batched=True, batch_size=4, num_proc=2)
    assert_ifd_equal(scored.data.table, cli_ifd)


def test_thread_budget_from_env(monkeypatch) -> None:
    monkeypatch.setenv("GLEANER_NUM_THREADS", "1")
    assert gleaner.Embedder().num_threads == 1
    assert gleaner.Embedder(num_threads=2).num_threads == 2


def test_bad_batches(ifd, rows_parquet) -> None:
    rows = real_rows()[:3]
    # a missing column: a clear exception naming the field
    with pytest.raises(gleaner.FieldError, match="`output`") as e:
        ifd({"instruction": [r["instruction"] for r in rows], "input": [r["input"] for r in rows]})
    assert e.value.field == "output"
    assert isinstance(e.value, KeyError) and isinstance(e.value, ValueError)
    # a null in a required field: names the row and the field
    bad = {k: [r[k] for r in rows] for k in ("instruction", "input", "output")}
    bad["output"][1] = None
    with pytest.raises(gleaner.GleanerError, match=r"row 1 .*`output`"):
        ifd(bad)
    # on_error="null": the row stays, with nulls; the others are scored
    lenient = gleaner.IfdScorer(num_threads=2, on_error="null")
    out = lenient(bad)
    assert len(out["ifd_ppl"]) == 3 and out["ifd_ppl"][1] is None
    assert out["ifd_ppl"][0] is not None and out["ifd_ppl"][2] is not None
    # an empty batch and the scorer still working afterwards
    empty = ifd(pq.read_table(rows_parquet).slice(0, 0))
    assert empty.num_rows == 0 and "ifd_ppl" in empty.column_names
    with pytest.raises(gleaner.GleanerError, match="template"):
        gleaner.IfdScorer(template="nope")
    assert ifd(pa.Table.from_pylist(rows)).num_rows == 3
