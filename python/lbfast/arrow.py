"""Arrow tables in: predictions from pyarrow, polars, DuckDB (anything Arrow) to NDJSON.

    import pyarrow.parquet as pq
    import lbfast
    from lbfast.arrow import ColumnMap

    table = pq.read_table("boxes.parquet")  # image, label, x1, y1, x2, y2, score
    spec = ColumnMap(
        global_key="image",
        feature="label",
        box=("x1", "y1", "x2", "y2"),
        confidence="score",
    )
    ndjson = lbfast.arrow.convert(table, spec)  # one bbox line per row, in row order

**What it reads.** Any object with ``__arrow_c_stream__`` or ``__arrow_c_array__``: a
pyarrow ``Table``, ``RecordBatch`` or ``RecordBatchReader``, a polars ``DataFrame``, a
DuckDB relation, an arro3 table. The columns are read in Rust through the Arrow C data
interface: no copy to numpy, no Python object per row, no pyarrow needed. A table or
stream is read one record batch at a time (``iter_convert``), so memory is bounded by a
batch and its lines.

**Same lines.** Each row is one prediction, and its line is byte for byte the one the
numpy entrance (``lbfast.columnar``) writes for the same prediction, checked by the same
rules: with ``ids="deterministic"``, row ``r`` of the input gets the id prediction ``r``
of one ``lbfast.columnar`` batch over the whole input would get.

**The column map** (``ColumnMap``) names the user's columns, all by keyword:

- the data row: ``global_key=`` or ``data_row_id=``: a string column;
- the feature (objects): ``feature=`` a string column of names (or of schema ids, with
  ``feature_kind="schema_id"``), or an integer column of class ids with ``features=`` the
  list of names they index;
- ``confidence=``: a number column; a null means "no confidence" for that row;
- exactly one geometry or classification:

  - ``box=``: one column holding 4 numbers per row (``FixedSizeList<4>``, or a ``List``
    of 4: Spark has no fixed-size lists), or a tuple of four number columns; in
    ``box_format`` ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``; ``normalized=True`` with
    ``width=`` and ``height=`` columns (the image's size, in pixels, per row);
  - ``point=``: a ``Struct{x, y}`` column, a list of 2 numbers, or a tuple of two
    number columns;
  - ``line=`` / ``polygon=``: a ``List`` or ``LargeList`` of ``Struct{x, y}``, of lists
    of 2 numbers, or of flat numbers ``x0, y0, x1, y1, ...``;
  - ``mask=``: a column of binary PNGs (``Binary``, ``LargeBinary``, ``BinaryView``),
    written as given (as a dict's ``{"png": ...}``), or of COCO RLEs, a
    ``Struct{size: [height, width], counts}`` with the compressed string or a list of
    run lengths, written as the ``InstanceMasks`` plane it decodes to; each row is one
    mask (with ``ids="deterministic"``, named ``mask`` in the id's name);
  - global classifications of the question ``question=``: ``radio=`` a column of the
    chosen answer's name (or index into ``answers=``), ``checklist=`` a list column of
    them (a checklist's ``confidence`` is a list column too, one per answer), or
    ``text=`` a string column;
- ``subclass=NestedRadio(question, answer=column, ...)``: a radio nested in every object;
- ``custom_metrics={"iou": "iou_column", ...}``: objects' custom metrics, each a number
  column, written in the map's order; a null leaves that metric out of its row's line;
- ``ids=``: ``"random"``, ``"deterministic"`` or a ``uuid.UUID`` namespace, as in
  ``lbfast.columnar``.

**Layouts.** Strings may be ``Utf8``, ``LargeUtf8``, ``Utf8View`` or a ``Dictionary`` of
them with any key width (pyarrow dictionaries, polars ``Categorical``/``Enum``, DuckDB
``ENUM``); numbers any float (16, 32, 64 bits) or integer type; indices integers.

**Errors.** Rows are the input's rows (counted from ``start``) and paths are the map's
column names: ``row 17: score: confidence must be a number within [0, 1], got 1.5``. A
null in a required column is a ``lbfast.ValidationError`` naming its row and column, as
is a missing column; a column of the wrong Arrow type is a ``TypeError`` naming it.

**Options** are those of ``lbfast.dumps`` (``lbfast.options``): with ``ontology=`` each
batch is checked against it as a columnar batch is (names, kinds, schema ids; amended
with ``resolve_schema_ids=True``), ``threads``, ``max_mask_pixels``.

**Arrow out.** ``convert_to_arrow`` gives the lines as record batches (one ``ndjson``
string column, a line per input row, no newline), and ``manifest_batch`` the manifest
of shards as a record batch: what an engine such as Spark's ``mapInArrow`` needs back.
Both are read by any Arrow consumer (``pyarrow.record_batch(b)``, ``polars.from_arrow``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional, Protocol, Union

from lbfast import _core
from lbfast.columnar import Ids, _namespace
from lbfast.options import Options, core_options

if TYPE_CHECKING:
    from typing_extensions import TypeAlias, Unpack

__all__ = [
    "ArrowBatch",
    "ColumnMap",
    "NestedRadio",
    "ShardFacts",
    "convert",
    "convert_batch",
    "convert_to_arrow",
    "iter_convert",
    "manifest_batch",
]

#: A record batch made by lbfast; Arrow consumers read it by ``__arrow_c_array__``.
ArrowBatch = _core.ArrowBatch
#: What ``feature`` / ``answer`` columns (or their lists) hold.
NameKind: TypeAlias = Literal["name", "schema_id"]
BoxFormat: TypeAlias = Literal["xyxy", "xywh", "cxcywh"]


def _names(column: str, names: Optional[Sequence[str]], kind: NameKind) -> dict[str, Any]:
    if kind not in ("name", "schema_id"):
        raise ValueError(f"a name kind must be 'name' or 'schema_id', got {kind!r}")
    if isinstance(names, str):
        raise TypeError("a list of names must be a list of strings, not one string")
    return {"column": column, "kind": kind, "names": None if names is None else list(names)}


@dataclass(frozen=True)
class NestedRadio:
    """A radio question nested in every object, as ``lbfast.columnar.RadioSubclass``.

    Args:
        question: the question's name (or schema id, with ``kind="schema_id"``).
        answer: the column of each row's answer: its name (or schema id), or an
            integer index into ``answers``.
        answers: the answers' names when ``answer`` holds indices.
        confidence: the column of each answer's confidence (a null: none).
        kind: ``"name"`` or ``"schema_id"``: what the question and answers are.
    """

    question: str
    answer: str
    answers: Optional[Sequence[str]] = None
    confidence: Optional[str] = None
    kind: NameKind = "name"

    def _spec(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "kind": self.kind,
            "answers": _names(self.answer, self.answers, self.kind),
            "confidence": self.confidence,
        }


_GEOMETRIES = ("box", "point", "line", "polygon", "mask", "radio", "checklist", "text")


@dataclass(frozen=True)
class ColumnMap:
    """Which columns of a table mean what; see the module documentation."""

    global_key: Optional[str] = None
    data_row_id: Optional[str] = None
    feature: Optional[str] = None
    features: Optional[Sequence[str]] = None
    feature_kind: NameKind = "name"
    confidence: Optional[str] = None
    box: Union[str, tuple[str, str, str, str], None] = None
    box_format: BoxFormat = "xyxy"
    normalized: bool = False
    width: Optional[str] = None
    height: Optional[str] = None
    point: Union[str, tuple[str, str], None] = None
    line: Optional[str] = None
    polygon: Optional[str] = None
    mask: Optional[str] = None
    question: Optional[str] = None
    radio: Optional[str] = None
    checklist: Optional[str] = None
    text: Optional[str] = None
    answers: Optional[Sequence[str]] = None
    subclass: Optional[NestedRadio] = None
    custom_metrics: Optional[Mapping[str, str]] = None
    ids: Ids = "random"

    def __post_init__(self) -> None:
        # Checked once, so that a wrong map fails before any data is read.
        self._spec()

    def _geometry(self) -> str:
        given = [g for g in _GEOMETRIES if getattr(self, g) is not None]
        if len(given) != 1:
            raise ValueError(
                "a column map needs exactly one of box, point, line, polygon, mask, radio, "
                f"checklist and text, got {', '.join(given) or 'none'}"
            )
        return given[0]

    def _spec(self) -> dict[str, Any]:
        """The map as the Rust reader takes it."""
        if (self.global_key is None) == (self.data_row_id is None):
            raise ValueError("a column map needs exactly one of global_key and data_row_id")
        geometry = self._geometry()
        classification = geometry in ("radio", "checklist", "text")
        if classification:
            if self.question is None:
                raise ValueError(f"a {geometry} column map needs the question")
            if self.feature is not None or self.subclass is not None:
                raise ValueError("global classifications take no feature and no subclass")
        elif self.feature is None:
            raise ValueError("a column map of objects needs the feature column")
        if self.box_format not in ("xyxy", "xywh", "cxcywh"):
            raise ValueError(
                f"box_format must be 'xyxy', 'xywh' or 'cxcywh', got {self.box_format!r}"
            )
        if self.normalized and (self.width is None or self.height is None):
            raise ValueError("normalized boxes need the width and height columns")
        metrics = dict(self.custom_metrics or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metrics.items()):
            raise TypeError("custom_metrics must map metric names to column names (strings)")
        if metrics and classification:
            raise ValueError("custom_metrics are taken on objects, not on global classifications")
        if geometry == "mask" and self.subclass is not None:
            raise ValueError("mask rows take no subclass")
        if self.subclass is not None and not isinstance(self.subclass, NestedRadio):
            raise TypeError(f"subclass must be a NestedRadio, got {type(self.subclass).__name__}")
        columns = getattr(self, geometry)
        columns = [columns] if isinstance(columns, str) else list(columns)
        expected = {"box": (1, 4), "point": (1, 2)}.get(geometry, (1,))
        if len(columns) not in expected or not all(isinstance(c, str) for c in columns):
            counts = " or ".join(map(str, expected))
            raise TypeError(f"{geometry} must be {counts} column name(s), got {columns!r}")
        return {
            "data_row": self.global_key if self.data_row_id is None else self.data_row_id,
            "data_row_kind": "global_key" if self.data_row_id is None else "id",
            "features": None
            if self.feature is None
            else _names(self.feature, self.features, self.feature_kind),
            "question": self.question,
            "question_kind": self.feature_kind,
            "confidence": self.confidence,
            "geometry": "bbox" if geometry == "box" else geometry,
            "columns": columns,
            "answers": _names(columns[0], self.answers, self.feature_kind)
            if geometry in ("radio", "checklist")
            else None,
            "box_format": self.box_format,
            "normalized": bool(self.normalized),
            "size": (self.width, self.height) if self.normalized else None,
            "subclass": None if self.subclass is None else self.subclass._spec(),
            "custom_metrics": list(metrics.items()),
            "namespace": _namespace(self.ids),
        }


def iter_convert(
    data: Any, spec: ColumnMap, *, start: int = 0, **options: Unpack[Options]
) -> Iterator[bytes]:
    """The NDJSON lines of ``data``, one ``bytes`` per input record batch with rows.

    ``start`` is the row number of ``data``'s first row (for errors and deterministic
    ids: give a slice's offset to get the ids of the whole table). ``options`` as for
    ``lbfast.dumps`` (``lbfast.options.Options``): ``threads`` (how many threads check
    and write each batch), ``ontology`` (checked against, batch by batch),
    ``max_mask_pixels``, ...
    """
    return iter(_core.arrow_lines(data, _spec_of(spec), start=start, **core_options(options)))


def convert(data: Any, spec: ColumnMap, *, start: int = 0, **options: Unpack[Options]) -> bytes:
    """All NDJSON lines of ``data`` (a table, a batch, a stream), one per row."""
    return b"".join(iter_convert(data, spec, start=start, **options))


def convert_batch(
    batch: Any, spec: ColumnMap, *, start: int = 0, **options: Unpack[Options]
) -> bytes:
    """The lines of one record batch (or anything ``convert`` takes); for engines that
    hand out batches one by one (Spark ``mapInArrow``, Ray ``map_batches``): ``start``
    is the batch's first row in the whole input."""
    return convert(batch, spec, start=start, **options)


def convert_to_arrow(
    data: Any, spec: ColumnMap, *, start: int = 0, **options: Unpack[Options]
) -> Iterator[ArrowBatch]:
    """The lines of ``data`` as record batches of one ``ndjson`` string column, one
    batch per input batch with rows, a line (without newline) per input row."""
    core = core_options(options)
    return iter(_core.arrow_lines(data, _spec_of(spec), start=start, output="arrow", **core))


class ShardFacts(Protocol):
    """What ``manifest_batch`` reads of a shard (``lbfast.Shard`` has it)."""

    @property
    def path(self) -> Union[str, Path]: ...
    @property
    def rows(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def masks(self) -> int: ...


def manifest_batch(
    shards: Sequence[ShardFacts], features: Optional[Sequence[Mapping[str, int]]] = None
) -> ArrowBatch:
    """Shard manifests as a record batch: ``path``, ``rows``, ``bytes``, ``masks`` (int64)
    and ``features`` (a map from feature to lines in that shard; empty if not given)."""
    if features is not None and len(features) != len(shards):
        raise ValueError("features needs one mapping per shard")
    per_shard = [{} for _ in shards] if features is None else features
    return _core.arrow_manifest(
        [str(s.path) for s in shards],
        [s.rows for s in shards],
        [s.bytes for s in shards],
        [s.masks for s in shards],
        [sorted(counts.items()) for counts in per_shard],
    )


def _spec_of(spec: ColumnMap) -> dict[str, Any]:
    if not isinstance(spec, ColumnMap):
        raise TypeError(f"spec must be a lbfast.arrow.ColumnMap, got {type(spec).__name__}")
    return spec._spec()
