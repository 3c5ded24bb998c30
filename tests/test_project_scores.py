"""What a project import does not take (confidence, custom metrics), checked before
anything is written, for every entrance; and the hand-off's one pass over predictions.
(The uploads themselves: test_handoff_server.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lbfast
from lbfast import columnar
from lbfast import types as lb
from lbfast.labelbox import write_for_upload
from lbfast.ontology import Validator


def typed_label() -> lb.Label:
    answer = lb.ClassificationAnswer(
        name="red", confidence=0.8, custom_metrics=[{"name": "m", "value": 1}]
    )
    color = lb.ClassificationAnnotation(name="color", value=lb.Radio(answer=answer))
    car = lb.ObjectAnnotation(
        name="car",
        value=lb.Point(x=1, y=2),
        confidence=0.5,
        classifications=[color],
    )
    return lb.Label(data={"global_key": "img"}, annotations=[car])


def problems(err: lbfast.ValidationError) -> list[tuple[int, str, str]]:
    return [(e["row"], e["path"], e["kind"]) for e in err.errors()]


def test_typed_scores_are_refused_at_every_depth(tmp_path):
    with pytest.raises(lbfast.ValidationError) as err:
        write_for_upload([typed_label()], tmp_path, scores="refuse")
    assert problems(err.value) == [
        (0, "annotations[0].confidence", "not_for_project"),
        (0, "annotations[0].classifications[0].value.answer.confidence", "not_for_project"),
        (0, "annotations[0].classifications[0].value.answer.custom_metrics", "not_for_project"),
    ]
    first = err.value.errors()[0]
    assert "a project import" in first["message"] and "strip_scores=True" in first["suggestion"]
    assert list(tmp_path.iterdir()) == []


def test_dict_scores_are_refused_with_dict_paths(tmp_path):
    items = [
        {"dataRow": {"globalKey": "a"}, "name": "wheel", "point": {"x": 1, "y": 1}},
        {
            "dataRow": {"globalKey": "a"},
            "name": "tags",
            "answer": [{"name": "blurry"}, {"name": "dark", "confidence": 0.2}],
        },
        {
            "dataRow": {"globalKey": "a"},
            "name": "caption",
            "answer": "a cat",
            "customMetrics": [{"name": "bleu", "value": 0.3}],
        },
    ]
    with pytest.raises(lbfast.ValidationError) as err:
        write_for_upload(items, tmp_path, scores="refuse")
    assert problems(err.value) == [
        (1, "answer[1].confidence", "not_for_project"),
        (2, "customMetrics", "not_for_project"),
    ]


def test_columnar_score_columns_are_refused_once_each(tmp_path):
    boxes = columnar.Boxes(
        np.array([[0, 0, 2, 2], [1, 1, 3, 3]], dtype=float),
        data_rows=["a", "b"],
        features=["car"],
        confidence=np.array([0.5, 0.6]),
        subclass=columnar.RadioSubclass(
            "color", ["red"], np.array([0, 0]), confidence=np.array([0.1, 0.2])
        ),
    )
    dicts = [
        {
            "dataRow": {"globalKey": "c"},
            "name": "wheel",
            "point": {"x": 1, "y": 1},
            "confidence": 0.1,
        }
    ]
    with pytest.raises(lbfast.ValidationError) as err:
        write_for_upload([boxes, *dicts], tmp_path, scores="refuse")
    # The batch is rows 0 and 1; the dict after it is row 2.
    assert problems(err.value) == [
        (0, "confidence", "not_for_project"),
        (0, "subclass.confidence", "not_for_project"),
        (2, "confidence", "not_for_project"),
    ]


def test_stripped_scores_are_left_out_with_a_warning_each(tmp_path):
    boxes = columnar.Boxes(
        np.array([[0, 0, 2, 2]], dtype=float), data_rows=["a"], features=["car"], confidence=[0.5]
    )
    manifest, report = write_for_upload([typed_label(), boxes], tmp_path, scores="strip")
    data = b"".join(Path(s["path"]).read_bytes() for s in manifest["shards"])
    assert b"confidence" not in data and b"ustom" not in data
    assert [(w.row, w.path, w.kind) for w in report.warnings] == [
        (0, "annotations[0].confidence", "score_stripped"),
        (0, "annotations[0].classifications[0].value.answer.confidence", "score_stripped"),
        (0, "annotations[0].classifications[0].value.answer.custom_metrics", "score_stripped"),
        (1, "confidence", "score_stripped"),
    ]
    # The rest of each line is what dumps writes.
    assert len(data.splitlines()) == 2 and b'"name":"red"' in data


def test_a_model_run_keeps_every_score(tmp_path):
    manifest, report = write_for_upload([typed_label()], tmp_path)
    data = Path(manifest["shards"][0]["path"]).read_bytes()
    assert data.count(b"confidence") == 2 and b"customMetrics" in data
    assert report.warnings == []


def test_a_bad_score_is_an_error_even_when_stripped(tmp_path):
    item = {"dataRow": {"globalKey": "a"}, "name": "w", "point": {"x": 1, "y": 1}, "confidence": 2}
    with pytest.raises(lbfast.ValidationError) as err:
        write_for_upload([item], tmp_path, scores="strip")
    assert [e["kind"] for e in err.value.errors()] == ["confidence"]


class CountingLabel(lb.Label):
    """A Label that counts how often its annotations are read (once per lowering)."""

    __slots__ = ()
    reads = 0

    @property  # type: ignore[override]
    def annotations(self):
        CountingLabel.reads += 1
        return lb.Label.annotations.__get__(self)

    @annotations.setter
    def annotations(self, value):
        lb.Label.annotations.__set__(self, value)


def test_the_hand_off_lowers_and_checks_each_prediction_once(tmp_path):
    labels = [
        CountingLabel(
            data={"global_key": f"img-{i}"},
            annotations=[lb.ObjectAnnotation(name="car", value=lb.Point(x=i, y=1))],
        )
        for i in range(3)
    ]
    CountingLabel.reads = 0
    manifest, _ = write_for_upload(
        labels, tmp_path, ontology={"tools": [{"tool": "point", "name": "car"}]}
    )
    assert manifest["rows"] == 3
    assert CountingLabel.reads == 3


def test_a_validators_rows_continue_after_a_columnar_batch():
    boxes = columnar.Boxes(np.zeros((3, 4)), data_rows=["a", "b", "c"], features=["car"])
    v = Validator()
    v.check([boxes])
    (problem,) = v.check([{"dataRow": {"globalKey": "d"}, "point": {"x": 1, "y": 1}}])
    assert problem.row == 3
