"""Mapping a model's class ids onto the feature list of a columnar batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union

import numpy as np

from lbfast.columnar import _strings

Features = Union[Sequence[str], Mapping[int, str]]


def class_ids_and_features(
    class_ids: np.ndarray, features: Features
) -> tuple[np.ndarray, list[str]]:
    """Indices into a feature list, from class ids and a list or an id-to-name mapping.

    A list is indexed by the class id itself. A mapping (such as COCO's 1-based
    category ids with gaps) is turned into a list, and the ids into indices of it;
    an id missing from the mapping is an error naming it.
    """
    class_ids = np.asarray(class_ids).reshape(-1)
    if not isinstance(features, Mapping):
        return class_ids, _strings(features, "features")
    keys = list(features)
    names = [features[k] for k in keys]
    lookup = {int(k): i for i, k in enumerate(keys)}
    if len(class_ids) == 0:
        return np.zeros(0, dtype=np.int64), names
    unique, inverse = np.unique(class_ids.astype(np.int64), return_inverse=True)
    missing = [int(u) for u in unique if int(u) not in lookup]
    if missing:
        raise ValueError(f"class ids {missing} are not in the features mapping")
    return np.array([lookup[int(u)] for u in unique], dtype=np.int64)[inverse], names
