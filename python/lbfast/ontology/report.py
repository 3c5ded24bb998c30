"""The report of a check: every problem, and counts of them by kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lbfast.errors import ErrorDetail, Problem, ValidationError

#: What a report keeps listing of its errors and of its warnings; every problem is counted.
MAX_LISTED = 1000


@dataclass
class Report:
    """Every problem of a check: ``errors`` and ``warnings`` (the first
    :data:`MAX_LISTED` of each, in row order) and ``counts`` of all errors by kind."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warning_counts: dict[str, int] = field(default_factory=dict)
    annotations: int = 0
    items: int = 0

    @property
    def ok(self) -> bool:
        return not self.counts

    @property
    def error_count(self) -> int:
        return sum(self.counts.values())

    @property
    def warning_count(self) -> int:
        return sum(self.warning_counts.values())

    def error_details(self) -> list[ErrorDetail]:
        """The errors as ``ValidationError.errors()`` gives them."""
        return [p.detail() for p in self.errors]

    def warning_details(self) -> list[ErrorDetail]:
        """The warnings, in the same form."""
        return [p.detail() for p in self.warnings]

    def raise_for_errors(self) -> None:
        """Raises ``lbfast.ValidationError`` (with ``.report``) when there are errors;
        its ``errors()`` are this report's :meth:`error_details`."""
        if not self.ok:
            raise ValidationError([p.as_tuple() for p in self.errors], report=self)

    def summary(self) -> str:
        """``1,200 items, 1,200 annotations: 2 errors (confidence: 2), 0 warnings``:
        every count with thousands separators."""

        def kinds(counts: dict[str, int]) -> str:
            ordered = sorted(counts.items(), key=lambda kv: -kv[1])
            return ", ".join(f"{k}: {n:,}" for k, n in ordered)

        text = (
            f"{counted(self.items, 'item')}, {counted(self.annotations, 'annotation')}: "
            f"{counted(self.error_count, 'error')}"
        )
        if self.counts:
            text += f" ({kinds(self.counts)})"
        text += f", {counted(self.warning_count, 'warning')}"
        if self.warning_counts:
            text += f" ({kinds(self.warning_counts)})"
        return text

    def __str__(self) -> str:
        lines = [str(p) for p in self.errors]
        lines += [f"warning: {p}" for p in self.warnings]
        return "\n".join([*lines, self.summary()])

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "items": self.items,
            "annotations": self.annotations,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "counts": dict(self.counts),
            "warning_counts": dict(self.warning_counts),
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
        }


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun`` as every count is printed: ``1 file``, ``12,345 rows``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
