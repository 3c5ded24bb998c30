"""Ray: a Dataset of predictions written as NDJSON shards by the Ray workers.

    import ray
    from lbfast.arrow import ColumnMap
    import lbfast.ray

    ds = ray.data.read_parquet("boxes.parquet")  # row, image, label, x1, y1, x2, y2, score
    spec = ColumnMap(global_key="image", feature="label", box=("x1", "y1", "x2", "y2"),
                     confidence="score", ids="deterministic")
    manifest = lbfast.ray.write_shards(ds, spec, "/shared/out", index="row")
    manifest.to_pandas()  # path, rows, bytes, masks, features: one row per shard

**Where the work happens.** Each batch is converted and written by the worker that holds
it, through ``Dataset.map_batches(batch_format="pyarrow")``: the Arrow batch goes straight
to lbfast's Arrow entrance (``lbfast.arrow``), no Python object per row. No prediction
comes to the driver; the manifest (a row per shard) stays a Ray Dataset.

**Which paths.** As for ``lbfast.spark``: the workers write with ordinary file calls to
``directory`` made absolute on the driver, so it must be a POSIX path that every worker
can write and that means the same place on all of them: any local path on one machine,
a shared file system mounted at the same path on every node of a cluster. URIs
(``s3://``) are not supported. lbfast must be installed in the workers' environment.

**Row numbers: the ``index`` column.** A Ray batch does not know where it is in the
Dataset, and a retried task must write the same bytes under the same names, so each row's
number comes from the ``index`` column: unique non-negative integers, such as a row
number written with the Parquet files (runs of consecutive numbers convert fastest: one
call per run). Deterministic ids are numbered by it and a batch's shards are named by its
first row: ``{prefix}-{first row:012d}-{n}.ndjson``.
``batch_size``: rows per batch (``None``: a whole block); every batch has its own shards.
Each shard is atomic (temporary name, renamed when complete); the temporary files of
failed attempts are removed when the job ends (when the driver sees the directory). Give
each job a directory of its own: when the job ends, every lbfast temporary file
(``.lbfast-*``) there is removed, and when it fails, every shard of its ``prefix``
too: a failed job leaves nothing.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from lbfast.arrow import ColumnMap
from lbfast.engine_shards import ShardJob, ShardOptions, index_runs, manifest_schema, write_task

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["write_shards"]


# ray is untyped: a Dataset (and what it returns) is Any here.
def write_shards(
    ds: Any,
    spec: ColumnMap,
    directory: str | os.PathLike[str],
    *,
    index: str,
    batch_size: Optional[int] = None,
    **options: Unpack[ShardOptions],
) -> Any:
    """Writes ``ds``'s predictions, mapped by ``spec``, as NDJSON shards in ``directory``
    from the workers; returns the manifest as a materialized Dataset (``path``, ``rows``,
    ``bytes``, ``masks``, ``features``: lines per feature), one row per shard.
    ``index``: the row-number column (see the module docstring); ``options``:
    ``prefix``, ``max_rows``, ``max_bytes``, ``max_masks``, ``gzip`` and ``threads``
    (``lbfast.engine_shards.ShardOptions``); every batch has its own shards."""
    if not isinstance(index, str):
        raise TypeError(f"index must be a column name, got {type(index).__name__}")
    job = ShardJob.of(spec, directory, index, **options)

    def task(table: Any) -> Any:
        import pyarrow as pa  # type: ignore[import-untyped]

        if table.num_rows == 0:
            return manifest_schema().empty_table()
        first = index_runs(table, index)[0][2]
        manifest = write_task(job, f"{first:012d}", [table], None)
        return pa.Table.from_batches([manifest])

    try:
        manifest = ds.map_batches(
            task, batch_format="pyarrow", batch_size=batch_size, zero_copy_batch=True
        ).materialize()
    except BaseException:
        job.fail()
        raise
    job.finish()
    return manifest
