"""Every headline figure in one table: each lbfast case beside its peer, measured in
the same run, and the ratio (peer time / lbfast time, so higher is better for lbfast).

    .venv/bin/python benches/summary.py [--quick] [--repeats N]   (or: make bench)

The cases are those of the README's performance table and issue 12:

* columnar boxes with confidence (float64 and float32, one and two threads, random and
  deterministic ids) against dicts + orjson (no validation), on the same arrays;
* the typed path as the guide's users write it (numpy rows -> ``ObjectAnnotation`` per
  box, a ``Label`` per image, ``dumps``) against the SDK doing the same, for boxes,
  32-point polygons and boxes with a nested radio;
* small calls (an inference service: one image of 10 boxes) against dicts + orjson;
* a 1080p composite mask of 20 colours to one line per colour against the SDK.

Each case runs once untimed, then ``--repeats`` times; the best time is reported (the
least disturbed by other processes on a shared machine), with the lines per second.
The detailed benchmarks (``compare.py``, ``columnar.py``, ``masks.py``, ``read.py``,
``engines.py``) check outputs against the peers and break the time down.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import gc
import os
import platform
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

# Before numpy is imported: its BLAS threads would otherwise spin beside the
# measured calls (8% of a one-thread profile) on a machine with few cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import orjson

import lbfast
import lbfast.types as fast_types
from lbfast import _core
from lbfast.columnar import Boxes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import columnar as columnar_bench
import masks as masks_bench
import workloads

try:
    import labelbox.types as sdk_types
    from labelbox import parser as sdk_parser
    from labelbox.data.serialization import NDJsonConverter
except ImportError:  # pragma: no cover - the SDK is a test dependency
    sys.exit("summary.py needs the official SDK: pip install 'labelbox[data]==7.17.0'")


@dataclass
class Row:
    case: str
    lines: int
    lbfast: float
    peer_name: str
    peer: float


def best(fn: Callable[[], object], repeats: int, collect: bool) -> float:
    """Best wall time of ``repeats`` runs (after one untimed run)."""
    fn()
    times = []
    for _ in range(repeats):
        if collect:
            gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def sdk_dumps(labels: list[Any]) -> bytes:
    return sdk_parser.dumps(list(NDJsonConverter.serialize(labels))).encode()


def columnar_rows(n: int, repeats: int) -> list[Row]:
    keys, xyxy, class_ids, scores, image_index = columnar_bench.detections(n, max(1, n // 10))

    def batch(dtype: str, ids: str = "random") -> Boxes:
        return Boxes(
            xyxy.astype(dtype),
            data_rows=keys,
            features=columnar_bench.CLASSES,
            image_index=image_index,
            class_ids=class_ids,
            confidence=scores.astype(dtype),
            ids=ids,
        )

    peer = best(
        lambda: columnar_bench.dicts_orjson(keys, xyxy, class_ids, scores, image_index),
        max(1, repeats // 2),
        collect=True,
    )
    rows = []
    for label, dtype, threads, ids in (
        ("float64, 1 thread", "float64", 1, "random"),
        ("float64, 2 threads", "float64", 2, "random"),
        ("float32, 1 thread", "float32", 1, "random"),
        ("float32, 2 threads", "float32", 2, "random"),
        ("float64, uuid5 ids, 1 thread", "float64", 1, "deterministic"),
    ):
        run = functools.partial(_core.dumps, [batch(dtype, ids)], threads=threads)
        took = best(run, repeats, collect=False)
        rows.append(Row(f"columnar boxes, {label}", n, took, "dicts + orjson", peer))
    return rows


def typed_rows(quick: bool, repeats: int) -> list[Row]:
    n_boxes, n_polygons = (2_000, 400) if quick else (10_000, 2_000)
    cases = [
        ("boxes", workloads.boxes(n_boxes, per_image=10, seed=0), workloads.box_labels, {}),
        (
            "32-point polygons",
            workloads.polygons(n_polygons, vertices=32, per_image=10, seed=1),
            workloads.polygon_labels,
            {},
        ),
        (
            "boxes + nested radio",
            workloads.boxes(n_boxes, per_image=10, seed=3),
            workloads.box_labels,
            {"nested": True},
        ),
    ]
    rows = []
    for name, data, build, kw in cases:
        sdk_build = functools.partial(build, sdk_types, data, **kw)
        fast_build = functools.partial(build, fast_types, data, **kw)
        sdk = best(lambda b=sdk_build: sdk_dumps(b()), max(1, repeats // 3), True)
        fast = best(lambda b=fast_build: lbfast.dumps(b()), repeats, True)
        rows.append(Row(f"typed end to end, {name}", len(data), fast, "SDK end to end", sdk))
        only = best(functools.partial(lbfast.dumps, fast_build()), repeats, False)
        rows.append(
            Row(f"dumps of prebuilt Labels, {name}", len(data), only, "SDK end to end", sdk)
        )
    return rows


def small_rows(repeats: int) -> list[Row]:
    data = workloads.boxes(10, per_image=10, seed=5)
    labels = workloads.box_labels(fast_types, data)
    dicts = workloads.box_dicts(data)
    keys, xyxy, class_ids, scores, image_index = columnar_bench.detections(10, 1, seed=5)
    boxes = Boxes(
        xyxy,
        data_rows=keys,
        features=columnar_bench.CLASSES,
        image_index=image_index,
        class_ids=class_ids,
        confidence=scores,
    )
    n = repeats * 400

    def orjson_lines() -> bytes:
        return b"\n".join([orjson.dumps(d) for d in workloads.box_dicts(data)])

    peer = best(orjson_lines, n, False)
    dumps = lbfast.dumps
    return [
        Row("small: dumps one prebuilt 10-box Label", 10, best(lambda: dumps(labels), n, False),
            "dicts + orjson", peer),
        Row("small: build and dump one 10-box Label", 10,
            best(lambda: dumps(workloads.box_labels(fast_types, data)), n, False),
            "dicts + orjson", peer),
        Row("small: dumps 10 prebuilt dicts", 10, best(lambda: dumps(dicts), n, False),
            "dicts + orjson", peer),
        Row("small: columnar batch of 10", 10, best(lambda: dumps([boxes]), n, False),
            "dicts + orjson", peer),
    ]  # fmt: skip


def mask_rows(repeats: int) -> list[Row]:
    rgb, colors = masks_bench.composite(20, seed=2)

    def labels(t: Any) -> list[Any]:
        data = t.MaskData(arr=rgb)
        annotations = [
            t.ObjectAnnotation(name=f"class_{k}", value=t.Mask(mask=data, color=c))
            for k, c in enumerate(colors)
        ]
        return [t.Label(data=masks_bench.GK, annotations=annotations)]

    sdk = best(lambda: sdk_dumps(labels(sdk_types)), max(2, repeats // 3), True)
    fast = best(lambda: lbfast.dumps(labels(fast_types)), repeats, True)
    return [Row(f"1080p composite, {len(colors)} colours", len(colors), fast, "SDK", sdk)]


def show(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def print_table(rows: list[Row]) -> None:
    head = f"| {'case':<48} | {'lines':>9} | {'lbfast':>9} | {'lines/s':>10} | {'peer':<15} | {'peer time':>9} | {'ratio':>7} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for r in rows:
        rate = (
            f"{r.lines / r.lbfast / 1e6:.2f}M"
            if r.lines / r.lbfast >= 1e6
            else f"{r.lines / r.lbfast:,.0f}"
        )
        print(
            f"| {r.case:<48} | {r.lines:>9,} | {show(r.lbfast):>9} | {rate:>10} | {r.peer_name:<15} "
            f"| {show(r.peer):>9} | {r.peer / r.lbfast:>6.1f}x |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (>= 1)")
    args = parser.parse_args(argv)
    repeats = max(1, args.repeats)
    print(
        f"lbfast {lbfast.__version__}, {datetime.date.today()}, Python {platform.python_version()} "
        f"on {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; best of {repeats}; ratio = peer time / lbfast time\n"
    )
    rows = columnar_rows(200_000 if args.quick else 1_000_000, repeats)
    rows += typed_rows(args.quick, repeats)
    rows += small_rows(repeats)
    rows += mask_rows(repeats)
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
