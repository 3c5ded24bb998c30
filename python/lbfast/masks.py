"""Segmentation masks from numpy, composite colours and COCO RLE.

Instances held as arrays go to NDJSON without a Python object per instance:

    import lbfast
    from lbfast.masks import InstanceMasks, InstanceMap

    # (N, H, W) bool stack, e.g. supervision's Detections.mask
    item = InstanceMasks(det.mask, data_rows=["img-1"], class_ids=det.class_id,
                         features=["car", "person"], confidence=det.confidence)
    # (H, W) instance-id map
    other = InstanceMap(ids, data_row="img-2", features={1: "car", 2: "person"})
    ndjson = lbfast.dumps([item, other])   # mixes with Labels and dicts

Each instance becomes one ``{"png": ...}`` mask line: the 8-bit grayscale 0/1 PNG
that the SDK writes for ``Mask(MaskData(arr=...), color=1)``.

Colours of a composite mask, and COCO run-length encoding (identical to pycocotools):

    lbfast.masks.colors(png_bytes)   # [((r, g, b), pixel_count, (x0, y0, x1, y1)), ...]
    rle = lbfast.masks.rle_encode(mask)          # {"size": [h, w], "counts": "..."}
    mask = lbfast.masks.rle_decode(rle)          # (H, W) uint8 of 0/1
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, TypeVar, Union

import numpy as np
import numpy.typing as npt

from lbfast import _core
from lbfast.columnar import DataRowKind, _strings

__all__ = [
    "InstanceMap",
    "InstanceMasks",
    "colors",
    "rle_area",
    "rle_bbox",
    "rle_compress",
    "rle_decode",
    "rle_encode",
    "rle_to_mask_stack",
]

Color = Union[int, tuple[int, int, int]]
BBox = tuple[int, int, int, int]
ImageSize = Union[tuple[int, int], Sequence[tuple[int, int]]]
# COCO RLE counts: compressed text (str or bytes) or uncompressed run lengths.
Counts = Union[str, bytes, Sequence[int]]
_Scalar = TypeVar("_Scalar", bound=np.generic)


def _binary(masks: npt.ArrayLike, name: str) -> npt.NDArray[np.uint8]:
    """A bool or uint8 array as uint8 (bool is viewed, not copied)."""
    arr = np.asarray(masks)
    if arr.dtype == np.bool_:
        return arr.view(np.uint8)
    if arr.dtype != np.uint8:
        raise TypeError(f"{name} must be a numpy array of dtype bool or uint8, got {arr.dtype}")
    return arr


def _optional(
    values: Optional[npt.ArrayLike], dtype: type[_Scalar], name: str
) -> Optional[npt.NDArray[_Scalar]]:
    """A flat array of ``dtype``; indices must already be integers (a float index is a
    bug, not something to round silently)."""
    if values is None:
        return None
    arr = np.asarray(values).reshape(-1)
    if np.dtype(dtype).kind == "i" and arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got an array of dtype {arr.dtype}")
    # Casting would drop the imaginary part.
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real numbers, got an array of dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=dtype)


class InstanceMasks:
    """A stack of binary instance masks, ``(N, H, W)`` (or one ``(H, W)`` mask).

    - ``masks``: bool or uint8 (nonzero is set); supervision's ``Detections.mask``.
    - ``data_rows``: global keys (or data row ids with ``data_row_kind="id"``); instance
      ``i`` belongs to ``data_rows[image_index[i]]`` (``image_index`` may be left out
      when there is one data row).
    - ``features``: feature names; instance ``i`` is ``features[class_ids[i]]``
      (``class_ids`` may be left out when there is one feature).
    - ``confidence``: optional, one per instance.
    - ``with_boxes``: also write each instance's bounding box (COCO convention: the
      pixels it covers, so a one-pixel mask has width 1) as a bbox line after its mask.
    - ``image_size``: ``(width, height)`` of the images, or one per data row; a mask of
      another size is an error.
    - ``skip_empty``: leave out instances with no pixel set (otherwise an error).

    Errors name the item's row and the field with the instance index, e.g.
    ``masks[3]: mask is empty``.
    """

    __slots__ = (
        "class_ids",
        "confidence",
        "data_row_kind",
        "data_rows",
        "features",
        "image_index",
        "image_size",
        "masks",
        "skip_empty",
        "with_boxes",
    )

    def __init__(
        self,
        masks: npt.ArrayLike,
        *,
        data_rows: Sequence[str],
        features: Sequence[str],
        image_index: Optional[npt.ArrayLike] = None,
        class_ids: Optional[npt.ArrayLike] = None,
        confidence: Optional[npt.ArrayLike] = None,
        with_boxes: bool = False,
        image_size: Optional[ImageSize] = None,
        skip_empty: bool = False,
        data_row_kind: DataRowKind = "global_key",
    ) -> None:
        arr = _binary(masks, "masks")
        if arr.ndim == 2:
            arr = arr[np.newaxis]
        self.masks = arr
        self.data_rows = _strings(data_rows, "data_rows")
        self.features = _strings(features, "features")
        self.image_index = _optional(image_index, np.int64, "image_index")
        self.class_ids = _optional(class_ids, np.int64, "class_ids")
        self.confidence = _optional(confidence, np.float64, "confidence")
        self.with_boxes = with_boxes
        self.image_size = image_size
        self.skip_empty = skip_empty
        self.data_row_kind = data_row_kind

    @classmethod
    def from_rle(
        cls,
        rles: Sequence[Mapping[str, Any]],
        *,
        max_mask_pixels: Optional[int] = None,
        **kwargs: Any,
    ) -> InstanceMasks:
        """Instances from COCO RLEs of one image size (for example the ``segmentation``
        of a COCO results file); ``max_mask_pixels`` caps their size (as for
        :func:`rle_decode`); the other arguments are as for the constructor."""
        return cls(rle_to_mask_stack(rles, max_mask_pixels=max_mask_pixels), **kwargs)

    def __len__(self) -> int:
        return int(self.masks.shape[0]) if self.masks.ndim == 3 else 0

    def __repr__(self) -> str:
        return f"InstanceMasks({len(self)} masks of shape {self.masks.shape[1:]}, {len(self.data_rows)} data rows)"


class InstanceMap:
    """An instance-id map ``(H, W)`` of any integer dtype, for one data row.

    ``features`` maps each instance id to its feature name (``{1: "car", 2: "car",
    7: "person"}``); ids not in it (such as background 0) are ignored. Each id becomes
    one mask line, in the order of ``features``. ``confidence`` maps ids to scores.
    An id of ``features`` that does not occur in the map is an error naming it
    (or left out with ``skip_empty=True``). ``with_boxes`` and ``image_size`` are as
    for :class:`InstanceMasks`.
    """

    __slots__ = (
        "confidence",
        "data_row",
        "data_row_kind",
        "features",
        "id_map",
        "image_size",
        "skip_empty",
        "with_boxes",
    )

    def __init__(
        self,
        id_map: npt.ArrayLike,
        *,
        data_row: str,
        features: Mapping[int, str],
        confidence: Optional[Mapping[int, float]] = None,
        with_boxes: bool = False,
        image_size: Optional[tuple[int, int]] = None,
        skip_empty: bool = False,
        data_row_kind: DataRowKind = "global_key",
    ) -> None:
        arr = np.asarray(id_map)
        if arr.dtype.kind == "b":
            arr = arr.view(np.uint8)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"id_map must be an array of integers, got dtype {arr.dtype}")
        if arr.ndim != 2:
            raise ValueError(f"id_map must have shape (H, W), got {arr.shape}")
        self.id_map = arr
        self.data_row = data_row
        self.features = dict(features)
        self.confidence = None if confidence is None else dict(confidence)
        self.with_boxes = with_boxes
        self.image_size = image_size
        self.skip_empty = skip_empty
        self.data_row_kind = data_row_kind

    def __repr__(self) -> str:
        return f"InstanceMap({self.id_map.shape}, {len(self.features)} ids, data_row={self.data_row!r})"


# --- colours ----------------------------------------------------------------------


def colors(
    image: Union[bytes, str, Path, npt.NDArray[Union[np.uint8, np.uint16]]],
    *,
    max_mask_pixels: Optional[int] = None,
    max_pixels: Optional[int] = None,
) -> list[tuple[Color, int, BBox]]:
    """Every distinct colour of a mask image, with its pixel count and bounding box.

    ``image`` is PNG bytes, a PNG file path, or a ``uint8``/``uint16`` array of shape
    ``(H, W)`` or ``(H, W, C)``. Returns ``[(color, count, (x0, y0, x1, y1)), ...]``
    sorted by colour, with inclusive box corners. ``color`` is an ``(r, g, b)`` tuple
    (alpha ignored) or, for gray and palette images, an int: either can be passed to
    ``Mask(color=...)`` as it is. One pass over the pixels, whatever their number of
    colours. ``max_mask_pixels`` caps the width x height of a PNG that is decoded, as
    for ``lbfast.dumps`` (``max_pixels`` is its deprecated former name).
    """
    if max_pixels is not None:
        warnings.warn(
            "colors(max_pixels=...) is deprecated: use max_mask_pixels=..., as lbfast.dumps",
            DeprecationWarning,
            stacklevel=2,
        )
        if max_mask_pixels is None:
            max_mask_pixels = max_pixels
    if isinstance(image, (str, Path)):
        image = Path(image).read_bytes()
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _core.mask_colors(bytes(image), max_mask_pixels=max_mask_pixels)
    return _core.mask_colors(np.asarray(image), max_mask_pixels=max_mask_pixels)


# --- COCO RLE ---------------------------------------------------------------------

Rle = dict[str, Any]


def rle_encode(mask: npt.ArrayLike, *, compressed: bool = True) -> Union[Rle, list[Rle]]:
    """COCO RLE of a binary mask ``(H, W)``, or a list of them for ``(N, H, W)``.

    ``{"size": [h, w], "counts": str}``, byte for byte what pycocotools'
    ``mask.encode`` gives (as ``str`` rather than ``bytes``, as in COCO JSON files).
    ``compressed=False`` gives the uncompressed form, ``"counts": [int, ...]``.
    Nonzero pixels are set. Row-major (C) input is read as it is, no transposing copy.
    """
    return _core.rle_encode(_binary(mask, "mask"), compressed=compressed)


def _size_counts(rle: Mapping[str, Any]) -> tuple[int, int, Counts]:
    try:
        h, w = rle["size"]
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError):
        raise TypeError(
            'an RLE is a dict {"size": [h, w], "counts": str | bytes | list[int]}'
        ) from None
    for side in (h, w):
        if isinstance(side, bool) or not isinstance(side, numbers.Integral):
            raise TypeError(f"an RLE's size is two ints [h, w], got {rle['size']!r}")
        if side < 0:
            raise ValueError(f"an RLE's size is two non-negative ints [h, w], got {rle['size']!r}")
    return int(h), int(w), counts


def rle_decode(
    rle: Mapping[str, Any], *, max_mask_pixels: Optional[int] = None
) -> npt.NDArray[np.uint8]:
    """The ``(H, W)`` uint8 0/1 mask of a COCO RLE (compressed or uncompressed),
    C-ordered. Counts that do not add up to ``h * w`` are a ``ValueError``, and so is
    a size above ``max_mask_pixels`` (default 2**28, as for PNG masks)."""
    h, w, counts = _size_counts(rle)
    return _core.rle_decode(h, w, counts, max_mask_pixels=max_mask_pixels)


def rle_compress(rle: Mapping[str, Any]) -> Rle:
    """The compressed form of an RLE (what ``pycocotools.mask.frPyObjects`` gives for
    an uncompressed one)."""
    h, w, counts = _size_counts(rle)
    return {"size": [h, w], "counts": _core.rle_compress(counts)}


def rle_area(rle: Mapping[str, Any]) -> int:
    """Number of set pixels (pycocotools' ``mask.area``)."""
    return _core.rle_area(_size_counts(rle)[2])


def rle_bbox(rle: Mapping[str, Any]) -> list[float]:
    """``[x, y, width, height]`` of the set pixels (pycocotools' ``mask.toBbox``);
    ``[0, 0, 0, 0]`` when empty."""
    h, _, counts = _size_counts(rle)
    return list(_core.rle_bbox(h, counts))


def rle_to_mask_stack(
    rles: Sequence[Mapping[str, Any]], *, max_mask_pixels: Optional[int] = None
) -> npt.NDArray[np.uint8]:
    """Decodes RLEs of one image into an ``(N, H, W)`` uint8 stack, ready for
    :class:`InstanceMasks` (for example the ``segmentation`` of COCO results).
    ``max_mask_pixels`` caps each mask's size, as for :func:`rle_decode`."""
    if not rles:
        raise ValueError("no RLE to decode")
    sizes = {tuple(_size_counts(r)[:2]) for r in rles}
    if len(sizes) != 1:
        raise ValueError(f"RLEs of one stack must have one size, got {sorted(sizes)}")
    (h, w) = sizes.pop()
    # The first decode checks the size against the cap before the stack is allocated.
    first = rle_decode(rles[0], max_mask_pixels=max_mask_pixels)
    out = np.empty((len(rles), h, w), np.uint8)
    out[0] = first
    for i, rle in enumerate(rles[1:], 1):
        out[i] = rle_decode(rle, max_mask_pixels=max_mask_pixels)
    return out
