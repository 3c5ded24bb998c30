"""Predictions checked against an ontology: every kind of mismatch, in one report.

The ontology is the guide's own (Step 2, restated by ``sdk_oracle.seed_ontology``, so
that a clone without the guide runs these too); the predictions are NDJSON-shaped dicts,
typed Labels and NDJSON files.
"""

from __future__ import annotations

import json
import re
import textwrap
import warnings

import pytest
from sdk_oracle import seed_ontology

import lbfast
import lbfast.types as lb_types
from lbfast.ontology import Ontology, Validator

GK = "2560px-Kitano_Street_Kobe01s5s4110.jpeg"


@pytest.fixture(scope="module")
def guide_text(seed_path) -> str:
    return seed_path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def onto() -> Ontology:
    return Ontology.of(seed_ontology(lbfast))


def row(**fields):
    return {"dataRow": {"globalKey": GK}, **fields}


BOX = {"top": 1, "left": 2, "height": 3, "width": 4}
POLY = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 3}]


def test_the_guides_ndjson_predictions_fit_its_ontology(onto):
    items = [
        row(name="radio_question", answer={"name": "second_radio_answer", "confidence": 0.5}),
        row(name="checklist_question", answer=[{"name": "first_checklist_answer"}]),
        row(name="free_text", answer="sample text"),
        row(name="bounding_box", bbox=BOX),
        row(
            name="bbox_with_radio_subclass",
            bbox=BOX,
            classifications=[
                {"name": "sub_radio_question", "answer": {"name": "first_sub_radio_answer"}}
            ],
        ),
        row(name="polygon", polygon=POLY),
        row(name="mask", mask={"instanceURI": "https://x/m.png", "colorRGB": [255, 255, 255]}),
        row(
            name="mask_with_text_subclass",
            mask={"instanceURI": "https://x/m.png", "colorRGB": [255, 255, 255]},
            classifications=[{"name": "sub_free_text", "answer": "free text answer"}],
        ),
        row(name="point", point={"x": 1, "y": 2}),
        row(name="polyline", line=POLY[:2]),
        row(
            name="nested_radio_question",
            answer={
                "name": "first_radio_answer",
                "classifications": [
                    {"name": "sub_radio_question", "answer": {"name": "first_sub_radio_answer"}}
                ],
            },
        ),
    ]
    report = lbfast.validate(items, onto)
    assert report.ok, str(report)
    assert (report.items, report.annotations, report.warnings) == (11, 11, [])


def test_every_kind_of_mismatch_comes_back_in_one_report(onto):
    items = [
        # 0: an unknown tool, with a close name
        row(name="bounding_bx", bbox=BOX),
        # 1: a tool's geometry that is not the tool's
        row(name="bounding_box", polygon=POLY),
        # 2: a mask for a polygon tool
        row(name="polygon", mask={"instanceURI": "https://x/m.png", "colorRGB": [1, 1, 1]}),
        # 3: a radio question answered with a string
        row(name="radio_question", answer="second_radio_answer"),
        # 4: a text question answered with an object
        row(name="free_text", answer={"name": "x"}),
        # 5: a checklist answer that is no option of the question
        row(
            name="checklist_question",
            answer=[{"name": "first_checklist_answer"}, {"name": "third"}],
        ),
        # 6: a nested classification where the ontology does not nest it
        row(
            name="bounding_box",
            bbox=BOX,
            classifications=[
                {"name": "sub_radio_question", "answer": {"name": "first_sub_radio_answer"}}
            ],
        ),
        # 7: three levels down, an answer that is no option
        row(
            name="nested_radio_question",
            answer={
                "name": "first_radio_answer",
                "classifications": [
                    {"name": "sub_radio_question", "answer": {"name": "second_sub_radio_answer"}}
                ],
            },
        ),
        # 8: a name and a schema id of different features (the guide's ontology has no ids)
        row(name="point", schemaId="c" * 25, point={"x": 1, "y": 1}),
        # 9: a classification used as a tool
        row(name="radio_question", point={"x": 1, "y": 1}),
        # 10: and a problem of the prediction itself, reported with the rest
        row(name="point", confidence=1.5, point={"x": 1, "y": 1}),
    ]
    report = lbfast.validate(items, onto)
    got = [(p.row, p.path, p.kind) for p in report.errors]
    assert got == [
        (0, "name", "unknown_tool"),
        (1, "polygon", "geometry_mismatch"),
        (2, "mask", "geometry_mismatch"),
        (3, "answer", "answer_shape_mismatch"),
        (4, "answer", "answer_shape_mismatch"),
        (5, "answer[1].name", "unknown_answer"),
        (6, "classifications[0].name", "misplaced_classification"),
        (7, "answer.classifications[0].answer.name", "unknown_answer"),
        (8, "schemaId", "name_schema_id_mismatch"),
        (9, "name", "unknown_tool"),
        (10, "confidence", "confidence"),
    ]
    by_row = {p.row: p for p in report.errors}
    assert by_row[0].suggestion == "did you mean 'bounding_box'?"
    assert (
        by_row[1].message
        == "tool 'bounding_box' is a rectangle tool, which takes a bbox; got a polygon"
    )
    assert by_row[1].suggestion == "did you mean 'polygon'?"
    assert by_row[3].suggestion == 'use {"name": "second_radio_answer"}'
    assert by_row[6].message == (
        "tool 'bounding_box' has no classification 'sub_radio_question'; "
        "'sub_radio_question' is a classification of tool 'bbox_with_radio_subclass'"
    )
    assert by_row[7].suggestion == "did you mean 'first_sub_radio_answer'?"
    assert "is a global classification" in by_row[9].message
    assert by_row[8].message == (
        "name 'point' and schemaId name different features: 'ccccccccccccccccccccccccc' is not in the ontology"
    )
    assert report.counts == {
        "unknown_tool": 2,
        "name_schema_id_mismatch": 1,
        "geometry_mismatch": 2,
        "answer_shape_mismatch": 2,
        "unknown_answer": 2,
        "misplaced_classification": 1,
        "confidence": 1,
    }
    assert not report.ok

    # The same, as the exception dumps raises: nothing is written.
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps(items, ontology=onto)
    assert [(e["row"], e["path"]) for e in err.value.errors()] == [(r, p) for r, p, _ in got]
    assert (
        "row 0: name: the ontology has no tool 'bounding_bx'; did you mean 'bounding_box'?"
        in str(err.value)
    )
    with pytest.raises(lbfast.ValidationError) as err:
        report.raise_for_errors()
    assert err.value.report is report


def required_ontology():
    lb = lbfast
    return lb.OntologyBuilder(
        tools=[
            lb.Tool(
                tool=lb.Tool.Type.BBOX,
                name="car",
                classifications=[
                    lb.Classification(
                        class_type=lb.Classification.Type.RADIO,
                        name="color",
                        required=True,
                        options=[
                            lb.Option(
                                "red",
                                options=[
                                    lb.Classification(
                                        class_type=lb.Classification.Type.TEXT,
                                        name="shade",
                                        required=True,
                                    )
                                ],
                            ),
                            lb.Option("blue"),
                        ],
                    )
                ],
            )
        ],
        classifications=[
            lb.Classification(
                class_type=lb.Classification.Type.RADIO,
                name="weather",
                required=True,
                options=[lb.Option("sunny")],
            )
        ],
    )


def test_required_classifications_per_object_answer_and_data_row():
    color = lambda answer, nested=(): {  # noqa: E731
        "name": "color",
        "answer": {"name": answer, "classifications": list(nested)},
    }
    items = [
        {"dataRow": {"globalKey": "a"}, "name": "car", "bbox": BOX},
        {
            "dataRow": {"globalKey": "a"},
            "name": "car",
            "bbox": BOX,
            "classifications": [color("red")],
        },
        {
            "dataRow": {"globalKey": "b"},
            "name": "car",
            "bbox": BOX,
            "classifications": [color("blue")],
        },
        {"dataRow": {"globalKey": "b"}, "name": "weather", "answer": {"name": "sunny"}},
    ]
    report = lbfast.validate(items, required_ontology())
    assert [(p.row, p.path, p.kind) for p in report.errors] == [
        (0, "classifications", "missing_required"),
        (0, "", "missing_required"),
        (1, "classifications[0].answer.classifications", "missing_required"),
    ]
    assert report.errors[1].message == (
        "data row global key 'a' has no answer to the required global classification 'weather'"
    )
    assert lbfast.validate(items, required_ontology(), required=False).ok
    lbfast.dumps(items, ontology=required_ontology(), required=False)


def test_required_global_classifications_are_checked_across_calls():
    v = Validator(required_ontology())
    v.check(
        [
            {
                "dataRow": {"globalKey": "a"},
                "name": "car",
                "bbox": BOX,
                "classifications": [{"name": "color", "answer": {"name": "blue"}}],
            }
        ]
    )
    v.check(
        [
            {"dataRow": {"globalKey": "a"}, "name": "weather", "answer": {"name": "sunny"}},
            {
                "dataRow": {"id": "ckrazctum0z8a0ybc0b0o0g0v"},
                "name": "weather",
                "answer": {"name": "sunny"},
            },
            {
                "dataRow": {"globalKey": "c"},
                "name": "car",
                "bbox": BOX,
                "classifications": [{"name": "color", "answer": {"name": "blue"}}],
            },
        ]
    )
    report = v.finish()
    assert [(p.row, p.kind) for p in report.errors] == [(3, "missing_required")]
    assert "global key 'c'" in report.errors[0].message
    assert report.items == 4


def test_typed_labels_are_checked_with_typed_paths(onto):
    label = lb_types.Label(
        data={"global_key": GK},
        annotations=[
            lb_types.ObjectAnnotation(
                name="bbox_with_radio_subclass",
                value=lb_types.Rectangle(
                    start=lb_types.Point(x=1, y=1), end=lb_types.Point(x=5, y=5)
                ),
                classifications=[
                    lb_types.ClassificationAnnotation(
                        name="sub_radio_question",
                        value=lb_types.Radio(
                            answer=lb_types.ClassificationAnswer(name="first_sub_radio_anwser")
                        ),
                    )
                ],
            ),
            lb_types.ObjectAnnotation(name="polyline", value=lb_types.Point(x=1, y=1)),
            lb_types.ClassificationAnnotation(
                name="checklist_question",
                value=lb_types.Radio(
                    answer=lb_types.ClassificationAnswer(name="first_checklist_answer")
                ),
            ),
        ],
    )
    report = lbfast.validate([label], onto)
    assert [(p.row, p.path, p.kind) for p in report.errors] == [
        (0, "annotations[0].classifications[0].value.answer.name", "unknown_answer"),
        (0, "annotations[1].value", "geometry_mismatch"),
    ]
    assert [(p.path, p.kind) for p in report.warnings] == [
        ("annotations[2].value.answer", "checklist_answer_normalized")
    ]
    assert report.annotations == 3


def guide_snippet(text: str, variable: str, ndjson: bool) -> str:
    """The code block of the guide that assigns `variable`."""
    label = "NDJSON" if ndjson else "Python annotation"
    for m in re.finditer(
        r"```python (?P<label>[^\n]*?)(?: theme=\{[^}]*\})?\n(?P<body>.*?)```", text, re.S
    ):
        if m.group("label").strip() == label and re.search(
            rf"^\s*{variable}\s*=", m.group("body"), re.M
        ):
            return textwrap.dedent(m.group("body"))
    raise AssertionError(f"the guide has no {label} snippet for {variable}")


def test_the_guides_nested_checklist_dict_is_normalised_with_a_warning(guide_text, onto):
    """The guide's NDJSON nested checklist gives its sub-checklist a single answer
    object (radio-shaped). Decision: with an ontology, which says the sub-question is a
    checklist, lbfast writes a one-element list and warns; without one it stays a
    radio-shaped answer (see test_seed_snippets), as nothing says otherwise."""
    ns: dict = {}
    exec(guide_snippet(guide_text, "nested_checklist_prediction_ndjson", ndjson=True), ns)
    ndjson = {**ns["nested_checklist_prediction_ndjson"], "dataRow": {"globalKey": GK}}
    assert isinstance(ndjson["answer"][0]["classifications"][0]["answer"], dict)
    typed_ns: dict = {"lb_types": lb_types}
    exec(guide_snippet(guide_text, "nested_checklist_prediction", ndjson=False), typed_ns)
    label = lb_types.Label(
        data={"global_key": GK}, annotations=[typed_ns["nested_checklist_prediction"]]
    )

    report = lbfast.validate([ndjson], onto)
    assert report.ok
    assert [(p.path, p.kind, p.severity) for p in report.warnings] == [
        ("answer[0].classifications[0].answer", "checklist_answer_normalized", "warning")
    ]
    with pytest.warns(lbfast.OntologyWarning, match="written as a one-element list"):
        written = json.loads(lbfast.dumps([ndjson], ontology=onto))
    typed = json.loads(lbfast.dumps([label], ontology=onto))
    written.pop("uuid"), typed.pop("uuid")
    assert written == typed
    assert written["answer"][0]["classifications"][0]["answer"] == [
        {"name": "first_sub_checklist_answer", "confidence": 0.5}
    ]
    # Without an ontology: radio-shaped, as given, and no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = json.loads(lbfast.dumps([ndjson]))
    assert isinstance(plain["answer"][0]["classifications"][0]["answer"], dict)


EXPORTED = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "car",
            "featureSchemaId": "cfeatcar00000000000000000",
            "schemaNodeId": "cnodecar00000000000000000",
            "classifications": [
                {
                    "type": "radio",
                    "name": "color",
                    "featureSchemaId": "cfeatcolor000000000000000",
                    "options": [{"value": "red", "featureSchemaId": "cfeatred00000000000000000"}],
                }
            ],
        },
    ],
    "classifications": [
        {"type": "text", "name": "caption", "featureSchemaId": "cfeatcaption0000000000000"}
    ],
}


def test_names_resolve_to_schema_ids_at_every_level():
    items = [
        {
            "dataRow": {"globalKey": "a"},
            "name": "car",
            "bbox": BOX,
            "classifications": [{"name": "color", "answer": {"name": "red"}}],
        },
        {"dataRow": {"globalKey": "a"}, "name": "caption", "answer": "a car"},
    ]
    lines = [
        json.loads(x)
        for x in lbfast.dumps(items, ontology=EXPORTED, resolve_schema_ids=True).splitlines()
    ]
    assert lines[0]["schemaId"] == "cfeatcar00000000000000000"
    assert lines[0]["classifications"][0]["schemaId"] == "cfeatcolor000000000000000"
    assert lines[0]["classifications"][0]["answer"]["schemaId"] == "cfeatred00000000000000000"
    assert lines[1]["schemaId"] == "cfeatcaption0000000000000"
    assert lines[0]["name"] == "car"  # names stay
    # Without resolving, nothing is added.
    plain = json.loads(lbfast.dumps(items[:1], ontology=EXPORTED).splitlines()[0])
    assert "schemaId" not in plain


def test_resolving_needs_an_ontology_with_ids(onto):
    with pytest.raises(ValueError, match="no featureSchemaId"):
        lbfast.dumps(
            [row(name="point", point={"x": 1, "y": 1})], ontology=onto, resolve_schema_ids=True
        )


def test_schema_ids_alone_are_checked_and_a_node_id_is_recognised():
    items = [
        {"dataRow": {"globalKey": "a"}, "schemaId": "cfeatcar00000000000000000", "bbox": BOX},
        {"dataRow": {"globalKey": "a"}, "schemaId": "cnodecar00000000000000000", "bbox": BOX},
    ]
    report = lbfast.validate(items, EXPORTED)
    assert [(p.row, p.path, p.kind) for p in report.errors] == [(1, "schemaId", "unknown_tool")]
    assert "featureSchemaId 'cfeatcar00000000000000000'" in report.errors[0].suggestion


def test_ndjson_files_are_checked_with_file_and_line(tmp_path, onto):
    good = tmp_path / "good.ndjson"
    good.write_text(
        "\n".join(json.dumps(row(name="point", point={"x": i, "y": i})) for i in range(3)) + "\n"
    )
    bad = tmp_path / "bad.ndjson"
    bad.write_text(
        json.dumps(row(name="pont", point={"x": 1, "y": 1}))
        + "\n\n{not json\n"
        + json.dumps(row(name="point", point={"x": "one", "y": 1}))
        + "\n"
        + json.dumps(row(name="free_text", answer={"name": "x"}))
        + "\n"
    )
    report = lbfast.validate_files([good, bad], onto)
    got = [(p.source, p.kind) for p in report.errors]
    assert got == [
        (f"{bad}:1", "unknown_tool"),
        (f"{bad}:3", "unreadable"),
        (f"{bad}:4", "type"),
        (f"{bad}:5", "answer_shape_mismatch"),
    ]
    assert report.items == 7
    assert "expected a number" in report.errors[2].message
    # A JSON array of predictions works too.
    array = tmp_path / "preds.json"
    array.write_text(json.dumps([row(name="point", point={"x": 1, "y": 1})]))
    assert lbfast.validate_files([array], onto).ok


def test_a_report_serialises_for_machines(onto):
    report = lbfast.validate([row(name="pont", point={"x": 1, "y": 1})], onto)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert data["counts"] == {"unknown_tool": 1}
    assert data["errors"][0] == {
        "row": 0,
        "source": None,
        "path": "name",
        "kind": "unknown_tool",
        "severity": "error",
        "message": "the ontology has no tool 'pont'",
        "suggestion": "did you mean 'point'?",
    }
    assert "1 error (unknown_tool: 1)" in report.summary()


def test_without_an_ontology_only_the_predictions_are_checked():
    report = lbfast.validate([row(name="anything", point={"x": float("nan"), "y": 1})])
    assert [(p.path, p.kind) for p in report.errors] == [("point.x", "not_finite")]


COLUMNAR_ONTOLOGY = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "car",
            "featureSchemaId": "ccar000000000000000000000",
            "classifications": [
                {
                    "type": "radio",
                    "name": "color",
                    "required": True,
                    "featureSchemaId": "ccolor0000000000000000000",
                    "options": [
                        {"value": "red", "featureSchemaId": "cred00000000000000000000a"},
                        {"value": "blue", "featureSchemaId": "cblue0000000000000000000a"},
                    ],
                }
            ],
        },
        {"tool": "polygon", "name": "road", "featureSchemaId": "croad000000000000000000aa"},
    ],
    "classifications": [
        {
            "type": "checklist",
            "name": "weather",
            "featureSchemaId": "cweather00000000000000000",
            "options": [{"value": "rain", "featureSchemaId": "crain00000000000000000000"}],
        }
    ],
}


def test_columnar_batches_are_checked_once_per_feature_at_the_first_row_using_it():
    np = pytest.importorskip("numpy")
    from lbfast.columnar import Boxes, GlobalClassifications, RadioSubclass

    boxes = Boxes(
        np.array([[1, 2, 3, 4], [5, 6, 7, 8], [1, 1, 2, 2], [0, 0, 1, 1]], float),
        data_rows=["a", "b"],
        image_index=[0, 1, 1, 0],
        features=["car", "road", "cra", "unused"],
        class_ids=[0, 1, 2, 0],
        subclass=RadioSubclass("color", ["red", "blu"], [0, 1, 0, 0]),
    )
    weather = GlobalClassifications(
        "radio", "weather", data_rows=["a"], answers=["rain"], answer_ids=[0]
    )
    report = lbfast.validate([boxes, weather], COLUMNAR_ONTOLOGY)
    assert [(p.row, p.path, p.kind) for p in report.errors] == [
        (1, "subclass.answers[1]", "unknown_answer"),
        (1, "features[1]", "geometry_mismatch"),
        (1, "subclass.question", "misplaced_classification"),
        (2, "features[2]", "unknown_tool"),
        (4, "question", "answer_shape_mismatch"),
    ]
    assert report.annotations == 5
    by_path = {p.path: p for p in report.errors}
    assert by_path["features[1]"].suggestion == "did you mean 'car'?"
    assert by_path["subclass.answers[1]"].suggestion == "did you mean 'blue'?"
    assert (
        by_path["question"].message
        == "classification 'weather' is a checklist question; got radio answers"
    )


def test_columnar_required_sub_classifications_and_resolution():
    np = pytest.importorskip("numpy")
    from lbfast.columnar import Boxes, GlobalClassifications, RadioSubclass

    bare = Boxes(np.array([[1, 2, 3, 4]], float), data_rows=["a"], features=["car"])
    report = lbfast.validate([bare], COLUMNAR_ONTOLOGY)
    assert [(p.path, p.kind) for p in report.errors] == [("features[0]", "missing_required")]

    boxes = Boxes(
        np.array([[1, 2, 3, 4]], float),
        data_rows=["a"],
        features=["car"],
        subclass=RadioSubclass("color", ["red"], [0]),
    )
    weather = GlobalClassifications(
        "checklist", "weather", data_rows=["a"], answers=["rain"], answer_ids=[0], offsets=[0, 1]
    )
    lines = [
        json.loads(x)
        for x in lbfast.dumps(
            [boxes, weather], ontology=COLUMNAR_ONTOLOGY, resolve_schema_ids=True
        ).splitlines()
    ]
    assert lines[0]["schemaId"] == "ccar000000000000000000000"
    assert lines[0]["classifications"][0]["schemaId"] == "ccolor0000000000000000000"
    assert lines[0]["classifications"][0]["answer"]["schemaId"] == "cred00000000000000000000a"
    assert lines[1]["schemaId"] == "cweather00000000000000000"
    assert lines[1]["answer"][0]["schemaId"] == "crain00000000000000000000"


def test_a_lone_wrong_typed_item_is_reported_like_two():
    bad = row(name="point", point={"x": "1", "y": 2})
    one = lbfast.validate([bad])
    two = lbfast.validate([bad, bad])
    found = [(p.row, p.path, p.kind, p.message) for p in one.errors]
    assert found == [(0, "point.x", "type", "expected a number, got str")]
    assert [(p.row, p.path, p.message) for p in two.errors] == [
        (0, "point.x", "expected a number, got str"),
        (1, "point.x", "expected a number, got str"),
    ]
    assert (one.items, two.items) == (1, 2)


def test_a_deeply_nested_json_text_ontology_is_a_value_error():
    with pytest.raises(ValueError, match="nested too deeply"):
        Ontology.from_json('{"tools": ' + "[" * 100_000 + "]" * 100_000 + "}")
