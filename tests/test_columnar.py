"""Columnar batches: the same lines as the typed path, the same validator, any array."""

from __future__ import annotations

import json
import math
import threading
import time
import uuid

import numpy as np
import pytest

import lbfast
import lbfast.types as lb
from lbfast import _core
from lbfast.columnar import (
    LBFAST_NAMESPACE,
    Boxes,
    GlobalClassifications,
    Points,
    Polygons,
    Polylines,
    RadioSubclass,
)

RNG = np.random.default_rng(1234)
SCHEMA_IDS = [f"ckq{i:022d}" for i in range(8)]


def parsed(ndjson: bytes, keep_uuid: bool = False) -> list[dict]:
    rows = [json.loads(line) for line in ndjson.splitlines()]
    if not keep_uuid:
        for row in rows:
            row.pop("uuid")
    return rows


def same_lines(columns, labels):
    """The columnar batch and the typed labels write the same lines (uuids aside)."""
    got = parsed(lbfast.dumps([columns]))
    expected = parsed(lbfast.dumps(labels))
    assert got == expected
    return got


def data(key: str, by_id: bool) -> dict:
    return {"uid": key} if by_id else {"global_key": key}


def feature_kwargs(value: str, schema: bool) -> dict:
    return {"feature_schema_id": value} if schema else {"name": value}


def scenario(n=40, images=7, features=3, by_id=False, schema=False):
    keys = [f"ck{'i' if by_id else 'g'}{k:022d}" for k in range(images)]
    names = SCHEMA_IDS[:features] if schema else [f"class-{k}" for k in range(features)]
    image_index = RNG.integers(0, images, n)
    class_ids = RNG.integers(0, features, n)
    confidence = RNG.random(n).astype(np.float32)
    return keys, names, image_index, class_ids, confidence


def corners(box, box_format, size=None):
    a, b, c, d = (float(v) for v in box)
    if size is not None:
        w, h = (float(v) for v in size)
        a, b, c, d = a * w, b * h, c * w, d * h
    if box_format == "xyxy":
        return a, b, c, d
    if box_format == "xywh":
        return a, b, a + c, b + d
    return a - c / 2, b - d / 2, a + c / 2, b + d / 2


@pytest.mark.parametrize("box_format", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize(("by_id", "schema"), [(False, False), (True, True), (False, True)])
def test_boxes_write_what_typed_rectangles_write(box_format, normalized, by_id, schema):
    keys, names, image_index, class_ids, confidence = scenario(by_id=by_id, schema=schema)
    n = len(image_index)
    if normalized:
        boxes = RNG.random((n, 4)) * 0.5
        sizes = RNG.integers(100, 4000, (len(keys), 2))
    else:
        boxes = (RNG.random((n, 4)) * 1000).astype(np.float32)
        sizes = None
    batch = Boxes(
        boxes,
        data_rows=keys,
        features=names,
        image_index=image_index,
        class_ids=class_ids,
        confidence=confidence,
        box_format=box_format,
        normalized=normalized,
        image_sizes=sizes,
        data_row_kind="id" if by_id else "global_key",
        feature_kind="schema_id" if schema else "name",
    )
    labels = []
    for i in range(n):
        size = sizes[image_index[i]] if normalized else None
        x1, y1, x2, y2 = corners(boxes[i], box_format, size)
        rect = lb.Rectangle(start=lb.Point(x=x1, y=y1), end=lb.Point(x=x2, y=y2))
        ann = lb.ObjectAnnotation(
            value=rect,
            confidence=float(confidence[i]),
            **feature_kwargs(names[class_ids[i]], schema),
        )
        labels.append(lb.Label(data=data(keys[image_index[i]], by_id), annotations=[ann]))
    rows = same_lines(batch, labels)
    assert len(rows) == n
    assert "id" in rows[0]["dataRow"] if by_id else "globalKey" in rows[0]["dataRow"]


def test_bbox_with_nested_radio_is_the_seeds_shape():
    keys, names, image_index, class_ids, confidence = scenario()
    n = len(image_index)
    boxes = RNG.random((n, 4)) * 500
    answers = ["first_sub_radio_answer", "second_sub_radio_answer"]
    answer_ids = RNG.integers(0, 2, n)
    sub_conf = RNG.random(n)
    batch = Boxes(
        boxes,
        data_rows=keys,
        features=names,
        image_index=image_index,
        class_ids=class_ids,
        confidence=confidence,
        subclass=RadioSubclass("sub_radio_question", answers, answer_ids, confidence=sub_conf),
    )
    labels = []
    for i in range(n):
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        nested = lb.ClassificationAnnotation(
            name="sub_radio_question",
            value=lb.Radio(
                answer=lb.ClassificationAnswer(
                    name=answers[answer_ids[i]], confidence=float(sub_conf[i])
                )
            ),
        )
        ann = lb.ObjectAnnotation(
            name=names[class_ids[i]],
            confidence=float(confidence[i]),
            value=lb.Rectangle(start=lb.Point(x=x1, y=y1), end=lb.Point(x=x2, y=y2)),
            classifications=[nested],
        )
        labels.append(lb.Label(data={"global_key": keys[image_index[i]]}, annotations=[ann]))
    rows = same_lines(batch, labels)
    assert rows[0]["classifications"] == [
        {
            "name": "sub_radio_question",
            "answer": {"confidence": float(sub_conf[0]), "name": answers[answer_ids[0]]},
        }
    ]


@pytest.mark.parametrize("schema", [False, True])
def test_points_write_what_typed_points_write(schema):
    keys, names, image_index, class_ids, confidence = scenario(schema=schema)
    points = RNG.integers(-50, 3000, (len(image_index), 2)).astype(np.int32)
    batch = Points(
        points,
        data_rows=keys,
        features=names,
        image_index=image_index,
        class_ids=class_ids,
        confidence=confidence,
        feature_kind="schema_id" if schema else "name",
    )
    labels = [
        lb.Label(
            data={"global_key": keys[image_index[i]]},
            annotations=[
                lb.ObjectAnnotation(
                    value=lb.Point(x=float(x), y=float(y)),
                    confidence=float(confidence[i]),
                    **feature_kwargs(names[class_ids[i]], schema),
                )
            ],
        )
        for i, (x, y) in enumerate(points)
    ]
    same_lines(batch, labels)


def ragged(n, low, high):
    counts = RNG.integers(low, high, n)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    coords = RNG.random((int(offsets[-1]), 2)) * 800
    return coords, offsets


@pytest.mark.parametrize(
    ("cls", "typed", "low"), [(Polylines, lb.Line, 2), (Polygons, lb.Polygon, 3)]
)
def test_polylines_and_polygons_write_what_typed_ones_write(cls, typed, low):
    keys, names, image_index, class_ids, confidence = scenario(n=25)
    coords, offsets = ragged(25, low, 12)
    # One ring already closed: it must not be closed twice.
    coords[offsets[1] - 1] = coords[offsets[0]]
    batch = cls(
        coords,
        offsets,
        data_rows=keys,
        features=names,
        image_index=image_index,
        class_ids=class_ids,
        confidence=confidence,
    )
    labels = []
    for i in range(25):
        pts = [lb.Point(x=float(x), y=float(y)) for x, y in coords[offsets[i] : offsets[i + 1]]]
        ann = lb.ObjectAnnotation(
            name=names[class_ids[i]], confidence=float(confidence[i]), value=typed(points=pts)
        )
        labels.append(lb.Label(data={"global_key": keys[image_index[i]]}, annotations=[ann]))
    rows = same_lines(batch, labels)
    if cls is Polygons:
        assert all(row["polygon"][0] == row["polygon"][-1] for row in rows)
        assert len(rows[0]["polygon"]) == offsets[1] - offsets[0]


@pytest.mark.parametrize(("by_id", "schema"), [(False, False), (True, True)])
def test_global_radio_checklist_and_text_write_what_typed_ones_write(by_id, schema):
    keys = [f"ck{k:023d}" for k in range(6)]
    question = SCHEMA_IDS[7] if schema else "the_question"
    answers = SCHEMA_IDS[:4] if schema else ["a", "b", "c", "d"]
    kinds = {
        "data_row_kind": "id" if by_id else "global_key",
        "feature_kind": "schema_id" if schema else "name",
    }

    def label(i, value):
        ann = lb.ClassificationAnnotation(value=value, **feature_kwargs(question, schema))
        return lb.Label(data=data(keys[i], by_id), annotations=[ann])

    def answer(k, c):
        return lb.ClassificationAnswer(confidence=c, **feature_kwargs(answers[k], schema))

    ids = RNG.integers(0, 4, 6)
    conf = RNG.random(6)
    radio = GlobalClassifications(
        "radio", question, data_rows=keys, answers=answers, answer_ids=ids, confidence=conf, **kinds
    )
    same_lines(radio, [label(i, lb.Radio(answer=answer(ids[i], float(conf[i])))) for i in range(6)])

    offsets = np.array([0, 2, 2, 3, 7, 8, 10])
    flat = RNG.integers(0, 4, 10)
    flat_conf = RNG.random(10)
    checklist = GlobalClassifications(
        "checklist",
        question,
        data_rows=keys,
        answers=answers,
        answer_ids=flat,
        offsets=offsets,
        confidence=flat_conf,
        **kinds,
    )
    expected = [
        label(
            i,
            lb.Checklist(
                answer=[
                    answer(flat[j], float(flat_conf[j])) for j in range(offsets[i], offsets[i + 1])
                ]
            ),
        )
        for i in range(6)
    ]
    rows = same_lines(checklist, expected)
    assert rows[1]["answer"] == []

    texts = ["plain", 'quoted "x"', "new\nline", "café 😀", "", "tab\t"]
    text = GlobalClassifications(
        "text",
        question,
        data_rows=keys[::-1],
        image_index=np.arange(6)[::-1],
        texts=texts,
        confidence=conf,
        **kinds,
    )
    same_lines(
        text, [label(i, lb.Text(answer=texts[i], confidence=float(conf[i]))) for i in range(6)]
    )


def test_without_confidence_none_is_written_and_defaults_apply():
    batch = Boxes([[0, 0, 2, 2], [1, 1, 3, 3]], data_rows=["a", "b"], features=["car"])
    rows = parsed(lbfast.dumps([batch]))
    assert [r["dataRow"]["globalKey"] for r in rows] == ["a", "b"]
    assert all("confidence" not in r and r["name"] == "car" for r in rows)
    assert len(batch) == 2


def test_columnar_batches_mix_with_labels_and_dicts_in_input_order():
    label = lb.Label(
        data={"global_key": "L"},
        annotations=[lb.ObjectAnnotation(name="p", value=lb.Point(x=1, y=2))],
    )
    row = {"name": "d", "dataRow": {"globalKey": "D"}, "point": {"x": 3, "y": 4}}
    boxes = Boxes([[0, 0, 1, 1]] * 3, data_rows=["B0", "B1", "B2"], features=["b"])
    rows = parsed(lbfast.dumps([label, boxes, row, boxes]))
    assert [r["dataRow"]["globalKey"] for r in rows] == [
        "L",
        "B0",
        "B1",
        "B2",
        "D",
        "B0",
        "B1",
        "B2",
    ]


def test_empty_batches_write_nothing():
    assert lbfast.dumps([Boxes(np.zeros((0, 4)), data_rows=[], features=["car"])]) == b""
    assert lbfast.dumps([Polygons(np.zeros((0, 2)), [0], data_rows=[], features=["car"])]) == b""
    assert lbfast.dumps([Boxes([], data_rows=[], features=["car"])]) == b""


# --- inputs -------------------------------------------------------------------------


class TensorLike:
    """Like a CPU torch tensor: not an ndarray, but has __array__."""

    def __init__(self, array):
        self._array = np.asarray(array)

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)


def reference_lines(boxes, confidence):
    batch = Boxes(
        np.asarray(boxes, dtype=np.float64),
        data_rows=["g"],
        features=["car"],
        image_index=np.zeros(len(boxes), dtype=np.int64),
        confidence=np.asarray(confidence, dtype=np.float64),
    )
    return parsed(lbfast.dumps([batch]))


@pytest.mark.parametrize(
    "dtype",
    [
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint64,
        ">f8",
        ">i4",
    ],
)
def test_every_numeric_dtype_is_converted_exactly(dtype):
    boxes = np.array([[1, 2, 30, 40], [5, 6, 70, 80], [0, 0, 100, 120]]).astype(dtype)
    index = np.zeros(3, dtype=dtype if np.dtype(dtype).kind in "iu" else np.int32)
    conf = np.array([0.5, 0.25, 1.0], dtype=np.float16 if dtype == np.float16 else np.float32)
    got = parsed(
        lbfast.dumps(
            [Boxes(boxes, data_rows=["g"], features=["car"], image_index=index, confidence=conf)]
        )
    )
    assert got == reference_lines(boxes.astype(np.float64), conf.astype(np.float64))


def test_non_contiguous_fortran_and_tensor_like_inputs():
    base = RNG.random((20, 8)) * 100
    strided = base[::2, 1:8:2]  # (10, 4), neither C- nor F-contiguous
    assert not strided.flags.c_contiguous and not strided.flags.f_contiguous
    fortran = np.asfortranarray(strided)
    conf = RNG.random(20)[::2]
    expected = reference_lines(np.ascontiguousarray(strided), np.ascontiguousarray(conf))
    for boxes in (strided, fortran, TensorLike(strided), strided.tolist()):
        batch = Boxes(
            boxes,
            data_rows=["g"],
            features=["car"],
            image_index=TensorLike(np.zeros(10, np.int64)),
            confidence=conf,
        )
        assert parsed(lbfast.dumps([batch])) == expected
    transposed = np.ascontiguousarray(strided.T).T  # F-order view
    batch = Boxes(
        transposed, data_rows=["g"], features=["car"], image_index=[0] * 10, confidence=conf
    )
    assert parsed(lbfast.dumps([batch])) == expected


def test_wrong_dtypes_are_type_errors_naming_the_field():
    with pytest.raises(
        TypeError, match=r"row 0: boxes: expected numbers, got an array of dtype <U1"
    ):
        lbfast.dumps([Boxes([["a", "b", "c", "d"]], data_rows=["g"], features=["car"])])
    with pytest.raises(
        TypeError, match=r"class_ids: expected integers, got an array of dtype float64"
    ):
        lbfast.dumps([Boxes([[0, 0, 1, 1]], data_rows=["g"], features=["a", "b"], class_ids=[1.0])])
    with pytest.raises(TypeError, match=r"data_rows\[1\]: expected a string, got int"):
        lbfast.dumps([Boxes([[0, 0, 1, 1]] * 2, data_rows=["g", 7], features=["car"])])
    with pytest.raises(ValueError, match="box_format"):
        Boxes([[0, 0, 1, 1]], data_rows=["g"], features=["car"], box_format="xyzw")
    with pytest.raises(TypeError, match="needs answers, answer_ids"):
        GlobalClassifications("radio", "q", data_rows=["g"])


# --- validation -----------------------------------------------------------------------


def errors_of(items):
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.dumps(items)
    return [(e["row"], e["path"], e["message"]) for e in caught.value.errors()]


def test_every_bad_prediction_is_reported_at_once_by_index_and_field():
    boxes = np.array(
        [
            [0, 0, 10, 10],
            [0, math.nan, 10, 10],
            [0, 0, -3, 10],
            [0, 0, 10, 10],
            [0, 0, 10, math.inf],
            [0, 0, 10, 10],
        ]
    )
    batch = Boxes(
        boxes,
        data_rows=["a", "b"],
        features=["car", "bus"],
        image_index=[0, 1, 1, 2, 0, 0],
        class_ids=[0, 1, 0, 1, 0, 5],
        confidence=[0.5, 0.5, 0.5, 0.5, 0.5, 1.5],
        box_format="xywh",
    )
    assert [(row, path) for row, path, _ in errors_of([batch])] == [
        (1, "boxes[1][1]"),
        (2, "boxes[2][2]"),
        (3, "image_index[3]"),
        (4, "boxes[4][3]"),
        (5, "class_ids[5]"),
        (5, "confidence[5]"),
    ]
    messages = dict(((row, path), message) for row, path, message in errors_of([batch]))
    assert messages[(1, "boxes[1][1]")] == "coordinate must be finite, got NaN"
    assert messages[(2, "boxes[2][2]")] == "width must not be negative, got -3"
    assert messages[(3, "image_index[3]")] == (
        "image index must be within [0, 2) (an index into data_rows), got 2"
    )
    assert (
        messages[(5, "class_ids[5]")]
        == "class id must be within [0, 2) (an index into features), got 5"
    )
    assert messages[(5, "confidence[5]")] == "confidence must be a number within [0, 1], got 1.5"


def test_negative_height_in_cxcywh_but_not_inverted_corners_in_xyxy():
    assert errors_of(
        [Boxes([[5, 5, 2, -1]], data_rows=["g"], features=["c"], box_format="cxcywh")]
    ) == [(0, "boxes[0][3]", "height must not be negative, got -1")]
    rows = parsed(lbfast.dumps([Boxes([[10, 10, 2, 3]], data_rows=["g"], features=["c"])]))
    assert rows[0]["bbox"] == {"top": 3.0, "left": 2.0, "height": 7.0, "width": 8.0}


def test_batch_level_problems_are_at_the_batch_first_row():
    label = lb.Label(data={"global_key": "L"}, annotations=[])
    found = errors_of(
        [
            label,
            Boxes(
                np.zeros((3, 4)),
                data_rows=["a", "b"],
                features=["car", "bus"],
                confidence=[0.5, 0.5],
            ),
            Boxes(np.zeros((2, 3)), data_rows=["a", "b"], features=["car"]),
            Boxes(np.zeros((2, 4)), data_rows=["a", "b"], features=["car"], normalized=True),
            Points(
                np.zeros((2, 2)),
                data_rows=["a", "b"],
                features=["car"],
                class_ids=np.zeros((2, 1), int),
            ),
        ]
    )
    assert found == [
        (
            1,
            "data_rows",
            "without image_index, data_rows must have one entry per prediction (3), got 2",
        ),
        (1, "confidence", "expected 3 values, one per prediction, got 2"),
        (1, "class_ids", "class_ids is needed when there is more than one feature (got 2)"),
        (4, "boxes", "expected shape (N, 4), got (2, 3)"),
        (6, "image_sizes", "normalized boxes need image_sizes, one (width, height) per data row"),
        (8, "class_ids", "expected shape (N,), got (2, 1)"),
    ]


def test_offsets_and_point_counts():
    coords = np.zeros((7, 2))
    coords[:, 0] = np.arange(7)
    found = errors_of([Polygons(coords, [1, 4, 2, 6], data_rows=["a"] * 3, features=["p"])])
    assert found == [
        (0, "offsets[0]", "offsets must start at 0, got 1"),
        (1, "offsets[2]", "offsets must not decrease: offsets[1] is 4, offsets[2] is 2"),
        (2, "offsets[3]", "the last offset must be the number of coordinates, 7, got 6"),
    ]
    found = errors_of(
        [
            Polygons(coords, [0, 2, 7], data_rows=["a", "b"], features=["p"]),
            Polylines(coords, [0, 1, 7], data_rows=["a", "b"], features=["l"]),
        ]
    )
    assert found == [
        (0, "coords[0:2]", "a polygon must have at least 3 points, got 2"),
        (2, "coords[0:1]", "a line must have at least 2 points, got 1"),
    ]
    coords[5, 1] = math.nan
    assert errors_of([Polylines(coords, [0, 3, 7], data_rows=["a", "b"], features=["l"])]) == [
        (1, "coords[5][1]", "coordinate must be finite, got NaN")
    ]


def test_classification_and_subclass_problems():
    found = errors_of(
        [
            GlobalClassifications(
                "radio",
                "q",
                data_rows=["a", "b"],
                answers=["x"],
                answer_ids=[0, 1],
                confidence=[0.5, -1],
            ),
            Boxes(
                np.zeros((2, 4)),
                data_rows=["a", "b"],
                features=["car"],
                subclass=RadioSubclass("q", ["x", "y"], [2, 0], confidence=[0.5, math.nan]),
            ),
            GlobalClassifications(
                "checklist", "q", data_rows=["a"], answers=["x"], answer_ids=[0, 3], offsets=[0, 2]
            ),
        ]
    )
    assert found == [
        (1, "answer_ids[1]", "answer id must be within [0, 1) (an index into answers), got 1"),
        (1, "confidence[1]", "confidence must be a number within [0, 1], got -1"),
        (
            2,
            "subclass.answer_ids[0]",
            "answer id must be within [0, 2) (an index into answers), got 2",
        ),
        (3, "subclass.confidence[1]", "confidence must be a number within [0, 1], got NaN"),
        (4, "answer_ids[1]", "answer id must be within [0, 1) (an index into answers), got 3"),
    ]


def test_a_bad_schema_id_or_data_row_is_reported_on_each_prediction_that_uses_it():
    # As typed Labels and dicts do, which name both on every prediction; an entry no
    # prediction uses is reported at the batch's first row.
    found = errors_of(
        [
            Boxes(
                np.zeros((2, 4)),
                data_rows=["a", "", ""],
                features=["short", "x" * 24],
                feature_kind="schema_id",
                image_index=[0, 1],
                class_ids=[0, 0],
            )
        ]
    )
    no_data_row = "data row must have exactly one non-empty id or global key, got neither"
    assert found == [
        (0, "data_rows[2]", no_data_row),
        (0, "features[1]", 'schema id must be 25 characters long, got 24 ("' + "x" * 24 + '")'),
        (0, "features[0]", 'schema id must be 25 characters long, got 5 ("short")'),
        (1, "data_rows[1]", no_data_row),
        (1, "features[0]", 'schema id must be 25 characters long, got 5 ("short")'),
    ]


def test_millions_of_problems_are_capped_with_a_count_and_nothing_is_written(tmp_path):
    n = 200_000
    batch = Boxes(
        np.zeros((n, 4)),
        data_rows=["g"],
        features=["car"],
        image_index=np.zeros(n, int),
        confidence=np.full(n, 2.0),
    )
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.dump([batch], tmp_path / "out.ndjson")
    errors = caught.value.errors()
    assert len(errors) == 1001
    assert [e["row"] for e in errors[:1000]] == list(range(1000))
    assert errors[-1]["message"].startswith(f"{n - 1000} more problems")
    assert list(tmp_path.iterdir()) == []


# --- ids and threads --------------------------------------------------------------------


def big_batch(n=30_000, ids="deterministic"):
    rng = np.random.default_rng(99)
    return Boxes(
        rng.random((n, 4)).astype(np.float32) * 1000,
        data_rows=[f"img-{k}" for k in range(n // 10)],
        features=["car", "bus", "person"],
        image_index=np.arange(n) // 10,
        class_ids=rng.integers(0, 3, n),
        confidence=rng.random(n).astype(np.float32),
        ids=ids,
    )


def test_deterministic_ids_are_uuid5_of_the_documented_name_and_repeat():
    batch = big_batch(50)
    first = lbfast.dumps([batch])
    assert first == lbfast.dumps([batch])
    rows = parsed(first, keep_uuid=True)
    classes = ["car", "bus", "person"]
    for i in (0, 17, 49):
        name = "\0".join(
            ["bbox", "globalKey", f"img-{i // 10}", "name", classes[batch.class_ids[i]], str(i)]
        )
        assert rows[i]["uuid"] == str(uuid.uuid5(LBFAST_NAMESPACE, name))
    mine = uuid.UUID("12345678-1234-5678-1234-567812345678")
    other = parsed(lbfast.dumps([big_batch(50, ids=mine)]), keep_uuid=True)
    assert other[0]["uuid"] != rows[0]["uuid"]
    name = "\0".join(["bbox", "globalKey", "img-0", "name", classes[batch.class_ids[0]], "0"])
    assert other[0]["uuid"] == str(uuid.uuid5(mine, name))


def test_random_ids_are_unique_uuid4():
    rows = parsed(lbfast.dumps([big_batch(5000, ids="random")]), keep_uuid=True)
    ids = {r["uuid"] for r in rows}
    assert len(ids) == 5000
    assert all(uuid.UUID(i).version == 4 for i in list(ids)[:100])


def test_thread_counts_give_identical_bytes_in_order():
    batch = big_batch()
    one = _core.dumps([batch], threads=1)
    assert _core.dumps([batch], threads=2) == one
    assert _core.dumps([batch], threads=3) == one
    assert lbfast.dumps([batch]) == one
    keys = [json.loads(line)["dataRow"]["globalKey"] for line in one.splitlines()]
    assert keys == [f"img-{i // 10}" for i in range(30_000)]


def test_concurrent_calls_from_python_threads_are_correct():
    results = {}
    errors = []

    def work(t):
        try:
            n = 5000 + 1000 * t
            batch = Boxes(
                np.full((n, 4), float(t)) + np.arange(4),
                data_rows=[f"t{t}-{k}" for k in range(n)],
                features=[f"feature-{t}"],
                confidence=np.full(n, t / 10),
                ids="deterministic",
            )
            results[t] = (n, lbfast.dumps([batch]), lbfast.dumps([batch]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for t, (n, out, again) in results.items():
        assert out == again
        rows = parsed(out)
        assert len(rows) == n
        assert [r["dataRow"]["globalKey"] for r in rows] == [f"t{t}-{k}" for k in range(n)]
        assert {r["name"] for r in rows} == {f"feature-{t}"}
        assert {r["confidence"] for r in rows} == {t / 10}


def test_format_floats_helper_for_benchmarks():
    values = np.array([2.0, 0.1, 1e300, -5.5])
    assert _core._format_floats(values) == len(b"2.00.11e+300-5.5")


def test_slices_write_the_same_bytes_as_the_whole_batch():
    coords, offsets = ragged(30, 3, 9)
    keys = [f"k{i}" for i in range(30)]
    sub = RadioSubclass("q", ["y", "n"], RNG.integers(0, 2, 30), confidence=RNG.random(30))
    common = {
        "data_rows": keys,
        "features": ["f"],
        "confidence": RNG.random(30),
        "ids": "deterministic",
    }
    batches = [
        Boxes(RNG.random((30, 4)), subclass=sub, **common),
        Points(RNG.random((30, 2)), image_index=RNG.integers(0, 30, 30), **common),
        Polygons(coords, offsets, **common),
        GlobalClassifications(
            "checklist",
            "q",
            data_rows=keys,
            answers=["a", "b", "c"],
            answer_ids=RNG.integers(0, 3, int(offsets[-1])),
            offsets=offsets,
            confidence=RNG.random(int(offsets[-1])),
            ids="deterministic",
        ),
        GlobalClassifications(
            "text", "q", data_rows=keys, texts=[str(i) for i in range(30)], ids="deterministic"
        ),
    ]
    for batch in batches:
        assert batch._lbfast_batch and len(batch) == 30
        whole = lbfast.dumps([batch])
        parts = [batch[0:7], batch[7:7], batch[7:20], batch[20:]]
        assert [len(p) for p in parts] == [7, 0, 13, 10]
        assert b"".join(lbfast.dumps([p]) for p in parts) == whole
        assert lbfast.dumps([batch[7:20][3:5]]) == b"".join(whole.splitlines(keepends=True)[10:12])
    with pytest.raises(ValueError, match="step 1"):
        batches[0][::2]


def test_the_gil_is_released_while_checking_and_writing():
    batch = big_batch(400_000, ids="random")
    lbfast.dumps([batch])  # warm up
    ticks = [0]
    stop = threading.Event()

    def tick():
        # Each wake-up needs the GIL: this only counts while the other thread lets go.
        while not stop.wait(0.001):
            ticks[0] += 1

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        time.sleep(0.05)
        start = time.perf_counter()
        before = ticks[0]
        lbfast.dumps([batch])
        during = ticks[0] - before
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        ticker.join()
    # Held throughout, the GIL would allow a tick or two; released, about one per ms.
    assert during > min(20, elapsed * 1000 / 4), (during, elapsed)


def test_a_checklist_has_one_confidence_per_answer_id():
    batch = GlobalClassifications(
        "checklist",
        "q",
        data_rows=["a"],
        answers=["x", "y"],
        answer_ids=[0, 1, 1],
        offsets=[0, 3],
        confidence=[0.5, 0.5],
    )
    assert errors_of([batch]) == [(0, "confidence", "expected 3 values, one per answer id, got 2")]


@pytest.mark.parametrize(
    ("box_format", "box", "extra"),
    [
        ("xywh", [1e308, 0.0, 1e308, 1.0], {}),  # x + w overflows
        ("cxcywh", [1.7e308, 0.0, 1e308, 1.0], {}),  # cx + w / 2 overflows
        ("xyxy", [0.0, 0.0, 1e300, 1.0], {"normalized": True, "image_sizes": [[1e10, 1.0]]}),
    ],
)
def test_boxes_whose_computed_corners_overflow_are_errors_not_null(box_format, box, extra):
    batch = Boxes([box], data_rows=["img"], features=["car"], box_format=box_format, **extra)
    with pytest.raises(lbfast.ValidationError, match="too large") as caught:
        lbfast.dumps([batch])
    assert [e["path"] for e in caught.value.errors()] == ["boxes[0]"]


def test_a_typed_box_whose_extent_overflows_is_an_error():
    rect = lb.Rectangle(start=lb.Point(x=-1e308, y=0), end=lb.Point(x=1e308, y=1))
    label = lb.Label(
        data={"global_key": "g"}, annotations=[lb.ObjectAnnotation(name="b", value=rect)]
    )
    with pytest.raises(lbfast.ValidationError, match="too large"):
        lbfast.dumps([label])


def test_a_ragged_list_of_boxes_names_boxes():
    with pytest.raises(ValueError, match=r"^boxes: not an array of one shape"):
        Boxes([[0, 0, 1, 1], [0, 0, 1]], data_rows=["a"], features=["x"])
