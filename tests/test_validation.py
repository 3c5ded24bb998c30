"""Bad input never crashes and never writes garbage: it raises one clear error."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lbfast
import lbfast.types as lb

GK = {"global_key": "image-1"}


def box(**kwargs):
    value = kwargs.pop("value", lb.Rectangle(start=lb.Point(x=1, y=2), end=lb.Point(x=3, y=4)))
    kwargs.setdefault("name", "box")
    return lb.ObjectAnnotation(value=value, **kwargs)


def errors_of(items):
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.dumps(items)
    return [(e["row"], e["path"], e["message"]) for e in caught.value.errors()]


def test_validation_error_is_a_value_error_listing_every_bad_row():
    labels = [
        lb.Label(data=GK, annotations=[box(confidence=0.5)]),
        lb.Label(data=GK, annotations=[box(), box(confidence=1.5)]),
        lb.Label(data=GK, annotations=[box(value=lb.Point(x=math.nan, y=1))]),
    ]
    with pytest.raises(ValueError) as caught:
        lbfast.dumps(labels)
    assert isinstance(caught.value, lbfast.ValidationError)
    found = [(e["row"], e["path"]) for e in caught.value.errors()]
    assert found == [(1, "annotations[1].confidence"), (2, "annotations[0].value.x")]
    text = str(caught.value)
    assert "row 1: annotations[1].confidence" in text
    assert "row 2: annotations[0].value.x: coordinate must be finite, got NaN" in text


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_coordinates_are_errors_not_invalid_json(bad):
    label = lb.Label(
        data=GK,
        annotations=[
            box(
                value=lb.Polygon(
                    points=[lb.Point(x=0, y=0), lb.Point(x=1, y=bad), lb.Point(x=2, y=0)]
                )
            )
        ],
    )
    [(row, path, message)] = errors_of([label])
    assert (row, path) == (0, "annotations[0].value.points[1].y")
    assert "finite" in message


@pytest.mark.parametrize("confidence", [-0.1, 1.0000001, math.nan, 2])
def test_confidence_must_be_within_zero_and_one(confidence):
    answer = lb.ClassificationAnswer(name="a", confidence=confidence)
    label = lb.Label(
        data=GK,
        annotations=[lb.ClassificationAnnotation(name="q", value=lb.Radio(answer=answer))],
    )
    [(_row, path, message)] = errors_of([label])
    assert path == "annotations[0].value.answer.confidence"
    assert "[0, 1]" in message


def test_geometry_minimum_point_counts():
    p = lb.Point
    labels = [
        lb.Label(data=GK, annotations=[box(value=lb.Polygon(points=[p(x=0, y=0), p(x=1, y=1)]))]),
        lb.Label(data=GK, annotations=[box(value=lb.Line(points=[p(x=0, y=0)]))]),
    ]
    found = errors_of(labels)
    assert found == [
        (0, "annotations[0].value.points", "a polygon must have at least 3 points, got 2"),
        (1, "annotations[0].value.points", "a line must have at least 2 points, got 1"),
    ]


def test_feature_needs_a_name_or_a_25_character_schema_id():
    found = errors_of(
        [
            lb.Label(data=GK, annotations=[box(name=None)]),
            lb.Label(data=GK, annotations=[box(name=None, feature_schema_id="abc")]),
        ]
    )
    assert found[0][:2] == (0, "annotations[0]")
    assert "name" in found[0][2]
    assert found[1][:2] == (1, "annotations[0].feature_schema_id")
    assert "25 characters" in found[1][2]


@pytest.mark.parametrize(
    ("data", "word"),
    [
        ({}, "neither"),
        ({"global_key": ""}, "neither"),
        ({"external_id": "e"}, "neither"),
        ({"uid": "c" * 25, "global_key": "g"}, "both"),
    ],
)
def test_data_row_needs_exactly_one_of_id_and_global_key(data, word):
    [(_row, path, message)] = errors_of([lb.Label(data=data, annotations=[box()])])
    assert path == "data"
    assert word in message


def test_dicts_report_paths_in_ndjson_terms():
    rows = [
        {
            "name": "p",
            "dataRow": {"globalKey": "g"},
            "polygon": [{"x": 0, "y": 0}, {"x": 1, "y": math.inf}],
        },
        {
            "name": "b",
            "dataRow": {"id": "x", "globalKey": "g"},
            "bbox": {"top": 0, "left": 0, "height": -1, "width": 1},
        },
        {
            "schemaId": "short",
            "dataRow": {"globalKey": "g"},
            "answer": {"name": "a", "confidence": 3},
        },
        {
            "name": "typo",
            "dataRow": {"globalKey": "g"},
            "point": {"x": 1, "y": 2},
            "confidance": 0.5,
        },
    ]
    found = [(row, path) for row, path, _ in errors_of(rows)]
    assert found == [
        (0, "polygon"),
        (0, "polygon[1].y"),
        (1, "dataRow"),
        (1, "bbox.height"),
        (2, "schemaId"),
        (2, "answer.confidence"),
        (3, "confidance"),
    ]


def test_mask_colour_out_of_range_and_malformed_png():
    good = np.zeros((2, 2, 3), dtype=np.uint8)
    labels = [
        lb.Label(
            data=GK, annotations=[box(value=lb.Mask(mask=lb.MaskData(arr=good), color=(256, 0, 0)))]
        ),
        lb.Label(
            data=GK,
            annotations=[box(value=lb.Mask(mask=lb.MaskData(im_bytes=b"not a png"), color=1))],
        ),
        lb.Label(
            data=GK,
            annotations=[box(value=lb.Mask(mask=lb.MaskData(url="https://x/m.png"), color=-1))],
        ),
    ]
    found = errors_of(labels)
    assert [(row, path) for row, path, _ in found] == [
        (0, "annotations[0].value.color"),
        (1, "annotations[0].value.mask"),
        (2, "annotations[0].value.color"),
    ]
    assert "between 0 and 255" in found[0][2]
    assert "PNG" in found[1][2]


def test_dict_png_mask_must_be_base64_of_a_png():
    rows = [
        {"name": "m", "dataRow": {"globalKey": "g"}, "mask": {"png": "%%%"}},
        {"name": "m", "dataRow": {"globalKey": "g"}, "mask": {"png": "aGVsbG8="}},
    ]
    found = errors_of(rows)
    assert [(row, path) for row, path, _ in found] == [(0, "mask.png"), (1, "mask.png")]
    assert "base64" in found[0][2]


def test_wrong_python_types_are_type_errors_naming_the_field():
    # Points hold floats, so a string coordinate is refused as soon as it is given.
    with pytest.raises(TypeError, match="coordinate x must be a number, got str"):
        lb.Point(x="1", y=2)
    row = {"name": "p", "dataRow": {"globalKey": "g"}, "point": {"x": "1", "y": 2}}
    with pytest.raises(TypeError, match=r"row 0: point\.x: expected a number, got str"):
        lbfast.dumps([row])
    label = lb.Label(data=GK, annotations=[box(confidence="high")])
    with pytest.raises(
        TypeError, match=r"row 0: annotations\[0\]\.confidence: expected a number, got str"
    ):
        lbfast.dumps([label])
    with pytest.raises(TypeError, match="ObjectAnnotation or ClassificationAnnotation"):
        lbfast.dumps([lb.Label(data=GK, annotations=["box"])])
    with pytest.raises(TypeError, match="a list of Points"):
        lbfast.dumps([lb.Label(data=GK, annotations=[box(value=lb.Line(points="ab"))])])
    with pytest.raises(TypeError):
        lbfast.dumps(42)


def test_lone_surrogates_are_rejected_not_written():
    [(_row, path, message)] = errors_of([lb.Label(data=GK, annotations=[box(name="bad\udc00")])])
    assert path == "annotations[0].name"
    assert "surrogate" in message


def test_conflicting_confidences_are_refused_rather_than_one_dropped():
    radio = lb.Radio(answer=lb.ClassificationAnswer(name="a"), confidence=0.4)
    found = errors_of(
        [
            lb.Label(
                data=GK,
                annotations=[lb.ClassificationAnnotation(name="q", confidence=0.6, value=radio)],
            )
        ]
    )
    assert found[0][1] == "annotations[0].value.confidence"
    assert "conflicting" in found[0][2]


def test_custom_metrics_on_a_radio_question_have_no_place_and_are_refused():
    radio = lb.Radio(answer=lb.ClassificationAnswer(name="a"))
    ann = lb.ClassificationAnnotation(
        name="q", value=radio, custom_metrics=[{"name": "m", "value": 1}]
    )
    [(_row, path, message)] = errors_of([lb.Label(data=GK, annotations=[ann])])
    assert path == "annotations[0].custom_metrics"
    assert "answers" in message


def test_a_reference_cycle_in_classifications_is_an_error_not_a_crash():
    answer = lb.ClassificationAnswer(name="a", classifications=[])
    question = lb.ClassificationAnnotation(name="q", value=lb.Radio(answer=answer))
    answer.classifications.append(question)
    with pytest.raises(ValueError, match="nested more than"):
        lbfast.dumps([lb.Label(data=GK, annotations=[question])])


def test_nothing_is_written_when_any_row_is_bad(tmp_path):
    target = tmp_path / "out.ndjson"
    labels = [
        lb.Label(data=GK, annotations=[box()]),
        lb.Label(data=GK, annotations=[box(confidence=9)]),
    ]
    with pytest.raises(lbfast.ValidationError):
        lbfast.dump(labels, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_long_error_lists_are_summarised_in_the_message_but_complete_in_errors():
    labels = [lb.Label(data=GK, annotations=[box(confidence=5)]) for _ in range(120)]
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.dumps(labels)
    assert len(caught.value.errors()) == 120
    assert "and 70 more" in str(caught.value)
