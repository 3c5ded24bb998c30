"""COCO results files (``[{"image_id", "category_id", "bbox", "score", "segmentation"?}]``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from lbfast.adapters._features import class_ids_and_features
from lbfast.columnar import Boxes, Polygons
from lbfast.masks import InstanceMasks


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


def _numbers(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(_is_number(v) for v in value)


def entry_problem(entry: Any, geometry: str = "bbox") -> Optional[str]:
    """What is wrong with one COCO result for ``geometry``, naming the field, or None.

    Checks the shape only (types, lengths, required keys); values such as a negative
    width or RLE counts that do not decode are left to the validator."""
    if not isinstance(entry, Mapping):
        return f"a COCO result must be an object, got {type(entry).__name__}"
    for key in ("image_id", "category_id"):
        if key not in entry:
            return f"{key}: missing"
    if not _is_id(entry["image_id"]):
        return f"image_id: must be an integer or a string, got {entry['image_id']!r}"
    category = entry["category_id"]
    if not (isinstance(category, (int, np.integer)) and not isinstance(category, (bool, np.bool_))):
        return f"category_id: must be an integer, got {category!r}"
    if "score" in entry and not _is_number(entry["score"]):
        return f"score: must be a number, got {entry['score']!r}"
    if geometry in ("bbox", "both"):
        bbox = entry.get("bbox")
        if not (_numbers(bbox) and len(bbox) == 4):
            return f"bbox: must be 4 numbers [x, y, width, height], got {bbox!r}"
    if geometry in ("segmentation", "both"):
        return _segmentation_problem(entry.get("segmentation"))
    return None


def _segmentation_problem(seg: Any) -> Optional[str]:
    if seg is None:
        return "segmentation: missing (see geometry)"
    if isinstance(seg, Mapping):
        size = seg.get("size")
        if not (
            isinstance(size, (list, tuple))
            and len(size) == 2
            and all(_is_id(v) and not isinstance(v, str) and v >= 0 for v in size)
        ):
            return f"segmentation.size: must be [height, width], got {size!r}"
        counts = seg.get("counts")
        if not (isinstance(counts, (str, bytes)) or _numbers(counts)):
            return f"segmentation.counts: must be an RLE string or a list of run lengths, got {counts!r}"
        return None
    if not isinstance(seg, list) or not seg:
        return f"segmentation: must be an RLE object or a list of polygons, got {seg!r}"
    for i, ring in enumerate(seg):
        if not _numbers(ring) or len(ring) % 2 or len(ring) < 6:
            return (
                f"segmentation[{i}]: a polygon must be an even number (at least 6) of "
                f"coordinates x1, y1, x2, y2, ...; got {ring!r}"
            )
    return None


def from_results(
    source: Union[str, os.PathLike[str], Sequence[Mapping[str, Any]]],
    *,
    categories: Mapping[int, str],
    images: Mapping[Any, str],
    geometry: str = "bbox",
    data_row_kind: str = "global_key",
    ids: Any = "random",
) -> list[Any]:
    """Batches for a COCO results file.

    - ``categories``: ``category_id`` to feature name.
    - ``images``: ``image_id`` to global key (or data row id with ``data_row_kind="id"``).
    - ``geometry``: ``"bbox"`` (the ``[x, y, w, h]`` boxes), ``"segmentation"`` (RLE
      segmentations as masks, polygon segmentations as polygons, one per ring), or
      ``"both"``.
    """
    if geometry not in ("bbox", "segmentation", "both"):
        raise ValueError(f"geometry must be 'bbox', 'segmentation' or 'both', got {geometry!r}")
    results = load_results(source)
    for i, entry in enumerate(results):
        problem = entry_problem(entry, geometry)
        if problem is not None:
            raise ValueError(f"COCO result {i}: {problem}")
    image_keys = list(images)
    image_of = {k: i for i, k in enumerate(image_keys)}
    data_rows = [images[k] for k in image_keys]
    try:
        image_index = np.array([image_of[r["image_id"]] for r in results], dtype=np.int64)
    except KeyError as missing:
        raise ValueError(f"image_id {missing.args[0]!r} is not in images") from None
    category_ids = np.array([r["category_id"] for r in results], dtype=np.int64)
    class_ids, names = class_ids_and_features(category_ids, categories)
    scores = (
        np.array([r["score"] for r in results], dtype=np.float64)
        if results and all("score" in r for r in results)
        else None
    )
    common = dict(data_rows=data_rows, features=names, data_row_kind=data_row_kind)
    out: list[Any] = []
    if geometry in ("bbox", "both"):
        boxes = np.array([r["bbox"] for r in results], dtype=np.float64).reshape(-1, 4)
        out.append(
            Boxes(
                boxes,
                box_format="xywh",
                image_index=image_index,
                class_ids=class_ids,
                confidence=scores,
                ids=ids,
                **common,
            )
        )
    if geometry in ("segmentation", "both"):
        out.extend(_segmentations(results, image_index, class_ids, scores, common, ids))
    return out


def _segmentations(results, image_index, class_ids, scores, common, ids) -> list[Any]:
    rle_rows = [i for i, r in enumerate(results) if isinstance(r.get("segmentation"), Mapping)]
    poly_rows = [i for i, r in enumerate(results) if isinstance(r.get("segmentation"), list)]
    missing = len(results) - len(rle_rows) - len(poly_rows)
    if missing:
        raise ValueError(f"{missing} detections have no segmentation")
    out: list[Any] = []
    if poly_rows:
        rings = [(i, ring) for i in poly_rows for ring in results[i]["segmentation"]]
        coords = np.concatenate(
            [np.asarray(ring, dtype=np.float64).reshape(-1, 2) for _, ring in rings]
        )
        offsets = np.concatenate([[0], np.cumsum([len(ring) // 2 for _, ring in rings])])
        of = np.array([i for i, _ in rings], dtype=np.int64)
        out.append(
            Polygons(
                coords,
                offsets,
                image_index=image_index[of],
                class_ids=class_ids[of],
                confidence=None if scores is None else scores[of],
                ids=ids,
                **common,
            )
        )
    if rle_rows:
        # One InstanceMasks per image size, so that stacks are rectangular.
        by_size: dict[tuple[int, int], list[int]] = {}
        for i in rle_rows:
            by_size.setdefault(tuple(results[i]["segmentation"]["size"]), []).append(i)
        for rows in by_size.values():
            rows_a = np.array(rows, dtype=np.int64)
            out.append(
                InstanceMasks.from_rle(
                    [results[i]["segmentation"] for i in rows],
                    image_index=image_index[rows_a],
                    class_ids=class_ids[rows_a],
                    confidence=None if scores is None else scores[rows_a],
                    **common,
                )
            )
    return out
