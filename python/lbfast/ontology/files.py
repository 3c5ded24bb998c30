"""Reading predictions files: NDJSON, or one JSON array, line by line and in chunks,
and remembering which ``file:line`` each row came from."""

from __future__ import annotations

import bisect
import json
import os
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Callable, Optional, Union

#: Values checked at a time when validating files.
CHUNK_LINES = 20_000

#: A path of a file.
PathLike = Union[str, "os.PathLike[str]"]
#: Told of every ``n`` bytes read.
OnBytes = Callable[[int], None]


def read_predictions(
    path: PathLike, *, on_bytes: Optional[OnBytes] = None
) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` of a predictions file: NDJSON (one JSON value a line), or one
    JSON array of them (``line`` is then the index, from 1). A line that is not JSON
    gives a ``ValueError`` as its value. ``on_bytes(n)`` is told of bytes read."""
    with open(Path(os.fspath(path)), "rb") as f:
        head = f.read(64).lstrip()
        f.seek(0)
        if head.startswith(b"["):
            data = f.read()
            if on_bytes:
                on_bytes(len(data))
            yield from enumerate(json.loads(data), 1)
            return
        pending = 0
        for number, line in enumerate(f, 1):
            pending += len(line)
            if on_bytes and pending >= 1 << 20:
                on_bytes(pending)
                pending = 0
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError as err:
                yield number, ValueError(f"not valid JSON: {err}")
        if on_bytes and pending:
            on_bytes(pending)


class SourceLines:
    """``file:line`` of each row of a job, kept compactly (4 bytes a row)."""

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._parts: list[tuple[str, array[int]]] = []
        self._next = 0

    def add(self, first_row: int, path: str, lines: Iterable[int]) -> None:
        if self._parts and self._parts[-1][0] == path and self._next == first_row:
            self._parts[-1][1].extend(lines)
        else:
            self._firsts.append(first_row)
            self._parts.append((path, array("I", lines)))
        self._next = self._firsts[-1] + len(self._parts[-1][1])

    def __call__(self, row: int) -> Optional[str]:
        at = bisect.bisect_right(self._firsts, row) - 1
        if at < 0:
            return None
        path, lines = self._parts[at]
        offset = row - self._firsts[at]
        return f"{path}:{lines[offset]}" if offset < len(lines) else None


# The name the command line imports.
_Sources = SourceLines


def chunked(
    path: PathLike, progress: Optional[OnBytes]
) -> Iterator[tuple[list[Any], list[int], Optional[tuple[int, ValueError]]]]:
    """Chunks of ``(values, their lines, None)`` of a file; an unreadable line ends a
    chunk and comes as the third element."""
    chunk: list[Any] = []
    lines: list[int] = []
    for line, value in read_predictions(path, on_bytes=progress):
        if isinstance(value, ValueError):
            yield chunk, lines, (line, value)
            chunk, lines = [], []
            continue
        chunk.append(value)
        lines.append(line)
        if len(chunk) >= CHUNK_LINES:
            yield chunk, lines, None
            chunk, lines = [], []
    if chunk:
        yield chunk, lines, None
