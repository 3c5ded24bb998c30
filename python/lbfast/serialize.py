"""Writing predictions: NDJSON bytes, files, and SDK-style dicts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, Union

from lbfast import _core
from lbfast.files import write_atomically
from lbfast.items import Item
from lbfast.options import Options, core_options

if TYPE_CHECKING:
    from typing_extensions import Unpack


class BinaryWriter(Protocol):
    """A file opened for writing bytes (or anything with such a ``write``)."""

    def write(self, data: bytes, /) -> object: ...


def dumps(items: Iterable[Item], **options: Unpack[Options]) -> bytes:
    """Validates ``items`` (Labels, NDJSON-shaped dicts, columnar batches, mixed) and
    returns NDJSON.

    One line per annotation, each ending in a newline. Raises
    ``lbfast.ValidationError`` listing every problem, and writes nothing then.
    The keywords (``max_mask_pixels``, ``ontology``, ``resolve_schema_ids``,
    ``required``, ``threads``) are described in ``lbfast.options``: with ``ontology``
    the predictions are also checked against it, and ``resolve_schema_ids=True``
    writes each feature's ``schemaId`` from it.
    """
    if not options:
        # Every default is the binding's own: a small call skips building keywords.
        return _core.dumps(items)
    return _core.dumps(items, **core_options(options))


def dump(
    items: Iterable[Item],
    path_or_file: Union[str, os.PathLike[str], BinaryWriter],
    **options: Unpack[Options],
) -> int:
    """Writes ``dumps(items, **options)`` to a path or binary file; returns the number
    of bytes.

    A path is written to a temporary file beside it and renamed into place when
    complete, so the file is never seen half-written; a symlink's target is written,
    and a device or FIFO is written directly (see ``lbfast.files``).
    """
    data = dumps(items, **options)
    if isinstance(path_or_file, (str, os.PathLike)):
        write_atomically(path_or_file, data)
    elif callable(getattr(path_or_file, "write", None)):
        path_or_file.write(data)
    else:
        raise TypeError(
            f"path_or_file must be a path or a binary file, got {type(path_or_file).__name__}"
        )
    return len(data)


def serialize(labels: Iterable[Item], **options: Unpack[Options]) -> Iterator[dict[str, Any]]:
    """Yields one dict per annotation, like the SDK's ``NDJsonConverter.serialize``.

    The predictions are validated and converted when iteration starts."""
    for line in dumps(labels, **options).splitlines():
        yield json.loads(line)


class NDJsonConverter:
    """Drop-in for ``labelbox.data.serialization.NDJsonConverter``."""

    @staticmethod
    def serialize(labels: Iterable[Item], **options: Unpack[Options]) -> Iterator[dict[str, Any]]:
        return serialize(labels, **options)
