"""Warnings a plan carries: facts about a valid plan that a planner must not miss.

Each is one line, printed on stderr by the CLI (``warning: ...``) and listed in the JSON
``warnings`` array; a plan without any has ``"warnings": []``. Three cases (issue 11):

- the objective is zero for every allowed compute rack (an H100 catalog under ``fp4``);
- the plan builds no compute rack (``--objective tco`` without a requirement);
- a part is dated after the build date: ``compute.build_date``, or for a phased site the
  first phase that builds compute. The date rule is the one compute racks follow
  (``available_from`` after the date), applied to the switch, optics, storage and CPU racks;
  as these have no automatic substitute, breaking it is a warning naming the parts of the same
  kind that are available by then, not an error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gigaplan.catalog import Catalog, load_catalog
from gigaplan.site import BoundSite

MAXIMISED = {"gpus": "gpu_count", "hbm": "hbm_gb_per_gpu", "tokens":
             "inference_tokens_per_s_per_gpu",
             **{p: f"{p}_dense_pflops_per_gpu" for p in ("fp4", "fp8", "bf16", "tf32", "fp64")}}
PART_KEYS = (("network.switch", "switch"), ("network.optic", "optic"),
             ("storage.rack", "storage_rack"), ("cpu.rack", "cpu_rack"))


def objective_warnings(bound: BoundSite) -> list[str]:
    """The objective is zero for every allowed compute rack: nothing can improve it."""
    objective = bound.site.objective
    attribute = MAXIMISED.get(objective)
    if attribute is None or not bound.compute:
        return []
    if any(getattr(sku, attribute) or 0 for sku in bound.compute):
        return []
    ids = ", ".join(sku.id for sku in bound.compute)
    return [f"objective {objective} is zero for every allowed compute rack ({ids}); the plan "
            "cannot raise it: choose another --objective or other --sku"]


def empty_plan_warnings(bound: BoundSite, compute_racks: int) -> list[str]:
    if compute_racks > 0:
        return []
    objective = bound.site.objective
    if objective in ("capex", "tco") and not bound.requirements:
        why = (f"objective {objective} with no requirement: building nothing costs least; "
               "add one such as --require 'totals.gpus >= 100000'")
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
    """Parts planned before their ``available_from`` date."""
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
