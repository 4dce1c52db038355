"""Rich renderers: tables and text for people. They return values and never print.

JSON, TOML and CSV text come from :mod:`gigaplan.output.serialize`.

Catalog strings are data, not markup: every cell is a :class:`rich.text.Text`, so a SKU named
``x [/y]`` renders as written (like hatch's terminal module).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text as RichText

from gigaplan.inputs.units import Dimension, format_quantity
from gigaplan.output.escape import escaped
from gigaplan.output.serialize import plain, render_data
from gigaplan.output.tablefit import Fit
from gigaplan.result import PlanResult, ReferenceResult, StudyResult
from gigaplan.studies.check import CheckReport
from gigaplan.studies.diff import Diff
from gigaplan.studies.explain import Explanation
from gigaplan.studies.montecarlo import MonteCarloResult
from gigaplan.studies.sweep import SweepResult


def Text(text: str = "", **kwargs: Any) -> RichText:
    """A rich Text of ``text`` with every control character escaped.

    User strings (names, file names) never reach the terminal raw. Newlines a renderer
    composed stay; user strings with newlines of their own go through :func:`_user` first.

    Parameters
    ----------
    text : str, default ""
        The cell or line text.
    **kwargs
        Passed to :class:`rich.text.Text` (style, justify, ...).

    Returns
    -------
    rich.text.Text
        The escaped text.
    """
    return RichText(escaped(str(text), keep_newlines=True), **kwargs)


def _user(text: object) -> str:
    """One user string, newlines included, escaped for a line of its own."""
    return escaped(str(text))

# --- catalog ---------------------------------------------------------------------------

_FIELD_UNITS = {
    "_kw": "kW", "_w": "W", "_usd": "USD", "_gb_per_gpu": "GB per GPU", "_gbps": "Gb/s",
    "_pflops_per_gpu": "PFLOPS per GPU (dense)", "_m2": "m²", "_kg": "kg", "_pb": "PB",
    "_gb_per_s": "GB/s", "_gb": "GB", "_frac": "fraction (0-1)", "_count": "count", "_u": "U",
    "_per_end": "Gb/s per port-end", "_tokens_per_s_per_gpu": "tokens/s per GPU",
}


def field_unit(name: str) -> str:
    """The unit a catalog field's name carries (``power_kw`` -> ``kW``).

    Parameters
    ----------
    name : str
        A catalog field name.

    Returns
    -------
    str
        The unit, or ``""`` when the name carries none.
    """
    for suffix, unit in sorted(_FIELD_UNITS.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return unit
    return ""


def sku_table(sku: dict[str, Any], origin: str = "") -> RenderableType:
    """Every field with its unit, estimate markers and ranges, then the notes and sources.

    Parameters
    ----------
    sku : dict
        A catalog entry, as ``model_dump(mode="json")``.
    origin : str, default ""
        The catalog file that defines it.

    Returns
    -------
    rich.console.RenderableType
        The table and its notes.
    """
    table = Table(title=_user(f"{sku['id']}: {sku['name']}"), title_justify="left")
    for header in ("field", "value", "unit", "provenance"):
        table.add_column(header)
    for name, value in sku.items():
        if name in ("sources", "estimates", "ranges", "notes", "name"):
            continue
        provenance = "estimate" if name in sku.get("estimates", ()) else ""
        if name in sku.get("ranges", {}):
            low, high = sku["ranges"][name]
            provenance = f"{provenance}; " if provenance else ""
            provenance += f"sources range {plain(low)} to {plain(high)}"
        shown = "n/a" if value is None else str(plain(value))
        table.add_row(Text(name), Text(shown), Text(field_unit(name)), Text(provenance))
    parts: list[RenderableType] = [Fit(table)]
    if sku.get("notes"):
        parts.append(Text(f"Notes: {sku['notes']}"))
    # a URL is one word: printed whole on its own line, never wrapped or cut
    parts.append(Text("Sources:"))
    parts.extend(Text(f"  - {url}", no_wrap=True, overflow="ignore") for url in sku["sources"])
    if origin:
        parts.append(Text(f"Defined in: {origin}"))
    return Group(*parts)


def chart(points: list[tuple[str, float | None]], width: int = 40) -> list[str]:
    """A terminal bar chart: one labelled bar per point, scaled to the largest value.

    Parameters
    ----------
    points : list of tuple of (str, float or None)
        Label and value of each bar; None draws no bar.
    width : int, default 40
        Longest bar [characters].

    Returns
    -------
    list of str
        One line per point.
    """
    values = [value for _, value in points if value is not None]
    top = max((abs(value) for value in values), default=0.0) or 1.0
    label_width = max((len(label) for label, _ in points), default=0)
    lines = []
    for label, value in points:
        if value is None:
            lines.append(f"{label.rjust(label_width)} | (no plan)")
            continue
        bar = "█" * round(width * abs(value) / top)
        shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"
        lines.append(f"{label.rjust(label_width)} | {bar} {shown}")
    return lines


# --- plan --------------------------------------------------------------------------------


def _mw(value: float) -> str:
    return format_quantity(value, Dimension.POWER, "MW", significant=4)


def _in_mw(value: float) -> str:
    """A power in MW, as a bare number for a column headed MW: 4 significant digits, no
    exponent (195.8 kW -> 0.1958)."""
    if value == 0:
        return "0"
    decimals = min(6, max(0, 3 - math.floor(math.log10(abs(value)))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _int(value: float) -> str:
    return f"{round(value):,}"


def _table(title: str, headers: tuple[str, ...], rows: Iterable[tuple[str, ...]],
           right: tuple[int, ...] = (), drop: tuple[int, ...] = ()) -> Fit:
    """A table that never cuts a cell (:class:`Fit`): ``drop`` lists the columns to leave out,
    in order, before stacking the rows when the terminal is too narrow."""
    table = Table(title=_user(title), title_justify="left")
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if index in right else "left")
    for row in rows:
        table.add_row(*map(Text, row))
    return Fit(table, drop)


def _headline(value: float) -> str:
    """The objective for people: whole numbers from 1,000 up (PF x years need no decimals)."""
    number = plain(value)
    return f"{number:,.0f}" if isinstance(number, float) and abs(number) >= 1000 \
        else f"{number:,}"


def plan_renderable(result: PlanResult) -> RenderableType:
    """The plan as rich tables: build-out, power waterfall, fabric, space and cooling,
    capex and every constraint.

    Parameters
    ----------
    result : PlanResult
        A found plan.

    Returns
    -------
    rich.console.RenderableType
        The tables.
    """
    site = result.inputs["site"]
    header = Text(
        f"gigaplan plan: {_user(site['name'])} -- {_user(result.inputs['source'])}\n"
        f"Objective: {result.objective['unit']} = {_headline(result.objective['value'])}   "
        f"Solver: {result.solver.name}, {result.solver.status}, "
        f"gap {plain(result.solver.mip_gap)}"
        + (f", {result.solver.seconds:.3f} s" if result.solver.seconds is not None else "")
    )
    money = lambda value: format_quantity(value, Dimension.MONEY, significant=4)  # noqa: E731
    buildout = _table(
        "Build-out", ("SKU", "kind", "racks", "GPUs", "power each", "power", "capex (upfront)"),
        [(line.sku, line.kind, _int(line.count), _int(line.gpus),
          format_quantity(line.power_kw_each, Dimension.POWER, "kW"), _mw(line.power_mw),
          money(line.capex_usd)) for line in result.racks],
        right=(2, 3, 4, 5, 6), drop=(1, 4),
    )
    totals = result.totals
    totals_table = _table(
        "Totals", ("GPUs", "CPUs", "CPU cores", "racks", "HBM", "FP4 dense", "FP8 dense",
                   "BF16 dense"),
        [(_int(totals["gpus"]), _int(totals["cpus"]), _int(totals["cpu_cores"]),
          _int(totals["racks"]), format_quantity(totals["hbm_tb"], Dimension.DATA, "TB"),
          f"{totals['fp4_dense_pflops']:,.0f} PF", f"{totals['fp8_dense_pflops']:,.0f} PF",
          f"{totals['bf16_dense_pflops']:,.0f} PF")],
        right=tuple(range(8)),
    )
    power = result.power_mw
    waterfall = _table("Power waterfall", ("", "MW", "note"), [
        ("budget", _in_mw(power["budget"]), f"basis {site['power']['basis']}"),
        ("- redundancy reserve", _in_mw(power["redundancy_reserve"]),
         f"redundancy {site['power']['redundancy']}"),
        ("- headroom reserve", _in_mw(power["headroom_reserve"]),
         f"headroom_frac {site['power']['headroom_frac']}"),
        ("= usable", _in_mw(power["usable"]), ""),
        ("- headroom", _in_mw(power["headroom"]), "left free within the usable budget"),
        ("facility", _in_mw(power["facility"]), f"PUE {site['power']['pue']} x IT"),
        ("- overhead", _in_mw(power["overhead"]), "cooling and electrical losses"),
        ("= IT", _in_mw(power["it"]), ""),
        ("  compute", _in_mw(power["compute"]), ""),
        ("  CPU pool", _in_mw(power["cpu"]), ""),
        ("  storage", _in_mw(power["storage"]), ""),
        ("  network", _in_mw(power["network"]), "compute fabric: switches and optics"),
        ("  auxiliary networks", _in_mw(power["auxiliary_networks"]),
         "front-end, storage, management"),
        *([("grid connection", _in_mw(power["grid"]),
            f"grid headroom {site['power']['grid_headroom']} x facility")]
          if site["power"]["basis"] == "grid" else []),
        ("IT, expected draw", _in_mw(power["it_expected"]),
         f"typical draw, for energy ({site['power']['sizing']} sizes)"),
    ], right=(1,))
    net = result.network
    trees = [(f"  fabric at {plain(tree['port_gbps'])} Gb/s", _int(tree["switches"]),
              f"radix {tree['radix']}, {tree['tiers']} tiers, "
              f"{_int(tree['endpoints_per_plane'])} endpoints: {', '.join(tree['skus'])}")
             for tree in net.get("fabrics", [])] if len(net.get("fabrics", [])) > 1 else []
    fabric = _table("Fabric bill of materials", ("item", "count", "note"), [
        ("switch", str(net["switch"] or "-"),
         f"radix {net['radix']} at {plain(net['port_gbps'])} Gb/s, {net['tiers']} tiers, "
         f"{net['planes']} plane(s)" if len(net.get("fabrics", [])) <= 1 else
         f"{len(net['fabrics'])} fabrics (one per NIC rate), {net['planes']} plane(s)"),
        *trees,
        ("endpoints per plane", _int(net["endpoints_per_plane"]), ""),
        ("leaf switches", _int(net["leaf_switches"]), ""),
        ("spine switches", _int(net["spine_switches"]), ""),
        ("core switches", _int(net["core_switches"]), ""),
        ("link ends (optics, cables)", _int(net["optics"]),
         "per tier below" if net.get("media") else str(net["optic"] or "none counted")),
        *((f"  {line['tier']}", _int(line["switch_units"] + line["nic_units"]),
           _media_note(line)) for line in net.get("media", [])),
        ("network racks", _int(net["racks"]), ""),
        ("power", format_quantity(net["power_kw"], Dimension.POWER, "kW"), ""),
        ("front-end switches", _int(net["frontend_switches"]), str(net["frontend_switch"] or "-")),
        ("storage switches", _int(net["storage_switches"]), str(net["storage_switch"] or "-")),
        ("management switches", _int(net["management_switches"]),
         str(net["management_switch"] or "-")),
        ("auxiliary network racks", _int(net["auxiliary_racks"]), ""),
        ("auxiliary power", format_quantity(net["auxiliary_power_kw"], Dimension.POWER, "kW"),
         "switches at their maximum, optics included"),
        ("DPUs", _int(net["dpus"]), "in the compute racks (their power and price)"),
    ], right=(1,))
    space = _table("Space and cooling", ("item", "used"), [
        ("racks (compute, CPU, storage, network)", _int(result.space["racks"])),
        ("white space", format_quantity(result.space["white_space_m2"], Dimension.AREA)),
        ("liquid heat", _mw(result.cooling["liquid_mw"])),
        ("air heat", _mw(result.cooling["air_mw"])),
    ], right=(1,))
    cost = result.cost
    capex = _table("Capex (upfront)", ("item", "USD"), [
        *((name, money(value)) for name, value in sorted(cost["capex_breakdown_usd"].items())),
        ("total", money(cost["capex_usd"])),
    ], right=(1,))
    economics = _economics_tables(result, money)
    limits = _table("Constraints", ("constraint", "used", "limit", "slack", "unit", "binds"), [
        (row.name, _number(row.used), f"{row.sense} {_number(row.limit)}", _number(row.slack),
         row.unit, "yes" if row.binding else "no") for row in result.constraints
    ], right=(1, 2, 3))
    timeline = _timeline(result) if result.phases else []
    return Group(header, *timeline, buildout, totals_table, waterfall, fabric, space, capex,
                 *economics, limits)


def _timeline(result: PlanResult) -> list[RenderableType]:
    """Per phase: racks added, cumulative GPUs and PFLOPS, power used of energized, capex;
    then a terminal chart of capacity over time."""
    skus = sorted({sku for phase in result.phases for sku in phase["racks"]})
    precision = next(key for key in result.phases[0] if key.endswith("_dense_pflops"))
    headers = ("phase", "date", "in service", *(f"+{sku}" for sku in skus), "GPUs",
               precision.replace("_dense_pflops", " PF"), "power used", "capex in phase")
    rows = [(phase["name"], phase["date"], phase["in_service"],
             *(f"{phase['racks_added'][sku]:+,}" for sku in skus), _int(phase["gpus"]),
             f"{phase[precision]:,.0f}",
             f"{_mw(phase['power_mw_used'])} of {_mw(phase['power_mw_energized'])}",
             format_quantity(phase["capex_usd"], Dimension.MONEY, significant=4))
            for phase in result.phases]
    schedule = result.schedule
    table = _table("Timeline", headers, rows, right=tuple(range(3, len(headers))), drop=(1,))
    note = Text(f"Time to first compute: {schedule['time_to_first_compute']} "
                f"({schedule['first_compute_phase']}). Objective over time "
                f"({schedule['objective_over_time']}): {human(schedule['objective_value'])} "
                f"{schedule['objective_unit']} to {schedule['horizon_end']}.")
    points = [(f"{phase['in_service']} {phase['name']}", float(phase[precision]))
              for phase in result.phases]
    return [table, note, Text(f"Capacity over time ({precision}):\n" + "\n".join(
        chart(points)))]


def _token_gap(work: dict[str, Any]) -> str:
    """Why there is no cost per token: the TCO over some GPUs' tokens would understate it."""
    covered = work.get("tokens_covered_gpu_frac")
    if not covered:
        return "n/a: no built rack has a reference token rate"
    return f"n/a: only {covered:.0%} of the GPUs have a reference token rate"


def _media_note(line: dict) -> str:
    """Which unit ends one fabric tier's links: at the switches and at the NICs."""
    if line["nic_end"] is None:
        return f"{line['switch_end']}, switch ends"
    if line["nic_end"] == line["switch_end"]:
        return f"{line['switch_end']}, both ends (NIC end in rack power)"
    return f"{line['switch_end']} at switches, {line['nic_end']} at NICs (rack power)"


def _economics_tables(result: PlanResult, money: Any) -> list[Fit]:
    """Cost per year, energy and environment, and what the plan delivers."""
    cost, energy, work = result.cost, result.energy, result.workload
    site = result.inputs["site"]
    optional = lambda value, text: "n/a" if value is None else text  # noqa: E731
    per_year = _table("Cost per year", ("item", "USD per year", "note"), [
        ("annualised capex, IT", money(cost["annualised_capex_usd_per_year"]["it"]),
         f"CRF({site['economics']['it_cost_of_capital']}, {site['economics']['it_life']} yr)"),
        ("annualised capex, facility", money(cost["annualised_capex_usd_per_year"]["facility"]),
         f"CRF({site['economics']['facility_cost_of_capital']}, "
         f"{site['economics']['facility_life']} yr)"),
        ("energy", money(cost["opex_breakdown_usd_per_year"]["energy"]), "at " + format_quantity(
            site["economics"]["electricity_price"], Dimension.MONEY_PER_ENERGY)),
        ("operations and maintenance", money(cost["opex_breakdown_usd_per_year"]["operations"]),
         ""),
        ("TCO", money(cost["tco_usd_per_year"]), "annualised capex + opex"),
        ("per GPU-hour", optional(cost["usd_per_gpu_hour"],
                                  f"${plain(cost['usd_per_gpu_hour'] or 0):.2f}"),
         f"at {site['economics']['utilization']:.0%} utilisation"),
        ("per million tokens", optional(cost["usd_per_million_tokens"],
                                        f"${plain(cost['usd_per_million_tokens'] or 0):.3f}"),
         "at the reference token rate" if cost["usd_per_million_tokens"] is not None
         else _token_gap(result.workload)),
    ], right=(1,))
    environment = _table("Energy, carbon, water", ("item", "per year"), [
        ("energy", format_quantity(energy["mwh_per_year"], Dimension.ENERGY, "MWh",
                                   significant=4)),
        ("carbon", f"{energy['co2_t_per_year']:,.0f} t CO2"),
        ("water", f"{energy['water_m3_per_year']:,.0f} m3"),
    ], right=(1,))
    train = work["train_days"]
    delivers = _table("What it delivers", ("item", "value", "note"), [
        ("inference", optional(work["tokens_per_second"],
                               f"{work['tokens_per_second'] or 0:,.0f} tokens/s"),
         "reference SKUs: " + (", ".join(work["tokens_reference_skus"]) or "none")
         + ("" if work.get("tokens_covered_gpu_frac") in (None, 1) else
            f"; covers {work['tokens_covered_gpu_frac']:.0%} of the GPUs")),
        ("inference per facility MW", optional(work["tokens_per_second_per_mw"],
                                               f"{work['tokens_per_second_per_mw'] or 0:,.0f}"),
         "tokens/s per MW"),
        ("training run", optional(train, f"{train or 0:,.1f} days"),
         "set workload.train_params and train_tokens" if train is None else
         f"6·N·D at {work['train_precision']}, MFU {work['mfu']}, goodput {work['goodput']}"),
    ], right=(1,))
    return [per_year, environment, delivers]


def _number(value: float) -> str:
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3f}"


# --- check, sweep, explain, diff ------------------------------------------------------------

_UNIT_DIMENSIONS = {"USD": Dimension.MONEY, "MW": Dimension.POWER, "kW": Dimension.POWER,
                    "m2": Dimension.AREA, "PB": Dimension.DATA, "TB": Dimension.DATA}


def with_unit(value: float, unit: str) -> str:
    """A value with its unit, as people write it: ``$59.9966B``, ``1.2 GW``, ``7,141 racks``.

    Parameters
    ----------
    value : float
        The value, in ``unit``.
    unit : str
        Its unit as a plan's ``constraints`` give it (``USD``, ``MW``, ``racks``; ``""`` for
        a bare count).

    Returns
    -------
    str
        The text: six significant digits with a fitting prefix, or the number and the unit.
    """
    dimension = _UNIT_DIMENSIONS.get(unit)
    if dimension is not None:
        return format_quantity(value, dimension, unit)
    return f"{human(value)} {unit}".strip()



def human(value: float) -> str:
    """A number for people: thousands separators from 1,000 up, six digits below.

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        The text.
    """
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.6g}"


def check_table(report: CheckReport) -> RenderableType:
    """Each requirement measured on the plan, pass or FAIL, under a one-line verdict.

    Parameters
    ----------
    report : CheckReport
        The measured requirements.

    Returns
    -------
    rich.console.RenderableType
        The verdict and table.
    """
    plan = report.plan
    rows = [(item.requirement.text, "n/a" if item.value is None else human(item.value),
             f"{item.requirement.op} {human(item.requirement.value)}",
             "pass" if item.passed else "FAIL") for item in report.outcomes]
    table = _table("Requirements", ("requirement", "value", "bound", "result"), rows,
                   right=(1, 2))
    verdict = "all requirements hold" if report.passed else "a requirement is not met"
    summary = Text(f"gigaplan check: {plan.inputs['source']} -- {verdict}\n"
                   f"Plan: {plan.totals['gpus']:,} GPUs, "
                   f"{plan.power_mw['facility']:,.1f} MW facility, "
                   f"{format_quantity(plan.cost['capex_usd'], Dimension.MONEY, significant=4)}"
                   " capex")
    return Group(summary, table)


def _word(value: Any) -> str:
    """A value as the user wrote it in a site file: ``true``, not Python's ``True``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "n/a" if value is None else str(value)


def sweep_table(result: SweepResult) -> RenderableType:
    """One row per combination; a combination without a plan says why in a note that wraps
    whole words (never cut), and the chart is titled by the objective of the planned rows.

    Parameters
    ----------
    result : SweepResult
        The sweep.

    Returns
    -------
    rich.console.RenderableType
        The table and chart.
    """
    varied, lines, values = result.keys, result.lines, result.combos
    headers = (*varied, "status", "objective", "GPUs", "facility MW", "capex", "$/GPU-h",
               "note")
    rows = []
    points = []
    for combo, line in zip(values, lines, strict=True):
        ok = line["status"] == "optimal"
        objective = line.get("objective.value")
        rows.append((*map(_word, combo), line["status"],
                     human(objective) if ok else "",
                     f"{line['totals.gpus']:,.0f}" if ok else "",
                     f"{line['power_mw.facility']:,.1f}" if ok else "",
                     format_quantity(line["cost.capex_usd"], Dimension.MONEY, significant=4)
                     if ok else "",
                     f"{line['cost.usd_per_gpu_hour']:.2f}"
                     if ok and line.get("cost.usd_per_gpu_hour") is not None else "",
                     "" if ok else line.get("error", "")))
        points.append((", ".join(map(_word, combo)), objective if ok else None))
    if all(row[-1] == "" for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    table = _table("Sweep", headers, rows,
                   right=tuple(range(len(varied) + 1, len(varied) + 6)))
    name = next((line["objective"] for line in lines if line.get("objective")), None)
    title = f"Objective ({name}) against {varied[0]}" if name else \
        f"Objective against {varied[0]} (no combination has a plan)"
    return Group(table, Text(title), Text("\n".join(chart(points))))


def explain_renderable(result: Explanation) -> RenderableType:
    """Binding limits and marginal values in sentences, or how a failing site's limits
    must move.

    Parameters
    ----------
    result : Explanation
        The explanation.

    Returns
    -------
    rich.console.RenderableType
        The sentences and table.
    """
    if result.alternatives is not None:
        lines = [f"gigaplan explain: {result.source} is {result.status}", result.message, "",
                 *result.text]
        return Text("\n".join(lines))
    objective = result.objective or {}
    lines = [f"gigaplan explain: {result.source}",
             f"Objective: {objective['unit']} = {human(objective['value'])}", "",
             "Binding limits:", *(f"  - {text}" for text in result.binding), "",
             "Marginal values (re-planned with each limit moved one step looser):",
             *(f"  - {row['text']}" for row in result.marginals)]
    return Text("\n".join(lines))


def _figure(value: Any, kind: str, signed: bool = False) -> str:
    """A summary figure in its unit ($31.29B, 999.8 MW, 359,352); signed for a change."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return _word(value)
    magnitude = abs(value) if signed else value
    if kind == "usd":
        text = format_quantity(magnitude, Dimension.MONEY, significant=4)
    elif kind == "usd_small":
        text = f"${magnitude:,.3f}"
    elif kind == "mw":
        text = f"{magnitude:,.1f} MW"
    elif abs(magnitude) >= 1000 or float(magnitude).is_integer():
        text = human(magnitude)
    else:  # no exponent: 0.000073, not 7.3e-05
        text = f"{magnitude:,.6f}".rstrip("0").rstrip(".")
    if signed and value:
        text = ("+" if value > 0 else "-") + text
    return text


def diff_table(diff: Diff) -> RenderableType:
    """The summary first (signed changes and %), then the changed inputs, then the other
    changed results; unchanged and negligible rows only with --all.

    Parameters
    ----------
    diff : Diff
        The comparison.

    Returns
    -------
    rich.console.RenderableType
        The table.
    """
    def share(change: dict[str, Any]) -> str:
        relative = change.get("relative")
        return "" if relative is None or change["negligible"] else f"{relative:+.2%}"

    def change_text(change: dict[str, Any], kind: str) -> str:
        if "delta" not in change:
            return "" if change["negligible"] else "changed"
        return "same" if change["negligible"] else _figure(change["delta"], kind, signed=True)

    def cells(change: dict[str, Any]) -> tuple[str, ...]:
        return (change["key"], _figure(change["a"], ""), _figure(change["b"], ""),
                change_text(change, ""), share(change))

    head = Text(f"A: {diff.a}\nB: {diff.b}\n"
                + ("No difference." if diff.same else "Changes from A to B:"))
    summary = _table("Summary", ("", "A", "B", "change", "%"), [
        (change["label"], _figure(change["a"], change["kind"]),
         _figure(change["b"], change["kind"]), change_text(change, change["kind"]),
         share(change)) for change in diff.summary], right=(1, 2, 3, 4))
    parts: list[RenderableType] = [head, summary]
    for rows, title in ((diff.inputs, "Changed inputs"), (diff.results, "Other changed results")):
        if rows:
            parts.append(_table(title, ("key", "A", "B", "change", "%"), map(cells, rows),
                                right=(1, 2, 3, 4)))
        else:
            parts.append(Text(f"{title}: none."))
    if not diff.everything:
        parts.append(Text("Unchanged and negligible rows are hidden; --all shows them."))
    return Group(*parts)


def study_renderable(result: StudyResult | ReferenceResult) -> RenderableType:
    """A study's joint plan per site and in total, or a reference design's copies.

    Parameters
    ----------
    result : StudyResult or ReferenceResult
        The study's result.

    Returns
    -------
    rich.console.RenderableType
        The tables.
    """
    money = lambda value: format_quantity(value, Dimension.MONEY, significant=4)  # noqa: E731
    if isinstance(result, ReferenceResult):
        design = result.design
        rows = [(item.site, _int(item.copies), item.limited_by, _int(item.gpus),
                 money(item.capex_usd)) for item in result.copies]
        rows.append(("total", _int(result.total_copies), "", _int(result.total_gpus), ""))
        head = Text(f"Reference design: {result.reference} -- {design.totals['gpus']:,} "
                    f"GPUs, {_mw(design.power_mw['facility'])} facility, "
                    f"{money(design.cost['capex_usd'])} capex per copy")
        return Group(head, _table("Copies of the reference design per site",
                                  ("site", "copies", "limited by", "GPUs", "capex"), rows,
                                  right=(1, 3, 4)))
    if not result.found:
        return Text(f"{result.source}: {result.status}")
    rows = []
    for name, site in result.sites.items():
        racks = ", ".join(f"{line.count:,} {line.sku}" for line in site.racks
                          if line.kind == "compute_rack" and line.count)
        rows.append((name, racks or "-", _int(site.totals["gpus"]),
                     _mw(site.power_mw["facility"]), money(site.cost["capex_usd"])))
    rows.append(("total", "", _int(result.totals["gpus"]), _mw(result.power_mw["facility"]),
                 money(result.cost["capex_usd"])))
    head = Text(f"gigaplan study: {result.name} -- {result.source}\n"
                f"Objective: {result.objective['unit']} = {human(result.objective['value'])}"
                f" (sum over sites), {result.solver.status}")
    parts: list[RenderableType] = [head, _table(
        "Joint build-out", ("site", "compute racks", "GPUs", "facility", "capex"), rows,
        right=(2, 3, 4))]
    if result.constraints:
        parts.append(_table("Study limits", ("constraint", "used", "limit", "slack", "binds"), [
            (row.name, with_unit(row.used, row.unit),
             f"{row.sense} {with_unit(row.limit, row.unit)}", with_unit(row.slack, row.unit),
             "yes" if row.binding else "no")
            for row in result.constraints], right=(1, 2, 3)))
    return Group(*parts)


def montecarlo_renderable(result: MonteCarloResult) -> RenderableType:
    """Percentiles of the fixed plan and of re-planned optima, probabilities, a histogram.

    Parameters
    ----------
    result : MonteCarloResult
        The Monte Carlo result.

    Returns
    -------
    rich.console.RenderableType
        The tables and histogram.
    """
    def rows(fields: dict[str, Any]) -> list[tuple[str, ...]]:
        out = []
        for name, stats in fields.items():
            if stats is None:
                out.append((name, "n/a", "", "", ""))
                continue
            out.append((name, human(stats["p10"]), human(stats["p50"]), human(stats["p90"]),
                        human(stats["mean"])))
        return out

    headers = ("field", "P10", "P50", "P90", "mean")
    fixed, optimal = result.fixed_plan, result.optimal_plans
    head = Text(f"gigaplan montecarlo: {result.source} -- {result.samples:,} samples, "
                f"seed {result.seed}\nUncertain: " + "; ".join(
                    f"{key} ~ {text}" for key, text in result.uncertain.items()))
    probabilities = [(f"fixed plan breaks {group}", f"{share:.1%}")
                     for group, share in fixed["limit_broken_probability"].items()
                     if share is not None]
    probabilities += [(f"fixed plan meets '{text}'", f"{share:.1%}")
                      for text, share in fixed["requirement_holds_probability"].items()
                      if share is not None]
    probabilities.append(("re-planned site is feasible",
                          f"{optimal['feasible_probability'] or 0:.1%}"))
    hist = optimal["objective_histogram"]
    points = [(f"{human(low)}-{human(high)}", float(count)) for low, high, count in
              zip(hist["edges"], hist["edges"][1:], hist["counts"], strict=False)]
    return Group(
        head,
        _table("Fixed plan (the nominal build-out under each sample)", headers,
               rows(fixed["fields"]), right=(1, 2, 3, 4)),
        _table("Probabilities", ("event", "probability"), probabilities, right=(1,)),
        _table("Optimal plans (re-planned under each sample)", headers,
               rows(optimal["fields"]), right=(1, 2, 3, 4)),
        Text("Objective of the optimal plans (samples per bin):\n" + "\n".join(chart(points))),
    )


# --- one entry point: a result in a format ----------------------------------------------------


@functools.singledispatch
def table(result: Any) -> RenderableType:
    """The table format of a result: one renderer per result type.

    Parameters
    ----------
    result : Any
        A typed result (plan, study, check, sweep, ...).

    Returns
    -------
    rich.console.RenderableType
        Its table form.
    """
    raise TypeError(f"no table renderer for {type(result).__name__}")


table.register(PlanResult, plan_renderable)
table.register(StudyResult, study_renderable)
table.register(ReferenceResult, study_renderable)
table.register(CheckReport, check_table)
table.register(Explanation, explain_renderable)
table.register(Diff, diff_table)
table.register(MonteCarloResult, montecarlo_renderable)
table.register(SweepResult, sweep_table)


def render(result: Any, fmt: str) -> str | RenderableType:
    """``result`` in ``fmt``: a rich renderable for ``table``, else JSON, TOML or CSV text
    (:func:`gigaplan.output.serialize.render_data`).

    Parameters
    ----------
    result : Any
        A typed result.
    fmt : str
        ``table``, ``json``, ``toml`` or ``csv``.

    Returns
    -------
    str or rich.console.RenderableType
        The text, or the renderable for ``table``.
    """
    return table(result) if fmt == "table" else render_data(result, fmt)
