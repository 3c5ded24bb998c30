"""The Arrow entrance against the peers that write a table as JSON lines, in one run.

1M boxes in a pyarrow table (a string global key, a string feature, four float32
corners and a confidence), each written as a line:

* lbfast.arrow: Labelbox bbox lines (validated, with uuids), ``threads=1`` and all;
* lbfast through numpy: the same table ``to_numpy()``-ed into ``lbfast.columnar.Boxes``
  (the way before the Arrow entrance), one thread;
* polars ``write_ndjson`` of the same table (the table's own columns, no validation);
* DuckDB ``COPY ... TO (FORMAT JSON)`` of the same table;
* ``to_pylist()`` + orjson: one dict per row, ``orjson.dumps`` each.

The peers run on one thread (``POLARS_MAX_THREADS=1``, DuckDB ``SET threads = 1``), so
"x polars" compares one core with one core. Each case runs once untimed, then
``--repeats`` times; the best wall time is kept and the ratios are printed.

    .venv/bin/python benches/arrow.py [--boxes 1000000] [--images 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

# Before polars is imported: the peers run on one thread.
os.environ.setdefault("POLARS_MAX_THREADS", "1")
# Before numpy is imported: its BLAS threads would otherwise spin beside the
# measured call (8% of a one-thread profile) on a machine with few cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import duckdb
import numpy as np
import orjson
import polars as pl
import pyarrow as pa

import lbfast
from lbfast.arrow import ColumnMap
from lbfast.columnar import Boxes

CLASSES = ["car", "truck", "bus", "person", "bicycle", "motorcycle", "traffic light", "stop sign"]


def make_table(n: int, images: int) -> pa.Table:
    rng = np.random.default_rng(0)
    image = np.sort(rng.integers(0, images, n))
    x1 = rng.uniform(0, 1800, n).astype(np.float32)
    y1 = rng.uniform(0, 1000, n).astype(np.float32)
    w = rng.uniform(1, 120, n).astype(np.float32)
    h = rng.uniform(1, 80, n).astype(np.float32)
    return pa.table(
        {
            "image": pa.array([f"image-{i:07d}.jpg" for i in image]),
            "label": pa.array([CLASSES[c] for c in rng.integers(0, len(CLASSES), n)]),
            "x1": x1,
            "y1": y1,
            "x2": x1 + w,
            "y2": y1 + h,
            "score": rng.uniform(0, 1, n).astype(np.float32),
        }
    )


SPEC = ColumnMap(
    global_key="image", feature="label", box=("x1", "y1", "x2", "y2"), confidence="score"
)


def best(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def through_numpy(table: pa.Table) -> bytes:
    images, index = np.unique(table["image"].to_numpy(zero_copy_only=False), return_inverse=True)
    labels, class_ids = np.unique(
        table["label"].to_numpy(zero_copy_only=False), return_inverse=True
    )
    boxes = np.stack([table[c].to_numpy() for c in ("x1", "y1", "x2", "y2")], axis=1)
    batch = Boxes(
        boxes,
        data_rows=images.tolist(),
        image_index=index,
        features=labels.tolist(),
        class_ids=class_ids,
        confidence=table["score"].to_numpy(),
    )
    return lbfast.dumps([batch], threads=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boxes", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    table = make_table(args.boxes, args.images)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    target = scratch / f"lbfast-bench-{os.getpid()}.json"
    con.register("boxes", table)

    def duck() -> None:
        con.execute(f"COPY boxes TO '{target}' (FORMAT JSON)")

    def polars() -> None:
        frame.write_ndjson(io.BytesIO())

    def pylist() -> bytes:
        return b"\n".join(orjson.dumps(row) for row in table.to_pylist())

    cores = os.cpu_count() or 1
    cases: dict[str, Callable[[], object]] = {
        "lbfast.arrow, 1 thread": lambda: lbfast.arrow.convert(table, SPEC, threads=1),
        f"lbfast.arrow, {cores} threads": lambda: lbfast.arrow.convert(table, SPEC),
        "lbfast via numpy, 1 thread": lambda: through_numpy(table),
        "polars write_ndjson, 1 thread": polars,
        "duckdb COPY (FORMAT JSON), 1 thread": duck,
        "to_pylist + orjson": pylist,
    }
    out = lbfast.arrow.convert(table, SPEC, threads=1)
    assert out.count(b"\n") == args.boxes
    print(
        f"{args.boxes:,} boxes on {args.images:,} images; best of {args.repeats}; python {sys.version.split()[0]}"
    )
    print(
        f"lbfast {lbfast.__version__}, polars {pl.__version__}, duckdb {duckdb.__version__}, pyarrow {pa.__version__}"
    )
    results = {}
    try:
        for name, fn in cases.items():
            results[name] = best(fn, args.repeats)
    finally:
        target.unlink(missing_ok=True)
    polars_time = results["polars write_ndjson, 1 thread"]
    one = results["lbfast.arrow, 1 thread"]
    for name, seconds in results.items():
        print(
            f"{name:40s} {seconds * 1000:8.1f} ms {args.boxes / seconds / 1e6:6.2f} M rows/s"
            f"   lbfast.arrow(1 thread) is {seconds / one:5.2f}x faster"
        )
    print(
        f"goal: >= 2x polars on one thread: {polars_time / one:.2f}x; >= 6M rows/s per core: {args.boxes / one / 1e6:.2f}M"
    )


if __name__ == "__main__":
    main()
