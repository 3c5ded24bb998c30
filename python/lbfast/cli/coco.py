"""COCO results files for ``lbfast convert``: the dataset's names, each entry checked
where it stands in the file, and the kept entries turned into columnar batches a
chunk at a time, with every problem restated at the entry's ``file:line``."""

from __future__ import annotations

import bisect
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import numpy as np

from lbfast.adapters.coco import Located, entry_problem, located_batches
from lbfast.cli.errors import UsageError
from lbfast.columnar import Boxes, _Columns
from lbfast.errors import Problem
from lbfast.masks import InstanceMasks


@dataclasses.dataclass
class Dataset:
    """``category id -> name`` and ``image id -> global key`` of a COCO dataset file."""

    categories: dict[int, str]
    images: dict[Any, str]

    @classmethod
    def load(cls, path: Path, key: str) -> Dataset:
        """Reads ``path``; ``key`` says what of an image is its global key (``file_name``,
        its ``stem`` or its ``id``)."""
        try:
            with path.open("rb") as f:
                data = json.load(f)
            categories = {c["id"]: c["name"] for c in data["categories"]}
            images = {im["id"]: _global_key(im, key) for im in data["images"]}
        except (ValueError, KeyError, TypeError) as e:
            raise UsageError(f"{path} is not a COCO dataset file (images, categories): {e}") from e
        return cls(categories, images)


def _global_key(image: Mapping[str, Any], key: str) -> str:
    if key == "id":
        return str(image["id"])
    name = str(image["file_name"])
    return Path(name).stem if key == "stem" else name


class Chunk:
    """The kept entries of one stretch of a COCO results file, with their lines."""

    def __init__(self, dataset: Dataset, geometry: str, min_score: float) -> None:
        self.dataset = dataset
        self.geometry = geometry
        self.min_score = min_score
        self.entries: list[Mapping[str, Any]] = []
        self.lines: list[int] = []
        self.skipped = 0

    def add(self, line: int, entry: Any) -> Optional[str]:
        """Keeps ``entry`` (unless scored below ``min_score``); returns what is wrong
        with it instead, if anything."""
        problem = entry_problem(entry, self.geometry)
        if problem is not None:
            return problem
        if entry["category_id"] not in self.dataset.categories:
            return f"category_id {entry['category_id']!r} is not in the COCO dataset's categories"
        if entry["image_id"] not in self.dataset.images:
            return f"image_id {entry['image_id']!r} is not in the COCO dataset's images"
        score = entry.get("score")
        if score is not None and score < self.min_score:
            self.skipped += 1
            return None
        self.entries.append(entry)
        self.lines.append(line)
        return None

    def take(self) -> tuple[list[Located], list[int], list[tuple[int, str]]]:
        """The batches of the kept entries, the entries' lines, and the entries that
        could not be converted (``(line, problem)``: an RLE that does not decode);
        empties the chunk."""
        left_out: list[tuple[int, str]] = []
        lines = self.lines
        located = located_batches(
            self.entries,
            self.dataset.categories,
            self.dataset.images,
            geometry=self.geometry,
            on_problem=lambda i, message: left_out.append((lines[i], message)),
        )
        self.entries, self.lines = [], []
        return located, lines, left_out


class Locations:
    """Restates the problems of a chunk's batches in the terms of the file: each at the
    ``file:line`` of its entry, a problem of a batch's feature (an unknown tool, say)
    at every entry of that category, and the paths of the entry's fields."""

    def __init__(self, name: str, first_row: int, located: list[Located], lines: list[int]) -> None:
        self.name = name
        self.located = located
        self.lines = lines
        self.firsts: list[int] = []
        for batch, _ in located:
            self.firsts.append(first_row)
            first_row += _rows(batch)

    def row_lines(self) -> list[int]:
        """The line of every row of the chunk's batches, in order."""
        return [self.lines[i] for _, entries in self.located for i in entries.tolist()]

    def __call__(self, problem: Problem) -> list[Problem]:
        at = bisect.bisect_right(self.firsts, problem.row) - 1
        if at < 0:
            return [problem]
        batch, entries = self.located[at]
        first = self.firsts[at]
        category = _feature_index(problem.path)
        if category is not None and batch.class_ids is not None:
            rows = np.flatnonzero(np.asarray(batch.class_ids) == category)
            return [self._at(problem, first + int(r), int(entries[r]), "category_id") for r in rows]
        index = problem.row - first
        if index >= len(entries):
            return [problem]
        return [
            self._at(
                problem, problem.row, int(entries[index]), _entry_path(batch, index, problem.path)
            )
        ]

    def _at(self, problem: Problem, row: int, entry: int, path: str) -> Problem:
        source = f"{self.name}:{self.lines[entry]}"
        return dataclasses.replace(problem, row=row, path=path, source=source)


def _rows(batch: Any) -> int:
    """The rows a batch takes: one per prediction of a columnar batch, one for masks."""
    return len(batch) if isinstance(batch, _Columns) else 1


def _feature_index(path: str) -> Optional[int]:
    """``k`` of the path ``features[k]``, where a columnar batch's feature problems are."""
    if path.startswith("features[") and path.endswith("]") and path[9:-1].isdigit():
        return int(path[9:-1])
    return None


def _entry_path(batch: Any, index: int, path: str) -> str:
    """``path`` of row ``index`` of ``batch`` as the field of the COCO entry: the row's
    box is the entry's ``bbox``, its mask the entry's ``segmentation``."""
    prefix = f"boxes[{index}]" if isinstance(batch, Boxes) else None
    if isinstance(batch, InstanceMasks):
        prefix = "masks[0]"
    field = "bbox" if isinstance(batch, Boxes) else "segmentation"
    if prefix is not None and path.startswith(prefix):
        return field + path[len(prefix) :]
    return path
