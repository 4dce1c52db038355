"""``gigaplan explain``: which limits bind, what moving each is worth, and why a site fails.

Marginal values are measured, not read from duals (a MILP has none): each
site limit is moved by a step in the direction that relaxes it (about 1 % of its value,
rounded to one significant digit) and the site is planned again.

An infeasible site gets alternatives, one per relaxable limit (power budget, rack positions,
white space, cooling, capex cap, rack caps and minimums, requirements): the exact least value
of that limit that makes the site feasible with every other limit held (one MILP that
optimises the limit's field with its own rows dropped), rounded outward to a value people
write and checked by planning the site again with only that change. When no limit alone is
enough, an elastic re-solve gives the combination of least total relative change. A phased
site's limits are each phase's own (power, and positions, white space, cooling and
requirements where the phase sets them) and the site's keys that bound every phase
(:func:`phased_limits`); the same machinery applies, except that the combination holds a
phase's ratio requirement (such as ``cost.usd_per_gpu_hour``) as it is.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from gigaplan.formulation.build import build
from gigaplan.formulation.model import Expr, Layout, Model, Row
from gigaplan.formulation.phases import PhasedModel, build_phased
from gigaplan.inputs.requirements import FIELDS, Requirement, parse_requirement
from gigaplan.inputs.scenario import Scenario
from gigaplan.inputs.site import BoundSite
from gigaplan.inputs.units import Dimension, counted, format_quantity, parse
from gigaplan.kinds import TOLERANCE
from gigaplan.planner import plan, power_relaxable
from gigaplan.solve import run_milp

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


# --- infeasible sites: what to change ---------------------------------------------------------

SIGNIFICANT = 3  # digits a proposed continuous value keeps ($8.71B, 1.21 GW): rounded outward
PROPOSAL_TRIES = 4  # proposals tried, each one unit further, before a limit counts as not enough
RATIO_ITERATIONS = 30  # Dinkelbach steps for a ratio requirement (it converges in a few)

_SITE_LIMITS = (  # key, label, section, attribute, plan field, dimension, unit, noun
    ("space.rack_positions", "rack positions", "space", "rack_positions", "space.racks",
     Dimension.COUNT, "racks", "rack"),
    ("space.white_space", "white space", "space", "white_space_m2", "space.white_space_m2",
     Dimension.AREA, "m2", ""),
    ("cooling.liquid", "liquid cooling", "cooling", "liquid_mw", "cooling.liquid_mw",
     Dimension.POWER, "MW", ""),
    ("cooling.air", "air cooling", "cooling", "air_mw", "cooling.air_mw", Dimension.POWER, "MW",
     ""),
    ("budget.capex", "capex cap", "budget", "capex_usd", "cost.capex_usd", Dimension.MONEY,
     "USD", ""),
)
_NOUNS = {"totals.gpus": "GPU", "totals.cpus": "CPU", "totals.cpu_cores": "core",
          "cpu.cores": "core", "totals.racks": "rack", "totals.compute_racks": "rack",
          "space.racks": "rack", "cpu.racks": "rack", "storage.racks": "rack",
          "network.racks": "rack"}


@dataclass(frozen=True)
class Relaxable:
    """A limit an infeasible site may relax: a site key or one requirement.

    ``field`` is the plan field the limit bounds; its value is ``per_unit`` × the limit's
    (the power budget bounds the drawn power at budget × usable share; every other limit
    bounds its field one to one).
    """

    key: str  # the site key (budget.capex) or the requirement's text
    label: str
    sense: str  # "<=": raising it relaxes; ">=": lowering it relaxes; "==": changing it
    current: float  # in ``unit``
    field: str
    dimension: Dimension
    unit: str
    noun: str = ""  # a count's noun, singular: "rack", "GPU"
    per_unit: float = 1.0
    requirement: Requirement | None = None
    # a phased site: the row groups the limit sets (one per phase it applies to), and the
    # index and name of the phase whose own key (phases[i].power) or requirement it is
    groups: tuple[str, ...] = ()
    phase: int | None = None
    phase_name: str = ""
    from_require: bool = False  # a requirement a --require flag gave, not the site file

    @property
    def kind(self) -> str:
        """``requirement`` or ``site`` (a site key)."""
        return "site" if self.requirement is None else "requirement"

    @property
    def rows(self) -> tuple[str, ...]:
        """The row groups that relaxing this limit drops: its ``groups``, else its key."""
        return self.groups or (self.key,)

    @property
    def ident(self) -> str:
        """A name no other limit of the site has (a phase's requirement names its phase)."""
        return self.key if self.phase is None or self.requirement is None else \
            f"phases[{self.phase}].requirements: {self.key}"


def relaxable_limits(bound: BoundSite) -> list[Relaxable]:
    """Every limit of ``bound`` that an infeasible site may relax, in a fixed order.

    The power budget, rack positions, white space, cooling, the capex cap, per-SKU rack
    caps and minimums, then each requirement. Design rules (CPU cores and storage per GPU,
    the fabric's radix) are not limits a planner negotiates and are kept.

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.

    Returns
    -------
    list of Relaxable
        The limits the site sets.
    """
    site = bound.site
    power = site.power
    drawn = {"grid": "power_mw.grid", "facility": "power_mw.facility", "it": "power_mw.it"}
    limits = [Relaxable("power.budget", "power budget", "<=", power.budget_mw, drawn[power.basis],
                        Dimension.POWER, "MW",
                        per_unit=power.usable_frac * (1.0 - power.headroom_frac))]
    for key, label, section, attribute, field_name, dimension, unit, noun in _SITE_LIMITS:
        value = getattr(getattr(site, section), attribute)
        if value is not None:
            limits.append(Relaxable(key, label, "<=", float(value), field_name, dimension, unit,
                                    noun))
    for sku_id in (sku.id for sku in bound.compute):
        high, low = site.compute.max_racks.get(sku_id), site.compute.min_racks.get(sku_id)
        if high is not None:
            limits.append(Relaxable(f"compute.max_racks.{sku_id}", f"{sku_id} rack cap", "<=",
                                    float(high), f"racks.{sku_id}", Dimension.COUNT, "racks",
                                    "rack"))
        if low:
            limits.append(Relaxable(f"compute.min_racks.{sku_id}", f"{sku_id} rack minimum",
                                    ">=", float(low), f"racks.{sku_id}", Dimension.COUNT, "racks",
                                    "rack"))
    limits += [_requirement_limit(requirement, from_require=bound.from_require(position))
               for position, requirement in enumerate(bound.requirements)]
    return limits


_PHASE_LIMITS = (  # the key in [[phases]], attribute, label, row group, dimension, unit, noun
    ("power", "power_mw", "power", "power.budget", Dimension.POWER, "MW", ""),
    ("rack_positions", "rack_positions", "rack positions", "space.rack_positions",
     Dimension.COUNT, "racks", "rack"),
    ("white_space", "white_space_m2", "white space", "space.white_space", Dimension.AREA, "m2",
     ""),
    ("liquid", "liquid_mw", "liquid cooling", "cooling.liquid", Dimension.POWER, "MW", ""),
    ("air", "air_mw", "air cooling", "cooling.air", Dimension.POWER, "MW", ""),
)


def _requirement_limit(requirement: Requirement, **where: Any) -> Relaxable:
    dimension, unit = FIELDS.get(requirement.field, (Dimension.COUNT, "racks"))
    noun = _NOUNS.get(requirement.field, "rack" if requirement.field.startswith("racks.")
                      else "")
    return Relaxable(requirement.text, "requirement", requirement.op, requirement.value,
                     requirement.field, dimension, unit, noun, requirement=requirement,
                     **where)


def phased_limits(bound: BoundSite) -> list[Relaxable]:
    """Every limit of a phased site that an infeasible plan may relax, in a fixed order.

    Each phase's own limits (its power, and its rack positions, white space, cooling and
    requirements where it sets them), then the site's keys that bound every phase not
    setting its own (rack positions, white space, cooling, the capex cap on each phase's
    cumulative capex, per-SKU rack caps and minimums), then the site's requirements, which
    bound the final phase.

    Parameters
    ----------
    bound : BoundSite
        A phased site, bound to its catalog.

    Returns
    -------
    list of Relaxable
        The limits, each with the row groups it sets.
    """
    site = bound.site
    power = site.power
    usable = power.usable_frac * (1.0 - power.headroom_frac)
    limits = []
    for index, phase in enumerate(site.phases):
        prefix = f"phases.{phase.name}: "
        where = {"phase": index, "phase_name": phase.name}
        for key, attribute, label, group, dimension, unit, noun in _PHASE_LIMITS:
            value = getattr(phase, attribute)
            if value is not None:
                limits.append(Relaxable(f"phases[{index}].{key}", f"{phase.name} {label}",
                                        "<=", float(value), "", dimension, unit, noun,
                                        per_unit=usable if key == "power" else 1.0,
                                        groups=(prefix + group,), **where))
        for text in phase.requirements:
            limits.append(_requirement_limit(parse_requirement(text, bound.rack_ids),
                                             groups=(prefix + text,), **where))
    every = [f"phases.{phase.name}: " for phase in site.phases]
    for key, label, section, attribute, field_name, dimension, unit, noun in _SITE_LIMITS:
        value = getattr(getattr(site, section), attribute)
        groups = tuple(prefix + key for prefix, phase in zip(every, site.phases, strict=True)
                       if getattr(phase, attribute, None) is None)
        if value is not None and groups:
            limits.append(Relaxable(key, label, "<=", float(value), field_name, dimension,
                                    unit, noun, groups=groups))
    for sku_id in (sku.id for sku in bound.compute):
        high, low = site.compute.max_racks.get(sku_id), site.compute.min_racks.get(sku_id)
        for table, label, sense, value in (("max_racks", "rack cap", "<=", high),
                                           ("min_racks", "rack minimum", ">=", low)):
            if value if table == "min_racks" else value is not None:
                key = f"compute.{table}.{sku_id}"
                limits.append(Relaxable(key, f"{sku_id} {label}", sense, float(value),
                                        f"racks.{sku_id}", Dimension.COUNT, "racks", "rack",
                                        groups=tuple(prefix + key for prefix in every)))
    limits += [_requirement_limit(requirement, groups=(every[-1] + requirement.text,),
                                  from_require=bound.from_require(position))
               for position, requirement in enumerate(bound.requirements)]
    return limits


def round_significant(value: float, digits: int, *, up: bool) -> float:
    """``value`` rounded up (or down) to ``digits`` significant digits: 8,702,394,333 -> 8.71e9.

    Parameters
    ----------
    value : float
        The value.
    digits : int
        Significant digits kept.
    up : bool
        Round towards +infinity when True, else towards -infinity.

    Returns
    -------
    float
        The rounded value.
    """
    if value == 0 or not math.isfinite(value):
        return value
    exact = Decimal(repr(value))
    quantum = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return float(exact.quantize(quantum, rounding=ROUND_CEILING if up else ROUND_FLOOR))


def _point(model: Model, x: list[float] | None) -> list[float] | None:
    """``x`` with each integer variable at its whole value (HiGHS returns 12.999999999999998)."""
    if x is None:
        return None
    return [float(round(v)) if model.layout.integer[i] else v for i, v in enumerate(x)]


def _integral(model: Model, expr: Expr) -> bool:
    """Whether ``expr`` takes only whole values: integer coefficients on integer variables."""
    return float(expr.const).is_integer() and all(
        model.layout.integer[index] and float(coef).is_integer()
        for index, coef in expr.coefs.items())


def _ratio_extreme(model: Model, rows: list[Row], numerator: Expr, denominator: Expr,
                   maximize: bool) -> float | None:
    """The least (or greatest) ``numerator ÷ denominator`` over the points of ``rows`` with a
    positive denominator: Dinkelbach's method, one MILP per step, exact at convergence.

    Each step optimises ``N − λ·D`` at the last ratio λ; a step that cannot beat zero proves
    λ optimal (W. Dinkelbach, "On nonlinear fractional programming", Management Science
    13(7), 1967).
    """
    start = _point(model, run_milp(model, denominator, maximize=True, rows=rows,
                                   time_limit_s=None).x)
    if start is None or denominator.value(start) <= 1e-9:
        return None
    ratio = numerator.value(start) / denominator.value(start)
    for _ in range(RATIO_ITERATIONS):
        x = _point(model, run_milp(model, numerator - ratio * denominator, maximize=maximize,
                                   rows=rows, time_limit_s=None).x)
        if x is None:
            return None
        below = denominator.value(x)
        gain = (numerator - ratio * denominator).value(x)
        scale = max(1.0, abs(numerator.value(x)))
        if below <= 1e-9 or (gain <= 1e-9 * scale if maximize else gain >= -1e-9 * scale):
            break
        ratio = numerator.value(x) / below
    return ratio


def _nearest(model: Model, rows: list[Row], expr: Expr, target: float) -> float | None:
    """The value of ``expr`` nearest ``target`` over the points of ``rows`` (an ``==``)."""
    layout = Layout(list(model.layout.names), list(model.layout.lower),
                    list(model.layout.upper), list(model.layout.integer),
                    dict(model.layout.blocks))
    (above,) = layout.add("nearest[above]", integer=False)
    (below,) = layout.add("nearest[below]", integer=False)
    equal = Row("nearest", "distance to the target", expr - above + below, lower=target,
                upper=target, report=False)
    carrier = Model(bound=model.bound, layout=layout)
    outcome = run_milp(carrier, above + below, maximize=False, rows=[*rows, equal],
                       time_limit_s=None)
    x = _point(carrier, outcome.x)
    return None if x is None else expr.value(x)


def _extreme(model: Model, rows: list[Row], limit: Relaxable) -> float | None:
    """The value of the limit's field nearest its current value over ``rows`` (every other
    limit held): the least for a cap, the greatest for a floor; None when none exists."""
    if limit.field in model.ratios:
        if limit.sense == "==":
            return None  # an exact ratio: no nearest value by one MILP
        numerator, denominator = model.ratios[limit.field]
        return _ratio_extreme(model, rows, numerator, denominator, maximize=limit.sense == ">=")
    expr = model.fields[limit.field]
    if limit.sense == "==":
        return _nearest(model, rows, expr, limit.current)
    outcome = run_milp(model, expr, maximize=limit.sense == ">=", rows=rows, time_limit_s=None)
    x = _point(model, outcome.x)
    return None if x is None else expr.value(x)


def _proposals(limit: Relaxable, exact: float, integral: bool) -> list[float]:
    """The rounded values to try for ``limit``, nearest first: whole for a count field, else
    :data:`SIGNIFICANT` digits; each next one a unit further in the relaxing direction."""
    value = exact / limit.per_unit
    up = limit.sense == "<=" or (limit.sense == "==" and value > limit.current)
    sign = 1.0 if up else -1.0
    tolerance = 1e-9 * max(1.0, abs(value))  # a whole value's rounding error, no more
    if limit.sense == "==" and integral:
        return [float(round(value))]
    if limit.sense == "==":
        return [value]
    if integral:
        first = math.ceil(value - tolerance) if up else math.floor(value + tolerance)
        return [float(first + sign * step) for step in range(PROPOSAL_TRIES)]
    first = round_significant(value, SIGNIFICANT, up=up)
    unit = 10.0 ** (math.floor(math.log10(abs(first))) - SIGNIFICANT + 1) if first else 1.0
    return [round_significant(first + sign * step * unit, SIGNIFICANT + 1, up=up)
            for step in range(PROPOSAL_TRIES)]


def _number_text(value: float) -> str:
    """A number a requirement reads back exactly: ``99936``, ``8710000000``, ``2.35``."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def relaxed(bound: BoundSite, changes: list[tuple[Relaxable, float]]) -> BoundSite:
    """``bound`` with each limit of ``changes`` set to its value, every other input as it was.

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.
    changes : list of tuple of (Relaxable, float)
        Each limit and its new value, in the limit's unit.

    Returns
    -------
    BoundSite
        The changed site.
    """
    site = bound.site
    texts = list(site.requirements)
    requirements = list(bound.requirements)
    for limit, value in changes:
        if limit.phase is not None:
            site = _phase_relaxed(site, limit, value)
            continue
        if limit.requirement is not None:
            text = requirement_text(limit, value)
            index = requirements.index(limit.requirement)
            requirements[index] = replace(limit.requirement, text=text, value=value)
            texts[texts.index(limit.requirement.text)] = text
            continue
        if limit.key == "power.budget":
            section, update = "power", {"budget_mw": value}
        elif limit.key.startswith("compute."):
            table, sku_id = limit.key.split(".")[1], limit.key.split(".", 2)[2]
            section = "compute"
            update = {table: {**getattr(site.compute, table), sku_id: int(value)}}
        else:
            _, _, section, attribute, *_ = next(row for row in _SITE_LIMITS
                                                if row[0] == limit.key)
            update = {attribute: int(value) if limit.noun else value}
        site = site.model_copy(update={section: getattr(site, section).model_copy(
            update=update)})
    site = site.model_copy(update={"requirements": texts})
    return replace(bound, site=site, requirements=tuple(requirements))


def _phase_relaxed(site: Any, limit: Relaxable, value: float) -> Any:
    """``site`` with the phase's own key or requirement of ``limit`` set to ``value``."""
    assert limit.phase is not None
    phases = list(site.phases)
    phase = phases[limit.phase]
    if limit.requirement is not None:
        texts = list(phase.requirements)
        texts[texts.index(limit.requirement.text)] = \
            f"{limit.requirement.field} {limit.sense} {_number_text(value)}"
        update: dict[str, Any] = {"requirements": texts}
    elif limit.key.endswith(".power"):  # cumulative, within the budget: later ones rise too
        for index in range(limit.phase, len(phases)):
            phases[index] = phases[index].model_copy(update={
                "power_mw": max(phases[index].power_mw, value)})
        if value > site.power.budget_mw:
            site = site.model_copy(update={"power": site.power.model_copy(update={
                "budget_mw": value})})
        return site.model_copy(update={"phases": phases})
    else:
        name = limit.key.split(".", 1)[1]
        attribute = next(row[1] for row in _PHASE_LIMITS if row[0] == name)
        update = {attribute: int(value) if limit.noun else value}
    phases[limit.phase] = phase.model_copy(update=update)
    return site.model_copy(update={"phases": phases})


def _raised_with(bound: BoundSite, limit: Relaxable, value: float) -> list[str]:
    """The keys a phase's power of ``value`` raises with it: each later phase with less (phase
    power is cumulative) and the site's budget when below it (no phase has more)."""
    if limit.phase is None or not limit.key.endswith(".power"):
        return []
    site = bound.site
    later = [f"phases[{index}].power" for index in range(limit.phase + 1, len(site.phases))
             if site.phases[index].power_mw < value]
    return later + ([bound.named("power.budget")] if value > site.power.budget_mw else [])


def _feasible(bound: BoundSite) -> bool:
    return plan(bound).found


def _show_value(limit: Relaxable, value: float) -> str:
    if limit.dimension is Dimension.COUNT:
        if limit.noun and float(value).is_integer():
            return counted(int(value), limit.noun)
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"
    return format_quantity(value, limit.dimension, limit.unit or None)


def _change_sentence(limit: Relaxable, proposed: float, name: str, source: str,
                     also: list[str] | None = None) -> str:
    verb = "change" if limit.sense == "==" else "raise" if limit.sense == "<=" else "lower"
    if limit.requirement is not None:
        where = f" of phase {limit.phase_name}" if limit.phase is not None else ""
        change = f"{verb} the requirement {limit.key}{where} to {_show_value(limit, proposed)}"
        if limit.from_require:  # the flag the user gave, with its new text
            return f"{change} (give {argument(limit, proposed, name)} instead)"
        key = "requirements" if limit.phase is None else f"phases[{limit.phase}].requirements"
        return f"{change} (edit {key} in {source})"
    return (f"{verb} the {limit.label} ({name}) from {_show_value(limit, limit.current)} "
            f"to {_show_value(limit, proposed)}"
            + (f", with {_and(also)} raised to match" if also else ""))


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _argument_value(limit: Relaxable, value: float) -> str:
    """``value`` as a flag or ``--set`` takes it: ``265MW``, ``$13.1B``, ``1000``; exact."""
    if limit.dimension is Dimension.COUNT:
        return _number_text(value)
    shown = format_quantity(value, limit.dimension, limit.unit or None, significant=12)
    text = shown.replace(" ", "").replace(",", "")
    if math.isclose(parse(text, limit.dimension, limit.unit or None), value, rel_tol=1e-12):
        return text
    return _number_text(value)  # a plain number is in the key's own unit


def requirement_text(limit: Relaxable, value: float) -> str:
    """The text of requirement ``limit`` at ``value``: ``totals.gpus >= 99936``.

    Parameters
    ----------
    limit : Relaxable
        A requirement.
    value : float
        Its new value, in the field's unit.

    Returns
    -------
    str
        ``field op value``, as ``--require`` and the site file take it.
    """
    assert limit.requirement is not None
    return f"{limit.requirement.field} {limit.sense} {_number_text(value)}"


def argument(limit: Relaxable, value: float, name: str) -> str | None:
    """The command-line words that set ``limit`` to ``value``: the flag that set it
    (``--power 265MW``), else ``--set key=VALUE``; for a requirement a ``--require`` gave,
    that flag with the new text (``--require 'totals.gpus >= 99936'``), to give in place
    of the old one. None for a phase's key or a requirement of the site file (edited there).

    Parameters
    ----------
    limit : Relaxable
        The limit.
    value : float
        Its new value, in the limit's unit.
    name : str
        What the user set it with: a flag such as ``--power``, or the site key.

    Returns
    -------
    str or None
        Shell words, quoted as needed.
    """
    if limit.requirement is not None:
        return shlex.join(["--require", requirement_text(limit, value)]) \
            if limit.from_require else None  # the site file's requirements are edited there
    if limit.phase is not None:
        return None  # a phase's keys are set in the site file's [[phases]] entry
    text = _argument_value(limit, value)
    return shlex.join([name, text] if name.startswith("--") else ["--set", f"{limit.key}={text}"])


def _entry(limit: Relaxable, exact: float | None, proposed: float | None,
           sufficient: bool, bound: BoundSite) -> dict[str, Any]:
    name = bound.named(limit.key)
    also = [] if proposed is None else _raised_with(bound, limit, proposed)
    entry: dict[str, Any] = {
        "limit": limit.key, "kind": limit.kind, "label": limit.label, "sense": limit.sense,
        "phase": limit.phase_name or None,
        "current": limit.current,
        "least": None if exact is None else exact / limit.per_unit,
        "proposed": proposed, "unit": limit.unit or (f"{limit.noun}s" if limit.noun else ""),
        "sufficient_alone": sufficient,
        "text": "" if proposed is None else _change_sentence(limit, proposed, name,
                                                             bound.source, also),
        "raises_too": also,
        "argument": None if proposed is None else argument(limit, proposed, name)}
    if limit.requirement is not None:
        entry["requirement"] = None if proposed is None else \
            requirement_text(limit, proposed)
    return entry


def _models(bound: BoundSite) -> tuple[Model, Model]:
    """The site's model, and the same with rack counts free of the power budget
    (:func:`~gigaplan.planner.power_relaxable`): the model in which to relax the budget."""
    model = build(bound)
    return model, power_relaxable(bound, model)


def alternatives(bound: BoundSite) -> list[dict[str, Any]]:
    """For each limit, the value that alone makes the site feasible, or that none does.

    The exact value is the optimum of the limit's field with that limit dropped and every
    other held: the least for a cap, the greatest for a floor (a ratio requirement by
    Dinkelbach's method, an ``==`` requirement the nearest value). It is then rounded
    outward, whole for a count and to :data:`SIGNIFICANT` digits otherwise, and the site is
    planned again with only that change: ``sufficient_alone`` says the plan was found.

    Parameters
    ----------
    bound : BoundSite
        An infeasible single-period site.

    Returns
    -------
    list of dict
        One entry per limit (:func:`relaxable_limits` order): ``limit``, ``kind``, ``label``,
        ``sense``, ``current``, ``least`` (exact, None when relaxing it alone cannot help),
        ``proposed``, ``unit``, ``sufficient_alone``, ``text`` and, for a requirement, the
        ``requirement`` text that replaces it.
    """
    if bound.site.phases:
        return _phased_alternatives(bound)
    model, loose = _models(bound)
    entries = []
    for limit in relaxable_limits(bound):
        carrier = loose if limit.key == "power.budget" else model
        rows = [row for row in carrier.rows if row.group != limit.key]
        exact = _extreme(carrier, rows, limit)
        proposed = None
        if exact is not None:
            expr = carrier.fields.get(limit.field)
            integral = limit.per_unit == 1.0 and expr is not None and _integral(carrier, expr)
            for value in _proposals(limit, exact, integral):
                if _feasible(relaxed(bound, [(limit, value)])):
                    proposed = value
                    break
        entries.append(_entry(limit, exact, proposed, proposed is not None, bound))
    return entries


def _rows_extreme(model: Model, rows: list[Row], mine: list[Row], maximize: bool,
                  at_least: float = -math.inf) -> float | None:
    """The least ``t`` ≥ ``at_least`` with every row of ``mine`` at most ``t`` (the greatest
    with each at least ``t``) over the points of ``rows``: what one cap on several rows (each
    phase's) must be at least, or a floor at most; None when ``rows`` leave no point."""
    layout = Layout(list(model.layout.names), list(model.layout.lower),
                    list(model.layout.upper), list(model.layout.integer),
                    dict(model.layout.blocks))
    (level,) = layout.add("extreme", integer=False)
    layout.lower[-1] = at_least
    side = {"lower": 0.0} if maximize else {"upper": 0.0}
    bounds = [Row("extreme", f"extreme: {row.name}", row.expr - level, report=False, **side)
              for row in mine]
    carrier = Model(bound=model.bound, layout=layout)
    outcome = run_milp(carrier, level, maximize=maximize, rows=[*rows, *bounds],
                       time_limit_s=None)
    x = _point(carrier, outcome.x)
    return None if x is None else level.value(x)


def _phase_power_extreme(loose: Model, bound: BoundSite, limit: Relaxable) -> float | None:
    """The least drawn power ``t`` (budget × usable share) of phase i's power: raising it
    raises each later phase below it too (power is cumulative), so for each k ≥ i the rows
    of phases i..k are capped at ``t`` ≥ phase k's and later phases keep theirs; the least
    over k is exact (the phases below ``t`` are a run from i, their powers being sorted)."""
    assert limit.phase is not None
    phases = bound.site.phases
    best = None
    for last in range(limit.phase, len(phases)):
        groups = {f"phases.{phases[index].name}: power.budget"
                  for index in range(limit.phase, last + 1)}
        rows = [row for row in loose.rows if row.group not in groups]
        mine = [row for row in loose.rows if row.group in groups]
        value = _rows_extreme(loose, rows, mine, maximize=False,
                              at_least=phases[last].power_mw * limit.per_unit
                              if last > limit.phase else -math.inf)
        if value is not None and (best is None or value < best):
            best = value
    return best


def _phase_view(phased: PhasedModel, limit: Relaxable) -> Model:
    """The combined model read through the fields and ratios of the phase ``limit`` bounds
    (a site requirement bounds the final phase)."""
    phase = phased.phases[-1 if limit.phase is None else limit.phase]
    return replace(phased.model, fields=phase.fields, ratios=phase.ratios)


def _phased_alternatives(bound: BoundSite) -> list[dict[str, Any]]:
    """:func:`alternatives` of a phased site: each limit of :func:`phased_limits` relaxed
    alone. A limit on one row (a phase's power, positions or requirement) gets the optimum of
    that row's expression with its row dropped; a site key that bounds each phase (the capex
    cap, a rack cap) the least value that bounds them all; a ratio or ``==`` requirement the
    optimum of its field in its phase, as for a single site."""
    phased = build_phased(bound)
    model = phased.model
    loose = power_relaxable(bound, model)
    entries = []
    for limit in phased_limits(bound):
        power = limit.phase is not None and limit.key.endswith(".power")
        carrier = loose if power else model
        rows = [row for row in carrier.rows if row.group not in limit.rows]
        mine = [row for row in carrier.rows if row.group in limit.rows]
        view = _phase_view(phased, limit)
        integral = limit.per_unit == 1.0 and all(_integral(carrier, row.expr) for row in mine)
        if limit.requirement is not None and (limit.field in view.ratios or
                                              limit.sense == "=="):
            exact = _extreme(view, rows, limit)
            integral = limit.field in view.fields and _integral(view, view.fields[limit.field])
        elif power:
            exact = _phase_power_extreme(loose, bound, limit)
        else:
            exact = _rows_extreme(carrier, rows, mine, maximize=limit.sense == ">=")
        proposed = None
        if exact is not None:
            for value in _proposals(limit, exact, integral):
                if _feasible(relaxed(bound, [(limit, value)])):
                    proposed = value
                    break
        entries.append(_entry(limit, exact, proposed, proposed is not None, bound))
    return entries


def combination(bound: BoundSite) -> list[dict[str, Any]]:
    """The smallest joint change when no limit alone suffices: an elastic re-solve.

    Each row of a relaxable limit, divided by max(1, |boundᵣ|), gets a slack eᵣ ≥ 0 in its
    relaxing direction and the re-solve minimises Σ eᵣ, the total relative change. Each limit that
    moved is proposed at its field's value at that point, rounded outward as in
    :func:`alternatives`, and the site is planned again with all of them; ``sufficient_alone``
    is False for each.

    Parameters
    ----------
    bound : BoundSite
        An infeasible single-period site.

    Returns
    -------
    list of dict
        One entry per limit that must move (as :func:`alternatives`); empty when the
        re-solve finds none or the rounded values together leave no plan.
    """
    phased = build_phased(bound) if bound.site.phases else None
    loose = power_relaxable(bound, phased.model) if phased else _models(bound)[1]
    listed = relaxable_limits(bound) if phased is None else [
        limit for limit in phased_limits(bound)  # a phase's ratio requirement is held
        if limit.requirement is None or limit.field not in _phase_view(phased, limit).ratios]
    limits = {limit.ident: limit for limit in listed}
    owner = {group: limit.ident for limit in listed for group in limit.rows}
    layout = Layout(list(loose.layout.names), list(loose.layout.lower),
                    list(loose.layout.upper), list(loose.layout.integer),
                    dict(loose.layout.blocks))
    rows: list[Row] = []
    slacks: list[tuple[str, Expr, float]] = []  # group, relative slack, bound
    objective = Expr()
    for row in loose.rows:
        if row.group not in owner:
            rows.append(row)
            continue
        # the row divided by its bound, so each slack is a relative change with cost 1 (HiGHS
        # 1.16's presolve returned a wrong optimum for costs of 1e-7 on rows of 1e6)
        scale = max(1.0, *(abs(value - row.expr.const) for value in (row.upper, row.lower)
                           if not math.isinf(value)))
        expr = row.expr * (1.0 / scale)
        for side, bound_value in (("upper", row.upper), ("lower", row.lower)):
            if math.isinf(bound_value):
                continue
            (slack,) = layout.add(f"elastic[{row.name}:{side}]", integer=False)
            expr = expr - slack if side == "upper" else expr + slack
            objective = objective + slack
            slacks.append((owner[row.group], slack, bound_value))
        rows.append(replace(row, expr=expr, lower=row.lower / scale, upper=row.upper / scale))
    carrier = Model(bound=loose.bound, layout=layout)
    outcome = run_milp(carrier, objective, maximize=False, rows=rows, time_limit_s=None)
    if outcome.x is None:
        return []
    x = outcome.x
    whole = _point(carrier, x)
    assert whole is not None
    moved = sorted({ident for ident, slack, _ in slacks if slack.value(x) > TOLERANCE},
                   key=list(limits).index)
    changes = []
    for ident in moved:
        limit = limits[ident]
        if phased is not None:  # the value the limit's rows (one per phase) take at the point
            mine = [row for row in loose.rows if row.group in limit.rows]
            values = [row.expr.value(whole) for row in mine]
            exact = min(values) if limit.sense == ">=" else max(values)
            integral = limit.per_unit == 1.0 and all(_integral(loose, row.expr) for row in mine)
            changes.append((limit, exact, _proposals(limit, exact, integral)))
            continue
        if limit.field in loose.ratios:
            numerator, denominator = loose.ratios[limit.field]
            exact = numerator.value(whole) / max(denominator.value(whole), 1e-12)
        else:
            exact = loose.fields[limit.field].value(whole)
        expr = loose.fields.get(limit.field)
        integral = limit.per_unit == 1.0 and expr is not None and _integral(loose, expr)
        changes.append((limit, exact, _proposals(limit, exact, integral)))
    for step in range(PROPOSAL_TRIES):  # planned again with all of them: a unit further if not
        chosen = [(limit, values[min(step, len(values) - 1)]) for limit, _, values in changes]
        if _feasible(relaxed(bound, chosen)):
            return [_entry(limit, exact, value, False, bound)
                    for (limit, value), (_, exact, _) in zip(chosen, changes, strict=True)]
    return []


def infeasible_sentences(entries: list[dict[str, Any]], joint: list[dict[str, Any]] | None,
                         flags: dict[str, str] | None = None) -> list[str]:
    """What to change, in words: each alternative enough alone, else the combination.

    Parameters
    ----------
    entries : list of dict
        What :func:`alternatives` returned.
    joint : list of dict or None
        What :func:`combination` returned, or None when a limit alone suffices.
    flags : dict of str to str or None, default None
        The flag that set each site key given by one (``power.budget`` -> ``--power``):
        limits are named as the user changes them.

    Returns
    -------
    list of str
        A heading line, then one line per change.
    """
    alone = [entry for entry in entries if entry["sufficient_alone"]]
    # an earlier phase's power raised past a later phase's is that phase's change and more
    enough = {entry["limit"] for entry in alone}
    alone = [entry for entry in alone if not enough & set(entry.get("raises_too", ()))]
    if alone:
        lines = ["Any one of these changes alone makes the site feasible:",
                 *(f"  - {entry['text']}" for entry in alone)]
        rest = [(flags or {}).get(entry["limit"], entry["limit"])
                + (f" (phase {entry['phase']})" if entry["kind"] == "requirement"
                   and entry.get("phase") else "")
                for entry in entries if not entry["sufficient_alone"]]
        if rest:
            lines.append(f"Not enough alone: {', '.join(rest)}.")
        return lines
    if not joint:
        return ["No change of the site's limits makes it feasible."]
    return ["No single limit is enough alone; the smallest combination (least total relative "
            "change), all together:", *(f"  - {entry['text']}" for entry in joint)]


@dataclass(frozen=True)
class Explanation:
    """Why a plan is what it is (binding limits, marginal values), or why a site fails and
    what to change (``alternatives``, each enough alone, or the ``combination``; None for a
    feasible site)."""

    status: str
    source: str
    objective: dict[str, Any] | None = None
    binding: list[str] = field(default_factory=list)
    marginals: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    alternatives: list[dict[str, Any]] | None = None
    combination: list[dict[str, Any]] | None = None
    text: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.explain/1`` document.

        Returns
        -------
        dict
            The document as plain values.
        """
        head = {"schema": SCHEMA, "status": self.status, "source": self.source}
        if self.alternatives is not None:
            return {**head, "message": self.message, "alternatives": self.alternatives,
                    "combination": self.combination, "text": self.text}
        return {**head, "objective": self.objective, "binding": self.binding,
                "marginals": self.marginals}


def explain(scenario: Scenario) -> Explanation:
    """The explanation of a site: binding limits and marginal values, or what to change.

    Parameters
    ----------
    scenario : Scenario
        The site and its overrides.

    Returns
    -------
    Explanation
        Binding limits and marginal values, or the alternatives of an infeasible site.
    """
    bound = scenario.bind()
    base = plan(bound).to_dict()
    if "totals" not in base:
        entries = alternatives(bound)
        joint = None if any(entry["sufficient_alone"] for entry in entries) else \
            combination(bound)
        return Explanation(status=base["status"], source=bound.source,
                           message=base.get("message", ""), alternatives=entries,
                           combination=joint,
                           text=infeasible_sentences(entries, joint, dict(bound.flags)))
    return Explanation(status=base["status"], source=bound.source,
                       objective=base["objective"], binding=binding_sentences(base),
                       marginals=marginals(scenario, base, bound))
