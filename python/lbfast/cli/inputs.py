"""The files a command is given: checked to exist, sized for the progress line, and
read once each (the format of each input file is decided by its first value)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from lbfast.cli.errors import UsageError
from lbfast.ontology import Ontology, read_predictions

#: ``(line, value)`` of a file's values; a value that is not JSON is a ``ValueError``.
Values = Iterator[tuple[int, Any]]


def existing(paths: Sequence[str], what: str) -> list[Path]:
    """``paths`` as paths; a missing one is a usage error naming it."""
    out = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise UsageError(f"{what} not found: {p}")
        out.append(path)
    return out


def total_size(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def load_ontology(path: Optional[str]) -> Optional[Ontology]:
    """The ontology of ``--ontology``, if given; an unusable one is a usage error."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise UsageError(f"ontology not found: {path}")
    try:
        return Ontology.from_json(path)
    except (ValueError, TypeError) as err:
        raise UsageError(f"unusable ontology {path}: {err}") from err


def is_coco_result(value: Any) -> bool:
    """Whether a value looks like an entry of a COCO results file."""
    return isinstance(value, dict) and {"image_id", "category_id", "bbox"} <= value.keys()


def opened(path: Path, progress: Callable[[int], None]) -> tuple[Optional[Any], Values]:
    """The first value of a file (``None`` when it has none) and all its values, the
    first included: the file is read once, its first value looked at to decide its
    format."""
    values = read_predictions(path, on_bytes=progress)
    first = next(values, None)
    if first is None:
        return None, iter(())
    return first[1], itertools.chain([first], values)
