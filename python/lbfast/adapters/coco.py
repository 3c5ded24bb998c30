"""COCO results files (``[{"image_id", "category_id", "bbox", "score", "segmentation"?}]``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np
import numpy.typing as npt

from lbfast.adapters._features import class_ids_and_features
from lbfast.columnar import Boxes, DataRowKind, Ids, Polygons
from lbfast.masks import InstanceMasks, rle_to_mask_stack

if TYPE_CHECKING:
    from typing_extensions import TypeGuard


def load_results(
    source: Union[str, os.PathLike[str], Sequence[Mapping[str, Any]]],
) -> list[Mapping[str, Any]]:
    """The detections of a COCO results file (a path), or the list itself."""
    if isinstance(source, (str, os.PathLike)):
        with Path(source).open("rb") as f:
            data = json.load(f)
    else:
        data = source
    if isinstance(data, Mapping) and "annotations" in data:
        data = data["annotations"]
    if not isinstance(data, list):
        raise TypeError("a COCO results file holds a list of detections")
    return data


def _is_number(value: Any) -> bool:
    # bool is an int to Python, but `true` is not a score, a category or a coordinate.
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_id(value: Any) -> bool:
    return (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))) or (
        isinstance(value, str)
    )


def entry_problem(entry: Any, geometry: str = "bbox") -> Optional[str]:
    """What is wrong with one COCO result for ``geometry``, naming the field, or None.

    Checks the shape only (types, lengths, required keys); values such as a negative
    width or RLE counts that do not decode are left to the validator."""
    if not isinstance(entry, Mapping):
        return f"a COCO result must be an object, got {type(entry).__name__}"
    return next(_entry_problems(entry, geometry), None)


def _entry_problems(entry: Mapping[str, Any], geometry: str) -> Iterator[str]:
    """The problems of a result, most basic first."""
    for key in ("image_id", "category_id"):
        if key not in entry:
            yield f"{key}: missing"
    if not _is_id(entry["image_id"]):
        yield f"image_id: must be an integer or a string, got {entry['image_id']!r}"
    category = entry["category_id"]
    if not (isinstance(category, (int, np.integer)) and not isinstance(category, (bool, np.bool_))):
        yield f"category_id: must be an integer, got {category!r}"
    if "score" in entry and not _is_number(entry["score"]):
        yield f"score: must be a number, got {entry['score']!r}"
    bbox = entry.get("bbox")
    if geometry in ("bbox", "both") and not (_numbers(bbox) and len(bbox) == 4):
        yield f"bbox: must be 4 numbers [x, y, width, height], got {bbox!r}"
    if geometry in ("segmentation", "both"):
        yield from _segmentation_problems(entry.get("segmentation"))


def _segmentation_problems(seg: Any) -> Iterator[str]:
    if seg is None:
        yield "segmentation: missing (see geometry)"
    elif isinstance(seg, Mapping):
        size = seg.get("size")
        if not (
            isinstance(size, (list, tuple))
            and len(size) == 2
            and all(_is_id(v) and not isinstance(v, str) and v >= 0 for v in size)
        ):
            yield f"segmentation.size: must be [height, width], got {size!r}"
        counts = seg.get("counts")
        if not (isinstance(counts, (str, bytes)) or _numbers(counts)):
            yield f"segmentation.counts: must be an RLE string or a list of run lengths, got {counts!r}"
    elif not isinstance(seg, list) or not seg:
        yield f"segmentation: must be an RLE object or a list of polygons, got {seg!r}"
    else:
        for i, ring in enumerate(seg):
            if not _numbers(ring) or len(ring) % 2 or len(ring) < 6:
                yield (
                    f"segmentation[{i}]: a polygon must be an even number (at least 6) of "
                    f"coordinates x1, y1, x2, y2, ...; got {ring!r}"
                )


def _numbers(value: Any) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, (list, tuple)) and all(_is_number(v) for v in value)


#: A batch and, for each of its rows, the index of the result it came from.
Located = tuple[Any, npt.NDArray[np.int64]]
#: Told of a result left out: its index and what is wrong with it.
OnProblem = Callable[[int, str], None]


def from_results(
    source: Union[str, os.PathLike[str], Sequence[Mapping[str, Any]]],
    *,
    categories: Mapping[int, str],
    images: Mapping[Any, str],
    geometry: str = "bbox",
    data_row_kind: DataRowKind = "global_key",
    ids: Ids = "random",
) -> list[Any]:
    """Batches for a COCO results file.

    - ``categories``: ``category_id`` to feature name.
    - ``images``: ``image_id`` to global key (or data row id with ``data_row_kind="id"``).
    - ``geometry``: ``"bbox"`` (the ``[x, y, w, h]`` boxes), ``"segmentation"`` (RLE
      segmentations as masks, polygon segmentations as polygons, one per ring, in the
      order of the results), or ``"both"`` (the boxes, then the segmentations).
    """
    if geometry not in ("bbox", "segmentation", "both"):
        raise ValueError(f"geometry must be 'bbox', 'segmentation' or 'both', got {geometry!r}")
    results = load_results(source)
    for i, entry in enumerate(results):
        problem = entry_problem(entry, geometry)
        if problem is not None:
            raise ValueError(f"COCO result {i}: {problem}")
    return [
        batch
        for batch, _ in located_batches(
            results, categories, images, geometry=geometry, data_row_kind=data_row_kind, ids=ids
        )
    ]


def located_batches(
    results: Sequence[Mapping[str, Any]],
    categories: Mapping[int, str],
    images: Mapping[Any, str],
    *,
    geometry: str = "bbox",
    data_row_kind: DataRowKind = "global_key",
    ids: Ids = "random",
    max_mask_pixels: Optional[int] = None,
    on_problem: Optional[OnProblem] = None,
) -> list[Located]:
    """The batches of well-formed ``results`` (see :func:`entry_problem`), each with the
    result of each of its rows. Only the data rows the results use are listed. An RLE
    that does not decode raises ``ValueError``, or is left out and told to
    ``on_problem(index, message)``."""
    used = list(dict.fromkeys(r["image_id"] for r in results))
    for image in used:
        if image not in images:
            raise ValueError(f"image_id {image!r} is not in images")
    image_of = {k: i for i, k in enumerate(used)}
    image_index = np.array([image_of[r["image_id"]] for r in results], dtype=np.int64)
    category_ids = np.array([r["category_id"] for r in results], dtype=np.int64)
    class_ids, names = class_ids_and_features(category_ids, categories)
    scores = (
        np.array([r["score"] for r in results], dtype=np.float64)
        if results and all("score" in r for r in results)
        else None
    )
    columns = _Shared(
        data_rows=[images[k] for k in used],
        features=names,
        data_row_kind=data_row_kind,
        image_index=image_index,
        class_ids=class_ids,
        scores=scores,
    )
    out: list[Located] = []
    if geometry in ("bbox", "both"):
        everything = np.arange(len(results), dtype=np.int64)
        boxes = np.array([r["bbox"] for r in results], dtype=np.float64).reshape(-1, 4)
        out.append((Boxes(boxes, box_format="xywh", ids=ids, **columns.of(everything)), everything))
    if geometry in ("segmentation", "both"):
        out.extend(_segmentations(results, columns, ids, max_mask_pixels, on_problem))
    return out


class _Shared:
    """What the batches of some results share: their data rows and features, and the
    columns of each result, taken by the rows of a batch."""

    def __init__(
        self,
        *,
        data_rows: list[str],
        features: list[str],
        data_row_kind: DataRowKind,
        image_index: npt.NDArray[np.int64],
        class_ids: npt.NDArray[np.int64],
        scores: Optional[npt.NDArray[np.float64]],
    ) -> None:
        self.data_rows = data_rows
        self.features = features
        self.data_row_kind = data_row_kind
        self.image_index = image_index
        self.class_ids = class_ids
        self.scores = scores

    def of(self, rows: npt.NDArray[np.int64]) -> dict[str, Any]:
        return {
            "data_rows": self.data_rows,
            "features": self.features,
            "data_row_kind": self.data_row_kind,
            "image_index": self.image_index[rows],
            "class_ids": self.class_ids[rows],
            "confidence": None if self.scores is None else self.scores[rows],
        }


def _segmentations(
    results: Sequence[Mapping[str, Any]],
    columns: _Shared,
    ids: Ids,
    max_mask_pixels: Optional[int],
    on_problem: Optional[OnProblem],
) -> list[Located]:
    """The segmentations in the order of ``results``: each run of polygon
    segmentations is one ``Polygons`` batch (a row per ring), each RLE one
    ``InstanceMasks`` of one mask (so that its problems are at its own row)."""
    out: list[Located] = []
    run: list[int] = []

    def polygons() -> None:
        if not run:
            return
        rings = [(i, ring) for i in run for ring in results[i]["segmentation"]]
        coords = np.concatenate(
            [np.asarray(ring, dtype=np.float64).reshape(-1, 2) for _, ring in rings]
        )
        offsets = np.concatenate([[0], np.cumsum([len(ring) // 2 for _, ring in rings])])
        of = np.array([i for i, _ in rings], dtype=np.int64)
        out.append((Polygons(coords, offsets, ids=ids, **columns.of(of)), of))
        run.clear()

    for i, entry in enumerate(results):
        segmentation = entry.get("segmentation")
        if isinstance(segmentation, list):
            run.append(i)
            continue
        polygons()
        if not isinstance(segmentation, Mapping):
            raise ValueError(f"COCO result {i}: segmentation: missing (see geometry)")
        row = np.array([i], dtype=np.int64)
        try:
            stack = rle_to_mask_stack([segmentation], max_mask_pixels=max_mask_pixels)
        except ValueError as err:
            if on_problem is None:
                raise ValueError(f"COCO result {i}: segmentation: {err}") from None
            on_problem(i, f"segmentation: {err}")
            continue
        out.append((InstanceMasks(stack, **columns.of(row)), row))
    polygons()
    return out
