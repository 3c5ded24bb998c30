"""Inputs that once killed the process: each runs in a child process with a memory
limit and a timeout, so that a crash, an abort or a runaway allocation fails the test
instead of the test run."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from typing import Any, Callable

# Enough for the interpreter, numpy and lbfast; far below what the runaway inputs took.
MEMORY_LIMIT = 1 << 30
TIMEOUT_SECONDS = 300  # generous: a loaded machine is slow, and a timeout is no result


# Prints what a call raised, on one line, for the parent to check.
RAISED = """
def raised(call):
    try:
        call()
    except Exception as err:
        print(type(err).__name__, str(err).replace("\\n", " | "))
    else:
        print("no error")
"""


def run_guarded(code: str, *helpers: Callable[..., Any]) -> str:
    """Runs `code` in a child limited to MEMORY_LIMIT bytes; returns its stdout.

    `code` reports with `raised(lambda: ...)`; `helpers` are functions of this file
    it may call (their source goes first). A signal (segfault, abort), a
    non-zero exit or a timeout fails the test."""
    prelude = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
    )
    sources = "".join(inspect.getsource(helper) + "\n" for helper in helpers)
    done = subprocess.run(
        [sys.executable, "-c", prelude + RAISED + sources + textwrap.dedent(code)],
        capture_output=True,
        check=False,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, f"child exited with {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout.strip()


def test_a_fanning_dict_cycle_raises_at_once():
    out = run_guarded(
        """
        import lbfast
        lst = []
        q = {"name": "q", "answer": lst}
        lst.append({"name": "a", "classifications": [q, q]})
        raised(lambda: lbfast.dumps([dict(q, dataRow={"globalKey": "k"})]))
        """
    )
    assert out.startswith("ValidationError"), out
    assert "nested more than" in out


def test_a_cyclic_ontology_is_a_value_error_naming_where():
    out = run_guarded(
        """
        import lbfast
        top = {"type": "radio", "name": "q", "options": []}
        top["options"].append({"value": "a", "options": [top]})
        onto = {"tools": [], "classifications": [top]}
        raised(lambda: lbfast.Ontology.from_json(onto))
        row = {"name": "q", "answer": {"name": "a"}, "dataRow": {"globalKey": "k"}}
        raised(lambda: lbfast.dumps([row], ontology=onto))
        tool = {"tool": "rectangle", "name": "box", "classifications": [top]}
        raised(lambda: lbfast.Ontology.from_json({"tools": [tool], "classifications": []}))
        """
    )
    lines = out.splitlines()
    assert len(lines) == 3, out
    for line in lines:
        assert line.startswith("ValueError ontology: "), line
        assert "cycle" in line
    assert "classifications[0].options[0].options[0]: is classifications[0] again" in lines[0]
    assert "tools[0].classifications[0].options[0].options[0]" in lines[2]


def test_a_deep_ontology_is_a_value_error_naming_where():
    out = run_guarded(
        """
        import lbfast
        onto = {"tools": [], "classifications": [nested_questions(10_000)]}
        raised(lambda: lbfast.Ontology.from_json(onto))
        row = {"name": "q0", "answer": {"name": "a"}, "dataRow": {"globalKey": "k"}}
        raised(lambda: lbfast.dumps([row], ontology=onto))
        """,
        nested_questions,
    )
    lines = out.splitlines()
    assert len(lines) == 2, out
    for line in lines:
        assert line.startswith("ValueError ontology: classifications[0].options[0]"), line
        assert "nested more than 32 levels deep" in line


def nested_questions(levels: int) -> dict:
    """A radio question whose answer holds a question, `levels` questions deep."""
    top = node = {"type": "radio", "name": "q0", "options": []}
    for level in range(1, levels):
        inner = {"type": "radio", "name": f"q{level}", "options": []}
        node["options"].append({"value": "a", "options": [inner]})
        node = inner
    return top


def test_an_ontology_as_deep_as_predictions_may_be_is_accepted():
    import lbfast

    onto = {"tools": [], "classifications": [nested_questions(32)]}
    assert lbfast.Ontology.from_json(onto).index


BIG_RLE = {"size": [65535, 65535], "counts": "0QPPloo3"}


def test_an_rle_of_four_gigapixels_is_refused_not_an_abort(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps([{"image_id": 1, "category_id": 1, "segmentation": BIG_RLE, "score": 0.9}])
    )
    out = run_guarded(
        f"""
        import lbfast, lbfast.masks
        from lbfast.adapters import coco
        rle = {BIG_RLE!r}
        raised(lambda: lbfast.masks.rle_decode(rle))
        raised(lambda: lbfast.masks.InstanceMasks.from_rle([rle], data_rows=["k"], features=["x"]))
        raised(lambda: coco.from_results({str(results)!r}, categories={{1: "x"}}, images={{1: "k"}},
                                         geometry="segmentation"))
        """
    )
    lines = out.splitlines()
    assert len(lines) == 3, out
    for line in lines:
        # from_results names the result too: "COCO result 0: segmentation: RLE size ..."
        assert line.startswith("ValueError "), line
        assert "RLE size 65535x65535 = 4294836225 pixels is above the limit" in line, line


def test_a_larger_pixel_cap_lets_an_rle_through_or_raises_memory_error():
    # Allowed by the cap, but more than the child's memory: MemoryError, not an abort.
    out = run_guarded(
        f"""
        import lbfast.masks
        raised(lambda: lbfast.masks.rle_decode({BIG_RLE!r}, max_mask_pixels=2**33))
        """
    )
    assert out.startswith("MemoryError not enough memory for a 65535x65535 mask"), out


def test_a_16_bit_rgba_png_under_the_pixel_cap_is_refused_by_its_bytes():
    out = run_guarded(
        """
        import zlib
        import lbfast, lbfast.types as lb

        def chunk(kind, data):
            return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

        ihdr = (16384).to_bytes(4, "big") + (16383).to_bytes(4, "big") + bytes([16, 6, 0, 0, 0])
        png = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b"")
        ann = lb.ObjectAnnotation(name="a", value=lb.Mask(mask=lb.MaskData(im_bytes=png), color=(1, 2, 3)))
        raised(lambda: lbfast.dumps([lb.Label(data={"global_key": "k"}, annotations=[ann])]))
        raised(lambda: lbfast.masks.colors(png))
        """
    )
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert lines[0].startswith("ValidationError"), lines[0]
    for line in lines:
        assert "PNG is 16384x16383 and needs 2147352576 bytes to decode, above the limit" in line


def test_colour_discovery_that_runs_out_of_memory_is_a_memory_error():
    # A colour per pixel: the colour table needs more than the child's memory.
    out = run_guarded(
        """
        import numpy as np
        import lbfast.masks
        side = 4096
        pixel = np.arange(side * side, dtype=np.uint32).reshape(side, side)
        image = np.zeros((side, side, 3), np.uint16)
        image[..., 0] = pixel % 65536
        image[..., 1] = pixel // 65536
        del pixel
        raised(lambda: lbfast.masks.colors(image))
        """
    )
    assert out.startswith("MemoryError not enough memory for the colours of the image"), out
