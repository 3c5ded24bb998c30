"""``lbfast convert``: COCO results or NDJSON-shaped JSON/JSONL to Labelbox import
NDJSON, checked and written in one pass; nothing is kept when anything is wrong."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Optional

from lbfast.cli import tables
from lbfast.cli.coco import Chunk, Dataset, Locations
from lbfast.cli.errors import OK, PROBLEMS, UsageError
from lbfast.cli.inputs import Values, existing, is_coco_result, load_ontology, opened, total_size
from lbfast.cli.options import add_common, positive
from lbfast.cli.output import Progress, counted, print_report
from lbfast.cli.sink import Output
from lbfast.errors import PER_DATA_ROW_LIMIT, UNREADABLE, Problem, ValidationError
from lbfast.ontology import CHUNK_LINES, Ontology, Report, SourceLines, Validator, empty_file
from lbfast.ontology.files import NdjsonText, chunked, is_json_array, ndjson_file_blocks
from lbfast.ontology.validate import Locate
from lbfast.writer import DEFAULT_MAX_BYTES, DEFAULT_MAX_MASKS, DEFAULT_MAX_ROWS

if TYPE_CHECKING:
    from lbfast._core import Encoded
    from lbfast.cli.options import Subcommands


class Conversion:
    """Reads the input files in order, and checks and writes their predictions a piece
    at a time, each read and checked once: NDJSON text a block at a time by the core
    (``Validator.encode_ndjson``), COCO results and JSON arrays a chunk of values at a
    time (``Validator.encode``). After the first error nothing more is written; the
    rest is only checked, so that every problem is reported."""

    def __init__(self, args: argparse.Namespace, onto: Optional[Ontology], sink: Output) -> None:
        self.args = args
        self.validator = Validator(
            onto, required=args.required, resolve_schema_ids=args.resolve_schema_ids
        )
        self.sources = SourceLines()
        self.sink = sink
        self.skipped = 0
        self._dataset: Optional[Dataset] = None

    def file(self, path: Path, progress: Progress) -> None:
        first, values = opened(path, progress)
        if first is None:
            self.validator.add_problem(empty_file(path, self.validator.rows))
            return
        coco = self.args.format == "coco" or (self.args.format == "auto" and is_coco_result(first))
        if coco:
            self._coco(str(path), values)
        elif is_json_array(path):
            self._array(str(path), values)
        else:
            del values  # only its first line was read (and is closed): the core reads the text
            self._ndjson(path, progress)

    def finish(self) -> Report:
        return self.validator.finish(sources=self.sources)

    # --- the two formats ------------------------------------------------------------

    def _ndjson(self, path: Path, progress: Progress) -> None:
        """NDJSON text, read, checked and written by the core a block at a time (a
        block's last Label held for the next, so that its relationships are linked)."""
        name = str(path)
        for block, first_line in ndjson_file_blocks(path, on_bytes=progress):
            self._send_text(name, block, first_line, last=False)
        self._send_text(name, b"", 1, last=True)

    def _array(self, name: str, values: Values) -> None:
        for chunk, lines, bad in chunked(values):
            self._send(name, chunk, lines)
            if bad is not None:
                self._refuse(name, bad[0], str(bad[1]))

    def _coco(self, name: str, values: Values) -> None:
        chunk = Chunk(self.dataset(name), self.args.geometry, self.args.min_score)
        for line, value in values:
            problem = str(value) if isinstance(value, ValueError) else chunk.add(line, value)
            if problem is not None:
                self._send_coco(name, chunk)
                self._refuse(name, line, problem)
            elif len(chunk.entries) >= CHUNK_LINES:
                self._send_coco(name, chunk)
        self._send_coco(name, chunk)
        self.skipped += chunk.skipped

    def dataset(self, name: str) -> Dataset:
        """The ``--coco-dataset``, read when the first COCO file needs it."""
        if self._dataset is None:
            if self.args.coco_dataset is None:
                raise UsageError(
                    f"{name} holds COCO results: they need --coco-dataset (the file with "
                    "images and categories)"
                )
            (path,) = existing([self.args.coco_dataset], "COCO dataset")
            self._dataset = Dataset.load(path, self.args.global_key)
        return self._dataset

    def _send_coco(self, name: str, chunk: Chunk) -> None:
        if not chunk.entries:
            return
        located, lines, left_out = chunk.take()
        locations = Locations(name, self.validator.rows, located, lines)
        self._send(name, [batch for batch, _ in located], locations.row_lines(), locations)
        for line, problem in left_out:
            self._refuse(name, line, problem)

    # --- checking and writing -------------------------------------------------------

    def _send(
        self, name: str, items: list[Any], lines: list[int], locate: Optional[Locate] = None
    ) -> None:
        """Checks ``items`` (whose rows came from ``lines`` of ``name``) and, while
        nothing has been wrong, writes them."""
        if not items:
            return
        self.sources.add(self.validator.rows, name, lines)
        if not self.validator.ok:
            self.validator.check(items, sources=self.sources, locate=locate)
            return
        encoded = self.validator.encode(items, sources=self.sources, locate=locate)
        if encoded is not None:
            self._write(encoded)

    def _send_text(self, name: str, block: NdjsonText, first_line: int, *, last: bool) -> None:
        """Checks NDJSON ``block`` (from ``first_line`` of ``name``) and, while nothing
        has been wrong, writes it."""
        v = self.validator
        if not v.ok:
            v.check_ndjson(block, name=name, sources=self.sources, first_line=first_line, last=last)
            return
        encoded = v.encode_ndjson(
            block, name=name, sources=self.sources, first_line=first_line, last=last
        )
        if encoded is not None:
            self._write(encoded)

    def _write(self, encoded: Encoded) -> None:
        try:
            self.sink.write(encoded)
        except ValidationError as e:
            # A shard over the per-data-row limit: reported like the rest.
            for p in e.errors():
                self.validator.add_problem(
                    Problem(self.validator.rows, p["path"], p["message"], PER_DATA_ROW_LIMIT)
                )

    def _refuse(self, name: str, line: int, problem: str) -> None:
        """Reports a value that could not be read or converted, at its line."""
        self.sources.add(self.validator.rows, name, [line])
        self.validator.add_problem(
            Problem(self.validator.rows, "", problem, UNREADABLE, source=f"{name}:{line}")
        )
        self.validator.skip()


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    paths = existing(args.inputs, "input")
    if tables.is_table_input(args, paths):
        return tables.run(args, paths, out)
    onto = load_ontology(args.ontology)
    if args.resolve_schema_ids and onto is None:
        raise UsageError("--resolve-schema-ids needs --ontology")
    missing = onto.features_without_schema_id() if onto is not None else []
    if args.resolve_schema_ids and missing:
        raise UsageError(
            f"--resolve-schema-ids: {len(missing):,} features of the ontology have no "
            f"featureSchemaId (e.g. {missing[0]}); use the ontology as exported from Labelbox"
        )
    sink = Output(args)
    conversion = Conversion(args, onto, sink)
    progress = Progress("converting", total_size(paths), args.progress, err)
    started = time.perf_counter()
    try:
        for path in paths:
            conversion.file(path, progress)
        report = conversion.finish()
    except BaseException:
        sink.discard()
        raise
    finally:
        progress.close()
    elapsed = time.perf_counter() - started
    if not report.ok:
        sink.discard()
        print_report(report, out, args.max_listed)
        print(f"nothing written: fix the problems above (or see --help). {elapsed:.2f} s", file=out)
        return PROBLEMS
    try:
        manifest = sink.commit()
    except ValidationError as e:
        sink.discard()
        for problem in e.errors():
            print(f"error: {problem['path']}: {problem['message']}", file=out)
        print("nothing written: the last shard is over the per-data-row limit", file=out)
        return PROBLEMS
    if report.warnings:
        print_report(report, out, args.max_listed)
    _print_written(manifest, out)
    text = (
        f"converted {counted(report.annotations, 'prediction')} from {counted(len(paths), 'file')}"
    )
    if conversion.skipped:
        text += f" ({conversion.skipped:,} below --min-score skipped)"
    text += f" in {elapsed:.2f} s"
    if elapsed >= 0.05:
        text += f" ({report.annotations / elapsed:,.0f} rows/s)"
    print(text, file=out)
    return OK


def _print_written(manifest: dict[str, Any], out: IO[str]) -> None:
    """Each shard (the first ten), with the bytes of its file (compressed, if it is)."""
    shards: Sequence[dict[str, Any]] = manifest["shards"]
    for shard in shards[:10]:
        text = f"wrote {shard['path']}: {counted(shard['rows'], 'row')}, {counted(shard['written'], 'byte')}"
        if shard["written"] != shard["bytes"]:
            text += f" ({shard['bytes']:,} uncompressed)"
        print(text, file=out)
    if len(shards) > 10:
        print(f"... and {len(shards) - 10:,} more shards", file=out)
    if len(shards) > 1:
        print(
            f"{counted(len(shards), 'shard')}, {counted(manifest['rows'], 'row')}, "
            f"{counted(manifest['written'], 'byte')}",
            file=out,
        )


def register(sub: Subcommands) -> None:
    """Adds the command to the subcommands ``sub``."""
    c = sub.add_parser(
        "convert",
        help="COCO results, NDJSON-shaped JSON/JSONL, Parquet or Arrow tables to Labelbox "
        "import NDJSON",
        description="Convert COCO detection results (with --coco-dataset for the category "
        "names and image file names) or NDJSON-shaped JSON/JSONL into validated Labelbox "
        "import NDJSON. The format is decided per file, from its first value. Nothing is "
        "written when any prediction has a problem.",
    )
    c.add_argument("inputs", nargs="+", metavar="INPUT")
    where = c.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="FILE", help="one NDJSON file")
    where.add_argument(
        "--out-dir",
        metavar="DIR",
        help="NDJSON shards in DIR, each capped by --max-rows/--max-bytes/--max-masks "
        "(one import job each)",
    )
    for option, default, more in (
        ("--max-rows", DEFAULT_MAX_ROWS, ""),
        ("--max-bytes", DEFAULT_MAX_BYTES, ", uncompressed"),
        ("--max-masks", DEFAULT_MAX_MASKS, ", Labelbox's advice"),
    ):
        c.add_argument(
            option, type=positive, default=default, metavar="N",
            help=f"per shard (default {default:,}{more})",
        )  # fmt: skip
    c.add_argument("--gzip", action="store_true", help="gzip the shards (.ndjson.gz)")
    c.add_argument("--prefix", default="predictions", help="shard names: PREFIX-00000.ndjson, ...")
    c.add_argument(
        "--format",
        choices=["auto", "coco", "ndjson", "parquet", "arrow"],
        default="auto",
        help="auto (default): Parquet (.parquet) and Arrow IPC (.arrow, .feather, .ipc) by "
        "the name; else a file whose first value is a COCO result is COCO results",
    )
    c.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="KEY=COLUMN",
        help="Parquet/Arrow inputs: which column is what, as lbfast.arrow.ColumnMap's "
        "fields (global_key=, feature=, box=X1,Y1,X2,Y2, confidence=, box_format=xywh, "
        "...); repeatable",
    )
    c.add_argument(
        "--coco-dataset", metavar="JSON", help="COCO dataset file with images and categories"
    )
    c.add_argument(
        "--global-key",
        choices=["file_name", "stem", "id"],
        default="file_name",
        help="what of a COCO image is its Labelbox global key (default file_name)",
    )
    c.add_argument(
        "--min-score", type=float, default=0.0, help="skip COCO results scored below this"
    )
    c.add_argument(
        "--geometry",
        choices=["bbox", "segmentation", "both"],
        default="bbox",
        help="COCO: write the boxes, the segmentations (RLE as masks, polygons as polygons, "
        "in input order), or both (per block of entries, the boxes then the segmentations)",
    )
    c.add_argument(
        "--resolve-schema-ids",
        action="store_true",
        help="write each feature's schemaId from the ontology (needs an exported ontology)",
    )
    add_common(c)
    c.set_defaults(run=run)
