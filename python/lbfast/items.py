"""What the converting and validating functions take: one prediction item."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

    from lbfast.columnar import _Columns
    from lbfast.masks import InstanceMap, InstanceMasks
    from lbfast.types import Label

# A typed Label, an NDJSON-shaped dict, a columnar batch, or a mask stack or id map.
Item: TypeAlias = Union["Label", Mapping[str, Any], "_Columns", "InstanceMasks", "InstanceMap"]
