"""Streaming NDJSON shards, each ready to be one Labelbox import job.

    with lbfast.ShardWriter("out/", max_rows=100_000) as writer:
        for batch in batches:            # Labels, dicts, columnar batches, mixed
            writer.write(batch)
    manifest = writer.manifest           # shard paths, rows and bytes, counts per feature

Memory stays bounded by one shard: input is converted a chunk at a time and each
chunk's lines are written out before the next is read. A shard is written under a
temporary name, flushed to disk and renamed when complete, and only then listed in the
manifest; finishing a shard is one step: an error or an interrupt at any point of it
(a full disk at close, Ctrl-C after the rename) leaves neither the temporary file nor
an unlisted shard. The shards completed before stay, and are listed.

A SIGKILL (or a power loss) cannot be cleaned up after: it can leave one temporary file
``.lbfast-<hex>.tmp`` in the directory, never a partial shard under its final name.
``ShardWriter(..., clean=True)`` removes such leftovers when it starts.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Callable, Optional, Union, cast

import numpy as np
import numpy.typing as npt

from lbfast import _core
from lbfast._core import Encoded
from lbfast.arrow import ColumnMap
from lbfast.columnar import _Columns
from lbfast.errors import PER_DATA_ROW_LIMIT, ValidationError
from lbfast.files import (
    final_path,
    finish,
    is_special,
    move_into_place,
    named,
    remove_claimed,
    remove_temporaries,
    temporary_beside,
)
from lbfast.items import Item
from lbfast.options import Options, core_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

# Labelbox's SDK refuses more than this many annotations with one name on one data row
# in one import (its ANNOTATION_PER_LABEL_LIMIT); the platform degrades above it.
ANNOTATIONS_PER_DATA_ROW_FEATURE = 5000
# Labelbox advises separate jobs above 1,000 masks.
DEFAULT_MAX_MASKS = 1000
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

# Labels and dicts are converted this many at a time; columnar batches by rows.
_ITEMS_PER_CHUNK = 1000
_ROWS_PER_CHUNK = 65_536


@dataclass
class Shard:
    """One finished shard file."""

    path: Path
    rows: int
    bytes: int
    masks: int
    #: Lines per feature in this shard (its name, or its schema id when it has none).
    features: Counter[str] = field(default_factory=Counter)


@dataclass
class Manifest:
    """What a ShardWriter wrote."""

    shards: list[Shard] = field(default_factory=list)
    #: Lines per feature (its name, or its schema id when it has no name), over all shards.
    features: Counter[str] = field(default_factory=Counter)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.shards)

    @property
    def paths(self) -> list[Path]:
        return [s.path for s in self.shards]

    def as_dict(self) -> dict[str, Any]:
        return {
            "shards": [
                {
                    "path": str(s.path),
                    "rows": s.rows,
                    "bytes": s.bytes,
                    "masks": s.masks,
                    "features": dict(s.features),
                }
                for s in self.shards
            ],
            "rows": self.rows,
            "bytes": self.bytes,
            "features": dict(self.features),
        }


class ShardWriter:
    """Writes predictions as NDJSON shards capped by rows, bytes and masks.

    - ``directory``: where shards go, created if missing; names are
      ``{prefix}-00000.ndjson`` (``.ndjson.gz`` with ``gzip=True``).
    - ``max_rows``, ``max_bytes``, ``max_masks``: caps per shard (uncompressed bytes).
      The defaults follow Labelbox's advice (at most 1,000 masks per import job).
    - ``max_per_data_row_feature``: the SDK's limit of 5,000 annotations with one
      name on one data row in one import; a shard that would exceed it raises
      ``ValidationError`` (nothing of that shard is kept).
    - ``ontology``, ``resolve_schema_ids``, ``required``, ``max_mask_pixels``,
      ``threads``: as for ``lbfast.dumps`` (see ``lbfast.options``).
    - ``clean=True``: first remove the temporary files an interrupted (killed) writer
      left in ``directory``; only when no other writer is using it.
    """

    def __init__(
        self,
        directory: Union[str, os.PathLike[str]],
        *,
        prefix: str = "predictions",
        max_rows: int = DEFAULT_MAX_ROWS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_masks: int = DEFAULT_MAX_MASKS,
        max_per_data_row_feature: int = ANNOTATIONS_PER_DATA_ROW_FEATURE,
        gzip: bool = False,
        clean: bool = False,
        **options: Unpack[Options],
    ) -> None:
        caps = {
            "max_rows": max_rows,
            "max_bytes": max_bytes,
            "max_masks": max_masks,
            "max_per_data_row_feature": max_per_data_row_feature,
        }
        for name, cap in caps.items():
            if cap < 1:
                raise ValueError(f"{name} must be a positive number, got {cap}")
        _check_prefix(prefix)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if clean:
            remove_temporaries(self.directory)
        self.prefix = prefix
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.max_masks = max_masks
        self.max_per_data_row_feature = max_per_data_row_feature
        self.gzip = gzip
        self._options = core_options(options)
        self.manifest = Manifest()
        self._open: Optional[_OpenShard] = None
        # Temporary names given to shards not yet committed (see files.temporary_beside).
        self._claimed: list[Path] = []
        self._closed = False

    # --- public -----------------------------------------------------------------

    def write(self, items: Union[Item, Iterable[Item]]) -> None:
        """Converts and writes ``items``: Labels, dicts and columnar batches, mixed."""
        self._write_all(_core.encode(chunk, **self._options) for chunk in chunks(items))

    def write_encoded(self, encoded: Encoded) -> None:
        """Writes lines checked and written already (``lbfast.ontology.Validator.encode``),
        so that a caller who reports every problem and writes does both in one pass. The
        writer's own options do not apply to them; its caps and limits do."""
        self._write_all([encoded])

    def _write_all(self, encoded: Iterable[Encoded]) -> None:
        if self._closed:
            raise ValueError("write() on a closed ShardWriter")
        try:
            for lines in encoded:
                self._write_lines(lines)
        except BaseException:
            self._discard()
            raise

    def discard(self) -> None:
        """Gives up: removes the open shard and every finished one, and closes."""
        self._discard()
        self._closed = True
        for path in self.manifest.paths:
            if not is_special(path):
                path.unlink(missing_ok=True)

    def write_arrow(self, data: Any, spec: ColumnMap, *, start: int = 0) -> int:
        """Converts and writes Arrow data (see ``lbfast.arrow``) batch by batch, mapped by
        ``spec``; returns the rows read. ``start``: the row number of its first row.
        The writer's options apply (its ``ontology`` included)."""
        if self._closed:
            raise ValueError("write_arrow() on a closed ShardWriter")
        lines = _core.arrow_lines(
            data, spec._spec(), start=start, output="encoded", **self._options
        )
        self._write_all(lines)
        return int(lines.rows)

    def close(self) -> Manifest:
        """Finishes the last shard and returns the manifest."""
        if not self._closed:
            self._closed = True
            if self._open is not None:
                self._finish()
        return self.manifest

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is not None:
            self._discard()
            self._closed = True
        else:
            self.close()

    # --- shards -----------------------------------------------------------------

    def _write_lines(self, encoded: Encoded) -> None:
        ends = np.asarray(encoded.line_ends, dtype=np.int64)
        # Masks up to and including each line: one pass, searched at every cut.
        masks_through = np.cumsum(np.asarray(encoded.is_mask, dtype=np.int64))
        data = memoryview(encoded.data)
        start_line = 0
        while start_line < len(ends):
            shard = self._open or self._start()
            offset = int(ends[start_line - 1]) if start_line else 0
            # How many of the remaining lines fit: by rows, by bytes, by masks.
            masks_before = int(masks_through[start_line - 1]) if start_line else 0
            room_rows = self.max_rows - shard.rows
            room_bytes = int(
                np.searchsorted(ends[start_line:], offset + self.max_bytes - shard.bytes, "right")
            )
            room_masks = int(
                np.searchsorted(
                    masks_through[start_line:], masks_before + self.max_masks - shard.masks, "right"
                )
            )
            take = min(room_rows, room_bytes, room_masks, len(ends) - start_line)
            if take == 0:
                if shard.rows == 0:
                    # A single line larger than max_bytes still gets a shard of its own.
                    take = 1
                else:
                    self._finish()
                    continue
            stop_line = start_line + take
            stop = int(ends[stop_line - 1])
            shard.write(data[offset:stop])
            shard.rows += take
            shard.bytes += stop - offset
            shard.masks += int(masks_through[stop_line - 1]) - masks_before
            shard.count(encoded, start_line, stop_line)
            start_line = stop_line
            if (
                shard.rows >= self.max_rows
                or shard.masks >= self.max_masks
                or shard.bytes >= self.max_bytes
            ):
                self._finish()

    def _start(self) -> _OpenShard:
        index = len(self.manifest.shards)
        suffix = ".ndjson.gz" if self.gzip else ".ndjson"
        path = self.directory / f"{self.prefix}-{index:05d}{suffix}"
        self._open = _OpenShard(path, self.gzip, self._claimed.append)
        return self._open

    def _finish(self) -> None:
        """Commits the open shard and lists it, as one step: whatever interrupts it,
        the shard is then either on disk and listed, or neither."""
        shard = self._open
        assert shard is not None
        over = shard.over_limit(self.max_per_data_row_feature)
        if over:
            self._discard()
            raise ValidationError(
                [
                    (
                        PER_DATA_ROW_LIMIT,
                        0,
                        f"dataRow {data_row!r}",
                        f"{n} annotations named {feature!r} in one shard; Labelbox accepts at "
                        f"most {self.max_per_data_row_feature} per data row and feature per import",
                        None,
                        "error",
                    )
                    for data_row, feature, n in sorted(over)
                ]
            )
        listed = Shard(shard.path, shard.rows, shard.bytes, shard.masks, Counter(shard.features))
        shards = self.manifest.shards
        try:
            shard.commit()
            shards.append(listed)
            self.manifest.features.update(shard.features)
            self._claimed.clear()
        except BaseException:
            # Back to "not written", whichever step was hit.
            if shards and shards[-1] is listed:
                shards.pop()
            shard.discard(committed=not shard.tmp.exists())
            self._open = None
            raise
        self._open = None

    def _discard(self) -> None:
        if self._open is not None:
            self._open.discard()
            self._open = None
        # A Ctrl-C can land while a shard is being opened, before it is `_open`.
        remove_claimed(self._claimed)


def _check_prefix(prefix: Any) -> None:
    """A shard name prefix is a plain name: the shards stay inside their directory."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")
    separators = [s for s in (os.sep, os.altsep, "/") if s]
    if (
        not prefix
        or prefix in (".", "..")
        or any(s in prefix for s in separators)
        or "\0" in prefix
    ):
        raise ValueError(
            f"prefix must be a plain file name, without {'/'!r} or '..', got {prefix!r}"
        )


class _OpenShard:
    """A shard being written under a temporary name."""

    def __init__(self, path: Path, compress: bool, claim: Callable[[Path], None]) -> None:
        self.path = path
        self.tmp, self.raw = temporary_beside(final_path(path), claim)
        self.file: Union[gzip_module.GzipFile, IO[bytes]] = (
            gzip_module.GzipFile(fileobj=self.raw, mode="wb", compresslevel=6, mtime=0)
            if compress
            else self.raw
        )
        self.rows = 0
        self.bytes = 0
        self.masks = 0
        self.features: Counter[str] = Counter()
        self.row_ids: dict[str, int] = {}
        self.feature_ids: dict[str, int] = {}
        self.pair_keys: list[npt.NDArray[np.int64]] = []

    def write(self, data: memoryview) -> None:
        try:
            self.file.write(data)
        except OSError as err:  # a full disk: say which shard
            raise named(err, self.path) from None

    def count(self, encoded: Encoded, start: int, stop: int) -> None:
        feature_index = np.asarray(encoded.feature_index[start:stop])
        features = encoded.features
        for f, n in enumerate(np.bincount(feature_index, minlength=len(features))):
            if n:
                self.features[features[f]] += int(n)
        # The SDK keys its per-data-row limit on `name` only. Pairs are keyed by
        # shard-wide ids and counted when the shard is finished: one int per line.
        named = np.asarray(encoded.has_name[start:stop], dtype=bool)
        rows = self._ids(self.row_ids, encoded.data_rows)[
            np.asarray(encoded.data_row_index[start:stop])[named]
        ]
        feats = self._ids(self.feature_ids, features)[feature_index[named]]
        self.pair_keys.append(rows * (1 << 32) + feats)

    @staticmethod
    def _ids(table: dict[str, int], names: list[str]) -> npt.NDArray[np.int64]:
        """Shard-wide ids of a chunk's distinct strings."""
        ids = (table.setdefault(name, len(table)) for name in names)
        return np.fromiter(ids, dtype=np.int64, count=len(names))

    def over_limit(self, limit: int) -> list[tuple[str, str, int]]:
        """(data row, feature, count) of the pairs above ``limit``."""
        if not self.pair_keys:
            return []
        keys, counts = np.unique(np.concatenate(self.pair_keys), return_counts=True)
        over = counts > limit
        if not over.any():
            return []
        row_names = {i: name for name, i in self.row_ids.items()}
        feature_names = {i: name for name, i in self.feature_ids.items()}
        return [
            (row_names[int(k >> 32)], feature_names[int(k & 0xFFFFFFFF)], int(n))
            for k, n in zip(keys[over], counts[over])
        ]

    def commit(self) -> None:
        """Flushes, closes and renames the shard into place."""
        try:
            if self.file is not self.raw:
                self.file.close()
            finish(self.raw)
        except OSError as err:
            raise named(err, self.path) from None
        move_into_place(self.tmp, self.path)

    def discard(self, committed: bool = False) -> None:
        """Removes the shard: its temporary file, and the shard itself if ``committed``."""
        try:
            if self.file is not self.raw:
                self.file.close()
        except OSError:
            pass  # the bytes are thrown away anyway
        finally:
            with contextlib.suppress(OSError):
                self.raw.close()
            self.tmp.unlink(missing_ok=True)
            if committed and not is_special(self.path):
                self.path.unlink(missing_ok=True)


def chunks(items: Union[Item, Iterable[Item]]) -> Iterator[list[Item]]:
    """Groups input into conversion chunks (what one shard writer call converts at
    a time, to keep memory bounded); columnar batches are split by rows."""
    single = isinstance(items, (_Columns, dict)) or hasattr(items, "annotations")
    # Anything else is taken as an iterable of items (the Rust core checks each).
    many = [cast("Item", items)] if single else cast("Iterable[Item]", items)
    pending: list[Item] = []
    for item in many:
        if isinstance(item, _Columns):
            if pending:
                yield pending
                pending = []
            for start in range(0, max(len(item), 1), _ROWS_PER_CHUNK):
                yield [
                    item[start : start + _ROWS_PER_CHUNK] if len(item) > _ROWS_PER_CHUNK else item
                ]
        else:
            pending.append(item)
            if len(pending) >= _ITEMS_PER_CHUNK:
                yield pending
                pending = []
    if pending:
        yield pending
