"""Hand-off to Labelbox: validate, write NDJSON, and start the SDK's imports.

    import labelbox as lb
    from lbfast.labelbox import upload_to_model_run, upload_to_project

    client = lb.Client(API_KEY)
    model_run = client.get_model_run(MODEL_RUN_ID)
    upload = upload_to_model_run(model_run, predictions, ontology=ontology_json)
    upload.imports        # the SDK's MEAPredictionImport objects, one per file
    upload.manifest       # files, rows and bytes per file, counts per feature

    upload = upload_to_project(project, predictions)      # model-assisted labelling

Nothing is sent when any prediction has a problem: ``lbfast.ValidationError`` lists
them all (its ``.report`` has kinds and suggestions). lbfast itself does not import
the SDK: these functions call methods of the objects they are given (the
``model_run``, or ``labelbox.MALPredictionImport`` for a project, imported when
first needed). Install both with ``pip install 'lbfast[labelbox]'``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from lbfast.errors import ValidationError
from lbfast.ontology import Ontology, OntologyWarning, Report, Validator
from lbfast.serialize import dumps, write_atomically

__all__ = ["Upload", "upload_to_model_run", "upload_to_project", "write_for_upload"]

# The SDK refuses more than this many annotations of one name on one data row in one
# import (its client-side check, ANNOTATION_PER_LABEL_LIMIT).
ANNOTATIONS_PER_DATA_ROW_FEATURE = 5000


@dataclass
class Upload:
    """What was sent: the SDK's import objects (one per file, in order), the files'
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
) -> tuple[dict[str, Any], Report]:
    """Validates ``predictions`` (against ``ontology`` when given) and writes them as
    NDJSON under ``out_dir``. Returns the manifest and the report; raises
    ``lbfast.ValidationError`` (with ``.report``) and writes nothing on any error.

    The manifest: ``{"shards": [{"path", "rows", "bytes"}], "rows", "bytes",
    "features": {name or schemaId: count}}``.
    """
    items = predictions if isinstance(predictions, list) else list(predictions)
    onto = None if ontology is None else Ontology.of(ontology)
    validator = Validator(onto, required=required)
    validator.check(items)
    report = validator.finish()
    report.raise_for_errors()
    with warnings.catch_warnings():
        # The report has the amendments; the caller sees them there.
        warnings.simplefilter("ignore", OntologyWarning)
        data = dumps(items, ontology=onto, resolve_schema_ids=resolve_schema_ids, required=False)
    features, overfull = _count(data)
    if overfull:
        err = ValidationError(
            [
                (
                    0,
                    "",
                    f"data row {row} has {n} annotations of '{feature}'; one import takes at most "
                    f"{ANNOTATIONS_PER_DATA_ROW_FEATURE} per data row and feature",
                )
                for (row, feature), n in overfull
            ]
        )
        err.report = report  # type: ignore[attr-defined]
        raise err
    out = Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.ndjson"
    write_atomically(path, data)
    rows = data.count(b"\n")
    shard = {"path": str(path), "rows": rows, "bytes": len(data)}
    manifest = {"shards": [shard], "rows": rows, "bytes": len(data), "features": dict(features)}
    return manifest, report


def _count(data: bytes) -> tuple[Counter[str], list[tuple[tuple[str, str], int]]]:
    """Lines per feature, and (data row, name) pairs over the SDK's per-import limit."""
    features: Counter[str] = Counter()
    per_row: Counter[tuple[str, str]] = Counter()
    for line in data.splitlines():
        row = json.loads(line)
        feature = row.get("name") or row.get("schemaId") or ""
        features[feature] += 1
        if "name" in row:  # the SDK counts by name only
            ref = row["dataRow"]
            per_row[(ref.get("globalKey") or ref.get("id") or "", row["name"])] += 1
    overfull = [(k, n) for k, n in per_row.items() if n > ANNOTATIONS_PER_DATA_ROW_FEATURE]
    return features, overfull


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
) -> Upload:
    """Validates ``predictions`` (Labels, NDJSON-shaped dicts, columnar batches), writes
    them as NDJSON and calls ``model_run.add_predictions(name=..., predictions=path)``
    once per file. Returns the :class:`Upload` (the SDK's ``MEAPredictionImport``s).

    ``ontology``: the model run's ontology (an exported JSON, a builder, the SDK's
    ``Ontology``, ...), to check against before anything is sent. ``out_dir``: where
    the files stay (default: a temporary folder, removed after the upload).
    ``wait``: wait for each import to finish (``wait_until_done()``).
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
) -> Upload:
    """As :func:`upload_to_model_run`, for model-assisted labelling in a project: calls
    ``importer.create_from_file(client=project.client, project_id=project.uid,
    name=..., path=...)`` per file. ``importer`` defaults to the SDK's
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
    )
