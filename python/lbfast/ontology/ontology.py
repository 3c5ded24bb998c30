"""An ontology loaded and indexed for checking predictions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Optional, Union

from lbfast._core import OntologyIndex
from lbfast.ontology.builder import OntologyBuilder
from lbfast.ontology.loading import Normalized, OntologyLike, from_json, normalized_of, unwrap


class Ontology:
    """An ontology ready for checking predictions, indexed once (in Rust).

    Make one with ``Ontology.from_json(path_or_text_or_dict)`` from the JSON Labelbox
    exports (``featureSchemaId``s and ``schemaNodeId``s included, nested options at
    any depth), or ``Ontology.of(anything)`` from a builder, a dict, a path or the
    SDK's ``Ontology``/``OntologyBuilder``. ``ValueError`` lists an ontology's
    ambiguities (two features of one name at one place).
    """

    def __init__(self, normalized: Mapping[str, Any], *, source: Optional[str] = None) -> None:
        found = unwrap(normalized)
        if not isinstance(found, dict) or not ("tools" in found or "classifications" in found):
            raise ValueError(
                f"not an ontology{f' ({source})' if source else ''}: expected a JSON object "
                'with "tools" and "classifications"'
            )
        self.normalized: Normalized = found
        self.source = source
        self.index = OntologyIndex(found)

    @classmethod
    def from_json(cls, source: Union[str, bytes, os.PathLike[str], Mapping[str, Any]]) -> Ontology:
        """From a path, JSON text or an already parsed dict."""
        data, where = from_json(source)
        return cls(data, source=where)

    @classmethod
    def from_dict(cls, dictionary: Mapping[str, Any]) -> Ontology:
        return cls(dictionary)

    @classmethod
    def of(cls, ontology: Union[Ontology, OntologyLike]) -> Ontology:
        """``ontology`` as an :class:`Ontology`: an Ontology, a builder (ours or the
        SDK's), a dict, a path or JSON text, or the SDK's ``Ontology`` object."""
        if isinstance(ontology, Ontology):
            return ontology
        data, where = normalized_of(ontology)
        return cls(data, source=where)

    def builder(self) -> OntologyBuilder:
        return OntologyBuilder.from_dict(self.normalized)

    @property
    def tool_names(self) -> list[str]:
        return [t.get("name") for t in self.normalized.get("tools") or []]

    @property
    def classification_names(self) -> list[str]:
        return [c.get("name") for c in self.normalized.get("classifications") or []]

    def features_without_schema_id(self) -> list[str]:
        """Features that have no ``featureSchemaId`` (an ontology built locally)."""
        return self.index.features_without_schema_id()

    def __repr__(self) -> str:
        where = f", source={self.source!r}" if self.source else ""
        return (
            f"Ontology({self.index.tool_count} tools, "
            f"{self.index.classification_count} classifications{where})"
        )


def ontology_index(
    ontology: Union[Ontology, OntologyLike], *, resolve_schema_ids: bool = False
) -> OntologyIndex:
    """The Rust index of ``ontology`` (see :meth:`Ontology.of`), for ``_core`` calls.

    Resolving names to schema ids needs every feature's id; a ``ValueError`` names
    those that have none.
    """
    onto = Ontology.of(ontology)
    if resolve_schema_ids:
        missing = onto.features_without_schema_id()
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise ValueError(
                f"cannot resolve names to schema ids: {len(missing)} features of the ontology "
                f"have no featureSchemaId ({shown}); use the ontology as exported from Labelbox"
            )
    return onto.index
