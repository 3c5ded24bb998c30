"""The hand-off to Labelbox (lbfast.labelbox), with stand-ins for the SDK's objects.

No network is reachable here: a model run and an importer that record their calls
stand in for Labelbox. Two tests also run the SDK's own ``add_predictions`` and
``MALPredictionImport.create_from_file`` with only the final network step replaced,
to show that lbfast's calls take the SDK's file-upload path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import labelbox
import pytest

import lbfast
from lbfast.labelbox import upload_to_model_run, upload_to_project, write_for_upload

ONTOLOGY = {
    "tools": [
        {"tool": "rectangle", "name": "car", "featureSchemaId": "c" * 24 + "1"},
        {"tool": "point", "name": "wheel", "featureSchemaId": "c" * 24 + "2"},
    ],
    "classifications": [
        {
            "type": "checklist",
            "name": "tags",
            "featureSchemaId": "c" * 24 + "3",
            "options": [{"value": "blurry", "featureSchemaId": "c" * 24 + "4"}],
        }
    ],
}


def predictions(n: int = 3) -> list[dict]:
    out = []
    for i in range(n):
        key = {"globalKey": f"img-{i}"}
        out.append(
            {
                "dataRow": key,
                "name": "car",
                "confidence": 0.5,
                "bbox": {"top": 1, "left": 1, "height": 2, "width": 2},
            }
        )
        out.append({"dataRow": key, "name": "wheel", "point": {"x": 1, "y": 2}})
    out.append({"dataRow": {"globalKey": "img-0"}, "name": "tags", "answer": {"name": "blurry"}})
    return out


class FakeImport:
    def __init__(self, name: str) -> None:
        self.name = name
        self.waited = False

    def wait_until_done(self) -> None:
        self.waited = True


class FakeModelRun:
    """Records add_predictions calls and what the file held at the time."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[dict]]] = []

    def add_predictions(self, name, predictions):
        assert isinstance(predictions, str) and Path(predictions).is_file()
        lines = [json.loads(x) for x in Path(predictions).read_text().splitlines()]
        self.calls.append((name, predictions, lines))
        return FakeImport(name)


def test_a_model_run_gets_one_add_predictions_per_shard(tmp_path):
    run = FakeModelRun()
    upload = upload_to_model_run(
        run, predictions(), ontology=ONTOLOGY, name="job", out_dir=tmp_path, wait=True
    )
    assert [c[0] for c in run.calls] == ["job"]
    _, path, lines = run.calls[0]
    assert Path(path) == tmp_path / "job-00000.ndjson"
    assert len(lines) == 7
    assert upload.imports[0].name == "job" and upload.imports[0].waited
    assert upload.names == ["job"]
    assert upload.manifest["shards"] == [
        {"path": path, "rows": 7, "bytes": Path(path).stat().st_size, "masks": 0}
    ]
    assert upload.manifest["features"] == {"car": 3, "wheel": 3, "tags": 1}
    # The single answer object given to the checklist was written as a list, and said so.
    assert lines[-1]["answer"] == [{"name": "blurry"}]
    assert [w.kind for w in upload.report.warnings] == ["checklist_answer_normalized"]


def test_large_jobs_are_sent_as_several_imports_in_order(tmp_path):
    run = FakeModelRun()
    upload = upload_to_model_run(run, predictions(), name="big", out_dir=tmp_path, max_rows=3)
    assert upload.names == ["big-1-of-3", "big-2-of-3", "big-3-of-3"]
    assert [c[0] for c in run.calls] == upload.names
    assert [len(c[2]) for c in run.calls] == [3, 3, 1]
    sent = [row for c in run.calls for row in c[2]]
    assert [r["name"] for r in sent] == [p["name"] for p in predictions()]
    assert [Path(s["path"]).name for s in upload.manifest["shards"]] == [
        "big-00000.ndjson",
        "big-00001.ndjson",
        "big-00002.ndjson",
    ]


def test_nothing_is_sent_when_a_prediction_does_not_fit(tmp_path):
    run = FakeModelRun()
    bad = [
        *predictions(),
        {"dataRow": {"globalKey": "img-9"}, "name": "wheeel", "point": {"x": 1, "y": 1}},
    ]
    with pytest.raises(lbfast.ValidationError) as err:
        upload_to_model_run(run, bad, ontology=ONTOLOGY, out_dir=tmp_path)
    assert run.calls == []
    assert list(tmp_path.iterdir()) == []
    assert err.value.report.counts == {"unknown_tool": 1}
    assert "did you mean 'wheel'?" in str(err.value)


def test_temporary_files_are_removed_after_the_upload():
    run = FakeModelRun()
    upload = upload_to_model_run(run, predictions(), resolve_schema_ids=True, ontology=ONTOLOGY)
    path = Path(run.calls[0][1])
    assert not path.exists() and not path.parent.exists()
    assert upload.manifest["removed"] is True
    assert run.calls[0][0].startswith("lbfast-")
    assert run.calls[0][2][0]["schemaId"] == "c" * 24 + "1"


class FakeImporter:
    calls: ClassVar[list[dict]] = []

    @classmethod
    def create_from_file(cls, client, project_id, name, path):
        cls.calls.append(
            {
                "client": client,
                "project_id": project_id,
                "name": name,
                "rows": len(Path(path).read_bytes().splitlines()),
            }
        )
        return FakeImport(name)


class FakeProject:
    uid = "cproject00000000000000000"
    client = object()


def test_a_project_gets_mal_imports():
    FakeImporter.calls = []
    upload = upload_to_project(FakeProject(), predictions(2), name="mal", importer=FakeImporter)
    assert FakeImporter.calls == [
        {"client": FakeProject.client, "project_id": FakeProject.uid, "name": "mal", "rows": 5}
    ]
    assert upload.imports[0].name == "mal"


def test_the_sdks_per_data_row_limit_leaves_no_shard_and_sends_nothing(tmp_path):
    def wheels(n, key):
        return [
            {"dataRow": {"globalKey": key(i)}, "name": "wheel", "point": {"x": i, "y": 1}}
            for i in range(n)
        ]

    # A first shard that is fine, then one with 5,001 wheels on one image.
    items = wheels(6000, lambda i: f"img-{i}") + wheels(5001, lambda i: "img-x")
    with pytest.raises(lbfast.ValidationError, match="5001 annotations named 'wheel'"):
        write_for_upload(items, tmp_path, max_rows=6000)
    assert list(tmp_path.iterdir()) == []
    run = FakeModelRun()
    with pytest.raises(lbfast.ValidationError):
        upload_to_model_run(run, items, out_dir=tmp_path, max_rows=6000)
    assert run.calls == [] and list(tmp_path.iterdir()) == []


def test_the_sdks_add_predictions_takes_the_file_path(monkeypatch, tmp_path):
    """The real ModelRun.add_predictions: a local path is uploaded as a file."""
    from labelbox.orm.model import Entity
    from labelbox.schema.model_run import ModelRun

    seen = {}

    def create(**kwargs):
        seen.update(kwargs)
        return "the import"

    monkeypatch.setattr(Entity.MEAPredictionImport, "create", staticmethod(create))
    run = ModelRun.__new__(ModelRun)
    run.client = "client"
    run.uid = "cmodelrun0000000000000000"
    upload = upload_to_model_run(run, predictions(1), name="sdk", out_dir=tmp_path)
    assert upload.imports == ["the import"]
    assert seen == {
        "client": "client",
        "id": run.uid,
        "name": "sdk",
        "path": str(tmp_path / "sdk-00000.ndjson"),
    }


def test_the_sdks_mal_import_reads_the_file(monkeypatch):
    """The real MALPredictionImport.create_from_file, up to its network call."""
    seen = {}

    def from_bytes(cls, client, project_id, name, f, size):
        seen.update(project_id=project_id, name=name, data=f.read(), size=size)
        return "the import"

    monkeypatch.setattr(
        labelbox.MALPredictionImport, "_create_mal_import_from_bytes", classmethod(from_bytes)
    )
    upload = upload_to_project(FakeProject(), predictions(1), name="mal")
    assert upload.imports == ["the import"]
    assert seen["project_id"] == FakeProject.uid and seen["name"] == "mal"
    assert len(seen["data"]) == seen["size"] and seen["data"].count(b"\n") == 3
