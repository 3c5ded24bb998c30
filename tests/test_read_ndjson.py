"""Reading import NDJSON back: ``lbfast.loads``/``load``/``iter_load`` (typed Labels),
and the core's NDJSON reader behind ``validate_files`` (and ``lbfast validate``)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sdk_oracle import make_png, seed_ndjson, strict_loads
from test_properties import SETTINGS, build_object, build_question, objects, trees

import lbfast
import lbfast.types as t
from lbfast.ontology import Validator
from lbfast.ontology.files import SourceLines


def meaning(data: bytes) -> list[Any]:
    return [strict_loads(line) for line in data.splitlines()]


def assert_round_trip(data: bytes) -> None:
    again = lbfast.dumps(lbfast.loads(data))
    # Line by line; typed Labels write their relationships first (as the SDK does),
    # so the order of a Label's lines may change, never what they say.
    key = lambda line: json.dumps(line, sort_keys=True)  # noqa: E731
    assert sorted(meaning(again), key=key) == sorted(meaning(data), key=key)


# --- round trip ---------------------------------------------------------------------------

mask_images = st.sampled_from(
    [
        np.array([[0, 255], [255, 0]], dtype=np.uint8),
        np.array([[1, 1, 0], [0, 1, 0]], dtype=np.uint8) * 255,
    ]
)


flags = st.sampled_from([None, True, False])
counts = st.lists(st.integers(min_value=0, max_value=10**6), min_size=4, max_size=4)
confidences = st.lists(
    st.integers(min_value=0, max_value=20).map(lambda i: i / 20),
    min_size=2,
    max_size=5,
    unique=True,
)
metrics = st.one_of(
    st.builds(
        t.ScalarMetric,
        value=st.floats(min_value=0, max_value=1e8),
        metric_name=st.sampled_from([None, "my score", "dice é"]),
        feature_name=st.sampled_from([None, "car"]),
        aggregation=st.sampled_from([None, "SUM", "ARITHMETIC_MEAN"]),
    ),
    st.builds(
        t.ConfusionMatrixMetric,
        value=st.one_of(
            counts, confidences.flatmap(lambda cs: st.fixed_dictionaries({c: counts for c in cs}))
        ),
        metric_name=st.just("cm"),
        feature_name=st.sampled_from([None, "car"]),
        subclass_name=st.sampled_from([None, "wheel"]),
    ),
    confidences.flatmap(
        lambda cs: st.fixed_dictionaries({c: st.floats(min_value=0, max_value=1) for c in cs})
    ).map(lambda value: t.ScalarMetric(value=value, metric_name="by confidence")),
)


@st.composite
def label_sets(draw: Any) -> list[t.Label]:
    labels = []
    for k in range(draw(st.integers(min_value=1, max_value=3))):
        annotations: list[Any] = [build_object(t, o) for o in draw(st.lists(objects, max_size=3))]
        annotations += [build_question(t, q) for q in draw(st.lists(trees, max_size=2))]
        if draw(st.booleans()):
            png = make_png(draw(mask_images))
            annotations.append(
                t.ObjectAnnotation(name="m", value=t.Mask(mask=t.MaskData(im_bytes=png), color=255))
            )
        if draw(st.booleans()):
            url = t.MaskData(url="https://example.com/m.png")
            annotations.append(
                t.ObjectAnnotation(name="u", value=t.Mask(mask=url, color=(1, 2, 3)))
            )
        annotations += draw(st.lists(metrics, max_size=2))
        objects_made = [a for a in annotations if isinstance(a, t.ObjectAnnotation)]
        if len(objects_made) >= 2 and draw(st.booleans()):
            source, target = objects_made[0], objects_made[-1]
            kind = draw(st.sampled_from(["unidirectional", "bidirectional"]))
            rel = t.Relationship(source=source, target=target, type=kind, readonly=draw(flags))
            annotations.append(t.RelationshipAnnotation(name="rel", value=rel))
        for a in annotations:
            if draw(st.booleans()):
                a.extra = {"uuid": draw(st.uuids()).hex}
        data = {"uid": f"row-{k}"} if draw(st.booleans()) else {"global_key": f"key {k} é"}
        labels.append(t.Label(data=data, annotations=annotations))
    return labels


@SETTINGS
@given(labels=label_sets())
def test_dumps_of_loads_means_what_was_read_uuids_included(labels: list[t.Label]) -> None:
    data = lbfast.dumps(labels)
    assert_round_trip(data)
    loaded = lbfast.loads(data)
    assert len(loaded) == len([label for label in labels if label.annotations])


def test_the_guides_examples_round_trip() -> None:
    lines = []
    for i, (kind, line) in enumerate(seed_ndjson().items()):
        lines.append(
            {**line, "uuid": f"00000000-0000-4000-8000-{i:012d}", "dataRow": {"globalKey": kind}}
        )
    data = lbfast.dumps(lines)
    assert_round_trip(data)
    loaded = lbfast.loads(data)
    assert [label.data.global_key for label in loaded] == list(seed_ndjson())
    assert {a.extra["uuid"] for label in loaded for a in label.annotations} == {
        line["uuid"] for line in lines
    }


def test_metrics_and_relationships_come_back_typed_their_ends_the_objects() -> None:
    car = t.ObjectAnnotation(name="car", value=t.Point(x=1, y=2), extra={"uuid": "car-1"})
    wheel = t.ObjectAnnotation(name="wheel", value=t.Point(x=3, y=4))
    rel = t.RelationshipAnnotation(
        name="has", value=t.Relationship(source=car, target=wheel, type="bidirectional")
    )
    cm = t.ConfusionMatrixMetric(value={0.5: [1, 2, 3, 4], 0.9: (0, 0, 0, 1)}, metric_name="cm")
    label = t.Label(data={"global_key": "g"}, annotations=[rel, car, wheel, cm])
    data = lbfast.dumps([label])
    (back,) = lbfast.loads(data)
    rel_back, car_back, wheel_back, cm_back = back.annotations
    assert isinstance(rel_back, t.RelationshipAnnotation) and rel_back.name == "has"
    assert rel_back.value.source is car_back and rel_back.value.target is wheel_back
    assert rel_back.value.type == "bidirectional" and car_back.extra == {"uuid": "car-1"}
    assert isinstance(cm_back, t.ConfusionMatrixMetric)
    assert cm_back.value == {0.5: [1, 2, 3, 4], 0.9: [0, 0, 0, 1]}
    assert lbfast.dumps(lbfast.loads(data)) == data


def test_a_relationship_end_outside_its_data_row_is_an_error_at_its_line() -> None:
    lines = [
        {"uuid": "a", "dataRow": {"globalKey": "g"}, "name": "car", "point": {"x": 1, "y": 2}},
        {"uuid": "b", "dataRow": {"globalKey": "h"}, "name": "car", "point": {"x": 1, "y": 2}},
        {
            "dataRow": {"globalKey": "g"},
            "name": "has",
            "relationship": {"source": "a", "target": "b"},
        },
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.loads(data)
    (problem,) = caught.value.errors()
    assert (problem["row"], problem["path"], problem["kind"]) == (
        2,
        "relationship.target",
        "relationship_end",
    )
    assert "line 3" in str(caught.value)


def test_what_comes_back_is_typed_nested_and_in_file_order() -> None:
    png = make_png(np.array([[0, 255]], dtype=np.uint8))
    b64 = base64.b64encode(png).decode()
    text = "\n".join(
        json.dumps(line)
        for line in [
            {
                "uuid": "u1",
                "dataRow": {"globalKey": "b"},
                "name": "car",
                "confidence": 0.5,
                "bbox": {"top": 0.1, "left": 0.1, "height": 0.2, "width": 0.2},
                "classifications": [
                    {"name": "color", "answer": {"name": "red", "confidence": 0.25}}
                ],
            },
            {
                "uuid": "u2",
                "dataRow": {"id": "a"},
                "name": "tags",
                "answer": [{"name": "x"}, {"name": "y"}],
            },
            {"uuid": "u3", "dataRow": {"globalKey": "b"}, "name": "m", "mask": {"png": b64}},
            {
                "uuid": "u4",
                "dataRow": {"globalKey": "b"},
                "name": "why",
                "answer": "because",
                "messageId": "m1",
            },
        ]
    )
    b, a = lbfast.loads(text)
    assert b.data.global_key == "b" and a.data.uid == "a"
    box, mask, why = b.annotations
    assert isinstance(box, t.ObjectAnnotation) and isinstance(box.value, t.Rectangle)
    assert (box.value.start.x, box.value.start.y) == (0.1, 0.1)
    assert box.classifications[0].value.answer.confidence == 0.25
    assert box.extra == {"uuid": "u1"}
    assert isinstance(mask.value, t.Mask) and mask.value.mask.im_bytes == png
    assert isinstance(why.value, t.Text) and why.message_id == "m1"
    assert [x.name for x in a.annotations[0].value.answer] == ["x", "y"]
    # The box keeps its height exactly although 0.1 + 0.2 - 0.1 != 0.2 ...
    assert strict_loads(lbfast.dumps([b]).splitlines()[0])["bbox"]["height"] == 0.2
    # ... until it is moved.
    box.value.end.y = 1.0
    assert strict_loads(lbfast.dumps([b]).splitlines()[0])["bbox"]["height"] == 0.9


def test_gzip_files_and_iterating_in_blocks(tmp_path: Path) -> None:
    labels = [
        t.Label(
            data={"global_key": f"k{i // 3}"},
            annotations=[
                t.ObjectAnnotation(name="p", value=t.Point(x=i, y=1), extra={"uuid": f"u{i}"})
            ],
        )
        for i in range(30)
    ]
    data = lbfast.dumps(labels)
    path = tmp_path / "p.ndjson.gz"
    path.write_bytes(gzip.compress(data))
    whole = lbfast.load(path)
    assert len(whole) == 10 and all(len(label.annotations) == 3 for label in whole)
    assert lbfast.loads(gzip.compress(data)) == whole
    with open(path, "rb") as f:
        assert lbfast.load(f) == whole
    # Blocks of about two lines: a data row's lines span blocks and still make one Label.
    assert list(lbfast.iter_load(path, block_bytes=200)) == whole
    assert lbfast.dumps(lbfast.iter_load(path, block_bytes=200)) == data


# --- problems -----------------------------------------------------------------------------

GOOD = '{"dataRow": {"globalKey": "k"}, "name": "p", "point": {"x": 1, "y": 2}}'


def test_a_malformed_line_is_a_validation_error_naming_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.ndjson"
    bad_point = '{"dataRow": {"globalKey": "k"}, "name": "p", "point": {"x": "1", "y": 2}}'
    path.write_text(f"{GOOD}\n\n{{not json\n{bad_point}\n")
    with pytest.raises(lbfast.ValidationError) as raised:
        lbfast.load(path)
    message = str(raised.value)
    assert f"{path}:3: not valid JSON" in message
    assert f"{path}:4: point.x: expected a number, got str" in message
    with pytest.raises(lbfast.ValidationError, match="line 2: "):
        lbfast.loads(f"{GOOD}\n{{}}")


def test_a_line_nested_thousands_deep_is_an_error_with_its_line_never_a_crash(
    tmp_path: Path,
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(
        lbfast.ValidationError, match="line 2: not valid JSON: nested more than 128"
    ):
        lbfast.loads(f"{GOOD}\n{deep}\n")
    path = tmp_path / "deep.ndjson"
    path.write_text(f"{GOOD}\n{deep}\n" + '{"a": ' * 50_000 + "\n")
    report = lbfast.validate_files([path])
    assert [(p.kind, p.source) for p in report.errors] == [
        ("unreadable", f"{path}:2"),
        ("unreadable", f"{path}:3"),
    ]


def test_validate_files_reports_as_the_dicts_of_the_same_lines_are_reported(tmp_path: Path) -> None:
    lines = [
        GOOD,
        '{"dataRow": {"globalKey": "k"}, "name": "p", "point": {"x": 1, "y": 2}, "confidance": 1}',
        '{"dataRow": {"globalKey": "k"}, "name": "b", "bbox": {"top": 1, "left": 2, "height": -3, "width": 4}}',
        '{"dataRow": {"id": ""}, "name": "q", "answer": {"name": "a", "confidence": 2}}',
        '{"dataRow": {"globalKey": "k"}, "name": "p", "point": {"x": [1], "y": 2}}',
    ]
    path = tmp_path / "p.ndjson"
    path.write_text("\n".join(lines) + "\n")
    report = lbfast.validate_files([path])
    by_dicts = lbfast.validate([json.loads(line) for line in lines[:4]])
    found = [(p.row, p.path, p.kind, p.message) for p in report.errors]
    expected = [(p.row, p.path, p.kind, p.message) for p in by_dicts.errors]
    expected.append((4, "point.x", "type", "expected a number, got list"))
    assert found == expected
    assert [p.source for p in report.errors] == [f"{path}:{p.row + 1}" for p in report.errors]
    assert report.items == 5


def test_the_validator_checks_and_encodes_ndjson_text_as_its_dicts() -> None:
    data = (GOOD + "\n") * 3
    v = Validator()
    encoded = v.encode_ndjson(data.encode(), name="x", sources=SourceLines())
    assert encoded is not None and len(encoded) == 3
    written = [{k: v for k, v in line.items() if k != "uuid"} for line in meaning(encoded.data)]
    expected = meaning(lbfast.dumps([json.loads(GOOD)] * 3))
    assert written == [{k: v for k, v in line.items() if k != "uuid"} for line in expected]
    sources = SourceLines()
    bad = b"\n" + GOOD.replace('"y": 2', '"y": null').encode()
    problems = v.check_ndjson(bad, name="f", sources=sources, first_line=7)
    assert [(p.row, p.source) for p in problems] == [(3, "f:8")]
    assert v.rows == 4


def test_a_relationship_is_linked_across_the_blocks_files_are_read_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lbfast.ontology import files

    def label(k: int) -> list[dict[str, Any]]:
        row = {"globalKey": f"img-{k}"}
        return [
            {"uuid": f"s{k}", "dataRow": row, "name": "car", "point": {"x": 1, "y": 2}},
            {"uuid": f"t{k}", "dataRow": row, "name": "wheel", "point": {"x": 3, "y": 4}},
            {
                "uuid": f"r{k}",
                "dataRow": row,
                "name": "has",
                "relationship": {"source": f"s{k}", "target": f"t{k}"},
            },
        ]

    lines = [json.dumps(line) for k in range(40) for line in label(k)]
    path = tmp_path / "rel.ndjson"
    path.write_text("\n".join(lines) + "\n")
    # Blocks of about 1 KB: many cut a Label's lines apart.
    monkeypatch.setattr(files, "BLOCK_BYTES", 1000)
    report = lbfast.validate_files([path])
    assert report.errors == [] and report.items == 120
    assert lbfast.dumps(list(lbfast.iter_load(path, block_bytes=1000))) == lbfast.dumps(
        lbfast.load(path)
    )
    # An end that is in another data row is still refused, at its line.
    lines[2] = lines[2].replace('"t0"', '"t1"')
    path.write_text("\n".join(lines) + "\n")
    report = lbfast.validate_files([path])
    assert [(p.source, p.kind) for p in report.errors] == [(f"{path}:3", "relationship_end")]
    with pytest.raises(lbfast.ValidationError, match=r"rel.ndjson:3: relationship.target"):
        list(lbfast.iter_load(path.open("rb"), block_bytes=1000))


@pytest.mark.parametrize("compressed", [False, True])
def test_a_file_is_read_in_blocks_of_whole_lines_numbered_as_the_file(
    tmp_path, monkeypatch, compressed
):
    from lbfast.ontology import files

    text = b"".join(b'{"line": %d, "pad": "%s"}\n' % (i, b"x" * (i % 7)) for i in range(200))
    text += b"\n\r\n" + b'{"last": true}'  # blank lines, and no line end at the end
    path = tmp_path / "a.ndjson"
    path.write_bytes(gzip.compress(text) if compressed else text)
    monkeypatch.setattr(files, "BLOCK_BYTES", 500)
    sizes: list[int] = []
    at = 0
    for block, first_line in files.ndjson_file_blocks(path, on_bytes=sizes.append):
        data = text[at : at + sizes[-1]]
        assert first_line == text[:at].count(b"\n") + 1
        assert data.endswith(b"\n") or at + len(data) == len(text), "whole lines"
        assert len(block) == len(data) and (not isinstance(block, bytes) or block == data)
        # What the core reads of the block (in place, when the core read the file).
        _, _, lines = lbfast._core.check_ndjson(block, first_line=first_line)
        numbered = enumerate(data.split(b"\n"), first_line)
        assert list(lines) == [n for n, line in numbered if line.strip()]
        at += len(data)
    assert at == len(text) and len(sizes) > 5
    assert isinstance(block, bytes) == compressed, "a plain file is read by the core"


def test_a_blocks_line_ends_are_counted_whether_or_not_it_was_read(tmp_path, monkeypatch):
    # The core counts a block's line ends while reading it, and the file counts them
    # itself for a block that was not read (or read in part).
    from lbfast.ontology import files

    text = b"".join(b'{"line": %d}\n%s' % (i, b"\n" * (i % 3)) for i in range(300))
    path = tmp_path / "a.ndjson"
    path.write_bytes(text)
    monkeypatch.setattr(files, "BLOCK_BYTES", 400)
    at = 0
    for k, (block, first_line) in enumerate(files.ndjson_file_blocks(path)):
        assert first_line == text[:at].count(b"\n") + 1
        if k % 2:
            lbfast._core.check_ndjson(block, first_line=first_line)
        at += len(block)
    assert at == len(text) and k > 5
