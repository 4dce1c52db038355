"""The cheap tie-breaks equal the plain staged solve (issue 17).

Each tie-break stage now starts with a cut-off at the value the previous stage's point
reaches (HiGHS's ``objective_bound``). That point satisfies every row of the stage, so the
cut-off only prunes worse nodes: the lexicographic optimum is unchanged. These tests check
it on random instances: every stage's value, and the final point, equal the plain staged
solve (``optimize(..., cutoffs=False)``).
"""

from __future__ import annotations

import random

from helpers import BARE, bound_site, catalog_with, rack, switch
from test_plan_properties import random_instance

from gigaplan import solve
from gigaplan.formulation.build import build
from gigaplan.formulation.phases import build_phased


def _stages(model):
    ties = model.tie_breaks or [(model.fields["cost.capex_usd"], False),
                                (model.fields["power_mw.it"], False)]
    return [(model.objective, model.maximize),
            *(tie for tie in ties if tie[0] is not model.objective)]


def _same(model, context):
    calls = []
    real = solve.run_milp

    def counted(*args, **kwargs):
        calls.append(kwargs.get("cutoff"))
        return real(*args, **kwargs)

    solve.run_milp = counted
    try:
        cheap, cheap_stages = solve.optimize(model)
    finally:
        solve.run_milp = real
    # one solve per stage: the cut-off never needed the fallback re-solve
    assert len(calls) == len(_stages(model)) or cheap.x is None, context
    assert all(cutoff is not None for cutoff in calls[1:]), context
    plain, plain_stages = solve.optimize(model, cutoffs=False)
    assert cheap.status == plain.status, context
    assert cheap_stages == plain_stages, context
    if plain.x is None:
        assert cheap.x is None, context
        return
    for objective, _ in _stages(model):
        a, b = objective.value(cheap.x), objective.value(plain.x)
        assert abs(a - b) <= 1e-9 * max(1.0, abs(b)), context
    assert cheap.x == plain.x, context


def test_cutoffs_equal_the_staged_solve_on_200_random_sites():
    """Random 2-4 SKU catalogs, budgets, capex caps and rack limits (as the enumeration test)."""
    rng = random.Random(17)
    for number in range(200):
        skus, budget_kw, capex_cap, positions = random_instance(rng)
        overrides = {"compute.skus": [s.id for s in skus], "power.budget": f"{budget_kw} kW"}
        if capex_cap is not None:
            overrides["budget.capex"] = capex_cap
        if positions is not None:
            overrides["space.rack_positions"] = positions
        model = build(bound_site(BARE, catalog_with(*skus), overrides))
        _same(model, (number, overrides))


def test_cutoffs_equal_the_staged_solve_with_fabric_storage_and_cpu():
    """Full sites (fabric, storage, CPU pool) on random small catalogs and budgets."""
    rng = random.Random(1117)
    for number in range(40):
        skus = [rack(f"r{i}", power_kw=rng.randint(40, 200),
                     fp4=rng.choice([2.5, 5, 10, 15]), gpus=rng.choice([8, 36, 72]),
                     price_usd=rng.randint(5, 50) * 1e5) for i in range(rng.randint(1, 3))]
        catalog = catalog_with(*skus, switch("sw", ports=64, gbps=800))
        raw = {"power": {"budget": f"{rng.randint(1, 40)} MW"},
               "compute": {"skus": [s.id for s in skus]},
               "network": {"switch": "sw"}}
        if rng.random() < 0.4:
            raw["budget"] = {"capex": f"${rng.randint(20, 400)}M"}
        model = build(bound_site(raw, catalog))
        _same(model, (number, raw))


def test_cutoffs_equal_the_staged_solve_on_phased_sites():
    """Phased plans: four stages (objective, spend, spend timing, power)."""
    rng = random.Random(2027)
    for number in range(12):
        count = rng.randint(2, 4)
        power = 0
        phases = []
        for i in range(count):
            power += rng.randint(20, 60)
            phases.append({"name": f"p{i}", "date": f"{2026 + i}-0{1 + rng.randint(0, 8)}-01",
                           "power": f"{power} MW"})
        raw = {"power": {"budget": "1 GW"},
               "compute": {"skus": ["gb300-nvl72", "gb200-nvl72"][:rng.randint(1, 2)]},
               "schedule": {"objective_over_time": rng.choice(["time_weighted", "final"]),
                            "horizon_end": "2032-01-01"},
               "phases": phases}
        model = build_phased(bound_site(raw)).model
        _same(model, (number, raw))
