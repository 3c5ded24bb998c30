"""Reading NDJSON back: ``lbfast validate``, ``lbfast convert`` and ``lbfast.load`` of an
N-line bbox file (default 1M) against a Python loop of ``orjson.loads`` over the same
lines, in the same run.

    python benches/read.py [--lines 1000000] [--threads 1]

The goal (issue 10): ``lbfast validate`` at 1.5M lines/s or more on one core, and at
least 3x the ``orjson`` loop (which only parses: no checks, no model). The file is
written by ``lbfast.dumps`` (uuids, data rows, confidences, boxes) into a temporary
folder. The command line runs in-process (``lbfast.cli.main``), pinned to
``--threads`` cores with ``RAYON_NUM_THREADS``; ``convert`` writes one NDJSON file
beside the input (and must give back the input's bytes: ``dumps`` wrote it).
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

# numpy's BLAS threads would spin beside the reader's (benches/summary.py does the same).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def write_file(path: Path, lines: int) -> None:
    import lbfast
    from lbfast.columnar import Boxes

    rng = np.random.default_rng(0)
    xyxy = rng.uniform(0, 1000, size=(lines, 4))
    xyxy[:, 2:] += xyxy[:, :2]
    boxes = Boxes(
        xyxy,
        class_ids=rng.integers(0, 10, size=lines),
        features=[f"class_{i}" for i in range(10)],
        confidence=rng.uniform(0, 1, size=lines),
        image_index=np.arange(lines) // 10,
        data_rows=[f"image-{i:07d}.jpg" for i in range(lines // 10 + 1)],
    )
    path.write_bytes(lbfast.dumps([boxes]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)

    import orjson

    import lbfast
    from lbfast.cli import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "boxes.ndjson"
        write_file(path, args.lines)
        size = path.stat().st_size
        print(f"{args.lines:,} bbox lines, {size / 1e6:.0f} MB, {args.threads} thread(s)")

        def orjson_loop() -> None:
            with open(path, "rb") as f:
                for line in f:
                    orjson.loads(line)

        def validate() -> None:
            out = io.StringIO()
            code = cli(["validate", str(path)], stdout=out, stderr=io.StringIO())
            assert code == 0, out.getvalue()

        written = Path(tmp) / "converted.ndjson"

        def convert() -> None:
            out = io.StringIO()
            code = cli(["convert", str(path), "-o", str(written)], stdout=out, stderr=io.StringIO())
            assert code == 0, out.getvalue()

        loop = best_of(args.runs, orjson_loop)
        check = best_of(args.runs, validate)
        converted = best_of(args.runs, convert)
        assert written.read_bytes() == path.read_bytes(), "convert changed the bytes"
        load = best_of(1, lambda: lbfast.load(path, threads=args.threads))
        for what, seconds in (
            ("orjson.loads loop", loop),
            ("lbfast validate", check),
            ("lbfast convert (-o)", converted),
            ("lbfast.load (typed Labels)", load),
        ):
            ratio = f"{loop / seconds:5.2f}x the orjson loop" if seconds != loop else ""
            rate = args.lines / seconds / 1e6
            print(f"{what:28} {seconds:7.3f} s  {rate:6.2f} M lines/s  {ratio}")


if __name__ == "__main__":
    main()
