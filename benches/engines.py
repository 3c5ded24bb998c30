"""Parquet to NDJSON shards: lbfast alone, in Spark and in Ray, against a row-at-a-time
Spark UDF (the labelspark way), in one run.

The input: ``--boxes`` boxes (default 1M; the issue's figure is 10M) in ``--files``
Parquet files, with a row number, a string global key, a string feature, four float32
corners and a confidence. The ways, each writing Labelbox bbox lines as shards:

* lbfast in one process: ``pyarrow.parquet`` batch by batch into a ``ShardWriter``
  (``write_arrow``, all cores);
* Spark ``local[2]`` with ``lbfast.spark.write_shards``: ``spark``, its default row
  numbering (a counting job, then the writing job); ``spark-index``, ``index="row"``;
* Ray (2 CPUs) with ``lbfast.ray.write_shards`` (``index="row"``);
* a labelspark-style Spark UDF: one Python call per row building a dict, a uuid4 and
  ``json.dumps``, written by Spark as text (labelspark ``collect()``-ed it instead).

Each way runs in a fresh child process (engine start-up not timed), so that the driver's
peak memory (the Python driver's max RSS) is its own. Run at two sizes to see that it
does not grow with the input. Beside the wall time, each way's CPU seconds (its whole
process tree: the JVM and Python workers, Ray's raylet and workers) say how much work
it did, which a shared machine's load does not change.

    .venv/bin/python benches/engines.py [--boxes 1000000] [--files 8] [--skip-udf]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLASSES = ["car", "truck", "bus", "person", "bicycle", "motorcycle", "traffic light", "stop sign"]
WAYS = ("lbfast", "spark", "spark-index", "ray", "udf")


def make_parquet(directory: Path, n: int, files: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    per_file = -(-n // files)
    for f in range(files):
        first, last = f * per_file, min(n, (f + 1) * per_file)
        m = last - first
        x1 = rng.uniform(0, 1800, m).astype(np.float32)
        y1 = rng.uniform(0, 1000, m).astype(np.float32)
        images = (np.arange(first, last) // 20).astype(str)
        table = pa.table(
            {
                "row": pa.array(np.arange(first, last, dtype=np.int64)),
                "image": pa.array(np.char.add("image-", images)),
                "label": pa.array(np.asarray(CLASSES)[rng.integers(0, len(CLASSES), m)]),
                "x1": x1,
                "y1": y1,
                "x2": x1 + rng.uniform(1, 120, m).astype(np.float32),
                "y2": y1 + rng.uniform(1, 120, m).astype(np.float32),
                "score": rng.uniform(0, 1, m).astype(np.float32),
            }
        )
        pq.write_table(table, directory / f"part-{f:03d}.parquet", row_group_size=131_072)


def spec():
    from lbfast.arrow import ColumnMap

    return ColumnMap(
        global_key="image",
        feature="label",
        box=("x1", "y1", "x2", "y2"),
        confidence="score",
        ids="deterministic",
    )


def spark_session():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def run_lbfast(data: Path, out: Path) -> int:
    import pyarrow.parquet as pq

    import lbfast

    rows = 0
    with lbfast.ShardWriter(out) as writer:
        for path in sorted(data.glob("*.parquet")):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=131_072):
                rows += writer.write_arrow(batch, spec(), start=rows)
    return rows


def run_spark(data: Path, out: Path, start, index=None) -> int:
    import lbfast.spark

    session = spark_session()
    df = session.read.parquet(str(data))
    start()
    manifest = lbfast.spark.write_shards(df, spec(), out, index=index)
    return sum(r["rows"] for r in manifest.collect())


def run_spark_index(data: Path, out: Path, start) -> int:
    return run_spark(data, out, start, index="row")


def run_udf(data: Path, out: Path, start) -> int:
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import StringType

    session = spark_session()
    df = session.read.parquet(str(data))

    def row_to_json(image, label, x1, y1, x2, y2, score):
        import uuid

        return json.dumps(
            {
                "uuid": str(uuid.uuid4()),
                "dataRow": {"globalKey": image},
                "name": label,
                "bbox": {"top": y1, "left": x1, "height": y2 - y1, "width": x2 - x1},
                "confidence": score,
            }
        )

    udf = F.udf(row_to_json, StringType())
    start()
    lines = df.select(udf("image", "label", "x1", "y1", "x2", "y2", "score").alias("value"))
    lines.write.text(str(out))
    return df.count()


def run_ray(data: Path, out: Path, start) -> int:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # On loopback only (Ray moves 127.0.0.1 to a reachable address unless this is off).
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    import lbfast.ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        configure_logging=False,
        log_to_driver=False,
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    start()
    ds = ray.data.read_parquet(str(data))
    manifest = lbfast.ray.write_shards(ds, spec(), out, index="row")
    return sum(r["rows"] for r in manifest.take_all())


def tree_cpu_seconds() -> float:
    """CPU seconds used so far by this process and every live descendant (the JVM and
    Spark's Python workers, Ray's raylet and workers), with the children they reaped:
    on a shared machine, the work done, whatever the wall clock says."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[tuple[int, float]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        used = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
        children.setdefault(int(fields[1]), []).append((int(entry), used))
    own = os.times()
    total, todo = own.user + own.system + own.children_user + own.children_system, [os.getpid()]
    while todo:
        for pid, used in children.get(todo.pop(), []):
            total += used
            todo.append(pid)
    return total


def child(way: str, data: Path, out: Path) -> None:
    """One way, timed from when its engine is up; prints a JSON line of the result."""
    began = [time.perf_counter()]
    cpu_began = [tree_cpu_seconds()]

    def start() -> None:
        began[0] = time.perf_counter()
        cpu_began[0] = tree_cpu_seconds()

    if way == "lbfast":
        rows = run_lbfast(data, out)
    else:
        ways = {"spark": run_spark, "spark-index": run_spark_index, "ray": run_ray, "udf": run_udf}
        rows = ways[way](data, out, start)
    seconds = time.perf_counter() - began[0]
    cpu = tree_cpu_seconds() - cpu_began[0]
    peak_mib = driver_peak_mib()
    result = {"way": way, "rows": rows, "seconds": seconds, "cpu_seconds": cpu}
    print(json.dumps({**result, "driver_peak_mib": peak_mib}))


def driver_peak_mib() -> float:
    """This process's peak resident memory: VmHWM, which starts afresh at exec (unlike
    getrusage's ru_maxrss, which a child inherits from its parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boxes", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--skip-udf", action="store_true", help="the row UDF is slow")
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="lbfast-engines-") as tmp:
        data = Path(tmp) / "parquet"
        data.mkdir()
        make_parquet(data, args.boxes, args.files)
        results = {}
        for way in WAYS:
            if way == "udf" and args.skip_udf:
                continue
            out = Path(tmp) / f"out-{way}"
            command = [sys.executable, __file__, "--child", way, "--data", str(data)]
            done = subprocess.run(
                [*command, "--out", str(out)], check=False, capture_output=True, text=True
            )
            if done.returncode:
                raise SystemExit(f"{way} failed:\n{done.stderr[-4000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if result["rows"] != args.boxes:
                raise SystemExit(f"{way} wrote {result['rows']} rows, not {args.boxes}")
            results[way] = result
            print(json.dumps(result), file=sys.stderr)
    base = results["lbfast"]["seconds"]
    print(f"{args.boxes:,} boxes, {args.files} Parquet files, 2 cores")
    cpu_base = results["lbfast"]["cpu_seconds"]
    header = f"{'way':<12}{'seconds':>9}{'Mrows/s':>9}{'x lbfast':>10}{'cpu s':>8}{'x lbfast':>10}"
    print(f"{header}{'driver MiB':>12}")
    for way, r in results.items():
        rate = r["rows"] / r["seconds"] / 1e6
        ratio = r["seconds"] / base
        cpu_ratio = r["cpu_seconds"] / cpu_base
        print(
            f"{way:<12}{r['seconds']:>9.2f}{rate:>9.2f}{ratio:>10.2f}{r['cpu_seconds']:>8.1f}"
            f"{cpu_ratio:>10.2f}{r['driver_peak_mib']:>12.0f}"
        )
    if "udf" in results:
        for way in ("lbfast", "spark", "spark-index", "ray"):
            speedup = results["udf"]["seconds"] / results[way]["seconds"]
            cpu_speedup = results["udf"]["cpu_seconds"] / results[way]["cpu_seconds"]
            print(f"{way} is {speedup:.1f}x the row UDF ({cpu_speedup:.1f}x in CPU seconds)")


if __name__ == "__main__":
    main()
