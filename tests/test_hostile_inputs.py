"""Inputs that once killed the process: each runs in a child process with a memory
limit and a timeout, so that a crash, an abort or a runaway allocation fails the test
instead of the test run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Enough for the interpreter, numpy and lbfast; far below what the runaway inputs took.
MEMORY_LIMIT = 1 << 30
TIMEOUT_SECONDS = 60


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


def run_guarded(code: str) -> str:
    """Runs `code` in a child limited to MEMORY_LIMIT bytes; returns its stdout.

    `code` reports with `raised(lambda: ...)`. A signal (segfault, abort), a
    non-zero exit or a timeout fails the test."""
    prelude = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + RAISED + textwrap.dedent(code)],
        capture_output=True,
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
        node = {"type": "radio", "name": "q0", "options": []}
        top = node
        for level in range(1, 10_000):
            inner = {"type": "radio", "name": f"q{level}", "options": []}
            node["options"].append({"value": "a", "options": [inner]})
            node = inner
        onto = {"tools": [], "classifications": [top]}
        raised(lambda: lbfast.Ontology.from_json(onto))
        row = {"name": "q0", "answer": {"name": "a"}, "dataRow": {"globalKey": "k"}}
        raised(lambda: lbfast.dumps([row], ontology=onto))
        """
    )
    lines = out.splitlines()
    assert len(lines) == 2, out
    for line in lines:
        assert line.startswith("ValueError ontology: classifications[0].options[0]"), line
        assert "nested more than 32 levels deep" in line


def test_an_ontology_as_deep_as_predictions_may_be_is_accepted():
    import lbfast

    node = {"type": "radio", "name": "q0", "options": []}
    top = node
    for level in range(1, 32):
        inner = {"type": "radio", "name": f"q{level}", "options": []}
        node["options"].append({"value": "a", "options": [inner]})
        node = inner
    assert lbfast.Ontology.from_json({"tools": [], "classifications": [top]}).index
