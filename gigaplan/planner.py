"""The planner: what to build and solve for a site, a phased site or a study of sites.

:func:`plan` builds one site's model (or its phases' multi-period model), has the engine
(:mod:`gigaplan.solve`) solve it and adds the phases' timeline. :func:`plan_study` plans the
sites of a study jointly; :func:`reference_copies` answers the question the vendors'
replicated reference designs raise: plan one site as the standard design, then count how many
copies of it fit each other site.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import date
from typing import Any

from gigaplan.errors import SiteError
from gigaplan.formulation.build import build
from gigaplan.formulation.constraints import effective_objective
from gigaplan.formulation.model import Model
from gigaplan.formulation.phases import build_phased, timeline
from gigaplan.formulation.sites import build_study
from gigaplan.inputs.catalog import Catalog, load_catalog
from gigaplan.inputs.site import BoundSite
from gigaplan.inputs.study import SUMMABLE, Study
from gigaplan.result import PlanResult, ReferenceCopies, ReferenceResult, StudyResult
from gigaplan.solve import (
    SOLVER_NAME,
    SolverInfo,
    SolveStatus,
    constraint_rows,
    diagnose,
    is_power_budget,
    limit_message,
    optimize,
    read_plan,
    solve,
)
from gigaplan.solver_thread import import_solver


def plan(bound: BoundSite, *, time_limit_s: float | None = None,
         timings: bool = False) -> PlanResult:
    """The provably best build-out of ``bound`` (or the best found within the time limit).

    Parameters
    ----------
    bound
        A site bound to a catalog (:func:`gigaplan.api.load_site`).
    time_limit_s
        Seconds for the whole plan, model building included; None waits for the optimum.
    timings
        Report the import, build and solve seconds in ``solver``.

    Returns
    -------
    PlanResult
        The plan, with the timeline of a phased site and its warnings; an infeasible site is
        a result whose ``conflicts`` name the limits to relax.

    References
    ----------
    docs/model.md gathers every formula; docs/engineering-model.md their sources.
    """
    started = time.perf_counter()
    deadline = None if time_limit_s is None else started + time_limit_s  # the build counts
    import_solver()  # off the start-up path; timed apart as import_s

    imported = time.perf_counter()
    phased = build_phased(bound) if bound.site.phases else None
    model = phased.model if phased is not None else build(bound)
    build_s = time.perf_counter() - imported
    split = {"import_s": round(imported - started, 6),
             "build_s": round(build_s, 6)} if timings else None
    result, x = solve(model, time_limit_s=time_limit_s, deadline=deadline, timings=split,
                      build_s=build_s, loose=lambda: power_relaxable(bound, model))
    if phased is not None and x is not None:
        phases, schedule = timeline(phased, x)
        result = replace(result, phases=phases, schedule=schedule)
    if result.found:
        result = replace(result, warnings=plan_warnings(bound, result))
    return result


LOOSE_POWER_MW = 1e6  # the budget that bounds no rack count (1 TW): when power is the question


def power_relaxable(bound: BoundSite, model: Model) -> Model:
    """``model`` built again with each power budget at :data:`LOOSE_POWER_MW`, its power rows
    then put back at ``model``'s own limits.

    Rack counts are bounded by what the power budget feeds (docs/model.md, "Power budget"),
    so dropping a budget's rows from ``model`` relaxes nothing; dropping them from this model
    does, while every other row is as in ``model``. The site's budget and, on a phased site,
    each phase's are loosened.

    Parameters
    ----------
    bound : BoundSite
        The site ``model`` was built from.
    model : Model
        Its model (single-period or phased).

    Returns
    -------
    Model
        The same rows as ``model``, with rack counts bounded as under a 1 TW budget.
    """
    site = bound.site
    power = site.power.model_copy(update={"budget_mw": max(LOOSE_POWER_MW,
                                                           site.power.budget_mw)})
    phases = [phase.model_copy(update={"power_mw": max(LOOSE_POWER_MW, phase.power_mw)})
              for phase in site.phases]
    loose_bound = replace(bound, site=site.model_copy(update={"power": power,
                                                              "phases": phases}))
    loose = build_phased(loose_bound).model if phases else build(loose_bound)
    limits = {(row.group, row.name): row.upper for row in model.rows
              if is_power_budget(row.group)}
    loose.rows = [replace(row, upper=limits[row.group, row.name])
                  if is_power_budget(row.group) else row for row in loose.rows]
    return loose


def plan_study(study: Study, time_limit_s: float | None = None) -> StudyResult:
    """The joint plan of a study: each site's plan, the totals, the global limits.

    Parameters
    ----------
    study
        The sites and the study's own capex cap and requirements (:mod:`gigaplan.inputs.study`).
    time_limit_s
        Seconds for the whole study, model building and reading the plans included; None
        waits for the optimum.

    Returns
    -------
    StudyResult
        Each site's plan, the sums over sites and the study's limits, or the conflicts.
    """
    started = time.perf_counter()
    deadline = None if time_limit_s is None else started + time_limit_s  # the build counts
    import_solver()
    built = build_study(study)
    outcome, stages = optimize(built.model, time_limit_s, deadline=deadline,
                               build_s=time.perf_counter() - started)
    total = outcome.stages_total if stages < outcome.stages_total else None
    info = SolverInfo(SOLVER_NAME, outcome.status.value, outcome.mip_gap, stages,
                      stages_total=total)
    objective = {"name": study.objective, "value": None, "unit": built.model.objective_unit}
    head = {"name": study.name, "source": study.source, "status": outcome.status.value,
            "solver": info}
    if outcome.x is None:
        conflicts = None
        if outcome.status is SolveStatus.INFEASIBLE:
            conflicts = diagnose(built.model, time_limit_s, deadline=deadline)
        if outcome.status is SolveStatus.TIME_LIMIT:
            message = ("the time limit was reached before any joint build-out was found; "
                       "raise --time-limit")
        elif conflicts:
            message = (f"no joint build-out satisfies {study.source}; relaxing any one "
                       f"of these makes it feasible: {', '.join(conflicts)}")
        else:
            message = f"no joint build-out satisfies {study.source}"
        return StudyResult(**head, objective=objective, message=message, conflicts=conflicts)
    x = outcome.x
    fields = built.model.fields
    sites = {}
    for name, model in zip(study.names, built.sites, strict=True):
        site_plan = read_plan(model, x, outcome.status, info)
        sites[name] = replace(site_plan, warnings=plan_warnings(model.bound, site_plan))
    return StudyResult(
        **head,
        objective={**objective, "value": built.model.objective.value(x)},
        message="" if outcome.status is SolveStatus.OPTIMAL else
        limit_message(stages, outcome.stages_total, outcome.mip_gap),
        sites=sites,
        totals={field.split(".", 1)[1]: fields[field].value(x)
                for field in SUMMABLE if field.startswith("totals.")},
        power_mw={key: fields[f"power_mw.{key}"].value(x)
                  for key in ("budget", "usable", "facility", "it")},
        cost={"capex_usd": fields["cost.capex_usd"].value(x),
              "tco_usd_per_year": fields["cost.tco_usd_per_year"].value(x)},
        constraints=[row for row in constraint_rows(built.model, x)
                     if row.name.startswith("study")],
    )


# --- replicated reference design ---------------------------------------------------------------


def reference_copies(study: Study, reference: str, time_limit_s: float | None = None
                     ) -> ReferenceResult:
    """Plan ``reference`` on its own, then count the copies that fit each site's limits.

    copies = ⌊min over the site's limits of limit ÷ what one copy uses⌋: usable power
    (at the site's basis and PUE), rack positions, white space, liquid and air cooling.

    Parameters
    ----------
    study : Study
        The study whose sites receive copies.
    reference : str
        Name of the study's site planned as the standard design.
    time_limit_s : float or None, default None
        Solver time limit for the reference plan [s]; None for no limit.

    Returns
    -------
    ReferenceResult
        The reference design and, per site, the copies that fit and the limit that binds.

    References
    ----------
    docs/model.md, "Studies: several sites on one catalog" (``--reference``).
    """
    if reference not in study.names:
        raise SiteError(f"--reference {reference}: not a site of {study.source}; sites: "
                        f"{', '.join(study.names)}")
    bound = study.sites[study.names.index(reference)]
    design = plan(bound, time_limit_s=time_limit_s)
    if not design.found:
        raise SiteError(f"--reference {reference}: the reference site is {design.status}: "
                        f"{design.message}")
    it_mw = design.power_mw["it"]
    copies = []
    for name, other in zip(study.names, study.sites, strict=True):
        site = other.site
        drawn = it_mw * (site.power.pue if site.power.basis == "facility" else 1.0)
        usable = site.power.budget_mw * site.power.usable_frac * (1 - site.power.headroom_frac)
        limits = {"power": (usable, drawn)}
        racks = design.space["racks"]
        if site.space.rack_positions is not None:
            limits["rack positions"] = (site.space.rack_positions, racks)
        if site.space.white_space_m2 is not None:
            limits["white space"] = (site.space.white_space_m2,
                                     racks * site.space.area_per_rack_m2)
        if site.cooling.liquid_mw is not None:
            limits["liquid cooling"] = (site.cooling.liquid_mw, design.cooling["liquid_mw"])
        if site.cooling.air_mw is not None:
            limits["air cooling"] = (site.cooling.air_mw, design.cooling["air_mw"])
        fits = {key: (math.floor(limit / used + 1e-9) if used > 0 else None)
                for key, (limit, used) in limits.items()}
        binding = min((key for key in fits if fits[key] is not None), key=lambda k: fits[k],
                      default="power")
        count = fits[binding] if fits[binding] is not None else 0
        copies.append(ReferenceCopies(site=name, copies=count, limited_by=binding,
                                      gpus=count * design.totals["gpus"],
                                      capex_usd=count * design.cost["capex_usd"]))
    return ReferenceResult(source=study.source, reference=reference, design=design,
                           copies=copies)


# --- warnings ------------------------------------------------------------------------------
# What a planner must not miss about a valid plan: one line each, printed on stderr by the CLI
# (``warning: ...``) and listed in the JSON ``warnings`` array (issue 11). Three cases: the
# objective is zero for every allowed compute rack (an H100 catalog under ``fp4``); the plan
# builds no compute rack (``--objective tco`` without a requirement); a part is dated after the
# build date (``compute.build_date``, or for a phased site the first phase that builds compute).
# The date rule is the one compute racks follow (``available_from`` after the date), applied to
# the switch, optics, storage and CPU racks; as these have no automatic substitute, breaking it
# is a warning naming the parts of that kind available by then, not an error.


def plan_warnings(bound: BoundSite, result: PlanResult) -> list[str]:
    """Every warning of a found plan, in a fixed order.

    Parameters
    ----------
    bound : BoundSite
        The site the plan was made for, bound to its catalog.
    result : PlanResult
        The found plan.

    Returns
    -------
    list of str
        One line per warning: objective, empty plan, then availability dates.
    """
    return [*objective_warnings(bound),
            *empty_plan_warnings(bound, result.totals.get("compute_racks", 0),
                                 stopped=result.status == "time_limit"),
            *date_warnings(bound, result.phases)]


MAXIMISED = {"gpus": "gpu_count", "hbm": "hbm_gb_per_gpu", "tokens":
             "inference_tokens_per_s_per_gpu",
             **{p: f"{p}_dense_pflops_per_gpu" for p in ("fp4", "fp8", "bf16", "tf32", "fp64")}}
PART_KEYS = (("network.switch", "switch"), ("network.optic", "optic"),
             ("storage.rack", "storage_rack"), ("cpu.rack", "cpu_rack"))


def objective_warnings(bound: BoundSite) -> list[str]:
    """The objective is zero for every allowed compute rack: nothing can improve it.

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.

    Returns
    -------
    list of str
        One warning line, or empty when some allowed rack has a non-zero objective.
    """
    objective = bound.site.objective
    attribute = MAXIMISED.get(objective)
    if attribute is None or not bound.compute:
        return []
    if any(getattr(sku, attribute) or 0 for sku in bound.compute):
        return []
    ids = ", ".join(sku.id for sku in bound.compute)
    planned = effective_objective(bound)
    if planned != objective:
        return [f"objective {objective} is zero for every allowed compute rack ({ids}): "
                f"planning dense {planned.upper()} instead, the next precision they have"]
    return [f"objective {objective} is zero for every allowed compute rack ({ids}); the plan "
            "cannot raise it: choose another --objective or other --sku"]


def empty_plan_warnings(bound: BoundSite, compute_racks: int, *,
                        stopped: bool = False) -> list[str]:
    """A warning when the plan builds no compute rack, saying why.

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.
    compute_racks : int
        Compute racks the plan builds [count].
    stopped : bool, default False
        Whether a time limit stopped the solve: the empty plan is then only the best point
        found in time, not proof that no rack fits.

    Returns
    -------
    list of str
        One warning line, or empty when the plan builds a compute rack.
    """
    if compute_racks > 0:
        return []
    objective = bound.site.objective
    if objective in ("capex", "tco") and not bound.requirements:
        why = (f"objective {objective} with no requirement: building nothing costs least; "
               "add one such as --require 'totals.gpus >= 100000'")
    elif stopped:
        why = ("the time limit stopped the solve before it found one that does; give it "
               "more time with --time-limit")
    else:
        why = "no compute rack fits the site's limits and requirements"
    return [f"the plan builds no compute racks: {why}"]


def _alternatives(catalog: Catalog, kind: str, by: date, current: str) -> str:
    ready = [sku.id for sku in catalog.of_kind(kind)
             if sku.available_from <= by and sku.id != current and sku.status == "shipping"]
    if not ready:
        return "no part of that kind in the catalog is available by then"
    return f"available by then: {', '.join(ready)}"


def date_warnings(bound: BoundSite, phases: list[dict[str, Any]] | None = None,
                  catalog: Catalog | None = None) -> list[str]:
    """Parts planned before their ``available_from`` date.

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.
    phases : list of dict or None, default None
        The plan's phase rows (``name``, ``date``, ``gpus``) for a phased site.
    catalog : Catalog or None, default None
        Catalog to name alternatives from; the bundled catalog when None.

    Returns
    -------
    list of str
        One warning line per switch, optic, storage or CPU rack available after the build
        date, naming the parts of that kind available by then.

    References
    ----------
    docs/model.md, "Compute" (the build-date rule).
    """
    site = bound.site
    if site.phases:
        first = next((row for row in phases or [] if row.get("gpus")), None)
        if first is None:
            return []
        by, label = date.fromisoformat(first["date"]), f"phase {first['name']} ({first['date']})"
    elif site.compute.build_date is not None:
        by, label = site.compute.build_date, f"compute.build_date {site.compute.build_date}"
    else:
        return []
    warnings = []
    for key, attribute in PART_KEYS:
        part = getattr(bound, attribute)
        if part is None or part.available_from <= by:
            continue
        catalog = catalog or load_catalog()
        warnings.append(f"{key} {part.id!r} is available from {part.available_from}, after "
                        f"{label}; {_alternatives(catalog, part.kind, by, part.id)}")
    return warnings
