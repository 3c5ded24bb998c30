"""lbfast against the official SDK (labelbox[data]==7.17.0) as the oracle.

Every test builds the same predictions with ``lbfast.types`` and ``labelbox.types``
(builders take the types module as ``t``) and compares the written lines after the
normalisation of ``sdk_oracle`` (uuid dropped, masks by pixels, the SDK's nested
snake_case keys renamed). Known, intentional deviations of lbfast are asserted in the
``test_deviation_*`` tests at the end, both sides explicitly.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from labelbox import parser as sdk_parser
from labelbox.data.serialization import NDJsonConverter
from PIL import Image
from sdk_oracle import (
    SEED_MASK_URL,
    assert_lines_match,
    compare,
    decode_png_b64,
    key_orders,
    lbfast_lines,
    lbfast_types,
    leaf_types,
    make_png,
    metric,
    normalise,
    palette_png,
    sdk_camel_case,
    sdk_lines,
    sdk_types,
    seed_kinds,
    snake_keys,
    strict_loads,
)

import lbfast

GK = {"global_key": "gk-conformance"}
UID = "ckrazctum0z8a0ybc0b0o0g0v"  # 25 characters, like a cuid
assert len(UID) == 25


def sid(c: str) -> str:
    """A 25-character schema id."""
    return c * 25


def label(t, *annotations, data=None):
    return [t.Label(data=dict(GK) if data is None else data, annotations=list(annotations))]


def both(build):
    """Raw (not normalised) lines of lbfast and of the SDK."""
    return lbfast_lines(build(lbfast_types)), sdk_lines(build(sdk_types))


def errors_of(build) -> list[dict]:
    with pytest.raises(lbfast.ValidationError) as info:
        lbfast.dumps(build(lbfast_types))
    errors = info.value.errors()
    assert errors, "a ValidationError lists its problems"
    for e in errors:
        assert set(e) == {"kind", "row", "path", "message", "suggestion", "severity"}
    return errors


# --- the normalisation itself ------------------------------------------------------


def test_sdk_camel_case_renames_only_nested_known_keys():
    line = {
        "schemaId": "top",
        "answer": {
            "schemaId": "a",
            "classifications": [
                {
                    "schema_id": "b",
                    "answer": [{"custom_metrics": [{"name": "m", "value": 1.0}], "name": "c"}],
                }
            ],
        },
        "uuid": "u",
        "dataRow": {"globalKey": "g"},
    }
    assert sdk_camel_case(line) == {
        "schemaId": "top",
        "answer": {
            "schemaId": "a",
            "classifications": [
                {
                    "schemaId": "b",
                    "answer": [{"customMetrics": [{"name": "m", "value": 1.0}], "name": "c"}],
                }
            ],
        },
        "uuid": "u",
        "dataRow": {"globalKey": "g"},
    }
    # Key order is kept.
    renamed = sdk_camel_case(line)["answer"]["classifications"][0]
    assert list(renamed) == ["schemaId", "answer"]
    # A snake_case key at the top level is not the SDK's known bug: it is left as is,
    # so that a comparison with lbfast still fails on it.
    assert sdk_camel_case({"schema_id": "x", "custom_metrics": []}) == {
        "schema_id": "x",
        "custom_metrics": [],
    }
    # Unknown snake_case keys, and a key given both ways, are refused.
    with pytest.raises(AssertionError, match="message_id"):
        sdk_camel_case({"classifications": [{"message_id": "m"}]})
    with pytest.raises(AssertionError, match="both"):
        sdk_camel_case({"answer": {"schema_id": "a", "schemaId": "a"}})


def test_sdk_really_writes_snake_case_below_the_first_level_and_lbfast_does_not():
    def build(t):
        return label(
            t,
            t.ClassificationAnnotation(
                feature_schema_id=sid("a"),
                value=t.Radio(
                    answer=t.ClassificationAnswer(
                        feature_schema_id=sid("b"),
                        classifications=[
                            t.ClassificationAnnotation(
                                feature_schema_id=sid("c"),
                                value=t.Radio(
                                    answer=t.ClassificationAnswer(
                                        feature_schema_id=sid("d"),
                                        custom_metrics=[{"name": "m", "value": 1.0}],
                                    )
                                ),
                            )
                        ],
                    )
                ),
            ),
        )

    fast, sdk = both(build)
    assert sorted(set(snake_keys(sdk))) == ["custom_metrics", "schema_id"]
    assert snake_keys(fast) == []
    assert snake_keys([normalise(line, sdk=True) for line in sdk]) == []
    assert_lines_match(fast, sdk)


def test_masks_compare_by_pixels_not_by_bytes():
    arr = (np.arange(48).reshape(6, 8) % 2).astype(np.uint8)
    fast_png, small_png = io.BytesIO(), io.BytesIO()
    Image.fromarray(arr).save(fast_png, format="PNG", compress_level=0)
    Image.fromarray(arr).save(small_png, format="PNG", compress_level=9)
    a = base64.b64encode(fast_png.getvalue()).decode()
    b = base64.b64encode(small_png.getvalue()).decode()
    assert a != b
    assert (
        decode_png_b64(a)
        == decode_png_b64(b)
        == {
            "mode": "L",
            "size": [8, 6],
            "pixels": arr.tolist(),
        }
    )
    flipped = base64.b64encode(make_png(1 - arr)).decode()
    assert decode_png_b64(a) != decode_png_b64(flipped)


def test_normalise_drops_only_the_uuid_and_types_and_order_are_compared():
    line = {"uuid": "u", "dataRow": {"id": UID}, "name": "p", "point": {"x": 1.0, "y": 2}}
    assert normalise(line, sdk=False) == {
        "dataRow": {"id": UID},
        "name": "p",
        "point": {"x": 1.0, "y": 2},
    }
    assert leaf_types({"x": 2.0}) != leaf_types({"x": 2})
    assert key_orders({"a": 1, "b": {"c": 1}}) != key_orders({"b": {"c": 1}, "a": 1})


# --- the guide's kinds -------------------------------------------------------------


@pytest.mark.parametrize("kind", list(seed_kinds(lbfast_types)))
def test_seed_kind_matches_sdk(kind):
    compare(lambda t: label(t, seed_kinds(t)[kind]))


def test_all_seed_kinds_in_one_label_keep_their_order():
    nf, _ = compare(lambda t: label(t, *seed_kinds(t).values()))
    names = [line["name"] for line in nf]
    assert names == [a.name for a in seed_kinds(lbfast_types).values()]
    assert all(line["dataRow"] == {"globalKey": GK["global_key"]} for line in nf)


def test_several_labels_and_an_empty_label():
    def build(t):
        return [
            t.Label(data={"global_key": "a"}, annotations=[seed_kinds(t)["point"]]),
            t.Label(data={"global_key": "empty"}, annotations=[]),
            t.Label(data={"uid": UID}, annotations=[seed_kinds(t)["radio"], seed_kinds(t)["bbox"]]),
        ]

    nf, _ = compare(build)
    assert [line["dataRow"] for line in nf] == [
        {"globalKey": "a"},
        {"id": UID},
        {"id": UID},
    ]
    assert lbfast.dumps([lbfast_types.Label(data=GK, annotations=[])]) == b""


# --- confidence and custom metrics -------------------------------------------------


def _geometries(t):
    return {
        "point": t.Point(x=3, y=4.5),
        "bbox": t.Rectangle(start=t.Point(x=0.1, y=0.2), end=t.Point(x=10.3, y=20.7)),
        "line": t.Line(points=[t.Point(x=1, y=2), t.Point(x=3, y=4), t.Point(x=5, y=6)]),
        "polygon": t.Polygon(
            points=[t.Point(x=10, y=20), t.Point(x=15, y=20), t.Point(x=20, y=25)]
        ),
        "url_mask": t.Mask(mask=t.MaskData(url=SEED_MASK_URL), color=(255, 0, 0)),
        "png_mask": t.Mask(
            mask=t.MaskData(arr=np.array([[[1, 1, 1], [0, 0, 0]]], np.uint8)), color=(1, 1, 1)
        ),
    }


@pytest.mark.parametrize("geometry", list(_geometries(lbfast_types)))
def test_object_confidence_and_custom_metrics(geometry):
    def build(t):
        return label(
            t,
            t.ObjectAnnotation(
                name="obj",
                confidence=0.851,
                custom_metrics=[metric(t, "iou", 0.4), {"name": "cnt", "value": 3}],
                value=_geometries(t)[geometry],
            ),
        )

    (line,), _ = compare(build)
    assert line["confidence"] == 0.851
    assert line["customMetrics"] == [{"name": "iou", "value": 0.4}, {"name": "cnt", "value": 3.0}]
    assert line["classifications"] == []


@pytest.mark.parametrize("geometry", list(_geometries(lbfast_types)))
def test_object_without_scores(geometry):
    (line,), _ = compare(
        lambda t: label(t, t.ObjectAnnotation(name="o", value=_geometries(t)[geometry]))
    )
    assert "confidence" not in line and "customMetrics" not in line


def test_answer_confidence_and_custom_metrics_radio_checklist_nested():
    def build(t):
        a = t.ClassificationAnswer
        return label(
            t,
            t.ClassificationAnnotation(
                name="weather",
                value=t.Radio(
                    answer=a(
                        name="sunny",
                        confidence=0.9,
                        custom_metrics=[metric(t, "iou", 0.5)],
                        classifications=[
                            t.ClassificationAnnotation(
                                name="shade",
                                value=t.Checklist(
                                    answer=[
                                        a(name="dark", confidence=0.1),
                                        a(name="light", custom_metrics=[{"name": "m", "value": 2}]),
                                    ]
                                ),
                            )
                        ],
                    )
                ),
            ),
            t.ClassificationAnnotation(
                name="tags",
                value=t.Checklist(
                    answer=[
                        a(name="blurry", confidence=0.3),
                        a(name="dark", confidence=0.8, custom_metrics=[metric(t, "m", 1.0)]),
                        a(name="zero", confidence=0.0),
                    ]
                ),
            ),
        )

    (radio, checklist), _ = compare(build)
    assert radio["answer"]["confidence"] == 0.9
    # answer confidence 0.0 is kept by both
    assert checklist["answer"][2] == {"confidence": 0.0, "name": "zero"}


def test_text_with_confidence_and_metrics():
    (line,), _ = compare(
        lambda t: label(
            t,
            t.ClassificationAnnotation(
                name="caption",
                value=t.Text(
                    answer="a cat on a mat",
                    confidence=0.55,
                    custom_metrics=[{"name": "bleu", "value": 0.31}],
                ),
            ),
        )
    )
    assert line["confidence"] == 0.55 and line["answer"] == "a cat on a mat"
    assert line["customMetrics"] == [{"name": "bleu", "value": 0.31}]


@pytest.mark.parametrize("confidence", [0.6, 0.0, 1])
def test_radio_and_checklist_with_question_confidence(confidence):
    def build(t):
        return label(
            t,
            t.ClassificationAnnotation(
                name="q",
                confidence=confidence,
                value=t.Radio(answer=t.ClassificationAnswer(name="a", confidence=0.2)),
            ),
            t.ClassificationAnnotation(
                name="c",
                confidence=confidence,
                value=t.Checklist(answer=[t.ClassificationAnswer(name="b")]),
            ),
        )

    (radio, checklist), _ = compare(build)
    assert radio["confidence"] == checklist["confidence"] == float(confidence)
    assert isinstance(radio["confidence"], float)


def test_text_nested_under_an_object_keeps_its_confidence():
    (line,), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="car",
                value=t.Point(x=1, y=1),
                classifications=[
                    t.ClassificationAnnotation(
                        name="note", value=t.Text(answer="occluded", confidence=0.4)
                    )
                ],
            ),
        )
    )
    assert line["classifications"] == [{"confidence": 0.4, "name": "note", "answer": "occluded"}]


# --- data rows and feature identity ------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"global_key": "image-gk-001"}, {"globalKey": "image-gk-001"}),
        ({"uid": UID}, {"id": UID}),
        ("generic-uid", {"id": UID}),
        ("generic-gk", {"globalKey": "gk-2"}),
    ],
)
def test_data_row(data, expected):
    def build(t):
        d = data
        if d == "generic-uid":
            d = t.GenericDataRowData(uid=UID)
        elif d == "generic-gk":
            d = t.GenericDataRowData(global_key="gk-2")
        kinds = seed_kinds(t)
        return [
            t.Label(data=d, annotations=[kinds["point"], kinds["checklist"], kinds["free_text"]])
        ]

    nf, _ = compare(build)
    assert [line["dataRow"] for line in nf] == [expected] * 3


IDENTITIES = {
    "name": {"name": "feat"},
    "schema_id": {"feature_schema_id": sid("c")},
    "both": {"name": "feat", "feature_schema_id": sid("d")},
}


@pytest.mark.parametrize("ident", list(IDENTITIES))
def test_name_schema_id_or_both_everywhere(ident):
    kw = IDENTITIES[ident]

    def build(t):
        a = t.ClassificationAnswer
        deep = t.ClassificationAnnotation(**kw, value=t.Text(answer="deep"))
        sub = t.ClassificationAnnotation(
            **kw, value=t.Radio(answer=a(**kw, classifications=[deep]))
        )
        return label(
            t,
            t.ObjectAnnotation(**kw, value=t.Point(x=1, y=2), classifications=[sub]),
            t.ClassificationAnnotation(**kw, value=t.Radio(answer=a(**kw))),
            t.ClassificationAnnotation(**kw, value=t.Checklist(answer=[a(**kw), a(name="x")])),
            t.ClassificationAnnotation(**kw, value=t.Text(answer="t")),
            t.ObjectAnnotation(
                **kw,
                value=t.Mask(mask=t.MaskData(url=SEED_MASK_URL), color=(1, 2, 3)),
                classifications=[sub],
            ),
        )

    nf, _ = compare(build)
    expect = {}
    if "name" in kw:
        expect["name"] = "feat"
    if "feature_schema_id" in kw:
        expect["schemaId"] = kw["feature_schema_id"]
    for line in nf:
        assert {k: line[k] for k in ("name", "schemaId") if k in line} == expect


def test_extra_uuid_is_written_verbatim():
    def build(t):
        return label(
            t, t.ObjectAnnotation(name="p", value=t.Point(x=1, y=2), extra={"uuid": "my-own-id-1"})
        )

    (fast,), (sdk,) = both(build)
    assert fast["uuid"] == sdk["uuid"] == "my-own-id-1"
    assert_lines_match([fast], [sdk])


def test_unicode_and_escapes_in_names_and_text():
    weird = 'café "q"\n\t\\ \x00\x1f \u2028 😀 日本'

    def build(t):
        return label(
            t,
            t.ObjectAnnotation(name=weird, value=t.Point(x=1, y=2)),
            t.ClassificationAnnotation(name=weird, value=t.Text(answer=weird)),
            t.ClassificationAnnotation(
                name="r", value=t.Radio(answer=t.ClassificationAnswer(name=weird))
            ),
        )

    (obj, text, radio), _ = compare(build)
    assert obj["name"] == text["name"] == text["answer"] == radio["answer"]["name"] == weird
    raw = lbfast.dumps(build(lbfast_types))
    assert raw.count(b"\n") == 3  # the newline inside the strings is escaped


# --- geometry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end",
    [
        ((38, 28), (81, 69)),
        ((81, 69), (38, 28)),  # start > end
        ((81, 28), (38, 69)),  # mixed corners
        ((10, 10), (-5, -5)),  # negative coordinates
        ((5, 5), (5, 5)),  # zero size
        ((0.1, 0.2), (10.3, 20.7)),  # 10.200000000000001
    ],
)
def test_rectangle(start, end):
    (line,), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="box",
                value=t.Rectangle(
                    start=t.Point(x=start[0], y=start[1]), end=t.Point(x=end[0], y=end[1])
                ),
            ),
        )
    )
    bbox = line["bbox"]
    assert bbox["width"] >= 0 and bbox["height"] >= 0
    assert bbox["left"] == min(start[0], end[0]) and bbox["top"] == min(start[1], end[1])


def test_rectangle_from_xyhw():
    (line,), _ = compare(
        lambda t: label(
            t, t.ObjectAnnotation(name="box", value=t.Rectangle.from_xyhw(1.5, 2, 30, 40.25))
        )
    )
    assert line["bbox"] == {"top": 2.0, "left": 1.5, "height": 30.0, "width": 40.25}


@pytest.mark.parametrize("closed", [False, True])
def test_polygon_open_and_closed(closed):
    pts = [(10, 20), (15, 20), (20, 25)] + ([(10, 20)] if closed else [])

    (line,), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="poly", value=t.Polygon(points=[t.Point(x=x, y=y) for x, y in pts])
            ),
        )
    )
    assert line["polygon"] == [
        {"x": 10.0, "y": 20.0},
        {"x": 15.0, "y": 20.0},
        {"x": 20.0, "y": 25.0},
        {"x": 10.0, "y": 20.0},
    ]


def test_degenerate_polygon_already_closed_after_three_points():
    (line,), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="poly",
                value=t.Polygon(points=[t.Point(x=1, y=1), t.Point(x=2, y=2), t.Point(x=1, y=1)]),
            ),
        )
    )
    assert len(line["polygon"]) == 3


def test_line_is_not_closed_and_point():
    (ln, pt), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="ln", value=t.Line(points=[t.Point(x=1, y=2), t.Point(x=1, y=2)])
            ),
            t.ObjectAnnotation(name="pt", value=t.Point(x=2122, y=1457.5)),
        )
    )
    assert ln["line"] == [{"x": 1.0, "y": 2.0}, {"x": 1.0, "y": 2.0}]
    assert pt["point"] == {"x": 2122.0, "y": 1457.5}


def test_extreme_but_finite_coordinates():
    (box, poly), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="b",
                value=t.Rectangle(
                    start=t.Point(x=-1e300, y=5e-324), end=t.Point(x=1e300, y=-2.5e-308)
                ),
            ),
            t.ObjectAnnotation(
                name="p",
                value=t.Polygon(
                    points=[
                        t.Point(x=1e-9, y=1.2345678901234567e19),
                        t.Point(x=-0.0, y=0.1),
                        t.Point(x=1 / 3, y=2 / 3),
                    ]
                ),
            ),
        )
    )
    assert box["bbox"]["width"] == 2e300
    assert poly["polygon"][2] == {"x": 1 / 3, "y": 2 / 3}


# --- masks ----------------------------------------------------------------------------

RGB = np.zeros((4, 5, 3), np.uint8)
RGB[0:2, :] = (255, 0, 0)
RGB[2:, 0:2] = (0, 255, 0)
RGB[3, 4] = (7, 7, 7)
RGBA = np.concatenate([RGB, np.full((4, 5, 1), 255, np.uint8)], axis=2)
RGBA[0, 0, 3] = 0  # alpha must not matter
GRAY = np.array([[0, 1, 1, 0, 2], [2, 2, 0, 1, 1], [0, 0, 0, 1, 3], [9, 9, 9, 9, 9]], np.uint8)
RGBA_WHITE = np.full((2, 3, 4), 255, np.uint8)
RGBA_WHITE[0, 0, :3] = 0
PALETTE = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255), (9, 9, 9)] + [(1, 2, 3)] * 5

MASK_SOURCES = {
    "url_tuple": (lambda t: t.MaskData(url=SEED_MASK_URL), (255, 0, 0)),
    "url_list": (lambda t: t.MaskData(url=SEED_MASK_URL), [1, 2, 3]),
    "arr_rgb_tuple": (lambda t: t.MaskData(arr=RGB.copy()), (0, 255, 0)),
    "arr_rgb_int": (lambda t: t.MaskData(arr=RGB.copy()), 7),
    # an int colour on an RGBA array: the SDK compares alpha too, so keep alpha == colour
    "arr_rgba_int_alpha_equal": (lambda t: t.MaskData(arr=RGBA_WHITE.copy()), 255),
    "from_2D_arr": (lambda t: t.MaskData.from_2D_arr(GRAY.copy()), 2),
    "from_2D_arr_tuple": (lambda t: t.MaskData.from_2D_arr(GRAY.copy()), (9, 9, 9)),
    "png_rgb_tuple": (lambda t: t.MaskData(im_bytes=make_png(RGB)), (255, 0, 0)),
    "png_rgb_int": (lambda t: t.MaskData(im_bytes=make_png(RGB)), 7),
    "png_rgba_tuple": (lambda t: t.MaskData(im_bytes=make_png(RGBA)), (255, 0, 0)),
    "png_rgba_int": (lambda t: t.MaskData(im_bytes=make_png(RGBA)), 7),
    "png_gray_int": (lambda t: t.MaskData(im_bytes=make_png(GRAY)), 1),
    "png_gray_tuple": (lambda t: t.MaskData(im_bytes=make_png(GRAY)), (2, 2, 2)),
    "png_gray16_int": (
        lambda t: t.MaskData(
            im_bytes=make_png_16(np.array([[200, 456, 200], [0, 200, 65535]], np.uint16))
        ),
        200,
    ),
    # palette images: the colour is a palette index (SDK semantics), not an RGB value
    "png_palette_int": (lambda t: t.MaskData(im_bytes=palette_png(GRAY, PALETTE)), 1),
    "png_palette_tuple": (lambda t: t.MaskData(im_bytes=palette_png(GRAY, PALETTE)), (2, 2, 2)),
}


def make_png_16(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "I;16"
    return data


@pytest.mark.parametrize("source", list(MASK_SOURCES))
def test_mask_sources(source):
    make, color = MASK_SOURCES[source]

    def build(t):
        return label(
            t,
            t.ObjectAnnotation(
                name="seg",
                confidence=0.8,
                value=t.Mask(mask=make(t), color=color),
                classifications=[
                    t.ClassificationAnnotation(name="sub_free_text", value=t.Text(answer="x"))
                ],
            ),
        )

    (line,), _ = compare(build)
    mask = line["mask"]
    if source.startswith("url"):
        assert mask == {"instanceURI": SEED_MASK_URL, "colorRGB": list(color)}
    else:
        assert set(mask) == {"png"}
        assert mask["png"]["mode"] == "L"
        values = {v for row in mask["png"]["pixels"] for v in row}
        assert values == {0, 1}, "a binary 0/1 mask with at least one pixel set"


def test_palette_mask_is_selected_by_index():
    (line,), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="seg",
                value=t.Mask(mask=t.MaskData(im_bytes=palette_png(GRAY, PALETTE)), color=1),
            ),
        )
    )
    assert line["mask"]["png"]["pixels"] == (GRAY == 1).astype(int).tolist()


@pytest.mark.parametrize("how", ["arr", "im_bytes"])
def test_composite_mask_shared_by_several_annotations(how, composite_rgb):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), 255]

    def build(t):
        shared = (
            t.MaskData(arr=composite_rgb.copy())
            if how == "arr"
            else t.MaskData(im_bytes=make_png(composite_rgb))
        )
        return label(
            t,
            *[
                t.ObjectAnnotation(name=f"inst{i}", value=t.Mask(mask=shared, color=c))
                for i, c in enumerate(colours)
            ],
            t.ObjectAnnotation(
                name="box", value=t.Rectangle(start=t.Point(x=0, y=0), end=t.Point(x=1, y=1))
            ),
        )

    nf, _ = compare(build)
    for line, c in zip(nf, colours):
        rgb = (c, c, c) if isinstance(c, int) else c
        expected = np.all(composite_rgb == np.array(rgb, np.uint8), axis=-1).astype(int)
        assert line["mask"]["png"]["pixels"] == expected.tolist()
        assert line["mask"]["png"]["size"] == [8, 6]


@pytest.mark.parametrize(
    "view",
    [
        lambda a: np.asfortranarray(a),
        lambda a: a[:, ::-1],
        lambda a: a.transpose(1, 0, 2),
        lambda a: a[::2, 1:],
    ],
    ids=["fortran", "flipped", "transposed", "strided"],
)
def test_mask_from_non_contiguous_arrays(view):
    arr = view(RGB)
    assert not arr.flags["C_CONTIGUOUS"]
    (line, gray), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(name="m", value=t.Mask(mask=t.MaskData(arr=arr), color=(0, 255, 0))),
            t.ObjectAnnotation(
                name="g", value=t.Mask(mask=t.MaskData.from_2D_arr(GRAY[:, ::-1]), color=9)
            ),
        )
    )
    assert line["mask"]["png"]["pixels"] == np.all(arr == (0, 255, 0), axis=-1).astype(int).tolist()
    assert gray["mask"]["png"]["pixels"] == (GRAY[:, ::-1] == 9).astype(int).tolist()


@pytest.mark.parametrize("color", [1, (1, 1, 1)])
def test_mask_from_one_bit_png(color):
    bits = np.array([[0, 1, 1], [1, 0, 0]], bool)
    buf = io.BytesIO()
    Image.fromarray(bits).convert("1").save(buf, format="PNG")
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        assert im.mode == "1"
    (line,), _ = compare(
        lambda t: label(
            t,
            t.ObjectAnnotation(
                name="m", value=t.Mask(mask=t.MaskData(im_bytes=buf.getvalue()), color=color)
            ),
        )
    )
    assert line["mask"]["png"]["pixels"] == bits.astype(int).tolist()


def _distinct_masks(t, n: int, how: str):
    """``n`` Labels, each with its own mask: pixel i of a 1 x n image is white."""
    for i in range(n):
        arr = np.zeros((1, n, 3), np.uint8)
        arr[0, i] = 255
        data = t.MaskData(arr=arr) if how == "arr" else t.MaskData(im_bytes=make_png(arr))
        yield t.Label(
            data={"global_key": f"img-{i}"},
            annotations=[
                t.ObjectAnnotation(name="m", value=t.Mask(mask=data, color=(255, 255, 255)))
            ],
        )


@pytest.mark.parametrize("how", ["arr", "im_bytes"])
def test_masks_of_labels_given_as_a_list(how):
    nf, _ = compare(lambda t: list(_distinct_masks(t, 16, how)))
    for i, line in enumerate(nf):
        assert line["mask"]["png"]["pixels"] == [[int(j == i) for j in range(16)]]


@pytest.mark.parametrize("how", ["arr", "im_bytes"])
def test_masks_of_labels_given_as_a_generator(how):
    fast = lbfast_lines(_distinct_masks(lbfast_types, 16, how))
    sdk = sdk_lines(list(_distinct_masks(sdk_types, 16, how)))
    nf, _ = assert_lines_match(fast, sdk)
    for i, line in enumerate(nf):
        assert line["mask"]["png"]["pixels"] == [[int(j == i) for j in range(16)]]


def test_numpy_scalars_as_numbers():
    def build(t):
        return label(
            t,
            t.ObjectAnnotation(
                name="p",
                confidence=np.float32(0.1),
                custom_metrics=[{"name": "m", "value": np.int64(3)}],
                value=t.Point(x=np.float32(0.1), y=np.int64(2)),
            ),
            t.ObjectAnnotation(
                name="b",
                value=t.Rectangle(
                    start=t.Point(x=np.float64(1.5), y=np.uint8(200)),
                    end=t.Point(x=np.int32(-3), y=np.float16(0.1)),
                ),
            ),
            t.ClassificationAnnotation(
                name="q",
                value=t.Radio(answer=t.ClassificationAnswer(name="a", confidence=np.float64(0.25))),
            ),
        )

    (point, box, radio), _ = compare(build)
    assert point["confidence"] == point["point"]["x"] == float(np.float32(0.1))
    assert box["bbox"]["top"] == float(np.float16(0.1))
    assert radio["answer"]["confidence"] == 0.25


def test_mask_dict_png_passes_through():
    png = make_png(np.array([[0, 1], [1, 0]], np.uint8))
    b64 = base64.b64encode(png).decode()
    (line,) = lbfast_lines(
        [{"dataRow": {"globalKey": "g"}, "name": "m", "mask": {"png": b64}, "classifications": []}]
    )
    assert line["mask"] == {"png": b64}


# --- nesting ------------------------------------------------------------------------


def _deep_tree(t, *, schema_ids: bool):
    """radio -> checklist -> text -> radio -> checklist: 5 levels below the question.

    Names only (no schema ids, no custom metrics), the SDK's snake_case bug cannot show;
    with schema ids and metrics it does, and the normalisation handles it.
    """

    def ident(tag: str) -> dict:
        return {"feature_schema_id": sid(tag)} if schema_ids else {"name": f"L_{tag}"}

    def metrics(name: str, value: float):
        return [{"name": name, "value": value}] if schema_ids else None

    a = t.ClassificationAnswer
    level4 = t.ClassificationAnnotation(
        **ident("h"), value=t.Checklist(answer=[a(**ident("i"), confidence=0.44), a(**ident("j"))])
    )
    level3 = t.ClassificationAnnotation(
        **ident("f"), value=t.Radio(answer=a(**ident("g"), classifications=[level4]))
    )
    level2 = t.ClassificationAnnotation(
        **ident("e"),
        value=t.Text(
            answer="L3 text",
            confidence=0.33,
            custom_metrics=metrics("m3", 3.0),
            classifications=[level3],
        ),
    )
    level1 = t.ClassificationAnnotation(
        **ident("c"),
        value=t.Checklist(
            answer=[
                a(**ident("d"), custom_metrics=metrics("m2", 2.0), classifications=[level2]),
                a(name="L1_b"),
            ]
        ),
    )
    return t.ClassificationAnnotation(
        **ident("a"),
        value=t.Radio(answer=a(**ident("b"), confidence=0.5, classifications=[level1])),
    )


@pytest.mark.parametrize("schema_ids", [False, True], ids=["names", "schema_ids"])
def test_deep_nesting(schema_ids):
    def build(t):
        return label(
            t,
            _deep_tree(t, schema_ids=schema_ids),
            t.ObjectAnnotation(
                name="obj",
                value=t.Point(x=1, y=1),
                classifications=[_deep_tree(t, schema_ids=schema_ids)],
            ),
        )

    fast, sdk = both(build)
    if schema_ids:
        assert snake_keys(sdk), "the SDK's snake_case bug shows at these depths"
    else:
        assert snake_keys(sdk) == [], "names only: the SDK bug does not matter"
    nf, _ = assert_lines_match(fast, sdk)
    top, obj = nf
    depth4 = top["answer"]["classifications"][0]["answer"][0]["classifications"][0][
        "classifications"
    ][0]
    assert depth4["answer"]["classifications"][0]["answer"][0]["confidence"] == 0.44
    assert obj["classifications"][0]["answer"] == top["answer"]


# --- known deviations of lbfast (intentional; both sides asserted) ----------------


def test_deviation_object_confidence_zero_is_kept():
    def build(t):
        return label(t, t.ObjectAnnotation(name="p", confidence=0, value=t.Point(x=1, y=2)))

    (fast,), (sdk,) = both(build)
    assert fast["confidence"] == 0.0
    assert "confidence" not in sdk
    fast.pop("confidence")
    assert_lines_match([fast], [sdk])


@pytest.mark.parametrize(
    "make, color",
    [
        (lambda t: t.MaskData(arr=RGB.copy()), (1, 2, 3)),
        (lambda t: t.MaskData(im_bytes=make_png(RGB)), 255),
        (lambda t: t.MaskData.from_2D_arr(GRAY.copy()), 200),
        # RGB colour of a palette entry: palette images are addressed by index
        (lambda t: t.MaskData(im_bytes=palette_png(GRAY, PALETTE)), (255, 0, 0)),
    ],
)
def test_deviation_colour_absent_from_mask_is_rejected(make, color):
    def build(t):
        return label(
            t,
            t.ObjectAnnotation(name="ok", value=t.Point(x=1, y=1)),
            t.ObjectAnnotation(name="seg", value=t.Mask(mask=make(t), color=color)),
        )

    errors = errors_of(build)
    assert len(errors) == 1
    assert errors[0]["row"] == 0
    assert errors[0]["path"] == "annotations[1].value.color"
    assert "does not occur" in errors[0]["message"]
    (_, sdk) = sdk_lines(build(sdk_types))
    pixels = decode_png_b64(sdk["mask"]["png"])["pixels"]
    assert not any(any(row) for row in pixels), "the SDK writes an all-zero mask"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("where", ["point", "bbox", "polygon", "line", "metric"])
def test_deviation_non_finite_numbers_are_rejected(bad, where):
    def build(t):
        P = t.Point
        value, metrics = t.Point(x=1, y=2), None
        if where == "point":
            value = P(x=bad, y=2)
        elif where == "bbox":
            value = t.Rectangle(start=P(x=0, y=0), end=P(x=3, y=bad))
        elif where == "polygon":
            value = t.Polygon(points=[P(x=0, y=0), P(x=bad, y=1), P(x=2, y=0)])
        elif where == "line":
            value = t.Line(points=[P(x=0, y=0), P(x=1, y=bad)])
        else:
            metrics = [{"name": "m", "value": bad}]
        return label(
            t, t.ObjectAnnotation(name="o", value=value, custom_metrics=metrics, confidence=0.5)
        )

    errors = errors_of(build)
    assert len(errors) == 1
    assert "finite" in errors[0]["message"]
    assert errors[0]["path"].startswith("annotations[0].")
    # The SDK writes a bare NaN/Infinity token, which a strict parser refuses.
    sdk_text = sdk_parser.dumps(NDJsonConverter.serialize(build(sdk_types)))
    assert ("NaN" in sdk_text) or ("Infinity" in sdk_text)
    with pytest.raises(ValueError, match="non-standard JSON constant"):
        strict_loads(sdk_text)


def test_deviation_non_finite_error_paths():
    def build(t):
        P = t.Point
        return label(
            t,
            t.ObjectAnnotation(name="a", value=P(x=float("nan"), y=1)),
            t.ObjectAnnotation(
                name="b", value=t.Polygon(points=[P(x=0, y=0), P(x=1, y=float("inf")), P(x=2, y=0)])
            ),
            t.ObjectAnnotation(
                name="c", value=t.Rectangle(start=P(x=0, y=0), end=P(x=float("-inf"), y=1))
            ),
        )

    paths = sorted(e["path"] for e in errors_of(build))
    assert paths == [
        "annotations[0].value.x",
        "annotations[1].value.points[1].y",
        "annotations[2].value.end.x",
    ]


def test_deviation_mask_confidence_becomes_object_confidence():
    def build(t, obj_conf=None, mask_conf=0.5):
        return label(
            t,
            t.ObjectAnnotation(
                name="seg",
                confidence=obj_conf,
                value=t.Mask(
                    mask=t.MaskData(arr=RGB.copy()), color=(255, 0, 0), confidence=mask_conf
                ),
            ),
        )

    (fast,) = lbfast_lines(build(lbfast_types))
    (sdk,) = sdk_lines(build(sdk_types))
    assert fast["confidence"] == 0.5
    assert "confidence" not in sdk
    fast.pop("confidence")
    assert_lines_match([fast], [sdk])
    # The same number in both places is fine; different numbers are refused.
    (same,) = lbfast_lines(build(lbfast_types, obj_conf=0.5))
    assert same["confidence"] == 0.5
    errors = errors_of(lambda t: build(t, obj_conf=0.7))
    assert [e["path"] for e in errors] == ["annotations[0].value.confidence"]
    assert "conflicting confidence" in errors[0]["message"]


def test_deviation_nested_text_annotation_confidence_is_emitted():
    def build(t):
        return label(
            t,
            t.ObjectAnnotation(
                name="obj",
                value=t.Point(x=1, y=1),
                classifications=[
                    t.ClassificationAnnotation(
                        name="note", confidence=0.3, value=t.Text(answer="x")
                    )
                ],
            ),
        )

    (fast,), (sdk,) = both(build)
    assert fast["classifications"] == [{"confidence": 0.3, "name": "note", "answer": "x"}]
    assert sdk["classifications"] == [{"name": "note", "answer": "x"}]


@pytest.mark.parametrize("kind", ["radio", "checklist", "text"])
@pytest.mark.parametrize("nested", [False, True], ids=["top", "nested"])
def test_deviation_conflicting_confidence_raises(kind, nested):
    def build(t, value_conf):
        a = t.ClassificationAnswer(name="a")
        value = {
            "radio": lambda: t.Radio(answer=a, confidence=value_conf),
            "checklist": lambda: t.Checklist(answer=[a], confidence=value_conf),
            "text": lambda: t.Text(answer="x", confidence=value_conf),
        }[kind]()
        question = t.ClassificationAnnotation(name="q", confidence=0.6, value=value)
        if nested:
            return label(
                t, t.ObjectAnnotation(name="o", value=t.Point(x=1, y=1), classifications=[question])
            )
        return label(t, question)

    errors = errors_of(lambda t: build(t, 0.4))
    assert len(errors) == 1
    prefix = "annotations[0].classifications[0]." if nested else "annotations[0]."
    assert errors[0]["path"] == prefix + "value.confidence"
    assert "conflicting confidence" in errors[0]["message"]
    # The SDK silently keeps one of the two (or neither, when nested).
    (sdk,) = sdk_lines(build(sdk_types, 0.4))
    target = sdk["classifications"][0] if nested else sdk
    if nested and kind != "text":
        assert "confidence" not in target
    else:
        assert target["confidence"] == (0.4 if kind == "text" else 0.6)
    # Equal numbers are no conflict: written once.
    (fast,) = lbfast_lines(build(lbfast_types, 0.6))
    target = fast["classifications"][0] if nested else fast
    assert target["confidence"] == 0.6


# Deviations found while writing these tests (not in the list of known ones).


def test_deviation_value_level_radio_checklist_confidence_is_emitted():
    """``Radio(confidence=)``/``Checklist(confidence=)``: the SDK drops it, lbfast writes
    it as the question's confidence."""

    def build(t):
        return label(
            t,
            t.ClassificationAnnotation(
                name="q", value=t.Radio(answer=t.ClassificationAnswer(name="a"), confidence=0.4)
            ),
            t.ClassificationAnnotation(
                name="c",
                value=t.Checklist(answer=[t.ClassificationAnswer(name="a")], confidence=0.3),
            ),
        )

    (fr, fc), (sr, sc) = both(build)
    assert (fr["confidence"], fc["confidence"]) == (0.4, 0.3)
    assert "confidence" not in sr and "confidence" not in sc


def test_deviation_top_level_text_annotation_confidence_is_emitted():
    def build(t):
        return label(
            t, t.ClassificationAnnotation(name="q", confidence=0.3, value=t.Text(answer="x"))
        )

    (fast,), (sdk,) = both(build)
    assert fast["confidence"] == 0.3
    assert "confidence" not in sdk


def test_deviation_nested_radio_annotation_confidence_is_emitted():
    def build(t):
        return label(
            t,
            t.ObjectAnnotation(
                name="o",
                value=t.Point(x=1, y=1),
                classifications=[
                    t.ClassificationAnnotation(
                        name="q",
                        confidence=0.9,
                        value=t.Radio(answer=t.ClassificationAnswer(name="a")),
                    )
                ],
            ),
        )

    (fast,), (sdk,) = both(build)
    assert fast["classifications"][0] == {"confidence": 0.9, "name": "q", "answer": {"name": "a"}}
    assert sdk["classifications"][0] == {"name": "q", "answer": {"name": "a"}}


def test_deviation_annotation_level_custom_metrics():
    """SDK: dropped for radio, checklist and text. lbfast: written for text (as the text's
    metrics), refused for radio/checklist."""
    m = [{"name": "m", "value": 1}]

    def text(t):
        return label(
            t, t.ClassificationAnnotation(name="q", custom_metrics=m, value=t.Text(answer="x"))
        )

    (fast,), (sdk,) = both(text)
    assert fast["customMetrics"] == [{"name": "m", "value": 1.0}]
    assert "customMetrics" not in sdk

    def radio(t):
        return label(
            t,
            t.ClassificationAnnotation(
                name="q", custom_metrics=m, value=t.Radio(answer=t.ClassificationAnswer(name="a"))
            ),
        )

    errors = errors_of(radio)
    assert [e["path"] for e in errors] == ["annotations[0].custom_metrics"]
    (sdk,) = sdk_lines(radio(sdk_types))
    assert "customMetrics" not in sdk


def test_deviation_empty_custom_metrics_are_omitted():
    """``custom_metrics=[]`` on an answer or a text: the SDK writes ``"customMetrics": []``,
    lbfast omits the key (on objects both omit it)."""

    def build(t):
        return label(
            t,
            t.ClassificationAnnotation(
                name="q", value=t.Radio(answer=t.ClassificationAnswer(name="a", custom_metrics=[]))
            ),
            t.ClassificationAnnotation(name="t", value=t.Text(answer="x", custom_metrics=[])),
            t.ObjectAnnotation(name="o", value=t.Point(x=1, y=1), custom_metrics=[]),
        )

    (fr, ft, fo), (sr, st, so) = both(build)
    assert sr["answer"]["customMetrics"] == [] and st["customMetrics"] == []
    assert "customMetrics" not in fr["answer"] and "customMetrics" not in ft
    assert "customMetrics" not in fo and "customMetrics" not in so


def test_deviation_gray_alpha_png_ignores_alpha():
    """An LA (gray + alpha) PNG: the SDK keeps both channels, so an int colour must match
    the alpha too and a 3-tuple crashes; lbfast compares the gray channel only."""
    la = np.array([[[1, 255], [1, 7]], [[0, 255], [2, 255]]], np.uint8)
    data = make_png(la, "LA")

    def build(t, color):
        return label(
            t,
            t.ObjectAnnotation(name="m", value=t.Mask(mask=t.MaskData(im_bytes=data), color=color)),
        )

    for color in (1, (1, 1, 1)):
        (fast,) = lbfast_lines(build(lbfast_types, color))
        assert decode_png_b64(fast["mask"]["png"])["pixels"] == [[1, 1], [0, 0]]
    (sdk,) = sdk_lines(build(sdk_types, 1))
    assert decode_png_b64(sdk["mask"]["png"])["pixels"] == [[0, 0], [0, 0]]
    with pytest.raises(ValueError, match="broadcast"):
        sdk_lines(build(sdk_types, (1, 1, 1)))


def test_deviation_rgba_array_with_int_colour_ignores_alpha():
    """``MaskData(arr=RGBA)`` with an int colour: the SDK compares all four channels
    (alpha included), lbfast only the first three, as the SDK does for RGBA PNG bytes.
    (With a 3-tuple colour the SDK crashes on RGBA arrays; lbfast works.)"""
    arr = RGBA.copy()
    arr[..., 3] = 128

    def build(t):
        return label(
            t, t.ObjectAnnotation(name="m", value=t.Mask(mask=t.MaskData(arr=arr.copy()), color=7))
        )

    (fast,) = lbfast_lines(build(lbfast_types))
    (sdk,) = sdk_lines(build(sdk_types))
    expected = np.all(RGB == 7, axis=-1).astype(int).tolist()
    assert decode_png_b64(fast["mask"]["png"])["pixels"] == expected
    assert not any(any(r) for r in decode_png_b64(sdk["mask"]["png"])["pixels"])
    # Same as lbfast's answer for the PNG bytes of the same RGBA image, as in the SDK.
    t = sdk_types
    via_bytes = t.Mask(mask=t.MaskData(im_bytes=make_png(arr)), color=7)
    (via_png,) = sdk_lines(label(t, t.ObjectAnnotation(name="m", value=via_bytes)))
    assert decode_png_b64(via_png["mask"]["png"])["pixels"] == expected


def test_deviation_url_mask_with_int_colour_is_accepted():
    """The SDK fails at serialize time (colorRGB must be a tuple); lbfast writes [c, c, c]."""

    def build(t):
        mask = t.Mask(mask=t.MaskData(url=SEED_MASK_URL), color=5)
        return label(t, t.ObjectAnnotation(name="m", value=mask))

    (fast,) = lbfast_lines(build(lbfast_types))
    assert fast["mask"] == {"instanceURI": SEED_MASK_URL, "colorRGB": [5, 5, 5]}
    with pytest.raises(Exception, match="colorRGB"):
        sdk_lines(build(sdk_types))
