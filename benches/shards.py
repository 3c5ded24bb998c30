"""Streams N boxes (default 10M over N/10 images) to NDJSON shards and reports
throughput and peak memory against the size of the input arrays.

    python benches/shards.py [--rows 10000000] [--max-rows 1000000] [--gzip]

The goal (issue 3): peak RSS no more than the input arrays plus 200 MB.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import lbfast
from lbfast.columnar import Boxes


def rss_mb() -> float:
    """Current resident set size, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    n = args.rows
    images = max(n // 10, 1)

    before_input = rss_mb()
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1800, size=(n, 2)).astype(np.float32)
    wh = rng.uniform(4, 120, size=(n, 2)).astype(np.float32)
    boxes = np.hstack([xy, xy + wh])
    del xy, wh
    confidence = rng.uniform(0, 1, n).astype(np.float32)
    image_index = np.repeat(np.arange(images, dtype=np.int32), 10)[:n]
    class_ids = rng.integers(0, 80, n, dtype=np.int32)
    data_rows = [f"image-{i:08d}.jpg" for i in range(images)]
    features = [f"class_{k}" for k in range(80)]
    input_bytes = boxes.nbytes + confidence.nbytes + image_index.nbytes + class_ids.nbytes
    after_input = rss_mb()
    baseline_peak = peak_mb()

    batch = Boxes(
        boxes,
        data_rows=data_rows,
        image_index=image_index,
        features=features,
        class_ids=class_ids,
        confidence=confidence,
    )
    out = Path(tempfile.mkdtemp(prefix="lbfast-shards-"))
    try:
        start = time.perf_counter()
        with lbfast.ShardWriter(out, max_rows=args.max_rows, gzip=args.gzip) as writer:
            writer.write(batch)
        seconds = time.perf_counter() - start
        manifest = writer.manifest
        assert manifest.rows == n, manifest.rows
        end_peak = peak_mb()
    finally:
        shutil.rmtree(out, ignore_errors=True)

    print(
        f"{n:,} boxes over {images:,} images -> {len(manifest.shards)} shards of <= {args.max_rows:,} rows"
        f"{' (gzip)' if args.gzip else ''}"
    )
    print(
        f"  written: {manifest.bytes / 1e9:.2f} GB NDJSON in {seconds:.2f} s = {n / seconds:,.0f} rows/s"
    )
    print(
        f"  input arrays: {input_bytes / 2**20:.0f} MiB (+ {len(data_rows):,} data row strings: RSS "
        f"{before_input:.0f} -> {after_input:.0f} MB)"
    )
    print(
        f"  peak RSS: {end_peak:.0f} MB; before writing {baseline_peak:.0f} MB; "
        f"growth while writing {end_peak - baseline_peak:.0f} MB (goal: <= 200 MB)"
    )


if __name__ == "__main__":
    main()
