"""Every public function of the core says what it does; the entry points in numpydoc form."""

from __future__ import annotations

import ast
import inspect

import pytest
from conftest import ROOT


def _public_functions():
    for path in sorted((ROOT / "gigaplan").rglob("*.py")):
        if "cli" in path.relative_to(ROOT).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            members = [node]
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                members += node.body
            for item in members:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                    yield f"{path.relative_to(ROOT)}:{item.lineno} {item.name}", item


def test_every_public_function_outside_the_cli_has_a_docstring():
    missing = [where for where, node in _public_functions() if not ast.get_docstring(node)]
    assert missing == []


@pytest.mark.parametrize("name", ["gigaplan.api.load_catalog", "gigaplan.api.load_site",
                                  "gigaplan.api.plan", "gigaplan.planner.plan",
                                  "gigaplan.planner.plan_study", "gigaplan.solve.solve",
                                  "gigaplan.formulation.build.build",
                                  "gigaplan.inputs.units.split_number",
                                  "gigaplan.inputs.values.flatten"])
def test_entry_points_document_parameters_and_returns(name):
    import importlib

    module, _, attribute = name.rpartition(".")
    doc = inspect.getdoc(getattr(importlib.import_module(module), attribute)) or ""
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc, name


# The packages whose public functions all have numpydoc Parameters and Returns sections (issue
# 13): every package outside gigaplan/cli/.
NUMPYDOC_DONE = ("gigaplan", "gigaplan/inputs", "gigaplan/formulation", "gigaplan/studies",
                 "gigaplan/output")


def _numpydoc_gaps(node: ast.FunctionDef) -> list[str]:
    """The numpydoc sections ``node``'s docstring lacks: Parameters, Returns or both."""
    args = [arg for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
            if arg.arg not in ("self", "cls")]
    if node.args.vararg or node.args.kwarg:
        args.append(node.args.vararg or node.args.kwarg)
    is_property = any(getattr(dec, "id", getattr(dec, "attr", "")) in ("property",
                      "cached_property") for dec in node.decorator_list)
    returns = node.returns is not None and not (isinstance(node.returns, ast.Constant)
                                                and node.returns.value in (None, "None"))
    doc = ast.get_docstring(node) or ""
    gaps = []
    if args and "Parameters\n----------" not in doc:
        gaps.append("Parameters")
    if returns and not is_property and "Returns\n-------" not in doc:
        gaps.append("Returns")
    return gaps


def test_numpydoc_gaps_sees_a_missing_section():
    tree = ast.parse('def f(power_kw: float) -> float:\n    """Half."""\n    return power_kw\n'
                     'def g() -> None:\n    """Nothing."""\n')
    f, g = tree.body
    assert _numpydoc_gaps(f) == ["Parameters", "Returns"]
    assert _numpydoc_gaps(g) == []


def test_finished_packages_have_numpydoc_parameters_and_returns():
    gaps = [f"{where} lacks {' and '.join(gap)}" for where, node in _public_functions()
            if where.rpartition("/")[0] in NUMPYDOC_DONE and (gap := _numpydoc_gaps(node))]
    assert gaps == []
