"""Hand-off to Labelbox: validate, write NDJSON, and start the SDK's imports.

    import labelbox as lb
    from lbfast.labelbox import upload_to_model_run, upload_to_project

    client = lb.Client(API_KEY)
    model_run = client.get_model_run(MODEL_RUN_ID)
    upload = upload_to_model_run(model_run, predictions, ontology=ontology_json)
    upload.imports        # the SDK's MEAPredictionImport objects, one per shard
    upload.manifest       # shards: paths, rows, bytes; counts per feature

    upload = upload_to_project(project, predictions, strip_scores=True)  # model-assisted labelling

Nothing is sent when any prediction has a problem: ``lbfast.ValidationError`` lists
them all (its ``.report`` has kinds and suggestions). A project import takes no scores
(confidence, custom metrics): ``upload_to_project`` refuses them (``not_for_project``)
or, with ``strip_scores=True``, leaves them out. An import that cannot be started,
fails, or does not finish in time is an :class:`UploadError` naming its shard. lbfast itself does not import
the SDK: these functions call methods of the objects they are given (the
``model_run``, or ``labelbox.MALPredictionImport`` for a project, imported when
first needed). Install both with ``pip install 'lbfast[labelbox]'``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypedDict, Union

from lbfast.items import Item
from lbfast.ontology import Ontology, Report, Validator
from lbfast.options import Options, without_ontology
from lbfast.writer import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_MASKS,
    DEFAULT_MAX_ROWS,
    ShardWriter,
    chunks,
)

if TYPE_CHECKING:
    from typing_extensions import TypeAlias, Unpack

__all__ = [
    "ScoresStrippedWarning",
    "Upload",
    "UploadError",
    "upload_to_model_run",
    "upload_to_project",
    "write_for_upload",
]

#: What to do with scores (confidence, custom metrics): a model run takes them; a
#: project import does not, so they are refused or stripped.
ScorePolicy: TypeAlias = Literal["keep", "refuse", "strip"]
#: The kind of the warning for each score left out (``strip``).
SCORE_STRIPPED = "score_stripped"
#: Seconds between two reads of an import's status (the SDK's own default).
DEFAULT_POLL_INTERVAL = 10.0


@dataclass
class Upload:
    """What was sent: the SDK's import objects (one per shard, in order), the shards'
    manifest, and the validation report (its warnings: amendments made)."""

    imports: list[Any]
    manifest: dict[str, Any]
    report: Report
    names: list[str] = field(default_factory=list)


def write_for_upload(
    predictions: Iterable[Item],
    out_dir: Union[str, os.PathLike[str]],
    *,
    prefix: str = "predictions",
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
    scores: ScorePolicy = "keep",
    **options: Unpack[Options],
) -> tuple[dict[str, Any], Report]:
    """Validates ``predictions`` (against ``ontology`` when given) and writes them as
    NDJSON shards under ``out_dir`` (``{prefix}-00000.ndjson``, ...; each one import
    job, capped by rows, bytes and masks). Returns the manifest and the report.
    The options (``ontology``, ``resolve_schema_ids``, ``required``,
    ``max_mask_pixels``, ``threads``) are ``lbfast.dumps``'s.

    Each prediction is converted and checked once, a chunk at a time, and written
    from that one conversion. ``scores``: confidence and custom metrics are written
    (``"keep"``, for a model run), refused (``"refuse"``: errors of kind
    ``not_for_project``) or left out with a warning (``"strip"``: ``score_stripped``),
    since a project import does not take them.

    Raises ``lbfast.ValidationError`` (with ``.report`` for every problem found against
    the predictions or the ontology) and leaves no shard behind on any error; more
    than 5,000 annotations of one name on one data row in a shard is one.

    The manifest: ``{"shards": [{"path", "rows", "bytes", "masks"}], "rows", "bytes",
    "features": {name or schemaId: count}}``.
    """
    ontology = options.get("ontology")
    onto = None if ontology is None else Ontology.of(ontology)
    validator = Validator(onto, **without_ontology(options))
    writer = ShardWriter(
        out_dir, prefix=prefix, max_rows=max_rows, max_bytes=max_bytes, max_masks=max_masks
    )
    try:
        for chunk in chunks(predictions):
            encoded = validator.encode(chunk, scores=scores)
            # After a first error nothing is written, but every problem is still found.
            if encoded is not None and validator.ok:
                writer.write_encoded(encoded)
        # With the required global classifications, checked per data row across chunks.
        report = validator.finish()
        report.raise_for_errors()
        manifest = writer.close()
    except BaseException:
        writer.discard()
        raise
    return manifest.as_dict(), report


class UploadError(RuntimeError):
    """An import of one shard did not succeed: it could not be started (the SDK's
    error, such as an HTTP 500, is the ``__cause__``), it ended ``FAILED``, some of
    its lines failed, or it did not finish within ``timeout``.

    ``shard`` is the import's name, ``path`` its NDJSON file; ``line_errors`` the
    per-line errors Labelbox reported (``uuid``, ``dataRow``, ``errors``, and ``line``,
    the line of the shard, when known); ``upload`` what was sent up to then (the imports
    started, in order, this one included once it was started).
    """

    def __init__(
        self,
        message: str,
        *,
        shard: str,
        path: str,
        upload: Upload,
        line_errors: Optional[list[dict[str, Any]]] = None,
    ) -> None:
        super().__init__(message)
        self.shard = shard
        self.path = path
        self.upload = upload
        self.line_errors = line_errors or []


class ScoresStrippedWarning(UserWarning):
    """Confidence or custom metrics were left out of a project import (``strip_scores``)."""


class _Caps(TypedDict):
    """Caps per shard, that is per import job."""

    max_rows: int
    max_bytes: int
    max_masks: int


@dataclass
class _Waiting:
    """How to wait for the imports: ``wait``, every ``poll_interval`` seconds, for at
    most ``timeout`` seconds in all (``None``: as long as they run)."""

    wait: bool
    poll_interval: float
    timeout: Optional[float]


def _send(
    start: Callable[[str, str], Any],
    predictions: Iterable[Item],
    *,
    name: Optional[str],
    out_dir: Optional[Union[str, os.PathLike[str]]],
    waiting: _Waiting,
    caps: _Caps,
    scores: ScorePolicy,
    options: Options,
) -> Upload:
    job = name or f"lbfast-{uuid.uuid4().hex[:12]}"
    folder = Path(tempfile.mkdtemp(prefix="lbfast-upload-")) if out_dir is None else Path(out_dir)
    try:
        manifest, report = write_for_upload(
            predictions, folder, prefix=job, scores=scores, **caps, **options
        )
        stripped = report.warning_counts.get(SCORE_STRIPPED, 0)
        if stripped:
            warnings.warn(
                f"{stripped} score{'s were' if stripped != 1 else ' was'} left out: a project "
                "import does not take confidence or custom metrics (see upload.report.warnings)",
                ScoresStrippedWarning,
                stacklevel=3,
            )
        shards = manifest["shards"]
        upload = Upload(imports=[], manifest=manifest, report=report)
        for i, shard in enumerate(shards):
            shard_name = job if len(shards) == 1 else f"{job}-{i + 1}-of-{len(shards)}"
            try:
                started = start(shard_name, shard["path"])
            except Exception as err:
                raise UploadError(
                    f"{_which(shard_name, shard['path'], i, len(shards))}: the import could not "
                    f"be started: {type(err).__name__}: {err}{_before(upload)}",
                    shard=shard_name,
                    path=shard["path"],
                    upload=upload,
                ) from err
            upload.imports.append(started)
            upload.names.append(shard_name)
        if waiting.wait:
            _wait_for(upload, waiting)
        if out_dir is None:
            manifest["removed"] = True  # the files were uploaded and are gone
        return upload
    finally:
        if out_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def _which(shard_name: str, path: str, index: int, count: int) -> str:
    """How messages name a shard: its import's name, its place and its file."""
    return f"shard {index + 1} of {count} (import {shard_name!r}, {path})"


def _before(upload: Upload) -> str:
    return f"; imports started before it: {', '.join(upload.names)}" if upload.names else ""


def _state(imp: Any) -> str:
    """The SDK's ``AnnotationImportState`` as text (``RUNNING``, ``FINISHED``, ``FAILED``)."""
    state = imp.state
    return str(getattr(state, "value", state))


def _wait_for(upload: Upload, waiting: _Waiting) -> None:
    """Polls each import (the SDK's ``refresh()``) until it is no longer ``RUNNING``;
    raises :class:`UploadError` for the first that failed, has failed lines or is
    still running at the deadline."""
    deadline = None if waiting.timeout is None else time.monotonic() + waiting.timeout
    count = len(upload.imports)
    for i, (imp, shard_name) in enumerate(zip(upload.imports, upload.names)):
        path = upload.manifest["shards"][i]["path"]
        which = _which(shard_name, path, i, count)

        def fail(message: str, line_errors: Optional[list[dict[str, Any]]] = None) -> UploadError:
            return UploadError(
                f"{which}: {message}",  # noqa: B023 - used before the loop moves on
                shard=shard_name,  # noqa: B023
                path=path,  # noqa: B023
                upload=upload,
                line_errors=line_errors,
            )

        while _state(imp) == "RUNNING":
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise fail(f"the import was still RUNNING after {waiting.timeout} s")
            time.sleep(waiting.poll_interval if left is None else min(waiting.poll_interval, left))
            try:
                imp.refresh()
            except Exception as err:
                raise fail(f"its status could not be read: {type(err).__name__}: {err}") from err
        state = _state(imp)
        line_errors = _line_errors(imp, state, path)
        if state != "FINISHED" or line_errors:
            what = f"the import ended {state}" if state != "FINISHED" else "the import finished"
            if line_errors:
                what += (
                    f" with {len(line_errors)} failed line{'s' if len(line_errors) != 1 else ''}"
                )
            raise fail(what + _listed(line_errors), line_errors)


#: Failed lines a message lists; ``UploadError.line_errors`` has them all.
_LINES_SHOWN = 10


def _listed(line_errors: list[dict[str, Any]]) -> str:
    shown = []
    for e in line_errors[:_LINES_SHOWN]:
        where = f"line {e['line']}" if "line" in e else "line ?"
        messages = "; ".join(
            str(x.get("message", x)) if isinstance(x, dict) else str(x) for x in e.get("errors", [])
        )
        shown.append(
            f"\n  {where} (uuid {e.get('uuid')!r}, dataRow {e.get('dataRow')}): {messages}"
        )
    more = len(line_errors) - _LINES_SHOWN
    return ":" + "".join(shown) + (f"\n  ... and {more} more" if more > 0 else "") if shown else ""


def _line_errors(imp: Any, state: str, path: str) -> list[dict[str, Any]]:
    """The per-line errors of a finished import, each with its ``line`` in the shard
    when the shard is still on disk. The SDK reads them only for a FINISHED import
    (``errors``); for a FAILED one its error file is read here."""
    url = getattr(imp, "error_file_url", None)
    if not url:
        return []
    try:
        if state == "FINISHED":
            found = list(imp.errors)
        else:
            with urllib.request.urlopen(url, timeout=_ERROR_FILE_TIMEOUT) as reply:
                found = [json.loads(line) for line in reply.read().splitlines() if line.strip()]
    except Exception:
        return []
    lines = _lines_of_uuids(path, {e.get("uuid") for e in found if isinstance(e, dict)})
    out = []
    for e in found:
        entry: dict[str, Any] = dict(e) if isinstance(e, dict) else {"errors": [e]}
        uid = entry.get("uuid")
        line = lines.get(uid) if isinstance(uid, str) else None
        if line is not None:
            entry["line"] = line
        out.append(entry)
    return out


#: Seconds to wait for a failed import's error file.
_ERROR_FILE_TIMEOUT = 30
_UUID = re.compile(rb'"uuid":\s*"((?:[^"\\]|\\.)*)"')


def _lines_of_uuids(path: str, uuids: set[Any]) -> dict[str, int]:
    """The line (from 1) of each of ``uuids`` in the shard at ``path``, if it is there."""
    found: dict[str, int] = {}
    try:
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                m = _UUID.search(line)
                key = m.group(1).decode("utf-8", "replace") if m else None
                if key is not None and key in uuids:
                    found[key] = number
    except OSError:
        pass
    return found


def upload_to_model_run(
    model_run: Any,
    predictions: Iterable[Item],
    *,
    name: Optional[str] = None,
    out_dir: Optional[Union[str, os.PathLike[str]]] = None,
    wait: bool = False,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: Optional[float] = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
    **options: Unpack[Options],
) -> Upload:
    """Validates ``predictions`` (Labels, NDJSON-shaped dicts, columnar batches), writes
    them as NDJSON shards and calls ``model_run.add_predictions(name=...,
    predictions=path)`` once per shard, in order. Returns the :class:`Upload` (the
    SDK's ``MEAPredictionImport``s). Nothing is sent if any prediction has a problem.
    A model run takes every score (confidence, custom metrics): they are all sent.

    ``ontology``: the model run's ontology (an exported JSON, a builder, the SDK's
    ``Ontology``, ...), to check against before anything is sent; it and the other
    options are ``lbfast.dumps``'s. ``name``: the import's name, and the shards'
    prefix. ``out_dir``: where the shards stay (default: a temporary folder, removed
    after the upload). ``max_rows``, ``max_bytes``, ``max_masks``: caps per shard,
    that is per import job (``lbfast.ShardWriter``'s defaults follow Labelbox's
    advice). ``wait``: wait for each import to finish, reading its status every
    ``poll_interval`` seconds, for at most ``timeout`` seconds in all.

    Raises :class:`UploadError`, naming the shard, when an import cannot be started
    (the SDK's error is its cause), ends ``FAILED``, has failed lines, or is still
    running at the ``timeout``.
    """

    def start(shard_name: str, path: str) -> Any:
        return model_run.add_predictions(name=shard_name, predictions=path)

    return _send(
        start,
        predictions,
        name=name,
        out_dir=out_dir,
        waiting=_Waiting(wait, poll_interval, timeout),
        caps={"max_rows": max_rows, "max_bytes": max_bytes, "max_masks": max_masks},
        scores="keep",
        options=options,
    )


def upload_to_project(
    project: Any,
    predictions: Iterable[Item],
    *,
    name: Optional[str] = None,
    out_dir: Optional[Union[str, os.PathLike[str]]] = None,
    wait: bool = False,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: Optional[float] = None,
    importer: Any = None,
    strip_scores: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
    **options: Unpack[Options],
) -> Upload:
    """As :func:`upload_to_model_run`, for model-assisted labelling in a project: calls
    ``importer.create_from_file(client=project.client, project_id=project.uid,
    name=..., path=...)`` per shard. ``importer`` defaults to the SDK's
    ``labelbox.MALPredictionImport`` (``labelbox.LabelImport`` imports ground truth).

    A project import does not take scores: confidence and custom metrics, wherever
    they sit (objects, questions, answers, texts, nested), are errors of kind
    ``not_for_project`` and nothing is sent; with ``strip_scores=True`` they are left
    out instead, each listed as a ``score_stripped`` warning in ``upload.report``, and
    one :class:`ScoresStrippedWarning` says how many.
    """
    if importer is None:
        try:
            # The SDK ships no type information.
            from labelbox import MALPredictionImport  # type: ignore[import-untyped]
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "upload_to_project needs the Labelbox SDK: pip install 'lbfast[labelbox]'"
            ) from err
        importer = MALPredictionImport

    def start(shard_name: str, path: str) -> Any:
        return importer.create_from_file(
            client=project.client, project_id=project.uid, name=shard_name, path=path
        )

    return _send(
        start,
        predictions,
        name=name,
        out_dir=out_dir,
        waiting=_Waiting(wait, poll_interval, timeout),
        caps={"max_rows": max_rows, "max_bytes": max_bytes, "max_masks": max_masks},
        scores="strip" if strip_scores else "refuse",
        options=options,
    )
