"""Replication across sites: a study plans several sites jointly on one catalog.

A study file has a ``[study]`` table (name, objective, optional global ``capex`` cap and
global ``requirements`` over the sum of all sites) and ``[[sites]]`` entries, each a
``name`` plus an optional ``file`` (a site TOML file, relative to the study) and inline site
keys that override it. The joint MILP puts every site's model on one variable vector and
adds the global rows; the objective is the sum of the sites' objectives.

``reference_copies`` answers the question the vendors' replicated reference designs raise:
plan one site as the standard design, then count how many copies of it fit each other site.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from gigaplan.catalog import Catalog, read_toml
from gigaplan.errors import SiteError
from gigaplan.model import INF, Layout, Model, Row, build, total
from gigaplan.requirements import FIELDS, parse_requirement
from gigaplan.site import OBJECTIVES, BoundSite, apply_overrides, bind, validate_site

SCHEMA = "gigaplan.study/1"
# Fields that add up across sites, so global requirements may name them.
SUMMABLE = tuple(name for name in FIELDS if name.split(".")[0] in (
    "totals", "power_mw", "network", "storage", "cpu", "space", "cooling", "cost", "energy")
    and name not in ("network.tiers", "cost.usd_per_gpu_hour", "cost.usd_per_million_tokens"))


def is_study(path: Path) -> bool:
    """Whether a TOML file is a study (it has ``[[sites]]``), read as data."""
    data = read_toml(path, SiteError)
    return isinstance(data.get("sites"), list)


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    pairs = []
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and key not in ("min_racks", "max_racks", "prices"):
            pairs.extend(_flatten(value, dotted))
        else:
            pairs.append((dotted, value))
    return pairs


@dataclass(frozen=True)
class Study:
    name: str
    source: str
    objective: str
    capex_usd: float | None
    requirements: tuple[str, ...]
    sites: tuple[BoundSite, ...]
    names: tuple[str, ...]


def load_study(path: Path, catalog: Catalog, overrides: tuple[tuple[str, Any], ...] = ()
               ) -> Study:
    """Read and bind a study file; every problem is reported at once, naming the site."""
    from gigaplan.units import Dimension, parse

    data = read_toml(path, SiteError)
    problems: list[str] = []
    header = data.get("study", {})
    unknown = sorted(set(data) - {"study", "sites"})
    if unknown:
        problems.append(f"{path}: {', '.join(unknown)}: unknown top-level keys; a study has "
                        "[study] and [[sites]]")
    if not isinstance(header, dict):
        header = {}
        problems.append(f"{path}: study: expected a table")
    extra = sorted(set(header) - {"name", "objective", "capex", "requirements"})
    if extra:
        problems.append(f"{path}: study.{extra[0]}: unknown key; [study] has name, objective, "
                        "capex and requirements")
    objective = header.get("objective", "fp4")
    if objective not in OBJECTIVES:
        problems.append(f"{path}: study.objective: expected one of {', '.join(OBJECTIVES)}")
        objective = "fp4"
    capex = None
    if "capex" in header:
        try:
            capex = parse(header["capex"], Dimension.MONEY, "USD", key="study.capex")
        except SiteError as error:
            problems.append(f"{path}: {error}")
    requirements = header.get("requirements", [])
    if not isinstance(requirements, list):
        problems.append(f"{path}: study.requirements: expected a list")
        requirements = []
    for text in requirements:
        try:
            requirement = parse_requirement(text)
        except SiteError as error:
            problems.append(f"{path}: study.requirements: {error}")
            continue
        if requirement.field not in SUMMABLE:
            problems.append(f"{path}: study.requirements: {text!r}: {requirement.field} does "
                            "not add up across sites; use a total such as totals.gpus")
    bounds, names = [], []
    entries = data.get("sites", [])
    if not entries:
        problems.append(f"{path}: sites: list at least one [[sites]] entry")
    for index, entry in enumerate(entries):
        where = f"{path}: sites[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"{where}: expected a table with a name")
            continue
        name = entry["name"]
        if name in names:
            problems.append(f"{where}: name {name!r} appears more than once")
            continue
        inline = {k: v for k, v in entry.items() if k not in ("name", "file")}
        raw: dict[str, Any] = {}
        if "file" in entry:
            raw = read_toml(path.parent / str(entry["file"]), SiteError)
        raw = apply_overrides(raw, [*_flatten(inline), ("objective", objective),
                                    *overrides])
        source = f"{path} [sites.{name}]"
        try:
            site = validate_site(raw, source)
            if site.phases:
                raise SiteError(f"{source}: phases: a study plans sites at one date; plan "
                                "phased sites on their own")
            bounds.append(bind(site, catalog, source))
            names.append(name)
        except SiteError as error:
            problems.extend(error.problems)
    if problems:
        raise SiteError.listing(problems)
    return Study(name=str(header.get("name", path.stem)), source=str(path), objective=objective,
                 capex_usd=capex, requirements=tuple(requirements), sites=tuple(bounds),
                 names=tuple(names))


@dataclass
class StudyModel:
    model: Model
    sites: list[Model]


def build_study(study: Study) -> StudyModel:
    """All sites on one vector, the global capex cap and requirements, the summed objective."""
    layout = Layout()
    models = []
    for name, bound in zip(study.names, study.sites, strict=True):
        layout.prefix = f"{name}/"
        models.append(build(bound, layout))
    layout.prefix = ""
    sums = {field: total(model.fields[field] for model in models)
            for field in (*SUMMABLE, "cost.capex_usd", "power_mw.it")}
    first = models[0]
    combined = Model(bound=first.bound, layout=layout, fields=sums,
                     objective_unit=first.objective_unit, maximize=first.maximize,
                     objective=total(model.objective for model in models))
    for name, model in zip(study.names, models, strict=True):
        combined.rack_vars.update({f"{name}/{k}": v for k, v in model.rack_vars.items()})
        for row in model.rows:
            combined.add_row(replace(row, name=f"{name}: {row.name}",
                                     group=f"sites.{name}: {row.group}" if row.group else ""))
    if study.capex_usd is not None:
        capex = sums["cost.capex_usd"]
        combined.add_row(Row("capex", "study capex (all sites)", capex, upper=study.capex_usd,
                             unit="USD", group="study.capex",
                             step=combined.compute_step(capex)))
    for text in study.requirements:
        requirement = parse_requirement(text)
        expr = sums[requirement.field]
        lower = requirement.value if requirement.op in (">=", "==") else -INF
        upper = requirement.value if requirement.op in ("<=", "==") else INF
        combined.add_row(Row("requirement", f"study: {text}", expr, lower=lower, upper=upper,
                             unit=FIELDS[requirement.field][1], group=f"study: {text}",
                             step=combined.compute_step(expr)))
    return StudyModel(combined, models)


def plan_study(study: Study, time_limit_s: float | None = None) -> dict[str, Any]:
    """The joint plan of a study: each site's plan, the totals, the global limits."""
    from gigaplan.solve import (
        SOLVER_NAME,
        SolverInfo,
        SolveStatus,
        constraint_rows,
        diagnose,
        optimize,
        read_plan,
    )

    built = build_study(study)
    outcome, stages = optimize(built.model, time_limit_s)
    info = SolverInfo(SOLVER_NAME, outcome.status.value, outcome.mip_gap, stages)
    result: dict[str, Any] = {"schema": SCHEMA, "name": study.name, "source": study.source,
                              "status": outcome.status.value,
                              "objective": {"name": study.objective, "value": None,
                                            "unit": built.model.objective_unit},
                              "solver": {"name": info.name, "status": info.status,
                                         "mip_gap": info.mip_gap, "stages": info.stages}}
    if outcome.x is None:
        if outcome.status is SolveStatus.INFEASIBLE:
            result["conflicts"] = diagnose(built.model, time_limit_s)
        result["message"] = (f"no joint build-out satisfies {study.source}; relaxing any one "
                             f"of these makes it feasible: {', '.join(result.get('conflicts', []))}"
                             if result.get("conflicts") else
                             f"no joint build-out satisfies {study.source}")
        return result
    x = outcome.x
    sites = []
    for name, model in zip(study.names, built.sites, strict=True):
        plan = read_plan(model, x, outcome.status, info).to_dict()
        plan["name"] = name
        sites.append(plan)
    totals = {field.split(".", 1)[1]: built.model.fields[field].value(x)
              for field in SUMMABLE if field.startswith("totals.")}
    result.update({
        "objective": {"name": study.objective, "value": built.model.objective.value(x),
                      "unit": built.model.objective_unit},
        "sites": sites,
        "totals": totals,
        "power_mw": {key: built.model.fields[f"power_mw.{key}"].value(x)
                     for key in ("budget", "usable", "facility", "it")},
        "cost": {"capex_usd": built.model.fields["cost.capex_usd"].value(x),
                 "tco_usd_per_year": built.model.fields["cost.tco_usd_per_year"].value(x)},
        "constraints": [asdict(row) for row in constraint_rows(built.model, x)
                        if row.name.startswith("study")],
    })
    return result


# --- replicated reference design ---------------------------------------------------------------


def reference_copies(study: Study, reference: str, time_limit_s: float | None = None
                     ) -> dict[str, Any]:
    """Plan ``reference`` on its own, then count the copies that fit each site's limits.

    copies = ⌊min over the site's limits of limit ÷ what one copy uses⌋: usable power
    (at the site's basis and PUE), rack positions, white space, liquid and air cooling.
    """
    from gigaplan.solve import plan

    if reference not in study.names:
        raise SiteError(f"--reference {reference}: not a site of {study.source}; sites: "
                        f"{', '.join(study.names)}")
    bound = study.sites[study.names.index(reference)]
    design = plan(bound, time_limit_s=time_limit_s).to_dict()
    if "totals" not in design:
        raise SiteError(f"--reference {reference}: the reference site is {design['status']}: "
                        f"{design.get('message', '')}")
    it_mw = design["power_mw"]["it"]
    copies = []
    for name, other in zip(study.names, study.sites, strict=True):
        site = other.site
        drawn = it_mw * (site.power.pue if site.power.basis == "facility" else 1.0)
        usable = site.power.budget_mw * site.power.usable_frac * (1 - site.power.headroom_frac)
        limits = {"power": (usable, drawn)}
        racks = design["space"]["racks"]
        if site.space.rack_positions is not None:
            limits["rack positions"] = (site.space.rack_positions, racks)
        if site.space.white_space_m2 is not None:
            limits["white space"] = (site.space.white_space_m2,
                                     racks * site.space.area_per_rack_m2)
        if site.cooling.liquid_mw is not None:
            limits["liquid cooling"] = (site.cooling.liquid_mw, design["cooling"]["liquid_mw"])
        if site.cooling.air_mw is not None:
            limits["air cooling"] = (site.cooling.air_mw, design["cooling"]["air_mw"])
        fits = {key: (math.floor(limit / used + 1e-9) if used > 0 else None)
                for key, (limit, used) in limits.items()}
        binding = min((key for key in fits if fits[key] is not None), key=lambda k: fits[k],
                      default="power")
        count = fits[binding] if fits[binding] is not None else 0
        copies.append({"site": name, "copies": count, "limited_by": binding,
                       "gpus": count * design["totals"]["gpus"],
                       "capex_usd": count * design["cost"]["capex_usd"]})
    return {"schema": "gigaplan.reference/1", "source": study.source, "reference": reference,
            "design": design, "copies": copies,
            "total_copies": sum(item["copies"] for item in copies),
            "total_gpus": sum(item["gpus"] for item in copies)}

