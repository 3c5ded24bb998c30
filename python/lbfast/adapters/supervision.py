"""``supervision.Detections`` to columnar batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from lbfast.adapters._features import Features, class_ids_and_features
from lbfast.columnar import Boxes, DataRowKind, Ids, _strings
from lbfast.masks import InstanceMasks


def from_detections(
    detections: Union[Any, Sequence[Any]],
    *,
    data_rows: Sequence[str],
    features: Optional[Features] = None,
    boxes: bool = True,
    masks: bool = True,
    data_row_kind: DataRowKind = "global_key",
    ids: Ids = "random",
) -> list[Any]:
    """Batches for one ``Detections`` per data row: ``detections`` is a list of them (or
    one ``Detections``), ``data_rows`` a list of as many global keys (or ids); a single
    string is refused, as by every columnar batch.

    - ``features``: feature names indexed by ``class_id`` (or an id-to-name mapping).
      Default: the detections' ``data["class_name"]``.
    - ``boxes``: write each detection's ``xyxy`` box.
    - ``masks``: also write each detection's mask, when the detections have masks.
    """
    rows = _strings(data_rows, "data_rows")
    # One Detections (it has boxes) stands for a list of one.
    detections = [detections] if hasattr(detections, "xyxy") else list(detections)
    if len(detections) != len(rows):
        raise ValueError(f"{len(detections)} Detections for {len(rows)} data rows")
    counts = [len(d) for d in detections]
    image_index: npt.NDArray[np.int64] = np.repeat(np.arange(len(detections)), counts)
    xyxy = _concat([d.xyxy for d in detections], (0, 4), np.float64)
    confidence = _optional_concat([d.confidence for d in detections if len(d)])
    class_ids, names = _classes(detections, features)
    out: list[Any] = []
    if boxes:
        out.append(
            Boxes(
                xyxy,
                features=names,
                class_ids=class_ids,
                confidence=confidence,
                ids=ids,
                data_rows=rows,
                image_index=image_index,
                data_row_kind=data_row_kind,
            )
        )
    if masks and any(d.mask is not None for d in detections):
        if any(d.mask is None and len(d) for d in detections):
            raise ValueError("some Detections have masks and some do not")
        with_masks = [d for d in detections if d.mask is not None]
        stack = _concat([d.mask for d in with_masks], (0, *with_masks[0].mask.shape[1:]), bool)
        out.append(
            InstanceMasks(
                stack,
                features=names,
                class_ids=class_ids,
                confidence=confidence,
                data_rows=rows,
                image_index=image_index,
                data_row_kind=data_row_kind,
            )
        )
    return out


def _classes(detections: list[Any], features: Optional[Features]) -> tuple[np.ndarray, list[str]]:
    if features is None:
        names = [np.asarray(d.data.get("class_name", [])) for d in detections]
        if sum(len(n) for n in names) != sum(len(d) for d in detections):
            raise ValueError("pass features=, or Detections with data['class_name']")
        all_names = np.concatenate(names) if names else np.zeros(0, dtype=str)
        unique, inverse = np.unique(all_names, return_inverse=True)
        return inverse.astype(np.int64), [str(u) for u in unique]
    ids = [d.class_id for d in detections]
    if any(i is None for i, d in zip(ids, detections) if len(d)):
        raise ValueError("Detections without class_id need features=None and data['class_name']")
    return class_ids_and_features(
        _concat([i for i in ids if i is not None], (0,), np.int64), features
    )


def _concat(
    arrays: list[Optional[npt.ArrayLike]], empty_shape: tuple[int, ...], dtype: npt.DTypeLike
) -> npt.NDArray[Any]:
    given = [np.asarray(a) for a in arrays if a is not None]
    given = [a for a in given if len(a)]
    return np.concatenate(given) if given else np.zeros(empty_shape, dtype=dtype)


def _optional_concat(arrays: list[Optional[npt.ArrayLike]]) -> Optional[npt.NDArray[Any]]:
    if all(a is None for a in arrays):
        return None
    if any(a is None for a in arrays):
        raise ValueError("some Detections have confidence and some do not")
    return _concat(arrays, (0,), np.float64)
