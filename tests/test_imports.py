"""lbfast's modules import each other without cycles.

The graph is read from the source: every import that runs (at module level or inside a
function), not those under ``if TYPE_CHECKING:``, which only the type checker follows.
``from lbfast.x import y`` is an edge to the module ``lbfast.x.y`` when there is one,
else to ``lbfast.x``. ``lbfast._core`` (the extension) imports nothing of lbfast's
Python modules at import time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import lbfast

ROOT = Path(lbfast.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
# The Rust extension: a module of its own, not a name of lbfast/__init__.py.
EXTENSIONS = {"lbfast._core"}
KNOWN = set(MODULES) | EXTENSIONS


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def edges(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in runtime_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in KNOWN else base
                for alias in node.names
            ]
        out.update(t for t in targets if t in MODULES and t != name)
    return out


GRAPH = {name: edges(name, path) for name, path in MODULES.items()}


def find_cycle() -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(GRAPH):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_the_package():
    assert "lbfast.ontology.validate" in GRAPH
    assert "lbfast.ontology.builder" in GRAPH["lbfast.ontology"]
    assert "lbfast.errors" in GRAPH["lbfast.ontology.report"]


def test_the_cycle_finder_finds_a_cycle(monkeypatch):
    monkeypatch.setitem(GRAPH, "lbfast.errors", {"lbfast.ontology.report"})
    assert find_cycle() is not None


def test_no_module_imports_itself_back():
    assert find_cycle() is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_on_its_own(name):
    # A fresh interpreter, so that no other module was imported first.
    proc = subprocess.run(
        [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
