"""Options shared by the commands, and the type of a positive whole number."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

    #: What ``ArgumentParser.add_subparsers`` returns; each command adds itself to it.
    Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def positive(text: str) -> int:
    """An option's value that must be a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def add_common(p: argparse.ArgumentParser) -> None:
    """The options of ``validate`` and ``convert``."""
    p.add_argument(
        "--ontology",
        metavar="JSON",
        help="ontology JSON (as exported from Labelbox, or OntologyBuilder.asdict())",
    )
    p.add_argument(
        "--no-required",
        dest="required",
        action="store_false",
        help="do not require the ontology's required classifications",
    )
    p.add_argument(
        "--max-listed",
        type=positive,
        default=50,
        metavar="N",
        help="problems to print (default 50)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress line on stderr (default: when stderr is a terminal)",
    )
