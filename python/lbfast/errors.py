"""The exceptions for predictions that cannot be written."""

from __future__ import annotations

from typing import Optional, TypedDict


class ErrorDetail(TypedDict):
    """One problem: its stable machine code (``kind``), which input item (``row``),
    where inside it (``path``), why (``message``), a likely fix (``suggestion``) and
    whether it stops the writing (``severity``: ``"error"`` or ``"warning"``)."""

    kind: str
    row: int
    path: str
    message: str
    suggestion: Optional[str]
    severity: str


# (kind, row, path, message, suggestion, severity), as the core reports a problem.
ProblemTuple = tuple[str, int, str, str, Optional[str], str]


def detail(problem: ProblemTuple) -> ErrorDetail:
    """The dict form of one problem as the core reports it."""
    kind, row, path, message, suggestion, severity = problem
    return {
        "kind": kind,
        "row": row,
        "path": path,
        "message": message,
        "suggestion": suggestion,
        "severity": severity,
    }


def describe(e: ErrorDetail) -> str:
    """``row 3: bbox.top: message; suggestion``."""
    where = f"{e['path']}: " if e["path"] else ""
    fix = f"; {e['suggestion']}" if e["suggestion"] else ""
    return f"row {e['row']}: {where}{e['message']}{fix}"


class ValidationError(ValueError):
    """Predictions that cannot be written; lists every problem of the batch at once.

    ``errors()`` gives them as :class:`ErrorDetail` dicts: ``kind`` (a stable code such
    as ``confidence`` or ``unknown_tool``), ``row`` (index of the input item: a Label,
    a dict or a columnar row), ``path`` (field inside it, such as
    ``annotations[3].value.points[1].x``), ``message``, ``suggestion`` and ``severity``.
    """

    # How many problems the message shows; errors() always has them all.
    MAX_SHOWN = 50

    def __init__(self, errors: list[ProblemTuple]) -> None:
        self._errors: list[ErrorDetail] = [detail(e) for e in errors]
        super().__init__(self._render())

    def errors(self) -> list[ErrorDetail]:
        return [ErrorDetail(**e) for e in self._errors]

    def _render(self) -> str:
        count = len(self._errors)
        rows = len({e["row"] for e in self._errors})
        noun = "problem" if count == 1 else "problems"
        lines = [f"{count} {noun} in {rows} of the predictions' rows:"]
        lines += [f"  {describe(e)}" for e in self._errors[: self.MAX_SHOWN]]
        if count > self.MAX_SHOWN:
            lines.append(f"  ... and {count - self.MAX_SHOWN} more (see .errors())")
        return "\n".join(lines)


class FieldTypeError(TypeError):
    """A value of the wrong Python type, at ``row`` and ``path`` (``message`` says what
    was expected and what was given)."""

    def __init__(self, row: int, path: str, message: str) -> None:
        self.row = row
        self.path = path
        self.message = message
        where = f" {path}:" if path else ""
        super().__init__(f"row {row}:{where} {message}")

    def __reduce__(self) -> tuple[type[FieldTypeError], tuple[int, str, str]]:
        return (FieldTypeError, (self.row, self.path, self.message))
