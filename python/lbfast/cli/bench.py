"""``lbfast bench``: ``benches/compare.py`` of the checkout lbfast runs from (with the
official SDK and orjson side by side), else a small built-in benchmark in this process."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Optional

import lbfast
from lbfast.cli.errors import OK, PROBLEMS

if TYPE_CHECKING:
    from lbfast.cli.options import Subcommands


def _compare_script() -> Optional[Path]:
    """``benches/compare.py`` of the checkout lbfast runs from, if there is one."""
    here = Path(lbfast.__file__).resolve().parent
    for root in (here.parent.parent, Path.cwd()):
        script = root / "benches" / "compare.py"
        if script.is_file():
            return script
    return None


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    script = None if args.builtin else _compare_script()
    # compare.py runs the official SDK and orjson side by side.
    peers = all(importlib.util.find_spec(m) is not None for m in ("labelbox", "orjson"))
    if script is not None and peers:
        cmd = [sys.executable, str(script), *(["--quick"] if args.quick else []), *args.extra]
        print(f"running {' '.join(cmd)}", file=err)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        out.write(proc.stdout)
        return OK if proc.returncode == 0 else PROBLEMS
    _builtin_bench(out, 20_000 if args.quick else 200_000)
    return OK


def _builtin_bench(out: IO[str], n: int) -> None:
    """lbfast (typed and dicts) against json.dumps of the same dicts, in this process."""
    import lbfast.types as t

    boxes = [(i % 1900, i % 1000, 10 + i % 50, 12 + i % 40, (i % 97) / 97) for i in range(n)]

    def typed() -> bytes:
        labels = []
        for g in range(0, n, 10):
            anns = [
                t.ObjectAnnotation(
                    name="box",
                    confidence=c,
                    value=t.Rectangle(start=t.Point(x=x, y=y), end=t.Point(x=x + w, y=y + h)),
                )
                for x, y, w, h, c in boxes[g : g + 10]
            ]
            labels.append(t.Label(data={"global_key": f"img-{g}"}, annotations=anns))
        return lbfast.dumps(labels)

    def dicts() -> list[dict[str, Any]]:
        return [
            {
                "name": "box",
                "confidence": c,
                "dataRow": {"globalKey": f"img-{i // 10 * 10}"},
                "bbox": {"top": float(y), "left": float(x), "height": float(h), "width": float(w)},
            }
            for i, (x, y, w, h, c) in enumerate(boxes)
        ]

    def plain_json() -> bytes:
        return "\n".join(json.dumps({**d, "uuid": str(uuid.uuid4())}) for d in dicts()).encode()

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("dicts + json.dumps (no validation)", plain_json),
        ("lbfast typed: build + dumps", typed),
        ("lbfast dicts: build + dumps", lambda: lbfast.dumps(dicts())),
    ]
    rows = []
    for name, fn in cases:
        best = min(_timed(fn) for _ in range(3))
        rows.append((name, n / best))
    base = rows[0][1]
    print(f"built-in benchmark: {n:,} boxes with confidence, best of 3", file=out)
    print(f"| {'case':<38} | {'rows/s':>12} | {'vs json':>7} |", file=out)
    print(f"|{'-' * 40}|{'-' * 14}:|{'-' * 8}:|", file=out)
    for name, rate in rows:
        print(f"| {name:<38} | {rate:>12,.0f} | {rate / base:>6.1f}x |", file=out)


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def register(sub: Subcommands) -> None:
    """Adds the command to the subcommands ``sub``."""
    b = sub.add_parser(
        "bench",
        help="side-by-side benchmark (benches/compare.py of the checkout, else a built-in one)",
    )
    b.add_argument("--quick", action="store_true", help="smaller workloads")
    b.add_argument(
        "--builtin", action="store_true", help="run the built-in benchmark even in a checkout"
    )
    b.add_argument("extra", nargs=argparse.REMAINDER, help="arguments passed on to compare.py")
    b.set_defaults(run=run)
