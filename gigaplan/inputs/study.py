"""Study files: several sites planned jointly on one catalog.

A study file has a ``[study]`` table (name, objective, optional global ``capex`` cap and
global ``requirements`` over the sum of all sites) and ``[[sites]]`` entries, each a
``name`` plus an optional ``file`` (a site TOML file, relative to the study) and inline site
keys that override it. The joint MILP puts every site's model on one variable vector and
adds the global rows (:mod:`gigaplan.formulation.sites`); the objective is the sum of the
sites' objectives. :mod:`gigaplan.planner` plans a study and its reference copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gigaplan.errors import SiteError
from gigaplan.inputs.catalog import Catalog, read_toml
from gigaplan.inputs.requirements import FIELDS, parse_requirement
from gigaplan.inputs.site import (
    MAX_REQUIREMENTS,
    BoundSite,
    apply_overrides,
    bind,
    validate_site,
)
from gigaplan.inputs.units import Dimension, parse
from gigaplan.inputs.values import flatten
from gigaplan.kinds import OBJECTIVES

# Fields that add up across sites, so global requirements may name them.
SUMMABLE = tuple(name for name in FIELDS if name.split(".")[0] in (
    "totals", "power_mw", "network", "storage", "cpu", "space", "cooling", "cost", "energy")
    and name not in ("network.tiers", "cost.usd_per_gpu_hour", "cost.usd_per_million_tokens"))
# Site keys whose value is a whole table (SKU id -> number), not a section to walk into.
TABLE_VALUES = ("min_racks", "max_racks", "prices")


def is_study(path: Path) -> bool:
    """Whether a TOML file is a study (it has ``[[sites]]``), read as data.

    Parameters
    ----------
    path : pathlib.Path
        A TOML file.

    Returns
    -------
    bool
        True when the file has ``[[sites]]``.
    """
    data = read_toml(path, SiteError)
    return isinstance(data.get("sites"), list)


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
    """Read and bind a study file; every problem is reported at once, naming the site.

    Parameters
    ----------
    path : pathlib.Path
        The study file.
    catalog : Catalog
        The catalog every site is bound to.
    overrides : tuple of tuple of (str, Any), default ()
        (dotted key, value) pairs applied to every site.

    Returns
    -------
    Study
        The bound sites and the study's limits.

    References
    ----------
    docs/model.md, "Studies: several sites on one catalog".
    """
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
    if len(requirements) > MAX_REQUIREMENTS:
        problems.append(f"{path}: study.requirements: {len(requirements):,} requirements is "
                        f"more than the {MAX_REQUIREMENTS:,} a study may have")
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
        # the site's own name: its file's, else the study's name for it
        named = [] if "name" in raw else [("name", name)]
        raw = apply_overrides(raw, [*named, *flatten(inline, keep=TABLE_VALUES),
                                    ("objective", objective), *overrides])
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
