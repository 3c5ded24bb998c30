"""Writing predictions: NDJSON bytes, files, and SDK-style dicts."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Union

from lbfast import _core

Item = Any  # a lbfast.types.Label or an NDJSON-shaped dict


def dumps(items: Iterable[Item]) -> bytes:
    """Validates ``items`` (Labels and/or NDJSON-shaped dicts) and returns NDJSON.

    One line per annotation, each ending in a newline. Raises
    ``lbfast.ValidationError`` listing every problem, and writes nothing then.
    """
    return _core.dumps(items)


def dump(items: Iterable[Item], path_or_file: Union[str, os.PathLike[str], IO[bytes]]) -> int:
    """Writes ``dumps(items)`` to a path or binary file; returns the number of bytes.

    A path is written to a temporary file beside it and renamed into place when
    complete, so the file is never seen half-written.
    """
    data = dumps(items)
    if hasattr(path_or_file, "write"):
        path_or_file.write(data)  # type: ignore[union-attr]
        return len(data)
    target = Path(os.fspath(path_or_file))  # type: ignore[arg-type]
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp makes the file private; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return len(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def serialize(labels: Iterable[Item]) -> Iterator[dict[str, Any]]:
    """Yields one dict per annotation, like the SDK's ``NDJsonConverter.serialize``."""
    for line in dumps(labels).splitlines():
        yield json.loads(line)


class NDJsonConverter:
    """Drop-in for ``labelbox.data.serialization.NDJsonConverter``."""

    @staticmethod
    def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def serialize(labels: Iterable[Item]) -> Iterator[dict[str, Any]]:
        return serialize(labels)
