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


def test_check_report_renders_verdict_and_serializes_the_plan():
    from gigaplan.inputs.requirements import parse_requirement
    from gigaplan.studies.check import CheckReport, Outcome

    plan, data = fixture("default.json")
    report_ = CheckReport(plan, (Outcome(parse_requirement("totals.gpus >= 1"), 5.0, True),
                                 Outcome(parse_requirement("totals.gpus <= 2"), 5.0, False)))
    document = json.loads(render_data(report_, "json"))
    assert document["passed"] is False and document["plan"] == data
    shown = text(report.render(report_, "table"))
    assert "a requirement is not met" in shown and "FAIL" in shown and "pass" in shown


def test_explanation_of_a_failing_site_lists_the_moves():
    from gigaplan.studies.explain import Explanation

    failing = Explanation(status="infeasible", source="s.toml", message="no build-out",
                          alternatives=[], text=["  - raise the power budget to 15 MW"])
    assert set(json.loads(render_data(failing, "json"))) == {
        "schema", "status", "source", "message", "alternatives", "combination", "text"}
    assert "raise the power budget to 15 MW" in text(report.render(failing, "table"))
    feasible = Explanation(status="optimal", source="s.toml",
                           objective={"unit": "GPUs", "value": 72}, binding=["power binds"],
                           marginals=[{"text": "+1 MW -> +7 racks"}])
    shown = text(report.render(feasible, "table"))
    assert "power binds" in shown and "+1 MW -> +7 racks" in shown


def test_diff_table_shows_deltas_and_unchanged_sections():
    from gigaplan.studies.diff import Diff

    diff = Diff(a="a.json", b="b.json", same=False, inputs=[],
                summary=[{"key": "totals.gpus", "label": "GPUs", "kind": "count", "a": 100,
                          "b": 150, "delta": 50, "relative": 0.5, "negligible": False}],
                results=[{"key": "network.switches", "a": 10, "b": 15, "delta": 5,
                          "relative": 0.5, "negligible": False}])
    shown = text(report.render(diff, "table"))
    assert "Changed inputs: none." in shown and "+50.00%" in shown and "+50" in shown
    assert json.loads(render_data(diff, "json"))["summary"][0]["delta"] == 50


def test_sweep_result_records_carry_the_varied_values():
    from gigaplan.studies.sweep import SweepResult

    lines = [{"id": "1", "status": "optimal", "objective": "fp4", "objective.value": 10.0,
              "totals.gpus": 72, "power_mw.facility": 1.0, "cost.capex_usd": 1e6,
              "cost.usd_per_gpu_hour": 2.0},
             {"id": "2", "status": "infeasible", "error": "no build-out fits"}]
    result = SweepResult(keys=["power.budget"], combos=[("1 MW",), ("2 MW",)], lines=lines)
    document = json.loads(render_data(result, "json"))
    assert document["vary"] == ["power.budget"]
    assert [row["vary.power.budget"] for row in document["rows"]] == ["1 MW", "2 MW"]
    shown = text(report.render(result, "table"), width=120)
    assert "no build-out fits" in shown and "Objective (fp4) against power.budget" in shown


def test_montecarlo_result_renders_percentiles_and_probabilities():
    from gigaplan.studies.montecarlo import MonteCarloResult

    stats = {"p10": 1.0, "p50": 2.0, "p90": 3.0, "mean": 2.0, "min": 1.0, "max": 3.0,
             "count": 3}
    result = MonteCarloResult(
        seed=1, samples=3, source="s.toml", uncertain={"power.pue": "uniform(1.1, 1.3)"},
        nominal={}, errors=[],
        fixed_plan={"fields": {"totals.gpus": stats}, "limit_broken_probability":
                    {"power.budget": 0.5}, "requirement_holds_probability": {}},
        optimal_plans={"fields": {"totals.gpus": None}, "feasible_probability": 1.0,
                       "requirement_holds_probability": {},
                       "objective_histogram": {"edges": [1.0, 2.0], "counts": [3]}})
    assert json.loads(render_data(result, "json"))["schema"] == "gigaplan.montecarlo/1"
    shown = text(report.render(result, "table"), width=120)
    assert "fixed plan breaks power.budget" in shown and "50.0%" in shown and "n/a" in shown
