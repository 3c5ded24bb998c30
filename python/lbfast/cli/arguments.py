"""The command line's parser: the commands and their options."""

from __future__ import annotations

import argparse

import lbfast
from lbfast.cli import bench, convert, validate

NUMBERING = (
    "Rows count from 0, as in the Python API (row 0 is the first item; a columnar batch "
    "takes one row per prediction); lines of a file count from 1 and are shown as "
    "file:line."
)
EXIT_CODES = (
    "Exit codes: 0 done (warnings allowed, such as an input file without predictions), "
    "1 problems in the predictions (convert writes nothing), 2 usage error (a missing "
    "file, a bad option, an unusable ontology)."
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lbfast",
        description="Labelbox import NDJSON from model predictions: convert, validate, benchmark.",
        epilog=f"{NUMBERING} {EXIT_CODES}",
    )
    p.add_argument("--version", action="version", version=f"lbfast {lbfast.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (validate, convert, bench):
        command.register(sub)
    return p
