"""Reading an ontology from whatever holds one: a dict, a path, JSON text, a builder
(lbfast's or the SDK's) or the SDK's ``Ontology``."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Protocol, Union

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

# The ``{"tools": [...], "classifications": [...]}`` dict Labelbox exports.
Normalized: TypeAlias = dict[str, Any]


class HasNormalized(Protocol):
    """The SDK's ``Ontology`` (and :class:`lbfast.Ontology`): the export, as a dict or JSON."""

    @property
    def normalized(self) -> Union[Mapping[str, Any], str, bytes]: ...


class HasAsdict(Protocol):
    """A builder, lbfast's or the SDK's: ``asdict()`` is the export."""

    def asdict(self) -> dict[str, Any]: ...


#: Anything an ontology can be given as.
OntologyLike: TypeAlias = Union[
    Mapping[str, Any], str, bytes, "os.PathLike[str]", HasNormalized, HasAsdict
]


def unwrap(data: Any) -> Any:
    """The ``{"tools", "classifications"}`` part of an export (``normalized`` wrappers)."""
    while isinstance(data, dict) and "tools" not in data and "classifications" not in data:
        inner = data.get("normalized", data.get("ontology"))
        if inner is None:
            break
        data = json.loads(inner) if isinstance(inner, (str, bytes)) else inner
    return data


def from_json(
    source: Union[str, bytes, os.PathLike[str], Mapping[str, Any]],
) -> tuple[Any, Optional[str]]:
    """The parsed JSON of a path, JSON text or an already parsed dict, and where it came
    from (``None`` for a dict)."""
    if isinstance(source, Mapping):
        return source, None
    if isinstance(source, bytes) or (isinstance(source, str) and source.lstrip().startswith("{")):
        return parse_json(source, "JSON text"), "JSON text"
    path = Path(os.fspath(source))
    with open(path, "rb") as f:
        return parse_json(f.read(), str(path)), str(path)


def parse_json(text: Union[str, bytes], source: str) -> Any:
    """JSON text of an ontology; a ``ValueError`` naming ``source`` when it is nested
    too deeply for the parser."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"not an ontology ({source}): nested too deeply") from None


def normalized_of(ontology: OntologyLike) -> tuple[Any, Optional[str]]:
    """The export of ``ontology`` (not yet checked to be one) and where it came from."""
    if isinstance(ontology, (Mapping, str, bytes, os.PathLike)):
        return from_json(ontology)
    normalized = getattr(ontology, "normalized", None)
    if normalized is not None and not callable(normalized):
        if isinstance(normalized, (str, bytes)):
            normalized = json.loads(normalized)
        return normalized, type(ontology).__name__
    if callable(getattr(ontology, "asdict", None)):
        # asdict() assigns colours to the builder's tools; leave the caller's alone.
        return copy.deepcopy(ontology).asdict(), type(ontology).__name__  # type: ignore[union-attr]
    raise TypeError(
        "expected an ontology: lbfast.Ontology, an OntologyBuilder, a dict, a path "
        f"to an exported ontology JSON, or the SDK's Ontology; got {type(ontology).__name__}"
    )
