"""Side-by-side timing of lbfast against the official SDK and plain dicts + orjson.

Every path starts from the same raw numbers (``workloads.py``) in one process and
ends with the NDJSON bytes in memory:

* SDK end to end: build ``labelbox.types`` Labels, ``NDJsonConverter.serialize``,
  ``labelbox.parser.dumps``, ``.encode()`` (what ``model_run.add_predictions`` does
  before its upload, minus the data-row check);
* dicts + orjson: build SDK-shaped dicts, ``orjson.dumps`` each, join with ``b"\\n"``
  (the fastest reasonable hand-written path; no validation);
* lbfast typed: build ``lbfast.types`` Labels, ``lbfast.dumps``;
* lbfast dicts: build the same dicts, ``lbfast.dumps``;
* lbfast dumps only, on prebuilt typed Labels or dicts.

Each case runs once untimed (its output is checked against the SDK's, ignoring the
random uuids), then ``--repeats`` times with ``gc.collect()`` before each repeat and
the GC enabled during it, as in real use. Reported: the median and the minimum, and
the minor page faults per run: where touching a fresh page is slow (some VMs take
microseconds, see the header line), allocator behaviour can dominate a fast path.

    .venv/bin/python benches/compare.py [--quick] [--repeats N] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import mmap
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

import orjson

import lbfast
import lbfast.types as fast_types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads

try:
    import labelbox
    import labelbox.types as sdk_types
    from labelbox import parser as sdk_parser
    from labelbox.data.serialization import NDJsonConverter
except ImportError:  # pragma: no cover - the SDK is a test dependency
    sys.exit("compare.py needs the official SDK: pip install 'labelbox[data]==7.17.0'")

SDK_E2E = "SDK end to end"
DICTS_ORJSON = "dicts + orjson"
LBFAST_TYPED = "lbfast typed e2e"
LBFAST_DICTS = "lbfast dicts e2e"
LBFAST_DUMPS_TYPED = "lbfast dumps (prebuilt typed)"
LBFAST_DUMPS_DICTS = "lbfast dumps (prebuilt dicts)"

# One run: the NDJSON bytes and the seconds of each phase, in order.
Run = Callable[[], tuple[bytes, dict[str, float]]]


@dataclass
class Workload:
    name: str
    rows: int
    labels: int
    build_labels: Callable[[Any], list[Any]]  # types module -> Labels
    build_dicts: Callable[[], list[dict[str, Any]]]


@dataclass
class Result:
    case: str
    rows: int
    runs: list[float] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)  # minor page faults per run

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median_faults(self) -> Optional[int]:
        return int(statistics.median(self.faults)) if self.faults else None

    def phase_medians(self) -> dict[str, float]:
        names = list(self.phases[0]) if self.phases else []
        return {n: statistics.median(p[n] for p in self.phases) for n in names}


# --- the paths ----------------------------------------------------------------------


def sdk_end_to_end(w: Workload) -> Run:
    def run() -> tuple[bytes, dict[str, float]]:
        t0 = time.perf_counter()
        labels = w.build_labels(sdk_types)
        t1 = time.perf_counter()
        rows = list(NDJsonConverter.serialize(labels))
        t2 = time.perf_counter()
        out = sdk_parser.dumps(rows).encode("utf-8")
        t3 = time.perf_counter()
        return out, {"build": t1 - t0, "serialize": t2 - t1, "dumps+encode": t3 - t2}

    return run


def dicts_orjson(w: Workload) -> Run:
    def run() -> tuple[bytes, dict[str, float]]:
        t0 = time.perf_counter()
        rows = w.build_dicts()
        t1 = time.perf_counter()
        dumps = orjson.dumps
        out = b"\n".join([dumps(row) for row in rows])
        t2 = time.perf_counter()
        return out, {"build dicts": t1 - t0, "orjson": t2 - t1}

    return run


def lbfast_typed(w: Workload) -> Run:
    def run() -> tuple[bytes, dict[str, float]]:
        t0 = time.perf_counter()
        labels = w.build_labels(fast_types)
        t1 = time.perf_counter()
        out = lbfast.dumps(labels)
        t2 = time.perf_counter()
        return out, {"construct": t1 - t0, "dumps": t2 - t1}

    return run


def lbfast_dicts(w: Workload) -> Run:
    def run() -> tuple[bytes, dict[str, float]]:
        t0 = time.perf_counter()
        rows = w.build_dicts()
        t1 = time.perf_counter()
        out = lbfast.dumps(rows)
        t2 = time.perf_counter()
        return out, {"build dicts": t1 - t0, "dumps": t2 - t1}

    return run


def lbfast_dumps_only(items: list[Any]) -> Run:
    def run() -> tuple[bytes, dict[str, float]]:
        t0 = time.perf_counter()
        out = lbfast.dumps(items)
        t1 = time.perf_counter()
        return out, {"dumps": t1 - t0}

    return run


# --- measuring and checking ---------------------------------------------------------


class CheckFailed(Exception):
    pass


def minor_faults() -> int:
    """Minor page faults of this process so far (-1 where unknown)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else -1


def page_fault_cost_us(megabytes: int = 16) -> Optional[float]:
    """Microseconds per first touch of a fresh 4 KiB page. About 0.1-0.3 on bare metal;
    in some VMs 10x more, which then penalises every path that maps fresh memory."""
    size = megabytes << 20
    try:
        buf = mmap.mmap(-1, size)
    except (OSError, ValueError):  # pragma: no cover
        return None
    try:
        started = time.perf_counter()
        for offset in range(0, size, 4096):
            buf[offset] = 1
        return (time.perf_counter() - started) / (size // 4096) * 1e6
    finally:
        buf.close()


def parse_lines(out: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in out.splitlines()]


def check_output(case: str, out: bytes, reference: list[dict[str, Any]]) -> None:
    """The bytes of ``case`` say what the SDK's say, up to the uuids (which must be v4)."""
    rows = parse_lines(out)
    diff = workloads.first_difference(rows, reference)
    if diff is not None:
        raise CheckFailed(f"{case}: output differs from the SDK's: {diff}")
    uuids = [row.get("uuid") for row in rows]
    bad = [u for u in uuids if not (isinstance(u, str) and len(u) == 36 and u[14] == "4")]
    if bad:
        raise CheckFailed(f"{case}: {len(bad)} lines without a uuid4, e.g. {bad[0]!r}")
    if len(set(uuids)) != len(uuids):
        raise CheckFailed(f"{case}: repeated uuids")


def measure(case: str, run: Run, rows: int, repeats: int, check: Callable[[bytes], None]) -> Result:
    """One untimed warm-up run, whose output ``check`` inspects, then ``repeats`` timed ones."""
    gc.collect()
    first, _ = run()
    check(first)
    del first
    result = Result(case, rows)
    for _ in range(repeats):
        gc.collect()
        f0 = minor_faults()
        t0 = time.perf_counter()
        out, phases = run()
        elapsed = time.perf_counter() - t0
        faults = minor_faults() - f0
        del out
        result.runs.append(elapsed)
        result.phases.append(phases)
        if f0 >= 0:
            result.faults.append(faults)
    return result


def run_workload(w: Workload, repeats: int) -> list[Result]:
    sys.stdout.flush()  # keep the progress line after the previous table
    print(f"  measuring {w.name} ...", file=sys.stderr, flush=True)
    # The SDK's output is the reference every other path is checked against.
    reference: list[dict[str, Any]] = []

    def keep_reference(out: bytes) -> None:
        reference.extend(parse_lines(out))
        if len(reference) != w.rows:
            raise CheckFailed(f"{SDK_E2E}: {len(reference)} lines, expected {w.rows}")

    def same_as_sdk(case: str) -> Callable[[bytes], None]:
        return lambda out: check_output(case, out, reference)

    results = [measure(SDK_E2E, sdk_end_to_end(w), w.rows, repeats, keep_reference)]
    for case, run in (
        (DICTS_ORJSON, dicts_orjson(w)),
        (LBFAST_TYPED, lbfast_typed(w)),
        (LBFAST_DICTS, lbfast_dicts(w)),
    ):
        results.append(measure(case, run, w.rows, repeats, same_as_sdk(case)))
    # Prebuilt inputs live only while their own case runs.
    for case, build in (
        (LBFAST_DUMPS_TYPED, lambda: w.build_labels(fast_types)),
        (LBFAST_DUMPS_DICTS, w.build_dicts),
    ):
        run = lbfast_dumps_only(build())
        results.append(measure(case, run, w.rows, repeats, same_as_sdk(case)))
        del run
    return results


# --- reporting ----------------------------------------------------------------------


def ratio(baseline: float, value: float) -> str:
    return f"{baseline / value:.2f}x" if value > 0 else "-"


def print_table(w: Workload, results: list[Result], repeats: int) -> None:
    by_case = {r.case: r for r in results}
    sdk = by_case[SDK_E2E].median
    orj = by_case[DICTS_ORJSON].median
    print()
    print(f"== {w.name}: {w.rows:,} rows in {w.labels:,} Labels (median of {repeats}) ==")
    header = (
        f"{'case':<31}{'rows/s':>12}{'median s':>11}{'min s':>10}"
        f"{'vs SDK e2e':>12}{'vs dicts+orjson':>17}{'faults':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        faults = "-" if r.median_faults is None else f"{r.median_faults:,}"
        print(
            f"{r.case:<31}{r.rows / r.median:>12,.0f}{r.median:>11.4f}{r.best:>10.4f}"
            f"{ratio(sdk, r.median):>12}{ratio(orj, r.median):>17}{faults:>9}"
        )
    print("where the time goes (median of each phase):")
    for case in (SDK_E2E, DICTS_ORJSON, LBFAST_TYPED, LBFAST_DICTS):
        phases = by_case[case].phase_medians()
        total = sum(phases.values()) or 1.0
        parts = " + ".join(
            f"{name} {secs:.4f} s ({100 * secs / total:.0f}%)" for name, secs in phases.items()
        )
        print(f"  {case:<20} {parts}")
    typed = by_case[LBFAST_TYPED].phase_medians()
    per_row = {name: 1e6 * secs / w.rows for name, secs in typed.items()}
    print(
        "  lbfast typed per row: "
        + ", ".join(f"{name} {us:.2f} us" for name, us in per_row.items())
        + f"; typed e2e vs SDK e2e: {ratio(sdk, by_case[LBFAST_TYPED].median)}"
    )


def workloads_for(quick: bool) -> list[Workload]:
    n_boxes = 2_000 if quick else 10_000
    n_polygons = 400 if quick else 2_000
    n_nested = 2_000 if quick else 10_000
    boxes = workloads.boxes(n_boxes, per_image=10, seed=0)
    polygons = workloads.polygons(n_polygons, vertices=32, per_image=10, seed=1)
    nested = workloads.boxes(n_nested, per_image=10, seed=3)
    return [
        Workload(
            "boxes with confidence",
            len(boxes),
            len(boxes.global_keys),
            lambda t: workloads.box_labels(t, boxes),
            lambda: workloads.box_dicts(boxes),
        ),
        Workload(
            "32-point polygons with confidence",
            len(polygons),
            len(polygons.global_keys),
            lambda t: workloads.polygon_labels(t, polygons),
            lambda: workloads.polygon_dicts(polygons),
        ),
        Workload(
            "boxes with a nested radio (both with confidence)",
            len(nested),
            len(nested.global_keys),
            lambda t: workloads.box_labels(t, nested, nested=True),
            lambda: workloads.box_dicts(nested, nested=True),
        ),
    ]


def environment() -> dict[str, Any]:
    import pydantic

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "lbfast": lbfast.__version__,
        "labelbox": labelbox.__version__,
        "pydantic": pydantic.VERSION,
        "orjson": orjson.__version__,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "page_fault_us": page_fault_cost_us(),
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the rows")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (>= 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    env = environment()
    print(
        f"lbfast {env['lbfast']} vs labelbox {env['labelbox']} (pydantic {env['pydantic']}), "
        f"orjson {env['orjson']}; Python {env['python']} on {env['machine']}, "
        f"{env['cpus']} CPUs; perf_counter, gc.collect() before each repeat, gc enabled"
    )
    load = env["load_average"]
    fault_us = env["page_fault_us"]
    print(
        (f"load average {load[0]:.2f}; " if load else "")
        + (f"a fresh page costs {fault_us:.2f} us to touch; " if fault_us is not None else "")
        + "'faults' = minor page faults per run (median)"
    )
    started = time.perf_counter()
    report: dict[str, Any] = {"environment": env, "repeats": args.repeats, "workloads": []}
    failed = False
    for w in workloads_for(args.quick):
        try:
            results = run_workload(w, args.repeats)
        except CheckFailed as err:
            print(f"\n!! {w.name}: {err}", file=sys.stderr)
            failed = True
            continue
        print_table(w, results, args.repeats)
        sdk = results[0].median
        orj = next(r for r in results if r.case == DICTS_ORJSON).median
        report["workloads"].append(
            {
                "name": w.name,
                "rows": w.rows,
                "labels": w.labels,
                "cases": [
                    {
                        "case": r.case,
                        "rows_per_s": r.rows / r.median,
                        "median_s": r.median,
                        "min_s": r.best,
                        "runs_s": r.runs,
                        "phase_medians_s": r.phase_medians(),
                        "minor_faults_per_run": r.median_faults,
                        "speedup_vs_sdk_e2e": sdk / r.median,
                        "speedup_vs_dicts_orjson": orj / r.median,
                    }
                    for r in results
                ],
            }
        )
    elapsed = time.perf_counter() - started
    report["seconds"] = elapsed
    print(f"\noutputs checked against the SDK's (ignoring uuids); total {elapsed:.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        print(f"results written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
