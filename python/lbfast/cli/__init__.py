"""The ``lbfast`` command (also ``python -m lbfast``).

    lbfast convert results.json --coco-dataset instances.json -o predictions.ndjson
    lbfast convert predictions.jsonl --ontology ontology.json -o predictions.ndjson
    lbfast validate predictions.ndjson --ontology ontology.json [--json]
    lbfast bench [--quick]

One module per command (:mod:`~lbfast.cli.convert`, :mod:`~lbfast.cli.validate`,
:mod:`~lbfast.cli.bench`); the parser (:mod:`~lbfast.cli.arguments`), the shared
options, exit codes, inputs and output each have their own.

Exit codes: 0 done (warnings allowed; an input file without predictions is a warning),
1 the predictions have problems (nothing is written by ``convert``), 2 the command
line or an input file is unusable. Rows count from 0, lines of a file from 1
(``file:line``). Progress goes to stderr while stderr is a terminal (``--progress``
forces it); reports and summaries go to stdout.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Optional

from lbfast.cli.arguments import parser
from lbfast.cli.errors import CLOSED_PIPE, INTERRUPTED, USAGE, UsageError
from lbfast.cli.output import silence

__all__ = ["main", "run"]


def main(
    argv: Optional[Sequence[str]] = None,
    *,
    stdout: Optional[IO[str]] = None,
    stderr: Optional[IO[str]] = None,
) -> int:
    """Runs the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        with contextlib.redirect_stderr(err):  # usage errors go where the caller asked
            args = parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return int(args.run(args, out, err))
    except BrokenPipeError:  # before OSError, of which it is a kind
        silence(out)
        return CLOSED_PIPE  # as if killed by SIGPIPE
    except (UsageError, OSError) as e:
        print(f"lbfast {args.command}: error: {e}", file=err)
        return USAGE
    except KeyboardInterrupt:
        print(f"lbfast {args.command}: interrupted; nothing written", file=err)
        return INTERRUPTED


def run(argv: Optional[Iterable[str]] = None) -> None:
    sys.exit(main(list(argv) if argv is not None else None))
