"""Build-out over time: one multi-period MILP over a site's energization phases (EM §8).

Each phase is a full single-period model (power, fabric, storage, CPU pool, space, cooling,
capex) at the phase's cumulative power, on one shared variable vector. Linking rows keep
what is installed: racks, CPU and storage racks, switches and optics never decrease from one
phase to the next (compute racks may, with ``schedule.allow_refresh``). A compute SKU is
planned in a phase only from its ``available_from`` date (announced SKUs only when the site
allows them, as ``bind`` checks).

Objective over time: the site's objective summed over phases weighted by years in service
(PFLOPS-years), or its value at the final phase; ties go to earlier delivery, then least
spend. Capacity installed in a phase is in service from the phase's date plus
the longer of ``schedule.rack_install_time`` and ``network_install_time`` until the next
phase's, or ``schedule.horizon_end``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from gigaplan.errors import SiteError
from gigaplan.formulation.build import build
from gigaplan.formulation.model import (
    Expr,
    Layout,
    Model,
    Row,
    Separable,
    Subproblem,
    collector_paused,
    total,
)
from gigaplan.inputs.requirements import parse_requirement
from gigaplan.inputs.site import BoundSite
from gigaplan.kinds import PRECISIONS

MONOTONE_FIELDS = ("cpu.racks", "storage.racks", "network.switches", "network.optics")
DAYS_PER_YEAR = 365.25
# a phase's own limits: its key in [[phases]], the attribute and the row group it sets
PHASE_KEYS = (("power", "power_mw", "power.budget"),
              ("rack_positions", "rack_positions", "space.rack_positions"),
              ("white_space", "white_space_m2", "space.white_space"),
              ("liquid", "liquid_mw", "cooling.liquid"),
              ("air", "air_mw", "cooling.air"))


@dataclass
class PhasedModel:
    """The combined model, each phase's own model, and what the phases need to report."""

    model: Model
    phases: list[Model]
    in_service: list[date]
    weights_years: list[float]
    horizon_end: date
    added: list[dict[str, Expr]]
    spend: list[Expr]


def _phase_bound(bound: BoundSite, index: int) -> BoundSite:
    site = bound.site
    phase = site.phases[index]
    power = site.power.model_copy(update={"budget_mw": phase.power_mw})
    space = site.space.model_copy(update={
        key: value for key, value in (("rack_positions", phase.rack_positions),
                                      ("white_space_m2", phase.white_space_m2))
        if value is not None})
    cooling = site.cooling.model_copy(update={
        key: value for key, value in (("liquid_mw", phase.liquid_mw), ("air_mw", phase.air_mw))
        if value is not None})
    requirements = []
    for text in phase.requirements:
        try:
            requirements.append(parse_requirement(text, bound.rack_ids))
        except SiteError as error:
            raise SiteError(f"{bound.source}: phases[{index}].requirements: {error}") from None
    if index == len(site.phases) - 1:
        requirements = [*bound.requirements, *requirements]
    phase_site = site.model_copy(update={"power": power, "space": space, "cooling": cooling})
    return replace(bound, site=phase_site, requirements=tuple(requirements))


def limit_name(bound: BoundSite, group: str) -> str:
    """The limit a row group of a phased model belongs to, named as ``explain`` names it.

    ``build_phased`` prefixes each phase's row groups with ``phases.<name>: ``. A phase's
    own limit is its ``[[phases]]`` key (``phases[2].power``), a phase's requirement is its
    text with the phase (``totals.gpus >= 40000 (phase block-1)``), and a site key or site
    requirement that bounds the phase is itself, named by the flag that set it
    (:meth:`BoundSite.named`). A group of a single-period model is named the same way.

    Parameters
    ----------
    bound : BoundSite
        The site whose model holds the group.
    group : str
        A row group, such as ``phases.block-3: power.budget``.

    Returns
    -------
    str
        What the user changes: ``phases[2].power``, ``--power``, ``budget.capex``, ...
    """
    for index, phase in enumerate(bound.site.phases):
        prefix = f"phases.{phase.name}: "
        if not group.startswith(prefix):
            continue
        inner = group.removeprefix(prefix)
        for key, attribute, own in PHASE_KEYS:
            if inner == own and getattr(phase, attribute) is not None:
                return f"phases[{index}].{key}"
        if inner in (text.strip() for text in phase.requirements):
            return f"{inner} (phase {phase.name})"
        return bound.named(inner)
    return bound.named(group)


def horizon(bound: BoundSite) -> date:
    """The end of the weighting horizon: ``schedule.horizon_end``, else first phase + IT life.

    Parameters
    ----------
    bound : BoundSite
        A phased site, bound to its catalog.

    Returns
    -------
    datetime.date
        The horizon's end.

    References
    ----------
    docs/model.md, "Phases: build-out over time".
    """
    site = bound.site
    if site.schedule.horizon_end is not None:
        return site.schedule.horizon_end
    years = site.economics.it_life_years
    return site.phases[0].date + timedelta(days=round(years * DAYS_PER_YEAR))


@collector_paused()
def build_phased(bound: BoundSite) -> PhasedModel:
    """The multi-period model of a site with ``phases``.

    Parameters
    ----------
    bound : BoundSite
        A site with ``phases``, bound to its catalog.

    Returns
    -------
    PhasedModel
        The combined model and each phase's own.

    References
    ----------
    docs/model.md, "Phases: build-out over time"; docs/engineering-model.md §8.
    """
    site = bound.site
    layout = Layout()
    models: list[Model] = []
    for index, phase in enumerate(site.phases):
        layout.prefix = f"{phase.name}/"
        models.append(build(_phase_bound(bound, index), layout))
    layout.prefix = ""
    final = models[-1]
    combined = Model(bound=bound, layout=layout, fields=dict(final.fields),
                     rack_vars=final.rack_vars, ratios=final.ratios, parts=final.parts,
                     objective_unit=final.objective_unit, maximize=final.maximize)
    own_rows: list[tuple[Row, ...]] = []  # each phase's rows, as its Subproblem has them
    for phase, model in zip(site.phases, models, strict=True):
        combined.least.extend(model.least)
        first = len(combined.rows)
        for row in model.rows:
            group = f"phases.{phase.name}: {row.group}" if row.group else ""
            combined.add_row(replace(row, name=f"{phase.name}: {row.name}", group=group))
        for sku in bound.compute:
            if sku.available_from > phase.date:
                combined.add_row(Row("availability", f"{phase.name}: {sku.id} not yet "
                                     "available", model.rack_vars[sku.id], upper=0.0,
                                     report=False))
        own_rows.append(tuple(combined.rows[first:]))
    added, spend = _link(combined, models)
    schedule = site.schedule
    install = timedelta(days=round(max(schedule.rack_install_days,
                                       schedule.network_install_days)))
    in_service = [phase.date + install for phase in site.phases]
    end = horizon(bound)
    weights = [max(0.0, ((in_service[i + 1] if i + 1 < len(in_service) else end)
                         - in_service[i]).days / DAYS_PER_YEAR) for i in range(len(models))]
    # weights are whole days ÷ 365.25: the solver sees the sum in days (Separable.solve_scale)
    separable = Separable.of([Subproblem(weight, model.objective, rows) for weight, model, rows
                              in zip(weights, models, own_rows, strict=True)],
                             solve_scale=DAYS_PER_YEAR)
    weighted = separable.total
    # Σ over phases of capex spent so far: least total spend, and spend as late as it can be
    spent_so_far = total((len(spend) - index) * amount for index, amount in enumerate(spend))
    if site.objective == "capex":
        combined.objective = total(spend)
    elif site.schedule.objective_over_time == "time_weighted":
        combined.objective = weighted
        combined.objective_unit = f"{final.objective_unit} x years in service"
    else:
        combined.objective = final.objective
        combined.tie_breaks.append((weighted, final.maximize))  # earlier delivery
    if site.objective != "capex":  # the weighted objective is a stage: bound each phase
        combined.separable = separable
    combined.tie_breaks.append((total(spend), False))
    combined.tie_breaks.append((spent_so_far, False))
    combined.tie_breaks.append((total(model.fields["power_mw.it"] for model in models), False))
    return PhasedModel(combined, models, in_service, weights, end, added, spend)


def _link(combined: Model, models: list[Model]) -> tuple[list[dict[str, Expr]], list[Expr]]:
    """Rows that keep installed equipment, and each phase's purchases and spend."""
    refresh = combined.bound.site.schedule.allow_refresh
    names = [phase.name for phase in combined.bound.site.phases]
    added: list[dict[str, Expr]] = []
    spend: list[Expr] = []
    previous: Model | None = None
    for name, model in zip(names, models, strict=True):
        bought: dict[str, Expr] = {}
        for sku in combined.bound.compute:
            now = model.rack_vars[sku.id]
            before = previous.rack_vars[sku.id] if previous else Expr()
            if refresh:
                (purchase,) = combined.layout.add(f"{name}/purchase", [sku.id],
                                                  upper=combined.layout.upper[
                                                      next(iter(now.coefs))])
                combined.add_row(Row("purchase", f"{name}: {sku.id} bought", purchase - now
                                     + before, lower=0.0, report=False))
                bought[sku.id] = purchase
            else:
                if previous is not None:
                    combined.add_row(Row("keep", f"{name}: {sku.id} racks stay", now - before,
                                         lower=0.0, report=False))
                bought[sku.id] = now - before
        if previous is not None:
            for key in MONOTONE_FIELDS:
                combined.add_row(Row("keep", f"{name}: {key} stays", model.fields[key]
                                     - previous.fields[key], lower=0.0, report=False))
        compute_capex = model.fields["cost.capex_breakdown_usd.compute"]
        rest = model.fields["cost.capex_usd"] - compute_capex
        rest_before = (previous.fields["cost.capex_usd"]
                       - previous.fields["cost.capex_breakdown_usd.compute"]) if previous \
            else Expr()
        prices = {sku.id: sku.price_usd for sku in combined.bound.compute}
        spend.append(rest - rest_before + total(prices[sku_id] * expr
                                                for sku_id, expr in bought.items()))
        added.append(bought)
        previous = model
    return added, spend


def timeline(phased: PhasedModel, x: list[float]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``phases`` list and ``schedule`` summary of a solved phased model.

    Parameters
    ----------
    phased : PhasedModel
        The solved phased model.
    x : list of float
        The plan's point.

    Returns
    -------
    tuple of (list of dict, dict)
        One row per phase, and the schedule summary.
    """
    site = phased.model.bound.site
    precision = site.objective if site.objective in PRECISIONS else "fp4"
    rows = []
    cumulative = 0.0
    for index, (phase, model) in enumerate(zip(site.phases, phased.phases, strict=True)):
        value = model.fields
        spent = phased.spend[index].value(x)
        cumulative += spent
        rows.append({
            "name": phase.name,
            "date": phase.date.isoformat(),
            "in_service": phased.in_service[index].isoformat(),
            "weight_years": round(phased.weights_years[index], 6),
            "power_mw_energized": phase.power_mw,
            "power_mw_used": value["power_mw.facility" if site.power.basis == "facility"
                                   else "power_mw.it"].value(x),
            "racks": {sku.id: round(model.rack_vars[sku.id].value(x))
                      for sku in phased.model.bound.compute},
            "racks_added": {sku_id: round(expr.value(x))
                            for sku_id, expr in phased.added[index].items()},
            "gpus": round(value["totals.gpus"].value(x)),
            f"{precision}_dense_pflops": value[f"totals.{precision}_dense_pflops"].value(x),
            "objective": model.objective.value(x),
            "capex_usd": spent,
            "capex_usd_cumulative": cumulative,
        })
    first = next((row for row in rows if row["gpus"] > 0), None)
    schedule = {
        "objective_over_time": site.schedule.objective_over_time,
        "objective_value": phased.model.objective.value(x),
        "objective_unit": phased.model.objective_unit,
        "horizon_end": phased.horizon_end.isoformat(),
        "install_days": max(site.schedule.rack_install_days,
                            site.schedule.network_install_days),
        "first_compute_phase": first["name"] if first else None,
        "time_to_first_compute": first["in_service"] if first else None,
    }
    return rows, schedule
