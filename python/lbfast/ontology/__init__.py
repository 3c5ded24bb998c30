"""Ontologies: the SDK's builder, loading an exported ontology, and checking
predictions against one before they are uploaded.

- :mod:`lbfast.ontology.builder`: ``OntologyBuilder``, ``Tool``, ``Classification``,
  ``Option`` (the SDK's, key for key); the guide's code runs with ``import lbfast as lb``.
- :mod:`lbfast.ontology.loading`: what an ontology can be given as.
- :mod:`lbfast.ontology.ontology`: :class:`Ontology`, loaded and indexed once.
- :mod:`lbfast.ontology.report`: the :class:`Report` of a check.
- :mod:`lbfast.ontology.files`: reading predictions files.
- :mod:`lbfast.ontology.validate`: ``validate``, ``validate_files`` and the ``Validator``.

Checking needs no network: ``lbfast.validate(predictions, ontology)`` returns a
:class:`Report` of every problem (row, path, kind, message, suggestion);
``lbfast.dumps(predictions, ontology=...)`` raises ``lbfast.ValidationError`` instead
and writes nothing. An ontology can be a builder, ``Ontology.from_json(path)`` (the
JSON Labelbox exports, with ``featureSchemaId``s), a dict, or the SDK's own objects.
"""

from lbfast.errors import INVALID, UNREADABLE, OntologyWarning, Problem
from lbfast.ontology.builder import (
    Classification,
    FeatureSchemaAttribute,
    InconsistentOntologyException,
    MediaType,
    OntologyBuilder,
    Option,
    Tool,
)
from lbfast.ontology.files import CHUNK_LINES, SourceLines, empty_file, read_predictions
from lbfast.ontology.loading import OntologyLike
from lbfast.ontology.ontology import Ontology, ontology_index
from lbfast.ontology.report import MAX_LISTED, Report
from lbfast.ontology.validate import Validator, validate, validate_files

__all__ = [
    "CHUNK_LINES",
    "INVALID",
    "MAX_LISTED",
    "UNREADABLE",
    "Classification",
    "FeatureSchemaAttribute",
    "InconsistentOntologyException",
    "MediaType",
    "Ontology",
    "OntologyBuilder",
    "OntologyLike",
    "OntologyWarning",
    "Option",
    "Problem",
    "Report",
    "SourceLines",
    "Tool",
    "Validator",
    "empty_file",
    "ontology_index",
    "read_predictions",
    "validate",
    "validate_files",
]
