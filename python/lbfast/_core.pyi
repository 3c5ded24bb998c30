from collections.abc import Iterable
from typing import Any, Optional

__version__: str

class Point:
    """A pixel position (lbfast.types.Point)."""

    x: float
    y: float
    extra: Optional[dict[str, Any]]
    _lbkind: int
    def __init__(self, x: float, y: float, extra: Optional[dict[str, Any]] = None) -> None: ...

class Rectangle:
    """A box by two opposite corners (lbfast.types.Rectangle)."""

    start: Point
    end: Point
    extra: Optional[dict[str, Any]]
    _lbkind: int
    def __init__(
        self, start: Point, end: Point, extra: Optional[dict[str, Any]] = None
    ) -> None: ...
    @classmethod
    def from_xyhw(cls, x: float, y: float, h: float, w: float) -> Rectangle: ...

class ObjectAnnotation:
    """A geometry of one feature (lbfast.types.ObjectAnnotation)."""

    value: Any
    name: Optional[str]
    feature_schema_id: Optional[str]
    confidence: Optional[float]
    custom_metrics: Optional[list[Any]]
    classifications: list[Any]
    extra: dict[str, Any]
    _lbkind: int
    def __init__(
        self,
        value: Any,
        name: Optional[str] = None,
        feature_schema_id: Optional[str] = None,
        confidence: Optional[float] = None,
        custom_metrics: Optional[list[Any]] = None,
        classifications: Optional[list[Any]] = None,
        extra: Optional[dict[str, Any]] = None,
    ) -> None: ...

def dumps(
    items: Iterable[Any],
    /,
    *,
    max_mask_pixels: Optional[int] = None,
    ontology: Optional[OntologyIndex] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> bytes: ...
def encode(
    items: Iterable[Any],
    /,
    *,
    max_mask_pixels: Optional[int] = None,
    ontology: Optional[OntologyIndex] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> Encoded: ...

class Encoded:
    """NDJSON bytes and per-line facts, for lbfast.ShardWriter."""

    @property
    def data(self) -> bytes: ...
    @property
    def line_ends(self) -> Any: ...  # (lines,) uint64: end offset of each line
    @property
    def is_mask(self) -> Any: ...  # (lines,) bool
    @property
    def has_name(self) -> Any: ...  # (lines,) bool: the feature is named
    @property
    def feature_index(self) -> Any: ...  # (lines,) uint32 into features
    @property
    def features(self) -> list[str]: ...
    @property
    def data_row_index(self) -> Any: ...  # (lines,) uint32 into data_rows
    @property
    def data_rows(self) -> list[str]: ...
    def __len__(self) -> int: ...

# benches/columnar.py: (bytes of one pass, seconds of the fastest of `repeat` passes)
def _format_floats(values: Any, /) -> int: ...

# lbfast.masks
def mask_colors(
    image: Any, /, *, max_pixels: Optional[int] = None
) -> list[tuple[Any, int, tuple[int, int, int, int]]]: ...
def rle_encode(mask: Any, /, *, compressed: bool = True) -> Any: ...
def rle_decode(height: int, width: int, counts: Any) -> Any: ...
def rle_compress(counts: Any) -> str: ...
def rle_area(counts: Any) -> int: ...
def rle_bbox(height: int, counts: Any) -> tuple[float, float, float, float]: ...

# lbfast.ontology: (row, path, message, kind, suggestion, "error" | "warning")
Problem = tuple[int, str, str, str, Optional[str], str]

class OntologyIndex:
    def __init__(self, normalized: Any) -> None: ...
    @property
    def tool_count(self) -> int: ...
    @property
    def classification_count(self) -> int: ...
    def features_without_schema_id(self) -> list[str]: ...

class CheckState:
    def __init__(self) -> None: ...
    def finish(self, ontology: OntologyIndex) -> list[Problem]: ...

def check(
    items: Iterable[Any],
    /,
    *,
    ontology: Optional[OntologyIndex] = None,
    state: Optional[CheckState] = None,
    first_row: int = 0,
    required: bool = True,
    max_mask_pixels: Optional[int] = None,
) -> tuple[list[Problem], int]: ...
