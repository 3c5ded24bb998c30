"""Spark: a DataFrame of predictions written as NDJSON shards by the executors.

    from lbfast.arrow import ColumnMap
    import lbfast.spark

    df = spark.read.parquet("boxes.parquet")  # image, label, x1, y1, x2, y2, score
    spec = ColumnMap(global_key="image", feature="label", box=("x1", "y1", "x2", "y2"),
                     confidence="score", ids="deterministic")
    manifest = lbfast.spark.write_shards(df, spec, "/shared/out")
    manifest.show()  # path, rows, bytes, masks, features: one row per shard

**Where the work happens.** Each partition is converted and written by the executor
that holds it, through ``DataFrame.mapInArrow``: Arrow record batches go straight from
Spark to lbfast's Arrow entrance (``lbfast.arrow``), no Python object per row. No
prediction is collected to the driver; only the manifest (a row per shard) is.

**Which paths.** The executors write the files themselves, with ordinary file calls, to
``directory`` made absolute on the driver. It must therefore be a POSIX path that every
executor can write and that means the same place on all of them: any local path in
``local[*]`` mode; on a cluster, a shared file system mounted at the same path on every
node (NFS, a Lustre or GPFS mount, a DBFS FUSE mount such as ``/dbfs/...``). URIs
(``s3://``, ``hdfs://``) are not supported: write to a mount, then copy. lbfast (and
pyarrow, which ``mapInArrow`` needs) must be installed on the executors.

**Atomic and repeatable.** Each shard is written under a temporary name and renamed when
complete (``lbfast.ShardWriter``), so a reader never sees half a shard. Shards are named
``{prefix}-{partition}-{n}.ndjson`` by partition, not by attempt, and with
``ids="deterministic"`` every row's id comes from its row number, which does not depend
on the attempt either: a retried or speculative task writes the same files with the same
bytes. The temporary files of failed attempts are removed when the job ends (when the
driver sees the directory). Give
each job a directory of its own: when the job ends, every lbfast temporary file
(``.lbfast-*``) there is removed, and when it fails, every shard of its ``prefix``
too: a failed job leaves nothing.

**Row numbers.** By default a first job counts the rows of each partition, and
partition ``p``'s rows are numbered after those of partitions ``0..p-1``: the lines equal
``lbfast.arrow.convert`` of the whole table, in order. This needs a DataFrame that gives
the same partitions each time it is computed (read from files, or ``cache()`` it); a
task that sees another number of rows than was counted fails and removes its shards.
Or give ``index=``, a column of unique non-negative row numbers (runs of consecutive
ones convert fastest): then there is no counting job.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from lbfast.arrow import ColumnMap
from lbfast.engine_shards import MANIFEST_COLUMNS, ShardJob, ShardOptions, write_task

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["manifest_ddl", "write_shards"]

_SPARK_TYPES = {"string": "string", "int64": "bigint", "map<string, int64>": "map<string,bigint>"}


def manifest_ddl() -> str:
    """The manifest DataFrame's schema, as Spark DDL."""
    return ", ".join(f"{name} {_SPARK_TYPES[kind]}" for name, kind in MANIFEST_COLUMNS)


# pyspark is untyped: a DataFrame (and what it returns) is Any here.
def write_shards(
    df: Any,
    spec: ColumnMap,
    directory: str | os.PathLike[str],
    *,
    index: Optional[str] = None,
    **options: Unpack[ShardOptions],
) -> Any:
    """Writes ``df``'s predictions, mapped by ``spec``, as NDJSON shards in ``directory``
    from the executors; returns the manifest as a DataFrame (``path``, ``rows``,
    ``bytes``, ``masks``, ``features``: lines per feature), one row per shard, in row
    order. ``options``: ``prefix``, ``max_rows``, ``max_bytes``, ``max_masks``, ``gzip``
    and ``threads`` (``lbfast.engine_shards.ShardOptions``); each partition has its own
    shards. See the module docstring for ``index`` and for which directories work."""
    job = ShardJob.of(spec, directory, index, **options)
    offsets = None if index is not None else _partition_offsets(df)

    def task(batches: Iterator[Any]) -> Iterator[Any]:
        from pyspark import TaskContext

        partition = TaskContext.get().partitionId()
        if offsets is None:
            yield write_task(job, f"{partition:05d}", batches, None)
            return
        start, expected = offsets.get(partition, (0, 0))
        manifest = write_task(job, f"{partition:05d}", batches, start)
        rows = sum(manifest.column(1).to_pylist())
        if rows != expected:
            # Numbered from a wrong start: these shards must not stay.
            for path in manifest.column(0).to_pylist():
                Path(path).unlink(missing_ok=True)
            raise RuntimeError(
                f"partition {partition} has {rows} rows now but had {expected} when "
                "counted: the DataFrame is not computed the same way twice; cache() it "
                "or give write_shards an index column"
            )
        yield manifest

    ddl = manifest_ddl()
    try:
        # Only the manifest comes to the driver: a row per shard.
        rows = df.mapInArrow(task, ddl).collect()
    except BaseException:
        job.fail()
        raise
    job.finish()
    rows.sort(key=lambda row: row["path"])
    return df.sparkSession.createDataFrame(rows, ddl)


def _shuffles(df: Any) -> bool:
    """Whether ``df``'s physical plan has an exchange (or cannot be seen: Spark
    Connect frames have no JVM plan here)."""
    try:
        plan = str(df._jdf.queryExecution().executedPlan().toString())
    except Exception:  # any failure (no JVM plan): count the safe way
        return True
    return "Exchange" in plan


def _partition_offsets(df: Any) -> dict[int, tuple[int, int]]:
    """Partition id -> (its first row's number, its rows), by a counting job through
    ``mapInArrow`` too: an opaque step the optimiser cannot rewrite, so the partitions
    counted are those written (a projection such as ``spark_partition_id()`` may be
    planned differently). Only the counts come back.

    Without a shuffle in the plan, partitions are the input's splits (file splits,
    cached blocks, local slices), whichever columns are read: then only a constant
    column is sent to Python, not every prediction twice. With a shuffle, adaptive
    execution may coalesce partitions by the bytes shuffled, so the whole rows are
    counted. Either way a task that meets another count fails (``write_shards``)."""

    def count(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped]
        from pyspark import TaskContext

        rows = sum(batch.num_rows for batch in batches)
        partition = TaskContext.get().partitionId()
        yield pa.record_batch(
            [pa.array([partition], pa.int32()), pa.array([rows], pa.int64())], ["partition", "rows"]
        )

    from pyspark.sql import functions

    counted = df if _shuffles(df) else df.select(functions.lit(0).alias("lbfast_count"))
    counts = counted.mapInArrow(count, "partition int, rows bigint").collect()
    offsets = {}
    first = 0
    for partition, rows in sorted((int(r["partition"]), int(r["rows"])) for r in counts):
        offsets[partition] = (first, rows)
        first += rows
    return offsets
