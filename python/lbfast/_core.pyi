# The Rust extension (rust/python). `make lint` checks this stub against the built
# module with `python -m mypy.stubtest lbfast._core`.

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, Optional, Union, final

import numpy as np
from numpy.typing import NDArray
from typing_extensions import TypeAlias, disjoint_base

from lbfast.items import Item
from lbfast.types import (
    ClassificationAnnotation,
    CustomMetric,
    Label,
    Line,
    Mask,
    Polygon,
)

__all__ = [
    "TAG_BOXES",
    "TAG_CHECKLIST",
    "TAG_CLASSIFICATIONS",
    "TAG_CLASSIFICATION_ANNOTATION",
    "TAG_CONFUSION_MATRIX_METRIC",
    "TAG_LINE",
    "TAG_MASK",
    "TAG_OBJECT_ANNOTATION",
    "TAG_POINT",
    "TAG_POINTS",
    "TAG_POLYGON",
    "TAG_POLYGONS",
    "TAG_POLYLINES",
    "TAG_RADIO",
    "TAG_RECTANGLE",
    "TAG_RELATIONSHIP_ANNOTATION",
    "TAG_SCALAR_METRIC",
    "TAG_TEXT",
    "ArrowBatch",
    "ArrowLines",
    "CheckState",
    "Encoded",
    "Held",
    "NdjsonFile",
    "ObjectAnnotation",
    "OntologyIndex",
    "Point",
    "Rectangle",
    "__version__",
    "_format_floats",
    "_png_of_array",
    "arrow_lines",
    "arrow_manifest",
    "check",
    "check_and_encode",
    "check_ndjson",
    "dumps",
    "encode",
    "last_label_of",
    "mask_colors",
    "ndjson_line_ends",
    "read_labels",
    "rle_area",
    "rle_bbox",
    "rle_compress",
    "rle_decode",
    "rle_encode",
]

__version__: str

# What `extra=` holds: more fields of the annotation's NDJSON line.
_Extra: TypeAlias = dict[str, Any]
# A colour of a mask image: an int (gray, palette) or (r, g, b).
_Color: TypeAlias = Union[int, tuple[int, int, int]]
# COCO RLE counts: compressed text (str or bytes) or uncompressed run lengths.
_Counts: TypeAlias = Union[str, bytes, Iterable[int]]

@disjoint_base
class Point:
    """A pixel position (lbfast.types.Point)."""

    x: float
    y: float
    extra: Optional[_Extra]
    _lbkind: int
    def __new__(cls, x: float, y: float, extra: Optional[_Extra] = None) -> Point: ...

@disjoint_base
class Rectangle:
    """A box by two opposite corners (lbfast.types.Rectangle)."""

    start: Point
    end: Point
    extra: Optional[_Extra]
    _lbkind: int
    def __new__(cls, start: Point, end: Point, extra: Optional[_Extra] = None) -> Rectangle: ...
    @classmethod
    def from_xyhw(cls, x: float, y: float, h: float, w: float) -> Rectangle: ...

_Geometry: TypeAlias = Union[Point, Rectangle, Line, Polygon, Mask]
_Metrics: TypeAlias = list[Union[CustomMetric, dict[str, Any]]]

@disjoint_base
class ObjectAnnotation:
    """A geometry of one feature (lbfast.types.ObjectAnnotation)."""

    value: _Geometry
    name: Optional[str]
    feature_schema_id: Optional[str]
    confidence: Optional[float]
    custom_metrics: Optional[_Metrics]
    classifications: list[ClassificationAnnotation]
    extra: _Extra
    _lbkind: int
    def __new__(
        cls,
        value: _Geometry,
        name: Optional[str] = None,
        feature_schema_id: Optional[str] = None,
        confidence: Optional[float] = None,
        custom_metrics: Optional[_Metrics] = None,
        classifications: Optional[list[ClassificationAnnotation]] = None,
        extra: Optional[_Extra] = None,
    ) -> ObjectAnnotation: ...

def dumps(
    items: Iterable[Item],
    /,
    *,
    max_mask_pixels: Optional[int] = None,
    ontology: Optional[OntologyIndex] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> bytes: ...
def encode(
    items: Iterable[Item],
    /,
    *,
    max_mask_pixels: Optional[int] = None,
    ontology: Optional[OntologyIndex] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> Encoded: ...

@final
class Encoded:
    """NDJSON bytes and per-line facts, for lbfast.ShardWriter."""

    @property
    def data(self) -> bytes: ...
    @property
    def line_ends(self) -> NDArray[np.uint64]: ...  # end offset of each line
    @property
    def is_mask(self) -> NDArray[np.bool_]: ...
    @property
    def has_name(self) -> NDArray[np.bool_]: ...  # the feature is named
    @property
    def feature_index(self) -> NDArray[np.uint32]: ...  # into features
    @property
    def features(self) -> list[str]: ...  # a text may be listed twice: count by text
    @property
    def data_row_index(self) -> NDArray[np.uint32]: ...  # into data_rows
    @property
    def data_rows(self) -> list[str]: ...
    def __len__(self) -> int: ...

# lbfast.arrow: Arrow data in (any __arrow_c_stream__ / __arrow_c_array__), lines out.
@final
class ArrowLines:
    """The lines of each input batch with rows: bytes, an ArrowBatch or an Encoded."""

    def __iter__(self) -> ArrowLines: ...
    def __next__(self) -> Any: ...
    @property
    def rows(self) -> int: ...  # rows read so far

@final
class ArrowBatch:
    """A record batch for Arrow consumers (pyarrow.record_batch, polars.from_arrow)."""

    def __arrow_c_array__(
        self, requested_schema: Optional[object] = None
    ) -> tuple[object, object]: ...
    @property
    def num_rows(self) -> int: ...
    @property
    def column_names(self) -> list[str]: ...
    def __len__(self) -> int: ...

def arrow_lines(
    data: object,
    spec: dict[str, Any],
    /,
    *,
    start: int = 0,
    output: Literal["bytes", "arrow", "encoded"] = "bytes",
    ontology: Optional[OntologyIndex] = None,
    max_mask_pixels: Optional[int] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> ArrowLines: ...
def arrow_manifest(
    paths: list[str],
    rows: list[int],
    bytes: list[int],
    masks: list[int],
    features: list[list[tuple[str, int]]],
    /,
) -> ArrowBatch: ...

# benches/columnar.py: (bytes of one pass, seconds of the fastest of `repeat` passes)
def _format_floats(values: NDArray[np.float64], /) -> int: ...

# lbfast.types.MaskData.create_url: the PNG of a uint8 (H, W) or (H, W, C) array
def _png_of_array(array: NDArray[np.uint8]) -> bytes: ...

# lbfast.masks
def mask_colors(
    image: Union[bytes, NDArray[Union[np.uint8, np.uint16]]],
    /,
    *,
    max_mask_pixels: Optional[int] = None,
) -> list[tuple[_Color, int, tuple[int, int, int, int]]]: ...
def rle_encode(
    mask: NDArray[np.uint8], /, *, compressed: bool = True
) -> Union[dict[str, Any], list[dict[str, Any]]]: ...
def rle_decode(
    height: int, width: int, counts: _Counts, /, *, max_mask_pixels: Optional[int] = None
) -> NDArray[np.uint8]: ...
def rle_compress(counts: _Counts) -> str: ...
def rle_area(counts: _Counts) -> int: ...
def rle_bbox(height: int, counts: _Counts) -> list[float]: ...

# lbfast.errors.ProblemTuple: (kind, row, path, message, suggestion, "error" | "warning")
_Problem: TypeAlias = tuple[str, int, str, str, Optional[str], str]
# The problems listed, the count of all of them by (kind, severity), the annotations checked.
_Checked: TypeAlias = tuple[list[_Problem], list[tuple[str, str, int]], int]

@final
class OntologyIndex:
    def __new__(cls, normalized: Mapping[str, Any]) -> OntologyIndex: ...
    @property
    def tool_count(self) -> int: ...
    @property
    def classification_count(self) -> int: ...
    def features_without_schema_id(self) -> list[str]: ...

@final
class CheckState:
    def __new__(cls) -> CheckState: ...
    def finish(self, ontology: OntologyIndex) -> _Checked: ...

def check(
    items: Iterable[Item],
    /,
    *,
    ontology: Optional[OntologyIndex] = None,
    state: Optional[CheckState] = None,
    first_row: int = 0,
    required: bool = True,
    max_mask_pixels: Optional[int] = None,
    threads: Optional[int] = None,
) -> _Checked: ...

# lbfast.labelbox: one lowering and one check per prediction, written when it has no error.
def check_and_encode(
    items: Iterable[Item],
    /,
    *,
    ontology: Optional[OntologyIndex] = None,
    state: Optional[CheckState] = None,
    first_row: int = 0,
    scores: str = "keep",
    max_mask_pixels: Optional[int] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> tuple[Optional[Encoded], _Checked]: ...

# lbfast.reading: NDJSON text to lbfast.types Labels, with what could not be read and
# the line of each row.
def read_labels(
    data: bytes,
    /,
    *,
    first_row: int = 0,
    first_line: int = 1,
    threads: Optional[int] = None,
    held: Optional[Held] = None,
    last: bool = True,
) -> tuple[list[Label], list[_Problem], NDArray[np.uint64]]: ...

# The last Label's lines of a block, held for the next block of the same text.
@final
class Held:
    def __init__(self) -> None: ...

# lbfast.ontology.files: an NDJSON file read a block at a time into one kept buffer.
@final
class NdjsonFile:
    def __new__(cls, path: str, /, *, block_bytes: int = ...) -> NdjsonFile: ...
    def advance(self) -> Optional[tuple[int, int]]: ...
    def __len__(self) -> int: ...

# lbfast.ontology.files: the number of line ends of a block of NDJSON.
def ndjson_line_ends(data: bytes, /) -> int: ...

# lbfast.ontology.files: where the last Label of a chunk of a JSON array's dicts starts.
def last_label_of(values: list[Any], /) -> int: ...

# lbfast.ontology.validate: NDJSON text read, checked (and with `encode`, written) by
# the core; the line of each row.
def check_ndjson(
    data: Union[bytes, NdjsonFile],
    /,
    *,
    first_row: int = 0,
    first_line: int = 1,
    encode: bool = False,
    ontology: Optional[OntologyIndex] = None,
    state: Optional[CheckState] = None,
    held: Optional[Held] = None,
    last: bool = True,
    scores: str = "keep",
    max_mask_pixels: Optional[int] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> tuple[Optional[Encoded], _Checked, NDArray[np.uint64]]: ...

# The `_lbkind` / `_lbcolumnar` tags of lbfast.types and lbfast.columnar.
TAG_POINT: Final[int]
TAG_RECTANGLE: Final[int]
TAG_LINE: Final[int]
TAG_POLYGON: Final[int]
TAG_MASK: Final[int]
TAG_RADIO: Final[int]
TAG_CHECKLIST: Final[int]
TAG_TEXT: Final[int]
TAG_OBJECT_ANNOTATION: Final[int]
TAG_CLASSIFICATION_ANNOTATION: Final[int]
TAG_SCALAR_METRIC: Final[int]
TAG_CONFUSION_MATRIX_METRIC: Final[int]
TAG_RELATIONSHIP_ANNOTATION: Final[int]
TAG_BOXES: Final[int]
TAG_POINTS: Final[int]
TAG_POLYLINES: Final[int]
TAG_POLYGONS: Final[int]
TAG_CLASSIFICATIONS: Final[int]
