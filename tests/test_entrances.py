"""Every entrance, one way out: the same predictions given as typed Labels, NDJSON-shaped
dicts, columnar batches and mask stacks write the same bytes and report the same problems.

Hypothesis draws predictions as a plain spec (:class:`Batch`, one per columnar batch,
holding the arrays as the batch gets them). Each entrance's input is built from the spec
below, explicitly, with the ids the columnar batch derives (``ids="deterministic"``), and
with one annotation per Label and one dict per prediction, so that row ``i`` is prediction
``i`` in every entrance and the NDJSON can be compared byte for byte. Mask stacks make
random ids (they take no ``ids=``), so their lines are compared with the ids blanked.

Bad values are put into a valid spec at chosen places (:class:`Place`); the path each
entrance must report for a place is written out once, per entrance, in ``PATHS``.
The entrances agree on every case here; a disagreement found later belongs here as a
strict xfail with a minimal reproduction until the core is fixed.
"""

from __future__ import annotations

import base64
import io
import math
import os
import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sdk_oracle import make_png

import lbfast
import lbfast.types as lb
from lbfast.columnar import (
    LBFAST_NAMESPACE,
    Boxes,
    GlobalClassifications,
    Points,
    Polygons,
    Polylines,
    RadioSubclass,
)
from lbfast.masks import InstanceMasks

# Derandomized (a fixed seed per test) so the suite is deterministic; to search harder,
# LBFAST_PROPERTY_EXAMPLES=2000 runs that many examples from a random seed.
_EXAMPLES = os.environ.get("LBFAST_PROPERTY_EXAMPLES")
SETTINGS = settings(
    max_examples=int(_EXAMPLES) if _EXAMPLES else 100,
    deadline=None,
    derandomize=not _EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

OBJECT_KINDS = ("bbox", "point", "line", "polygon")
CLASSIFICATION_KINDS = ("radio", "checklist", "text")

# --- the spec ------------------------------------------------------------------------


@dataclass
class Subclass:
    """A radio nested in every object of a batch (``RadioSubclass``)."""

    question: str
    answers: list[str]
    answer_ids: np.ndarray
    confidence: Optional[np.ndarray]
    by_schema: bool


@dataclass
class Batch:
    """One columnar batch's predictions. ``features`` holds the question for
    classifications; ``confidence`` of a checklist has one entry per chosen answer."""

    kind: str
    data_rows: list[str]
    by_id: bool
    features: list[str]
    by_schema: bool
    image_index: np.ndarray
    class_ids: np.ndarray
    confidence: Optional[np.ndarray] = None
    # Leave image_index / class_ids out of the batch (their defaults mean the same).
    default_image_index: bool = False
    default_class_ids: bool = False
    # bbox: (N, 4) in box_format; point: (N, 2); line, polygon: coords (M, 2) + offsets.
    geometry: Optional[np.ndarray] = None
    offsets: Optional[np.ndarray] = None
    box_format: str = "xyxy"
    normalized: bool = False
    image_sizes: Optional[np.ndarray] = None
    subclass: Optional[Subclass] = None
    # radio: answer_ids (N,); checklist: answer_ids ragged by offsets; text: texts.
    answers: list[str] = field(default_factory=list)
    answer_ids: Optional[np.ndarray] = None
    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.image_index)

    def ragged(self, i: int) -> range:
        assert self.offsets is not None
        return range(int(self.offsets[i]), int(self.offsets[i + 1]))


def minimal(kind: str, n: int, **fields: Any) -> Batch:
    """A batch of ``n`` predictions of feature ``"thing"`` (question ``"q"``) on the data
    row ``"img"``, for minimal reproductions."""
    feature = "q" if kind in CLASSIFICATION_KINDS else "thing"
    zeros = np.zeros(n, np.int64)
    return Batch(kind, ["img"], False, [feature], False, zeros, zeros.copy(), **fields)


# --- strategies ----------------------------------------------------------------------

SPECIAL = ['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028", "😀", "é", "日", "/"]
texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.text(alphabet=st.sampled_from([*SPECIAL, "a", " "]), max_size=8),
)
non_empty_texts = texts.filter(bool)
# 25 characters (counted as characters, not bytes), non-ASCII included.
schema_ids = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789é日"), min_size=25, max_size=25
)
confidences = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from([0.0, 1.0, 5e-324, 0.1, 1 / 3]),
)
# Small enough that no corner (x + w, cx + w / 2, scaled) overflows.
coordinates = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([0.0, -0.0, 5e-324, 0.1, 1 / 3, 2.5e-308]),
    st.integers(min_value=-(10**6), max_value=10**6).map(float),
)
extents = st.one_of(st.floats(min_value=0.0, max_value=1e6), st.sampled_from([0.0, 0.5, 1 / 3]))
fractions = st.floats(min_value=0.0, max_value=1.5)
DTYPES = ("float64", "float32", "int32", "int64", "uint32")


@st.composite
def names(draw, by_schema: bool, min_size: int = 1, max_size: int = 3) -> list[str]:
    return draw(st.lists(schema_ids if by_schema else texts, min_size=min_size, max_size=max_size))


@st.composite
def subclasses(draw, n: int) -> Subclass:
    by_schema = draw(st.booleans())
    answers = draw(names(by_schema))
    answer_ids = np.array(
        draw(st.lists(st.integers(0, len(answers) - 1), min_size=n, max_size=n)), np.int64
    )
    confidence = draw(st.none() | st.just(True))
    if confidence:
        confidence = np.array(draw(st.lists(confidences, min_size=n, max_size=n)), np.float64)
    question = draw(schema_ids if by_schema else texts)
    return Subclass(question, answers, answer_ids, confidence, by_schema)


def _array(values: list, dtype: str, width: int) -> np.ndarray:
    """``values`` as the batch gets them: cast to ``dtype`` (ints of floats truncate)."""
    arr = np.asarray(values, np.float64).reshape(-1, width)
    if dtype.startswith("u"):
        arr = np.abs(arr)
    return arr.astype(dtype)


@st.composite
def geometry(draw, batch: Batch, pixel_only: bool, box_format: Optional[str]) -> Batch:
    n = len(batch)
    dtype = "float64" if pixel_only else draw(st.sampled_from(DTYPES))
    if batch.kind == "bbox":
        box_format = box_format or draw(st.sampled_from(("xyxy", "xywh", "cxcywh")))
        normalized = not pixel_only and draw(st.booleans())
        if normalized:
            dtype = draw(st.sampled_from(("float64", "float32")))
            row = st.tuples(fractions, fractions, fractions, fractions)
            sizes = draw(
                st.lists(
                    st.tuples(st.integers(1, 5000), st.integers(1, 5000)),
                    min_size=len(batch.data_rows),
                    max_size=len(batch.data_rows),
                )
            )
            image_sizes = np.array(sizes, draw(st.sampled_from(("int64", "float64"))))
        else:
            size = extents if box_format != "xyxy" else coordinates
            row = st.tuples(coordinates, coordinates, size, size)
            image_sizes = None
        values = draw(st.lists(row, min_size=n, max_size=n))
        return replace(
            batch,
            geometry=_array(values, dtype, 4),
            box_format=box_format,
            normalized=normalized,
            image_sizes=image_sizes,
        )
    point = st.tuples(coordinates, coordinates)
    if batch.kind == "point":
        return replace(
            batch, geometry=_array(draw(st.lists(point, min_size=n, max_size=n)), dtype, 2)
        )
    least = 2 if batch.kind == "line" else 3
    rings = []
    for _ in range(n):
        ring = draw(st.lists(point, min_size=least, max_size=least + 3))
        if batch.kind == "polygon" and draw(st.booleans()):
            ring.append(ring[0])  # given closed
        rings.append(ring)
    offsets = np.cumsum([0, *map(len, rings)]).astype(draw(st.sampled_from(("int64", "int32"))))
    coords = _array([p for ring in rings for p in ring], dtype, 2)
    return replace(batch, geometry=coords, offsets=offsets)


@st.composite
def batches(
    draw, kinds=OBJECT_KINDS + CLASSIFICATION_KINDS, pixel_only=False, box_format=None, min_size=0
) -> Batch:
    kind = draw(st.sampled_from(kinds))
    n = draw(st.integers(min_size, 5))
    by_id, by_schema = draw(st.booleans()), draw(st.booleans())
    data_rows = draw(
        st.lists(
            schema_ids if by_id and draw(st.booleans()) else non_empty_texts, min_size=1, max_size=3
        )
    )
    objects = kind in OBJECT_KINDS
    features = draw(names(by_schema, max_size=3 if objects else 1))
    image_index = np.array(
        draw(st.lists(st.integers(0, len(data_rows) - 1), min_size=n, max_size=n)),
        draw(st.sampled_from(("int64", "int32", "uint8"))),
    )
    class_ids = np.array(
        draw(st.lists(st.integers(0, len(features) - 1), min_size=n, max_size=n)), np.int64
    )
    batch = Batch(
        kind,
        data_rows,
        by_id,
        features,
        by_schema,
        image_index,
        class_ids,
        default_class_ids=objects and len(features) == 1 and draw(st.booleans()),
    )
    if n and not draw(st.integers(0, 3)):
        # One data row per prediction, in order: image_index may be left out.
        batch.data_rows = draw(st.lists(non_empty_texts, min_size=n, max_size=n))
        batch.image_index = np.arange(n)
        batch.default_image_index = True
    with_confidence = draw(st.booleans())
    if kind == "checklist":
        batch.answers = draw(names(by_schema))
        chosen = [
            draw(st.lists(st.integers(0, len(batch.answers) - 1), max_size=3)) for _ in range(n)
        ]
        batch.answer_ids = np.array([a for c in chosen for a in c], np.int64)
        batch.offsets = np.cumsum([0, *map(len, chosen)]).astype(np.int64)
        entries = len(batch.answer_ids)
    else:
        entries = n
    if with_confidence:
        batch.confidence = np.array(
            draw(st.lists(confidences, min_size=entries, max_size=entries)),
            draw(st.sampled_from(("float64", "float32"))),
        )
    if kind == "radio":
        batch.answers = draw(names(by_schema))
        batch.answer_ids = np.array(
            draw(st.lists(st.integers(0, len(batch.answers) - 1), min_size=n, max_size=n)), np.int64
        )
    elif kind == "text":
        batch.texts = draw(st.lists(texts, min_size=n, max_size=n))
    elif objects:
        batch = draw(geometry(batch, pixel_only, box_format))
        if draw(st.booleans()):
            batch.subclass = draw(subclasses(n))
    return batch


# --- the columnar entrance -------------------------------------------------------------


def columnar(batch: Batch) -> Any:
    common: dict[str, Any] = {
        "data_rows": batch.data_rows,
        "image_index": None if batch.default_image_index else batch.image_index,
        "confidence": batch.confidence,
        "data_row_kind": "id" if batch.by_id else "global_key",
        "feature_kind": "schema_id" if batch.by_schema else "name",
        "ids": "deterministic",
    }
    if batch.kind in CLASSIFICATION_KINDS:
        return GlobalClassifications(
            batch.kind,
            batch.features[0],
            answers=batch.answers if batch.kind != "text" else None,
            answer_ids=batch.answer_ids,
            offsets=batch.offsets if batch.kind == "checklist" else None,
            texts=batch.texts if batch.kind == "text" else None,
            **common,
        )
    sub = batch.subclass
    common.update(
        features=batch.features,
        class_ids=None if batch.default_class_ids else batch.class_ids,
        subclass=None
        if sub is None
        else RadioSubclass(
            sub.question,
            sub.answers,
            sub.answer_ids,
            sub.confidence,
            kind="schema_id" if sub.by_schema else "name",
        ),
    )
    if batch.kind == "bbox":
        return Boxes(
            batch.geometry,
            box_format=batch.box_format,
            normalized=batch.normalized,
            image_sizes=batch.image_sizes,
            **common,
        )
    if batch.kind == "point":
        return Points(batch.geometry, **common)
    ragged = Polylines if batch.kind == "line" else Polygons
    return ragged(batch.geometry, batch.offsets, **common)


# --- what prediction i means, in plain numbers --------------------------------------------


def annotation_id(batch: Batch, i: int) -> str:
    """The columnar batch's deterministic id of prediction ``i``: uuid5 of the name that
    ``Columns::uuid_name`` (rust/core/src/columnar/mod.rs) documents."""
    feature = batch.features[int(batch.class_ids[i])]
    name = "\0".join(
        [
            batch.kind,
            "id" if batch.by_id else "globalKey",
            batch.data_rows[int(batch.image_index[i])],
            "schemaId" if batch.by_schema else "name",
            feature,
            str(i),
        ]
    )
    return str(uuid.uuid5(LBFAST_NAMESPACE, name))


def corners(batch: Batch, i: int) -> tuple[float, float, float, float]:
    """Box ``i`` as ``(x1, y1, x2, y2)`` in pixels, computed as ``Boxes`` documents."""
    assert batch.geometry is not None
    a, b, c, d = (float(v) for v in batch.geometry[i])
    if batch.normalized:
        assert batch.image_sizes is not None
        w, h = (float(v) for v in batch.image_sizes[int(batch.image_index[i])])
        a, b, c, d = a * w, b * h, c * w, d * h
    if batch.box_format == "xyxy":
        return a, b, c, d
    if batch.box_format == "xywh":
        return a, b, a + c, b + d
    return a - c / 2, b - d / 2, a + c / 2, b + d / 2


def vertices(batch: Batch, i: int) -> list[tuple[float, float]]:
    assert batch.geometry is not None
    if batch.kind == "point":
        return [(float(batch.geometry[i][0]), float(batch.geometry[i][1]))]
    return [(float(batch.geometry[j][0]), float(batch.geometry[j][1])) for j in batch.ragged(i)]


def confidence_of(batch: Batch, entry: int) -> Optional[float]:
    return None if batch.confidence is None else float(batch.confidence[entry])


def chosen(batch: Batch, i: int) -> list[tuple[str, Optional[float]]]:
    """The answers of classification ``i`` with their confidences."""
    assert batch.answer_ids is not None
    entries = batch.ragged(i) if batch.kind == "checklist" else [i]
    return [(batch.answers[int(batch.answer_ids[j])], confidence_of(batch, j)) for j in entries]


# --- the typed entrance ------------------------------------------------------------------


def typed_feature(value: str, by_schema: bool) -> dict[str, str]:
    return {"feature_schema_id": value} if by_schema else {"name": value}


def typed_answer(
    value: str, by_schema: bool, confidence: Optional[float]
) -> lb.ClassificationAnswer:
    return lb.ClassificationAnswer(confidence=confidence, **typed_feature(value, by_schema))


def typed_geometry(batch: Batch, i: int) -> Any:
    if batch.kind == "bbox":
        x1, y1, x2, y2 = corners(batch, i)
        return lb.Rectangle(start=lb.Point(x=x1, y=y1), end=lb.Point(x=x2, y=y2))
    points = [lb.Point(x=x, y=y) for x, y in vertices(batch, i)]
    if batch.kind == "point":
        return points[0]
    return lb.Line(points=points) if batch.kind == "line" else lb.Polygon(points=points)


def typed_annotation(batch: Batch, i: int) -> Any:
    extra = {"uuid": annotation_id(batch, i)}
    feature = typed_feature(batch.features[int(batch.class_ids[i])], batch.by_schema)
    if batch.kind == "text":
        value = lb.Text(answer=batch.texts[i], confidence=confidence_of(batch, i))
        return lb.ClassificationAnnotation(value=value, extra=extra, **feature)
    if batch.kind in CLASSIFICATION_KINDS:
        answers = [typed_answer(a, batch.by_schema, c) for a, c in chosen(batch, i)]
        value = (
            lb.Radio(answer=answers[0]) if batch.kind == "radio" else lb.Checklist(answer=answers)
        )
        return lb.ClassificationAnnotation(value=value, extra=extra, **feature)
    nested = None
    if (sub := batch.subclass) is not None:
        answer = sub.answers[int(sub.answer_ids[i])]
        radio = lb.Radio(answer=typed_answer(answer, sub.by_schema, sub_confidence(sub, i)))
        nested = [
            lb.ClassificationAnnotation(value=radio, **typed_feature(sub.question, sub.by_schema))
        ]
    return lb.ObjectAnnotation(
        value=typed_geometry(batch, i),
        confidence=confidence_of(batch, i),
        classifications=nested,
        extra=extra,
        **feature,
    )


def sub_confidence(sub: Subclass, i: int) -> Optional[float]:
    return None if sub.confidence is None else float(sub.confidence[i])


def typed_labels(batch: Batch) -> list[lb.Label]:
    def data(i: int) -> dict[str, str]:
        key = batch.data_rows[int(batch.image_index[i])]
        return {"uid": key} if batch.by_id else {"global_key": key}

    return [
        lb.Label(data=data(i), annotations=[typed_annotation(batch, i)]) for i in range(len(batch))
    ]


# --- the dict entrance ---------------------------------------------------------------------


def dict_feature(value: str, by_schema: bool) -> dict[str, str]:
    return {"schemaId": value} if by_schema else {"name": value}


def dict_answer(value: str, by_schema: bool, confidence: Optional[float]) -> dict[str, Any]:
    answer = dict_feature(value, by_schema)
    if confidence is not None:
        answer["confidence"] = confidence
    return answer


def dict_bbox(batch: Batch, i: int) -> dict[str, float]:
    """The NDJSON box of corners, as the format defines it (rust/core `ndjson::bbox_of`)."""
    x1, y1, x2, y2 = corners(batch, i)
    return {"top": min(y1, y2), "left": min(x1, x2), "height": abs(y2 - y1), "width": abs(x2 - x1)}


def dict_geometry(batch: Batch, i: int) -> dict[str, Any]:
    if batch.kind == "bbox":
        return {"bbox": dict_bbox(batch, i)}
    points = [{"x": x, "y": y} for x, y in vertices(batch, i)]
    return {batch.kind: points[0] if batch.kind == "point" else points}


def prediction_dict(batch: Batch, i: int) -> dict[str, Any]:
    key = batch.data_rows[int(batch.image_index[i])]
    row: dict[str, Any] = {
        "uuid": annotation_id(batch, i),
        "dataRow": {"id": key} if batch.by_id else {"globalKey": key},
        **dict_feature(batch.features[int(batch.class_ids[i])], batch.by_schema),
    }
    if batch.kind == "text":
        row["answer"] = batch.texts[i]
        if (c := confidence_of(batch, i)) is not None:
            row["confidence"] = c
        return row
    if batch.kind in CLASSIFICATION_KINDS:
        answers = [dict_answer(a, batch.by_schema, c) for a, c in chosen(batch, i)]
        row["answer"] = answers[0] if batch.kind == "radio" else answers
        return row
    if (c := confidence_of(batch, i)) is not None:
        row["confidence"] = c
    if (sub := batch.subclass) is not None:
        answer = sub.answers[int(sub.answer_ids[i])]
        row["classifications"] = [
            {
                **dict_feature(sub.question, sub.by_schema),
                "answer": dict_answer(answer, sub.by_schema, sub_confidence(sub, i)),
            }
        ]
    row.update(dict_geometry(batch, i))
    return row


def prediction_dicts(batch: Batch) -> list[dict[str, Any]]:
    return [prediction_dict(batch, i) for i in range(len(batch))]


# --- same bytes ----------------------------------------------------------------------------


def has_fewer_answers_than_predictions(batch: Batch) -> bool:
    """A checklist batch with confidences and fewer chosen answers than predictions (its
    columnar writing once indexed the per-answer confidences by prediction)."""
    if batch.kind != "checklist" or batch.confidence is None:
        return False
    return len(batch.confidence) < len(batch)  # one confidence per chosen answer


@SETTINGS
@given(st.lists(batches(), min_size=1, max_size=3))
def test_typed_dicts_and_columns_write_the_same_bytes(specs):
    from_columns = lbfast.dumps([columnar(b) for b in specs])
    assert lbfast.dumps([label for b in specs for label in typed_labels(b)]) == from_columns
    assert lbfast.dumps([row for b in specs for row in prediction_dicts(b)]) == from_columns
    assert from_columns.count(b"\n") == sum(map(len, specs))


def test_a_checklist_batch_with_fewer_answers_than_predictions_is_written():
    # Minimal reproduction: one prediction with no answer, confidence=[] (one per answer).
    batch = minimal(
        "checklist",
        1,
        confidence=np.array([]),
        answers=["a"],
        answer_ids=np.array([], np.int64),
        offsets=np.array([0, 0]),
    )
    assert has_fewer_answers_than_predictions(batch)
    expected = lbfast.dumps(typed_labels(batch))
    assert expected == b'{"name":"q","answer":[],"uuid":"%s","dataRow":{"globalKey":"img"}}\n' % (
        annotation_id(batch, 0).encode()
    )
    assert lbfast.dumps([columnar(batch)]) == expected


# --- mask stacks ---------------------------------------------------------------------------


@dataclass
class Stack:
    masks: np.ndarray  # (N, H, W) of 0/1, every instance non-empty
    data_rows: list[str]
    by_id: bool
    features: list[str]
    image_index: np.ndarray
    class_ids: np.ndarray
    confidence: Optional[np.ndarray]
    with_boxes: bool


@st.composite
def stacks(draw) -> Stack:
    h, w, n = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
    masks = np.array(
        draw(st.lists(st.booleans(), min_size=n * h * w, max_size=n * h * w)), np.uint8
    )
    masks = masks.reshape(n, h, w)
    for m in masks:  # an empty instance is an error; give each one pixel at least
        m[draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))] = 1
    data_rows = draw(st.lists(non_empty_texts, min_size=1, max_size=2))
    features = draw(st.lists(texts, min_size=1, max_size=2))
    conf = draw(st.none() | st.lists(confidences, min_size=n, max_size=n))
    return Stack(
        masks=masks,
        data_rows=data_rows,
        by_id=draw(st.booleans()),
        features=features,
        image_index=np.array(
            draw(st.lists(st.integers(0, len(data_rows) - 1), min_size=n, max_size=n))
        ),
        class_ids=np.array(
            draw(st.lists(st.integers(0, len(features) - 1), min_size=n, max_size=n))
        ),
        confidence=None if conf is None else np.array(conf),
        with_boxes=draw(st.booleans()),
    )


def instance_masks(s: Stack) -> InstanceMasks:
    return InstanceMasks(
        s.masks,
        data_rows=s.data_rows,
        image_index=s.image_index,
        class_ids=s.class_ids,
        features=s.features,
        confidence=s.confidence,
        with_boxes=s.with_boxes,
        data_row_kind="id" if s.by_id else "global_key",
    )


def pixel_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the pixels a mask covers, exclusive ends (COCO's box)."""
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def typed_mask_labels(s: Stack, pixels: str) -> list[lb.Label]:
    """One Label per instance: its mask (from the array, or from PNG bytes), and its box."""
    labels = []
    for i, mask in enumerate(s.masks):
        if pixels == "array":
            value = lb.Mask(mask=lb.MaskData(arr=mask), color=1)
        else:
            value = lb.Mask(mask=lb.MaskData(im_bytes=make_png(mask * 255)), color=255)
        name = s.features[int(s.class_ids[i])]
        conf = None if s.confidence is None else float(s.confidence[i])
        anns = [lb.ObjectAnnotation(name=name, confidence=conf, value=value)]
        if s.with_boxes:
            x0, y0, x1, y1 = pixel_box(mask)
            rect = lb.Rectangle(start=lb.Point(x=x0, y=y0), end=lb.Point(x=x1, y=y1))
            anns.append(lb.ObjectAnnotation(name=name, confidence=conf, value=rect))
        key = s.data_rows[int(s.image_index[i])]
        labels.append(
            lb.Label(data={"uid": key} if s.by_id else {"global_key": key}, annotations=anns)
        )
    return labels


def mask_dicts(s: Stack) -> list[dict[str, Any]]:
    """The dicts of the stack's lines; their PNGs come from another encoder (PIL)."""
    rows = []
    for i, mask in enumerate(s.masks):
        key = s.data_rows[int(s.image_index[i])]
        common: dict[str, Any] = {
            "dataRow": {"id": key} if s.by_id else {"globalKey": key},
            "name": s.features[int(s.class_ids[i])],
        }
        if s.confidence is not None:
            common["confidence"] = float(s.confidence[i])
        rows.append({**common, "mask": {"png": base64.b64encode(make_png(mask)).decode()}})
        if s.with_boxes:
            x0, y0, x1, y1 = pixel_box(mask)
            rows.append(
                {**common, "bbox": {"top": y0, "left": x0, "height": y1 - y0, "width": x1 - x0}}
            )
    return rows


UUID = re.compile(rb'"uuid":"[0-9a-f-]{36}"')
PNG = re.compile(rb'"png":"([A-Za-z0-9+/=]*)"')


def without_ids(ndjson: bytes) -> bytes:
    return UUID.sub(b'"uuid":"-"', ndjson)


def without_pngs(ndjson: bytes) -> tuple[bytes, list[np.ndarray]]:
    """The lines with each PNG blanked, and the PNGs' pixels."""
    pixels = [np.asarray(Image.open(io.BytesIO(base64.b64decode(m)))) for m in PNG.findall(ndjson)]
    return PNG.sub(b'"png":"-"', ndjson), pixels


@SETTINGS
@given(stacks())
def test_mask_stacks_write_what_typed_and_dict_masks_write(s):
    from_stack = without_ids(lbfast.dumps([instance_masks(s)]))
    assert without_ids(lbfast.dumps(typed_mask_labels(s, "array"))) == from_stack
    assert without_ids(lbfast.dumps(typed_mask_labels(s, "png"))) == from_stack
    # A dict's PNG is written as given (only checked), so its pixels are compared.
    from_dicts, dict_pixels = without_pngs(without_ids(lbfast.dumps(mask_dicts(s))))
    stack_lines, stack_pixels = without_pngs(from_stack)
    assert from_dicts == stack_lines
    assert len(dict_pixels) == len(stack_pixels) == len(s.masks)
    for got, expected in zip(dict_pixels, stack_pixels):
        np.testing.assert_array_equal(got, expected)


# --- same problems -------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a bad value sits, independent of entrance: ``what`` names the value, ``i``
    the prediction, ``k`` the box number, axis, vertex or checklist entry, ``flat`` the
    index in the batch's flat array (coordinates, checklist confidences)."""

    what: str
    i: int
    k: int = 0
    axis: int = 0
    flat: int = 0
    end: int = 0


XY = ("x", "y")
CORNER_KEYS = ("start.x", "start.y", "end.x", "end.y")  # the numbers of xyxy
TLHW_OF_XYWH = ("left", "top", "width", "height")  # the numbers of xywh / cxcywh


def typed_path(p: Place, kind: str) -> str:
    if p.what == "data_row":
        return "data"  # the Label's
    return (
        "annotations[0]."
        + {
            "box_value": lambda: f"value.{CORNER_KEYS[p.k]}",
            "box": lambda: "value",
            "point": lambda: f"value.{XY[p.axis]}",
            "vertex": lambda: f"value.points[{p.k}].{XY[p.axis]}",
            "vertices": lambda: "value.points",
            "confidence": lambda: "value.confidence" if kind == "text" else "confidence",
            "answer_confidence": lambda: (
                "value.answer.confidence" if kind == "radio" else f"value.answer[{p.k}].confidence"
            ),
            "sub_confidence": lambda: "classifications[0].value.answer.confidence",
            "schema_id": lambda: "feature_schema_id",
        }[p.what]()
    )


def dict_path(p: Place, kind: str) -> str:
    return {
        "box_value": lambda: f"bbox.{TLHW_OF_XYWH[p.k]}",
        "point": lambda: f"point.{XY[p.axis]}",
        "vertex": lambda: f"{kind}[{p.k}].{XY[p.axis]}",
        "vertices": lambda: kind,
        "confidence": lambda: "confidence",
        "answer_confidence": lambda: (
            "answer.confidence" if kind == "radio" else f"answer[{p.k}].confidence"
        ),
        "sub_confidence": lambda: "classifications[0].answer.confidence",
        "schema_id": lambda: "schemaId",
        "data_row": lambda: "dataRow",
    }[p.what]()


def columnar_path(p: Place, kind: str) -> str:
    return {
        "box_value": lambda: f"boxes[{p.i}][{p.k}]",
        "box": lambda: f"boxes[{p.i}]",
        "point": lambda: f"points[{p.i}][{p.axis}]",
        "vertex": lambda: f"coords[{p.flat}][{p.axis}]",
        "vertices": lambda: f"coords[{p.flat}:{p.end}]",
        "confidence": lambda: f"confidence[{p.i}]",
        "answer_confidence": lambda: f"confidence[{p.flat}]",
        "sub_confidence": lambda: f"subclass.confidence[{p.i}]",
        "schema_id": lambda: f"features[{p.k}]",
        "data_row": lambda: f"data_rows[{p.k}]",
    }[p.what]()


#: The path of a place in each entrance's terms (`kind` is the batch's).
PATHS: dict[str, Callable[[Place, str], str]] = {
    "typed": typed_path,
    "dicts": dict_path,
    "columns": columnar_path,
}
ENTRANCES: dict[str, Callable[[Batch], list]] = {
    "typed": typed_labels,
    "dicts": prediction_dicts,
    "columns": lambda b: [columnar(b)],
}
#: The kind of problem each bad value must give.
KINDS = {
    "nan": "not_finite",
    "inf": "not_finite",
    "confidence": "confidence",
    "negative": "negative_extent",
    "overflow": "box_overflow",
    "too_few": "too_few_points",
    "schema_id": "schema_id",
    "data_row": "data_row",
}


def problems(items: list) -> list[tuple[int, str, str, str]]:
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.dumps(items)
    return sorted((e["row"], e["kind"], e["path"], e["message"]) for e in caught.value.errors())


def assert_same_problems(
    batch: Batch,
    places: list[tuple[Place, str]],
    entrances: tuple[str, ...],
    **inputs: Callable[[Batch], list],
):
    """Every entrance reports one problem per bad value: the same row, kind and message,
    at the path that names the value in its own terms. ``inputs`` replaces how an
    entrance's input is built from the spec (``ENTRANCES``)."""
    build = {**ENTRANCES, **inputs}
    found = {name: problems(build[name](batch)) for name in entrances}
    for name, got in found.items():
        expected = sorted((p.i, KINDS[bad], PATHS[name](p, batch.kind)) for p, bad in places)
        assert [(row, kind, path) for row, kind, path, _ in got] == expected, name
    first, *others = entrances
    for name in others:
        assert [(r, k, m) for r, k, _, m in found[name]] == [
            (r, k, m) for r, k, _, m in found[first]
        ], name


BAD_COORDINATES = st.sampled_from([("nan", math.nan), ("inf", math.inf), ("inf", -math.inf)])
BAD_CONFIDENCES = st.sampled_from([math.nan, -0.1, 1.0000001, 2.0, math.inf, -5e-324])


@st.composite
def spoiled_geometry(draw, batch: Batch) -> tuple[Batch, list[tuple[Place, str]]]:
    """``batch`` (points, lines or polygons, float64) with bad values in 1 to 3 of its
    predictions: a non-finite coordinate, too few points, or a bad confidence."""
    chosen = draw(st.lists(st.integers(0, len(batch) - 1), min_size=1, max_size=3, unique=True))
    assert batch.geometry is not None
    coords = [
        list(map(tuple, batch.geometry[batch.ragged(i)]))
        if batch.kind != "point"
        else [tuple(batch.geometry[i])]
        for i in range(len(batch))
    ]
    spoils: dict[int, tuple[str, Any]] = {}
    for i in chosen:
        options = ["coordinate", "confidence"] + (["too_few"] if batch.kind != "point" else [])
        how = draw(st.sampled_from(options))
        if how == "coordinate":
            bad, value = draw(BAD_COORDINATES)
            k, axis = draw(st.integers(0, len(coords[i]) - 1)), draw(st.integers(0, 1))
            point = list(coords[i][k])
            point[axis] = value
            coords[i][k] = tuple(point)
            spoils[i] = (bad, (k, axis))
        elif how == "too_few":
            coords[i] = coords[i][: draw(st.integers(0, (2 if batch.kind == "line" else 3) - 1))]
            spoils[i] = ("too_few", None)
        else:
            spoils[i] = ("confidence", None)
    confidence = batch.confidence
    if any(bad == "confidence" for bad, _ in spoils.values()):
        confidence = (
            np.full(len(batch), 0.5) if confidence is None else confidence.astype(np.float64)
        )
        for i, (bad, _) in spoils.items():
            if bad == "confidence":
                confidence[i] = draw(BAD_CONFIDENCES)
    flat = np.array([p for ring in coords for p in ring], np.float64).reshape(-1, 2)
    offsets = np.cumsum([0, *map(len, coords)])
    spoiled = replace(
        batch,
        geometry=flat,
        confidence=confidence,
        offsets=None if batch.kind == "point" else offsets,
    )
    places = []
    for i, (bad, where) in spoils.items():
        start = int(offsets[i])
        if bad == "confidence":
            places.append((Place("confidence", i), bad))
        elif bad == "too_few":
            places.append((Place("vertices", i, flat=start, end=int(offsets[i + 1])), bad))
        elif batch.kind == "point":
            places.append((Place("point", i, axis=where[1]), bad))
        else:
            places.append(
                (Place("vertex", i, k=where[0], axis=where[1], flat=start + where[0]), bad)
            )
    return spoiled, places


@SETTINGS
@given(st.data())
def test_bad_points_lines_and_polygons_are_the_same_problems_everywhere(data):
    batch = data.draw(batches(kinds=("point", "line", "polygon"), pixel_only=True, min_size=1))
    spoiled, places = data.draw(spoiled_geometry(batch))
    assert_same_problems(spoiled, places, ("typed", "dicts", "columns"))


@st.composite
def spoiled_boxes(
    draw, batch: Batch, bad_kinds: tuple[str, ...]
) -> tuple[Batch, list[tuple[Place, str]]]:
    """Pixel boxes with one bad value in each of 1 to 3 predictions."""
    assert batch.geometry is not None
    boxes = batch.geometry.astype(np.float64)
    places = []
    for i in draw(st.lists(st.integers(0, len(batch) - 1), min_size=1, max_size=3, unique=True)):
        bad = draw(st.sampled_from(bad_kinds))
        if bad == "nan":
            bad, value = draw(BAD_COORDINATES)
            k = draw(st.integers(0, 3))
            boxes[i, k] = value
            places.append((Place("box_value", i, k=k), bad))
            if value < 0 and batch.box_format != "xyxy" and k >= 2:
                places.append((Place("box_value", i, k=k), "negative"))  # -inf: both
        elif bad == "negative":
            k = draw(st.integers(2, 3))
            boxes[i, k] = -draw(st.floats(min_value=5e-324, max_value=1e6))
            places.append((Place("box_value", i, k=k), bad))
        else:  # corners so far apart that the width (or height) overflows
            axis = draw(st.integers(0, 1))
            boxes[i, axis], boxes[i, axis + 2] = -1e308, 1.5e308
            places.append((Place("box", i), bad))
    return replace(batch, geometry=boxes), places


def tlhw_dicts(batch: Batch) -> list[dict[str, Any]]:
    """The dicts of an xywh or cxcywh batch with the four numbers as given, so that each
    bad number is one dict value (TLHW_OF_XYWH)."""
    rows = prediction_dicts(replace(batch, box_format="xyxy"))
    assert batch.geometry is not None
    for row, values in zip(rows, batch.geometry):
        row["bbox"] = dict(zip(TLHW_OF_XYWH, map(float, values)))
    return rows


@SETTINGS
@given(st.data())
def test_bad_boxes_are_the_same_problems_typed_and_in_corner_columns(data):
    """The typed entrance has boxes by corners: it is compared with xyxy columns."""
    batch = data.draw(batches(kinds=("bbox",), pixel_only=True, box_format="xyxy", min_size=1))
    spoiled, places = data.draw(spoiled_boxes(batch, ("nan", "overflow")))
    assert_same_problems(spoiled, places, ("typed", "columns"))


@SETTINGS
@given(st.data())
def test_bad_boxes_are_the_same_problems_in_dicts_and_extent_columns(data):
    """Dicts have boxes by top, left, height and width: they are compared with xywh and
    cxcywh columns, whose four numbers are those of the dict's bbox."""
    box_format = data.draw(st.sampled_from(("xywh", "cxcywh")))
    batch = data.draw(batches(kinds=("bbox",), pixel_only=True, box_format=box_format, min_size=1))
    spoiled, places = data.draw(
        spoiled_boxes(batch, ("nan", "negative") if box_format == "xywh" else ("negative",))
    )
    assert_same_problems(spoiled, places, ("dicts", "columns"), dicts=tlhw_dicts)


@st.composite
def spoiled_confidences(draw, batch: Batch) -> tuple[Batch, list[tuple[Place, str]]]:
    """Bad confidences of 1 to 3 predictions: of the object or of its nested answer,
    of the radio answer, a checklist entry or the text."""
    places = []
    if batch.kind == "checklist":
        assert batch.offsets is not None
        with_entries = [i for i in range(len(batch)) if len(batch.ragged(i))]
        if not with_entries:  # give prediction 0 an answer to spoil
            batch = replace(
                batch,
                answer_ids=np.array([0], np.int64),
                offsets=np.r_[0, np.ones(len(batch), np.int64)],
                confidence=None if batch.confidence is None else np.array([0.5]),
            )
            with_entries = list(range(len(batch)))[:1]
        chosen = draw(st.lists(st.sampled_from(with_entries), min_size=1, max_size=3, unique=True))
        assert batch.answer_ids is not None
        entries = len(batch.answer_ids)
    else:
        chosen = draw(st.lists(st.integers(0, len(batch) - 1), min_size=1, max_size=3, unique=True))
        entries = len(batch)
    confidence = (
        np.full(entries, 0.5) if batch.confidence is None else batch.confidence.astype(np.float64)
    )
    sub = batch.subclass
    for i in chosen:
        if batch.kind == "checklist":
            k = draw(st.integers(0, len(batch.ragged(i)) - 1))
            flat = batch.ragged(i)[k]
            confidence[flat] = draw(BAD_CONFIDENCES)
            places.append((Place("answer_confidence", i, k=k, flat=flat), "confidence"))
        elif sub is not None and draw(st.booleans()):
            sub_conf = np.full(len(batch), 0.5) if sub.confidence is None else sub.confidence.copy()
            sub_conf[i] = draw(BAD_CONFIDENCES)
            sub = replace(sub, confidence=sub_conf)
            places.append((Place("sub_confidence", i), "confidence"))
        else:
            confidence[i] = draw(BAD_CONFIDENCES)
            what = "answer_confidence" if batch.kind == "radio" else "confidence"
            places.append((Place(what, i, flat=i), "confidence"))
    return replace(batch, confidence=confidence, subclass=sub), places


@SETTINGS
@given(st.data())
def test_bad_confidences_are_the_same_problems_everywhere(data):
    batch = data.draw(batches(pixel_only=True, min_size=1))
    spoiled, places = data.draw(spoiled_confidences(batch))
    assert_same_problems(spoiled, places, ("typed", "dicts", "columns"))


def test_a_bad_typed_text_confidence_is_reported_where_it_was_given():
    # One text, Text(answer="t", confidence=nan): at annotations[0].value.confidence,
    # not at the ClassificationAnnotation's confidence, which was not given.
    batch = minimal("text", 1, confidence=np.array([math.nan]), texts=["t"])
    assert_same_problems(
        batch, [(Place("confidence", 0), "confidence")], ("typed", "dicts", "columns")
    )


def spoil_mask_confidence(s: Stack, i: int, value: float) -> Stack:
    confidence = np.full(len(s.masks), 0.5) if s.confidence is None else s.confidence.copy()
    confidence[i] = value
    return replace(s, confidence=confidence)


def mask_problems(s: Stack) -> dict[str, list[tuple[int, str, str, str]]]:
    return {
        "stack": problems([instance_masks(s)]),
        "typed": problems(typed_mask_labels(s, "array")),
        "dicts": problems(mask_dicts(s)),
    }


@SETTINGS
@given(stacks(), st.data())
def test_bad_mask_confidences_are_the_same_problems_everywhere(s, data):
    i = data.draw(st.integers(0, len(s.masks) - 1))
    found = mask_problems(spoil_mask_confidence(s, i, data.draw(BAD_CONFIDENCES)))
    # The stack's confidence[i] is written on the mask line and on its box line: the typed
    # Label of instance i holds both (annotations[0] and [1]), the dicts are one line each.
    lines = 2 if s.with_boxes else 1
    assert [p for _, _, p, _ in found["stack"]] == [f"confidence[{i}]"]
    assert found["stack"][0][0] == found["typed"][0][0] == i
    assert [(r, p) for r, _, p, _ in found["typed"]] == [
        (i, f"annotations[{k}].confidence") for k in range(lines)
    ]
    assert [(r, p) for r, _, p, _ in found["dicts"]] == [
        (lines * i + k, "confidence") for k in range(lines)
    ]
    assert len({(k, m) for got in found.values() for _, k, _, m in got}) == 1
    assert found["stack"][0][1] == "confidence"


def test_a_bad_mask_confidence_is_at_the_row_of_its_instance():
    # Two one-pixel masks on one data row, confidence [0.5, nan]: row 1 everywhere (a
    # stack takes one row per instance, as a columnar batch one per prediction).
    s = Stack(
        np.ones((2, 1, 1), np.uint8),
        ["img"],
        False,
        ["thing"],
        np.zeros(2, np.int64),
        np.zeros(2, np.int64),
        None,
        False,
    )
    found = mask_problems(spoil_mask_confidence(s, 1, math.nan))
    assert {name: [r for r, *_ in got] for name, got in found.items()} == {
        "stack": [1],
        "typed": [1],
        "dicts": [1],
    }


# --- problems of a batch's lists: where the entrances disagree today ------------------------


def with_bad_list_entry(batch: Batch, what: str) -> tuple[Batch, list[tuple[Place, str]]]:
    """``batch`` with its first feature a schema id of 24 characters, or its first data
    row empty; every prediction on it is bad."""
    if what == "schema_id":
        features = ["c" * 24, *batch.features[1:]]
        spoiled = replace(batch, features=features, by_schema=True, subclass=None)
        bad = [i for i in range(len(batch)) if int(batch.class_ids[i]) == 0]
    else:
        spoiled = replace(batch, data_rows=["", *batch.data_rows[1:]], default_image_index=False)
        bad = [i for i in range(len(batch)) if int(batch.image_index[i]) == 0]
    return spoiled, [(Place(what, i), what) for i in bad]


@pytest.mark.parametrize("what", ["schema_id", "data_row"])
def test_a_bad_feature_or_data_row_of_one_prediction_is_the_same_problem_everywhere(what):
    spoiled, places = with_bad_list_entry(minimal("point", 1, geometry=np.ones((1, 2))), what)
    assert_same_problems(spoiled, places, ("typed", "dicts", "columns"))


@pytest.mark.parametrize("what", ["schema_id", "data_row"])
def test_a_bad_feature_or_data_row_is_reported_on_every_prediction_that_uses_it(what):
    # Two points on one data row, one feature; the feature is a schema id of 24
    # characters (or the data row is ""): rows 0 and 1 in every entrance.
    spoiled, places = with_bad_list_entry(minimal("point", 2, geometry=np.ones((2, 2))), what)
    assert_same_problems(spoiled, places, ("typed", "dicts", "columns"))


def test_a_box_whose_corners_overflow_is_refused_by_dicts_as_by_columns():
    batch = minimal("bbox", 1, box_format="xywh", geometry=np.array([[1e308, 0.0, 1e308, 1.0]]))
    message = "box is too large: its corners, width or height overflow a float"
    assert problems([columnar(batch)]) == [(0, "box_overflow", "boxes[0]", message)]
    assert problems(tlhw_dicts(batch)) == [(0, "box_overflow", "bbox", message)]
