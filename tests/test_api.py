"""The public functions: dumps, dump, serialize, and the NDJSON they produce."""

from __future__ import annotations

import io
import json
import os
import threading
import uuid

import pytest

import lbfast
import lbfast.types as lb


def strict_loads(line):
    def refuse(token):
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(line, parse_constant=refuse)


def a_label(global_key="g-1", **extra):
    return lb.Label(
        data={"global_key": global_key},
        annotations=[
            lb.ObjectAnnotation(
                name="box",
                confidence=0.5,
                value=lb.Rectangle(start=lb.Point(x=1, y=2), end=lb.Point(x=4, y=6)),
                **extra,
            ),
            lb.ClassificationAnnotation(name="caption", value=lb.Text(answer='café "q"\n😀')),
        ],
    )


def test_dumps_writes_one_strict_json_line_per_annotation_each_ending_in_newline():
    out = lbfast.dumps([a_label(), a_label("g-2")])
    assert isinstance(out, bytes)
    assert out.endswith(b"\n")
    lines = out.decode("utf-8").splitlines()
    assert len(lines) == 4
    rows = [strict_loads(line) for line in lines]
    assert [r["dataRow"] for r in rows] == [{"globalKey": "g-1"}] * 2 + [{"globalKey": "g-2"}] * 2
    assert rows[0]["bbox"] == {"top": 2.0, "left": 1.0, "height": 4.0, "width": 3.0}
    assert rows[1]["answer"] == 'café "q"\n😀'


def test_output_is_compact_utf8_without_ascii_escapes():
    out = lbfast.dumps([a_label()])
    assert b", " not in out and b'": ' not in out
    assert "café".encode() in out


def test_generated_uuids_are_unique_v4_and_a_given_uuid_is_kept():
    rows = list(lbfast.serialize([a_label() for _ in range(50)]))
    ids = [r["uuid"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 for i in ids)
    [kept, _] = lbfast.serialize([a_label(extra={"uuid": "my-own-id-1"})])
    assert kept["uuid"] == "my-own-id-1"


def test_dumps_without_options_writes_what_the_default_options_write():
    # Without keywords `dumps` goes straight to the binding: the same bytes, and a
    # native annotation's `extra` read directly still gives its uuid.
    labels = [a_label(extra={"uuid": "id-1"}), a_label("g-2", extra={"uuid": "id-2"})]
    out = lbfast.dumps(labels)

    def lines_without_generated_ids(ndjson):
        rows = [strict_loads(line) for line in ndjson.splitlines()]
        return [r if r["uuid"].startswith("id-") else {**r, "uuid": None} for r in rows]

    defaults = lbfast.dumps(labels, max_mask_pixels=None, required=True, threads=None)
    assert lines_without_generated_ids(out) == lines_without_generated_ids(defaults)
    assert b'"uuid":"id-1"' in out and b'"uuid":"id-2"' in out
    with pytest.raises(TypeError, match="unexpected keyword argument 'thread'"):
        lbfast.dumps(labels, thread=1)


def test_serialize_and_the_drop_in_converter_yield_the_same_dicts_as_dumps():
    label = a_label(extra={"uuid": "fixed"})
    label.annotations[1].extra = {"uuid": "fixed-2"}
    from_dumps = [json.loads(line) for line in lbfast.dumps([label]).splitlines()]
    assert list(lbfast.serialize([label])) == from_dumps
    assert list(lbfast.NDJsonConverter.serialize([label])) == from_dumps


def test_dict_rows_are_normalised_like_the_sdk_would_write_them():
    rows = [
        {
            "name": "poly",
            "dataRow": {"globalKey": "g"},
            "polygon": [{"x": 1, "y": 1}, {"x": 2, "y": 1}, {"x": 2, "y": 2}],
        },
        {
            "name": "tags",
            "dataRow": {"id": "ckrazctum0z8a0ybc0b0o0g0v"},
            "answers": [{"name": "a"}],
        },
    ]
    poly, tags = (strict_loads(line) for line in lbfast.dumps(rows).splitlines())
    assert poly["polygon"][-1] == poly["polygon"][0] == {"x": 1.0, "y": 1.0}
    assert len(poly["polygon"]) == 4
    assert poly["classifications"] == []
    assert uuid.UUID(poly["uuid"]).version == 4
    assert tags["answer"] == [{"name": "a"}] and "answers" not in tags
    assert tags["dataRow"] == {"id": "ckrazctum0z8a0ybc0b0o0g0v"}


def test_labels_and_dicts_mix_in_one_call_and_rows_count_items():
    row = {"name": "pt", "dataRow": {"globalKey": "g"}, "point": {"x": 1, "y": 2}, "confidence": 7}
    with pytest.raises(lbfast.ValidationError) as caught:
        lbfast.dumps([a_label(), row])
    assert [(e["row"], e["path"]) for e in caught.value.errors()] == [(1, "confidence")]
    row["confidence"] = 0.7
    assert len(lbfast.dumps([a_label(), row]).splitlines()) == 3


def test_dump_to_a_path_is_atomic_and_to_a_file_object_writes_the_bytes(tmp_path):
    target = tmp_path / "preds.ndjson"
    written = lbfast.dump([a_label()], target)
    assert written == target.stat().st_size
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["preds.ndjson"]
    buffer = io.BytesIO()
    lbfast.dump([a_label(extra={"uuid": "x"})], buffer)
    assert buffer.getvalue().count(b"\n") == 2


def test_a_generator_of_labels_is_accepted():
    out = lbfast.dumps(a_label(f"g-{i}") for i in range(3))
    assert len(out.splitlines()) == 6


def test_empty_input_gives_empty_output():
    assert lbfast.dumps([]) == b""
    assert lbfast.dumps([lb.Label(data={"global_key": "g"}, annotations=[])]) == b""


def test_threads_can_convert_concurrently_and_get_their_own_results():
    results = {}

    def work(i):
        labels = [a_label(f"thread-{i}-{j}") for j in range(200)]
        results[i] = lbfast.dumps(labels)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, out in results.items():
        keys = {strict_loads(line)["dataRow"]["globalKey"] for line in out.splitlines()}
        assert keys == {f"thread-{i}-{j}" for j in range(200)}


def test_data_row_by_id_and_by_generic_data_row_data():
    uid = "ckrazctum0z8a0ybc0b0o0g0v"
    by_dict = lb.Label(data={"uid": uid}, annotations=a_label().annotations[:1])
    by_object = lb.Label(
        data=lb.GenericDataRowData(global_key="gk"), annotations=a_label().annotations[:1]
    )
    rows = list(lbfast.serialize([by_dict, by_object]))
    assert rows[0]["dataRow"] == {"id": uid}
    assert rows[1]["dataRow"] == {"globalKey": "gk"}


def test_point_is_a_plain_value_object():
    import pickle

    import numpy as np

    p = lb.Point(x=1, y=np.float32(0.5), extra={"k": 1})
    assert (p.x, p.y) == (1.0, 0.5) and isinstance(p.x, float)
    assert p == lb.Point(x=1.0, y=0.5, extra={"k": 1}) and p != lb.Point(x=1.0, y=0.5)
    assert pickle.loads(pickle.dumps(p)) == p
    assert repr(lb.Point(x=2, y=-0.1)) == "Point(x=2.0, y=-0.1)"
    p.x = 3
    assert p.x == 3.0

    class Keypoint(lb.Point):
        pass

    label = lb.Label(
        data={"global_key": "g"},
        annotations=[lb.ObjectAnnotation(name="k", value=Keypoint(x=4, y=5))],
    )
    [row] = lbfast.serialize([label])
    assert row["point"] == {"x": 4.0, "y": 5.0}


def test_native_rectangle_and_object_annotation_behave_like_the_sdk_objects():
    import pickle

    rect = lb.Rectangle.from_xyhw(1, 2, 3, 4)
    assert (rect.start, rect.end) == (lb.Point(x=1, y=2), lb.Point(x=5, y=5))
    a = lb.ObjectAnnotation(name="box", confidence=0.5, value=rect)
    b = lb.ObjectAnnotation(name="box", confidence=0.5, value=rect)
    # Fresh containers per object, as in the SDK, so appending to one is safe.
    assert a.classifications == [] and a.extra == {}
    assert a.classifications is not b.classifications and a.extra is not b.extra
    assert a == b and pickle.loads(pickle.dumps(a)) == a
    a.extra["uuid"] = "mine"
    assert a != b
    assert repr(a).startswith("ObjectAnnotation(value=Rectangle(start=Point(x=1.0, y=2.0)")
    [row] = lbfast.serialize([lb.Label(data={"global_key": "g"}, annotations=[a])])
    assert row["uuid"] == "mine"
    assert row["bbox"] == {"top": 2.0, "left": 1.0, "height": 3.0, "width": 4.0}
