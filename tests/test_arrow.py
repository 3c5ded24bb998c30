"""The Arrow entrance (lbfast.arrow): each producer's native layouts give the lines the
numpy entrance (lbfast.columnar) writes for the same predictions, byte for byte."""

import json
import uuid

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lbfast
from lbfast.arrow import ColumnMap, NestedRadio
from lbfast.columnar import Boxes, GlobalClassifications, Points, Polygons, Polylines, RadioSubclass

IMAGES = ["img-a", "img-a", "img-b", "img-c", "img-c", "img-a"]
LABELS = ["car", "bus", "car", "car", "person", "car"]
CORNERS = np.array(
    [[1, 2, 10, 20], [3, 4, 30, 40], [0.5, 0.25, 8, 9], [5, 5, 6, 6], [7, 8, 70, 80], [1, 1, 2, 2]],
    dtype=np.float32,
)
SCORES = [0.5, 0.25, 1.0, 0.0, 0.75, 0.125]
N = len(IMAGES)


def numpy_boxes(**kw):
    """The same predictions through the numpy entrance."""
    data_rows = sorted(set(IMAGES))
    features = sorted(set(LABELS))
    return lbfast.dumps(
        [
            Boxes(
                kw.pop("boxes", CORNERS),
                data_rows=data_rows,
                image_index=[data_rows.index(i) for i in IMAGES],
                features=features,
                class_ids=[features.index(f) for f in LABELS],
                confidence=kw.pop("confidence", SCORES),
                ids="deterministic",
                **kw,
            )
        ]
    )


def table(**columns):
    base = {
        "image": pa.array(IMAGES),
        "label": pa.array(LABELS),
        "x1": pa.array(CORNERS[:, 0]),
        "y1": pa.array(CORNERS[:, 1]),
        "x2": pa.array(CORNERS[:, 2]),
        "y2": pa.array(CORNERS[:, 3]),
        "score": pa.array(SCORES),
    }
    base.update(columns)
    return pa.table(base)


BOXES = ColumnMap(
    global_key="image",
    feature="label",
    box=("x1", "y1", "x2", "y2"),
    confidence="score",
    ids="deterministic",
)


def test_four_float32_columns_give_the_numpy_lines():
    assert lbfast.arrow.convert(table(), BOXES) == numpy_boxes()


@pytest.mark.parametrize(
    "strings",
    [
        pa.string(),
        pa.large_string(),
        pa.string_view(),
        pa.dictionary(pa.int8(), pa.string()),
        pa.dictionary(pa.uint16(), pa.large_string()),
        pa.dictionary(pa.int64(), pa.string()),
    ],
    ids=str,
)
def test_every_string_layout(strings):
    def cast(values):
        return pa.array(values).cast(strings)

    data = table(image=cast(IMAGES), label=cast(LABELS))
    assert lbfast.arrow.convert(data, BOXES) == numpy_boxes()


@pytest.mark.parametrize(
    "box_type",
    [
        pa.list_(pa.float32(), 4),
        pa.list_(pa.float64()),
        pa.large_list(pa.float16()),
        pa.list_(pa.int32()),
    ],
    ids=str,
)
def test_every_box_list_layout(box_type):
    values = CORNERS.astype(np.int32) if pa.types.is_integer(box_type.value_type) else CORNERS
    data = pa.table(
        {
            "image": IMAGES,
            "label": LABELS,
            "bbox": pa.array(values.tolist(), box_type),
            "score": SCORES,
        }
    )
    spec = ColumnMap(
        global_key="image", feature="label", box="bbox", confidence="score", ids="deterministic"
    )
    expected = values.astype(np.float16) if box_type.value_type == pa.float16() else values
    assert lbfast.arrow.convert(data, spec) == numpy_boxes(boxes=expected)


def test_class_ids_and_normalised_xywh_boxes():
    features = ["bus", "car", "person"]
    data = table(
        label=pa.array([features.index(f) for f in LABELS], pa.uint8()),
        w=pa.array([640] * N, pa.int32()),
        h=pa.array([480.0] * N),
        x1=pa.array([0.1] * N),
        y1=pa.array([0.2] * N),
        x2=pa.array([0.3] * N),
        y2=pa.array([0.4] * N),
    )
    spec = ColumnMap(
        global_key="image",
        feature="label",
        features=features,
        box=("x1", "y1", "x2", "y2"),
        box_format="xywh",
        normalized=True,
        width="w",
        height="h",
        confidence="score",
        ids="deterministic",
    )
    expected = numpy_boxes(
        boxes=np.array([[0.1, 0.2, 0.3, 0.4]] * N),
        box_format="xywh",
        normalized=True,
        image_sizes=[[640, 480]] * 3,
    )
    assert lbfast.arrow.convert(data, spec) == expected


def test_a_null_confidence_means_none():
    data = table(score=pa.array([0.5, None, 1.0, None, 0.75, 0.125]))
    lines = [json.loads(line) for line in lbfast.arrow.convert(data, BOXES).splitlines()]
    assert [line.get("confidence") for line in lines] == [0.5, None, 1.0, None, 0.75, 0.125]
    assert "confidence" not in lines[1]


def test_nulls_in_required_columns_name_row_and_column():
    data = table(
        image=pa.array(["img-a", None, "img-b", "img-c", "img-c", "img-a"]),
        label=pa.array(["car", "bus", "car", None, "person", "car"]),
        y2=pa.array([20.0, 40, 9, 6, None, 2]),
    )
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.arrow.convert(data, BOXES)
    found = {(e["row"], e["path"], e["kind"]) for e in err.value.errors()}
    assert found == {(1, "image", "missing"), (3, "label", "missing"), (4, "y2", "missing")}


def test_rule_problems_name_the_users_columns_and_the_inputs_rows():
    data = table(
        score=pa.array([0.5, 0.25, 0.5, 1.5, 0.75, 0.125]), y2=pa.array([20.0, 40, 9, 6, np.nan, 2])
    )
    # Batch by batch: the first batch with problems raises, naming all of its own.
    batches = pa.Table.from_batches(data.to_batches(max_chunksize=3))
    with pytest.raises(lbfast.ValidationError) as err:
        lbfast.arrow.convert(batches, BOXES, start=100)
    assert {(e["row"], e["path"], e["kind"]) for e in err.value.errors()} == {
        (103, "score", "confidence"),
        (104, "y2", "not_finite"),
    }


def test_a_missing_column_and_a_wrong_type():
    with pytest.raises(lbfast.ValidationError, match="score"):
        lbfast.arrow.convert(table().drop_columns(["score"]), BOXES)
    with pytest.raises(TypeError, match="x1"):
        lbfast.arrow.convert(table(x1=pa.array(["1"] * N)), BOXES)


def test_batch_by_batch_is_the_whole_and_keeps_ids():
    data = table()
    whole = numpy_boxes()
    reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches(max_chunksize=4))
    parts = list(lbfast.arrow.iter_convert(reader, BOXES))
    assert len(parts) == 2
    assert b"".join(parts) == whole
    # One batch at a time, as an engine hands them out, with its first row.
    second = data.slice(4).to_batches()[0]
    assert lbfast.arrow.convert_batch(second, BOXES, start=4) == b"".join(
        whole.splitlines(True)[4:]
    )


def test_polars_native_layouts():
    frame = pl.DataFrame(
        {
            "image": pl.Series(IMAGES, dtype=pl.String),
            "label": pl.Series(LABELS, dtype=pl.Categorical),
            "bbox": pl.Series(CORNERS.tolist(), dtype=pl.Array(pl.Float32, 4)),
            "score": pl.Series(SCORES, dtype=pl.Float64),
        }
    )
    spec = ColumnMap(
        global_key="image", feature="label", box="bbox", confidence="score", ids="deterministic"
    )
    assert lbfast.arrow.convert(frame, spec) == numpy_boxes()
    as_list = frame.with_columns(
        pl.col("bbox").cast(pl.List(pl.Float32)), pl.col("label").cast(pl.String)
    )
    assert lbfast.arrow.convert(as_list, spec) == numpy_boxes()
    enum = frame.with_columns(pl.col("image").cast(pl.Enum(sorted(set(IMAGES)))))
    assert lbfast.arrow.convert(enum, spec) == numpy_boxes()


def test_duckdb_native_layouts():
    con = duckdb.connect()
    con.execute("CREATE TYPE image AS ENUM ('img-a', 'img-b', 'img-c')")
    rows = ", ".join(
        f"('{i}', '{f}', [{', '.join(str(float(v)) for v in b)}]::FLOAT[4], {s})"
        for i, f, b, s in zip(IMAGES, LABELS, CORNERS, SCORES)
    )
    rel = con.sql(
        f"SELECT image::image AS image, label, bbox, score FROM (VALUES {rows}) t(image, label, bbox, score)"
    )
    spec = ColumnMap(
        global_key="image", feature="label", box="bbox", confidence="score", ids="deterministic"
    )
    assert lbfast.arrow.convert(rel, spec) == numpy_boxes()
    as_list = con.sql(
        f"SELECT image, label, bbox::FLOAT[] AS bbox, score FROM (VALUES {rows}) t(image, label, bbox, score)"
    )
    assert lbfast.arrow.convert(as_list, spec) == numpy_boxes()


SHAPES = [[(0, 0), (4, 0), (4, 3)], [(1, 1), (2, 2), (3, 1), (1, 1)]]


def ragged_numpy(kind):
    coords = np.array([p for shape in SHAPES for p in shape], dtype=np.float64)
    offsets = np.cumsum([0] + [len(s) for s in SHAPES])
    return lbfast.dumps(
        [
            kind(
                coords,
                offsets,
                data_rows=["a", "b"],
                features=["roof"],
                confidence=[0.5, 0.25],
                ids="deterministic",
            )
        ]
    )


@pytest.mark.parametrize(
    "layout",
    [
        pa.list_(pa.struct([("x", pa.float64()), ("y", pa.float32())])),
        pa.large_list(pa.struct([("x", pa.float64()), ("y", pa.float64())])),
        pa.list_(pa.list_(pa.float64(), 2)),
        "flat",
    ],
    ids=str,
)
@pytest.mark.parametrize("kind", ["polygon", "line"])
def test_polygons_and_lines_in_every_layout(layout, kind):
    if layout == "flat":
        column = pa.array([[v for p in s for v in p] for s in SHAPES], pa.large_list(pa.float32()))
    elif pa.types.is_struct(layout.value_type):
        column = pa.array([[{"x": x, "y": y} for x, y in s] for s in SHAPES], layout)
    else:
        column = pa.array([[list(p) for p in s] for s in SHAPES], layout)
    data = pa.table(
        {"image": ["a", "b"], "label": ["roof", "roof"], "shape": column, "score": [0.5, 0.25]}
    )
    spec = ColumnMap(
        global_key="image",
        feature="label",
        confidence="score",
        ids="deterministic",
        **{kind: "shape"},
    )
    expected = ragged_numpy(Polygons if kind == "polygon" else Polylines)
    assert lbfast.arrow.convert(data, spec) == expected


@pytest.mark.parametrize("layout", ["struct", "list", "columns"])
def test_points(layout):
    pts = [(1.5, 2.5), (3.0, 4.0)]
    columns = {"image": ["a", "b"], "label": ["eye", "eye"]}
    if layout == "struct":
        columns["pt"] = pa.array([{"x": x, "y": y} for x, y in pts])
        point = "pt"
    elif layout == "list":
        columns["pt"] = pa.array([list(p) for p in pts], pa.list_(pa.float32(), 2))
        point = "pt"
    else:
        columns["px"], columns["py"] = [p[0] for p in pts], [p[1] for p in pts]
        point = ("px", "py")
    spec = ColumnMap(global_key="image", feature="label", point=point, ids="deterministic")
    expected = lbfast.dumps(
        [Points(pts, data_rows=["a", "b"], features=["eye"], ids="deterministic")]
    )
    assert lbfast.arrow.convert(pa.table(columns), spec) == expected


def test_nested_radio_per_object():
    data = table(
        occluded=pa.array(["no", "yes", "no", "no", "yes", "no"]).dictionary_encode(),
        occ=pa.array([0.5] * N),
    )
    spec = ColumnMap(
        global_key="image",
        feature="label",
        box=("x1", "y1", "x2", "y2"),
        confidence="score",
        subclass=NestedRadio("occluded", answer="occluded", confidence="occ"),
        ids="deterministic",
    )
    answers = ["no", "yes"]
    sub = RadioSubclass(
        "occluded",
        answers,
        [answers.index(a) for a in data["occluded"].to_pylist()],
        confidence=[0.5] * N,
    )
    assert lbfast.arrow.convert(data, spec) == numpy_boxes(subclass=sub)


def test_global_classifications():
    data = pa.table(
        {
            "image": ["a", "b"],
            "weather": ["sunny", "rainy"],
            "tags": pa.array([["x", "z"], ["y"]], pa.list_(pa.string_view())),
            "tag_scores": [[0.1, 0.2], [0.3]],
            "caption": pa.array(['a "quoted" one', "two\n"], pa.large_string()),
            "score": [0.75, 1.0],
        }
    )
    ns = uuid.uuid4()

    def both(arrow, numpy):
        got = lbfast.arrow.convert(data, ColumnMap(global_key="image", ids=ns, **arrow))
        assert got == lbfast.dumps([GlobalClassifications(data_rows=["a", "b"], ids=ns, **numpy)])

    both(
        {"question": "weather", "radio": "weather", "confidence": "score"},
        {
            "kind": "radio",
            "question": "weather",
            "answers": ["sunny", "rainy"],
            "answer_ids": [0, 1],
            "confidence": [0.75, 1.0],
        },
    )
    both(
        {"question": "tags", "checklist": "tags", "confidence": "tag_scores"},
        {
            "kind": "checklist",
            "question": "tags",
            "answers": ["x", "z", "y"],
            "answer_ids": [0, 1, 2],
            "offsets": [0, 2, 3],
            "confidence": [0.1, 0.2, 0.3],
        },
    )
    both(
        {"question": "caption", "text": "caption", "confidence": "score"},
        {
            "kind": "text",
            "question": "caption",
            "texts": ['a "quoted" one', "two\n"],
            "confidence": [0.75, 1.0],
        },
    )


def test_lines_and_manifests_as_arrow():
    batches = list(lbfast.arrow.convert_to_arrow(table(), BOXES))
    assert len(batches) == 1
    got = pa.record_batch(batches[0])
    assert got.schema.names == ["ndjson"]
    assert [
        line.encode() + b"\n" for line in got.column(0).to_pylist()
    ] == numpy_boxes().splitlines(True)
    assert pl.from_arrow(pa.record_batch(batches[0])).height == N
    shards = [
        lbfast.Shard(path="s-0.ndjson", rows=4, bytes=100, masks=0),
        lbfast.Shard(path="s-1.ndjson", rows=2, bytes=50, masks=1),
    ]
    manifest = pa.record_batch(
        lbfast.arrow.manifest_batch(shards, [{"car": 3, "bus": 1}, {"car": 2}])
    )
    assert manifest.to_pylist() == [
        {
            "path": "s-0.ndjson",
            "rows": 4,
            "bytes": 100,
            "masks": 0,
            "features": [("bus", 1), ("car", 3)],
        },
        {"path": "s-1.ndjson", "rows": 2, "bytes": 50, "masks": 1, "features": [("car", 2)]},
    ]


def test_no_numpy_and_no_pyarrow_needed_to_read():
    """The reader takes the C interface: an object that only has __arrow_c_stream__."""

    class Capsules:
        def __init__(self, t):
            self.t = t

        def __arrow_c_stream__(self, requested_schema=None):
            return self.t.__arrow_c_stream__(requested_schema)

    assert lbfast.arrow.convert(Capsules(table()), BOXES) == numpy_boxes()
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        lbfast.arrow.convert([1, 2], BOXES)


def test_column_map_mistakes_fail_before_reading():
    with pytest.raises(ValueError, match="exactly one of box"):
        ColumnMap(global_key="image", feature="label")
    with pytest.raises(ValueError, match="global_key and data_row_id"):
        ColumnMap(feature="label", box="b")
    with pytest.raises(TypeError, match="box must be"):
        ColumnMap(global_key="image", feature="label", box=("a", "b"))
    with pytest.raises(ValueError, match="width and height"):
        ColumnMap(global_key="image", feature="label", box="b", normalized=True)


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".feather"])
def test_cli_converts_parquet_and_arrow_ipc_batch_by_batch(tmp_path, suffix):
    import io

    import pyarrow.feather
    import pyarrow.parquet as pq

    from lbfast.cli import main

    source = tmp_path / f"boxes{suffix}"
    if suffix == ".parquet":
        pq.write_table(table(), source, row_group_size=4)
    elif suffix == ".arrow":
        with pa.OSFile(str(source), "wb") as f, pa.ipc.new_stream(f, table().schema) as writer:
            writer.write_table(table(), max_chunksize=4)
    else:
        pyarrow.feather.write_feather(table(), source, chunksize=4)
    target = tmp_path / "out.ndjson"
    args = ["convert", str(source), "-o", str(target)]
    maps = [
        "global_key=image",
        "feature=label",
        "box=x1,y1,x2,y2",
        "confidence=score",
        "ids=deterministic",
    ]
    out = io.StringIO()
    assert main([*args, *(a for m in maps for a in ("--map", m))], stdout=out) == 0, out.getvalue()
    assert target.read_bytes() == numpy_boxes()

    bad = tmp_path / f"bad{suffix}"
    broken = table(score=pa.array([0.5, 0.25, 0.5, 0.5, 0.75, 3.0]))
    if suffix == ".parquet":
        pq.write_table(broken, bad, row_group_size=4)
    else:
        pyarrow.feather.write_feather(broken, bad, chunksize=4)
    out = io.StringIO()
    assert (
        main(
            [
                "convert",
                str(bad),
                "-o",
                str(tmp_path / "no.ndjson"),
                *(a for m in maps for a in ("--map", m)),
            ],
            stdout=out,
        )
        == 1
    )
    assert "row 5: score: confidence" in out.getvalue()
    assert not (tmp_path / "no.ndjson").exists()
    err = io.StringIO()
    assert (
        main(
            ["convert", str(source), "-o", str(target), "--map", "nonsense=1"],
            stdout=err,
            stderr=err,
        )
        == 2
    )


def test_shard_writer_writes_arrow_tables(tmp_path):
    with lbfast.ShardWriter(tmp_path, max_rows=4) as writer:
        assert writer.write_arrow(table(), BOXES) == N
    manifest = writer.manifest
    assert [s.rows for s in manifest.shards] == [4, 2]
    assert b"".join(p.read_bytes() for p in manifest.paths) == numpy_boxes()
    assert manifest.features == {"car": 4, "bus": 1, "person": 1}


_texts = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["k1", 'k"2', "é/3"]) | _texts,
            st.sampled_from(["car", "bus"]) | _texts,
            st.lists(st.floats(-1e6, 1e6, width=32), min_size=4, max_size=4),
            st.floats(0, 1),
        ),
        min_size=1,
        max_size=40,
    ),
    chunk=st.integers(1, 7),
    box_format=st.sampled_from(["xyxy", "xywh", "cxcywh"]),
    dictionary=st.booleans(),
)
def test_any_table_in_any_chunking_writes_the_numpy_lines(rows, chunk, box_format, dictionary):
    keys, labels, boxes, scores = (list(col) for col in zip(*rows))
    boxes = np.abs(np.array(boxes, dtype=np.float32))  # widths must not be negative
    strings = (lambda v: pa.array(v).dictionary_encode()) if dictionary else pa.array
    data = pa.table(
        {
            "k": strings(keys),
            "f": strings(labels),
            "b": pa.array(list(boxes), pa.list_(pa.float32(), 4)),
            "s": scores,
        }
    )
    chunked = pa.Table.from_batches(data.to_batches(max_chunksize=chunk))
    spec = ColumnMap(
        global_key="k",
        feature="f",
        box="b",
        box_format=box_format,
        confidence="s",
        ids="deterministic",
    )
    data_rows, features = sorted(set(keys)), sorted(set(labels))
    expected = lbfast.dumps(
        [
            Boxes(
                boxes,
                data_rows=data_rows,
                image_index=[data_rows.index(k) for k in keys],
                features=features,
                class_ids=[features.index(f) for f in labels],
                confidence=scores,
                box_format=box_format,
                ids="deterministic",
            )
        ]
    )
    assert lbfast.arrow.convert(chunked, spec) == expected


def test_custom_metrics_mean_what_the_sdk_writes():
    """A number column per metric; a null leaves that metric out of its row's line."""
    import labelbox.types as sdk_types
    from sdk_oracle import assert_lines_match, metric, sdk_lines

    iou = [0.5, None, 0.25]
    area = [10.0, 20.0, None]
    data = pa.table(
        {
            "image": ["a", "a", "b"],
            "label": ["car", "car", "dog"],
            "x1": [1.0, 2.0, 3.0],
            "y1": [1.0, 2.0, 3.0],
            "x2": [5.0, 6.0, 7.0],
            "y2": [5.0, 6.0, 9.0],
            "iou": pa.array(iou, pa.float32()),
            "area": pa.array(area, pa.float64()),
        }
    )
    spec = ColumnMap(
        global_key="image",
        feature="label",
        box=("x1", "y1", "x2", "y2"),
        custom_metrics={"iou": "iou", "area": "area"},
    )
    fast = [json.loads(line) for line in lbfast.arrow.convert(data, spec).splitlines()]

    def annotation(i):
        given = [(n, v[i]) for n, v in (("iou", iou), ("area", area)) if v[i] is not None]
        row = data.slice(i, 1).to_pylist()[0]
        return sdk_types.ObjectAnnotation(
            name=row["label"],
            value=sdk_types.Rectangle(
                start=sdk_types.Point(x=row["x1"], y=row["y1"]),
                end=sdk_types.Point(x=row["x2"], y=row["y2"]),
            ),
            custom_metrics=[metric(sdk_types, n, v) for n, v in given],
        )

    labels = [
        sdk_types.Label(data={"global_key": "a"}, annotations=[annotation(0), annotation(1)]),
        sdk_types.Label(data={"global_key": "b"}, annotations=[annotation(2)]),
    ]
    assert_lines_match(fast, sdk_lines(labels))
    assert "customMetrics" in fast[1] and [m["name"] for m in fast[1]["customMetrics"]] == ["area"]


def test_a_bad_custom_metric_names_its_column_and_row():
    spec = ColumnMap(
        global_key="image", feature="label", box=("x1", "y1", "x2", "y2"), custom_metrics={"m": "m"}
    )
    bad = table(m=pa.array([0.5, float("nan")] + [0.1] * (len(IMAGES) - 2)))
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.arrow.convert(bad, spec)
    assert [(e["row"], e["path"]) for e in caught.value.errors()] == [(1, "m")]
    assert "must be finite" in caught.value.errors()[0]["message"]
    with pytest.raises(ValueError, match="custom_metrics are taken on objects"):
        ColumnMap(global_key="image", question="q", text="t", custom_metrics={"m": "m"})


def test_cli_map_takes_custom_metrics():
    from lbfast.tables import column_map

    spec = column_map(
        [
            "global_key=image",
            "feature=label",
            "box=b",
            "custom_metrics=iou:iou_col,area",
            "custom_metrics=x",
        ]
    )
    assert spec.custom_metrics == {"iou": "iou_col", "area": "area", "x": "x"}


def _without_uuids(ndjson: bytes) -> list[dict]:
    lines = [json.loads(line) for line in ndjson.splitlines()]
    for line in lines:
        line.pop("uuid")
    return lines


def _two_masks():
    first = np.zeros((4, 5), np.uint8)
    first[1:3, 2:4] = 1
    second = np.zeros((4, 5), np.uint8)
    second[0, :] = 1
    return first, second


def test_rle_masks_give_the_instance_mask_lines():
    from lbfast.masks import InstanceMasks, rle_encode

    first, second = _two_masks()
    compressed = [rle_encode(m) for m in (first, second)]
    runs = [rle_encode(m, compressed=False) for m in (first, second)]
    expected = lbfast.dumps(
        [
            InstanceMasks(
                np.stack([first, second]),
                data_rows=["img"],
                features=["cell", "edge"],
                class_ids=[0, 1],
                confidence=[0.5, 0.75],
            )
        ]
    )
    for rles in (compressed, runs):
        data = pa.table(
            {
                "image": ["img", "img"],
                "label": ["cell", "edge"],
                "score": [0.5, 0.75],
                "rle": pa.array([{"size": r["size"], "counts": r["counts"]} for r in rles]),
            }
        )
        spec = ColumnMap(global_key="image", feature="label", mask="rle", confidence="score")
        assert _without_uuids(lbfast.arrow.convert(data, spec)) == _without_uuids(expected)


def test_png_masks_give_the_dict_lines_and_deterministic_ids_repeat():
    import base64
    import io

    from PIL import Image

    pngs = []
    for mask in _two_masks():
        out = io.BytesIO()
        Image.fromarray(mask * 255).save(out, format="PNG")
        pngs.append(out.getvalue())
    for binary in (pa.binary(), pa.large_binary()):
        data = pa.table(
            {"image": ["a", "b"], "label": ["cell", "cell"], "png": pa.array(pngs, binary)}
        )
        spec = ColumnMap(global_key="image", feature="label", mask="png", ids="deterministic")
        dicts = [
            {
                "dataRow": {"globalKey": k},
                "name": "cell",
                "mask": {"png": base64.b64encode(p).decode()},
            }
            for k, p in zip(["a", "b"], pngs)
        ]
        lines = lbfast.arrow.convert(data, spec)
        assert _without_uuids(lines) == _without_uuids(lbfast.dumps(dicts))
        assert lines == lbfast.arrow.convert(data, spec)  # the same ids again
        again = lbfast.arrow.convert(data.slice(1), spec, start=1)
        assert again == lines.splitlines(keepends=True)[1]


def test_bad_masks_name_their_row_and_column():
    first, _ = _two_masks()
    from lbfast.masks import rle_encode

    good = rle_encode(first, compressed=False)
    data = pa.table(
        {
            "image": ["a", "a", "a", "a"],
            "label": ["cell"] * 4,
            "rle": pa.array(
                [
                    good,
                    None,
                    {"size": [4, 5], "counts": [3, 2]},
                    {"size": [4, 5], "counts": [20]},
                ]
            ),
        }
    )
    spec = ColumnMap(global_key="image", feature="label", mask="rle")
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.arrow.convert(data, spec)
    found = [(e["row"], e["path"], e["message"]) for e in caught.value.errors()]
    assert [(row, path) for row, path, _ in found] == [(1, "rle"), (2, "rle"), (3, "rle")]
    assert "null" in found[0][2] and "add up to" in found[1][2] and "empty" in found[2][2]
    with pytest.raises(TypeError, match="rle"):
        lbfast.arrow.convert(pa.table({"image": ["a"], "label": ["c"], "rle": [1.5]}), spec)


def test_mask_rows_name_the_users_columns_in_rule_problems():
    data = pa.table(
        {
            "image": ["a", "a"],
            "label": ["c", "c"],
            "png": pa.array([b"not a png", b"x"], pa.binary_view()),
            "m": [float("nan"), 0.5],
            "s": [0.5, 2.0],
        }
    )
    spec = ColumnMap(
        global_key="image", feature="label", mask="png", custom_metrics={"m": "m"}, confidence="s"
    )
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.arrow.convert(data, spec)
    assert [(e["row"], e["path"]) for e in caught.value.errors()] == [
        (0, "m"),
        (0, "png"),
        (1, "s"),
        (1, "png"),
    ]


def test_tables_are_checked_against_an_ontology_as_dumps_checks_columns(tmp_path):
    import lbfast as lb

    ontology = lb.OntologyBuilder(
        tools=[
            lb.Tool(tool=lb.Tool.Type.BBOX, name=name, feature_schema_id=f"{name:c<25}")
            for name in sorted(set(LABELS))
        ]
    )
    numpy_like = lbfast.dumps(
        [
            Boxes(
                CORNERS,
                data_rows=sorted(set(IMAGES)),
                image_index=[sorted(set(IMAGES)).index(i) for i in IMAGES],
                features=sorted(set(LABELS)),
                class_ids=[sorted(set(LABELS)).index(f) for f in LABELS],
                confidence=SCORES,
                ids="deterministic",
            )
        ],
        ontology=ontology,
        resolve_schema_ids=True,
    )
    fast = lbfast.arrow.convert(table(), BOXES, ontology=ontology, resolve_schema_ids=True)
    assert fast == numpy_like and b'"schemaId"' in fast
    unknown = table(label=pa.array(["bicycle"] * len(IMAGES)))
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.arrow.convert(unknown, BOXES, ontology=ontology)
    assert {e["path"] for e in caught.value.errors()} == {"label"}
    assert "bicycle" in caught.value.errors()[0]["message"]
    with (
        pytest.raises(lbfast.ValidationError),
        lbfast.ShardWriter(tmp_path, ontology=ontology) as w,
    ):
        w.write_arrow(unknown, BOXES)
    assert list(tmp_path.iterdir()) == []


def test_polars_and_duckdb_masks_in_their_own_layouts():
    """polars: Struct{size: List(Int64), counts: String view} and Binary views; DuckDB:
    a STRUCT of a LIST and a VARCHAR."""
    from lbfast.masks import rle_encode

    first, _ = _two_masks()
    rle = rle_encode(first)
    spec = ColumnMap(global_key="image", feature="label", mask="rle")
    expected = _without_uuids(
        lbfast.arrow.convert(pa.table({"image": ["x"], "label": ["c"], "rle": [rle]}), spec)
    )
    frame = pl.DataFrame({"image": ["x"], "label": ["c"], "rle": [rle]})
    assert _without_uuids(lbfast.arrow.convert(frame, spec)) == expected
    runs = pl.DataFrame(
        {"image": ["x"], "label": ["c"], "rle": [rle_encode(first, compressed=False)]}
    )
    assert _without_uuids(lbfast.arrow.convert(runs, spec)) == expected
    relation = duckdb.connect().sql(
        f"select 'x' as image, 'c' as label, {{'size': [4, 5], 'counts': '{rle['counts']}'}} as rle"
    )
    assert _without_uuids(lbfast.arrow.convert(relation, spec)) == expected
    assert expected[0]["mask"]["png"]


def test_cli_checks_tables_against_an_ontology(tmp_path):
    import io

    import pyarrow.parquet as pq

    import lbfast as lb
    from lbfast.cli import main

    ontology = lb.OntologyBuilder(
        tools=[
            lb.Tool(tool=lb.Tool.Type.BBOX, name=name, feature_schema_id=f"{name:c<25}")
            for name in sorted(set(LABELS))
        ]
    )
    (tmp_path / "ontology.json").write_text(json.dumps(ontology.asdict()))
    maps = ["global_key=image", "feature=label", "box=x1,y1,x2,y2", "confidence=score"]
    args = [a for m in maps for a in ("--map", m)] + ["--ontology", str(tmp_path / "ontology.json")]
    pq.write_table(table(), tmp_path / "good.parquet")
    out = io.StringIO()
    good = ["convert", str(tmp_path / "good.parquet"), "-o", str(tmp_path / "good.ndjson")]
    assert main([*good, *args, "--resolve-schema-ids"], stdout=out) == 0, out.getvalue()
    lines = [json.loads(x) for x in (tmp_path / "good.ndjson").read_bytes().splitlines()]
    assert [x["schemaId"] for x in lines] == [f"{name:c<25}" for name in LABELS]
    pq.write_table(table(label=pa.array(["bicycle"] * len(IMAGES))), tmp_path / "bad.parquet")
    out = io.StringIO()
    bad = ["convert", str(tmp_path / "bad.parquet"), "-o", str(tmp_path / "bad.ndjson")]
    assert main([*bad, *args], stdout=out) == 1
    assert "label" in out.getvalue() and "bicycle" in out.getvalue()
    assert not (tmp_path / "bad.ndjson").exists()
