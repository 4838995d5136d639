"""House rule: no import cycles between thinka's modules.

The graph is read from the AST of every thinka/*.py, with the imports inside functions counted as well: a lazy
import hides a cycle from the interpreter, not from the structure. An edge A → B means module A imports module B
(`import thinka.b`, `from thinka import b`, `from thinka.b import x`); `from thinka import NAME` where NAME is no
module is an edge to the package itself (thinka/__init__.py).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import thinka

PACKAGE = Path(thinka.__file__).resolve().parent
NAME = "thinka"


def module_names(package: Path = PACKAGE) -> list[str]:
    return sorted(NAME if p.stem == "__init__" else f"{NAME}.{p.stem}" for p in package.glob("*.py"))


def imports_of(source: str, modules: set[str]) -> set[str]:
    """The thinka modules a module's source imports, anywhere in it (top level, functions, branches)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == NAME:
                for alias in node.names:
                    found.add(f"{NAME}.{alias.name}" if f"{NAME}.{alias.name}" in modules else NAME)
            elif node.module in modules:
                found.add(node.module)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = set(module_names(package))
    graph = {}
    for name in sorted(modules):
        path = package / ("__init__.py" if name == NAME else f"{name.split('.', 1)[1]}.py")
        graph[name] = imports_of(path.read_text(encoding="utf-8"), modules) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` as [a, b, ..., a], or [] when the graph is acyclic (depth-first, sorted order)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def test_find_cycle_reports_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_sees_function_level_and_package_imports():
    source = '''
from thinka import ALL_SITES, api
import thinka.io

def f():
    from thinka.build import Unit
    import os
'''
    modules = {"thinka", "thinka.api", "thinka.io", "thinka.build"}
    assert imports_of(source, modules) == {"thinka", "thinka.api", "thinka.io", "thinka.build"}


def test_thinka_modules_import_no_cycle():
    graph = import_graph()
    assert len(graph) > 20, sorted(graph)  # every module was read
    cycle = find_cycle(graph)
    assert not cycle, "Import cycle between thinka's modules: " + " → ".join(cycle) + (
        "\nMove what both sides need into a module of its own that imports neither (as thinka.units does for the "
        "build units)."
    )


@pytest.mark.parametrize("module", module_names())
def test_every_module_imports(module):
    assert importlib.import_module(module).__name__ == module
