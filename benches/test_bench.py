"""pytest-benchmark cases for lbfast (not part of ``make test``, which runs ``tests/``).

    .venv/bin/python -m pytest benches/test_bench.py --benchmark-only

Every case also checks its result cheaply (line count, first line's content), so a
fast wrong answer fails instead of showing up as an improvement.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import Any

import pytest

import lbfast
import lbfast.types as fast_types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads

N_BOXES = 10_000
N_POLYGONS = 2_000
VERTICES = 32
# Cases that allocate many Python objects run like compare.py: gc.collect() before
# each round, the GC enabled during it. Without that, a full collection lands in
# some rounds but not others, depending on what earlier tests left on the heap.
ROUNDS = 15


def collect_garbage() -> None:
    gc.collect()


def allocating(benchmark: Any, fn: Any, *args: Any) -> Any:
    return benchmark.pedantic(
        fn, args=args, setup=collect_garbage, rounds=ROUNDS, iterations=1, warmup_rounds=1
    )


@pytest.fixture(scope="module")
def boxes() -> workloads.Boxes:
    return workloads.boxes(N_BOXES, per_image=10, seed=0)


@pytest.fixture(scope="module")
def polygons() -> workloads.Polygons:
    return workloads.polygons(N_POLYGONS, vertices=VERTICES, per_image=10, seed=1)


@pytest.fixture(scope="module")
def box_labels(boxes: workloads.Boxes) -> list[Any]:
    return workloads.box_labels(fast_types, boxes)


@pytest.fixture(scope="module")
def box_dicts(boxes: workloads.Boxes) -> list[dict[str, Any]]:
    return workloads.box_dicts(boxes)


def check_lines(out: bytes, rows: int, expected_first: dict[str, Any]) -> list[bytes]:
    """``rows`` newline-terminated lines; the first one is ``expected_first`` plus a uuid4."""
    assert isinstance(out, bytes)
    assert out.endswith(b"\n")
    lines = out.split(b"\n")[:-1]
    assert len(lines) == rows
    first = json.loads(lines[0])
    uuid = first.pop("uuid")
    assert isinstance(uuid, str) and len(uuid) == 36 and uuid[14] == "4"
    expected = {k: v for k, v in expected_first.items() if k != "uuid"}
    assert first == expected
    assert list(first) == list(expected), "keys are written in the SDK's order"
    return lines


def first_box(boxes: workloads.Boxes, nested: bool = False) -> dict[str, Any]:
    """The expected first line, from a one-image slice of the same raw data."""
    one = workloads.Boxes(
        global_keys=boxes.global_keys[:1],
        offsets=[0, 1],
        names=boxes.names,
        confidence=boxes.confidence,
        x0=boxes.x0,
        y0=boxes.y0,
        x1=boxes.x1,
        y1=boxes.y1,
        sub_answer=boxes.sub_answer,
        sub_confidence=boxes.sub_confidence,
    )
    return workloads.box_dicts(one, nested=nested)[0]


# --- 10k boxes with confidence ------------------------------------------------------


@pytest.mark.benchmark(group="boxes-10k")
def test_typed_dumps_10k_boxes(benchmark: Any, boxes: Any, box_labels: list[Any]) -> None:
    out = benchmark(lbfast.dumps, box_labels)
    check_lines(out, N_BOXES, first_box(boxes))


@pytest.mark.benchmark(group="boxes-10k")
def test_dict_dumps_10k_boxes(benchmark: Any, boxes: Any, box_dicts: list[Any]) -> None:
    out = benchmark(lbfast.dumps, box_dicts)
    lines = check_lines(out, N_BOXES, first_box(boxes))
    # The dicts carry their own uuids, which are written as given.
    assert json.loads(lines[-1])["uuid"] == box_dicts[-1]["uuid"]


@pytest.mark.benchmark(group="boxes-10k")
def test_typed_construct_10k_boxes(benchmark: Any, boxes: workloads.Boxes) -> None:
    labels = allocating(benchmark, workloads.box_labels, fast_types, boxes)
    assert len(labels) == N_BOXES // 10
    assert sum(len(label.annotations) for label in labels) == N_BOXES
    last = labels[-1].annotations[-1]
    assert isinstance(last, fast_types.ObjectAnnotation)
    assert isinstance(last.value, fast_types.Rectangle)
    assert last.value.end.x == boxes.x1[-1] and last.confidence == boxes.confidence[-1]


@pytest.mark.benchmark(group="boxes-10k")
def test_typed_end_to_end_10k_boxes(benchmark: Any, boxes: workloads.Boxes) -> None:
    def construct_and_dump() -> bytes:
        return lbfast.dumps(workloads.box_labels(fast_types, boxes))

    out = allocating(benchmark, construct_and_dump)
    check_lines(out, N_BOXES, first_box(boxes))


@pytest.mark.benchmark(group="boxes-10k")
def test_sdk_serialize_10k_boxes_reference(benchmark: Any, boxes: workloads.Boxes) -> None:
    """The SDK's serialize + dumps on prebuilt Labels (construction excluded), for scale."""
    sdk_types = pytest.importorskip("labelbox.types")
    from labelbox import parser
    from labelbox.data.serialization import NDJsonConverter

    labels = workloads.box_labels(sdk_types, boxes)

    def serialize() -> bytes:
        return parser.dumps(list(NDJsonConverter.serialize(labels))).encode("utf-8")

    out = benchmark.pedantic(
        serialize, setup=collect_garbage, rounds=5, iterations=1, warmup_rounds=1
    )
    lines = out.split(b"\n")
    assert len(lines) == N_BOXES
    first = json.loads(lines[0])
    first.pop("uuid")
    assert first == {k: v for k, v in first_box(boxes).items() if k != "uuid"}


@pytest.mark.benchmark(group="boxes-10k")
def test_dicts_orjson_10k_boxes_reference(benchmark: Any, boxes: workloads.Boxes) -> None:
    """Hand-written dicts + orjson (no validation), the fast baseline to beat."""
    orjson = pytest.importorskip("orjson")

    def build_and_dump() -> bytes:
        return b"\n".join([orjson.dumps(d) for d in workloads.box_dicts(boxes)]) + b"\n"

    out = allocating(benchmark, build_and_dump)
    check_lines(out, N_BOXES, first_box(boxes))


# --- nested radio under each box ----------------------------------------------------


@pytest.mark.benchmark(group="nested-radio-10k")
def test_typed_dumps_10k_boxes_nested_radio(benchmark: Any, boxes: workloads.Boxes) -> None:
    labels = workloads.box_labels(fast_types, boxes, nested=True)
    out = benchmark(lbfast.dumps, labels)
    check_lines(out, N_BOXES, first_box(boxes, nested=True))


# --- 2k polygons of 32 points ---------------------------------------------------------


def check_polygons(out: bytes, polygons: workloads.Polygons) -> None:
    lines = out.split(b"\n")[:-1]
    assert len(lines) == N_POLYGONS
    for line in (lines[0], lines[-1]):
        ring = json.loads(line)["polygon"]
        assert len(ring) == VERTICES + 1, "the ring is written closed"
        assert ring[0] == ring[-1]
    first = json.loads(lines[0])["polygon"]
    assert [[p["x"], p["y"]] for p in first[:-1]] == polygons.points[0]


@pytest.mark.benchmark(group="polygons-2k")
def test_typed_dumps_2k_polygons(benchmark: Any, polygons: workloads.Polygons) -> None:
    labels = workloads.polygon_labels(fast_types, polygons)
    out = benchmark(lbfast.dumps, labels)
    check_polygons(out, polygons)


@pytest.mark.benchmark(group="polygons-2k")
def test_dict_dumps_2k_polygons(benchmark: Any, polygons: workloads.Polygons) -> None:
    rows = workloads.polygon_dicts(polygons)
    out = benchmark(lbfast.dumps, rows)
    check_polygons(out, polygons)


@pytest.mark.benchmark(group="polygons-2k")
def test_typed_construct_2k_polygons(benchmark: Any, polygons: workloads.Polygons) -> None:
    labels = allocating(benchmark, workloads.polygon_labels, fast_types, polygons)
    assert sum(len(label.annotations) for label in labels) == N_POLYGONS
    assert len(labels[0].annotations[0].value.points) == VERTICES
