"""The optimizer against exhaustive enumeration, and hypothesis properties of plans."""

from __future__ import annotations

import random

import pytest
from helpers import BARE, bound_site, catalog_with, rack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gigaplan.output.serialize import to_json
from gigaplan.planner import plan

FACILITY_USD_PER_KW = 12.7e6 * 0.8675 / 1000  # EM §7.1 default, redundancy N


def capex(sku):
    """Upfront capex of one rack: equipment plus its share of the facility."""
    return sku.price_usd + sku.power_kw * FACILITY_USD_PER_KW


def enumerate_best(skus, budget_kw, capex_cap, positions):
    """Brute force: every rack-count vector within the limits; best FP4, then least capex."""
    best = (-1.0, 0.0)
    counts = [0] * len(skus)

    def walk(index, power, spent, racks):
        nonlocal best
        if index == len(skus):
            value = sum(n * s.dense_pflops("fp4") for n, s in zip(counts, skus, strict=True))
            key = (round(value, 6), -round(spent, 2))
            if key > (round(best[0], 6), -round(best[1], 2)):
                best = (value, spent)
            return
        sku = skus[index]
        n = 0
        while (power + n * sku.power_kw <= budget_kw + 1e-9
               and (capex_cap is None or spent + n * capex(sku) <= capex_cap + 1e-6)
               and (positions is None or racks + n <= positions)):
            counts[index] = n
            walk(index + 1, power + n * sku.power_kw, spent + n * capex(sku), racks + n)
            n += 1
        counts[index] = 0

    walk(0, 0.0, 0.0, 0)
    return best


def random_instance(rng):
    skus = [rack(f"r{i}", power_kw=rng.randint(40, 200), fp4=rng.choice([1, 2.5, 5, 9, 10, 15]),
                 gpus=rng.choice([8, 32, 36, 72]), price_usd=rng.randint(5, 50) * 1e5)
            for i in range(rng.randint(2, 4))]
    budget_kw = rng.randint(100, 700)
    capex_cap = rng.choice([None, rng.randint(5, 80) * 1e5])
    positions = rng.choice([None, rng.randint(1, 8)])
    return skus, budget_kw, capex_cap, positions


def plan_instance(skus, budget_kw, capex_cap, positions):
    """The MILP's plan of a random instance (IT basis, no fabric, storage or CPU pool)."""
    overrides = {"compute.skus": [s.id for s in skus], "power.budget": f"{budget_kw} kW"}
    if capex_cap is not None:
        overrides["budget.capex"] = capex_cap
    if positions is not None:
        overrides["space.rack_positions"] = positions
    return plan(bound_site(BARE, catalog_with(*skus), overrides)), overrides


def test_milp_equals_exhaustive_enumeration_on_200_instances():
    rng = random.Random(20261129)
    for _ in range(200):
        skus, budget_kw, capex_cap, positions = random_instance(rng)
        result, overrides = plan_instance(skus, budget_kw, capex_cap, positions)
        best_value, best_capex = enumerate_best(skus, budget_kw, capex_cap, positions)
        assert result.status == "optimal"
        assert result.objective["value"] == pytest.approx(best_value, abs=1e-6), overrides
        assert result.cost["capex_usd"] == pytest.approx(best_capex, abs=1e-3), overrides


def test_milp_never_worse_than_the_greedy_heuristic():
    """Greedy: fill the budget with the best PFLOPS-per-watt rack."""
    rng = random.Random(7)
    for _ in range(50):
        skus, budget_kw, _, _ = random_instance(rng)
        best = max(skus, key=lambda s: s.dense_pflops("fp4") / s.power_kw)
        greedy = (budget_kw // best.power_kw) * best.dense_pflops("fp4")
        overrides = {"compute.skus": [s.id for s in skus], "power.budget": f"{budget_kw} kW"}
        result = plan(bound_site(BARE, catalog_with(*skus), overrides))
        assert result.objective["value"] >= greedy - 1e-6


FULL = {"power": {"budget": 100}}  # the whole model: fabric, storage, CPU pool, PUE

budgets = st.floats(min_value=1, max_value=3000, allow_nan=False)
bases = st.sampled_from(["grid", "facility", "it"])
objectives = st.sampled_from(["gpus", "fp4", "fp8", "bf16", "hbm"])
schemes = st.sampled_from(["N", "N+1", "2N", "4N/3", "3N/2"])
quick = settings(max_examples=25, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


def full_site(budget, basis, objective, scheme, skus=("gb300-nvl72", "gb200-nvl72")):
    return bound_site(FULL, overrides={"power.budget": budget, "power.basis": basis,
                                       "objective": objective, "power.redundancy": scheme,
                                       "compute.skus": list(skus)})


@quick
@given(budget=budgets, basis=bases, objective=objectives, scheme=schemes)
def test_power_never_exceeds_the_usable_budget(budget, basis, objective, scheme):
    result = plan(full_site(budget, basis, objective, scheme))
    drawn = result.power_mw[basis]
    assert drawn <= result.power_mw["usable"] * (1 + 1e-9)
    assert result.power_mw["it"] == pytest.approx(
        sum(result.power_mw[k] for k in ("compute", "cpu", "storage", "network",
                                         "auxiliary_networks")))
    if basis == "grid":
        assert drawn == pytest.approx(1.10 * result.power_mw["facility"])
    assert result.storage["capacity_pb"] >= result.storage["required_pb"] - 1e-6
    assert result.cpu["cores"] >= result.cpu["required_cores"] - 1e-6


@quick
@given(budget=budgets, extra=st.floats(min_value=0, max_value=500), basis=bases,
       objective=objectives)
def test_more_power_never_yields_less(budget, extra, basis, objective):
    small = plan(full_site(budget, basis, objective, "N"))
    large = plan(full_site(budget + extra, basis, objective, "N"))
    assert large.objective["value"] >= small.objective["value"] - 1e-6


@settings(max_examples=10, deadline=None)
@given(budget=budgets, objective=objectives)
def test_same_input_same_output(budget, objective):
    first = to_json(plan(full_site(budget, "facility", objective, "N")).to_dict())
    second = to_json(plan(full_site(budget, "facility", objective, "N")).to_dict())
    assert first == second
