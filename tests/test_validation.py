"""Bad input never crashes and never writes garbage: it raises one clear error."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lbfast
import lbfast.masks
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


# --- issue 11: values that were written wrong or raised unnamed errors ---------------


def point_row(**extra):
    return {"name": "p", "dataRow": {"globalKey": "g"}, "point": {"x": 1, "y": 2}, **extra}


@pytest.mark.parametrize("flag", ["no", "false", 0, 1, [], np.array([True])])
def test_a_benchmark_flag_that_is_not_a_bool_is_a_type_error_naming_it(flag):
    with pytest.raises(
        TypeError, match=r"row 0: isBenchmarkReferenceLabel: expected True or False"
    ):
        lbfast.dumps([point_row(isBenchmarkReferenceLabel=flag)])
    label = lb.Label(data=GK, annotations=[box()], is_benchmark_reference=flag)
    with pytest.raises(TypeError, match=r"row 0: is_benchmark_reference: expected True or False"):
        lbfast.dumps([label])


@pytest.mark.parametrize("flag", [True, False, np.bool_(True), np.bool_(False)])
def test_a_benchmark_flag_may_be_a_python_or_numpy_bool(flag):
    written = lbfast.dumps([point_row(isBenchmarkReferenceLabel=flag)])
    typed = lbfast.dumps([lb.Label(data=GK, annotations=[box()], is_benchmark_reference=flag)])
    for line in (written, typed):
        assert (b'"isBenchmarkReferenceLabel":true' in line) == bool(flag)


COMPLEX = [1 + 2j, np.complex128(1 + 2j), np.complex64(1 + 0j), np.clongdouble(3 + 1j)]


@pytest.mark.parametrize("value", COMPLEX, ids=type)
def test_complex_numbers_are_refused_not_cut_to_their_real_part(value):
    row = {"name": "p", "dataRow": {"globalKey": "g"}, "point": {"x": value, "y": 2}}
    with pytest.raises(TypeError, match=r"row 0: point\.x: expected a real number, got"):
        lbfast.dumps([row])
    with pytest.raises(TypeError, match=r"row 0: confidence: expected a real number"):
        lbfast.dumps([point_row(confidence=value)])
    metrics = [{"name": "iou", "value": value}]
    with pytest.raises(
        TypeError, match=r"row 0: customMetrics\[0\]\.value: expected a real number"
    ):
        lbfast.dumps([point_row(customMetrics=metrics)])
    with pytest.raises(TypeError, match=r"annotations\[0\]\.confidence: expected a real number"):
        lbfast.dumps([lb.Label(data=GK, annotations=[box(confidence=value)])])
    with pytest.raises(TypeError, match="coordinate x must be a number"):
        lb.Point(x=value, y=1)


def test_complex_arrays_are_refused_at_the_columnar_entrance():
    with pytest.raises(TypeError, match=r"xyxy.*complex|complex.*xyxy|dtype"):
        lbfast.dumps(
            [
                lbfast.columnar.Boxes(
                    np.array([[0, 0, 1, 1]], complex), data_rows=["g"], features=["box"]
                )
            ]
        )
    with pytest.raises(TypeError, match="confidence"):
        lbfast.dumps(
            [
                lbfast.columnar.Boxes(
                    np.array([[0, 0, 1, 1]]),
                    data_rows=["g"],
                    features=["box"],
                    confidence=np.array([0.5 + 1j]),
                )
            ]
        )


def test_complex_confidences_of_mask_items_are_refused():
    stack = np.ones((1, 2, 2), np.uint8)
    for confidence in (np.array([0.5 + 1j]), [0.5 + 1j]):
        with pytest.raises(
            TypeError, match="confidence must be real numbers, got an array of dtype complex128"
        ):
            lbfast.masks.InstanceMasks(
                stack, data_rows=["g"], features=["x"], confidence=confidence
            )
    ids = np.ones((2, 2), np.int64)
    item = lbfast.masks.InstanceMap(ids, data_row="g", features={1: "x"}, confidence={1: 0.5 + 1j})
    with pytest.raises(TypeError, match=r"row 0: confidence: expected a real number"):
        lbfast.dumps([item])


@pytest.mark.parametrize(
    ("row", "path", "where"),
    [
        ({"point": {"x": 1, "y": 2, "z": 3}}, "point.z", "a point"),
        ({"line": [{"x": 1, "y": 2}, {"x": 1, "y": 2, "z": 3}]}, "line[1].z", "a point"),
        ({"polygon": [{"x": 1, "y": 2, "w": 0}] * 3}, "polygon[0].w", "a point"),
        ({"bbox": {"top": 1, "left": 2, "height": 3, "wdth": 4}}, "bbox.wdth", "a bbox"),
        ({"mask": {"png": "", "colorRGB": [1, 2, 3]}}, "mask.colorRGB", "a PNG mask"),
        (
            {"mask": {"instanceURI": "https://x/m.png", "colorRGB": [1, 2, 3], "alpha": 1}},
            "mask.alpha",
            "a mask",
        ),
        (
            {
                "point": {"x": 1, "y": 2},
                "customMetrics": [{"name": "iou", "value": 1, "unit": "%"}],
            },
            "customMetrics[0].unit",
            "a custom metric",
        ),
    ],
)
def test_unknown_keys_inside_geometry_mask_and_metric_dicts_are_reported(row, path, where):
    row = {"name": "p", "dataRow": {"globalKey": "g"}, **row}
    found = errors_of([row])
    assert (0, path) in [(r, p) for r, p, _ in found], found
    message = next(m for _, p, m in found if p == path)
    assert message.startswith(f'unknown key "{path.rsplit(".", 1)[1]}" in {where} (expected ')


def test_a_typed_custom_metric_dict_with_an_unknown_key_is_reported():
    ann = box(custom_metrics=[{"name": "iou", "value": 0.5, "units": "%"}])
    found = errors_of([lb.Label(data=GK, annotations=[ann])])
    assert [p for _, p, _ in found] == ["annotations[0].custom_metrics[0].units"]


@pytest.mark.parametrize(
    "where",
    [
        lambda k: point_row(**{k: 1}),
        lambda k: {**point_row(), "dataRow": {"globalKey": "g", k: 1}},
        lambda k: {**point_row(), "point": {"x": 1, "y": 2, k: 1}},
        lambda k: {"name": "q", "dataRow": {"globalKey": "g"}, "answer": {"name": "a", k: 1}},
    ],
)
def test_a_lone_surrogate_key_is_a_validation_error_naming_the_row(where):
    found = errors_of([point_row(), where("\ud800")])
    assert [r for r, _, _ in found] == [1]
    assert "lone surrogate" in found[0][2]


@pytest.mark.parametrize("metric", [None, ("iou", 0.5), 7, "iou"])
def test_a_custom_metric_that_is_neither_a_metric_nor_a_dict_is_a_type_error(metric):
    pattern = r"row 0: customMetrics\[0\]: expected a CustomMetric or a dict"
    with pytest.raises(TypeError, match=pattern):
        lbfast.dumps([point_row(customMetrics=[metric])])
    ann = box(custom_metrics=[metric])
    with pytest.raises(
        TypeError, match=r"row 0: annotations\[0\]\.custom_metrics\[0\]: expected a"
    ):
        lbfast.dumps([lb.Label(data=GK, annotations=[ann])])


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"threads": -1}, ValueError, r"threads must be an int from 1 to \d+, got -1"),
        ({"threads": 0}, ValueError, r"threads must be an int from 1 to \d+, got 0"),
        (
            {"threads": 2**64},
            ValueError,
            r"threads must be an int from 1 to \d+, got 18446744073709551616",
        ),
        ({"threads": 2.0}, TypeError, r"threads must be an int from 1 to \d+, got float"),
        ({"threads": True}, TypeError, r"threads must be an int .*, got bool"),
        (
            {"max_mask_pixels": -1},
            ValueError,
            r"max_mask_pixels must be an int from 1 to \d+, got -1",
        ),
        ({"max_mask_pixels": 2**64}, ValueError, r"max_mask_pixels must be an int from 1"),
        ({"max_mask_pixels": "big"}, TypeError, r"max_mask_pixels must be an int .*, got str"),
    ],
)
def test_bad_threads_or_pixel_caps_name_the_argument_and_its_range(
    kwargs, error, pattern, tmp_path
):
    calls = [
        lambda: lbfast.dumps([point_row()], **kwargs),
        lambda: lbfast.ShardWriter(tmp_path, **kwargs).write([point_row()]),
    ]
    if "max_mask_pixels" in kwargs:
        calls.append(lambda: lbfast.validate([point_row()], **kwargs))
    for call in calls:
        with pytest.raises(error, match=pattern):
            call()


@pytest.mark.parametrize("cap", [-1, 0, 2**64])
def test_a_bad_pixel_cap_for_mask_colours_names_it(cap):
    with pytest.raises(ValueError, match="max_mask_pixels must be an int from 1"):
        lbfast.masks.colors(np.zeros((2, 2), np.uint8), max_mask_pixels=cap)


@pytest.mark.parametrize("flag", ["no", 0, []])
def test_mask_item_flags_must_be_bools(flag):
    from lbfast.masks import InstanceMap, InstanceMasks

    stack = np.zeros((1, 2, 2), np.uint8)
    for option in ("with_boxes", "skip_empty"):
        item = InstanceMasks(stack, data_rows=["g"], features=["x"], **{option: flag})
        with pytest.raises(TypeError, match=rf"row 0: {option}: expected True or False"):
            lbfast.dumps([item])
        item = InstanceMap(
            np.zeros((2, 2), np.int64), data_row="g", features={1: "x"}, **{option: flag}
        )
        with pytest.raises(TypeError, match=rf"row 0: {option}: expected True or False"):
            lbfast.dumps([item])


def test_ontology_flags_must_be_bools_and_texts_valid_unicode():
    for flag in ("false", 2, 0.0):
        question = {"type": "text", "name": "q", "required": flag}
        pattern = rf"ontology: classifications\[0\]\.required: expected True or False, got {flag!r}"
        with pytest.raises(TypeError, match=pattern):
            lbfast.Ontology.from_json({"tools": [], "classifications": [question]})
    # Labelbox exports archived as 0 or 1.
    question = {"type": "text", "name": "q", "required": 1, "archived": 0}
    assert lbfast.Ontology.from_json({"tools": [], "classifications": [question]}).index
    tool = {"tool": "rectangle", "name": "\ud800"}
    with pytest.raises(
        ValueError, match=r"ontology: tools\[0\]\.name: text contains a lone surrogate"
    ):
        lbfast.Ontology.from_json({"tools": [tool], "classifications": []})
