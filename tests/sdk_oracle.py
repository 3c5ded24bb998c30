"""The official Labelbox SDK as a test oracle for lbfast.

The same predictions are built twice, once with ``lbfast.types`` and once with
``labelbox.types`` (a builder takes the types module as its parameter), written by
``lbfast.dumps`` and by the SDK's ``NDJsonConverter.serialize`` + ``labelbox.parser.dumps``,
parsed back, normalised and compared.

Normalisation (every step is explicit and has its own tests in test_sdk_conformance.py):

* ``uuid`` is dropped from every line: both sides generate a random one. A relationship's
  ``source`` and ``target`` (uuids of other lines) become the index of the line they
  name (``link_ends``), so that both sides name the same lines whatever their uuids.
* ``mask.png`` (base64 PNG) is replaced by the decoded pixels (mode, size, values), since
  the PNG bytes depend on the encoder, not on the mask.
* SDK lines only: below the first nesting level the SDK writes ``schema_id`` and
  ``custom_metrics`` instead of ``schemaId`` and ``customMetrics`` (its known bug, see
  labelbox-sdk-format.md §3.4). ``sdk_camel_case`` renames exactly those two keys, and
  only inside ``classifications``/``answer`` subtrees; any other snake_case key is an error.
* Numbers compare by value and by JSON type (``2.0`` is not ``2``), see ``leaf_types``.
* Key order is compared separately (``key_orders``): JSON consumers ignore it, but lbfast
  promises the SDK's order.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import uuid as uuid_module
from collections.abc import Callable, Iterable
from typing import Any

import labelbox.types as sdk_types
import numpy as np
from labelbox import parser as sdk_parser
from labelbox.data.mixins import CustomMetric as SdkCustomMetric
from labelbox.data.serialization import NDJsonConverter
from PIL import Image

import lbfast
import lbfast.types as lbfast_types

Line = dict[str, Any]
Builder = Callable[[Any], list[Any]]


# --- parsing ------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name!r}")


def strict_loads(text: bytes | str) -> Any:
    """``json.loads`` that refuses ``NaN``/``Infinity`` and invalid UTF-8."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # strict: invalid UTF-8 raises
    return json.loads(text, parse_constant=_reject_constant)


def lbfast_lines(items: Iterable[Any]) -> list[Line]:
    """``lbfast.dumps(items)``, checked for framing and parsed strictly, one dict per line."""
    data = lbfast.dumps(items)
    assert isinstance(data, bytes), type(data)
    if not data:
        return []
    assert data.endswith(b"\n"), "every NDJSON line must end with a newline"
    lines = data[:-1].split(b"\n")
    parsed = [strict_loads(line) for line in lines]
    assert all(isinstance(p, dict) for p in parsed)
    return parsed


def sdk_lines(labels: list[Any]) -> list[Line]:
    """What the SDK uploads for ``labels`` (serialize + parser.dumps), parsed back.

    Parsed leniently, as the SDK may write ``NaN``.
    """
    rows = list(NDJsonConverter.serialize(labels))
    if not rows:
        return []
    text = sdk_parser.dumps(rows)
    return [json.loads(line) for line in text.split("\n")]


# --- normalisation ------------------------------------------------------------------

# The SDK's snake_case keys below the first nesting level, and what they mean.
SDK_SNAKE_TO_CAMEL = {"schema_id": "schemaId", "custom_metrics": "customMetrics"}
_NESTED_KEYS = ("classifications", "answer")


def sdk_camel_case(line: Line) -> Line:
    """An SDK line with its nested snake_case keys renamed to camelCase.

    Only keys of dicts inside the ``classifications``/``answer`` subtrees are renamed,
    and only those of ``SDK_SNAKE_TO_CAMEL``: a snake_case key at the top level, or an
    unknown one anywhere, is left alone / refused so that it still shows up as a failure.
    """

    def rename(value: Any) -> Any:
        if isinstance(value, list):
            return [rename(v) for v in value]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            new_key = SDK_SNAKE_TO_CAMEL.get(key, key)
            if "_" in new_key:
                raise AssertionError(
                    f"unexpected snake_case key {key!r} in a nested classification"
                )
            if new_key in out:
                raise AssertionError(f"both {key!r} and {new_key!r} in one dict: {value!r}")
            # metric dicts ({"name", "value"}) have no snake_case keys; recursing is harmless
            out[new_key] = rename(item)
        return out

    return {key: rename(value) if key in _NESTED_KEYS else value for key, value in line.items()}


def decode_png_b64(b64: str) -> dict[str, Any]:
    """A base64 PNG as what it shows: ``{"mode", "size", "pixels"}``."""
    raw = base64.b64decode(b64, validate=True)
    with Image.open(io.BytesIO(raw)) as im:
        assert im.format == "PNG", im.format
        im.load()
        return {"mode": im.mode, "size": list(im.size), "pixels": np.asarray(im).tolist()}


def link_ends(lines: list[Line]) -> list[Line]:
    """The lines with each relationship end replaced by ``"line <i>"``, the index of the
    line of that uuid (``"no line"`` when none has it)."""
    index = {line["uuid"]: i for i, line in enumerate(lines) if "uuid" in line}
    out = []
    for line in lines:
        rel = line.get("relationship")
        if isinstance(rel, dict):
            ends = {
                k: f"line {index[v]}" if v in index else "no line"
                for k, v in rel.items()
                if k in ("source", "target")
            }
            out.append({**line, "relationship": {**rel, **ends}})
        else:
            out.append(line)
    return out


def normalise(line: Line, *, sdk: bool) -> Line:
    """A line with the differences that do not count removed (see the module docstring)."""
    line = dict(line)
    line.pop("uuid", None)
    if sdk:
        line = sdk_camel_case(line)
    mask = line.get("mask")
    if isinstance(mask, dict) and "png" in mask:
        line["mask"] = {**mask, "png": decode_png_b64(mask["png"])}
    return line


def leaf_types(value: Any) -> Any:
    """The structure of ``value`` with every leaf replaced by its JSON type name."""
    if isinstance(value, dict):
        return {k: leaf_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [leaf_types(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    raise TypeError(type(value))


def key_orders(value: Any, path: str = "$") -> list[tuple[str, tuple[str, ...]]]:
    """Every dict's keys in order, with its path, depth first."""
    out: list[tuple[str, tuple[str, ...]]] = []
    if isinstance(value, dict):
        out.append((path, tuple(value)))
        for k, v in value.items():
            out.extend(key_orders(v, f"{path}.{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(key_orders(v, f"{path}[{i}]"))
    return out


def assert_lines_match(
    fast: list[Line], sdk: list[Line], *, check_order: bool = True
) -> tuple[list[Line], list[Line]]:
    """Asserts that lbfast's lines mean what the SDK's lines mean; returns both normalised."""
    assert len(fast) == len(sdk), (len(fast), len(sdk))
    for a, b in zip(fast, sdk):
        # A uuid given in `extra` is written verbatim; otherwise each side makes a uuid4
        # (metric lines have none unless given).
        if "uuid" not in b:
            assert "uuid" not in a, a
        elif _is_uuid4(b["uuid"]):
            assert_uuid4(a)
        else:
            assert a["uuid"] == b["uuid"]
    nf = [normalise(line, sdk=False) for line in link_ends(fast)]
    ns = [normalise(line, sdk=True) for line in link_ends(sdk)]
    for i, (a, b) in enumerate(zip(nf, ns)):
        assert a == b, f"line {i} differs:\nlbfast: {a}\nsdk:    {b}"
        assert leaf_types(a) == leaf_types(b), f"line {i}: JSON number types differ"
        if check_order:
            assert key_orders(a) == key_orders(b), f"line {i}: key order differs"
    return nf, ns


def _is_uuid4(value: str) -> bool:
    try:
        parsed = uuid_module.UUID(value)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == value


def assert_uuid4(line: Line) -> None:
    """A generated uuid is a canonical lowercase version-4 UUID."""
    value = line["uuid"]
    parsed = uuid_module.UUID(value)
    assert str(parsed) == value, value
    assert parsed.version == 4, value


def compare(build: Builder, *, check_order: bool = True) -> tuple[list[Line], list[Line]]:
    """Builds the labels with both type modules, writes both, asserts they match.

    Returns the normalised lines (lbfast, SDK) for further assertions.
    """
    fast = lbfast_lines(build(lbfast_types))
    sdk = sdk_lines(build(sdk_types))
    return assert_lines_match(fast, sdk, check_order=check_order)


def metric(t: Any, name: str, value: float) -> Any:
    """A custom metric object of module ``t`` (the SDK does not export it from types)."""
    if t is lbfast_types:
        return lbfast_types.CustomMetric(name=name, value=value)
    return SdkCustomMetric(name=name, value=value)


# --- PNG makers ---------------------------------------------------------------------


def make_png(arr: np.ndarray, mode: str | None = None) -> bytes:
    """PNG bytes of a uint8 array: (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    im = Image.fromarray(arr, mode) if mode else Image.fromarray(arr)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def palette_png(indices: np.ndarray, palette: list[tuple[int, int, int]]) -> bytes:
    """An 8-bit palette ("P") PNG whose pixels are ``indices`` into ``palette``."""
    indices = np.ascontiguousarray(indices, dtype=np.uint8)
    im = Image.new("P", (indices.shape[1], indices.shape[0]))
    im.putdata(indices.ravel().tolist())
    flat = [c for rgb in palette for c in rgb]
    im.putpalette(flat + [0] * (768 - len(flat)))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "P"
    return data


def seed_like_png(url: str, height: int = 24, width: int = 32) -> bytes:
    """A deterministic RGB mask PNG for ``url``: black, with a (255, 255, 255) region
    and a (10, 20, 30) region whose places depend on the URL."""
    seed = binascii.crc32(url.encode())
    arr = np.zeros((height, width, 3), np.uint8)
    top, left = seed % (height // 2), (seed >> 8) % (width // 2)
    arr[top : top + height // 3, left : left + width // 3] = (255, 255, 255)
    arr[-3:, -4:] = (10, 20, 30)
    return make_png(arr)


_SNAKE = re.compile(r"[a-z0-9]_[a-z]")


def snake_keys(value: Any) -> list[str]:
    """Every snake_case key anywhere in ``value``."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if _SNAKE.search(k):
                found.append(k)
            found.extend(snake_keys(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(snake_keys(v))
    return found


# --- the guide's twelve predictions, written independently of the guide's text ------

SEED_MASK_URL = "https://example.com/raster_seg.png"
SEED_MASK_URL_2 = "https://example.com/raster_seg_with_subclass.png"


def seed_kinds(t: Any) -> dict[str, Any]:
    """One annotation per kind of the user guide, built with types module ``t``.

    Same content as the guide's snippets, except that ``Mask(confidence=...)`` is not
    used (a known deviation, tested on its own).
    """
    answer = t.ClassificationAnswer
    return {
        "radio": t.ClassificationAnnotation(
            name="radio_question",
            value=t.Radio(answer=answer(name="second_radio_answer", confidence=0.5)),
        ),
        "nested_radio": t.ClassificationAnnotation(
            name="nested_radio_question",
            value=t.Radio(
                answer=answer(
                    name="first_radio_answer",
                    confidence=0.5,
                    classifications=[
                        t.ClassificationAnnotation(
                            name="sub_radio_question",
                            value=t.Radio(
                                answer=answer(name="first_sub_radio_answer", confidence=0.5)
                            ),
                        )
                    ],
                )
            ),
        ),
        "nested_checklist": t.ClassificationAnnotation(
            name="nested_checklist_question",
            value=t.Checklist(
                answer=[
                    answer(
                        name="first_checklist_answer",
                        confidence=0.5,
                        classifications=[
                            t.ClassificationAnnotation(
                                name="sub_checklist_question",
                                value=t.Checklist(
                                    answer=[
                                        answer(name="first_sub_checklist_answer", confidence=0.5)
                                    ]
                                ),
                            )
                        ],
                    )
                ]
            ),
        ),
        "checklist": t.ClassificationAnnotation(
            name="checklist_question",
            value=t.Checklist(
                answer=[
                    answer(name="first_checklist_answer", confidence=0.5),
                    answer(name="second_checklist_answer", confidence=0.5),
                ]
            ),
        ),
        "bbox": t.ObjectAnnotation(
            name="bounding_box",
            confidence=0.5,
            value=t.Rectangle(start=t.Point(x=1690, y=977), end=t.Point(x=1915, y=1307)),
        ),
        "bbox_with_radio_subclass": t.ObjectAnnotation(
            name="bbox_with_radio_subclass",
            confidence=0.5,
            value=t.Rectangle(start=t.Point(x=541, y=933), end=t.Point(x=871, y=1124)),
            classifications=[
                t.ClassificationAnnotation(
                    name="sub_radio_question",
                    value=t.Radio(answer=answer(name="first_sub_radio_answer", confidence=0.5)),
                )
            ],
        ),
        "polygon": t.ObjectAnnotation(
            name="polygon",
            confidence=0.5,
            value=t.Polygon(
                points=[
                    t.Point(x=1489.581, y=183.934),
                    t.Point(x=2278.306, y=256.885),
                    t.Point(x=2428.197, y=200.437),
                    t.Point(x=2560.0, y=335.419),
                    t.Point(x=1426.011, y=421.129),
                ]
            ),
        ),
        "free_text": t.ClassificationAnnotation(
            name="free_text", value=t.Text(answer="sample text", confidence=0.5)
        ),
        "mask": t.ObjectAnnotation(
            name="mask",
            confidence=0.5,
            value=t.Mask(
                mask=t.MaskData(im_bytes=seed_like_png(SEED_MASK_URL)), color=(255, 255, 255)
            ),
        ),
        "mask_with_text_subclass": t.ObjectAnnotation(
            name="mask_with_text_subclass",
            value=t.Mask(
                mask=t.MaskData(im_bytes=seed_like_png(SEED_MASK_URL_2)), color=(255, 255, 255)
            ),
            classifications=[
                t.ClassificationAnnotation(
                    name="sub_free_text", value=t.Text(answer="free text answer")
                )
            ],
        ),
        "point": t.ObjectAnnotation(
            name="point", confidence=0.5, value=t.Point(x=1166.606, y=1441.768)
        ),
        "polyline": t.ObjectAnnotation(
            name="polyline",
            confidence=0.5,
            value=t.Line(
                points=[
                    t.Point(x=2534.353, y=249.471),
                    t.Point(x=2429.492, y=182.092),
                    t.Point(x=90.929, y=326.412),
                ]
            ),
        ),
    }


def seed_ndjson(mask_url: str = SEED_MASK_URL, mask_url_2: str = SEED_MASK_URL_2) -> dict[str, Any]:
    """The guide's twelve predictions as NDJSON-shaped dicts (no ``dataRow`` yet), by kind.

    The same content as ``seed_kinds``; masks are hosted (``instanceURI``) as in the
    guide, and the nested checklist's sub-question is answered with one answer object,
    as the guide's dict does (a list in the typed form).
    """

    def answer(name: str, **more: Any) -> dict[str, Any]:
        return {"name": name, "confidence": 0.5, **more}

    def question(name: str, value: Any) -> dict[str, Any]:
        return {"name": name, "answer": value}

    def hosted(url: str) -> dict[str, Any]:
        return {"instanceURI": url, "colorRGB": (255, 255, 255)}

    return {
        "radio": question("radio_question", answer("second_radio_answer")),
        "nested_radio": question(
            "nested_radio_question",
            answer(
                "first_radio_answer",
                classifications=[question("sub_radio_question", answer("first_sub_radio_answer"))],
            ),
        ),
        "nested_checklist": question(
            "nested_checklist_question",
            [
                answer(
                    "first_checklist_answer",
                    classifications=[
                        question("sub_checklist_question", answer("first_sub_checklist_answer"))
                    ],
                )
            ],
        ),
        "checklist": question(
            "checklist_question",
            [answer("first_checklist_answer"), answer("second_checklist_answer")],
        ),
        "bbox": {
            "name": "bounding_box",
            "confidence": 0.5,
            "bbox": {"top": 977, "left": 1690, "height": 330, "width": 225},
        },
        "bbox_with_radio_subclass": {
            "name": "bbox_with_radio_subclass",
            "confidence": 0.5,
            "bbox": {"top": 933, "left": 541, "height": 191, "width": 330},
            "classifications": [question("sub_radio_question", answer("first_sub_radio_answer"))],
        },
        "polygon": {
            "name": "polygon",
            "confidence": 0.5,
            "polygon": [
                {"x": x, "y": y}
                for x, y in [
                    (1489.581, 183.934),
                    (2278.306, 256.885),
                    (2428.197, 200.437),
                    (2560.0, 335.419),
                    (1426.011, 421.129),
                    (1489.581, 183.934),
                ]
            ],
        },
        "free_text": {"name": "free_text", "answer": "sample text", "confidence": 0.5},
        "mask": {
            "name": "mask",
            "confidence": 0.5,
            "classifications": [],
            "mask": hosted(mask_url),
        },
        "mask_with_text_subclass": {
            "name": "mask_with_text_subclass",
            "mask": hosted(mask_url_2),
            "classifications": [{"name": "sub_free_text", "answer": "free text answer"}],
        },
        "point": {"name": "point", "confidence": 0.5, "point": {"x": 1166.606, "y": 1441.768}},
        "polyline": {
            "name": "polyline",
            "confidence": 0.5,
            "line": [
                {"x": x, "y": y}
                for x, y in [(2534.353, 249.471), (2429.492, 182.092), (90.929, 326.412)]
            ],
        },
    }


def seed_ontology(lb: Any) -> Any:
    """The guide's Step 2 ontology (one feature per prediction kind), built with ``lb``
    (``lbfast`` or ``labelbox``)."""
    kind = lb.Classification.Type
    tool = lb.Tool.Type

    def question(type_: Any, name: str, *options: Any) -> Any:
        return lb.Classification(class_type=type_, name=name, options=list(options))

    def sub_radio() -> Any:
        return question(kind.RADIO, "sub_radio_question", lb.Option("first_sub_radio_answer"))

    return lb.OntologyBuilder(
        classifications=[
            question(
                kind.RADIO,
                "radio_question",
                lb.Option(value="first_radio_answer"),
                lb.Option(value="second_radio_answer"),
            ),
            question(
                kind.CHECKLIST,
                "checklist_question",
                lb.Option(value="first_checklist_answer"),
                lb.Option(value="second_checklist_answer"),
            ),
            lb.Classification(class_type=kind.TEXT, name="free_text"),
            question(
                kind.RADIO,
                "nested_radio_question",
                lb.Option("first_radio_answer", options=[sub_radio()]),
            ),
            question(
                kind.CHECKLIST,
                "nested_checklist_question",
                lb.Option(
                    "first_checklist_answer",
                    options=[
                        question(
                            kind.CHECKLIST,
                            "sub_checklist_question",
                            lb.Option("first_sub_checklist_answer"),
                        )
                    ],
                ),
            ),
        ],
        tools=[
            lb.Tool(tool=tool.BBOX, name="bounding_box"),
            lb.Tool(tool=tool.BBOX, name="bbox_with_radio_subclass", classifications=[sub_radio()]),
            lb.Tool(tool=tool.POLYGON, name="polygon"),
            lb.Tool(tool=tool.RASTER_SEGMENTATION, name="mask"),
            lb.Tool(
                tool=tool.RASTER_SEGMENTATION,
                name="mask_with_text_subclass",
                classifications=[lb.Classification(class_type=kind.TEXT, name="sub_free_text")],
            ),
            lb.Tool(tool=tool.POINT, name="point"),
            lb.Tool(tool=tool.LINE, name="polyline"),
        ],
    )
