"""Type stubs of the native module (crates/python)."""

from os import PathLike

__version__: str

class GleanerError(ValueError): ...

class Scorer:
    def __init__(
        self,
        kind: str,
        model: str,
        *,
        template: str = "none",
        max_length: int | None = None,
        reverse: bool = False,
        precision: str = "auto",
        text: str = "car",
        num_threads: int | None = None,
    ) -> None: ...
    def score(self, ipc: bytes, null_bad_rows: bool = False) -> bytes: ...
    def columns(self) -> list[str]: ...
    def model(self) -> tuple[str, str]: ...
    def num_threads(self) -> int: ...

def car(scores: list[float], labels: list[int], n1: int, n2: int) -> tuple[list[int], list[str]]: ...
def top_k(
    scores: list[float], n: int, ascending: bool, input_order: bool, later_first: bool
) -> tuple[list[int], list[str]]: ...
def facility_location(embeddings: bytes, n: int, d: int, budget: int) -> tuple[list[int], list[str]]: ...
def lcg(
    confidence: list[float],
    labels: list[int],
    distance: list[float],
    budget: int,
    seeds: int,
    per_cluster_quota: int | None = None,
) -> tuple[list[int], list[str]]: ...
def kmeans(embeddings: bytes, n: int, d: int, k: int, seed: int, n_init: int) -> tuple[list[int], list[float]]: ...
def run(
    recipe: str, input: str | PathLike[str], output: str | PathLike[str], work_dir: str | PathLike[str] | None = None
) -> tuple[list[int], list[str], str]: ...
