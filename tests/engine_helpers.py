"""What the engine tests (Spark, Ray) share: the predictions table they write, reading
the shards back, and setting the engines' environment for a test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa

from lbfast.arrow import ColumnMap

SPEC = ColumnMap(
    global_key="image",
    feature="label",
    box=("x1", "y1", "x2", "y2"),
    confidence="score",
    ids="deterministic",
)


def predictions(n: int, seed: int = 7) -> pa.Table:
    """``n`` boxes on a few images, with a ``row`` column numbering them from 0."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(0, 500, n).astype(np.float32)
    y1 = rng.uniform(0, 500, n).astype(np.float32)
    return pa.table(
        {
            "row": pa.array(np.arange(n, dtype=np.int64)),
            "image": pa.array([f"img-{i % 37}" for i in range(n)]),
            "label": pa.array([("car", "bus", "person")[i % 3] for i in range(n)]),
            "x1": x1,
            "y1": y1,
            "x2": x1 + rng.uniform(1, 50, n).astype(np.float32),
            "y2": y1 + rng.uniform(1, 50, n).astype(np.float32),
            "score": rng.uniform(0, 1, n),
        }
    )


def shard_bytes(paths) -> bytes:
    """The shards' lines, joined in path order (the row order of the input)."""
    return b"".join(Path(p).read_bytes() for p in sorted(paths))


def directory_files(directory: Path) -> dict[str, bytes]:
    """Every file in ``directory`` (temporary ones included), by name."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """``variables`` set in ``os.environ`` for the block, the old values back after."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
