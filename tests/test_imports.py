"""The core's packages must not import each other in a circle."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "rnr_core"


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return []


def import_graph(root: Path = CORE) -> dict[str, set[str]]:
    """unit -> units it imports, where a unit is a top-level module or package of the core.

    Imports inside functions count too: they only defer a cycle, they do not remove it.
    """
    units = {p.name.removesuffix(".py") for p in root.iterdir() if p.suffix == ".py" or p.is_dir()}
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        unit = path.relative_to(root).parts[0].removesuffix(".py")
        edges = graph.setdefault(unit, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported(node):
                parts = name.split(".")
                if parts[0] == "rnr_core" and len(parts) > 1 and parts[1] in units and parts[1] != unit:
                    edges.add(parts[1])
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path of units (first == last), or None."""
    done: set[str] = set()

    def visit(path: list[str]) -> list[str] | None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt in path:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in done and (cycle := visit([*path, nxt])):
                return cycle
        done.add(path[-1])
        return None

    return next((c for start in sorted(graph) if (c := visit([start]))), None)


def test_no_import_cycle_between_core_packages():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("from rnr_core.b import y\n")
    (tmp_path / "b.py").write_text("def f():\n    from rnr_core.a.x import z\n")
    (tmp_path / "c.py").write_text("import rnr_core.b\n")
    assert find_cycle(import_graph(tmp_path)) == ["a", "b", "a"]
    (tmp_path / "b.py").write_text("import json\n")
    assert find_cycle(import_graph(tmp_path)) is None
