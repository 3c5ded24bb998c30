"""Masks: colour discovery, composites, numpy instance masks, URL masks, hostile PNGs."""

from __future__ import annotations

import base64
import io
import json
import zlib

import labelbox.types as sdk_types
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from sdk_oracle import decode_png_b64, lbfast_lines, make_png, palette_png, sdk_lines

import lbfast
import lbfast.types as lb
from lbfast.masks import InstanceMap, InstanceMasks, colors, rle_bbox, rle_encode

GK = {"global_key": "img-1"}


def png_pixels(line: dict) -> np.ndarray:
    """The pixels of a line's ``{"png"}`` mask, checked to be 8-bit gray 0/1."""
    raw = base64.b64decode(line["mask"]["png"], validate=True)
    with Image.open(io.BytesIO(raw)) as im:
        assert im.mode == "L"
        arr = np.asarray(im)
    assert set(np.unique(arr)) <= {0, 1}
    return arr


def composite(h: int = 60, w: int = 90, n: int = 12, seed: int = 0) -> tuple[np.ndarray, list]:
    """An RGB composite with ``n`` rectangles of distinct colours on black."""
    rng = np.random.default_rng(seed)
    arr = np.zeros((h, w, 3), np.uint8)
    cols = []
    for k in range(n):
        c = (int(20 + 15 * k), int(255 - 9 * k), int(7 * k % 256))
        y0, x0 = rng.integers(0, h - 5), rng.integers(0, w - 5)
        arr[y0 : y0 + rng.integers(2, 20), x0 : x0 + rng.integers(2, 30)] = c
        cols.append(c)
    present = {tuple(int(v) for v in px) for px in arr.reshape(-1, 3)}
    return arr, [c for c in cols if c in present]


def numpy_colors(arr: np.ndarray) -> list:
    """The same as ``colors`` with numpy, the slow way."""
    flat = arr.reshape(-1, arr.shape[-1])[:, :3] if arr.ndim == 3 else arr.reshape(-1, 1)
    out = []
    for value in np.unique(flat, axis=0):
        hit = np.all(flat == value, axis=-1).reshape(arr.shape[:2])
        ys, xs = np.nonzero(hit)
        color = tuple(int(v) for v in value) if arr.ndim == 3 else int(value[0])
        out.append(
            (color, int(hit.sum()), (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())))
        )
    return out


# --- colour discovery -------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 4).flatmap(
        lambda c: hnp.arrays(
            np.uint8,
            st.tuples(st.integers(1, 20), st.integers(1, 20)).map(
                lambda s: (*s, c) if c > 1 else s
            ),
            elements=st.sampled_from([0, 1, 7, 255]),
        )
    )
)
def test_colors_equal_numpy_unique(arr: np.ndarray) -> None:
    if arr.ndim == 3 and arr.shape[2] == 2:
        # gray + alpha: only the gray channel counts
        expected = numpy_colors(np.ascontiguousarray(arr[..., 0]))
    else:
        expected = numpy_colors(arr)
    assert colors(arr) == expected
    if arr.ndim == 2 or arr.shape[2] in (3, 4):
        assert colors(make_png(arr)) == expected


def test_colors_of_views_png_files_and_other_kinds(tmp_path) -> None:
    arr, _ = composite()
    expected = numpy_colors(arr)
    assert colors(np.asfortranarray(arr)) == expected
    padded = np.zeros((60, 180, 3), np.uint8)
    padded[:, ::2] = arr
    assert colors(padded[:, ::2]) == expected
    path = tmp_path / "m.png"
    path.write_bytes(make_png(arr))
    assert colors(path) == colors(str(path)) == expected
    # RGBA: alpha ignored
    rgba = np.concatenate(
        [arr, np.arange(arr[..., :1].size, dtype=np.uint8).reshape(60, 90, 1)], axis=2
    )
    assert colors(rgba) == expected
    # palette PNGs give indices, as Pillow (and so the SDK) sees them
    indices = np.array([[0, 1, 1], [2, 0, 1]], np.uint8)
    pal = palette_png(indices, [(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    assert colors(pal) == [(0, 2, (0, 0, 1, 1)), (1, 3, (1, 0, 2, 1)), (2, 1, (0, 1, 0, 1))]
    # 16-bit gray keeps raw values
    deep = np.array([[300, 300], [65535, 0]], np.uint16)
    assert colors(deep) == [(0, 1, (1, 1, 1, 1)), (300, 2, (0, 0, 1, 0)), (65535, 1, (0, 1, 0, 1))]
    buf = io.BytesIO()
    Image.fromarray(deep).save(buf, format="PNG")
    assert colors(buf.getvalue()) == colors(deep)


def test_colors_max_pixels_is_the_deprecated_spelling_of_max_mask_pixels() -> None:
    png = make_png(np.zeros((4, 4), np.uint8))
    with (
        pytest.warns(DeprecationWarning, match="max_mask_pixels"),
        pytest.raises(ValueError, match="above the limit of 10"),
    ):
        colors(png, max_pixels=10)


def test_colors_errors() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        colors(b"GIF89a")
    with pytest.raises(ValueError, match="above the limit of 10"):
        colors(make_png(np.zeros((4, 4), np.uint8)), max_mask_pixels=10)
    with pytest.raises(TypeError, match="uint8 or uint16"):
        colors(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="shape"):
        colors(np.zeros((2, 2, 7), np.uint8))


# --- composites through the typed path ------------------------------------------------


@pytest.mark.parametrize("source", ["arr", "im_bytes"])
def test_composite_matches_the_sdk(source: str) -> None:
    arr, cols = composite(n=8, seed=3)
    png = make_png(arr)

    def build(t):
        data = t.MaskData(arr=arr) if source == "arr" else t.MaskData(im_bytes=png)
        anns = [
            t.ObjectAnnotation(name=f"obj{i}", value=t.Mask(mask=data, color=c))
            for i, c in enumerate(cols)
        ]
        return [t.Label(data=GK, annotations=anns)]

    fast = lbfast_lines(build(lb))
    sdk = sdk_lines(build(sdk_types))
    assert len(fast) == len(sdk) == len(cols)
    for f, s in zip(fast, sdk):
        assert f["name"] == s["name"]
        assert decode_png_b64(f["mask"]["png"]) == decode_png_b64(s["mask"]["png"])


def test_composite_absent_colour_is_named() -> None:
    arr, cols = composite(n=4, seed=5)
    data = lb.MaskData(arr=arr)
    anns = [lb.ObjectAnnotation(name="a", value=lb.Mask(mask=data, color=c)) for c in cols]
    anns.append(lb.ObjectAnnotation(name="b", value=lb.Mask(mask=data, color=(1, 2, 3))))
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps([lb.Label(data=GK, annotations=anns)])
    [problem] = err.value.errors()
    assert problem["row"] == 0
    assert problem["path"] == f"annotations[{len(cols)}].value.color"
    assert "(1, 2, 3) does not occur in the 90x60 mask" in problem["message"]


# --- numpy instance masks -----------------------------------------------------------


def random_stack(n: int, h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    stack = np.zeros((n, h, w), bool)
    for i in range(n):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        stack[i, y0 : y0 + rng.integers(1, h), x0 : x0 + rng.integers(1, w)] = True
        stack[i] |= rng.random((h, w)) < 0.05
    return stack


def test_instance_masks_equal_the_typed_path() -> None:
    stack = random_stack(5, 33, 47, seed=1)
    class_ids = np.array([0, 1, 1, 0, 1])
    confidence = np.array([0.9, 0.5, 0.25, 1.0, 0.0], np.float32)
    fast = lbfast_lines(
        [
            InstanceMasks(
                stack,
                data_rows=["img-1"],
                class_ids=class_ids,
                features=["car", "person"],
                confidence=confidence,
            )
        ]
    )
    typed = lbfast_lines(
        [
            lb.Label(
                data=GK,
                annotations=[
                    lb.ObjectAnnotation(
                        name=["car", "person"][c],
                        confidence=float(conf),
                        value=lb.Mask(mask=lb.MaskData.from_2D_arr(m.astype(np.uint8)), color=1),
                    )
                    for m, c, conf in zip(stack, class_ids, confidence)
                ],
            )
        ]
    )
    for f, t in zip(fast, typed):
        f.pop("uuid"), t.pop("uuid")
        assert f == t  # the same PNG bytes, not only the same pixels
    for line, mask in zip(fast, stack):
        np.testing.assert_array_equal(png_pixels(line), mask)


def test_instance_masks_match_the_sdk_pixels() -> None:
    stack = random_stack(3, 20, 30, seed=2)
    fast = lbfast_lines([InstanceMasks(stack, data_rows=["img-1"], features=["thing"])])
    sdk = sdk_lines(
        [
            sdk_types.Label(
                data=GK,
                annotations=[
                    sdk_types.ObjectAnnotation(
                        name="thing",
                        value=sdk_types.Mask(
                            mask=sdk_types.MaskData.from_2D_arr(m.astype(np.uint8)), color=1
                        ),
                    )
                    for m in stack
                ],
            )
        ]
    )
    assert [decode_png_b64(f["mask"]["png"]) for f in fast] == [
        decode_png_b64(s["mask"]["png"]) for s in sdk
    ]


def test_instance_masks_with_boxes_over_several_images() -> None:
    stack = random_stack(4, 25, 31, seed=4)
    item = InstanceMasks(
        stack,
        data_rows=["a", "b"],
        image_index=[1, 0, 1, 1],
        class_ids=[2, 0, 1, 2],
        features=["x", "y", "z"],
        confidence=[0.1, 0.2, 0.3, 0.4],
        with_boxes=True,
        image_size=(31, 25),
    )
    lines = lbfast_lines([item])
    assert len(lines) == 8
    for i, (mask_line, box_line) in enumerate(zip(lines[::2], lines[1::2])):
        assert mask_line["dataRow"] == box_line["dataRow"] == {"globalKey": "ab"[[1, 0, 1, 1][i]]}
        assert mask_line["name"] == box_line["name"] == "xyz"[[2, 0, 1, 2][i]]
        assert mask_line["confidence"] == box_line["confidence"] == [0.1, 0.2, 0.3, 0.4][i]
        x, y, w, h = rle_bbox(rle_encode(stack[i]))
        assert box_line["bbox"] == {"top": y, "left": x, "height": h, "width": w}
        np.testing.assert_array_equal(png_pixels(mask_line), stack[i])


def test_instance_masks_by_data_row_id_and_mixed_with_labels_and_dicts() -> None:
    m = np.zeros((4, 4), np.uint8)
    m[1, 1] = 7  # nonzero is set
    items = [
        lb.Label(data=GK, annotations=[]),
        InstanceMasks(
            m, data_rows=["ckrazctum0z8a0ybc0b0o0g0v"], features=["f"], data_row_kind="id"
        ),
        {"name": "p", "dataRow": {"globalKey": "g"}, "point": {"x": 1, "y": 2}},
    ]
    lines = lbfast_lines(items)
    assert lines[0]["dataRow"] == {"id": "ckrazctum0z8a0ybc0b0o0g0v"}
    assert png_pixels(lines[0]).tolist() == (m > 0).astype(np.uint8).tolist()
    assert lines[1]["point"] == {"x": 1.0, "y": 2.0}


def test_instance_masks_errors_name_row_field_and_instance() -> None:
    stack = random_stack(3, 10, 12, seed=6)
    stack[1] = False
    items = [
        {"name": "p", "dataRow": {"globalKey": "g"}, "point": {"x": 1, "y": 2}},
        InstanceMasks(
            stack,
            data_rows=["a", ""],
            image_index=[0, 0, 5],
            class_ids=[0, 0, 3],
            features=["x"],
            confidence=[1.5, 0.5, float("nan")],
            image_size=[(12, 10), (12, 11)],
        ),
        InstanceMasks(stack, data_rows=["a"], class_ids=[0, 0], features=["x", "y"]),
    ]
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps(items)
    found = [(e["row"], e["path"], e["message"]) for e in err.value.errors()]
    paths = [(row, path) for row, path, _ in found]
    # The first stack's instances are rows 1-3 (one row each, as columnar predictions);
    # its own problems are at its first row, and the second stack starts at row 4.
    assert (1, "data_rows[1]") in paths
    assert (1, "confidence[0]") in paths
    assert (3, "confidence[2]") in paths
    assert (2, "masks[1]") in paths  # empty
    assert (3, "image_index[2]") in paths
    assert (3, "class_ids[2]") in paths
    assert (4, "class_ids") in paths  # length
    messages = " | ".join(m for _, _, m in found)
    assert "mask is empty" in messages
    # The same rules, and messages, as for columnar batches.
    assert "image index must be within [0, 2) (an index into data_rows), got 5" in messages
    assert "class id must be within [0, 1) (an index into features), got 3" in messages
    assert "expected 3 values, one per prediction, got 2" in messages
    assert all(row != 0 for row, _, _ in found)


def test_instance_masks_size_check_and_skip_empty() -> None:
    stack = random_stack(2, 10, 12, seed=7)
    stack[0] = False
    with pytest.raises(
        lbfast.ValidationError, match=r"masks\[1\]: mask is 12x10 pixels, but the image is 12x11"
    ):
        lbfast.dumps(
            [
                InstanceMasks(
                    stack, data_rows=["a"], features=["x"], image_size=(12, 11), skip_empty=True
                )
            ]
        )
    lines = lbfast_lines([InstanceMasks(stack, data_rows=["a"], features=["x"], skip_empty=True)])
    assert len(lines) == 1
    np.testing.assert_array_equal(png_pixels(lines[0]), stack[1])


def test_instance_masks_type_errors() -> None:
    with pytest.raises(TypeError, match="bool or uint8"):
        InstanceMasks(np.zeros((1, 2, 2), np.float64), data_rows=["a"], features=["x"])
    with pytest.raises(TypeError, match=r"row 0: data_rows\[0\]: expected a string, got int"):
        lbfast.dumps([InstanceMasks(np.ones((1, 2, 2), bool), data_rows=[5], features=["x"])])


# --- instance-id maps ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64, np.uint16, np.uint32])
def test_instance_map_equals_instance_masks(dtype) -> None:
    rng = np.random.default_rng(8)
    ids = rng.integers(0, 6, size=(21, 34)).astype(dtype)
    ids[ids == 3] = 0
    features = {5: "five", 1: "one", 4: "four"}
    conf = {1: 0.5, 5: 0.25}
    lines = lbfast_lines(
        [InstanceMap(ids, data_row="m", features=features, confidence=conf, with_boxes=True)]
    )
    stack = np.stack([ids == k for k in features])
    expected = lbfast_lines(
        [
            InstanceMasks(
                stack,
                data_rows=["m"],
                class_ids=[0, 1, 2],
                features=list(features.values()),
                with_boxes=True,
            )
        ]
    )
    assert len(lines) == len(expected) == 6
    for got, want, k in zip(lines, expected, [5, 5, 1, 1, 4, 4]):
        got.pop("uuid"), want.pop("uuid")
        if k in conf:
            assert got.pop("confidence") == conf[k]
        assert got == want


def test_instance_map_with_many_ids_and_big_ids() -> None:
    # 600 instances (more than one u8 group) with ids above 65535.
    ids = (np.arange(30 * 40, dtype=np.int64).reshape(30, 40) // 2) + 100_000
    features = {100_000 + k: f"c{k % 3}" for k in range(600)}
    lines = lbfast_lines([InstanceMap(ids, data_row="m", features=features)])
    assert len(lines) == 600
    for k, line in zip(features, lines):
        np.testing.assert_array_equal(png_pixels(line), ids == k)


def test_instance_map_absent_id_and_bad_confidence() -> None:
    ids = np.zeros((5, 5), np.int32)
    ids[1:3, 1:3] = 2
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps(
            [InstanceMap(ids, data_row="m", features={2: "a", 9: "b"}, confidence={2: -0.5})]
        )
    found = [(e["path"], e["message"]) for e in err.value.errors()]
    assert ("features[9]", "id 9 does not occur in the 5x5 id map") in found
    assert any(path == "confidence[2]" for path, _ in found)
    lines = lbfast_lines(
        [InstanceMap(ids, data_row="m", features={2: "a", 9: "b"}, skip_empty=True)]
    )
    assert len(lines) == 1
    with pytest.raises(lbfast.ValidationError, match="mask is 5x5 pixels, but the image is 6x5"):
        lbfast.dumps([InstanceMap(ids, data_row="m", features={2: "a"}, image_size=(6, 5))])
    with pytest.raises(TypeError, match="integers"):
        InstanceMap(ids.astype(float), data_row="m", features={2: "a"})


# --- URL masks with local pixels, Label.image_size, max_mask_pixels -------------------------


def test_url_mask_with_local_pixels_checks_the_colour() -> None:
    arr, cols = composite(n=3, seed=9)
    png = make_png(arr)
    data = lb.MaskData(url="https://example.com/m.png", im_bytes=png)
    good = lb.ObjectAnnotation(name="a", value=lb.Mask(mask=data, color=cols[0]))
    [line] = lbfast_lines([lb.Label(data=GK, annotations=[good])])
    assert line["mask"] == {"instanceURI": "https://example.com/m.png", "colorRGB": list(cols[0])}
    bad = lb.ObjectAnnotation(name="a", value=lb.Mask(mask=data, color=(9, 9, 9)))
    arr_data = lb.MaskData(url="https://example.com/m.png", arr=arr)
    bad2 = lb.ObjectAnnotation(name="a", value=lb.Mask(mask=arr_data, color=(9, 9, 8)))
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps([lb.Label(data=GK, annotations=[good, bad, bad2])])
    found = [(e["path"], e["message"]) for e in err.value.errors()]
    assert [p for p, _ in found] == ["annotations[1].value.mask", "annotations[2].value.mask"]
    assert "colour (9, 9, 9) does not occur" in found[0][1]
    assert "colour (9, 9, 8) does not occur" in found[1][1]
    # without pixels nothing can be checked: written as given
    plain = lb.MaskData(url="https://example.com/m.png")
    [line] = lbfast_lines(
        [
            lb.Label(
                data=GK,
                annotations=[
                    lb.ObjectAnnotation(name="a", value=lb.Mask(mask=plain, color=(9, 9, 9)))
                ],
            )
        ]
    )
    assert line["mask"]["colorRGB"] == [9, 9, 9]


def test_label_image_size_is_checked() -> None:
    arr, cols = composite(n=1, seed=10)
    ann = lb.ObjectAnnotation(name="a", value=lb.Mask(mask=lb.MaskData(arr=arr), color=cols[0]))
    assert lbfast_lines([lb.Label(data=GK, annotations=[ann], image_size=(90, 60))])
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps([lb.Label(data=GK, annotations=[ann], image_size=(60, 90))])
    [problem] = err.value.errors()
    assert problem["path"] == "annotations[0].value.mask"
    assert problem["message"] == "mask is 90x60 pixels, but the image is 60x90 (Label.image_size)"


def test_max_mask_pixels_applies_to_decoding() -> None:
    png = make_png(np.ones((10, 10), np.uint8))
    ann = lb.ObjectAnnotation(name="a", value=lb.Mask(mask=lb.MaskData(im_bytes=png), color=1))
    label = lb.Label(data=GK, annotations=[ann])
    as_dict = {
        "name": "a",
        "dataRow": {"globalKey": "g"},
        "mask": {"png": base64.b64encode(png).decode()},
    }
    assert lbfast.dumps([label, as_dict], max_mask_pixels=100)
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps([label, as_dict], max_mask_pixels=99)
    found = [(e["row"], e["message"]) for e in err.value.errors()]
    assert found == [
        (0, "PNG is 10x10 = 100 pixels, above the limit of 99"),
        (1, "PNG is 10x10 = 100 pixels, above the limit of 99"),
    ]


# --- hostile PNGs -------------------------------------------------------------------


def chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def hand_png(width: int, height: int, raw: bytes) -> bytes:
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def hostile_pngs() -> dict[str, tuple[bytes, str]]:
    good = make_png((np.arange(64 * 48).reshape(48, 64) % 3 == 0).astype(np.uint8))
    idat = good.index(b"IDAT")
    crc_broken = bytearray(good)
    crc_broken[idat + 4 + 2] ^= 0x40
    # 50000 x 50000 zero pixels, a few hundred bytes of deflate
    bomb = hand_png(50_000, 50_000, bytes(50_001) * 4)
    return {
        "truncated": (good[: len(good) // 2], "truncated PNG"),
        "crc": (bytes(crc_broken), "corrupt PNG"),
        "bomb": (bomb, "50000x50000 = 2500000000 pixels, above the limit"),
        "zero": (hand_png(0, 7, b""), "the image is 0x7 pixels"),
        "garbage": (b"\x89PNG\r\n\x1a\n" + bytes(40), "corrupt PNG"),
        "not png": (b"JFIF", "not a PNG"),
    }


@pytest.mark.parametrize("name", list(hostile_pngs()))
def test_hostile_pngs_are_clear_errors_naming_the_row(name: str) -> None:
    data, needle = hostile_pngs()[name]
    ann = lb.ObjectAnnotation(name="a", value=lb.Mask(mask=lb.MaskData(im_bytes=data), color=1))
    as_dict = {
        "name": "a",
        "dataRow": {"globalKey": "g"},
        "mask": {"png": base64.b64encode(data).decode()},
    }
    ok = {"name": "p", "dataRow": {"globalKey": "g"}, "point": {"x": 1, "y": 2}}
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.dumps([ok, lb.Label(data=GK, annotations=[ann]), as_dict])
    found = [(e["row"], e["path"], e["message"]) for e in err.value.errors()]
    assert [(row, path) for row, path, _ in found] == [
        (1, "annotations[0].value.mask"),
        (2, "mask.png"),
    ], found
    assert all(needle in message for _, _, message in found), found
    # the same bytes as a colour source and beside a URL
    with pytest.raises(ValueError, match=needle.split(":")[0]):
        colors(data)
    url = lb.MaskData(url="https://example.com/m.png", im_bytes=data)
    with pytest.raises(lbfast.ValidationError, match=needle.split(":")[0]):
        lbfast.dumps(
            [
                lb.Label(
                    data=GK,
                    annotations=[lb.ObjectAnnotation(name="a", value=lb.Mask(mask=url, color=1))],
                )
            ]
        )


# --- properties ---------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        np.bool_,
        st.tuples(st.integers(1, 4), st.integers(1, 40), st.integers(1, 40)),
        elements=st.booleans(),
    )
)
def test_decoding_our_png_gives_back_the_mask(stack: np.ndarray) -> None:
    lines = lbfast_lines([InstanceMasks(stack, data_rows=["a"], features=["x"], skip_empty=True)])
    kept = [m for m in stack if m.any()]
    assert len(lines) == len(kept)
    for line, mask in zip(lines, kept):
        np.testing.assert_array_equal(png_pixels(line), mask)
        assert json.loads(json.dumps(line)) == line


def test_instance_masks_from_coco_rle() -> None:
    stack = random_stack(3, 16, 24, seed=11)
    rles = rle_encode(stack)
    item = InstanceMasks.from_rle(rles, data_rows=["a"], class_ids=[0, 1, 0], features=["x", "y"])
    lines = lbfast_lines([item])
    assert [line["name"] for line in lines] == ["x", "y", "x"]
    for line, mask in zip(lines, stack):
        np.testing.assert_array_equal(png_pixels(line), mask)
    with pytest.raises(ValueError, match="one size"):
        InstanceMasks.from_rle(
            [rles[0], rle_encode(np.ones((2, 2), bool))], data_rows=["a"], features=["x"]
        )


def test_instance_mask_indices_must_be_integers_not_rounded_floats():
    masks = np.ones((2, 2, 2), dtype=bool)
    with pytest.raises(TypeError, match="class_ids must be integers"):
        InstanceMasks(masks, data_rows=["img"], features=["a", "b"], class_ids=np.array([0.9, 1.2]))


def test_instance_masks_and_maps_above_the_pixel_cap_are_refused() -> None:
    stack = np.ones((2, 10, 10), np.uint8)
    item = InstanceMasks(stack, data_rows=["g"], features=["x"])
    assert lbfast.dumps([item], max_mask_pixels=100)
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.dumps([item], max_mask_pixels=99)
    [error] = caught.value.errors()
    assert (error["row"], error["path"]) == (0, "masks")
    assert (
        error["message"]
        == "masks of 10x10 = 100 pixels are above the limit of 99 (max_mask_pixels)"
    )
    id_map = InstanceMap(np.ones((10, 10), np.int64), data_row="g", features={1: "x"})
    with pytest.raises(lbfast.ValidationError, match=r"row 0: id_map: masks of 10x10 = 100 pixels"):
        lbfast.dumps([id_map], max_mask_pixels=99)
