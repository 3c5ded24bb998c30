"""lbfast: computer-vision predictions to Labelbox import NDJSON, validated and fast.

import lbfast
import lbfast.types as lb_types

label = lb_types.Label(data={"global_key": "img-1"}, annotations=[...])
ndjson_bytes = lbfast.dumps([label])
"""

from lbfast import columnar, masks, types
from lbfast._core import __version__
from lbfast.errors import ErrorDetail, ValidationError
from lbfast.ontology import (
    Classification,
    MediaType,
    Ontology,
    OntologyBuilder,
    OntologyWarning,
    Option,
    Report,
    Tool,
    validate,
    validate_files,
)
from lbfast.reading import iter_load, load, loads
from lbfast.serialize import NDJsonConverter, dump, dumps, serialize
from lbfast.writer import Manifest, Shard, ShardWriter

__all__ = [
    "Classification",
    "ErrorDetail",
    "Manifest",
    "MediaType",
    "NDJsonConverter",
    "Ontology",
    "OntologyBuilder",
    "OntologyWarning",
    "Option",
    "Report",
    "Shard",
    "ShardWriter",
    "Tool",
    "ValidationError",
    "__version__",
    "columnar",
    "dump",
    "dumps",
    "iter_load",
    "load",
    "loads",
    "masks",
    "serialize",
    "types",
    "validate",
    "validate_files",
]
