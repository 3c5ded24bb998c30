"""Writing predictions: NDJSON bytes, files, and SDK-style dicts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any, Optional, Union

from lbfast import _core
from lbfast.files import write_atomically

Item = Any  # a lbfast.types.Label or an NDJSON-shaped dict


def dumps(
    items: Iterable[Item],
    *,
    max_mask_pixels: Optional[int] = None,
    ontology: Any = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    threads: Optional[int] = None,
) -> bytes:
    """Validates ``items`` (Labels and/or NDJSON-shaped dicts) and returns NDJSON.

    One line per annotation, each ending in a newline. Raises
    ``lbfast.ValidationError`` listing every problem, and writes nothing then.
    ``max_mask_pixels`` caps the width x height of a PNG mask that will be decoded
    (default 2**28), against decompression bombs.

    With ``ontology`` (see ``lbfast.ontology``) the predictions are also checked
    against it, and ``resolve_schema_ids=True`` writes each feature's ``schemaId``
    from it; ``required=False`` skips the required-classification checks.

    ``threads``: how many threads check and write (default: all cores, or
    ``RAYON_NUM_THREADS``); the GIL is released meanwhile.
    """
    options = core_options(
        ontology=ontology,
        resolve_schema_ids=resolve_schema_ids,
        required=required,
        max_mask_pixels=max_mask_pixels,
        threads=threads,
    )
    return _core.dumps(items, **options)


def core_options(
    *,
    ontology: Any,
    resolve_schema_ids: bool,
    required: bool,
    max_mask_pixels: Optional[int],
    threads: Optional[int],
) -> dict[str, Any]:
    """The keywords of ``_core.dumps``/``_core.encode``; the ontology is indexed once."""
    index = None
    if ontology is not None:
        from lbfast.ontology import ontology_index

        index = ontology_index(ontology, resolve_schema_ids=resolve_schema_ids)
    return dict(
        ontology=index,
        resolve_schema_ids=resolve_schema_ids,
        required=required,
        max_mask_pixels=max_mask_pixels,
        threads=threads,
    )


def dump(items: Iterable[Item], path_or_file: Union[str, os.PathLike[str], IO[bytes]]) -> int:
    """Writes ``dumps(items)`` to a path or binary file; returns the number of bytes.

    A path is written to a temporary file beside it and renamed into place when
    complete, so the file is never seen half-written; a symlink's target is written,
    and a device or FIFO is written directly (see ``lbfast.files``).
    """
    data = dumps(items)
    if hasattr(path_or_file, "write"):
        path_or_file.write(data)  # type: ignore[union-attr]
        return len(data)
    write_atomically(path_or_file, data)  # type: ignore[arg-type]
    return len(data)


def serialize(labels: Iterable[Item]) -> Iterator[dict[str, Any]]:
    """Yields one dict per annotation, like the SDK's ``NDJsonConverter.serialize``."""
    for line in dumps(labels).splitlines():
        yield json.loads(line)


class NDJsonConverter:
    """Drop-in for ``labelbox.data.serialization.NDJsonConverter``."""

    @staticmethod
    def serialize(labels: Iterable[Item]) -> Iterator[dict[str, Any]]:
        return serialize(labels)
