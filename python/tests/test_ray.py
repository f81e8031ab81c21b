"""Ray Data on a local runtime (loopback only): 2 actors × 1 thread score the rows, and the
scores equal the CLI's on the same rows."""

from __future__ import annotations

import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

import gleaner
from conftest import need
from test_scorers import assert_ifd_equal


class PidIfd(gleaner.IfdScorer):
    """IfdScorer that also records which process scored each row and with how many threads."""

    def __call__(self, batch: pa.Table) -> pa.Table:
        out = super().__call__(batch)
        n = out.num_rows
        return out.append_column("pid", pa.array([os.getpid()] * n)).append_column(
            "threads", pa.array([self.num_threads] * n)
        )


def test_ray_two_actors(rows_parquet, cli_ifd, monkeypatch) -> None:
    # a single-node runtime that stays on 127.0.0.1, without token auth
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    ray = need("ray")
    need("ray.data")
    # the workers cannot import this test module: ship PidIfd by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    t = pq.read_table(rows_parquet).append_column("row", pa.array(range(len(cli_ifd))))
    # pre-split blocks: with 2 CPUs both held by the actors, an upstream repartition task
    # could never run (see the README's scaling section)
    blocks = [t.slice(i, 3) for i in range(0, t.num_rows, 3)]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ds = ray.data.from_arrow(blocks).map_batches(
            PidIfd,
            fn_constructor_kwargs={"num_threads": None},  # the actor's budget: OMP_NUM_THREADS from num_cpus
            batch_format="pyarrow",
            batch_size=3,
            compute=ray.data.ActorPoolStrategy(size=2),
            num_cpus=1,
        )
        out = pa.Table.from_pylist(ds.take_all()).sort_by("row")
    finally:
        ray.shutdown()
    assert out.num_rows == t.num_rows, "no row dropped"
    assert set(out["threads"].to_pylist()) == {1}, "each actor (num_cpus=1) scores on one thread"
    assert len(set(out["pid"].to_pylist())) == 2, "both actors scored rows"
    assert_ifd_equal(out, cli_ifd)
