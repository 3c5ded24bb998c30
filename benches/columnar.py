"""Columnar fast path: numpy predictions to NDJSON bytes, against plain dicts + orjson.

All cases start from the same arrays and end with the NDJSON bytes in memory:

* lbfast columnar: ``lbfast._core.dumps([Boxes(...)], threads=T)`` (the public
  ``lbfast.dumps`` is the same call with all cores), with random (uuid4) or
  deterministic (uuid5) ids;
* dicts + orjson: the arrays ``.tolist()``-ed, one SDK-shaped dict per box (with a
  ``uuid4`` string), ``orjson.dumps`` each, joined with newlines; no validation;
* floats only: the writer's float formatting of the same 5 floats per box (the
  confidence and the written top/left/height/width) into a buffer already mapped:
  the floor under any writer of these lines;
* polygons: 200k polygons of 32 integer points (as contour tracers give them), one
  and two threads.

Each case runs once untimed (its output checked against the dicts + orjson lines,
uuids aside), then ``--repeats`` times after ``gc.collect()``; the median and the
best are reported, with the rows per CPU-second of the process (per core, and not
inflated when other processes share the machine) and the minor page faults per run. Touching a fresh page can be
slow (some VMs take microseconds: the header line measures it), and the bytes
returned are fresh memory, so faults are part of the cost. ``--reuse-freed-memory``
runs the script again with glibc told to keep freed memory mapped
(``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=...``), which shows the cost without
those faults (and is a setting a long-running service can use).

    .venv/bin/python benches/columnar.py [--boxes 1000000] [--images 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import mmap
import os
import statistics
import sys
import time
import uuid
from typing import Callable

# Before numpy is imported: its BLAS threads would otherwise spin beside the
# measured call (8% of a one-thread profile) on a machine with few cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

import numpy as np
import orjson

from lbfast import _core
from lbfast.columnar import Boxes, Polygons

CLASSES = ["car", "truck", "bus", "person", "bicycle", "motorcycle", "traffic light", "stop sign"]


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else -1


def page_touch_ns(megabytes: int = 256) -> float:
    """Nanoseconds to touch one fresh 4 KiB page (anonymous memory)."""
    size = megabytes << 20
    m = mmap.mmap(-1, size)
    view = np.frombuffer(m, dtype=np.uint8)
    t = time.perf_counter()
    view[::4096] = 1
    dt = time.perf_counter() - t
    del view
    m.close()
    return dt / (size / 4096) * 1e9


def detections(n: int, images: int, seed: int = 0):
    """A detector's output: float32 xyxy boxes, class ids and scores, 10 per image."""
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2), dtype=np.float32) * np.float32(1800)
    wh = rng.random((n, 2), dtype=np.float32) * np.float32(200) + np.float32(2)
    boxes = np.concatenate([xy, xy + wh], axis=1)
    class_ids = rng.integers(0, len(CLASSES), n)
    scores = rng.random(n, dtype=np.float32)
    image_index = np.sort(rng.integers(0, images, n))
    keys = [f"image-{k:06d}.jpg" for k in range(images)]
    return keys, boxes, class_ids, scores, image_index


def dicts_orjson(keys, boxes, class_ids, scores, image_index) -> bytes:
    """The fastest reasonable hand-written path: Python dicts, orjson, no checks."""
    lines = []
    for (x1, y1, x2, y2), c, s, k in zip(
        boxes.tolist(), class_ids.tolist(), scores.tolist(), image_index.tolist()
    ):
        lines.append(
            orjson.dumps(
                {
                    "confidence": s,
                    "uuid": str(uuid.uuid4()),
                    "dataRow": {"globalKey": keys[k]},
                    "name": CLASSES[c],
                    "classifications": [],
                    "bbox": {
                        "top": min(y1, y2),
                        "left": min(x1, x2),
                        "height": abs(y2 - y1),
                        "width": abs(x2 - x1),
                    },
                }
            )
        )
    lines.append(b"")
    return b"\n".join(lines)


def without_uuids(ndjson: bytes, limit: int) -> list[dict]:
    rows = []
    for line in ndjson.splitlines()[:limit]:
        row = json.loads(line)
        row.pop("uuid")
        rows.append(row)
    return rows


def measure(run: Callable[[], object], repeats: int) -> tuple[list[float], float, int]:
    """Wall times, the median CPU time of the process and the median page faults."""
    times = []
    cpu = []
    faults = []
    for _ in range(repeats):
        gc.collect()
        f0 = minor_faults()
        c = time.process_time()
        t = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        faults.append(minor_faults() - f0)
        del out
    return times, statistics.median(cpu), int(statistics.median(faults))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boxes", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--polygons", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--reuse-freed-memory",
        action="store_true",
        help="run again with glibc keeping freed memory mapped (no fresh-page faults)",
    )
    args = parser.parse_args()
    if args.reuse_freed_memory and os.environ.get("MALLOC_MMAP_MAX_") != "0":
        env = dict(os.environ, MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_=str(1 << 40))
        argv = [a for a in sys.argv if a != "--reuse-freed-memory"]
        print("glibc keeps freed memory mapped (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=2**40)")
        os.execve(sys.executable, [sys.executable, *argv], env)

    print(
        f"cpus: {os.cpu_count()}, fresh 4 KiB page: {page_touch_ns():.0f} ns, "
        f"{args.boxes:,} boxes over {args.images:,} images, {args.polygons:,} polygons of 32 points"
    )
    keys, boxes, class_ids, scores, image_index = detections(args.boxes, args.images)

    def batch(ids: str = "random") -> Boxes:
        return Boxes(
            boxes,
            data_rows=keys,
            features=CLASSES,
            image_index=image_index,
            class_ids=class_ids,
            confidence=scores,
            ids=ids,
        )

    reference = dicts_orjson(keys, boxes, class_ids, scores, image_index)
    expected = without_uuids(reference, 2000)
    assert without_uuids(_core.dumps([batch()]), 2000) == expected
    bytes_per_row = len(reference) / args.boxes

    cases: dict[str, Callable[[], object]] = {
        "columnar, 1 thread": lambda: _core.dumps([batch()], threads=1),
        "columnar, 2 threads": lambda: _core.dumps([batch()], threads=2),
        "columnar, all cores (lbfast.dumps)": lambda: _core.dumps([batch()]),
        "columnar, uuid5 ids, 1 thread": lambda: _core.dumps([batch("deterministic")], threads=1),
        "dicts + orjson (no checks)": lambda: dicts_orjson(
            keys, boxes, class_ids, scores, image_index
        ),
    }
    # The floor: formatting the 5 floats of each line, nothing else.
    x1, y1, x2, y2 = (boxes[:, k].astype(np.float64) for k in range(4))
    floats = np.stack(
        [
            scores.astype(np.float64),
            np.minimum(y1, y2),
            np.minimum(x1, x2),
            np.abs(y2 - y1),
            np.abs(x2 - x1),
        ],
        axis=1,
    ).ravel()

    results: dict[str, tuple[float, float, float, int]] = {}
    for name, run in cases.items():
        repeats = max(1, args.repeats // 3) if "orjson" in name else args.repeats
        run()
        times, cpu, faults = measure(run, repeats)
        results[name] = (statistics.median(times), min(times), cpu, faults)
    _core._format_floats(floats)  # maps the buffer's pages
    passes = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        _core._format_floats(floats)
        passes.append(time.perf_counter() - start)
    floor = statistics.median(passes)
    results["floats only (5 per box, mapped buffer)"] = (floor, min(passes), floor, 0)

    rng = np.random.default_rng(5)
    vertices = 32
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    centres = rng.random((args.polygons, 2)) * 1800
    radii = rng.random((args.polygons, 1)) * 50 + 5
    coords = (
        np.stack(
            [centres[:, :1] + radii * np.cos(angles), centres[:, 1:] + radii * np.sin(angles)],
            axis=2,
        )
        .reshape(-1, 2)
        .round()
        .astype(np.int32)
    )
    offsets = np.arange(args.polygons + 1) * vertices
    poly_images = max(1, args.polygons // 10)
    polygons = Polygons(
        coords,
        offsets,
        data_rows=[f"image-{k:06d}.jpg" for k in range(poly_images)],
        features=CLASSES,
        image_index=np.arange(args.polygons) // 10,
        class_ids=rng.integers(0, len(CLASSES), args.polygons),
        confidence=rng.random(args.polygons, dtype=np.float32),
    )
    poly_results = {}
    for threads in (1, 2):
        run = lambda t=threads: _core.dumps([polygons], threads=t)  # noqa: E731
        run()
        times, cpu, faults = measure(run, args.repeats)
        poly_results[f"polygons (32 points), {threads} thread{'s' if threads > 1 else ''}"] = (
            statistics.median(times),
            min(times),
            cpu,
            faults,
        )

    orjson_median = results["dicts + orjson (no checks)"][0]
    one_thread = results["columnar, 1 thread"][0]
    print(f"\nboxes: {bytes_per_row:.0f} bytes per line")
    print(
        f"{'case':<40}{'rows/s (median)':>17}{'best':>14}{'rows/CPU-s':>14}"
        f"{'vs 1 thread':>13}{'vs orjson':>11}{'faults':>10}"
    )
    for name, (median, best, cpu, faults) in results.items():
        print(
            f"{name:<40}{args.boxes / median:>17,.0f}{args.boxes / best:>14,.0f}"
            f"{args.boxes / cpu:>14,.0f}{one_thread / median:>12.2f}x"
            f"{orjson_median / median:>10.1f}x{faults:>10,}"
        )
    poly_one = poly_results["polygons (32 points), 1 thread"][0]
    for name, (median, best, cpu, faults) in poly_results.items():
        print(
            f"{name:<40}{args.polygons / median:>17,.0f}{args.polygons / best:>14,.0f}"
            f"{args.polygons / cpu:>14,.0f}{poly_one / median:>12.2f}x{'':>11}{faults:>10,}"
        )


if __name__ == "__main__":
    main()
