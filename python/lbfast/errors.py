"""The one error model: every problem of a check or a write is a :class:`Problem`.

A problem has a stable machine code (``kind``, such as ``unknown_tool``; ``invalid``
for problems of the predictions themselves), the input item it is in (``row``), the
field inside it (``path``), a ``message``, an optional ``suggestion`` and a
``severity``. ``ValidationError.errors()`` and :class:`lbfast.Report` give the same
values, as :class:`ErrorDetail` dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypedDict

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

    from lbfast.ontology.report import Report

Severity: TypeAlias = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

#: A problem as the Rust binding gives it: (kind, row, path, message, suggestion, severity).
ProblemTuple: TypeAlias = tuple[str, int, str, str, Optional[str], str]

#: The kind of a problem of the predictions themselves (no ontology needed).
INVALID = "invalid"
#: The kind of an input line that could not be read.
UNREADABLE = "unreadable"
#: The kind of the warning about an input file that holds no predictions.
EMPTY_INPUT = "empty_input"
#: The kind of a shard over the SDK's per-data-row limit (see ``lbfast.ShardWriter``).
PER_DATA_ROW_LIMIT = "per_data_row_limit"


class ErrorDetail(TypedDict):
    """One problem, as ``ValidationError.errors()`` and ``Report`` give it."""

    kind: str
    row: int
    path: str
    message: str
    suggestion: Optional[str]
    severity: Severity


class OntologyWarning(UserWarning):
    """Predictions were amended to fit the ontology (see :class:`Report.warnings`)."""


def _severity(value: str) -> Severity:
    for severity in SEVERITIES:
        if value == severity:
            return severity
    raise ValueError(f"a problem's severity is 'error' or 'warning', got {value!r}")


@dataclass(frozen=True)
class Problem:
    """One problem: which input item (``row``; ``source`` is ``file:line`` for files),
    where inside it (``path``), what (``kind``, ``message``) and a likely fix."""

    row: int
    path: str
    message: str
    kind: str = INVALID
    suggestion: Optional[str] = None
    severity: Severity = "error"
    source: Optional[str] = None

    @classmethod
    def of(cls, found: ProblemTuple, source: Optional[str] = None) -> Problem:
        """A problem from the binding's tuple."""
        kind, row, path, message, suggestion, severity = found
        return cls(row, path, message, kind, suggestion, _severity(severity), source)

    def detail(self) -> ErrorDetail:
        return {
            "kind": self.kind,
            "row": self.row,
            "path": self.path,
            "message": self.message,
            "suggestion": self.suggestion,
            "severity": self.severity,
        }

    def as_tuple(self) -> ProblemTuple:
        return (self.kind, self.row, self.path, self.message, self.suggestion, self.severity)

    def __str__(self) -> str:
        where = self.source or f"row {self.row}"
        path = f"{self.path}: " if self.path else ""
        fix = f" ({self.suggestion})" if self.suggestion else ""
        return f"{where}: {path}{self.message}{fix}"

    def to_dict(self) -> dict[str, Any]:
        """The :class:`ErrorDetail` and the ``source``, for JSON reports."""
        return {**self.detail(), "source": self.source}


class ValidationError(ValueError):
    """Predictions that cannot be written; lists every problem of the batch at once.

    ``errors()`` gives them as :class:`ErrorDetail` dicts: ``kind``, ``row`` (index of
    the input item: a Label, a dict or a columnar row), ``path`` (field inside it, such
    as ``annotations[3].value.points[1].x``), ``message``, ``suggestion`` and
    ``severity``. ``report`` is the :class:`lbfast.Report` it was raised for, if any.
    """

    # How many problems the message shows; errors() always has them all.
    MAX_SHOWN = 50

    def __init__(
        self,
        errors: Iterable[ProblemTuple],
        *,
        report: Optional[Report] = None,
        sources: Optional[Callable[[int], Optional[str]]] = None,
    ) -> None:
        # ``sources(row)`` names where a row came from (``line 3``, ``file:3``).
        self._problems = [
            Problem.of(found, sources(found[1]) if sources else None) for found in errors
        ]
        self.report = report
        super().__init__(self._render())

    def errors(self) -> list[ErrorDetail]:
        return [p.detail() for p in self._problems]

    def _render(self) -> str:
        count = len(self._problems)
        rows = len({p.row for p in self._problems})
        noun = "problem" if count == 1 else "problems"
        lines = [f"{count} {noun} in {rows} of the predictions' rows:"]
        for p in self._problems[: self.MAX_SHOWN]:
            where = f"{p.path}: " if p.path else ""
            fix = f"; {p.suggestion}" if p.suggestion else ""
            lines.append(f"  {p.source or f'row {p.row}'}: {where}{p.message}{fix}")
        if count > self.MAX_SHOWN:
            lines.append(f"  ... and {count - self.MAX_SHOWN} more (see .errors())")
        return "\n".join(lines)


class FieldTypeError(TypeError):
    """A value of the wrong Python type, at ``row`` and ``path`` (``message`` says what
    was expected and what was given). ``_core.check`` reports it as a problem of kind
    ``type``; ``dumps`` raises it."""

    def __init__(self, row: int, path: str, message: str) -> None:
        self.row = row
        self.path = path
        self.message = message
        where = f" {path}:" if path else ""
        super().__init__(f"row {row}:{where} {message}")

    def __reduce__(self) -> tuple[type[FieldTypeError], tuple[int, str, str]]:
        return (FieldTypeError, (self.row, self.path, self.message))
