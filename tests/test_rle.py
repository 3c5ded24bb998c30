"""COCO RLE: byte for byte what pycocotools writes, and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as coco

from lbfast.masks import rle_area, rle_bbox, rle_compress, rle_decode, rle_encode

# pycocotools' decode trips numpy 2's __array__ copy-keyword deprecation.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def masks(draw: st.DrawFn) -> np.ndarray:
    """Binary masks of odd and degenerate shapes: random, empty, full, blocks."""
    h = draw(st.integers(1, 40))
    w = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["random", "empty", "full", "block", "sparse"]))
    if kind == "empty":
        return np.zeros((h, w), np.uint8)
    if kind == "full":
        return np.ones((h, w), np.uint8)
    if kind == "block":
        m = np.zeros((h, w), np.uint8)
        y0, x0 = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
        y1, x1 = draw(st.integers(y0, h - 1)), draw(st.integers(x0, w - 1))
        m[y0 : y1 + 1, x0 : x1 + 1] = 1
        return m
    arr = draw(hnp.arrays(np.uint8, (h, w), elements=st.integers(0, 1)))
    if kind == "sparse":
        arr = arr & draw(hnp.arrays(np.uint8, (h, w), elements=st.integers(0, 1)))
    return arr


def coco_encode(mask: np.ndarray) -> dict:
    rle = coco.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


@SETTINGS
@given(masks())
def test_encode_is_byte_identical_to_pycocotools(mask: np.ndarray) -> None:
    expected = coco_encode(mask)
    assert rle_encode(mask) == expected
    assert rle_encode(mask.astype(bool)) == expected
    assert rle_encode(np.asfortranarray(mask)) == expected
    # nonzero is set, whatever the value
    assert rle_encode(mask * 200) == expected


@SETTINGS
@given(masks())
def test_decode_area_and_bbox_match_pycocotools(mask: np.ndarray) -> None:
    rle = coco_encode(mask)
    decoded = rle_decode(rle)
    assert decoded.dtype == np.uint8 and decoded.flags.c_contiguous
    np.testing.assert_array_equal(decoded, mask)
    np.testing.assert_array_equal(decoded, coco.decode({**rle, "counts": rle["counts"].encode()}))
    coco_rle = {"size": rle["size"], "counts": rle["counts"].encode()}
    assert rle_area(rle) == int(coco.area(coco_rle))
    assert rle_bbox(rle) == coco.toBbox(coco_rle).tolist()


@SETTINGS
@given(masks())
def test_uncompressed_form_round_trips(mask: np.ndarray) -> None:
    raw = rle_encode(mask, compressed=False)
    assert all(isinstance(c, int) for c in raw["counts"])
    assert sum(raw["counts"]) == mask.size
    np.testing.assert_array_equal(rle_decode(raw), mask)
    compressed = rle_compress(raw)
    assert compressed == rle_encode(mask)
    # pycocotools' reading of the list form gives the same string
    h, w = raw["size"]
    assert coco.frPyObjects(raw, h, w)["counts"].decode() == compressed["counts"]
    assert rle_area(raw) == rle_area(compressed)
    assert rle_bbox(raw) == rle_bbox(compressed)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_stacks_encode_each_mask(n: int, h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    stack = rng.random((n, h, w)) < 0.3
    expected = coco.encode(np.asfortranarray(stack.transpose(1, 2, 0).astype(np.uint8)))
    got = rle_encode(stack)
    assert [r["counts"] for r in got] == [e["counts"].decode() for e in expected]
    assert all(r["size"] == [h, w] for r in got)


def test_non_contiguous_input_is_read_by_its_strides() -> None:
    rng = np.random.default_rng(1)
    big = (rng.random((40, 60)) < 0.4).astype(np.uint8)
    view = big[::3, 1::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    assert rle_encode(view) == coco_encode(np.ascontiguousarray(view))
    assert rle_encode(big.T) == coco_encode(np.ascontiguousarray(big.T))


def test_large_mask_matches_pycocotools() -> None:
    yy, xx = np.mgrid[:1080, :1920]
    mask = (((yy - 500) ** 2 + (xx - 900) ** 2) < 300**2) | ((xx // 7 + yy // 5) % 11 == 0)
    mask = mask.astype(np.uint8)
    rle = rle_encode(mask)
    assert rle == coco_encode(mask)
    np.testing.assert_array_equal(rle_decode(rle), mask)


@pytest.mark.parametrize("density", [0.5, 0.05, 0.001])
def test_noisy_masks_match_pycocotools(density: float) -> None:
    # Dense changes take the transposing encoder, sparse ones the row-difference one.
    mask = (np.random.default_rng(7).random((301, 517)) < density).astype(np.uint8)
    rle = rle_encode(mask)
    assert rle == coco_encode(mask)
    np.testing.assert_array_equal(rle_decode(rle), mask)


def test_bytes_counts_and_known_values() -> None:
    centre = np.zeros((3, 3), np.uint8)
    centre[1, 1] = 1
    assert rle_encode(centre) == {"size": [3, 3], "counts": "414"}
    assert rle_decode({"size": [3, 3], "counts": b"414"}).tolist() == centre.tolist()
    assert rle_area({"size": [3, 3], "counts": "414"}) == 1
    assert rle_bbox({"size": [3, 3], "counts": [4, 1, 4]}) == [1.0, 1.0, 1.0, 1.0]
    assert rle_bbox({"size": [3, 3], "counts": "9"}) == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("rle", "error", "needle"),
    [
        ({"size": [2, 2], "counts": [3]}, ValueError, "add up to 3"),
        ({"size": [2, 2], "counts": [-1, 5]}, ValueError, "outside"),
        ({"size": [2, 2], "counts": "4 "}, ValueError, "alphabet"),
        ({"size": [2, 2], "counts": "o"}, ValueError, "middle of a count"),
        ({"size": [2, 2], "counts": 4}, TypeError, "counts"),
        ({"counts": "4"}, TypeError, "size"),
    ],
)
def test_malformed_rles_are_errors(rle: dict, error: type, needle: str) -> None:
    with pytest.raises(error, match=needle):
        rle_decode(rle)


def test_wrong_mask_types_are_errors() -> None:
    with pytest.raises(TypeError, match="bool or uint8"):
        rle_encode(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        rle_encode(np.zeros((2, 2, 2, 2), np.uint8))


def test_the_pixel_cap_applies_to_rle_sizes() -> None:
    rle = rle_encode(np.ones((10, 10), np.uint8))
    assert rle_decode(rle, max_mask_pixels=100).sum() == 100
    with pytest.raises(ValueError, match=r"RLE size 10x10 = 100 pixels is above the limit of 99"):
        rle_decode(rle, max_mask_pixels=99)
    with pytest.raises(
        ValueError,
        match=r"RLE size 65535x65535 = 4294836225 pixels is above the limit of 268435456",
    ):
        rle_decode({"size": [65535, 65535], "counts": "0QPPloo3"})


@pytest.mark.parametrize("size", [[-1, 4], [2, -2], [2.5, 1], ["2", 1], [True, 1]])
def test_an_rle_size_that_is_not_two_natural_ints_is_refused(size) -> None:
    with pytest.raises((TypeError, ValueError), match=r"an RLE's size is two"):
        rle_decode({"size": size, "counts": [1]})
