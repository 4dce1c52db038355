"""The cheap tie-breaks equal the plain staged solve (issue 17).

Each tie-break stage now starts with a cut-off at the value the previous stage's point
reaches (HiGHS's ``objective_bound``). That point satisfies every row of the stage, so the
cut-off only prunes worse nodes: the lexicographic optimum is unchanged. These tests check
it on random instances: every stage's value, and the final point, equal the plain staged
solve (``optimize(..., cutoffs=False)``).

A phased site's stages also carry each phase's best alone and what the optimum leaves each
phase (``solve.subproblem_bounds``): rows that every point of the model already satisfies. The
last test checks that they change no stage's value, against the same model without them.
"""

from __future__ import annotations

import random
from dataclasses import replace

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


def _same_stage_values(model, first, first_stages, second, second_stages, context):
    """Two solves of ``model`` agree on status, stages finished and every stage's value."""
    assert first.status == second.status, context
    assert first_stages == second_stages, context
    if second.x is None:
        assert first.x is None, context
        return
    for objective, _ in _stages(model):
        a, b = objective.value(first.x), objective.value(second.x)
        assert abs(a - b) <= 1e-9 * max(1.0, abs(b)), context


def _same(model, context):
    calls = []
    real = solve.run_milp

    def counted(*args, **kwargs):
        if kwargs.get("columns") is None:  # a stage, not one phase's best alone
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
    _same_stage_values(model, cheap, cheap_stages, plain, plain_stages, context)
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


def _phased_raw(rng):
    count = rng.randint(2, 5)
    power = 0
    phases = []
    for i in range(count):
        power += rng.randint(5, 60)
        phase = {"name": f"p{i}", "date": f"{2026 + i}-0{1 + rng.randint(0, 8)}-01",
                 "power": f"{power} MW"}
        if rng.random() < 0.2:
            phase["requirements"] = [f"totals.gpus >= {rng.randint(1, 40) * 1000}"]
        phases.append(phase)
    raw = {"power": {"budget": "1 GW"},
           "compute": {"skus": rng.sample(["gb300-nvl72", "gb200-nvl72", "hgx-b200-rack"],
                                          rng.randint(1, 3))},
           "objective": rng.choice(["fp4", "fp4", "gpus", "tco", "capex"]),
           "schedule": {"objective_over_time": rng.choice(["time_weighted", "final"]),
                        "horizon_end": "2033-01-01",
                        "allow_refresh": rng.random() < 0.2},
           "phases": phases}
    if raw["objective"] in ("tco", "capex"):  # a floor, or the least plan builds nothing
        raw["requirements"] = [f"totals.gpus >= {rng.randint(1, 20) * 1000}"]
    return raw


def test_phase_bounds_change_no_stage_value():
    """Random phased sites (1-3 SKUs, 2-5 phases, requirements, refresh, every objective
    over time): each stage's value with the phases' bounds equals the value without."""
    rng = random.Random(4242)
    with_parts = 0
    real = solve.run_milp
    for number in range(40):
        raw = _phased_raw(rng)
        model = build_phased(bound_site(raw)).model
        with_parts += model.separable is not None
        seen: list[int] = []

        def spied(*args, seen=seen, **kwargs):
            if kwargs.get("columns") is None:  # a stage: which bound rows it carried
                seen.append(sum(row.block == "part-bound" for row in kwargs["rows"]))
            return real(*args, **kwargs)

        solve.run_milp = spied
        try:
            bounded, bounded_stages = solve.optimize(model)
        finally:
            solve.run_milp = real
        if model.separable is not None and bounded.x is not None:
            parts = len(model.separable.parts)
            assert seen[0] == parts, (number, seen)  # each phase's best, from stage 1 on
            assert seen[-1] > parts, (number, seen)  # and, after the weighted stage, floors
        plain, plain_stages = solve.optimize(replace(model, separable=None))
        _same_stage_values(model, bounded, bounded_stages, plain, plain_stages, (number, raw))
    assert with_parts >= 25  # the bounds were there to test (not the capex objective)


def test_phase_bounds_are_each_phase_at_its_best_alone():
    """Two phases of 10 and 20 MW: each phase's bound is its own single-period optimum
    (the same site planned without phases at that power), and the optimum meets both."""
    raw = {"power": {"budget": "1 GW"}, "compute": {"skus": ["gb300-nvl72"]},
           "schedule": {"horizon_end": "2030-01-01"},
           "phases": [{"name": "a", "date": "2026-01-01", "power": "10 MW"},
                      {"name": "b", "date": "2027-01-01", "power": "20 MW"}]}
    model = build_phased(bound_site(raw)).model
    bests = solve.subproblem_bounds(model)
    for best, power in zip(bests, ("10 MW", "20 MW"), strict=True):
        alone = build(bound_site({"power": {"budget": power},
                                  "compute": {"skus": ["gb300-nvl72"]}}))
        result, _ = solve.optimize(alone)
        value = alone.objective.value(result.x)
        assert value <= best <= value + 1e-9 * value + 1e-6
    point, _ = solve.optimize(model)
    for part, best in zip(model.separable.parts, bests, strict=True):
        assert part.objective.value(point.x) <= best


def test_a_phase_without_weight_gets_no_floor():
    """The horizon ends when the last phase enters service: its weight is zero, so the
    optimum of the weighted sum says nothing of it (no floor row), while the first phase
    gets one; both keep their best-alone row."""
    raw = {"power": {"budget": "1 GW"}, "compute": {"skus": ["gb300-nvl72"]},
           "schedule": {"horizon_end": "2027-01-20"},
           "phases": [{"name": "a", "date": "2026-01-01", "power": "10 MW"},
                      {"name": "b", "date": "2027-01-01", "power": "20 MW"}]}
    phased = build_phased(bound_site(raw))
    assert phased.weights_years[0] > 0 and phased.weights_years[1] == 0
    model = phased.model
    bests = solve.subproblem_bounds(model)
    fixed = solve._fix(model.separable.total, 1000.0, at_least=True)
    floors = solve.implied_subproblem_rows(model, bests, fixed)
    assert [row.name for row in floors] == ["part 0: objective the optimum leaves it"]
    # V − w_b·B_b over w_a, loosened: the floor is the first phase's share of the optimum
    expected = (1000.0 - 0.0 * bests[1]) / phased.weights_years[0]
    assert floors[0].lower <= expected - 1e-9 and floors[0].lower > expected - 1e-3
    point, _ = solve.optimize(model)
    assert all(row.holds(point.x) for row in solve.subproblem_rows(model, bests))


def test_the_proven_bound_counts_the_objective_constant():
    """``run_milp``'s proven bound is in the objective's unit, constant included, in both
    directions."""
    model = build(bound_site({"power": {"budget": "5 MW"}}))
    objective = model.objective + 12.5
    for maximize in (True, False):
        outcome = solve.run_milp(model, objective, maximize=maximize, rows=list(model.rows),
                                 time_limit_s=None)
        value = objective.value(outcome.x)
        assert abs(outcome.proven_bound - value) <= 1e-6 * max(1.0, abs(value))


def test_the_solver_scale_changes_no_value_bound_or_cutoff():
    """``run_milp(..., scale=s)`` multiplies only the costs HiGHS sees (a phased site's
    weighted objective in days, so that its costs are whole numbers): the point's value,
    the proven bound and a cut-off in the objective's unit are the same as unscaled."""
    model = build(bound_site({"power": {"budget": "20 MW"},
                              "requirements": ["totals.gpus >= 5000"]}))
    capex = model.fields["cost.capex_usd"]
    rows = list(model.rows)
    plain = solve.run_milp(model, capex, maximize=False, rows=rows, time_limit_s=None)
    value = capex.value(plain.x)
    for scale in (365.25, 1 / 365.25):
        scaled = solve.run_milp(model, capex, maximize=False, rows=rows, time_limit_s=None,
                                scale=scale, cutoff=value * (1 + 1e-9) - capex.const)
        assert scaled.x is not None  # the cut-off is in dollars, not dollars x scale
        assert abs(capex.value(scaled.x) - value) <= 1e-9 * value
        assert abs(scaled.proven_bound - value) <= 1e-9 * value


def test_a_phased_site_solves_its_weighted_objective_in_days():
    """The weighted objective's costs, times days per year, are whole numbers (whole days
    times whole PFLOPS per rack)."""
    from gigaplan.formulation.phases import DAYS_PER_YEAR

    raw = {"power": {"budget": "1 GW"}, "compute": {"skus": ["gb300-nvl72", "gb200-nvl72"]},
           "phases": [{"name": "a", "date": "2026-01-01", "power": "10 MW"},
                      {"name": "b", "date": "2026-02-17", "power": "20 MW"}]}
    model = build_phased(bound_site(raw)).model
    assert model.separable.solve_scale == DAYS_PER_YEAR
    costs = [coef * DAYS_PER_YEAR for coef in model.separable.total.coefs.values()]
    assert costs and all(abs(cost - round(cost)) < 1e-6 for cost in costs)


def _random_study(rng, folder):
    from gigaplan.inputs.catalog import load_catalog
    from gigaplan.inputs.study import load_study

    count = rng.randint(2, 4)
    budgets = [rng.randint(5, 120) for _ in range(count)]
    objective = rng.choice(["fp4", "fp4", "gpus", "tco"])
    lines = ["[study]", 'name = "random"', f'objective = "{objective}"']
    if rng.random() < 0.6:  # a cap that binds about half the time
        lines.append(f'capex = "${rng.uniform(0.2, 0.9) * 40e6 * sum(budgets) / 1e9:.3f}B"')
    if objective == "tco" or rng.random() < 0.3:
        floor = int(rng.uniform(0.1, 0.4) * 280 * sum(budgets))
        lines.append(f'requirements = ["totals.gpus >= {floor}"]')
    for i, budget in enumerate(budgets):
        skus = rng.sample(["gb300-nvl72", "gb200-nvl72", "hgx-b200-rack"], rng.randint(1, 2))
        lines += ["[[sites]]", f'name = "s{i}"', "[sites.power]", f'budget = "{budget} MW"',
                  f"pue = {rng.choice([1.1, 1.2, 1.3])}", "[sites.compute]",
                  "skus = [" + ", ".join(f'"{sku}"' for sku in skus) + "]"]
    path = folder / "study.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_study(path, load_catalog())


def test_site_bounds_change_no_stage_value_of_a_study(tmp_path):
    """Random studies (2-4 sites, 1-2 SKUs each, a capex cap that binds or not, a GPU floor,
    fp4 / gpus / tco): each stage's value with each site's best alone equals the value
    without (``StudyModel.model.separable``)."""
    from gigaplan.formulation.sites import build_study

    rng = random.Random(99)
    for number in range(25):
        model = build_study(_random_study(rng, tmp_path)).model
        assert model.separable is not None and model.objective is model.separable.total
        bounded, bounded_stages = solve.optimize(model)
        plain, plain_stages = solve.optimize(replace(model, separable=None))
        _same_stage_values(model, bounded, bounded_stages, plain, plain_stages,
                           (number, (tmp_path / "study.toml").read_text()))
