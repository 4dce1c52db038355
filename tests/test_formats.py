"""One formatter per format, tested on fixture results without solving (like pip-audit's
``test/format/``): the golden plan documents, read back into typed results."""

from __future__ import annotations

import csv
import io
import json
import tomllib

import pytest
from conftest import ROOT
from rich.console import Console

from gigaplan.output import report
from gigaplan.output.serialize import render_data, to_json
from gigaplan.result import PlanResult, ReferenceCopies, ReferenceResult, StudyResult

GOLDEN = ROOT / "tests" / "golden"


def fixture(name: str):
    data = json.loads((GOLDEN / name).read_text())
    kind = {"gigaplan.plan/1": PlanResult, "gigaplan.study/1": StudyResult}[data["schema"]]
    return kind.from_dict(data), data


def text(renderable, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


@pytest.mark.parametrize("name", ["default.json", "phased-site.json", "three-sites.json"])
def test_json_of_a_result_read_back_is_byte_identical(name):
    result, _ = fixture(name)
    assert to_json(result) == (GOLDEN / name).read_text()
    assert render_data(result, "json") == to_json(result.to_dict())


@pytest.mark.parametrize("name", ["default.json", "phased-site.json", "three-sites.json"])
def test_toml_holds_the_json_document_less_its_nulls(name):
    result, data = fixture(name)
    parsed = tomllib.loads(render_data(result, "toml"))
    assert parsed["schema"] == data["schema"]
    assert parsed["objective"]["value"] == data["objective"]["value"]
    assert "mip_gap" in data["solver"] and parsed["solver"]["status"] == data["solver"]["status"]


def test_csv_is_one_key_value_row_per_leaf():
    result, data = fixture("default.json")
    rows = list(csv.reader(io.StringIO(render_data(result, "csv"))))
    assert rows[0] == ["key", "value"]
    values = dict(rows[1:])
    assert values["totals.gpus"] == str(data["totals"]["gpus"])
    sku = data["racks"][0]["sku"]
    assert values[f"racks[{sku}].count"] == str(data["racks"][0]["count"])


def test_plan_table_shows_the_figures_at_80_columns():
    result, data = fixture("default.json")
    shown = text(report.render(result, "table"))
    assert f"{data['totals']['gpus']:,}" in shown
    assert "Power waterfall" in shown and "Constraints" in shown


def test_study_table_lists_each_site_and_the_total():
    result, data = fixture("three-sites.json")
    shown = text(report.render(result, "table"), width=120)
    for site in data["sites"]:
        assert site["name"] in shown and f"{site['totals']['gpus']:,}" in shown
    assert f"{data['totals']['gpus']:,}" in shown and "Study limits" in shown


def test_reference_result_renders_and_serializes_its_totals():
    design, _ = fixture("default.json")
    result = ReferenceResult(source="s.toml", reference="a", design=design, copies=[
        ReferenceCopies("a", 2, "power", 2 * design.totals["gpus"], 2.0e9),
        ReferenceCopies("b", 0, "white space", 0, 0.0)])
    data = json.loads(render_data(result, "json"))
    assert data["schema"] == "gigaplan.reference/1"
    assert data["total_copies"] == 2 and data["total_gpus"] == 2 * design.totals["gpus"]
    assert ReferenceResult.from_dict(data).to_dict() == json.loads(to_json(result.to_dict()))
    shown = text(report.render(result, "table"))
    assert "white space" in shown and f"{2 * design.totals['gpus']:,}" in shown


def test_an_infeasible_study_has_no_site_tables():
    result, _ = fixture("three-sites.json")
    infeasible = StudyResult(name=result.name, source="x.toml", status="infeasible",
                             objective={**result.objective, "value": None},
                             solver=result.solver, message="no joint build-out",
                             conflicts=["study.capex"])
    data = json.loads(render_data(infeasible, "json"))
    assert data["conflicts"] == ["study.capex"] and "sites" not in data
    assert text(report.render(infeasible, "table")).strip() == "x.toml: infeasible"


def test_an_unknown_result_type_has_no_table():
    with pytest.raises(TypeError, match="no table renderer for dict"):
        report.render({}, "table")
