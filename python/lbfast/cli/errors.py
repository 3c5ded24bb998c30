"""Exit codes of the ``lbfast`` command, and the error of an unusable command line."""

from __future__ import annotations

#: Done (warnings allowed; an empty input file is a warning).
OK = 0
#: The predictions have problems (``convert`` writes nothing).
PROBLEMS = 1
#: The command line or an input file is unusable.
USAGE = 2
#: Interrupted (Ctrl-C), as a shell reports SIGINT.
INTERRUPTED = 130
#: stdout was closed, as a shell reports SIGPIPE.
CLOSED_PIPE = 128 + 13


class UsageError(Exception):
    """A command line or input file that cannot be used (exit code 2)."""
