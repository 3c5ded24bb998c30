"""One set of options: every function that validates or writes takes the same keywords,
and the Report and ValidationError give the same problems."""

from __future__ import annotations

import io

import pytest

import lbfast
from lbfast.labelbox import write_for_upload

ONTOLOGY = {"tools": [{"tool": "rectangle", "name": "car"}], "classifications": []}


def box(name: str) -> dict[str, object]:
    return {
        "name": name,
        "dataRow": {"globalKey": "img-1"},
        "bbox": {"top": 1.0, "left": 2.0, "height": 3.0, "width": 4.0},
    }


WRITERS = {
    "dumps": lbfast.dumps,
    "dump": lambda items, **o: lbfast.dump(items, io.BytesIO(), **o),
    "serialize": lambda items, **o: list(lbfast.serialize(items, **o)),
    "NDJsonConverter.serialize": lambda items, **o: list(
        lbfast.NDJsonConverter.serialize(items, **o)
    ),
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=list(WRITERS))
def test_every_writer_checks_against_the_ontology(write):
    write([box("car")], ontology=ONTOLOGY)
    with pytest.raises(lbfast.ValidationError) as err:
        write([box("bus")], ontology=ONTOLOGY)
    assert [e["kind"] for e in err.value.errors()] == ["unknown_tool"]


@pytest.mark.parametrize("write", WRITERS.values(), ids=list(WRITERS))
def test_a_misspelt_option_is_a_type_error(write):
    with pytest.raises(TypeError, match="max_pixels"):
        write([box("car")], max_pixels=10)


def test_shard_writer_and_validate_take_the_same_options(tmp_path):
    with pytest.raises(TypeError, match="ontolgy"):
        lbfast.ShardWriter(tmp_path, ontolgy=ONTOLOGY)
    with pytest.raises(TypeError, match="ontolgy"):
        lbfast.validate([box("car")], ontolgy=ONTOLOGY)
    report = lbfast.validate([box("bus")], ontology=ONTOLOGY, threads=1, max_mask_pixels=10)
    assert report.counts == {"unknown_tool": 1}


def test_resolving_schema_ids_needs_them_in_validate_as_in_dumps():
    for call in (lbfast.dumps, lbfast.validate):
        with pytest.raises(ValueError, match="no featureSchemaId"):
            call([box("car")], ontology=ONTOLOGY, resolve_schema_ids=True)


def test_write_for_upload_names_shards_by_prefix(tmp_path):
    manifest, _ = write_for_upload([box("car")], tmp_path, prefix="run-7", ontology=ONTOLOGY)
    assert [s["path"] for s in manifest["shards"]] == [str(tmp_path / "run-7-00000.ndjson")]


def test_report_and_validation_error_give_the_same_values():
    report = lbfast.validate([box("bus")], ONTOLOGY)
    with pytest.raises(lbfast.ValidationError) as err:
        report.raise_for_errors()
    assert err.value.errors() == report.error_details()
    [detail] = report.error_details()
    assert detail == {
        "kind": "unknown_tool",
        "row": 0,
        "path": "name",
        "message": "the ontology has no tool 'bus'",
        "suggestion": detail["suggestion"],
        "severity": "error",
    }
    # The report travels as the exception's own attribute, set by its constructor.
    assert err.value.report is report
    assert "report" in vars(err.value)
    with pytest.raises(lbfast.ValidationError) as direct:
        lbfast.dumps([box("bus")], ontology=ONTOLOGY)
    assert direct.value.report is None
    assert [(e["kind"], e["row"], e["path"]) for e in direct.value.errors()] == [
        ("unknown_tool", 0, "name")
    ]
