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
from typing import TYPE_CHECKING, Any, Callable, Optional, TypedDict, Union

from lbfast.errors import OntologyWarning
from lbfast.items import Item
from lbfast.ontology import Ontology, Report, Validator
from lbfast.options import Options, without_ontology
from lbfast.writer import DEFAULT_MAX_BYTES, DEFAULT_MAX_MASKS, DEFAULT_MAX_ROWS, ShardWriter

if TYPE_CHECKING:
    from typing_extensions import Unpack

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
    predictions: Iterable[Item],
    out_dir: Union[str, os.PathLike[str]],
    *,
    prefix: str = "predictions",
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
    **options: Unpack[Options],
) -> tuple[dict[str, Any], Report]:
    """Validates ``predictions`` (against ``ontology`` when given) and writes them as
    NDJSON shards under ``out_dir`` (``{prefix}-00000.ndjson``, ...; each one import
    job, capped by rows, bytes and masks). Returns the manifest and the report.
    The options (``ontology``, ``resolve_schema_ids``, ``required``,
    ``max_mask_pixels``, ``threads``) are ``lbfast.dumps``'s.

    Raises ``lbfast.ValidationError`` (with ``.report`` for problems found against
    the predictions or the ontology) and leaves no shard behind on any error; more
    than 5,000 annotations of one name on one data row in a shard is one.

    The manifest: ``{"shards": [{"path", "rows", "bytes", "masks"}], "rows", "bytes",
    "features": {name or schemaId: count}}``.
    """
    items = predictions if isinstance(predictions, list) else list(predictions)
    ontology = options.get("ontology")
    onto = None if ontology is None else Ontology.of(ontology)
    validator = Validator(onto, **without_ontology(options))
    validator.check(items)
    report = validator.finish()
    report.raise_for_errors()
    # Required classifications were checked above, across all the predictions (shards
    # split data rows); the ontology is indexed once.
    writing: Options = {**options, "ontology": onto, "required": False}
    writer = ShardWriter(
        out_dir,
        prefix=prefix,
        max_rows=max_rows,
        max_bytes=max_bytes,
        max_masks=max_masks,
        **writing,
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


class _Caps(TypedDict):
    """Caps per shard, that is per import job."""

    max_rows: int
    max_bytes: int
    max_masks: int


def _send(
    start: Callable[[str, str], Any],
    predictions: Iterable[Item],
    *,
    name: Optional[str],
    out_dir: Optional[Union[str, os.PathLike[str]]],
    wait: bool,
    caps: _Caps,
    options: Options,
) -> Upload:
    job = name or f"lbfast-{uuid.uuid4().hex[:12]}"
    folder = Path(tempfile.mkdtemp(prefix="lbfast-upload-")) if out_dir is None else Path(out_dir)
    try:
        manifest, report = write_for_upload(predictions, folder, prefix=job, **caps, **options)
        shards = manifest["shards"]
        imports, names = [], []
        for i, shard in enumerate(shards):
            shard_name = job if len(shards) == 1 else f"{job}-{i + 1}-of-{len(shards)}"
            imports.append(start(shard_name, shard["path"]))
            names.append(shard_name)
        if wait:
            for imp in imports:
                imp.wait_until_done()
        if out_dir is None:
            manifest["removed"] = True  # the files were uploaded and are gone
        return Upload(imports=imports, manifest=manifest, report=report, names=names)
    finally:
        if out_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def upload_to_model_run(
    model_run: Any,
    predictions: Iterable[Item],
    *,
    name: Optional[str] = None,
    out_dir: Optional[Union[str, os.PathLike[str]]] = None,
    wait: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
    **options: Unpack[Options],
) -> Upload:
    """Validates ``predictions`` (Labels, NDJSON-shaped dicts, columnar batches), writes
    them as NDJSON shards and calls ``model_run.add_predictions(name=...,
    predictions=path)`` once per shard, in order. Returns the :class:`Upload` (the
    SDK's ``MEAPredictionImport``s). Nothing is sent if any prediction has a problem.

    ``ontology``: the model run's ontology (an exported JSON, a builder, the SDK's
    ``Ontology``, ...), to check against before anything is sent; it and the other
    options are ``lbfast.dumps``'s. ``name``: the import's name, and the shards'
    prefix. ``out_dir``: where the shards stay (default: a temporary folder, removed
    after the upload). ``max_rows``, ``max_bytes``, ``max_masks``: caps per shard,
    that is per import job (``lbfast.ShardWriter``'s defaults follow Labelbox's
    advice). ``wait``: wait for each import to finish (``wait_until_done()``) before
    returning.
    """

    def start(shard_name: str, path: str) -> Any:
        return model_run.add_predictions(name=shard_name, predictions=path)

    return _send(
        start,
        predictions,
        name=name,
        out_dir=out_dir,
        wait=wait,
        caps={"max_rows": max_rows, "max_bytes": max_bytes, "max_masks": max_masks},
        options=options,
    )


def upload_to_project(
    project: Any,
    predictions: Iterable[Item],
    *,
    name: Optional[str] = None,
    out_dir: Optional[Union[str, os.PathLike[str]]] = None,
    wait: bool = False,
    importer: Any = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_masks: int = DEFAULT_MAX_MASKS,
    **options: Unpack[Options],
) -> Upload:
    """As :func:`upload_to_model_run`, for model-assisted labelling in a project: calls
    ``importer.create_from_file(client=project.client, project_id=project.uid,
    name=..., path=...)`` per shard. ``importer`` defaults to the SDK's
    ``labelbox.MALPredictionImport`` (``labelbox.LabelImport`` imports ground truth).
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
        wait=wait,
        caps={"max_rows": max_rows, "max_bytes": max_bytes, "max_masks": max_masks},
        options=options,
    )
