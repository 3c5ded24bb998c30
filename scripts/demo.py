"""What `make demo` runs: lbfast on the user guide's predictions and on a generated set.

1. The twelve example predictions of the guide "Upload image predictions", built with
   ``lbfast.types`` exactly as the guide builds them with ``labelbox.types``; the two
   masks the guide downloads are generated locally (no network).
2. 100,000 boxes with confidence, plus polygons, keypoints and radio classifications
   (115,000 predictions), written through the typed API and through NDJSON-shaped dicts.
3. 1,000,000 columnar boxes (numpy arrays): timed with ``dumps`` in memory, then
   streamed to shards by ``ShardWriter``, which are removed after measuring.
4. One batch of bad predictions, refused with every problem listed.

Outputs go to ``demo-output/`` (about 55 MB: ``seed_predictions.ndjson``,
``generated_typed.ndjson``, ``generated_dicts.ndjson``). Exits non-zero if anything is
not as expected.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

import lbfast
import lbfast.types as lb_types
from lbfast.columnar import Boxes

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "demo-output"
sys.path.insert(0, str(ROOT / "benches"))
import workloads  # noqa: E402

GENERATED_BOXES = 100_000


class DemoFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailed(message)


# --- a PNG from a numpy array, with the standard library only --------------------------


def png_bytes(pixels: np.ndarray) -> bytes:
    """An 8-bit gray (H, W) or RGB (H, W, 3) PNG; rows unfiltered, zlib-compressed."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError("expected a uint8 array of shape (H, W) or (H, W, 3)")
    if pixels.ndim == 3 and pixels.shape[2] != 3:
        raise ValueError("expected 3 channels")
    height, width = pixels.shape[:2]
    colour_type = 0 if pixels.ndim == 2 else 2
    rows = np.ascontiguousarray(pixels).reshape(height, -1)
    # Every scanline starts with its filter type; 0 means "none".
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def seed_masks(height: int = 427, width: int = 640) -> tuple[bytes, bytes]:
    """Stand-ins for the guide's ``raster_seg.png`` and ``raster_seg_with_subclass.png``:
    white instances (the guide's colour) beside another colour that must not be selected."""
    yy, xx = np.mgrid[0:height, 0:width]
    first = np.zeros((height, width, 3), np.uint8)
    ellipse = ((xx - 0.6 * width) / (0.2 * width)) ** 2 + (
        (yy - 0.4 * height) / (0.25 * height)
    ) ** 2
    first[ellipse <= 1.0] = (255, 255, 255)
    first[int(0.7 * height) :, : int(0.3 * width)] = (0, 128, 255)
    second = np.zeros((height, width, 3), np.uint8)
    second[int(0.55 * height) : int(0.9 * height), int(0.1 * width) : int(0.45 * width)] = (
        255,
        255,
        255,
    )
    second[: int(0.2 * height), int(0.7 * width) :] = (200, 30, 30)
    return png_bytes(first), png_bytes(second)


# --- 1. the guide's twelve predictions ----------------------------------------------------


def seed_label() -> Any:
    """The guide's ``label_prediction``, with ``lb_types`` being ``lbfast.types``."""
    global_key = "2560px-Kitano_Street_Kobe01s5s4110.jpeg"
    mask_png, mask_png_2 = seed_masks()

    radio_prediction = lb_types.ClassificationAnnotation(
        name="radio_question",
        value=lb_types.Radio(
            answer=lb_types.ClassificationAnswer(name="second_radio_answer", confidence=0.5)
        ),
    )
    nested_radio_prediction = lb_types.ClassificationAnnotation(
        name="nested_radio_question",
        value=lb_types.Radio(
            answer=lb_types.ClassificationAnswer(
                name="first_radio_answer",
                confidence=0.5,
                classifications=[
                    lb_types.ClassificationAnnotation(
                        name="sub_radio_question",
                        value=lb_types.Radio(
                            answer=lb_types.ClassificationAnswer(
                                name="first_sub_radio_answer", confidence=0.5
                            )
                        ),
                    )
                ],
            )
        ),
    )
    nested_checklist_prediction = lb_types.ClassificationAnnotation(
        name="nested_checklist_question",
        value=lb_types.Checklist(
            answer=[
                lb_types.ClassificationAnswer(
                    name="first_checklist_answer",
                    confidence=0.5,
                    classifications=[
                        lb_types.ClassificationAnnotation(
                            name="sub_checklist_question",
                            value=lb_types.Checklist(
                                answer=[
                                    lb_types.ClassificationAnswer(
                                        name="first_sub_checklist_answer", confidence=0.5
                                    )
                                ]
                            ),
                        )
                    ],
                )
            ]
        ),
    )
    checklist_prediction = lb_types.ClassificationAnnotation(
        name="checklist_question",
        value=lb_types.Checklist(
            answer=[
                lb_types.ClassificationAnswer(name="first_checklist_answer", confidence=0.5),
                lb_types.ClassificationAnswer(name="second_checklist_answer", confidence=0.5),
            ]
        ),
    )
    bbox_prediction = lb_types.ObjectAnnotation(
        name="bounding_box",
        confidence=0.5,
        value=lb_types.Rectangle(
            start=lb_types.Point(x=1690, y=977),  # x = left, y = top
            end=lb_types.Point(x=1915, y=1307),  # x = left + width, y = top + height
        ),
    )
    bbox_with_radio_subclass_prediction = lb_types.ObjectAnnotation(
        name="bbox_with_radio_subclass",
        confidence=0.5,
        value=lb_types.Rectangle(
            start=lb_types.Point(x=541, y=933),
            end=lb_types.Point(x=871, y=1124),
        ),
        classifications=[
            lb_types.ClassificationAnnotation(
                name="sub_radio_question",
                value=lb_types.Radio(
                    answer=lb_types.ClassificationAnswer(
                        name="first_sub_radio_answer", confidence=0.5
                    )
                ),
            )
        ],
    )
    polygon_prediction = lb_types.ObjectAnnotation(
        name="polygon",
        confidence=0.5,
        value=lb_types.Polygon(
            points=[
                lb_types.Point(x=1489.581, y=183.934),
                lb_types.Point(x=2278.306, y=256.885),
                lb_types.Point(x=2428.197, y=200.437),
                lb_types.Point(x=2560.0, y=335.419),
                lb_types.Point(x=2557.386, y=503.165),
                lb_types.Point(x=2320.596, y=503.103),
                lb_types.Point(x=2156.083, y=628.943),
                lb_types.Point(x=2161.111, y=785.519),
                lb_types.Point(x=2002.115, y=894.647),
                lb_types.Point(x=1838.456, y=877.874),
                lb_types.Point(x=1436.53, y=874.636),
                lb_types.Point(x=1411.403, y=758.579),
                lb_types.Point(x=1353.853, y=751.74),
                lb_types.Point(x=1345.264, y=453.461),
                lb_types.Point(x=1426.011, y=421.129),
            ]
        ),
    )
    text_annotation = lb_types.ClassificationAnnotation(
        name="free_text", value=lb_types.Text(answer="sample text", confidence=0.5)
    )
    # The guide downloads these PNGs; here they are generated (see seed_masks).
    mask_data = lb_types.MaskData(im_bytes=mask_png)
    mask_prediction = lb_types.ObjectAnnotation(
        name="mask",
        confidence=0.5,
        value=lb_types.Mask(mask=mask_data, color=(255, 255, 255)),
    )
    mask_data_2 = lb_types.MaskData(im_bytes=mask_png_2)
    mask_with_text_subclass_prediction = lb_types.ObjectAnnotation(
        name="mask_with_text_subclass",
        value=lb_types.Mask(mask=mask_data_2, confidence=0.5, color=(255, 255, 255)),
        classifications=[
            lb_types.ClassificationAnnotation(
                name="sub_free_text", value=lb_types.Text(answer="free text answer")
            )
        ],
    )
    point_prediction = lb_types.ObjectAnnotation(
        name="point",
        confidence=0.5,
        value=lb_types.Point(x=1166.606, y=1441.768),
    )
    polyline_prediction = lb_types.ObjectAnnotation(
        name="polyline",
        confidence=0.5,
        value=lb_types.Line(
            points=[
                lb_types.Point(x=2534.353, y=249.471),
                lb_types.Point(x=2429.492, y=182.092),
                lb_types.Point(x=2294.322, y=221.962),
                lb_types.Point(x=2224.491, y=180.463),
                lb_types.Point(x=2136.123, y=204.716),
                lb_types.Point(x=1712.247, y=173.949),
                lb_types.Point(x=1703.838, y=84.438),
                lb_types.Point(x=1579.772, y=82.61),
                lb_types.Point(x=1583.442, y=167.552),
                lb_types.Point(x=1478.869, y=164.903),
                lb_types.Point(x=1418.941, y=318.149),
                lb_types.Point(x=1243.128, y=400.815),
                lb_types.Point(x=1022.067, y=319.007),
                lb_types.Point(x=892.367, y=379.216),
                lb_types.Point(x=670.273, y=364.408),
                lb_types.Point(x=613.114, y=288.16),
                lb_types.Point(x=377.559, y=238.251),
                lb_types.Point(x=368.087, y=185.064),
                lb_types.Point(x=246.557, y=167.286),
                lb_types.Point(x=236.648, y=285.61),
                lb_types.Point(x=90.929, y=326.412),
            ]
        ),
    )
    return lb_types.Label(
        data={"global_key": global_key},
        annotations=[
            radio_prediction,
            nested_radio_prediction,
            checklist_prediction,
            nested_checklist_prediction,
            bbox_prediction,
            bbox_with_radio_subclass_prediction,
            polyline_prediction,
            polygon_prediction,
            mask_prediction,
            mask_with_text_subclass_prediction,
            point_prediction,
            text_annotation,
        ],
    )


GEOMETRY_KEYS = ("bbox", "polygon", "line", "point", "mask")


def kind_of(line: dict[str, Any]) -> str:
    for key in GEOMETRY_KEYS:
        if key in line:
            return key
    answer = line.get("answer")
    if isinstance(answer, list):
        return "checklist"
    return "radio" if isinstance(answer, dict) else "text"


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of an NDJSON file, parsed strictly (NaN or Infinity would be an error)."""

    def refuse(token: str) -> None:
        raise DemoFailed(f"{path.name}: invalid JSON constant {token}")

    data = path.read_bytes()
    expect(data.endswith(b"\n"), f"{path.name}: the last line is not terminated")
    return [json.loads(line, parse_constant=refuse) for line in data.splitlines()]


def check_uuids(lines: list[dict[str, Any]], where: str) -> None:
    uuids = [line.get("uuid") for line in lines]
    expect(
        all(isinstance(u, str) and len(u) == 36 and u[14] == "4" for u in uuids),
        f"{where}: a line without a uuid4",
    )
    expect(len(set(uuids)) == len(uuids), f"{where}: repeated uuids")


def demo_seed() -> None:
    print("1. The guide's twelve example predictions (lbfast.types, as in the guide)")
    label = seed_label()
    path = OUT_DIR / "seed_predictions.ndjson"
    started = time.perf_counter()
    written = lbfast.dump([label], path)
    seconds = time.perf_counter() - started
    lines = read_lines(path)
    expect(len(lines) == 12, f"seed: {len(lines)} lines written, expected 12")
    expect(written == path.stat().st_size, "seed: dump() returned a wrong byte count")
    check_uuids(lines, "seed")
    for line in lines:
        expect(
            line["dataRow"] == {"globalKey": "2560px-Kitano_Street_Kobe01s5s4110.jpeg"},
            "seed: wrong data row",
        )
    kinds = Counter(kind_of(line) for line in lines)
    expect(
        kinds["mask"] == 2 and all("png" in ln["mask"] for ln in lines if "mask" in ln),
        "seed: expected the two masks written as PNG",
    )
    polygon = next(line["polygon"] for line in lines if "polygon" in line)
    expect(len(polygon) == 16 and polygon[0] == polygon[-1], "seed: the polygon is not closed")
    print(
        f"   12 predictions -> {len(lines)} lines, {written:,} bytes in {seconds * 1e3:.1f} ms"
        f" -> {path.relative_to(ROOT)}"
    )
    for line in lines:
        text = json.dumps(line, separators=(",", ":"))
        shown = text if len(text) <= 110 else text[:107] + "..."
        print(f"   {kind_of(line):<9} {shown}")


# --- 2. a generated set ---------------------------------------------------------------


def report(
    path_name: str, predictions: int, path: Path, written: int, build: float, dump: float
) -> list[dict[str, Any]]:
    lines = read_lines(path)
    total = build + dump
    print(
        f"   {path_name:<6} {predictions:>11,} {len(lines):>9,} {written:>13,}"
        f" {build:>8.3f} {dump:>8.3f} {total:>8.3f} {predictions / total:>12,.0f}"
    )
    expect(len(lines) == predictions, f"{path.name}: {len(lines)} lines, expected {predictions}")
    expect(written == path.stat().st_size, f"{path.name}: dump() returned a wrong byte count")
    check_uuids(lines, path.name)
    return lines


def demo_generated() -> None:
    data = workloads.mixed(GENERATED_BOXES, per_image=10, seed=2)
    n = len(data)
    print(
        f"\n2. Generated predictions over {len(data.global_keys):,} images: "
        f"{len(data.boxes):,} boxes, {len(data.polygons):,} polygons, "
        f"{len(data.points):,} keypoints, {len(data.radios):,} radio classifications"
    )
    print(
        f"   {'path':<6} {'predictions':>11} {'lines':>9} {'bytes':>13}"
        f" {'build s':>8} {'dump s':>8} {'total s':>8} {'predictions/s':>12}"
    )
    typed_path = OUT_DIR / "generated_typed.ndjson"
    started = time.perf_counter()
    labels = workloads.mixed_labels(lb_types, data)
    built = time.perf_counter()
    written = lbfast.dump(labels, typed_path)
    done = time.perf_counter()
    del labels
    typed = report("typed", n, typed_path, written, built - started, done - built)

    dicts_path = OUT_DIR / "generated_dicts.ndjson"
    started = time.perf_counter()
    # No "uuid" keys: lbfast writes a fresh uuid4 for every line that has none.
    rows = workloads.mixed_dicts(data, uuids=False)
    built = time.perf_counter()
    written = lbfast.dump(rows, dicts_path)
    done = time.perf_counter()
    del rows
    dicts = report("dicts", n, dicts_path, written, built - started, done - built)

    expected = {
        "bbox": len(data.boxes),
        "polygon": len(data.polygons),
        "point": len(data.points),
        "radio": len(data.radios),
    }
    for name, lines in (("typed", typed), ("dicts", dicts)):
        kinds = dict(Counter(kind_of(line) for line in lines))
        expect(kinds == expected, f"{name}: wrote {kinds}, expected {expected}")
    difference = workloads.first_difference(typed, dicts)
    expect(difference is None, f"the typed and dict outputs differ: {difference}")
    print("   both files hold the same predictions (apart from the random uuids)")


# --- 3. columnar ----------------------------------------------------------------------

COLUMNAR_BOXES = 1_000_000


def demo_columnar() -> None:
    n = COLUMNAR_BOXES
    images = n // 10
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1800, size=(n, 2)).astype(np.float32)
    boxes = np.hstack([xy, xy + rng.uniform(4, 120, size=(n, 2)).astype(np.float32)])
    batch = Boxes(
        boxes,
        data_rows=[f"image-{i:07d}.jpg" for i in range(images)],
        image_index=np.repeat(np.arange(images), 10),
        features=["car", "bus", "person", "bicycle"],
        class_ids=rng.integers(0, 4, n),
        confidence=rng.uniform(0, 1, n).astype(np.float32),
    )
    print(f"\n3. {n:,} boxes over {images:,} images as numpy arrays (columnar, no object per box)")
    started = time.perf_counter()
    data = lbfast.dumps([batch])
    seconds = time.perf_counter() - started
    lines = data.count(b"\n")
    expect(lines == n, f"columnar: {lines} lines, expected {n}")
    print(
        f"   lbfast.dumps: {lines:,} lines, {len(data):,} bytes in {seconds:.3f} s = {n / seconds:,.0f} boxes/s"
    )
    first = json.loads(data[: data.index(b"\n")])
    expect(first["dataRow"] == {"globalKey": "image-0000000.jpg"}, f"columnar: first line {first}")
    del data
    shard_dir = OUT_DIR / "columnar_shards"
    shutil.rmtree(shard_dir, ignore_errors=True)
    started = time.perf_counter()
    with lbfast.ShardWriter(shard_dir, max_rows=250_000) as writer:
        writer.write(batch)
    seconds = time.perf_counter() - started
    manifest = writer.manifest
    expect(manifest.rows == n, f"shards hold {manifest.rows} rows, expected {n}")
    print(
        f"   ShardWriter: {len(manifest.shards)} shards of <= 250,000 rows, {manifest.bytes:,} bytes"
        f" in {seconds:.3f} s = {n / seconds:,.0f} boxes/s; per feature {dict(manifest.features)}"
    )
    # The shards only show the speed; keeping them would leave ~270 MB behind.
    shutil.rmtree(shard_dir)
    print(f"   (the shards were removed after measuring: {shard_dir} is not kept)")


# --- 4. bad input ---------------------------------------------------------------------


def demo_bad_input() -> None:
    print("\n4. Bad predictions are refused before anything is written, all problems at once")
    bad = [
        lb_types.Label(
            data={"global_key": "image-000001.jpg"},
            annotations=[
                lb_types.ObjectAnnotation(
                    name="car",
                    confidence=float("nan"),
                    value=lb_types.Rectangle(
                        start=lb_types.Point(x=10, y=20), end=lb_types.Point(x=50, y=60)
                    ),
                ),
                lb_types.ObjectAnnotation(
                    name="building",
                    value=lb_types.Polygon(
                        points=[lb_types.Point(x=0, y=0), lb_types.Point(x=5, y=float("inf"))]
                    ),
                ),
            ],
        ),
        {"name": "person", "confidence": 1.5, "dataRow": {"globalKey": ""}, "point": {"x": 3}},
    ]
    path = OUT_DIR / "bad_predictions.ndjson"
    try:
        lbfast.dump(bad, path)
    except lbfast.ValidationError as err:
        expect(len(err.errors()) >= 3, f"expected several problems, got {err.errors()}")
        expect(not path.exists(), "a refused batch must not leave a file behind")
        print("   lbfast.ValidationError:")
        for line in str(err).splitlines():
            print(f"     {line}")
        return
    raise DemoFailed("the bad predictions were accepted")


def main() -> int:
    started = time.perf_counter()
    OUT_DIR.mkdir(exist_ok=True)
    stale = OUT_DIR / "bad_predictions.ndjson"
    if stale.exists():
        stale.unlink()
    print(
        f"lbfast {lbfast.__version__} demo (Python {sys.version.split()[0]}, pid {os.getpid()})\n"
    )
    try:
        demo_seed()
        demo_generated()
        demo_columnar()
        demo_bad_input()
    except DemoFailed as err:
        print(f"\nDEMO FAILED: {err}", file=sys.stderr)
        return 1
    print(f"\ndone in {time.perf_counter() - started:.1f} s; outputs in {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
