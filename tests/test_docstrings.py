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
