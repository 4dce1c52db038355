"""``gigaplan explain``: which limits bind, what moving each is worth, and why a site fails.

Marginal values are measured, not read from duals (a MILP has none): each
site limit is moved by a step in the direction that relaxes it (about 1 % of its value,
rounded to one significant digit) and the site is planned again. An infeasible site gets an
elastic re-solve: every named limit may be violated at a cost, and the least total relative
violation says which limits conflict and by how much each would have to move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from gigaplan.formulation.build import build
from gigaplan.formulation.model import Expr, Layout, Model, Row
from gigaplan.inputs.requirements import FIELDS, parse_requirement
from gigaplan.inputs.scenario import Scenario
from gigaplan.inputs.site import BoundSite
from gigaplan.inputs.units import Dimension, counted, format_quantity
from gigaplan.kinds import TOLERANCE
from gigaplan.planner import plan
from gigaplan.solve import SolveStatus, run_milp

SCHEMA = "gigaplan.explain/1"


def nice_step(value: float) -> float:
    """About 1 % of ``value``, rounded to one significant digit (10 MW on 1 GW).

    Parameters
    ----------
    value : float
        The limit's value, in its unit.

    Returns
    -------
    float
        The step, in the same unit.
    """
    raw = abs(value) * 0.01
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    return round(raw / magnitude) * magnitude


@dataclass(frozen=True)
class Limit:
    """A site limit that can be moved: its key, current value and how to show it."""

    key: str
    label: str
    value: float
    dimension: Dimension
    unit: str
    group: str
    integer: bool = False


def site_limits(bound: BoundSite) -> list[Limit]:
    """Every limit the site sets, with the units its key takes.

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.

    Returns
    -------
    list of Limit
        Each limit's key, label, value and dimension.
    """
    site = bound.site
    limits = [Limit("power.budget", "power budget", site.power.budget_mw, Dimension.POWER,
                    "MW", "power.budget")]
    optional = [
        ("space.rack_positions", "rack positions", site.space.rack_positions, Dimension.COUNT,
         "", "space.rack_positions", True),
        ("space.white_space", "white space", site.space.white_space_m2, Dimension.AREA, "m2",
         "space.white_space", False),
        ("cooling.liquid", "liquid cooling", site.cooling.liquid_mw, Dimension.POWER, "MW",
         "cooling.liquid", False),
        ("cooling.air", "air cooling", site.cooling.air_mw, Dimension.POWER, "MW",
         "cooling.air", False),
        ("budget.capex", "capex cap", site.budget.capex_usd, Dimension.MONEY, "USD",
         "budget.capex", False),
    ]
    for key, label, value, dimension, unit, group, integer in optional:
        if value is not None:
            limits.append(Limit(key, label, value, dimension, unit, group, integer))
    for sku_id, high in sorted(site.compute.max_racks.items()):
        limits.append(Limit(f"compute.max_racks.{sku_id}", f"{sku_id} rack cap", high,
                            Dimension.COUNT, "", f"compute.max_racks.{sku_id}", True))
    return limits


def _show(value: float, limit_dimension: Dimension, unit: str) -> str:
    if limit_dimension is Dimension.COUNT:
        return f"{value:,.0f}"
    return format_quantity(value, limit_dimension, unit or None, significant=4)


def _deltas(base: dict[str, Any], moved: dict[str, Any]) -> dict[str, Any]:
    racks = {}
    for line in moved["racks"]:
        before = next((b["count"] for b in base["racks"] if b["sku"] == line["sku"]), 0)
        if line["count"] != before:
            racks[line["sku"]] = line["count"] - before
    return {
        "objective": moved["objective"]["value"] - base["objective"]["value"],
        "gpus": moved["totals"]["gpus"] - base["totals"]["gpus"],
        "racks": racks,
        "capex_usd": moved["cost"]["capex_usd"] - base["cost"]["capex_usd"],
    }


def _sentence(limit: Limit, step: float, delta: dict[str, Any] | None, unit: str) -> str:
    shown = _show(step, limit.dimension, limit.unit)
    if delta is None:
        return f"+{shown} of {limit.label}: the site becomes infeasible"
    if not delta["racks"] and abs(delta["objective"]) < 1e-9:
        return f"{limit.label} is not binding: +{shown} changes nothing"
    parts = _rack_changes(delta)
    parts.append(f"{'+' if delta['objective'] >= 0 else '-'}{_n(abs(delta['objective']))} {unit}")
    return f"+{shown} of {limit.label} -> " + ", ".join(parts)


def _rack_changes(delta: dict[str, Any]) -> list[str]:
    """``+52 gb300-nvl72 racks``, ``+1 grace-cpu-rack rack``, then the change in GPUs."""
    return [*(counted(count, f"{sku} rack", signed=True)
              for sku, count in sorted(delta["racks"].items())),
            counted(delta["gpus"], "GPU", signed=True)]


def marginals(scenario: Scenario, base: dict[str, Any], bound: BoundSite) -> list[dict[str, Any]]:
    """Re-plan with each limit moved one step looser; report the change in physical terms.

    Parameters
    ----------
    scenario : Scenario
        The scenario to re-plan.
    base : dict
        Its plan, a ``gigaplan.plan/1`` document.
    bound : BoundSite
        The site, bound to its catalog.

    Returns
    -------
    list of dict
        One row per limit: its key, value, step, unit, the plan's change (``delta``) and
        whether it binds.
    """
    unit = base["objective"]["unit"]
    rows = []
    for limit in site_limits(bound):
        step = max(1.0, round(nice_step(limit.value))) if limit.integer else \
            nice_step(limit.value)
        moved_value: Any = int(limit.value + step) if limit.integer else limit.value + step
        moved = replace(scenario, overrides=(*scenario.overrides, (limit.key, moved_value)))
        result = plan(moved.bind()).to_dict()
        delta = _deltas(base, result) if "totals" in result else None
        rows.append({"limit": limit.key, "label": limit.label, "value": limit.value,
                     "step": step, "unit": limit.unit, "delta": delta,
                     "binding": delta is not None and bool(delta["racks"]
                                                           or abs(delta["objective"]) > 1e-9),
                     "text": _sentence(limit, step, delta, unit)})
    for text in bound.site.requirements:
        rows.append(_requirement_marginal(scenario, base, bound, text, unit))
    return rows


def _requirement_marginal(scenario: Scenario, base: dict[str, Any], bound: BoundSite,
                          text: str, unit: str) -> dict[str, Any]:
    requirement = parse_requirement(text, bound.rack_ids)
    step = nice_step(requirement.value)
    loosened = requirement.value + (step if requirement.op == "<=" else -step)
    others = [t for t in bound.site.requirements if t != text]
    new_text = f"{requirement.field} {'<=' if requirement.op == '<=' else '>='} {loosened!r}"
    moved = replace(scenario, overrides=(*scenario.overrides,
                                         ("requirements", [*others, new_text])), require=())
    result = plan(moved.bind()).to_dict()
    delta = _deltas(base, result) if "totals" in result else None
    changed = delta is not None and (delta["racks"] or abs(delta["objective"]) > 1e-9)
    direction = "raising" if requirement.op == "<=" else "lowering"
    sentence = (f"requirement '{text}' is not binding: {direction} its bound by {step:,.6g} "
                "changes nothing") if not changed else (
        f"{direction} the bound of '{text}' by {step:,.6g} -> "
        + ", ".join([*_rack_changes(delta), f"{delta['objective']:+,.6g} {unit}"]))
    return {"limit": text, "label": "requirement", "value": requirement.value, "step": step,
            "unit": FIELDS.get(requirement.field, (None, ""))[1], "delta": delta,
            "binding": bool(changed), "text": sentence}


def _n(value: float, unit: str = "") -> str:
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"
    return f"{text} {unit}".strip()


def binding_sentences(plan: dict[str, Any]) -> list[str]:
    """The binding limits of a plan, in plain language.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.

    Returns
    -------
    list of str
        One sentence per binding limit.
    """
    lines = []
    for row in plan["constraints"]:
        if not row["binding"]:
            continue
        unit = row["unit"]
        if row["sense"] == ">=":
            lines.append(f"{row['name']} is a floor that sets the build: {_n(row['used'], unit)}"
                         f" provided for {_n(row['limit'], unit)} required")
        else:
            lines.append(f"{row['name']} binds: {_n(row['used'], unit)} used of "
                         f"{_n(row['limit'], unit)}; {_n(row['slack'], unit)} to spare is less "
                         "than one more compute rack needs")
    return lines or ["no limit binds"]


# --- infeasible sites: elastic re-solve ------------------------------------------------------


def elastic(model: Model, time_limit_s: float | None = None) -> list[dict[str, Any]]:
    """How far each named limit must move for the site to become feasible.

    Each row of a site limit (power budget, requirements, rack bounds, capex, space,
    cooling) gets a slack variable eᵣ ≥ 0 in its relaxing direction; the re-solve minimises
    Σ eᵣ ÷ max(1, |boundᵣ|), the total relative violation.

    Parameters
    ----------
    model : Model
        The infeasible model.
    time_limit_s : float or None, default None
        Time limit of the re-solve [s]; None for no limit.

    Returns
    -------
    list of dict
        One move per limit that must change: ``limit``, ``name``, ``bound``, ``move``, ``to``
        and ``unit``; empty when the re-solve finds none.
    """
    layout = Layout(list(model.layout.names), list(model.layout.lower),
                    list(model.layout.upper), list(model.layout.integer),
                    dict(model.layout.blocks))
    rows: list[Row] = []
    slacks: list[tuple[Row, Expr, float, str]] = []
    objective = Expr()
    for row in model.rows:
        if not row.group:
            rows.append(row)
            continue
        expr = row.expr
        for side, bound in (("upper", row.upper), ("lower", row.lower)):
            if math.isinf(bound):
                continue
            (slack,) = layout.add(f"elastic[{row.name}:{side}]", integer=False)
            expr = expr - slack if side == "upper" else expr + slack
            scale = max(1.0, abs(bound - row.expr.const))
            objective = objective + slack * (1.0 / scale)
            slacks.append((row, slack, bound, side))
        rows.append(replace(row, expr=expr))
    carrier = Model(bound=model.bound, layout=layout)
    outcome = run_milp(carrier, objective, maximize=False, rows=rows, time_limit_s=time_limit_s)
    if outcome.x is None or outcome.status is SolveStatus.INFEASIBLE:
        return []
    moves = []
    for row, slack, bound, side in slacks:
        amount = slack.value(outcome.x)
        if amount <= TOLERANCE * max(1.0, abs(bound)):
            continue
        target = bound + amount if side == "upper" else bound - amount
        moves.append({"limit": row.group, "name": row.name, "bound": bound,
                      "move": amount if side == "upper" else -amount, "to": target,
                      "unit": row.unit})
    return moves


def elastic_sentences(moves: list[dict[str, Any]]) -> list[str]:
    """Each elastic move as a sentence: which limit must rise or fall, by how much.

    Parameters
    ----------
    moves : list of dict
        What :func:`elastic` returned.

    Returns
    -------
    list of str
        One sentence per move.
    """
    lines = []
    for move in moves:
        verb = "rise" if move["move"] > 0 else "fall"
        name = move["name"] if move["name"] == move["limit"] else \
            f"{move['name']} ({move['limit']})"
        lines.append(f"{name} must {verb} by {_n(abs(move['move']), move['unit'])}, from "
                     f"{_n(move['bound'], move['unit'])} to {_n(move['to'], move['unit'])}")
    return lines


@dataclass(frozen=True)
class Explanation:
    """Why a plan is what it is (binding limits, marginal values), or why a site fails
    (``conflicts``: how far each limit must move, None for a feasible site)."""

    status: str
    source: str
    objective: dict[str, Any] | None = None
    binding: list[str] = field(default_factory=list)
    marginals: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    conflicts: list[dict[str, Any]] | None = None
    text: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.explain/1`` document.

        Returns
        -------
        dict
            The document as plain values.
        """
        head = {"schema": SCHEMA, "status": self.status, "source": self.source}
        if self.conflicts is not None:
            return {**head, "message": self.message, "conflicts": self.conflicts,
                    "text": self.text}
        return {**head, "objective": self.objective, "binding": self.binding,
                "marginals": self.marginals}


def explain(scenario: Scenario) -> Explanation:
    """The explanation of a site: binding limits and marginal values, or its conflicts.

    Parameters
    ----------
    scenario : Scenario
        The site and its overrides.

    Returns
    -------
    Explanation
        Binding limits and marginal values, or the conflicts of an infeasible site.
    """
    bound = scenario.bind()
    base = plan(bound).to_dict()
    if "totals" not in base:
        moves = elastic(build(bound))
        return Explanation(status=base["status"], source=bound.source,
                           message=base.get("message", ""), conflicts=moves,
                           text=elastic_sentences(moves))
    return Explanation(status=base["status"], source=bound.source,
                       objective=base["objective"], binding=binding_sentences(base),
                       marginals=marginals(scenario, base, bound))

