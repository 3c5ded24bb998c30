"""lbfast: computer-vision predictions to Labelbox import NDJSON, validated and fast.

import lbfast
import lbfast.types as lb_types

label = lb_types.Label(data={"global_key": "img-1"}, annotations=[...])
ndjson_bytes = lbfast.dumps([label])
"""

from lbfast import masks, types
from lbfast._core import __version__
from lbfast.errors import ErrorDetail, ValidationError
from lbfast.serialize import NDJsonConverter, dump, dumps, serialize

__all__ = [
    "ErrorDetail",
    "NDJsonConverter",
    "ValidationError",
    "__version__",
    "dump",
    "dumps",
    "masks",
    "serialize",
    "types",
]
