"""Hand-off to Labelbox: validate, write NDJSON, and start the SDK's imports.

    import labelbox as lb
    from lbfast.labelbox import upload_to_model_run, upload_to_project

    client = lb.Client(API_KEY)
    model_run = client.get_model_run(MODEL_RUN_ID)
    upload = upload_to_model_run(model_run, predictions, ontology=ontology_json)
    upload.imports        # the SDK's MEAPredictionImport objects, one per shard
    upload.manifest       # shards: paths, rows, bytes; counts per feature

    upload = upload_to_project(project, predictions)      # model-assisted labelling

Nothing is sent when any prediction has a problem: ``lbfast.ValidationError`` lists
them all (its ``.report`` has kinds and suggestions). lbfast itself does not import
the SDK: these functions call methods of the objects they are given (the
``model_run``, or ``labelbox.MALPredictionImport`` for a project, imported when
first needed). Install both with ``pip install 'lbfast[labelbox]'``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from lbfast.ontology import Ontology, OntologyWarning, Report, Validator
from lbfast.writer import DEFAULT_MAX_BYTES, DEFAULT_MAX_MASKS, DEFAULT_MAX_ROWS, ShardWriter

__all__ = ["Upload", "upload_to_model_run", "upload_to_project", "write_for_upload"]


@dataclass
class Upload:
    """What was sent: the SDK's import objects (one per shard, in order), the shards'
    manifest, and the validation report (its warnings: amendments made)."""

    imports: list[Any]
    manifest: dict[str, Any]
    report: Report
    names: list[str] = field(default_factory=list)


def write_for_upload(
    predictions: Iterable[Any],
    out_dir: Union[str, os.PathLike[str]],
    *,
    ontology: Any = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    name: str = "predictions",
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
) -> tuple[dict[str, Any], Report]:
    """Validates ``predictions`` (against ``ontology`` when given) and writes them as
    NDJSON shards under ``out_dir`` (``{name}-00000.ndjson``, ...; each one import
    job, capped by rows, bytes and masks). Returns the manifest and the report.

    Raises ``lbfast.ValidationError`` (with ``.report`` for problems found against
    the predictions or the ontology) and leaves no shard behind on any error; more
    than 5,000 annotations of one name on one data row in a shard is one.

    The manifest: ``{"shards": [{"path", "rows", "bytes", "masks"}], "rows", "bytes",
    "features": {name or schemaId: count}}``.
    """
    items = predictions if isinstance(predictions, list) else list(predictions)
    onto = None if ontology is None else Ontology.of(ontology)
    validator = Validator(onto, required=required)
    validator.check(items)
    report = validator.finish()
    report.raise_for_errors()
    writer = ShardWriter(
        out_dir,
        prefix=name,
        max_rows=max_rows,
        max_bytes=max_bytes,
        max_masks=max_masks,
        ontology=onto,
        resolve_schema_ids=resolve_schema_ids,
        # Checked above, across all the predictions (shards split data rows).
        required=False,
    )
    try:
        with warnings.catch_warnings():
            # The report has the amendments; the caller sees them there.
            warnings.simplefilter("ignore", OntologyWarning)
            writer.write(items)
        manifest = writer.close()
    except BaseException:
        # The writer has discarded its open shard; the finished ones go too.
        for path in writer.manifest.paths:
            Path(path).unlink(missing_ok=True)
        raise
    return manifest.as_dict(), report


def _send(
    start: Any,
    predictions: Iterable[Any],
    *,
    ontology: Any,
    name: Optional[str],
    out_dir: Optional[Union[str, os.PathLike[str]]],
    resolve_schema_ids: bool,
    required: bool,
    wait: bool,
    caps: dict[str, int],
) -> Upload:
    job = name or f"lbfast-{uuid.uuid4().hex[:12]}"
    temporary = out_dir is None
    folder = (
        Path(tempfile.mkdtemp(prefix="lbfast-upload-")) if temporary else Path(os.fspath(out_dir))
    )
    try:
        manifest, report = write_for_upload(
            predictions,
            folder,
            ontology=ontology,
            resolve_schema_ids=resolve_schema_ids,
            required=required,
            name=job,
            **caps,
        )
        shards = manifest["shards"]
        imports, names = [], []
        for i, shard in enumerate(shards):
            shard_name = job if len(shards) == 1 else f"{job}-{i + 1}-of-{len(shards)}"
            imports.append(start(shard_name, shard["path"]))
            names.append(shard_name)
        if wait:
            for imp in imports:
                imp.wait_until_done()
        if temporary:
            manifest["removed"] = True  # the files were uploaded and are gone
        return Upload(imports=imports, manifest=manifest, report=report, names=names)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


def upload_to_model_run(
    model_run: Any,
    predictions: Iterable[Any],
    *,
    ontology: Any = None,
    name: Optional[str] = None,
    out_dir: Optional[Union[str, os.PathLike[str]]] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    wait: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
) -> Upload:
    """Validates ``predictions`` (Labels, NDJSON-shaped dicts, columnar batches), writes
    them as NDJSON shards and calls ``model_run.add_predictions(name=...,
    predictions=path)`` once per shard, in order. Returns the :class:`Upload` (the
    SDK's ``MEAPredictionImport``s). Nothing is sent if any prediction has a problem.

    ``ontology``: the model run's ontology (an exported JSON, a builder, the SDK's
    ``Ontology``, ...), to check against before anything is sent. ``out_dir``: where
    the shards stay (default: a temporary folder, removed after the upload).
    ``max_rows``, ``max_bytes``, ``max_masks``: caps per shard, that is per import job
    (``lbfast.ShardWriter``'s defaults follow Labelbox's advice). ``wait``: wait for
    each import to finish (``wait_until_done()``) before returning.
    """

    def start(shard_name: str, path: str) -> Any:
        return model_run.add_predictions(name=shard_name, predictions=path)

    return _send(
        start,
        predictions,
        ontology=ontology,
        name=name,
        out_dir=out_dir,
        resolve_schema_ids=resolve_schema_ids,
        required=required,
        wait=wait,
        caps={"max_rows": max_rows, "max_bytes": max_bytes, "max_masks": max_masks},
    )


def upload_to_project(
    project: Any,
    predictions: Iterable[Any],
    *,
    ontology: Any = None,
    name: Optional[str] = None,
    out_dir: Optional[Union[str, os.PathLike[str]]] = None,
    resolve_schema_ids: bool = False,
    required: bool = True,
    wait: bool = False,
    importer: Any = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
) -> Upload:
    """As :func:`upload_to_model_run`, for model-assisted labelling in a project: calls
    ``importer.create_from_file(client=project.client, project_id=project.uid,
    name=..., path=...)`` per shard. ``importer`` defaults to the SDK's
    ``labelbox.MALPredictionImport`` (``labelbox.LabelImport`` imports ground truth).
    """
    if importer is None:
        try:
            from labelbox import MALPredictionImport
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
        ontology=ontology,
        name=name,
        out_dir=out_dir,
        resolve_schema_ids=resolve_schema_ids,
        required=required,
        wait=wait,
        caps={"max_rows": max_rows, "max_bytes": max_bytes, "max_masks": max_masks},
    )
