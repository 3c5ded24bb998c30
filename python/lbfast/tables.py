"""Parquet and Arrow IPC files for ``lbfast convert``: read one record batch at a time
with pyarrow (the optional extra ``lbfast[arrow]``), and the column map given on the
command line as ``--map KEY=COLUMN`` options.

pyarrow is used for the files because Parquet needs a full reader (encodings,
compression, nested types) that would double the size of lbfast's extension; the
batches it yields are read by the Arrow entrance like any other Arrow data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Optional

from lbfast.arrow import ColumnMap, NestedRadio

#: File name endings read as tables, and their format.
TABLE_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow",
}

#: Rows per batch read from a Parquet file: memory stays bounded by a batch.
BATCH_ROWS = 65_536

_FIELDS = {f.name for f in dataclasses.fields(ColumnMap)}
_LISTS = {"box", "point", "features", "answers"}
_FLAGS = {"normalized"}


def table_format(path: Path) -> Optional[str]:
    """``"parquet"``, ``"arrow"`` or ``None`` by the file name's ending."""
    return TABLE_SUFFIXES.get(path.suffix.lower())


def column_map(pairs: Sequence[str]) -> ColumnMap:
    """A column map from ``KEY=VALUE`` options: keys are ``ColumnMap``'s fields;
    ``box``, ``point``, ``features`` and ``answers`` take comma-separated lists,
    ``normalized`` true or false, ``subclass`` ``QUESTION:ANSWER_COLUMN[:CONFIDENCE]``, and
    ``custom_metrics`` ``NAME[:COLUMN],...`` (a metric per number column; repeatable).
    A ``ValueError`` or ``TypeError`` says what is wrong."""
    given: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise ValueError(f"--map {pair!r}: expected KEY=VALUE with KEY one of {known}")
        if key in _LISTS and "," in value:
            given[key] = tuple(part.strip() for part in value.split(","))
        elif key in _FLAGS:
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"--map {key}= must be true or false, got {value!r}")
            given[key] = value.lower() in ("true", "1", "yes")
        elif key == "custom_metrics":
            metrics = given.setdefault(key, {})
            for part in filter(None, (p.strip() for p in value.split(","))):
                name, _, column = part.partition(":")
                metrics[name] = column or name
        elif key == "subclass":
            parts = value.split(":")
            if len(parts) not in (2, 3):
                raise ValueError(
                    "--map subclass= must be QUESTION:ANSWER_COLUMN[:CONFIDENCE_COLUMN]"
                )
            confidence = parts[2] if len(parts) == 3 else None
            given[key] = NestedRadio(parts[0], answer=parts[1], confidence=confidence)
        else:
            given[key] = value
    for key in ("features", "answers"):
        if isinstance(given.get(key), str):
            given[key] = (given[key],)
    return ColumnMap(**given)


def batches(path: Path, fmt: str) -> Iterator[Any]:
    """The record batches of a Parquet or Arrow IPC (file or stream) file, one at a time."""
    try:
        # pyarrow has no type information; it is an optional extra.
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.ipc  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            "reading Parquet and Arrow IPC files needs pyarrow: pip install 'lbfast[arrow]'"
        ) from None
    if fmt == "parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
        return
    with pa.memory_map(str(path)) as source:
        try:
            reader: Any = pa.ipc.open_file(source)
        except pa.ArrowInvalid:
            source.seek(0)
            yield from pa.ipc.open_stream(source)
            return
        for k in range(reader.num_record_batches):
            yield reader.get_batch(k)
