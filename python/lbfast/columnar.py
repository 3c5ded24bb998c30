"""Columnar predictions: arrays straight from a model to NDJSON, no object per prediction.

    import numpy as np
    import lbfast
    from lbfast.columnar import Boxes

    batch = Boxes(
        xyxy,                               # (N, 4) array: any float or int dtype, any strides
        data_rows=global_keys,              # one global key per image
        image_index=image_of_each_box,      # (N,) ints into data_rows
        features=["car", "bus", "person"],  # feature names, by class id
        class_ids=class_of_each_box,        # (N,) ints into features
        confidence=scores,                  # (N,) floats within [0, 1]
    )
    ndjson = lbfast.dumps([batch])          # one line per box, in index order

A batch can be passed to ``lbfast.dumps`` alone or mixed with Labels and dicts; its
lines are exactly those the typed API writes for the same predictions (apart from
random uuids), and it is checked by the same validator.

**Rows in errors.** Each batch occupies as many rows of its call as it has
predictions: a batch after ``k`` rows has rows ``k .. k + N - 1``, and prediction
``i`` is row ``k + i`` (so with a batch alone, the row is the prediction's index).
Paths name the array and the prediction's entry: ``boxes[17][2]``, ``class_ids[17]``,
``confidence[17]``, ``image_index[17]``, ``subclass.answer_ids[17]``,
``coords[40:42]`` (a polygon's points), ``offsets[5]``. Problems of the batch as a
whole (lengths, shapes, the ``data_rows`` and ``features`` lists) are at its first row.
At most 1000 problems are listed per call; one last entry counts the rest.

**Arrays.** Anything ``numpy.asarray`` accepts (numpy arrays of any numeric dtype and
strides, CPU torch tensors, lists). Shapes are checked and values converted to 64-bit
floats (coordinates, confidences) or integers (indices) in Rust when written. A wrong
dtype (strings, or floats for indices) is a ``TypeError``; a wrong shape is a
``lbfast.ValidationError``.

**Deterministic ids.** ``ids="deterministic"`` (or a ``uuid.UUID`` namespace) makes each
annotation's uuid ``uuid.uuid5(namespace, name)`` with ``name`` the ``"\\0"``-joined
kind (``bbox point line polygon radio checklist text``), ``"globalKey"`` or ``"id"``, the
data row, ``"name"`` or ``"schemaId"``, the feature (the question, for classifications)
and the prediction's index in its batch. The default namespace is
``LBFAST_NAMESPACE`` (``uuid.uuid5(uuid.NAMESPACE_DNS, "annotation-ids.lbfast")``).
Two batches with the same kind, data rows and features give the same ids to their
predictions with the same index: give them different namespaces.

**Slicing.** ``batch[a:b]`` is a batch of predictions ``a .. b - 1`` (views of the
arrays, no copy) that keeps their deterministic ids; its error paths index the sliced
arrays. ``len(batch)`` is the number of predictions.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Optional, Union, overload

import numpy as np
import numpy.typing as npt

from lbfast import _core

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

__all__ = [
    "LBFAST_NAMESPACE",
    "Boxes",
    "GlobalClassifications",
    "Points",
    "Polygons",
    "Polylines",
    "RadioSubclass",
]

#: Namespace of deterministic ids: uuid5(NAMESPACE_DNS, "annotation-ids.lbfast").
LBFAST_NAMESPACE = uuid.UUID("60ddfc2e-b6a6-5f02-b9a8-47a8c67af0b9")

# Anything numpy.asarray takes: arrays of any dtype and strides, CPU tensors, lists.
ArrayLike: TypeAlias = npt.ArrayLike
Array: TypeAlias = npt.NDArray[Any]
Ids: TypeAlias = Union[str, uuid.UUID]
#: What ``data_rows`` holds: global keys or data row ids.
DataRowKind: TypeAlias = Literal["global_key", "id"]
#: What ``features`` holds: feature names or schema ids.
FeatureKind: TypeAlias = Literal["name", "schema_id"]

# `_lbcolumnar` tags read by the Rust lowering, which defines them.
_BOXES, _POINTS, _POLYLINES = _core.TAG_BOXES, _core.TAG_POINTS, _core.TAG_POLYLINES
_POLYGONS, _CLASSIFICATIONS = _core.TAG_POLYGONS, _core.TAG_CLASSIFICATIONS
_BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
_KINDS = ("radio", "checklist", "text")


@overload
def _array(value: None, what: str) -> None: ...
@overload
def _array(value: ArrayLike, what: str) -> Array: ...
def _array(value: Optional[ArrayLike], what: str) -> Optional[Array]:
    """``value`` as a numpy array without copying when it already is one; ``None`` stays.
    A value numpy cannot make an array of (a ragged list) is a ``ValueError`` naming it."""
    if value is None or isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except ValueError as err:
        raise ValueError(f"{what}: not an array of one shape (a ragged list?): {err}") from None


def _strings(value: Any, what: str) -> list[Any]:
    """A list of the strings of a list, tuple or numpy array (checked in Rust)."""
    if isinstance(value, np.ndarray):
        return list(value.tolist())
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        raise TypeError(f"{what} must be a list of strings, not one string")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{what} must be a list of strings, got {type(value).__name__}") from None


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _namespace(ids: Ids) -> Optional[bytes]:
    if isinstance(ids, uuid.UUID):
        return ids.bytes
    if ids == "random":
        return None
    if ids == "deterministic":
        return LBFAST_NAMESPACE.bytes
    raise ValueError(f"ids must be 'random', 'deterministic' or a uuid.UUID namespace, got {ids!r}")


class RadioSubclass:
    """A radio question nested in every object of a batch: one chosen answer each.

    Written like the seed's "bbox with nested radio":
    ``{"name": question, "answer": {"name": answer, "confidence": c}}``.

    Args:
        question: the radio question's name (or schema id, with ``kind="schema_id"``).
        answers: the answers' names (or schema ids), indexed by ``answer_ids``.
        answer_ids: ``(N,)`` integers, the chosen answer of each prediction.
        confidence: ``(N,)`` floats within [0, 1], each chosen answer's confidence;
            ``None`` writes none.
        kind: ``"name"`` or ``"schema_id"``: what ``question`` and ``answers`` hold.
    """

    __slots__ = ("answer_ids", "answers", "confidence", "kind", "question")

    def __init__(
        self,
        question: str,
        answers: Sequence[str],
        answer_ids: ArrayLike,
        confidence: Optional[ArrayLike] = None,
        kind: str = "name",
    ) -> None:
        self.question = question
        self.answers = _strings(answers, "answers")
        self.answer_ids = _array(answer_ids, "answer_ids")
        self.confidence = _array(confidence, "confidence")
        self.kind = _choice(kind, ("name", "schema_id"), "kind")


class _Columns:
    """What every columnar batch holds; see the module documentation."""

    __slots__ = (
        "_namespace",
        "_start",
        "class_ids",
        "confidence",
        "data_row_kind",
        "data_rows",
        "feature_kind",
        "features",
        "ids",
        "image_index",
        "subclass",
    )
    _lbcolumnar = 0
    # Sliceable by rows (lbfast.writer splits large batches).
    _lbfast_batch = True

    def __init__(
        self,
        *,
        data_rows: Sequence[str],
        features: Sequence[str],
        image_index: ArrayLike,
        class_ids: ArrayLike,
        confidence: ArrayLike,
        data_row_kind: DataRowKind,
        feature_kind: FeatureKind,
        subclass: Optional[RadioSubclass],
        ids: Ids,
    ) -> None:
        self.data_rows = _strings(data_rows, "data_rows")
        self.features = _strings(features, "features")
        self.image_index = _array(image_index, "image_index")
        self.class_ids = _array(class_ids, "class_ids")
        self.confidence = _array(confidence, "confidence")
        self.data_row_kind = _choice(data_row_kind, ("global_key", "id"), "data_row_kind")
        self.feature_kind = _choice(feature_kind, ("name", "schema_id"), "feature_kind")
        if subclass is not None and not isinstance(subclass, RadioSubclass):
            raise TypeError(f"subclass must be a RadioSubclass, got {type(subclass).__name__}")
        self.subclass = subclass
        self.ids = ids
        self._namespace = _namespace(ids)
        # Index of prediction 0 in the batch this one was sliced from (for ids).
        self._start = 0

    def __len__(self) -> int:
        """The number of predictions (the first dimension of the geometry)."""
        geometry = self._geometry()
        return len(geometry) if geometry.ndim else 0

    def _geometry(self) -> Array:
        raise NotImplementedError

    def __getitem__(self, rows: slice) -> _Columns:
        """Predictions ``rows`` (a slice with step 1) as a batch of the same kind."""
        if not isinstance(rows, slice):
            raise TypeError(f"{type(self).__name__} can only be sliced, not indexed")
        start, stop, step = rows.indices(len(self))
        if step != 1:
            raise ValueError("a columnar batch can only be sliced with step 1")
        stop = max(start, stop)
        part = copy.copy(self)
        part._start = self._start + start
        if self.image_index is None:
            # Prediction i was on data row i: keep that with an explicit index.
            part.image_index = np.arange(start, stop)
        else:
            part.image_index = self.image_index[start:stop]
        part._slice_rows(start, stop)
        part._keep_used_data_rows()
        return part

    def _keep_used_data_rows(self) -> None:
        """Narrows ``data_rows`` to those this slice uses, so that converting a small
        slice of a batch over millions of images does not read every data row."""
        index = self.image_index
        if index is None or len(self.data_rows) <= 2 * len(index) or index.dtype.kind not in "iu":
            return
        if len(index) and (index.min() < 0 or index.max() >= len(self.data_rows)):
            return  # left for the validator to report against the original list
        used, remapped = np.unique(index, return_inverse=True)
        self.data_rows = [self.data_rows[i] for i in used]
        self.image_index = remapped.reshape(-1)
        self._take_data_rows(used)

    def _take_data_rows(self, used: np.ndarray) -> None:
        """Narrows per-data-row arrays to the rows ``used``."""

    def _slice_rows(self, start: int, stop: int) -> None:
        """Slices the per-prediction arrays other than ``image_index``."""
        if self.class_ids is not None:
            self.class_ids = self.class_ids[start:stop]
        if self.confidence is not None:
            self.confidence = self.confidence[start:stop]
        if self.subclass is not None:
            sub = copy.copy(self.subclass)
            sub.answer_ids = sub.answer_ids[start:stop]
            if sub.confidence is not None:
                sub.confidence = sub.confidence[start:stop]
            self.subclass = sub

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} predictions on {len(self.data_rows)} data rows)"


_COMMON_ARGS = """
        data_rows: the data rows: global keys (or data row ids, with
            ``data_row_kind="id"``), as a list, tuple or array of strings.
        features: the features' names (or schema ids, with ``feature_kind="schema_id"``),
            indexed by ``class_ids``.
        image_index: ``(N,)`` integers, each prediction's index into ``data_rows``.
            Default: prediction ``i`` is on data row ``i`` (then ``data_rows`` must have
            one entry per prediction).
        class_ids: ``(N,)`` integers, each prediction's index into ``features``.
            Default: feature 0 for all (then there must be exactly one feature).
        confidence: ``(N,)`` floats within [0, 1]; ``None`` writes no confidence.
        data_row_kind: ``"global_key"`` or ``"id"``: what ``data_rows`` holds.
        feature_kind: ``"name"`` or ``"schema_id"``: what ``features`` holds.
        subclass: a ``RadioSubclass`` nested in every prediction, or ``None``.
        ids: ``"random"`` (uuid4), ``"deterministic"`` (uuid5 in ``LBFAST_NAMESPACE``)
            or a ``uuid.UUID`` namespace for uuid5; see the module documentation.
"""


class Boxes(_Columns):
    __doc__ = (
        """Bounding boxes, one NDJSON ``bbox`` line each.

    Args:
        boxes: ``(N, 4)`` numbers in ``box_format``.
        box_format: ``"xyxy"`` (two opposite corners, in any order), ``"xywh"``
            (top-left corner, width, height) or ``"cxcywh"`` (centre, width, height).
            Widths and heights must not be negative. Each box is written as
            ``Rectangle(start=(x1, y1), end=(x2, y2))`` would be, with the corners
            computed in float64: ``x2 = x + w`` for xywh, ``x1 = cx - w / 2`` and
            ``x2 = cx + w / 2`` for cxcywh.
        normalized: whether the numbers are fractions of the image's width and height;
            they are multiplied by them (before the corners are computed).
        image_sizes: ``(len(data_rows), 2)`` numbers, each data row's
            ``(width, height)`` in pixels; needed when ``normalized``."""
        + _COMMON_ARGS
    )

    __slots__ = ("box_format", "boxes", "image_sizes", "normalized")
    _lbcolumnar = _BOXES

    def __init__(
        self,
        boxes: ArrayLike,
        *,
        data_rows: Sequence[str],
        features: Sequence[str],
        image_index: Optional[ArrayLike] = None,
        class_ids: Optional[ArrayLike] = None,
        confidence: Optional[ArrayLike] = None,
        box_format: str = "xyxy",
        normalized: bool = False,
        image_sizes: Optional[ArrayLike] = None,
        data_row_kind: DataRowKind = "global_key",
        feature_kind: FeatureKind = "name",
        subclass: Optional[RadioSubclass] = None,
        ids: Ids = "random",
    ) -> None:
        super().__init__(
            data_rows=data_rows,
            features=features,
            image_index=image_index,
            class_ids=class_ids,
            confidence=confidence,
            data_row_kind=data_row_kind,
            feature_kind=feature_kind,
            subclass=subclass,
            ids=ids,
        )
        self.boxes = _array(boxes, "boxes")
        self.box_format = _choice(box_format, _BOX_FORMATS, "box_format")
        self.normalized = bool(normalized)
        self.image_sizes = _array(image_sizes, "image_sizes")

    def _geometry(self) -> Array:
        return self.boxes

    def _take_data_rows(self, used: np.ndarray) -> None:
        if (
            self.image_sizes is not None
            and self.image_sizes.ndim == 2
            and len(self.image_sizes) > used.max(initial=-1)
        ):
            self.image_sizes = self.image_sizes[used]

    def _slice_rows(self, start: int, stop: int) -> None:
        super()._slice_rows(start, stop)
        self.boxes = self.boxes[start:stop]


class Points(_Columns):
    __doc__ = (
        """Points, one NDJSON ``point`` line each.

    Args:
        points: ``(N, 2)`` numbers, ``(x, y)`` in pixels."""
        + _COMMON_ARGS
    )

    __slots__ = ("points",)
    _lbcolumnar = _POINTS

    def __init__(
        self,
        points: ArrayLike,
        *,
        data_rows: Sequence[str],
        features: Sequence[str],
        image_index: Optional[ArrayLike] = None,
        class_ids: Optional[ArrayLike] = None,
        confidence: Optional[ArrayLike] = None,
        data_row_kind: DataRowKind = "global_key",
        feature_kind: FeatureKind = "name",
        subclass: Optional[RadioSubclass] = None,
        ids: Ids = "random",
    ) -> None:
        super().__init__(
            data_rows=data_rows,
            features=features,
            image_index=image_index,
            class_ids=class_ids,
            confidence=confidence,
            data_row_kind=data_row_kind,
            feature_kind=feature_kind,
            subclass=subclass,
            ids=ids,
        )
        self.points = _array(points, "points")

    def _geometry(self) -> Array:
        return self.points

    def _slice_rows(self, start: int, stop: int) -> None:
        super()._slice_rows(start, stop)
        self.points = self.points[start:stop]


class _Ragged(_Columns):
    __slots__ = ("coords", "offsets")

    def __init__(
        self,
        coords: ArrayLike,
        offsets: ArrayLike,
        *,
        data_rows: Sequence[str],
        features: Sequence[str],
        image_index: Optional[ArrayLike] = None,
        class_ids: Optional[ArrayLike] = None,
        confidence: Optional[ArrayLike] = None,
        data_row_kind: DataRowKind = "global_key",
        feature_kind: FeatureKind = "name",
        subclass: Optional[RadioSubclass] = None,
        ids: Ids = "random",
    ) -> None:
        super().__init__(
            data_rows=data_rows,
            features=features,
            image_index=image_index,
            class_ids=class_ids,
            confidence=confidence,
            data_row_kind=data_row_kind,
            feature_kind=feature_kind,
            subclass=subclass,
            ids=ids,
        )
        self.coords = _array(coords, "coords")
        self.offsets = _array(offsets, "offsets")

    def __len__(self) -> int:
        return max(len(self.offsets) - 1, 0) if self.offsets.ndim else 0

    def _geometry(self) -> Array:
        return self.offsets

    def _slice_rows(self, start: int, stop: int) -> None:
        super()._slice_rows(start, stop)
        self.coords, self.offsets = _slice_ragged(self.coords, self.offsets, start, stop)


def _slice_ragged(values: Array, offsets: Array, start: int, stop: int) -> tuple[Array, Array]:
    """Rows ``start .. stop - 1`` of ragged ``values``: the values and rebased offsets."""
    offsets = np.asarray(offsets)[start : stop + 1]
    if len(offsets) == 0:
        return values[:0], np.zeros(1, dtype=np.int64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    return values[lo:hi], offsets - lo


_RAGGED_ARGS = """
    Args:
        coords: ``(M, 2)`` numbers, the ``(x, y)`` points of all predictions, one
            prediction after another.
        offsets: ``(N + 1,)`` integers: prediction ``i`` is
            ``coords[offsets[i]:offsets[i + 1]]``. They start at 0, never decrease and
            end at ``M``."""


class Polylines(_Ragged):
    __doc__ = (
        """Polylines of 2 or more points, one NDJSON ``line`` line each, written as given.
"""
        + _RAGGED_ARGS
        + _COMMON_ARGS
    )

    __slots__ = ()
    _lbcolumnar = _POLYLINES


class Polygons(_Ragged):
    __doc__ = (
        """Polygons of 3 or more points, one NDJSON ``polygon`` line each, written closed
    (the first point repeated at the end unless it is there already), as the typed
    ``Polygon`` is.
"""
        + _RAGGED_ARGS
        + _COMMON_ARGS
    )

    __slots__ = ()
    _lbcolumnar = _POLYGONS


class GlobalClassifications(_Columns):
    """Top-level classifications of one question: one NDJSON line per prediction.

    Args:
        kind: ``"radio"``, ``"checklist"`` or ``"text"``.
        question: the question's name (or schema id, with ``feature_kind="schema_id"``).
        data_rows: the data rows: global keys (or data row ids, with
            ``data_row_kind="id"``).
        image_index: ``(N,)`` integers, each prediction's index into ``data_rows``.
            Default: prediction ``i`` is on data row ``i``.
        answers: radio and checklist: the answers' names (or schema ids), indexed by
            ``answer_ids``.
        answer_ids: radio: ``(N,)`` integers, each prediction's answer. Checklist: the
            chosen answers of all predictions, one prediction after another, split by
            ``offsets``.
        offsets: checklist only: ``(N + 1,)`` integers; prediction ``i`` chose
            ``answer_ids[offsets[i]:offsets[i + 1]]``.
        texts: text only: one string per prediction.
        confidence: radio: ``(N,)``, each chosen answer's. Checklist: one per entry of
            ``answer_ids``. Text: ``(N,)``, each text's. Floats within [0, 1]; ``None``
            writes none.
        data_row_kind: ``"global_key"`` or ``"id"``.
        feature_kind: ``"name"`` or ``"schema_id"``: what ``question`` and ``answers`` hold.
        ids: ``"random"``, ``"deterministic"`` or a ``uuid.UUID`` namespace.
    """

    __slots__ = ("answer_ids", "answers", "kind", "offsets", "question", "texts")
    _lbcolumnar = _CLASSIFICATIONS

    def __init__(
        self,
        kind: str,
        question: str,
        *,
        data_rows: Sequence[str],
        image_index: Optional[ArrayLike] = None,
        answers: Optional[Sequence[str]] = None,
        answer_ids: Optional[ArrayLike] = None,
        offsets: Optional[ArrayLike] = None,
        texts: Optional[Sequence[str]] = None,
        confidence: Optional[ArrayLike] = None,
        data_row_kind: DataRowKind = "global_key",
        feature_kind: FeatureKind = "name",
        ids: Ids = "random",
    ) -> None:
        self.kind = _choice(kind, _KINDS, "kind")
        needs = {
            "radio": ("answers", "answer_ids"),
            "checklist": ("answers", "answer_ids", "offsets"),
            "text": ("texts",),
        }[kind]
        given = {"answers": answers, "answer_ids": answer_ids, "offsets": offsets, "texts": texts}
        missing = [name for name in needs if given[name] is None]
        if missing:
            raise TypeError(f"a {kind} classification needs {', '.join(missing)}")
        extra = [name for name, value in given.items() if value is not None and name not in needs]
        if extra:
            raise TypeError(f"a {kind} classification takes no {', '.join(extra)}")
        super().__init__(
            data_rows=data_rows,
            features=[question],
            image_index=image_index,
            class_ids=None,
            confidence=confidence,
            data_row_kind=data_row_kind,
            feature_kind=feature_kind,
            subclass=None,
            ids=ids,
        )
        self.question = question
        self.answers = None if answers is None else _strings(answers, "answers")
        self.answer_ids = _array(answer_ids, "answer_ids")
        self.offsets = _array(offsets, "offsets")
        self.texts = None if texts is None else _strings(texts, "texts")

    def __len__(self) -> int:
        # The constructor requires the arrays of each kind.
        if self.kind == "text":
            assert self.texts is not None
            return len(self.texts)
        if self.kind == "checklist":
            assert self.offsets is not None
            return max(len(self.offsets) - 1, 0) if self.offsets.ndim else 0
        assert self.answer_ids is not None
        return len(self.answer_ids) if self.answer_ids.ndim else 0

    def _geometry(self) -> Array:
        raise NotImplementedError

    def _slice_rows(self, start: int, stop: int) -> None:
        # The constructor requires the arrays of each kind.
        if self.kind == "text":
            assert self.texts is not None
            self.texts = self.texts[start:stop]
            if self.confidence is not None:
                self.confidence = self.confidence[start:stop]
        elif self.kind == "radio":
            assert self.answer_ids is not None
            self.answer_ids = self.answer_ids[start:stop]
            if self.confidence is not None:
                self.confidence = self.confidence[start:stop]
        else:
            assert self.offsets is not None
            assert self.answer_ids is not None
            lo, hi = (int(v) for v in self.offsets[[start, stop]])
            if self.confidence is not None:
                self.confidence = self.confidence[lo:hi]
            self.answer_ids, self.offsets = _slice_ragged(
                self.answer_ids, self.offsets, start, stop
            )
