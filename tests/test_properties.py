"""Property tests: random predictions through lbfast and through the SDK.

Predictions are generated as plain specs (tuples and dicts) and built with either types
module, so that both libraries see the same input. Runs are derandomized (a fixed seed
per test), so the suite is deterministic. To search harder locally, set
``LBFAST_PROPERTY_EXAMPLES=5000``: that many examples, from a random seed.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdk_oracle import (
    assert_lines_match,
    lbfast_lines,
    lbfast_types,
    make_png,
    normalise,
    sdk_lines,
    sdk_types,
)

import lbfast

_EXAMPLES = os.environ.get("LBFAST_PROPERTY_EXAMPLES")
SETTINGS = settings(
    max_examples=int(_EXAMPLES) if _EXAMPLES else 200,
    deadline=None,
    derandomize=not _EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies -------------------------------------------------------------------------

# Finite floats, from tiny (subnormal) to huge; within +-1e300 so that a box's width
# (a difference of two coordinates) stays finite.
coords = st.one_of(
    st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e300, -1e300, 0.1, 1 / 3, 2.5e-308]),
    st.integers(min_value=-(2**53), max_value=2**53),
)
points = st.tuples(coords, coords)

SPECIAL_CHARS = ['"', "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\u2028", "😀", "é", "日"]
texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=24),
    st.lists(st.sampled_from(SPECIAL_CHARS), max_size=8).map("".join),
    st.text(alphabet=st.sampled_from([*SPECIAL_CHARS, "a", "_", " "]), max_size=12),
)
# Answers keep a confidence of 0.0 in both libraries; objects: see object_confidence.
confidences = st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0))
# The SDK drops an object confidence of 0 (a known deviation), so leave 0 out here.
object_confidences = st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0, exclude_min=True))
metric_lists = st.one_of(
    st.none(),
    st.lists(
        st.tuples(texts, st.floats(allow_nan=False, allow_infinity=False, width=64)),
        min_size=1,
        max_size=3,
    ),
)


def questions(depth: int) -> st.SearchStrategy[dict]:
    """A radio/checklist/text question with answers nesting up to ``depth`` more levels.
    Names only: no schema ids, and no metrics below the top."""
    sub = st.lists(questions(depth - 1), max_size=2) if depth > 0 else st.just([])
    answer = st.fixed_dictionaries(
        {"name": texts, "confidence": confidences, "classifications": sub}
    )
    return st.one_of(
        st.fixed_dictionaries({"kind": st.just("radio"), "name": texts, "answer": answer}),
        st.fixed_dictionaries(
            {"kind": st.just("checklist"), "name": texts, "answers": st.lists(answer, max_size=3)}
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("text"),
                "name": texts,
                "answer": texts,
                "confidence": confidences,
                "classifications": sub,
            }
        ),
    )


trees = questions(3)  # a question plus three levels below it: depth 4


def geometries() -> st.SearchStrategy[tuple]:
    return st.one_of(
        st.tuples(st.just("point"), points),
        st.tuples(st.just("box"), points, points),
        st.tuples(st.just("line"), st.lists(points, min_size=2, max_size=6)),
        st.tuples(st.just("polygon"), st.lists(points, min_size=3, max_size=6)),
        st.tuples(st.just("closed_polygon"), st.lists(points, min_size=2, max_size=5)),
    )


objects = st.fixed_dictionaries(
    {
        "name": texts,
        "confidence": object_confidences,
        "metrics": metric_lists,
        "geometry": geometries(),
        "classifications": st.lists(questions(2), max_size=2),
    }
)
global_keys = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20)


# --- building specs with either types module -------------------------------------------


def build_question(t: Any, q: dict) -> Any:
    def answer(a: dict) -> Any:
        return t.ClassificationAnswer(
            name=a["name"],
            confidence=a["confidence"],
            classifications=[build_question(t, c) for c in a["classifications"]] or None,
        )

    if q["kind"] == "radio":
        value = t.Radio(answer=answer(q["answer"]))
    elif q["kind"] == "checklist":
        value = t.Checklist(answer=[answer(a) for a in q["answers"]])
    else:
        value = t.Text(
            answer=q["answer"],
            confidence=q["confidence"],
            classifications=[build_question(t, c) for c in q["classifications"]] or None,
        )
    return t.ClassificationAnnotation(name=q["name"], value=value)


def build_geometry(t: Any, g: tuple) -> Any:
    def pt(p):
        return t.Point(x=p[0], y=p[1])

    kind = g[0]
    if kind == "point":
        return pt(g[1])
    if kind == "box":
        return t.Rectangle(start=pt(g[1]), end=pt(g[2]))
    if kind == "line":
        return t.Line(points=[pt(p) for p in g[1]])
    if kind == "polygon":
        return t.Polygon(points=[pt(p) for p in g[1]])
    # closed_polygon: the first point repeated at the end
    return t.Polygon(points=[pt(p) for p in [*g[1], g[1][0]]])


def build_object(t: Any, o: dict) -> Any:
    metrics = None
    if o["metrics"] is not None:
        metrics = [{"name": n, "value": v} for n, v in o["metrics"]]
    return t.ObjectAnnotation(
        name=o["name"],
        confidence=o["confidence"],
        custom_metrics=metrics,
        value=build_geometry(t, o["geometry"]),
        classifications=[build_question(t, q) for q in o["classifications"]],
    )


def labels_of(t: Any, global_key: str, objs: list[dict], qs: list[dict]) -> list[Any]:
    annotations = [build_object(t, o) for o in objs] + [build_question(t, q) for q in qs]
    return [t.Label(data={"global_key": global_key}, annotations=annotations)]


def all_strings(value: Any) -> list[str]:
    """Every string value (not key) inside ``value``; spec keys `kind` and `geometry`
    hold no user text and are skipped."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            s for k, v in value.items() if k not in ("kind", "geometry") for s in all_strings(v)
        ]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in all_strings(v)]
    return []


# --- properties ---------------------------------------------------------------------------


@SETTINGS
@given(gk=global_keys, objs=st.lists(objects, min_size=1, max_size=4))
def test_objects_match_sdk(gk, objs):
    fast = lbfast_lines(labels_of(lbfast_types, gk, objs, []))
    sdk = sdk_lines(labels_of(sdk_types, gk, objs, []))
    assert_lines_match(fast, sdk)


@SETTINGS
@given(gk=global_keys, qs=st.lists(trees, min_size=1, max_size=3))
def test_classification_trees_match_sdk(gk, qs):
    fast = lbfast_lines(labels_of(lbfast_types, gk, [], qs))
    sdk = sdk_lines(labels_of(sdk_types, gk, [], qs))
    assert_lines_match(fast, sdk)


@SETTINGS
@given(gk=global_keys, objs=st.lists(objects, max_size=3), qs=st.lists(trees, max_size=2))
def test_text_round_trips_exactly_and_lines_are_strict_json(gk, objs, qs):
    data = lbfast.dumps(labels_of(lbfast_types, gk, objs, qs))
    # lbfast_lines parses every line strictly (no NaN/Infinity, valid UTF-8).
    lines = lbfast_lines(labels_of(lbfast_types, gk, objs, qs))
    assert data.count(b"\n") == len(lines) == len(objs) + len(qs)
    for line, o in zip(lines, objs):
        assert line["name"] == o["name"]
        assert line["dataRow"] == {"globalKey": gk}
    for line, q in zip(lines[len(objs) :], qs):
        assert line["name"] == q["name"]
        if q["kind"] == "text":
            assert line["answer"] == q["answer"]
    # Every string given comes back unchanged somewhere in the output.
    assert set(all_strings(objs)) | set(all_strings(qs)) <= set(all_strings(lines))


def _same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@SETTINGS
@given(pts=st.lists(points, min_size=3, max_size=8))
def test_float_coordinates_round_trip_exactly(pts):
    t = lbfast_types

    def p(xy):
        return t.Point(x=xy[0], y=xy[1])

    annotations = [
        t.ObjectAnnotation(name="pt", value=p(pts[0])),
        t.ObjectAnnotation(name="ln", value=t.Line(points=[p(q) for q in pts])),
        t.ObjectAnnotation(name="pg", value=t.Polygon(points=[p(q) for q in pts])),
        t.ObjectAnnotation(name="bx", value=t.Rectangle(start=p(pts[0]), end=p(pts[1]))),
    ]
    point, line, polygon, box = lbfast_lines(
        [t.Label(data={"global_key": "g"}, annotations=annotations)]
    )
    for parsed in (point["point"], line["line"][0], polygon["polygon"][0]):
        assert isinstance(parsed["x"], float) and isinstance(parsed["y"], float)
        assert _same_float(parsed["x"], float(pts[0][0]))
        assert _same_float(parsed["y"], float(pts[0][1]))
    for parsed, given_pt in zip(line["line"], pts):
        assert _same_float(parsed["x"], float(given_pt[0]))
        assert _same_float(parsed["y"], float(given_pt[1]))
    ring = polygon["polygon"]
    for parsed, given_pt in zip(ring, pts):
        assert (parsed["x"], parsed["y"]) == (float(given_pt[0]), float(given_pt[1]))
    closes = (float(pts[-1][0]), float(pts[-1][1])) != (float(pts[0][0]), float(pts[0][1]))
    assert len(ring) == len(pts) + closes
    (x0, y0), (x1, y1) = (float(v) for v in pts[0]), (float(v) for v in pts[1])
    assert box["bbox"] == {
        "top": min(y0, y1),
        "left": min(x0, x1),
        "height": abs(y1 - y0),
        "width": abs(x1 - x0),
    }


@SETTINGS
@given(gk=global_keys, objs=st.lists(objects, max_size=3), qs=st.lists(trees, max_size=2))
def test_sdk_output_fed_back_as_dicts_is_written_unchanged(gk, objs, qs):
    """lbfast's dict path reads what the SDK writes (names only: no snake_case keys) and
    writes the same lines back, uuids included."""
    sdk = sdk_lines(labels_of(sdk_types, gk, objs, qs))
    again = lbfast_lines(sdk)
    assert [line["uuid"] for line in again] == [line["uuid"] for line in sdk]
    assert [normalise(line, sdk=False) for line in again] == [
        normalise(line, sdk=True) for line in sdk
    ]


@st.composite
def masks(draw) -> tuple[str, np.ndarray, Any]:
    """(source, pixels, colour): an RGB or gray image of a few colours and a colour
    taken from its pixels, so that it occurs."""
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    gray = draw(st.booleans())
    n = draw(st.integers(1, 4))
    if gray:
        palette = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n, unique=True))
    else:
        channel = st.integers(0, 255)
        palette = draw(
            st.lists(st.tuples(channel, channel, channel), min_size=n, max_size=n, unique=True)
        )
    index = np.array(draw(st.lists(st.integers(0, n - 1), min_size=h * w, max_size=h * w)))
    pixels = np.array(palette, np.uint8)[index].reshape((h, w) if gray else (h, w, 3))
    picked = palette[draw(st.sampled_from(sorted(set(index.tolist()))))]
    if gray:
        source = draw(st.sampled_from(["png", "from_2D_arr"]))
        color = draw(st.sampled_from([picked, (picked, picked, picked)]))
    else:
        source = draw(st.sampled_from(["png", "arr"]))
        color = picked
    return source, pixels, color


def build_mask(t: Any, source: str, pixels: np.ndarray) -> Any:
    if source == "png":
        return t.MaskData(im_bytes=make_png(pixels))
    if source == "from_2D_arr":
        return t.MaskData.from_2D_arr(pixels.copy())
    return t.MaskData(arr=pixels.copy())


@settings(SETTINGS, max_examples=int(_EXAMPLES) if _EXAMPLES else 100)
@given(items=st.lists(masks(), min_size=1, max_size=3))
def test_masks_match_sdk(items):
    def build(t):
        return [
            t.Label(
                data={"global_key": "g"},
                annotations=[
                    t.ObjectAnnotation(
                        name=f"m{i}", value=t.Mask(mask=build_mask(t, src, px), color=color)
                    )
                    for i, (src, px, color) in enumerate(items)
                ],
            )
        ]

    fast, _ = assert_lines_match(lbfast_lines(build(lbfast_types)), sdk_lines(build(sdk_types)))
    for line, (_, px, color) in zip(fast, items):
        rgb = px if px.ndim == 3 else np.stack([px] * 3, axis=-1)
        want = np.all(rgb == np.array(color if isinstance(color, tuple) else (color,) * 3), axis=-1)
        assert line["mask"]["png"]["pixels"] == want.astype(int).tolist()
