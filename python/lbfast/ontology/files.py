"""Reading predictions files: NDJSON, or one JSON array, line by line and in chunks,
and remembering which ``file:line`` each row came from."""

from __future__ import annotations

import bisect
import codecs
import gzip
import json
import os
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Callable, Optional, Union, cast

from lbfast import _core
from lbfast.errors import EMPTY_INPUT, Problem

#: Values checked at a time when validating files.
CHUNK_LINES = 20_000

#: A path of a file.
PathLike = Union[str, "os.PathLike[str]"]
#: Told of every ``n`` bytes read.
OnBytes = Callable[[int], None]

#: Bytes of NDJSON read (and handed to the core) at a time: large enough for the core
#: to spread over its threads, small enough to keep memory bounded.
BLOCK_BYTES = 16 << 20

_GZIP = b"\x1f\x8b"


def open_predictions(path: PathLike) -> IO[bytes]:
    """A predictions file opened for reading bytes, gzip-compressed or not."""
    f = open(Path(os.fspath(path)), "rb")  # noqa: SIM115 (returned open)
    if f.read(2) == _GZIP:
        f.close()
        return cast("IO[bytes]", gzip.open(Path(os.fspath(path)), "rb"))
    f.seek(0)
    return f


def is_json_array(path: PathLike) -> bool:
    """Whether the file starts as one JSON array (or NDJSON whose first line is a list),
    which only :func:`read_predictions` reads."""
    with open_predictions(path) as f:
        head = f.read(64)
    head = head[len(_BOM) :] if head.startswith(_BOM) else head
    return head.lstrip().startswith(b"[")


def ndjson_blocks(
    f: IO[bytes], *, block_bytes: Optional[int] = None, on_bytes: Optional[OnBytes] = None
) -> Iterator[tuple[bytes, int]]:
    """``(block, first_line)``: NDJSON read from ``f`` in blocks of whole lines (a line
    longer than ``block_bytes`` is one block), ``first_line`` numbering the block's first
    line from 1. ``on_bytes(n)`` is told of the bytes of each block."""
    block_bytes = block_bytes or BLOCK_BYTES  # read now: tests change it
    line = 1
    while True:
        block = f.read(block_bytes)
        if not block:
            break
        # The rest of the block's last line: one copy, and no tail carried over.
        if not block.endswith(b"\n"):
            block += f.readline()
        if on_bytes:
            on_bytes(len(block))
        yield block, line
        line += _core.ndjson_line_ends(block)


#: NDJSON text for the core (``_core.check_ndjson``): ``bytes``, or the current block of
#: a file the core reads.
NdjsonText = Union[bytes, "_core.NdjsonFile"]


def ndjson_file_blocks(
    path: PathLike, *, on_bytes: Optional[OnBytes] = None
) -> Iterator[tuple[NdjsonText, int]]:
    """``(block, first_line)`` of an NDJSON file, as :func:`ndjson_blocks`. A file that is
    not compressed is read by the core into one buffer kept from block to block, with
    the GIL released (no ``bytes`` per block, no copy); its block is then the
    ``_core.NdjsonFile`` itself, valid until the next is asked for."""
    with open(Path(os.fspath(path)), "rb") as f:
        compressed = f.read(2) == _GZIP
    if compressed:
        with open_predictions(path) as g:
            yield from ndjson_blocks(g, on_bytes=on_bytes)
        return
    blocks = _core.NdjsonFile(os.fspath(path), block_bytes=BLOCK_BYTES)
    while (block := blocks.advance()) is not None:
        first_line, size = block
        if on_bytes:
            on_bytes(size)
        yield blocks, first_line


def read_predictions(
    path: PathLike, *, on_bytes: Optional[OnBytes] = None
) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` of a predictions file: NDJSON (one JSON value a line), or one
    JSON array of them; ``line`` is where the value starts in the file, from 1. A
    value that is not JSON gives a ``ValueError`` as its value, with the column in the
    message; nothing is read after a broken array. A UTF-8 byte-order mark is skipped.
    The file is read once, a block at a time: an array is parsed element by element,
    so that only the element being read is held, not the whole file. ``on_bytes(n)``
    is told of bytes read."""
    with open(Path(os.fspath(path)), "rb") as f:
        head = f.read(64)
        bom = len(_BOM) if head.startswith(_BOM) else 0
        f.seek(bom)
        if on_bytes and bom:
            on_bytes(bom)
        if head[bom:].lstrip().startswith(b"["):
            yield from _ArrayReader(f, on_bytes).values()
        else:
            yield from _ndjson(f, on_bytes)


_BOM = b"\xef\xbb\xbf"
# Bytes read at a time from an array file (more while one element is longer).
_BLOCK = 1 << 20


def _ndjson(f: IO[bytes], on_bytes: Optional[OnBytes]) -> Iterator[tuple[int, Any]]:
    pending = 0
    for number, line in enumerate(f, 1):
        pending += len(line)
        if on_bytes and pending >= _BLOCK:
            on_bytes(pending)
            pending = 0
        if not line.strip():
            continue
        yield number, _loads(line)
    if on_bytes and pending:
        on_bytes(pending)


def _loads(text: Union[str, bytes]) -> Any:
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


class _ArrayReader:
    """The elements of the one JSON array of a file, each with the line it starts on,
    parsed as the file is read: the text is decoded a block at a time and each element
    is decoded from the buffer once it is complete. Text after the array's end, or an
    element that is not JSON, ends the reading with one ``ValueError`` at its line."""

    def __init__(self, f: IO[bytes], on_bytes: Optional[OnBytes]) -> None:
        self.file = f
        self.on_bytes = on_bytes
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.decoder = json.JSONDecoder()
        self.text = ""  # the buffer
        self.base = 0  # offset in the file's text of text[0]
        self.pos = 0  # the next character to look at
        self.line = 1  # the line of text[pos]
        self.line_start = 0  # offset in the file's text of that line's start
        self.eof = False

    def values(self) -> Iterator[tuple[int, Any]]:
        try:
            yield from self._values()
        except UnicodeDecodeError as err:
            yield self.line, ValueError(f"not valid JSON: not UTF-8 ({err.reason})")

    def _values(self) -> Iterator[tuple[int, Any]]:
        self._next_char()
        self._advance(self.pos + 1)  # the `[`
        if self._next_char() == "]":
            self._advance(self.pos + 1)
            yield from self._after_end()
            return
        while True:
            line, value, ok = self._element()
            yield line, value
            if not ok:
                return
            c = self._next_char()
            self._advance(self.pos + 1)
            if c == "]":
                yield from self._after_end()
                return
            if c != ",":
                what = "expected ',' or ']'" if c else "the array is not closed"
                yield self._problem(self.pos - 1, what)
                return

    def _element(self) -> tuple[int, Any, bool]:
        """``(line, value, True)`` of the element at ``pos``, or ``(line, error, False)``."""
        self._next_char()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except RecursionError:
                return self.line, ValueError("not valid JSON: nested too deeply"), False
            except json.JSONDecodeError as err:
                if self._more():
                    continue  # the element may go on in the next block
                return (*self._problem(err.pos, err.msg), False)
            # A number at the end of the buffer may go on in the next block.
            if end == len(self.text) and self._more():
                continue
            line = self.line
            self._advance(end)
            return line, value, True

    def _after_end(self) -> Iterator[tuple[int, ValueError]]:
        if self._next_char():
            yield (
                self.line,
                ValueError(
                    "not valid JSON: more text after the end of the array (a file holds one "
                    "array, or one JSON value a line)"
                ),
            )

    def _more(self) -> bool:
        """Reads another block (at least as long as what is buffered, so that a long
        element is retried a few times only); False at the end of the file."""
        if self.eof:
            return False
        data = self.file.read(max(_BLOCK, len(self.text) - self.pos))
        if not data:
            self.eof = True
            self.text += self.utf8.decode(b"", final=True)
            return False
        if self.on_bytes:
            self.on_bytes(len(data))
        if self.pos > _BLOCK:  # drop what has been parsed
            self.text = self.text[self.pos :]
            self.base += self.pos
            self.pos = 0
        self.text += self.utf8.decode(data)
        return True

    def _advance(self, to: int) -> None:
        newlines = self.text.count("\n", self.pos, to)
        if newlines:
            self.line += newlines
            self.line_start = self.base + self.text.rindex("\n", self.pos, to) + 1
        self.pos = to

    def _next_char(self) -> str:
        """The next character that is not blank space (``""`` at the end of the file)."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            self._advance(pos)
            if pos < len(text) or not self._more():
                return self.text[self.pos : self.pos + 1]

    def _problem(self, at: int, what: str) -> tuple[int, ValueError]:
        """The problem at ``text[at]``, by the line and column of the file."""
        line, start = self.line, self.line_start
        newlines = self.text.count("\n", self.pos, at)
        if newlines:
            line += newlines
            start = self.base + self.text.rindex("\n", self.pos, at) + 1
        column = self.base + at - start + 1
        return line, ValueError(f"not valid JSON: {what} (column {column})")


def empty_file(path: PathLike, row: int) -> Problem:
    """The warning about a file that holds no predictions (it is no error: an empty
    result is a possible outcome of a model run)."""
    return Problem(
        row, "", "the file holds no predictions", EMPTY_INPUT, severity="warning",
        source=os.fspath(path),
    )  # fmt: skip


class SourceLines:
    """``file:line`` of each row of a job, kept compactly (4 bytes a row)."""

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._parts: list[tuple[str, array[int]]] = []
        self._next = 0

    def add(self, first_row: int, path: str, lines: Iterable[int]) -> None:
        tobytes = getattr(lines, "astype", None)
        if tobytes is not None:  # a numpy array (from the core): copied in one go
            packed = array("I")
            packed.frombytes(tobytes("uint32").tobytes())
            lines = packed
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


def chunked(
    values: Iterable[tuple[int, Any]],
) -> Iterator[tuple[list[Any], list[int], Optional[tuple[int, ValueError]]]]:
    """Chunks of ``(values, their lines, None)`` of a file's ``(line, value)``
    (:func:`read_predictions`); an unreadable line ends a chunk and comes as the third
    element. A full chunk is cut where its last Label starts (the core reads where),
    that Label going whole into the next chunk, so that its relationships find their
    ends; a Label longer than a chunk makes a longer chunk."""
    chunk: list[Any] = []
    lines: list[int] = []
    limit = CHUNK_LINES
    for line, value in values:
        if isinstance(value, ValueError):
            yield chunk, lines, (line, value)
            chunk, lines, limit = [], [], CHUNK_LINES
            continue
        chunk.append(value)
        lines.append(line)
        if len(chunk) >= limit:
            cut = _core.last_label_of(chunk)
            if cut == 0:  # one Label so far: read on
                limit += CHUNK_LINES
                continue
            yield chunk[:cut], lines[:cut], None
            chunk, lines, limit = chunk[cut:], lines[cut:], CHUNK_LINES
    if chunk:
        yield chunk, lines, None
