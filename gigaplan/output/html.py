"""The self-contained HTML report: one file, no network, light and dark, printable.

:func:`render_html` takes a serialised gigaplan document (``gigaplan.plan/1`` including phased
plans, ``study/1``, ``reference/1``, ``sweep/1`` or ``montecarlo/1``, see docs/json.md) and
returns the page as text. It reads only that public contract, never solver internals.

The page is a Jinja2 template with autoescaping on: site names, SKU names and catalog strings
are untrusted data. Charts come from :mod:`gigaplan.output.charts` as inline SVG (text drawn as
glyph paths, so no string from the input reaches the SVG as markup). The page has no script,
no external stylesheet, font or image: opening it makes no network request.

Jinja2 and matplotlib are imported only by this module and ``charts``, which only the report
command loads: ``plan`` and ``--help`` never pay for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from gigaplan.errors import InputError
from gigaplan.output import charts
from gigaplan.output.documents import SCHEMAS, flatten, lookup

GENERATOR = "gigaplan report"


# --- number formats shared by the page and the browser test -------------------------------------

def fmt_int(value: float) -> str:
    """A count with thousands separators.

    Parameters
    ----------
    value : float
        A count.

    Returns
    -------
    str
        The text.
    """
    return f"{round(value):,}"


def fmt_mw(value: float) -> str:
    """Megawatts to one decimal.

    Parameters
    ----------
    value : float
        Power [MW].

    Returns
    -------
    str
        The text.
    """
    return f"{value:,.1f} MW"


def fmt_usd(value: float) -> str:
    """$31.29B, $605.1M, $2.61: three or four significant figures, like the terminal tables.

    Parameters
    ----------
    value : float
        Amount [USD].

    Returns
    -------
    str
        The text.
    """
    magnitude = abs(value)
    sign = "-" if value < 0 else ""
    for limit, suffix in charts.SI_SUFFIXES:
        if magnitude >= limit:
            return f"{sign}${magnitude / limit:,.2f}{suffix}"
    return f"{sign}${magnitude:,.2f}" if magnitude < 100 else f"{sign}${magnitude:,.0f}"


def fmt_usd_small(value: float) -> str:
    """Dollars to three decimals below $1, two above (per GPU-hour, per token).

    Parameters
    ----------
    value : float
        Amount [USD].

    Returns
    -------
    str
        The text.
    """
    return f"${value:,.3f}" if abs(value) < 1 else f"${value:,.2f}"


def fmt_rate(value: float) -> str:
    """A large rate in words: ``1.2 billion``.

    Parameters
    ----------
    value : float
        A rate, such as tokens per second.

    Returns
    -------
    str
        The text.
    """
    for limit, suffix in ((1e12, " trillion"), (1e9, " billion"), (1e6, " million")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:,.0f}"


def fmt_num(value: Any) -> str:
    """A plain number for a table cell: thousands separators, no float noise.

    Parameters
    ----------
    value : Any
        A number (or any value, shown as it is).

    Returns
    -------
    str
        The text.
    """
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:,.6g}"


FORMATS = {"int": fmt_int, "mw": fmt_mw, "usd": fmt_usd, "usd_small": fmt_usd_small,
           "rate": fmt_rate, "num": fmt_num}


def headline(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline figures: label, dotted JSON key, raw value, formatted text, note.

    Parameters
    ----------
    plan : mapping
        A ``gigaplan.plan/1`` document.

    Returns
    -------
    list of dict
        One dict per figure.
    """
    items: list[tuple[str, str, str, str]] = [
        ("GPUs", "totals.gpus", "int", ""),
        ("racks", "totals.racks", "int", "all kinds, incl. switch racks"),
        ("facility power", "power_mw.facility", "mw", ""),
        ("IT power", "power_mw.it", "mw", ""),
        ("capex, upfront", "cost.capex_usd", "usd", ""),
        ("TCO per year", "cost.tco_usd_per_year", "usd", ""),
        ("per GPU-hour", "cost.usd_per_gpu_hour", "usd_small", ""),
        ("tokens per second", "workload.tokens_per_second", "rate", ""),
    ]
    figures = []
    for label, key, fmt, note in items:
        value = lookup(plan, key)
        if value is None:
            continue
        if key == "cost.usd_per_gpu_hour":
            utilization = lookup(plan, "inputs.site.economics.utilization")
            note = f"at {utilization:.0%} utilisation" if utilization is not None else ""
        if key == "workload.tokens_per_second":
            skus = lookup(plan, "workload.tokens_reference_skus") or []
            note = "reference: " + ", ".join(skus) if skus else ""
        figures.append({"label": label, "key": key, "value": value,
                        "text": FORMATS[fmt](value), "note": note})
    first = lookup(plan, "schedule.time_to_first_compute")
    if first is not None:
        figures.append({"label": "first compute", "key": "schedule.time_to_first_compute",
                        "value": first, "text": first,
                        "note": f"phase {lookup(plan, 'schedule.first_compute_phase')}"})
    else:
        schedule = lookup(plan, "inputs.site.schedule") or {}
        months = schedule.get("facility_build_time")
        days = max(schedule.get("rack_install_time") or 0,
                   schedule.get("network_install_time") or 0)
        if months is not None:
            figures.append({"label": "time to first compute", "key": "", "value": None,
                            "text": f"{months:g} mo + {days:g} d",
                            "note": "facility build, then rack and network install, from "
                                    "notice to proceed (schedule inputs)"})
    return figures


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def catalog_rows(plan: Mapping[str, Any], catalog: list[dict[str, Any]] | None
                 ) -> list[dict[str, Any]]:
    """The catalog entries the plan used, with estimates marked and sources as links.

    Parameters
    ----------
    plan : mapping
        A ``gigaplan.plan/1`` document.
    catalog : list of dict or None
        Catalog entries; None for no table.

    Returns
    -------
    list of dict
        One row per SKU the plan used.
    """
    if not catalog:
        return []
    used = set(lookup(plan, "inputs.catalog_ids") or [])
    rows = []
    for entry in sorted(catalog, key=lambda e: e["id"]):
        if entry["id"] not in used:
            continue
        estimates = set(entry.get("estimates") or [])
        figures = []
        for key in ("gpu_count", "power_kw", "power_w", "fp4_dense_pflops_per_gpu",
                    "hbm_gb_per_gpu", "port_count", "port_gbps", "capacity_pb",
                    "cpu_core_count", "liquid_frac", "footprint_m2", "price_usd"):
            if entry.get(key) is not None:
                figures.append({"key": key, "value": fmt_num(entry[key]),
                                "estimate": key in estimates})
        rows.append({"id": entry["id"], "name": entry.get("name", ""),
                     "kind": entry.get("kind", ""), "status": entry.get("status", ""),
                     "available_from": entry.get("available_from", ""), "figures": figures,
                     "sources": [{"text": s, "href": _safe_url(s)}
                                 for s in entry.get("sources") or []]})
    return rows


def footprints(catalog: list[dict[str, Any]] | None) -> dict[str, float]:
    """Each catalog SKU's footprint in m² by id (SKUs without one are left out).

    Parameters
    ----------
    catalog : list of dict or None
        Catalog entries.

    Returns
    -------
    dict of str to float
        SKU id to footprint [m²].
    """
    return {e["id"]: e["footprint_m2"] for e in catalog or [] if e.get("footprint_m2")}


# --- sections ---------------------------------------------------------------------------------

def _plan_context(plan: dict[str, Any], catalog: list[dict[str, Any]] | None,
                  explain: dict[str, Any] | None, charts_module: Any) -> dict[str, Any]:
    charts = charts_module
    context: dict[str, Any] = {
        "plan": plan, "status": plan.get("status"), "headline": headline(plan),
        "inputs": list(flatten(lookup(plan, "inputs.site") or {})),
        "source": lookup(plan, "inputs.source"),
        "catalog": catalog_rows(plan, catalog), "charts": {},
        "explain": explain,
    }
    if plan.get("status") == "infeasible":
        return context
    svg = context["charts"]
    svg["power"] = charts.power_waterfall(plan)
    built = lookup(plan, "totals.racks") or 0
    if built:  # a plan of no racks has no mix and no floor to draw
        svg["racks"] = charts.rack_mix(plan)
    if (plan.get("network") or {}).get("enabled") and plan["network"].get("leaf_switches"):
        svg["fabric"] = charts.fat_tree(plan)
    if built:
        svg["floor"] = charts.floor_plan(plan, footprints(catalog))
    if plan.get("constraints"):
        svg["constraints"] = charts.constraint_bars(plan["constraints"])
    svg["cost"] = charts.cost_breakdown(plan)
    if plan.get("phases"):
        svg["timeline"] = charts.timeline(plan)
    return context


def _study_context(study: dict[str, Any], catalog: list[dict[str, Any]] | None,
                   charts: Any) -> dict[str, Any]:
    sites = []
    for site in study["sites"]:
        name = site.get("name") or lookup(site, "inputs.site.name")
        built = lookup(site, "totals.racks") or 0
        sites.append({"name": name, "plan": site, "headline": headline(site),
                      "power": charts.power_waterfall(site),
                      "floor": charts.floor_plan(site, footprints(catalog),
                                                 title=f"{name}: floor plan to scale")
                      if built else None,
                      "racks": charts.rack_mix(site) if built else None})
    totals = [
        {"label": "GPUs", "key": "totals.gpus", "value": study["totals"]["gpus"],
         "text": fmt_int(study["totals"]["gpus"]), "note": f"{len(sites)} sites"},
        {"label": "racks", "key": "totals.racks", "value": study["totals"]["racks"],
         "text": fmt_int(study["totals"]["racks"]), "note": ""},
        {"label": "facility power", "key": "power_mw.facility",
         "value": study["power_mw"]["facility"], "text": fmt_mw(study["power_mw"]["facility"]),
         "note": f"of {fmt_mw(study['power_mw']['budget'])} budget"},
        {"label": "IT power", "key": "power_mw.it", "value": study["power_mw"]["it"],
         "text": fmt_mw(study["power_mw"]["it"]), "note": ""},
        {"label": "capex, upfront", "key": "cost.capex_usd", "value": study["cost"]["capex_usd"],
         "text": fmt_usd(study["cost"]["capex_usd"]), "note": ""},
        {"label": "TCO per year", "key": "cost.tco_usd_per_year",
         "value": study["cost"]["tco_usd_per_year"],
         "text": fmt_usd(study["cost"]["tco_usd_per_year"]), "note": ""},
    ]
    return {"study": study, "status": study.get("status"), "headline": totals, "sites": sites,
            "charts": {"sites": charts.site_comparison(study),
                       "constraints": charts.constraint_bars(study["constraints"])
                       if study.get("constraints") else None},
            "catalog": catalog_rows({"inputs": {"catalog_ids": sorted(
                {i for s in study["sites"] for i in lookup(s, "inputs.catalog_ids") or []})}},
                catalog)}


def _sweep_context(sweep: dict[str, Any], charts: Any) -> dict[str, Any]:
    planned = [row for row in sweep["rows"] if row.get("status") in ("optimal", "time_limit")]
    columns = [f"vary.{key}" for key in sweep["vary"]] + [
        "status", "objective.value", "totals.gpus", "power_mw.facility", "cost.capex_usd",
        "cost.usd_per_gpu_hour"]
    return {"sweep": sweep, "columns": columns,
            "charts": {"sweep": charts.sweep_curves(sweep)} if planned else {},
            "headline": [
                {"label": "scenarios", "key": "rows", "value": len(sweep["rows"]),
                 "text": fmt_int(len(sweep["rows"])), "note": ", ".join(sweep["vary"])},
                {"label": "planned", "key": "", "value": len(planned),
                 "text": fmt_int(len(planned)), "note": "optimal or time limit"}]}


def _montecarlo_context(mc: dict[str, Any], charts: Any) -> dict[str, Any]:
    stats = mc["optimal_plans"]["fields"].get("objective.value")
    context: dict[str, Any] = {"mc": mc, "charts": {}, "headline": [
        {"label": "samples", "key": "samples", "value": mc["samples"],
         "text": fmt_int(mc["samples"]), "note": f"seed {mc['seed']}"},
        {"label": "feasible", "key": "optimal_plans.feasible_probability",
         "value": mc["optimal_plans"]["feasible_probability"],
         "text": f"{mc['optimal_plans']['feasible_probability']:.1%}", "note": "re-planned"},
    ]}
    if stats:
        for name in ("p10", "p50", "p90"):
            context["headline"].append({
                "label": f"objective {name.upper()}",
                "key": f"optimal_plans.fields.objective.value.{name}", "value": stats[name],
                "text": fmt_num(stats[name]), "note": mc["nominal"].get("objective", "")})
        context["charts"]["histogram"] = charts.montecarlo_histogram(mc)
        context["charts"]["ranges"] = charts.montecarlo_ranges(mc)
    return context


def render_html(doc: dict[str, Any], *, catalog: list[dict[str, Any]] | None = None,
                explain: dict[str, Any] | None = None) -> str:
    """The report page for one gigaplan document.

    Parameters
    ----------
    doc
        A parsed ``gigaplan.plan/1``, ``study/1``, ``reference/1``, ``sweep/1`` or
        ``montecarlo/1`` document.
    catalog
        Catalog entries (as ``gigaplan catalog list -f json`` prints them), for the table of
        the SKUs used with their sources and estimates; optional.
    explain
        A ``gigaplan.explain/1`` document of the same site, for the marginal values; optional.

    Returns
    -------
    str
        The self-contained HTML page.
    """
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema not in SCHEMAS:
        raise InputError(f"cannot make a report of {schema or 'this document'!s}: expected one "
                         f"of {', '.join(SCHEMAS)}")
    context: dict[str, Any] = {"schema": schema, "generator": GENERATOR}
    if schema == "gigaplan.plan/1":
        context |= _plan_context(doc, catalog, explain, charts)
        context["title"] = lookup(doc, "inputs.site.name") or "plan"
    elif schema == "gigaplan.reference/1":
        context |= _plan_context(doc["design"], catalog, None, charts)
        context["reference"] = doc
        context["title"] = f"{doc['reference']} as the reference design"
    elif schema == "gigaplan.study/1":
        context |= _study_context(doc, catalog, charts)
        context["title"] = doc.get("name") or "study"
    elif schema == "gigaplan.sweep/1":
        context |= _sweep_context(doc, charts)
        context["title"] = "sweep of " + ", ".join(doc["vary"])
    else:
        context |= _montecarlo_context(doc, charts)
        context["title"] = "Monte Carlo: " + ", ".join(doc.get("uncertain") or {})
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)
    environment.filters.update(
        {"num": fmt_num, "usd": fmt_usd, "mw": fmt_mw, "int": fmt_int, "lookup": lookup,
         "pct": lambda v: "—" if v is None else f"{v:.1%}",
         "finite": lambda v: isinstance(v, int | float) and math.isfinite(v)})
    environment.globals["svg"] = lambda text: Markup(text or "")  # our own SVG, no input text
    return environment.get_template("report.html.j2").render(**context)
