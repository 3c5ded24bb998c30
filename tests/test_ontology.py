"""The ontology builder against the SDK's, and loading ontologies.

The guide's Step 2 code is read from the guide itself (the ``seed_path`` fixture) and
run twice, with ``lb = lbfast`` and with ``lb = labelbox``; ``asdict()`` must be the
same dict with the same key order, colours and nulls.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap

import labelbox
import pytest

import lbfast
from lbfast.ontology import InconsistentOntologyException, Ontology

_FENCE = re.compile(r"^[ \t]*```python[^\n]*\n(?P<body>.*?)^[ \t]*```[ \t]*$", re.M | re.S)


def step2_builder_code(seed_text: str) -> str:
    """The statement of the guide's Step 2 that builds `ontology_builder` (the rest of
    the snippet calls the Labelbox API)."""
    start = seed_text.index("Step 2: Set up ontology")
    fence = _FENCE.search(seed_text, start)
    assert fence, "no code block after Step 2"
    code = textwrap.dedent(fence.group("body")).replace("\t", "    ")
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["ontology_builder"]:
            return ast.get_source_segment(code, node)
    raise AssertionError("Step 2 defines no ontology_builder")


def run_builder(code: str, lb) -> object:
    ns = {"lb": lb}
    exec(compile(code, "<guide step 2>", "exec"), ns)
    return ns["ontology_builder"]


@pytest.fixture(scope="module")
def step2(seed_path) -> str:
    return step2_builder_code(seed_path.read_text(encoding="utf-8"))


def same(ours: dict, theirs: dict) -> None:
    """Equal as dicts and as JSON text (so key order counts too)."""
    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)


def test_the_guides_step2_gives_the_sdks_asdict(step2):
    ours = run_builder(step2, lbfast)
    theirs = run_builder(step2, labelbox)
    assert isinstance(ours, lbfast.OntologyBuilder)
    same(ours.asdict(), theirs.asdict())
    # The guide passes it with media_type=lb.MediaType.Image.
    assert lbfast.MediaType.Image.value == labelbox.MediaType.Image.value == "IMAGE"
    assert [m.value for m in lbfast.MediaType] == [m.value for m in labelbox.MediaType]


def test_the_guides_ontology_has_what_its_predictions_need(step2):
    d = run_builder(step2, lbfast).asdict()
    assert [t["name"] for t in d["tools"]] == [
        "bounding_box",
        "bbox_with_radio_subclass",
        "polygon",
        "mask",
        "mask_with_text_subclass",
        "point",
        "polyline",
    ]
    assert [t["color"] for t in d["tools"]][:2] == ["#ff0000", "#ffda00"]


def both(build):
    """`build(lb)` run with lbfast and with the SDK."""
    return build(lbfast), build(labelbox)


def test_every_option_of_the_builder_matches_the_sdk():
    def build(lb):
        color = lb.Classification(
            class_type=lb.Classification.Type.RADIO,
            name="color",
            required=True,
            ui_mode=lb.Classification.UIMode.SEARCHABLE,
            is_likert_scale=True,
            options=[lb.Option(value="red", label="Red", feature_schema_id="c" * 25)],
        )
        color.add_option(lb.Option(value="blue"))
        tags = lb.Classification(
            class_type=lb.Classification.Type.CHECKLIST,
            name="tags",
            scope=lb.Classification.Scope.INDEX,
            options=[lb.Option(value=1, position=7)],
        )
        tags.add_option(lb.Option(value="late"))
        tool = lb.Tool(tool=lb.Tool.Type.POLYGON, name="car", required=True, color="#123456")
        tool.add_classification(color)
        builder = lb.OntologyBuilder()
        builder.add_tool(tool)
        for kind in (
            lb.Tool.Type.BBOX,
            lb.Tool.Type.LINE,
            lb.Tool.Type.POINT,
            lb.Tool.Type.SEGMENTATION,
        ):
            builder.add_tool(lb.Tool(tool=kind, name=kind.value))
        builder.add_classification(tags)
        builder.add_classification(
            lb.Classification(
                class_type=lb.Classification.Type.TEXT, name="note", instructions="Say"
            )
        )
        return builder

    ours, theirs = both(build)
    same(ours.asdict(), theirs.asdict())
    # Colours are spread over the hue circle for any number of tools.
    for n in (1, 3, 7, 12, 50):
        ours, theirs = both(
            lambda lb, n=n: lb.OntologyBuilder(
                tools=[lb.Tool(tool=lb.Tool.Type.BBOX, name=f"t{i}") for i in range(n)]
            )
        )
        same(ours.asdict(), theirs.asdict())


def test_from_dict_round_trips_and_reads_the_sdks_dicts(step2):
    theirs = run_builder(step2, labelbox).asdict()
    ours = lbfast.OntologyBuilder.from_dict(theirs)
    same(ours.asdict(), theirs)
    same(
        labelbox.OntologyBuilder.from_dict(ours.asdict()).asdict(),
        lbfast.OntologyBuilder.from_dict(ours.asdict()).asdict(),
    )


def test_the_sdks_errors_are_raised_too():
    with pytest.raises(InconsistentOntologyException, match="requires options"):
        lbfast.OntologyBuilder(
            classifications=[
                lbfast.Classification(class_type=lbfast.Classification.Type.RADIO, name="q")
            ]
        ).asdict()
    builder = lbfast.OntologyBuilder(tools=[lbfast.Tool(tool=lbfast.Tool.Type.BBOX, name="a")])
    with pytest.raises(InconsistentOntologyException, match="Duplicate tool name 'a'"):
        builder.add_tool(lbfast.Tool(tool=lbfast.Tool.Type.POINT, name="a"))
    with pytest.raises(ValueError, match="name"):
        lbfast.Classification(class_type=lbfast.Classification.Type.TEXT)
    with pytest.warns(UserWarning, match="instructions"):
        c = lbfast.Classification(class_type=lbfast.Classification.Type.TEXT, instructions="q")
    assert c.name == "q"


# An ontology as Labelbox exports it: ids everywhere, extra keys, nested options,
# an archived tool, an int option value, no "instructions" on a nested question.
EXPORTED = {
    "tools": [
        {
            "schemaNodeId": "cnode00000000000000000001",
            "featureSchemaId": "cfeat00000000000000000001",
            "required": False,
            "name": "car",
            "tool": "rectangle",
            "color": "#1CE6FF",
            "archived": 0,
            "classifications": [
                {
                    "schemaNodeId": "cnode00000000000000000002",
                    "featureSchemaId": "cfeat00000000000000000002",
                    "type": "radio",
                    "name": "color",
                    "instructions": "color",
                    "required": True,
                    "archived": 0,
                    "options": [
                        {
                            "schemaNodeId": "cnode00000000000000000003",
                            "featureSchemaId": "cfeat00000000000000000003",
                            "label": "Red",
                            "value": "red",
                            "position": 0,
                            "options": [
                                {
                                    "schemaNodeId": "cnode00000000000000000004",
                                    "featureSchemaId": "cfeat00000000000000000004",
                                    "type": "checklist",
                                    "name": "shade",
                                    "required": False,
                                    "options": [
                                        {
                                            "featureSchemaId": "cfeat00000000000000000005",
                                            "schemaNodeId": "cnode00000000000000000005",
                                            "label": "dark",
                                            "value": "dark",
                                            "position": 0,
                                        },
                                        {
                                            "featureSchemaId": "cfeat00000000000000000006",
                                            "schemaNodeId": "cnode00000000000000000006",
                                            "label": "2",
                                            "value": 2,
                                            "position": 1,
                                        },
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        },
        {
            "schemaNodeId": "cnode00000000000000000007",
            "featureSchemaId": "cfeat00000000000000000007",
            "required": False,
            "name": "truck",
            "tool": "rectangle",
            "color": "#FF34FF",
            "archived": 1,
            "classifications": [],
        },
    ],
    "classifications": [
        {
            "schemaNodeId": "cnode00000000000000000008",
            "featureSchemaId": "cfeat00000000000000000008",
            "type": "text",
            "name": "caption",
            "instructions": "caption",
            "required": False,
            "options": [],
            "scope": "global",
            "archived": 0,
        }
    ],
    "relationships": [],
}


def test_an_exported_ontology_loads_from_a_path_text_or_dict(tmp_path):
    path = tmp_path / "ontology.json"
    path.write_text(json.dumps({"normalized": EXPORTED, "name": "Cars"}))
    for source in (path, str(path), json.dumps(EXPORTED), EXPORTED, {"normalized": EXPORTED}):
        onto = Ontology.from_json(source)
        assert onto.index.tool_count == 2
        assert onto.tool_names == ["car", "truck"]
    builder = onto.builder()
    shade = builder.tools[0].classifications[0].options[0].options[0]
    assert (shade.name, shade.instructions, [o.value for o in shade.options]) == (
        "shade",
        "shade",
        ["dark", 2],
    )
    assert onto.features_without_schema_id() == []
    assert "2 tools, 1 classifications" in repr(onto)


def test_every_form_of_ontology_is_accepted(step2):
    sdk_builder = run_builder(step2, labelbox)
    forms = [
        run_builder(step2, lbfast),
        sdk_builder,
        sdk_builder.asdict(),
        type("SdkOntology", (), {"normalized": sdk_builder.asdict()})(),
        Ontology.of(sdk_builder),
    ]
    for form in forms:
        assert Ontology.of(form).index.tool_count == 7
    # The caller's builder keeps its unset colours.
    fresh = run_builder(step2, lbfast)
    Ontology.of(fresh)
    assert fresh.tools[0].color is None
    with pytest.raises(TypeError, match="expected an ontology"):
        Ontology.of(42)
    with pytest.raises(ValueError, match="not an ontology"):
        Ontology.from_json({"name": "x"})


def test_an_ambiguous_ontology_is_refused_with_every_problem():
    bad = {
        "tools": [{"tool": "rectangle", "name": "a"}, {"tool": "polygon", "name": "a"}],
        "classifications": [
            {"type": "radio", "name": "q", "options": [{"value": "x"}, {"value": "x"}]}
        ],
    }
    with pytest.raises(ValueError) as err:
        Ontology.from_json(bad)
    assert "tools[1]: duplicate name 'a'" in str(err.value)
    assert "classifications[0].options[1]: duplicate name 'x'" in str(err.value)
    with pytest.raises(TypeError, match=r"tools\[0\]: expected a dict"):
        Ontology.from_json({"tools": ["rectangle"]})


def test_enum_values_may_be_given_as_their_text():
    """A superset of the SDK (which fails at asdict() on a plain string)."""
    tool = lbfast.Tool(tool="rectangle", name="car")
    question = lbfast.Classification(class_type="radio", name="q", options=[lbfast.Option("a")])
    assert tool.tool is lbfast.Tool.Type.BBOX
    assert question.class_type is lbfast.Classification.Type.RADIO
    assert (
        lbfast.OntologyBuilder(tools=[tool], classifications=[question]).asdict()["tools"][0][
            "tool"
        ]
        == "rectangle"
    )
    assert lbfast.MediaType("image") is lbfast.MediaType.Image
