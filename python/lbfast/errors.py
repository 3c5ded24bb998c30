"""The one exception for predictions that cannot be written."""

from __future__ import annotations

from typing import TypedDict


class ErrorDetail(TypedDict):
    """One problem: which input item, where inside it, and why."""

    row: int
    path: str
    message: str


class ValidationError(ValueError):
    """Predictions that cannot be written; lists every problem of the batch at once.

    ``errors()`` gives them as dicts with ``row`` (index of the input item: a Label,
    a dict or a columnar row), ``path`` (field inside it, such as
    ``annotations[3].value.points[1].x``) and ``message``.
    """

    # How many problems the message shows; errors() always has them all.
    MAX_SHOWN = 50

    def __init__(self, errors: list[tuple[int, str, str]]) -> None:
        self._errors: list[ErrorDetail] = [
            {"row": row, "path": path, "message": message} for row, path, message in errors
        ]
        super().__init__(self._render())

    def errors(self) -> list[ErrorDetail]:
        return [dict(e) for e in self._errors]  # type: ignore[misc]

    def _render(self) -> str:
        count = len(self._errors)
        rows = len({e["row"] for e in self._errors})
        noun = "problem" if count == 1 else "problems"
        lines = [f"{count} {noun} in {rows} of the predictions' rows:"]
        for e in self._errors[: self.MAX_SHOWN]:
            where = f"{e['path']}: " if e["path"] else ""
            lines.append(f"  row {e['row']}: {where}{e['message']}")
        if count > self.MAX_SHOWN:
            lines.append(f"  ... and {count - self.MAX_SHOWN} more (see .errors())")
        return "\n".join(lines)
