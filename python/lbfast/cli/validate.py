"""``lbfast validate``: every problem of NDJSON prediction files, with ``file:line``."""

from __future__ import annotations

import argparse
import json
import time
from typing import IO, TYPE_CHECKING

from lbfast.cli.errors import OK, PROBLEMS
from lbfast.cli.inputs import existing, load_ontology, total_size
from lbfast.cli.options import add_common
from lbfast.cli.output import Progress, counted, print_report, silence
from lbfast.ontology import validate_files

if TYPE_CHECKING:
    from lbfast.cli.options import Subcommands


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    paths = existing(args.files, "file")
    onto = load_ontology(args.ontology)
    progress = Progress("validating", total_size(paths), args.progress, err)
    started = time.perf_counter()
    try:
        report = validate_files(paths, onto, required=args.required, progress=progress)
    finally:
        progress.close()
    elapsed = time.perf_counter() - started
    try:
        if args.json:
            data = report.to_dict()
            data["files"] = [str(p) for p in paths]
            data["ontology"] = args.ontology
            data["seconds"] = round(elapsed, 3)
            out.write(json.dumps(data, indent=2) + "\n")
        else:
            print_report(report, out, args.max_listed)
            print(f"checked {counted(len(paths), 'file')} in {elapsed:.2f} s", file=out)
        out.flush()
    except BrokenPipeError:
        # `lbfast validate ... | head`: the reader left; the verdict stands.
        silence(out)
    return OK if report.ok else PROBLEMS


def register(sub: Subcommands) -> None:
    """Adds the command to the subcommands ``sub``."""
    v = sub.add_parser(
        "validate",
        help="check NDJSON prediction files (against an ontology)",
        description="Check NDJSON prediction files (or JSON arrays of NDJSON-shaped dicts), "
        "optionally against an ontology, and report every problem with file:line and path.",
    )
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    add_common(v)
    v.set_defaults(run=run)
