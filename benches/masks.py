"""Mask benchmarks on 1920x1080: lbfast against the official SDK, numpy and pycocotools.

All cases run in one process on the same arrays; each is checked once (same pixels
or the same RLE as the peer), then timed ``--repeats`` times; the median is reported
with the ratio peer / lbfast (higher is better for lbfast).

    .venv/bin/python benches/masks.py [--repeats N] [--json out.json]

Cases:

* binary mask -> one ``{"png"}`` NDJSON line. SDK: ``Label`` with
  ``Mask(MaskData.from_2D_arr(m), color=1)``, ``NDJsonConverter.serialize``,
  ``labelbox.parser.dumps``. lbfast: the same typed objects and ``lbfast.dumps``,
  and ``InstanceMasks`` from the bool array.
* composite RGB with 20 colours -> 20 lines, one shared ``MaskData(arr=...)``.
* colour discovery: ``np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)``
  (counts only) against ``lbfast.masks.colors`` (counts and boxes).
* COCO RLE encode / decode against pycocotools (``encode`` given the Fortran array it
  needs, so without the ``np.asfortranarray`` copy; ``decode`` returns Fortran order,
  lbfast a C-ordered array).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np
from PIL import Image

import lbfast
import lbfast.types as lb
from lbfast.masks import InstanceMasks, colors, rle_decode, rle_encode

try:
    import labelbox.types as sdk
    from labelbox import parser as sdk_parser
    from labelbox.data.serialization import NDJsonConverter
    from pycocotools import mask as coco
except ImportError:  # pragma: no cover - test dependencies
    sys.exit("masks.py needs the test dependencies: labelbox[data]==7.17.0 and pycocotools")

H, W = 1080, 1920
GK = {"global_key": "bench-image-0001"}


def blobs(n: int, seed: int) -> list[np.ndarray]:
    """``n`` boolean masks of random filled circles (typical instance shapes)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.ogrid[:H, :W]
    out = []
    for _ in range(n):
        m = np.zeros((H, W), bool)
        for _ in range(3):
            cy, cx, r = rng.integers(0, H), rng.integers(0, W), rng.integers(20, 220)
            m |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        out.append(m)
    return out


def composite(n: int, seed: int) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    rgb = np.zeros((H, W, 3), np.uint8)
    cols = []
    for k, m in enumerate(blobs(n, seed)):
        c = (10 + 12 * k, 250 - 11 * k, (37 * k) % 256)
        rgb[m] = c
        cols.append(c)
    present = {tuple(int(v) for v in c) for c, _, _ in colors(rgb)}
    return rgb, [c for c in cols if c in present]


def time_it(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def sdk_dumps(labels: list) -> bytes:
    return sdk_parser.dumps(list(NDJsonConverter.serialize(labels))).encode()


def png_of(line: dict) -> np.ndarray:
    raw = base64.b64decode(line["mask"]["png"])
    return np.asarray(Image.open(io.BytesIO(raw)))


def lines(data: bytes) -> list[dict]:
    return [json.loads(x) for x in data.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    r = args.repeats
    rows: list[tuple[str, str, float, str, float]] = []

    # --- binary mask -> one line --------------------------------------------------------
    [mask] = blobs(1, seed=1)
    mask_u8 = mask.astype(np.uint8)

    def sdk_binary() -> bytes:
        ann = sdk.ObjectAnnotation(
            name="seg", value=sdk.Mask(mask=sdk.MaskData.from_2D_arr(mask_u8), color=1)
        )
        return sdk_dumps([sdk.Label(data=GK, annotations=[ann])])

    def fast_binary() -> bytes:
        ann = lb.ObjectAnnotation(
            name="seg", value=lb.Mask(mask=lb.MaskData.from_2D_arr(mask_u8), color=1)
        )
        return lbfast.dumps([lb.Label(data=GK, annotations=[ann])])

    def fast_instances() -> bytes:
        return lbfast.dumps([InstanceMasks(mask, data_rows=[GK["global_key"]], features=["seg"])])

    expected = png_of(lines(sdk_binary())[0])
    assert (png_of(lines(fast_binary())[0]) == expected).all()
    assert (png_of(lines(fast_instances())[0]) == expected).all()
    sdk_ms = time_it(sdk_binary, max(3, r // 3))
    rows.append(("binary mask -> 1 line", "SDK", sdk_ms, "lbfast typed", time_it(fast_binary, r)))
    rows.append(
        ("binary mask -> 1 line", "SDK", sdk_ms, "lbfast InstanceMasks", time_it(fast_instances, r))
    )

    # --- composite, 20 colours -> 20 lines ----------------------------------------------
    rgb, cols = composite(20, seed=2)

    def sdk_composite() -> bytes:
        data = sdk.MaskData(arr=rgb)
        anns = [
            sdk.ObjectAnnotation(name=f"c{i}", value=sdk.Mask(mask=data, color=c))
            for i, c in enumerate(cols)
        ]
        return sdk_dumps([sdk.Label(data=GK, annotations=anns)])

    def fast_composite() -> bytes:
        data = lb.MaskData(arr=rgb)
        anns = [
            lb.ObjectAnnotation(name=f"c{i}", value=lb.Mask(mask=data, color=c))
            for i, c in enumerate(cols)
        ]
        return lbfast.dumps([lb.Label(data=GK, annotations=anns)])

    want = [png_of(x) for x in lines(sdk_composite())]
    got = [png_of(x) for x in lines(fast_composite())]
    assert len(want) == len(got) == len(cols) and all((a == b).all() for a, b in zip(want, got))
    name = f"composite, {len(cols)} colours -> {len(cols)} lines"
    rows.append(
        (name, "SDK", time_it(sdk_composite, 3), "lbfast typed", time_it(fast_composite, r))
    )

    # --- colour discovery -----------------------------------------------------------------
    def numpy_unique() -> Any:
        return np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)

    values, counts = numpy_unique()
    found = colors(rgb)
    assert [c for c, _, _ in found] == [tuple(int(v) for v in row) for row in values]
    assert [n for _, n, _ in found] == counts.tolist()
    rows.append(
        (
            "colour discovery (all colours)",
            "np.unique(axis=0)",
            time_it(numpy_unique, 3),
            "lbfast colors",
            time_it(lambda: colors(rgb), r),
        )
    )

    # --- COCO RLE -------------------------------------------------------------------------
    fortran = np.asfortranarray(mask_u8)
    ref = coco.encode(fortran)
    assert rle_encode(mask)["counts"] == ref["counts"].decode()
    rows.append(
        (
            "RLE encode",
            "pycocotools (F input)",
            time_it(lambda: coco.encode(fortran), r),
            "lbfast (C input)",
            time_it(lambda: rle_encode(mask), r),
        )
    )
    rows.append(
        (
            "RLE encode from a C-ordered mask",
            "pycocotools + asfortranarray",
            time_it(lambda: coco.encode(np.asfortranarray(mask_u8)), r),
            "lbfast",
            time_it(lambda: rle_encode(mask), r),
        )
    )
    ours = {"size": ref["size"], "counts": ref["counts"].decode()}
    assert (rle_decode(ours) == coco.decode(ref)).all()
    rows.append(
        (
            "RLE decode",
            "pycocotools (F output)",
            time_it(lambda: coco.decode(ref), r),
            "lbfast (C output)",
            time_it(lambda: rle_decode(ours), r),
        )
    )

    print(f"1920x1080 masks, median of {r} runs (SDK composite: 3 runs)\n")
    print(
        f"| {'case':<34} | {'peer':<29} | {'peer ms':>9} | {'lbfast':<21} | {'lbfast ms':>9} | {'ratio':>7} |"
    )
    print(f"|{'-' * 36}|{'-' * 31}|{'-' * 11}|{'-' * 23}|{'-' * 11}|{'-' * 9}|")
    for case, peer, peer_ms, ours_name, ours_ms in rows:
        print(
            f"| {case:<34} | {peer:<29} | {peer_ms:>9.3f} | {ours_name:<21} | {ours_ms:>9.3f} | {peer_ms / ours_ms:>6.1f}x |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                [
                    {
                        "case": c,
                        "peer": p,
                        "peer_ms": pm,
                        "lbfast": o,
                        "lbfast_ms": om,
                        "ratio": pm / om,
                    }
                    for c, p, pm, o, om in rows
                ],
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
