"""What the ``lbfast`` command prints: the progress line, reports, and counts."""

from __future__ import annotations

import os
import time
from typing import IO, Optional

from lbfast.ontology import Report
from lbfast.ontology.report import counted

__all__ = ["Progress", "counted", "print_report", "silence"]


class Progress:
    """One self-rewriting line on stderr: ``label  12.3/40.0 MB  31%  1.2 s``.

    Silent unless ``enabled`` (by default: stderr is a terminal). Redrawn at most
    ten times a second; ``close()`` ends the line.
    """

    def __init__(
        self, label: str, total: Optional[int], enabled: Optional[bool], stream: IO[str]
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.start = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        text = f"{self.label}  {self.done / 1e6:,.1f}"
        if self.total:
            share = min(100, 100 * self.done // max(1, self.total))
            text += f"/{self.total / 1e6:,.1f} MB  {share:3d}%"
        else:
            text += " MB"
        text += f"  {now - self.start:,.1f} s"
        self.stream.write("\r" + text.ljust(60))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()


def print_report(report: Report, out: IO[str], max_listed: int) -> None:
    """The errors, then the warnings (``max_listed`` in all), then the summary."""
    listed = [("error", p) for p in report.errors] + [("warning", p) for p in report.warnings]
    for severity, problem in listed[:max_listed]:
        print(f"{severity}: {problem}", file=out)
    if len(listed) > max_listed:
        more = len(listed) - max_listed
        print(f"... {more:,} more listed with --max-listed {len(listed)} or --json", file=out)
    print(report.summary(), file=out)


def silence(stream: IO[str]) -> None:
    """Points a closed pipe at /dev/null, so that flushing it at exit does not fail."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
