"""Batches in and out: a ``pyarrow.Table`` / ``RecordBatch``, any object with
``__arrow_c_stream__`` (polars), a pandas frame or a ``dict`` of columns (``datasets.map``'s
batch) become one Arrow IPC stream of the record columns; the score columns come back and are
added to a batch of the same kind."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pyarrow as pa

from ._gleaner import GleanerError

#: The columns records are read from (the recipe layer's conventions): Alpaca
#: ``instruction``/``input``/``output`` (plus ``system``), ShareGPT ``conversations``,
#: OpenAI ``messages``.
RECORD_COLUMNS = ("instruction", "input", "output", "system", "conversations", "messages")


class FieldError(GleanerError, KeyError):
    """A batch lacks a field the scorer needs; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _columns_of(batch: Any) -> list[str]:
    if isinstance(batch, (pa.Table, pa.RecordBatch)):
        return list(batch.column_names)
    if isinstance(batch, Mapping):
        return list(batch.keys())
    cols = getattr(batch, "columns", None)
    if cols is not None:
        return [str(c) for c in cols]
    return list(pa.table(batch).column_names)


def record_columns(batch: Any, fields: Mapping[str, str]) -> dict[str, str]:
    """The batch column each record field is read from (``fields`` maps a record field to
    the batch's name for it). Raises :class:`FieldError` naming the first field missing."""
    have = _columns_of(batch)
    found = {f: fields.get(f, f) for f in RECORD_COLUMNS if fields.get(f, f) in have}
    if "conversations" in found or "messages" in found:
        return found
    for f in ("instruction", "output"):
        if f not in found:
            name = fields.get(f, f)
            raise FieldError(
                f,
                f"the batch has no `{name}` column (it has: {', '.join(have) or 'no columns'}); a record "
                "needs `instruction` and `output` (Alpaca), `conversations` (ShareGPT) or `messages` "
                f"(OpenAI)\nhint: name the column `{f}`, or pass fields={{'{f}': 'YOUR_COLUMN'}}",
            )
    return found


def _view_free(t: pa.Table) -> pa.Table:
    """Large and view string types as plain strings (what a Parquet file gives back)."""
    def fix(ty: pa.DataType) -> pa.DataType:
        if ty in (pa.large_string(), pa.string_view()):
            return pa.string()
        if pa.types.is_large_list(ty) or pa.types.is_list_view(ty) or pa.types.is_large_list_view(ty):
            return pa.list_(fix(ty.value_type))
        if pa.types.is_list(ty):
            return pa.list_(fix(ty.value_type))
        if pa.types.is_struct(ty):
            return pa.struct([pa.field(f.name, fix(f.type), f.nullable) for f in ty])
        return ty

    schema = pa.schema([pa.field(f.name, fix(f.type), f.nullable) for f in t.schema])
    return t if schema == t.schema else t.cast(schema)


def to_ipc(batch: Any, cols: Mapping[str, str]) -> bytes:
    """The record columns of ``batch`` (renamed to the record fields) as an Arrow IPC stream."""
    if isinstance(batch, pa.Table):
        t = batch.select(list(cols.values()))
    elif isinstance(batch, pa.RecordBatch):
        t = pa.Table.from_batches([batch.select(list(cols.values()))])
    elif isinstance(batch, Mapping):
        t = pa.table({c: batch[c] for c in cols.values()})
    elif hasattr(batch, "to_arrow") and hasattr(batch, "select"):  # polars
        t = batch.select(list(cols.values())).to_arrow()
    elif type(batch).__module__.startswith("pandas"):
        t = pa.Table.from_pandas(batch[list(cols.values())], preserve_index=False)
    else:
        t = pa.table(batch).select(list(cols.values()))
    t = _view_free(t.rename_columns(list(cols.keys())))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return sink.getvalue().to_pybytes()


def from_ipc(data: bytes) -> pa.Table:
    """The score columns returned by the native scorer."""
    return pa.ipc.open_stream(data).read_all().combine_chunks()


def add_columns(batch: Any, scores: pa.Table) -> Any:
    """``batch`` with the score columns added (replacing columns of the same name), as a
    batch of the same kind: a ``dict`` gets lists (numpy arrays when its columns are numpy
    arrays), a polars frame stays polars, a pandas frame stays pandas; other Arrow stream
    objects come back as a ``pyarrow.Table``."""
    new = {name: scores.column(name).combine_chunks() for name in scores.column_names}
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
        return _add_to_table(batch, new).to_batches()[0] if batch.num_rows else _add_to_table(batch, new)
    if isinstance(batch, pa.Table):
        return _add_to_table(batch, new)
    if isinstance(batch, Mapping):
        out = dict(batch)
        as_numpy = _numpy_columns(batch)
        for name, arr in new.items():
            out[name] = as_numpy(arr) if as_numpy else arr.to_pylist()
        return out
    if hasattr(batch, "to_arrow") and hasattr(batch, "with_columns"):  # polars
        import polars as pl

        return batch.with_columns([pl.Series(name, arr) for name, arr in new.items()])
    if type(batch).__module__.startswith("pandas"):
        out = batch.copy()
        for name, arr in new.items():
            out[name] = arr.to_pandas().to_numpy() if not pa.types.is_fixed_size_list(arr.type) else arr.to_pylist()
        return out
    return _add_to_table(pa.table(batch), new)


def _add_to_table(t: pa.Table, new: Mapping[str, pa.Array]) -> pa.Table:
    for name, arr in new.items():
        if name in t.column_names:
            t = t.set_column(t.column_names.index(name), name, arr)
        else:
            t = t.append_column(name, arr)
    return t


def _numpy_columns(batch: Mapping[str, Any]) -> Callable[[pa.Array], Any] | None:
    """A converter to numpy when the dict's columns are numpy arrays (Ray's ``numpy`` batch)."""
    first = next(iter(batch.values()), None)
    if type(first).__module__ != "numpy":
        return None
    import numpy as np

    def conv(arr: pa.Array) -> Any:
        if pa.types.is_fixed_size_list(arr.type):
            return np.asarray(arr.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(
                len(arr), arr.type.list_size
            )
        return arr.to_numpy(zero_copy_only=False)

    return conv
