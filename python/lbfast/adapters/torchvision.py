"""torchvision-style detection outputs (``{"boxes", "labels", "scores", "masks"?}``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from lbfast.adapters._features import Features, class_ids_and_features
from lbfast.columnar import Boxes, DataRowKind, Ids
from lbfast.masks import InstanceMasks


def from_predictions(
    predictions: Union[Mapping[str, Any], Sequence[Mapping[str, Any]]],
    *,
    data_rows: Union[str, Sequence[str]],
    features: Features,
    masks: bool = True,
    mask_threshold: float = 0.5,
    data_row_kind: DataRowKind = "global_key",
    ids: Ids = "random",
) -> list[Any]:
    """Batches for one prediction dict per image, as torchvision's detection models return.

    - ``features``: names indexed by label (a list), or a label-to-name mapping
      (torchvision's COCO labels are 1-based with gaps).
    - ``masks``: also write ``masks`` ((N, 1, H, W) probabilities, or (N, H, W)),
      thresholded at ``mask_threshold``.

    Tensors are read through ``numpy.asarray`` (call ``.cpu()`` on GPU tensors first).
    """
    if isinstance(predictions, Mapping):
        predictions = [predictions]
    if isinstance(data_rows, str):
        data_rows = [data_rows]
    predictions = list(predictions)
    if len(predictions) != len(data_rows):
        raise ValueError(f"{len(predictions)} predictions for {len(data_rows)} data rows")
    boxes = [np.asarray(p["boxes"]) for p in predictions]
    counts = [len(b) for b in boxes]
    image_index: npt.NDArray[np.int64] = np.repeat(np.arange(len(predictions)), counts)
    labels = (
        np.concatenate([np.asarray(p["labels"]).reshape(-1) for p in predictions])
        if predictions
        else np.zeros(0)
    )
    class_ids, names = class_ids_and_features(labels, features)
    scores = None
    if all("scores" in p for p in predictions) and predictions:
        scores = np.concatenate(
            [np.asarray(p["scores"], dtype=np.float64).reshape(-1) for p in predictions]
        )
    xyxy = np.concatenate(boxes).reshape(-1, 4) if boxes else np.zeros((0, 4))
    rows = list(data_rows)
    out: list[Any] = [
        Boxes(
            xyxy,
            features=names,
            class_ids=class_ids,
            confidence=scores,
            ids=ids,
            data_rows=rows,
            image_index=image_index,
            data_row_kind=data_row_kind,
        )
    ]
    if masks and predictions and all("masks" in p for p in predictions):
        stacks = [np.asarray(p["masks"]) for p in predictions]
        stacks = [s[:, 0] if s.ndim == 4 else s for s in stacks]
        stack = np.concatenate(stacks) > mask_threshold if stacks else np.zeros((0, 1, 1), bool)
        out.append(
            InstanceMasks(
                stack,
                features=names,
                class_ids=class_ids,
                confidence=scores,
                data_rows=rows,
                image_index=image_index,
                data_row_kind=data_row_kind,
            )
        )
    return out
