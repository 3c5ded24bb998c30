"""The typed prediction API, keyword-compatible with ``labelbox.types``.

These classes only hold what they are given: checking and conversion happen in
the Rust core when the labels are written, where every problem of a batch is
reported at once (``lbfast.ValidationError``). That keeps construction cheap,
which matters when a model emits millions of predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Optional, TypeVar, Union, cast

from lbfast import _core

__all__ = [
    "Checklist",
    "ClassificationAnnotation",
    "ClassificationAnswer",
    "ConfusionMatrixAggregation",
    "ConfusionMatrixMetric",
    "CustomMetric",
    "GenericDataRowData",
    "Label",
    "Line",
    "Mask",
    "MaskData",
    "ObjectAnnotation",
    "Point",
    "Polygon",
    "Radio",
    "Rectangle",
    "Relationship",
    "RelationshipAnnotation",
    "ScalarMetric",
    "ScalarMetricAggregation",
    "Text",
]

Number = Union[int, float]
Color = Union[int, tuple[int, int, int]]


class _Repr:
    """A readable repr from the slots that are set."""

    __slots__ = ()

    def __repr__(self) -> str:
        fields = []
        for cls in type(self).__mro__:
            for name in getattr(cls, "__slots__", ()):
                value = getattr(self, name, None)
                if value is not None and not name.startswith("_"):
                    fields.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(fields)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            getattr(self, name, None) == getattr(other, name, None)
            for cls in type(self).__mro__
            for name in getattr(cls, "__slots__", ())
            if not name.startswith("_")
        )

    __hash__ = None  # type: ignore[assignment]


class CustomMetric(_Repr):
    """A named number attached to an object or answer (``{"name", "value"}`` dicts work too)."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Number) -> None:
        self.name = name
        self.value = value


# --- geometry -------------------------------------------------------------------

# `_lbkind` tells the Rust lowering what a value is without isinstance chains; the
# tags are defined by the binding (Point, Rectangle and ObjectAnnotation, native
# classes, carry theirs already).
_LINE, _POLYGON, _MASK = _core.TAG_LINE, _core.TAG_POLYGON, _core.TAG_MASK
_RADIO, _CHECKLIST, _TEXT = _core.TAG_RADIO, _core.TAG_CHECKLIST, _core.TAG_TEXT
_CLASSIFICATION_ANNOTATION = _core.TAG_CLASSIFICATION_ANNOTATION
_SCALAR_METRIC, _CONFUSION_MATRIX_METRIC = (
    _core.TAG_SCALAR_METRIC,
    _core.TAG_CONFUSION_MATRIX_METRIC,
)
_RELATIONSHIP_ANNOTATION = _core.TAG_RELATIONSHIP_ANNOTATION


# Point, Rectangle and ObjectAnnotation are native classes (lbfast._core): they are
# built most often, and the lowering reads their fields directly.
Point = _core.Point


# A box by two opposite corners, in any order; `Rectangle.from_xyhw(x, y, h, w)`.
Rectangle = _core.Rectangle


class Line(_Repr):
    """A polyline of two or more points, written as given (never closed)."""

    __slots__ = ("extra", "points")
    _lbkind = _LINE

    def __init__(self, points: Sequence[Point], extra: Optional[dict[str, Any]] = None) -> None:
        self.points = points
        self.extra = extra


class Polygon(_Repr):
    """A ring of three or more points; written closed (first point repeated)."""

    __slots__ = ("extra", "points")
    _lbkind = _POLYGON

    def __init__(self, points: Sequence[Point], extra: Optional[dict[str, Any]] = None) -> None:
        self.points = points
        self.extra = extra


class MaskData(_Repr):
    """The pixels of a mask: PNG bytes, a ``uint8`` array, a file, or a URL.

    A ``MaskData`` shared by several ``Mask`` annotations (a composite mask) is
    decoded once per write.
    """

    __slots__ = ("_ndjson_png", "arr", "file_path", "global_key", "im_bytes", "uid", "url")

    def __init__(
        self,
        *,
        im_bytes: Optional[bytes] = None,
        arr: Any = None,
        url: Optional[str] = None,
        file_path: Optional[Union[str, Path]] = None,
        uid: Optional[str] = None,
        global_key: Optional[str] = None,
    ) -> None:
        if all(v is None for v in (im_bytes, arr, url, file_path, uid, global_key)):
            raise ValueError(
                "MaskData needs one of `file_path`, `im_bytes`, `url`, `uid`, `global_key` or `arr`"
            )
        if arr is not None:
            arr = _check_mask_array(arr)
        self.im_bytes = im_bytes
        self.arr = arr
        self.url = url
        self.file_path = file_path
        self.uid = uid
        self.global_key = global_key
        # The PNG of a mask read from NDJSON (``lbfast.loads``): written as read while
        # it is still this MaskData's only pixels.
        self._ndjson_png: Optional[bytes] = None

    @classmethod
    def from_2D_arr(cls, arr: Any, **kwargs: Any) -> MaskData:
        """A mask from an (H, W) integer array with values 0..255."""
        import numpy as np

        arr = np.asarray(arr)
        if arr.ndim != 2:
            raise ValueError(f"Found array with shape {arr.shape}. Expected two dimensions [H, W]")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError("Array must be an integer subtype")
        if arr.dtype != np.uint8:
            if arr.size and (arr.min() < 0 or arr.max() > 255):
                raise ValueError(
                    "Could not cast array to uint8, check that values are between 0 and 255"
                )
            arr = arr.astype(np.uint8)
        return cls(arr=arr, **kwargs)

    def _source(self) -> tuple[str, Any]:
        """What the Rust core reads: ("url", str), ("png", bytes) or ("array", uint8 array)."""
        if self.url is not None:
            return ("url", self.url)
        if self.im_bytes is not None:
            if self.im_bytes is self._ndjson_png and self.arr is None and self.file_path is None:
                return ("ndjson_png", self.im_bytes)
            return ("png", self.im_bytes)
        if self.arr is not None:
            return ("array", self.arr)
        if self.file_path is not None:
            return ("png", Path(self.file_path).read_bytes())
        raise ValueError("MaskData has no pixels: set `url`, `file_path`, `im_bytes` or `arr`")

    def create_url(self, signer: Callable[[bytes], str]) -> str:
        """Uploads the mask once through ``signer`` (PNG bytes in, URL out) and keeps
        the URL, which is then written as ``instanceURI``; a mask with a URL keeps it.
        The pixels stay, so that the colour is still checked locally."""
        if self.url is not None:
            return self.url
        if self.im_bytes is not None:
            data = self.im_bytes
        elif self.file_path is not None:
            data = Path(self.file_path).read_bytes()
        elif self.arr is not None:
            data = _core._png_of_array(self.arr)
        else:
            raise ValueError("One of url, im_bytes, file_path, arr must not be None.")
        url = signer(data)
        if not isinstance(url, str):
            raise TypeError(f"signer must return the URL as a str, got {type(url).__name__}")
        self.url = url
        return url

    def _local_pixels(self) -> Optional[tuple[str, Any]]:
        """Pixels given beside a URL (checked locally for the colour), or None."""
        if self.url is None:
            return None
        if self.im_bytes is not None:
            return ("png", self.im_bytes)
        if self.arr is not None:
            return ("array", self.arr)
        if self.file_path is not None:
            return ("png", Path(self.file_path).read_bytes())
        return None


def _check_mask_array(arr: Any) -> Any:
    import numpy as np

    if not isinstance(arr, np.ndarray):
        raise TypeError(f"Expected numpy array. Found {type(arr)}")
    if arr.dtype != np.uint8:
        raise TypeError("Numpy array representing segmentation mask must be np.uint8")
    if arr.ndim not in (2, 3):
        raise ValueError(f"Mask array must be (H, W) or (H, W, C), got shape {arr.shape}")
    return np.ascontiguousarray(arr)


class Mask(_Repr):
    """One instance of a mask image: the pixels equal to ``color``.

    ``color`` is an ``(r, g, b)`` tuple, or one int that every channel must equal.
    """

    __slots__ = ("color", "confidence", "extra", "mask")
    _lbkind = _MASK

    def __init__(
        self,
        mask: MaskData,
        color: Color,
        confidence: Optional[float] = None,
        extra: Optional[dict[str, Any]] = None,
    ) -> None:
        self.mask = mask
        self.color = color
        # The SDK drops a confidence given here; lbfast writes it as the object's.
        self.confidence = confidence
        self.extra = extra

    def create_url(self, signer: Callable[[bytes], str]) -> str:
        """The URL of the mask's image, uploaded through ``signer`` if it has none."""
        return self.mask.create_url(signer)


# --- classifications ------------------------------------------------------------


class ClassificationAnswer(_Repr):
    """An answer (an option of a radio or checklist question), with optional nesting."""

    __slots__ = (
        "classifications",
        "confidence",
        "custom_metrics",
        "extra",
        "feature_schema_id",
        "keyframe",
        "name",
    )

    def __init__(
        self,
        name: Optional[str] = None,
        feature_schema_id: Optional[str] = None,
        confidence: Optional[float] = None,
        custom_metrics: Optional[list[Union[CustomMetric, dict[str, Any]]]] = None,
        classifications: Optional[list[ClassificationAnnotation]] = None,
        extra: Optional[dict[str, Any]] = None,
        keyframe: Optional[bool] = None,
    ) -> None:
        self.name = name
        self.feature_schema_id = feature_schema_id
        self.confidence = confidence
        self.custom_metrics = custom_metrics
        self.classifications = classifications
        self.extra = extra
        self.keyframe = keyframe


class Radio(_Repr):
    """A single-choice answer."""

    __slots__ = ("answer", "confidence", "custom_metrics")
    _lbkind = _RADIO

    def __init__(
        self,
        answer: ClassificationAnswer,
        confidence: Optional[float] = None,
        custom_metrics: Optional[list[Union[CustomMetric, dict[str, Any]]]] = None,
    ) -> None:
        self.answer = answer
        self.confidence = confidence
        self.custom_metrics = custom_metrics


class Checklist(_Repr):
    """A multiple-choice answer."""

    __slots__ = ("answer", "confidence", "custom_metrics")
    _lbkind = _CHECKLIST

    def __init__(
        self,
        answer: list[ClassificationAnswer],
        confidence: Optional[float] = None,
        custom_metrics: Optional[list[Union[CustomMetric, dict[str, Any]]]] = None,
    ) -> None:
        self.answer = answer
        self.confidence = confidence
        self.custom_metrics = custom_metrics


class Text(_Repr):
    """A free-text answer."""

    __slots__ = ("answer", "classifications", "confidence", "custom_metrics")
    _lbkind = _TEXT

    def __init__(
        self,
        answer: str,
        confidence: Optional[float] = None,
        custom_metrics: Optional[list[Union[CustomMetric, dict[str, Any]]]] = None,
        classifications: Optional[list[ClassificationAnnotation]] = None,
    ) -> None:
        self.answer = answer
        self.confidence = confidence
        self.custom_metrics = custom_metrics
        self.classifications = classifications


# --- annotations ----------------------------------------------------------------


class ClassificationAnnotation(_Repr):
    """A question and its answer: global (its own line) or nested under an object or answer."""

    __slots__ = (
        "confidence",
        "custom_metrics",
        "extra",
        "feature_schema_id",
        "message_id",
        "name",
        "value",
    )
    _lbkind = _CLASSIFICATION_ANNOTATION

    def __init__(
        self,
        value: Union[Radio, Checklist, Text],
        name: Optional[str] = None,
        feature_schema_id: Optional[str] = None,
        confidence: Optional[float] = None,
        custom_metrics: Optional[list[Union[CustomMetric, dict[str, Any]]]] = None,
        extra: Optional[dict[str, Any]] = None,
        message_id: Optional[str] = None,
    ) -> None:
        self.value = value
        self.name = name
        self.feature_schema_id = feature_schema_id
        self.confidence = confidence
        self.custom_metrics = custom_metrics
        self.extra = extra
        self.message_id = message_id


# A geometry (box, point, line, polygon, mask) of one feature, with optional nesting:
# ObjectAnnotation(value, name=None, feature_schema_id=None, confidence=None,
#                  custom_metrics=None, classifications=None, extra=None)
ObjectAnnotation = _core.ObjectAnnotation


# --- relationships and metrics --------------------------------------------------


class Relationship(_Repr):
    """A relationship from ``source`` to ``target``, two ObjectAnnotations of the Label.

    ``source_ontology_name`` (without ``source``) is for document relationships; an
    image relationship needs a source.
    """

    class Type(Enum):
        UNIDIRECTIONAL = "unidirectional"
        BIDIRECTIONAL = "bidirectional"

    __slots__ = ("readonly", "source", "source_ontology_name", "target", "type")

    def __init__(
        self,
        target: ObjectAnnotation,
        source: Optional[Union[ObjectAnnotation, ClassificationAnnotation]] = None,
        type: Union[Relationship.Type, str] = Type.UNIDIRECTIONAL,
        readonly: Optional[bool] = None,
        source_ontology_name: Optional[str] = None,
    ) -> None:
        self.source = source
        self.target = target
        self.type = type
        self.readonly = readonly
        self.source_ontology_name = source_ontology_name


class RelationshipAnnotation(_Repr):
    """A relationship of a relationship (``edge``) tool, one NDJSON line of its own."""

    __slots__ = ("extra", "feature_schema_id", "name", "value")
    _lbkind = _RELATIONSHIP_ANNOTATION

    def __init__(
        self,
        value: Relationship,
        name: Optional[str] = None,
        feature_schema_id: Optional[str] = None,
        extra: Optional[dict[str, Any]] = None,
    ) -> None:
        self.value = value
        self.name = name
        self.feature_schema_id = feature_schema_id
        self.extra = extra


class ScalarMetricAggregation(Enum):
    ARITHMETIC_MEAN = "ARITHMETIC_MEAN"
    GEOMETRIC_MEAN = "GEOMETRIC_MEAN"
    HARMONIC_MEAN = "HARMONIC_MEAN"
    SUM = "SUM"


class ConfusionMatrixAggregation(Enum):
    CONFUSION_MATRIX = "CONFUSION_MATRIX"


class _Metric(_Repr):
    """What both metric kinds hold (a model-run metric line of the data row)."""

    __slots__ = ("aggregation", "extra", "feature_name", "metric_name", "subclass_name", "value")

    def __init__(
        self,
        value: Any,
        metric_name: Optional[str],
        feature_name: Optional[str],
        subclass_name: Optional[str],
        aggregation: Any,
        extra: Optional[dict[str, Any]],
    ) -> None:
        self.value = value
        self.metric_name = metric_name
        self.feature_name = feature_name
        self.subclass_name = subclass_name
        self.aggregation = aggregation
        self.extra = extra


class ScalarMetric(_Metric):
    """A number within [0, 1e8], or such numbers by confidence (2 to 15 of them)."""

    __slots__ = ()
    _lbkind = _SCALAR_METRIC

    def __init__(
        self,
        value: Union[Number, Mapping[Number, Number]],
        metric_name: Optional[str] = None,
        feature_name: Optional[str] = None,
        subclass_name: Optional[str] = None,
        aggregation: Optional[Union[ScalarMetricAggregation, str]] = (
            ScalarMetricAggregation.ARITHMETIC_MEAN
        ),
        extra: Optional[dict[str, Any]] = None,
    ) -> None:
        super().__init__(value, metric_name, feature_name, subclass_name, aggregation, extra)


Counts = Sequence[int]


class ConfusionMatrixMetric(_Metric):
    """Counts ``(tp, fp, tn, fn)``, or such counts by confidence; needs a ``metric_name``."""

    __slots__ = ()
    _lbkind = _CONFUSION_MATRIX_METRIC

    def __init__(
        self,
        value: Union[Counts, Mapping[Number, Counts]],
        metric_name: Optional[str] = None,
        feature_name: Optional[str] = None,
        subclass_name: Optional[str] = None,
        aggregation: Optional[Union[ConfusionMatrixAggregation, str]] = (
            ConfusionMatrixAggregation.CONFUSION_MATRIX
        ),
        extra: Optional[dict[str, Any]] = None,
    ) -> None:
        super().__init__(value, metric_name, feature_name, subclass_name, aggregation, extra)


#: What a Label holds: objects, classifications, relationships and metrics.
Annotation = Union[
    ObjectAnnotation,
    ClassificationAnnotation,
    RelationshipAnnotation,
    ScalarMetric,
    ConfusionMatrixMetric,
]
_Annotation = TypeVar("_Annotation", bound=Annotation)


class GenericDataRowData(_Repr):
    """A data row by id (``uid``) or by global key."""

    __slots__ = ("global_key", "uid")

    def __init__(self, uid: Optional[str] = None, global_key: Optional[str] = None) -> None:
        self.uid = uid
        self.global_key = global_key


class Label(_Repr):
    """The predictions of one data row: ``data={"global_key": ...}`` or ``{"uid": ...}``.

    ``image_size=(width, height)`` (lbfast only) makes a mask of any other size an error.
    """

    __slots__ = ("annotations", "data", "extra", "image_size", "is_benchmark_reference")

    def __init__(
        self,
        data: Union[dict[str, Any], GenericDataRowData],
        annotations: Optional[list[_Annotation]] = None,
        extra: Optional[dict[str, Any]] = None,
        is_benchmark_reference: bool = False,
        image_size: Optional[tuple[int, int]] = None,
    ) -> None:
        if annotations is None:
            annotations = []
        elif not isinstance(annotations, list):
            raise TypeError(f"Annotations must be a list. Found {type(annotations)}")
        self.data = data
        # A list of one kind of annotation is a list of annotations to add to.
        self.annotations = cast("list[Annotation]", annotations)
        self.extra = extra
        self.is_benchmark_reference = is_benchmark_reference
        self.image_size = image_size

    def object_annotations(self) -> list[ObjectAnnotation]:
        """The Label's object annotations, in order."""
        return [a for a in self.annotations if isinstance(a, ObjectAnnotation)]

    def classification_annotations(self) -> list[ClassificationAnnotation]:
        """The Label's global classifications, in order."""
        return [a for a in self.annotations if isinstance(a, ClassificationAnnotation)]

    def add_url_to_masks(self, signer: Callable[[bytes], str]) -> Label:
        """Uploads each distinct mask image of the Label once through ``signer`` (PNG
        bytes in, URL out), so that its masks are written as ``instanceURI`` with their
        colour. Masks that share a ``MaskData`` share its upload; one with a URL keeps it."""
        seen: set[int] = set()
        for annotation in self.annotations:
            value = getattr(annotation, "value", None)
            if isinstance(value, Mask) and id(value.mask) not in seen:
                seen.add(id(value.mask))
                value.mask.create_url(signer)
        return self
