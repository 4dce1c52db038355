"""Build-out over time (phases) and across sites (studies)."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from conftest import ROOT, parse_json
from helpers import BARE, bound_site, catalog_with, rack

from gigaplan.errors import SiteError
from gigaplan.inputs.study import load_study
from gigaplan.planner import plan, plan_study


def two_phases(**extra):
    overrides = {"compute.skus": ["gb300-nvl72"], "power.budget": "20 MW",
                 "phases": [{"name": "first", "date": "2026-01-01", "power": "10 MW"},
                            {"name": "second", "date": "2026-07-01", "power": "20 MW"}]}
    overrides.update(extra)
    return plan(bound_site(BARE, overrides=overrides))


def test_two_phases_racks_only_grow_and_use_the_new_power():
    result = two_phases()
    first, second = result.phases
    assert first["racks"]["gb300-nvl72"] == math.floor(10_000 / 142) == 70
    assert second["racks"]["gb300-nvl72"] == math.floor(20_000 / 142) == 140
    assert second["racks_added"]["gb300-nvl72"] == 70
    assert second["power_mw_used"] > first["power_mw_energized"]
    assert result.totals["gpus"] == 140 * 72  # the final state is the plan's build-out
    assert first["capex_usd"] + second["capex_usd"] == pytest.approx(result.cost["capex_usd"])
    assert result.schedule["time_to_first_compute"] == "2026-01-20"  # + 19 days to install


def test_time_weighted_objective_counts_years_in_service():
    result = two_phases(**{"schedule.horizon_end": "2027-01-20"})
    first, second = result.phases
    assert first["weight_years"] == pytest.approx(181 / 365.25)
    assert second["weight_years"] == pytest.approx(184 / 365.25)
    expected = first["weight_years"] * first["objective"] + \
        second["weight_years"] * second["objective"]
    assert result.schedule["objective_value"] == pytest.approx(expected)


def test_announced_sku_only_from_its_date_and_only_when_allowed():
    phases = [{"name": "early", "date": "2026-01-01", "power": "10 MW"},
              {"name": "late", "date": "2026-09-01", "power": "20 MW"}]
    allowed = plan(bound_site(BARE, overrides={
        "compute.skus": ["gb300-nvl72", "vera-rubin-nvl72"], "compute.allow_announced": True,
        "power.budget": "20 MW",
        "phases": [{**phases[0], "requirements": ["totals.gpus >= 72"]}, phases[1]]}))
    early, late = allowed.phases
    assert early["racks"]["vera-rubin-nvl72"] == 0  # available from 2026-07-01
    assert early["racks"]["gb300-nvl72"] > 0
    assert late["racks_added"]["vera-rubin-nvl72"] > 0
    not_allowed = plan(bound_site(BARE, overrides={"power.budget": "20 MW", "phases": phases}))
    assert all(phase["racks"].get("vera-rubin-nvl72", 0) == 0 for phase in not_allowed.phases)
    assert "vera-rubin-nvl72" not in not_allowed.phases[-1]["racks"]
    with pytest.raises(SiteError, match="is announced, not shipping"):
        bound_site(BARE, overrides={"compute.skus": ["vera-rubin-nvl72"],
                                    "phases": phases, "power.budget": "20 MW"})


def test_refresh_lets_racks_be_replaced():
    phases = [{"name": "early", "date": "2026-01-01", "power": "10 MW",
               "requirements": ["totals.gpus >= 3600"]},
              {"name": "late", "date": "2026-09-01", "power": "10 MW"}]
    site = {"compute.skus": ["gb300-nvl72", "vera-rubin-nvl72"], "compute.allow_announced": True,
            "power.budget": "10 MW", "phases": phases, "schedule.objective_over_time": "final"}
    kept = plan(bound_site(BARE, overrides=site))
    refreshed = plan(bound_site(BARE, overrides={**site, "schedule.allow_refresh": True}))
    assert kept.phases[0]["racks"]["gb300-nvl72"] >= 50  # 3,600 GPUs promised early
    assert kept.phases[1]["racks"]["gb300-nvl72"] >= kept.phases[0]["racks"]["gb300-nvl72"]
    assert refreshed.phases[1]["racks"]["gb300-nvl72"] == 0  # replaced by Vera Rubin
    assert refreshed.objective["value"] > kept.objective["value"]


@pytest.mark.parametrize(
    ("phases", "fragment"),
    [
        ([{"name": "a", "date": "2026-01-01", "power": "10 MW"},
          {"name": "b", "date": "2026-06-01", "power": "5 MW"}],
         "phases[1] ('b'): power 5 MW is less than the previous phase's 10 MW"),
        ([{"name": "a", "date": "2026-06-01", "power": "5 MW"},
          {"name": "b", "date": "2026-01-01", "power": "10 MW"}],
         "phases[1] ('b'): date 2026-01-01 is not after"),
        ([{"name": "a", "date": "2026-01-01", "power": "50 MW"}], "is above power.budget"),
    ],
)
def test_bad_phases_are_input_errors_naming_the_phase(run, tmp_path, phases, fragment):
    site = tmp_path / "site.toml"
    lines = ['[power]\nbudget = "20 MW"\n']
    for phase in phases:
        lines.append(f'[[phases]]\nname = "{phase["name"]}"\ndate = {phase["date"]}\n'
                     f'power = "{phase["power"]}"\n')
    site.write_text("".join(lines))
    result = run("plan", str(site))
    assert result.exit_code == 3
    assert f"{site}: phases: " in result.stderr and fragment in result.stderr


def test_notice_to_proceed_gates_the_first_phase(run):
    result = run("plan", "--set", "schedule.notice_to_proceed=2026-01-01", "--set",
                 'phases=[{name = "a", date = 2026-06-01, power = "100 MW"}]')
    assert result.exit_code == 3 and "before the facility can be ready" in result.stderr


def test_phased_example_runs_and_reports_a_timeline(run):
    result = run("plan", str(ROOT / "docs/examples/phased-site.toml"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = parse_json(result)
    assert len(data["phases"]) >= 3
    first = data["phases"][0]
    assert first["racks"]["vera-rubin-nvl72"] == 0 and first["racks"]["gb300-nvl72"] > 0
    assert data["phases"][-1]["racks"]["vera-rubin-nvl72"] > 0
    gpus = [phase["gpus"] for phase in data["phases"]]
    assert gpus == sorted(gpus)
    table = run("plan", str(ROOT / "docs/examples/phased-site.toml"))
    assert "Timeline" in table.stdout and "Capacity over time" in table.stdout


# --- studies ---------------------------------------------------------------------------------


def write_study(tmp_path, skus, budgets_kw, cap_usd):
    lines = [f'[study]\nname = "small"\ncapex = {cap_usd}\n']
    for index, (sku, budget) in enumerate(zip(skus, budgets_kw, strict=True)):
        lines.append(f'[[sites]]\nname = "s{index}"\n[sites.power]\nbudget = "{budget} kW"\n'
                     f'basis = "it"\n[sites.compute]\nskus = ["{sku.id}"]\n'
                     '[sites.network]\nenabled = false\n[sites.storage]\nenabled = false\n'
                     '[sites.cpu]\nenabled = false\n[sites.economics]\n'
                     'facility_capex_per_mw = 0\n')
    path = tmp_path / "study.toml"
    path.write_text("".join(lines))
    return path


def test_three_site_study_with_global_capex_matches_enumeration(tmp_path):
    rng = random.Random(5)
    for _ in range(25):
        skus = [rack(f"r{i}", power_kw=rng.randint(50, 200), fp4=rng.choice([1, 5, 10, 15]),
                     gpus=rng.choice([8, 72]), price_usd=rng.randint(5, 40) * 1e5)
                for i in range(3)]
        budgets = [rng.randint(100, 700) for _ in range(3)]
        cap = rng.randint(10, 80) * 1e5
        study = load_study(write_study(tmp_path, skus, budgets, cap), catalog_with(*skus))
        result = plan_study(study)
        best = max(
            sum(n * s.dense_pflops("fp4") for n, s in zip(counts, skus, strict=True))
            for counts in itertools.product(*(range(int(b // s.power_kw) + 1)
                                              for s, b in zip(skus, budgets, strict=True)))
            if sum(n * s.price_usd for n, s in zip(counts, skus, strict=True)) <= cap + 1e-6)
        assert result.status == "optimal"
        assert result.objective["value"] == pytest.approx(best, abs=1e-6)
        assert result.cost["capex_usd"] <= cap + 1e-6
        assert sum(site.totals["gpus"] for site in result.sites.values()) == \
            result.totals["gpus"]


def test_three_sites_example_and_reference(run):
    path = str(ROOT / "docs/examples/three-sites.toml")
    data = parse_json(run("plan", path, "--format", "json"))
    assert data["schema"] == "gigaplan.study/1" and data["status"] == "optimal"
    assert [site["name"] for site in data["sites"]] == ["texas", "ohio", "norway"]
    assert data["cost"]["capex_usd"] <= 60e9 + 1
    assert data["totals"]["gpus"] >= 500_000
    reference = parse_json(run("plan", path, "--reference", "ohio", "--format", "json"))
    copies = {item["site"]: item["copies"] for item in reference["copies"]}
    assert copies["ohio"] == 1 and copies["texas"] >= 2
    assert run("plan", path, "--reference", "mars").exit_code == 3
    assert run("plan", "--reference", "ohio").exit_code == 3


def test_study_errors_name_the_site(run, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[study]\nrequirements = ["cost.usd_per_gpu_hour <= 2"]\n'
                    '[[sites]]\nname = "a"\n[sites.power]\nbudget = "1 GWh"\n')
    result = run("plan", str(path))
    assert result.exit_code == 3
    assert "does not add up across sites" in result.stderr
    assert f"{path} [sites.a]: power.budget: expected a power" in result.stderr


def test_phased_plan_json_validates_against_the_schema(run):
    import json
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("gigaplan").joinpath("schemas/plan.schema.json")
                        .read_text())
    data = parse_json(run("plan", str(ROOT / "docs/examples/phased-site.toml"), "-f", "json"))
    jsonschema.validate(data, schema)


def test_install_times_set_the_in_service_date():
    result = two_phases(**{"schedule.network_install_time": "30 days",
                           "schedule.rack_install_time": "2 weeks"})
    assert result.phases[0]["in_service"] == "2026-01-31"
    assert result.schedule["time_to_first_compute"] == "2026-01-31"
