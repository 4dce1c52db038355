"""``gigaplan montecarlo``: how uncertain inputs spread a plan's outcomes.

Uncertain inputs are distributions over site keys (``power.pue``) or catalog fields
(``catalog.gb300-nvl72.power_kw``), written ``uniform(1.1, 1.3)``, ``normal(66 $/MWh,
8 $/MWh)``, ``triangular(130 kW, 142 kW, 150 kW)``, ``lognormal(3.5 $M, 0.2)`` (median and
the standard deviation of the log) or ``choice(1.1, 1.2, 1.3)``. All samples are drawn up
front from numpy's ``Generator`` (PCG64) with the seed, key by key in sorted order, so the
same seed gives the same samples whatever the executor or number of workers.

Two questions, both answered:

(a) the fixed plan: the nominal optimal build-out, unchanged, evaluated under each sample —
    how often does it break each limit (is it still within budget at P90 rack power?) and
    each requirement, and how do its cost, power and training time spread;
(b) the optimal plans: the site re-planned under each sample — P10/P50/P90 of GPUs, capex,
    $/GPU-hour, training days, and a histogram of the objective.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import asdict, dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

from pydantic import ValidationError

from gigaplan.errors import (
    EXIT_INTERNAL,
    GigaplanError,
    InputError,
    SiteError,
    validation_problems,
)
from gigaplan.formulation.build import build
from gigaplan.inputs.catalog import SKU_CLASSES, Catalog, load_catalog, shipped_catalog
from gigaplan.inputs.distributions import CATALOG_PREFIX, Distribution
from gigaplan.inputs.site import is_count_key, is_numeric, parse_uncertainty
from gigaplan.inputs.units import Dimension, parse, shorten
from gigaplan.planner import plan
from gigaplan.solve import TOKEN_FIELDS, optimize, solve, token_value
from gigaplan.solver_thread import import_solver
from gigaplan.studies import executors
from gigaplan.studies.batch import summarize

SCHEMA = "gigaplan.montecarlo/1"
FIELDS = ("objective.value", "totals.gpus", "power_mw.facility", "power_mw.it",
          "cost.capex_usd", "cost.tco_usd_per_year", "cost.usd_per_gpu_hour",
          "energy.mwh_per_year", "workload.train_days", "workload.tokens_per_second")


def draw(distributions: list[Distribution], samples: int, seed: int) -> list[dict[str, Any]]:
    """Every sample's values, drawn key by key in sorted order from one seeded Generator.

    Parameters
    ----------
    distributions : list of Distribution
        The uncertain keys and their distributions.
    samples : int
        Number of samples [count].
    seed : int
        Seed of numpy's Generator.

    Returns
    -------
    list of dict
        Per sample, key to its drawn value.
    """
    import_solver()  # numpy too, Ctrl-C held back while it loads
    import numpy as np  # lazily: keeps numpy off the start-up path

    rng = np.random.default_rng(seed)
    columns: dict[str, list[Any]] = {}
    for dist in sorted(distributions, key=lambda d: d.key):
        a = dist.args
        if dist.kind == "choice":
            picks = rng.integers(0, len(dist.choices), size=samples)
            columns[dist.key] = [dist.choices[int(i)] for i in picks]
            continue
        if dist.kind == "uniform":
            values = rng.uniform(a[0], a[1], samples) if a[1] > a[0] else np.full(samples, a[0])
        elif dist.kind == "normal":
            values = rng.normal(a[0], a[1], samples)
        elif dist.kind == "triangular":
            values = (rng.triangular(a[0], a[1], a[2], samples) if a[2] > a[0]
                      else np.full(samples, a[0]))
        else:
            values = np.exp(rng.normal(math.log(a[0]), a[1], samples))
        columns[dist.key] = [dist.render(float(v)) for v in values]
    return [{key: column[i] for key, column in columns.items()} for i in range(samples)]


# --- one sample --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleTask:
    index: int
    values: tuple[tuple[str, Any], ...]
    scenario: Any  # gigaplan.scenario.Scenario
    nominal_x: tuple[float, ...]
    nominal_names: tuple[str, ...]


def _catalog(task: SampleTask) -> Any:
    """The catalog with this sample's ``catalog.<id>.<field>`` values, re-validated."""
    scenario = task.scenario  # shipped: the base catalog is parsed once per process
    base = shipped_catalog(scenario.catalog_texts) if not scenario.catalogs else \
        load_catalog(scenario.catalogs, texts=scenario.catalog_texts)
    updates: dict[str, dict[str, Any]] = {}
    for key, value in task.values:
        if key.startswith(CATALOG_PREFIX):
            sku_id, _, field = key.removeprefix(CATALOG_PREFIX).rpartition(".")
            sku = base.get(sku_id)
            if field not in type(sku).model_fields:
                raise SiteError(f"uncertainty {key}: {sku_id} has no field {field!r}")
            number = _catalog_value(field, value, parse)
            if type(getattr(sku, field)) is int and isinstance(number, float):
                number = round(number)  # a count sampled from a range stays a count
            updates.setdefault(sku_id, {})[field] = number
    if not updates:
        return base
    skus = dict(base.skus)
    for sku_id, fields in updates.items():
        data = {**skus[sku_id].model_dump(), **fields}
        try:
            skus[sku_id] = SKU_CLASSES[data["kind"]].model_validate(data)
        except ValidationError as error:  # the sample makes the entry invalid: one line
            problems = validation_problems(f"sample {task.index}", error.errors(),
                                           (f"{CATALOG_PREFIX}{sku_id}",))
            raise InvalidSample("; ".join(problems)) from None
    return Catalog(skus=skus, origin=base.origin)


def _catalog_value(field: str, value: Any, parse: Any) -> Any:
    """A sampled catalog value in the unit the field's name carries."""
    if not isinstance(value, str):
        return value
    for suffix, dim, unit in (("_kw", Dimension.POWER, "kW"), ("_w", Dimension.POWER, "W"),
                              ("_usd", Dimension.MONEY, "USD"), ("_kg", Dimension.MASS, "kg"),
                              ("_m2", Dimension.AREA, "m2"), ("_pb", Dimension.DATA, "PB"),
                              ("_frac", Dimension.FRACTION, "")):
        if field.endswith(suffix):
            return parse(value, dim, unit or None, key=field)
    return parse(value, Dimension.COUNT, key=field)


def run_sample(task: SampleTask) -> dict[str, Any]:
    """(a) the nominal plan under this sample, and (b) this sample's own optimal plan.

    Parameters
    ----------
    task : SampleTask
        The sample's values, the scenario and the nominal plan's point.

    Returns
    -------
    dict
        The sample's result line.
    """
    row: dict[str, Any] = {"sample": task.index}
    try:
        site_values = tuple((k, round(v) if isinstance(v, float) and is_count_key(k) else v)
                            for k, v in task.values if not k.startswith(CATALOG_PREFIX))
        scenario = replace(task.scenario, overrides=(*task.scenario.overrides, *site_values))
        bound = scenario.bind(_catalog(task))
        model = build(bound)
        if tuple(model.layout.names) != task.nominal_names:
            raise StructureChanged("an uncertain input changes the model's structure (SKUs, "
                                   "fabric radix or planes); the fixed plan cannot be "
                                   "evaluated")
        x = list(task.nominal_x)
        violated = sorted({row_.group for row_ in model.rows if row_.group and
                           not row_.holds(x)})
        fixed = {name: token_value(model, name, x) if name in TOKEN_FIELDS
                 else model.value(name, x) if name in model.fields or name in model.ratios
                 else None for name in FIELDS if name != "objective.value"}
        fixed["objective.value"] = model.objective.value(x)
        row["fixed"] = {"fields": fixed, "violated": violated}
        result = solve(model)[0].to_dict()  # the model built above: one build per sample
        row["optimal"] = ({"status": result["status"], **summarize(result)}
                          if "totals" in result else {"status": result["status"]})
    except StructureChanged as error:
        row.update({"status": "error", "class": "structure_changed",
                    "exit_code": error.exit_code, "error": str(error)})
    except InputError as error:  # a drawn value the site or catalog does not accept
        row.update({"status": "error", "class": "invalid_sample",
                    "exit_code": error.exit_code, "error": str(error)})
    except GigaplanError as error:
        row.update({"status": "error", "class": "internal", "exit_code": error.exit_code,
                    "error": str(error)})
    except Exception as error:  # a bug: recorded in the row, the run goes on
        row.update({"status": "error", "class": "internal", "exit_code": EXIT_INTERNAL,
                    "error": f"internal error: {type(error).__name__}: {error}"})
    return row


# --- the whole run -------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float] | None:
    """P10, P50, P90 (linear interpolation, numpy's default), mean, min and max.

    Parameters
    ----------
    values : list of float
        The sampled values; None entries are left out.

    Returns
    -------
    dict of str to float or None
        ``p10``, ``p50``, ``p90``, ``mean``, ``min`` and ``max``, or None without values.
    """
    import numpy as np  # lazily: keeps numpy off the start-up path

    clean = [v for v in values if v is not None]
    if not clean:
        return None
    array = np.array(clean, dtype=float)
    p10, p50, p90 = np.percentile(array, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(array.mean()),
            "min": float(array.min()), "max": float(array.max()), "count": len(clean)}


def histogram(values: list[float], bins: int = 10) -> dict[str, list[float]]:
    """Bin edges and counts of ``values`` (Nones left out), numpy's ten equal bins.

    Parameters
    ----------
    values : list of float
        The sampled values.
    bins : int, default 10
        Number of equal bins [count].

    Returns
    -------
    dict of str to list of float
        ``edges`` and ``counts``.
    """
    import numpy as np  # lazily: keeps numpy off the start-up path

    clean = [v for v in values if v is not None]
    if not clean:
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(np.array(clean, dtype=float), bins=bins)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def estimate_ranges(bound: Any) -> dict[str, str]:
    """The default uncertainty: ``uniform(low, high)`` over every estimated field, with a
    sourced low-high range, of every SKU the site plans (racks, switches, optics); a range of
    zero width is a fixed value and is left out (issue 14).

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.

    Returns
    -------
    dict of str to str
        ``catalog.<sku-id>.<field>`` to its distribution text.
    """
    specs = {}
    for sku in bound.parts:
        for field, (low, high) in sku.estimate_ranges().items():
            if high > low:
                specs[f"{CATALOG_PREFIX}{sku.id}.{field}"] = f"uniform({low!r}, {high!r})"
    return specs


def montecarlo(scenario: Any, uncertain: dict[str, str], samples: int, seed: int,
               jobs: int = 1, executor: str = "local", scheduler: str | None = None,
               progress: Any = None) -> MonteCarloResult:
    """Run the study; ``progress`` wraps the result iterator (the CLI's progress bar).

    Parameters
    ----------
    scenario : Scenario
        The site and its overrides.
    uncertain : dict of str to str
        Key to distribution text, added to the site's ``[uncertainty]`` table.
    samples : int
        Number of samples [count].
    seed : int
        Seed of numpy's Generator.
    jobs : int, default 1
        Parallel workers [count].
    executor : str, default "local"
        ``"local"`` or ``"dask"``.
    scheduler : str or None, default None
        Address of an existing Dask scheduler.
    progress : callable or None, default None
        Wraps the result iterator.

    Returns
    -------
    MonteCarloResult
        The percentiles and histograms of the samples.

    References
    ----------
    docs/json.md, "gigaplan.montecarlo/1".
    """
    scenario = scenario.shipped()  # files read once, here; tasks carry their contents
    bound = scenario.bind()
    specs = dict(bound.site.uncertainty)
    specs.update(uncertain)
    if not specs:
        specs = estimate_ranges(bound)
    if not specs:
        raise SiteError(f"{bound.source}: uncertainty: nothing is uncertain (no [uncertainty] "
                        "table, and no estimated catalog field of this site has a range); add "
                        "one or --uncertain KEY=DIST")
    distributions = [parse_uncertainty(key, text) for key, text in sorted(specs.items())]
    _check_catalog_keys([d.key for d in distributions], scenario)
    if bound.site.phases:
        raise SiteError(f"{bound.source}: phases: montecarlo plans a site at one date")
    model = build(bound)
    outcome, _ = optimize(model)
    if outcome.x is None:
        raise SiteError(f"{bound.source}: the nominal site is {outcome.status.value}; "
                        "montecarlo needs a nominal plan")
    nominal = plan(bound).to_dict()
    tasks = [SampleTask(i, tuple(sorted(values.items())), scenario, tuple(outcome.x),
                        tuple(model.layout.names))
             for i, values in enumerate(draw(distributions, samples, seed))]
    lines = executors.run(run_sample, tasks, jobs, executor, scheduler,
                          on_error=lambda task, error: {
                              "sample": task.index, "status": "error", "class": "task_failed",
                              "exit_code": EXIT_INTERNAL, "error": f"task failed: {error}"})
    rows = list(progress(lines, len(tasks)) if progress else lines)
    good = [row for row in rows if "fixed" in row]
    groups = sorted({g for row in model.rows for g in [row.group] if g})
    requirement_texts = [r.text for r in bound.requirements]
    optimal = [row["optimal"] for row in good]
    planned = [item for item in optimal if item["status"] == "optimal"]
    objective = [item["objective.value"] for item in planned]
    return MonteCarloResult(
        seed=seed,
        samples=samples,
        source=bound.source,
        uncertain={d.key: d.text for d in distributions},
        nominal=summarize(nominal),
        fixed_plan={
            "fields": {name: percentiles([row["fixed"]["fields"][name] for row in good])
                       for name in FIELDS},
            "limit_broken_probability": {
                group: _share(good, lambda row, g=group: g in row["fixed"]["violated"])
                for group in groups},
            "requirement_holds_probability": {
                text: _share(good, lambda row, t=text: t not in row["fixed"]["violated"])
                for text in requirement_texts},
        },
        optimal_plans={
            "fields": {name: percentiles([item.get(name) for item in planned])
                       for name in FIELDS},
            "feasible_probability": _share(good, lambda row: row["optimal"]["status"]
                                           == "optimal"),
            "requirement_holds_probability": {
                text: _share(good, lambda row: row["optimal"]["status"] == "optimal")
                for text in requirement_texts},
            "objective_histogram": histogram(objective),
        },
        planned=len(planned),
        failures=dict(sorted(Counter(row["class"] for row in rows
                                     if "fixed" not in row).items())),
        errors=[{"sample": row["sample"], "class": row["class"], "error": row["error"]}
                for row in rows if "fixed" not in row],
    )


class InvalidSample(SiteError):
    """A drawn value makes a catalog entry invalid (a negative power, a fraction over 1)."""


class StructureChanged(SiteError):
    """A drawn value changes the model's structure, so the fixed plan cannot be evaluated."""


def _check_catalog_keys(keys: list[str], scenario: Any) -> None:
    """Every ``catalog.<sku-id>.<field>`` names a SKU and one of its numeric fields, before a
    single sample is drawn; one error lists every problem."""
    keys = [key for key in keys if key.startswith(CATALOG_PREFIX)]
    if not keys:
        return
    catalog = shipped_catalog(scenario.catalog_texts) if not scenario.catalogs else \
        load_catalog(scenario.catalogs, texts=scenario.catalog_texts)
    problems = []
    for key in keys:
        sku_id, _, field = key[len(CATALOG_PREFIX):].rpartition(".")
        if sku_id not in catalog:
            problems.append(f"uncertainty {shorten(key)}: unknown SKU id {shorten(sku_id)!r}"
                            f"{catalog.suggest(sku_id)}")
            continue
        fields = type(catalog.get(sku_id)).model_fields
        numeric = sorted(name for name, info in fields.items() if is_numeric(info.annotation))
        if field not in numeric:
            close = difflib.get_close_matches(field[:100], numeric, n=1)
            what = "is not a numeric field" if field in fields else "is not a field"
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(f"uncertainty {shorten(key)}: {shorten(field)!r} {what} of a "
                            f"{catalog.get(sku_id).kind}; {hint}numeric fields, which can "
                            f"be sampled: {', '.join(numeric)}")
    if problems:
        raise SiteError.listing(problems)


@dataclass(frozen=True)
class MonteCarloResult:
    """Percentiles of the fixed nominal plan and of the re-planned optima over the samples.

    ``fixed_plan`` and ``optimal_plans`` hold ``fields`` (P10/P50/P90, mean, min, max per
    summary field) and the probabilities; ``errors`` lists the samples that failed, each with
    its class (``invalid_sample``: a drawn value the site or catalog refuses;
    ``structure_changed``; ``task_failed``; ``internal``), ``failures`` counts them by class.
    """

    seed: int
    samples: int
    source: str
    uncertain: dict[str, str]
    nominal: dict[str, Any]
    fixed_plan: dict[str, Any]
    optimal_plans: dict[str, Any]
    errors: list[dict[str, Any]]
    planned: int = 0  # samples whose own optimum was found
    failures: dict[str, int] = dataclass_field(default_factory=dict)  # failed samples by class

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.montecarlo/1`` document.

        Returns
        -------
        dict
            The document as plain values (docs/json.md, "gigaplan.montecarlo/1").
        """
        return {"schema": SCHEMA, **asdict(self)}


def _share(rows: list[dict[str, Any]], test: Any) -> float | None:
    return sum(1 for row in rows if test(row)) / len(rows) if rows else None
