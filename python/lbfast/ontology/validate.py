"""Checking predictions, against an ontology or not, without writing them."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable, Optional, TypedDict, Union

from lbfast import _core
from lbfast.columnar import _Columns
from lbfast.errors import UNREADABLE, Problem, ProblemTuple
from lbfast.ontology.files import (
    NdjsonText,
    PathLike,
    SourceLines,
    chunked,
    empty_file,
    is_json_array,
    ndjson_file_blocks,
    read_predictions,
)
from lbfast.ontology.ontology import Ontology, ontology_index
from lbfast.ontology.report import MAX_LISTED, Report

if TYPE_CHECKING:
    from typing_extensions import Literal, Unpack

    from lbfast._core import Encoded
    from lbfast.items import Item
    from lbfast.ontology.loading import OntologyLike
    from lbfast.options import CheckOptions

#: Names the ``file:line`` a row came from, if known.
Sources = Callable[[int], Optional[str]]
#: The problems to report for one the core found (with their ``source``): the caller's
#: terms for it, such as one problem per input entry for a problem of a batch's feature.
Locate = Callable[[Problem], list[Problem]]

#: What ``_core.check`` gives: the problems listed, the count of all of them by
#: ``(kind, severity)``, and the number of annotations checked.
Checked = tuple[list[ProblemTuple], list[tuple[str, str, int]], int]


class _Job(TypedDict):
    """What ``_core.check`` and ``_core.check_and_encode`` take from a :class:`Validator`."""

    ontology: Optional[_core.OntologyIndex]
    state: _core.CheckState
    required: bool
    max_mask_pixels: Optional[int]
    threads: Optional[int]


class Validator:
    """Checks predictions in as many calls as needed (files, chunks) and reports
    once: required global classifications are checked per data row across all calls.

        v = Validator(ontology)
        for chunk in chunks:
            v.check(chunk)
        report = v.finish()

    The keywords are those of ``lbfast.dumps`` (see ``lbfast.options``).
    """

    def __init__(
        self,
        ontology: Optional[Union[Ontology, OntologyLike]] = None,
        *,
        max_mask_pixels: Optional[int] = None,
        resolve_schema_ids: bool = False,
        required: bool = True,
        threads: Optional[int] = None,
    ) -> None:
        self.ontology = None if ontology is None else Ontology.of(ontology)
        # Resolving schema ids needs every feature's id: refuse as dumps() would.
        self.index = (
            None
            if self.ontology is None
            else ontology_index(self.ontology, resolve_schema_ids=resolve_schema_ids)
        )
        self.required = required
        self.resolve_schema_ids = resolve_schema_ids
        self.max_mask_pixels = max_mask_pixels
        self.threads = threads
        self._state = _core.CheckState()
        # The last Label of an NDJSON block, until the next block (check_ndjson).
        self._held = _core.Held()
        self._report = Report()
        self._rows = 0

    @property
    def rows(self) -> int:
        """Items checked so far; the next call's first row."""
        return self._rows

    @property
    def ok(self) -> bool:
        """No error so far."""
        return not self._report.counts

    def check(
        self,
        items: Iterable[Item],
        *,
        sources: Optional[Sources] = None,
        locate: Optional[Locate] = None,
    ) -> list[Problem]:
        """Checks ``items`` (rows continue from the previous call) and returns their
        problems. ``sources(row)`` may name where a row came from (``file:line``);
        ``locate`` may restate each problem in the caller's terms."""
        items = items if isinstance(items, list) else list(items)
        first = self._rows
        found = _core.check(items, first_row=first, **self._job())
        self._advance(items)
        return self._add_found(found, sources, locate)

    def encode(
        self,
        items: Iterable[Item],
        *,
        scores: Literal["keep", "refuse", "strip"] = "keep",
        sources: Optional[Sources] = None,
        locate: Optional[Locate] = None,
    ) -> Optional[Encoded]:
        """Checks ``items`` as :meth:`check` does and, when they have no error, writes
        them: their NDJSON lines and per-line facts (what ``ShardWriter`` takes), from
        the same one lowering and check; ``None`` when an error was found. Amendments
        (normalised answers, resolved schema ids) are written and listed as warnings.
        ``scores``: what to do with confidence and custom metrics (``"refuse"`` or
        ``"strip"`` them for a project import, which does not take them). Once the job
        has an error, nothing more is written (``None``)."""
        items = items if isinstance(items, list) else list(items)
        encoded, found = _core.check_and_encode(
            items,
            first_row=self._rows,
            scores=scores,
            resolve_schema_ids=self.resolve_schema_ids,
            **self._job(),
        )
        self._advance(items)
        self._add_found(found, sources, locate)
        return encoded if self.ok else None

    def check_ndjson(
        self,
        data: NdjsonText,
        *,
        name: str,
        sources: SourceLines,
        first_line: int = 1,
        last: bool = True,
    ) -> list[Problem]:
        """Checks NDJSON text (whole lines; its first line is ``first_line`` of the file
        ``name``) as :meth:`check` checks its dicts, read by the core without making
        them: one row per line that is not blank, ``sources`` told of each row's
        ``name:line``; a line that is not JSON is a problem of kind ``unreadable``.
        ``last=False``: a block of a longer text, whose last Label's lines are held
        (and checked with the next block's), so that relationships are linked across
        blocks; the text's last block (or ``b""``) comes with ``last=True``."""
        return self._ndjson(data, name, sources, first_line, last, encode=False)[1]

    def encode_ndjson(
        self,
        data: NdjsonText,
        *,
        name: str,
        sources: SourceLines,
        first_line: int = 1,
        last: bool = True,
        scores: Literal["keep", "refuse", "strip"] = "keep",
    ) -> Optional[Encoded]:
        """Checks NDJSON text as :meth:`check_ndjson` does and, when it has no error,
        writes it as :meth:`encode` does (what ``ShardWriter.write_encoded`` takes)."""
        return self._ndjson(data, name, sources, first_line, last, encode=True, scores=scores)[0]

    def _ndjson(
        self,
        data: NdjsonText,
        name: str,
        sources: SourceLines,
        first_line: int,
        last: bool,
        *,
        encode: bool,
        scores: Literal["keep", "refuse", "strip"] = "keep",
    ) -> tuple[Optional[Encoded], list[Problem]]:
        first = self._rows
        encoded, found, lines = _core.check_ndjson(
            data,
            first_row=first,
            first_line=first_line,
            encode=encode,
            held=self._held,
            last=last,
            scores=scores,
            resolve_schema_ids=self.resolve_schema_ids,
            **self._job(),
        )
        sources.add(first, name, lines)
        self._rows += len(lines)
        self._report.items += len(lines)
        problems = self._add_found(found, sources)
        return (encoded if self.ok else None), problems

    def _job(self) -> _Job:
        """The keywords every call of this job passes to the core."""
        return {
            "ontology": self.index,
            "state": self._state,
            "required": self.required,
            "max_mask_pixels": self.max_mask_pixels,
            "threads": self.threads,
        }

    def _advance(self, items: list[Item]) -> None:
        """Moves past ``items``: the next call's rows start after theirs (a columnar
        batch has one row per prediction)."""
        self._rows += sum(len(item) if isinstance(item, _Columns) else 1 for item in items)
        self._report.items += len(items)

    def add_problem(self, problem: Problem) -> None:
        """Records a problem found outside the check (an unreadable line)."""
        self._add([problem])

    def skip(self, count: int = 1) -> None:
        """Counts ``count`` rows that could not be checked (they keep their numbers)."""
        self._rows += count
        self._report.items += count

    def _add_found(
        self, found: Checked, sources: Optional[Sources], locate: Optional[Locate] = None
    ) -> list[Problem]:
        """Adds what ``_core.check`` found: the problems listed and the counts of all."""
        listed, counts, annotations = found
        problems = [Problem.of(p, (sources(p[1]) if sources else None) or None) for p in listed]
        if locate is not None:
            located = [locate(p) for p in problems]
            # A problem restated as several is counted as several.
            for one, restated in zip(problems, located):
                extra = len(restated) - 1
                totals = self._totals(one)
                totals[one.kind] = totals.get(one.kind, 0) + extra
            problems = [p for restated in located for p in restated]
        self._add(problems, counted=True)
        for kind, severity, n in counts:
            totals = self._report.counts if severity == "error" else self._report.warning_counts
            totals[kind] = totals.get(kind, 0) + n
        self._report.annotations += annotations
        return problems

    def _totals(self, problem: Problem) -> dict[str, int]:
        report = self._report
        return report.counts if problem.severity == "error" else report.warning_counts

    def _add(self, problems: list[Problem], *, counted: bool = False) -> None:
        """Lists ``problems`` (up to ``MAX_LISTED`` of each severity) and, unless the
        core has ``counted`` them, counts them."""
        report = self._report
        for problem in problems:
            error = problem.severity == "error"
            kept = report.errors if error else report.warnings
            if len(kept) < MAX_LISTED:
                kept.append(problem)
            if not counted:
                totals = report.counts if error else report.warning_counts
                totals[problem.kind] = totals.get(problem.kind, 0) + 1

    def finish(self, *, sources: Optional[Sources] = None) -> Report:
        """The report of every call so far, with missing required global classifications."""
        if self.index is not None and self.required:
            self._add_found(self._state.finish(self.index), sources)
            self._state = _core.CheckState()
        report = self._report
        report.errors.sort(key=lambda p: p.row)
        report.warnings.sort(key=lambda p: p.row)
        return report


def validate(
    items: Iterable[Item],
    ontology: Optional[Union[Ontology, OntologyLike]] = None,
    **options: Unpack[CheckOptions],
) -> Report:
    """Checks predictions (typed Labels, NDJSON-shaped dicts, columnar batches, mixed)
    and returns a :class:`Report` of every problem; nothing is written.

    Without ``ontology`` only the predictions themselves are checked (what ``dumps``
    refuses). With one, also: every tool, classification and answer exists (by name
    or schema id), at the place the ontology puts it, at any depth; geometries fit
    their tools; answers fit their question's type; names and schema ids agree;
    required classifications are there (per object, per chosen answer and, with
    ``required=True``, global ones per data row). ``report.raise_for_errors()`` turns
    it into ``lbfast.ValidationError``. The other keywords are ``lbfast.dumps``'s.
    """
    v = Validator(ontology, **options)
    v.check(items)
    return v.finish()


def validate_files(
    paths: Iterable[PathLike],
    ontology: Optional[Union[Ontology, OntologyLike]] = None,
    *,
    progress: Optional[Callable[[int], None]] = None,
    **options: Unpack[CheckOptions],
) -> Report:
    """Checks NDJSON files of predictions (gzip-compressed or not, or JSON arrays of
    them) as one job; NDJSON is read by the core, in blocks, in bounded memory.

    Problems carry ``source`` = ``file:line``; a file without predictions is a
    warning (kind ``empty_input``). ``progress(n)`` is told of every ``n``
    bytes read. The other keywords are ``lbfast.dumps``'s.
    """
    v = Validator(ontology, **options)
    sources = SourceLines()
    for path in paths:
        name = os.fspath(path)
        if not is_json_array(path):
            rows = v.rows
            for block, first_line in ndjson_file_blocks(path, on_bytes=progress):
                v.check_ndjson(block, name=name, sources=sources, first_line=first_line, last=False)
            v.check_ndjson(b"", name=name, sources=sources)  # the file's last Label
            if v.rows == rows:
                v.add_problem(empty_file(path, v.rows))
            continue
        # One JSON array of dicts (rare, and small): read in Python.
        empty = True
        for chunk, lines, bad in chunked(read_predictions(path, on_bytes=progress)):
            empty = False
            if chunk:
                sources.add(v.rows, os.fspath(path), lines)
                v.check(chunk, sources=sources)
            if bad is not None:
                line, err = bad
                sources.add(v.rows, os.fspath(path), [line])
                v.add_problem(Problem(v.rows, "", str(err), UNREADABLE, source=f"{path}:{line}"))
                v.skip()
        if empty:
            v.add_problem(empty_file(path, v.rows))
    return v.finish(sources=sources)
