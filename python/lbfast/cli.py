"""The ``lbfast`` command (also ``python -m lbfast``).

    lbfast convert results.json --coco-dataset instances.json -o predictions.ndjson
    lbfast convert predictions.jsonl --ontology ontology.json -o predictions.ndjson
    lbfast validate predictions.ndjson --ontology ontology.json [--json]
    lbfast bench [--quick]

Exit codes: 0 done (warnings allowed), 1 the predictions have problems (nothing is
written by ``convert``), 2 the command line or an input file is unusable.
Progress goes to stderr while stderr is a terminal (``--progress`` forces it);
reports and summaries go to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Callable, Optional

import lbfast
from lbfast.errors import ValidationError
from lbfast.files import TEMPORARY_PREFIX, final_path, move_into_place, write_atomically
from lbfast.ontology import (
    CHUNK_LINES,
    UNREADABLE,
    Ontology,
    OntologyWarning,
    Problem,
    Report,
    Validator,
    _Sources,
    read_predictions,
    validate_files,
)
from lbfast.tables import batches, column_map, table_format
from lbfast.writer import DEFAULT_MAX_BYTES, DEFAULT_MAX_MASKS, DEFAULT_MAX_ROWS, ShardWriter

OK, PROBLEMS, USAGE = 0, 1, 2
# The kind of problem of a shard over the SDK's per-data-row limit.
LIMIT = "per_data_row_limit"


class UsageError(Exception):
    """A command line or input file that cannot be used (exit code 2)."""


# --- Progress ---------------------------------------------------------------------------


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
        mb = self.done / 1e6
        text = f"{self.label}  {mb:,.1f}"
        if self.total:
            text += f"/{self.total / 1e6:,.1f} MB  {min(100, 100 * self.done // max(1, self.total)):3d}%"
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


def _file_sizes(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def _existing(paths: Sequence[str], what: str) -> list[Path]:
    out = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise UsageError(f"{what} not found: {p}")
        out.append(path)
    return out


def _ontology(path: Optional[str]) -> Optional[Ontology]:
    if path is None:
        return None
    if not Path(path).is_file():
        raise UsageError(f"ontology not found: {path}")
    try:
        return Ontology.from_json(path)
    except (ValueError, TypeError) as err:
        raise UsageError(f"unusable ontology {path}: {err}") from err


# --- Reports ----------------------------------------------------------------------------


def _print_report(report: Report, out: IO[str], max_listed: int) -> None:
    shown = 0
    for p in report.errors:
        if shown == max_listed:
            break
        print(f"error: {p}", file=out)
        shown += 1
    for p in report.warnings:
        if shown == max_listed:
            break
        print(f"warning: {p}", file=out)
        shown += 1
    listed = len(report.errors) + len(report.warnings)
    if listed > shown:
        print(f"... {listed - shown} more listed with --max-listed {listed} or --json", file=out)
    print(report.summary(), file=out)


# --- validate ---------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    paths = _existing(args.files, "file")
    onto = _ontology(args.ontology)
    progress = Progress("validating", _file_sizes(paths), args.progress, err)
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
            _print_report(report, out, args.max_listed)
            print(
                f"checked {len(paths)} file{'s' if len(paths) != 1 else ''} in {elapsed:.2f} s",
                file=out,
            )
        out.flush()
    except BrokenPipeError:
        # `lbfast validate ... | head`: the reader left; the verdict stands.
        _silence(out)
    return OK if report.ok else PROBLEMS


# --- convert ----------------------------------------------------------------------------


def _coco_maps(dataset: Path, key: str) -> tuple[dict[Any, str], dict[Any, str]]:
    """``category id -> name`` and ``image id -> global key`` from a COCO dataset file."""
    try:
        with open(dataset, "rb") as f:
            data = json.load(f)
        categories = {c["id"]: c["name"] for c in data["categories"]}
        images = data["images"]
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{dataset} is not a COCO dataset file (images, categories): {e}") from e

    def global_key(image: dict[str, Any]) -> str:
        if key == "id":
            return str(image["id"])
        name = image["file_name"]
        return Path(name).stem if key == "stem" else name

    return categories, {im["id"]: global_key(im) for im in images}


def _is_coco_results(value: Any) -> bool:
    return isinstance(value, dict) and {"image_id", "category_id", "bbox"} <= value.keys()


class _Coco:
    """COCO results entries, checked against the dataset's maps and turned into
    columnar batches by ``lbfast.adapters.coco``."""

    def __init__(
        self, categories: dict[Any, str], images: dict[Any, str], args: argparse.Namespace
    ) -> None:
        self.categories = categories
        self.images = images
        self.min_score = args.min_score
        self.geometry = args.geometry
        self.skipped = 0
        self.kept: list[dict[str, Any]] = []
        self.where: list[tuple[str, int]] = []

    def add(self, name: str, line: int, entry: Any) -> Optional[str]:
        """Keeps ``entry``; returns what is wrong with it, if anything."""
        from lbfast.adapters.coco import entry_problem

        if not _is_coco_results(entry):
            return "not a COCO result (image_id, category_id, bbox)"
        problem = entry_problem(entry, self.geometry)
        if problem is not None:
            return problem
        score = entry.get("score")
        if score is not None and score < self.min_score:
            self.skipped += 1
            return None
        if entry["category_id"] not in self.categories:
            return f"category_id {entry['category_id']!r} is not in the COCO dataset's categories"
        if entry["image_id"] not in self.images:
            return f"image_id {entry['image_id']!r} is not in the COCO dataset's images"
        self.kept.append(entry)
        self.where.append((name, line))
        return None

    def batches(self) -> list[Any]:
        from lbfast.adapters.coco import from_results

        if not self.kept:
            return []
        try:
            return from_results(
                self.kept, categories=self.categories, images=self.images, geometry=self.geometry
            )
        except (ValueError, TypeError) as e:
            raise UsageError(f"COCO results: {e}") from e


class _Output:
    """Where ``convert`` writes: shards in a folder (``--out-dir``, capped per import
    job), or one file (``--output``: a single uncapped shard, renamed into place).
    Either way through ``lbfast.ShardWriter``: atomic shards, the per-data-row limit
    checked, and nothing left behind when the conversion fails."""

    def __init__(self, args: argparse.Namespace, onto: Optional[Ontology]) -> None:
        self.target: Optional[Path] = None
        caps: dict[str, Any] = {
            "max_rows": args.max_rows,
            "max_bytes": args.max_bytes,
            "max_masks": args.max_masks,
            "gzip": args.gzip,
            "prefix": args.prefix,
        }
        if args.output is not None:
            self.target = Path(args.output)
            if self.target.is_dir() or args.output.endswith(os.sep):
                raise UsageError(f"--output must be a file path, got the directory {args.output}")
            # The one shard is written beside what the path really names (a symlink's
            # target), under a short hidden name, then moved into place.
            directory = final_path(self.target).parent
            if not directory.is_dir():
                raise UsageError(f"--output {args.output}: no directory {self.target.parent}")
            big = sys.maxsize
            caps = {"max_rows": big, "max_bytes": big, "max_masks": big, "gzip": False}
            caps["prefix"] = f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}"
        else:
            directory = Path(args.out_dir)
        try:
            self.writer = ShardWriter(
                directory,
                ontology=onto,
                resolve_schema_ids=args.resolve_schema_ids,
                # Required classifications are checked across the whole input, beforehand.
                required=False,
                **caps,
            )
        except ValueError as err:
            raise UsageError(str(err)) from err

    def write(self, items: list[Any]) -> None:
        with warnings.catch_warnings():
            # The report lists amendments; no warning per chunk.
            warnings.simplefilter("ignore", OntologyWarning)
            self.writer.write(items)

    def commit(self) -> dict[str, Any]:
        manifest = self.writer.close().as_dict()
        if self.target is not None:
            shards = manifest["shards"]
            if shards:
                move_into_place(Path(shards[0]["path"]), self.target)
            else:
                write_atomically(self.target, b"")
                shards.append({"path": "", "rows": 0, "bytes": 0, "masks": 0})
            shards[0]["path"] = str(self.target)
        return manifest

    def discard(self) -> None:
        """Removes every shard (the writer has discarded an unfinished one)."""
        try:
            self.writer.close()
        except ValidationError:
            pass
        for path in self.writer.manifest.paths:
            Path(path).unlink(missing_ok=True)


def _inputs(
    paths: Sequence[Path], progress: Callable[[int], None]
) -> Iterator[tuple[str, int, Any]]:
    """``(file, line, value)`` of every input file (a ``ValueError`` for bad JSON)."""
    for path in paths:
        for line, value in read_predictions(path, on_bytes=progress):
            yield str(path), line, value


def _convert_tables(args: argparse.Namespace, paths: Sequence[Path], out: IO[str]) -> int:
    """Parquet and Arrow IPC inputs: read batch by batch through the Arrow entrance."""
    if args.ontology is not None:
        raise UsageError("--ontology is not supported for Parquet and Arrow inputs yet")
    if not args.map:
        raise UsageError(
            "Parquet and Arrow inputs need the column map, e.g. --map global_key=image "
            "--map feature=label --map box=x1,y1,x2,y2 --map confidence=score"
        )
    try:
        spec = column_map(args.map)
    except (ValueError, TypeError) as e:
        raise UsageError(str(e)) from e
    sink = _Output(args, None)
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
        print(f"wrote {shard['path']}: {shard['rows']:,} rows, {shard['bytes']:,} bytes", file=out)
    print(f"converted {rows:,} rows from {len(paths)} table file(s) in {elapsed:.2f} s", file=out)
    return OK


def cmd_convert(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    paths = _existing(args.inputs, "input")
    if args.format in ("parquet", "arrow") or (
        args.format == "auto" and table_format(paths[0]) is not None
    ):
        return _convert_tables(args, paths, out)
    onto = _ontology(args.ontology)
    if args.resolve_schema_ids and onto is None:
        raise UsageError("--resolve-schema-ids needs --ontology")
    if onto is not None and args.resolve_schema_ids and onto.features_without_schema_id():
        missing = onto.features_without_schema_id()
        raise UsageError(
            f"--resolve-schema-ids: {len(missing)} features of the ontology have no featureSchemaId "
            f"(e.g. {missing[0]}); use the ontology as exported from Labelbox"
        )
    coco = None
    fmt = args.format
    if fmt == "auto":
        fmt = "coco" if _first_is_coco(paths[0]) else "ndjson"
    if fmt == "coco":
        if args.coco_dataset is None:
            raise UsageError(
                "COCO results need --coco-dataset (the file with images and categories)"
            )
        categories, images = _coco_maps(
            _existing([args.coco_dataset], "COCO dataset")[0], args.global_key
        )
        coco = _Coco(categories, images, args)
    validator = Validator(onto, required=args.required)
    sources = _Sources()
    sink = _Output(args, onto)
    progress = Progress("converting", _file_sizes(paths), args.progress, err)
    started = time.perf_counter()
    try:
        chunk: list[Any] = []
        where: list[tuple[str, int]] = []

        def flush() -> None:
            if not chunk:
                return
            first = validator.rows
            for name, group in itertools.groupby(where, key=lambda w: w[0]):  # dict rows
                lines = [line for _, line in group]
                sources.add(first, name, lines)
                first += len(lines)
            failed_before = not validator.ok
            problems = validator.check(chunk, sources=sources)
            failed = any(p.severity == "error" for p in problems)
            if not (failed or failed_before):
                try:
                    sink.write(chunk)
                except ValidationError as e:
                    # A shard over the per-data-row limit: reported like the rest.
                    for problem in e.errors():
                        validator.add_problem(
                            Problem(validator.rows, problem["path"], problem["message"], LIMIT)
                        )
            chunk.clear()
            where.clear()

        for name, line, item in _inputs(paths, progress):
            problem = str(item) if isinstance(item, ValueError) else None
            if problem is None and coco is not None:
                problem = coco.add(name, line, item)
                if problem is None:
                    continue
            if problem is not None:
                flush()
                sources.add(validator.rows, name, [line])
                validator.add_problem(
                    Problem(validator.rows, "", problem, UNREADABLE, source=f"{name}:{line}")
                )
                validator.skip()
                continue
            chunk.append(item)
            where.append((name, line))
            if len(chunk) >= CHUNK_LINES:
                flush()
        flush()
        if coco is not None and validator.ok:
            # Columnar batches: the boxes' rows are the kept entries, in order.
            if coco.geometry != "segmentation":
                for name, group in itertools.groupby(coco.where, key=lambda w: w[0]):
                    lines = [line for _, line in group]
                    sources.add(validator.rows, name, lines)
            chunk.extend(coco.batches())
            flush()
        report = validator.finish(sources=sources)
    except BaseException:
        sink.discard()
        raise
    finally:
        progress.close()
    elapsed = time.perf_counter() - started
    if not report.ok:
        sink.discard()
        _print_report(report, out, args.max_listed)
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
        _print_report(report, out, args.max_listed)
    shards = manifest["shards"]
    for shard in shards[:10]:
        print(f"wrote {shard['path']}: {shard['rows']:,} rows, {shard['bytes']:,} bytes", file=out)
    if len(shards) > 10:
        print(f"... and {len(shards) - 10} more shards", file=out)
    if len(shards) > 1:
        print(
            f"{len(shards)} shards, {manifest['rows']:,} rows, {manifest['bytes']:,} bytes",
            file=out,
        )
    text = f"converted {report.annotations:,} predictions from {len(paths)} file{'s' if len(paths) != 1 else ''}"
    if coco and coco.skipped:
        text += f" ({coco.skipped:,} below --min-score skipped)"
    text += f" in {elapsed:.2f} s"
    if elapsed >= 0.05:
        text += f" ({report.annotations / elapsed:,.0f} rows/s)"
    print(text, file=out)
    return OK


def _first_is_coco(path: Path) -> bool:
    for _, value in read_predictions(path):
        return _is_coco_results(value)
    return False


# --- bench ------------------------------------------------------------------------------


def _compare_script() -> Optional[Path]:
    """``benches/compare.py`` of the checkout lbfast runs from, if there is one."""
    here = Path(lbfast.__file__).resolve().parent
    for root in (here.parent.parent, Path.cwd()):
        script = root / "benches" / "compare.py"
        if script.is_file():
            return script
    return None


def cmd_bench(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    script = None if args.builtin else _compare_script()
    # compare.py runs the official SDK and orjson side by side.
    peers = all(importlib.util.find_spec(m) is not None for m in ("labelbox", "orjson"))
    if script is not None and peers:
        cmd = [sys.executable, str(script), *(["--quick"] if args.quick else []), *args.extra]
        print(f"running {' '.join(cmd)}", file=err)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        out.write(proc.stdout)
        return OK if proc.returncode == 0 else PROBLEMS
    _builtin_bench(out, 20_000 if args.quick else 200_000)
    return OK


def _builtin_bench(out: IO[str], n: int) -> None:
    """lbfast (typed and dicts) against json.dumps of the same dicts, in this process."""
    import lbfast.types as t

    boxes = [(i % 1900, i % 1000, 10 + i % 50, 12 + i % 40, (i % 97) / 97) for i in range(n)]

    def typed() -> bytes:
        labels = []
        for g in range(0, n, 10):
            anns = [
                t.ObjectAnnotation(
                    name="box",
                    confidence=c,
                    value=t.Rectangle(start=t.Point(x=x, y=y), end=t.Point(x=x + w, y=y + h)),
                )
                for x, y, w, h, c in boxes[g : g + 10]
            ]
            labels.append(t.Label(data={"global_key": f"img-{g}"}, annotations=anns))
        return lbfast.dumps(labels)

    def dicts() -> list[dict[str, Any]]:
        return [
            {
                "name": "box",
                "confidence": c,
                "dataRow": {"globalKey": f"img-{i // 10 * 10}"},
                "bbox": {"top": float(y), "left": float(x), "height": float(h), "width": float(w)},
            }
            for i, (x, y, w, h, c) in enumerate(boxes)
        ]

    def plain_json() -> bytes:
        return "\n".join(json.dumps({**d, "uuid": str(uuid.uuid4())}) for d in dicts()).encode()

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("dicts + json.dumps (no validation)", plain_json),
        ("lbfast typed: build + dumps", typed),
        ("lbfast dicts: build + dumps", lambda: lbfast.dumps(dicts())),
    ]
    rows = []
    for name, fn in cases:
        best = min(_timed(fn) for _ in range(3))
        rows.append((name, n / best))
    base = rows[0][1]
    print(f"built-in benchmark: {n:,} boxes with confidence, best of 3", file=out)
    print(f"| {'case':<38} | {'rows/s':>12} | {'vs json':>7} |", file=out)
    print(f"|{'-' * 40}|{'-' * 14}:|{'-' * 8}:|", file=out)
    for name, rate in rows:
        print(f"| {name:<38} | {rate:>12,.0f} | {rate / base:>6.1f}x |", file=out)


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- Arguments --------------------------------------------------------------------------


def _positive(text: str) -> int:
    """An option's value that must be a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lbfast",
        description="Labelbox import NDJSON from model predictions: convert, validate, benchmark.",
        epilog="Exit codes: 0 ok, 1 problems in the predictions, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"lbfast {lbfast.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(p: argparse.ArgumentParser) -> None:
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
            "--max-listed", type=int, default=50, metavar="N", help="problems to print (default 50)"
        )
        p.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="progress line on stderr (default: when stderr is a terminal)",
        )

    v = sub.add_parser(
        "validate",
        help="check NDJSON prediction files (against an ontology)",
        description="Check NDJSON prediction files (or JSON arrays of NDJSON-shaped dicts), "
        "optionally against an ontology, and report every problem with file:line and path.",
    )
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    common(v)
    v.set_defaults(run=cmd_validate)

    c = sub.add_parser(
        "convert",
        help="COCO results, NDJSON-shaped JSON/JSONL, Parquet or Arrow tables to Labelbox import NDJSON",
        description="Convert COCO detection results (with --coco-dataset for the category names and "
        "image file names) or NDJSON-shaped JSON/JSONL into validated Labelbox import NDJSON. "
        "Nothing is written when any prediction has a problem.",
    )
    c.add_argument("inputs", nargs="+", metavar="INPUT")
    where = c.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="FILE", help="one NDJSON file")
    where.add_argument(
        "--out-dir",
        metavar="DIR",
        help="NDJSON shards in DIR, each capped by --max-rows/--max-bytes/--max-masks (one import job each)",
    )
    c.add_argument(
        "--max-rows",
        type=_positive,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"per shard (default {DEFAULT_MAX_ROWS:,})",
    )
    c.add_argument(
        "--max-bytes",
        type=_positive,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"per shard (default {DEFAULT_MAX_BYTES:,})",
    )
    c.add_argument(
        "--max-masks",
        type=_positive,
        default=DEFAULT_MAX_MASKS,
        metavar="N",
        help=f"per shard (default {DEFAULT_MAX_MASKS:,}, Labelbox's advice)",
    )
    c.add_argument("--gzip", action="store_true", help="gzip the shards (.ndjson.gz)")
    c.add_argument("--prefix", default="predictions", help="shard names: PREFIX-00000.ndjson, ...")
    c.add_argument(
        "--format",
        choices=["auto", "coco", "ndjson", "parquet", "arrow"],
        default="auto",
        help="auto: Parquet (.parquet) and Arrow IPC (.arrow, .feather, .ipc) by the name, "
        "else COCO or NDJSON by the content",
    )
    c.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="KEY=COLUMN",
        help="Parquet/Arrow inputs: which column is what, as lbfast.arrow.ColumnMap's fields "
        "(global_key=, feature=, box=X1,Y1,X2,Y2, confidence=, box_format=xywh, ...); repeatable",
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
        help="COCO: write the boxes, the segmentations (RLE as masks, polygons as polygons), or both",
    )
    c.add_argument(
        "--resolve-schema-ids",
        action="store_true",
        help="write each feature's schemaId from the ontology (needs an exported ontology)",
    )
    common(c)
    c.set_defaults(run=cmd_convert)

    b = sub.add_parser(
        "bench",
        help="side-by-side benchmark (benches/compare.py of the checkout, else a built-in one)",
    )
    b.add_argument("--quick", action="store_true", help="smaller workloads")
    b.add_argument(
        "--builtin", action="store_true", help="run the built-in benchmark even in a checkout"
    )
    b.add_argument("extra", nargs=argparse.REMAINDER, help="arguments passed on to compare.py")
    b.set_defaults(run=cmd_bench)
    return parser


def _silence(stream: IO[str]) -> None:
    """Points a closed pipe at /dev/null, so that flushing it at exit does not fail."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(
    argv: Optional[Sequence[str]] = None,
    *,
    stdout: Optional[IO[str]] = None,
    stderr: Optional[IO[str]] = None,
) -> int:
    """Runs the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    try:
        with contextlib.redirect_stderr(err):  # usage errors go where the caller asked
            args = parser.parse_args(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    try:
        return int(args.run(args, out, err))
    except BrokenPipeError:  # before OSError, of which it is a kind
        _silence(out)
        return 128 + 13  # as if killed by SIGPIPE
    except (UsageError, OSError) as e:
        print(f"lbfast {args.command}: error: {e}", file=err)
        return USAGE
    except KeyboardInterrupt:
        print(f"lbfast {args.command}: interrupted; nothing written", file=err)
        return 130


def run(argv: Optional[Iterable[str]] = None) -> None:
    sys.exit(main(list(argv) if argv is not None else None))
