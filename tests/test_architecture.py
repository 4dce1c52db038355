"""The layers of gigaplan: every import points down, and no import cycle exists.

Each module of the package belongs to one layer (docs/architecture.md draws them):

    api          gigaplan and gigaplan.api (the public API), gigaplan.__main__
    cli          gigaplan.cli.*: the Typer app, the only code that prints or exits
    output       gigaplan.output.*: serialize (plain/JSON/TOML/CSV) and report (rich)
    studies      gigaplan.studies.*: batch, sweep, montecarlo, explain, diff, check, executors
    planner      gigaplan.planner: what to build and solve (one site, phases, studies)
    engine       gigaplan.solve, gigaplan.result: HiGHS stages, re-check, the typed plan
    formulation  gigaplan.formulation.*: Layout, Expr, Model and the define_* blocks
    inputs       gigaplan.inputs.*: units, catalog, site, requirements, scenario, studies
    leaves       gigaplan.errors, gigaplan.kinds, gigaplan.version

The test reads every import with :mod:`ast` (module-level, function-level, ``TYPE_CHECKING``
and ``__main__`` blocks alike, plus the lazy names of ``gigaplan/__init__.py``) and fails on an
import of a higher layer, on any cycle, and on a function-level import that is not one of the
few allowed to keep heavy packages off the start-up path (each with a comment saying so).
``python tests/test_architecture.py`` prints the layer graph.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gigaplan"
LAYERS = ("leaves", "inputs", "formulation", "engine", "planner", "studies", "output", "cli",
          "api")
FLAT = {
    "gigaplan.errors": "leaves", "gigaplan.kinds": "leaves", "gigaplan.version": "leaves",
    "gigaplan.fdguard": "leaves", "gigaplan.solver_thread": "leaves",
    "gigaplan.solve": "engine", "gigaplan.result": "engine",
    "gigaplan.planner": "planner",
    "gigaplan": "api", "gigaplan.api": "api", "gigaplan.__main__": "api",
}
SUBPACKAGES = ("inputs", "formulation", "studies", "output", "cli")
# Imported inside a function only to keep them off the start-up path of --help and
# `catalog list` (numpy, scipy, pydantic, dask, rich's heavier modules).
HEAVY = {"numpy", "scipy", "pydantic", "pydantic_core", "distributed", "dask", "rich"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    if module in FLAT:
        return FLAT[module]
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in SUBPACKAGES:
        return parts[1]
    raise AssertionError(f"{module}: assign it to a layer in tests/test_architecture.py")


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _target(node: ast.ImportFrom | ast.Import, alias: ast.alias, known: set[str]) -> str:
    """The module an import statement loads: ``from gigaplan.x import y`` is ``gigaplan.x.y``
    when that is a module, else ``gigaplan.x``."""
    if isinstance(node, ast.Import):
        return alias.name
    base = node.module or ""
    candidate = f"{base}.{alias.name}"
    return candidate if candidate in known else base


class Imports(ast.NodeVisitor):
    """Every import of one module, and whether it sits inside a function."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
        self.depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, self.depth > 0))


def _commented(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's lines, or on the line above it (or above its group)."""
    for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
        if "#" in lines[number - 1]:
            return True
    number = node.lineno - 1
    while number >= 1:
        text = lines[number - 1].strip()
        if text.startswith("#"):
            return True
        if not (text.startswith(("from ", "import ")) or text.endswith((",", "(", ")"))
                or text == ""):
            return False
        number -= 1
    return False


def _lazy_api(path: Path) -> list[str]:
    """The modules ``gigaplan/__init__.py`` loads by name (its ``_LAZY`` table)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_LAZY"
                                                for t in node.targets):
            return [value.value for value in node.value.values]  # type: ignore[attr-defined]
    return []


def graph() -> tuple[dict[str, set[str]], list[str]]:
    """Internal import edges, and every function-level import that breaks the rule."""
    found = modules()
    known = set(found)
    edges: dict[str, set[str]] = {name: set() for name in found}
    problems = []
    for name, path in found.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        visitor = Imports()
        visitor.visit(ast.parse(text))
        for node, in_function in visitor.found:
            for alias in node.names:
                target = _target(node, alias, known)
                top = target.split(".")[0]
                internal = top == "gigaplan"
                if internal:
                    edges[name].add(target)
                if not in_function:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                allowed = top in HEAVY or (internal and layer_of(name) == "cli")
                if not allowed:
                    problems.append(f"{where}: import of {target} inside a function; import "
                                    "it at the top (only numpy, scipy, pydantic, dask, rich "
                                    "and, in the CLI, the core may be imported lazily)")
                elif not _commented(lines, node):
                    problems.append(f"{where}: a lazy import of {target} needs a comment "
                                    "saying which start-up path it keeps light")
    edges["gigaplan"].update(_lazy_api(found["gigaplan"]))
    return edges, problems


def upward_edges(edges: dict[str, set[str]]) -> list[str]:
    out = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if LAYERS.index(layer_of(target)) > LAYERS.index(layer_of(source)):
                out.append(f"{source} ({layer_of(source)}) imports {target} "
                           f"({layer_of(target)})")
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), or a self-loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer_graph(edges: dict[str, set[str]]) -> str:
    """Each layer, its modules, and the layers it imports (with the number of edges)."""
    members: dict[str, list[str]] = defaultdict(list)
    uses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for source, targets in edges.items():
        members[layer_of(source)].append(source.removeprefix("gigaplan.") or "gigaplan")
        for target in targets:
            uses[layer_of(source)][layer_of(target)] += 1
    lines = []
    for layer in reversed(LAYERS):
        below = ", ".join(f"{target} ({count})" for target, count in
                          sorted(uses[layer].items(), key=lambda item: -LAYERS.index(item[0])))
        lines.append(f"{layer:<12} -> {below or '(nothing)'}")
        lines.append(f"{'':<12}    {', '.join(sorted(members[layer]))}")
    total = sum(len(targets) for targets in edges.values())
    lines.append(f"{len(edges)} modules, {total} internal imports, "
                 f"{len(upward_edges(edges))} upward, {len(cycles(edges))} cycles")
    return "\n".join(lines)


def test_every_module_has_a_layer():
    for name in modules():
        assert layer_of(name) in LAYERS


def test_no_import_points_up_a_layer():
    edges, _ = graph()
    print(layer_graph(edges))
    assert upward_edges(edges) == []


def test_the_import_graph_has_no_cycle():
    edges, _ = graph()
    assert cycles(edges) == []


def test_function_level_imports_only_keep_heavy_packages_off_start_up_paths():
    _, problems = graph()
    assert problems == []


def test_the_checks_catch_an_upward_edge_and_a_cycle():
    edges = {"gigaplan.inputs.site": {"gigaplan.studies.montecarlo"},
             "gigaplan.studies.montecarlo": {"gigaplan.inputs.site"}}
    assert upward_edges(edges) == ["gigaplan.inputs.site (inputs) imports "
                                   "gigaplan.studies.montecarlo (studies)"]
    assert cycles(edges) == [["gigaplan.inputs.site", "gigaplan.studies.montecarlo"]]


if __name__ == "__main__":
    print(layer_graph(graph()[0]))
