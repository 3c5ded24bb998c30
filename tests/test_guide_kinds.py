"""The user guide's twelve predictions, its ontology and its NDJSON payloads, without
the guide: ``sdk_oracle.seed_kinds`` (typed), ``seed_ndjson`` (dicts) and
``seed_ontology`` (the builder) restate them, so a bare clone tests the same content.
``test_seed_snippets.py`` runs the guide's own text when the guide is present.
"""

from __future__ import annotations

import json
import warnings

import labelbox
import pytest
from sdk_oracle import (
    SEED_MASK_URL,
    SEED_MASK_URL_2,
    assert_uuid4,
    lbfast_lines,
    normalise,
    sdk_lines,
    seed_kinds,
    seed_ndjson,
    seed_ontology,
    strict_loads,
)
from test_ontology import run_builder, step2_builder_code

import lbfast
import lbfast.types as lb_types

GK = "2560px-Kitano_Street_Kobe01s5s4110.jpeg"
KINDS = list(seed_kinds(lb_types))
MASKS = {"mask": SEED_MASK_URL, "mask_with_text_subclass": SEED_MASK_URL_2}


def with_row(item: dict) -> dict:
    return {**item, "dataRow": {"globalKey": GK}}


def typed_line(kind: str) -> dict:
    (line,) = lbfast_lines(
        [lb_types.Label(data={"global_key": GK}, annotations=[seed_kinds(lb_types)[kind]])]
    )
    return normalise(line, sdk=False)


def test_there_are_twelve_kinds_in_both_forms():
    assert len(KINDS) == 12
    assert list(seed_ndjson()) == KINDS


def test_the_ontology_is_the_sdks_key_for_key():
    ours = seed_ontology(lbfast).asdict()
    theirs = seed_ontology(labelbox).asdict()
    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)  # key order too


def test_the_ontology_is_the_guides_when_the_guide_is_there(seed_path):
    guide = run_builder(step2_builder_code(seed_path.read_text(encoding="utf-8")), lbfast)
    assert guide.asdict() == seed_ontology(lbfast).asdict()


def test_one_label_of_the_twelve_kinds_is_what_the_sdk_writes():
    fast = lbfast_lines(
        [lb_types.Label(data={"global_key": GK}, annotations=list(seed_kinds(lb_types).values()))]
    )
    sdk = sdk_lines(
        [
            labelbox.types.Label(
                data={"global_key": GK}, annotations=list(seed_kinds(labelbox.types).values())
            )
        ]
    )
    assert [normalise(line, sdk=False) for line in fast] == [
        normalise(line, sdk=True) for line in sdk
    ]


def test_the_twelve_ndjson_payloads_give_twelve_strict_lines():
    data = lbfast.dumps([with_row(item) for item in seed_ndjson().values()])
    lines = [strict_loads(line) for line in data.splitlines()]
    assert len(lines) == 12 and data.endswith(b"\n")
    for line in lines:
        assert_uuid4(line)
        assert line["dataRow"] == {"globalKey": GK}


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in MASKS and k != "nested_checklist"])
def test_an_ndjson_payload_means_its_typed_prediction(kind):
    (line,) = lbfast_lines([with_row(seed_ndjson()[kind])])
    assert normalise(line, sdk=False) == typed_line(kind)


@pytest.mark.parametrize("kind", list(MASKS))
def test_a_hosted_mask_payload_keeps_its_url_and_means_the_rest(kind):
    (line,) = lbfast_lines([with_row(seed_ndjson()[kind])])
    typed = typed_line(kind)
    assert line.pop("mask") == {"instanceURI": MASKS[kind], "colorRGB": [255, 255, 255]}
    assert set(typed.pop("mask")) == {"png"}
    line.pop("uuid")
    assert line == typed


def test_the_nested_checklist_payload_is_radio_shaped_without_an_ontology():
    (line,) = lbfast_lines([with_row(seed_ndjson()["nested_checklist"])])
    sub = line["answer"][0]["classifications"][0]
    assert sub == {
        "name": "sub_checklist_question",
        "answer": {"confidence": 0.5, "name": "first_sub_checklist_answer"},
    }
    # The typed prediction is a checklist there: a list.
    assert typed_line("nested_checklist")["answer"][0]["classifications"][0]["answer"] == [
        {"confidence": 0.5, "name": "first_sub_checklist_answer"}
    ]


def test_the_twelve_fit_the_ontology_in_both_forms():
    onto = lbfast.Ontology.of(seed_ontology(lbfast))
    typed = lb_types.Label(data={"global_key": GK}, annotations=list(seed_kinds(lb_types).values()))
    report = lbfast.validate([typed], onto)
    assert report.ok and report.warnings == [], str(report)
    assert report.annotations == 12

    report = lbfast.validate([with_row(item) for item in seed_ndjson().values()], onto)
    assert report.ok, str(report)
    # The sub-checklist's single answer object is read as the checklist the ontology says.
    assert [(p.row, p.kind) for p in report.warnings] == [(2, "checklist_answer_normalized")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lbfast.OntologyWarning)
        line = json.loads(
            lbfast.dumps([with_row(seed_ndjson()["nested_checklist"])], ontology=onto)
        )
    assert normalise(line, sdk=False) == typed_line("nested_checklist")
