"""Economics, energy and workload: hand-computed cases (EM §7.5, §9.1) and objectives."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from conftest import parse_json
from helpers import BARE, bound_site, catalog_with, rack

from gigaplan.formulation.economics import (
    capital_recovery_factor,
    facility_redundancy_factor,
    training_days,
)
from gigaplan.planner import plan


def test_capital_recovery_factor_by_hand():
    assert capital_recovery_factor(0.10, 5) == pytest.approx(0.263797, abs=1e-6)
    assert capital_recovery_factor(0.08, 20) == pytest.approx(0.101852, abs=1e-6)
    assert capital_recovery_factor(0.0, 4) == 0.25  # straight line


def test_facility_redundancy_factor():
    assert facility_redundancy_factor(0.75) == pytest.approx(1.0)
    assert facility_redundancy_factor(1.0) == pytest.approx(0.8675)  # N: about -13 %
    assert facility_redundancy_factor(0.5) == pytest.approx(1.265)  # 2N: about +27 %


def one_rack(**overrides):
    """One GB300-like rack at the EM §7.5 worked example's figures."""
    worked = rack("worked", power_kw=142, gpus=72, price_usd=4.375e6)
    values = {"compute.skus": ["worked"], "power.redundancy": "4N/3",
              "power.budget": "189.34 kW", "power.pue_annual": 1.2,
              "compute.min_racks": {"worked": 1}, "compute.max_racks": {"worked": 1}}
    values.update(overrides)
    return plan(bound_site(BARE, catalog_with(worked), values))


def test_usd_per_gpu_hour_reproduces_the_worked_example():
    """EM §7.5: $4.375M IT x CRF(10 %, 5) + 0.142 MW x $12.7M x CRF(8 %, 20) + energy
    0.142 x 0.8 x 1.2 x 8,760 x $66 + 2 % facility O&M = ~$1.45M/yr: $2.30/GPU-h at 100 %."""
    result = one_rack(**{"economics.utilization": 1.0})
    it = 4.375e6 * capital_recovery_factor(0.10, 5)
    facility_capex = 0.142 * 12.7e6  # 4N/3: the redundancy factor is exactly 1
    facility = facility_capex * capital_recovery_factor(0.08, 20)
    energy = 0.142 * 0.8 * 1.2 * 8760 * 66
    operations = 0.02 * facility_capex
    tco = it + facility + energy + operations
    cost = result.cost
    assert cost["capex_breakdown_usd"]["facility"] == pytest.approx(facility_capex)
    assert cost["tco_usd_per_year"] == pytest.approx(tco)
    assert cost["opex_breakdown_usd_per_year"]["energy"] == pytest.approx(energy)
    assert result.energy["mwh_per_year"] == pytest.approx(0.142 * 0.8 * 1.2 * 8760)
    assert cost["usd_per_gpu_hour"] == pytest.approx(tco / (72 * 8760))
    assert round(cost["usd_per_gpu_hour"], 2) == 2.30
    at_90 = one_rack()
    assert at_90.cost["usd_per_gpu_hour"] == pytest.approx(tco / (72 * 8760 * 0.9))


def test_energy_carbon_and_water_by_hand():
    result = one_rack(**{"economics.heat_rejection": "evaporative"})
    mwh = 0.142 * 0.8 * 1.2 * 8760
    assert result.energy["co2_t_per_year"] == pytest.approx(mwh * 367 / 1000)
    assert result.energy["water_m3_per_year"] == pytest.approx(1.1 * 0.142 * 0.8 * 8760)
    dry = one_rack()
    assert dry.energy["water_m3_per_year"] == pytest.approx(0.05 * 0.142 * 0.8 * 8760)


def test_training_days_reproduce_the_worked_example():
    """EM §9.1: 1T params, 20T tokens, 100k GB300 at BF16 2.5 PF, MFU 0.4, goodput 0.9."""
    assert training_days(1e12, 20e12, 100_000 * 2.5, 0.40, 0.90) == pytest.approx(15.43, 0.001)


def test_training_days_in_a_plan_and_as_a_requirement(run):
    data = parse_json(run("plan", "--format", "json", "--train-params", "1T",
                          "--train-tokens", "20T"))
    work = data["workload"]
    expected = training_days(1e12, 20e12, data["totals"]["bf16_dense_pflops"], 0.4, 0.9)
    assert work["train_days"] == pytest.approx(expected)
    cheaper = parse_json(run("plan", "--format", "json", "--train-params", "1T",
                             "--train-tokens", "20T", "--objective", "capex",
                             "--require", "workload.train_days <= 30"))
    assert cheaper["workload"]["train_days"] <= 30 + 1e-9
    gpus_needed = math.ceil(training_days(1e12, 20e12, 2.5, 0.4, 0.9) / 30)
    assert cheaper["totals"]["gpus"] == math.ceil(gpus_needed / 72) * 72
    needs_run = run("plan", "--require", "workload.train_days <= 30")
    assert needs_run.exit_code == 3 and "workload.train_params" in needs_run.stderr


def test_breakdowns_sum_to_their_totals(run):
    cost = parse_json(run("plan", "--format", "json"))["cost"]
    assert sum(cost["capex_breakdown_usd"].values()) == pytest.approx(cost["capex_usd"],
                                                                      rel=1e-12)
    assert sum(cost["opex_breakdown_usd_per_year"].values()) == pytest.approx(
        cost["opex_usd_per_year"], rel=1e-12)
    assert sum(cost["annualised_capex_usd_per_year"].values()) + cost["opex_usd_per_year"] \
        == pytest.approx(cost["tco_usd_per_year"], rel=1e-12)


def test_tokens_per_second_and_per_mw(run):
    data = parse_json(run("plan", "--format", "json"))
    work = data["workload"]
    assert work["tokens_per_second"] == pytest.approx(data["totals"]["gpus"] * 5400 * 0.999)
    assert work["tokens_per_second_per_mw"] == pytest.approx(
        work["tokens_per_second"] / data["power_mw"]["facility"])
    assert data["cost"]["usd_per_million_tokens"] == pytest.approx(
        data["cost"]["tco_usd_per_year"] / (work["tokens_per_second"] * 3600 * 8760 * 0.9 / 1e6))


def test_prices_override_the_catalog(run):
    data = parse_json(run("plan", "--format", "json", "--set",
                          "economics.prices.gb300-nvl72=$4M"))
    assert data["racks"][0]["price_usd_each"] == 4e6


@pytest.mark.parametrize(
    ("assignment", "fragment"),
    [
        ("economics.prices.gb300-nvl72=-5", "economics.prices.gb300-nvl72: Input should be "
                                            "greater than or equal to 0"),
        ("economics.prices.gb300=$4M", "economics.prices.gb300: unknown SKU id"),
        ("economics.it_life=0", "economics.it_life: Input should be greater than or equal to 0.01"),
        ("economics.it_life=5 MW", 'economics.it_life: expected a duration such as "5 years", '
                                   'got "5 MW" (a power)'),
        ("economics.electricity_price=66 kWh", "economics.electricity_price: expected a price"),
        ("economics.facility_capex_per_mw=12.7 GW", "economics.facility_capex_per_mw: expected"),
        ("economics.utilization=120%", "economics.utilization: Input should be less than"),
        ("workload.train_tokens=20 TB", "workload.train_tokens: expected a count"),
    ],
)
def test_bad_economics_input_exits_3_naming_the_key(run, assignment, fragment):
    result = run("plan", "--set", assignment)
    assert result.exit_code == 3, result.stdout
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_least_capex_meets_a_gpu_floor_as_enumeration_finds():
    rng = random.Random(11)
    for _ in range(60):
        skus = [rack(f"r{i}", power_kw=rng.randint(40, 200), gpus=rng.choice([8, 32, 72]),
                     price_usd=rng.randint(5, 50) * 1e5) for i in range(rng.randint(2, 3))]
        floor = rng.randint(50, 400)
        site = bound_site(BARE, catalog_with(*skus), {
            "compute.skus": [s.id for s in skus], "power.budget": "2 MW", "objective": "capex",
            "requirements": [f"totals.gpus >= {floor}"]})
        result = plan(site)
        per_rack = [s.price_usd + s.power_kw * 12.7e6 * 0.8675 / 1000 for s in skus]
        feasible = [
            sum(n * c for n, c in zip(counts, per_rack, strict=True))
            for counts in itertools.product(*(range(int(2000 // s.power_kw) + 1) for s in skus))
            if sum(n * s.power_kw for n, s in zip(counts, skus, strict=True)) <= 2000
            and sum(n * s.gpu_count for n, s in zip(counts, skus, strict=True)) >= floor]
        if not feasible:
            assert result.status == "infeasible"
            continue
        assert result.cost["capex_usd"] == pytest.approx(min(feasible), rel=1e-9)
        assert result.totals["gpus"] >= floor


def test_least_tco_and_most_tokens_objectives(run):
    tco = parse_json(run("plan", "--format", "json", "--objective", "tco",
                         "--require", "totals.gpus >= 10000"))
    assert tco["objective"]["name"] == "tco" and tco["totals"]["gpus"] >= 10000
    assert tco["objective"]["value"] == tco["cost"]["tco_usd_per_year"]
    tokens = parse_json(run("plan", "--format", "json", "--objective", "tokens",
                            "--power", "50MW"))
    assert tokens["objective"]["value"] == tokens["workload"]["tokens_per_second"] > 0
    no_reference = run("plan", "--objective", "tokens", "--sku", "gb200-nvl72")
    assert no_reference.exit_code == 3 and "inference reference" in no_reference.stderr


def test_usd_per_gpu_hour_requirement_is_a_linear_row(run):
    data = parse_json(run("plan", "--format", "json", "--power", "100MW",
                          "--require", "cost.usd_per_gpu_hour <= $2.50"))
    assert data["status"] == "optimal"
    assert data["cost"]["usd_per_gpu_hour"] <= 2.50 + 1e-9
