"""Adapters: supervision Detections, torchvision dicts and COCO results to the same
lines as the typed API writes for the same predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lbfast
import lbfast.types as lb
from lbfast.adapters import coco, supervision, torchvision
from lbfast.masks import rle_encode

sv = pytest.importorskip("supervision")


def lines(items):
    out = []
    for line in lbfast.dumps(items).splitlines():
        row = json.loads(line)
        row.pop("uuid")
        out.append(row)
    return out


def typed_box(name, x1, y1, x2, y2, confidence=None):
    rect = lb.Rectangle(start=lb.Point(x=x1, y=y1), end=lb.Point(x=x2, y=y2))
    return lb.ObjectAnnotation(name=name, confidence=confidence, value=rect)


def typed_mask(name, mask, confidence=None):
    data = lb.MaskData.from_2D_arr(mask.astype(np.uint8))
    return lb.ObjectAnnotation(name=name, confidence=confidence, value=lb.Mask(mask=data, color=1))


def test_supervision_detections_with_masks_equal_the_typed_path():
    masks = np.zeros((2, 4, 5), dtype=bool)
    masks[0, 1:3, 1:4] = True
    masks[1, 0, 0] = True
    det = sv.Detections(
        xyxy=np.array([[1, 1, 4, 3], [0, 0, 1, 1]], dtype=np.float32),
        mask=masks,
        confidence=np.array([0.25, 0.75]),
        class_id=np.array([1, 0]),
    )
    items = supervision.from_detections(det, data_rows=["img-1"], features=["person", "car"])
    expected = lb.Label(
        data={"global_key": "img-1"},
        annotations=[
            typed_box("car", 1, 1, 4, 3, 0.25),
            typed_box("person", 0, 0, 1, 1, 0.75),
            typed_mask("car", masks[0], 0.25),
            typed_mask("person", masks[1], 0.75),
        ],
    )
    assert lines(items) == lines([expected])


def test_supervision_class_names_and_several_images():
    dets = [
        sv.Detections(
            xyxy=np.array([[0, 0, 2, 2]]),
            class_id=np.array([3]),
            data={"class_name": np.array(["dog"])},
        ),
        sv.Detections.empty(),
        sv.Detections(
            xyxy=np.array([[1, 1, 2, 2], [3, 3, 4, 4]]),
            class_id=np.array([5, 3]),
            data={"class_name": np.array(["cat", "dog"])},
        ),
    ]
    rows = lines(supervision.from_detections(dets, data_rows=["a", "b", "c"]))
    assert [(r["dataRow"]["globalKey"], r["name"]) for r in rows] == [
        ("a", "dog"),
        ("c", "cat"),
        ("c", "dog"),
    ]
    assert all("confidence" not in r for r in rows)


class FakeTensor:
    """Stands in for a CPU torch tensor: numpy reads it through __array__."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def __len__(self):
        return len(self.values)


def test_torchvision_dicts_map_sparse_labels_and_threshold_masks():
    probs = np.zeros((1, 1, 3, 3), dtype=np.float32)
    probs[0, 0, 1, 1] = 0.9
    probs[0, 0, 0, 0] = 0.4
    pred = {
        "boxes": FakeTensor([[1.0, 1.0, 2.0, 2.0]]),
        "labels": FakeTensor([18]),
        "scores": FakeTensor([0.5]),
        "masks": FakeTensor(probs),
    }
    items = torchvision.from_predictions(
        [pred], data_rows=["img"], features={1: "person", 18: "dog"}
    )
    expected_mask = np.zeros((3, 3), dtype=bool)
    expected_mask[1, 1] = True
    expected = lb.Label(
        data={"global_key": "img"},
        annotations=[typed_box("dog", 1, 1, 2, 2, 0.5), typed_mask("dog", expected_mask, 0.5)],
    )
    assert lines(items) == lines([expected])
    with pytest.raises(ValueError, match=r"class ids \[18\]"):
        torchvision.from_predictions([pred], data_rows=["img"], features={1: "person"})


def test_coco_results_file_boxes_rle_and_polygons(tmp_path):
    mask = np.zeros((4, 6), dtype=np.uint8)
    mask[1:3, 2:5] = 1
    results = [
        {
            "image_id": 7,
            "category_id": 3,
            "bbox": [1.5, 2, 3, 4],
            "score": 0.9,
            "segmentation": rle_encode(mask),
        },
        {
            "image_id": 9,
            "category_id": 1,
            "bbox": [0, 0, 1, 1],
            "score": 0.1,
            "segmentation": [[0, 0, 4, 0, 4, 3]],
        },
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    items = coco.from_results(
        path, categories={1: "person", 3: "car"}, images={7: "a.jpg", 9: "b.jpg"}, geometry="both"
    )
    polygon = lb.Polygon(points=[lb.Point(x=0, y=0), lb.Point(x=4, y=0), lb.Point(x=4, y=3)])
    expected = [
        lb.Label(data={"global_key": "a.jpg"}, annotations=[typed_box("car", 1.5, 2, 4.5, 6, 0.9)]),
        lb.Label(data={"global_key": "b.jpg"}, annotations=[typed_box("person", 0, 0, 1, 1, 0.1)]),
        # The segmentations in the order of the results, whatever their kind.
        lb.Label(data={"global_key": "a.jpg"}, annotations=[typed_mask("car", mask, 0.9)]),
        lb.Label(
            data={"global_key": "b.jpg"},
            annotations=[lb.ObjectAnnotation(name="person", confidence=0.1, value=polygon)],
        ),
    ]
    assert lines(items) == lines(expected)


def test_coco_unknown_image_is_a_clear_error():
    results = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]
    with pytest.raises(ValueError, match="image_id 1"):
        coco.from_results(results, categories={1: "x"}, images={2: "b"})


COCO_OK = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": True}, "score"),
        ({"category_id": True}, "category_id"),
        ({"category_id": [1]}, "category_id"),
        ({"image_id": {"a": 1}}, "image_id"),
        ({"image_id": [1]}, "image_id"),
        ({"bbox": "0 0 1 1"}, "bbox"),
        ({"bbox": [0, 0, 1]}, "bbox"),
        ({"bbox": [0, 0, True, 1]}, "bbox"),
    ],
)
def test_coco_results_of_the_wrong_shape_are_refused_naming_the_field(change, field):
    with pytest.raises(ValueError, match=rf"COCO result 1: {field}"):
        coco.from_results([COCO_OK, {**COCO_OK, **change}], categories={1: "x"}, images={1: "a"})


@pytest.mark.parametrize(
    ("segmentation", "field"),
    [
        ({"counts": "0QPPloo3"}, "segmentation.size"),
        ({"size": [4, 4]}, "segmentation.counts"),
        ([[0, 0, 1, 0, 1]], r"segmentation\[0\]"),
        ("oops", "segmentation"),
    ],
)
def test_coco_segmentations_of_the_wrong_shape_are_refused(segmentation, field):
    entry = {**COCO_OK, "segmentation": segmentation}
    with pytest.raises(ValueError, match=rf"COCO result 0: {field}"):
        coco.from_results([entry], categories={1: "x"}, images={1: "a"}, geometry="segmentation")


def test_a_single_string_for_data_rows_or_features_is_refused_everywhere():
    from lbfast.columnar import Boxes
    from lbfast.masks import InstanceMasks

    mask = np.zeros((4, 6), dtype=np.uint8)
    mask[1:3, 2:5] = 1
    rle = rle_encode(mask)
    det = sv.Detections(xyxy=np.array([[1.0, 2, 3, 4]]), class_id=np.array([0]))
    attempts = {
        "Boxes": lambda **k: Boxes(np.zeros((1, 4)), **k),
        "InstanceMasks": lambda **k: InstanceMasks(mask, **k),
        "InstanceMasks.from_rle": lambda **k: InstanceMasks.from_rle([rle], **k),
        "from_detections": lambda **k: supervision.from_detections(det, **k),
    }
    for make in attempts.values():
        for argument in ("data_rows", "features"):
            given = {"data_rows": ["img"], "features": ["car"], argument: "img"}
            with pytest.raises(TypeError, match=f"{argument} must be a list of strings"):
                make(**given)
