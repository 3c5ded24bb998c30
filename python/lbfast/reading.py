"""Reading Labelbox import NDJSON back into typed Labels (``lbfast.loads``), the
inverse of ``lbfast.dumps``: to filter, merge, re-check or re-shard prediction files.

Lines are read by the core's one NDJSON reader (the key rules of ``dumps``' dicts),
into ``lbfast.types``: one ``Label`` per data row, in order of first appearance, its
annotations in file order, each annotation's ``uuid`` in its ``extra``. A box keeps
its top/left/height/width exactly, and a PNG mask its bytes, while unchanged, so that
``dumps(loads(data))`` means what ``data`` means. A line that cannot be read raises
``lbfast.ValidationError`` naming its line and field; the rules (confidence in range,
...) are ``dumps``'s business.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
from collections.abc import Iterator
from typing import IO, Optional, Union, cast

from lbfast import _core
from lbfast.errors import ProblemTuple, ValidationError
from lbfast.ontology.files import BLOCK_BYTES, SourceLines, ndjson_blocks, open_predictions
from lbfast.types import Label

PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]

_GZIP = b"\x1f\x8b"


def loads(data: Union[bytes, str], *, threads: Optional[int] = None) -> list[Label]:
    """The Labels of NDJSON ``data`` (bytes, gzip-compressed or not, or text)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data[:2] == _GZIP:
        data = gzip.decompress(data)
    labels, problems, lines = _core.read_labels(data, threads=threads)
    _raise_for(problems, lines, None, 0)
    return labels


def load(path_or_file: PathOrFile, *, threads: Optional[int] = None) -> list[Label]:
    """The Labels of an NDJSON file (a path or a binary file; gzip-compressed or not)."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open_predictions(path_or_file) as f:
            data = f.read()
        name: Optional[str] = os.fspath(path_or_file)
    else:
        data = _maybe_gunzip(path_or_file).read()
        name = getattr(path_or_file, "name", None)
    labels, problems, lines = _core.read_labels(data, threads=threads)
    _raise_for(problems, lines, name if isinstance(name, str) else None, 0)
    return labels


def iter_load(
    path_or_file: PathOrFile, *, block_bytes: int = BLOCK_BYTES, threads: Optional[int] = None
) -> Iterator[Label]:
    """The Labels of an NDJSON file, read a block at a time (memory bounded by the
    block, not the file). Consecutive lines of one data row make one Label, as files
    written by ``dumps`` have them; a data row whose lines are apart in the file comes
    as one Label per run (``load`` merges them)."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open_predictions(path_or_file) as f:
            yield from _iter_labels(f, os.fspath(path_or_file), block_bytes, threads)
    else:
        name = getattr(path_or_file, "name", None)
        f = _maybe_gunzip(path_or_file)
        yield from _iter_labels(f, name if isinstance(name, str) else None, block_bytes, threads)


def _iter_labels(
    f: IO[bytes], name: Optional[str], block_bytes: int, threads: Optional[int]
) -> Iterator[Label]:
    # Each block's last Label is held by the core until the next block, which may
    # hold more of its lines (and the ends of its relationships).
    held = _core.Held()
    sources = SourceLines()  # a held row's problem may come with a later block
    row = 0
    blocks = ndjson_blocks(f, block_bytes=block_bytes)
    for block, first_line in itertools.chain(blocks, [(b"", 0)]):
        labels, problems, lines = _core.read_labels(
            block, first_row=row, first_line=first_line, threads=threads, held=held,
            last=not block,
        )  # fmt: skip
        sources.add(row, name or "", lines)
        _raise_for(problems, lines, name, row, sources)
        row += len(lines)
        yield from labels


def _maybe_gunzip(f: IO[bytes]) -> IO[bytes]:
    """``f``, or its decompressed bytes when it is gzip (peeked without seeking)."""
    peek = getattr(f, "peek", None)
    head = peek(2)[:2] if peek is not None else b""
    if peek is None:
        head = f.read(2)
        f = _Prefixed(head, f)  # type: ignore[assignment]
    if head == _GZIP:
        return cast("IO[bytes]", gzip.GzipFile(fileobj=f, mode="rb"))
    return f


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``rest``, as one binary stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _raise_for(
    problems: list[ProblemTuple],
    lines: object,
    name: Optional[str],
    first_row: int,
    sources: Optional[SourceLines] = None,
) -> None:
    """``ValidationError`` for what could not be read, each problem naming its line."""
    if not problems:
        return

    def source(row: int) -> str:
        if sources is not None:
            where = sources(row) or ""
            return where if name else f"line {where.lstrip(':')}"
        line = int(lines[row - first_row])  # type: ignore[index]
        return f"{name}:{line}" if name else f"line {line}"

    raise ValidationError(problems, sources=source)
