"""ShardWriter: capped, complete-or-absent shards with a manifest."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter

import numpy as np
import pytest

import lbfast
import lbfast.types as lb
from lbfast import writer as writer_module
from lbfast.columnar import Boxes
from lbfast.masks import InstanceMasks


def boxes(n, *, images=10, ids="deterministic", confidence=True):
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 100, size=(n, 2))
    wh = rng.uniform(1, 10, size=(n, 2))
    return Boxes(
        np.hstack([xy, xy + wh]),
        data_rows=[f"img-{i}" for i in range(images)],
        image_index=np.arange(n) % images,
        features=["car", "bus"],
        class_ids=np.arange(n) % 2,
        confidence=rng.uniform(0, 1, n) if confidence else None,
        ids=ids,
    )


def shard_lines_of(shard):
    data = shard.path.read_bytes()
    if shard.path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.splitlines(keepends=True)


def shard_lines(manifest):
    return [line for shard in manifest.shards for line in shard_lines_of(shard)]


def test_row_cap_splits_in_order_and_the_manifest_adds_up(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "_ROWS_PER_CHUNK", 300)  # several chunks per batch
    batch = boxes(1000)
    with lbfast.ShardWriter(tmp_path, max_rows=256) as w:
        w.write(batch)
    m = w.manifest
    assert [s.rows for s in m.shards] == [256, 256, 256, 232]
    assert [s.bytes for s in m.shards] == [s.path.stat().st_size for s in m.shards]
    assert b"".join(shard_lines(m)) == lbfast.dumps([batch])  # deterministic ids: same bytes
    assert m.rows == 1000 and m.features == {"car": 500, "bus": 500}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"predictions-0000{i}.ndjson" for i in range(4)
    ]
    assert json.loads(json.dumps(m.as_dict()))["rows"] == 1000


def test_byte_cap_never_exceeded_and_lines_never_split(tmp_path):
    with lbfast.ShardWriter(tmp_path, max_bytes=5000) as w:
        w.write(boxes(200))
    assert len(w.manifest.shards) > 1
    assert all(s.bytes <= 5000 for s in w.manifest.shards)
    for line in shard_lines(w.manifest):
        json.loads(line)


def test_mask_cap_follows_labelbox_advice_by_default(tmp_path):
    masks = np.zeros((5, 4, 4), dtype=bool)
    for i in range(5):
        masks[i, i % 4, i % 4] = True
    item = InstanceMasks(masks, data_rows=["img"], features=["blob"])
    assert lbfast.ShardWriter(tmp_path / "a").max_masks == 1000
    with lbfast.ShardWriter(tmp_path / "b", max_masks=2) as w:
        w.write([item, boxes(3)])
    assert [(s.masks, s.rows) for s in w.manifest.shards] == [(2, 2), (2, 2), (1, 4)]


def test_gzip_shards_hold_the_same_lines(tmp_path):
    batch = boxes(500)
    with lbfast.ShardWriter(tmp_path, max_rows=200, gzip=True) as w:
        w.write(batch)
    assert all(s.path.name.endswith(".ndjson.gz") for s in w.manifest.shards)
    assert b"".join(shard_lines(w.manifest)) == lbfast.dumps([batch])


def test_labels_dicts_and_columns_mix(tmp_path):
    label = lb.Label(
        data={"global_key": "g"},
        annotations=[
            lb.ObjectAnnotation(name="pt", value=lb.Point(x=1, y=2), extra={"uuid": "u1"})
        ],
    )
    row = {"name": "pt", "dataRow": {"globalKey": "g"}, "point": {"x": 3, "y": 4}, "uuid": "u2"}
    items = [label, boxes(5), row]
    with lbfast.ShardWriter(tmp_path, max_rows=4) as w:
        w.write(items)
    assert b"".join(shard_lines(w.manifest)) == lbfast.dumps(items)
    assert w.manifest.features == {"pt": 2, "car": 3, "bus": 2}
    # Each shard counts its own lines per feature, as read back from its file.
    for shard in w.manifest.shards:
        names = [json.loads(line)["name"] for line in shard_lines_of(shard)]
        assert shard.features == Counter(names)
        assert w.manifest.as_dict()["shards"][w.manifest.shards.index(shard)]["features"] == dict(
            Counter(names)
        )
    assert sum((s.features for s in w.manifest.shards), Counter()) == w.manifest.features


def test_a_bad_batch_leaves_no_partial_shard(tmp_path):
    bad = Boxes(np.array([[0, 0, 1, np.nan]]), data_rows=["x"], features=["car"])
    w = lbfast.ShardWriter(tmp_path, max_rows=150)
    w.write(boxes(200))  # one full shard, one open
    with pytest.raises(lbfast.ValidationError):
        w.write(bad)
    assert [p.name for p in tmp_path.iterdir()] == ["predictions-00000.ndjson"]
    assert [s.rows for s in w.manifest.shards] == [150]


def test_an_exception_inside_the_with_block_discards_the_open_shard(tmp_path):
    with pytest.raises(KeyboardInterrupt), lbfast.ShardWriter(tmp_path, max_rows=1000) as w:
        w.write(boxes(10))
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_per_data_row_feature_limit_is_checked(tmp_path):
    batch = boxes(8, images=1)  # 4 car and 4 bus on one data row
    with pytest.raises(lbfast.ValidationError, match="4 annotations named 'car'") as caught:
        with lbfast.ShardWriter(tmp_path, max_per_data_row_feature=3) as w:
            w.write(batch)
    assert len(caught.value.errors()) == 2
    assert list(tmp_path.iterdir()) == []
    with lbfast.ShardWriter(tmp_path, max_per_data_row_feature=4) as w:
        w.write(batch)
    assert w.manifest.rows == 8


def test_slices_carry_only_the_data_rows_they_use_and_write_the_same_lines():
    batch = Boxes(
        np.tile([[0.1, 0.2, 0.5, 0.6]], (6, 1)),
        data_rows=[f"img-{i}" for i in range(100)],
        image_index=[7, 7, 42, 99, 42, 7],
        features=["car"],
        normalized=True,
        image_sizes=np.arange(200).reshape(100, 2) + 1,
        ids="deterministic",
    )
    part = batch[1:5]
    assert part.data_rows == ["img-7", "img-42", "img-99"]
    assert part.image_sizes.tolist() == [[15, 16], [85, 86], [199, 200]]
    whole = lbfast.dumps([batch]).splitlines(keepends=True)
    assert lbfast.dumps([part]).splitlines(keepends=True) == whole[1:5]


def test_large_arrays_convert_in_parallel_to_the_same_bytes():
    n = 300_000  # 1.2M coordinates: above the parallel conversion threshold
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1000, size=(n, 2)).astype(np.float32)
    batch = Boxes(
        np.hstack([xy, xy + 5]),
        data_rows=["a", "b", "c"],
        image_index=np.arange(n) % 3,
        features=["car"],
        confidence=rng.uniform(0, 1, n).astype(np.float32),
        ids="deterministic",
    )
    assert lbfast.dumps([batch], threads=2) == lbfast.dumps([batch], threads=1)


@pytest.mark.parametrize("prefix", ["../x", "a/b", "..", "", "/tmp/x"])
def test_a_prefix_that_leaves_the_directory_is_refused(tmp_path, prefix):
    with pytest.raises(ValueError, match="prefix must be a plain file name"):
        lbfast.ShardWriter(tmp_path / "out", prefix=prefix)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def on_disk(directory):
    return sorted(p.name for p in directory.iterdir())


def listed(manifest):
    return sorted(p.name for p in manifest.paths)


@pytest.mark.parametrize("step", ["fsync", "close", "replace"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_an_error_at_any_step_of_finishing_a_shard_leaves_disk_and_manifest_agreeing(
    tmp_path, monkeypatch, step, error
):
    w = lbfast.ShardWriter(tmp_path, max_rows=100)
    w.write(boxes(150))  # one shard finished, one open
    assert on_disk(tmp_path)[-1] == "predictions-00000.ndjson"
    real_replace, real_fsync = os.replace, os.fsync

    def replace_then_fail(src, dst):
        real_replace(src, dst)  # the worst moment: renamed, not yet listed
        raise error

    def fail(*args):
        raise error

    if step == "replace":
        monkeypatch.setattr(os, "replace", replace_then_fail)
    elif step == "fsync":
        monkeypatch.setattr(os, "fsync", fail)
    else:
        monkeypatch.setattr(writer_module, "finish", lambda f: (f.close(), fail()))
    with pytest.raises(type(error)):
        w.close()
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert on_disk(tmp_path) == listed(w.manifest) == ["predictions-00000.ndjson"]
    assert w.manifest.rows == 100


def test_a_full_disk_at_close_names_the_shard(tmp_path, monkeypatch):
    w = lbfast.ShardWriter(tmp_path)
    w.write(boxes(10))
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "full")))
    with pytest.raises(OSError) as info:
        w.close()
    assert info.value.filename == str(tmp_path / "predictions-00000.ndjson")
    assert on_disk(tmp_path) == []


def test_clean_removes_what_a_killed_writer_left(tmp_path):
    (tmp_path / ".lbfast-0123456789ab.tmp").write_bytes(b'{"partial')
    (tmp_path / "keep.ndjson").write_bytes(b"")
    with lbfast.ShardWriter(tmp_path) as w:  # by default nothing is removed
        pass
    assert on_disk(tmp_path) == [".lbfast-0123456789ab.tmp", "keep.ndjson"]
    with lbfast.ShardWriter(tmp_path, clean=True) as w:
        w.write(boxes(3))
    assert on_disk(tmp_path) == ["keep.ndjson", "predictions-00000.ndjson"]


def test_an_empty_global_key_beside_an_id_is_not_one_data_row(tmp_path):
    """`{"id": X, "globalKey": ""}` is written with the id, so 5,001 distinct ids are
    5,001 data rows, each far below the per-data-row limit."""
    items = [
        {
            "name": "box",
            "dataRow": {"id": f"ckdatarow{i:016d}", "globalKey": ""},
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
        }
        for i in range(5001)
    ]
    with lbfast.ShardWriter(tmp_path, max_rows=10_000) as w:
        w.write(items)
    assert w.manifest.rows == 5001
