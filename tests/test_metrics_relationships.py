"""Metrics, relationships, masks uploaded through a signer and the Label helpers,
side by side with the official SDK (``sdk_oracle``), typed and as NDJSON-shaped dicts,
with the same validation for both (issue 10, item 1)."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sdk_oracle import (
    assert_lines_match,
    compare,
    lbfast_lines,
    lbfast_types,
    make_png,
    sdk_lines,
    sdk_types,
)

import lbfast
from lbfast import types as lb
from lbfast.labelbox import write_for_upload
from lbfast.ontology import Ontology

GK = {"global_key": "gk-metrics"}


def label(t, *annotations, data=None):
    return [t.Label(data=dict(GK) if data is None else data, annotations=list(annotations))]


def problems(items) -> list[tuple[int, str, str]]:
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps(items)
    return [(e["row"], e["path"], e["kind"]) for e in err.value.errors()]


def messages(items) -> list[str]:
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps(items)
    return [e["message"] for e in err.value.errors()]


def as_dicts(lines):
    """SDK lines as the NDJSON-shaped dicts a user would hand to lbfast."""
    return [json.loads(json.dumps(line)) for line in lines]


def assert_dicts_match_sdk(build) -> None:
    """The SDK's own lines, given back to lbfast as dicts, are written as the SDK wrote them."""
    sdk = sdk_lines(build(sdk_types))
    fast = [json.loads(line) for line in lbfast.dumps(as_dicts(sdk)).splitlines()]
    assert fast == sdk
    assert [list(line) for line in fast] == [list(line) for line in sdk]


# --- metrics ------------------------------------------------------------------------


def scalar_metrics(t):
    return label(
        t,
        t.ScalarMetric(value=0.5),
        t.ScalarMetric(value=3),
        t.ScalarMetric(value=1e8, metric_name="m", feature_name="car", subclass_name="red"),
        t.ScalarMetric(
            value={0.1: 0.5, 0.2: 3, 1e-7: 2, 1: 0},
            metric_name="by_confidence",
            aggregation=t.ScalarMetricAggregation.SUM,
        ),
        t.ScalarMetric(value=0.25, metric_name="g", aggregation="GEOMETRIC_MEAN"),
        t.ScalarMetric(value=0.5, metric_name="h", extra={"uuid": "metric-uuid"}),
    )


def confusion_metrics(t):
    return label(
        t,
        t.ConfusionMatrixMetric(value=(1, 2, 3, 4), metric_name="cm"),
        t.ConfusionMatrixMetric(
            value=[0, 0, 0, 10_000_000_000], metric_name="cm", feature_name="car"
        ),
        t.ConfusionMatrixMetric(
            value={0.1: (1, 2, 3, 4.0), 0.5: (0, 0, 0, 0)},
            metric_name="precision",
            feature_name="car",
            subclass_name="red",
            aggregation=t.ConfusionMatrixAggregation.CONFUSION_MATRIX,
        ),
    )


@pytest.mark.parametrize("build", [scalar_metrics, confusion_metrics])
def test_metric_lines_match_the_sdk_typed_and_as_dicts(build):
    fast, _ = compare(build)
    assert fast and all("metricValue" in line for line in fast)
    assert_dicts_match_sdk(build)


def test_a_metric_line_has_a_uuid_only_when_given():
    lines = lbfast_lines(scalar_metrics(lbfast_types))
    assert [line.get("uuid") for line in lines] == [None] * 5 + ["metric-uuid"]


def test_metrics_sit_beside_objects_in_the_sdks_order():
    def build(t):
        car = t.ObjectAnnotation(name="car", value=t.Point(x=1, y=2))
        return label(t, car, t.ScalarMetric(value=0.7, feature_name="car"), car)

    compare(build)


BAD_METRICS = [
    # (typed metric, dict line, problems as (path after the prefix, kind))
    (lambda: lb.ScalarMetric(value=-1), {"metricValue": -1.0}, [("", "metric_value")]),
    (lambda: lb.ScalarMetric(value=1e9), {"metricValue": 1e9}, [("", "metric_value")]),
    (
        lambda: lb.ScalarMetric(value=float("nan")),
        {"metricValue": float("nan")},
        [("", "not_finite")],
    ),
    (
        lambda: lb.ScalarMetric(value={0.5: 1}),
        {"metricValue": {"0.5": 1}},
        [("", "metric_shape")],
    ),
    (
        lambda: lb.ScalarMetric(value={i / 20: 1 for i in range(16)}),
        {"metricValue": {str(i / 20): 1 for i in range(16)}},
        [("", "metric_shape")],
    ),
    (
        lambda: lb.ScalarMetric(value={1.5: 1, 0: 2}),
        {"metricValue": {"1.5": 1, "0": 2}},
        [("[0]", "confidence")],
    ),
    (
        lambda: lb.ConfusionMatrixMetric(value=(1, 2, 3), metric_name="x"),
        {"metricValue": [1, 2, 3], "metricName": "x"},
        [("", "metric_shape")],
    ),
    (
        lambda: lb.ConfusionMatrixMetric(value=(1, 2.5, -3, 2e10), metric_name="x"),
        {"metricValue": [1, 2.5, -3, 2e10], "metricName": "x"},
        [("[1]", "metric_value"), ("[2]", "metric_value"), ("[3]", "metric_value")],
    ),
    (
        lambda: lb.ConfusionMatrixMetric(value={0.1: (1, 2, 3, 4), 0.2: (1, 2)}, metric_name="x"),
        {"metricValue": {"0.1": [1, 2, 3, 4], "0.2": [1, 2]}, "metricName": "x"},
        [("[1]", "metric_shape")],
    ),
]


@pytest.mark.parametrize(("typed", "dict_line", "expected"), BAD_METRICS)
def test_the_sdks_metric_rules_are_problems_with_codes_typed_and_as_dicts(
    typed, dict_line, expected
):
    typed_problems = problems([lb.Label(data=GK, annotations=[typed()])])
    assert typed_problems == [(0, f"annotations[0].value{p}", kind) for p, kind in expected]
    line = {"dataRow": {"globalKey": "g"}, **dict_line}
    assert problems([line]) == [(0, f"metricValue{p}", kind) for p, kind in expected]


def test_the_sdk_refuses_what_lbfast_refuses():
    """The SDK's own validation of the same values (where it has one)."""
    t = sdk_types
    for build in [
        lambda: t.ScalarMetric(value={0.5: 1}),
        lambda: t.ScalarMetric(value={1.5: 1, 0: 2}),
        lambda: t.ConfusionMatrixMetric(value=(1, 2, 3), metric_name="x"),
        lambda: t.ConfusionMatrixMetric(value=(1, 2.5, 3, 4), metric_name="x"),
        lambda: t.ConfusionMatrixMetric(value=(1, 2, 3, 4)),
        lambda: t.ScalarMetric(value=0.5, metric_name=" IoU "),
    ]:
        with pytest.raises(ValueError):
            build()


def test_metric_names_and_aggregations_are_checked():
    items = label(
        lbfast_types,
        lb.ScalarMetric(value=0.5, metric_name=" IoU "),
        lb.ConfusionMatrixMetric(value=(1, 2, 3, 4)),
        lb.ScalarMetric(value=0.5, aggregation="CONFUSION_MATRIX"),
        lb.ConfusionMatrixMetric(value=(1, 2, 3, 4), metric_name="x", aggregation="SUM"),
    )
    assert problems(items) == [
        (0, "annotations[0].metric_name", "metric_name"),
        (0, "annotations[1].metric_name", "metric_name"),
        (0, "annotations[2].aggregation", "aggregation"),
        (0, "annotations[3].aggregation", "aggregation"),
    ]
    dicts = [
        {"dataRow": {"globalKey": "g"}, "metricValue": 0.5, "metricName": "iou"},
        {
            "dataRow": {"globalKey": "g"},
            "metricValue": [1, 2, 3, 4],
            "aggregation": "CONFUSION_MATRIX",
        },
        {"dataRow": {"globalKey": "g"}, "metricValue": 0.5, "aggregation": "MEDIAN"},
    ]
    assert problems(dicts) == [
        (0, "metricName", "metric_name"),
        (1, "metricName", "metric_name"),
        (2, "aggregation", "aggregation"),
    ]


def test_a_metric_dict_with_annotation_keys_is_a_structure_problem():
    line = {"dataRow": {"globalKey": "g"}, "metricValue": 0.5, "name": "car"}
    assert problems([line]) == [(0, "name", "structure")]
    line = {
        "dataRow": {"globalKey": "g"},
        "name": "car",
        "metricName": "m",
        "point": {"x": 1, "y": 1},
    }
    assert problems([line]) == [(0, "metricName", "structure")]


def test_a_wrongly_typed_metric_value_names_its_field():
    with pytest.raises(TypeError, match=r"annotations\[0\]\.value"):
        lbfast.dumps([lb.Label(data=GK, annotations=[lb.ScalarMetric(value="high")])])
    with pytest.raises(TypeError, match=r"annotations\[0\]\.value\[1\]"):
        lbfast.dumps([lb.Label(data=GK, annotations=[lb.ConfusionMatrixMetric(value=(1, "2"))])])


# --- relationships ------------------------------------------------------------------


def relationships(t):
    car = t.ObjectAnnotation(
        name="car", value=t.Rectangle(start=t.Point(x=0, y=0), end=t.Point(x=4, y=3))
    )
    wheel = t.ObjectAnnotation(name="wheel", value=t.Point(x=1, y=3))
    road = t.ObjectAnnotation(
        name="road", value=t.Line(points=[t.Point(x=0, y=5), t.Point(x=9, y=5)])
    )
    kinds = t.Relationship.Type
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns that readonly is in beta
        return label(
            t,
            car,
            t.RelationshipAnnotation(name="has", value=t.Relationship(source=car, target=wheel)),
            wheel,
            t.RelationshipAnnotation(
                name="on",
                value=t.Relationship(
                    source=car, target=road, type=kinds.BIDIRECTIONAL, readonly=True
                ),
            ),
            road,
            t.RelationshipAnnotation(
                name="self", value=t.Relationship(source=road, target=road, readonly=False)
            ),
            t.RelationshipAnnotation(
                name="fixed",
                value=t.Relationship(source=wheel, target=car, type="bidirectional"),
                extra={"uuid": "rel-uuid"},
            ),
        )


def test_relationship_lines_match_the_sdk_typed_and_as_dicts():
    fast, _ = compare(relationships)
    # The SDK writes a Label's relationships first; both sides name the same lines.
    assert [line.get("name") for line in fast][:4] == ["has", "on", "self", "fixed"]
    assert fast[0]["relationship"] == {
        "source": "line 4",
        "target": "line 5",
        "type": "unidirectional",
    }
    assert_dicts_match_sdk(relationships)


def test_a_relationship_end_gets_the_uuid_of_the_line_it_names():
    car = lb.ObjectAnnotation(name="car", value=lb.Point(x=1, y=1), extra={"uuid": "car-uuid"})
    wheel = lb.ObjectAnnotation(name="wheel", value=lb.Point(x=2, y=2))
    rel = lb.RelationshipAnnotation(name="has", value=lb.Relationship(source=car, target=wheel))
    lines = lbfast_lines([lb.Label(data=GK, annotations=[car, wheel, rel])])
    assert [line["name"] for line in lines] == ["has", "car", "wheel"]
    assert lines[0]["relationship"]["source"] == "car-uuid"
    assert lines[0]["relationship"]["target"] == lines[2]["uuid"]


def test_a_relationship_to_an_annotation_not_written_names_both():
    car = lb.ObjectAnnotation(name="car", value=lb.Point(x=1, y=1))
    ghost = lb.ObjectAnnotation(name="ghost", value=lb.Point(x=2, y=2))
    rel = lb.RelationshipAnnotation(name="has", value=lb.Relationship(source=car, target=ghost))
    items = [lb.Label(data=GK, annotations=[car, rel])]
    assert problems(items) == [(0, "annotations[1].value.target", "relationship_end")]
    (message,) = messages(items)
    assert "relationship 'has'" in message and "ObjectAnnotation 'ghost'" in message
    assert "not among the annotations written" in message


def test_a_relationship_to_an_annotation_of_another_label_names_both():
    car = lb.ObjectAnnotation(name="car", value=lb.Point(x=1, y=1))
    wheel = lb.ObjectAnnotation(name="wheel", value=lb.Point(x=2, y=2))
    rel = lb.RelationshipAnnotation(name="has", value=lb.Relationship(source=car, target=wheel))
    for order in ([[car, rel], [wheel]], [[wheel], [car, rel]]):
        items = [
            lb.Label(data={"global_key": f"img-{i}"}, annotations=a) for i, a in enumerate(order)
        ]
        row = 0 if order[0][0] is car else 1
        assert problems(items) == [
            (row, f"annotations[{order[row].index(rel)}].value.target", "relationship_end")
        ]
        (message,) = messages(items)
        assert "relationship 'has'" in message and "object 'wheel' (row" in message
        assert "another Label" in message


def test_a_relationship_end_must_be_an_object_annotation():
    car = lb.ObjectAnnotation(name="car", value=lb.Point(x=1, y=1))
    weather = lb.ClassificationAnnotation(name="weather", value=lb.Text(answer="sunny"))
    rel = lb.RelationshipAnnotation(name="has", value=lb.Relationship(source=weather, target=car))
    items = [lb.Label(data=GK, annotations=[car, weather, rel])]
    assert problems(items) == [(0, "annotations[2].value.source", "relationship_end")]
    assert "must be an object annotation, got a classification" in messages(items)[0]
    # The SDK refuses it too.
    car_s = sdk_types.ObjectAnnotation(name="car", value=sdk_types.Point(x=1, y=1))
    weather_s = sdk_types.ClassificationAnnotation(name="weather", value=sdk_types.Text(answer="s"))
    rel_s = sdk_types.RelationshipAnnotation(
        name="has", value=sdk_types.Relationship(source=weather_s, target=car_s)
    )
    with pytest.raises(TypeError, match="non ObjectAnnotation source"):
        sdk_lines([sdk_types.Label(data=GK, annotations=[car_s, weather_s, rel_s])])


def test_relationship_type_source_and_feature_are_checked():
    car = lb.ObjectAnnotation(name="car", value=lb.Point(x=1, y=1))
    items = [
        lb.Label(
            data=GK,
            annotations=[
                car,
                lb.RelationshipAnnotation(
                    name="a", value=lb.Relationship(source=car, target=car, type="bi")
                ),
                lb.RelationshipAnnotation(value=lb.Relationship(source=car, target=car)),
                lb.RelationshipAnnotation(
                    name="b", value=lb.Relationship(target=car, source_ontology_name="doc")
                ),
                lb.RelationshipAnnotation(name="c", value=lb.Relationship(target=car)),
            ],
        )
    ]
    # Relationships are written first, but problems keep the caller's slots.
    assert sorted(problems(items)) == [
        (0, "annotations[1].value.type", "relationship_type"),
        (0, "annotations[2]", "missing_feature"),
        (0, "annotations[3].value.source_ontology_name", "relationship_end"),
        (0, "annotations[4].value.source", "missing"),
    ]


def test_relationship_dicts_name_lines_by_uuid_in_the_same_data_row():
    def obj(uuid, gk="a"):
        return {
            "uuid": uuid,
            "dataRow": {"globalKey": gk},
            "name": "car",
            "point": {"x": 1, "y": 1},
        }

    def rel(source, target, gk="a", **more):
        relationship = {"source": source, "target": target, "type": "unidirectional", **more}
        return {
            "uuid": "r",
            "dataRow": {"globalKey": gk},
            "name": "has",
            "relationship": relationship,
        }

    good = [obj("u1"), obj("u2"), rel("u1", "u2")]
    assert json.loads(lbfast.dumps(good).splitlines()[2])["relationship"]["target"] == "u2"
    assert problems([obj("u1"), rel("u1", "nope")]) == [
        (1, "relationship.target", "relationship_end")
    ]
    assert problems([obj("u1"), obj("u2", gk="b"), rel("u1", "u2")]) == [
        (2, "relationship.target", "relationship_end")
    ]
    assert "another data row" in messages([obj("u1"), obj("u2", gk="b"), rel("u1", "u2")])[0]
    assert problems([obj("u1"), rel("u1", "u1", type="both")]) == [
        (1, "relationship.type", "relationship_type")
    ]
    assert problems([obj("u1"), rel("u1", "u1", colour="red")]) == [
        (1, "relationship.colour", "unknown_key")
    ]
    line = {**rel("u1", "u1"), "confidence": 0.5}
    assert problems([obj("u1"), line]) == [(1, "confidence", "structure")]


# --- masks uploaded through a signer ------------------------------------------------


def mask_labels(t, arr):
    png = make_png(arr)
    shared = t.MaskData(im_bytes=png)
    own = t.MaskData(arr=arr)
    hosted = t.MaskData(url="https://example.com/already.png")
    return [
        t.Label(
            data=dict(GK),
            annotations=[
                t.ObjectAnnotation(name="a", value=t.Mask(mask=shared, color=(255, 255, 255))),
                t.ObjectAnnotation(name="b", value=t.Mask(mask=shared, color=(10, 20, 30))),
                t.ObjectAnnotation(name="c", value=t.Mask(mask=own, color=(10, 20, 30))),
                t.ObjectAnnotation(name="d", value=t.Mask(mask=hosted, color=(1, 2, 3))),
            ],
        )
    ]


def test_add_url_to_masks_uploads_each_mask_once_and_writes_its_url_with_the_colour():
    arr = np.zeros((6, 8, 3), np.uint8)
    arr[:2, :2] = 255
    arr[4:, 4:] = (10, 20, 30)
    uploads = {"lbfast": [], "sdk": []}

    def signer_for(side):
        def signer(data: bytes) -> str:
            uploads[side].append(data)
            return f"https://storage.example.com/{side}/{len(uploads[side])}.png"

        return signer

    fast_labels = mask_labels(lbfast_types, arr)
    sdk_labels = mask_labels(sdk_types, arr)
    for lab in fast_labels:
        assert lab.add_url_to_masks(signer_for("lbfast")) is lab
    for lab in sdk_labels:
        lab.add_url_to_masks(signer_for("sdk"))
    # One upload per distinct mask without a URL: the shared one once, the array once.
    assert len(uploads["lbfast"]) == len(uploads["sdk"]) == 2
    fast = lbfast_lines(fast_labels)
    sdk = sdk_lines(sdk_labels)
    for line in sdk:
        line["mask"]["instanceURI"] = line["mask"]["instanceURI"].replace("/sdk/", "/lbfast/")
    assert_lines_match(fast, sdk)
    assert fast[0]["mask"] == {
        "instanceURI": "https://storage.example.com/lbfast/1.png",
        "colorRGB": [255, 255, 255],
    }
    assert fast[1]["mask"]["instanceURI"] == fast[0]["mask"]["instanceURI"]
    # What was uploaded for the array decodes to its pixels.
    with Image.open(io.BytesIO(uploads["lbfast"][1])) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), arr)
    # Uploading again uploads nothing.
    for lab in fast_labels:
        lab.add_url_to_masks(signer_for("lbfast"))
    assert len(uploads["lbfast"]) == 2


def test_create_url_keeps_a_url_and_checks_the_signers_answer():
    data = lb.MaskData(im_bytes=make_png(np.zeros((2, 2), np.uint8)))
    mask = lb.Mask(mask=data, color=0)
    calls = []
    assert mask.create_url(lambda b: calls.append(b) or "https://x/1.png") == "https://x/1.png"
    assert data.url == "https://x/1.png" and len(calls) == 1
    assert mask.create_url(lambda b: "https://x/2.png") == "https://x/1.png"
    with pytest.raises(TypeError, match="signer must return the URL as a str"):
        lb.MaskData(im_bytes=b"png").create_url(lambda b: None)  # type: ignore[arg-type,return-value]
    gray = lb.MaskData.from_2D_arr(np.array([[0, 7], [7, 0]], np.uint8))
    uploaded = []
    gray.create_url(lambda b: uploaded.append(b) or "https://x/gray.png")
    with Image.open(io.BytesIO(uploaded[0])) as im:
        assert im.mode == "RGB" and np.asarray(im)[0, 1].tolist() == [7, 7, 7]


def test_a_colour_absent_from_an_uploaded_mask_is_still_found_locally():
    data = lb.MaskData(im_bytes=make_png(np.zeros((2, 2, 3), np.uint8)))
    item = lb.Label(
        data=GK,
        annotations=[lb.ObjectAnnotation(name="m", value=lb.Mask(mask=data, color=(9, 9, 9)))],
    )
    item.add_url_to_masks(lambda b: "https://x/m.png")
    assert problems([item]) == [(0, "annotations[0].value.mask", "mask_color")]


# --- the Label helpers --------------------------------------------------------------


def test_object_and_classification_annotations_are_the_sdks():
    def build(t):
        car = t.ObjectAnnotation(name="car", value=t.Point(x=1, y=1))
        weather = t.ClassificationAnnotation(name="weather", value=t.Text(answer="sunny"))
        wheel = t.ObjectAnnotation(name="wheel", value=t.Point(x=2, y=2))
        rel = t.RelationshipAnnotation(name="has", value=t.Relationship(source=car, target=wheel))
        metric = t.ScalarMetric(value=0.5)
        return t.Label(data=dict(GK), annotations=[car, weather, rel, metric, wheel])

    for t in (lbfast_types, sdk_types):
        lab = build(t)
        assert [a.name for a in lab.object_annotations()] == ["car", "wheel"]
        assert [a.name for a in lab.classification_annotations()] == ["weather"]


# --- model runs and project imports -------------------------------------------------


def test_a_project_import_refuses_or_strips_metric_lines_and_a_model_run_keeps_them(tmp_path):
    car = lb.ObjectAnnotation(name="car", value=lb.Point(x=1, y=1))
    items = [lb.Label(data=GK, annotations=[car, lb.ScalarMetric(value=0.5, feature_name="car")])]
    with pytest.raises(lbfast.ValidationError) as err:
        write_for_upload(items, tmp_path / "refuse", scores="refuse")
    assert [(e["path"], e["kind"]) for e in err.value.errors()] == [
        ("annotations[1]", "not_for_project")
    ]
    manifest, report = write_for_upload(items, tmp_path / "strip", scores="strip")
    assert [(i.path, i.kind) for i in report.warnings] == [("annotations[1]", "score_stripped")]
    written = [
        json.loads(x) for p in manifest["shards"] for x in Path(p["path"]).read_text().splitlines()
    ]
    assert [line.get("name") for line in written] == ["car"]
    manifest, _ = write_for_upload(items, tmp_path / "keep", scores="keep")
    written = [
        json.loads(x) for p in manifest["shards"] for x in Path(p["path"]).read_text().splitlines()
    ]
    assert [("metricValue" in line) for line in written] == [False, True]


# --- against an ontology ------------------------------------------------------------


def ontology() -> Ontology:
    return Ontology.from_dict(
        {
            "tools": [
                {
                    "tool": "rectangle",
                    "name": "car",
                    "classifications": [
                        {"type": "radio", "name": "color", "options": [{"value": "red"}]}
                    ],
                },
                {"tool": "point", "name": "wheel"},
                {"tool": "edge", "name": "has"},
            ],
            "classifications": [{"type": "text", "name": "weather"}],
        }
    )


def test_the_ontology_knows_relationship_tools_and_metric_features():
    onto = ontology()
    car = lb.ObjectAnnotation(
        name="car", value=lb.Rectangle(start=lb.Point(x=0, y=0), end=lb.Point(x=1, y=1))
    )
    wheel = lb.ObjectAnnotation(name="wheel", value=lb.Point(x=1, y=1))

    def with_car_and_wheel(*more):
        return [lb.Label(data=GK, annotations=[car, wheel, *more])]

    def rel(name):
        return lb.RelationshipAnnotation(name=name, value=lb.Relationship(source=car, target=wheel))

    good = with_car_and_wheel(
        rel("has"),
        lb.ScalarMetric(value=0.5, feature_name="car", subclass_name="red"),
        lb.ScalarMetric(value=0.5, feature_name="weather"),
        lb.ScalarMetric(value=0.5),
    )
    assert len(lbfast.dumps(good, ontology=onto).splitlines()) == 6
    bad = with_car_and_wheel(
        rel("wheel"),
        rel("hass"),
        lb.ScalarMetric(value=0.5, feature_name="cars"),
        lb.ScalarMetric(value=0.5, feature_name="car", subclass_name="blue"),
        lb.ObjectAnnotation(name="has", value=lb.Point(x=1, y=1)),
    )
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps(bad, ontology=onto)
    found = sorted((e["path"], e["kind"], e["suggestion"]) for e in err.value.errors())
    assert found == [
        ("annotations[2].value", "geometry_mismatch", "did you mean 'has'?"),
        ("annotations[3].name", "unknown_tool", "did you mean 'has'?"),
        ("annotations[4].feature_name", "unknown_feature", "did you mean 'car'?"),
        ("annotations[5].subclass_name", "unknown_feature", None),
        ("annotations[6].value", "geometry_mismatch", "did you mean 'wheel'?"),
    ]
    dicts = [
        {"dataRow": {"globalKey": "g"}, "metricValue": 0.5, "featureName": "nope"},
        {
            "dataRow": {"globalKey": "g"},
            "metricValue": [1, 2, 3, 4],
            "metricName": "m",
            "featureName": "car",
        },
    ]
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps(dicts, ontology=onto)
    assert [(e["row"], e["path"], e["kind"]) for e in err.value.errors()] == [
        (0, "featureName", "unknown_feature")
    ]


# --- deliberate deviations (docs/compatibility.md), both sides explicit ----------------


def test_deviation_a_scalar_outside_its_range_is_refused():
    # The SDK declares [0, 1e8] but does not apply it to a single value, and writes NaN.
    for value in (-1.0, 1e9):
        (line,) = sdk_lines(label(sdk_types, sdk_types.ScalarMetric(value=value)))
        assert line["metricValue"] == value
        assert problems(label(lbfast_types, lb.ScalarMetric(value=value))) == [
            (0, "annotations[0].value", "metric_value")
        ]
    (line,) = sdk_lines(label(sdk_types, sdk_types.ScalarMetric(value={0.1: -1, 0.2: 1})))
    assert line["metricValue"] == {"0.1": -1.0, "0.2": 1.0}
    assert problems(label(lbfast_types, lb.ScalarMetric(value={0.1: -1, 0.2: 1}))) == [
        (0, "annotations[0].value[0]", "metric_value")
    ]


def test_deviation_a_relationships_schema_id_is_written():
    def build(t, **feature):
        car = t.ObjectAnnotation(name="car", value=t.Point(x=1, y=1))
        rel = t.RelationshipAnnotation(value=t.Relationship(source=car, target=car), **feature)
        return label(t, car, rel)

    sid = "r" * 25
    with pytest.raises(ValueError, match="Schema id or name are not set"):
        sdk_lines(build(sdk_types, feature_schema_id=sid))
    (sdk_line, _) = sdk_lines(build(sdk_types, name="has", feature_schema_id=sid))
    assert "schemaId" not in sdk_line
    (line, _) = lbfast_lines(build(lbfast_types, name="has", feature_schema_id=sid))
    assert (line["name"], line["schemaId"]) == ("has", sid)
    (line, _) = lbfast_lines(build(lbfast_types, feature_schema_id=sid))
    assert "name" not in line and line["schemaId"] == sid


def test_deviation_a_relationship_to_an_annotation_not_written_is_refused():
    def build(t):
        car = t.ObjectAnnotation(name="car", value=t.Point(x=1, y=1))
        ghost = t.ObjectAnnotation(name="ghost", value=t.Point(x=2, y=2))
        return label(
            t,
            car,
            t.RelationshipAnnotation(name="has", value=t.Relationship(source=car, target=ghost)),
        )

    rel, car = sdk_lines(build(sdk_types))
    assert rel["relationship"]["target"] not in {rel["uuid"], car["uuid"]}  # dangling
    assert problems(build(lbfast_types)) == [(0, "annotations[1].value.target", "relationship_end")]


def test_deviation_scalar_aggregation_none_is_the_default():
    with pytest.raises(AttributeError):
        sdk_lines(label(sdk_types, sdk_types.ScalarMetric(value=0.5, aggregation=None)))
    (line,) = lbfast_lines(label(lbfast_types, lb.ScalarMetric(value=0.5, aggregation=None)))
    assert line["aggregation"] == "ARITHMETIC_MEAN"


def test_deviation_a_failing_signer_is_called_once_and_its_error_raised():
    # The SDK retries create_url for up to 30 s on any exception; lbfast does not retry.
    calls = []

    def signer(data: bytes) -> str:
        calls.append(data)
        raise ConnectionError("storage is down")

    data = lb.MaskData(im_bytes=make_png(np.zeros((2, 2), np.uint8)))
    item = lb.Label(
        data=GK, annotations=[lb.ObjectAnnotation(name="m", value=lb.Mask(mask=data, color=0))]
    )
    with pytest.raises(ConnectionError, match="storage is down"):
        item.add_url_to_masks(signer)
    assert len(calls) == 1 and data.url is None
