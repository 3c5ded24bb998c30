"""Deterministic prediction workloads shared by the benchmarks and the demo.

Two layers, so that every timed path starts from the same raw numbers:

* generators (``boxes``, ``polygons``, ``points``, ``radios``, ``mixed``) turn a seed
  into plain Python lists, the way a detector's output looks after ``.tolist()``;
* builders turn that raw data into what each path consumes:
  - ``*_labels(t, data)``: ``t.Label`` objects, where ``t`` is a types module
    (``lbfast.types`` or ``labelbox.types``; the two take the same keywords);
  - ``*_dicts(data)``: NDJSON-shaped dicts as the SDK's ``NDJsonConverter.serialize``
    yields them (same keys, same order, a ``uuid4`` string, ``"classifications": []``).

Nothing here imports ``labelbox`` or ``lbfast``: the caller passes the types module,
so the demo runs without the SDK installed.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Optional

import numpy as np

IMAGE_WIDTH = 1920
IMAGE_HEIGHT = 1080

BOX_CLASSES = ("person", "car", "bicycle", "dog", "traffic light", "truck", "bus", "cat")
POLYGON_CLASSES = ("building", "road", "tree", "sidewalk")
POINT_CLASSES = ("nose", "left_eye", "right_eye")
SUB_QUESTION = "sub_radio_question"
SUB_ANSWERS = ("first_sub_radio_answer", "second_sub_radio_answer")
RADIO_QUESTION = "radio_question"
RADIO_ANSWERS = ("first_radio_answer", "second_radio_answer")

# Coordinates keep two decimals (sub-pixel), confidences four: typical of a
# detector's output once rounded for storage. Unrounded float32 values would make
# every number 15-17 digits long and the lines about 40% longer.
COORD_DECIMALS = 2
CONF_DECIMALS = 4


def global_key(i: int) -> str:
    return f"image-{i:06d}.jpg"


def _offsets(counts: list[int]) -> list[int]:
    out = [0]
    for c in counts:
        out.append(out[-1] + c)
    return out


def _even_counts(n: int, per_image: int) -> list[int]:
    """``n`` items in groups of ``per_image`` (the last group may be smaller)."""
    full, rest = divmod(n, per_image)
    return [per_image] * full + ([rest] if rest else [])


def _rounded(values: np.ndarray, decimals: int) -> list[float]:
    return np.round(values, decimals).tolist()


# --- raw data ---------------------------------------------------------------------


@dataclass(frozen=True)
class Boxes:
    """Axis-aligned boxes (corners ``x0 < x1``, ``y0 < y1``) with a class and a confidence.

    The annotations of image ``i`` are ``offsets[i]:offsets[i + 1]``. ``sub_answer`` and
    ``sub_confidence`` are used only by the nested-radio variant.
    """

    global_keys: list[str]
    offsets: list[int]
    names: list[str]
    confidence: list[float]
    x0: list[float]
    y0: list[float]
    x1: list[float]
    y1: list[float]
    sub_answer: list[str]
    sub_confidence: list[float]

    def __len__(self) -> int:
        return self.offsets[-1]


@dataclass(frozen=True)
class Polygons:
    """Star-shaped rings of ``len(points[j])`` vertices, as ``[[x, y], ...]`` (not closed)."""

    global_keys: list[str]
    offsets: list[int]
    names: list[str]
    confidence: list[float]
    points: list[list[list[float]]]

    def __len__(self) -> int:
        return self.offsets[-1]


@dataclass(frozen=True)
class Points:
    """Keypoints with a class and a confidence."""

    global_keys: list[str]
    offsets: list[int]
    names: list[str]
    confidence: list[float]
    x: list[float]
    y: list[float]

    def __len__(self) -> int:
        return self.offsets[-1]


@dataclass(frozen=True)
class Radios:
    """Image-level radio classifications (``radio_question``) with an answer confidence."""

    global_keys: list[str]
    offsets: list[int]
    answer: list[str]
    confidence: list[float]

    def __len__(self) -> int:
        return self.offsets[-1]


@dataclass(frozen=True)
class Mixed:
    """Several kinds of predictions over the same images."""

    global_keys: list[str]
    boxes: Boxes
    polygons: Polygons
    points: Points
    radios: Radios

    def __len__(self) -> int:
        return len(self.boxes) + len(self.polygons) + len(self.points) + len(self.radios)


def _boxes(rng: np.random.Generator, keys: list[str], counts: list[int]) -> Boxes:
    n = sum(counts)
    w = rng.uniform(8.0, 400.0, n)
    h = rng.uniform(8.0, 300.0, n)
    x0 = rng.uniform(0.0, 1.0, n) * (IMAGE_WIDTH - w)
    y0 = rng.uniform(0.0, 1.0, n) * (IMAGE_HEIGHT - h)
    return Boxes(
        global_keys=keys,
        offsets=_offsets(counts),
        names=[BOX_CLASSES[c] for c in rng.integers(0, len(BOX_CLASSES), n).tolist()],
        confidence=_rounded(rng.uniform(0.05, 1.0, n), CONF_DECIMALS),
        x0=_rounded(x0, COORD_DECIMALS),
        y0=_rounded(y0, COORD_DECIMALS),
        x1=_rounded(x0 + w, COORD_DECIMALS),
        y1=_rounded(y0 + h, COORD_DECIMALS),
        sub_answer=[SUB_ANSWERS[c] for c in rng.integers(0, len(SUB_ANSWERS), n).tolist()],
        sub_confidence=_rounded(rng.uniform(0.05, 1.0, n), CONF_DECIMALS),
    )


def _polygons(
    rng: np.random.Generator, keys: list[str], counts: list[int], vertices: int
) -> Polygons:
    n = sum(counts)
    radius = rng.uniform(20.0, 200.0, (n, 1))
    cx = rng.uniform(0.0, 1.0, (n, 1)) * (IMAGE_WIDTH - 2 * radius) + radius
    cy = rng.uniform(0.0, 1.0, (n, 1)) * (IMAGE_HEIGHT - 2 * radius) + radius
    step = 2 * math.pi / vertices
    angles = np.arange(vertices) * step + rng.uniform(-0.3, 0.3, (n, vertices)) * step
    r = radius * rng.uniform(0.6, 1.0, (n, vertices))
    xy = np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], axis=-1)
    return Polygons(
        global_keys=keys,
        offsets=_offsets(counts),
        names=[POLYGON_CLASSES[c] for c in rng.integers(0, len(POLYGON_CLASSES), n).tolist()],
        confidence=_rounded(rng.uniform(0.05, 1.0, n), CONF_DECIMALS),
        points=_rounded(xy, COORD_DECIMALS),
    )


def _points(rng: np.random.Generator, keys: list[str], counts: list[int]) -> Points:
    n = sum(counts)
    return Points(
        global_keys=keys,
        offsets=_offsets(counts),
        names=[POINT_CLASSES[c] for c in rng.integers(0, len(POINT_CLASSES), n).tolist()],
        confidence=_rounded(rng.uniform(0.05, 1.0, n), CONF_DECIMALS),
        x=_rounded(rng.uniform(0.0, IMAGE_WIDTH, n), COORD_DECIMALS),
        y=_rounded(rng.uniform(0.0, IMAGE_HEIGHT, n), COORD_DECIMALS),
    )


def _radios(rng: np.random.Generator, keys: list[str], counts: list[int]) -> Radios:
    n = sum(counts)
    return Radios(
        global_keys=keys,
        offsets=_offsets(counts),
        answer=[RADIO_ANSWERS[c] for c in rng.integers(0, len(RADIO_ANSWERS), n).tolist()],
        confidence=_rounded(rng.uniform(0.05, 1.0, n), CONF_DECIMALS),
    )


def boxes(n: int, per_image: int = 10, seed: int = 0) -> Boxes:
    """``n`` boxes with confidence, ``per_image`` per image (``n / per_image`` images)."""
    counts = _even_counts(n, per_image)
    keys = [global_key(i) for i in range(len(counts))]
    return _boxes(np.random.default_rng(seed), keys, counts)


def polygons(n: int, vertices: int = 32, per_image: int = 10, seed: int = 1) -> Polygons:
    """``n`` polygons of ``vertices`` points with confidence, ``per_image`` per image."""
    if vertices < 3:
        raise ValueError("a polygon needs at least 3 vertices")
    counts = _even_counts(n, per_image)
    keys = [global_key(i) for i in range(len(counts))]
    return _polygons(np.random.default_rng(seed), keys, counts, vertices)


def mixed(n_boxes: int, per_image: int = 10, seed: int = 2) -> Mixed:
    """``n_boxes`` boxes over ``n_boxes / per_image`` images, plus a 16-point polygon on
    every 10th image, two keypoints on every 5th and one radio classification on each.
    """
    box_counts = _even_counts(n_boxes, per_image)
    images = len(box_counts)
    keys = [global_key(i) for i in range(images)]
    rng = np.random.default_rng(seed)
    return Mixed(
        global_keys=keys,
        boxes=_boxes(rng, keys, box_counts),
        polygons=_polygons(rng, keys, [1 if i % 10 == 0 else 0 for i in range(images)], 16),
        points=_points(rng, keys, [2 if i % 5 == 0 else 0 for i in range(images)]),
        radios=_radios(rng, keys, [1] * images),
    )


# --- typed builders (lbfast.types or labelbox.types) ------------------------------


def _box_annotations(t: ModuleType, b: Boxes, lo: int, hi: int, nested: bool) -> list[Any]:
    obj, rect, pt = t.ObjectAnnotation, t.Rectangle, t.Point
    names, conf, x0, y0, x1, y1 = b.names, b.confidence, b.x0, b.y0, b.x1, b.y1
    if not nested:
        return [
            obj(
                name=names[j],
                confidence=conf[j],
                value=rect(start=pt(x=x0[j], y=y0[j]), end=pt(x=x1[j], y=y1[j])),
            )
            for j in range(lo, hi)
        ]
    ca, radio, answer = t.ClassificationAnnotation, t.Radio, t.ClassificationAnswer
    sub, sub_conf = b.sub_answer, b.sub_confidence
    return [
        obj(
            name=names[j],
            confidence=conf[j],
            value=rect(start=pt(x=x0[j], y=y0[j]), end=pt(x=x1[j], y=y1[j])),
            classifications=[
                ca(
                    name=SUB_QUESTION,
                    value=radio(answer=answer(name=sub[j], confidence=sub_conf[j])),
                )
            ],
        )
        for j in range(lo, hi)
    ]


def _polygon_annotations(t: ModuleType, p: Polygons, lo: int, hi: int) -> list[Any]:
    obj, polygon, pt = t.ObjectAnnotation, t.Polygon, t.Point
    names, conf, points = p.names, p.confidence, p.points
    return [
        obj(
            name=names[j],
            confidence=conf[j],
            value=polygon(points=[pt(x=x, y=y) for x, y in points[j]]),
        )
        for j in range(lo, hi)
    ]


def _point_annotations(t: ModuleType, p: Points, lo: int, hi: int) -> list[Any]:
    obj, pt = t.ObjectAnnotation, t.Point
    names, conf, xs, ys = p.names, p.confidence, p.x, p.y
    return [
        obj(name=names[j], confidence=conf[j], value=pt(x=xs[j], y=ys[j])) for j in range(lo, hi)
    ]


def _radio_annotations(t: ModuleType, r: Radios, lo: int, hi: int) -> list[Any]:
    ca, radio, answer = t.ClassificationAnnotation, t.Radio, t.ClassificationAnswer
    answers, conf = r.answer, r.confidence
    return [
        ca(name=RADIO_QUESTION, value=radio(answer=answer(name=answers[j], confidence=conf[j])))
        for j in range(lo, hi)
    ]


def _labels(
    t: ModuleType, keys: list[str], offsets: list[int], annotations: Callable[..., list[Any]]
) -> list[Any]:
    label = t.Label
    return [
        label(data={"global_key": key}, annotations=annotations(offsets[i], offsets[i + 1]))
        for i, key in enumerate(keys)
    ]


def box_labels(t: ModuleType, b: Boxes, nested: bool = False) -> list[Any]:
    """One ``t.Label`` per image holding its boxes; ``nested`` adds a sub radio to each."""
    return _labels(
        t, b.global_keys, b.offsets, lambda lo, hi: _box_annotations(t, b, lo, hi, nested)
    )


def polygon_labels(t: ModuleType, p: Polygons) -> list[Any]:
    return _labels(t, p.global_keys, p.offsets, lambda lo, hi: _polygon_annotations(t, p, lo, hi))


def mixed_labels(t: ModuleType, m: Mixed) -> list[Any]:
    """One Label per image: boxes, then polygons, keypoints and the radio."""
    label = t.Label
    b, pg, pt, r = m.boxes, m.polygons, m.points, m.radios
    out = []
    for i, key in enumerate(m.global_keys):
        annotations = _box_annotations(t, b, b.offsets[i], b.offsets[i + 1], False)
        annotations += _polygon_annotations(t, pg, pg.offsets[i], pg.offsets[i + 1])
        annotations += _point_annotations(t, pt, pt.offsets[i], pt.offsets[i + 1])
        annotations += _radio_annotations(t, r, r.offsets[i], r.offsets[i + 1])
        out.append(label(data={"global_key": key}, annotations=annotations))
    return out


# --- NDJSON-shaped dicts (the SDK's serialize output) -----------------------------


def _new_uuid() -> str:
    return str(uuid.uuid4())


def _box_dicts(
    b: Boxes, key: str, lo: int, hi: int, nested: bool, uuids: bool, out: list[dict[str, Any]]
) -> None:
    names, conf, x0, y0, x1, y1 = b.names, b.confidence, b.x0, b.y0, b.x1, b.y1
    sub, sub_conf = b.sub_answer, b.sub_confidence
    append = out.append
    for j in range(lo, hi):
        d: dict[str, Any] = {"confidence": conf[j]}
        if uuids:
            d["uuid"] = _new_uuid()
        d["dataRow"] = {"globalKey": key}
        d["name"] = names[j]
        d["classifications"] = (
            [{"name": SUB_QUESTION, "answer": {"confidence": sub_conf[j], "name": sub[j]}}]
            if nested
            else []
        )
        # As the SDK writes a Rectangle: top/left are the smaller corner, sizes absolute.
        d["bbox"] = {
            "top": min(y0[j], y1[j]),
            "left": min(x0[j], x1[j]),
            "height": abs(y1[j] - y0[j]),
            "width": abs(x1[j] - x0[j]),
        }
        append(d)


def _polygon_dicts(
    p: Polygons, key: str, lo: int, hi: int, uuids: bool, out: list[dict[str, Any]]
) -> None:
    names, conf, points = p.names, p.confidence, p.points
    append = out.append
    for j in range(lo, hi):
        d: dict[str, Any] = {"confidence": conf[j]}
        if uuids:
            d["uuid"] = _new_uuid()
        d["dataRow"] = {"globalKey": key}
        d["name"] = names[j]
        d["classifications"] = []
        ring = [{"x": x, "y": y} for x, y in points[j]]
        if ring[0] != ring[-1]:
            ring.append(dict(ring[0]))  # the SDK writes polygons closed
        d["polygon"] = ring
        append(d)


def _point_dicts(
    p: Points, key: str, lo: int, hi: int, uuids: bool, out: list[dict[str, Any]]
) -> None:
    names, conf, xs, ys = p.names, p.confidence, p.x, p.y
    append = out.append
    for j in range(lo, hi):
        d: dict[str, Any] = {"confidence": conf[j]}
        if uuids:
            d["uuid"] = _new_uuid()
        d["dataRow"] = {"globalKey": key}
        d["name"] = names[j]
        d["classifications"] = []
        d["point"] = {"x": xs[j], "y": ys[j]}
        append(d)


def _radio_dicts(
    r: Radios, key: str, lo: int, hi: int, uuids: bool, out: list[dict[str, Any]]
) -> None:
    answers, conf = r.answer, r.confidence
    append = out.append
    for j in range(lo, hi):
        # A global classification: the SDK writes name and answer before uuid/dataRow.
        d: dict[str, Any] = {
            "name": RADIO_QUESTION,
            "answer": {"confidence": conf[j], "name": answers[j]},
        }
        if uuids:
            d["uuid"] = _new_uuid()
        d["dataRow"] = {"globalKey": key}
        append(d)


def box_dicts(b: Boxes, nested: bool = False, uuids: bool = True) -> list[dict[str, Any]]:
    """One dict per box, as the SDK serializes ``box_labels``; ``uuids=False`` leaves the
    ``uuid`` key out (lbfast then generates one per line)."""
    out: list[dict[str, Any]] = []
    offsets = b.offsets
    for i, key in enumerate(b.global_keys):
        _box_dicts(b, key, offsets[i], offsets[i + 1], nested, uuids, out)
    return out


def polygon_dicts(p: Polygons, uuids: bool = True) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offsets = p.offsets
    for i, key in enumerate(p.global_keys):
        _polygon_dicts(p, key, offsets[i], offsets[i + 1], uuids, out)
    return out


def mixed_dicts(m: Mixed, uuids: bool = True) -> list[dict[str, Any]]:
    """The dicts of ``mixed_labels``, in the same order."""
    out: list[dict[str, Any]] = []
    b, pg, pt, r = m.boxes, m.polygons, m.points, m.radios
    for i, key in enumerate(m.global_keys):
        _box_dicts(b, key, b.offsets[i], b.offsets[i + 1], False, uuids, out)
        _polygon_dicts(pg, key, pg.offsets[i], pg.offsets[i + 1], uuids, out)
        _point_dicts(pt, key, pt.offsets[i], pt.offsets[i + 1], uuids, out)
        _radio_dicts(r, key, r.offsets[i], r.offsets[i + 1], uuids, out)
    return out


# --- checking outputs -------------------------------------------------------------


def without_uuids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``rows`` without their top-level ``uuid`` (random in every path)."""
    return [{k: v for k, v in row.items() if k != "uuid"} for row in rows]


def first_difference(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> Optional[str]:
    """``None`` when the rows are equal ignoring ``uuid`` and key order, else a description."""
    if len(got) != len(expected):
        return f"{len(got)} rows, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(without_uuids(got), without_uuids(expected))):
        if g != e:
            return f"row {i} differs:\n  got      {g}\n  expected {e}"
    return None
