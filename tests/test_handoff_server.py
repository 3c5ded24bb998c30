"""The hand-off (lbfast.labelbox) with the unmodified official SDK against a local
Labelbox (``labelbox_server.py``): what reaches the server, import by import, and how
server-side failures reach the user.

Nothing leaves 127.0.0.1: the ``no_remote_network`` fixture refuses any connection
elsewhere, and proxies are switched off for the test.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import labelbox
import pytest
from google.api_core.retry import retry_base, retry_unary
from labelbox_server import LabelboxServer
from test_seed_snippets import Guide, fix_ndjson, read_snippets

import lbfast
from lbfast.labelbox import (
    ScoresStrippedWarning,
    UploadError,
    upload_to_model_run,
    upload_to_project,
    write_for_upload,
)

MEA = "createModelErrorAnalysisPredictionImport"
MAL = "createModelAssistedLabelingPredictionImport"
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
# Imports are polled at once: the tests do not sleep.
FAST = {"wait": True, "poll_interval": 0.0}


@pytest.fixture(autouse=True)
def no_remote_network(monkeypatch):
    """Only 127.0.0.1 is reachable, and requests goes there directly."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    connect = socket.socket.connect

    def local_only(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in (
            "127.0.0.1",
            "::1",
        ):
            raise OSError(f"the tests reach 127.0.0.1 only, not {address!r}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


@pytest.fixture
def server():
    s = LabelboxServer()
    yield s
    s.stop()


@pytest.fixture
def client(server):
    return server.client()


@pytest.fixture
def model_run(server, client):
    return client.get_model_run(server.add_model_run())


@pytest.fixture
def project(server, client):
    return client.get_project(server.add_project())


@pytest.fixture
def fast_sdk_retries(monkeypatch):
    """The SDK's own retry policy (google.api_core: backoff for up to 120 s) on a
    virtual clock: its sleeps pass at once, so a failure it retries ends quickly."""
    clock = SimpleNamespace(now=0.0)

    def sleep(seconds):
        clock.now += seconds

    fake_time = SimpleNamespace(monotonic=lambda: time.monotonic() + clock.now, sleep=sleep)
    # The loop's sleeps and deadline (retry_unary) and its "past the deadline?" (retry_base).
    monkeypatch.setattr(retry_unary, "time", fake_time)
    monkeypatch.setattr(retry_base, "time", fake_time)
    return clock


@pytest.fixture(scope="module")
def guide_ns(seed_path):
    """The guide's Step 5: its typed Label and its NDJSON dicts, built as the guide does."""
    guide = Guide(seed_path, read_snippets(seed_path.read_text(encoding="utf-8")))
    typed = guide.run_typed(lbfast.types, lbfast)
    ns = {"url": typed["url"], "url_2": typed["url_2"], "global_key": guide.global_key()}
    for s in guide.ndjson_snippets().values():
        exec(compile(fix_ndjson(s.code), f"{seed_path}:{s.line}", "exec"), ns)
    exec(guide.step5(ndjson=True).compile(seed_path), ns)
    return {"typed": typed["label_prediction"], "ndjson": ns["label_prediction_ndjson"]}


def predictions(n: int = 3) -> list[dict]:
    out = []
    for i in range(n):
        key = {"globalKey": f"img-{i}"}
        out.append(
            {
                "uuid": f"box-{i}",
                "dataRow": key,
                "name": "car",
                "confidence": 0.5,
                "bbox": {"top": 1, "left": 1, "height": 2, "width": 2},
            }
        )
        out.append(
            {"uuid": f"wheel-{i}", "dataRow": key, "name": "wheel", "point": {"x": 1, "y": 2}}
        )
    out.append({"dataRow": {"globalKey": "img-0"}, "name": "tags", "answer": {"name": "blurry"}})
    return out


def shard_bytes(upload) -> list[bytes]:
    return [Path(s["path"]).read_bytes() for s in upload.manifest["shards"]]


def scores_in(data: bytes) -> set[str]:
    """The score keys at any depth of NDJSON ``data``."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            found.update(k for k in value if k in ("confidence", "customMetrics", "custom_metrics"))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for line in data.splitlines():
        walk(json.loads(line))
    return found


# --- the guide's Steps 5 and 6, end to end -------------------------------------------


@pytest.mark.parametrize("form", ["typed", "ndjson"])
def test_guide_step6_uploads_to_a_model_run(form, guide_ns, server, model_run, tmp_path):
    upload = upload_to_model_run(
        model_run, guide_ns[form], name="prediction_upload_job", out_dir=tmp_path, **FAST
    )
    (sent,) = server.uploads
    (shard,) = shard_bytes(upload)
    assert sent.data == shard and sent.content_length == len(shard)
    assert sent.operation == MEA and sent.name == "prediction_upload_job"
    assert sent.parent_id == model_run.uid
    assert sent.file_name == f"{model_run.uid}__prediction_upload_job.ndjson"
    assert len(shard.splitlines()) == 12
    # A model run takes the guide's confidences.
    assert "confidence" in scores_in(shard)
    (imp,) = upload.imports
    assert isinstance(imp, labelbox.MEAPredictionImport)
    assert imp.state.value == "FINISHED"
    # The guide's own Step 6 checks, through the SDK.
    assert imp.errors == []
    assert len(imp.statuses) == 12
    assert server.operations()[:3] == ["modelRun", MEA, "modelErrorAnalysisPredictionImport"]
    graphql = [r for r in server.requests if r.method == "POST"]
    assert all(r.headers["Authorization"] == "Bearer local-test-key" for r in graphql)


@pytest.mark.parametrize("form", ["typed", "ndjson"])
def test_guide_step6_to_a_project_refuses_scores_unless_stripped(
    form, guide_ns, server, project, tmp_path
):
    with pytest.raises(lbfast.ValidationError) as err:
        upload_to_project(project, guide_ns[form], name="mal", out_dir=tmp_path, **FAST)
    assert set(err.value.report.counts) == {"not_for_project"}
    assert server.uploads == [] and list(tmp_path.iterdir()) == []

    with pytest.warns(ScoresStrippedWarning, match="left out"):
        upload = upload_to_project(
            project, guide_ns[form], name="mal", out_dir=tmp_path, strip_scores=True, **FAST
        )
    (sent,) = server.uploads
    assert sent.operation == MAL and sent.parent_id == project.uid
    assert sent.data == shard_bytes(upload)[0]
    assert len(sent.data.splitlines()) == 12
    assert scores_in(sent.data) == set()
    stripped = upload.report.warning_counts["score_stripped"]
    assert stripped == err.value.report.counts["not_for_project"]
    assert isinstance(upload.imports[0], labelbox.MALPredictionImport)
    assert upload.imports[0].state.value == "FINISHED"


def test_each_shard_is_one_import_in_order(server, model_run, tmp_path):
    upload = upload_to_model_run(
        model_run,
        predictions(),
        ontology=ONTOLOGY,
        name="big",
        out_dir=tmp_path,
        max_rows=3,
        **FAST,
    )
    assert upload.names == ["big-1-of-3", "big-2-of-3", "big-3-of-3"]
    assert [u.name for u in server.uploads] == upload.names
    assert [u.data for u in server.uploads] == shard_bytes(upload)
    assert [len(u.data.splitlines()) for u in server.uploads] == [3, 3, 1]
    assert [Path(s["path"]).name for s in upload.manifest["shards"]] == [
        "big-00000.ndjson",
        "big-00001.ndjson",
        "big-00002.ndjson",
    ]
    assert upload.manifest["features"] == {"car": 3, "wheel": 3, "tags": 1}
    # The single answer object given to the checklist was written as a list, and said so.
    assert json.loads(server.uploads[-1].data)["answer"] == [{"name": "blurry"}]
    assert [w.kind for w in upload.report.warnings] == ["checklist_answer_normalized"]
    assert [i.state.value for i in upload.imports] == ["FINISHED"] * 3


def test_temporary_shards_are_removed_after_the_upload(server, model_run):
    upload = upload_to_model_run(
        model_run, predictions(), resolve_schema_ids=True, ontology=ONTOLOGY
    )
    path = Path(upload.manifest["shards"][0]["path"])
    assert not path.exists() and not path.parent.exists()
    assert upload.manifest["removed"] is True
    (sent,) = server.uploads
    assert sent.name.startswith("lbfast-")
    assert json.loads(sent.data.splitlines()[0])["schemaId"] == "c" * 24 + "1"


def test_nothing_is_sent_when_a_prediction_does_not_fit(server, model_run, tmp_path):
    bad = [
        *predictions(),
        {"dataRow": {"globalKey": "img-9"}, "name": "wheeel", "point": {"x": 1, "y": 1}},
    ]
    with pytest.raises(lbfast.ValidationError) as err:
        upload_to_model_run(model_run, bad, ontology=ONTOLOGY, out_dir=tmp_path)
    assert server.operations() == ["modelRun"]  # get_model_run only
    assert list(tmp_path.iterdir()) == []
    assert err.value.report.counts == {"unknown_tool": 1}
    assert "did you mean 'wheel'?" in str(err.value)


def test_the_sdks_per_data_row_limit_leaves_no_shard_and_sends_nothing(server, model_run, tmp_path):
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
    with pytest.raises(lbfast.ValidationError):
        upload_to_model_run(model_run, items, out_dir=tmp_path, max_rows=6000)
    assert server.uploads == [] and list(tmp_path.iterdir()) == []


def test_label_import_is_an_importer_for_ground_truth(server, project):
    items = [{"dataRow": {"globalKey": "img-0"}, "name": "wheel", "point": {"x": 1, "y": 2}}]
    upload = upload_to_project(project, items, name="gt", importer=labelbox.LabelImport, **FAST)
    (sent,) = server.uploads
    assert sent.operation == "createLabelImport" and sent.name == "gt"
    assert isinstance(upload.imports[0], labelbox.LabelImport)


# --- server-side failures reach the user, naming the shard ---------------------------


def test_an_http_500_names_the_shard(server, model_run, tmp_path, fast_sdk_retries):
    server.fail(MEA, status=500, name="big-2-of-3")
    with pytest.raises(UploadError) as err:
        upload_to_model_run(model_run, predictions(), name="big", out_dir=tmp_path, max_rows=3)
    e = err.value
    assert e.shard == "big-2-of-3"
    assert e.path == str(tmp_path / "big-00001.ndjson")
    message = str(e)
    assert message.startswith("shard 2 of 3 (import 'big-2-of-3', ")
    assert "Internal server http error 500" in message
    assert "imports started before it: big-1-of-3" in message
    assert e.upload.names == ["big-1-of-3"]
    # The SDK retried (its own policy) before giving up; the third shard was not sent.
    attempts = [r for r in server.requests if r.variables.get("name") == "big-2-of-3"]
    assert len(attempts) > 1
    assert [u.name for u in server.uploads] == ["big-1-of-3"]
    assert fast_sdk_retries.now > 60  # the SDK's backoff ran, on the virtual clock


def test_an_import_that_does_not_finish_in_time_names_the_shard(server, model_run, tmp_path):
    server.running_polls = 10**9  # never finishes
    with pytest.raises(UploadError, match=r"still RUNNING after 0\.05 s") as err:
        upload_to_model_run(
            model_run,
            predictions(),
            name="slow",
            out_dir=tmp_path,
            wait=True,
            poll_interval=0.01,
            timeout=0.05,
        )
    assert err.value.shard == "slow"
    assert str(err.value).startswith("shard 1 of 1 (import 'slow', ")
    assert err.value.upload.names == ["slow"]  # it was started


def test_a_slow_reply_within_the_sdks_timeout_is_waited_for(server, model_run):
    server.fail(MEA, status=200, delay=0.2)
    upload = upload_to_model_run(model_run, predictions(1), name="patient", **FAST)
    assert upload.imports[0].state.value == "FINISHED"


@pytest.mark.parametrize("state", ["FAILED", "FINISHED"])
def test_failed_lines_name_the_shard_and_the_line(state, server, model_run, tmp_path):
    errors = [
        {
            "uuid": "wheel-2",
            "dataRow": {"globalKey": "img-2"},
            "errors": [{"name": "ValidationError", "message": "wheel is not in the ontology"}],
        }
    ]
    server.end_import("job-2-of-2", state, errors)
    with pytest.raises(UploadError) as err:
        upload_to_model_run(
            model_run, predictions(), name="job", out_dir=tmp_path, max_rows=4, **FAST
        )
    e = err.value
    assert e.shard == "job-2-of-2"
    # The second shard is box-2, wheel-2, tags.
    lines = Path(e.path).read_bytes().splitlines()
    line = next(i for i, raw in enumerate(lines, 1) if json.loads(raw).get("uuid") == "wheel-2")
    assert line == 2
    assert e.line_errors == [{**errors[0], "line": line}]
    ended = "ended FAILED" if state == "FAILED" else "finished"
    assert str(e) == (
        f"shard 2 of 2 (import 'job-2-of-2', {e.path}): the import {ended} with 1 failed line:\n"
        f"  line {line} (uuid 'wheel-2', dataRow {{'globalKey': 'img-2'}}): "
        "wheel is not in the ontology"
    )
    assert [i.state.value for i in e.upload.imports] == ["FINISHED", state]
