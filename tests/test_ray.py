"""lbfast.ray against a real local Ray (loopback, no dashboard, no usage stats): the
workers write atomic shards whose lines equal lbfast.arrow.convert of the whole table,
numbered and named by the index column."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from engine_helpers import SPEC, predictions, shard_bytes

import lbfast.arrow
import lbfast.ray

N = 1000
# Ray's switches that keep a local run off the network and from reporting usage. Ray
# turns _node_ip_address="127.0.0.1" into the machine's reachable address on Linux; with
# "clusters" off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, as on macOS) it stays on loopback.
_QUIET_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
}
# Ray reads them when imported, so they are set before (and stay: they only concern Ray).
os.environ.update(_QUIET_ENV)
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_local():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        object_store_memory=200 * 1024 * 1024,
        configure_logging=False,
        log_to_driver=False,
    )
    # Every Ray process listens on loopback only.
    assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def table():
    return predictions(N)


def blocks(table, *cuts):
    """The table as a Dataset of several blocks."""
    edges = [0, *cuts, table.num_rows]
    return ray.data.from_arrow([table.slice(a, b - a) for a, b in zip(edges, edges[1:])])


def test_shards_equal_convert_of_the_whole_table(ray_local, table, tmp_path):
    ds = blocks(table, 300, 650)
    manifest = lbfast.ray.write_shards(ds, SPEC, tmp_path, index="row", max_rows=200)
    rows = sorted(manifest.take_all(), key=lambda r: r["path"])
    paths = [r["path"] for r in rows]
    assert shard_bytes(paths) == lbfast.arrow.convert(table, SPEC)
    assert sum(r["rows"] for r in rows) == N
    assert all(r["rows"] <= 200 for r in rows)
    assert [r["bytes"] for r in rows] == [Path(p).stat().st_size for p in paths]
    features = Counter()
    for r in rows:
        features.update(dict(r["features"]))
    assert features == Counter(table.column("label").to_pylist())
    # Named by each batch's first row, so that a retried task writes the same names.
    assert {Path(p).name.split("-")[1] for p in paths} == {
        "000000000000",
        "000000000300",
        "000000000650",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(p).name for p in paths)


def test_batches_smaller_than_blocks_have_their_own_shards(ray_local, table, tmp_path):
    ds = blocks(table, 500)
    manifest = lbfast.ray.write_shards(ds, SPEC, tmp_path, index="row", batch_size=250)
    paths = [r["path"] for r in manifest.take_all()]
    assert len(paths) == 4
    assert shard_bytes(paths) == lbfast.arrow.convert(table, SPEC)


def test_rows_out_of_order_keep_the_ids_of_their_row_numbers(ray_local, table, tmp_path):
    """A batch of several runs of row numbers (as when Ray reads two files into one
    block) converts each run from its own start."""
    shuffled = table.take([*range(500, N), *range(500)])
    manifest = lbfast.ray.write_shards(ray.data.from_arrow(shuffled), SPEC, tmp_path, index="row")
    lines = shard_bytes(r["path"] for r in manifest.take_all()).splitlines()
    # One shard, in the batch's order: rows 500.. first, then rows 0..499.
    in_batch_order = lbfast.arrow.convert(shuffled.slice(0, 500), SPEC, start=500)
    in_batch_order += lbfast.arrow.convert(shuffled.slice(500), SPEC)
    assert lines == in_batch_order.splitlines()
    assert sorted(lines) == sorted(lbfast.arrow.convert(table, SPEC).splitlines())


def test_an_index_with_nulls_fails_naming_it(ray_local, table, tmp_path):
    rows = pa.array([0, None, *range(2, N)], pa.int64())
    holed = table.set_column(0, "row", rows)
    with pytest.raises(Exception, match="index column 'row' has nulls"):
        lbfast.ray.write_shards(ray.data.from_arrow(holed), SPEC, tmp_path, index="row")


def test_the_index_column_is_required(ray_local, table, tmp_path):
    with pytest.raises(TypeError, match="index"):
        lbfast.ray.write_shards(ray.data.from_arrow(table), SPEC, tmp_path, index=None)
