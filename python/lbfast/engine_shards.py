"""One engine task's share of a shard job: its record batches written as shards.

``lbfast.spark`` and ``lbfast.ray`` run ``write_task`` on the workers, once per Spark
partition or Ray batch. It writes through a ``lbfast.ShardWriter`` (each shard under a
temporary name, renamed when complete) and returns the task's manifest as a pyarrow
record batch, one row per shard. What makes a retried or speculative task write the same
files with the same bytes: shard names come from the task's key (a partition id or a
first row number), never from an attempt, and deterministic ids come from row numbers
that do not depend on the attempt either.

pyarrow is imported only here and only on the workers: both engines need it for Arrow
batches anyway. It is untyped, hence ``Any`` at this boundary.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TypedDict

import numpy as np

from lbfast.arrow import ColumnMap, manifest_batch
from lbfast.files import remove_temporaries
from lbfast.writer import DEFAULT_MAX_BYTES, DEFAULT_MAX_MASKS, DEFAULT_MAX_ROWS, ShardWriter

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: The manifest's columns, as (name, pyarrow type name); engines build their schemas
#: from it. ``features``: lines per feature in that shard.
MANIFEST_COLUMNS = (
    ("path", "string"),
    ("rows", "int64"),
    ("bytes", "int64"),
    ("masks", "int64"),
    ("features", "map<string, int64>"),
)


class ShardOptions(TypedDict, total=False):
    """The shard options the engines' ``write_shards`` take: ``prefix``, the caps
    ``max_rows``, ``max_bytes``, ``max_masks`` and ``gzip`` as for ``lbfast.ShardWriter``
    (per shard; every task has its own shards), ``threads`` per task (the engines
    already run a task per core, hence 1 by default)."""

    prefix: str
    max_rows: int
    max_bytes: int
    max_masks: int
    gzip: bool
    threads: Optional[int]


@dataclass(frozen=True)
class ShardJob:
    """What every task of one job shares: sent to the workers with the task."""

    spec: ColumnMap
    directory: str
    prefix: str = "predictions"
    max_rows: int = DEFAULT_MAX_ROWS
    max_bytes: int = DEFAULT_MAX_BYTES
    max_masks: int = DEFAULT_MAX_MASKS
    gzip: bool = False
    #: A column holding each row's number in the whole input (see ``index_runs``).
    index: Optional[str] = None
    threads: Optional[int] = 1
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        spec: ColumnMap,
        directory: str | os.PathLike[str],
        index: Optional[str],
        **options: Unpack[ShardOptions],
    ) -> ShardJob:
        """Checks the arguments on the driver, before any task starts."""
        if not isinstance(spec, ColumnMap):
            raise TypeError(f"spec must be a lbfast.arrow.ColumnMap, got {type(spec).__name__}")
        if index is not None and not isinstance(index, str):
            raise TypeError(f"index must be a column name, got {type(index).__name__}")
        # Tasks write where the driver means: an absolute path, the same on every worker.
        path = os.path.abspath(os.fspath(directory))
        job = cls(spec=spec, directory=path, index=index, **options)
        # A wrong prefix or cap fails here, not in every task.
        ShardWriter(path, **job._writer_options("check"))
        return job

    def _writer_options(self, key: str) -> dict[str, Any]:
        return {
            "prefix": f"{self.prefix}-{key}",
            "max_rows": self.max_rows,
            "max_bytes": self.max_bytes,
            "max_masks": self.max_masks,
            "gzip": self.gzip,
            "threads": self.threads,
            **self.options,
        }

    def finish(self) -> None:
        """After the job, on the driver: removes the temporary files of failed or
        killed attempts, when the driver sees the directory (local or shared)."""
        if os.path.isdir(self.directory):
            remove_temporaries(self.directory)

    def fail(self) -> None:
        """After a failed job, on the driver: removes every shard a task of it may have
        committed (a task killed when another failed can have renamed some, and a
        retried partition may have finished), so that a failed job leaves nothing."""
        if not os.path.isdir(self.directory):
            return
        shard = re.compile(rf"{re.escape(self.prefix)}-\d+-\d{{5}}\.ndjson(\.gz)?")
        for entry in os.scandir(self.directory):
            if shard.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
        remove_temporaries(self.directory)


def index_runs(batch: Any, index: str) -> list[tuple[int, int, int]]:
    """``(offset, rows, first row number)`` of each run of rows of ``batch`` that its
    ``index`` column numbers consecutively (``n, n+1, ...``): deterministic ids are
    numbered by position, so each run is converted with its own start. An engine may
    put several files' rows in one batch: each file is a run."""
    names = batch.schema.names
    if index not in names:
        raise ValueError(f"the index column {index!r} is not among the columns {names}")
    column = batch.column(names.index(index))
    if column.null_count:
        raise ValueError(f"the index column {index!r} has nulls")
    numbers = np.asarray(column)
    if numbers.dtype.kind not in "iu":
        raise TypeError(f"the index column {index!r} must hold integers, got {column.type}")
    if len(numbers) and numbers.min() < 0:
        raise ValueError(f"the index column {index!r} has negative row numbers")
    cuts = [0, *(np.flatnonzero(np.diff(numbers) != 1) + 1).tolist(), len(numbers)]
    return [(a, b - a, int(numbers[a])) for a, b in zip(cuts, cuts[1:]) if b > a]


def write_task(job: ShardJob, key: str, batches: Iterable[Any], start: Optional[int]) -> Any:
    """Writes ``batches`` (pyarrow record batches or tables) as shards named
    ``{prefix}-{key}-NNNNN`` and returns their manifest as a pyarrow record batch. Row
    numbers: ``start`` and on, or, if ``start`` is None, the ``job.index`` column."""
    import pyarrow as pa  # type: ignore[import-untyped]

    rows_so_far = 0
    writer = ShardWriter(job.directory, **job._writer_options(key))
    with writer:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            if start is not None:
                writer.write_arrow(batch, job.spec, start=start + rows_so_far)
            elif job.index is not None:
                for offset, rows, first in index_runs(batch, job.index):
                    writer.write_arrow(batch.slice(offset, rows), job.spec, start=first)
            else:
                raise ValueError("rows need a start or an index column")
            rows_so_far += batch.num_rows
    shards = writer.manifest.shards
    table = pa.record_batch(manifest_batch(shards, [s.features for s in shards]))
    return table.cast(manifest_schema())


def manifest_schema() -> Any:
    """The manifest as a pyarrow schema."""
    import pyarrow as pa  # (untyped: ignored at this module's first import)

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "map<string, int64>": pa.map_(pa.string(), pa.int64()),
    }
    return pa.schema([(name, types[kind]) for name, kind in MANIFEST_COLUMNS])
