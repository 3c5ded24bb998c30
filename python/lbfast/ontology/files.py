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
    JSON array of them; ``line`` is where the value starts in the file, from 1. A
    value that is not JSON gives a ``ValueError`` as its value, with the column in the
    message. A UTF-8 byte-order mark is skipped. ``on_bytes(n)`` is told of bytes read."""
    with open(Path(os.fspath(path)), "rb") as f:
        head = f.read(64)
        bom = len(_BOM) if head.startswith(_BOM) else 0
        f.seek(bom)
        if head[bom:].lstrip().startswith(b"["):
            data = f.read()
            if on_bytes:
                on_bytes(len(data) + bom)
            array = _array_elements(data)
            if array is not None:
                yield from array
                return
            f.seek(bom)  # not one array: a list on the first line of NDJSON
        pending = bom
        for number, line in enumerate(f, 1):
            pending += len(line)
            if on_bytes and pending >= 1 << 20:
                on_bytes(pending)
                pending = 0
            if not line.strip():
                continue
            yield number, _loads(line, number)
        if on_bytes and pending:
            on_bytes(pending)


_BOM = b"\xef\xbb\xbf"


def _loads(text: Union[str, bytes], line: int) -> Any:
    """One JSON value; a ``ValueError`` (returned, not raised) says what is wrong, in the
    file's terms (the line is the caller's, so the message gives the column only)."""
    try:
        return json.loads(text)
    except RecursionError:
        return ValueError("not valid JSON: nested too deeply")
    except json.JSONDecodeError as err:
        return ValueError(f"not valid JSON: {err.msg} (column {err.colno})")
    except ValueError as err:  # not UTF-8
        return ValueError(f"not valid JSON: {err}")


def _array_elements(data: bytes) -> Optional[list[tuple[int, Any]]]:
    """``(line, value)`` of each element of the one JSON array ``data`` holds, or None
    when ``data`` is not one array (NDJSON whose first line is a list). An array that
    cannot be parsed gives one ``ValueError`` at the line where it breaks."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return [(1, ValueError(f"not valid JSON: not UTF-8 ({err.reason})"))]
    try:
        whole = json.loads(text)
    except RecursionError:
        return [(1, ValueError("not valid JSON: nested too deeply"))]
    except json.JSONDecodeError as err:
        if err.msg == "Extra data":
            return None
        line = err.lineno
        return [(line, ValueError(f"not valid JSON: {err.msg} (column {err.colno})"))]
    if not isinstance(whole, list):
        return None
    # Where each element starts: walk the array once with the decoder.
    decoder = json.JSONDecoder()
    out: list[tuple[int, Any]] = []
    pos = text.index("[") + 1
    line, counted = 1, 0
    for value in whole:
        while text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", counted, pos)
        counted = pos
        out.append((line, value))
        pos = decoder.raw_decode(text, pos)[1]
    return out


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
