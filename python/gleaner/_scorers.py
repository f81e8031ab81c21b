"""The scorers: callable classes for ``datasets.map(batched=True)`` and
``ray.data.Dataset.map_batches``. Each loads its model once, in ``__init__``; a call scores a
batch and returns the same kind of batch with the score columns added (the names and values of
the CLI's side files). Rows are never dropped: a row whose score cannot be computed gets NaN
where the CLI writes NaN, and a row that is not a record raises :class:`gleaner.GleanerError`
naming the row and field (or gets nulls with ``on_error="null"``).

A scorer pickles as its options (not its weights), small and deterministic, so ``datasets``
fingerprints it and caches across runs; unpickling loads the model again."""

from __future__ import annotations

from typing import Any, Mapping

from . import _batch
from ._gleaner import Scorer as _Native

_ON_ERROR = ("raise", "null")


class _Scorer:
    _kind = ""

    def __init__(self, options: dict[str, Any]) -> None:
        fields = options.get("fields") or {}
        if not isinstance(fields, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
        ):
            raise TypeError("fields must map record field names to batch column names (str → str)")
        unknown = sorted(set(fields) - set(_batch.RECORD_COLUMNS))
        if unknown:
            raise ValueError(f"fields: unknown record field(s) {unknown}; known: {list(_batch.RECORD_COLUMNS)}")
        if options.get("on_error", "raise") not in _ON_ERROR:
            raise ValueError(f"on_error must be one of {_ON_ERROR}")
        options["fields"] = dict(sorted(fields.items()))
        self._options = options
        self._native = self._load()

    def _load(self) -> _Native:
        raise NotImplementedError

    @property
    def columns(self) -> list[str]:
        """The columns a call adds, in order."""
        return list(self._native.columns())

    @property
    def model(self) -> tuple[str, str]:
        """The model's identity and the precision it runs at (as the CLI's manifests)."""
        return tuple(self._native.model())  # type: ignore[return-value]

    @property
    def num_threads(self) -> int:
        """Threads a call uses in this process."""
        return int(self._native.num_threads())

    def __call__(self, batch: Any) -> Any:
        cols = _batch.record_columns(batch, self._options["fields"])
        ipc = _batch.to_ipc(batch, cols)
        out = self._native.score(ipc, null_bad_rows=self._options["on_error"] == "null")
        return _batch.add_columns(batch, _batch.from_ipc(out))

    def __getstate__(self) -> dict[str, Any]:
        return {"options": dict(self._options)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["options"])  # type: ignore[misc]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return f"gleaner.{type(self).__name__}({args})"


class IfdScorer(_Scorer):
    """IFD from a causal LM: adds ``loss_direct``, ``loss_cond``, ``ifd_ppl``, ``ifd_loss``,
    ``tokens_direct``, ``tokens_cond`` (and, with ``reverse=True``, ``loss_q_direct``,
    ``loss_q_cond``, ``rifd_ppl``, ``rifd_loss``, ``tokens_q_direct``, ``tokens_q_cond``).

    ``model``: an installed model name or a path (``"default"``: SmolLM2-135M-Instruct);
    ``template``: ``none`` (Superfiltering), ``alpaca``/``wiz``/``vicuna`` (Cherry) or
    ``chatml``; ``precision``: ``auto``, ``f32``, ``bf16x3`` or ``bf16``, as ``--precision``.
    """

    _kind = "ifd"

    def __init__(
        self,
        model: str = "default",
        template: str = "none",
        max_length: int = 1024,
        reverse: bool = False,
        precision: str = "auto",
        *,
        fields: Mapping[str, str] | None = None,
        num_threads: int | None = None,
        on_error: str = "raise",
    ) -> None:
        super().__init__(
            dict(
                model=model,
                template=template,
                max_length=max_length,
                reverse=reverse,
                precision=precision,
                fields=fields,
                num_threads=num_threads,
                on_error=on_error,
            )
        )

    def _load(self) -> _Native:
        o = self._options
        return _Native(
            "ifd",
            o["model"],
            template=o["template"],
            max_length=o["max_length"],
            reverse=o["reverse"],
            precision=o["precision"],
            num_threads=o["num_threads"],
        )


class QualityScorer(_Scorer):
    """A quality score per row: adds ``quality`` (higher is better). ``model``: ``"default"``
    (gleaner's shipped scorer), a ``gleaner train quality`` model file, or a CaR IQS
    checkpoint."""

    _kind = "quality"

    def __init__(
        self,
        model: str = "default",
        *,
        precision: str = "auto",
        fields: Mapping[str, str] | None = None,
        num_threads: int | None = None,
        on_error: str = "raise",
    ) -> None:
        super().__init__(
            dict(model=model, precision=precision, fields=fields, num_threads=num_threads, on_error=on_error)
        )

    def _load(self) -> _Native:
        o = self._options
        return _Native("quality", o["model"], precision=o["precision"], num_threads=o["num_threads"])


class Embedder(_Scorer):
    """Sentence embeddings: adds ``embedding``, a fixed-size list of float32. ``text``: the
    record's text view, as ``gleaner embed --text`` (``car``, ``lcg``, ``fl``, ``conversation``,
    or a template such as ``"{instruction}\\n{output}"``)."""

    _kind = "embed"

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        text: str = "car",
        *,
        precision: str = "auto",
        fields: Mapping[str, str] | None = None,
        num_threads: int | None = None,
        on_error: str = "raise",
    ) -> None:
        super().__init__(
            dict(model=model, text=text, precision=precision, fields=fields, num_threads=num_threads, on_error=on_error)
        )

    def _load(self) -> _Native:
        o = self._options
        return _Native("embed", o["model"], text=o["text"], precision=o["precision"], num_threads=o["num_threads"])
