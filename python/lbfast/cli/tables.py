"""``lbfast convert`` of Parquet and Arrow IPC files: read a record batch at a time
through the Arrow entrance (``lbfast.arrow``), with the column map given as ``--map``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from lbfast.cli.errors import OK, PROBLEMS, UsageError
from lbfast.cli.inputs import load_ontology
from lbfast.cli.output import counted
from lbfast.cli.sink import Output
from lbfast.errors import ValidationError
from lbfast.options import Options
from lbfast.tables import batches, column_map, table_format


def is_table_input(args: argparse.Namespace, paths: Sequence[Path]) -> bool:
    """Whether the inputs are tables: by ``--format``, else by the first file's name."""
    if args.format in ("parquet", "arrow"):
        return True
    return bool(args.format == "auto" and paths and table_format(paths[0]) is not None)


def run(args: argparse.Namespace, paths: Sequence[Path], out: IO[str]) -> int:
    """Converts the table files ``paths`` into the output ``args`` names."""
    onto = load_ontology(args.ontology)
    if args.resolve_schema_ids and onto is None:
        raise UsageError("--resolve-schema-ids needs --ontology")
    if not args.map:
        raise UsageError(
            "Parquet and Arrow inputs need the column map, e.g. --map global_key=image "
            "--map feature=label --map box=x1,y1,x2,y2 --map confidence=score"
        )
    try:
        spec = column_map(args.map)
    except (ValueError, TypeError) as e:
        raise UsageError(str(e)) from e
    options: Options = {}
    if onto is not None:
        options = {
            "ontology": onto,
            "required": args.required,
            "resolve_schema_ids": args.resolve_schema_ids,
        }
    sink = Output(args, options)
    started = time.perf_counter()
    rows = 0
    try:
        for path in paths:
            fmt = table_format(path) if args.format == "auto" else args.format
            try:
                for batch in batches(path, fmt or "parquet"):
                    rows += sink.writer.write_arrow(batch, spec, start=rows)
            except ValidationError as e:
                sink.discard()
                print(f"{path}: {e}", file=out)
                print("nothing written: fix the problems above (or see --help).", file=out)
                return PROBLEMS
            except (ImportError, TypeError) as e:
                raise UsageError(f"{path}: {e}") from e
            except (OSError, ValueError) as e:
                sink.discard()
                print(f"{path}: cannot be read as {fmt}: {e}", file=out)
                return PROBLEMS
        manifest = sink.commit()
    except BaseException:
        sink.discard()
        raise
    elapsed = time.perf_counter() - started
    for shard in manifest["shards"][:10]:
        written = f"{counted(shard['rows'], 'row')}, {counted(shard['written'], 'byte')}"
        print(f"wrote {shard['path']}: {written}", file=out)
    tables = counted(len(paths), "table file")
    print(f"converted {counted(rows, 'row')} from {tables} in {elapsed:.2f} s", file=out)
    return OK
