"""lbfast.spark against a real Spark (local mode, loopback only): the executors write
atomic shards whose lines equal lbfast.arrow.convert of the whole table, a retried task
leaves the same files as an undisturbed run, and only the manifest reaches the driver."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from engine_helpers import SPEC, directory_files, environment, predictions, shard_bytes

import lbfast.arrow
import lbfast.spark
from lbfast.arrow import ColumnMap

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import SparkSession  # noqa: E402

N = 900
# Small Arrow batches and shards, so that a partition has several of each.
BATCH_ROWS = 100
SHARD_ROWS = 160

# Spark's options that keep it on loopback, without a UI and without progress output.
_LOOPBACK_ENV = {"SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}


@pytest.fixture(scope="module")
def spark():
    with environment(_LOOPBACK_ENV):
        yield from _session()


def _session():
    session = (
        # local[2, 2]: two threads, and a failed task is tried once more (plain local[2]
        # never retries: spark.task.maxFailures does not apply in local mode).
        SparkSession.builder.master("local[2,2]")
        .appName("lbfast-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def table():
    return predictions(N)


@pytest.fixture(scope="module")
def frame(spark, table):
    """The table as a DataFrame in 3 partitions, read the same way every time."""
    return (
        spark.createDataFrame(table.to_pandas()).repartition(3, "row").sortWithinPartitions("row")
    )


def test_shards_equal_convert_of_the_whole_table(spark, frame, table, tmp_path):
    manifest = lbfast.spark.write_shards(frame, SPEC, tmp_path, max_rows=SHARD_ROWS)
    rows = manifest.collect()
    paths = [r["path"] for r in rows]
    assert paths == sorted(paths)
    assert {Path(p).parent for p in paths} == {tmp_path}
    # Each partition's rows are numbered after the previous partitions', so the lines
    # (deterministic ids included) are those of one conversion of the table in
    # partition order.
    in_partition_order = pa.Table.from_pandas(frame.toPandas(), preserve_index=False)
    assert shard_bytes(paths) == lbfast.arrow.convert(in_partition_order, SPEC)
    assert sum(r["rows"] for r in rows) == N
    assert all(r["rows"] <= SHARD_ROWS for r in rows)
    assert [r["bytes"] for r in rows] == [Path(p).stat().st_size for p in paths]
    assert all(r["masks"] == 0 for r in rows)
    features = Counter()
    for r in rows:
        features.update(dict(r["features"]))
    assert features == Counter(table.column("label").to_pylist())
    # Only the shards: no temporary file is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(p).name for p in paths)
    # Shards are named by partition, so that a retry names them the same.
    assert {Path(p).name.split("-")[1] for p in paths} == {"00000", "00001", "00002"}


def test_an_index_column_numbers_the_rows_without_a_counting_job(spark, table, tmp_path):
    frame = spark.createDataFrame(table.to_pandas())
    manifest = lbfast.spark.write_shards(frame, SPEC, tmp_path, index="row", gzip=True)
    paths = [r["path"] for r in manifest.collect()]
    assert all(p.endswith(".ndjson.gz") for p in paths)
    import gzip

    lines = b"".join(gzip.decompress(Path(p).read_bytes()) for p in sorted(paths))
    assert lines == lbfast.arrow.convert(table, SPEC)


def test_box_as_a_list_column(spark, table, tmp_path):
    """Spark has no fixed-size lists: a box column is an array<float> of 4."""
    from pyspark.sql import functions as F  # noqa: N812

    frame = spark.createDataFrame(table.to_pandas()).select(
        "row", "image", "label", F.array("x1", "y1", "x2", "y2").alias("box"), "score"
    )
    spec = ColumnMap(
        global_key="image", feature="label", box="box", confidence="score", ids="deterministic"
    )
    paths = [r["path"] for r in lbfast.spark.write_shards(frame, spec, tmp_path).collect()]
    assert shard_bytes(paths) == lbfast.arrow.convert(table, SPEC)


def _flaky(marker: str):
    """A pass-through mapInArrow function whose first attempt at partition 0 fails
    after handing on one batch, leaving ``marker`` behind to show it did."""

    def passthrough(batches):
        from pyspark import TaskContext

        context = TaskContext.get()
        fail = context.partitionId() == 0 and context.attemptNumber() == 0
        for n, batch in enumerate(batches):
            if fail and n == 2:
                Path(marker).touch()
                raise RuntimeError("injected failure of the first attempt")
            yield batch

    return passthrough


def test_a_retried_task_leaves_the_same_files_as_an_undisturbed_run(spark, frame, tmp_path):
    calm, retried = tmp_path / "calm", tmp_path / "retried"
    lbfast.spark.write_shards(frame, SPEC, calm, max_rows=SHARD_ROWS)
    marker = tmp_path / "failed-once"
    flaky = frame.mapInArrow(_flaky(str(marker)), frame.schema)
    manifest = lbfast.spark.write_shards(flaky, SPEC, retried, max_rows=SHARD_ROWS)
    assert marker.exists(), "the injected failure did not happen"
    # Exactly the shards of the undisturbed run, byte for byte, and nothing else.
    assert directory_files(retried) == directory_files(calm)
    assert sorted(Path(r["path"]).name for r in manifest.collect()) == sorted(
        p.name for p in calm.iterdir()
    )


def test_a_bad_row_fails_the_job_naming_it(spark, table, tmp_path):
    from pyspark.sql import functions as F  # noqa: N812

    bad = spark.createDataFrame(table.to_pandas()).withColumn(
        "score", F.when(F.col("row") == 5, F.lit(1.5)).otherwise(F.col("score"))
    )
    with pytest.raises(Exception, match="row 5: score: confidence must be"):
        lbfast.spark.write_shards(bad, SPEC, tmp_path, index="row")


def test_arguments_are_checked_on_the_driver(frame, tmp_path):
    with pytest.raises(TypeError, match="ColumnMap"):
        lbfast.spark.write_shards(frame, {"box": "b"}, tmp_path)
    with pytest.raises(ValueError, match="max_rows"):
        lbfast.spark.write_shards(frame, SPEC, tmp_path, max_rows=0)
    with pytest.raises(ValueError, match="prefix"):
        lbfast.spark.write_shards(frame, SPEC, tmp_path, prefix="../x")


def _fewer_rows_the_second_time(flags: str):
    """A pass-through that drops every other row of a partition it has seen before."""

    def passthrough(batches):
        from pyspark import TaskContext

        flag = Path(flags) / f"seen-{TaskContext.get().partitionId()}"
        again = flag.exists()
        flag.touch()
        for batch in batches:
            yield (
                batch.filter(pa.array([i % 2 == 0 for i in range(batch.num_rows)]))
                if again
                else batch
            )

    return passthrough


def test_a_frame_that_changes_between_count_and_write_fails_and_leaves_no_shards(frame, tmp_path):
    flags, out = tmp_path / "flags", tmp_path / "out"
    flags.mkdir()
    changing = frame.mapInArrow(_fewer_rows_the_second_time(str(flags)), frame.schema)
    with pytest.raises(Exception, match="not computed the same way twice"):
        lbfast.spark.write_shards(changing, SPEC, out, max_rows=SHARD_ROWS)
    assert list(out.iterdir()) == []


def test_the_counting_job_sends_python_only_a_constant_column_unless_the_plan_shuffles(
    spark, table
):
    from lbfast.spark import _shuffles

    frame = spark.createDataFrame(table.to_pandas())
    assert not _shuffles(frame)
    assert _shuffles(frame.repartition(3))
    assert _shuffles(frame.groupBy("image").count())


def _one_partition_always_fails(done: str):
    """Partition 0 passes its rows on at once; every other partition waits until a
    shard of partition 0 is on disk, then fails, on every attempt."""

    def passthrough(batches):
        import time

        from pyspark import TaskContext

        if TaskContext.get().partitionId() != 0:
            deadline = time.monotonic() + 60
            while not any(Path(done).glob("*-00000-*.ndjson")) and time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError("injected failure of every attempt")
        yield from batches

    return passthrough


def test_a_failed_job_leaves_no_shard_of_the_partitions_that_succeeded(frame, tmp_path):
    failing = frame.mapInArrow(_one_partition_always_fails(str(tmp_path)), frame.schema)
    with pytest.raises(Exception, match="injected failure of every attempt"):
        lbfast.spark.write_shards(failing, SPEC, tmp_path, index="row", max_rows=SHARD_ROWS)
    assert list(tmp_path.iterdir()) == []
