"""The ``lbfast`` command: convert and validate on files in a temporary folder,
their output and exit codes; once through ``python -m lbfast`` in a subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from lbfast.cli import main

ONTOLOGY = {
    "tools": [
        {"tool": "rectangle", "name": "person", "featureSchemaId": "cperson000000000000000000"},
        {"tool": "rectangle", "name": "car", "featureSchemaId": "ccar000000000000000000000"},
    ],
    "classifications": [
        {
            "type": "checklist",
            "name": "tags",
            "featureSchemaId": "ctags0000000000000000000a",
            "options": [{"value": "night", "featureSchemaId": "cnight00000000000000000aa"}],
        }
    ],
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "ontology.json").write_text(json.dumps({"normalized": ONTOLOGY}))
    (tmp_path / "instances.json").write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "street/a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
                "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
            }
        )
    )
    (tmp_path / "results.json").write_text(
        json.dumps(
            [
                {"image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.9},
                {"image_id": 1, "category_id": 3, "bbox": [1.5, 2, 3, 4], "score": 0.05},
                {"image_id": 2, "category_id": 3, "bbox": [5, 6, 7, 8], "score": 0.75},
            ]
        )
    )
    rows = [
        {
            "dataRow": {"globalKey": "a"},
            "name": "person",
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
        },
        {"dataRow": {"globalKey": "a"}, "name": "tags", "answer": {"name": "night"}},
    ]
    (tmp_path / "good.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    bad = [
        {
            "dataRow": {"globalKey": "a"},
            "name": "persn",
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
        },
        {"dataRow": {"globalKey": "a"}, "name": "car", "point": {"x": 1, "y": 1}},
    ]
    (tmp_path / "bad.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bad) + "{oops\n")
    return tmp_path


def one_per_line(values: list) -> str:
    """A JSON array with its n-th element on line n (lines count from 1)."""
    return "[" + ",\n".join(json.dumps(v) for v in values) + "]\n"


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_convert_coco_results(files):
    out = files / "out.ndjson"
    code, stdout, _ = run(
        "convert",
        files / "results.json",
        "--coco-dataset",
        files / "instances.json",
        "--ontology",
        files / "ontology.json",
        "--min-score",
        "0.1",
        "--resolve-schema-ids",
        "-o",
        out,
    )
    assert code == 0, stdout
    got = lines(out)
    assert [(r["name"], r["schemaId"], r["dataRow"], r["confidence"], r["bbox"]) for r in got] == [
        (
            "person",
            "cperson000000000000000000",
            {"globalKey": "street/a.jpg"},
            0.9,
            {"top": 20.0, "left": 10.0, "height": 40.0, "width": 30.0},
        ),
        (
            "car",
            "ccar000000000000000000000",
            {"globalKey": "b.jpg"},
            0.75,
            {"top": 6.0, "left": 5.0, "height": 8.0, "width": 7.0},
        ),
    ]
    assert f"wrote {out}: 2 rows" in stdout
    assert "converted 2 predictions from 1 file (1 below --min-score skipped)" in stdout


def test_convert_coco_with_stems_and_unknown_categories(files):
    results = json.loads((files / "results.json").read_text())
    results.append({"image_id": 2, "category_id": 99, "bbox": [0, 0, 1, 1], "score": 0.5})
    (files / "results.json").write_text(one_per_line(results))
    out = files / "out.ndjson"
    code, stdout, _ = run(
        "convert", files / "results.json", "--coco-dataset", files / "instances.json", "-o", out
    )
    assert code == 1
    assert not out.exists() and not list(files.glob(".out.ndjson.*"))
    assert (
        f"{files / 'results.json'}:4: category_id 99 is not in the COCO dataset's categories"
        in stdout
    )
    assert "nothing written" in stdout
    results.pop()
    (files / "results.json").write_text(one_per_line(results))
    code, _, _ = run(
        "convert",
        files / "results.json",
        "--coco-dataset",
        files / "instances.json",
        "--global-key",
        "stem",
        "-o",
        out,
    )
    assert code == 0
    assert [r["dataRow"]["globalKey"] for r in lines(out)] == ["a", "a", "b"]


def test_convert_ndjson_against_an_ontology(files):
    out = files / "out.ndjson"
    code, stdout, _ = run(
        "convert", files / "good.jsonl", "--ontology", files / "ontology.json", "-o", out
    )
    assert code == 0, stdout
    got = lines(out)
    assert got[1]["answer"] == [{"name": "night"}]  # normalised to the checklist's list
    assert "checklist_answer_normalized: 1" in stdout
    assert all("uuid" in r for r in got)

    code, stdout, _ = run(
        "convert",
        files / "bad.jsonl",
        "--ontology",
        files / "ontology.json",
        "-o",
        files / "x.ndjson",
    )
    assert code == 1
    assert not (files / "x.ndjson").exists()
    assert (
        f"{files / 'bad.jsonl'}:1: name: the ontology has no tool 'persn' (did you mean 'person'?)"
        in stdout
    )
    assert f"{files / 'bad.jsonl'}:2: point: tool 'car' is a rectangle tool" in stdout
    assert f"{files / 'bad.jsonl'}:3: not valid JSON" in stdout


def test_validate_reports_and_exit_codes(files):
    code, stdout, _ = run("validate", files / "good.jsonl", "--ontology", files / "ontology.json")
    assert code == 0
    assert "2 items, 2 annotations: 0 errors, 1 warning (checklist_answer_normalized: 1)" in stdout

    code, stdout, _ = run(
        "validate", files / "good.jsonl", files / "bad.jsonl", "--ontology", files / "ontology.json"
    )
    assert code == 1
    assert "5 items, 4 annotations: 3 errors" in stdout
    assert (
        "unknown_tool: 1" in stdout
        and "geometry_mismatch: 1" in stdout
        and "unreadable: 1" in stdout
    )

    # Without an ontology only the predictions themselves are checked.
    code, stdout, _ = run("validate", files / "good.jsonl")
    assert code == 0 and "0 errors, 0 warnings" in stdout


def test_validate_json_for_machines(files):
    code, stdout, _ = run(
        "validate", files / "bad.jsonl", "--ontology", files / "ontology.json", "--json"
    )
    assert code == 1
    report = json.loads(stdout)
    assert report["ok"] is False
    assert report["counts"] == {"unknown_tool": 1, "geometry_mismatch": 1, "unreadable": 1}
    first = report["errors"][0]
    assert (first["source"], first["path"], first["kind"], first["suggestion"]) == (
        f"{files / 'bad.jsonl'}:1",
        "name",
        "unknown_tool",
        "did you mean 'person'?",
    )
    assert report["files"] == [str(files / "bad.jsonl")]


def test_usage_errors_exit_2(files, capsys):
    assert run("validate", files / "missing.ndjson")[0] == 2
    code, _, stderr = run("validate", files / "good.jsonl", "--ontology", files / "nope.json")
    assert code == 2 and "ontology not found" in stderr
    (files / "broken.json").write_text(
        '{"tools": [{"tool": "rectangle", "name": "a"}, {"tool": "point", "name": "a"}]}'
    )
    code, _, stderr = run("validate", files / "good.jsonl", "--ontology", files / "broken.json")
    assert code == 2 and "duplicate name 'a'" in stderr
    assert (
        run("convert", files / "results.json", "-o", files / "o.ndjson")[0] == 2
    )  # no --coco-dataset
    assert (
        run("convert", files / "good.jsonl", "--resolve-schema-ids", "-o", files / "o.ndjson")[0]
        == 2
    )
    assert run("frobnicate")[0] == 2
    assert run("convert", files / "good.jsonl")[0] == 2  # no -o
    capsys.readouterr()


def test_progress_is_drawn_on_request(files):
    code, _, stderr = run("validate", files / "good.jsonl", "--progress")
    assert code == 0 and stderr.startswith("\rvalidating") and stderr.endswith("\n")
    assert run("validate", files / "good.jsonl")[2] == ""  # not a terminal: silent


def test_bench_builtin_prints_a_table():
    code, stdout, _ = run("bench", "--builtin", "--quick")
    assert code == 0
    assert "| lbfast typed: build + dumps" in stdout and "rows/s" in stdout


def test_python_dash_m_lbfast(files):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lbfast",
            "validate",
            str(files / "bad.jsonl"),
            "--ontology",
            str(files / "ontology.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "did you mean 'person'?" in proc.stdout
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lbfast",
            "convert",
            str(files / "good.jsonl"),
            "-o",
            str(files / "o.ndjson"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(lines(files / "o.ndjson")) == 2


def test_the_console_script_is_declared():
    found = entry_points()
    scripts = (
        found.select(group="console_scripts")
        if hasattr(found, "select")
        else found["console_scripts"]
    )
    (script,) = [e for e in scripts if e.name == "lbfast"]
    assert script.value == "lbfast.cli:main"


def test_convert_coco_segmentations_and_box_problems_by_entry(files):
    from lbfast.masks import rle_encode

    mask = np.zeros((8, 10), np.uint8)
    mask[2:5, 3:7] = 1
    results = [
        {
            "image_id": 1,
            "category_id": 1,
            "bbox": [1, 2, 3, 4],
            "score": 0.9,
            "segmentation": [[1, 1, 5, 1, 5, 4, 1, 4]],
        },
        {
            "image_id": 2,
            "category_id": 3,
            "bbox": [3, 2, 4, 3],
            "score": 0.8,
            "segmentation": rle_encode(mask),
        },
    ]
    (files / "seg.json").write_text(one_per_line(results))
    out = files / "seg.ndjson"
    code, stdout, _ = run(
        "convert",
        files / "seg.json",
        "--coco-dataset",
        files / "instances.json",
        "--geometry",
        "segmentation",
        "-o",
        out,
    )
    assert code == 0, stdout
    got = lines(out)
    assert [("polygon" in r, "mask" in r) for r in got] == [(True, False), (False, True)]
    assert got[0]["polygon"][0] == got[0]["polygon"][-1]  # closed ring

    results.append({"image_id": 2, "category_id": 3, "bbox": [3, 2, -4, 3], "score": 0.7})
    (files / "seg.json").write_text(one_per_line(results))
    code, stdout, _ = run(
        "convert", files / "seg.json", "--coco-dataset", files / "instances.json", "-o", out
    )
    assert code == 1
    assert f"{files / 'seg.json'}:3: bbox[2]: width must not be negative, got -4" in stdout


def test_convert_to_shards(files):
    shards = files / "shards"
    code, stdout, _ = run(
        "convert",
        files / "results.json",
        "--coco-dataset",
        files / "instances.json",
        "--out-dir",
        shards,
        "--max-rows",
        "2",
        "--prefix",
        "coco",
    )
    assert code == 0, stdout
    assert sorted(p.name for p in shards.iterdir()) == ["coco-00000.ndjson", "coco-00001.ndjson"]
    assert [len(lines(p)) for p in sorted(shards.iterdir())] == [2, 1]
    assert "2 shards, 3 rows" in stdout

    code, stdout, _ = run("convert", files / "good.jsonl", "--out-dir", files / "gz", "--gzip")
    assert code == 0
    import gzip

    (path,) = (files / "gz").iterdir()
    assert path.name == "predictions-00000.ndjson.gz"
    assert len(gzip.decompress(path.read_bytes()).splitlines()) == 2


def test_a_failed_conversion_leaves_no_shard(files):
    good = (files / "good.jsonl").read_text()
    bad = (files / "bad.jsonl").read_text().splitlines()[0] + "\n"
    # Many good lines first (several shards written), the bad one last.
    (files / "mixed.jsonl").write_text(good * 30_000 + bad)
    out = files / "out"
    code, stdout, _ = run(
        "convert",
        files / "mixed.jsonl",
        "--ontology",
        files / "ontology.json",
        "--out-dir",
        out,
        "--max-rows",
        "10000",
    )
    assert code == 1
    assert f"{files / 'mixed.jsonl'}:60001: name: the ontology has no tool 'persn'" in stdout
    assert list(out.iterdir()) == []


def test_the_per_data_row_limit_is_reported(files):
    rows = [
        {
            "dataRow": {"globalKey": "a"},
            "name": "car",
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
        }
    ] * 5001
    (files / "many.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, stdout, _ = run("convert", files / "many.jsonl", "-o", files / "many.ndjson")
    assert code == 1
    assert "5001 annotations named 'car'" in stdout
    assert not (files / "many.ndjson").exists()
    assert [p.name for p in files.iterdir() if p.name.startswith(".many")] == []


def test_a_closed_pipe_keeps_the_verdict(files):
    bad = json.dumps(
        {
            "dataRow": {"globalKey": "k"},
            "name": "persn",
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
        }
    )
    (files / "many.jsonl").write_text((bad + "\n") * 3000)
    proc = subprocess.run(
        f"{sys.executable} -m lbfast validate {files / 'many.jsonl'} --ontology {files / 'ontology.json'} "
        "--json | head -1; exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stdout == "{\n" and proc.stderr == ""


class ClosedPipe(io.StringIO):
    """A stdout whose reader has gone away, as with `lbfast validate ... | head -0`."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_exits_as_if_killed_by_sigpipe(files):
    # validate keeps its verdict on a closed pipe (tested above); other commands exit
    # as a process killed by SIGPIPE would.
    args = ["convert", str(files / "good.jsonl"), "-o", str(files / "out.ndjson")]
    assert main(args, stdout=ClosedPipe(), stderr=io.StringIO()) == 128 + 13


def test_convert_reports_each_malformed_coco_entry_with_its_place(files):
    good = {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9}
    poly = [[1, 1, 5, 1, 5, 4, 1, 4]]
    entries = [
        {**good, "segmentation": poly},
        {**good, "score": True, "segmentation": poly},
        {**good, "category_id": True, "segmentation": poly},
        {**good, "image_id": [1], "segmentation": poly},
        {**good, "bbox": "1 2 3 4", "segmentation": poly},
        {**good, "bbox": [1, 2, 3], "segmentation": poly},
        {**good, "segmentation": [[1, 1, 5, 1, 5]]},
        {**good, "segmentation": {"counts": "0QPPloo3"}},
    ]
    (files / "odd.json").write_text("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    out = files / "odd.ndjson"
    code, stdout, stderr = run(
        "convert", files / "odd.json", "--coco-dataset", files / "instances.json",
        "--geometry", "both", "-o", out,
    )  # fmt: skip
    assert (code, stderr) == (1, ""), stderr
    assert not out.exists()
    for field in (
        "score",
        "category_id",
        "image_id",
        "bbox",
        "bbox",
        "segmentation[0]",
        "segmentation.size",
    ):
        assert f": {field}: must" in stdout or f": {field}: a polygon" in stdout, (field, stdout)
    assert stdout.count("error: ") == 7


@pytest.mark.parametrize(
    "option",
    [("--max-rows", "0"), ("--max-bytes", "-1"), ("--max-masks", "0"), ("--max-rows", "x")],
)
def test_caps_that_are_not_positive_are_usage_errors(files, option):
    code, _, stderr = run("convert", files / "good.jsonl", "--out-dir", files / "o", *option)
    assert code == 2
    assert f"{option[0]}: must be a whole number of at least 1" in stderr
    assert "Traceback" not in stderr


def test_a_prefix_that_leaves_the_folder_is_a_usage_error(files):
    code, _, stderr = run(
        "convert", files / "good.jsonl", "--out-dir", files / "o", "--prefix", "../x"
    )
    assert code == 2 and "prefix must be a plain file name" in stderr
    assert not (files / "x-00000.ndjson").exists()


def test_a_wrong_typed_line_alone_in_its_batch_is_reported_with_its_line(files):
    bad = {
        "dataRow": {"globalKey": "a"},
        "name": "person",
        "bbox": {"top": "1", "left": 2, "height": 3, "width": 4},
    }
    (files / "one.jsonl").write_text(json.dumps(bad) + "\n")
    code, stdout, stderr = run("validate", files / "one.jsonl")
    assert (code, stderr) == (1, "")
    assert f"{files / 'one.jsonl'}:1: bbox.top: expected a number, got str" in stdout


def test_a_wrong_typed_line_alone_in_the_second_chunk(files):
    from lbfast.ontology import CHUNK_LINES

    good = json.dumps({"dataRow": {"globalKey": "a"}, "name": "person", "point": {"x": 1, "y": 2}})
    bad = good.replace('"x": 1', '"x": "1"')
    (files / "long.jsonl").write_text((good + "\n") * CHUNK_LINES + bad + "\n")
    code, stdout, _ = run("convert", files / "long.jsonl", "-o", files / "long.ndjson")
    assert code == 1
    assert f"{files / 'long.jsonl'}:{CHUNK_LINES + 1}: point.x: expected a number" in stdout


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[1, 2]\n{"name": "x"}\n', 1),  # NDJSON whose first line is a list
        ('[{"a": 1}]\n[{"b": 2}]\n', 1),  # starts with [ but is not one array
        ("\ufeff" + '{"name": 1}\n', 1),  # a byte-order mark
        ("[" * 5000 + "]" * 5000 + "\n", 1),  # nested too deeply
        ('{"a": ' * 100_000 + "1" + "}" * 100_000 + "\n", 1),
    ],
)
def test_odd_file_shapes_are_problems_with_a_line_not_tracebacks(files, text, line):
    (files / "odd.json").write_text(text, encoding="utf-8")
    for command in (("validate",), ("convert", "-o", files / "odd.ndjson")):
        code, stdout, stderr = run(command[0], files / "odd.json", *command[1:])
        assert (code, stderr) == (1, ""), (command, stderr)
        assert f"{files / 'odd.json'}:{line}: " in stdout
        assert not (files / "odd.ndjson").exists()


def test_a_json_array_reports_the_real_line_and_json_errors_one_location(files):
    rows = [
        "{\n" + '  "dataRow": {"globalKey": "a"}, "name": "person",\n  "point": {"x": 1, "y": 2}\n}'
    ] * 2
    rows.append('{"dataRow": {"globalKey": "a"}, "name": "person", "point": {"x": -1, "y": NaN}}')
    (files / "array.json").write_text("[\n" + ",\n".join(rows) + "\n]\n")
    code, stdout, _ = run("validate", files / "array.json")
    assert code == 1
    assert f"{files / 'array.json'}:10: point.y" in stdout, stdout
    code, stdout, _ = run("validate", files / "bad.jsonl")
    (oops,) = [line for line in stdout.splitlines() if "not valid JSON" in line]
    assert oops.startswith(f"error: {files / 'bad.jsonl'}:3: ")
    assert "line 1" not in oops and "(char" not in oops and "column 2" in oops


# --- issue 11, "CLI friction" ------------------------------------------------------------


def test_an_empty_input_file_is_a_warning_and_exit_0(files):
    (files / "empty.jsonl").write_text("")
    (files / "blank.json").write_text("\n  \n")
    for name in ("empty.jsonl", "blank.json"):
        code, stdout, _ = run("validate", files / name)
        assert code == 0
        assert f"warning: {files / name}: the file holds no predictions" in stdout
        out = files / "out.ndjson"
        code, stdout, _ = run("convert", files / name, "-o", out)
        assert code == 0
        assert f"warning: {files / name}: the file holds no predictions" in stdout
        assert out.read_bytes() == b""
    code, stdout, _ = run("validate", files / "empty.jsonl", "--json")
    assert json.loads(stdout)["warning_counts"] == {"empty_input": 1}


def test_the_format_is_decided_per_file(files):
    out = files / "mixed.ndjson"
    code, stdout, _ = run(
        "convert", files / "good.jsonl", files / "results.json",
        "--coco-dataset", files / "instances.json", "-o", out,
    )  # fmt: skip
    assert code == 0, stdout
    got = lines(out)
    assert [r["name"] for r in got] == ["person", "tags", "person", "car", "car"]
    assert "converted 5 predictions from 2 files" in stdout
    # And the other way round; a COCO file needs the dataset even when it comes second.
    code, _, stderr = run("convert", files / "good.jsonl", files / "results.json", "-o", out)
    assert code == 2
    assert f"{files / 'results.json'} holds COCO results: they need --coco-dataset" in stderr


def test_coco_against_an_ontology_reports_every_offending_entry_at_its_line(files):
    onto = {"normalized": {"tools": [ONTOLOGY["tools"][0]], "classifications": []}}
    (files / "person-only.json").write_text(json.dumps(onto))
    entries = [
        {"image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9},
        {"image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.8},
        {"image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.7},
    ]
    (files / "cars.json").write_text(one_per_line(entries))
    code, stdout, _ = run(
        "convert", files / "cars.json", "--coco-dataset", files / "instances.json",
        "--ontology", files / "person-only.json", "-o", files / "o.ndjson",
    )  # fmt: skip
    assert code == 1
    errors = [line for line in stdout.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: {files / 'cars.json'}:{n}: category_id: the ontology has no tool 'car'"
        for n in (1, 3, 4)
    ], stdout
    assert "3 errors (unknown_tool: 3)" in stdout
    assert "features[" not in stdout


def test_gzip_reports_the_bytes_written(files):
    code, stdout, _ = run("convert", files / "good.jsonl", "--out-dir", files / "z", "--gzip")
    assert code == 0, stdout
    (shard,) = (files / "z").iterdir()
    size = shard.stat().st_size
    assert f"wrote {shard}: 2 rows, {size:,} bytes (" in stdout, stdout
    assert " uncompressed)" in stdout


def test_counts_are_printed_with_thousands_separators(files):
    row = {"dataRow": {"globalKey": "a"}, "name": "person", "point": {"x": 1, "y": 2}}
    (files / "many.jsonl").write_text((json.dumps(row) + "\n") * 1200)
    code, stdout, _ = run("validate", files / "many.jsonl")
    assert code == 0
    assert "1,200 items, 1,200 annotations: 0 errors, 0 warnings" in stdout
    code, stdout, _ = run("convert", files / "many.jsonl", "-o", files / "many.ndjson")
    assert code == 0
    assert "1,200 rows" in stdout and "converted 1,200 predictions from 1 file" in stdout


def test_segmentations_are_written_in_input_order_and_their_problems_at_their_line(files):
    from lbfast.masks import rle_encode

    mask = np.zeros((8, 10), np.uint8)
    mask[2:5, 3:7] = 1
    entry = {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9}
    poly = [[1, 1, 5, 1, 5, 4, 1, 4]]
    entries = [
        {**entry, "segmentation": rle_encode(mask)},
        {**entry, "segmentation": poly},
        {**entry, "category_id": 3, "segmentation": rle_encode(mask)},
    ]
    (files / "seg.json").write_text(one_per_line(entries))
    out = files / "seg.ndjson"
    args = ["--coco-dataset", files / "instances.json", "--geometry", "segmentation", "-o", out]
    code, stdout, _ = run("convert", files / "seg.json", *args)
    assert code == 0, stdout
    got = lines(out)
    assert [("mask" in r, r["name"]) for r in got] == [
        (True, "person"),
        (False, "person"),
        (True, "car"),
    ]
    # An empty mask: at the entry's line, with the entry's field.
    entries[2]["segmentation"] = rle_encode(np.zeros((8, 10), np.uint8))
    (files / "seg.json").write_text(one_per_line(entries))
    code, stdout, _ = run("convert", files / "seg.json", *args)
    assert code == 1
    assert f"error: {files / 'seg.json'}:3: segmentation: " in stdout, stdout
    assert "masks[" not in stdout and "row " not in stdout


def test_each_input_file_is_read_once(files, monkeypatch):
    from lbfast.cli import inputs

    opened = []
    real = inputs.read_predictions

    def counting(path, **kwargs):
        opened.append(Path(path).name)
        return real(path, **kwargs)

    monkeypatch.setattr(inputs, "read_predictions", counting)
    code, _, _ = run(
        "convert", files / "results.json", files / "good.jsonl",
        "--coco-dataset", files / "instances.json", "-o", files / "o.ndjson",
    )  # fmt: skip
    assert code == 0
    assert opened == ["results.json", "good.jsonl"]


def test_help_states_the_numbering_and_the_exit_codes(capsys):
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Rows count from 0" in text and "file:line" in text
    assert "Exit codes: 0 done" in text and "without predictions" in text


def test_convert_lowers_and_checks_each_chunk_once(files, monkeypatch):
    import lbfast._core as core

    calls = []
    for name in ("check", "encode", "check_and_encode", "dumps", "check_ndjson"):
        real = getattr(core, name)
        monkeypatch.setattr(
            core,
            name,
            lambda *a, _real=real, _name=name, **k: (
                calls.append((_name, k.get("encode"), len(a[0]) > 0)) or _real(*a, **k)
            ),
        )
    code, stdout, _ = run(
        "convert", files / "good.jsonl", "--ontology", files / "ontology.json",
        "-o", files / "o.ndjson",
    )  # fmt: skip
    assert code == 0, stdout
    # JSONL is read by the core: its one block, then the end of the file (its last
    # Label, held until then), each checked and written in one call.
    assert calls == [("check_ndjson", True, True), ("check_ndjson", True, False)]
    # After the first error nothing is written any more: the rest is only checked.
    calls.clear()
    code, _, _ = run(
        "convert", files / "bad.jsonl", files / "good.jsonl", "--ontology",
        files / "ontology.json", "-o", files / "o.ndjson",
    )  # fmt: skip
    assert code == 1
    assert [(encode, block) for _, encode, block in calls] == [
        (True, True), (False, False), (False, True), (False, False)
    ]  # fmt: skip
    # A JSON array is read in Python, a chunk of dicts at a time.
    calls.clear()
    (files / "good.json").write_text(one_per_line(lines(files / "good.jsonl")))
    code, _, _ = run("convert", files / "good.json", "-o", files / "o.ndjson")
    assert code == 0
    assert [name for name, _, _ in calls] == ["check_and_encode"]


def test_a_json_array_is_read_an_element_at_a_time(tmp_path):
    from lbfast.ontology import read_predictions

    row = {"dataRow": {"globalKey": "a"}, "name": "p", "point": {"x": 1, "y": 2}}
    path = tmp_path / "big.json"
    path.write_text(json.dumps([row] * 100_000))  # one line, about 7 MB
    read = []
    values = read_predictions(path, on_bytes=read.append)
    assert next(values) == (1, row)
    assert sum(read) < path.stat().st_size / 2
    assert sum(1 for _ in values) == 100_000 - 1
    assert sum(read) == path.stat().st_size


def _related_labels(count: int) -> list[dict]:
    """``count`` Labels of three lines each: two points and a relationship between them."""
    out = []
    for k in range(count):
        row = {"globalKey": f"img-{k}"}
        out += [
            {"uuid": f"s{k}", "dataRow": row, "name": "person", "point": {"x": 1, "y": 2}},
            {"uuid": f"t{k}", "dataRow": row, "name": "car", "point": {"x": 3, "y": 4}},
            {
                "uuid": f"r{k}",
                "dataRow": row,
                "name": "near",
                "relationship": {"source": f"s{k}", "target": f"t{k}"},
            },
        ]
    return out


def test_convert_links_a_relationship_whose_ends_are_in_different_chunks(files, monkeypatch):
    from lbfast.ontology import files as reading

    # Chunks of 4 values and blocks of about 500 bytes: many cut a Label apart.
    monkeypatch.setattr(reading, "CHUNK_LINES", 4)
    monkeypatch.setattr(reading, "BLOCK_BYTES", 500)
    values = _related_labels(10)
    (files / "rel.jsonl").write_text("".join(json.dumps(v) + "\n" for v in values))
    code, stdout, _ = run("convert", files / "rel.jsonl", "-o", files / "rel.ndjson")
    assert code == 0, stdout
    assert len(lines(files / "rel.ndjson")) == 30
    # An end in another data row is still refused, at its line.
    values[2]["relationship"]["target"] = "t1"
    (files / "rel.jsonl").write_text("".join(json.dumps(v) + "\n" for v in values))
    code, stdout, _ = run("convert", files / "rel.jsonl", "-o", files / "rel.ndjson")
    assert code == 1
    assert f"{files / 'rel.jsonl'}:3: relationship.target" in stdout, stdout


def test_validate_links_a_relationship_across_the_chunks_of_a_json_array(files, monkeypatch):
    import lbfast
    from lbfast.ontology import files as reading

    monkeypatch.setattr(reading, "CHUNK_LINES", 4)
    (files / "rel.json").write_text(one_per_line(_related_labels(10)))
    report = lbfast.validate_files([files / "rel.json"])
    assert report.errors == [] and report.items == 30
