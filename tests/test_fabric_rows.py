"""The tightened fabric rows (issue 17) keep every answer: the same plans as the loose rows.

``define_tree`` states two things the big-M rows of before left to branching: an upper
layer carries every leaf's up-ports in either shape (``k·S + (k/2)·A ≥ u·L``), and the
3-tier aggregation row's big-M needs only ``u·k`` (two tiers hold at most ``k`` leaves), not
``u·L_max``. Both are valid for every integer point, so the optimum cannot move; these tests
rebuild the loose rows of before and check every stage's value and the final point agree on
random sites with 2- and 3-tier fabrics.
"""

from __future__ import annotations

import random
from dataclasses import replace

from helpers import bound_site, catalog_with, rack, switch

from gigaplan import solve
from gigaplan.formulation.build import build
from gigaplan.formulation.model import Expr
from gigaplan.formulation.phases import build_phased


def _loosened(model):
    """``model`` with the rows of before: no upper-layer row, the 3-tier big-M at u·L_max."""
    names = model.layout.names
    rows = []
    for row in model.rows:
        if row.block == "fabric-upper-ports":
            continue
        if row.block == "fabric-3tier-aggregation":
            coefs = dict(row.expr.coefs)
            (leaf,) = (i for i in coefs if "fabric-leaf[" in names[i])
            (tier3,) = (i for i in coefs if "fabric-tier3[" in names[i])
            big = -coefs[leaf] * model.layout.upper[leaf]  # u·L_max
            coefs[tier3] = -big
            row = replace(row, expr=Expr(coefs, row.expr.const), lower=-big)
        rows.append(row)
    assert len(rows) < len(model.rows)
    model.rows[:] = rows
    return model


def _stages(model):
    ties = model.tie_breaks or [(model.fields["cost.capex_usd"], False),
                                (model.fields["power_mw.it"], False)]
    return [(model.objective, model.maximize),
            *(tie for tie in ties if tie[0] is not model.objective)]


def _same(make, context):
    tight, loose = make(), _loosened(make())
    a, a_stages = solve.optimize(tight)
    b, b_stages = solve.optimize(loose)
    assert (a.status, a_stages) == (b.status, b_stages), context
    if b.x is None:
        assert a.x is None, context
        return
    for objective, _ in _stages(tight):
        assert abs(objective.value(a.x) - objective.value(b.x)) <= \
            1e-9 * max(1.0, abs(objective.value(b.x))), context
    assert a.x == b.x, context
    return a


def test_the_tight_fabric_rows_give_the_plans_of_the_loose_ones():
    """Random racks, switch radices, planes and oversubscription; 1-40 MW sites, so that
    both shapes (and every spine count of a 2-tier tree) are planned."""
    rng = random.Random(1706)
    shapes = set()
    for number in range(40):
        skus = [rack(f"r{i}", power_kw=rng.randint(40, 200),
                     fp4=rng.choice([2.5, 5, 10, 15]), gpus=rng.choice([8, 36, 72]),
                     price_usd=rng.randint(5, 50) * 1e5) for i in range(rng.randint(1, 3))]
        ports = rng.choice([32, 48, 64, 128])
        catalog = catalog_with(*skus, switch("sw", ports=ports, gbps=rng.choice([400, 800])))
        raw = {"power": {"budget": f"{rng.randint(1, 40)} MW"},
               "compute": {"skus": [s.id for s in skus]},
               "network": {"switch": "sw", "planes": rng.choice([1, 2]),
                           "oversubscription": rng.choice([1, 2, 3])}}
        if rng.random() < 0.4:
            raw["budget"] = {"capex": f"${rng.randint(20, 400)}M"}
        best = _same(lambda raw=raw, catalog=catalog: build(bound_site(raw, catalog)),
                     (number, raw))
        if best is not None:
            model = build(bound_site(raw, catalog))
            shapes.update(round(tree.tier3.value(best.x)) for tree in model.parts.fabric.trees
                          if tree.endpoints.value(best.x) > 0)
    assert shapes == {0, 1}  # both shapes were planned


def test_the_tight_fabric_rows_give_the_phased_plans_of_the_loose_ones():
    rng = random.Random(1707)
    for number in range(6):
        power, phases = 0, []
        for i in range(rng.randint(2, 4)):
            power += rng.randint(5, 40)
            phases.append({"name": f"p{i}", "date": f"{2026 + i}-0{1 + rng.randint(0, 8)}-01",
                           "power": f"{power} MW"})
        raw = {"power": {"budget": "1 GW"},
               "compute": {"skus": ["gb300-nvl72", "gb200-nvl72"][:rng.randint(1, 2)]},
               "schedule": {"horizon_end": "2032-01-01"}, "phases": phases}
        _same(lambda raw=raw: build_phased(bound_site(raw)).model, (number, raw))
